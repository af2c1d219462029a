//! Server commands through the real binary: CONFIG, TIME, LASTSAVE, CLIENT PAUSE /
//! UNPAUSE / NO-EVICT / KILL, RESET, QUIT, HELLO, COMMAND INFO, DEBUG OBJECT /
//! DIGEST-VALUE, and start-up configuration errors. Expected replies and error texts
//! are Redis 7.0.15's.

mod common;
use common::cmd::*;
use common::{binary, temp_dir, TestServer};
use redis::{Connection, Value};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn config_get(con: &mut Connection, pats: &str) -> HashMap<String, String> {
    q(con, &format!("CONFIG GET {pats}"))
}

fn client_field(line: &str, field: &str) -> String {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .unwrap_or_else(|| panic!("no {field} in {line}"))
        .to_string()
}

/// Client `id`'s line in CLIENT LIST, if it is listed.
fn listed(con: &mut Connection, id: &str) -> Option<String> {
    let list: String = q(con, "CLIENT LIST");
    list.lines()
        .find(|l| client_field(l, "id") == id)
        .map(str::to_string)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn config_get_patterns() {
    let s = TestServer::start();
    let mut con = s.conn();
    let port = s.port.to_string();
    assert_eq!(
        config_get(&mut con, "port"),
        HashMap::from([("port".to_string(), port.clone())])
    );
    // Several patterns at once, duplicates once, and names as asked for.
    let m = config_get(&mut con, "port timeout maxclients port");
    assert_eq!(m.len(), 3, "{m:?}");
    assert_eq!(m["timeout"], "0");
    assert_eq!(m["maxclients"], "10000");
    assert_eq!(config_get(&mut con, "PORT")["PORT"], port);
    // Globs.
    let m = config_get(&mut con, "maxmemory*");
    for k in [
        "maxmemory",
        "maxmemory-policy",
        "maxmemory-samples",
        "maxmemory-clients",
        "maxmemory-eviction-tenacity",
    ] {
        assert!(m.contains_key(k), "{k} missing from {m:?}");
    }
    assert!(m.keys().all(|k| k.starts_with("maxmemory")), "{m:?}");
    assert_eq!(
        config_get(&mut con, "?ort").keys().collect::<Vec<_>>(),
        ["port"]
    );
    assert!(config_get(&mut con, "[pb]ort").contains_key("port"));
    assert!(config_get(&mut con, "nosuch*").is_empty());
    assert!(config_get(&mut con, "nosuch").is_empty());
    let all = config_get(&mut con, "*");
    assert!(all.len() > 150, "{}", all.len());
    // Aliases answer under the name asked for.
    assert_eq!(
        config_get(&mut con, "slave-read-only")["slave-read-only"],
        "yes"
    );
    assert_eq!(e(&mut con, "CONFIG GET"), arity("config|get"));
    // RESP3: a map.
    let mut c3 = s.conn_resp3();
    match v(&mut c3, "CONFIG GET port timeout") {
        Value::Map(pairs) => assert_eq!(pairs.len(), 2),
        other => panic!("expected a map, got {other:?}"),
    }
    assert_eq!(
        v(&mut c3, "CONFIG GET nosuch"),
        Value::Map(vec![]),
        "an empty map in RESP3"
    );
}

#[test]
fn config_set_pairs_atomicity_and_errors() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(
        v(&mut con, "CONFIG SET maxclients 500 timeout 300"),
        Value::Okay
    );
    let m = config_get(&mut con, "maxclients timeout");
    assert_eq!(
        (m["maxclients"].as_str(), m["timeout"].as_str()),
        ("500", "300")
    );
    // One bad value: nothing changes.
    assert_eq!(
        e(&mut con, "CONFIG SET maxclients 100 maxmemory abc"),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(config_get(&mut con, "maxclients")["maxclients"], "500");
    assert_eq!(
        e(&mut con, "CONFIG SET maxclients 100 nosuch 2"),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    assert_eq!(config_get(&mut con, "maxclients")["maxclients"], "500");
    assert_eq!(
        e(&mut con, "CONFIG SET maxclients 100 MAXCLIENTS 200"),
        "ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter"
    );
    assert_eq!(
        e(&mut con, "CONFIG SET maxclients 100 daemonize yes"),
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
    );
    assert_eq!(config_get(&mut con, "maxclients")["maxclients"], "500");
    assert_eq!(
        e(&mut con, "CONFIG SET maxclients abc"),
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        e(&mut con, "CONFIG SET timeout -1"),
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive"
    );
    assert_eq!(e(&mut con, "CONFIG SET port"), arity("config|set"));
    assert_eq!(e(&mut con, "CONFIG SET port 1 2"), "ERR syntax error");
    // Memory units and aliases.
    assert_eq!(v(&mut con, "CONFIG SET maxmemory 1gb"), Value::Okay);
    assert_eq!(config_get(&mut con, "maxmemory")["maxmemory"], "1073741824");
    assert_eq!(v(&mut con, "CONFIG SET maxmemory 0"), Value::Okay);
    assert_eq!(v(&mut con, "CONFIG SET slave-read-only no"), Value::Okay);
    assert_eq!(
        config_get(&mut con, "replica-read-only")["replica-read-only"],
        "no"
    );
    // HELP and unknown subcommands.
    let help: Vec<String> = q(&mut con, "CONFIG HELP");
    assert!(help[0].starts_with("CONFIG <subcommand>"), "{help:?}");
    assert_eq!(e(&mut con, "CONFIG HELP x"), arity("config|help"));
    assert_eq!(
        e(&mut con, "CONFIG foo"),
        "ERR unknown subcommand 'foo'. Try CONFIG HELP."
    );
    assert_eq!(e(&mut con, "CONFIG"), arity("config"));
}

#[test]
fn config_set_maxclients_and_slowlog_take_effect() {
    let s = TestServer::start();
    let mut con = s.conn();
    // maxclients: connections beyond the limit get the error and are closed.
    let mut other = s.raw();
    // A reply proves the server has accepted (and counts) the connection.
    assert_eq!(other.cmd("PING"), b"+PONG\r\n");
    assert_eq!(v(&mut con, "CONFIG SET maxclients 2"), Value::Okay);
    let mut third = s.raw();
    assert_eq!(
        third.read_until(b"\r\n"),
        b"-ERR max number of clients reached\r\n"
    );
    assert!(third.closed());
    let rejected: i64 = info_num(&mut con, "stats", "rejected_connections");
    assert!(rejected >= 1);
    assert_eq!(v(&mut con, "CONFIG SET maxclients 10000"), Value::Okay);
    let mut fourth = s.raw();
    assert_eq!(fourth.cmd("PING"), b"+PONG\r\n");

    // slowlog-log-slower-than: -1 logs nothing, 0 logs everything.
    assert_eq!(
        v(&mut con, "CONFIG SET slowlog-log-slower-than -1"),
        Value::Okay
    );
    assert_eq!(v(&mut con, "SLOWLOG RESET"), Value::Okay);
    assert_eq!(v(&mut con, "SET quick v"), Value::Okay);
    assert_eq!(q::<i64>(&mut con, "SLOWLOG LEN"), 0);
    assert_eq!(
        v(&mut con, "CONFIG SET slowlog-log-slower-than 0"),
        Value::Okay
    );
    assert_eq!(v(&mut con, "SET logged v"), Value::Okay);
    let entries: Vec<Value> = q(&mut con, "SLOWLOG GET 10");
    let logged = entries.iter().any(|en| match en {
        Value::Array(f) => {
            f.get(3)
                == Some(&Value::Array(vec![
                    Value::BulkString(b"SET".to_vec()),
                    Value::BulkString(b"logged".to_vec()),
                    Value::BulkString(b"v".to_vec()),
                ]))
        }
        _ => false,
    });
    assert!(logged, "{entries:?}");
    // A high threshold: quick commands are not logged.
    assert_eq!(
        v(&mut con, "CONFIG SET slowlog-log-slower-than 10000000"),
        Value::Okay
    );
    assert_eq!(v(&mut con, "SLOWLOG RESET"), Value::Okay);
    assert_eq!(v(&mut con, "SET quick v"), Value::Okay);
    assert_eq!(q::<i64>(&mut con, "SLOWLOG LEN"), 0);
}

#[test]
fn maxmemory_is_enforced() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "CONFIG SET maxmemory 1"), Value::Okay);
    assert_eq!(
        e(&mut con, "SET a b"),
        "OOM command not allowed when used memory > 'maxmemory'."
    );
    // Reads still work.
    assert_eq!(v(&mut con, "GET a"), Value::Nil);
}

