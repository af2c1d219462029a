//! maxmemory and eviction through the real server: every policy evicts the keys
//! it should (volatile-* never touch keys without a TTL, volatile-ttl takes the
//! nearest deadlines, LRU keeps a hot set), noeviction answers -OOM to writes
//! while reads and deletes work, evictions reach the AOF as DEL (a restart gives
//! the same digest), and a restart whose data does not fit maxmemory evicts
//! (with a policy) or refuses to start with a clear message (noeviction), also
//! inside a memory cgroup the test makes, where the kernel would kill a server
//! that loaded past it.

mod common;
use common::cmd::*;
use common::TestServer;
use redis::Connection;

const VALUE: usize = 1000;

fn used(con: &mut Connection) -> u64 {
    info_field(con, "memory", "used_memory")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn evicted(con: &mut Connection) -> u64 {
    info_field(con, "stats", "evicted_keys")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Sets maxmemory to what is used now plus `extra` bytes.
fn limit(con: &mut Connection, extra: u64) -> u64 {
    let max = used(con) + extra;
    let _: () = q(con, &format!("CONFIG SET maxmemory {max}"));
    max
}

/// Writes `n` keys `prefix:i` of VALUE bytes (with a TTL of `ttl_s + i` seconds
/// when `ttl_s` > 0) in pipelines; returns how many writes failed (OOM).
fn fill(con: &mut Connection, prefix: &str, n: usize, ttl_s: u64) -> usize {
    let value = "x".repeat(VALUE);
    let mut failed = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let mut p = redis::pipe();
        for i in chunk {
            let mut c = redis::cmd("SET");
            c.arg(format!("{prefix}:{i}")).arg(&value);
            if ttl_s > 0 {
                c.arg("EX").arg(ttl_s + *i as u64);
            }
            p.add_command(c);
        }
        let r: Vec<redis::RedisResult<redis::Value>> = p
            .query::<Vec<redis::Value>>(con)
            .map(|v| v.into_iter().map(Ok).collect())
            .unwrap_or_else(|e| vec![Err(e)]);
        failed += r.iter().filter(|x| x.is_err()).count();
    }
    failed
}

/// The historic workload: `cycles` rounds of writing `n` keys then FLUSHDB.
/// A key in db 1 keeps FLUSHDB from emptying everything (which would reset
/// the log at once), so a replay really goes through every cycle.
fn flush_cycles(con: &mut Connection, cycles: usize, n: usize) {
    let _: () = q(con, "SELECT 1");
    let _: () = q(con, "SET keep me");
    let _: () = q(con, "SELECT 0");
    for cycle in 0..cycles {
        fill(con, &format!("c{cycle}"), n, 0);
        let _: () = q(con, "FLUSHDB");
    }
}

fn keys(con: &mut Connection, pattern: &str) -> Vec<String> {
    q(con, &format!("KEYS {pattern}"))
}

#[test]
fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
    let s = TestServer::start();
    let mut con = s.conn();
    fill(&mut con, "base", 100, 0);
    limit(&mut con, 1 << 20);
    let _ = fill(&mut con, "more", 5000, 0);
    assert_eq!(
        e(&mut con, &format!("SET big {}", "y".repeat(VALUE))),
        "OOM command not allowed when used memory > 'maxmemory'."
    );
    // Reads and deletes go on.
    assert_eq!(q::<String>(&mut con, "GET base:1").len(), VALUE);
    assert_eq!(i(&mut con, "DEL base:1 base:2"), 2);
    assert_eq!(evicted(&mut con), 0);
    assert_eq!(
        info_field(&mut con, "memory", "maxmemory_policy").as_deref(),
        Some("noeviction")
    );
}

#[test]
fn allkeys_policies_keep_memory_bounded_without_oom() {
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        let s = TestServer::start_with(&["--maxmemory-policy", policy]);
        let mut con = s.conn();
        let max = limit(&mut con, 4 << 20);
        assert_eq!(fill(&mut con, "k", 20_000, 0), 0, "{policy}: writes failed");
        // Every command evicts while memory is past the limit: lift it to count.
        let u = used(&mut con);
        let _: () = q(&mut con, "CONFIG SET maxmemory 0");
        let n = evicted(&mut con);
        assert!(n > 5000, "{policy}: only {n} keys evicted");
        let dbsize = i(&mut con, "DBSIZE") as u64;
        assert_eq!(dbsize + n, 20_000, "{policy}");
        // Memory stays near the limit (allowing for allocator slack).
        assert!(u < max + (2 << 20), "{policy}: used {u} vs maxmemory {max}");
    }
}

