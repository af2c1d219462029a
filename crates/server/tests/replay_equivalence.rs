//! Replay equivalence: for random sequences of string and key writes (with short
//! TTLs, so that lazy and active expiry produce effects of their own, FLUSHDB,
//! FLUSHALL and SELECT), replaying the AOF rebuilds exactly the dataset that was
//! live: DEBUG DIGEST before == after DEBUG LOADAOF, after a restart, and with a
//! BGREWRITEAOF in the middle of the writes.
//!
//! `proptest` is not a dev-dependency of keel-server, so the sequences come from a
//! small deterministic PRNG (xorshift64*) seeded per case; a failure prints the seed
//! and the whole sequence.

mod common;
use common::TestServer;
use redis::{Connection, Value};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}

const DBS: u64 = 3;
const KEYS: u64 = 10;
/// Short TTLs are at most this long, so waiting a bit longer lets them all pass.
const SHORT_TTL_MAX_MS: u64 = 80;

enum Step {
    Cmd(Vec<String>),
    Sleep(u64),
}

fn key(r: &mut Rng) -> String {
    format!("k{}", r.below(KEYS))
}

fn value(r: &mut Rng) -> String {
    match r.below(6) {
        0 => r.below(100).to_string(),
        1 => format!("-{}", r.below(50)),
        2 => format!("{}.{}", r.below(10), r.below(100)),
        3 => String::new(),
        4 => "abc".into(),
        _ => format!("v{}", r.below(1000)),
    }
}

fn short_ms(r: &mut Rng) -> String {
    (10 + r.below(SHORT_TTL_MAX_MS - 10)).to_string()
}

fn long_s(r: &mut Rng) -> String {
    (100_000 + r.below(100_000)).to_string()
}

fn step(r: &mut Rng) -> Step {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<String>>();
    let c = match r.below(40) {
        0 | 1 => vec!["SET".into(), key(r), value(r)],
        2 => {
            let mut v = vec!["SET".into(), key(r), value(r)];
            match r.below(7) {
                0 => v.extend(s(&["PX"]).into_iter().chain([short_ms(r)])),
                1 => v.extend(s(&["EX"]).into_iter().chain([long_s(r)])),
                2 => v.push("KEEPTTL".into()),
                3 => v.push("NX".into()),
                4 => v.push("XX".into()),
                5 => v.push("GET".into()),
                _ => v.extend(s(&["PXAT", "4102444800000"])),
            }
            v
        }
        3 => vec!["SETNX".into(), key(r), value(r)],
        4 => vec!["SETEX".into(), key(r), long_s(r), value(r)],
        5 => vec!["PSETEX".into(), key(r), short_ms(r), value(r)],
        6 => vec!["GETSET".into(), key(r), value(r)],
        7 => vec!["GETDEL".into(), key(r)],
        8 => match r.below(3) {
            0 => vec!["GETEX".into(), key(r), "PX".into(), short_ms(r)],
            1 => vec!["GETEX".into(), key(r), "EX".into(), long_s(r)],
            _ => vec!["GETEX".into(), key(r), "PERSIST".into()],
        },
        9 => vec![
            "MSET".into(),
            key(r),
            value(r),
            key(r),
            value(r),
            key(r),
            value(r),
        ],
        10 => vec!["MSETNX".into(), key(r), value(r), key(r), value(r)],
        11 | 12 => vec!["APPEND".into(), key(r), value(r)],
        13 => vec!["SETRANGE".into(), key(r), r.below(12).to_string(), value(r)],
        14 | 15 => vec!["INCR".into(), key(r)],
        16 => vec!["DECR".into(), key(r)],
        17 => vec![
            "INCRBY".into(),
            key(r),
            (r.below(200) as i64 - 100).to_string(),
        ],
        18 => vec!["DECRBY".into(), key(r), r.below(20).to_string()],
        19 => vec![
            "INCRBYFLOAT".into(),
            key(r),
            r.pick(&["0.1", "-1.5", "3", "1e2", "0.333"]).into(),
        ],
        20 => vec!["DEL".into(), key(r), key(r)],
        21 => vec!["UNLINK".into(), key(r)],
        22 => {
            let mut v = vec!["EXPIRE".into(), key(r), long_s(r)];
            if r.below(2) == 0 {
                v.push(r.pick(&["NX", "XX", "GT", "LT"]).into());
            }
            v
        }
        23 | 24 => vec!["PEXPIRE".into(), key(r), short_ms(r)],
        25 => vec!["EXPIREAT".into(), key(r), "4102444800".into()],
        26 => vec!["PEXPIREAT".into(), key(r), "1000".into()], // in the past: deletes
        27 => vec!["PERSIST".into(), key(r)],
        28 => vec!["RENAME".into(), key(r), key(r)],
        29 => vec!["RENAMENX".into(), key(r), key(r)],
        30 => {
            let mut v = vec![
                "COPY".into(),
                key(r),
                key(r),
                "DB".into(),
                r.below(DBS).to_string(),
            ];
            if r.below(2) == 0 {
                v.push("REPLACE".into());
            }
            v
        }
        31 => vec!["MOVE".into(), key(r), r.below(DBS).to_string()],
        32 => vec![
            "SWAPDB".into(),
            r.below(DBS).to_string(),
            r.below(DBS).to_string(),
        ],
        33..=35 => vec!["SELECT".into(), r.below(DBS).to_string()],
        36 => {
            if r.below(4) == 0 {
                vec!["FLUSHDB".into()]
            } else {
                vec!["GET".into(), key(r)] // a read: may expire the key lazily
            }
        }
        37 => {
            if r.below(8) == 0 {
                vec!["FLUSHALL".into()]
            } else {
                vec!["EXISTS".into(), key(r), key(r)]
            }
        }
        _ => return Step::Sleep(1 + r.below(15)),
    };
    Step::Cmd(c)
}

