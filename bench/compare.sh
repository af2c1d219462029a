#!/usr/bin/env bash
# keel vs Redis, same settings, same machine, same load generator.
#
#   bench/compare.sh [--quick] [--no-build] [--no-write]
#
#   --quick     2 rounds and small request counts (a smoke run, < 4 minutes)
#   --no-build  use the existing target/release/keel-server instead of building it
#   --no-write  print the table but leave BENCHMARKS.md alone
#
# Environment: BENCH_NOTE="text" adds a note line to the generated section;
# BENCH_KEEP=1 keeps the temporary directory (raw redis-benchmark output, logs).
#
# See bench/README.md for what it measures and BENCHMARKS.md ("Method") for how.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CMDLINE="bench/compare.sh${*:+ $*}"
MODE=full BUILD=1 WRITE=1
for a in "$@"; do
    case "$a" in
        --quick) MODE=quick ;;
        --no-build) BUILD=0 ;;
        --no-write) WRITE=0 ;;
        -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done

if [[ $MODE == quick ]]; then
    ROUNDS=2
    N1=30000          # requests per run, pipeline 1
    N16=150000        # requests per run, pipeline 16
    NALWAYS=5000      # requests per run, appendfsync always
    DATASET=100000    # keys for memory, AOF load and rewrite
    NREWRITE=40000    # requests of the SET load that runs during rewrites
else
    ROUNDS=5
    N1=100000
    N16=1000000
    NALWAYS=20000
    DATASET=1000000
    NREWRITE=150000
fi
CLIENTS=50
KEYSPACE=100000
VALUE=64
IDLE=1000

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- prerequisites
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null \
    || ! command -v redis-cli >/dev/null; then
    log "installing redis-server and redis-tools"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq redis-server redis-tools >/dev/null
fi
for t in python3 taskset; do command -v $t >/dev/null || die "$t is required"; done
# the interpreter itself, not a version-manager shim: helpers start in ms, not 100s of ms
PY=$(python3 -c 'import sys; print(sys.executable)')
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # room for the idle connections

KEEL="$ROOT/target/release/keel-server"
if [[ $BUILD == 1 ]]; then
    log "building keel (cargo build --release -p keel-server)"
    (cd "$ROOT" && cargo build --release -p keel-server) >&2 || die "cargo build failed"
fi
[[ -x $KEEL ]] || die "$KEEL not found (build it or drop --no-build)"
REDIS=$(command -v redis-server)

NCPU=$(nproc)
if (( NCPU >= 2 )); then
    SERVER_CPU=0 CLIENT_CPU=1 ALL_CPUS="0-$((NCPU - 1))"
else
    log "WARNING: 1 CPU: server and client share it"
    SERVER_CPU=0 CLIENT_CPU=0 ALL_CPUS=0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-bench.XXXXXX")
RES="$WORK/results.tsv"
: >"$RES"

# ---------------------------------------------------------------- process bookkeeping
PIDS=()    # every process this script started and has not yet stopped

forget() {
    local p=$1 keep=() q
    for q in "${PIDS[@]}"; do [[ $q == "$p" ]] || keep+=("$q"); done
    PIDS=("${keep[@]}")
}

