//! Keyspace notifications through the real binary: `notify-keyspace-events`
//! classes, the `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>` channels,
//! lazy and active expiry, MULTI/EXEC, and silence when the option is empty. The
//! expected sequences were checked against Redis 7.0.15.
//!
//! Each check ends by publishing a marker on a channel the subscriber's pattern
//! matches: everything received before it is exactly what the commands produced,
//! with no waiting for "nothing more".

mod common;
use common::cmd::q;
use common::TestServer;
use std::time::Duration;

const MARKER: &str = "__key_marker__:end";

struct Watcher {
    con: redis::Connection,
}

impl Watcher {
    fn new(s: &TestServer) -> Watcher {
        let mut con = s.conn();
        con.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        redis::cmd("PSUBSCRIBE")
            .arg("__key*__:*")
            .exec(&mut con)
            .expect("psubscribe");
        Watcher { con }
    }

    /// The next pub/sub message (10 s at most). The connection is read directly:
    /// the `redis` crate's `PubSub` guard unsubscribes everything when dropped.
    fn next(&mut self) -> redis::Msg {
        let v = self.con.recv_response().expect("message");
        redis::Msg::from_value(&v).expect("a pub/sub message")
    }

    /// Publishes the marker through `cmd` and returns every message received
    /// before it, as `channel payload`.
    fn until_marker(&mut self, cmd: &mut redis::Connection) -> Vec<String> {
        let _: i64 = q(cmd, &format!("PUBLISH {MARKER} x"));
        let mut out = Vec::new();
        loop {
            let m = self.next();
            let chan = m.get_channel_name().to_string();
            if chan == MARKER {
                return out;
            }
            let payload: String = m.get_payload().expect("payload");
            out.push(format!("{chan} {payload}"));
        }
    }
}

fn run(cmd: &mut redis::Connection, lines: &[&str]) {
    for l in lines {
        let _: redis::Value = q(cmd, l);
    }
}

fn v(x: &[&str]) -> Vec<String> {
    x.iter().map(|s| s.to_string()).collect()
}

fn set_flags(cmd: &mut redis::Connection, flags: &str) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("notify-keyspace-events")
        .arg(flags)
        .query(cmd)
        .expect("config set");
}

const SCRIPT: &[&str] = &[
    "SET a 1",
    "GET missing",
    "EXPIRE a 100",
    "INCR a",
    "DEL a",
    "SET b 1 PX 1",
];

#[test]
fn nothing_is_published_when_empty() {
    let s = TestServer::start();
    let mut w = Watcher::new(&s);
    let mut cmd = s.conn();
    let got: String = redis::cmd("CONFIG")
        .arg("GET")
        .arg("notify-keyspace-events")
        .query::<Vec<String>>(&mut cmd)
        .expect("config get")
        .pop()
        .unwrap_or_default();
    assert_eq!(got, "");
    run(&mut cmd, SCRIPT);
    std::thread::sleep(Duration::from_millis(5));
    run(&mut cmd, &["GET b"]);
    assert!(w.until_marker(&mut cmd).is_empty());
    // Classes without K or E publish nothing either; turning it off again works.
    set_flags(&mut cmd, "A");
    run(&mut cmd, SCRIPT);
    assert!(w.until_marker(&mut cmd).is_empty());
    set_flags(&mut cmd, "KEA");
    run(&mut cmd, &["SET c 1"]);
    set_flags(&mut cmd, "");
    run(&mut cmd, SCRIPT);
    assert_eq!(
        w.until_marker(&mut cmd),
        v(&["__keyspace@0__:c set", "__keyevent@0__:set c"])
    );
}

