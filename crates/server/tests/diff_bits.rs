//! Differential tests against Debian's redis-server for bitmaps, bit fields and
//! HyperLogLogs: seeded random command streams over a few keys, every reply
//! compared byte for byte, then the whole datasets (DEBUG DIGEST and
//! DIGEST-VALUE of every key).
//!
//! Bit writes stay off HyperLogLog bodies except the cached-cardinality bytes:
//! a flipped bit in a sparse body makes a corrupt value, and what Redis 7.0.15
//! does with arbitrary corrupt sparse data (out-of-range runs) is memory-unsafe
//! in places, so it is not something to compare against. Known corrupt values
//! are covered by the fixed cases at the end.

mod common;
use common::diff::{setup, Pair};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const BIT_KEYS: &[&str] = &["b0", "b1", "b2", "{b}3"];
const HLL_KEYS: &[&str] = &["h0", "h1", "h2"];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

/// A random small integer argument, sometimes negative, sometimes invalid.
fn index(rng: &mut StdRng, span: i64) -> String {
    match rng.gen_range(0..20) {
        0 => "x".into(),
        1 => "-0".into(),
        2 => (-rng.gen_range(1..=span)).to_string(),
        _ => rng.gen_range(0..=span).to_string(),
    }
}

fn random_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let n = rng.gen_range(0..=max);
    (0..n)
        .map(|_| match rng.gen_range(0..4) {
            0 => 0u8,
            1 => 0xff,
            _ => rng.gen(),
        })
        .collect()
}

fn field_type(rng: &mut StdRng) -> String {
    match rng.gen_range(0..30) {
        0 => "u64".into(),
        1 => "i0".into(),
        2 => "x8".into(),
        _ => {
            let signed = rng.gen_bool(0.5);
            let bits = match rng.gen_range(0..4) {
                0 => rng.gen_range(1..=8),
                1 => rng.gen_range(9..=32),
                _ => rng.gen_range(33..=if signed { 64 } else { 63 }),
            };
            format!("{}{bits}", if signed { 'i' } else { 'u' })
        }
    }
}

fn field_value(rng: &mut StdRng) -> String {
    match rng.gen_range(0..10) {
        0 => i64::MIN.to_string(),
        1 => i64::MAX.to_string(),
        2 => "y".into(),
        3 => rng.gen::<i64>().to_string(),
        _ => rng.gen_range(-300i64..300).to_string(),
    }
}

/// One random BITFIELD or BITFIELD_RO command.
fn bitfield(rng: &mut StdRng, key: &str) -> Vec<Vec<u8>> {
    let ro = rng.gen_range(0..6) == 0;
    let mut a: Vec<String> = vec![
        if ro { "BITFIELD_RO" } else { "BITFIELD" }.into(),
        key.into(),
    ];
    for _ in 0..rng.gen_range(0..5) {
        let offset = if rng.gen_range(0..4) == 0 {
            format!("#{}", rng.gen_range(0..12))
        } else {
            index(rng, 150)
        };
        match rng.gen_range(0..8) {
            0 => {
                a.push("OVERFLOW".into());
                a.push(["WRAP", "SAT", "FAIL", "sat", "bogus"][rng.gen_range(0..5)].into());
            }
            1 | 2 => a.extend(["GET".into(), field_type(rng), offset]),
            3 | 4 if ro && rng.gen_range(0..4) != 0 => {
                a.extend(["GET".into(), field_type(rng), offset])
            }
            3 | 4 => a.extend(["SET".into(), field_type(rng), offset, field_value(rng)]),
            _ => a.extend(["INCRBY".into(), field_type(rng), offset, field_value(rng)]),
        }
    }
    if rng.gen_range(0..30) == 0 {
        a.push("GET".into());
    }
    a.into_iter().map(String::into_bytes).collect()
}

fn unit(rng: &mut StdRng) -> Option<&'static str> {
    match rng.gen_range(0..6) {
        0 => Some("BIT"),
        1 => Some("BYTE"),
        2 => Some("bit"),
        3 if rng.gen_range(0..5) == 0 => Some("WORD"),
        _ => None,
    }
}

