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
    /// A command with binary arguments (RESTORE payloads).
    Raw(Vec<Vec<u8>>),
    /// DUMP src, then RESTORE dst 0 <that payload> [REPLACE] (when src exists).
    DumpRestore(String, String, bool),
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

// ---- DUMP / RESTORE and SORT ... STORE (sortdump) ----

/// DUMP payloads from Redis 7.0.15: lists `3 1 2 10`, `5 0 2 4 "x y"` (its
/// elements name keys k5, k0, ... for BY/GET k*) and `b a c`, the intset
/// `1 2 3`, the set `c a b`, the sorted set `c:1 a:2 b:3`, the hash `f: 9`, the
/// string "hello", and a payload with a bad checksum.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    prop_oneof![
        Just(hex(
            "1201020f0f00000004000301010102010a01ff0a00add0efc8419b1a49"
        )),
        Just(hex(
            "1201021414000000050005010001020104018378207904ff0a00d76db8749b79294d"
        )),
        Just(hex(
            "12010210100000000300816202816102816302ff0a00aea3a52d485ccfb5"
        )),
        Just(hex("0b0e02000000030000000100020003000a00a5025ce26d6e4d1b")),
        Just(hex("02030162016101630a0099cc80dd5982d255")),
        Just(hex(
            "1116160000000600816302010181610202018162020301ff0a0046a42810bd4b33cd"
        )),
        Just(hex("100c0c00000002008166020901ff0a00aac1a99c46aa9d5e")),
        Just(hex("000568656c6c6f0a006372df766534200a")),
        Just(hex("000568656c6c6f0a006372df766534200b")),
    ]
}

/// A RESTORE ttl: none, relative milliseconds, or an absolute time (with
/// ABSTTL) that may already be past.
fn restore_ttl() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just("0".to_string()),
        1 => (1..5000u64).prop_map(|ms| ms.to_string()),
        1 => (1_699_999_990_000..1_700_000_010_000u64).prop_map(|ms| ms.to_string()),
    ]
}

/// SORT options before STORE.
fn sort_options() -> impl Strategy<Value = Vec<String>> {
    (
        prop_oneof![Just(None), Just(Some("nosort")), Just(Some("k*"))],
        any::<bool>(),
        any::<bool>(),
        proptest::option::of((-1..4i64, -1..4i64)),
        prop_oneof![Just(None), Just(Some("#")), Just(Some("k*"))],
    )
        .prop_map(|(by, alpha, desc, limit, get)| {
            let mut o: Vec<String> = Vec::new();
            if let Some(b) = by {
                o.extend(["BY".into(), b.into()]);
            }
            if alpha {
                o.push("ALPHA".into());
            }
            if desc {
                o.push("DESC".into());
            }
            if let Some((a, b)) = limit {
                o.extend(["LIMIT".into(), a.to_string(), b.to_string()]);
            }
            if let Some(g) = get {
                o.extend(["GET".into(), g.into()]);
            }
            o
        })
}

/// Whether the commands an AOF rewrite writes collections with are present.
fn rewrite_can_write_collections() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        let ok = [
            &["RPUSH", "k", "v"][..],
            &["SADD", "k", "v"],
            &["HSET", "k", "f", "v"],
            &["ZADD", "k", "1", "m"],
        ]
        .iter()
        .all(|argv| {
            let argv: Vec<Bytes> = argv
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect();
            matches!(keel_engine::resolve(&argv), keel_engine::Lookup::Found(_))
        });
        if !ok {
            eprintln!(
                "!!! RPUSH/SADD/HSET/ZADD are not implemented on this branch: rewrites are skipped"
            );
        }
        ok
    })
}

// ---- end sortdump ----

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
        1 => Just(Op::Cmd(v(&["FLUSHDB"]))),
        1 => Just(Op::Cmd(v(&["FLUSHALL"]))),
        // ---- DUMP / RESTORE and SORT ... STORE (sortdump) ----
        2 => (key(), payload(), restore_ttl(), any::<bool>(), any::<bool>()).prop_map(|(k, p, ttl, replace, abs)| {
            let mut a: Vec<Vec<u8>> = vec![b"RESTORE".to_vec(), k.into_bytes(), ttl.into_bytes(), p];
            if replace { a.push(b"REPLACE".to_vec()); }
            if abs { a.push(b"ABSTTL".to_vec()); }
            Op::Raw(a)
        }),
        1 => (key(), key(), any::<bool>()).prop_map(|(a, b, r)| Op::DumpRestore(a, b, r)),
        2 => (key(), key(), sort_options()).prop_map(move |(k, d, opts)| {
            let mut a = vec!["SORT".to_string(), k];
            a.extend(opts);
            a.push("STORE".into());
            a.push(d);
            Op::Cmd(a)
        }),
        // ---- end sortdump ----
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
            Op::Raw(args) => {
                let argv: Vec<Bytes> = args.iter().map(|w| Bytes::copy_from_slice(w)).collect();
                let _ = live.run_argv(session, &argv);
            }
            Op::DumpRestore(src, dst, replace) => {
                let dump = [Bytes::from_static(b"DUMP"), Bytes::copy_from_slice(src.as_bytes())];
                if let (keel_protocol::Frame::Bulk(p), _) = live.run_argv(session, &dump) {
                    let mut argv = vec![Bytes::from_static(b"RESTORE"), Bytes::copy_from_slice(dst.as_bytes()), Bytes::from_static(b"0"), p];
                    if *replace {
                        argv.push(Bytes::from_static(b"REPLACE"));
                    }
                    let _ = live.run_argv(session, &argv);
                }
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
            // ---- sortdump: a rewrite writes collections back with RPUSH, SADD,
            // HSET and ZADD; on a branch without those commands it is skipped
            // (loudly), and runs as soon as they exist. ----
            if matches!(ops[i], Op::Rewrite) && !rewrite_can_write_collections() {
                i += 1;
                continue;
            }
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