#[test]
fn config_resetstat() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "SET k v"), Value::Okay);
    let _ = e(&mut con, "INCR k");
    assert_eq!(v(&mut con, "SET gone v PX 1"), Value::Okay);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(v(&mut con, "GET gone"), Value::Nil);
    let stats: String = q(&mut con, "INFO commandstats");
    assert!(stats.contains("cmdstat_set:calls=2"), "{stats}");
    let errs: String = q(&mut con, "INFO errorstats");
    assert!(errs.contains("errorstat_ERR:count=1"), "{errs}");
    assert!(info_field(&mut con, "stats", "expired_keys").unwrap() != "0");
    let before: i64 = info_num(&mut con, "stats", "total_commands_processed");
    assert!(before >= 6, "{before}");
    assert_eq!(v(&mut con, "CONFIG RESETSTAT"), Value::Okay);
    let stats: String = q(&mut con, "INFO commandstats");
    assert!(!stats.contains("cmdstat_set"), "{stats}");
    let errs: String = q(&mut con, "INFO errorstats");
    assert!(!errs.contains("errorstat_ERR"), "{errs}");
    assert_eq!(info_field(&mut con, "stats", "expired_keys").unwrap(), "0");
    assert_eq!(
        info_field(&mut con, "stats", "total_error_replies").unwrap(),
        "0"
    );
    let after: i64 = info_num(&mut con, "stats", "total_commands_processed");
    assert!(after <= 5 && after < before, "{after}");
    // The keyspace is untouched.
    assert_eq!(q::<i64>(&mut con, "DBSIZE"), 1);
    assert_eq!(e(&mut con, "CONFIG RESETSTAT x"), arity("config|resetstat"));
}

