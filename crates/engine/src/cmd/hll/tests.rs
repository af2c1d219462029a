//! Unit tests of the HyperLogLog commands: replies, errors, effects, and replay
//! of the effects rebuilding byte-identical values.

use super::{repr, selftest};
use crate::engine::testing::{engine, error, fx, int, notes_engine, run, runb};
use crate::engine::{Engine, Session};
use crate::value::Value;
use bytes::Bytes;
use keel_protocol::Frame;

fn r(e: &Engine, s: &mut Session, line: &str) -> Frame {
    run(e, s, line).0
}

fn f(e: &Engine, s: &mut Session, line: &str) -> Vec<String> {
    fx(&run(e, s, line).1)
}

/// The string at `key` in db 0 and whether it is raw.
fn value(e: &Engine, key: &str) -> Option<(Vec<u8>, bool)> {
    let mut out = None;
    e.for_each_shard(|_, sh| {
        if let Some(en) = sh.dbs[0].map.get(key.as_bytes()) {
            if let Value::Str { data, form, .. } = &en.value {
                out = Some((data.to_vec(), *form == crate::value::Form::Raw));
            }
        }
    });
    out
}

fn bytes_of(e: &Engine, key: &str) -> Vec<u8> {
    value(e, key).map(|v| v.0).unwrap_or_default()
}

fn set_limit(e: &Engine, limit: usize) {
    let t = crate::types::Thresholds {
        hll_sparse_max_bytes: limit,
        ..Default::default()
    };
    e.limits().set(t);
}

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

#[test]
fn pfadd_writes_redis_bytes_and_logs_itself() {
    let (e, _) = engine();
    let mut s = Session::default();
    let (rep, fxs) = run(&e, &mut s, "PFADD h a b c");
    assert_eq!(rep, int(1));
    assert_eq!(fx(&fxs), vec!["0 PFADD h a b c"]);
    // What Redis 7.0.15 answers for the same elements.
    assert_eq!(
        r(&e, &mut s, "PFDEBUG DECODE h"),
        Frame::Bulk(Bytes::from_static(
            b"Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
        ))
    );
    assert_eq!(r(&e, &mut s, "PFDEBUG ENCODING h"), Frame::simple("sparse"));
    assert_eq!(value(&e, "h").map(|v| v.1), Some(true));
    // Nothing new: 0, no effect.
    let (rep, fxs) = run(&e, &mut s, "PFADD h a c");
    assert_eq!(rep, int(0));
    assert!(fxs.is_empty());
    // A new key with no elements is still created (and logged).
    assert_eq!(f(&e, &mut s, "PFADD e"), vec!["0 PFADD e"]);
    // Redis marks the (zero) cache stale on creation too.
    let mut empty = repr::new_sparse().to_vec();
    empty[15] = 0x80;
    assert_eq!(bytes_of(&e, "e"), empty);
    // The exact bytes Redis 7.0.15 holds after PFADD h a b c.
    assert_eq!(
        bytes_of(&e, "h"),
        b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a".to_vec()
    );
    assert_eq!(r(&e, &mut s, "PFADD e"), int(0));
}

#[test]
fn pfcount_caches_and_logs_the_refresh() {
    let (e, _) = engine();
    let mut s = Session::default();
    r(&e, &mut s, "PFADD h a b c");
    // The stale bit is set after an add.
    assert_eq!(bytes_of(&e, "h")[15] & 0x80, 0x80);
    let (rep, fxs) = run(&e, &mut s, "PFCOUNT h");
    assert_eq!(rep, int(3));
    assert_eq!(fx(&fxs), vec!["0 PFCOUNT h"]);
    assert_eq!(&bytes_of(&e, "h")[8..16], &3u64.to_le_bytes());
    // Cached now: no effect.
    assert!(f(&e, &mut s, "PFCOUNT h").is_empty());
    assert_eq!(r(&e, &mut s, "PFCOUNT nokey"), int(0));
    r(&e, &mut s, "PFADD h2 c d");
    assert_eq!(run(&e, &mut s, "PFCOUNT h h2 nokey"), (int(4), vec![]));
    // A forged cached value is believed, as Redis does.
    let mut forged = bytes_of(&e, "h");
    forged[8..16].copy_from_slice(&12345u64.to_le_bytes());
    runb(&e, &s, &[b"SET", b"f", &forged]);
    assert_eq!(r(&e, &mut s, "PFCOUNT f"), int(12345));
}

