//! Failure injection: a full disk, and crashes in the middle of AOF rewrites.

mod common;
use common::TestServer;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> String {
    let info: String = redis::cmd("INFO").arg(section).query(c).unwrap();
    info.lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{field}:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Unmounts on drop.
struct Mount(std::path::PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A 4 MiB tmpfs in a fresh directory, holding a 1 MiB `filler` file whose
/// removal later "fixes" the full disk; None (said loudly) where mounting
/// is not permitted.
fn small_disk(tag: &str) -> Option<(std::path::PathBuf, Mount)> {
    if !is_root() {
        eprintln!("\n!!! SKIPPED: mounting a small tmpfs needs root !!!\n");
        return None;
    }
    let dir = common::temp_dir(tag);
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("\n!!! SKIPPED: could not mount a tmpfs (not permitted in this sandbox) !!!\n");
        return None;
    }
    let m = Mount(dir.clone());
    std::fs::write(dir.join("filler"), vec![0u8; 1024 * 1024]).unwrap();
    Some((dir, m))
}

/// Every key in `acked` is in the dataset of a server restarted on `dir`.
fn assert_acked_survive(dir: &std::path::Path, acked: &[usize], len: usize) {
    let mut s2 = TestServer::start_in(dir, &[]);
    s2.keep_dir();
    let mut c2 = s2.conn();
    for i in acked {
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query(&mut c2)
            .unwrap();
        assert_eq!(v.map(|v| v.len()), Some(len), "acknowledged key k{i} lost");
    }
    let v: Option<String> = redis::cmd("GET").arg("after").query(&mut c2).unwrap();
    assert_eq!(v.as_deref(), Some("1"));
    drop(c2);
    s2.kill9();
}

/// Waits (up to 15 s) until `SET after 1` is accepted again.
fn writes_resume(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r: redis::RedisResult<()> = redis::cmd("SET").arg("after").arg("1").query(c);
        if r.is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "writes did not resume: {r:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn full_disk_refuses_writes_then_recovers_without_losing_acknowledged_writes() {
    let Some((dir, _m)) = small_disk("fulldisk") else {
        return;
    };
    let mut s = TestServer::start_in(&dir, &["--appendfsync", "everysec"]);
    s.keep_dir();
    let mut c = s.conn();
    let value = "x".repeat(20_000);
    let mut acked = Vec::new();
    let mut refused = None;
    for i in 0..1000 {
        let r: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(&value)
            .query(&mut c);
        match r {
            Ok(()) => acked.push(i),
            Err(e) => {
                refused = Some(e.to_string());
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let refused = refused.expect("writes should be refused once the disk is full");
    assert!(refused.contains("MISCONF"), "{refused}");
    assert_eq!(
        info_field(&mut c, "persistence", "aof_last_write_status"),
        "err"
    );
    // Reads keep working; the server did not exit.
    let v: String = redis::cmd("GET").arg("k0").query(&mut c).unwrap();
    assert_eq!(v.len(), value.len());
    // Give the disk space back: writes resume within a few seconds.
    std::fs::remove_file(dir.join("filler")).unwrap();
    writes_resume(&mut c);
    assert_eq!(
        info_field(&mut c, "persistence", "aof_last_write_status"),
        "ok"
    );
    // Every acknowledged write survives a restart.
    s.terminate();
    assert_acked_survive(&dir, &acked, value.len());
}

/// Under `always` a write whose record cannot reach the disk gets no reply
/// until it does, while every other client is served; then the reply comes
/// and every acknowledged write survives. With one worker the replies wait
/// for their records in the worker's burst (`keel_server::output`), which
/// hands them back to their connection when the write fails; with two the
/// connection waits itself.
#[test]
fn full_disk_under_always_holds_the_reply_until_the_record_is_on_disk() {
    for threads in ["1", "2"] {
        let Some((dir, _m)) = small_disk(&format!("fulldisk-always-{threads}")) else {
            return;
        };
        let mut s = TestServer::start_in(
            &dir,
            &["--appendfsync", "always", "--server-threads", threads],
        );
        s.keep_dir();
        let value = "x".repeat(20_000);
        let acked = Arc::new(Mutex::new(Vec::new()));
        // Set once the disk is full: the writer stops after its held SET,
        // so that it does not fill the disk again.
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (url, acked, value, stop) = (s.url(), acked.clone(), value.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for i in 0..400 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let r: redis::RedisResult<()> = redis::cmd("SET")
                        .arg(format!("k{i}"))
                        .arg(&value)
                        .query(&mut c);
                    match r {
                        Ok(()) => acked.lock().unwrap().push(i),
                        Err(e) => return Some(e.to_string()),
                    }
                }
                None
            })
        };
        let mut c = s.conn();
        let deadline = Instant::now() + Duration::from_secs(30);
        while info_field(&mut c, "persistence", "aof_last_write_status") != "err" {
            assert!(Instant::now() < deadline, "the disk never filled");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The writer is held: its last SET ran but its record is not on disk.
        let held = acked.lock().unwrap().len();
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            acked.lock().unwrap().len(),
            held,
            "a reply went out before its record"
        );
        assert!(!writer.is_finished());
        // Everyone else is served: reads answer, writes get MISCONF.
        let v: String = redis::cmd("GET").arg("k0").query(&mut c).unwrap();
        assert_eq!(v.len(), value.len());
        let e = redis::cmd("SET")
            .arg("other")
            .arg("1")
            .query::<()>(&mut c)
            .unwrap_err();
        assert!(e.to_string().contains("MISCONF"), "{e}");
        // Space comes back: the held reply arrives, and writes go on.
        stop.store(true, Ordering::SeqCst);
        std::fs::remove_file(dir.join("filler")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while acked.lock().unwrap().len() == held {
            assert!(Instant::now() < deadline, "the held reply never came");
            std::thread::sleep(Duration::from_millis(50));
        }
        writes_resume(&mut c);
        drop(c);
        s.kill9();
        let _ = writer.join();
        let acked = acked.lock().unwrap().clone();
        assert!(acked.len() > held, "{threads} threads");
        assert_acked_survive(&dir, &acked, value.len());
    }
}

#[test]
fn crash_at_any_point_of_a_rewrite_loads_the_right_dataset() {
    let dir = common::temp_dir("rewritecrash");
    let mut s = TestServer::start_in(&dir, &["--appendfsync", "always"]);
    s.keep_dir();
    {
        let mut c = s.conn();
        let mut p = redis::pipe();
        for i in 0..30_000 {
            p.cmd("SET")
                .arg(format!("key:{i}"))
                .arg(format!("value:{i}"))
                .ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        let _: () = redis::cmd("EXPIRE")
            .arg("key:7")
            .arg(100_000)
            .query(&mut c)
            .unwrap();
    }
    let digest: String = redis::cmd("DEBUG")
        .arg("DIGEST")
        .query(&mut s.conn())
        .unwrap();
    // Crash at varied points of a rewrite: right after it starts, in the middle,
    // around the manifest swap. Each restart must load the same dataset.
    for round in 0..8u64 {
        let mut c = s.conn();
        let _: redis::RedisResult<String> = redis::cmd("BGREWRITEAOF").query(&mut c);
        std::thread::sleep(Duration::from_millis(round * 7));
        s.kill9();
        s = TestServer::start_in(&dir, &["--appendfsync", "always"]);
        s.keep_dir();
        let mut c = s.conn();
        let d: String = redis::cmd("DEBUG").arg("DIGEST").query(&mut c).unwrap();
        assert_eq!(
            d,
            digest,
            "round {round}: dataset differs after a crash during a rewrite\n{}",
            s.log()
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.join("appendonlydir"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("temp-"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "temporary files left after start-up: {leftovers:?}"
        );
    }
    s.kill9();
    let _ = std::fs::remove_dir_all(&dir);
}
