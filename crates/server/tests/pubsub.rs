//! Pub/sub through the real binary: byte-exact replies (checked against Redis
//! 7.0.15), patterns, sharded channels, RESP3 pushes, subscriber mode, PUBSUB
//! introspection, fan-out under load and output buffer limits.

mod common;
use common::cmd::{c, i, info_field, q, wait_for};
use common::{RawConn, TestServer};
use std::time::{Duration, Instant};

/// Sends `line` and reads exactly as many bytes as `want` has; they must match.
fn expect(raw: &mut RawConn, line: &str, want: &[u8]) {
    raw.send(format!("{line}\r\n").as_bytes());
    expect_read(raw, want, line);
}

fn expect_read(raw: &mut RawConn, want: &[u8], what: &str) {
    let got = raw.read_n(want.len());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "{what}"
    );
}

fn conf(kind: &str, name: &str, count: i64) -> String {
    format!(
        "*3\r\n${}\r\n{kind}\r\n${}\r\n{name}\r\n:{count}\r\n",
        kind.len(),
        name.len()
    )
}

fn msg(channel: &str, payload: &str) -> String {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n{payload}\r\n",
        channel.len(),
        payload.len()
    )
}

#[test]
fn subscribe_publish_unsubscribe_byte_exact_resp2() {
    let s = TestServer::start();
    let mut sub = s.raw();
    let mut pubc = s.conn();
    // Nothing subscribed: one confirmation with a nil channel.
    expect(
        &mut sub,
        "UNSUBSCRIBE",
        b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
    );
    expect(
        &mut sub,
        "PUNSUBSCRIBE",
        b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n",
    );
    let want = conf("subscribe", "a", 1) + &conf("subscribe", "b", 2) + &conf("subscribe", "a", 2);
    expect(&mut sub, "SUBSCRIBE a b a", want.as_bytes());
    expect(&mut sub, "PING", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    expect(&mut sub, "PING hi", b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    expect(
        &mut sub,
        "GET x",
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    expect(
        &mut sub,
        "CLIENT ID",
        b"-ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    assert_eq!(i(&mut pubc, "PUBLISH a hello"), 1);
    assert_eq!(i(&mut pubc, "PUBLISH nobody hello"), 0);
    expect_read(&mut sub, msg("a", "hello").as_bytes(), "message");
    expect(
        &mut sub,
        "UNSUBSCRIBE a",
        conf("unsubscribe", "a", 1).as_bytes(),
    );
    assert_eq!(i(&mut pubc, "PUBLISH a again"), 0);
    assert_eq!(i(&mut pubc, "PUBLISH b hi"), 1);
    expect_read(&mut sub, msg("b", "hi").as_bytes(), "message on b");
    // Without arguments: from every channel.
    expect(
        &mut sub,
        "UNSUBSCRIBE",
        conf("unsubscribe", "b", 0).as_bytes(),
    );
    // Out of subscriber mode: any command again.
    expect(&mut sub, "PING", b"+PONG\r\n");
    expect(&mut sub, "GET x", b"$-1\r\n");
    // QUIT is allowed in subscriber mode.
    expect(
        &mut sub,
        "SUBSCRIBE z",
        conf("subscribe", "z", 1).as_bytes(),
    );
    expect(&mut sub, "QUIT", b"+OK\r\n");
    assert!(sub.closed());
}

#[test]
fn patterns_and_receiver_counts() {
    let s = TestServer::start();
    let mut sub = s.raw();
    let mut pubc = s.conn();
    let want = conf("psubscribe", "h*", 1) + &conf("psubscribe", "b?", 2);
    expect(&mut sub, "PSUBSCRIBE h* b?", want.as_bytes());
    // Channels and patterns share one count.
    expect(
        &mut sub,
        "SUBSCRIBE hello",
        conf("subscribe", "hello", 3).as_bytes(),
    );
    // A channel subscriber and a matching pattern are two receivers.
    assert_eq!(i(&mut pubc, "PUBLISH hello x"), 2);
    let want = msg("hello", "x") + "*4\r\n$8\r\npmessage\r\n$2\r\nh*\r\n$5\r\nhello\r\n$1\r\nx\r\n";
    expect_read(&mut sub, want.as_bytes(), "message then pmessage");
    assert_eq!(i(&mut pubc, "PUBLISH bz y"), 1);
    expect_read(
        &mut sub,
        b"*4\r\n$8\r\npmessage\r\n$2\r\nb?\r\n$2\r\nbz\r\n$1\r\ny\r\n",
        "pmessage b?",
    );
    assert_eq!(i(&mut pubc, "PUBLISH bzz y"), 0);
    assert_eq!(i(&mut pubc, "PUBSUB NUMPAT"), 2);
    let want = conf("punsubscribe", "b?", 2) + &conf("punsubscribe", "zz", 2);
    expect(&mut sub, "PUNSUBSCRIBE b? zz", want.as_bytes());
    expect(
        &mut sub,
        "PUNSUBSCRIBE",
        conf("punsubscribe", "h*", 1).as_bytes(),
    );
    assert_eq!(i(&mut pubc, "PUBSUB NUMPAT"), 0);
    // A second subscriber: counts add up.
    let mut sub2 = s.raw();
    expect(
        &mut sub2,
        "PSUBSCRIBE *",
        conf("psubscribe", "*", 1).as_bytes(),
    );
    assert_eq!(i(&mut pubc, "PUBLISH hello z"), 2);
    expect_read(&mut sub, msg("hello", "z").as_bytes(), "sub 1");
    expect_read(
        &mut sub2,
        b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$5\r\nhello\r\n$1\r\nz\r\n",
        "sub 2",
    );
}

#[test]
fn sharded_channels() {
    let s = TestServer::start();
    let mut sub = s.raw();
    let mut pubc = s.conn();
    expect(
        &mut sub,
        "SUNSUBSCRIBE",
        b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n",
    );
    expect(
        &mut sub,
        "SUBSCRIBE a",
        conf("subscribe", "a", 1).as_bytes(),
    );
    // Shard subscriptions have their own count.
    let want = conf("ssubscribe", "a", 1) + &conf("ssubscribe", "s2", 2);
    expect(&mut sub, "SSUBSCRIBE a s2", want.as_bytes());
    assert_eq!(i(&mut pubc, "SPUBLISH a hello"), 1);
    expect_read(
        &mut sub,
        b"*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$5\r\nhello\r\n",
        "smessage",
    );
    // PUBLISH reaches the plain channel only; patterns never see shard messages.
    let mut psub = s.raw();
    expect(
        &mut psub,
        "PSUBSCRIBE *",
        conf("psubscribe", "*", 1).as_bytes(),
    );
    assert_eq!(i(&mut pubc, "PUBLISH a x"), 2);
    expect_read(&mut sub, msg("a", "x").as_bytes(), "plain message");
    assert_eq!(i(&mut pubc, "SPUBLISH s2 y"), 1);
    expect_read(
        &mut sub,
        b"*3\r\n$8\r\nsmessage\r\n$2\r\ns2\r\n$1\r\ny\r\n",
        "smessage s2",
    );
    let chans: Vec<String> = q(&mut pubc, "PUBSUB SHARDCHANNELS");
    let mut chans = chans;
    chans.sort();
    assert_eq!(chans, ["a", "s2"]);
    let chans: Vec<String> = q(&mut pubc, "PUBSUB SHARDCHANNELS s*");
    assert_eq!(chans, ["s2"]);
    let n: Vec<redis::Value> = q(&mut pubc, "PUBSUB SHARDNUMSUB a s2 zz");
    assert_eq!(
        n,
        vec![
            common::cmd::bulk(b"a"),
            redis::Value::Int(1),
            common::cmd::bulk(b"s2"),
            redis::Value::Int(1),
            common::cmd::bulk(b"zz"),
            redis::Value::Int(0),
        ]
    );
    assert_eq!(
        info_field(&mut pubc, "stats", "pubsubshard_channels").as_deref(),
        Some("2")
    );
    let want = conf("sunsubscribe", "a", 1) + &conf("sunsubscribe", "s2", 0);
    expect(&mut sub, "SUNSUBSCRIBE", want.as_bytes());
    // Still subscribed to channel a: still in subscriber mode.
    expect(&mut sub, "PING", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(i(&mut pubc, "SPUBLISH a z"), 0);
    // SSUBSCRIBE is refused inside a transaction, as in Redis 7.0.
    let mut m = s.raw();
    expect(&mut m, "MULTI", b"+OK\r\n");
    expect(&mut m, "SSUBSCRIBE x", b"+QUEUED\r\n");
    expect(
        &mut m,
        "EXEC",
        b"*1\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n",
    );
}

#[test]
fn resp3_pushes_while_running_other_commands() {
    let s = TestServer::start();
    let mut sub = s.raw();
    let mut pubc = s.conn();
    sub.send(b"HELLO 3\r\n");
    let hello = sub.read_until(b"*0\r\n");
    assert!(hello.starts_with(b"%7\r\n"), "{hello:?}");
    expect(
        &mut sub,
        "SUBSCRIBE a",
        b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
    );
    // Any command runs while subscribed, with ordinary replies.
    expect(&mut sub, "PING", b"+PONG\r\n");
    expect(&mut sub, "SET k v", b"+OK\r\n");
    expect(&mut sub, "GET k", b"$1\r\nv\r\n");
    expect(&mut sub, "GET nokey", b"_\r\n");
    assert_eq!(i(&mut pubc, "PUBLISH a there"), 1);
    expect_read(
        &mut sub,
        b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nthere\r\n",
        "push",
    );
    // Publishing to itself: the push comes before the reply, as in Redis.
    expect(
        &mut sub,
        "PUBLISH a self",
        b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$4\r\nself\r\n:1\r\n",
    );
    // Interleaved: pushes between ordinary replies.
    for n in 0..50 {
        assert_eq!(i(&mut pubc, &format!("PUBLISH a m{n}")), 1);
        let push = format!(
            ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n${}\r\nm{n}\r\n",
            format!("m{n}").len()
        );
        expect_read(&mut sub, push.as_bytes(), "interleaved push");
        expect(
            &mut sub,
            "INCR counter",
            format!(":{}\r\n", n + 1).as_bytes(),
        );
    }
    expect(
        &mut sub,
        "UNSUBSCRIBE",
        b">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n",
    );
    expect(
        &mut sub,
        "UNSUBSCRIBE",
        b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n",
    );
    // The redis crate's RESP3 connection sees the same data.
    let mut r3 = s.conn_resp3();
    assert_eq!(q::<String>(&mut r3, "GET k"), "v");
}

#[test]
fn pubsub_introspection_and_client_list() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut a = s.raw();
    let mut b = s.raw();
    let want = conf("subscribe", "news.art", 1) + &conf("subscribe", "news.tech", 2);
    expect(&mut a, "SUBSCRIBE news.art news.tech", want.as_bytes());
    expect(
        &mut b,
        "SUBSCRIBE news.tech",
        conf("subscribe", "news.tech", 1).as_bytes(),
    );
    expect(
        &mut b,
        "PSUBSCRIBE news.*",
        conf("psubscribe", "news.*", 2).as_bytes(),
    );
    expect(
        &mut b,
        "SSUBSCRIBE sh",
        conf("ssubscribe", "sh", 1).as_bytes(),
    );
    let mut chans: Vec<String> = q(&mut con, "PUBSUB CHANNELS");
    chans.sort();
    assert_eq!(chans, ["news.art", "news.tech"]);
    let chans: Vec<String> = q(&mut con, "PUBSUB CHANNELS *art");
    assert_eq!(chans, ["news.art"]);
    let chans: Vec<String> = q(&mut con, "PUBSUB CHANNELS nothing*");
    assert!(chans.is_empty());
    let n: Vec<redis::Value> = q(&mut con, "PUBSUB NUMSUB news.tech news.art x");
    assert_eq!(
        n,
        vec![
            common::cmd::bulk(b"news.tech"),
            redis::Value::Int(2),
            common::cmd::bulk(b"news.art"),
            redis::Value::Int(1),
            common::cmd::bulk(b"x"),
            redis::Value::Int(0),
        ]
    );
    assert_eq!(
        q::<Vec<String>>(&mut con, "PUBSUB NUMSUB"),
        Vec::<String>::new()
    );
    assert_eq!(i(&mut con, "PUBSUB NUMPAT"), 1);
    let help: Vec<String> = q(&mut con, "PUBSUB HELP");
    assert_eq!(help.len(), 14);
    assert!(help[0].starts_with("PUBSUB <subcommand>"));
    let mut raw = s.raw();
    expect(
        &mut raw,
        "PUBSUB CHANNELS a b",
        b"-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n",
    );
    expect(
        &mut raw,
        "PUBSUB NUMPAT x",
        b"-ERR wrong number of arguments for 'pubsub|numpat' command\r\n",
    );
    expect(
        &mut raw,
        "PUBSUB FOO",
        b"-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n",
    );
    expect(
        &mut raw,
        "PUBLISH a",
        b"-ERR wrong number of arguments for 'publish' command\r\n",
    );
    assert_eq!(
        info_field(&mut con, "stats", "pubsub_channels").as_deref(),
        Some("2")
    );
    assert_eq!(
        info_field(&mut con, "stats", "pubsub_patterns").as_deref(),
        Some("1")
    );
    assert_eq!(
        info_field(&mut con, "stats", "pubsubshard_channels").as_deref(),
        Some("1")
    );
    let list: String = q(&mut con, "CLIENT LIST");
    assert!(list.contains("flags=P db=0 sub=2 psub=0 ssub=0"), "{list}");
    assert!(list.contains("flags=P db=0 sub=1 psub=1 ssub=1"), "{list}");
    let pubsub: String = q(&mut con, "CLIENT LIST TYPE pubsub");
    assert_eq!(pubsub.lines().count(), 2, "{pubsub}");
    let normal: String = q(&mut con, "CLIENT LIST TYPE normal");
    assert!(
        normal.lines().all(|l| l.contains("sub=0 psub=0 ssub=0")),
        "{normal}"
    );
    // Disconnecting removes every subscription of the client.
    drop(b);
    assert!(wait_for(Duration::from_secs(5), || {
        i(&mut con, "PUBSUB NUMPAT") == 0
            && q::<Vec<String>>(&mut con, "PUBSUB SHARDCHANNELS").is_empty()
    }));
    let n: Vec<redis::Value> = q(&mut con, "PUBSUB NUMSUB news.tech");
    assert_eq!(n[1], redis::Value::Int(1));
    // RESET too, and it leaves subscriber mode.
    expect(&mut a, "RESET", b"+RESET\r\n");
    expect(&mut a, "GET x", b"$-1\r\n");
    assert!(q::<Vec<String>>(&mut con, "PUBSUB CHANNELS").is_empty());
    assert_eq!(
        info_field(&mut con, "stats", "pubsub_channels").as_deref(),
        Some("0")
    );
}

#[test]
fn publish_inside_multi_and_redis_crate_pubsub() {
    let s = TestServer::start();
    let mut sub_con = s.conn();
    let mut sub = sub_con.as_pubsub();
    sub.subscribe("ch").expect("subscribe");
    sub.psubscribe("c*").expect("psubscribe");
    sub.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut con = s.conn();
    let r: Vec<i64> = redis::pipe()
        .atomic()
        .cmd("PUBLISH")
        .arg("ch")
        .arg("one")
        .cmd("PUBLISH")
        .arg("nothing")
        .arg("two")
        .query(&mut con)
        .expect("exec");
    assert_eq!(r, vec![2, 0]);
    let m = sub.get_message().expect("message");
    assert_eq!(m.get_channel_name(), "ch");
    assert_eq!(m.get_payload::<String>().expect("payload"), "one");
    assert!(!m.from_pattern());
    let m = sub.get_message().expect("pmessage");
    assert!(m.from_pattern());
    assert_eq!(m.get_pattern::<String>().expect("pattern"), "c*");
    assert_eq!(m.get_payload::<String>().expect("payload"), "one");
    // Binary payloads pass through unchanged.
    let payload: Vec<u8> = (0..=255u8).collect();
    let n: i64 = redis::cmd("PUBLISH")
        .arg("ch")
        .arg(&payload)
        .query(&mut con)
        .expect("publish");
    assert_eq!(n, 2);
    let m = sub.get_message().expect("binary");
    assert_eq!(m.get_payload_bytes(), &payload[..]);
    let _ = sub.get_message().expect("binary pmessage");
    // PUBLISH and SUBSCRIBE queued in a transaction.
    let mut raw = s.raw();
    expect(&mut raw, "MULTI", b"+OK\r\n");
    expect(&mut raw, "PUBLISH ch x", b"+QUEUED\r\n");
    expect(&mut raw, "SUBSCRIBE b", b"+QUEUED\r\n");
    expect(
        &mut raw,
        "EXEC",
        format!("*2\r\n:2\r\n{}", conf("subscribe", "b", 1)).as_bytes(),
    );
    expect(&mut raw, "PING", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn many_subscribers_receive_every_message_in_order() {
    const SUBS: usize = 10;
    const MSGS: usize = 2000;
    let s = TestServer::start();
    let mut readers = Vec::new();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    for n in 0..SUBS {
        let client = s.client();
        let log = s.log.clone();
        let ready = ready_tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut con = client.get_connection().expect("connect");
            let mut ps = con.as_pubsub();
            ps.set_read_timeout(Some(Duration::from_secs(20)))
                .expect("timeout");
            if n % 2 == 0 {
                ps.subscribe("fan").expect("subscribe");
            } else {
                ps.psubscribe("fa*").expect("psubscribe");
            }
            ready.send(()).expect("ready");
            let mut got = Vec::with_capacity(MSGS);
            while got.len() < MSGS {
                match ps.get_message() {
                    Ok(m) => got.push(m.get_payload::<String>().expect("payload")),
                    Err(e) => panic!(
                        "subscriber {n}: {e} after {} messages; log: {}",
                        got.len(),
                        log.lock().unwrap()
                    ),
                }
            }
            got
        }));
    }
    for _ in 0..SUBS {
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("subscribers ready");
    }
    let mut con = s.conn();
    assert!(wait_for(Duration::from_secs(5), || {
        let n: Vec<redis::Value> = q(&mut con, "PUBSUB NUMSUB fan");
        n[1] == redis::Value::Int((SUBS / 2) as i64) && i(&mut con, "PUBSUB NUMPAT") == 1
    }));
    for batch in 0..MSGS / 100 {
        let mut p = redis::pipe();
        for k in 0..100 {
            p.add_command(c(&format!("PUBLISH fan m{}", batch * 100 + k)));
        }
        let counts: Vec<i64> = p.query(&mut con).expect("publish");
        assert!(counts.iter().all(|&n| n == SUBS as i64), "{counts:?}");
    }
    let expected: Vec<String> = (0..MSGS).map(|k| format!("m{k}")).collect();
    for r in readers {
        let got = r.join().expect("subscriber thread");
        assert_eq!(got, expected);
    }
}

#[test]
fn slow_subscriber_hits_output_buffer_limit_others_keep_going() {
    let s = TestServer::start_with(&[
        "--client-output-buffer-limit",
        "pubsub",
        "1mb",
        "512kb",
        "1",
    ]);
    let mut con = s.conn();
    let mut other = s.raw();
    // A subscriber that never reads after its confirmation.
    let mut slow = s.raw();
    expect(
        &mut slow,
        "SUBSCRIBE big",
        conf("subscribe", "big", 1).as_bytes(),
    );
    // A reading subscriber on another channel keeps getting its messages.
    let mut fine = s.raw();
    expect(
        &mut fine,
        "SUBSCRIBE small",
        conf("subscribe", "small", 1).as_bytes(),
    );
    let payload = "x".repeat(64 * 1024);
    let publish = redis::cmd("PUBLISH").arg("big").arg(&payload).clone();
    let start = Instant::now();
    let mut disconnected = false;
    for n in 0..2000 {
        let receivers: i64 = publish.query(&mut con).expect("publish");
        if receivers == 0 {
            disconnected = true;
            break;
        }
        if n % 16 == 0 {
            expect(&mut other, "PING", b"+PONG\r\n");
            assert_eq!(i(&mut con, "PUBLISH small hi"), 1);
            expect_read(
                &mut fine,
                msg("small", "hi").as_bytes(),
                "reading subscriber",
            );
        }
        assert!(start.elapsed() < Duration::from_secs(60), "took too long");
    }
    assert!(disconnected, "the slow subscriber was never disconnected");
    assert_eq!(
        info_field(
            &mut con,
            "stats",
            "client_output_buffer_limit_disconnections"
        )
        .as_deref(),
        Some("1")
    );
    assert!(
        s.log_shows(
            "scheduled to be closed ASAP for overcoming of output buffer limits.",
            Duration::from_secs(10)
        ),
        "{}",
        s.log()
    );
    let n: Vec<redis::Value> = q(&mut con, "PUBSUB NUMSUB big small");
    assert_eq!(n[1], redis::Value::Int(0));
    assert_eq!(n[3], redis::Value::Int(1));
    // The slow client's connection ends (after whatever the kernel had buffered).
    let _ = slow.stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0usize;
    let eof = loop {
        match std::io::Read::read(&mut slow.stream, &mut buf) {
            Ok(0) => break true,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break false,
        }
        assert!(total < 256 << 20, "unbounded output to the slow client");
    };
    assert!(eof, "the slow connection stayed open after {total} bytes");
    // Everyone else is still served.
    expect(&mut other, "SET k v", b"+OK\r\n");
    expect(&mut other, "GET k", b"$1\r\nv\r\n");
    assert_eq!(i(&mut con, "PUBLISH small bye"), 1);
    expect_read(
        &mut fine,
        msg("small", "bye").as_bytes(),
        "after the disconnect",
    );
}

#[test]
fn soft_output_buffer_limit_applies_after_its_seconds() {
    let s = TestServer::start_with(&["--client-output-buffer-limit", "pubsub", "0", "256kb", "1"]);
    let mut con = s.conn();
    let mut slow = s.raw();
    expect(
        &mut slow,
        "SUBSCRIBE big",
        conf("subscribe", "big", 1).as_bytes(),
    );
    let payload = "x".repeat(64 * 1024);
    let publish = redis::cmd("PUBLISH").arg("big").arg(&payload).clone();
    let start = Instant::now();
    let mut disconnected_after = None;
    for _ in 0..300 {
        let receivers: i64 = publish.query(&mut con).expect("publish");
        if receivers == 0 {
            disconnected_after = Some(start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = disconnected_after.expect("the soft limit never disconnected the subscriber");
    // Kernel buffers fill first, then the soft limit must hold for over a second.
    assert!(
        after > Duration::from_secs(1),
        "disconnected after {after:?}"
    );
    assert_eq!(
        info_field(
            &mut con,
            "stats",
            "client_output_buffer_limit_disconnections"
        )
        .as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn async_subscriber_and_publisher_resp2_and_resp3() {
    use futures_util::StreamExt;
    let s = TestServer::start();
    // Names of their own per protocol: the first round's subscriber is dropped
    // without waiting for the server to see it go, and under load it may still
    // be subscribed when the second round publishes (PUBLISH then says 2).
    for (url, tag) in [(s.url(), "2"), (s.url_resp3(), "3")] {
        let ch = format!("async-ch{tag}");
        let pat = format!("async-p{tag}*");
        let pch = format!("async-p{tag}attern");
        let client = redis::Client::open(url.clone()).unwrap();
        let mut sub = client.get_async_pubsub().await.unwrap();
        sub.subscribe(&ch).await.unwrap();
        sub.psubscribe(&pat).await.unwrap();
        let mut publisher = client.get_multiplexed_async_connection().await.unwrap();
        let n: i64 = redis::cmd("PUBLISH")
            .arg(&ch)
            .arg("hello")
            .query_async(&mut publisher)
            .await
            .unwrap();
        assert_eq!(n, 1, "{url}");
        let n: i64 = redis::cmd("PUBLISH")
            .arg(&pch)
            .arg("world")
            .query_async(&mut publisher)
            .await
            .unwrap();
        assert_eq!(n, 1, "{url}");
        let mut stream = sub.on_message();
        let first = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("message in time")
            .expect("stream open");
        assert_eq!(first.get_channel_name(), ch);
        assert_eq!(first.get_payload::<String>().unwrap(), "hello");
        let second = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("message in time")
            .expect("stream open");
        assert_eq!(second.get_channel_name(), pch);
        assert_eq!(second.get_pattern::<String>().unwrap(), pat);
        assert_eq!(second.get_payload::<String>().unwrap(), "world");
    }
}
