//! Durability of keel's append-only file, end to end: the real `keel-server` binary
//! is written to, stopped (SIGTERM, SIGKILL, SHUTDOWN) and restarted on the same
//! directory, and the dataset must come back exactly (DEBUG DIGEST), while the
//! directory stays as small as the live data. Damaged logs (truncated tail,
//! corruption, foreign data files) must never make keel start with less data than
//! it was given unless told to.

mod common;
use common::{free_port, temp_dir, TestServer};
use redis::{Connection, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// helpers

fn conn(s: &TestServer) -> Connection {
    let c = s.conn();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    c.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    c
}

fn info(c: &mut Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(c).expect("INFO")
}

fn field(info: &str, name: &str) -> Option<String> {
    info.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == name).then(|| v.trim().to_string())
    })
}

fn field_u64(info: &str, name: &str) -> u64 {
    field(info, name)
        .unwrap_or_else(|| panic!("INFO has no {name}:\n{info}"))
        .parse()
        .unwrap_or_else(|_| panic!("INFO {name} is not a number:\n{info}"))
}

fn digest(c: &mut Connection) -> String {
    redis::cmd("DEBUG")
        .arg("DIGEST")
        .query(c)
        .expect("DEBUG DIGEST")
}

fn dbsize(c: &mut Connection) -> i64 {
    redis::cmd("DBSIZE").query(c).unwrap()
}

fn select(c: &mut Connection, db: usize) {
    let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
}

fn get(c: &mut Connection, k: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(k).query(c).unwrap()
}

fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

