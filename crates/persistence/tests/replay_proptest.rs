//! Replay equivalence, as a property: for any sequence of write commands (with
//! database switches, expiry by time passing, the active expiry cycle, FLUSHDB,
//! FLUSHALL and rewrites in the middle), loading the AOF that the real writer
//! produced gives an engine whose DEBUG DIGEST equals the live engine's.

use bytes::Bytes;
use keel_engine::{Effect, EffectSink, Engine, EngineConfig, ManualClock, NullSink, Session};
use keel_persistence::loader::{load_dir, EngineApply, LoadOptions};
use keel_persistence::manifest::Manifest;
use keel_persistence::rewrite::{rewrite, RewriteStats};
use keel_persistence::writer::{AofWriter, FsyncPolicy};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

struct WriterSink(OnceLock<Arc<AofWriter>>);

impl EffectSink for WriterSink {
    fn emit(&self, effects: &[Effect]) -> u64 {
        self.0.get().map_or(0, |w| w.append(effects))
    }
}

#[derive(Debug, Clone)]
enum Op {
    Cmd(Vec<String>),
    Select(usize),
    Advance(u64),
    ActiveExpire,
    Rewrite,
}

fn key() -> impl Strategy<Value = String> {
    (0..6u8).prop_map(|k| format!("k{k}"))
}

fn val() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..1000i64).prop_map(|n| n.to_string()),
        "[a-z]{0,12}",
        Just(String::new()),
        Just("x y\r\nz".to_string()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    prop_oneof![
        4 => (key(), val()).prop_map(move |(k, x)| Op::Cmd(v(&["SET", &k, &x]))),
        2 => (key(), val(), 1..5000u64).prop_map(move |(k, x, ms)| Op::Cmd(v(&["SET", &k, &x, "PX", &ms.to_string()]))),
        1 => (key(), val()).prop_map(move |(k, x)| Op::Cmd(v(&["SET", &k, &x, "KEEPTTL"]))),
        1 => (key(), val()).prop_map(move |(k, x)| Op::Cmd(v(&["SETNX", &k, &x]))),
        1 => (key(), val()).prop_map(move |(k, x)| Op::Cmd(v(&["GETSET", &k, &x]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["GETDEL", &k]))),
        1 => (key(), 1..5000u64).prop_map(move |(k, ms)| Op::Cmd(v(&["GETEX", &k, "PX", &ms.to_string()]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["GETEX", &k, "PERSIST"]))),
        1 => (key(), val(), key(), val()).prop_map(move |(a, x, b, y)| Op::Cmd(v(&["MSET", &a, &x, &b, &y]))),
        1 => (key(), val(), key(), val()).prop_map(move |(a, x, b, y)| Op::Cmd(v(&["MSETNX", &a, &x, &b, &y]))),
        2 => (key(), val()).prop_map(move |(k, x)| Op::Cmd(v(&["APPEND", &k, &x]))),
        1 => (key(), 0..20u8, val()).prop_map(move |(k, o, x)| Op::Cmd(v(&["SETRANGE", &k, &o.to_string(), &x]))),
        2 => key().prop_map(move |k| Op::Cmd(v(&["INCR", &k]))),
        1 => (key(), -50..50i64).prop_map(move |(k, n)| Op::Cmd(v(&["INCRBY", &k, &n.to_string()]))),
        1 => (key(), prop_oneof![Just("0.1"), Just("1.5"), Just("-3.25"), Just("1e3")]).prop_map(move |(k, n)| Op::Cmd(v(&["INCRBYFLOAT", &k, n]))),
        2 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["DEL", &a, &b]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["UNLINK", &k]))),
        2 => (key(), 1..5000u64).prop_map(move |(k, ms)| Op::Cmd(v(&["PEXPIRE", &k, &ms.to_string()]))),
        1 => (key(), 1..100u64).prop_map(move |(k, s)| Op::Cmd(v(&["EXPIRE", &k, &s.to_string(), "GT"]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["PERSIST", &k]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["RENAME", &a, &b]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["RENAMENX", &a, &b]))),
        1 => (key(), key(), 0..3u8).prop_map(move |(a, b, d)| Op::Cmd(v(&["COPY", &a, &b, "DB", &d.to_string(), "REPLACE"]))),
        1 => (key(), 0..3u8).prop_map(move |(k, d)| Op::Cmd(v(&["MOVE", &k, &d.to_string()]))),
        1 => (0..3u8, 0..3u8).prop_map(move |(a, b)| Op::Cmd(v(&["SWAPDB", &a.to_string(), &b.to_string()]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["GET", &k]))),
        // ---- bitmaps, bit fields and HyperLogLogs (t-bits) ----------------------
        2 => (key(), 0..64u8, 0..2u8).prop_map(move |(k, o, b)| Op::Cmd(v(&["SETBIT", &k, &o.to_string(), &b.to_string()]))),
        2 => (key(), prop_oneof![Just("WRAP"), Just("SAT"), Just("FAIL")], prop_oneof![Just("i5"), Just("u7"), Just("i64"), Just("u1")], 0..80u8, -200..200i64, 0..6u8, 0..300u16)
            .prop_map(move |(k, ow, t, o, by, h, x)| Op::Cmd(v(&["BITFIELD", &k, "OVERFLOW", ow, "INCRBY", t, &o.to_string(), &by.to_string(), "SET", "u8", &format!("#{h}"), &x.to_string(), "GET", "i3", "5"]))),
        1 => (key(), 0..30u8).prop_map(move |(k, o)| Op::Cmd(v(&["BITFIELD_RO", &k, "GET", "u4", &o.to_string()]))),
        1 => (prop_oneof![Just("AND"), Just("OR"), Just("XOR")], key(), key(), key()).prop_map(move |(op, d, a, b)| Op::Cmd(v(&["BITOP", op, &d, &a, &b]))),
        1 => (key(), key()).prop_map(move |(d, a)| Op::Cmd(v(&["BITOP", "NOT", &d, &a]))),
        1 => key().prop_map(move |d| Op::Cmd(v(&["BITOP", "OR", &d, "nokey"]))),
        3 => (key(), proptest::collection::vec(0..500u16, 0..4)).prop_map(move |(k, es)| {
            let mut a = v(&["PFADD", &k]);
            a.extend(es.iter().map(|e| format!("e{e}")));
            Op::Cmd(a)
        }),
        1 => (key(), 0..5u16).prop_map(move |(k, base)| {
            // Enough elements to turn the HyperLogLog dense.
            let mut a = v(&["PFADD", &k]);
            a.extend((0..600u16).map(|e| format!("d{base}-{e}")));
            Op::Cmd(a)
        }),
        2 => key().prop_map(move |k| Op::Cmd(v(&["PFCOUNT", &k]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["PFCOUNT", &a, &b]))),
        1 => (key(), key(), key()).prop_map(move |(d, a, b)| Op::Cmd(v(&["PFMERGE", &d, &a, &b]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["PFDEBUG", "TODENSE", &k]))),
        1 => (key(), 64..128u8).prop_map(move |(k, o)| Op::Cmd(v(&["SETBIT", &k, &o.to_string(), "1"]))),
        // ---- end of bitmaps, bit fields and HyperLogLogs ------------------------
        1 => Just(Op::Cmd(v(&["FLUSHDB"]))),
        1 => Just(Op::Cmd(v(&["FLUSHALL"]))),
        2 => (0..3usize).prop_map(Op::Select),
        2 => (1..3000u64).prop_map(Op::Advance),
        1 => Just(Op::ActiveExpire),
        1 => Just(Op::Rewrite),
    ]
}