/// A connection sums its calls before publishing them (see `StatRun` in
/// conn.rs): once a client has its replies, every other client's INFO counts
/// those calls, for runs of one command and for mixed pipelines alike.
#[test]
fn commandstats_count_pipelined_calls_seen_by_other_clients() {
    let s = TestServer::start();
    let mut a = s.conn();
    let mut b = s.conn();
    let mut p = redis::pipe();
    for i in 0..300 {
        p.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
    }
    for i in 0..50 {
        p.cmd("GET").arg(format!("k{i}")).ignore();
        p.cmd("INCR").arg(format!("k{i}")).ignore();
    }
    p.cmd("SET").arg("last").arg(1).ignore();
    let () = p.query(&mut a).unwrap();
    let stats: String = q(&mut b, "INFO commandstats");
    assert!(stats.contains("cmdstat_set:calls=301,"), "{stats}");
    assert!(stats.contains("cmdstat_get:calls=50,"), "{stats}");
    assert!(stats.contains("cmdstat_incr:calls=50,"), "{stats}");
    let total: i64 = info_num(&mut b, "stats", "total_commands_processed");
    // 401 pipelined, plus INFO commandstats on the other connection (and
    // whatever the test client sent to set up: HELLO, CLIENT SETINFO...).
    assert!(total >= 402, "{total}");
    // The same connection's INFO, after a pipeline in the same batch.
    let mut p = redis::pipe();
    p.cmd("SET").arg("x").arg(1).ignore();
    p.cmd("INFO").arg("commandstats");
    let (stats,): (String,) = p.query(&mut a).unwrap();
    assert!(stats.contains("cmdstat_set:calls=302,"), "{stats}");
}
#[test]
fn config_rewrite_keeps_comments_and_updates_values() {
    let dir = temp_dir("rewrite");
    let conf = dir.join("keel.conf");
    std::fs::write(
        &conf,
        "# my header comment\n\n# timeout comment\ntimeout 0\nsave \"\"\n# trailing comment\n",
    )
    .unwrap();
    let path = conf.display().to_string();
    let s = TestServer::start_in(&dir, &[&path]);
    let mut con = s.conn();
    assert_eq!(
        v(&mut con, "CONFIG SET timeout 300 maxclients 500"),
        Value::Okay
    );
    assert_eq!(v(&mut con, "CONFIG REWRITE"), Value::Okay);
    let text = std::fs::read_to_string(&conf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# my header comment", "{text}");
    // Replaced in place, right after its comment.
    let t = lines.iter().position(|l| *l == "timeout 300").expect(&text);
    assert_eq!(lines[t - 1], "# timeout comment", "{text}");
    assert!(!text.contains("timeout 0"), "{text}");
    assert!(text.contains("# trailing comment"), "{text}");
    assert!(lines.contains(&"maxclients 500"), "{text}");
    // A second rewrite is stable and keeps the options that went back to default.
    assert_eq!(v(&mut con, "CONFIG SET maxclients 10000"), Value::Okay);
    assert_eq!(v(&mut con, "CONFIG REWRITE"), Value::Okay);
    let text2 = std::fs::read_to_string(&conf).unwrap();
    assert!(text2.lines().any(|l| l == "maxclients 10000"), "{text2}");
    assert_eq!(text2.matches("maxclients").count(), 1, "{text2}");
    assert_eq!(text2.matches("# my header comment").count(), 1, "{text2}");
    assert_eq!(e(&mut con, "CONFIG REWRITE x"), arity("config|rewrite"));

    // Without a config file.
    let s2 = TestServer::start();
    let mut con2 = s2.conn();
    assert_eq!(
        e(&mut con2, "CONFIG REWRITE"),
        "ERR The server is running without a config file"
    );
}

#[test]
fn time_and_lastsave() {
    let s = TestServer::start();
    let mut con = s.conn();
    let t: Vec<String> = q(&mut con, "TIME");
    assert_eq!(t.len(), 2);
    let secs: i64 = t[0].parse().unwrap();
    let usecs: i64 = t[1].parse().unwrap();
    assert!((secs - now_secs()).abs() <= 5, "{secs}");
    assert!((0..1_000_000).contains(&usecs), "{usecs}");
    let t2: Vec<String> = q(&mut con, "TIME");
    let a = secs * 1_000_000 + usecs;
    let b = t2[0].parse::<i64>().unwrap() * 1_000_000 + t2[1].parse::<i64>().unwrap();
    assert!(b >= a, "TIME went backwards");
    assert_eq!(e(&mut con, "TIME x"), arity("time"));
    let mut c3 = s.conn_resp3();
    assert!(matches!(v(&mut c3, "TIME"), Value::Array(a) if a.len() == 2));

    let last: i64 = q(&mut con, "LASTSAVE");
    assert!(last > 0 && last <= now_secs() + 1, "{last}");
    assert_eq!(e(&mut con, "LASTSAVE x"), arity("lastsave"));
}

#[test]
fn client_pause_write_and_all_with_unpause() {
    let s = TestServer::start();
    let mut admin = s.conn();
    let mut reader = s.conn();
    assert_eq!(v(&mut admin, "SET before v"), Value::Okay);
    assert_eq!(v(&mut admin, "CLIENT PAUSE 20000 WRITE"), Value::Okay);
    // A write from another connection waits...
    let port = s.port;
    let (tx, rx) = mpsc::channel();
    let writer = std::thread::spawn(move || {
        let mut w = common::RawConn::connect(port);
        w.stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        w.send(b"SET paused v\r\n");
        let got = w.read_until(b"\r\n");
        tx.send(got).unwrap();
    });
    // ...while reads are served.
    let start = Instant::now();
    assert_eq!(
        v(&mut reader, "GET before"),
        Value::BulkString(b"v".to_vec())
    );
    assert_eq!(v(&mut reader, "GET paused"), Value::Nil);
    assert_eq!(q::<i64>(&mut reader, "EXISTS paused"), 0);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "reads were paused"
    );
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the write was not paused"
    );
    assert_eq!(v(&mut reader, "GET paused"), Value::Nil);
    // UNPAUSE releases it long before the 20 s pause would end.
    assert_eq!(v(&mut admin, "CLIENT UNPAUSE"), Value::Okay);
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the write stayed paused after CLIENT UNPAUSE");
    assert_eq!(got, b"+OK\r\n");
    writer.join().unwrap();
    assert_eq!(
        v(&mut reader, "GET paused"),
        Value::BulkString(b"v".to_vec())
    );

    // ALL: reads wait too.
    assert_eq!(v(&mut admin, "CLIENT PAUSE 20000 ALL"), Value::Okay);
    let (tx, rx) = mpsc::channel();
    let r = std::thread::spawn(move || {
        let mut w = common::RawConn::connect(port);
        w.stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        w.send(b"GET paused\r\n");
        tx.send(w.read_until(b"\r\nv\r\n")).unwrap();
    });
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the read was not paused"
    );
    assert_eq!(v(&mut admin, "CLIENT UNPAUSE"), Value::Okay);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        b"$1\r\nv\r\n"
    );
    r.join().unwrap();
    // A pause that ends by itself.
    assert_eq!(v(&mut admin, "CLIENT PAUSE 100 WRITE"), Value::Okay);
    assert_eq!(v(&mut reader, "SET after v"), Value::Okay);

    // Errors (Redis checks the mode before the timeout).
    assert_eq!(
        e(&mut admin, "CLIENT PAUSE abc foo"),
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    );
    assert_eq!(
        e(&mut admin, "CLIENT PAUSE abc"),
        "ERR timeout is not an integer or out of range"
    );
    assert_eq!(
        e(&mut admin, "CLIENT PAUSE 1.5"),
        "ERR timeout is not an integer or out of range"
    );
    assert_eq!(e(&mut admin, "CLIENT PAUSE -1"), "ERR timeout is negative");
    assert_eq!(
        e(&mut admin, "CLIENT PAUSE 10 WRITE ALL"),
        "ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP."
    );
    assert_eq!(e(&mut admin, "CLIENT PAUSE"), arity("client|pause"));
    assert_eq!(e(&mut admin, "CLIENT UNPAUSE x"), arity("client|unpause"));
    assert_eq!(v(&mut admin, "CLIENT UNPAUSE"), Value::Okay);
}