#[test]
fn type_errors_and_corruption() {
    let (e, _) = engine();
    let mut s = Session::default();
    r(&e, &mut s, "SET str hello");
    assert_eq!(r(&e, &mut s, "PFADD str a"), error(NOT_HLL));
    assert_eq!(r(&e, &mut s, "PFCOUNT str"), error(NOT_HLL));
    assert_eq!(r(&e, &mut s, "PFCOUNT nokey str"), error(NOT_HLL));
    assert_eq!(r(&e, &mut s, "PFMERGE d str"), error(NOT_HLL));
    assert_eq!(r(&e, &mut s, "PFDEBUG ENCODING str"), error(NOT_HLL));
    // A dense header with the wrong length is not a HyperLogLog.
    runb(
        &e,
        &s,
        &[
            b"SET",
            b"bad",
            b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        ],
    );
    assert_eq!(r(&e, &mut s, "PFCOUNT bad"), error(NOT_HLL));
    // A sparse body that covers too few registers is corrupt.
    let mut v = repr::new_sparse().to_vec();
    v.truncate(repr::HDR_SIZE);
    v.extend_from_slice(b"\x7f\x00\x80");
    v[15] |= 0x80;
    runb(&e, &s, &[b"SET", b"c", &v]);
    assert_eq!(r(&e, &mut s, "PFCOUNT c"), error(CORRUPT));
    assert_eq!(r(&e, &mut s, "PFCOUNT c c"), error(CORRUPT));
    assert_eq!(r(&e, &mut s, "PFMERGE d c"), error(CORRUPT));
    assert_eq!(r(&e, &mut s, "PFDEBUG TODENSE c"), error(CORRUPT));
    assert_eq!(r(&e, &mut s, "EXISTS d"), int(0));
    assert_eq!(
        r(&e, &mut s, "PFDEBUG FOO nokey"),
        error("ERR The specified key does not exist")
    );
    assert_eq!(
        r(&e, &mut s, "PFDEBUG foo c"),
        error("ERR Unknown PFDEBUG subcommand 'foo'")
    );
}

#[test]
fn a_pfadd_that_hits_corruption_logs_what_it_applied() {
    let (live, _) = engine();
    let (copy, _) = engine();
    let mut s = Session::default();
    // Registers 0..257 exist (one VAL then an XZERO), the rest are missing.
    let mut v = repr::new_sparse().to_vec();
    v.truncate(repr::HDR_SIZE);
    v.extend_from_slice(&[0x80, 0x40, 0xff]);
    let set = runb(&live, &s, &[b"SET", b"c", &v]).1;
    // Find one element that lands in the covered part and one that does not.
    let (mut inside, mut outside) = (None, None);
    for i in 0..100_000u32 {
        let ele = format!("e{i}");
        let (idx, count) = repr::pat_len(ele.as_bytes());
        if idx < 257 && count > 1 && inside.is_none() {
            inside = Some(ele);
        } else if idx >= 257 && outside.is_none() {
            outside = Some(ele);
        }
    }
    let (inside, outside) = (inside.unwrap_or_default(), outside.unwrap_or_default());
    let (rep, fxs) = run(&live, &mut s, &format!("PFADD c {inside} {outside} x"));
    assert_eq!(rep, error(CORRUPT));
    assert_eq!(fx(&fxs), vec![format!("0 PFADD c {inside}")]);
    for eff in set.iter().chain(&fxs) {
        copy.run_argv(&Session::default(), &eff.argv);
    }
    assert_eq!(bytes_of(&live, "c"), bytes_of(&copy, "c"));
    assert_ne!(bytes_of(&live, "c"), v);
}

#[test]
fn promotion_follows_the_limit_and_logs_todense() {
    let (e, _, notes) = notes_engine();
    let mut s = Session::default();
    set_limit(&e, 40);
    assert_eq!(f(&e, &mut s, "PFADD h a b c"), vec!["0 PFADD h a b c"]);
    assert_eq!(notes.take(), vec!["0 new h", "0 pfadd h"]);
    let mut last = Vec::new();
    for i in 0..20 {
        last = f(&e, &mut s, &format!("PFADD h x{i}"));
        if r(&e, &mut s, "PFDEBUG ENCODING h") == Frame::simple("dense") {
            break;
        }
        assert!(bytes_of(&e, "h").len() <= 40);
    }
    assert_eq!(r(&e, &mut s, "PFDEBUG ENCODING h"), Frame::simple("dense"));
    assert_eq!(last.len(), 2, "{last:?}");
    assert_eq!(last[1], "0 PFDEBUG TODENSE h");
    assert_eq!(bytes_of(&e, "h").len(), repr::DENSE_SIZE);
    // Dense stays dense without further TODENSE effects.
    assert_eq!(f(&e, &mut s, "PFADD h zz1 zz2 zz3").len(), 1);
}

