#!/usr/bin/env bash
# User-space instructions per request, keel vs Redis, counted by valgrind.
#
#   bench/instructions.sh [--no-build] [--aof] [TEST ...]
#
#   --no-build  use the existing target/release/keel-server
#   --aof       appendonly yes (everysec) on both servers; default: no
#   TEST        redis-benchmark tests (default: set get incr hset sadd lpush)
#
# Environment: KEEL_BIN=path counts that keel-server instead (another build,
# to compare two commits; implies --no-build). N1, N2 set the request counts;
# PIPELINE the pipeline depth (default 16; 1 counts a request's whole turn:
# wake-up, read, command, write).
#
# Each server runs under `valgrind --tool=cachegrind --cache-sim=no` (one
# worker thread for keel) and gets redis-benchmark at pipeline PIPELINE, 50 clients,
# 100k random keys, 64-byte values: once with N1 requests and once with N2 on a
# fresh server. (instructions(N2) - instructions(N1)) / (N2 - N1) is what one
# request costs in user space, start-up and shutdown cancelled out.
#
# A count is not a time: a cache miss or an atomic instruction counts as one.
# But it does not move with the machine's load, so on a noisy machine it shows
# a change of a few per cent in the code a request runs, which timed runs
# cannot. BENCHMARKS.md has the figures and what they were used for.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=1 AOF=no TESTS=()
for a in "$@"; do
    case "$a" in
        --no-build) BUILD=0 ;;
        --aof) AOF=yes ;;
        -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown argument: $a" >&2; exit 2 ;;
        *) TESTS+=("$a") ;;
    esac
done
((${#TESTS[@]})) || TESTS=(set get incr hset sadd lpush)
N1=${N1:-100000}
N2=${N2:-300000}
PIPELINE=${PIPELINE:-16}

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need=()
command -v valgrind >/dev/null || need+=(valgrind)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
if ((${#need[@]})); then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null \
        || die "could not install ${need[*]} (apt-get install ${need[*]})"
fi
KEEL="$ROOT/target/release/keel-server"
if [[ -n ${KEEL_BIN:-} ]]; then KEEL=$KEEL_BIN BUILD=0; fi
if [[ $BUILD == 1 ]]; then
    log "building keel (cargo build --release -p keel-server)"
    (cd "$ROOT" && cargo build --release -p keel-server) >&2 || die "cargo build failed"
fi
[[ -x $KEEL ]] || die "$KEEL not found (build it or drop --no-build)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-instr.XXXXXX")
PID=
cleanup() {
    [[ -n $PID ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# count KIND TEST N: user-space instructions of a server's whole life, with N
# requests of TEST in it.
count() {
    local kind=$1 test=$2 n=$3 port dir i
    port=$(free_port)
    dir=$(mktemp -d "$WORK/$kind.XXXX")
    local args=(--port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly "$AOF")
    if [[ $kind == keel ]]; then args=("$KEEL" "${args[@]}" --server-threads 1)
    else args=("$(command -v redis-server)" "${args[@]}"); fi
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "${args[@]}" >"$dir/out.log" 2>"$dir/valgrind.log" &
    PID=$!
    for ((i = 0; i < 600; i++)); do
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
        kill -0 "$PID" 2>/dev/null || die "$kind did not start under valgrind: $dir/valgrind.log"
        sleep 0.1
    done
    redis-benchmark -p "$port" -c 50 -n "$n" -P "$PIPELINE" -r 100000 -d 64 -t "$test" -q >/dev/null 2>&1 \
        || die "redis-benchmark -t $test failed against $kind"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$PID" || true
    PID=
    awk '/I *refs/ {gsub(",", "", $4); print $4}' "$dir/valgrind.log"
}

log "appendonly $AOF; $N1 and $N2 requests at pipeline $PIPELINE per test"
printf '%-8s %14s %14s %8s\n' test keel/request redis/request ratio
for t in "${TESTS[@]}"; do
    k1=$(count keel "$t" "$N1"); k2=$(count keel "$t" "$N2")
    r1=$(count redis "$t" "$N1"); r2=$(count redis "$t" "$N2")
    [[ -n $k1 && -n $k2 && -n $r1 && -n $r2 ]] || die "no instruction count for $t"
    python3 -c "
k = ($k2 - $k1) / ($N2 - $N1); r = ($r2 - $r1) / ($N2 - $N1)
print(f'{\"$t\":8} {k:14.0f} {r:14.0f} {k / r:7.2f}x')"
done
