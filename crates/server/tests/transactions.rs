//! MULTI / EXEC / DISCARD / WATCH through the real binary.

mod common;
use common::TestServer;
use redis::Value;
use std::time::{Duration, Instant};

#[test]
fn queued_commands_run_at_exec() {
    let s = TestServer::start();
    let mut raw = s.raw();
    assert_eq!(raw.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(raw.cmd("SET a 1"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("INCR a"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("GET a"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("PING"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("EXEC"), b"*4\r\n+OK\r\n:2\r\n$1\r\n2\r\n+PONG\r\n");
    assert_eq!(raw.cmd("EXEC"), b"-ERR EXEC without MULTI\r\n");
    assert_eq!(raw.cmd("DISCARD"), b"-ERR DISCARD without MULTI\r\n");
    assert_eq!(raw.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(raw.cmd("MULTI"), b"-ERR MULTI calls can not be nested\r\n");
    assert_eq!(
        raw.cmd("WATCH a"),
        b"-ERR WATCH inside MULTI is not allowed\r\n"
    );
    assert_eq!(raw.cmd("SET a 5"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("DISCARD"), b"+OK\r\n");
    assert_eq!(raw.cmd("GET a"), b"$1\r\n2\r\n");
}

#[test]
fn errors_while_queuing_abort_and_runtime_errors_do_not_roll_back() {
    let s = TestServer::start();
    let mut raw = s.raw();
    assert_eq!(raw.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(raw.cmd("SET x 1"), b"+QUEUED\r\n");
    let r = raw.cmd("NOSUCHCMD");
    assert!(
        r.starts_with(b"-ERR unknown command"),
        "{}",
        String::from_utf8_lossy(&r)
    );
    assert_eq!(
        raw.cmd("GET"),
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        raw.cmd("EXEC"),
        b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(raw.cmd("GET x"), b"$-1\r\n");
    // A command that fails when it runs does not undo the others.
    assert_eq!(raw.cmd("SET s abc"), b"+OK\r\n");
    assert_eq!(raw.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(raw.cmd("INCR s"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("SET t 1"), b"+QUEUED\r\n");
    assert_eq!(
        raw.cmd("EXEC"),
        b"*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"
    );
    assert_eq!(raw.cmd("GET t"), b"$1\r\n1\r\n");
    // SHUTDOWN cannot be queued.
    assert_eq!(raw.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(
        raw.cmd("SHUTDOWN"),
        b"-ERR Command not allowed inside a transaction\r\n"
    );
    assert_eq!(
        raw.cmd("EXEC"),
        b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
}

#[test]
fn watch_is_invalidated_by_writes_expiry_and_flushes_but_not_reads() {
    let s = TestServer::start();
    let mut a = s.raw();
    let mut b = s.conn();
    type Change = Box<dyn Fn(&mut redis::Connection)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "write",
            Box::new(|c| redis::cmd("SET").arg("w").arg("other").exec(c).unwrap()),
        ),
        (
            "del",
            Box::new(|c| redis::cmd("DEL").arg("w").exec(c).unwrap()),
        ),
        (
            "flushdb",
            Box::new(|c| redis::cmd("FLUSHDB").exec(c).unwrap()),
        ),
        (
            "flushall",
            Box::new(|c| redis::cmd("FLUSHALL").exec(c).unwrap()),
        ),
        (
            "swapdb",
            Box::new(|c| redis::cmd("SWAPDB").arg(0).arg(1).exec(c).unwrap()),
        ),
        (
            "rename",
            Box::new(|c| redis::cmd("RENAME").arg("w").arg("w2").exec(c).unwrap()),
        ),
        (
            "expire",
            Box::new(|c| redis::cmd("PEXPIRE").arg("w").arg(100_000).exec(c).unwrap()),
        ),
    ];
    for (name, change) in cases {
        let _: () = redis::cmd("SET").arg("w").arg("1").query(&mut b).unwrap();
        assert_eq!(a.cmd("WATCH w"), b"+OK\r\n");
        change(&mut b);
        assert_eq!(a.cmd("MULTI"), b"+OK\r\n");
        assert_eq!(a.cmd("SET w mine"), b"+QUEUED\r\n");
        assert_eq!(a.cmd("EXEC"), b"*-1\r\n", "{name} must invalidate WATCH");
        let _: () = redis::cmd("FLUSHALL").query(&mut b).unwrap();
    }
    // Reads do not invalidate.
    let _: () = redis::cmd("SET").arg("r").arg("1").query(&mut b).unwrap();
    assert_eq!(a.cmd("WATCH r"), b"+OK\r\n");
    let _: String = redis::cmd("GET").arg("r").query(&mut b).unwrap();
    assert_eq!(a.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(a.cmd("SET r mine"), b"+QUEUED\r\n");
    assert_eq!(a.cmd("EXEC"), b"*1\r\n+OK\r\n");
    // A watched key whose TTL passes before EXEC aborts it (Redis 7).
    let _: () = redis::cmd("SET")
        .arg("e")
        .arg("1")
        .arg("PX")
        .arg(50)
        .query(&mut b)
        .unwrap();
    assert_eq!(a.cmd("WATCH e"), b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(a.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(a.cmd("SET e mine"), b"+QUEUED\r\n");
    assert_eq!(a.cmd("EXEC"), b"*-1\r\n");
    // UNWATCH forgets.
    assert_eq!(a.cmd("WATCH u"), b"+OK\r\n");
    assert_eq!(a.cmd("UNWATCH"), b"+OK\r\n");
    let _: () = redis::cmd("SET").arg("u").arg("x").query(&mut b).unwrap();
    assert_eq!(a.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(a.cmd("SET u mine"), b"+QUEUED\r\n");
    assert_eq!(a.cmd("EXEC"), b"*1\r\n+OK\r\n");
}

#[test]
fn watch_race_between_clients() {
    // Optimistic increments from several threads: every successful EXEC counts,
    // none is lost.
    let s = TestServer::start();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = s.url();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut done = 0;
                while done < 50 {
                    let _: () = redis::cmd("WATCH").arg("counter").query(&mut c).unwrap();
                    let v: Option<i64> = redis::cmd("GET").arg("counter").query(&mut c).unwrap();
                    let r: Option<(i64,)> = redis::pipe()
                        .atomic()
                        .cmd("SET")
                        .arg("counter")
                        .arg(v.unwrap_or(0) + 1)
                        .ignore()
                        .cmd("GET")
                        .arg("counter")
                        .query(&mut c)
                        .unwrap();
                    if r.is_some() {
                        done += 1;
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let v: i64 = redis::cmd("GET")
        .arg("counter")
        .query(&mut s.conn())
        .unwrap();
    assert_eq!(v, 200);
}

#[test]
fn exec_is_atomic_for_concurrent_readers() {
    let s = TestServer::start();
    let mut w = s.conn();
    let _: () = redis::cmd("MSET")
        .arg("a")
        .arg(0)
        .arg("b")
        .arg(0)
        .query(&mut w)
        .unwrap();
    let url = s.url();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let reader = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let mut checks = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let (a, b): (i64, i64) = redis::cmd("MGET").arg("a").arg("b").query(&mut c).unwrap();
            assert_eq!(a, b, "a reader saw half of a transaction");
            checks += 1;
        }
        checks
    });
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut n = 0;
    while Instant::now() < deadline && n < 2000 {
        let _: () = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg("a")
            .ignore()
            .cmd("INCR")
            .arg("b")
            .ignore()
            .query(&mut w)
            .unwrap();
        n += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let checks = reader.join().unwrap();
    assert!(checks > 0 && n > 0);
}

#[test]
fn transactions_survive_restart_and_torn_tail() {
    let s = TestServer::start_with(&["--appendfsync", "always"]);
    let mut c = s.conn();
    let _: () = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("p")
        .arg(1)
        .ignore()
        .cmd("SET")
        .arg("q")
        .arg(2)
        .ignore()
        .query(&mut c)
        .unwrap();
    let mut s = s;
    s.keep_dir();
    let dir = s.dir.clone();
    s.kill9();
    // The AOF holds the transaction as MULTI ... EXEC; append a torn transaction.
    let aofdir = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(aofdir.join("appendonly.aof.manifest")).unwrap();
    let last = manifest
        .lines()
        .rfind(|l| l.contains("type i"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .to_string();
    let path = aofdir.join(last);
    let text = std::fs::read(&path).unwrap();
    assert!(
        String::from_utf8_lossy(&text).contains("MULTI"),
        "a transaction is logged inside MULTI/EXEC"
    );
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(
        &mut f,
        b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\np\r\n$3\r\nbad\r\n",
    )
    .unwrap();
    drop(f);
    let s2 = TestServer::start_in(&dir, &[]);
    let mut c = s2.conn();
    let (p, q): (String, String) = redis::cmd("MGET").arg("p").arg("q").query(&mut c).unwrap();
    assert_eq!(
        (p.as_str(), q.as_str()),
        ("1", "2"),
        "the torn MULTI block must not apply"
    );
}

#[tokio::test]
async fn async_pipeline_transaction_resp3() {
    let s = TestServer::start();
    let client = redis::Client::open(s.url_resp3()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let (a, b): (i64, i64) = redis::pipe()
        .atomic()
        .cmd("INCRBY")
        .arg("x")
        .arg(5)
        .cmd("INCRBY")
        .arg("x")
        .arg(6)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!((a, b), (5, 11));
    let e = redis::cmd("EXEC")
        .query_async::<Value>(&mut c)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("EXEC without MULTI"), "{e}");
}