/// Another client's CLIENT LIST line shows the last command a pipeline ran and
/// how long ago its input was served, in seconds (Redis's `cmd=` and `idle=`).
#[test]
fn client_list_shows_last_command_and_idle_time_after_a_pipeline() {
    let s = TestServer::start();
    let mut worker = s.raw();
    let mut admin = s.conn();
    let id = client_field(&String::from_utf8(worker.cmd("CLIENT INFO")).unwrap(), "id");
    // The worker is idle from its connection's start until this pipeline.
    std::thread::sleep(Duration::from_millis(1100));
    worker.send(b"SET k 1\r\nINCR k\r\nGET k\r\nHSET h f v\r\n");
    assert_eq!(
        worker.read_until(b":1\r\n"),
        b"+OK\r\n:2\r\n$1\r\n2\r\n:1\r\n"
    );
    let line = listed(&mut admin, &id).expect("the worker is listed");
    assert_eq!(client_field(&line, "cmd"), "hset", "{line}");
    assert_eq!(client_field(&line, "idle"), "0", "{line}");
    let age: u64 = client_field(&line, "age").parse().unwrap();
    assert!(age >= 1, "{line}");
    std::thread::sleep(Duration::from_millis(2100));
    let line = listed(&mut admin, &id).expect("the worker is listed");
    let idle: u64 = client_field(&line, "idle").parse().unwrap();
    assert!((2..=4).contains(&idle), "{line}");
    assert_eq!(client_field(&line, "cmd"), "hset", "{line}");
}