/// Total bytes of the regular files in `dir`.
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn file_sizes(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    Some((
                        e.file_name().to_string_lossy().into_owned(),
                        e.metadata().ok()?.len(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Every file of `dir` with its bytes.
fn snapshot_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    file_names(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

/// (name, type) of every line of the manifest, in order.
fn manifest(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(aof_dir(dir).join("appendonly.aof.manifest"))
        .expect("read the manifest");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            let get = |k: &str| {
                parts
                    .iter()
                    .position(|p| *p == k)
                    .and_then(|i| parts.get(i + 1))
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| panic!("manifest line without {k}: {l}"))
            };
            (get("file"), get("type"))
        })
        .collect()
}

fn last_incr(dir: &Path) -> PathBuf {
    let m = manifest(dir);
    let (name, _) = m
        .iter()
        .rev()
        .find(|(_, t)| t == "i")
        .unwrap_or_else(|| panic!("no incr file in the manifest: {m:?}"));
    aof_dir(dir).join(name)
}

/// Polls `f` every 20 ms until it holds or `secs` pass; panics with `what` then.
fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {secs} s waiting for {what}");
}

/// A connection once the server has finished loading and logs writes
/// (`loading:0` and `aof_enabled:1`). Waiting for `aof_enabled:1` works around the
/// start-up window in which keel accepts writes it does not log (see
/// `writes_right_after_start_are_logged`), so the other tests test what they test.
fn loaded(s: &TestServer) -> Connection {
    let mut c = conn(s);
    wait_for("loading:0 and aof_enabled:1", 60, || {
        let i = info(&mut c, "persistence");
        field(&i, "loading").as_deref() == Some("0")
            && field(&i, "aof_enabled").as_deref() == Some("1")
    });
    c
}

/// SIGTERM, then a new server on the same directory.
fn restart_term(s: &mut TestServer, extra: &[&str]) -> TestServer {
    s.keep_dir();
    let st = s.terminate();
    assert!(
        st.success(),
        "keel exited with {st} on SIGTERM; log:\n{}",
        s.log()
    );
    TestServer::start_in(&s.dir.clone(), extra)
}

/// SIGKILL, then a new server on the same directory.
fn restart_kill(s: &mut TestServer, extra: &[&str]) -> TestServer {
    s.keep_dir();
    s.kill9();
    TestServer::start_in(&s.dir.clone(), extra)
}

/// Runs keel-server on `dir` and expects it to exit by itself within 30 s.
/// Returns the exit status and everything it printed.
fn run_keel_expecting_exit(dir: &Path, extra: &[&str]) -> (ExitStatus, String) {
    let port = free_port().to_string();
    let mut child = Command::new(common::binary())
        .args(["--port", &port, "--dir", &dir.display().to_string()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keel-server");
    let out = Arc::new(Mutex::new(String::new()));
    let mut readers = Vec::new();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let out = out.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut o = out.lock().unwrap();
                o.push_str(&line);
                o.push('\n');
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "keel-server kept running on {} (expected it to refuse to start); output:\n{}",
                dir.display(),
                out.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    for r in readers {
        let _ = r.join();
    }
    let text = out.lock().unwrap().clone();
    (status, text)
}

fn check_aof_tool() -> Option<PathBuf> {
    let p = Path::new(common::binary()).with_file_name("keel-check-aof");
    if p.is_file() {
        Some(p)
    } else {
        eprintln!(
            "\n!!! SKIPPED part of the test: {} does not exist; run `cargo build -p keel-persistence` first !!!\n",
            p.display()
        );
        None
    }
}

fn set_many(c: &mut Connection, prefix: &str, n: usize, value: &[u8]) {
    let mut p = redis::pipe();
    for i in 0..n {
        p.cmd("SET").arg(format!("{prefix}{i}")).arg(value).ignore();
    }
    let _: () = p.query(c).expect("pipelined SETs");
}

// ---------------------------------------------------------------------------
// 1. FLUSHALL must be logged, and it empties the log.

#[test]
fn flushall_is_logged_and_shrinks_the_log() {
    let mut s = TestServer::start_with(&["--appendfsync", "always"]);
    let mut c = loaded(&s);
    let big = vec![b'x'; 100 * 1024];
    set_many(&mut c, "big:", 200, &big);
    assert_eq!(dbsize(&mut c), 200);
    assert!(
        dir_size(&aof_dir(&s.dir)) > 20_000_000,
        "the 20 MB dataset is not in the AOF directory"
    );
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    let small = [("a", "1"), ("b", "two"), ("c", "three 3")];
    for (k, v) in small {
        let _: () = redis::cmd("SET").arg(k).arg(v).query(&mut c).unwrap();
    }
    drop(c);
    let mut s = restart_kill(&mut s, &["--appendfsync", "always"]);
    let mut c = loaded(&s);
    assert_eq!(dbsize(&mut c), 3, "log:\n{}", s.log());
    for (k, v) in small {
        assert_eq!(get(&mut c, k).as_deref(), Some(v.as_bytes()), "key {k}");
    }
    let size = dir_size(&aof_dir(&s.dir));
    assert!(
        size < 64 * 1024,
        "the AOF directory still holds {size} bytes after FLUSHALL: {:?}",
        file_names(&aof_dir(&s.dir))
    );
    let used = field_u64(&info(&mut c, "memory"), "used_memory");
    assert!(
        used < 10_000_000,
        "used_memory is {used} after restart: the flushed 20 MB came back"
    );

    // Churn: fill and flush, again and again; the directory never grows.
    let mid = vec![b'y'; 20 * 1024];
    for round in 0..20 {
        set_many(&mut c, &format!("r{round}:"), 50, &mid);
        let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
        let d = aof_dir(&s.dir);
        let mut size = 0;
        // The reply to FLUSHALL under `always` comes after it is on disk; allow the
        // file swap a bounded moment anyway.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            size = dir_size(&d);
            if size < 64 * 1024 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            size < 64 * 1024,
            "round {round}: the AOF directory holds {size} bytes after FLUSHALL: {:?}",
            file_names(&d)
        );
    }
    let _: () = redis::cmd("SET")
        .arg("after")
        .arg("churn")
        .query(&mut c)
        .unwrap();
    select(&mut c, 2);
    let _: () = redis::cmd("SET")
        .arg("other")
        .arg("db")
        .query(&mut c)
        .unwrap();
    let before = digest(&mut c);
    drop(c);
    let s2 = restart_kill(&mut s, &["--appendfsync", "always"]);
    let mut c = loaded(&s2);
    assert_eq!(dbsize(&mut c), 1);
    assert_eq!(get(&mut c, "after").as_deref(), Some(&b"churn"[..]));
    select(&mut c, 2);
    assert_eq!(get(&mut c, "other").as_deref(), Some(&b"db"[..]));
    assert_eq!(digest(&mut c), before);
}

// ---------------------------------------------------------------------------
// 2. Restart equivalence.

/// A mix of string and key commands across databases; returns nothing, checks a
/// few replies so that a command that silently does nothing is noticed.
fn mixed_workload(c: &mut Connection) {
    fn q(c: &mut Connection, args: &[&str]) -> Value {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(c)
            .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
    }
    q(c, &["SELECT", "0"]);
    q(c, &["SET", "s1", "hello", "EX", "100000"]);
    q(c, &["SET", "n", "10"]);
    q(c, &["INCR", "n"]);
    q(c, &["INCRBY", "n", "5"]);
    q(c, &["DECR", "n"]);
    q(c, &["SET", "f", "1.5"]);
    q(c, &["INCRBYFLOAT", "f", "0.1"]);
    q(c, &["INCRBYFLOAT", "f", "3.0e2"]);
    q(c, &["APPEND", "s1", " world"]);
    q(c, &["APPEND", "fresh", "abc"]);
    q(c, &["SETRANGE", "r", "5", "xyz"]);
    q(c, &["SETRANGE", "s1", "0", "J"]);
    q(c, &["SET", "e1", "v"]);
    q(c, &["EXPIRE", "e1", "50000"]);
    q(c, &["SET", "e2", "v", "PX", "90000000"]);
    q(c, &["PERSIST", "e2"]);
    q(c, &["SET", "ttl-kept", "1", "EX", "7777"]);
    q(c, &["INCR", "ttl-kept"]);
    q(c, &["RENAME", "n", "n2"]);
    q(c, &["COPY", "s1", "s1copy", "DB", "1"]);
    q(c, &["MOVE", "f", "2"]);
    q(c, &["MSET", "m1", "x", "m2", "y", "m3", "z"]);
    q(c, &["DEL", "m2", "nothing-here"]);
    q(c, &["SELECT", "1"]);
    q(c, &["SET", "a", "1"]);
    q(c, &["MSET", "b", "2", "c", "3"]);
    q(c, &["SWAPDB", "1", "3"]);
    q(c, &["SELECT", "4"]);
    q(c, &["SET", "gone", "1"]);
    q(c, &["FLUSHDB"]);
    q(c, &["SELECT", "5"]);
    q(c, &["MSET", "k1", "1", "k2", "2"]);
    q(c, &["DEL", "k1"]);
    q(c, &["SET", "k3", "v", "EX", "1000000"]);
    q(c, &["RENAME", "k3", "k4"]);
    q(c, &["SELECT", "0"]);
    assert_eq!(get(c, "n2").as_deref(), Some(&b"15"[..]));
    assert_eq!(get(c, "s1").as_deref(), Some(&b"Jello world"[..]));
    assert_eq!(get(c, "r").as_deref(), Some(&b"\0\0\0\0\0xyz"[..]));
    let ttl: i64 = redis::cmd("TTL").arg("ttl-kept").query(c).unwrap();
    assert!(ttl > 7000, "INCR dropped the TTL: {ttl}");
    select(c, 3);
    assert_eq!(dbsize(c), 4, "db 3 after SWAPDB");
    select(c, 0);
}

fn restart_equivalence(extra: &[&str], how: &str) {
    let mut s = TestServer::start_with(extra);
    let mut c = loaded(&s);
    mixed_workload(&mut c);
    let before = digest(&mut c);
    assert_ne!(before, "0".repeat(40));
    drop(c);
    let s2 = match how {
        "term" => restart_term(&mut s, extra),
        "kill-after-1.5s" => {
            std::thread::sleep(Duration::from_millis(1500));
            restart_kill(&mut s, extra)
        }
        "kill-now" => restart_kill(&mut s, extra),
        _ => unreachable!(),
    };
    let mut c = loaded(&s2);
    assert_eq!(
        digest(&mut c),
        before,
        "dataset differs after restart ({how}, {extra:?}); log:\n{}",
        s2.log()
    );
    // Spot checks, so a failure says what differs.
    assert_eq!(get(&mut c, "n2").as_deref(), Some(&b"15"[..]));
    select(&mut c, 2);
    assert!(get(&mut c, "f").is_some());
}

#[test]
fn restart_equivalence_sigterm() {
    restart_equivalence(&[], "term");
}

#[test]
fn restart_equivalence_kill9_everysec() {
    restart_equivalence(&[], "kill-after-1.5s");
}

/// A crash of the process (not of the machine) must not lose acknowledged writes
/// under `everysec` either: like Redis, keel hands them to the OS before replying
/// (crates/server/src/conn.rs, `wait_durable`: "under `everysec` and `no` written to
/// the OS").
#[test]
fn everysec_kill9_right_after_the_reply_keeps_the_writes() {
    let mut s = TestServer::start();
    let mut c = loaded(&s);
    for i in 0..20 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    drop(c);
    let s2 = restart_kill(&mut s, &[]);
    let mut c = loaded(&s2);
    let missing: Vec<String> = (0..20)
        .map(|i| format!("k{i}"))
        .filter(|k| get(&mut c, k).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged writes lost by kill -9 under everysec: {missing:?}"
    );
}

#[test]
fn restart_equivalence_kill9_always() {
    restart_equivalence(&["--appendfsync", "always"], "kill-now");
}

// ---------------------------------------------------------------------------
// 3. BGREWRITEAOF.

fn wait_rewrites(c: &mut Connection, n: u64) {
    let mut last = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        last = info(c, "persistence");
        if field(&last, "aof_rewrite_in_progress").as_deref() == Some("0")
            && field_u64(&last, "aof_rewrites") >= n
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the rewrite did not finish (waiting for aof_rewrites >= {n}):\n{last}");
}

#[test]
fn bgrewriteaof_replaces_the_files() {
    let mut s = TestServer::start();
    let mut c = loaded(&s);
    for round in 0..5 {
        set_many(&mut c, "k", 300, format!("value-{round}").as_bytes());
    }
    mixed_workload(&mut c);
    // Everything written (and fsynced) before measuring.
    let r: Vec<i64> = redis::cmd("WAITAOF")
        .arg(1)
        .arg(0)
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, vec![1, 0]);
    let old = manifest(&s.dir);
    let old_size = dir_size(&aof_dir(&s.dir));
    let r: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert!(r.contains("rewriting"), "{r}");
    wait_rewrites(&mut c, 1);
    let info = info(&mut c, "persistence");
    assert_eq!(
        field(&info, "aof_last_bgrewrite_status").as_deref(),
        Some("ok")
    );
    let new = manifest(&s.dir);
    let bases: Vec<_> = new.iter().filter(|(_, t)| t == "b").collect();
    let incrs: Vec<_> = new.iter().filter(|(_, t)| t == "i").collect();
    assert_eq!(bases.len(), 1, "manifest after the rewrite: {new:?}");
    assert_eq!(incrs.len(), 1, "manifest after the rewrite: {new:?}");
    let on_disk = file_names(&aof_dir(&s.dir));
    for (name, _) in &old {
        assert!(
            !new.iter().any(|(n, _)| n == name),
            "{name} is still in the manifest: {new:?}"
        );
        assert!(
            !on_disk.contains(name),
            "old file {name} was not deleted: {on_disk:?}"
        );
    }
    for (name, _) in &new {
        assert!(on_disk.contains(name), "{name} missing: {on_disk:?}");
    }
    let aofs: Vec<_> = on_disk.iter().filter(|n| n.ends_with(".aof")).collect();
    assert_eq!(aofs.len(), 2, "files after the rewrite: {on_disk:?}");
    let new_size = dir_size(&aof_dir(&s.dir));
    assert!(
        new_size < old_size,
        "the rewrite did not compact the log: {old_size} -> {new_size}"
    );
    // More writes after the rewrite, then restart.
    set_many(&mut c, "after:", 50, b"post-rewrite");
    let _: i64 = redis::cmd("INCR").arg("n2").query(&mut c).unwrap();
    let before = digest(&mut c);
    drop(c);
    let s2 = restart_term(&mut s, &[]);
    let mut c = loaded(&s2);
    assert_eq!(digest(&mut c), before, "log:\n{}", s2.log());
}

#[test]
fn bgrewriteaof_while_writing() {
    let mut s = TestServer::start();
    let mut c = loaded(&s);
    // A base large enough for the rewrite to take a moment.
    for db in 0..3 {
        select(&mut c, db);
        for chunk in 0..10 {
            set_many(&mut c, &format!("base{chunk}:"), 3000, b"0123456789abcdef");
        }
    }
    select(&mut c, 0);
    let progress = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let url = s.url();
    let writer = {
        let progress = progress.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut w = redis::Client::open(url).unwrap().get_connection().unwrap();
            w.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            for i in 0..4000usize {
                if stop.load(Ordering::Relaxed) && i > 1500 {
                    break;
                }
                let db = i % 3;
                let mut p = redis::pipe();
                p.cmd("SELECT").arg(db).ignore();
                // Overwrite base keys (serialized on demand), create new ones,
                // count, expire, delete.
                p.cmd("SET")
                    .arg(format!("base{}:{}", i % 10, (i * 7) % 3000))
                    .arg(format!("w{i}"))
                    .ignore();
                p.cmd("INCR").arg("counter").ignore();
                p.cmd("SET")
                    .arg(format!("new:{i}"))
                    .arg(i)
                    .arg("EX")
                    .arg(100000)
                    .ignore();
                if i % 5 == 0 {
                    p.cmd("DEL")
                        .arg(format!("base{}:{}", (i + 3) % 10, i % 3000))
                        .ignore();
                }
                if i % 50 == 0 {
                    p.cmd("APPEND").arg("log").arg(format!("{i},")).ignore();
                }
                let _: () = p.query(&mut w).expect("writer pipeline");
                progress.store(i + 1, Ordering::Relaxed);
            }
        })
    };
    wait_for("the writer to start", 30, || {
        progress.load(Ordering::Relaxed) > 100
    });
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrites(&mut c, 1);
    let mid = progress.load(Ordering::Relaxed);
    // A second rewrite while the writer keeps going.
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrites(&mut c, 2);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer thread");
    eprintln!(
        "writer progress: {mid} pipelines at the end of the first rewrite, {} in all",
        progress.load(Ordering::Relaxed)
    );
    let before = digest(&mut c);
    let _: () = redis::cmd("DEBUG").arg("LOADAOF").query(&mut c).unwrap();
    assert_eq!(
        digest(&mut c),
        before,
        "DEBUG LOADAOF after rewrites during writes changed the dataset"
    );
    drop(c);
    let s2 = restart_term(&mut s, &[]);
    let mut c = loaded(&s2);
    assert_eq!(digest(&mut c), before, "log:\n{}", s2.log());
}