stop_pid() {  # stop_pid PID: TERM, wait up to 20 s, then KILL
    local p=$1 i
    if kill -0 "$p" 2>/dev/null; then
        kill -TERM "$p" 2>/dev/null || true
        for ((i = 0; i < 200; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
    forget "$p"
}

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do stop_pid "$p"; done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- servers
# start_server VAR KIND CPUS APPENDONLY FSYNC [keel-only args...]
#   starts keel or redis on a free port in a fresh directory (or in the directory
#   already recorded in VAR_dir, to restart on it); sets VAR_pid, VAR_port, VAR_dir
#   and VAR_ready (seconds from start until PONG with loading:0).
start_server() {
    local var=$1 kind=$2 cpus=$3 aof=$4 fsync=$5; shift 5
    local dir_var="${var}_dir" port dir bin t0 pid ready
    dir=${!dir_var:-}
    if [[ -z $dir ]]; then dir=$(mktemp -d "$WORK/$var.XXXX"); fi
    port=$("$PY" "$BENCH/helpers.py" freeports 1)
    local args=(--port "$port" --bind 127.0.0.1 --dir "$dir" --save ""
        --appendonly "$aof" --appendfsync "$fsync" --auto-aof-rewrite-percentage 0
        --maxclients 10000 --logfile "$dir/server.log")
    if [[ $kind == keel ]]; then bin=$KEEL; args+=("$@"); else bin=$REDIS; fi
    # the poller starts first, so that only the server's start-up is timed
    local sf="$WORK/start.$RANDOM$RANDOM" i wpid
    rm -f "$sf" "$sf.up" "$sf.out"
    taskset -c "$CLIENT_CPU" "$PY" "$BENCH/helpers.py" wait-ready "$port" "$sf" "$sf.up" >"$sf.out" &
    wpid=$!
    PIDS+=("$wpid")
    for ((i = 0; i < 3000; i++)); do [[ -e $sf.up ]] && break; sleep 0.01; done
    t0=$EPOCHREALTIME
    taskset -c "$cpus" "$bin" "${args[@]}" </dev/null >>"$dir/stdout.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    echo "$t0 $pid" >"$sf.tmp" && mv "$sf.tmp" "$sf"
    if ! wait "$wpid"; then
        forget "$wpid"
        tail -20 "$dir/server.log" "$dir/stdout.log" >&2 || true
        die "$kind did not start"
    fi
    forget "$wpid"
    ready=$(<"$sf.out")
    printf -v "${var}_pid" '%s' "$pid"
    printf -v "${var}_port" '%s' "$port"
    printf -v "${var}_dir" '%s' "$dir"
    printf -v "${var}_ready" '%s' "$ready"
    printf -v "${var}_kind" '%s' "$kind"
}

stop_server() {  # stop_server VAR (keeps VAR_dir so the server can be restarted on it)
    local p="${1}_pid"
    if [[ -n ${!p:-} ]]; then stop_pid "${!p}"; fi
    printf -v "$p" '%s' ""
}

fresh() { printf -v "${1}_dir" '%s' ""; }  # next start_server VAR uses a new directory

cputicks() {  # utime+stime of a process (all threads) and of its reaped children, in ticks
    local f
    read -r -a f <"/proc/$1/stat"
    # comm has no spaces for keel-server / redis-server, so fields split cleanly;
    # cutime+cstime count Redis's fork children (AOF rewrite) once they are reaped
    echo $((f[13] + f[14] + f[15] + f[16]))
}
CLK_TCK=$(getconf CLK_TCK)

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }  # peak RSS since start
used_b() { cli "$1" INFO memory | tr -d '\r' | awk -F: '/^used_memory:/ {print $2}'; }

cli() { local var=$1; shift; local p="${var}_port"; redis-cli -p "${!p}" "$@"; }

load_payload() {  # load_payload VAR: the deterministic dataset via redis-cli --pipe
    local p="${1}_port" out
    out=$(redis-cli -p "${!p}" --pipe <"$PAYLOAD" 2>&1) || die "redis-cli --pipe failed: $out"
    grep -q "errors: 0, replies: $DATASET" <<<"$out" || die "--pipe: $out"
}

# ---------------------------------------------------------------- workloads
# name | probe command (run on both servers first) | divisor of -n at pipeline 16
# (for the slow ones, to keep the run time even) | redis-benchmark arguments.
# LRANGE_100 is a custom command so that its run does not include the LPUSH fill
# that `-t lrange_100` does: the LPUSH run just before it leaves the list full, and
# RPOP right after it empties it again.
# PING (the cheapest command there is) measures the load generator: what
# redis-benchmark can send from its one core. report.py flags a pipeline-16
# target that this ceiling puts out of any server's reach.
WORKLOADS=(
    "PING|PING|1|-t ping_mbulk"
    "SET|SET benchprobe:s x|1|-t set"
    "GET|GET benchprobe:s|1|-t get"
    "INCR|INCR benchprobe:i|1|-t incr"
    "LPUSH|LPUSH benchprobe:l x|1|-t lpush"
    "LRANGE_100|LRANGE benchprobe:l 0 99|4|lrange mylist 0 99"
    "RPOP|RPOP benchprobe:l|1|-t rpop"
    "SADD|SADD benchprobe:set x|1|-t sadd"
    "HSET|HSET benchprobe:h f v|1|-t hset"
    "ZADD|ZADD benchprobe:z 1 x|2|-t zadd"
    "MSET|MSET benchprobe:m1 x benchprobe:m2 y|4|-t mset"
)
declare -A SUPPORTED  # "<var>|<name>" -> 1 / 0

probe() {  # probe VAR: which workloads the server accepts
    local var=$1 w name pr out
    for w in "${WORKLOADS[@]}"; do
        IFS='|' read -r name pr _ <<<"$w"
        # shellcheck disable=SC2086
        out=$(cli "$var" $pr 2>&1 || true)
        if grep -qiE '^(\(error\) )?ERR|not supported|unknown command' <<<"$out"; then
            SUPPORTED["$var|$name"]=0
        else
            SUPPORTED["$var|$name"]=1
        fi
    done
    cli "$var" DEL benchprobe:s benchprobe:i benchprobe:l benchprobe:set benchprobe:h \
        benchprobe:z benchprobe:m1 benchprobe:m2 >/dev/null 2>&1 || true
}

RUNSEQ=0
# bench VAR LABEL ROUND N PIPELINE CLIENTCPUS KEYSPACE rb-args...
#   one redis-benchmark run; appends "run" (or "na"/"err") to results.tsv
bench() {
    local var=$1 label=$2 round=$3 n=$4 pipe=$5 ccpu=$6 keys=$7; shift 7
    local pv="${var}_pid" portv="${var}_port" kindv="${var}_kind" out c0 c1 w0 w1 rc=0
    RUNSEQ=$((RUNSEQ + 1))
    out="$WORK/run$RUNSEQ.csv"
    c0=$(cputicks "${!pv}")
    # The client's own CPU time (bash's `times`: reaped children, so this
    # shell's, not a subshell's) and the wall time, for how busy the client
    # was: a client near 100% bounds the throughput whatever the server does.
    times >"$WORK/times0"
    w0=$(date +%s%N)
    # shellcheck disable=SC2048,SC2086
    taskset -c "$ccpu" redis-benchmark -p "${!portv}" -c "$CLIENTS" -n "$n" -r "$keys" \
        -d "$VALUE" -P "$pipe" --csv "$@" >"$out" 2>&1 || rc=$?
    w1=$(date +%s%N)
    times >"$WORK/times1"
    c1=$(cputicks "${!pv}")
    record_run "$var" "$label" "$round" "$n" "$((c1 - c0))" "$out" "$rc" \
        "$(($(children_ms "$WORK/times1") - $(children_ms "$WORK/times0")))" "$(((w1 - w0) / 1000000))"
}

children_ms() {  # children_ms FILE: user+system ms of reaped children, from `times` output
    awk 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 }
        printf "%d\n", t
    }' "$1"
}

