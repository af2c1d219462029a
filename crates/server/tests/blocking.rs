//! Blocking commands through the real server: clients parked on keys are served
//! first-blocked first-served by a write from any connection (a plain push, a
//! push inside MULTI/EXEC, RENAME, MOVE, SWAPDB), with the reply and effects of
//! the non-blocking form; timeouts (fractional), CLIENT UNBLOCK, disconnects,
//! INFO blocked_clients, and the AOF after a restart.

mod common;
use common::cmd::*;
use common::TestServer;
use redis::{Connection, Value};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Runs `line` on a fresh connection in a thread (it is expected to block).
fn spawn_cmd(s: &TestServer, line: &str) -> JoinHandle<redis::RedisResult<Value>> {
    let mut con = s.conn();
    let line = line.to_string();
    thread::spawn(move || c(&line).query::<Value>(&mut con))
}

fn blocked(con: &mut Connection) -> usize {
    info_field(con, "clients", "blocked_clients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX)
}

/// Waits until `n` clients are blocked.
fn until_blocked(con: &mut Connection, n: usize) {
    assert!(
        wait_for(Duration::from_secs(10), || blocked(con) == n),
        "expected {n} blocked clients, INFO says {}",
        blocked(con)
    );
}

fn strs(v: Value) -> Vec<String> {
    redis::from_redis_value(&v).unwrap_or_else(|e| panic!("{v:?}: {e}"))
}

#[test]
fn blpop_is_served_by_a_push_from_another_client() {
    let s = TestServer::start();
    let mut con = s.conn();
    let h = spawn_cmd(&s, "BLPOP list 0");
    until_blocked(&mut con, 1);
    assert_eq!(i(&mut con, "RPUSH list a b"), 2);
    assert_eq!(strs(h.join().unwrap().unwrap()), ["list", "a"]);
    until_blocked(&mut con, 0);
    // The served client took one element: the rest stays.
    assert_eq!(q::<Vec<String>>(&mut con, "LRANGE list 0 -1"), ["b"]);
}

#[test]
fn first_blocked_first_served() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut handles = Vec::new();
    for n in 0..3 {
        handles.push(spawn_cmd(&s, "BRPOP q 0"));
        until_blocked(&mut con, n + 1);
    }
    for (n, h) in handles.into_iter().enumerate() {
        let v = format!("v{n}");
        i(&mut con, &format!("LPUSH q {v}"));
        assert_eq!(strs(h.join().unwrap().unwrap()), ["q", &v]);
    }
    assert_eq!(i(&mut con, "EXISTS q"), 0);
}

#[test]
fn several_keys_first_nonempty_wins() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "RPUSH b x");
    // Data present: served at once from the first non-empty key.
    assert_eq!(strs(v(&mut con, "BLPOP a b 0")), ["b", "x"]);
    let h = spawn_cmd(&s, "BLPOP a b c 0");
    until_blocked(&mut con, 1);
    i(&mut con, "RPUSH c z");
    assert_eq!(strs(h.join().unwrap().unwrap()), ["c", "z"]);
}

#[test]
fn fractional_timeout_returns_nil() {
    let s = TestServer::start();
    let mut con = s.conn();
    let t = Instant::now();
    assert_eq!(v(&mut con, "BLPOP nolist 0.15"), Value::Nil);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(v(&mut con, "BZPOPMIN nozset 0.01"), Value::Nil);
    assert_eq!(v(&mut con, "BLMOVE a b LEFT RIGHT 0.01"), Value::Nil);
    assert_eq!(blocked(&mut con), 0);
    // RESP3: the timeout is a null.
    let mut con3 = s.conn_resp3();
    assert_eq!(v(&mut con3, "BRPOP nolist 0.01"), Value::Nil);
    assert_eq!(e(&mut con, "BLPOP l -1"), "ERR timeout is negative");
    assert_eq!(
        e(&mut con, "BLPOP l abc"),
        "ERR timeout is not a float or out of range"
    );
}

#[test]
fn push_inside_exec_rename_move_and_swapdb_wake_clients() {
    let s = TestServer::start();
    let mut con = s.conn();
    // MULTI/EXEC.
    let h = spawn_cmd(&s, "BLPOP k1 0");
    until_blocked(&mut con, 1);
    let _: Value = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("other")
        .arg("1")
        .cmd("RPUSH")
        .arg("k1")
        .arg("from-exec")
        .query(&mut con)
        .unwrap();
    assert_eq!(strs(h.join().unwrap().unwrap()), ["k1", "from-exec"]);
    // RENAME makes the key appear.
    i(&mut con, "RPUSH src r");
    let h = spawn_cmd(&s, "BLPOP k2 0");
    until_blocked(&mut con, 1);
    let _: () = q(&mut con, "RENAME src k2");
    assert_eq!(strs(h.join().unwrap().unwrap()), ["k2", "r"]);
    // MOVE from another database.
    let h = spawn_cmd(&s, "BLPOP k3 0");
    until_blocked(&mut con, 1);
    let _: () = q(&mut con, "SELECT 1");
    i(&mut con, "RPUSH k3 m");
    assert_eq!(i(&mut con, "MOVE k3 0"), 1);
    assert_eq!(strs(h.join().unwrap().unwrap()), ["k3", "m"]);
    // SWAPDB brings a whole database in.
    i(&mut con, "RPUSH k4 w");
    let _: () = q(&mut con, "SELECT 0");
    let h = spawn_cmd(&s, "BLPOP k4 0");
    until_blocked(&mut con, 1);
    let _: () = q(&mut con, "SWAPDB 0 1");
    assert_eq!(strs(h.join().unwrap().unwrap()), ["k4", "w"]);
}