#[test]
fn lru_keeps_a_hot_set_alive() {
    let s = TestServer::start_with(&[
        "--maxmemory-policy",
        "allkeys-lru",
        "--maxmemory-samples",
        "10",
    ]);
    let mut con = s.conn();
    fill(&mut con, "hot", 20, 0);
    limit(&mut con, 3 << 20);
    for round in 0..6 {
        // Touch the hot set, then write a batch of cold keys. The LRU clock
        // has one-second resolution, as in Redis: one round per second.
        for h in 0..20 {
            let _: Option<String> = q(&mut con, &format!("GET hot:{h}"));
        }
        fill(&mut con, &format!("cold{round}"), 1500, 0);
        std::thread::sleep(std::time::Duration::from_millis(1050));
    }
    let _: () = q(&mut con, "CONFIG SET maxmemory 0");
    assert!(evicted(&mut con) > 4000);
    let alive = (0..20)
        .filter(|h| i(&mut con, &format!("EXISTS hot:{h}")) == 1)
        .count();
    assert!(alive >= 18, "only {alive} of 20 hot keys survived");
}

#[test]
fn volatile_policies_only_evict_keys_with_a_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let s = TestServer::start_with(&["--maxmemory-policy", policy]);
        let mut con = s.conn();
        fill(&mut con, "keep", 500, 0);
        limit(&mut con, 2 << 20);
        fill(&mut con, "ttl", 4000, 1000);
        assert!(evicted(&mut con) > 0, "{policy}");
        assert_eq!(
            keys(&mut con, "keep:*").len(),
            500,
            "{policy} evicted a key without TTL"
        );
        // Once no key has a TTL left, writes get OOM (before that, a write may
        // go ahead while eviction is still making progress, as in Redis).
        let _: () = q(&mut con, "CONFIG SET maxmemory 1");
        let value = "z".repeat(VALUE);
        let err = (0..10_000)
            .find_map(|n| {
                redis::cmd("SET")
                    .arg(format!("new:{n}"))
                    .arg(&value)
                    .query::<()>(&mut con)
                    .err()
            })
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("OOM"), "{policy}: {err}");
        assert!(keys(&mut con, "ttl:*").is_empty(), "{policy}");
        assert_eq!(keys(&mut con, "keep:*").len(), 500, "{policy}");
    }
}

#[test]
fn volatile_ttl_evicts_the_nearest_deadlines_first() {
    let s = TestServer::start_with(&[
        "--maxmemory-policy",
        "volatile-ttl",
        "--maxmemory-samples",
        "10",
    ]);
    let mut con = s.conn();
    fill(&mut con, "t", 2000, 1000);
    limit(&mut con, 0);
    let _ = fill(&mut con, "u", 1000, 100_000);
    let left = keys(&mut con, "t:*");
    assert!(!left.is_empty() && left.len() < 2000, "{}", left.len());
    // Keys t:i expire after 1000+i seconds: the survivors are the later ones.
    let idx: Vec<usize> = left.iter().filter_map(|k| k[2..].parse().ok()).collect();
    let mean = idx.iter().sum::<usize>() as f64 / idx.len() as f64;
    assert!(mean > 1200.0, "mean index of survivors {mean}");
}

#[test]
fn lfu_counters_and_object_freq() {
    let s = TestServer::start();
    let mut con = s.conn();
    let _: () = q(&mut con, "SET k v");
    assert!(e(&mut con, "OBJECT FREQ k").starts_with("ERR An LFU maxmemory policy is not selected"));
    let _: () = q(&mut con, "CONFIG SET maxmemory-policy allkeys-lfu");
    let _: () = q(&mut con, "SET k2 v");
    assert_eq!(i(&mut con, "OBJECT FREQ k2"), 5);
    for _ in 0..200 {
        let _: String = q(&mut con, "GET k2");
    }
    assert!(i(&mut con, "OBJECT FREQ k2") > 5);
    assert!(
        e(&mut con, "OBJECT IDLETIME k2").starts_with("ERR An LFU maxmemory policy is selected")
    );
}

