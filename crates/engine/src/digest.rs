//! DEBUG DIGEST and DEBUG DIGEST-VALUE, with Redis's own algorithm (debug.c:
//! `computeDatasetDigest`, `xorObjectDigest`, `mixDigest`, `xorDigest`), so a keel
//! dataset and a Redis dataset holding the same data print the same digest.
//!
//! * `xorDigest(d, data)`: `d ^= SHA1(data)`; order-independent.
//! * `mixDigest(d, data)`: `xorDigest(d, data); d = SHA1(d)`; order-dependent.
//! * Per key: `digest = 0; mixDigest(digest, key)`, then the value's digest
//!   ([`xor_object_digest`]): `mixDigest(htonl(type code))`, the value's content,
//!   and `xorDigest("!!expire!!")` when the key has a TTL (its value is ignored).
//! * Dataset: `final = 0`; for each non-empty database in index order,
//!   `mixDigest(final, htonl(db))`, then `xorDigest(final, key digest)` (which
//!   xors in SHA1 of the key digest) for every key, so key order inside a
//!   database does not matter.
//!
//! Like Redis, keys whose TTL has passed but which are still stored are included:
//! DEBUG does not expire anything. The content of each value type is digested by
//! the helpers below ([`mix_list`], [`xor_set`], [`xor_zset`], [`xor_hash`]),
//! which follow debug.c for every Redis type and are checked against digests
//! measured from Redis 7.0.15; [`xor_object_digest`] matches on [`Value`], and a
//! new value variant gets one arm there calling the helper for its type.

use crate::engine::{Engine, Locks};
use crate::keyspace::Shard;
use crate::value::{Entry, Value};
use sha1::{Digest as _, Sha1};

/// A 20-byte SHA1-sized digest.
pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    Sha1::digest(data).into()
}

/// `digest ^= SHA1(data)` (debug.c `xorDigest`).
pub fn xor_digest(digest: &mut Digest, data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(data)) {
        *d ^= h;
    }
}

/// `xorDigest(digest, data); digest = SHA1(digest)` (debug.c `mixDigest`).
pub fn mix_digest(digest: &mut Digest, data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(&digest[..]);
}

/// A list: every element mixed in order, head to tail.
pub fn mix_list<'a>(digest: &mut Digest, elements: impl IntoIterator<Item = &'a [u8]>) {
    for e in elements {
        mix_digest(digest, e);
    }
}

/// A set: every member xored in (order does not matter).
pub fn xor_set<'a>(digest: &mut Digest, members: impl IntoIterator<Item = &'a [u8]>) {
    for m in members {
        xor_digest(digest, m);
    }
}

/// A hash: per field, `e = 0; mix(e, field); mix(e, value); xor(digest, e)`.
pub fn xor_hash<'a>(digest: &mut Digest, pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) {
    for (f, v) in pairs {
        xor_hash_pair(digest, f, v);
    }
}

/// One field of a hash (see [`xor_hash`]).
pub fn xor_hash_pair(digest: &mut Digest, field: &[u8], value: &[u8]) {
    let mut e = [0u8; 20];
    mix_digest(&mut e, field);
    mix_digest(&mut e, value);
    xor_digest(digest, &e);
}

/// A sorted set: per member, `e = 0; mix(e, member); mix(e, "%.17g" of score);
/// xor(digest, e)` (Redis 7.0 formats the score with `%.17g`).
pub fn xor_zset<'a>(digest: &mut Digest, members: impl IntoIterator<Item = (&'a [u8], f64)>) {
    for (m, score) in members {
        xor_zset_member(digest, m, score);
    }
}

/// One member of a sorted set (see [`xor_zset`]).
pub fn xor_zset_member(digest: &mut Digest, member: &[u8], score: f64) {
    let mut e = [0u8; 20];
    mix_digest(&mut e, member);
    mix_digest(&mut e, fmt_g17(score).as_bytes());
    xor_digest(digest, &e);
}

