//! With the AOF off and no other reader of effects, a command only counts its
//! effects instead of building them (`EffectSink::wants_effects`,
//! `Ctx::emit_with`). These tests run the readers that must still see every
//! change with `--appendonly no`: WATCH, clients blocked on keys, the effects
//! feed, turning the AOF on at run time, and the dirty count (INFO's
//! `rdb_changes_since_last_save`, which must equal the AOF-on server's).

mod common;
use common::cmd::*;
use common::TestServer;
use redis::{Connection, Value};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

fn aof_off() -> TestServer {
    TestServer::start_with(&["--appendonly", "no"])
}

/// (key, setup, change): each change is a write of one of the commands whose
/// effect is built lazily.
const CHANGES: &[(&str, &str, &str)] = &[
    ("s", "SET s 1", "SET s 2"),
    ("s", "SET s 1", "SET s 2 PX 100000"),
    ("s", "SET s 1", "SET s 2 KEEPTTL"),
    ("s", "SET s 1", "INCR s"),
    ("s", "SET s 1", "INCRBY s 5"),
    ("s", "SET s 1", "INCRBYFLOAT s 1.5"),
    ("s", "SET s 1", "MSET x 1 s 3"),
    ("l", "RPUSH l a", "LPUSH l b"),
    ("l", "RPUSH l a", "RPUSH l b"),
    ("l", "RPUSH l a b", "RPOP l"),
    ("l", "RPUSH l a b", "LPOP l 2"),
    ("t", "SADD t a", "SADD t b"),
    ("t", "SADD t a b", "SREM t a"),
    ("h", "HSET h f 1", "HSET h g 2"),
    ("h", "HSET h f 1", "HSET h f 2"),
    ("z", "ZADD z 1 a", "ZADD z 2 b"),
    ("z", "ZADD z 1 a", "ZADD z 5 a"),
    ("z", "ZADD z 1 a", "ZINCRBY z 1 a"),
];