// ---------------------------------------------------------------------------
// 4. Automatic rewrite.

#[test]
fn automatic_rewrite_on_growth() {
    let args = [
        "--auto-aof-rewrite-min-size",
        "64kb",
        "--auto-aof-rewrite-percentage",
        "100",
    ];
    let mut s = TestServer::start_with(&args);
    let mut c = loaded(&s);
    let value = vec![b'v'; 500];
    let mut rewrites = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut rounds = 0;
    while rounds < 20_000 && Instant::now() < deadline {
        let mut p = redis::pipe();
        for k in 0..10 {
            p.cmd("SET").arg(format!("key{k}")).arg(&value).ignore();
            p.cmd("SETRANGE")
                .arg(format!("key{k}"))
                .arg(rounds % 400)
                .arg(rounds.to_string())
                .ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        rounds += 1;
        // Stop writing as soon as a rewrite starts: what is written while it
        // runs lands in the new incremental file, and a fast client could
        // write megabytes in the few milliseconds of its fsyncs.
        let i = info(&mut c, "persistence");
        rewrites = field_u64(&i, "aof_rewrites");
        if rewrites >= 1 || field(&i, "aof_rewrite_in_progress").as_deref() == Some("1") {
            break;
        }
    }
    // Stop writing; the rewrite may be under way.
    if rewrites == 0 {
        wait_rewrites(&mut c, 1);
    }
    wait_for("the rewrite to finish", 60, || {
        field(&info(&mut c, "persistence"), "aof_rewrite_in_progress").as_deref() == Some("0")
    });
    let i = info(&mut c, "persistence");
    assert!(field_u64(&i, "aof_rewrites") >= 1, "{i}");
    let size = dir_size(&aof_dir(&s.dir));
    assert!(
        // The rewrite started above 64 kB (auto-aof-rewrite-min-size); the live
        // data is 10 keys of 500 bytes, and at most a round or two of writes
        // landed in the new incremental file.
        size < 64 * 1024,
        "the log was rewritten but the directory holds {size} bytes: {:?}\n{i}",
        file_sizes(&aof_dir(&s.dir))
    );
    let before = digest(&mut c);
    drop(c);
    let s2 = restart_term(&mut s, &args);
    let mut c = loaded(&s2);
    assert_eq!(digest(&mut c), before, "log:\n{}", s2.log());
}

// ---------------------------------------------------------------------------
// 5. Truncated tail.

const HALF_SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nz";

#[test]
fn truncated_tail_is_recovered_or_refused() {
    let mut s = TestServer::start();
    let mut c = loaded(&s);
    for i in 0..50 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(format!("v{i}"))
            .query(&mut c)
            .unwrap();
    }
    let before = digest(&mut c);
    drop(c);
    s.keep_dir();
    assert!(s.terminate().success(), "log:\n{}", s.log());
    let dir = s.dir.clone();
    let incr = last_incr(&dir);
    let clean_len = std::fs::metadata(&incr).unwrap().len();
    assert!(clean_len > 0, "the incr file is empty");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap()
        .write_all(HALF_SET)
        .unwrap();
    let files_before = snapshot_files(&aof_dir(&dir));

    // aof-load-truncated no: refuse, change nothing.
    let (st, out) = run_keel_expecting_exit(&dir, &["--aof-load-truncated", "no"]);
    assert!(!st.success(), "keel started on a truncated AOF: {out}");
    let fname = incr.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        out.contains(&fname),
        "the message does not name {fname}:\n{out}"
    );
    assert_eq!(
        snapshot_files(&aof_dir(&dir)),
        files_before,
        "keel changed the files although it refused to start"
    );

    // Default (yes): load every complete command, keep the dropped bytes aside.
    let s2 = TestServer::start_in(&dir, &[]);
    let mut c = loaded(&s2);
    assert_eq!(digest(&mut c), before, "log:\n{}", s2.log());
    assert_eq!(get(&mut c, "z"), None);
    let log = s2.log();
    assert!(
        log.contains(&fname),
        "the log does not name {fname}:\n{log}"
    );
    // One warning names the file, the offset and the number of bytes dropped.
    let is_num = |w: &str, n: usize| {
        w.split(|ch: char| !ch.is_ascii_digit())
            .any(|t| t == n.to_string())
    };
    assert!(
        log.lines().any(|l| l.contains(&fname)
            && is_num(l, clean_len as usize)
            && is_num(l, HALF_SET.len())),
        "no log line names {fname}, offset {clean_len} and {} dropped bytes:\n{log}",
        HALF_SET.len()
    );
    let names = file_names(&aof_dir(&dir));
    let side: Vec<_> = names
        .iter()
        .filter(|n| n.starts_with(&format!("{fname}.truncated-")))
        .collect();
    assert_eq!(
        side.len(),
        1,
        "no .truncated- file beside {fname}: {names:?}"
    );
    assert_eq!(
        std::fs::read(aof_dir(&dir).join(side[0])).unwrap(),
        HALF_SET
    );
    assert_eq!(
        std::fs::metadata(&incr).unwrap().len(),
        clean_len,
        "{fname} was not cut back to its last complete command"
    );
    let note = field(&info(&mut c, "persistence"), "aof_recovery_note").unwrap_or_default();
    assert!(!note.is_empty(), "INFO persistence reports no recovery");
}

