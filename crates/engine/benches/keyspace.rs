//! Keyspace micro-benchmarks (`cargo bench -p keel-engine`): a command through
//! the engine's whole path (resolve, lock the key's shard, look up or insert,
//! reply, effects) on a 100k-key database, as a connection runs it; and a
//! pipelined batch of 16 GETs run one by one, with and without
//! `Engine::prefetch` first (what pays for its one `unsafe`, the prefetch
//! instruction), and the same for SISMEMBER on one large set; and ZADD moving
//! members of a 100k-member sorted set (tree descents); and SET on 1 and on
//! 2 threads at once, on keys spread over the shards and on one key.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use keel_engine::{resolve, Command, Engine, EngineConfig, Lookup, NullSink, Session, SystemClock};
use std::hint::black_box;
use std::sync::Arc;

const KEYS: usize = 100_000;

fn argv(words: &[&[u8]]) -> Vec<Bytes> {
    words.iter().map(|w| Bytes::copy_from_slice(w)).collect()
}

/// An engine holding `KEYS` keys with 64-byte values: the engine, the keys,
/// the value and SET's table entry.
fn loaded() -> Option<(Engine, Vec<Bytes>, Bytes, &'static Command)> {
    let engine = Engine::new(
        EngineConfig::default(),
        Arc::new(SystemClock),
        Arc::new(NullSink),
    );
    let keys: Vec<Bytes> = (0..KEYS)
        .map(|i| Bytes::from(format!("key:{i:012}")))
        .collect();
    let value = Bytes::from(vec![b'v'; 64]);
    let Lookup::Found(set_cmd) = resolve(&argv(&[b"SET", b"k", b"v"])) else {
        return None;
    };
    let mut session = Session::default();
    for k in &keys {
        let a = [Bytes::from_static(b"SET"), k.clone(), value.clone()];
        engine.execute(&mut session, set_cmd, &a);
    }
    Some((engine, keys, value, set_cmd))
}

