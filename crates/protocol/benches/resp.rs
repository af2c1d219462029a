//! RESP parser and encoder micro-benchmarks (`cargo bench -p keel-protocol`).

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keel_protocol::{Frame, Limits, RequestParser};
use std::hint::black_box;

fn pipeline(n: usize, cmd: impl Fn(usize) -> Vec<Vec<u8>>) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        let args = cmd(i);
        v.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            v.extend_from_slice(&a);
            v.extend_from_slice(b"\r\n");
        }
    }
    v
}

fn parse(c: &mut Criterion) {
    let limits = Limits::default();
    let gets = pipeline(16, |i| {
        vec![b"GET".to_vec(), format!("key:{i:012}").into_bytes()]
    });
    let sets = pipeline(16, |i| {
        vec![
            b"SET".to_vec(),
            format!("key:{i:012}").into_bytes(),
            vec![b'v'; 64],
        ]
    });
    let mut g = c.benchmark_group("parse");
    for (name, input) in [
        ("16 pipelined GETs", &gets),
        ("16 pipelined SETs, 64-byte values", &sets),
    ] {
        g.throughput(Throughput::Elements(16));
        g.bench_function(name, |b| {
            let mut parser = RequestParser::new();
            let mut argv: Vec<Bytes> = Vec::new();
            b.iter(|| {
                let mut buf = BytesMut::from(&input[..]);
                let mut n = 0;
                while parser
                    .parse_into(&mut buf, &limits, true, &mut argv)
                    .unwrap_or(false)
                {
                    n += argv.len();
                }
                black_box(n)
            })
        });
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let bulk = Frame::Bulk(Bytes::from(vec![b'v'; 64]));
    g.bench_function("64-byte bulk", |b| {
        let mut out = BytesMut::with_capacity(1 << 16);
        b.iter(|| {
            out.clear();
            black_box(&bulk).encode(2, &mut out);
            black_box(out.len())
        })
    });
    let array = Frame::Array(
        (0..100)
            .map(|i| Frame::Bulk(Bytes::from(format!("element:{i:08}"))))
            .collect(),
    );
    g.throughput(Throughput::Elements(100));
    g.bench_function("array of 100 bulks (LRANGE 0 99)", |b| {
        let mut out = BytesMut::with_capacity(1 << 16);
        b.iter(|| {
            out.clear();
            black_box(&array).encode(2, &mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
