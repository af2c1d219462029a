//! Replay equivalence, as a property: for any sequence of write commands (with
//! database switches, expiry by time passing, the active expiry cycle, FLUSHDB,
//! FLUSHALL and rewrites in the middle), loading the AOF that the real writer
//! produced gives an engine whose DEBUG DIGEST equals the live engine's.

use bytes::Bytes;
use keel_engine::{Effect, EffectSink, Engine, EngineConfig, ManualClock, NullSink, Session};
use keel_persistence::loader::{load_dir, EngineApply, LoadOptions};
use keel_persistence::manifest::Manifest;
use keel_persistence::parallel::with_parallel_apply;
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

/// Hash fields: a few short ones, and one past `hash-max-listpack-value`.
fn hfield() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..4u8).prop_map(|f| format!("f{f}")),
        1 => Just("F".repeat(70)),
    ]
}

/// A sorted-set score: integers, fractions, infinities (never -0, which an
/// AOF rewrite into a listpack turns into 0, in Redis too).
fn zscore() -> impl Strategy<Value = String> {
    prop_oneof![
        (-20..20i64).prop_map(|n| n.to_string()),
        Just("0.1".to_string()),
        Just("-2.5".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e300".to_string()),
    ]
}

/// A sorted-set member from a small pool (plus one past the listpack value
/// limit, which converts the set).
fn zmember() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0..6u8).prop_map(|n| format!("m{n}")),
        1 => Just("x".repeat(70)),
    ]
}