#[test]
fn each_class() {
    let s = TestServer::start();
    let mut w = Watcher::new(&s);
    let mut cmd = s.conn();
    let mut check = |flags: &str, lines: &[&str], want: &[&str]| {
        run(&mut cmd, &["FLUSHALL"]);
        set_flags(&mut cmd, flags);
        run(&mut cmd, lines);
        assert_eq!(w.until_marker(&mut cmd), v(want), "{flags}");
        set_flags(&mut cmd, "");
    };
    // K: keyspace channel only, message = event.
    check(
        "K$",
        &[
            "SET a 1",
            "APPEND a x",
            "SETRANGE a 0 y",
            "INCRBYFLOAT n 1",
            "GETSET a 2",
            "DEL a",
        ],
        &[
            "__keyspace@0__:a set",
            "__keyspace@0__:a append",
            "__keyspace@0__:a setrange",
            "__keyspace@0__:n incrbyfloat",
            "__keyspace@0__:a set",
        ],
    );
    // E: keyevent channel only, message = key.
    check(
        "E$",
        &["MSET a 1 b 2", "INCRBY c 5", "DECR c"],
        &[
            "__keyevent@0__:set a",
            "__keyevent@0__:set b",
            "__keyevent@0__:incrby c",
            "__keyevent@0__:incrby c",
        ],
    );
    // g: generic commands.
    check(
        "Eg",
        &[
            "SET a 1",
            "EXPIRE a 100",
            "PERSIST a",
            "RENAME a b",
            "COPY b c",
            "MOVE c 1",
            "GETEX b EX 50",
            "GETDEL b",
            "SET d 1",
            "PEXPIRE d -1",
            "SET e 1 EX 100",
            "UNLINK e",
        ],
        &[
            "__keyevent@0__:expire a",
            "__keyevent@0__:persist a",
            "__keyevent@0__:rename_from a",
            "__keyevent@0__:rename_to b",
            "__keyevent@0__:copy_to c",
            "__keyevent@0__:move_from c",
            "__keyevent@1__:move_to c",
            "__keyevent@0__:expire b",
            "__keyevent@0__:del b",
            "__keyevent@0__:del d",
            "__keyevent@0__:expire e",
            "__keyevent@0__:del e",
        ],
    );
    // K and E together: keyspace first, then keyevent, per event.
    check(
        "KEg",
        &["SET a 1", "DEL a"],
        &["__keyspace@0__:a del", "__keyevent@0__:del a"],
    );
    // n: new keys (not part of A).
    check(
        "KEn",
        &["SET a 1", "SET a 2", "RENAME a b", "INCR c"],
        &[
            "__keyspace@0__:a new",
            "__keyevent@0__:new a",
            "__keyspace@0__:b new",
            "__keyevent@0__:new b",
            "__keyspace@0__:c new",
            "__keyevent@0__:new c",
        ],
    );
    // m: key misses on reads (not part of A; not for OBJECT).
    check(
        "Em",
        &["GET a", "EXISTS b", "OBJECT ENCODING c", "SET a 1", "GET a"],
        &["__keyevent@0__:keymiss a", "__keyevent@0__:keymiss b"],
    );
    // A: every class keel has except n and m; database index in the channel.
    check(
        "KA",
        &[
            "SELECT 3",
            "SET a 1 PX 100000",
            "GET z",
            "DEL a",
            "SELECT 0",
        ],
        &[
            "__keyspace@3__:a set",
            "__keyspace@3__:a expire",
            "__keyspace@3__:a del",
        ],
    );
    // Flushes and SWAPDB announce nothing per key.
    check(
        "KEA",
        &["SET a 1"],
        &["__keyspace@0__:a set", "__keyevent@0__:set a"],
    );
    check("KEA", &["SWAPDB 0 1", "FLUSHDB", "FLUSHALL"], &[]);
}

#[test]
fn expired_events_lazy_and_active() {
    let s = TestServer::start();
    let mut w = Watcher::new(&s);
    let mut cmd = s.conn();
    set_flags(&mut cmd, "Ex");
    // Lazy: active expiry off, the key is found expired on access.
    run(&mut cmd, &["DEBUG SET-ACTIVE-EXPIRE 0", "SET lazy v PX 1"]);
    std::thread::sleep(Duration::from_millis(20));
    run(&mut cmd, &["GET lazy", "GET lazy"]);
    assert_eq!(
        w.until_marker(&mut cmd),
        v(&["__keyevent@0__:expired lazy"])
    );
    // Active: nobody touches the key; the cron removes it.
    run(
        &mut cmd,
        &["DEBUG SET-ACTIVE-EXPIRE 1", "SET active v PX 20"],
    );
    let m = w.next();
    assert_eq!(m.get_channel_name(), "__keyevent@0__:expired");
    let key: String = m.get_payload().expect("payload");
    assert_eq!(key, "active");
    assert!(w.until_marker(&mut cmd).is_empty());
}

#[test]
fn inside_multi_exec() {
    let s = TestServer::start();
    let mut w = Watcher::new(&s);
    let mut cmd = s.conn();
    set_flags(&mut cmd, "KEA");
    let _: () = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("a")
        .arg("1")
        .ignore()
        .cmd("INCR")
        .arg("a")
        .ignore()
        .cmd("DEL")
        .arg("a")
        .ignore()
        .query(&mut cmd)
        .expect("exec");
    assert_eq!(
        w.until_marker(&mut cmd),
        v(&[
            "__keyspace@0__:a set",
            "__keyevent@0__:set a",
            "__keyspace@0__:a incrby",
            "__keyevent@0__:incrby a",
            "__keyspace@0__:a del",
            "__keyevent@0__:del a",
        ])
    );
}