#[test]
fn pfmerge_and_pfdebug() {
    let (e, _, notes) = notes_engine();
    let mut s = Session::default();
    r(&e, &mut s, "PFADD a 1 2 3");
    r(&e, &mut s, "PFADD b 3 4 5");
    notes.take();
    assert_eq!(run(&e, &mut s, "PFMERGE d a b nokey").0, Frame::ok());
    assert_eq!(
        notes.take(),
        vec!["0 keymiss d", "0 keymiss nokey", "0 new d", "0 pfadd d"]
    );
    assert_eq!(r(&e, &mut s, "PFCOUNT d"), int(5));
    assert_eq!(r(&e, &mut s, "PFDEBUG ENCODING d"), Frame::simple("sparse"));
    // Merging into a sparse destination gives what adding would have.
    r(&e, &mut s, "PFADD all 1 2 3 4 5");
    let (mut d, mut all) = (bytes_of(&e, "d"), bytes_of(&e, "all"));
    d[8..16].fill(0);
    all[8..16].fill(0);
    assert_eq!(d, all);
    // The destination itself is one of the inputs.
    r(&e, &mut s, "PFADD d 6");
    r(&e, &mut s, "PFMERGE d a");
    assert_eq!(r(&e, &mut s, "PFCOUNT d"), int(6));
    // A dense input makes the destination dense.
    assert_eq!(
        f(&e, &mut s, "PFDEBUG TODENSE a"),
        vec!["0 PFDEBUG TODENSE a"]
    );
    assert_eq!(r(&e, &mut s, "PFDEBUG TODENSE a"), int(0));
    assert_eq!(
        f(&e, &mut s, "PFMERGE d2 b a"),
        vec!["0 PFMERGE d2 b a", "0 PFDEBUG TODENSE d2"]
    );
    assert_eq!(r(&e, &mut s, "PFDEBUG ENCODING d2"), Frame::simple("dense"));
    assert_eq!(r(&e, &mut s, "PFCOUNT d2"), int(5));
    assert_eq!(
        r(&e, &mut s, "PFDEBUG DECODE d2"),
        error("ERR HLL encoding is not sparse")
    );
    let Frame::Array(regs) = r(&e, &mut s, "PFDEBUG GETREG b") else {
        panic!("GETREG is an array");
    };
    assert_eq!(regs.len(), repr::REGISTERS);
    let set = regs.iter().filter(|x| **x != int(0)).count();
    assert_eq!(set, 3);
    assert_eq!(r(&e, &mut s, "PFDEBUG ENCODING b"), Frame::simple("dense"));
}

/// Replaying the effects of a random run of HyperLogLog writes and counts
/// rebuilds byte-identical values.
#[test]
fn replaying_effects_rebuilds_identical_bytes() {
    let (live, _) = engine();
    let (copy, _) = engine();
    set_limit(&live, 300);
    set_limit(&copy, 300);
    let mut s = Session::default();
    let mut seed = 5u64;
    let mut rnd = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let keys = ["h0", "h1", "h2"];
    for _ in 0..400 {
        let k = keys[rnd(3) as usize];
        let line = match rnd(6) {
            0..=2 => {
                let elems: Vec<String> =
                    (0..1 + rnd(8)).map(|_| format!("e{}", rnd(400))).collect();
                format!("PFADD {k} {}", elems.join(" "))
            }
            3 => format!("PFCOUNT {k}"),
            4 => format!(
                "PFMERGE {k} {} {}",
                keys[rnd(3) as usize],
                keys[rnd(3) as usize]
            ),
            _ => format!("PFCOUNT {k} {}", keys[rnd(3) as usize]),
        };
        let (_, effects) = run(&live, &mut s, &line);
        for eff in &effects {
            copy.run_argv(&Session::default(), &eff.argv);
        }
    }
    for k in keys {
        assert_eq!(bytes_of(&live, k), bytes_of(&copy, k), "{k}");
    }
    // A replay with a larger sparse limit still ends with the same bytes: the
    // live server went dense (limit 300), the replay would have stayed sparse.
    let (big, _) = engine();
    set_limit(&big, 3000);
    let elems: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let (_, fxs) = run(&live, &mut s, &format!("PFADD m {}", elems.join(" ")));
    assert_eq!(
        r(&live, &mut s, "PFDEBUG ENCODING m"),
        Frame::simple("dense")
    );
    for eff in &fxs {
        big.run_argv(&Session::default(), &eff.argv);
    }
    assert_eq!(bytes_of(&live, "m"), bytes_of(&big, "m"));
}

#[test]
fn selftest_passes_on_a_short_run() {
    assert_eq!(selftest(3, 200_000, 42, 3000), Ok(()));
}