#[test]
fn client_no_evict_reset_quit_hello() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "CLIENT NO-EVICT on"), Value::Okay);
    let info: String = q(&mut con, "CLIENT INFO");
    assert_eq!(client_field(&info, "flags"), "e", "{info}");
    assert_eq!(client_field(&info, "cmd"), "client|info", "{info}");
    assert_eq!(v(&mut con, "CLIENT NO-EVICT OFF"), Value::Okay);
    let info: String = q(&mut con, "CLIENT INFO");
    assert_eq!(client_field(&info, "flags"), "N", "{info}");
    assert_eq!(e(&mut con, "CLIENT NO-EVICT foo"), "ERR syntax error");
    assert_eq!(e(&mut con, "CLIENT NO-EVICT"), arity("client|no-evict"));
    let list: String = q(&mut con, "CLIENT LIST");
    assert_eq!(client_field(&list, "cmd"), "client|list", "{list}");

    // RESET: back to db 0, no name, RESP2, replies on; NO-EVICT stays (as Redis).
    let mut raw = s.raw();
    assert_eq!(raw.cmd("SET k db0"), b"+OK\r\n");
    assert_eq!(raw.cmd("SELECT 3"), b"+OK\r\n");
    assert_eq!(raw.cmd("CLIENT SETNAME foo"), b"+OK\r\n");
    assert_eq!(raw.cmd("CLIENT NO-EVICT on"), b"+OK\r\n");
    assert_eq!(raw.cmd("HELLO 3").first(), Some(&b'%'));
    assert_eq!(raw.cmd("GET k"), b"_\r\n");
    assert_eq!(raw.cmd("RESET"), b"+RESET\r\n");
    assert_eq!(raw.cmd("GET k"), b"$3\r\ndb0\r\n");
    assert_eq!(raw.cmd("CLIENT GETNAME"), b"$-1\r\n");
    assert_eq!(raw.cmd("GET nokey"), b"$-1\r\n");
    let info = String::from_utf8(raw.cmd("CLIENT INFO")).unwrap();
    assert!(info.contains(" flags=e "), "{info}");
    assert!(info.contains(" resp=2 "), "{info}");
    assert_eq!(
        raw.cmd("RESET x"),
        b"-ERR wrong number of arguments for 'reset' command\r\n"
    );
    // RESET turns replies back on.
    raw.send(b"CLIENT REPLY OFF\r\nRESET\r\nPING\r\n");
    assert_eq!(raw.read_until(b"+PONG\r\n"), b"+RESET\r\n+PONG\r\n");

    // QUIT: +OK, then the connection closes (extra arguments are accepted).
    let mut raw = s.raw();
    assert_eq!(raw.cmd("QUIT"), b"+OK\r\n");
    assert!(raw.closed());
    let mut raw = s.raw();
    assert_eq!(raw.cmd("QUIT now"), b"+OK\r\n");
    assert!(raw.closed());

    // HELLO.
    let mut raw = s.raw();
    let id = String::from_utf8(raw.cmd("CLIENT ID")).unwrap();
    let id = id.trim_start_matches(':').trim_end();
    let hello = raw.cmd("HELLO");
    let want2 = format!(
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    );
    assert_eq!(String::from_utf8_lossy(&hello), want2);
    let hello3 = raw.cmd("HELLO 3 SETNAME conn3");
    let want3 = want2
        .replace("*14\r\n", "%7\r\n")
        .replace(":2\r\n", ":3\r\n");
    assert_eq!(String::from_utf8_lossy(&hello3), want3);
    assert_eq!(raw.cmd("CLIENT GETNAME"), b"$5\r\nconn3\r\n");
    // HELLO without a version keeps the protocol.
    assert_eq!(raw.cmd("HELLO").first(), Some(&b'%'));
    assert_eq!(
        raw.cmd("HELLO 1"),
        b"-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        raw.cmd("HELLO 4"),
        b"-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        raw.cmd("HELLO abc"),
        b"-ERR Protocol version is not an integer or out of range\r\n"
    );
    assert_eq!(
        raw.cmd("HELLO 2 foo"),
        b"-ERR Syntax error in HELLO option 'foo'\r\n"
    );
    assert_eq!(
        raw.cmd("HELLO 2 SETNAME"),
        b"-ERR Syntax error in HELLO option 'SETNAME'\r\n"
    );
    assert_eq!(
        raw.cmd("HELLO 2 AUTH default"),
        b"-ERR Syntax error in HELLO option 'AUTH'\r\n"
    );
    assert_eq!(
        raw.cmd("HELLO 2 SETNAME \"a b\""),
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    // A failed HELLO changes nothing.
    assert_eq!(raw.cmd("GET nokey"), b"_\r\n");
    assert_eq!(raw.cmd("HELLO 2").first(), Some(&b'*'));
    assert_eq!(raw.cmd("GET nokey"), b"$-1\r\n");

    // Through the redis crate: HELLO 3 gives a map.
    let mut c3 = s.conn_resp3();
    match v(&mut c3, "HELLO 3 SETNAME viacrate") {
        Value::Map(m) => {
            assert!(m.contains(&(Value::BulkString(b"proto".to_vec()), Value::Int(3))));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(q::<String>(&mut c3, "CLIENT GETNAME"), "viacrate");
}

/// A raw connection and its CLIENT INFO line.
fn raw_client(s: &TestServer) -> (common::RawConn, String) {
    let mut raw = s.raw();
    let info = String::from_utf8(raw.cmd("CLIENT INFO")).unwrap();
    (raw, info)
}

/// Whether client `id` leaves CLIENT LIST within 5 seconds.
fn leaves_client_list(me: &mut Connection, id: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if listed(me, id).is_none() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// CLIENT KILL reaches a connection wherever its task waits: parked in a
/// blocking command, and stuck writing replies its client does not read.
#[test]
fn client_kill_reaches_blocked_and_stuck_clients() {
    let s = TestServer::start_with(&["--appendonly", "no"]);
    let mut me = s.conn();

    // Parked in BLPOP: closed without a reply, no longer blocked.
    let (mut blocked, info) = raw_client(&s);
    let id = client_field(&info, "id");
    blocked.send(b"BLPOP nolist 0\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !q::<String>(&mut me, "INFO clients").contains("blocked_clients:1") {
        assert!(Instant::now() < deadline, "BLPOP did not block");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(q::<i64>(&mut me, &format!("CLIENT KILL ID {id}")), 1);
    assert!(blocked.closed());
    assert!(leaves_client_list(&mut me, &id));
    assert!(q::<String>(&mut me, "INFO clients").contains("blocked_clients:0"));

    // Stuck: it asks for megabytes of replies and reads none, so the server's
    // writes to it wait for a full socket to drain.
    let value = "x".repeat(64 * 1024);
    assert_eq!(v(&mut me, &format!("SET big {value}")), Value::Okay);
    let (mut stuck, info) = raw_client(&s);
    let id = client_field(&info, "id");
    let asked = 1000 * value.len();
    stuck.send("GET big\r\n".repeat(1000).as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    let line = listed(&mut me, &id).expect("the stuck client is listed");
    // It shows the command it is stuck in, as Redis does.
    assert_eq!(client_field(&line, "cmd"), "get", "{line}");
    assert_eq!(q::<i64>(&mut me, &format!("CLIENT KILL ID {id}")), 1);
    assert!(leaves_client_list(&mut me, &id));
    // Closed with most of the replies never sent: what the socket buffers
    // held at the kill, not the rest of the 64 MB.
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match std::io::Read::read(&mut stuck.stream, &mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the killed client was not closed: {e}"),
        }
    }
    assert!(
        got < asked / 2,
        "{got} of {asked} bytes arrived after the kill"
    );
    // Everyone else is still served.
    assert_eq!(q::<String>(&mut me, "PING"), "PONG");
}

#[test]
fn client_kill_filters() {
    let s = TestServer::start();
    let mut me = s.conn();
    let my_id: i64 = q(&mut me, "CLIENT ID");

    // ADDR (the connection is closed by the server: EOF without sending anything).
    let (mut victim, info) = raw_client(&s);
    let a = client_field(&info, "addr");
    assert_eq!(q::<i64>(&mut me, &format!("CLIENT KILL ADDR {a}")), 1);
    assert!(victim.closed());
    assert_eq!(q::<i64>(&mut me, "CLIENT KILL ADDR 1.2.3.4:5"), 0);
    // The old form.
    let (mut victim, info) = raw_client(&s);
    let a = client_field(&info, "addr");
    assert_eq!(v(&mut me, &format!("CLIENT KILL {a}")), Value::Okay);
    assert!(victim.closed());
    assert_eq!(e(&mut me, "CLIENT KILL 1.2.3.4:5"), "ERR No such client");
    // ID.
    let (mut victim, info) = raw_client(&s);
    let vid = client_field(&info, "id");
    assert_eq!(q::<i64>(&mut me, &format!("CLIENT KILL ID {vid}")), 1);
    assert!(victim.closed());

    // LADDR: every connection to this listener but me (SKIPME yes by default).
    let (mut v1, info) = raw_client(&s);
    let (mut v2, _) = raw_client(&s);
    let laddr = client_field(&info, "laddr");
    assert_eq!(laddr, format!("127.0.0.1:{}", s.port));
    assert_eq!(q::<i64>(&mut me, &format!("CLIENT KILL LADDR {laddr}")), 2);
    assert!(v1.closed());
    assert!(v2.closed());
    assert_eq!(q::<String>(&mut me, "PING"), "PONG");
    assert_eq!(q::<i64>(&mut me, "CLIENT KILL LADDR 127.0.0.1:1"), 0);

    // MAXAGE: only connections at least that many seconds old (keel follows
    // Redis 7.4's MAXAGE filter).
    let (mut old, _) = raw_client(&s);
    std::thread::sleep(Duration::from_millis(1100));
    let (mut young, _) = raw_client(&s);
    assert_eq!(q::<i64>(&mut me, "CLIENT KILL MAXAGE 1000"), 0);
    assert_eq!(q::<i64>(&mut me, "CLIENT KILL MAXAGE 1"), 1);
    assert!(old.closed());
    assert_eq!(young.cmd("PING"), b"+PONG\r\n");
    assert_eq!(q::<String>(&mut me, "PING"), "PONG");

    // SKIPME no: a connection can kill itself; it gets the reply, then closes.
    let (mut raw, info) = raw_client(&s);
    let id = client_field(&info, "id");
    assert_eq!(
        raw.cmd(&format!("CLIENT KILL ID {id} SKIPME yes")),
        b":0\r\n"
    );
    assert_eq!(
        raw.cmd(&format!("CLIENT KILL ID {id} SKIPME no")),
        b":1\r\n"
    );
    assert!(raw.closed());

    // Errors.
    assert_eq!(
        e(&mut me, "CLIENT KILL ID 0"),
        "ERR client-id should be greater than 0"
    );
    assert_eq!(
        e(&mut me, "CLIENT KILL ID abc"),
        "ERR client-id should be greater than 0"
    );
    assert_eq!(e(&mut me, "CLIENT KILL foo bar"), "ERR syntax error");
    assert_eq!(
        e(&mut me, "CLIENT KILL TYPE foo"),
        "ERR Unknown client type 'foo'"
    );
    assert_eq!(e(&mut me, "CLIENT KILL USER foo"), "ERR No such user 'foo'");
    assert_eq!(e(&mut me, "CLIENT KILL SKIPME foo"), "ERR syntax error");
    assert_eq!(e(&mut me, "CLIENT KILL 1.2.3.4:5 x"), "ERR syntax error");
    assert_eq!(e(&mut me, "CLIENT KILL"), arity("client|kill"));
    assert_eq!(q::<i64>(&mut me, "CLIENT ID"), my_id);
}

#[test]
fn a_killed_client_is_gone_at_once() {
    let s = TestServer::start();
    let mut me = s.conn();
    for round in 0..50 {
        let (mut victim, info) = raw_client(&s);
        let id = client_field(&info, "id");
        // Killed means gone: not killed twice, not listed (as Redis frees it at
        // once), whether or not its connection has been torn down yet (the three
        // commands go in one pipeline, so they run back to back).
        let (first, second, list): (i64, i64, String) = redis::pipe()
            .cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(&id)
            .cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(&id)
            .cmd("CLIENT")
            .arg("LIST")
            .query(&mut me)
            .unwrap();
        assert_eq!((first, second), (1, 0), "round {round}: killed twice");
        assert!(
            !list.contains(&format!("id={id} ")),
            "round {round}: still listed: {list}"
        );
        // Sent after CLIENT KILL answered: it must never run.
        victim.send(format!("SET after-kill-{round} v\r\n").as_bytes());
        let got = victim.read_until(b"\r\n");
        assert!(got.is_empty(), "round {round}: a killed client got {got:?}");
    }
    assert_eq!(q::<i64>(&mut me, "DBSIZE"), 0, "killed clients wrote keys");
    // (INFO may count a killed client until its connection task has exited.)
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let clients = info_field(&mut me, "clients", "connected_clients").unwrap();
        if clients == "1" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "connected_clients stays {clients}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// (name, arity, flags, first, last, step, ACL categories) as Redis 7.0.15's
/// COMMAND INFO reports them (its command specs plus the rendering rules of
/// `addReplyCommandInfo`).
type Facts = (
    &'static str,
    i64,
    &'static [&'static str],
    i64,
    i64,
    i64,
    &'static [&'static str],
);

const EXPECTED_INFO: &[Facts] = &[
    (
        "get",
        2,
        &["readonly", "fast"],
        1,
        1,
        1,
        &["@read", "@string", "@fast"],
    ),
    (
        "set",
        -3,
        &["write", "denyoom"],
        1,
        1,
        1,
        &["@write", "@string", "@slow"],
    ),
    (
        "mset",
        -3,
        &["write", "denyoom"],
        1,
        -1,
        2,
        &["@write", "@string", "@slow"],
    ),
    (
        "del",
        -2,
        &["write"],
        1,
        -1,
        1,
        &["@keyspace", "@write", "@slow"],
    ),
    (
        "copy",
        -3,
        &["write", "denyoom"],
        1,
        2,
        1,
        &["@keyspace", "@write", "@slow"],
    ),
    (
        "keys",
        2,
        &["readonly"],
        0,
        0,
        0,
        &["@keyspace", "@read", "@slow", "@dangerous"],
    ),
    (
        "scan",
        -2,
        &["readonly"],
        0,
        0,
        0,
        &["@keyspace", "@read", "@slow"],
    ),
    (
        "config|get",
        -3,
        &["admin", "noscript", "loading", "stale"],
        0,
        0,
        0,
        &["@admin", "@slow", "@dangerous"],
    ),
    (
        "object|encoding",
        3,
        &["readonly"],
        2,
        2,
        1,
        &["@keyspace", "@read", "@slow"],
    ),
    (
        "hello",
        -1,
        &[
            "noscript",
            "loading",
            "stale",
            "fast",
            "no_auth",
            "allow_busy",
        ],
        0,
        0,
        0,
        &["@fast", "@connection"],
    ),
    (
        "lcs",
        -3,
        &["readonly"],
        1,
        2,
        1,
        &["@read", "@string", "@slow"],
    ),
    (
        "incrbyfloat",
        3,
        &["write", "denyoom", "fast"],
        1,
        1,
        1,
        &["@write", "@string", "@fast"],
    ),
];

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) | Value::Set(a) => a
            .iter()
            .map(|x| match x {
                Value::SimpleString(s) => s.clone(),
                Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("{other:?}"),
            })
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn command_info_matches_redis_facts() {
    let s = TestServer::start();
    let mut con = s.conn();
    for (name, ar, flags, first, last, step, acl) in EXPECTED_INFO {
        let got: Vec<Value> = q(&mut con, &format!("COMMAND INFO {name}"));
        let Value::Array(info) = &got[0] else {
            panic!("{name}: {got:?}")
        };
        assert_eq!(info.len(), 10, "{name}");
        assert_eq!(info[0], Value::BulkString(name.as_bytes().to_vec()));
        assert_eq!(info[1], Value::Int(*ar), "{name} arity");
        assert_eq!(strings(&info[2]), *flags, "{name} flags");
        assert_eq!(
            (&info[3], &info[4], &info[5]),
            (&Value::Int(*first), &Value::Int(*last), &Value::Int(*step)),
            "{name} first/last/step"
        );
        assert_eq!(strings(&info[6]), *acl, "{name} ACL categories");
    }
    // Key specs, in Redis's rendering (RESP2 bytes).
    let mut raw = s.raw();
    let info = raw.cmd("COMMAND INFO copy");
    let spec = |flags: &str, index: i64| {
        format!("*6\r\n$5\r\nflags\r\n{flags}$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:{index}\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n")
    };
    let want = format!(
        "*1\r\n*10\r\n$4\r\ncopy\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n+@write\r\n+@slow\r\n*0\r\n*2\r\n{}{}*0\r\n",
        spec("*2\r\n+RO\r\n+access\r\n", 1),
        spec("*2\r\n+OW\r\n+update\r\n", 2)
    );
    assert_eq!(String::from_utf8_lossy(&info), want);
    // Unknown names: a null each; several names at once.
    assert_eq!(raw.cmd("COMMAND INFO nosuch"), b"*1\r\n$-1\r\n");
    let got: Vec<Value> = q(&mut con, "COMMAND INFO get nosuch config|get");
    assert_eq!(got.len(), 3);
    assert_eq!(got[1], Value::Nil);
    assert!(
        matches!(&got[2], Value::Array(a) if a[0] == Value::BulkString(b"config|get".to_vec()))
    );
    // A Redis command keel does not implement yet is unknown to COMMAND INFO.
    let got: Vec<Value> = q(&mut con, "COMMAND INFO xadd");
    assert_eq!(got, vec![Value::Nil]);
    // RESP3: flags and categories are sets.
    let mut c3 = s.conn_resp3();
    let got: Vec<Value> = q(&mut c3, "COMMAND INFO get");
    let Value::Array(info) = &got[0] else {
        panic!()
    };
    assert!(matches!(info[2], Value::Set(_)), "{:?}", info[2]);
}

#[test]
fn command_info_tips() {
    let s = TestServer::start();
    let mut con = s.conn();
    let got: Vec<Value> = q(&mut con, "COMMAND INFO keys");
    let Value::Array(info) = &got[0] else {
        panic!()
    };
    assert_eq!(
        strings(&info[7]),
        ["request_policy:all_shards", "nondeterministic_output_order"]
    );
}

#[test]
fn debug_object_and_digest_value() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(e(&mut con, "DEBUG OBJECT nokey"), "ERR no such key");
    let cases: &[(&str, &str, i64, usize)] = &[
        ("abc", "embstr", 1, 4),
        ("123", "int", 2_147_483_647, 2),
        ("32768", "int", 1, 5),
        ("2147483648", "int", 1, 11),
        ("9223372036854775807", "int", 1, 20),
        ("0123", "embstr", 1, 5),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "embstr", 1, 37),
    ];
    for (val, enc, refcount, len) in cases {
        assert_eq!(v(&mut con, &format!("SET k {val}")), Value::Okay);
        let line: String = q(&mut con, "DEBUG OBJECT k");
        assert!(line.starts_with("Value at:0x"), "{line}");
        let field = |f: &str| {
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(&format!("{f}:")))
                .unwrap_or_else(|| panic!("{f} in {line}"))
                .to_string()
        };
        assert_eq!(field("encoding"), *enc, "{val}: {line}");
        assert_eq!(field("refcount"), refcount.to_string(), "{val}: {line}");
        assert_eq!(field("serializedlength"), len.to_string(), "{val}: {line}");
        assert!(
            field("lru_seconds_idle").parse::<u32>().unwrap() <= 2,
            "{line}"
        );
    }
    assert_eq!(
        e(&mut con, "DEBUG OBJECT"),
        "ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP."
    );

    // DIGEST-VALUE: depends on the value and on whether the key has a TTL, not
    // on the key's name (as Redis: values 'same' in a and b, and b with a TTL,
    // give the digests below).
    assert_eq!(
        v(&mut con, "MSET a same b same c other d same"),
        Value::Okay
    );
    assert_eq!(v(&mut con, "EXPIRE b 100"), Value::Int(1));
    let d: Vec<String> = q(&mut con, "DEBUG DIGEST-VALUE a b c nokey d");
    assert_eq!(d.len(), 5);
    assert_eq!(d[0], "da92cb9f752614224dfce52c5172f1e025af6d71");
    assert_eq!(d[1], "3c173560a91ffe768cea0ed414183e7b3f012cf2");
    assert_ne!(d[0], d[2]);
    assert_eq!(d[3], "0".repeat(40));
    assert_eq!(d[4], d[0]);
    assert!(d[0].len() == 40 && d[0].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(v(&mut con, "DEBUG DIGEST-VALUE"), Value::Array(vec![]));
    // DIGEST changes with the data, including TTLs, and is zeros when empty.
    let d1: String = q(&mut con, "DEBUG DIGEST");
    assert_eq!(v(&mut con, "PERSIST b"), Value::Int(1));
    let d2: String = q(&mut con, "DEBUG DIGEST");
    assert_ne!(d1, d2);
    assert_eq!(v(&mut con, "FLUSHALL"), Value::Okay);
    assert_eq!(q::<String>(&mut con, "DEBUG DIGEST"), "0".repeat(40));
    assert_eq!(
        e(&mut con, "DEBUG DIGEST x"),
        "ERR unknown subcommand or wrong number of arguments for 'DIGEST'. Try DEBUG HELP."
    );
    let help: Vec<String> = q(&mut con, "DEBUG HELP");
    assert!(help[0].starts_with("DEBUG <subcommand>"), "{help:?}");
    assert_eq!(
        e(&mut con, "DEBUG HELP x"),
        "ERR unknown subcommand or wrong number of arguments for 'HELP'. Try DEBUG HELP."
    );
    assert_eq!(
        e(&mut con, "DEBUG foo"),
        "ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP."
    );
}