record_run() {  # record_run VAR LABEL ROUND N TICKS OUTFILE RC [CLIENT_MS WALL_MS]
    local var=$1 label=$2 round=$3 n=$4 ticks=$5 out=$6 rc=$7 kindv="${1}_kind"
    local client_ms=${8:-} wall_ms=${9:-}
    local server=${!kindv}
    if grep -qiE 'not supported|unknown command' "$out"; then
        printf 'na\t%s\t%s\t%s\n' "$label" "$server" "$round" >>"$RES"
    elif [[ $rc != 0 ]] || grep -qiE 'error|ERR ' "$out"; then
        log "WARNING: $server $label: redis-benchmark failed (rc=$rc): $(tr '\r' '\n' <"$out" | grep -iE 'error|ERR' | head -1)"
        printf 'err\t%s\t%s\t%s\n' "$label" "$server" "$round" >>"$RES"
    else
        printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$server" "$round" "$n" \
            "$ticks" "$CLK_TCK" "$out" "$client_ms" "$wall_ms" >>"$RES"
    fi
}

metric() {  # metric NAME SERVER ROUND VALUE
    printf 'metric\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RES"
}

order() {  # order ROUND A B: prints "A B" on odd rounds, "B A" on even ones
    if (( $1 % 2 )); then echo "$2 $3"; else echo "$3 $2"; fi
}