/// One random bitmap command.
fn bit_command(rng: &mut StdRng) -> Vec<Vec<u8>> {
    let k = pick(rng, BIT_KEYS);
    let s = |x: &str| x.as_bytes().to_vec();
    let mut a: Vec<Vec<u8>> = match rng.gen_range(0..16) {
        0 | 1 => {
            let bit = match rng.gen_range(0..12) {
                0 => "2".into(),
                1 => "x".into(),
                n => (n % 2).to_string(),
            };
            vec![s("SETBIT"), s(k), s(&index(rng, 300)), s(&bit)]
        }
        2 => vec![s("GETBIT"), s(k), s(&index(rng, 300))],
        3 | 4 => {
            let mut a = vec![s("BITCOUNT"), s(k)];
            if rng.gen_range(0..4) != 0 {
                a.push(s(&index(rng, 40)));
                if rng.gen_range(0..8) != 0 {
                    a.push(s(&index(rng, 40)));
                    if let Some(u) = unit(rng) {
                        a.push(s(u));
                    }
                }
            }
            a
        }
        5 | 6 => {
            let bit = ["0", "1", "1", "0", "2"][rng.gen_range(0..5)];
            let mut a = vec![s("BITPOS"), s(k), s(bit)];
            if rng.gen_range(0..3) != 0 {
                a.push(s(&index(rng, 40)));
                if rng.gen_range(0..2) == 0 {
                    a.push(s(&index(rng, 40)));
                    if let Some(u) = unit(rng) {
                        a.push(s(u));
                    }
                }
            }
            a
        }
        7 => {
            let op = ["AND", "OR", "XOR", "NOT", "and", "NAND"][rng.gen_range(0..6)];
            let mut a = vec![s("BITOP"), s(op), s(k)];
            let n = if op == "NOT" && rng.gen_range(0..5) != 0 {
                1
            } else {
                rng.gen_range(1..4)
            };
            for _ in 0..n {
                // Sources may be HyperLogLogs: they are strings too.
                let src = if rng.gen_range(0..5) == 0 {
                    pick(rng, HLL_KEYS)
                } else {
                    pick(rng, BIT_KEYS)
                };
                a.push(s(src));
            }
            a
        }
        8..=10 => bitfield(rng, k),
        11 => vec![s("SET"), s(k), random_bytes(rng, 12)],
        12 => vec![s("APPEND"), s(k), random_bytes(rng, 6)],
        13 => vec![s("GET"), s(k)],
        14 => vec![s("DEL"), s(k)],
        _ => vec![
            s("SETRANGE"),
            s(k),
            s(&rng.gen_range(0..20).to_string()),
            random_bytes(rng, 4),
        ],
    };
    if rng.gen_range(0..200) == 0 {
        a.truncate(1);
    }
    a
}

/// One random HyperLogLog command (or a bit command on a HyperLogLog, kept to
/// the reads and to the cached-cardinality bytes).
fn hll_command(rng: &mut StdRng) -> Vec<Vec<u8>> {
    let k = pick(rng, HLL_KEYS);
    let s = |x: &str| x.as_bytes().to_vec();
    match rng.gen_range(0..20) {
        0..=6 => {
            let mut a = vec![s("PFADD"), s(k)];
            // A universe big enough to go dense at the lower limits.
            let n = match rng.gen_range(0..10) {
                0 => 0,
                1 => rng.gen_range(50..400),
                _ => rng.gen_range(1..8),
            };
            for _ in 0..n {
                a.push(format!("e{}", rng.gen_range(0..3000)).into_bytes());
            }
            a
        }
        7 | 8 => vec![s("PFCOUNT"), s(k)],
        9 => {
            let mut a = vec![s("PFCOUNT")];
            for _ in 0..rng.gen_range(2..4) {
                a.push(s(pick(rng, HLL_KEYS)));
            }
            if rng.gen_range(0..4) == 0 {
                a.push(s(pick(rng, BIT_KEYS)));
            }
            a
        }
        10 | 11 => {
            let mut a = vec![s("PFMERGE"), s(k)];
            for _ in 0..rng.gen_range(0..3) {
                a.push(s(pick(rng, HLL_KEYS)));
            }
            a
        }
        12 => vec![s("GET"), s(k)],
        13 => {
            let sub = ["ENCODING", "DECODE", "TODENSE", "GETREG", "nope"][rng.gen_range(0..5)];
            vec![s("PFDEBUG"), s(sub), s(k)]
        }
        14 => {
            // Flip a bit of the cached cardinality.
            let bit = rng.gen_range(64..128).to_string();
            vec![
                s("SETBIT"),
                s(k),
                s(&bit),
                s(["0", "1"][rng.gen_range(0..2)]),
            ]
        }
        15 => vec![s("BITCOUNT"), s(k)],
        16 => vec![s("DEL"), s(k)],
        17 => {
            let v = ["100", "200", "400", "3000"][rng.gen_range(0..4)];
            vec![s("CONFIG"), s("SET"), s("hll-sparse-max-bytes"), s(v)]
        }
        18 => vec![s("PFADD"), s(pick(rng, BIT_KEYS)), s("x")],
        _ => vec![s("BITPOS"), s(k), s(["0", "1"][rng.gen_range(0..2)])],
    }
}