/// Runs keel-server with `conf` as its config file and returns (exit status,
/// stdout + stderr), killing it if it does not exit within 20 s.
fn run_with_config(conf: &std::path::Path) -> (std::process::ExitStatus, String) {
    let dir = conf.parent().unwrap();
    let mut child = Command::new(binary())
        .arg(conf)
        .args(["--port", "0", "--dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keel-server");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "keel-server kept running with a bad config: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status, text)
}

#[test]
fn startup_config_errors_name_file_line_and_option() {
    let dir = temp_dir("badconf");
    let cases: &[(&str, &str)] = &[
        (
            "nosuchoption yes",
            "Bad directive or wrong number of arguments",
        ),
        (
            "maxclients abc",
            "argument couldn't be parsed into an integer",
        ),
        ("save 900 1", "save"),
        ("replicaof 1.2.3.4 6379", "replicaof"),
    ];
    for (i, (line, why)) in cases.iter().enumerate() {
        let conf = dir.join(format!("bad{i}.conf"));
        std::fs::write(&conf, format!("# a comment\ntimeout 0\n\n{line}\nport 0\n")).unwrap();
        let (status, text) = run_with_config(&conf);
        assert!(!status.success(), "{line}: exited with {status}: {text}");
        assert!(
            text.contains(&conf.display().to_string()),
            "{line}: the file is not named: {text}"
        );
        assert!(
            text.contains("line 4"),
            "{line}: the line is not named: {text}"
        );
        assert!(
            text.contains(&format!(">>> '{line}'")),
            "{line}: the option is not shown: {text}"
        );
        assert!(text.contains(why), "{line}: no reason ({why}): {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
