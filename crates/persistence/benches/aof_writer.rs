//! AOF writer micro-benchmarks (`cargo bench -p keel-persistence`): appending a
//! SET effect (RESP encoding, the batch annotation with its CRC, the buffer) and
//! writing it through to the OS as a connection does under `everysec`.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keel_engine::Effect;
use keel_persistence::manifest::Manifest;
use keel_persistence::writer::{AofWriter, FsyncPolicy};
use std::hint::black_box;

fn set_effect(i: usize) -> Vec<Effect> {
    vec![Effect::new(
        0,
        vec![
            Bytes::from_static(b"SET"),
            Bytes::from(format!("key:{i:012}")),
            Bytes::from(vec![b'v'; 64]),
        ],
    )]
}

fn writer(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let Ok(w) = AofWriter::open(
        &dir.path().join("appendonlydir"),
        "appendonly.aof",
        Manifest::default(),
        FsyncPolicy::No,
        0,
        true,
    ) else {
        return;
    };
    if w.start().is_err() {
        return;
    }
    let effects: Vec<Vec<Effect>> = (0..1024).map(set_effect).collect();
    let mut g = c.benchmark_group("aof writer");
    let mut i = 0usize;
    g.bench_function("append one SET", |b| {
        b.iter(|| {
            i = (i + 1) % effects.len();
            black_box(w.append(&effects[i]))
        })
    });
    g.bench_function("append one SET + write through", |b| {
        b.iter(|| {
            i = (i + 1) % effects.len();
            let t = w.append(&effects[i]);
            black_box(w.write_through(t))
        })
    });
    g.throughput(Throughput::Elements(16));
    g.bench_function("append 16 SETs + one write through (pipeline 16)", |b| {
        b.iter(|| {
            let mut t = 0;
            for _ in 0..16 {
                i = (i + 1) % effects.len();
                t = w.append(&effects[i]);
            }
            black_box(w.write_through(t))
        })
    });
    g.finish();
    w.shutdown();
}

criterion_group!(benches, writer);
criterion_main!(benches);
