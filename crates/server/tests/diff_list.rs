//! Differential test of the list commands against Debian's redis-server 7.0:
//! random command streams from seeded RNGs over a few keys (one of them a
//! string, for WRONGTYPE), every reply compared byte for byte, then the whole
//! datasets (DEBUG DIGEST and DIGEST-VALUE of every key).
//!
//! Every reply of a list command is ordered, so nothing is compared unordered.
//! Blocking commands are sent inside MULTI/EXEC, where they cannot block: both
//! servers serve data at once or give the immediate nil (waiting and waking are
//! the server's part, tested with it).
//! Streams run with small node sizes (CONFIG SET list-max-listpack-size) too,
//! so node splits and removals happen under every command.

mod common;
use common::diff::setup;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const KEYS: &[&str] = &["k0", "k1", "k2", "s"];

fn elem(rng: &mut StdRng) -> Vec<u8> {
    match rng.gen_range(0..12) {
        0 => b"a".to_vec(),
        1 => b"b".to_vec(),
        2 => b"c".to_vec(),
        3 => b"1".to_vec(),
        4 => b"-3".to_vec(),
        5 => b"01".to_vec(),
        6 => Vec::new(),
        7 => b"\x00\r\n".to_vec(),
        8 => rng.gen_range(-70_000i64..70_000).to_string().into_bytes(),
        9 => vec![b'x'; rng.gen_range(60..300)],
        10 => b"9223372036854775807".to_vec(),
        _ => b"12".to_vec(),
    }
}

fn key(rng: &mut StdRng) -> Vec<u8> {
    KEYS[rng.gen_range(0..KEYS.len())].as_bytes().to_vec()
}

fn side(rng: &mut StdRng) -> Vec<u8> {
    w(if rng.gen_bool(0.5) { "LEFT" } else { "RIGHT" })
}

fn num(rng: &mut StdRng, lo: i64, hi: i64) -> Vec<u8> {
    rng.gen_range(lo..=hi).to_string().into_bytes()
}

