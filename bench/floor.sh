#!/usr/bin/env bash
# The kernel's floor under a pipeline-1 request: server CPU per request of two
# do-nothing PONG servers (bench/floor: epoll, and io_uring with one system call per
# loop turn) beside Redis and keel, all answering redis-benchmark's PING_INLINE.
#
#   bench/floor.sh [--quick] [--no-build] [--rounds N]
#
#   --quick     2 rounds of 50,000 requests (a smoke run, about 30 s)
#   --no-build  use the existing binaries (target/release/keel-server and
#               target/floor/release/floor-server)
#   --rounds N  rounds (default 5); each round runs every server once, in a rotated order
#
# Same settings as bench/compare.sh's pipeline-1 rows: 50 clients, server on core 0,
# redis-benchmark on core 1, keel with --server-threads 1. CPU per request is
# Δ(utime+stime) of the server's /proc/PID/stat over the run / requests. Prints one
# table: the median and range per server, and each median over Redis's. See
# BENCHMARKS.md ("The kernel's floor at pipeline 1").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=5 N=300000 BUILD=1
while (($#)); do
    case "$1" in
        --quick) ROUNDS=2 N=50000 ;;
        --no-build) BUILD=0 ;;
        --rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for t in redis-server redis-benchmark redis-cli taskset python3; do
    command -v $t >/dev/null || die "$t is required (bench/compare.sh installs Debian's redis-server and redis-tools)"
done

KEEL="$ROOT/target/release/keel-server"
FLOOR="$ROOT/target/floor/release/floor-server"
if [[ $BUILD == 1 ]]; then
    log "building keel and floor-server"
    (cd "$ROOT" && cargo build --release -p keel-server) >&2 || die "cargo build of keel failed"
    CARGO_TARGET_DIR="$ROOT/target/floor" cargo build --release \
        --manifest-path "$ROOT/bench/floor/Cargo.toml" >&2 || die "cargo build of floor-server failed"
fi
[[ -x $KEEL && -x $FLOOR ]] || die "binaries missing (build them or drop --no-build)"

if (($(nproc) >= 2)); then SCPU=0 CCPU=1; else SCPU=0 CCPU=0; log "WARNING: 1 CPU: server and client share it"; fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-floor.XXXXXX")
PID=""
cleanup() {
    local rc=$?
    if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run NAME: start that server on a free port, time N requests, stop it; appends
# "NAME cpu_us rps" to $WORK/results (nothing if the server could not start).
run() {
    local name=$1 port out u0 s0 u1 s1 i
    port=$(python3 "$ROOT/bench/helpers.py" freeports 1)
    local dir="$WORK/$name.$port"
    mkdir -p "$dir"
    case $name in
        epoll|io_uring) set -- "$FLOOR" "$port" "${name/io_/}" ;;
        redis) set -- redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no ;;
        keel) set -- "$KEEL" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --server-threads 1 ;;
    esac
    taskset -c $SCPU "$@" >"$dir/log" 2>&1 &
    PID=$!
    for ((i = 0; i < 100; i++)); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    if ! kill -0 "$PID" 2>/dev/null; then
        log "$name did not start: $(tail -1 "$dir/log")"
        wait "$PID" 2>/dev/null || true; PID=""
        return 0
    fi
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$PID/stat")
    out=$(taskset -c $CCPU redis-benchmark -p "$port" -c 50 -n "$N" -P 1 -t ping_inline --csv -q 2>/dev/null | tail -1) || true
    if ! read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$PID/stat" 2>/dev/null); then
        log "$name exited during the run: $(tail -1 "$dir/log")"
        wait "$PID" 2>/dev/null || true; PID=""
        return 0
    fi
    kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""
    local rps tck
    rps=$(echo "$out" | cut -d, -f2 | tr -d '"')
    [[ $rps =~ ^[0-9.]+$ ]] || { log "redis-benchmark gave no rate against $name: $out"; return 0; }
    tck=$(getconf CLK_TCK)
    python3 -c "print('$name %.3f %.3f $rps' % (($u1-$u0+$s1-$s0)/$tck*1e6/$N, ($u1-$u0)/$tck*1e6/$N))" >>"$WORK/results"
}

SERVERS=(epoll io_uring redis keel)
log "$ROUNDS rounds of $N PING_INLINE requests at pipeline 1, 50 clients"
for ((r = 0; r < ROUNDS; r++)); do
    for ((j = 0; j < ${#SERVERS[@]}; j++)); do
        run "${SERVERS[$(((j + r) % ${#SERVERS[@]}))]}"
    done
done

python3 - "$WORK/results" "$ROUNDS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, cpu, user, rps = line.split()
    rows.setdefault(name, []).append((float(cpu), float(user), float(rps)))
redis = statistics.median(c for c, _, _ in rows.get("redis", [(0, 0, 0)])) or None
what = {
    "epoll": "floor-server epoll: epoll_wait + read + write, no work",
    "io_uring": "floor-server uring: one io_uring_enter per loop turn, no work",
    "redis": "redis-server",
    "keel": "keel-server --server-threads 1",
}
print("| Server | CPU µs/request, median (range) | of it user time | requests/s | over Redis |")
print("|---|--:|--:|--:|--:|")
for name in ("epoll", "io_uring", "redis", "keel"):
    if name not in rows:
        print("| %s | no figure (see the log lines above) | | | |" % what[name])
        continue
    cpus = [c for c, _, _ in rows[name]]
    med = statistics.median(cpus)
    ratio = "%.2fx" % (med / redis) if redis else "—"
    print("| %s | %.2f (%.2f–%.2f) | %.2f | %d | %s |" % (
        what[name], med, min(cpus), max(cpus),
        statistics.median(u for _, u, _ in rows[name]),
        statistics.median(r for _, _, r in rows[name]), ratio))
if redis:
    print("\nThe pipeline-1 CPU target (0.67x of Redis) is %.2f µs a request." % (0.67 * redis))
PY
