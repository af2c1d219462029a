//! A snapshot (the AOF rewrite's point-in-time image) sees every key as it was when
//! it began, whatever commands do afterwards, and a command that changes a key in a
//! shard not yet handed over pays only for the keys it touches.

use bytes::Bytes;
use keel_engine::keyspace::Shard;
use keel_engine::value::{Entry, Value};
use keel_engine::{
    table, Engine, EngineConfig, Lookup, ManualClock, NullSink, Session, ShardSnapshot,
};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;

/// (db, key) -> value as the snapshot received it.
type Seen = BTreeMap<(usize, Vec<u8>), Vec<u8>>;

/// Records what the snapshot received, and how.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Seen>,
    single_keys: Mutex<usize>,
    ranges: Mutex<usize>,
}

fn value(e: &Entry) -> Vec<u8> {
    match &e.value {
        Value::Str { data, .. } => data.to_vec(),
        other => panic!(
            "the test writes strings only, found a {}",
            other.type_name()
        ),
    }
}

impl ShardSnapshot for Recorder {
    fn take_range(&self, _i: usize, shard: &Shard, db: usize, range: std::ops::Range<usize>) {
        *self.ranges.lock() += 1;
        let mut seen = self.seen.lock();
        let part = &shard.dbs[db];
        for at in range {
            let (k, e) = part.map.get_index(at).expect("a range inside the map");
            if shard.snapshot_done.contains(k) {
                continue;
            }
            assert!(
                seen.insert((db, k.to_vec()), value(e)).is_none(),
                "key taken twice"
            );
        }
    }
    fn take_keys(&self, _i: usize, entries: &[(usize, &[u8], &Entry)]) {
        *self.single_keys.lock() += entries.len();
        let mut seen = self.seen.lock();
        for (db, k, e) in entries {
            assert!(
                seen.insert((*db, k.to_vec()), value(e)).is_none(),
                "key taken twice"
            );
        }
    }
}

fn exec(e: &Engine, s: &mut Session, line: &str) {
    let argv: Vec<Bytes> = line
        .split(' ')
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    let Lookup::Found(cmd) = keel_engine::resolve(&argv) else {
        panic!("{line}")
    };
    let _ = e.execute(s, cmd, &argv);
}

#[test]
fn writes_after_the_snapshot_began_are_not_in_it() {
    let _ = table();
    let clock = ManualClock::new(1_000_000);
    let e = Engine::new(
        EngineConfig {
            databases: 4,
            shards: 16,
        },
        Arc::new(clock),
        Arc::new(NullSink),
    );
    let mut s = Session::default();
    let mut s2 = Session {
        db: 2,
        ..Session::default()
    };
    for i in 0..200 {
        exec(&e, &mut s, &format!("SET k{i} v{i}"));
    }
    exec(&e, &mut s2, "SET k1 other-db");
    let rec = Arc::new(Recorder::default());
    e.begin_snapshot(rec.clone(), || {});
    // After the snapshot began: overwrite, delete, create, move, rename.
    exec(&e, &mut s, "SET k1 changed");
    exec(&e, &mut s, "DEL k2");
    exec(&e, &mut s, "SET brand-new x");
    exec(&e, &mut s, "MOVE k3 3");
    exec(&e, &mut s, "RENAME k4 k5");
    exec(&e, &mut s, "APPEND k6 more");
    exec(&e, &mut s2, "DEL k1");
    e.snapshot_all();
    let seen = rec.seen.lock();
    assert_eq!(seen.len(), 201, "every key that existed, once");
    for i in 0..200 {
        assert_eq!(
            seen.get(&(0, format!("k{i}").into_bytes())),
            Some(&format!("v{i}").into_bytes())
        );
    }
    assert_eq!(seen.get(&(2, b"k1".to_vec())), Some(&b"other-db".to_vec()));
    assert!(!seen.contains_key(&(0, b"brand-new".to_vec())));
    assert!(!seen.contains_key(&(3, b"k3".to_vec())));
    // The commands paid per key, not per shard.
    assert!(
        *rec.single_keys.lock() >= 6,
        "single keys: {}",
        rec.single_keys.lock()
    );
}

/// The rewrite thread walks each shard in chunks, releasing the lock between
/// them. Commands that run between chunks delete keys the walk has passed
/// (which swaps keys it has not reached into the part it has), create keys and
/// overwrite keys; reads expire keys lazily without handing them over first.
/// Every key still gets into the snapshot exactly once, as it was.
#[test]
fn a_walk_in_chunks_sees_every_key_once_as_it_was() {
    let _ = table();
    let clock = ManualClock::new(1_000_000);
    let e = Engine::new(
        EngineConfig {
            databases: 2,
            shards: 4,
        },
        Arc::new(clock.clone()),
        Arc::new(NullSink),
    );
    let mut s = Session::default();
    let n = 6000; // about 1,500 keys a shard: several chunks each
    for i in 0..n {
        exec(&e, &mut s, &format!("SET k{i} v{i}"));
    }
    // Every seventh key expires once the clock moves on.
    for i in (0..n).step_by(7) {
        exec(&e, &mut s, &format!("PEXPIRE k{i} 1000"));
    }
    let rec = Arc::new(Recorder::default());
    e.begin_snapshot(rec.clone(), || {});
    clock.advance_ms(5_000);
    let mut step = 0usize;
    let mut expired = std::collections::BTreeSet::new();
    e.snapshot_each(|_| {
        // A few commands between chunks, spread over the keyspace.
        for j in 0..5 {
            let i = (step * 131 + j * 977) % n;
            match (step + j) % 4 {
                0 => exec(&e, &mut s, &format!("DEL k{i}")),
                1 => exec(&e, &mut s, &format!("SET k{i} changed")),
                2 => exec(&e, &mut s, &format!("SET new{step}-{j} x")),
                _ => {
                    let i = i - i % 7;
                    exec(&e, &mut s, &format!("GET k{i}"));
                    expired.insert(i);
                }
            }
        }
        step += 1;
    });
    assert!(*rec.ranges.lock() > 8, "the walk went in chunks");
    let seen = rec.seen.lock();
    for i in 0..n {
        let got = seen.get(&(0, format!("k{i}").into_bytes()));
        if expired.contains(&i) && got.is_none() {
            // Deleted by a lazy expiry (logged as DEL) before the walk got there.
            continue;
        }
        assert_eq!(got, Some(&format!("v{i}").into_bytes()), "k{i}");
    }
    assert!(
        seen.keys().all(|(_, k)| k.starts_with(b"k")),
        "no key created after the snapshot began"
    );
}
