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
    whole_shards: Mutex<usize>,
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
    fn take(&self, _i: usize, shard: &Shard) {
        *self.whole_shards.lock() += 1;
        let mut seen = self.seen.lock();
        for (db, part) in shard.dbs.iter().enumerate() {
            for (k, e) in part.map.iter() {
                if shard.snapshot_done.contains(k) {
                    continue;
                }
                assert!(
                    seen.insert((db, k.to_vec()), value(e)).is_none(),
                    "key taken twice"
                );
            }
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
