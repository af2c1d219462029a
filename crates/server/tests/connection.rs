//! Connection-level behaviour through the real binary: protocol handling,
//! pipelining, bad input, many clients, authentication and client commands.

mod common;
use common::TestServer;
use redis::Value;
use std::io::Write;
use std::time::Duration;

#[test]
fn ping_echo_and_inline() {
    let s = TestServer::start();
    let mut c = s.conn();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
    let hi: String = redis::cmd("PING").arg("hi").query(&mut c).unwrap();
    assert_eq!(hi, "hi");
    let e: Vec<u8> = redis::cmd("ECHO")
        .arg(&b"a\x00b"[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(e, b"a\x00b");
    let mut raw = s.raw();
    assert_eq!(raw.cmd("PING"), b"+PONG\r\n");
    assert_eq!(raw.cmd("ECHO \"a b\""), b"$3\r\na b\r\n");
    assert_eq!(raw.cmd("set k 'v w'"), b"+OK\r\n");
    assert_eq!(raw.cmd("get k"), b"$3\r\nv w\r\n");
}

#[test]
fn protocol_errors_close_only_that_connection() {
    let s = TestServer::start();
    let mut other = s.conn();
    let _: () = redis::cmd("SET")
        .arg("keep")
        .arg("1")
        .query(&mut other)
        .unwrap();
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n+foo\r\n",
            "-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-3\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*3000000000\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$999999999999\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"SET a \"b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, want) in cases {
        let mut raw = s.raw();
        raw.send(input);
        let got = raw.read_until(b"\r\n");
        assert_eq!(
            String::from_utf8_lossy(&got),
            *want,
            "input {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(
            raw.closed(),
            "connection should be closed after a protocol error"
        );
    }
    // A declared 500 MB argument that never arrives: no allocation, others fine.
    let mut raw = s.raw();
    raw.send(b"*2\r\n$3\r\nGET\r\n$500000000\r\nabc");
    let v: String = redis::cmd("GET").arg("keep").query(&mut other).unwrap();
    assert_eq!(v, "1");
    drop(raw);
    // Huge inline line without a newline.
    let mut raw = s.raw();
    raw.send(&vec![b'a'; 70 * 1024]);
    let got = raw.read_until(b"\r\n");
    assert_eq!(got, b"-ERR Protocol error: too big inline request\r\n");
    let v: String = redis::cmd("GET").arg("keep").query(&mut other).unwrap();
    assert_eq!(v, "1");
}

#[test]
fn pipelining_ten_thousand_commands_in_one_write() {
    let s = TestServer::start();
    let mut raw = s.raw();
    let mut req = Vec::new();
    for i in 0..10_000 {
        let k = format!("k{i}");
        req.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n$1\r\nv\r\n", k.len(), k).as_bytes(),
        );
    }
    raw.send(&req);
    let got = raw.read_n(10_000 * 5);
    assert_eq!(got.len(), 50_000);
    assert!(got.chunks(5).all(|c| c == b"+OK\r\n"));
    let mut c = s.conn();
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 10_000);
}

#[test]
fn a_thousand_concurrent_connections() {
    let s = TestServer::start();
    let mut conns: Vec<_> = (0..1000).map(|_| s.raw()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.send(format!("SET c{i} {i}\r\n").as_bytes());
    }
    for c in conns.iter_mut() {
        assert_eq!(c.read_n(5), b"+OK\r\n");
    }
    let mut c = s.conn();
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 1000);
    let info: String = redis::cmd("INFO").arg("clients").query(&mut c).unwrap();
    assert!(info.contains("connected_clients:1001"), "{info}");
}

