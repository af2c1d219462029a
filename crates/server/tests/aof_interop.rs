//! keel's append-only files and Redis 7's are the same format: Debian's
//! `redis-check-aof` accepts keel's directory, `redis-server` loads what keel wrote
//! and keel loads what Redis wrote, with equal DEBUG DIGESTs (keel computes the
//! digest with Redis's algorithm). Skipped loudly without the Debian tools unless
//! KEEL_REQUIRE_INTEROP=1.

mod common;
use common::{free_port, temp_dir, tool, TestServer};
use redis::{Connection, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn info(c: &mut Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(c).expect("INFO")
}

fn field(info: &str, name: &str) -> Option<String> {
    info.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == name).then(|| v.trim().to_string())
    })
}

fn digest(c: &mut Connection) -> String {
    redis::cmd("DEBUG")
        .arg("DIGEST")
        .query(c)
        .expect("DEBUG DIGEST")
}

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

fn connect(port: u16) -> Connection {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    c
}

/// A connection once the server (keel or Redis) has finished loading.
fn loaded(port: u16) -> Connection {
    let mut c = connect(port);
    // aof_enabled:1: keel accepts writes before its AOF writer is installed.
    wait_for("loading:0 and aof_enabled:1", 60, || {
        let i = info(&mut c, "persistence");
        field(&i, "loading").as_deref() == Some("0")
            && field(&i, "aof_enabled").as_deref() == Some("1")
    });
    c
}

fn wait_rewrite_done(c: &mut Connection) {
    wait_for("aof_rewrite_in_progress:0", 60, || {
        let i = info(c, "persistence");
        field(&i, "aof_rewrite_in_progress").as_deref() == Some("0")
            && field(&i, "aof_rewrite_scheduled").as_deref() == Some("0")
    });
}

fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("appendonlydir").join("appendonly.aof.manifest")
}

