#!/usr/bin/env python3
"""Measurement helpers for bench/compare.sh (standard library only).

Subcommands:
  freeports N                 print N free loopback TCP ports
  payload KEYS FILE           write KEYS deterministic SET commands (16-byte keys,
                              64-byte values) in RESP to FILE, for redis-cli --pipe
  collections KIND COUNT SIZE FILE
                              write COUNT collections of SIZE elements (KIND: hash,
                              set, intset, zset, list) as RESP commands to FILE;
                              print how many commands
  idle PORT N READYFILE       open N idle connections to PORT, touch READYFILE, sleep
  wait-ready PORT STARTFILE UPFILE
                              poll every 10 ms until PING answers PONG and INFO
                              persistence shows loading:0; print seconds since the
                              T0 that the caller writes to STARTFILE ("T0 PID")
  mem PID                     print "rss_kb pss_kb" of PID plus its descendants
  rewrite PORT PID UNTILPID [--no-memory]
                              while process UNTILPID lives, run BGREWRITEAOF back to
                              back; print JSON: rewrites, durations, memory samples
                              (none with --no-memory: for latency runs)
  poll PORT UNTILPID          while process UNTILPID lives, poll INFO persistence as
                              `rewrite` does, and nothing else (its control run)
"""

import json
import os
import socket
import sys
import time


def freeports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    print(" ".join(map(str, ports)))


def key(i):
    return b"key:%012d" % i  # 16 bytes; redis-benchmark -r uses the same key names


def value(i):
    return (b"v%015d" % i) * 4  # 64 bytes


def payload(keys, path):
    with open(path, "wb") as f:
        buf = []
        for i in range(keys):
            k, v = key(i), value(i)
            buf.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
            if len(buf) >= 10000:
                f.write(b"".join(buf))
                buf.clear()
        f.write(b"".join(buf))