# ---------------------------------------------------------------- metadata
META="$WORK/meta.txt"
{
    echo "mode=$MODE"
    echo "rounds=$ROUNDS"
    echo "command=$CMDLINE"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cores=$NCPU"
    echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "kernel=$(uname -r)"
    echo "memory=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "keel_version=$("$KEEL" --version | head -1)"
    echo "redis_version=$("$REDIS" --version | head -1)"
    echo "redis_benchmark=$(redis-benchmark --version 2>/dev/null | head -1)"
    echo "git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "n1=$N1"
    echo "n16=$N16"
    echo "nalways=$NALWAYS"
    echo "dataset=$DATASET"
    echo "nrewrite=$NREWRITE"
    echo "clients=$CLIENTS"
    echo "keyspace=$KEYSPACE"
    echo "value=$VALUE"
    echo "idle=$IDLE"
    echo "server_cpu=$SERVER_CPU"
    echo "client_cpu=$CLIENT_CPU"
    echo "all_cpus=$ALL_CPUS"
    echo "note=${BENCH_NOTE:-}"
} >"$META"

T_START=$SECONDS
log "mode=$MODE rounds=$ROUNDS work=$WORK"

PAYLOAD="$WORK/payload.resp"
"$PY" "$BENCH/helpers.py" payload "$DATASET" "$PAYLOAD"
PREFILL="$WORK/prefill.resp"
"$PY" "$BENCH/helpers.py" payload "$KEYSPACE" "$PREFILL"

# ---------------------------------------------------------------- 1. throughput
log "throughput: appendonly no; keel --server-threads 1 and Redis on CPU $SERVER_CPU, client on CPU $CLIENT_CPU"
start_server K keel "$SERVER_CPU" no everysec --server-threads 1
start_server R redis "$SERVER_CPU" no everysec
start_server K2 keel "$ALL_CPUS" no everysec --server-threads 2
probe K; probe R
for v in K R K2; do
    p="${v}_port"
    redis-cli -p "${!p}" --pipe <"$PREFILL" >/dev/null  # GET/INCR hit existing keys
done

for ((r = 1; r <= ROUNDS; r++)); do
    log "throughput round $r/$ROUNDS"
    for w in "${WORKLOADS[@]}"; do
        IFS='|' read -r name _ div rbargs <<<"$w"
        for P in 1 16; do
            n=$N1; ((P == 16)) && n=$((N16 / div))
            for v in $(order "$r" K R); do
                if [[ ${SUPPORTED["$v|$name"]} == 0 ]]; then
                    kv="${v}_kind"
                    printf 'na\t%s\t%s\t%s\n' "$name P$P" "${!kv}" "$r" >>"$RES"
                    continue
                fi
                # shellcheck disable=SC2086
                bench "$v" "$name P$P" "$r" "$n" "$P" "$CLIENT_CPU" "$KEYSPACE" $rbargs
            done
        done
    done
    # scaling rows: keel with 2 server threads on all CPUs vs the same Redis
    for name in SET GET; do
        lname=$(tr 'A-Z' 'a-z' <<<"$name")
        for v in $(order "$r" K2 R); do
            bench "$v" "$name P16, keel 2 threads" "$r" "$N16" 16 "$ALL_CPUS" "$KEYSPACE" -t "$lname"
        done
    done