#[test]
fn evictions_are_logged_as_del_and_replay_to_the_same_dataset() {
    let dir = common::temp_dir("evict-aof");
    let mut s = TestServer::start_in(
        &dir,
        &[
            "--appendonly",
            "yes",
            "--maxmemory-policy",
            "allkeys-random",
        ],
    );
    let mut con = s.conn();
    let mut feed = s.raw();
    assert_eq!(feed.cmd("DEBUG EFFECTS"), b"+OK\r\n");
    limit(&mut con, 2 << 20);
    fill(&mut con, "k", 6000, 0);
    assert!(evicted(&mut con) > 0);
    let mut seen = String::new();
    while !seen.contains("\"DEL\"") {
        seen.push_str(&String::from_utf8_lossy(&feed.read_until(b"\r\n")));
    }
    let digest: String = q(&mut con, "DEBUG DIGEST");
    let dbsize = i(&mut con, "DBSIZE");
    drop(con);
    s.terminate();
    let s2 = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut con = s2.conn();
    assert_eq!(q::<String>(&mut con, "DEBUG DIGEST"), digest);
    assert_eq!(i(&mut con, "DBSIZE"), dbsize);
}

#[test]
fn restart_under_a_smaller_maxmemory() {
    let dir = common::temp_dir("evict-load");
    let mut s = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut con = s.conn();
    let base = used(&mut con);
    fill(&mut con, "k", 20_000, 0);
    drop(con);
    s.terminate();
    let max = (base + (4 << 20)).to_string();

    // noeviction: the server refuses to start, says why, and changes no file.
    let before: Vec<_> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), e.metadata().unwrap().len())
        })
        .collect();
    let out = std::process::Command::new(common::binary())
        .args([
            "--port",
            &common::free_port().to_string(),
            "--appendonly",
            "yes",
            "--maxmemory",
            &max,
        ])
        .arg("--dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("Loading stopped"), "{log}");
    assert!(log.contains("maxmemory"), "{log}");
    assert!(
        log.contains("raise maxmemory") && log.contains("eviction policy"),
        "{log}"
    );
    let mut after: Vec<_> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), e.metadata().unwrap().len())
        })
        .collect();
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after, "a file changed");

    // With a policy: keys are evicted while loading and the server comes up.
    let s = TestServer::start_in(
        &dir,
        &[
            "--appendonly",
            "yes",
            "--maxmemory",
            &max,
            "--maxmemory-policy",
            "allkeys-lru",
        ],
    );
    let mut con = s.conn();
    let n = i(&mut con, "DBSIZE");
    assert!(n > 0 && n < 20_000, "{n}");
    assert!(
        s.log().contains("keys were evicted while loading"),
        "{}",
        s.log()
    );
}

fn names_of(stats: &[redis::Value]) -> Vec<String> {
    stats
        .iter()
        .step_by(2)
        .filter_map(|v| redis::from_redis_value(v).ok())
        .collect()
}