#[test]
fn client_closing_mid_command_leaves_no_trace() {
    let s = TestServer::start();
    {
        let mut raw = s.raw();
        raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$10\r\nabc");
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut c = s.conn();
    let v: Option<String> = redis::cmd("GET").arg("x").query(&mut c).unwrap();
    assert_eq!(v, None);
    let info: String = redis::cmd("INFO").arg("clients").query(&mut c).unwrap();
    assert!(info.contains("connected_clients:1"), "{info}");
}

#[test]
fn unknown_commands_and_arity() {
    let s = TestServer::start();
    let mut raw = s.raw();
    assert_eq!(
        String::from_utf8_lossy(&raw.cmd("FOO a b")),
        "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&raw.cmd("GET")),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&raw.cmd("CONFIG NOPE")),
        "-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n"
    );
    // A Redis command keel does not have yet says so.
    let r = String::from_utf8_lossy(&raw.cmd("XADD s * a b")).into_owned();
    assert!(
        r.starts_with("-ERR command 'XADD' is not supported by keel yet"),
        "{r}"
    );
}

#[test]
fn resp3_hello_and_types() {
    let s = TestServer::start();
    let mut raw = s.raw();
    let r = raw.cmd("HELLO 3");
    assert!(r.starts_with(b"%7\r\n"), "{}", String::from_utf8_lossy(&r));
    assert_eq!(raw.cmd("GET nokey"), b"_\r\n");
    assert_eq!(
        raw.cmd("HELLO 4"),
        b"-NOPROTO unsupported protocol version\r\n"
    );
    let r = raw.cmd("HELLO 2");
    assert!(r.starts_with(b"*14\r\n"));
    assert_eq!(raw.cmd("GET nokey"), b"$-1\r\n");
    let mut c = s.conn_resp3();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).unwrap();
    let v: Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg("databases")
        .query(&mut c)
        .unwrap();
    assert!(matches!(v, Value::Map(_)), "{v:?}");
}

#[test]
fn auth_with_requirepass() {
    let s = TestServer::start_with(&["--requirepass", "s3cret"]);
    let mut raw = s.raw();
    assert_eq!(raw.cmd("GET a"), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(
        raw.cmd("AUTH wrong"),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(raw.cmd("AUTH s3cret"), b"+OK\r\n");
    assert_eq!(raw.cmd("GET a"), b"$-1\r\n");
    let mut raw = s.raw();
    let r = raw.cmd("HELLO 3 AUTH default s3cret SETNAME me");
    assert!(r.starts_with(b"%7"), "{}", String::from_utf8_lossy(&r));
    assert_eq!(raw.cmd("CLIENT GETNAME"), b"$2\r\nme\r\n");
    let c = redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", s.port)).unwrap();
    let mut c = c.get_connection().unwrap();
    let _: () = redis::cmd("SET").arg("x").arg("y").query(&mut c).unwrap();
}

#[test]
fn select_and_databases() {
    let s = TestServer::start_with(&["--databases", "4"]);
    let mut raw = s.raw();
    assert_eq!(raw.cmd("SELECT 3"), b"+OK\r\n");
    assert_eq!(raw.cmd("SELECT 4"), b"-ERR DB index is out of range\r\n");
    assert_eq!(
        raw.cmd("SELECT x"),
        b"-ERR value is not an integer or out of range\r\n"
    );
}

#[test]
fn client_commands() {
    let s = TestServer::start();
    let mut a = s.conn();
    let mut b = s.conn();
    let id_b: i64 = redis::cmd("CLIENT").arg("ID").query(&mut b).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("bee")
        .query(&mut b)
        .unwrap();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut a).unwrap();
    assert!(list.contains(&format!("id={id_b} ")), "{list}");
    assert!(list.contains("name=bee"), "{list}");
    let bad: redis::RedisResult<()> = redis::cmd("CLIENT").arg("SETNAME").arg("a b").query(&mut a);
    assert!(bad
        .unwrap_err()
        .to_string()
        .contains("cannot contain spaces"));
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id_b)
        .query(&mut a)
        .unwrap();
    assert_eq!(n, 1);
    let r: redis::RedisResult<String> = redis::cmd("PING").query(&mut b);
    assert!(r.is_err(), "killed client must be disconnected");
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut a).unwrap();
    assert!(info.starts_with("id="), "{info}");
}