/// A redis-server child process, killed on drop.
struct Redis {
    child: Option<Child>,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Redis {
    fn start(bin: &Path, dir: &Path, extra: &[&str]) -> Redis {
        let port = free_port();
        let mut child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", &dir.display().to_string()])
            .args(["--daemonize", "no", "--logfile", ""])
            .args(["--enable-debug-command", "yes"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn redis-server");
        let log = Arc::new(Mutex::new(String::new()));
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
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let mut r = Redis {
            child: Some(child),
            port,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(Ok(Some(st))) = r.child.as_mut().map(|c| c.try_wait()) {
                panic!("redis-server exited ({st}); log:\n{}", r.log());
            }
            if let Ok(c) = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .unwrap()
                .get_connection_with_timeout(Duration::from_secs(2))
            {
                drop(c);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start; log:\n{}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SHUTDOWN and wait for the process to exit.
    fn shutdown(&mut self) {
        let mut c = connect(self.port);
        let _ = redis::cmd("SHUTDOWN").query::<Value>(&mut c);
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                assert!(st.success(), "redis-server exited with {st}");
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("redis-server did not exit after SHUTDOWN");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn q(c: &mut Connection, args: &[&str]) {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query::<Value>(c)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"));
}

/// Strings, far-future TTLs, several databases, and the key commands whose
/// effects differ from the command (INCR, INCRBYFLOAT, EXPIRE, RENAME, MOVE, COPY,
/// SWAPDB, FLUSHDB).
fn dataset(c: &mut Connection, tag: &str) {
    q(c, &["SELECT", "0"]);
    for i in 0..100 {
        let k = format!("{tag}:s{i}");
        q(c, &["SET", &k, &format!("value {i} of {tag}")]);
    }
    q(c, &["SET", &format!("{tag}:ttl"), "x", "EX", "1000000"]);
    q(
        c,
        &["SET", &format!("{tag}:pttl"), "y", "PXAT", "4102444800000"],
    );
    q(c, &["SET", &format!("{tag}:n"), "41"]);
    q(c, &["INCR", &format!("{tag}:n")]);
    q(c, &["INCRBY", &format!("{tag}:n"), "-7"]);
    q(c, &["SET", &format!("{tag}:f"), "10.5"]);
    q(c, &["INCRBYFLOAT", &format!("{tag}:f"), "0.1"]);
    q(c, &["APPEND", &format!("{tag}:s1"), " appended"]);
    q(c, &["SETRANGE", &format!("{tag}:r"), "3", "abc"]);
    q(c, &["SET", &format!("{tag}:e"), "1"]);
    q(c, &["EXPIRE", &format!("{tag}:e"), "900000"]);
    q(c, &["SET", &format!("{tag}:p"), "1", "EX", "900000"]);
    q(c, &["PERSIST", &format!("{tag}:p")]);
    q(
        c,
        &["RENAME", &format!("{tag}:s2"), &format!("{tag}:renamed")],
    );
    q(c, &["MOVE", &format!("{tag}:s3"), "1"]);
    q(
        c,
        &[
            "COPY",
            &format!("{tag}:ttl"),
            &format!("{tag}:ttlcopy"),
            "DB",
            "2",
        ],
    );
    q(c, &["DEL", &format!("{tag}:s4"), &format!("{tag}:s5")]);
    q(
        c,
        &["MSET", &format!("{tag}:m1"), "a", &format!("{tag}:m2"), "b"],
    );
    q(c, &["SELECT", "3"]);
    q(c, &["SET", &format!("{tag}:in3"), "three", "EX", "500000"]);
    q(c, &["SWAPDB", "3", "4"]);
    q(c, &["SELECT", "5"]);
    q(c, &["SET", &format!("{tag}:flushed"), "gone"]);
    q(c, &["FLUSHDB"]);
    q(c, &["SET", &format!("{tag}:after-flushdb"), "kept"]);
    q(c, &["SELECT", "0"]);
}

fn check_aof(check: &Path, dir: &Path, when: &str) {
    let o = Command::new(check)
        .arg(manifest_path(dir))
        .stdin(Stdio::null())
        .output()
        .expect("run redis-check-aof");
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && text.contains("valid") && !text.contains("not valid"),
        "redis-check-aof rejects keel's AOF {when} ({}):\n{text}\nfiles: {:?}",
        o.status,
        std::fs::read_dir(dir.join("appendonlydir"))
            .map(|rd| rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect::<Vec<_>>())
            .unwrap_or_default()
    );
}

fn waitaof(c: &mut Connection) {
    let r: Vec<i64> = redis::cmd("WAITAOF").arg(1).arg(0).arg(0).query(c).unwrap();
    assert_eq!(r, vec![1, 0]);
}

// 12.
#[test]
fn redis_check_aof_accepts_keels_directory() {
    let Some(check) = tool("redis-check-aof") else {
        return;
    };
    let s = TestServer::start();
    let mut c = loaded(s.port);
    dataset(&mut c, "plain");
    waitaof(&mut c);
    check_aof(&check, &s.dir, "after plain writes");

    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrite_done(&mut c);
    dataset(&mut c, "post-rewrite");
    waitaof(&mut c);
    check_aof(&check, &s.dir, "after BGREWRITEAOF");

    q(&mut c, &["FLUSHALL"]);
    // The FLUSHALL reset swaps the files in the background: wait for it.
    wait_for("aof_flushall_resets >= 1", 20, || {
        field(&info(&mut c, "persistence"), "aof_flushall_resets")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n >= 1)
    });
    check_aof(&check, &s.dir, "right after a FLUSHALL reset");
    dataset(&mut c, "post-flushall");
    waitaof(&mut c);
    check_aof(&check, &s.dir, "after a FLUSHALL reset and more writes");
}

// 13.
#[test]
fn redis_loads_what_keel_wrote() {
    let Some(redis_bin) = tool("redis-server") else {
        return;
    };
    let mut s = TestServer::start();
    let mut c = loaded(s.port);
    dataset(&mut c, "k1");
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrite_done(&mut c);
    dataset(&mut c, "k2");
    let keel_digest = digest(&mut c);
    drop(c);
    s.keep_dir();
    assert!(s.terminate().success(), "log:\n{}", s.log());
    let dir = s.dir.clone();
    let r = Redis::start(
        &redis_bin,
        &dir,
        &[
            "--appendonly",
            "yes",
            "--appenddirname",
            "appendonlydir",
            "--save",
            "",
        ],
    );
    let mut rc = loaded(r.port);
    let redis_digest = digest(&mut rc);
    let n: i64 = redis::cmd("DBSIZE").query(&mut rc).unwrap();
    assert_eq!(
        redis_digest,
        keel_digest,
        "Redis loaded keel's AOF into a different dataset (db0 has {n} keys); redis log:\n{}",
        r.log()
    );
    drop(rc);
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
}

// 14.
#[test]
fn keel_loads_what_redis_wrote() {
    let Some(redis_bin) = tool("redis-server") else {
        return;
    };
    let dir = temp_dir("from-redis");
    let mut r = Redis::start(
        &redis_bin,
        &dir,
        &[
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
            "--save",
            "",
        ],
    );
    let mut rc = loaded(r.port);
    dataset(&mut rc, "r1");
    let _: Value = redis::cmd("BGREWRITEAOF").query(&mut rc).unwrap();
    wait_rewrite_done(&mut rc);
    dataset(&mut rc, "r2");
    // Commands Redis logs as they were sent.
    q(&mut rc, &["SELECT", "6"]);
    q(&mut rc, &["SETEX", "sx", "100000", "v"]);
    q(&mut rc, &["SETNX", "nx", "v"]);
    q(&mut rc, &["GETSET", "nx", "w"]);
    q(&mut rc, &["GETEX", "nx", "EX", "200000"]);
    q(&mut rc, &["DECRBY", "ctr", "5"]);
    q(&mut rc, &["MSETNX", "a1", "1", "a2", "2"]);
    q(&mut rc, &["GETDEL", "a1"]);
    q(&mut rc, &["RENAMENX", "a2", "a3"]);
    q(&mut rc, &["PEXPIRE", "a3", "300000000"]);
    q(&mut rc, &["EXPIRE", "a3", "400000", "GT"]);
    q(&mut rc, &["UNLINK", "sx"]);
    let redis_digest = digest(&mut rc);
    drop(rc);
    r.shutdown();
    let redis_log = r.log();
    drop(r);
    let s = TestServer::start_in(&dir, &[]);
    let mut c = loaded(s.port);
    assert_eq!(
        digest(&mut c),
        redis_digest,
        "keel loaded Redis's AOF into a different dataset; keel log:\n{}\nredis log:\n{redis_log}",
        s.log()
    );
}