/// C's `printf("%.17g", v)`.
pub fn fmt_g17(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // 17 significant digits in exponent form tells the decimal exponent after
    // rounding, which decides between %e and %f style as C does.
    let e_form = format!("{:.16e}", v);
    let Some((mantissa, exp)) = e_form.split_once('e') else {
        return e_form;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mantissa, sign, exp.unsigned_abs())
    } else {
        let decimals = (16 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Mixes `entry`'s value and TTL presence into `digest` (debug.c
/// `xorObjectDigest`). The one place that knows how each value type is digested.
pub fn xor_object_digest(digest: &mut Digest, entry: &Entry) {
    mix_digest(digest, &entry.value.type_code().to_be_bytes());
    match &entry.value {
        Value::Str { data, .. } => mix_digest(digest, data),
        Value::List(l, _) => l.for_each(|e| mix_digest(digest, e)),
        Value::Set(x, _) => x.for_each(|m| xor_digest(digest, m)),
        Value::Hash(h, _) => h.for_each(|f, v| xor_hash_pair(digest, f, v)),
        Value::ZSet(z, _) => z.for_each(|m, score| xor_zset_member(digest, m, score)),
    }
    if entry.expire_at != 0 {
        xor_digest(digest, b"!!expire!!");
    }
}

/// The digest of one value as DEBUG DIGEST-VALUE reports it (no key mixed in).
pub fn value_digest(entry: &Entry) -> Digest {
    let mut d = [0u8; 20];
    xor_object_digest(&mut d, entry);
    d
}

/// The digest of one key and its value, as xored into the dataset digest.
pub fn key_digest(key: &[u8], entry: &Entry) -> Digest {
    let mut d = [0u8; 20];
    mix_digest(&mut d, key);
    xor_object_digest(&mut d, entry);
    d
}

/// Accumulates per-database digests over shards, then folds them in db order.
struct DatasetDigest {
    per_db: Vec<Option<Digest>>,
}

impl DatasetDigest {
    fn new(databases: usize) -> Self {
        DatasetDigest {
            per_db: vec![None; databases],
        }
    }

    fn add_shard(&mut self, shard: &Shard) {
        for (db, d) in shard.dbs.iter().enumerate() {
            if d.map.is_empty() {
                continue;
            }
            let Some(slot) = self.per_db.get_mut(db) else {
                continue;
            };
            // Redis does `xorDigest(final, keydigest)`, i.e. xors SHA1(keydigest);
            // those xors commute, so they are gathered per database here.
            let acc = slot.get_or_insert([0u8; 20]);
            for (k, e) in &d.map {
                xor_digest(acc, &key_digest(k, e));
            }
        }
    }

    fn finish(self) -> Digest {
        let mut fin = [0u8; 20];
        for (db, acc) in self.per_db.into_iter().enumerate() {
            let Some(acc) = acc else { continue };
            mix_digest(&mut fin, &(db as u32).to_be_bytes());
            for (f, a) in fin.iter_mut().zip(acc) {
                *f ^= a;
            }
        }
        fin
    }
}

/// DEBUG DIGEST: the digest of the whole dataset, taken under every shard lock
/// (so it is a consistent snapshot). All zeros when the dataset is empty. Must not
/// be called while the caller holds shard locks (use [`digest_locked`]).
pub fn digest(engine: &Engine) -> Digest {
    let mut locks = engine.lock_unsnapshotted((0..engine.shard_count()).collect());
    digest_locked(engine, &mut locks)
}

/// DEBUG DIGEST over locks the caller already holds (all of them, e.g. inside
/// EXEC); shards not held are left out.
pub fn digest_locked(engine: &Engine, locks: &mut Locks<'_>) -> Digest {
    let mut acc = DatasetDigest::new(engine.databases());
    for (_, shard) in locks.shards_mut() {
        acc.add_shard(shard);
    }
    acc.finish()
}

/// DEBUG DIGEST-VALUE for one key of database `db`: the value's digest, or 20 zero
/// bytes when the key does not exist. Logically expired keys still count (DEBUG
/// does not expire). Locks the key's shard; must not be called while holding it.
pub fn digest_value(engine: &Engine, db: usize, key: &[u8]) -> Digest {
    let mut locks = engine.lock_unsnapshotted(vec![engine.shard_of(key)]);
    digest_value_locked(engine, &mut locks, db, key)
}

/// [`digest_value`] under locks the caller already holds (they must include the
/// key's shard, or the key reads as missing).
pub fn digest_value_locked(
    engine: &Engine,
    locks: &mut Locks<'_>,
    db: usize,
    key: &[u8],
) -> Digest {
    let want = engine.shard_of(key);
    for (i, shard) in locks.shards_mut() {
        if i != want {
            continue;
        }
        if let Some(e) = shard.dbs.get(db).and_then(|d| d.map.get(key)) {
            return value_digest(e);
        }
    }
    [0u8; 20]
}

/// Lower-case hex, as DEBUG prints digests.
pub fn hex(d: &Digest) -> String {
    let mut s = String::with_capacity(40);
    for b in d {
        s.push_str(&format!("{:02x}", b));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::{engine, run};
    use crate::engine::Session;

    fn set_all(e: &Engine, lines: &[(usize, &str)]) {
        for (db, line) in lines {
            let mut s = Session {
                db: *db,
                resp: 2,
                ticket: 0,
                ..Default::default()
            };
            let (r, _) = run(e, &mut s, line);
            assert!(!r.is_error(), "{line}: {r:?}");
        }
    }

    fn long_value() -> String {
        "a somewhat longer string value that is raw encoded, more than 44 bytes".into()
    }

    // The dataset below was loaded into a real redis-server 7.0.15 and the digests
    // it printed (DEBUG DIGEST, DEBUG DIGEST-VALUE) are hard-coded here: they are
    // facts measured from Redis, not computed by keel.
    fn redis_dataset(e: &Engine, reverse: bool) {
        let mut argvs: Vec<(usize, Vec<bytes::Bytes>)> = vec![
            (0, vec!["SET".into(), "a".into(), "1".into()]),
            (0, vec!["SET".into(), "b".into(), "hello".into()]),
            (0, vec!["SET".into(), "c".into(), "world".into()]),
            (0, vec!["EXPIRE".into(), "c".into(), "1000".into()]),
            (3, vec!["SET".into(), "a".into(), "1".into()]),
            (3, vec!["SET".into(), "x".into(), long_value().into()]),
            (3, vec!["PEXPIRE".into(), "x".into(), "5000000".into()]),
            (3, vec!["SET".into(), "12345".into(), "67890".into()]),
        ];
        if reverse {
            // Keep each EXPIRE after its SET: reverse whole (SET, EXPIRE) groups.
            let groups: Vec<Vec<(usize, Vec<bytes::Bytes>)>> = vec![
                argvs[7..8].to_vec(),
                argvs[4..7].to_vec(),
                argvs[2..4].to_vec(),
                argvs[1..2].to_vec(),
                argvs[0..1].to_vec(),
            ];
            argvs = groups.into_iter().flatten().collect();
        }
        for (db, argv) in argvs {
            let s = Session {
                db,
                resp: 2,
                ticket: 0,
                ..Default::default()
            };
            let (r, _) = e.run_argv(&s, &argv);
            assert!(!r.is_error(), "{r:?}");
        }
    }

    #[test]
    fn empty_is_zero() {
        let (e, _) = engine();
        assert_eq!(digest(&e), [0u8; 20]);
        assert_eq!(hex(&digest(&e)), "0".repeat(40));
        assert_eq!(digest_value(&e, 0, b"nokey"), [0u8; 20]);
    }

    #[test]
    fn matches_redis_measured() {
        let (e, _) = engine();
        set_all(&e, &[(0, "SET a 1")]);
        // Redis 7.0.15: SET a 1; DEBUG DIGEST; DEBUG DIGEST-VALUE a
        assert_eq!(hex(&digest(&e)), "943d800368fb9c0e951138f1bc0e313ac769d91f");
        assert_eq!(
            hex(&digest_value(&e, 0, b"a")),
            "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da"
        );

        let (e, _) = engine();
        redis_dataset(&e, false);
        // Redis 7.0.15, the same dataset: DEBUG DIGEST
        assert_eq!(hex(&digest(&e)), "f841a8fe8f7d8817e2c5a6489967a6589ccbaa76");
        // DEBUG DIGEST-VALUE a b c nokey (db 0), x 12345 (db 3)
        assert_eq!(
            hex(&digest_value(&e, 0, b"a")),
            "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da"
        );
        assert_eq!(
            hex(&digest_value(&e, 0, b"b")),
            "36b23a1456b2dce2c3ed252c456761301dba8060"
        );
        assert_eq!(
            hex(&digest_value(&e, 0, b"c")),
            "9b57a64cff36f9a962c2df21b924b0916c6e2b53"
        );
        assert_eq!(hex(&digest_value(&e, 0, b"nokey")), "0".repeat(40));
        assert_eq!(
            hex(&digest_value(&e, 3, b"x")),
            "b68fcfc7c7ab5ad583402477bc0cd0179437bdd1"
        );
        assert_eq!(
            hex(&digest_value(&e, 3, b"12345")),
            "330caa71a8bfce683bc2db6b1c2f0832b37cf2be"
        );
    }

    #[test]
    fn insertion_order_does_not_matter() {
        let (a, _) = engine();
        redis_dataset(&a, false);
        let (b, _) = engine();
        redis_dataset(&b, true);
        assert_eq!(digest(&a), digest(&b));

        // Many keys, inserted forwards and backwards, with deletions in between.
        let (x, _) = engine();
        let (y, _) = engine();
        let mut s = Session::default();
        for i in 0..300 {
            run(&x, &mut s, &format!("SET k{i} v{i}"));
        }
        for i in (0..300).rev() {
            run(&y, &mut s, &format!("SET k{i} v{i}"));
            run(&y, &mut s, &format!("SET extra{i} z"));
        }
        for i in 0..300 {
            run(&y, &mut s, &format!("DEL extra{i}"));
        }
        assert_eq!(digest(&x), digest(&y));
        assert_ne!(digest(&x), [0u8; 20]);
    }

    #[test]
    fn sensitive_to_db_ttl_and_content() {
        let (a, _) = engine();
        set_all(&a, &[(0, "SET k v")]);
        let (b, _) = engine();
        set_all(&b, &[(1, "SET k v")]);
        assert_ne!(digest(&a), digest(&b));
        let base = digest(&a);
        set_all(&a, &[(0, "EXPIRE k 100")]);
        let with_ttl = digest(&a);
        assert_ne!(base, with_ttl);
        // The TTL's value does not matter, only its presence.
        set_all(&a, &[(0, "EXPIRE k 5000")]);
        assert_eq!(digest(&a), with_ttl);
        set_all(&a, &[(0, "PERSIST k")]);
        assert_eq!(digest(&a), base);
        set_all(&a, &[(0, "SET k w")]);
        assert_ne!(digest(&a), base);
    }

    #[test]
    fn locked_variants() {
        let (e, _) = engine();
        set_all(&e, &[(0, "SET a 1")]);
        let mut locks = e.lock_all();
        assert_eq!(
            hex(&digest_locked(&e, &mut locks)),
            "943d800368fb9c0e951138f1bc0e313ac769d91f"
        );
        assert_eq!(
            hex(&digest_value_locked(&e, &mut locks, 0, b"a")),
            "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da"
        );
        drop(locks);
        let mut none = e.lock(Vec::new());
        assert_eq!(digest_value_locked(&e, &mut none, 0, b"a"), [0u8; 20]);
    }

    // The collection helpers against DEBUG DIGEST-VALUE measured from Redis 7.0.15
    // for: RPUSH l a b c; SADD s a b c; HSET h f1 v1 f2 v2; ZADD z 0.1 a 2 b
    // (type codes: list 1, set 2, zset 3, hash 4).
    fn with_type(code: u32, f: impl FnOnce(&mut Digest)) -> String {
        let mut d = [0u8; 20];
        mix_digest(&mut d, &code.to_be_bytes());
        f(&mut d);
        hex(&d)
    }

    #[test]
    fn collection_helpers_match_redis() {
        let abc: [&[u8]; 3] = [b"a", b"b", b"c"];
        assert_eq!(
            with_type(1, |d| mix_list(d, abc)),
            "8bf72d812571eea9b927f3c11beb0c4165a6ff89"
        );
        let cba: [&[u8]; 3] = [b"c", b"b", b"a"];
        assert_eq!(
            with_type(2, |d| xor_set(d, cba)),
            "593c2414786d75446e97f4ea5d4b731f3313da72"
        );
        let h: [(&[u8], &[u8]); 2] = [(b"f2", b"v2"), (b"f1", b"v1")];
        assert_eq!(
            with_type(4, |d| xor_hash(d, h)),
            "047cc60ea73a34cde6d08a2721a4a26d19ee6570"
        );
        let z: [(&[u8], f64); 2] = [(b"b", 2.0), (b"a", 0.1)];
        assert_eq!(
            with_type(3, |d| xor_zset(d, z)),
            "be930d77310ad4a0395eedf9bac2015e3c35a5c5"
        );
    }

    #[test]
    fn g17_format() {
        assert_eq!(fmt_g17(0.1), "0.10000000000000001");
        assert_eq!(fmt_g17(2.0), "2");
        assert_eq!(fmt_g17(-1.5), "-1.5");
        assert_eq!(fmt_g17(0.0), "0");
        assert_eq!(fmt_g17(1e17), "1e+17");
        assert_eq!(fmt_g17(1e16), "10000000000000000");
        assert_eq!(fmt_g17(0.0001), "0.0001");
        assert_eq!(fmt_g17(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_g17(1.0 / 3.0), "0.33333333333333331");
        assert_eq!(fmt_g17(f64::INFINITY), "inf");
        assert_eq!(fmt_g17(f64::NEG_INFINITY), "-inf");
        assert_eq!(fmt_g17(123456789.125), "123456789.125");
        assert_eq!(fmt_g17(1e300), "1.0000000000000001e+300");
    }
}