done
stop_server K2

# ---------------------------------------------------------------- 2. idle connections
log "throughput with $IDLE idle connections"
for v in K R; do
    p="${v}_port"
    taskset -c "$CLIENT_CPU" "$PY" "$BENCH/helpers.py" idle "${!p}" "$IDLE" "$WORK/idle.$v.ready" &
    PIDS+=("$!")
    printf -v "IDLE_$v" '%s' "$!"
done
for v in K R; do
    for ((i = 0; i < 600; i++)); do [[ -e $WORK/idle.$v.ready ]] && break; sleep 0.1; done
    [[ -e $WORK/idle.$v.ready ]] || die "idle connections to $v did not open"
    c=$(cli "$v" INFO clients | tr -d '\r' | awk -F: '/^connected_clients:/ {print $2}')
    ((c >= IDLE)) || log "WARNING: $v has only $c connected clients"
done
for ((r = 1; r <= ROUNDS; r++)); do
    for name in SET GET; do
        lname=$(tr 'A-Z' 'a-z' <<<"$name")
        for v in $(order "$r" K R); do
            bench "$v" "$name P1, +$IDLE idle conns" "$r" "$N1" 1 "$CLIENT_CPU" "$KEYSPACE" -t "$lname"
        done
    done
done
stop_pid "$IDLE_K"; stop_pid "$IDLE_R"
stop_server K; stop_server R; fresh K; fresh R

# ---------------------------------------------------------------- 3. durability
for fsync in everysec always; do
    log "durability: appendonly yes, appendfsync $fsync"
    n=$N1; [[ $fsync == always ]] && n=$NALWAYS
    start_server K keel "$SERVER_CPU" yes "$fsync" --server-threads 1
    start_server R redis "$SERVER_CPU" yes "$fsync"
    for ((r = 1; r <= ROUNDS; r++)); do
        for v in $(order "$r" K R); do
            bench "$v" "SET P1, AOF $fsync" "$r" "$n" 1 "$CLIENT_CPU" "$KEYSPACE" -t set
        done
    done
    stop_server K; stop_server R; fresh K; fresh R
done

# ---------------------------------------------------------------- 4. memory per key
log "memory per key: $DATASET keys, 16-byte keys, 64-byte values, appendonly no"
for ((r = 1; r <= ROUNDS; r++)); do
    for v in $(order "$r" K R); do
        if [[ $v == K ]]; then start_server K keel "$SERVER_CPU" no everysec --server-threads 1
        else start_server R redis "$SERVER_CPU" no everysec; fi
        pv="${v}_pid" kv="${v}_kind"
        before=$(rss_kb "${!pv}")
        load_payload "$v"
        after=$(rss_kb "${!pv}")
        dbsize=$(cli "$v" DBSIZE)
        [[ $dbsize == "$DATASET" ]] || log "WARNING: ${!kv} DBSIZE $dbsize != $DATASET"
        metric mem_before_kb "${!kv}" "$r" "$before"
        metric mem_after_kb "${!kv}" "$r" "$after"
        metric mem_per_key "${!kv}" "$r" "$(( (after - before) * 1024 / DATASET ))"
        metric mem_rss_mib "${!kv}" "$r" "$(( after / 1024 ))"
        stop_server "$v"; fresh "$v"
    done
done

