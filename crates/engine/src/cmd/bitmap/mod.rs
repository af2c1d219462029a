//! Bitmap and bit-field commands on string values (bitops.c): SETBIT, GETBIT,
//! BITCOUNT, BITPOS, BITOP here, BITFIELD and BITFIELD_RO in [`field`], the
//! bit arithmetic in [`bits`].
//!
//! Argument checks, their order and the error texts are Redis 7.0.15's (which
//! for BITCOUNT and BITPOS looks the key up before parsing the range, so a
//! missing key answers 0 whatever follows). A write grows the string with zero
//! bytes up to the highest bit it touches, as `lookupStringForBitCommand` does,
//! and leaves it raw-encoded, as `dbUnshareStringValue` does.
//!
//! Effects: SETBIT and BITFIELD log themselves (they are deterministic given the
//! value they run on), BITOP logs itself or `DEL` of the destination.

pub mod bits;
mod field;

use super::args::*;
use super::strings::{make_room, MAX_STRING};
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::{GENERIC, STRING};
use crate::tri;
use crate::value::{Entry, Str, Value};
use bytes::{Bytes, BytesMut};
use keel_protocol::Frame;

pub static COMMANDS: &[EngineEntry] = &[
    ("setbit", Scope::Keys, setbit),
    ("getbit", Scope::Keys, getbit),
    ("bitcount", Scope::Keys, bitcount),
    ("bitpos", Scope::Keys, bitpos),
    ("bitop", Scope::Keys, bitop),
    ("bitfield", Scope::Keys, field::bitfield),
    ("bitfield_ro", Scope::Keys, field::bitfield_ro),
];

const ERR_BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const ERR_BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const ERR_BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
const ERR_BITOP_NOT: &str = "ERR BITOP NOT must be called with a single source key.";

// ---------------------------------------------------------------------------
// Shared helpers

/// Redis's `getBitOffsetFromArgument`: a bit offset below 8 * proto-max-bulk-len.
/// With `hash_bits` (BITFIELD), `#n` means `n * bits` (multiplied with C's
/// wrapping arithmetic, as Redis does).
fn bit_offset(arg: &[u8], hash_bits: Option<u32>) -> Result<u64, Frame> {
    let (digits, mul) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let v = crate::util::parse_i64(digits)
        .map(|v| v.wrapping_mul(mul))
        .ok_or_else(|| err(ERR_BIT_OFFSET))?;
    if v < 0 || (v >> 3) as u64 >= MAX_STRING as u64 {
        return Err(err(ERR_BIT_OFFSET));
    }
    Ok(v as u64)
}

/// The string at `key` for reading: `Ok(None)` when missing, WRONGTYPE for
/// another type.
fn read_str(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, Frame> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str { data, .. } => Ok(Some(data.bytes())),
            _ => Err(wrongtype()),
        },
    }
}

/// Redis's `lookupStringForBitCommand` followed by the write: runs `f` on the
/// string at `key` made at least `len` bytes long (zero padded; created when
/// missing). `f` gets the bytes and whether the key was created or grown, and
/// the string is left raw-encoded. WRONGTYPE for a value of another type.
fn with_bits<R>(
    ctx: &mut Ctx,
    key: &Bytes,
    len: usize,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<(R, bool), Frame> {
    let now = ctx.now;
    match ctx.lookup_write(key) {
        None => {
            let mut m = vec![0u8; len];
            let r = f(&mut m, true);
            let value = Value::Str {
                data: Str::Growable(Box::new(m)),
                form: crate::value::Form::Raw,
                lru: crate::value::LRU_UNSET,
            };
            ctx.insert(key, Entry::new(value, 0, now));
            Ok((r, true))
        }
        Some(e) => {
            let Value::Str { data, form, .. } = &mut e.value else {
                return Err(wrongtype());
            };
            let grown = data.len() < len;
            let m = if grown {
                let m = make_room(data, len);
                m.resize(len, 0);
                m
            } else {
                data.make_mut()
            };
            let r = f(m, grown);
            *form = crate::value::Form::Raw;
            Ok((r, grown))
        }
    }
}

/// Redis's conversion of a `start`/`end` range over `total` units (bytes or
/// bits): negative counts from the end, then clamped to the string. `None` for
/// an empty range.
fn resolve(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let fix = |v: i64| if v < 0 { total.saturating_add(v) } else { v }.max(0);
    let (start, end) = (fix(start), fix(end).min(total - 1));
    (start <= end).then_some((start as u64, end as u64))
}

/// Parses BIT|BYTE: true for BIT.
fn unit_arg(arg: &[u8]) -> Result<bool, Frame> {
    if is(arg, "BIT") {
        Ok(true)
    } else if is(arg, "BYTE") {
        Ok(false)
    } else {
        Err(err(ERR_SYNTAX))
    }
}

// ---------------------------------------------------------------------------
// Commands

fn setbit(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let offset = tri!(bit_offset(&argv[2], None));
    let on = match crate::util::parse_i64(&argv[3]) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return err(ERR_BIT_VALUE),
    };
    let len = (offset >> 3) as usize + 1;
    let (old, grown) = tri!(with_bits(ctx, key, len, |data, _| {
        let old = bits::get_bit(data, offset);
        bits::set_bit(data, offset, on);
        old
    }));
    if grown || old != on {
        ctx.emit(smallvec![
            s("SETBIT"),
            key.clone(),
            n(offset as i64),
            n(on as i64),
        ]);
        ctx.notify(STRING, "setbit", key);
    }
    Frame::Integer(old as i64)
}

