//! BITFIELD and BITFIELD_RO (bitops.c `bitfieldGeneric`): integer fields of 1 to
//! 64 bits (unsigned up to 63) at any bit offset, read, written and incremented
//! with WRAP, SAT or FAIL overflow handling.
//!
//! As in Redis, every subcommand is parsed before anything runs, a write looks
//! the key up for writing and grows the string up to the highest bit any write
//! names (even when every write then fails with OVERFLOW FAIL), and `setbit` is
//! announced only when some field was written.
//!
//! Effect: the command itself (its result depends only on the value it runs
//! on), whenever the string changed. That includes the case where it only grew:
//! Redis propagates nothing then, but replay must rebuild the same bytes.

use super::bits::{self, Overflow};
use super::{bit_offset, read_str, with_bits};
use crate::cmd::args::*;
use crate::engine::Ctx;
use crate::notify::STRING;
use crate::tri;
use bytes::Bytes;
use keel_protocol::Frame;

const ERR_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const ERR_OVERFLOW_TYPE: &str = "ERR Invalid OVERFLOW type specified";
const ERR_RO: &str = "ERR BITFIELD_RO only supports the GET subcommand";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One parsed subcommand.
#[derive(Clone, Copy, Debug)]
struct Op {
    kind: Kind,
    offset: u64,
    bits: u32,
    signed: bool,
    overflow: Overflow,
}

/// Redis's `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63`. The
/// number is read up to the first NUL byte, as C's `strlen` does.
fn field_type(arg: &[u8]) -> Result<(bool, u32), Frame> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err(ERR_TYPE)),
    };
    let rest = &arg[1..];
    let rest = rest.split(|&b| b == 0).next().unwrap_or_default();
    match crate::util::parse_i64(rest) {
        Some(b) if b >= 1 && b <= if signed { 64 } else { 63 } => Ok((signed, b as u32)),
        _ => Err(err(ERR_TYPE)),
    }
}

/// Parses the subcommands from `argv[2..]`.
fn parse(argv: &[Bytes]) -> Result<Vec<Op>, Frame> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while let Some(sub) = argv.get(j) {
        let rem = argv.len() - j - 1;
        let needs_value = if is(sub, "GET") && rem >= 2 {
            false
        } else if (is(sub, "SET") || is(sub, "INCRBY")) && rem >= 3 {
            true
        } else if is(sub, "OVERFLOW") && rem >= 1 {
            let t = &argv[j + 1];
            overflow = if is(t, "WRAP") {
                Overflow::Wrap
            } else if is(t, "SAT") {
                Overflow::Sat
            } else if is(t, "FAIL") {
                Overflow::Fail
            } else {
                return Err(err(ERR_OVERFLOW_TYPE));
            };
            j += 2;
            continue;
        } else {
            return Err(err(ERR_SYNTAX));
        };
        let (signed, bits) = field_type(&argv[j + 1])?;
        let offset = bit_offset(&argv[j + 2], Some(bits))?;
        let kind = if needs_value {
            let v = int_arg(&argv[j + 3])?;
            if is(sub, "SET") {
                Kind::Set(v)
            } else {
                Kind::IncrBy(v)
            }
        } else {
            Kind::Get
        };
        ops.push(Op {
            kind,
            offset,
            bits,
            signed,
            overflow,
        });
        j += if needs_value { 4 } else { 3 };
    }
    Ok(ops)
}

/// Runs one write on `data`: the reply (the old value for SET, the new one for
/// INCRBY, null when it fails) and whether the field's value changed.
fn write(data: &mut [u8], op: &Op) -> (Frame, bool) {
    let (off, w) = (op.offset, op.bits);
    if op.signed {
        let old = bits::get_signed_field(data, off, w);
        let (raw, incr) = match op.kind {
            Kind::IncrBy(by) => (old, by),
            Kind::Set(v) => (v, 0),
            Kind::Get => (old, 0),
        };
        let new = match bits::signed_overflow(raw, incr, w, op.overflow) {
            None => raw.wrapping_add(incr),
            Some(Some(v)) => v,
            Some(None) => return (Frame::Null, false),
        };
        bits::set_field(data, off, w, new as u64);
        let reply = if matches!(op.kind, Kind::IncrBy(_)) {
            new
        } else {
            old
        };
        (Frame::Integer(reply), old != new)
    } else {
        let old = bits::get_field(data, off, w);
        let (raw, incr) = match op.kind {
            Kind::IncrBy(by) => (old, by),
            Kind::Set(v) => (v as u64, 0),
            Kind::Get => (old, 0),
        };
        let new = match bits::unsigned_overflow(raw, incr, w, op.overflow) {
            None => raw.wrapping_add(incr as u64),
            Some(Some(v)) => v,
            Some(None) => return (Frame::Null, false),
        };
        bits::set_field(data, off, w, new);
        let reply = if matches!(op.kind, Kind::IncrBy(_)) {
            new
        } else {
            old
        };
        (Frame::Integer(reply as i64), old != new)
    }
}

/// A GET on `data` (zero padded past its end).
fn get(data: &[u8], op: &Op) -> Frame {
    if op.signed {
        Frame::Integer(bits::get_signed_field(data, op.offset, op.bits))
    } else {
        Frame::Integer(bits::get_field(data, op.offset, op.bits) as i64)
    }
}

pub(super) fn bitfield(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, false)
}

pub(super) fn bitfield_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, true)
}

fn generic(ctx: &mut Ctx, argv: &[Bytes], ro: bool) -> Frame {
    let key = &argv[1];
    let ops = tri!(parse(argv));
    let highest = ops
        .iter()
        .filter(|o| o.kind != Kind::Get)
        .map(|o| o.offset + o.bits as u64 - 1)
        .max();
    let Some(highest) = highest else {
        // Only GETs: a read (a missing key reads as zeros).
        let data = tri!(read_str(ctx, key)).unwrap_or_default();
        return Frame::Array(ops.iter().map(|o| get(&data, o)).collect());
    };
    if ro {
        return err(ERR_RO);
    }
    let len = (highest >> 3) as usize + 1;
    let ((replies, changes), grown) = tri!(with_bits(ctx, key, len, |data, grown| {
        let mut changes = 0;
        let replies: Vec<Frame> = ops
            .iter()
            .map(|o| {
                if o.kind == Kind::Get {
                    return get(data, o);
                }
                let (reply, changed) = write(data, o);
                if !matches!(reply, Frame::Null) && (grown || changed) {
                    changes += 1;
                }
                reply
            })
            .collect();
        (replies, changes)
    }));
    if changes > 0 || grown {
        ctx.emit_with(|| Args::from(argv));
    }
    if changes > 0 {
        ctx.notify(STRING, "setbit", key);
    }
    Frame::Array(replies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_as_redis() {
        assert_eq!(field_type(b"i64").ok(), Some((true, 64)));
        assert_eq!(field_type(b"u63").ok(), Some((false, 63)));
        assert_eq!(field_type(b"u8\0junk").ok(), Some((false, 8)));
        for bad in [
            &b"u64"[..],
            b"i65",
            b"i0",
            b"u",
            b"",
            b"x8",
            b"i08",
            b"i-1",
            b"I8",
        ] {
            assert!(field_type(bad).is_err(), "{bad:?}");
        }
    }
}