def resp(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def collections(kind, count, size, path):
    """`count` collections of `size` elements each, as RESP commands (at most 100
    elements per command): hash (16-byte fields and values), set and list
    (16-byte members), intset (integer members), zset (16-byte members, integer
    scores). Prints the number of commands written."""
    n = 0
    with open(path, "wb") as f:
        buf = []
        for c in range(count):
            k = b"coll:%011d" % c
            for start in range(0, size, 100):
                idx = range(start, min(size, start + 100))
                if kind == "hash":
                    args = [b"HSET", k] + [x for i in idx for x in (b"field:%010d" % i, b"value:%010d" % i)]
                elif kind == "set":
                    args = [b"SADD", k] + [b"member:%09d" % i for i in idx]
                elif kind == "intset":
                    args = [b"SADD", k] + [b"%d" % (i * 7) for i in idx]
                elif kind == "zset":
                    args = [b"ZADD", k] + [x for i in idx for x in (b"%d" % i, b"member:%09d" % i)]
                elif kind == "list":
                    args = [b"RPUSH", k] + [b"element:%08d" % i for i in idx]
                else:
                    raise SystemExit("unknown collection kind " + kind)
                buf.append(resp(args))
                n += 1
                if len(buf) >= 1000:
                    f.write(b"".join(buf))
                    buf.clear()
        f.write(b"".join(buf))
    print(n)


def idle(port, n, readyfile):
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        conns.append(s)
    # Make sure the server has accepted (and registered) every connection.
    conns[-1].sendall(b"PING\r\n")
    conns[-1].recv(64)
    open(readyfile, "w").close()
    while True:
        time.sleep(3600)


class Conn:
    """A minimal RESP client: enough for PING, INFO and BGREWRITEAOF."""

    def __init__(self, port, timeout=5.0):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-", b":"):
            return (t, rest.decode(errors="replace"))
        if t == b"$":
            n = int(rest)
            if n < 0:
                return (t, None)
            while len(self.buf) < n + 2:
                d = self.s.recv(65536)
                if not d:
                    raise ConnectionError("closed")
                self.buf += d
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return (t, data.decode(errors="replace"))
        if t == b"*":
            return (t, [self._reply() for _ in range(int(rest))])
        raise ValueError("bad reply %r" % line)

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self._reply()

    def info(self, section):
        t, text = self.cmd("INFO", section)
        d = {}
        for ln in (text or "").splitlines():
            if ":" in ln:
                k, v = ln.split(":", 1)
                d[k] = v
        return d


def wait_ready(port, startfile, upfile):
    """Started before the server so that its own start-up time is not measured.

    Touches UPFILE once running, then polls PORT every 10 ms. The caller starts
    the server after UPFILE appears and writes "T0 PID" to STARTFILE (T0: epoch
    seconds taken just before the exec). Prints seconds from T0 until PING
    answers PONG and INFO persistence shows loading:0.
    """
    open(upfile, "w").close()
    deadline = time.time() + 900
    pid = None
    while time.time() < deadline:
        if pid is None and os.path.exists(startfile):
            with open(startfile) as f:
                parts = f.read().split()
            if len(parts) == 2:
                t0, pid = float(parts[0]), int(parts[1])
        if pid is not None and not alive(pid):
            print("server %d exited" % pid, file=sys.stderr)
            sys.exit(1)
        try:
            c = Conn(port, timeout=2.0)
        except OSError:
            time.sleep(0.01)
            continue
        try:
            while time.time() < deadline:
                t, r = c.cmd("PING")
                if t == b"+" and r == "PONG" and c.info("persistence").get("loading") == "0":
                    now = time.time()
                    while pid is None:  # the caller writes STARTFILE right after the exec
                        with open(startfile) as f:
                            parts = f.read().split()
                        if len(parts) == 2:
                            t0, pid = float(parts[0]), int(parts[1])
                        else:
                            time.sleep(0.001)
                    print("%.4f" % (now - t0))
                    return
                time.sleep(0.01)
        except (OSError, ConnectionError, ValueError):
            time.sleep(0.01)
    print("timeout waiting for port %d" % port, file=sys.stderr)
    sys.exit(1)


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def mem_one(pid):
    rss = pss = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    rss = int(ln.split()[1])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for ln in f:
                if ln.startswith("Pss:"):
                    pss = int(ln.split()[1])
    except OSError:
        pass
    return rss, pss


def mem(pid):
    """(rss_kb, pss_kb) summed over pid and its descendants (Redis's fork child)."""
    rss = pss = 0
    for p in descendants(pid):
        r, s = mem_one(p)
        rss += r
        pss += s
    return rss, pss


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def rewrite(port, pid, until_pid, sample_memory=True, trigger=True):
    """BGREWRITEAOF back to back while until_pid runs, polling INFO persistence
    every 10 ms to see each one finish. With sample_memory, the server's RSS and
    PSS (and its children's) are sampled as often; reading smaps_rollup walks
    the server's page tables under its mmap lock and costs a third of a core, so
    latency runs leave it off. With trigger off, only the polling runs: the
    control for a latency run, so that the two differ by the rewrites alone."""
    c = Conn(port, timeout=30.0)
    time.sleep(0.3)  # let the concurrent load get going
    if sample_memory:
        sample = mem
    else:
        def sample(_pid):
            return (0, 0)
    base = [sample(pid) for _ in range(3)]
    base_rss = sorted(b[0] for b in base)[1]
    base_pss = sorted(b[1] for b in base)[1]
    peak_rss, peak_pss = base_rss, base_pss
    durations = []
    errors = []
    while alive(until_pid):
        if trigger:
            t, r = c.cmd("BGREWRITEAOF")
            if t == b"-":
                errors.append(r)
                time.sleep(0.01)
                if len(errors) > 100:
                    break
                continue
        t0 = time.time()
        while alive(until_pid) or trigger:
            rss, pss = sample(pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            p = c.info("persistence")
            if trigger and p.get("aof_rewrite_in_progress") == "0" \
                    and p.get("aof_rewrite_scheduled") == "0":
                break
            time.sleep(0.01)
        if trigger:
            durations.append(time.time() - t0)
    print(json.dumps({
        "rewrites": len(durations),
        "durations": durations,
        "base_rss_kb": base_rss,
        "base_pss_kb": base_pss,
        "peak_rss_kb": peak_rss,
        "peak_pss_kb": peak_pss,
        "errors": errors[:3],
    }))


def main():
    a = sys.argv[1:]
    if not a:
        print(__doc__)
        sys.exit(2)
    cmd = a[0]
    if cmd == "freeports":
        freeports(int(a[1]))
    elif cmd == "payload":
        payload(int(a[1]), a[2])
    elif cmd == "collections":
        collections(a[1], int(a[2]), int(a[3]), a[4])
    elif cmd == "idle":
        idle(int(a[1]), int(a[2]), a[3])
    elif cmd == "wait-ready":
        wait_ready(int(a[1]), a[2], a[3])
    elif cmd == "mem":
        print("%d %d" % mem(int(a[1])))
    elif cmd == "rewrite":
        rewrite(int(a[1]), int(a[2]), int(a[3]), sample_memory="--no-memory" not in a[4:])
    elif cmd == "poll":
        rewrite(int(a[1]), 0, int(a[2]), sample_memory=False, trigger=False)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