// ---------------------------------------------------------------------------
// 6. Corruption before the tail.

/// Writes 20 keys (one batch each under `always`), stops keel, and changes one
/// letter of k10's value inside the incr file. Returns (dir, incr path, offset).
fn corrupted_dir() -> (PathBuf, PathBuf, usize) {
    let mut s = TestServer::start_with(&["--appendfsync", "always"]);
    let mut c = loaded(&s);
    for i in 0..20 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(format!("value-{i}-aaaaaaaaaaaaaaaa"))
            .query(&mut c)
            .unwrap();
    }
    drop(c);
    s.keep_dir();
    assert!(s.terminate().success());
    let dir = s.dir.clone();
    let incr = last_incr(&dir);
    let mut bytes = std::fs::read(&incr).unwrap();
    let needle = b"value-10-aaaa";
    let pos = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("k10's value in the incr file")
        + 11;
    assert_eq!(bytes[pos], b'a');
    bytes[pos] = b'b';
    std::fs::write(&incr, &bytes).unwrap();
    (dir, incr, pos)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn corruption_refuses_then_check_fix_or_salvage() {
    let (dir, incr, pos) = corrupted_dir();
    let salvage_dir = temp_dir("salvage");
    copy_dir(&dir, &salvage_dir);
    let files_before = snapshot_files(&aof_dir(&dir));
    let fname = incr.file_name().unwrap().to_string_lossy().into_owned();

    let (st, out) = run_keel_expecting_exit(&dir, &[]);
    assert!(!st.success(), "keel started on a corrupted AOF:\n{out}");
    assert!(
        out.contains(&fname),
        "the message does not name {fname}:\n{out}"
    );
    assert!(out.contains("keel-check-aof"), "no repair hint:\n{out}");
    let offset: u64 = out
        .split("byte offset ")
        .nth(1)
        .and_then(|r| r.split(|ch: char| !ch.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the message gives no byte offset:\n{out}"));
    assert!(
        offset <= pos as u64 && offset + 200 > pos as u64,
        "reported offset {offset}, the damaged byte is at {pos}:\n{out}"
    );
    assert_eq!(
        snapshot_files(&aof_dir(&dir)),
        files_before,
        "keel changed files although it refused to start"
    );

    if let Some(check) = check_aof_tool() {
        let mpath = aof_dir(&dir).join("appendonly.aof.manifest");
        let o = Command::new(&check)
            .arg(&mpath)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success(),
            "keel-check-aof calls it valid:\n{text}"
        );
        assert!(text.contains(&fname), "keel-check-aof output:\n{text}");
        assert_eq!(snapshot_files(&aof_dir(&dir)), files_before);
        let o = Command::new(&check)
            .arg("--fix")
            .arg(&mpath)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "keel-check-aof --fix failed:\n{text}");
        let names = file_names(&aof_dir(&dir));
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(&format!("{fname}.bak-"))),
            "no backup of the original: {names:?}"
        );
        let o = Command::new(&check).arg(&mpath).output().unwrap();
        assert!(
            o.status.success(),
            "still invalid after --fix:\n{}",
            String::from_utf8_lossy(&o.stdout)
        );
        let s = TestServer::start_in(&dir, &[]);
        let mut c = loaded(&s);
        for i in 0..10 {
            assert!(
                get(&mut c, &format!("k{i}")).is_some(),
                "k{i} lost by --fix"
            );
        }
        assert_eq!(get(&mut c, "k10"), None, "the damaged value was loaded");
        drop(s);
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }

    // Salvage: load around the damage.
    let s = TestServer::start_in(&salvage_dir, &["--aof-load-corrupt", "salvage"]);
    let mut c = loaded(&s);
    assert_eq!(get(&mut c, "k10"), None, "the damaged batch was loaded");
    for i in (0..20).filter(|&i| i != 10) {
        assert_eq!(
            get(&mut c, &format!("k{i}")),
            Some(format!("value-{i}-aaaaaaaaaaaaaaaa").into_bytes()),
            "k{i} after salvage; log:\n{}",
            s.log()
        );
    }
    let i = info(&mut c, "persistence");
    assert!(field_u64(&i, "aof_quarantined_bytes") > 0, "{i}");
    let names = file_names(&aof_dir(&salvage_dir));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(&format!("{fname}.quarantine-"))),
        "no quarantine file: {names:?}"
    );
}