fn send(p: &mut Pair, a: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = a.iter().map(|x| &x[..]).collect();
    p.same_args(&refs, false);
}

#[test]
fn random_bitmap_streams_match_redis() {
    let Some((_redis, _keel, mut p)) = setup() else {
        return;
    };
    for seed in 0..6u64 {
        let mut rng = StdRng::seed_from_u64(0xb175 + seed);
        for _ in 0..700 {
            let a = bit_command(&mut rng);
            send(&mut p, &a);
        }
        p.same_dataset();
        p.same("FLUSHALL");
    }
}

#[test]
fn random_hll_streams_match_redis() {
    let Some((_redis, _keel, mut p)) = setup() else {
        return;
    };
    for seed in 0..5u64 {
        let mut rng = StdRng::seed_from_u64(0x411 + seed);
        for _ in 0..500 {
            let a = if rng.gen_range(0..6) == 0 {
                bit_command(&mut rng)
            } else {
                hll_command(&mut rng)
            };
            send(&mut p, &a);
        }
        p.same_dataset();
        p.same("CONFIG SET hll-sparse-max-bytes 3000");
        p.same("FLUSHALL");
    }
}

#[test]
fn fixed_corrupt_and_foreign_values_match_redis() {
    let Some((_redis, _keel, mut p)) = setup() else {
        return;
    };
    // Too short, wrong magic, unknown encoding, dense of the wrong size.
    let values: [&[u8]; 4] = [
        b"HYLL",
        b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff",
        b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff",
        b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\x80xyz",
    ];
    for (k, v) in ["c1", "c2", "c3", "c4"].iter().zip(values) {
        p.same_args(&[b"SET", k.as_bytes(), v], false);
    }
    for k in ["c1", "c2", "c3", "c4"] {
        p.same(&format!("PFADD {k} a"));
        p.same(&format!("PFCOUNT {k}"));
        p.same(&format!("PFCOUNT {k} nokey"));
        p.same(&format!("PFMERGE {k}"));
        p.same(&format!("PFDEBUG ENCODING {k}"));
    }
    // Sparse bodies that cover too few or too many registers.
    // (Runs past the last register are corrupt even after a full cover, as in
    // Debian's build with the CVE-2025-32023 fix; an XZERO cut in half reads
    // the terminating zero byte.)
    let bodies: [&[u8]; 11] = [
        b"",
        b"\x7f\xfe",
        b"\x7f\xff\x00",
        b"\x80\x40\xff",
        b"\x7f\xfe\x80\x80",
        b"\x7f\xff\x80",
        b"\x7f\xfe\x01",
        b"\x7f\xfe\x81",
        b"\x7f\xfd\x80\x00",
        b"\x00",
        b"\x7f",
    ];
    for (i, body) in bodies.iter().enumerate() {
        let key = format!("s{i}");
        let mut v = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
        v.extend_from_slice(body);
        p.same_args(&[b"SET", key.as_bytes(), &v], false);
        for cmd in ["PFCOUNT", "PFDEBUG DECODE", "PFDEBUG ENCODING"] {
            let line = format!("{cmd} {key}");
            p.same(&line);
        }
        p.same(&format!("PFCOUNT {key} {key}"));
        p.same(&format!("PFMERGE d{i} {key}"));
        p.same(&format!("PFADD {key} a b c d e f g h"));
        p.same(&format!("GET {key}"));
        p.same(&format!("PFDEBUG TODENSE {key}"));
        p.same(&format!("GET {key}"));
    }
    // A HyperLogLog with a forged cache and one with a large register.
    p.same("PFADD f a b c");
    p.same("SETBIT f 66 1");
    p.same("PFCOUNT f");
    p.same("SETBIT f 127 1");
    p.same("PFCOUNT f");
    p.same("GET f");
    p.same_dataset();
}
