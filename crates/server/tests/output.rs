//! Replies handed to the worker to be written at the end of its turn
//! (`keel_server::output`, with one worker thread): they arrive complete and
//! in order, whoever writes them; a client that stops reading holds up only
//! itself. Each test also runs on two workers, where connections write their
//! replies themselves, as the same behaviour must hold there.

mod common;
use common::cmd::*;
use common::{RawConn, TestServer};
use std::io::Read;
use std::thread;
use std::time::{Duration, Instant};

/// Small enough that a read's worth of replies stays under the 64 KiB at
/// which a connection writes mid-batch itself, so the worker writes them.
const BIG: usize = 2048;

fn resp(args: &[&str]) -> String {
    let mut s = format!("*{}\r\n", args.len());
    for a in args {
        s.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s
}

/// Sends (GET big, INCR counter) pairs, one at a time, without reading,
/// until the server's socket to it is full (a 16 KiB receive buffer on this
/// side: the server's send buffer fills after a few MB), then one more INCR;
/// checks that another client is served meanwhile, then reads everything and
/// checks every reply in order. Each read's replies stay small, so they are
/// deferred to the worker: the worker finds the socket full, and unless the
/// connection then waits for the socket itself, the last replies never come.
fn unread_replies_stay_in_order(threads: &str) {
    let s = TestServer::start_with(&["--appendonly", "no", "--server-threads", threads]);
    let mut c1 = s.conn();
    let big = "x".repeat(BIG);
    let _: () = c("SET").arg("big").arg(&big).query(&mut c1).unwrap();

    let chunks = 3000;
    let rounds = chunks;
    // The receive buffer is set before connecting, so the window it
    // advertises is small from the start.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(16 * 1024).unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], s.port).into();
    sock.connect(&addr.into()).unwrap();
    let mut raw = RawConn {
        stream: sock.into(),
    };
    raw.stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let chunk = resp(&["GET", "big"]) + &resp(&["INCR", "counter"]);
    for _ in 0..chunks {
        raw.send(chunk.as_bytes());
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(300));
    raw.send(resp(&["INCR", "counter"]).as_bytes());
    thread::sleep(Duration::from_millis(100));

    // While that client reads nothing, the others are served.
    for _ in 0..20 {
        let pong: String = c("PING").query(&mut c1).unwrap();
        assert_eq!(pong, "PONG");
    }

    // Read fast from here on: a 16 KiB window would trickle.
    socket2::SockRef::from(&raw.stream)
        .set_recv_buffer_size(4 << 20)
        .unwrap();
    let one_bulk = format!("${BIG}\r\n{big}\r\n");
    let mut want_len = 0;
    for r in 1..=rounds {
        want_len += one_bulk.len() + format!(":{r}\r\n").len();
    }
    let last = format!(":{}\r\n", rounds + 1);
    want_len += last.len();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < want_len && Instant::now() < deadline {
        match raw.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "reading the replies: {e} after {} of {want_len} bytes",
                got.len()
            ),
        }
    }
    assert_eq!(got.len(), want_len, "every reply arrives");
    let mut at = 0;
    for r in 1..=rounds {
        let bulk = &got[at..at + one_bulk.len()];
        assert!(bulk == one_bulk.as_bytes(), "reply {r}: the GET, whole");
        at += one_bulk.len();
        let int = format!(":{r}\r\n");
        assert_eq!(
            std::str::from_utf8(&got[at..at + int.len()]).unwrap(),
            int,
            "reply {r}: the INCR, in order"
        );
        at += int.len();
    }
    assert_eq!(std::str::from_utf8(&got[at..]).unwrap(), last);
    let n: i64 = c("GET").arg("counter").query(&mut c1).unwrap();
    assert_eq!(n, rounds as i64 + 1);
}

#[test]
fn unread_replies_stay_whole_and_in_order_one_thread() {
    unread_replies_stay_in_order("1");
}

#[test]
fn unread_replies_stay_whole_and_in_order_two_threads() {
    unread_replies_stay_in_order("2");
}

