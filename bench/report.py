#!/usr/bin/env python3
"""Aggregate bench/compare.sh results into Markdown tables.

    report.py RESULTS.tsv META.txt [--write BENCHMARKS.md]

RESULTS.tsv lines (tab-separated):
    run     LABEL SERVER ROUND N CPU_TICKS CLK_TCK CSVFILE   one redis-benchmark run
    na      LABEL SERVER ROUND                               workload keel rejects
    err     LABEL SERVER ROUND                               redis-benchmark failed
    metric  NAME SERVER ROUND VALUE                          scalar measurement
    rewrite SERVER ROUND JSON                                helpers.py rewrite output
                                                             (the run that samples memory)
    rewrite_lat SERVER ROUND JSON                            the same, of the latency run

Prints the tables; with --write, replaces the text between BEGIN and END markers
in BENCHMARKS.md (appending the markers if the file has none), keeping the rest.
"""

import csv
import json
import os
import statistics
import sys

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
SERVERS = ("keel", "redis")


def median(xs):
    return statistics.median(xs) if xs else None


def load(results_path):
    runs = {}      # label -> server -> [dict(round, ops, p50, p99, cpu_us)]
    status = {}    # label -> server -> "na" | "err"
    order = []     # labels in first-seen order
    metrics = {}   # name -> server -> {round: value}
    # "memory" (the run that samples memory) and "latency" (the run that
    # does not): server -> {round: dict}
    rewrites = {"memory": {}, "latency": {}}
    with open(results_path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            kind = p[0]
            if kind in ("run", "na", "err"):
                label, server, rnd = p[1], p[2], int(p[3])
                if label not in order:
                    order.append(label)
                if kind != "run":
                    status.setdefault(label, {}).setdefault(server, kind)
                    continue
                n, ticks, clk, path = int(p[4]), int(p[5]), int(p[6]), p[7]
                row = parse_csv(path)
                if row is None:
                    status.setdefault(label, {}).setdefault(server, "err")
                    continue
                row.update(round=rnd, cpu_us=ticks / clk * 1e6 / n, client_busy=None)
                # The client's CPU time over the run's wall time (columns added
                # at 2026-11-24; older results files lack them).
                if len(p) > 9 and p[8] and p[9] and int(p[9]) > 0:
                    row["client_busy"] = int(p[8]) / int(p[9])
                runs.setdefault(label, {}).setdefault(server, []).append(row)
            elif kind == "metric":
                metrics.setdefault(p[1], {}).setdefault(p[2], {})[int(p[3])] = float(p[4])
            elif kind in ("rewrite", "rewrite_lat"):
                which = "memory" if kind == "rewrite" else "latency"
                rewrites[which].setdefault(p[1], {})[int(p[2])] = json.loads(p[3])
    return runs, status, order, metrics, rewrites


def parse_csv(path):
    try:
        with open(path, newline="") as f:
            text = f.read().replace("\r", "\n")
    except OSError:
        return None
    lines = [ln for ln in text.splitlines() if ln.startswith('"')]
    rows = list(csv.reader(lines))
    if len(rows) < 2 or rows[0][:2] != ["test", "rps"]:
        return None
    head, data = rows[0], rows[-1]
    d = dict(zip(head, data))
    try:
        return {"ops": float(d["rps"]), "p50": float(d["p50_latency_ms"]),
                "p99": float(d["p99_latency_ms"])}
    except (KeyError, ValueError):
        return None


def fmt_ops(x):
    return "—" if x is None else f"{x:,.0f}"


def fmt_ms(x):
    return "—" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}")


def fmt_pct(x):
    return "—" if x is None else f"{x * 100:.0f}%"


def fmt_num(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}"


def ratio_cell(ratios):
    """Median of per-round ratios with the min-max spread."""
    if not ratios:
        return "—"
    m = median(ratios)
    if len(ratios) == 1:
        return f"{m:.2f}x"
    return f"{m:.2f}x ({min(ratios):.2f}–{max(ratios):.2f})"


def per_round_ratios(a, b, key):
    """a, b: {round: value}; ratio a/b for rounds both have."""
    out = []
    for r in sorted(set(a) & set(b)):
        if a[r] is not None and b[r] not in (None, 0):
            out.append(a[r] / b[r])
    return out


def target_for(label):
    """(text, check(ratio, cpu_ratio)) for a throughput row, or None."""
    if label.startswith("PING "):
        return None  # the load generator's ceiling, not a target
    if label.endswith(" P1") and "," not in label:
        return ("≥1.0x, CPU ≤0.67x",
                lambda r, c: r is not None and c is not None and r >= 1.0 and c <= 0.67)
    if label.endswith(" P16") and "," not in label:
        return ("≥1.5x", lambda r, c: r is not None and r >= 1.5)
    if label == "SET P1, AOF always":
        return ("≥2x", lambda r, c: r is not None and r >= 2.0)
    if label == "SET P1, AOF everysec":
        return ("≥1.0x", lambda r, c: r is not None and r >= 1.0)
    return None