/// A set member: small integers (intset), non-canonical integers and short
/// strings (hashtable).
fn set_member() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0..12i64).prop_map(|n| n.to_string()),
        1 => Just("-0".to_string()),
        2 => "[a-d]",
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
        // --- lists (t-list): every list write, over the same keys as the
        // strings (so WRONGTYPE happens), with pops that empty lists and the
        // blocking forms (which cannot block here and log their plain forms).
        2 => (key(), val(), val()).prop_map(move |(k, x, y)| Op::Cmd(v(&["RPUSH", &k, &x, &y]))),
        1 => (key(), val()).prop_map(move |(k, x)| Op::Cmd(v(&["LPUSH", &k, &x]))),
        1 => (key(), val()).prop_map(move |(k, x)| Op::Cmd(v(&["RPUSHX", &k, &x]))),
        1 => (key(), 0..3u8).prop_map(move |(k, n)| Op::Cmd(v(&["LPOP", &k, &n.to_string()]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["RPOP", &k]))),
        1 => (key(), -3..3i8, val()).prop_map(move |(k, i, x)| Op::Cmd(v(&["LSET", &k, &i.to_string(), &x]))),
        1 => (key(), val(), val()).prop_map(move |(k, p, x)| Op::Cmd(v(&["LINSERT", &k, "AFTER", &p, &x]))),
        1 => (key(), -2..2i8, val()).prop_map(move |(k, n, x)| Op::Cmd(v(&["LREM", &k, &n.to_string(), &x]))),
        1 => (key(), -3..2i8, -3..3i8).prop_map(move |(k, a, b)| Op::Cmd(v(&["LTRIM", &k, &a.to_string(), &b.to_string()]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["LMOVE", &a, &b, "LEFT", "RIGHT"]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["RPOPLPUSH", &a, &b]))),
        1 => (key(), key(), 1..3u8).prop_map(move |(a, b, n)| Op::Cmd(v(&["LMPOP", "2", &a, &b, "RIGHT", "COUNT", &n.to_string()]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["BLPOP", &a, &b, "0"]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["BLMOVE", &a, &b, "RIGHT", "LEFT", "0"]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["BLMPOP", "0", "2", &a, &b, "LEFT"]))),
        // --- end of lists ---
        // ---- hash (t-hash): writes over the same keys as the strings above, so
        // WRONGTYPE happens both ways; few fields, so HDEL empties hashes; long
        // fields and values convert listpacks to tables.
        3 => (key(), hfield(), val(), hfield(), val()).prop_map(move |(k, f, x, g, y)| Op::Cmd(v(&["HSET", &k, &f, &x, &g, &y]))),
        1 => (key(), hfield(), val()).prop_map(move |(k, f, x)| Op::Cmd(v(&["HMSET", &k, &f, &x]))),
        1 => (key(), hfield(), val()).prop_map(move |(k, f, x)| Op::Cmd(v(&["HSETNX", &k, &f, &x]))),
        2 => (key(), hfield(), hfield()).prop_map(move |(k, f, g)| Op::Cmd(v(&["HDEL", &k, &f, &g]))),
        1 => (key(), hfield(), -50..50i64).prop_map(move |(k, f, n)| Op::Cmd(v(&["HINCRBY", &k, &f, &n.to_string()]))),
        1 => (key(), hfield(), prop_oneof![Just("0.1"), Just("1.5"), Just("-3.25"), Just("1e3"), Just("0x10"), Just("1e70")]).prop_map(move |(k, f, n)| Op::Cmd(v(&["HINCRBYFLOAT", &k, &f, n]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["HRANDFIELD", &k, "-3", "WITHVALUES"]))),
        // ---- end hash
        // ---- sets (t-set): small member space so commands meet, integers and
        // strings so intsets convert, pops that empty sets, stores over any key.
        3 => (key(), proptest::collection::vec(set_member(), 1..6)).prop_map(move |(k, ms)| Op::Cmd([v(&["SADD", &k]), ms].concat())),
        2 => (key(), proptest::collection::vec(set_member(), 1..4)).prop_map(move |(k, ms)| Op::Cmd([v(&["SREM", &k]), ms].concat())),
        2 => key().prop_map(move |k| Op::Cmd(v(&["SPOP", &k]))),
        2 => (key(), 0..8u8).prop_map(move |(k, n)| Op::Cmd(v(&["SPOP", &k, &n.to_string()]))),
        1 => (key(), key(), set_member()).prop_map(move |(a, b, m)| Op::Cmd(v(&["SMOVE", &a, &b, &m]))),
        1 => (prop_oneof![Just("SINTERSTORE"), Just("SUNIONSTORE"), Just("SDIFFSTORE")], key(), proptest::collection::vec(key(), 1..4))
            .prop_map(move |(c, d, ks)| Op::Cmd([v(&[c, &d]), ks].concat())),
        1 => (key(), -3..4i64).prop_map(move |(k, n)| Op::Cmd(v(&["SRANDMEMBER", &k, &n.to_string()]))),
        // ---- end of sets
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
        // ---- sorted sets (zset helper): small key space shared with the
        // string commands above, so WRONGTYPE and emptied keys happen.
        3 => (key(), zscore(), zmember(), zscore(), zmember()).prop_map(move |(k, a, m, b, n)| Op::Cmd(v(&["ZADD", &k, &a, &m, &b, &n]))),
        1 => (key(), prop_oneof![Just("NX"), Just("XX"), Just("GT"), Just("LT"), Just("CH")], zscore(), zmember()).prop_map(move |(k, o, a, m)| Op::Cmd(v(&["ZADD", &k, o, &a, &m]))),
        1 => (key(), zscore(), zmember()).prop_map(move |(k, a, m)| Op::Cmd(v(&["ZINCRBY", &k, &a, &m]))),
        1 => (key(), zmember(), zmember()).prop_map(move |(k, m, n)| Op::Cmd(v(&["ZREM", &k, &m, &n]))),
        1 => (key(), prop_oneof![Just("ZPOPMIN"), Just("ZPOPMAX")], 1..4u8).prop_map(move |(k, c, n)| Op::Cmd(v(&[c, &k, &n.to_string()]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["ZMPOP", "2", &a, &b, "MAX", "COUNT", "2"]))),
        1 => (key(), key()).prop_map(move |(a, b)| Op::Cmd(v(&["BZPOPMIN", &a, &b, "0"]))),
        1 => (key(), -3..3i64, -3..3i64).prop_map(move |(k, a, b)| Op::Cmd(v(&["ZREMRANGEBYRANK", &k, &a.to_string(), &b.to_string()]))),
        1 => (key(), prop_oneof![Just("-inf"), Just("(1"), Just("2")], prop_oneof![Just("+inf"), Just("3"), Just("(5")]).prop_map(move |(k, a, b)| Op::Cmd(v(&["ZREMRANGEBYSCORE", &k, a, b]))),
        1 => (key(), prop_oneof![Just("-"), Just("[m2"), Just("(m1")], prop_oneof![Just("+"), Just("[m4")]).prop_map(move |(k, a, b)| Op::Cmd(v(&["ZREMRANGEBYLEX", &k, a, b]))),
        1 => (key(), key(), -4..4i64).prop_map(move |(d, k, a)| Op::Cmd(v(&["ZRANGESTORE", &d, &k, &a.to_string(), "-1"]))),
        1 => (key(), key(), key(), prop_oneof![Just("ZUNIONSTORE"), Just("ZINTERSTORE"), Just("ZDIFFSTORE")]).prop_map(move |(d, a, b, c)| Op::Cmd(v(&[c, &d, "2", &a, &b]))),
        1 => (key(), key(), key(), prop_oneof![Just("SUM"), Just("MIN"), Just("MAX")]).prop_map(move |(d, a, b, g)| Op::Cmd(v(&["ZUNIONSTORE", &d, "2", &a, &b, "WEIGHTS", "2", "0.5", "AGGREGATE", g]))),
        1 => key().prop_map(move |k| Op::Cmd(v(&["ZRANDMEMBER", &k, "-2"]))),
        // ---- end sorted sets
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
        let mut apply = EngineApply::new(&replayed);
        load_dir(&aofdir, "appendonly.aof", &LoadOptions::default(), &mut apply, &mut |_| {}).unwrap();
        replayed.set_loading(false);
        let got = keel_engine::digest::digest(&replayed);
        prop_assert_eq!(keel_engine::digest::hex(&got), keel_engine::digest::hex(&want), "ops: {:?}", ops);

        // The same log applied on three threads (keel's start-up on several
        // CPUs) rebuilds the same dataset.
        let parallel = engine(&clock, Arc::new(NullSink));
        parallel.set_loading(true);
        with_parallel_apply(&parallel, 3, |a| {
            load_dir(&aofdir, "appendonly.aof", &LoadOptions::default(), a, &mut |_| {})
        })
        .unwrap();
        parallel.set_loading(false);
        let got = keel_engine::digest::digest(&parallel);
        prop_assert_eq!(keel_engine::digest::hex(&got), keel_engine::digest::hex(&want), "parallel, ops: {:?}", ops);
    }
}