// ---------------------------------------------------------------------------
// 7. Never start empty by surprise.

#[test]
fn foreign_data_files_refuse_start() {
    for name in ["dump.rdb", "appendonly.aof"] {
        let dir = temp_dir("foreign");
        std::fs::write(dir.join(name), b"REDIS0011 whatever bytes").unwrap();
        let (st, out) = run_keel_expecting_exit(&dir, &[]);
        assert!(!st.success(), "keel started next to {name}:\n{out}");
        assert!(
            out.contains(name),
            "the message does not name {name}:\n{out}"
        );
        assert!(
            !aof_dir(&dir).join("appendonly.aof.manifest").exists(),
            "keel created an empty AOF next to {name}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// ---------------------------------------------------------------------------
// 8. Loading state.

#[test]
fn loading_state_is_reported() {
    let mut s = TestServer::start();
    let mut c = loaded(&s);
    assert_eq!(
        field(&info(&mut c, "persistence"), "loading").as_deref(),
        Some("0")
    );
    // ~50 MB through a raw pipelined connection.
    let n_keys = 50_000usize;
    let value = vec![b'L'; 1000];
    let mut raw = s.raw();
    let chunk = 1000;
    for start in (0..n_keys).step_by(chunk) {
        let mut payload = Vec::with_capacity(chunk * 1100);
        for i in start..(start + chunk).min(n_keys) {
            let k = format!("bulk:{i}");
            payload.extend_from_slice(
                format!(
                    "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n",
                    k.len(),
                    value.len()
                )
                .as_bytes(),
            );
            payload.extend_from_slice(&value);
            payload.extend_from_slice(b"\r\n");
        }
        raw.send(&payload);
        let n = (start + chunk).min(n_keys) - start;
        let replies = raw.read_n(n * 5);
        assert_eq!(replies.len(), n * 5);
        assert!(replies.chunks(5).all(|r| r == b"+OK\r\n"));
    }
    // WAITAOF waits for the writes of its own connection: ask on the raw one.
    raw.send(b"WAITAOF 1 0 0\r\n");
    assert_eq!(raw.read_until(b":0\r\n"), b"*2\r\n:1\r\n:0\r\n");
    drop(raw);
    assert_eq!(dbsize(&mut c), n_keys as i64);
    drop(c);
    let size = dir_size(&aof_dir(&s.dir));
    assert!(size > 50_000_000, "the AOF holds only {size} bytes");
    s.keep_dir();
    assert!(s.terminate().success());
    let dir = s.dir.clone();
    drop(s);
    // TestServer waits for PING, which is refused while loading: spawn keel
    // directly and probe as soon as the port accepts.
    let (port, mut child, mut stream) = spawn_and_connect(&dir);
    let mut saw_loading = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 256];
    loop {
        assert!(Instant::now() < deadline, "loading never finished");
        stream.write_all(b"SET probe x\r\n").unwrap();
        let n = stream.read(&mut buf).unwrap_or(0);
        let r = &buf[..n];
        if r.starts_with(b"-LOADING") {
            saw_loading = true;
        } else {
            assert_eq!(r, b"+OK\r\n", "{}", String::from_utf8_lossy(r));
            break;
        }
    }
    eprintln!("saw -LOADING while the 50 MB AOF loaded: {saw_loading}");
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    wait_for("loading:0", 60, || {
        field(&info(&mut c, "persistence"), "loading").as_deref() == Some("0")
    });
    assert_eq!(dbsize(&mut c), n_keys as i64 + 1);
    assert_eq!(get(&mut c, "bulk:49999"), Some(value));
    assert_eq!(get(&mut c, "probe").as_deref(), Some(&b"x"[..]));
    drop(c);
    drop(stream);
    term_and_wait(child.take().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------
// 9. SHUTDOWN writes everything.

#[test]
fn shutdown_flushes_with_appendfsync_no() {
    let mut s = TestServer::start_with(&["--appendfsync", "no"]);
    let mut c = loaded(&s);
    set_many(&mut c, "sd:", 500, b"must survive");
    let _: () = redis::cmd("MSET")
        .arg("x")
        .arg("1")
        .arg("y")
        .arg("2")
        .query(&mut c)
        .unwrap();
    let before = digest(&mut c);
    drop(c);
    let mut raw = s.raw();
    raw.send(b"SHUTDOWN\r\n");
    let _ = raw.read_n(1);
    let mut exited = false;
    for _ in 0..500 {
        if !s.alive() {
            exited = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(exited, "keel did not exit after SHUTDOWN");
    s.keep_dir();
    let s2 = TestServer::start_in(&s.dir.clone(), &["--appendfsync", "no"]);
    let mut c = loaded(&s2);
    assert_eq!(dbsize(&mut c), 502);
    assert_eq!(digest(&mut c), before);
}

// ---------------------------------------------------------------------------
// 10. WAITAOF.

#[test]
fn waitaof_local() {
    let s = TestServer::start();
    let mut c = loaded(&s);
    let _: () = redis::cmd("SET").arg("w").arg("1").query(&mut c).unwrap();
    let r: Vec<i64> = redis::cmd("WAITAOF")
        .arg(1)
        .arg(0)
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, vec![1, 0]);
    drop(c);
    drop(s);

    let s = TestServer::start_with(&["--appendonly", "no"]);
    let mut c = conn(&s);
    let _: () = redis::cmd("SET").arg("w").arg("1").query(&mut c).unwrap();
    let e = redis::cmd("WAITAOF")
        .arg(1)
        .arg(0)
        .arg(0)
        .query::<Value>(&mut c)
        .unwrap_err();
    let text = format!("{e}");
    assert!(
        text.contains("WAITAOF cannot be used when numlocal is set but appendonly is disabled."),
        "{text}"
    );
    let r: Vec<i64> = redis::cmd("WAITAOF")
        .arg(0)
        .arg(0)
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, vec![0, 0]);
}

// ---------------------------------------------------------------------------
// 11. appendfsync always with concurrent writers: every acknowledged write is on disk.

#[test]
fn always_keeps_every_acknowledged_write() {
    let mut s = TestServer::start_with(&["--appendfsync", "always"]);
    let url = s.url();
    let acked: Vec<Arc<AtomicUsize>> = (0..8).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let url = url.clone();
            let acked = acked[t].clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                for _ in 0..300 {
                    let v: usize = redis::cmd("INCR")
                        .arg(format!("ctr{t}"))
                        .query(&mut c)
                        .unwrap();
                    acked.store(v, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s2 = restart_kill(&mut s, &["--appendfsync", "always"]);
    let mut c = loaded(&s2);
    for (t, a) in acked.iter().enumerate() {
        let a = a.load(Ordering::SeqCst);
        let v: usize = redis::cmd("GET")
            .arg(format!("ctr{t}"))
            .query::<Option<usize>>(&mut c)
            .unwrap()
            .unwrap_or(0);
        assert!(v >= a, "ctr{t}: {v} on disk, {a} acknowledged");
        assert!(v <= 300, "ctr{t}: {v}");
    }
}

// ---------------------------------------------------------------------------
// Writes accepted right after start must be logged.

/// Spawns keel-server on `dir` and connects as soon as the port accepts.
fn spawn_and_connect(dir: &Path) -> (u16, Option<std::process::Child>, std::net::TcpStream) {
    let port = free_port();
    let child = Command::new(common::binary())
        .args([
            "--port",
            &port.to_string(),
            "--dir",
            &dir.display().to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn keel-server");
    let deadline = Instant::now() + Duration::from_secs(20);
    let stream = loop {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            break s;
        }
        assert!(Instant::now() < deadline, "keel-server never listened");
        std::thread::sleep(Duration::from_millis(1));
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (port, Some(child), stream)
}

/// Spawns keel-server on `dir`, connects as soon as the port accepts, sends one
/// SET and returns its reply and the process.
fn early_set(dir: &Path, key: &str) -> (String, std::process::Child) {
    let (_, child, mut stream) = spawn_and_connect(dir);
    stream
        .write_all(format!("SET {key} 1\r\n").as_bytes())
        .unwrap();
    let mut buf = [0u8; 256];
    let n = stream.read(&mut buf).unwrap_or(0);
    (
        String::from_utf8_lossy(&buf[..n]).into_owned(),
        child.unwrap(),
    )
}

fn term_and_wait(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("keel-server did not exit on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn writes_right_after_start_are_logged() {
    let mut lost = Vec::new();
    // Fresh directories, then one directory that already holds an AOF.
    let with_data = temp_dir("early");
    {
        let mut s = TestServer::start_in(&with_data, &[]);
        let mut c = loaded(&s);
        let _: () = redis::cmd("SET")
            .arg("base")
            .arg("1")
            .query(&mut c)
            .unwrap();
        s.keep_dir();
        assert!(s.terminate().success());
    }
    let mut acked = Vec::new();
    for i in 0..8 {
        let (dir, fresh) = if i < 4 {
            (temp_dir("early-fresh"), true)
        } else {
            (with_data.clone(), false)
        };
        let key = format!("early{i}");
        let (reply, child) = early_set(&dir, &key);
        term_and_wait(child);
        if reply.starts_with("+OK") {
            acked.push(key.clone());
            let mut s = TestServer::start_in(&dir, &[]);
            let mut c = loaded(&s);
            if get(&mut c, &key).is_none() {
                lost.push(format!(
                    "{key} ({} directory)",
                    if fresh { "fresh" } else { "existing" }
                ));
            }
            if !fresh {
                assert!(get(&mut c, "base").is_some(), "the old data is gone");
            }
            drop(c);
            s.keep_dir();
            assert!(s.terminate().success());
        } else {
            assert!(reply.starts_with("-LOADING"), "unexpected reply {reply:?}");
        }
        if fresh {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    let _ = std::fs::remove_dir_all(&with_data);
    assert!(
        lost.is_empty(),
        "acknowledged writes sent right after start were lost on restart: {lost:?} (acknowledged: {acked:?})"
    );
}