#[test]
fn client_reply_off_and_skip() {
    let s = TestServer::start();
    let mut raw = s.raw();
    raw.send(b"CLIENT REPLY SKIP\r\nSET a 1\r\nGET a\r\n");
    assert_eq!(raw.read_n(7), b"$1\r\n1\r\n");
    raw.send(b"CLIENT REPLY OFF\r\nSET a 2\r\nCLIENT REPLY ON\r\nGET a\r\n");
    assert_eq!(raw.read_n(12), b"+OK\r\n$1\r\n2\r\n");
}

#[test]
fn info_has_redis_sections_and_fields() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("a").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("zz").query(&mut c).unwrap();
    let info: String = redis::cmd("INFO").query(&mut c).unwrap();
    for f in [
        "# Server",
        "redis_version:",
        "tcp_port:",
        "uptime_in_seconds:",
        "# Clients",
        "connected_clients:",
        "# Memory",
        "used_memory:",
        "used_memory_human:",
        "maxmemory_policy:",
        "# Persistence",
        "loading:0",
        "# Stats",
        "total_commands_processed:",
        "keyspace_hits:1",
        "keyspace_misses:1",
        "# Replication",
        "role:master",
        "# CPU",
        "used_cpu_sys:",
        "# Errorstats",
        "# Keyspace",
        "db0:keys=1,expires=0",
    ] {
        assert!(info.contains(f), "missing {f} in\n{info}");
    }
    assert!(!info.contains("# Commandstats"));
    let all: String = redis::cmd("INFO").arg("all").query(&mut c).unwrap();
    assert!(all.contains("cmdstat_set:calls=1,"), "{all}");
    let _: redis::RedisResult<()> = redis::cmd("GET").query(&mut c);
    let es: String = redis::cmd("INFO").arg("errorstats").query(&mut c).unwrap();
    assert!(es.contains("errorstat_ERR:count=1"), "{es}");
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    let es: String = redis::cmd("INFO").arg("errorstats").query(&mut c).unwrap();
    assert!(!es.contains("errorstat_ERR"), "{es}");
}

#[test]
fn command_introspection() {
    let s = TestServer::start();
    let mut c = s.conn();
    let n: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut c).unwrap();
    assert!(n > 50, "{n}");
    let v: Value = redis::cmd("COMMAND")
        .arg("INFO")
        .arg("get")
        .arg("nosuch")
        .query(&mut c)
        .unwrap();
    let Value::Array(items) = v else {
        panic!("{v:?}")
    };
    assert_eq!(items.len(), 2);
    assert_eq!(items[1], Value::Nil);
    let Value::Array(get) = &items[0] else {
        panic!()
    };
    assert_eq!(get[0], Value::BulkString(b"get".to_vec()));
    assert_eq!(get[1], Value::Int(2));
    assert_eq!(get[3], Value::Int(1));
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("MSET")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("2")
        .query(&mut c)
        .unwrap();
    assert_eq!(keys, vec!["a", "b"]);
    let docs: Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg("set")
        .query(&mut c)
        .unwrap();
    assert!(format!("{docs:?}").contains("KEEPTTL"));
    let list: Vec<String> = redis::cmd("COMMAND")
        .arg("LIST")
        .arg("FILTERBY")
        .arg("PATTERN")
        .arg("client*")
        .query(&mut c)
        .unwrap();
    assert!(list.contains(&"client|list".to_string()), "{list:?}");
}

#[test]
fn slowlog_and_latency() {
    let s = TestServer::start_with(&[
        "--slowlog-log-slower-than",
        "0",
        "--latency-monitor-threshold",
        "1",
    ]);
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).unwrap();
    let n: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert!(n >= 1);
    let v: Value = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert!(format!("{v:?}").contains("'\"SET\"'"), "{v:?}");
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut c).unwrap();
    let _: () = redis::cmd("DEBUG")
        .arg("SLEEP")
        .arg("0.01")
        .query(&mut c)
        .unwrap();
    let v: Value = redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
    assert!(format!("{v:?}").contains("command"), "{v:?}");
    let doctor: String = redis::cmd("LATENCY").arg("DOCTOR").query(&mut c).unwrap();
    assert!(doctor.contains("latency"), "{doctor}");
}