#[test]
fn blocking_inside_multi_does_not_block() {
    let s = TestServer::start();
    let mut con = s.conn();
    let r: Vec<Value> = redis::pipe()
        .atomic()
        .cmd("BLPOP")
        .arg("none")
        .arg(0)
        .cmd("BLMOVE")
        .arg("none")
        .arg("d")
        .arg("LEFT")
        .arg("LEFT")
        .arg(0)
        .cmd("BZPOPMAX")
        .arg("none")
        .arg(0)
        .query(&mut con)
        .unwrap();
    assert_eq!(r, vec![Value::Nil, Value::Nil, Value::Nil]);
}

#[test]
fn blmove_chain_serves_the_next_waiter() {
    let s = TestServer::start();
    let mut con = s.conn();
    let first = spawn_cmd(&s, "BLMOVE a b RIGHT LEFT 0");
    until_blocked(&mut con, 1);
    let second = spawn_cmd(&s, "BLPOP b 0");
    until_blocked(&mut con, 2);
    i(&mut con, "RPUSH a x");
    assert_eq!(
        redis::from_redis_value::<String>(&first.join().unwrap().unwrap()).unwrap(),
        "x"
    );
    // BLMOVE pushed into b, which served the client blocked there.
    assert_eq!(strs(second.join().unwrap().unwrap()), ["b", "x"]);
    assert_eq!(i(&mut con, "EXISTS a b"), 0);
}

#[test]
fn bzpopmin_is_served_by_zadd() {
    let s = TestServer::start();
    let mut con = s.conn();
    let h = spawn_cmd(&s, "BZPOPMIN z1 z2 0");
    until_blocked(&mut con, 1);
    i(&mut con, "ZADD z2 3 c 1 a 2 b");
    assert_eq!(strs(h.join().unwrap().unwrap()), ["z2", "a", "1"]);
    assert_eq!(i(&mut con, "ZCARD z2"), 2);
}

#[test]
fn client_unblock_and_disconnect() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut blocker = s.conn();
    let id: i64 = q(&mut blocker, "CLIENT ID");
    let h = thread::spawn(move || {
        let r = c("BLPOP l 0").query::<Value>(&mut blocker);
        (r, blocker)
    });
    until_blocked(&mut con, 1);
    let list: String = q(&mut con, "CLIENT LIST");
    assert!(
        list.lines().any(|l| l.starts_with(&format!("id={id} "))
            && l.contains("flags=b")
            && l.contains("cmd=blpop")),
        "{list}"
    );
    assert_eq!(i(&mut con, &format!("CLIENT UNBLOCK {id}")), 1);
    let (r, mut blocker) = h.join().unwrap();
    assert_eq!(r.unwrap(), Value::Nil);
    assert_eq!(i(&mut con, &format!("CLIENT UNBLOCK {id}")), 0);
    let h = thread::spawn(move || c("BLPOP l 0").query::<Value>(&mut blocker));
    until_blocked(&mut con, 1);
    assert_eq!(i(&mut con, &format!("CLIENT UNBLOCK {id} ERROR")), 1);
    let err = h.join().unwrap().unwrap_err();
    assert_eq!(err.code(), Some("UNBLOCKED"), "{err}");
    assert_eq!(
        e(&mut con, "CLIENT UNBLOCK 1 MAYBE"),
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );

    // A blocked client that disconnects leaves nothing behind: a later push
    // stays in the list instead of going to a dead client.
    let mut raw = s.raw();
    raw.send(b"BLPOP gone 0\r\n");
    until_blocked(&mut con, 1);
    drop(raw);
    until_blocked(&mut con, 0);
    i(&mut con, "RPUSH gone v");
    assert_eq!(q::<Vec<String>>(&mut con, "LRANGE gone 0 -1"), ["v"]);
}

#[test]
fn pipelined_commands_after_a_blocking_one_wait_for_it() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut raw = s.raw();
    raw.send(b"BLPOP p 0\r\nPING\r\n");
    until_blocked(&mut con, 1);
    i(&mut con, "RPUSH p x");
    let out = raw.read_until(b"+PONG\r\n");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "*2\r\n$1\r\np\r\n$1\r\nx\r\n+PONG\r\n"
    );
}

#[test]
fn served_pops_are_logged_as_their_nonblocking_form() {
    let dir = common::temp_dir("blocking-aof");
    let mut s = TestServer::start_in(&dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut con = s.conn();
    let mut feed = s.raw();
    assert_eq!(feed.cmd("DEBUG EFFECTS"), b"+OK\r\n");
    let h = spawn_cmd(&s, "BLPOP l 0");
    until_blocked(&mut con, 1);
    i(&mut con, "RPUSH l a b c");
    assert_eq!(strs(h.join().unwrap().unwrap()), ["l", "a"]);
    let mut seen = String::new();
    while !seen.contains("LPOP") {
        seen.push_str(&String::from_utf8_lossy(&feed.read_until(b"\r\n")));
    }
    assert!(!seen.contains("BLPOP"), "{seen}");
    let digest: String = q(&mut con, "DEBUG DIGEST");
    drop(con);
    s.terminate();
    let s = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut con = s.conn();
    assert_eq!(q::<String>(&mut con, "DEBUG DIGEST"), digest);
    assert_eq!(q::<Vec<String>>(&mut con, "LRANGE l 0 -1"), ["b", "c"]);
}
