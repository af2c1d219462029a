//! DUMP and RESTORE (cluster.c) in Redis's DUMP payload format: the RDB type
//! byte and object ([`crate::rdb`]), the RDB version (u16 LE, 10 written, up to
//! 10 accepted) and a CRC64 of all that (u64 LE).
//!
//! Effects: RESTORE logs itself with the absolute expiry time and `ABSTTL`
//! (`RESTORE key <unix ms> payload [REPLACE] ABSTTL`, or ttl 0 without a TTL),
//! so replaying it later gives the same key whatever the time; the payload is
//! decoded the same way on replay. IDLETIME and FREQ only touch the access
//! clock and are not logged. A RESTORE whose time has already passed creates
//! nothing, and logs `DEL key` if REPLACE removed an old value.

use super::args::*;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::GENERIC;
use crate::rdb::{self, PayloadError};
use crate::tri;
use crate::value::Entry;
use bytes::Bytes;
use keel_protocol::Frame;

pub static COMMANDS: &[EngineEntry] = &[
    ("dump", Scope::Keys, dump),
    ("restore", Scope::Keys, restore),
];

const ERR_BUSYKEY: &str = "BUSYKEY Target key name already exists.";
const ERR_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const ERR_BAD_DATA: &str = "ERR Bad data format";

/// The LRU clock's range (24 bits), as the object header holds it.
const LRU_MASK: i64 = (1 << 24) - 1;