fn keyspace(c: &mut Criterion) {
    let Some((engine, keys, value, set_cmd)) = loaded() else {
        return;
    };
    let mut session = Session::default();
    let get = argv(&[b"GET", b"k"]);
    let Lookup::Found(get_cmd) = resolve(&get) else {
        return;
    };
    let mut g = c.benchmark_group("keyspace (100k keys)");
    let mut i = 0usize;
    g.bench_function("GET hit", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            let a = [Bytes::from_static(b"GET"), keys[i].clone()];
            black_box(engine.execute(&mut session, get_cmd, &a))
        })
    });
    g.bench_function("SET overwrite, 64-byte value", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            let a = [Bytes::from_static(b"SET"), keys[i].clone(), value.clone()];
            black_box(engine.execute(&mut session, set_cmd, &a))
        })
    });
    let batches: Vec<Vec<[Bytes; 2]>> = (0..1024)
        .map(|b| {
            (0..16)
                .map(|j| {
                    let k = (b * 16 + j) * 7919 % KEYS;
                    [Bytes::from_static(b"GET"), keys[k].clone()]
                })
                .collect()
        })
        .collect();
    let mut n = 0usize;
    g.bench_function("16 pipelined GETs", |b| {
        b.iter(|| {
            n = (n + 1) % batches.len();
            for a in &batches[n] {
                black_box(engine.execute(&mut session, get_cmd, a));
            }
        })
    });
    g.bench_function("16 pipelined GETs, prefetched", |b| {
        b.iter(|| {
            n = (n + 1) % batches.len();
            engine.prefetch(0, batches[n].iter().map(|a| (get_cmd, &a[..])));
            for a in &batches[n] {
                black_box(engine.execute(&mut session, get_cmd, a));
            }
        })
    });
    // One set of 100k members, SISMEMBER of random members: the misses are in
    // the set's member table, which the prefetch also reaches.
    let sadd = argv(&[b"SADD", b"s", b"m"]);
    let Lookup::Found(sadd_cmd) = resolve(&sadd) else {
        return;
    };
    let members: Vec<Bytes> = (0..KEYS)
        .map(|i| Bytes::from(format!("element:{i:012}")))
        .collect();
    for m in &members {
        let a = [
            Bytes::from_static(b"SADD"),
            Bytes::from_static(b"s"),
            m.clone(),
        ];
        engine.execute(&mut session, sadd_cmd, &a);
    }
    let ism: Vec<Vec<[Bytes; 3]>> = (0..1024)
        .map(|b| {
            (0..16)
                .map(|j| {
                    let m = (b * 16 + j) * 7919 % KEYS;
                    [
                        Bytes::from_static(b"SISMEMBER"),
                        Bytes::from_static(b"s"),
                        members[m].clone(),
                    ]
                })
                .collect()
        })
        .collect();
    let Lookup::Found(ism_cmd) = resolve(&ism[0][0]) else {
        return;
    };
    g.bench_function("16 pipelined SISMEMBERs, 100k-member set", |b| {
        b.iter(|| {
            n = (n + 1) % ism.len();
            for a in &ism[n] {
                black_box(engine.execute(&mut session, ism_cmd, a));
            }
        })
    });
    g.bench_function(
        "16 pipelined SISMEMBERs, 100k-member set, prefetched",
        |b| {
            b.iter(|| {
                n = (n + 1) % ism.len();
                engine.prefetch(0, ism[n].iter().map(|a| (ism_cmd, &a[..])));
                for a in &ism[n] {
                    black_box(engine.execute(&mut session, ism_cmd, a));
                }
            })
        },
    );
    // ZADD as redis-benchmark runs it: a random score for a random member of
    // 100k, so nearly every call moves an existing member (two descents of
    // the tree: out at the old score, in at the new one).
    let zadd = argv(&[b"ZADD", b"z", b"1", b"m"]);
    let Lookup::Found(zadd_cmd) = resolve(&zadd) else {
        return;
    };
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % KEYS as u64) as usize
    };
    let zargs: Vec<[Bytes; 4]> = (0..KEYS * 2)
        .map(|_| {
            [
                Bytes::from_static(b"ZADD"),
                Bytes::from_static(b"z"),
                Bytes::from(next().to_string()),
                Bytes::from(format!("element:{:06}", next())),
            ]
        })
        .collect();
    for m in 0..KEYS {
        let a = [
            Bytes::from_static(b"ZADD"),
            Bytes::from_static(b"z"),
            Bytes::from(next().to_string()),
            Bytes::from(format!("element:{m:06}")),
        ];
        engine.execute(&mut session, zadd_cmd, &a);
    }
    let mut z = 0usize;
    g.bench_function("ZADD random score, 100k-member sorted set", |b| {
        b.iter(|| {
            z = (z + 1) % zargs.len();
            black_box(engine.execute(&mut session, zadd_cmd, &zargs[z]))
        })
    });
    g.bench_function("resolve GET", |b| {
        b.iter(|| black_box(resolve(black_box(&get))))
    });
    g.finish();
}

/// The engine alone on 1 and on 2 threads (no sockets, no client competing
/// for the cores): each thread runs its share of the commands with its own
/// session, on keys spread over the keyspace (so over the shards), or all on
/// one key (one shard). The time per command on 2 threads over the time on
/// 1 is how the engine's shards let commands run in parallel.
fn threads(c: &mut Criterion) {
    let Some((engine, keys, value, set_cmd)) = loaded() else {
        return;
    };
    // Each thread its own copies of the arguments, so no reference count is
    // shared between the threads but the stored values'.
    let own: Vec<(Vec<Bytes>, Bytes)> = (0..2)
        .map(|_| {
            let k = keys.iter().map(|k| Bytes::copy_from_slice(k)).collect();
            (k, Bytes::copy_from_slice(&value))
        })
        .collect();
    let mut g = c.benchmark_group("engine threads (100k keys)");
    for (name, spread) in [
        ("SET overwrite, keys spread", true),
        ("SET, one key", false),
    ] {
        for t in [1usize, 2] {
            g.bench_function(format!("{name}, {t} thread(s)"), |b| {
                b.iter_custom(|iters| {
                    let per = (iters as usize).div_ceil(t);
                    let start = std::time::Instant::now();
                    std::thread::scope(|s| {
                        for (id, (keys, value)) in own.iter().enumerate().take(t) {
                            let engine = &engine;
                            s.spawn(move || {
                                let mut session = Session::default();
                                let mut i = id * 7;
                                for _ in 0..per {
                                    i = if spread { (i + 7919) % KEYS } else { 0 };
                                    let a = [
                                        Bytes::from_static(b"SET"),
                                        keys[i].clone(),
                                        value.clone(),
                                    ];
                                    black_box(engine.execute(&mut session, set_cmd, &a));
                                }
                            });
                        }
                    });
                    start.elapsed()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, keyspace, threads);
criterion_main!(benches);