fn w(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// One random list command.
fn command(rng: &mut StdRng) -> Vec<Vec<u8>> {
    let k = key(rng);
    match rng.gen_range(0..26) {
        0..=3 => {
            let mut c = vec![w(if rng.gen_bool(0.5) { "RPUSH" } else { "LPUSH" }), k];
            for _ in 0..rng.gen_range(1..6) {
                c.push(elem(rng));
            }
            c
        }
        4 => vec![
            w(if rng.gen_bool(0.5) {
                "RPUSHX"
            } else {
                "LPUSHX"
            }),
            k,
            elem(rng),
        ],
        5 | 6 => {
            let mut c = vec![w(if rng.gen_bool(0.5) { "RPOP" } else { "LPOP" }), k];
            if rng.gen_bool(0.5) {
                c.push(num(rng, -1, 4));
            }
            c
        }
        7 => vec![w("LLEN"), k],
        8 => vec![w("LRANGE"), k, num(rng, -8, 8), num(rng, -8, 8)],
        9 => vec![w("LINDEX"), k, num(rng, -9, 9)],
        10 => vec![w("LSET"), k, num(rng, -6, 6), elem(rng)],
        11 => {
            let at = w(if rng.gen_bool(0.5) { "BEFORE" } else { "AFTER" });
            vec![w("LINSERT"), k, at, elem(rng), elem(rng)]
        }
        12 => vec![w("LREM"), k, num(rng, -2, 2), elem(rng)],
        13 => vec![w("LTRIM"), k, num(rng, -6, 3), num(rng, -4, 8)],
        14 | 15 => {
            let mut c = vec![w("LPOS"), k, elem(rng)];
            if rng.gen_bool(0.4) {
                let r = if rng.gen_bool(0.5) {
                    num(rng, 1, 3)
                } else {
                    num(rng, -3, -1)
                };
                c.extend([w("RANK"), r]);
            }
            if rng.gen_bool(0.4) {
                c.extend([w("COUNT"), num(rng, 0, 3)]);
            }
            if rng.gen_bool(0.3) {
                c.extend([w("MAXLEN"), num(rng, 0, 6)]);
            }
            c
        }
        16 | 17 => vec![w("LMOVE"), k, key(rng), side(rng), side(rng)],
        18 => vec![w("RPOPLPUSH"), k, key(rng)],
        19 => {
            let n = rng.gen_range(1..=3);
            let mut c = vec![w("LMPOP"), n.to_string().into_bytes()];
            for _ in 0..n {
                c.push(key(rng));
            }
            c.push(side(rng));
            if rng.gen_bool(0.5) {
                c.extend([w("COUNT"), num(rng, 1, 4)]);
            }
            c
        }
        20 => vec![
            w(if rng.gen_bool(0.5) { "BLPOP" } else { "BRPOP" }),
            k,
            key(rng),
            w("0.01"),
        ],
        21 => vec![w("BLMOVE"), k, key(rng), side(rng), side(rng), w("0.01")],
        22 => vec![w("BRPOPLPUSH"), k, key(rng), w("0.01")],
        23 => {
            let mut c = vec![w("BLMPOP"), w("0.01"), w("2"), k, key(rng), side(rng)];
            if rng.gen_bool(0.5) {
                c.extend([w("COUNT"), num(rng, 1, 3)]);
            }
            c
        }
        24 => vec![w("DEL"), k],
        _ => vec![w("SET"), w("s"), elem(rng)],
    }
}

#[test]
fn random_list_streams_match_redis() {
    let Some((_redis, _keel, mut p)) = setup() else {
        return;
    };
    for (seed, fill) in [(1u64, "-2"), (2, "1"), (3, "3"), (4, "-1"), (5, "-2")] {
        p.same(&format!("CONFIG SET list-max-listpack-size {fill}"));
        p.same("FLUSHALL");
        let mut rng = StdRng::seed_from_u64(seed);
        for step in 0..1500 {
            let argv = command(&mut rng);
            let refs: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
            if argv[0].starts_with(b"B") {
                p.same("MULTI");
                p.same_args(&refs, false);
                p.same("EXEC");
            } else {
                p.same_args(&refs, false);
            }
            if step % 100 == 99 {
                for k in KEYS {
                    p.same(&format!("LRANGE {k} 0 -1"));
                }
                p.same_dataset();
            }
        }
        p.same_dataset();
    }
}

/// Lists of thousands of elements (many nodes at every node size), indexed,
/// edited in the middle and trimmed on both servers.
#[test]
fn big_lists_match_redis() {
    let Some((_redis, _keel, mut p)) = setup() else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(99);
    for fill in ["-2", "-1", "5", "-5"] {
        p.same(&format!("CONFIG SET list-max-listpack-size {fill}"));
        p.same("FLUSHALL");
        for _ in 0..30 {
            let mut c = vec![
                w(if rng.gen_bool(0.5) { "RPUSH" } else { "LPUSH" }),
                w("big"),
            ];
            for _ in 0..100 {
                c.push(elem(&mut rng));
            }
            let refs: Vec<&[u8]> = c.iter().map(|a| &a[..]).collect();
            p.same_args(&refs, false);
        }
        for _ in 0..300 {
            let i = rng.gen_range(-3100i64..3100).to_string();
            let line = match rng.gen_range(0..8) {
                0 => format!("LINDEX big {i}"),
                1 => format!("LSET big {i} {}", "y".repeat(rng.gen_range(1..200))),
                2 => format!("LRANGE big {i} {}", rng.gen_range(-3100i64..3100)),
                3 => format!(
                    "LINSERT big BEFORE {} z",
                    String::from_utf8_lossy(&elem(&mut rng))
                ),
                4 => format!("LREM big {} a", rng.gen_range(-3..3)),
                5 => format!(
                    "LPOS big 12 RANK {} COUNT 3",
                    if rng.gen_bool(0.5) { 2 } else { -2 }
                ),
                6 => format!(
                    "LMOVE big big {} LEFT",
                    if rng.gen_bool(0.5) { "LEFT" } else { "RIGHT" }
                ),
                _ => format!(
                    "LTRIM big {} {}",
                    rng.gen_range(0..3),
                    rng.gen_range(-4..-1)
                ),
            };
            p.same(&line);
        }
        p.same("LRANGE big 0 -1");
        p.same_dataset();
    }
    p.same("CONFIG SET list-max-listpack-size -2");
}