fn dump(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let t = ctx.thresholds();
    match ctx.lookup_read(&argv[1]) {
        Some(e) => Frame::bulk(rdb::dump_payload(&e.value, &t)),
        None => Frame::Null,
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f],
/// checking in Redis's order: options, an existing key, the TTL, the payload.
fn restore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let (mut replace, mut absttl) = (false, false);
    let mut idle: Option<i64> = None;
    let mut freq: Option<i64> = None;
    let mut j = 4;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if is(&argv[j], "replace") {
            replace = true;
        } else if is(&argv[j], "absttl") {
            absttl = true;
        } else if is(&argv[j], "idletime") && more && freq.is_none() {
            let v = tri!(int_arg(&argv[j + 1]));
            if v < 0 {
                return err("ERR Invalid IDLETIME value, must be >= 0");
            }
            idle = Some(v);
            j += 1;
        } else if is(&argv[j], "freq") && more && idle.is_none() {
            let v = tri!(int_arg(&argv[j + 1]));
            if !(0..=255).contains(&v) {
                return err("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            // keel tracks no LFU counter (its policy is noeviction), as Redis
            // ignores FREQ under an LRU policy.
            freq = Some(v);
            j += 1;
        } else {
            return err(ERR_SYNTAX);
        }
        j += 1;
    }
    let key = &argv[1];
    if !replace && ctx.lookup_write(key).is_some() {
        return err(ERR_BUSYKEY);
    }
    let mut ttl = tri!(int_arg(&argv[2]));
    if ttl < 0 {
        return err("ERR Invalid TTL value, must be >= 0");
    }
    let value = match rdb::load_payload(&argv[3], &ctx.thresholds()) {
        Ok(v) => v,
        Err(PayloadError::VersionOrChecksum) => return err(ERR_PAYLOAD),
        Err(PayloadError::BadData(_)) => return err(ERR_BAD_DATA),
    };
    let deleted = replace && {
        let db = ctx.db;
        ctx.expire_if_needed(db, key);
        ctx.remove(key).is_some()
    };
    let now = ctx.now as i64;
    if ttl != 0 && !absttl {
        // Redis adds in signed 64 bits; a sum past the range wraps negative
        // and counts as already expired.
        ttl = ttl.wrapping_add(now);
    }
    if ttl != 0 && ttl <= now && !ctx.engine.is_loading() {
        if deleted {
            ctx.emit(smallvec![s("DEL"), key.clone()]);
            ctx.notify(GENERIC, "del", key);
        }
        return Frame::ok();
    }
    let mut entry = Entry::new(value, ttl as u64, ctx.now);
    if let Some(idle) = idle {
        // objectSetLRUOrLFU: seconds back from now on the 24-bit LRU clock,
        // with Redis 7.0's wrapping arithmetic.
        let clock = crate::value::lru_clock(ctx.now) as i64;
        let idle = idle.wrapping_mul(1000) / 1000;
        entry.set_lru((clock.wrapping_sub(idle) & LRU_MASK) as u32);
    }
    ctx.insert(key, entry);
    let mut effect: Args = smallvec![s("RESTORE"), key.clone(), n(ttl), argv[3].clone()];
    if replace {
        effect.push(s("REPLACE"));
    }
    if ttl != 0 {
        effect.push(s("ABSTTL"));
    }
    ctx.emit(effect);
    ctx.notify(GENERIC, "restore", key);
    Frame::ok()
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::{engine, fx, run};
    use crate::engine::Session;
    use bytes::Bytes;
    use keel_protocol::Frame;

    fn bulk(f: &Frame) -> Bytes {
        match f {
            Frame::Bulk(b) => b.clone(),
            other => panic!("not a bulk: {other:?}"),
        }
    }

    fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
        parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
    }

    #[test]
    fn dump_restore_effects() {
        let (e, _clock) = engine();
        let mut s = Session::default();
        run(&e, &mut s, "SET src hello");
        let payload = bulk(&run(&e, &mut s, "DUMP src").0);
        assert_eq!(
            &payload[..],
            b"\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a"
        );
        assert_eq!(run(&e, &mut s, "DUMP nokey").0, Frame::Null);

        let now = e.now_ms();
        let (f, fx1) = e.run_argv(&s, &argv(&[b"RESTORE", b"k", b"5000", &payload]));
        assert_eq!(f, Frame::ok());
        let want = format!("0 RESTORE k {} ", now + 5000);
        assert!(fx(&fx1)[0].starts_with(&want), "{:?}", fx(&fx1));
        assert!(fx(&fx1)[0].ends_with(" ABSTTL"));
        // Busy key, then REPLACE without a TTL.
        let (f, _) = e.run_argv(&s, &argv(&[b"RESTORE", b"k", b"0", &payload]));
        assert_eq!(f, Frame::error("BUSYKEY Target key name already exists."));
        let (f, fx2) = e.run_argv(&s, &argv(&[b"RESTORE", b"k", b"0", &payload, b"REPLACE"]));
        assert_eq!(f, Frame::ok());
        assert!(fx(&fx2)[0].starts_with("0 RESTORE k 0 "));
        assert!(fx(&fx2)[0].ends_with(" REPLACE"));
        assert_eq!(run(&e, &mut s, "PTTL k").0, Frame::Integer(-1));
        // An absolute time already past: nothing created, the old key deleted.
        let (f, fx3) = e.run_argv(
            &s,
            &argv(&[b"RESTORE", b"k", b"1", &payload, b"ABSTTL", b"REPLACE"]),
        );
        assert_eq!(f, Frame::ok());
        assert_eq!(fx(&fx3), vec!["0 DEL k"]);
        assert_eq!(run(&e, &mut s, "EXISTS k").0, Frame::Integer(0));
        let (_, fx4) = e.run_argv(&s, &argv(&[b"RESTORE", b"k", b"1", &payload, b"ABSTTL"]));
        assert!(fx4.is_empty());
        // A relative TTL that overflows counts as expired, as in Redis.
        let (f, fx5) = e.run_argv(
            &s,
            &argv(&[b"RESTORE", b"k", b"9223372036854775807", &payload]),
        );
        assert_eq!(f, Frame::ok());
        assert!(fx5.is_empty());
        assert_eq!(run(&e, &mut s, "EXISTS k").0, Frame::Integer(0));
    }

    #[test]
    fn restore_errors_in_redis_order() {
        let (e, _) = engine();
        let mut s = Session::default();
        run(&e, &mut s, "SET k v");
        let cases: &[(&str, &str)] = &[
            (
                "RESTORE x 0 abc",
                "ERR DUMP payload version or checksum are wrong",
            ),
            ("RESTORE x -1 abc", "ERR Invalid TTL value, must be >= 0"),
            ("RESTORE k 0 abc", "BUSYKEY Target key name already exists."),
            (
                "RESTORE k abc abc",
                "BUSYKEY Target key name already exists.",
            ),
            ("RESTORE x 0 abc foo", "ERR syntax error"),
            ("RESTORE k 0 abc foo", "ERR syntax error"),
            (
                "RESTORE x abc abc",
                "ERR value is not an integer or out of range",
            ),
            (
                "RESTORE x 0 abc idletime -1",
                "ERR Invalid IDLETIME value, must be >= 0",
            ),
            (
                "RESTORE x 0 abc idletime x",
                "ERR value is not an integer or out of range",
            ),
            (
                "RESTORE x 0 abc freq 256",
                "ERR Invalid FREQ value, must be >= 0 and <= 255",
            ),
            ("RESTORE x 0 abc idletime 1 freq 2", "ERR syntax error"),
            ("RESTORE x 0 abc freq 1 idletime 2", "ERR syntax error"),
            ("RESTORE x 0 abc idletime", "ERR syntax error"),
            (
                "RESTORE k 0 abc replace",
                "ERR DUMP payload version or checksum are wrong",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(run(&e, &mut s, line).0, Frame::error(*want), "{line}");
        }
        // A good checksum over bad data.
        let mut p = b"\x00\xc4".to_vec();
        p.extend_from_slice(&10u16.to_le_bytes());
        let crc = crate::rdb::crc64::crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        let (f, fx) = e.run_argv(&s, &argv(&[b"RESTORE", b"x", b"0", &p]));
        assert_eq!(f, Frame::error("ERR Bad data format"));
        assert!(fx.is_empty());
    }

    #[test]
    fn notifications_as_redis() {
        // Redis 7.0.15 with notify-keyspace-events KEAnm.
        let (e, _, rec) = crate::engine::testing::notes_engine();
        let mut s = Session::default();
        run(&e, &mut s, "SET src v");
        let p = bulk(&run(&e, &mut s, "DUMP src").0);
        e.run_argv(&s, &argv(&[b"RESTORE", b"a", b"0", &p]));
        e.run_argv(&s, &argv(&[b"RESTORE", b"a", b"0", &p, b"REPLACE"]));
        assert_eq!(
            rec.take(),
            [
                "0 new src",
                "0 set src",
                "0 new a",
                "0 restore a",
                "0 new a",
                "0 restore a"
            ]
        );
    }

    #[test]
    fn idletime_sets_the_access_clock() {
        let (e, _) = engine();
        let mut s = Session::default();
        run(&e, &mut s, "SET src v");
        let p = bulk(&run(&e, &mut s, "DUMP src").0);
        e.run_argv(
            &s,
            &argv(&[b"RESTORE", b"a", b"0", &p, b"IDLETIME", b"100"]),
        );
        assert_eq!(run(&e, &mut s, "OBJECT IDLETIME a").0, Frame::Integer(100));
        e.run_argv(
            &s,
            &argv(&[
                b"RESTORE",
                b"b",
                b"0",
                &p,
                b"IDLETIME",
                b"9223372036854775807",
            ]),
        );
        // Redis 7.0.15 answers 16777214: the scaled idle time wraps to -1.
        assert_eq!(
            run(&e, &mut s, "OBJECT IDLETIME b").0,
            Frame::Integer(16777214)
        );
        let (f, _) = e.run_argv(&s, &argv(&[b"RESTORE", b"c", b"0", &p, b"FREQ", b"5"]));
        assert_eq!(f, Frame::ok());
    }
}