fn getbit(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let offset = tri!(bit_offset(&argv[2], None));
    let data = tri!(read_str(ctx, &argv[1])).unwrap_or_default();
    Frame::Integer(bits::get_bit(&data, offset) as i64)
}

/// BITCOUNT key [start end [BYTE|BIT]]. As in Redis 7.0, a missing key answers
/// 0 before the range is even parsed, and a range with both ends negative and
/// start past end answers 0 before the unit is checked.
fn bitcount(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let Some(data) = tri!(read_str(ctx, &argv[1])) else {
        return Frame::Integer(0);
    };
    let len = data.len() as i64;
    let range = match argv.len() {
        2 => resolve(0, -1, len * 8),
        4 | 5 => {
            let start = tri!(int_arg(&argv[2]));
            let end = tri!(int_arg(&argv[3]));
            if start < 0 && end < 0 && start > end {
                return Frame::Integer(0);
            }
            let bit = match argv.get(4) {
                Some(u) => tri!(unit_arg(u)),
                None => false,
            };
            if bit {
                resolve(start, end, len * 8)
            } else {
                resolve(start, end, len).map(|(s, e)| (s * 8, e * 8 + 7))
            }
        }
        _ => return err(ERR_SYNTAX),
    };
    let count = range.map_or(0, |(s, e)| bits::count_range(&data, s, e));
    Frame::Integer(count as i64)
}

/// BITPOS key bit [start [end [BYTE|BIT]]], with Redis 7.0's order: the bit,
/// then the key (a missing key is all zeros: 0 for a clear bit, -1 for a set
/// one), then start, the unit, and end.
fn bitpos(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let bit = match tri!(int_arg(&argv[2])) {
        0 => false,
        1 => true,
        _ => return err(ERR_BITPOS_BIT),
    };
    let Some(data) = tri!(read_str(ctx, &argv[1])) else {
        return Frame::Integer(if bit { -1 } else { 0 });
    };
    let len = data.len() as i64;
    let (range, end_given) = match argv.len() {
        3 => (resolve(0, -1, len * 8), false),
        4..=6 => {
            let start = tri!(int_arg(&argv[3]));
            let unit_bit = match argv.get(5) {
                Some(u) => tri!(unit_arg(u)),
                None => false,
            };
            let end = match argv.get(4) {
                Some(e) => Some(tri!(int_arg(e))),
                None => None,
            };
            let range = if unit_bit {
                resolve(start, end.unwrap_or(-1), len * 8)
            } else {
                resolve(start, end.unwrap_or(-1), len).map(|(s, e)| (s * 8, e * 8 + 7))
            };
            (range, end.is_some())
        }
        _ => return err(ERR_SYNTAX),
    };
    let Some((s, e)) = range else {
        return Frame::Integer(-1);
    };
    match bits::find_range(&data, bit, s, e) {
        Some(p) => Frame::Integer(p as i64),
        // No clear bit in the string: without an explicit end, the zero padding
        // right after it is the answer.
        None if !bit && !end_given => Frame::Integer(len * 8),
        None => Frame::Integer(-1),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP AND|OR|XOR|NOT dest src...: stores the result (raw encoded, without a
/// TTL) or deletes dest when every source is empty or missing.
fn bitop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let op = match &argv[1] {
        o if is(o, "AND") => BitOp::And,
        o if is(o, "OR") => BitOp::Or,
        o if is(o, "XOR") => BitOp::Xor,
        o if is(o, "NOT") => BitOp::Not,
        _ => return err(ERR_SYNTAX),
    };
    if op == BitOp::Not && argv.len() != 4 {
        return err(ERR_BITOP_NOT);
    }
    let dest = &argv[2];
    let mut srcs = Vec::with_capacity(argv.len() - 3);
    for k in &argv[3..] {
        srcs.push(tri!(read_str(ctx, k)).unwrap_or_default());
    }
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    if maxlen == 0 {
        if ctx.remove(dest).is_some() {
            ctx.emit(smallvec![s("DEL"), dest.clone()]);
            ctx.notify(GENERIC, "del", dest);
        }
        return Frame::Integer(0);
    }
    let mut res = BytesMut::zeroed(maxlen);
    if let Some(first) = srcs.first() {
        res[..first.len()].copy_from_slice(first);
    }
    match op {
        BitOp::Not => res.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for src in &srcs[1..] {
                let n = src.len();
                res[..n]
                    .iter_mut()
                    .zip(src.iter())
                    .for_each(|(r, b)| *r &= b);
                res[n..].fill(0);
            }
        }
        BitOp::Or => {
            for src in &srcs[1..] {
                res.iter_mut().zip(src.iter()).for_each(|(r, b)| *r |= b);
            }
        }
        BitOp::Xor => {
            for src in &srcs[1..] {
                res.iter_mut().zip(src.iter()).for_each(|(r, b)| *r ^= b);
            }
        }
    }
    let value = Value::Str {
        data: Str::from(res.to_vec()),
        form: crate::value::Form::Raw,
        lru: crate::value::LRU_UNSET,
    };
    let now = ctx.now;
    // Redis's setKey looks the destination up for writing first (so an expired
    // one is reclaimed, and announced, before the new value is added).
    let _ = ctx.lookup_write(dest);
    ctx.insert(dest, Entry::new(value, 0, now));
    ctx.emit_with(|| Args::from(argv));
    ctx.notify(STRING, "set", dest);
    Frame::Integer(maxlen as i64)
}

#[cfg(test)]
mod tests;