# ---------------------------------------------------------------- 5. AOF load time
log "AOF load time: $DATASET keys, appendonly yes everysec, restart on the same directory"
start_server K keel "$SERVER_CPU" yes everysec --server-threads 1
start_server R redis "$SERVER_CPU" yes everysec
load_payload K; load_payload R
stop_server K; stop_server R    # SIGTERM: both flush and fsync the AOF on shutdown
for ((r = 1; r <= ROUNDS; r++)); do
    for v in $(order "$r" K R); do
        # First with every CPU: keel applies the log on one thread per CPU it may
        # run on; Redis loads on one thread either way.
        if [[ $ALL_CPUS != "$SERVER_CPU" ]]; then
            if [[ $v == K ]]; then start_server K keel "$ALL_CPUS" yes everysec --server-threads 2
            else start_server R redis "$ALL_CPUS" yes everysec; fi
            kv="${v}_kind" rv="${v}_ready"
            metric aof_load_s_all "${!kv}" "$r" "${!rv}"
            stop_server "$v"
        fi
        if [[ $v == K ]]; then start_server K keel "$SERVER_CPU" yes everysec --server-threads 1
        else start_server R redis "$SERVER_CPU" yes everysec; fi
        kv="${v}_kind" rv="${v}_ready" pv="${v}_pid"
        dbsize=$(cli "$v" DBSIZE)
        [[ $dbsize == "$DATASET" ]] || log "WARNING: ${!kv} loaded $dbsize keys, expected $DATASET"
        metric aof_load_s "${!kv}" "$r" "${!rv}"
        # peak RSS while starting and loading, over RSS once loaded
        metric aof_load_peak "${!kv}" "$r" \
            "$(awk -v h="$(hwm_kb "${!pv}")" -v a="$(rss_kb "${!pv}")" 'BEGIN {printf "%.3f", h / a}')"
        # the last round's servers stay up for the rewrite test
        if ((r < ROUNDS)); then stop_server "$v"; fi
    done
done
for v in K R; do
    pv="${v}_pid"
    [[ -n ${!pv:-} ]] && continue
    if [[ $v == K ]]; then start_server K keel "$SERVER_CPU" yes everysec --server-threads 1
    else start_server R redis "$SERVER_CPU" yes everysec; fi
done

# ---------------------------------------------------------------- 6. rewrite under load
# load_with VAR LABEL ROUND MODE: the SET load of this test, with helpers.py beside
# it on the client's CPU: MODE poll (INFO polling only: the control), latency
# (BGREWRITEAOF back to back, polled the same way) or memory (the same, sampling
# the server's memory too, which costs the client's CPU a third of a core and so
# gets a run of its own). Leaves the helper's JSON in LOAD_JSON (not printed: a
# command substitution would run it in a subshell, where RUNSEQ and PIDS do not
# advance).
load_with() {
    local v=$1 label=$2 r=$3 mode=$4 out c0 c1 bpid rc=0 json
    local pv="${v}_pid" portv="${v}_port" kv="${v}_kind"
    RUNSEQ=$((RUNSEQ + 1))
    out="$WORK/run$RUNSEQ.csv"
    c0=$(cputicks "${!pv}")
    taskset -c "$CLIENT_CPU" redis-benchmark -p "${!portv}" -c "$CLIENTS" -n "$NREWRITE" \
        -r "$DATASET" -d "$VALUE" -P 1 --csv -t set >"$out" 2>&1 &
    bpid=$!
    PIDS+=("$bpid")
    local args=(rewrite "${!portv}" "${!pv}" "$bpid")
    case $mode in
        poll) args=(poll "${!portv}" "$bpid") ;;
        latency) args+=(--no-memory) ;;
    esac
    json=$(taskset -c "$CLIENT_CPU" "$PY" "$BENCH/helpers.py" "${args[@]}") \
        || json='{"rewrites": 0, "durations": [], "errors": ["helper failed"]}'
    wait "$bpid" || rc=$?
    forget "$bpid"
    c1=$(cputicks "${!pv}")
    record_run "$v" "$label" "$r" "$NREWRITE" "$((c1 - c0))" "$out" "$rc"
    if [[ $mode != poll ]] && grep -q '"rewrites": 0,' <<<"$json"; then
        log "WARNING: ${!kv}: no rewrite completed during '$label': $json"
    fi
    LOAD_JSON=$json
}