fn sequence(seed: u64) -> Vec<Step> {
    let mut r = Rng::new(seed);
    let n = 50 + r.below(151);
    (0..n).map(|_| step(&mut r)).collect()
}

fn render(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Cmd(v) => v.join(" "),
            Step::Sleep(ms) => format!("(sleep {ms} ms)"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn conn(s: &TestServer) -> Connection {
    let c = s.conn();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    c
}

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

fn loaded(s: &TestServer) -> Connection {
    let mut c = conn(s);
    let deadline = Instant::now() + Duration::from_secs(60);
    // aof_enabled:1: keel accepts writes before its AOF writer is installed.
    loop {
        let i = info(&mut c, "persistence");
        if field(&i, "loading").as_deref() == Some("0")
            && field(&i, "aof_enabled").as_deref() == Some("1")
        {
            break;
        }
        assert!(Instant::now() < deadline, "loading never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    c
}

fn run_steps(c: &mut Connection, steps: &[Step]) {
    for st in steps {
        match st {
            Step::Cmd(v) => {
                let mut cmd = redis::cmd(&v[0]);
                for a in &v[1..] {
                    cmd.arg(a.as_str());
                }
                // Errors (INCR on "abc", RENAME of a missing key) are part of the
                // test: they must change nothing and log nothing.
                let _ = cmd.query::<Value>(c);
            }
            Step::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
        }
    }
}

/// Lets every short TTL pass, then touches every key of every database so the
/// expired ones are deleted (and their DEL logged) now rather than between the two
/// digests. Only keys without a TTL or with a TTL of days remain.
fn settle(c: &mut Connection) {
    std::thread::sleep(Duration::from_millis(SHORT_TTL_MAX_MS + 70));
    for db in 0..DBS {
        let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
        for k in 0..KEYS {
            let _: i64 = redis::cmd("EXISTS").arg(format!("k{k}")).query(c).unwrap();
        }
    }
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
}

/// The digest and the keys per database, for failure messages.
fn state(c: &mut Connection) -> (String, String) {
    let d = digest(c);
    let mut desc = String::new();
    for db in 0..DBS {
        let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
        let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        keys.sort();
        desc.push_str(&format!("db{db}:"));
        for k in keys {
            let v: Option<Vec<u8>> = redis::cmd("GET").arg(&k).query(c).unwrap();
            let ttl: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(c).unwrap();
            desc.push_str(&format!(
                " {k}={:?}@{ttl}",
                String::from_utf8_lossy(&v.unwrap_or_default())
            ));
        }
        desc.push('\n');
    }
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
    (d, desc)
}

fn assert_same(
    seed: u64,
    how: &str,
    before: &(String, String),
    after: &(String, String),
    steps: &[Step],
) {
    assert!(
        before.0 == after.0,
        "seed {seed}: the dataset differs after {how}\nbefore:\n{}after:\n{}sequence:\n{}",
        before.1,
        after.1,
        render(steps)
    );
}

#[test]
fn replay_equals_live_dataset_debug_loadaof() {
    let s = TestServer::start();
    let mut c = loaded(&s);
    let mut nonempty = 0;
    for seed in 1..=20u64 {
        let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
        let _: () = redis::cmd("SELECT").arg(0).query(&mut c).unwrap();
        let steps = sequence(seed);
        run_steps(&mut c, &steps);
        settle(&mut c);
        let before = state(&mut c);
        if before.0 != "0".repeat(40) {
            nonempty += 1;
        }
        let _: () = redis::cmd("DEBUG")
            .arg("LOADAOF")
            .query(&mut c)
            .unwrap_or_else(|e| panic!("seed {seed}: DEBUG LOADAOF failed: {e}\n{}", s.log()));
        let after = state(&mut c);
        assert_same(seed, "DEBUG LOADAOF", &before, &after, &steps);
    }
    // The generator must produce something worth replaying.
    assert!(nonempty >= 10, "only {nonempty} of 20 cases left any data");
    let expired: u64 = field(&info(&mut c, "stats"), "expired_keys")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(
        expired > 0,
        "no key expired: the TTL paths were not exercised"
    );
    eprintln!("{nonempty} of 20 cases left data; {expired} keys expired");
}

#[test]
fn replay_equals_live_dataset_restart() {
    let mut s = TestServer::start();
    for seed in 101..=106u64 {
        let mut c = loaded(&s);
        let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
        let steps = sequence(seed);
        run_steps(&mut c, &steps);
        settle(&mut c);
        let before = state(&mut c);
        drop(c);
        s.keep_dir();
        assert!(s.terminate().success(), "log:\n{}", s.log());
        s = TestServer::start_in(&s.dir.clone(), &[]);
        let mut c = loaded(&s);
        let after = state(&mut c);
        assert_same(seed, "a restart", &before, &after, &steps);
    }
}

#[test]
fn replay_equals_live_dataset_with_rewrite_in_the_middle() {
    let mut s = TestServer::start();
    let mut overlapped = 0;
    for (i, seed) in (201..=206u64).enumerate() {
        let mut c = loaded(&s);
        let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
        // Filler in a database the sequence does not touch, so the rewrite takes a
        // moment while the sequence keeps writing.
        let _: () = redis::cmd("SELECT").arg(7).query(&mut c).unwrap();
        let mut p = redis::pipe();
        for k in 0..20_000 {
            p.cmd("SET").arg(format!("filler:{k}")).arg(k).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        let _: () = redis::cmd("SELECT").arg(0).query(&mut c).unwrap();
        let steps = sequence(seed);
        let half = steps.len() / 2;
        run_steps(&mut c, &steps[..half]);
        let rewrites_before: u64 = field(&info(&mut c, "persistence"), "aof_rewrites")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        // Another connection asks for the rewrite, so this one keeps its database.
        let mut admin = conn(&s);
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut admin).unwrap();
        // The second half, one step at a time, counting the writes that ran while
        // the rewrite was still in progress.
        for st in &steps[half..] {
            if field(&info(&mut admin, "persistence"), "aof_rewrite_in_progress").as_deref()
                == Some("1")
            {
                overlapped += 1;
            }
            run_steps(&mut c, std::slice::from_ref(st));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let inf = info(&mut admin, "persistence");
            let done: u64 = field(&inf, "aof_rewrites")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if done > rewrites_before
                && field(&inf, "aof_rewrite_in_progress").as_deref() == Some("0")
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "seed {seed}: the rewrite did not finish:\n{inf}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        settle(&mut c);
        let before = state(&mut c);
        let _: () = redis::cmd("DEBUG").arg("LOADAOF").query(&mut c).unwrap();
        let after = state(&mut c);
        assert_same(seed, "a rewrite and DEBUG LOADAOF", &before, &after, &steps);
        if i % 2 == 1 {
            drop(c);
            drop(admin);
            s.keep_dir();
            assert!(s.terminate().success(), "log:\n{}", s.log());
            s = TestServer::start_in(&s.dir.clone(), &[]);
            let mut c = loaded(&s);
            let after = state(&mut c);
            assert_same(seed, "a rewrite and a restart", &before, &after, &steps);
        }
    }
    eprintln!("{overlapped} steps ran while a rewrite was in progress");
    assert!(
        overlapped > 0,
        "no write ran during a rewrite: the filler is too small"
    );
}
