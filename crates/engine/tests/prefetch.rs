//! `Engine::prefetch` is a hint: whatever batch it is given (strings, empty
//! strings, sets and hashes in every encoding, missing keys, wrong types,
//! commands without keys, garbage), it changes nothing, and the commands then
//! run exactly as they would have without it.

use bytes::Bytes;
use keel_engine::digest::digest;
use keel_engine::{resolve, Engine, EngineConfig, Lookup, NullSink, Session, SystemClock};
use std::sync::Arc;

fn argv(line: &str) -> Vec<Bytes> {
    line.split(' ')
        .map(|w| Bytes::copy_from_slice(w.replace('_', "").as_bytes()))
        .collect()
}

fn engine() -> Engine {
    let e = Engine::new(
        EngineConfig::default(),
        Arc::new(SystemClock),
        Arc::new(NullSink),
    );
    let s = Session::default();
    let mut setup = vec![
        "SET s v".to_string(),
        "SET empty _".to_string(),
        "SADD small a b".to_string(),
        "HSET hsmall f v".to_string(),
        "SADD ints 1 2 3".to_string(),
        "RPUSH list a b".to_string(),
        "ZADD z 1 a".to_string(),
    ];
    for i in 0..300 {
        setup.push(format!("SADD big member:{i:020}"));
        setup.push(format!("HSET hbig field:{i:020} value:{i}"));
        setup.push(format!("SET key:{i} {}", "x".repeat(i % 90)));
        setup.push(format!("ZADD zbig {i} element:{i:020}"));
    }
    for l in &setup {
        e.run_argv(&s, &argv(l));
    }
    e
}

#[test]
fn prefetching_any_batch_changes_nothing() {
    let batch: Vec<Vec<Bytes>> = [
        "GET s",
        "GET empty",
        "GET missing",
        "SADD big member:00000000000000000007",
        "SISMEMBER big nothere",
        "SADD small a",
        "SADD ints 2",
        "HGET hbig field:00000000000000000299",
        "HSET hsmall f w",
        "HGET list x",
        "SADD s x",
        "ZADD z 2 b",
        "ZADD zbig 5 element:00000000000000000003",
        "ZADD zbig NX xx GT CH INCR",
        "ZADD zbig xx ch 7 element:00000000000000000004 8 element:00000000000000000005",
        "ZADD zbig gt",
        "ZINCRBY zbig 2 element:00000000000000000006",
        "ZSCORE zbig element:00000000000000000007",
        "ZSCORE zbig",
        "ZREM zbig nothere",
        "ZRANK zbig element:00000000000000000008",
        "ZMSCORE zbig element:00000000000000000009 x",
        "ZADD s 1 a",
        "PING",
        "GET",
        "NOSUCHCOMMAND a b",
        "HMGET hbig",
    ]
    .iter()
    .map(|l| argv(l))
    .chain((0..300).map(|i| argv(&format!("GET key:{i}"))))
    .collect();
    let with = engine();
    let without = engine();
    assert_eq!(digest(&with), digest(&without));
    let s1 = Session::default();
    let s2 = Session::default();
    for chunk in batch.chunks(32) {
        let found = || {
            chunk.iter().filter_map(|a| match resolve(a) {
                Lookup::Found(c) => Some((c, &a[..])),
                _ => None,
            })
        };
        with.prefetch(0, found());
        with.prefetch(1, found());
        assert_eq!(digest(&with), digest(&without));
        for a in chunk {
            let (r1, _) = with.run_argv(&s1, a);
            let (r2, _) = without.run_argv(&s2, a);
            assert_eq!(r1, r2, "{a:?}");
        }
    }
    assert_eq!(digest(&with), digest(&without));
}