#[test]
fn monitor_sees_commands() {
    let s = TestServer::start();
    let mut m = s.raw();
    assert_eq!(m.cmd("MONITOR"), b"+OK\r\n");
    let mut c = s.conn();
    let _: () = redis::cmd("SET")
        .arg("mk")
        .arg("v v")
        .query(&mut c)
        .unwrap();
    let mut seen = String::new();
    for _ in 0..10 {
        seen.push_str(&String::from_utf8_lossy(&m.read_until(b"\r\n")));
        if seen.contains("\"mk\"") {
            break;
        }
    }
    assert!(seen.contains("\"SET\" \"mk\" \"v v\""), "{seen}");
}

#[test]
fn effects_feed_shows_deterministic_effects() {
    let s = TestServer::start();
    let mut f = s.raw();
    assert_eq!(f.cmd("DEBUG EFFECTS"), b"+OK\r\n");
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let line = f.read_until(b"\r\n");
    assert_eq!(String::from_utf8_lossy(&line), "+0 \"SET\" \"k\" \"v\"\r\n");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut s = TestServer::start();
    let status = s.terminate();
    assert!(status.success(), "{status:?}");
    let log = s.log();
    assert!(log.contains("Ready to accept connections"), "{log}");
    assert!(log.contains("bye bye"), "{log}");
}

#[test]
fn shutdown_command() {
    let mut s = TestServer::start();
    let mut raw = s.raw();
    raw.send(b"SHUTDOWN NOSAVE\r\n");
    assert!(raw.closed());
    for _ in 0..100 {
        if !s.alive() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server still running after SHUTDOWN");
}

#[test]
fn maxclients_rejects_extra_connections() {
    let s = TestServer::start_with(&["--maxclients", "2"]);
    // The start-up probe's connection may not be gone yet: wait until the
    // first client is the only one, so that exactly two are connected below.
    let mut a = s.conn();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut a).unwrap();
        if info.contains("connected_clients:1\r\n") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{info}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut b = s.raw();
    b.send(b"PING\r\n");
    assert_eq!(b.read_until(b"\r\n"), b"+PONG\r\n");
    let mut c = s.raw();
    let r = c.read_until(b"\r\n");
    assert_eq!(r, b"-ERR max number of clients reached\r\n");
}

#[tokio::test]
async fn async_client_resp2_and_resp3() {
    let s = TestServer::start();
    for url in [s.url(), s.url_resp3()] {
        let client = redis::Client::open(url).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("SET")
            .arg("ak")
            .arg("av")
            .query_async(&mut c)
            .await
            .unwrap();
        let v: String = redis::cmd("GET")
            .arg("ak")
            .query_async(&mut c)
            .await
            .unwrap();
        assert_eq!(v, "av");
    }
}