fn engine(clock: &ManualClock, sink: Arc<dyn EffectSink>) -> Engine {
    Engine::new(
        EngineConfig {
            databases: 3,
            shards: 8,
        },
        Arc::new(clock.clone()),
        sink,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]
    #[test]
    fn loading_the_log_rebuilds_the_live_dataset(ops in proptest::collection::vec(op(), 1..120)) {
        let dir = tempfile::tempdir().unwrap();
        let aofdir = dir.path().join("appendonlydir");
        let clock = ManualClock::new(1_700_000_000_000);
        let sink = Arc::new(WriterSink(OnceLock::new()));
        let live = engine(&clock, sink.clone());
        let writer = AofWriter::open(&aofdir, "appendonly.aof", Manifest::default(), FsyncPolicy::No, 0, true).unwrap();
        writer.start().unwrap();
        let _ = sink.0.set(writer.clone());
        let stats = Arc::new(RewriteStats::default());
        let mut session = Session::default();
        let apply = |op: &Op, session: &mut Session| match op {
            Op::Cmd(words) => {
                let argv: Vec<Bytes> = words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect();
                let _ = live.run_argv(session, &argv);
            }
            Op::Select(db) => session.db = *db,
            Op::Advance(ms) => clock.advance_ms(*ms),
            Op::ActiveExpire => {
                keel_engine::expire::active_expire_cycle(&live, Duration::from_millis(5));
            }
            Op::Rewrite => {}
        };
        let mut i = 0;
        while i < ops.len() {
            if let Op::Rewrite = ops[i] {
                // The rewrite runs on its own thread while the next commands keep
                // changing the dataset, as clients do during BGREWRITEAOF.
                let upto = (i + 1 + 12).min(ops.len());
                std::thread::scope(|sc| {
                    let h = sc.spawn(|| rewrite(&live, &writer, &stats));
                    for op in &ops[i + 1..upto] {
                        if !matches!(op, Op::Rewrite) {
                            apply(op, &mut session);
                        }
                    }
                    h.join().unwrap().unwrap();
                });
                i = upto;
                continue;
            }
            apply(&ops[i], &mut session);
            i += 1;
        }
        writer.shutdown();
        let want = keel_engine::digest::digest(&live);

        let replayed = engine(&clock, Arc::new(NullSink));
        replayed.set_loading(true);
        let mut apply = EngineApply { engine: &replayed };
        load_dir(&aofdir, "appendonly.aof", &LoadOptions::default(), &mut apply, &mut |_| {}).unwrap();
        replayed.set_loading(false);
        let got = keel_engine::digest::digest(&replayed);
        prop_assert_eq!(keel_engine::digest::hex(&got), keel_engine::digest::hex(&want), "ops: {:?}", ops);
    }
}