#[test]
fn memory_commands() {
    let s = TestServer::start();
    let mut con = s.conn();
    let _: () = q(&mut con, &format!("SET k {}", "v".repeat(100)));
    let usage = i(&mut con, "MEMORY USAGE k");
    assert!((100..400).contains(&usage), "{usage}");
    assert_eq!(i(&mut con, "MEMORY USAGE k SAMPLES 0"), usage);
    assert_eq!(v(&mut con, "MEMORY USAGE nokey"), redis::Value::Nil);
    assert_eq!(e(&mut con, "MEMORY USAGE k SAMPLES"), "ERR syntax error");
    assert_eq!(e(&mut con, "MEMORY USAGE k FOO 1"), "ERR syntax error");
    let stats: Vec<redis::Value> = q(&mut con, "MEMORY STATS");
    let names = names_of(&stats);
    for want in [
        "peak.allocated",
        "total.allocated",
        "keys.count",
        "dataset.bytes",
        "fragmentation",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    // The database entries and the key count are the keyspace's.
    let _: () = q(&mut con, "SELECT 3");
    let _: () = q(&mut con, "SET a 1");
    let _: () = q(&mut con, "SET b 2 EX 100");
    let _: () = q(&mut con, "SELECT 0");
    let stats: Vec<redis::Value> = q(&mut con, "MEMORY STATS");
    let field = |name: &str| {
        stats
            .chunks(2)
            .find(|kv| redis::from_redis_value::<String>(&kv[0]).ok().as_deref() == Some(name))
            .map(|kv| kv[1].clone())
    };
    assert_eq!(field("keys.count"), Some(redis::Value::Int(3)));
    let dbs: Vec<String> = names_of(&stats)
        .into_iter()
        .filter(|n| n.starts_with("db."))
        .collect();
    assert_eq!(dbs, ["db.0", "db.3"]);
    let db3: Vec<redis::Value> = redis::from_redis_value(&field("db.3").unwrap()).unwrap();
    let db3: Vec<(String, i64)> = db3
        .chunks(2)
        .map(|kv| {
            (
                redis::from_redis_value(&kv[0]).unwrap(),
                redis::from_redis_value(&kv[1]).unwrap(),
            )
        })
        .collect();
    assert_eq!(db3[0].0, "overhead.hashtable.main");
    assert!(db3[0].1 > 0 && db3[1].1 > 0, "{db3:?}");
    assert_eq!(
        e(&mut con, "MEMORY STATS extra"),
        "ERR wrong number of arguments for 'memory|stats' command"
    );
    let doctor: String = q(&mut con, "MEMORY DOCTOR");
    assert!(doctor.contains("Sam"), "{doctor}");
    let _: () = q(&mut con, "MEMORY PURGE");
    let malloc: String = q(&mut con, "MEMORY MALLOC-STATS");
    // jemalloc's own full report, as Redis gives it.
    assert!(malloc.contains("Begin jemalloc statistics"), "{malloc}");
    assert!(malloc.contains("bins:"), "{malloc}");
    // INFO memory fields are present and plausible.
    let used: u64 = info_num(&mut con, "memory", "used_memory");
    let rss: u64 = info_num(&mut con, "memory", "used_memory_rss");
    let peak: u64 = info_num(&mut con, "memory", "used_memory_peak");
    assert!(
        used > 100_000 && rss >= used / 2 && peak >= used,
        "{used} {rss} {peak}"
    );
    for f in [
        "used_memory_human",
        "used_memory_dataset",
        "maxmemory",
        "maxmemory_policy",
        "mem_fragmentation_ratio",
        "allocator_allocated",
    ] {
        assert!(info_field(&mut con, "memory", f).is_some(), "{f}");
    }
}

/// Every policy that evicts.
const EVICTING_POLICIES: [&str; 7] = [
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];

/// Restarts keel on `dir` (under `wrapper`, if any) with AOF on, `maxmemory`
/// and `policy`, on a log of `total` keys named `plain*` (without a TTL;
/// `plain_keys` of them) and `ttl*`: checks that loading evicted some, and
/// under a volatile policy none without a TTL.
fn restart_evicting(
    dir: &std::path::Path,
    wrapper: &[&str],
    maxmemory: &str,
    policy: &str,
    total: usize,
    plain_keys: usize,
) -> TestServer {
    let mut s = TestServer::start_wrapped(
        dir,
        wrapper,
        &[
            "--appendonly",
            "yes",
            "--maxmemory",
            maxmemory,
            "--maxmemory-policy",
            policy,
        ],
    );
    s.keep_dir();
    let mut con = s.conn();
    let plain = keys(&mut con, "plain*").len();
    let ttl = keys(&mut con, "ttl*").len();
    assert!(plain + ttl < total, "{policy}: nothing evicted");
    if policy.starts_with("volatile") {
        assert_eq!(plain, plain_keys, "{policy} evicted keys without a TTL");
    }
    s
}

/// Every policy on a restart whose data does not fit: half the keys have a TTL,
/// and the limit forces evicting a part of them. allkeys-* and
/// volatile-* evict while loading and start; noeviction refuses to start.
#[test]
fn restart_under_maxmemory_for_every_policy() {
    let dir = common::temp_dir("evict-load-all");
    let mut s = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut con = s.conn();
    let base = used(&mut con);
    // Interleaved, so keys with a TTL are there to evict all along the replay.
    for c in 0..8 {
        fill(&mut con, &format!("plain{c}"), 1000, 0);
        fill(&mut con, &format!("ttl{c}"), 1000, 100_000);
    }
    drop(con);
    s.terminate();
    let max = (base + (14 << 20)).to_string();
    for policy in EVICTING_POLICIES {
        let s = restart_evicting(&dir, &[], &max, policy, 16_000, 8_000);
        assert!(
            s.log().contains("keys were evicted while loading"),
            "{policy}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The historic failure: a user with little memory who flushes regularly. The
/// log holds far more data than was ever live at once; replaying it frees memory
/// at each FLUSHDB, so a restart under a maxmemory that fits the live data (with
/// noeviction) loads everything, and the peak while loading stays under it.
#[test]
fn flushing_workload_restarts_within_the_memory_that_was_in_use() {
    let dir = common::temp_dir("evict-historic");
    let mut s = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut con = s.conn();
    let base = used(&mut con);
    flush_cycles(&mut con, 6, 3000);
    fill(&mut con, "live", 2000, 0);
    drop(con);
    s.terminate();
    let aof: u64 = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(
        aof > 18_000_000,
        "the log should hold every cycle: {aof} bytes"
    );
    let max = base + (6 << 20);
    let s = TestServer::start_in(
        &dir,
        &["--appendonly", "yes", "--maxmemory", &max.to_string()],
    );
    let mut con = s.conn();
    assert_eq!(i(&mut con, "DBSIZE"), 2000);
    let peak: u64 = info_num(&mut con, "memory", "used_memory_peak");
    assert!(peak <= max, "peak while loading {peak} > maxmemory {max}");
}

/// A huge pipelined write (80 MB of SETs sent in one go) under maxmemory with
/// an eviction policy: eviction runs before each command, so memory never goes
/// past the limit by more than a bounded amount (here 8 MB: the commands read
/// but not yet run, and one allocator re-reading interval), and INFO shows the
/// client buffers the way Redis does.
#[test]
fn a_huge_pipeline_overshoots_maxmemory_by_a_bounded_amount() {
    // Without the AOF: its buffer is not counted against maxmemory (as in
    // Redis), so here used_memory_peak is exactly what eviction bounds.
    let s = TestServer::start_with(&["--appendonly", "no"]);
    let mut con = s.conn();
    let _: () = q(&mut con, "CONFIG SET maxmemory-policy allkeys-lru");
    let max = limit(&mut con, 16 << 20);
    let value = "x".repeat(VALUE);
    let mut p = redis::pipe();
    for i in 0..80_000 {
        p.cmd("SET").arg(format!("big:{i}")).arg(&value).ignore();
    }
    let _: () = p.query(&mut con).unwrap();
    let peak: u64 = info_num(&mut con, "memory", "used_memory_peak");
    assert!(evicted(&mut con) > 40_000, "evicted {}", evicted(&mut con));
    assert!(
        peak <= max + (8 << 20),
        "peak {peak} went past maxmemory {max} by {} bytes",
        peak - max
    );
    let info: String = q(&mut con, "INFO memory");
    let field = |f: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{f}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{f} missing from INFO memory"))
    };
    assert!(field("mem_clients_normal") >= 16384);
    assert_eq!(field("mem_aof_buffer"), field("mem_not_counted_for_evict"));
}

/// A memory cgroup (v1) of `limit` bytes made under the test's own cgroup;
/// `None` when the machine does not let the test make one (then the test
/// says so and skips the cgroup part).
struct MemCgroup {
    path: std::path::PathBuf,
}

impl MemCgroup {
    fn new(limit: u64) -> Option<MemCgroup> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let rel = own.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then(|| path.to_string())
        })?;
        let path = std::path::PathBuf::from(format!(
            "/sys/fs/cgroup/memory{}/keel-test-{}",
            rel.trim_end_matches('/'),
            std::process::id()
        ));
        std::fs::create_dir(&path).ok()?;
        let cg = MemCgroup { path };
        std::fs::write(cg.path.join("memory.limit_in_bytes"), limit.to_string()).ok()?;
        // No swapping around the limit either, where swap accounting exists.
        let _ = std::fs::write(
            cg.path.join("memory.memsw.limit_in_bytes"),
            limit.to_string(),
        );
        Some(cg)
    }

    /// A command prefix that moves itself into the cgroup, then runs the rest.
    fn wrapper(&self) -> [String; 3] {
        [
            "sh".to_string(),
            "-c".to_string(),
            format!(
                "echo $$ > {}/cgroup.procs && exec \"$0\" \"$@\"",
                self.path.display()
            ),
        ]
    }

    /// Runs keel in the cgroup on `dir` with `extra`, until it exits or, if it
    /// comes up and answers PONG, until then (`None`: it is still running and
    /// has been killed by the test).
    fn run(&self, dir: &std::path::Path, extra: &[&str]) -> Option<std::process::Output> {
        let port = common::free_port();
        let w = self.wrapper();
        let mut child = std::process::Command::new(&w[0])
            .args(&w[1..])
            .arg(common::binary())
            .args(["--port", &port.to_string()])
            .arg("--dir")
            .arg(dir)
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return child.wait_with_output().ok();
            }
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                use std::io::{Read, Write};
                let mut buf = [0u8; 16];
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read(&mut buf)
                        .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
                {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// The historic scenario under an operating-system memory limit, not only
/// maxmemory: keel runs in a memory cgroup of 64 MB (made by the test) on a log
/// of flush cycles followed by a live dataset of about 75 MB. The control run
/// without maxmemory shows the limit is real: the kernel kills it while it
/// loads. With maxmemory set, every policy evicts while loading and comes up
/// (never killed), and noeviction refuses to start with its message.
#[test]
fn restart_in_a_memory_cgroup_for_every_policy() {
    let Some(cg) = MemCgroup::new(64 << 20) else {
        eprintln!(
            "\n!!! SKIPPED: cannot make a memory cgroup here (cgroup v1 memory controller not writable); the maxmemory-only tests still run !!!\n"
        );
        return;
    };
    let dir = common::temp_dir("evict-cgroup");
    // No automatic rewrite: the restarts replay the flush cycles every time,
    // instead of only when no rewrite happened to compact them away first (a
    // clean-clone CI run once restarted before one had).
    let mut s = TestServer::start_in(
        &dir,
        &["--appendonly", "yes", "--auto-aof-rewrite-percentage", "0"],
    );
    let mut con = s.conn();
    let base = used(&mut con);
    // Each cycle's keys have no TTL and must fit the limit below (about 9 MB
    // against 12): a volatile policy cannot evict them, and rightly stops the
    // load if they do not fit.
    flush_cycles(&mut con, 3, 8_000);
    // Mostly keys with a TTL, so the volatile policies have enough to evict;
    // the keys without one (about 5 MB) fit maxmemory.
    for c in 0..4 {
        fill(&mut con, &format!("plain{c}"), 1_000, 0);
        fill(&mut con, &format!("ttl{c}"), 15_000, 100_000);
    }
    drop(con);
    s.terminate();
    let max = (base + (12 << 20)).to_string();

    // Control: without maxmemory the kernel kills it for memory.
    let out = cg.run(&dir, &["--appendonly", "yes"]);
    let killed = out.as_ref().is_some_and(|o| {
        use std::os::unix::process::ExitStatusExt;
        o.status.signal() == Some(9)
    });
    assert!(
        killed,
        "the cgroup limit did not bite (the test would prove nothing): {:?}",
        out.map(|o| o.status)
    );

    // noeviction: a clean refusal (exit status 1, a message naming the limit).
    let out = cg
        .run(&dir, &["--appendonly", "yes", "--maxmemory", &max])
        .expect("noeviction should refuse to start");
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("Loading stopped") && log.contains("maxmemory"),
        "{log}"
    );

    let w = cg.wrapper();
    let wrapper: Vec<&str> = w.iter().map(|x| x.as_str()).collect();
    for policy in EVICTING_POLICIES {
        let mut s = restart_evicting(&dir, &wrapper, &max, policy, 64_000, 4_000);
        let _: () = q(&mut s.conn(), "SET after load");
        assert!(s.alive(), "{policy}: the server died");
        s.terminate();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