#[test]
fn configured_protocol_limits() {
    let s = TestServer::start_with(&[
        "--proto-max-bulk-len",
        "2mb",
        "--client-query-buffer-limit",
        "1mb",
    ]);
    let mut other = s.conn();
    // A bulk argument longer than proto-max-bulk-len is a protocol error.
    let mut raw = s.raw();
    raw.send(b"*2\r\n$3\r\nGET\r\n$3000000\r\n");
    assert_eq!(
        raw.read_until(b"\r\n"),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    assert!(raw.closed());
    // A query buffer past client-query-buffer-limit closes that client (Redis sends
    // no reply), and nobody else is affected. The bulk (1.1 MB, allowed by
    // proto-max-bulk-len) cannot complete below the 1 MB limit, so the limit is
    // what closes the client however the reads fall. (With a bulk just under the
    // limit, a read that ended within a few hundred bytes after it let the SET
    // run first, and the 'a's after it then failed as a too long inline request:
    // a test that depended on read sizes.)
    let mut raw = s.raw();
    raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1100000\r\n");
    let chunk = vec![b'a'; 64 * 1024];
    let mut closed = false;
    for _ in 0..40 {
        if raw.stream.write_all(&chunk).is_err() {
            closed = true;
            break;
        }
    }
    closed = closed || raw.closes();
    assert!(
        closed,
        "client over the query buffer limit must be disconnected"
    );
    let _: () = redis::cmd("SET")
        .arg("ok")
        .arg("1")
        .query(&mut other)
        .unwrap();
    let info: String = redis::cmd("INFO").arg("stats").query(&mut other).unwrap();
    assert!(
        info.contains("client_query_buffer_limit_disconnections:1"),
        "{info}"
    );
}

#[test]
fn random_garbage_never_takes_the_server_down() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: () = redis::cmd("SET")
        .arg("keep")
        .arg("intact")
        .query(&mut c)
        .unwrap();
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // Fragments that steer the bytes toward interesting parser states.
    let pieces: &[&[u8]] = &[
        b"*",
        b"$",
        b"\r\n",
        b"-1",
        b"0",
        b"99999999999",
        b"SET",
        b"GET",
        b"\"",
        b"'",
        b"\\x",
        b"\n",
        b"*3\r\n",
        b"$3\r\n",
        b"PING",
        b" ",
        b"\x00",
        b"\xff",
        b"HELLO 3",
        b"SUBSCRIBE",
        b"MULTI",
    ];
    for _ in 0..300 {
        let mut raw = s.raw();
        let mut msg = Vec::new();
        for _ in 0..(next() % 30) {
            if next() % 3 == 0 {
                msg.push((next() % 256) as u8);
            } else {
                msg.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
        }
        let _ = raw.stream.write_all(&msg);
        let _ = raw.stream.set_read_timeout(Some(Duration::from_millis(5)));
        let mut buf = [0u8; 256];
        let _ = std::io::Read::read(&mut raw.stream, &mut buf);
    }
    let v: String = redis::cmd("GET").arg("keep").query(&mut c).unwrap();
    assert_eq!(v, "intact");
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}

/// One command as a RESP array.
fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A pipelined batch reads the clocks once per command (one command's end is
/// the next one's start): time must still move inside a batch, for expiry and
/// for each command's own duration (slow log, commandstats).
#[test]
fn time_moves_inside_a_pipelined_batch() {
    let s = TestServer::start_with(&["--slowlog-log-slower-than", "100000"]);
    let mut c = s.conn();
    // Only the commands' own view of time can expire the key below.
    let _: () = redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let mut raw = s.raw();
    // One write of RESP arrays, so that the commands arrive and run as one
    // batch (inline commands are parsed one at a time).
    let mut req = resp(&[b"SET", b"k", b"v", b"PX", b"100"]);
    req.extend(resp(&[b"DEBUG", b"SLEEP", b"0.3"]));
    req.extend(resp(&[b"GET", b"k"]));
    req.extend(resp(&[b"SET", b"k2", b"v", b"PX", b"100"]));
    req.extend(resp(&[b"PTTL", b"k2"]));
    raw.send(&req);
    let got = raw.read_n(5 + 5 + 5 + 5 + 5);
    // The key set before the sleep has expired for the GET after it (a batch
    // that froze its time at the start would still find it); the one set after
    // it has not expired.
    assert!(got.starts_with(b"+OK\r\n+OK\r\n$-1\r\n+OK\r\n:"), "{got:?}");
    let pttl: i64 = String::from_utf8_lossy(&got[21..])
        .trim()
        .parse()
        .unwrap_or(-100);
    assert!((1..=100).contains(&pttl), "PTTL {pttl}: {got:?}");
    // Only the sleep was slow: the GET right after it is not charged for it.
    let v: Value = redis::cmd("SLOWLOG").arg("GET").query(&mut c).unwrap();
    let text = format!("{v:?}");
    assert!(text.contains("SLEEP"), "{text}");
    let n: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert_eq!(n, 1, "{text}");
}

/// Pipelined commands are parsed in batches before they run (so their keys can be
/// prefetched together): each must still see exactly what the ones before it did.
#[test]
fn batched_pipelines_keep_per_command_semantics() {
    let s = TestServer::start_with(&["--requirepass", "s3cret"]);
    let big = vec![b'x'; 20_000];
    // AUTH ends a batch: the SET after it in the same write is parsed with the
    // authenticated limits (an unauthenticated client may not send 20 kB).
    let mut raw = s.raw();
    let mut req = resp(&[b"AUTH", b"s3cret"]);
    req.extend(resp(&[b"SET", b"big", &big]));
    req.extend(resp(&[b"STRLEN", b"big"]));
    req.extend(resp(&[b"SET", b"empty", b""]));
    raw.send(&req);
    assert_eq!(
        raw.read_n(5 + 5 + 8 + 5),
        b"+OK\r\n+OK\r\n:20000\r\n+OK\r\n"
    );
    // Across batch boundaries (more than 32 commands), with SELECT in the middle:
    // every GET sees the SET and INCR before it, in its own database.
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 0..50 {
        let k = format!("k{}", i % 7);
        let v = format!("v{i}");
        req.extend(resp(&[b"SET", k.as_bytes(), v.as_bytes()]));
        want.extend_from_slice(b"+OK\r\n");
        req.extend(resp(&[b"GET", k.as_bytes()]));
        want.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
        req.extend(resp(&[b"INCR", b"n"]));
        want.extend_from_slice(format!(":{}\r\n", i + 1).as_bytes());
        if i == 30 {
            // An empty value prefetched with the rest of its batch.
            req.extend(resp(&[b"GET", b"empty"]));
            want.extend_from_slice(b"$0\r\n\r\n");
        }
        if i == 20 {
            req.extend(resp(&[b"SELECT", b"1"]));
            want.extend_from_slice(b"+OK\r\n");
            req.extend(resp(&[b"GET", b"n"]));
            want.extend_from_slice(b"$-1\r\n");
            req.extend(resp(&[b"SELECT", b"0"]));
            want.extend_from_slice(b"+OK\r\n");
        }
    }
    raw.send(&req);
    let got = raw.read_n(want.len());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    // RESET ends a batch too: it logs the client out, so the big SET after it
    // in the same write is refused as an unauthenticated client's would be.
    let mut req = resp(&[b"GET", b"k1"]);
    req.extend(resp(&[b"RESET"]));
    req.extend(resp(&[b"SET", b"big2", &big]));
    raw.send(&req);
    let got = raw.read_until(b"bulk length\r\n");
    assert_eq!(
        String::from_utf8_lossy(&got),
        "$3\r\nv43\r\n+RESET\r\n-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    assert!(raw.closed());
    // A protocol error after good commands in the same write: they run and
    // reply first, then the error, then the connection closes.
    let mut raw = s.raw();
    let mut req = resp(&[b"AUTH", b"s3cret"]);
    req.extend(resp(&[b"SET", b"a", b"1"]));
    req.extend(resp(&[b"GET", b"a"]));
    req.extend_from_slice(b"*1\r\n+foo\r\n");
    raw.send(&req);
    let got = raw.read_until(b"got '+'\r\n");
    assert_eq!(
        String::from_utf8_lossy(&got),
        "+OK\r\n+OK\r\n$1\r\n1\r\n-ERR Protocol error: expected '$', got '+'\r\n"
    );
    assert!(raw.closed());
    let mut c = redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", s.port))
        .unwrap()
        .get_connection()
        .unwrap();
    let big2: Option<Vec<u8>> = redis::cmd("GET").arg("big2").query(&mut c).unwrap();
    assert_eq!(big2, None);
}