log "AOF rewrite under a SET load ($NREWRITE requests, rewrites back to back while it runs)"
for ((r = 1; r <= ROUNDS; r++)); do
    for v in $(order "$r" K R); do
        kv="${v}_kind"
        load_with "$v" "SET P1, AOF on, no rewrite" "$r" poll
        load_with "$v" "SET P1, AOF on, rewrite looping" "$r" latency
        printf 'rewrite_lat\t%s\t%s\t%s\n' "${!kv}" "$r" "$LOAD_JSON" >>"$RES"
        load_with "$v" "SET P1, AOF on, rewrite looping, memory sampled" "$r" memory
        printf 'rewrite\t%s\t%s\t%s\n' "${!kv}" "$r" "$LOAD_JSON" >>"$RES"
    done
done
stop_server K; stop_server R

# ---------------------------------------------------------------- 7. collections memory
# label|kind|collections|elements each. Each load runs on a fresh server; the
# figure is the VmRSS delta divided by the number of elements.
if [[ $MODE == quick ]]; then
    COLLS=("10-field hashes|hash|10000|10" "100-field hashes|hash|1000|100"
           "10-member sets|set|10000|10" "10-member intsets|intset|10000|10"
           "10-member sorted sets|zset|10000|10" "10-element lists|list|10000|10"
           "one 100k-field hash|hash|1|100000" "one 100k-member set|set|1|100000"
           "one 100k-member sorted set|zset|1|100000" "one 100k-element list|list|1|100000")
else
    COLLS=("10-field hashes|hash|100000|10" "100-field hashes|hash|10000|100"
           "10-member sets|set|100000|10" "10-member intsets|intset|100000|10"
           "10-member sorted sets|zset|100000|10" "10-element lists|list|100000|10"
           "one 1M-field hash|hash|1|1000000" "one 1M-member set|set|1|1000000"
           "one 1M-member sorted set|zset|1|1000000" "one 1M-element list|list|1|1000000")
fi
log "memory per element of collections (${#COLLS[@]} shapes)"
for c in "${COLLS[@]}"; do
    IFS='|' read -r label kind count size <<<"$c"
    cpay="$WORK/coll.resp"
    ncmd=$("$PY" "$BENCH/helpers.py" collections "$kind" "$count" "$size" "$cpay")
    for v in K R; do
        if [[ $v == K ]]; then start_server K keel "$SERVER_CPU" no everysec --server-threads 1
        else start_server R redis "$SERVER_CPU" no everysec; fi
        pv="${v}_pid" kv="${v}_kind" portv="${v}_port"
        before=$(rss_kb "${!pv}") ubefore=$(used_b "$v")
        out=$(redis-cli -p "${!portv}" --pipe <"$cpay" 2>&1) || true
        after=$(rss_kb "${!pv}") uafter=$(used_b "$v")
        if grep -q "errors: 0, replies: $ncmd" <<<"$out"; then
            metric "coll_mem|$label" "${!kv}" 1 "$(( (after - before) * 1024 / (count * size) ))"
            metric "coll_used|$label" "${!kv}" 1 \
                "$(awk -v a="$uafter" -v b="$ubefore" -v n=$((count * size)) 'BEGIN {printf "%.1f", (a - b) / n}')"
        else
            log "WARNING: ${!kv} $label: $(tail -1 <<<"$out")"
        fi
        stop_server "$v"; fresh "$v"
    done
done

echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
echo "elapsed_s=$((SECONDS - T_START))" >>"$META"
log "benchmarks done in $((SECONDS - T_START)) s"

# ---------------------------------------------------------------- report
REPORT_ARGS=("$RES" "$META")
[[ $WRITE == 1 ]] && REPORT_ARGS+=(--write "$ROOT/BENCHMARKS.md")
"$PY" "$BENCH/report.py" "${REPORT_ARGS[@]}"