#[test]
fn watch_sees_every_kind_of_write_with_the_aof_off() {
    let s = aof_off();
    let mut a = s.raw();
    let mut b = s.conn();
    for (key, setup, change) in CHANGES {
        let _: () = c("FLUSHALL").query(&mut b).unwrap();
        let _: Value = c(setup).query(&mut b).unwrap();
        assert_eq!(a.cmd(&format!("WATCH {key}")), b"+OK\r\n");
        let _: Value = c(change).query(&mut b).unwrap();
        assert_eq!(a.cmd("MULTI"), b"+OK\r\n");
        assert_eq!(a.cmd("PING"), b"+QUEUED\r\n");
        assert_eq!(a.cmd("EXEC"), b"*-1\r\n", "{change} must invalidate WATCH");
    }
    // A write that changes nothing does not (as in Redis).
    let _: () = c("FLUSHALL").query(&mut b).unwrap();
    i(&mut b, "SADD t a");
    assert_eq!(a.cmd("WATCH t"), b"+OK\r\n");
    assert_eq!(i(&mut b, "SADD t a"), 0);
    assert_eq!(a.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(a.cmd("PING"), b"+QUEUED\r\n");
    assert_eq!(a.cmd("EXEC"), b"*1\r\n+PONG\r\n");
}

fn blocked(con: &mut Connection) -> bool {
    info_field(con, "clients", "blocked_clients").as_deref() == Some("1")
}

#[test]
fn blocked_clients_are_served_with_the_aof_off() {
    let s = aof_off();
    let mut con = s.conn();
    for (wait, push, want) in [
        ("BLPOP q 10", "RPUSH q a", vec!["q", "a"]),
        ("BRPOP q 10", "LPUSH q b", vec!["q", "b"]),
        ("BZPOPMIN z 10", "ZADD z 1 m", vec!["z", "m", "1"]),
    ] {
        // A timeout, so a client nobody serves fails the test instead of
        // hanging it (the timeout's reply is a nil, not the element).
        let mut waiter = s.conn();
        let h = thread::spawn(move || c(wait).query::<Option<Vec<String>>>(&mut waiter));
        assert!(
            wait_for(Duration::from_secs(10), || blocked(&mut con)),
            "{wait} never blocked"
        );
        let _: Value = c(push).query(&mut con).unwrap();
        assert_eq!(
            h.join().unwrap().unwrap(),
            Some(want.iter().map(|s| s.to_string()).collect()),
            "{wait} then {push}"
        );
    }
}

/// The same writes give the same dirty count whether their effects are built
/// (AOF on) or only counted (AOF off).
#[test]
fn dirty_count_is_the_same_with_the_aof_off() {
    let on = TestServer::start();
    let off = aof_off();
    let mut counts = Vec::new();
    for s in [&on, &off] {
        let mut con = s.conn();
        let before: u64 = info_num(&mut con, "persistence", "rdb_changes_since_last_save");
        for (_, setup, change) in CHANGES {
            let _: Value = c(setup).query(&mut con).unwrap();
            let _: Value = c(change).query(&mut con).unwrap();
        }
        // Writes that change nothing count nothing.
        let _: Value = c("SADD t b").query(&mut con).unwrap();
        let _: Value = c("HSET h g 2").query(&mut con).unwrap();
        let after: u64 = info_num(&mut con, "persistence", "rdb_changes_since_last_save");
        counts.push(after - before);
    }
    assert!(counts[0] >= CHANGES.len() as u64, "{counts:?}");
    assert_eq!(counts[0], counts[1], "AOF on, AOF off");
}

#[test]
fn effects_feed_gets_every_effect_with_the_aof_off() {
    let s = aof_off();
    let stream = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    std::io::Write::write_all(&mut w, b"DEBUG EFFECTS\r\n").unwrap();
    let mut feed = BufReader::new(stream);
    let mut line = String::new();
    feed.read_line(&mut line).unwrap();
    assert_eq!(line, "+OK\r\n");
    let mut con = s.conn();
    let _: () = c("SET a 1").query(&mut con).unwrap();
    i(&mut con, "INCR a");
    i(&mut con, "LPUSH l x");
    let mut got = Vec::new();
    for _ in 0..3 {
        line.clear();
        feed.read_line(&mut line).unwrap();
        got.push(line.trim_end().to_string());
    }
    assert_eq!(
        got,
        [
            r#"+0 "SET" "a" "1""#,
            r#"+0 "SET" "a" "2" "KEEPTTL""#,
            r#"+0 "LPUSH" "l" "x""#
        ]
    );
}

/// Writes made while nothing read effects are in the base that turning the
/// AOF on writes, and writes after it are logged: a restart brings back both.
#[test]
fn turning_the_aof_on_keeps_writes_made_while_it_was_off() {
    let dir = common::temp_dir("effects-off");
    let mut s = TestServer::start_in(&dir, &["--appendonly", "no"]);
    let mut con = s.conn();
    let _: () = c("SET before 1").query(&mut con).unwrap();
    i(&mut con, "RPUSH l a b");
    let _: () = c("CONFIG SET appendonly yes").query(&mut con).unwrap();
    assert!(wait_for(Duration::from_secs(10), || {
        info_field(&mut con, "persistence", "aof_rewrite_in_progress").as_deref() == Some("0")
            && info_field(&mut con, "persistence", "aof_rewrites").as_deref() != Some("0")
    }));
    let _: () = c("SET after 2").query(&mut con).unwrap();
    i(&mut con, "LPUSH l c");
    let digest: String = c("DEBUG DIGEST").query(&mut con).unwrap();
    drop(con);
    s.terminate();
    let s = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut con = s.conn();
    assert_eq!(q::<String>(&mut con, "DEBUG DIGEST"), digest);
    assert_eq!(q::<Vec<String>>(&mut con, "LRANGE l 0 -1"), ["c", "a", "b"]);
}