def mark(ok):
    return " ✓" if ok else " ✗"


def throughput_table(runs, status, order):
    out = ["| Workload | keel ops/s | Redis ops/s | keel/Redis | keel p50 / p99 ms "
           "| Redis p50 / p99 ms | CPU µs/req keel | CPU µs/req Redis | CPU keel/Redis "
           "| Client busy keel / Redis | Target |",
           "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    def ping(pipeline, field):
        """PING's median `field` at this pipeline, per server."""
        rs = runs.get(f"PING {pipeline}", {})
        return {s: median([x[field] for x in rs[s] if x[field] is not None])
                for s in SERVERS if rs.get(s)}

    # What redis-benchmark sends on its core at most: PING's rate against the
    # faster server (pipeline 16 for the P16 rows, 1 for the P1 and AOF rows).
    ceilings = {p: max(v.values()) if v else None
                for p, v in (("P16", ping("P16", "ops")), ("P1", ping("P1", "ops")))}
    # What each server spends on a PING at pipeline 1: about the fixed cost of a
    # request there (a read, a write, the wake-ups), whatever the command.
    ping_cpu = ping("P1", "cpu_us")
    for label in order:
        cells = {}
        byround = {}
        for s in SERVERS:
            rs = runs.get(label, {}).get(s, [])
            st = status.get(label, {}).get(s)
            if not rs:
                why = "n/a (not supported by keel yet)" if st == "na" else "error"
                cells[s] = dict(ops=why, lat="—", cpu="—", busy="—")
                byround[s] = None
                continue
            cells[s] = dict(
                ops=fmt_ops(median([x["ops"] for x in rs])),
                lat=f'{fmt_ms(median([x["p50"] for x in rs]))} / {fmt_ms(median([x["p99"] for x in rs]))}',
                cpu=fmt_num(median([x["cpu_us"] for x in rs]), 1),
                busy=fmt_pct(median([x["client_busy"] for x in rs
                                     if x["client_busy"] is not None])))
            byround[s] = {x["round"]: x for x in rs}
        if byround["keel"] and byround["redis"]:
            k, r = byround["keel"], byround["redis"]
            ratios = per_round_ratios({i: v["ops"] for i, v in k.items()},
                                      {i: v["ops"] for i, v in r.items()}, "ops")
            cratios = per_round_ratios({i: v["cpu_us"] for i, v in k.items()},
                                       {i: v["cpu_us"] for i, v in r.items()}, "cpu")
            ratio, cratio = ratio_cell(ratios), ratio_cell(cratios)
            rm, cm = median(ratios), median(cratios)
        else:
            missing = "keel" if not byround["keel"] else "Redis"
            ratio = "n/a (not supported by keel yet)" if status.get(label, {}).get("keel") == "na" \
                else f"n/a ({missing} failed)"
            cratio, rm, cm = "n/a", None, None
        t = target_for(label)
        tcell = "—" if t is None else t[0] + ("" if rm is None else mark(t[1](rm, cm)))
        redis_rs = runs.get(label, {}).get("redis", [])
        # A target above what the client can send, or a CPU target below what
        # either server spends on the cheapest request, says so.
        want = {" P16": (1.5, "P16"), ", AOF always": (2.0, "P1")}
        for suffix, (x, p) in want.items():
            if (t is not None and label.endswith(suffix) and ceilings[p] and redis_rs
                    and rm is not None and rm < x):
                need = x * median([r["ops"] for r in redis_rs])
                if need > ceilings[p]:
                    tcell += f" (needs {fmt_ops(need)}/s: over the client's ceiling)"
        if (t is not None and label.endswith(" P1") and "," not in label and cm is not None
                and cm > 0.67 and redis_rs and len(ping_cpu) == 2):
            need = 0.67 * median([r["cpu_us"] for r in redis_rs])
            floor = min(ping_cpu.values())
            if need < floor:
                tcell += (f" (CPU needs ≤{need:.1f} µs/req: less than either server"
                          f" spends on a PING, {floor:.1f})")
        out.append(f"| {label} | {cells['keel']['ops']} | {cells['redis']['ops']} | {ratio} "
                   f"| {cells['keel']['lat']} | {cells['redis']['lat']} | {cells['keel']['cpu']} "
                   f"| {cells['redis']['cpu']} | {cratio} "
                   f"| {cells['keel']['busy']} / {cells['redis']['busy']} | {tcell} |")
    return out


def persistence_table(runs, metrics, rewrites, meta):
    dataset = int(meta.get("dataset", "0"))
    out = ["| Metric | keel | Redis | keel/Redis | Target |", "|---|--:|--:|--:|---|"]

    def row(name, values, fmt, target="—", check=None, ratio=True, check_on="ratio"):
        k, r = values.get("keel", {}), values.get("redis", {})
        km = median([v for v in k.values() if v is not None])
        rm = median([v for v in r.values() if v is not None])
        ratios = per_round_ratios(k, r, name) if ratio else []
        rc = ratio_cell(ratios) if ratio else "—"
        if check and target != "—":
            val = median(ratios) if check_on == "ratio" else km
            if val is not None:
                target += mark(check(val))
        out.append(f"| {name} | {fmt(km)} | {fmt(rm)} | {rc} | {target} |")

    mpk = metrics.get("mem_per_key", {})
    row(f"Memory per key, {dataset:,} keys (bytes, VmRSS delta / keys)", mpk,
        lambda x: fmt_num(x, 0), "≤1.0x", lambda v: v <= 1.0)
    row(f"VmRSS after loading {dataset:,} keys (MiB, whole process)",
        metrics.get("mem_rss_mib", {}), lambda x: fmt_num(x, 0))
    row(f"AOF load time, {dataset:,} keys, servers on one CPU (s, start → PONG + loading:0)",
        metrics.get("aof_load_s", {}), lambda x: fmt_num(x, 3), "≤0.5x (≥2x faster)",
        lambda v: v <= 0.5)
    if metrics.get("aof_load_s_all"):
        row(f"AOF load time, {dataset:,} keys, servers on every CPU (s)",
            metrics.get("aof_load_s_all", {}), lambda x: fmt_num(x, 3), "≤0.5x (≥2x faster)",
            lambda v: v <= 0.5)
    row("Peak RSS while loading the AOF / RSS once loaded (VmHWM / VmRSS)",
        metrics.get("aof_load_peak", {}), lambda x: fmt_num(x, 2), "keel ≤1.10",
        lambda v: v <= 1.10, check_on="keel")

    # rewrite: per round, count and median duration in the latency run (nothing
    # but the load and the INFO polling beside it); peak extra memory / dataset
    # memory in the run that samples memory
    dur, extra, extra_mb, count = {}, {}, {}, {}
    for s in SERVERS:
        ds_kb = None
        if mpk.get(s):
            ds_kb = median(list(mpk[s].values())) * dataset / 1024
        for rnd, rw in rewrites["latency"].get(s, {}).items():
            ds = rw.get("durations") or []
            dur.setdefault(s, {})[rnd] = median(ds)
            count.setdefault(s, {})[rnd] = len(ds)
        for rnd, rw in rewrites["memory"].get(s, {}).items():
            if rw.get("durations") and "peak_pss_kb" in rw:
                delta = rw["peak_pss_kb"] - rw["base_pss_kb"]
                extra_mb.setdefault(s, {})[rnd] = delta / 1024
                extra.setdefault(s, {})[rnd] = delta / ds_kb if ds_kb else None
            else:
                extra.setdefault(s, {})[rnd] = None
    row("AOF rewrites completed during the SET load (count)", count, lambda x: fmt_num(x, 0),
        ratio=False)
    row("AOF rewrite duration under the SET load (s, median)", dur, lambda x: fmt_num(x, 3))
    row("Rewrite peak extra memory (MiB, PSS of server + children)", extra_mb,
        lambda x: fmt_num(x, 1))
    row("Rewrite peak extra memory / dataset memory", extra, lambda x: fmt_num(x, 2),
        "keel ≤0.10", lambda v: v <= 0.10, check_on="keel")

    # p99 of the SET load with rewrites looping vs without
    p99 = {}
    for s in SERVERS:
        w = {x["round"]: x["p99"] for x in runs.get("SET P1, AOF on, rewrite looping", {}).get(s, [])}
        wo = {x["round"]: x["p99"] for x in runs.get("SET P1, AOF on, no rewrite", {}).get(s, [])}
        p99[s] = {rnd: w[rnd] / wo[rnd] for rnd in set(w) & set(wo) if wo[rnd]}
    row("SET p99 during rewrite / p99 without (x)", p99, lambda x: fmt_num(x, 2),
        "keel ≤2x", lambda v: v <= 2.0, check_on="keel")

    # collections: bytes per element, one row per shape, in the order measured
    for name in metrics:
        if name.startswith("coll_mem|"):
            shape = name.split('|', 1)[1]
            row(f"Memory per element, {shape} (bytes, VmRSS delta / elements)",
                metrics[name], lambda x: fmt_num(x, 0), "≤1.0x", lambda v: v <= 1.0)
            row(f"Memory per element, {shape} (bytes, used_memory delta / elements)",
                metrics.get("coll_used|" + shape, {}), lambda x: fmt_num(x, 1))
    return out


def read_meta(path):
    meta = {}
    with open(path) as f:
        for ln in f:
            if "=" in ln:
                k, v = ln.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def section(meta, t1, t2):
    quick = meta.get("mode") == "quick"
    lines = [BEGIN,
             "## Results (generated by `bench/compare.sh`)", ""]
    if quick:
        lines += ["> **Quick run** (`--quick`: 2 rounds, small request counts). It checks that the "
                  "suite works; its numbers are indicative only. Run `bench/compare.sh` "
                  "(full mode) for numbers to quote.", ""]
    if meta.get("note"):
        lines += [f"> **Note:** {meta['note']}", ""]
    try:
        cores = int(meta.get("cores", "0"))
        loads = [float(meta.get(k, "0").split()[0]) for k in ("loadavg_start", "loadavg_end")]
        if cores and max(loads) > 0.5 * cores:
            lines += [f"> **Busy machine:** 1-minute load average {loads[0]:.2f} at start and "
                      f"{loads[1]:.2f} at end on {cores} cores; other work competed with both "
                      "servers, so expect wide spreads.", ""]
    except ValueError:
        pass
    lines += [
        f"- Command: `{meta.get('command')}` ({meta.get('elapsed_s', '?')} s of benchmarks), "
        f"{meta.get('date')}, git {meta.get('git')}",
        f"- Machine: {meta.get('cores')} cores, {meta.get('cpu')}, {meta.get('memory')} RAM, "
        f"Linux {meta.get('kernel')}; load average {meta.get('loadavg_start')} at start, "
        f"{meta.get('loadavg_end', '?')} at end",
        f"- Versions: {meta.get('keel_version')}; {meta.get('redis_version')}; "
        f"{meta.get('redis_benchmark')}",
        f"- Settings: {meta.get('rounds')} rounds (keel and Redis alternate, order flipped "
        f"every round); {meta.get('clients')} clients, `-r {meta.get('keyspace')}`, "
        f"`-d {meta.get('value')}`; -n {meta.get('n1')} at pipeline 1, {meta.get('n16')} at "
        f"pipeline 16, {meta.get('nalways')} with `appendfsync always`; dataset "
        f"{int(meta.get('dataset', 0)):,} keys; rewrite load -n {meta.get('nrewrite')}; "
        f"servers on CPU {meta.get('server_cpu')}, redis-benchmark on CPU "
        f"{meta.get('client_cpu')} (2-thread rows: server and client on CPUs "
        f"{meta.get('all_cpus')})",
        "",
        "Ops/s, latencies and CPU are medians over the rounds; keel/Redis is the median of the "
        "per-round ratios with (min–max) across rounds. CPU µs/req is the server's "
        "utime+stime+cutime+cstime (all threads, reaped children) over the run divided by "
        "the requests. Client busy is redis-benchmark's own CPU time (user + system) over the "
        "run's wall time: near 100% the client, on its one core, sets the rate, and the "
        "throughput ratio says little about the server (its CPU µs/req still does). "
        "✓/✗ compare the median with the target. The PING rows measure the load generator "
        "itself: PING is the cheapest command there is, so PING's rate against the faster "
        "server is about the most redis-benchmark sends from its core at that pipeline. A "
        "target above it (1.5× Redis's rate at pipeline 16, 2× with `appendfsync always` at "
        "pipeline 1) says so: no server could reach it with this client. So does a CPU target "
        "at pipeline 1 below what either server spends on a PING there, which is about the "
        "fixed cost of any request (its read, its write and the wake-ups).",
        "",
        "### Throughput, latency, server CPU", ""]
    lines += t1
    lines += ["", "### Memory and persistence", ""]
    lines += t2
    lines += ["", "For AOF load time the ratio is keel's time / Redis's time (lower is better). "
              "Rewrite memory is PSS, so pages Redis's fork child shares with its parent count "
              "once.", END]
    return "\n".join(lines) + "\n"


def write(path, text):
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if BEGIN in old and END in old:
        pre = old[: old.index(BEGIN)]
        post = old[old.index(END) + len(END):]
        post = post[1:] if post.startswith("\n") else post
        new = pre + text + post
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "# Benchmarks\n\n") + text
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)


def main():
    args = sys.argv[1:]
    out_path = None
    if "--write" in args:
        i = args.index("--write")
        out_path = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    runs, status, order, metrics, rewrites = load(args[0])
    meta = read_meta(args[1])
    t1 = throughput_table(runs, status, order)
    t2 = persistence_table(runs, metrics, rewrites, meta)
    text = section(meta, t1, t2)
    print(text)
    if out_path:
        write(out_path, text)
        print(f"wrote {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