/// Many clients at once, each pipelining and checking its own replies: no
/// reply is lost, doubled or handed to another connection.
fn many_clients_get_their_own_replies(threads: &str) {
    let s = TestServer::start_with(&["--appendonly", "no", "--server-threads", threads]);
    let port = s.port;
    let workers: Vec<_> = (0..24)
        .map(|id| {
            thread::spawn(move || {
                let mut raw = RawConn::connect(port);
                for round in 0..150 {
                    let mut req = String::new();
                    let mut want = String::new();
                    for j in 0..8 {
                        let v = format!("{id}-{round}-{j}");
                        req.push_str(&resp(&["SET", &format!("k{id}"), &v]));
                        req.push_str(&resp(&["GET", &format!("k{id}")]));
                        want.push_str(&format!("+OK\r\n${}\r\n{v}\r\n", v.len()));
                    }
                    raw.send(req.as_bytes());
                    let got = raw.read_n(want.len());
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        want,
                        "client {id} round {round}"
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    // The byte count in INFO includes the deferred replies.
    let mut c1 = s.conn();
    let out: u64 = info_num(&mut c1, "stats", "total_net_output_bytes");
    assert!(out > 24 * 150 * 8 * 10, "total_net_output_bytes {out}");
}

#[test]
fn many_clients_get_their_own_replies_one_thread() {
    many_clients_get_their_own_replies("1");
}

#[test]
fn many_clients_get_their_own_replies_two_threads() {
    many_clients_get_their_own_replies("2");
}

/// QUIT's reply, deferred or not, is written before the connection closes;
/// a client that closes with replies still queued leaves the server serving.
#[test]
fn replies_before_a_close_and_a_vanishing_client() {
    let s = TestServer::start_with(&["--appendonly", "no"]);
    let mut raw = RawConn::connect(s.port);
    raw.send((resp(&["SET", "a", "1"]) + &resp(&["QUIT"])).as_bytes());
    let got = raw.read_until(b"+OK\r\n+OK\r\n");
    assert_eq!(got, b"+OK\r\n+OK\r\n");
    assert!(raw.closes());

    for _ in 0..50 {
        let mut gone = RawConn::connect(s.port);
        gone.send(resp(&["GET", "a"]).repeat(100).as_bytes());
        drop(gone);
    }
    let mut c1 = s.conn();
    let v: String = c("GET").arg("a").query(&mut c1).unwrap();
    assert_eq!(v, "1");
}

/// A client that kills itself (SKIPME no) gets its reply, then the close,
/// as in Redis: the reply deferred to the worker is written as the
/// connection ends.
#[test]
fn a_client_that_kills_itself_gets_the_reply() {
    let s = TestServer::start_with(&["--appendonly", "no"]);
    let mut raw = RawConn::connect(s.port);
    let id = raw.cmd("CLIENT ID");
    let id = std::str::from_utf8(&id[1..id.len() - 2])
        .unwrap()
        .to_string();
    raw.send(format!("CLIENT KILL ID {id} SKIPME no\r\n").as_bytes());
    assert_eq!(raw.read_n(4), b":1\r\n");
    assert!(raw.closes());
}

/// A client that keeps its socket full (a bulk load that writes far faster
/// than the server applies it) must not hold up everyone else's replies: the
/// worker would otherwise find that client ready read after read, never run
/// out of tasks, and never reach the end of its turn where the replies go
/// out. The flood here is SORTs of a 100-element list, sent all at once:
/// each read of it holds hundreds of them, milliseconds of work, so the
/// client keeps the socket full until it has sent everything. A PING sent
/// once the flood's replies have begun must be answered while most of the
/// flood is still to come, not after it.
fn a_flood_does_not_hold_up_other_replies(threads: &str) {
    let s = TestServer::start_with(&["--appendonly", "no", "--server-threads", threads]);
    let mut other = s.conn();
    let nums: Vec<String> = (1..=100).rev().map(|i| i.to_string()).collect();
    let _: () = c("RPUSH").arg("l").arg(&nums).query(&mut other).unwrap();
    // "*100\r\n", then $1 x9, $2 x90 and $3 x1 bulk strings.
    let reply_len = 6 + 9 * 7 + 90 * 8 + 9;
    let total = 20_000usize;
    let flood: Vec<u8> = resp(&["SORT", "l"]).repeat(total).into_bytes();
    let mut raw = s.raw();
    let mut rd = raw.stream.try_clone().unwrap();
    rd.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let reader = {
        let answered = answered.clone();
        thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            let mut n = 0;
            while n < total * reply_len {
                match rd.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => {
                        n += k;
                        answered.store(n / reply_len, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            }
        })
    };
    let writer = thread::spawn(move || raw.send(&flood));
    let start = Instant::now();
    while answered.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the flood got no replies"
        );
        thread::sleep(Duration::from_millis(1));
    }
    let pong: String = c("PING").query(&mut other).unwrap();
    let when = answered.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(pong, "PONG");
    writer.join().unwrap();
    reader.join().unwrap();
    assert_eq!(answered.load(std::sync::atomic::Ordering::SeqCst), total);
    assert!(
        when < total / 2,
        "PING answered only after {when} of the {total} flood replies ({threads} worker(s))"
    );
}

#[test]
fn a_flood_does_not_hold_up_other_replies_one_thread() {
    a_flood_does_not_hold_up_other_replies("1");
}

#[test]
fn a_flood_does_not_hold_up_other_replies_two_threads() {
    a_flood_does_not_hold_up_other_replies("2");
}
