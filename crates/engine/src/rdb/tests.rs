//! Codec tests: payloads taken from Redis 7.0.15 (DUMP output, hex), older
//! formats built by hand, round trips of every encoding, and corrupted input.

use super::*;
use crate::types::{Hash, List, Set, ZSet};
use crate::value::Entry;

fn t() -> Thresholds {
    Thresholds::default()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn digest(v: &Value) -> String {
    crate::digest::hex(&crate::digest::value_digest(&Entry::new(v.clone(), 0, 0)))
}

fn list(items: &[&str]) -> Value {
    let mut l = List::new();
    for i in items {
        l.push_back(b(i));
    }
    Value::List(l, crate::value::LRU_UNSET)
}

fn set(items: &[&str], t: &Thresholds) -> Value {
    let mut s = Set::new();
    for i in items {
        s.insert(b(i), t);
    }
    Value::Set(s, crate::value::LRU_UNSET)
}

fn hash(pairs: &[(&str, &str)], t: &Thresholds) -> Value {
    let mut h = Hash::new();
    for (f, v) in pairs {
        h.insert(b(f), b(v), t);
    }
    Value::Hash(h, crate::value::LRU_UNSET)
}

fn zset(pairs: &[(&str, f64)], t: &Thresholds) -> Value {
    let mut z = ZSet::new();
    for (m, s) in pairs {
        z.insert(b(m), *s, t);
    }
    Value::ZSet(z, crate::value::LRU_UNSET)
}

/// Wraps an object (type byte included) in a payload of RDB `version`.
fn wrap(obj: &[u8], version: u16) -> Vec<u8> {
    let mut p = obj.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc64::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// (DUMP payload from Redis 7.0.15, the value, its serializedlength there).
fn redis_payloads() -> Vec<(&'static str, Value, usize)> {
    let small = t();
    let one_entry = Thresholds {
        zset_max_listpack_entries: 1,
        hash_max_listpack_entries: 1,
        ..t()
    };
    vec![
        ("000568656c6c6f0a006372df766534200a", Value::string(&b("hello")), 6),
        ("00c139300a009d94ea2793fc08b9", Value::string(&b("12345")), 3),
        (
            "00c3094040017878e033000178780a007671d576c5795442",
            Value::string(&[b'x'; 64]),
            13,
        ),
        (
            "000b2d353030303030303030300a00f24151c113b192b3",
            Value::string(&b("-5000000000")),
            12,
        ),
        (
            "1201021414000000050081610281620201010201c12c02ff0a008421c79fc0b821fa",
            list(&["a", "b", "1", "2", "300"]),
            23,
        ),
        (
            "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b",
            set(&["1", "2", "3"], &small),
            15,
        ),
        ("020101610a006296e97e44d21a6d", set(&["a"], &small), 3),
        (
            "1012120000000400816602817602816e020c01ff0a0001369481d35b8974",
            hash(&[("f", "v"), ("n", "12")], &small),
            19,
        ),
        (
            "11232300000008008163020001816102010181620283322e35048164028531652b323006ff0a00530b6226908e378f",
            zset(&[("a", 1.0), ("b", 2.5), ("c", 0.0), ("d", 1e20)], &small),
            36,
        ),
        (
            "0502016e0000000000000040016d000000000000f83f0a00d3cd2ffdf42dc07d",
            zset(&[("m", 1.5), ("n", 2.0)], &one_entry),
            21,
        ),
        (
            "040201670177016601760a004a88c4610eed3c4e",
            hash(&[("f", "v"), ("g", "w")], &one_entry),
            9,
        ),
    ]
}

#[test]
fn loads_redis_payloads() {
    for (hex, want, _) in redis_payloads() {
        let p = unhex(hex);
        let got = load_payload(&p, &t()).unwrap_or_else(|e| panic!("{hex}: {e:?}"));
        assert_eq!(got.type_name(), want.type_name(), "{hex}");
        assert_eq!(digest(&got), digest(&want), "{hex}");
    }
}

#[test]
fn dumps_as_redis_does() {
    // Keel's payload is Redis's byte for byte where the element order is the
    // same (every value here but the two-field hashtable hash, whose order is
    // Redis's hash table's), and serializedlength matches in every case.
    // Values whose type module does not yet give Redis's encoding (and so
    // another RDB type) are skipped loudly.
    for (hex, v, len) in redis_payloads() {
        let want = unhex(hex);
        if value_type(&v) != want[0] {
            eprintln!("skipped {hex}: keel's encoding is {}", v.encoding());
            continue;
        }
        assert_eq!(object_len(&v, &t()), len, "{hex}");
        if hex.starts_with("04") {
            continue;
        }
        assert_eq!(dump_payload(&v, &t()), want, "{hex}");
    }
}

#[test]
fn payload_errors() {
    let good = unhex("000568656c6c6f0a006372df766534200a");
    let bad = |p: &[u8]| load_payload(p, &t()).unwrap_err();
    assert_eq!(bad(b"abc"), PayloadError::VersionOrChecksum);
    assert_eq!(
        bad(&good[..good.len() - 1]),
        PayloadError::VersionOrChecksum
    );
    let mut flipped = good.clone();
    flipped[2] ^= 1;
    assert_eq!(bad(&flipped), PayloadError::VersionOrChecksum);
    // Version 11 (Redis 7.2) is refused, 9 and 1 are accepted.
    assert_eq!(bad(&wrap(&good[..7], 11)), PayloadError::VersionOrChecksum);
    assert!(load_payload(&wrap(&good[..7], 9), &t()).is_ok());
    assert!(load_payload(&wrap(&good[..7], 1), &t()).is_ok());
    // Bad data with a good checksum.
    for obj in [
        &b""[..],
        b"\x00\x19abc",
        b"\x08\x00",
        b"\x06\x00",
        b"\x0f\x00",
        b"\x15\x00",
        b"\x02\x00",
        b"\x02\x02\x01a\x01a",
        b"\x04\x01\x01a",
        b"\x03\x01\x01a\xfd",
        b"\x05\x01\x01a\x00\x00\x00\x00\x00\x00\xf8\x7f",
        b"\x00\xc4",
        b"\x00\xc3\x01\x05\x00",
        b"\x00\xc3\x02\x0a\x01ab",
        b"\x12\x01\x03\x01a",
        b"\x12\x01\x02\x07\x07\x00\x00\x00\x00\x00\xff",
        b"\x00\xbf",
        b"\x02\x81\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x01\x80\x7f\xff\xff\xff",
    ] {
        assert!(
            matches!(bad(&wrap(obj, 10)), PayloadError::BadData(_)),
            "{obj:?}"
        );
    }
    // A string running into the footer is read from it, as in Redis.
    let p = wrap(b"\x00\x09abc", 10);
    assert_eq!(
        load_payload(&p, &t()).unwrap().as_str().unwrap()[..],
        p[2..11]
    );
    // Trailing bytes after the object are ignored, as in Redis.
    let mut obj = good[..7].to_vec();
    obj.extend_from_slice(b"junk");
    assert!(load_payload(&wrap(&obj, 10), &t()).is_ok());
}

#[test]
fn old_formats_load() {
    use ziplist::build_for_tests as zl;
    let mut cases: Vec<(Vec<u8>, Value)> = Vec::new();
    let strs = |v: &[&'static str]| {
        v.iter()
            .map(|s| Elem::Str(s.as_bytes()))
            .collect::<Vec<_>>()
    };
    // RDB_TYPE_LIST (plain) and RDB_TYPE_LIST_ZIPLIST.
    cases.push((b"\x01\x02\x01a\xc0\x07".to_vec(), list(&["a", "7"])));
    let mut obj = vec![kind::LIST_ZIPLIST];
    save::save_string(&mut obj, &zl(&[Elem::Str(b"x"), Elem::Int(-3)]));
    cases.push((obj, list(&["x", "-3"])));
    // RDB_TYPE_LIST_QUICKLIST: two ziplist nodes, one of them empty.
    let mut obj = vec![kind::LIST_QUICKLIST, 2];
    save::save_string(&mut obj, &zl(&strs(&["p", "q"])));
    save::save_string(&mut obj, &zl(&[]));
    cases.push((obj, list(&["p", "q"])));
    // Quicklist 2 with a plain node between packed ones.
    let mut obj = vec![kind::LIST_QUICKLIST_2, 3, 2];
    let mut lp = listpack::Builder::new();
    lp.push(b"one");
    save::save_string(&mut obj, &lp.finish());
    obj.push(1);
    save::save_string(&mut obj, b"plain");
    obj.push(2);
    let mut lp = listpack::Builder::new();
    lp.push(b"3");
    save::save_string(&mut obj, &lp.finish());
    cases.push((obj, list(&["one", "plain", "3"])));
    // Hash and sorted set ziplists, a zipmap, text scores, a 7.2 listpack set.
    let mut obj = vec![kind::HASH_ZIPLIST];
    save::save_string(&mut obj, &zl(&[Elem::Str(b"f"), Elem::Int(1)]));
    cases.push((obj, hash(&[("f", "1")], &t())));
    let mut obj = vec![kind::ZSET_ZIPLIST];
    save::save_string(
        &mut obj,
        &zl(&[
            Elem::Str(b"m"),
            Elem::Str(b"1.5"),
            Elem::Str(b"n"),
            Elem::Int(2),
        ]),
    );
    cases.push((obj, zset(&[("m", 1.5), ("n", 2.0)], &t())));
    let mut obj = vec![kind::HASH_ZIPMAP];
    save::save_string(&mut obj, b"\x01\x03foo\x03\x02barXY\xff");
    cases.push((obj, hash(&[("foo", "bar")], &t())));
    cases.push((
        b"\x03\x03\x01a\x033.5\x01b\xfe\x01c\xff".to_vec(),
        zset(
            &[("a", 3.5), ("b", f64::INFINITY), ("c", f64::NEG_INFINITY)],
            &t(),
        ),
    ));
    let mut obj = vec![kind::SET_LISTPACK];
    let mut lp = listpack::Builder::new();
    lp.push(b"x");
    lp.push(b"5");
    save::save_string(&mut obj, &lp.finish());
    cases.push((obj, set(&["x", "5"], &t())));
    for (obj, want) in cases {
        let got = load_payload(&wrap(&obj, 9), &t()).unwrap_or_else(|e| panic!("{obj:?}: {e:?}"));
        assert_eq!(digest(&got), digest(&want), "{obj:?}");
    }
}

/// Values of every encoding, small and large (`n` elements in the large ones).
fn samples(n: usize) -> Vec<Value> {
    let t = t();
    let mut out = vec![
        Value::string(&b("")),
        Value::string(&b("0")),
        Value::string(&b("-2147483648")),
        Value::string(&b("2147483648")),
        Value::string(&[0u8; 10000]),
        Value::string(&Bytes::from(
            (0..3000u32)
                .map(|i| (i * 7 % 256) as u8)
                .collect::<Vec<_>>(),
        )),
        list(&["a"]),
        set(&["-1", "65536", "9223372036854775807"], &t),
        set(&["a", "\0\r\n"], &t),
        hash(&[("", ""), ("k", "\0")], &t),
        zset(&[("", 0.0), ("inf", f64::INFINITY), ("x", -1e-300)], &t),
    ];
    let mut l = List::new();
    let mut h = Hash::new();
    let mut s = Set::new();
    let mut z = ZSet::new();
    for i in 0..n {
        let e = if i % 3 == 0 {
            Bytes::from(format!("{i}"))
        } else {
            Bytes::from(format!("element-{i}-{}", "y".repeat(i % 90)))
        };
        l.push_back(e.clone());
        h.insert(e.clone(), Bytes::from(format!("v{i}")), &t);
        s.insert(e.clone(), &t);
        z.insert(e, (i as f64) / 7.0, &t);
    }
    l.push_back(Bytes::from(vec![b'L'; 70000]));
    out.push(Value::List(l, crate::value::LRU_UNSET));
    out.push(Value::Hash(h, crate::value::LRU_UNSET));
    out.push(Value::Set(s, crate::value::LRU_UNSET));
    out.push(Value::ZSet(z, crate::value::LRU_UNSET));
    let mut s = Set::new();
    for i in 0..1000 {
        s.insert(Bytes::from(format!("{}", i * 1000)), &t);
    }
    out.push(Value::Set(s, crate::value::LRU_UNSET));
    out
}

#[test]
fn round_trips() {
    for v in samples(3000) {
        let p = dump_payload(&v, &t());
        let got = load_payload(&p, &t()).unwrap();
        assert_eq!(digest(&got), digest(&v));
        assert_eq!(got.encoding(), v.encoding());
        assert_eq!(p.len(), object_len(&v, &t()) + 11);
    }
}

#[test]
fn list_nodes_follow_the_fill() {
    // 8 KiB nodes by default: 2000 elements of 10 bytes make 3 nodes.
    let mut l = List::new();
    for _ in 0..2000 {
        l.push_back(b("abcdefghij"));
    }
    let v = Value::List(l, crate::value::LRU_UNSET);
    let p = dump_payload(&v, &t());
    assert_eq!(p[1], 3);
    // A fill of 5 elements: 2000 / 5 nodes.
    let five = Thresholds {
        list_max_listpack_size: 5,
        ..t()
    };
    let mut out = Vec::new();
    save_object(&mut out, &v, &five);
    let mut r = Reader::new(&out);
    assert_eq!(r.length().unwrap(), 400);
}

/// A tiny deterministic generator (no dependency on a seeded RNG crate here).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn corrupt_payloads_never_panic() {
    let mut rng = Lcg(0x5eed);
    let mut bodies: Vec<Vec<u8>> = samples(200)
        .iter()
        .map(|v| {
            let p = dump_payload(v, &t());
            p[..p.len() - 10].to_vec()
        })
        .collect();
    bodies.extend(redis_payloads().iter().map(|(h, _, _)| {
        let p = unhex(h);
        p[..p.len() - 10].to_vec()
    }));
    let mut loaded = 0;
    for round in 0..6000 {
        let mut body = bodies[round % bodies.len()].clone();
        // Big bodies: corrupt near the start (headers, lengths) most of the time.
        let span = if rng.below(4) == 0 {
            body.len()
        } else {
            body.len().min(64)
        };
        match rng.below(6) {
            0 => {
                let i = rng.below(span);
                body[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(span);
                body[i] = rng.next() as u8;
            }
            2 => body.truncate(rng.below(body.len())),
            3 => {
                let i = rng.below(span);
                body.insert(i, rng.next() as u8);
            }
            4 => {
                let i = rng.below(span);
                body.remove(i);
            }
            _ => {
                // A huge length where a length byte may be.
                let i = rng.below(span.min(8));
                body.splice(i..i, [0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
            }
        }
        if load_payload(&wrap(&body, 10), &t()).is_ok() {
            loaded += 1;
        }
    }
    // Some corruptions still form valid values (a changed string byte).
    assert!(loaded > 0);
}
