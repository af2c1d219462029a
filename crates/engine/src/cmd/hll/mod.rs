//! HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG and
//! PFSELFTEST, on string values holding Redis's own layout (see [`repr`]), so
//! that HyperLogLogs move between keel and Redis with GET and SET.
//!
//! Like Redis, every write leaves the string raw-encoded (`dbUnshareStringValue`),
//! and a single-key PFCOUNT that has to recompute the cardinality stores it in
//! the header's cache, which changes the value.
//!
//! Effects:
//! - PFADD and PFMERGE log themselves (deterministic given the values they read).
//!   When the write turned a sparse HyperLogLog dense, `PFDEBUG TODENSE key`
//!   follows, so that a replay run with a larger `hll-sparse-max-bytes` than
//!   the live server had still ends with the same bytes.
//! - A single-key PFCOUNT that refreshed the cache logs `PFCOUNT key`, as
//!   Redis propagates it.
//! - PFDEBUG GETREG and TODENSE log `PFDEBUG TODENSE key` when they converted.
//! - A PFADD that fails on a corrupt value after updating some registers logs
//!   PFADD of the elements it did apply (Redis propagates nothing there, but the
//!   value did change).

pub mod repr;

use super::args::*;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::STRING;
use crate::value::{Entry, Str, Value};
use bytes::Bytes;
use keel_protocol::Frame;
use repr::Set;

pub static COMMANDS: &[EngineEntry] = &[
    ("pfadd", Scope::Keys, pfadd),
    ("pfcount", Scope::Keys, pfcount),
    ("pfmerge", Scope::Keys, pfmerge),
    ("pfdebug", Scope::Keys, pfdebug),
    ("pfselftest", Scope::None, pfselftest),
];

const ERR_NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const ERR_CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// The HyperLogLog bytes of `v`, or the error Redis's `isHLLObjectOrReply`
/// gives.
fn hll_of(v: &Value) -> Result<&Str, Frame> {
    match v {
        Value::Str { data, .. } if repr::is_hll(data) => Ok(data),
        Value::Str { .. } => Err(err(ERR_NOT_HLL)),
        _ => Err(wrongtype()),
    }
}

fn is_dense(b: &[u8]) -> bool {
    b.get(4) == Some(&repr::DENSE)
}

/// Runs `f` on the HyperLogLog at `key` made writable (and raw), or on a new
/// empty one stored there when the key is missing (`f`'s second argument says
/// which). Returns `f`'s result and whether the value was sparse (or new)
/// before and is dense after. WRONGTYPE (either text) when `key` holds
/// something else.
fn with_hll<R>(
    ctx: &mut Ctx,
    key: &Bytes,
    f: impl FnOnce(&mut Vec<u8>, bool) -> R,
) -> Result<(R, bool), Frame> {
    let now = ctx.now;
    match ctx.lookup_write(key) {
        None => {
            let mut buf = repr::new_sparse();
            let r = f(&mut buf, true);
            let densified = is_dense(&buf);
            let value = Value::Str {
                data: Str::Growable(Box::new(buf)),
                form: crate::value::Form::Raw,
                lru: crate::value::LRU_UNSET,
            };
            ctx.insert(key, Entry::new(value, 0, now));
            Ok((r, densified))
        }
        Some(e) => {
            hll_of(&e.value)?;
            let Value::Str { data, form, .. } = &mut e.value else {
                return Err(wrongtype());
            };
            *form = crate::value::Form::Raw;
            let buf = data.make_mut();
            let was_dense = is_dense(buf);
            let r = f(buf, false);
            let densified = !was_dense && is_dense(buf);
            Ok((r, densified))
        }
    }
}

fn todense_effect(key: &Bytes) -> Vec<Bytes> {
    vec![s("PFDEBUG"), s("TODENSE"), key.clone()]
}

/// PFADD key [element ...]: 1 when a register changed or the key was created.
fn pfadd(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let elements = &argv[2..];
    let max = ctx.thresholds().hll_sparse_max_bytes;
    // (registers updated or key created, index of the element found corrupt)
    let ((updated, corrupt_at), densified) = crate::tri!(with_hll(ctx, key, |buf, created| {
        let mut updated = created as usize;
        for (i, ele) in elements.iter().enumerate() {
            match repr::add(buf, ele, max) {
                Set::Updated => updated += 1,
                Set::Unchanged => {}
                Set::Corrupt => return (updated, Some(i)),
            }
        }
        if updated > 0 {
            repr::invalidate(buf);
        }
        (updated, None)
    }));
    if let Some(i) = corrupt_at {
        if updated > 0 {
            let mut eff = vec![s("PFADD"), key.clone()];
            eff.extend_from_slice(&elements[..i]);
            ctx.emit(eff);
            if densified {
                ctx.emit(todense_effect(key));
            }
        }
        return err(ERR_CORRUPT);
    }
    if updated == 0 {
        return Frame::Integer(0);
    }
    ctx.emit_with(|| Args::from(argv));
    if densified {
        ctx.emit(todense_effect(key));
    }
    ctx.notify(STRING, "pfadd", key);
    Frame::Integer(1)
}

/// PFCOUNT key [key ...]. One key: the cached cardinality, or a fresh one that
/// is then cached (logged as `PFCOUNT key`). Several keys: the cardinality of
/// their union, nothing stored.
fn pfcount(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    if argv.len() > 2 {
        let mut max = vec![0u8; repr::REGISTERS];
        for key in &argv[1..] {
            let Some(e) = ctx.lookup_read(key) else {
                continue;
            };
            let data = crate::tri!(hll_of(&e.value));
            if !repr::merge(&mut max, data) {
                return err(ERR_CORRUPT);
            }
        }
        return Frame::Integer(repr::estimate(&repr::raw_histogram(&max)) as i64);
    }
    let key = &argv[1];
    let Some(e) = ctx.lookup_read(key) else {
        return Frame::Integer(0);
    };
    crate::tri!(hll_of(&e.value));
    let Value::Str { data, form, .. } = &mut e.value else {
        return wrongtype();
    };
    *form = crate::value::Form::Raw;
    if let Some(card) = repr::cached_card(data) {
        return Frame::Integer(card as i64);
    }
    let Some(hist) = repr::histogram(data) else {
        return err(ERR_CORRUPT);
    };
    let card = repr::estimate(&hist);
    repr::set_card(data.make_mut(), card);
    ctx.emit(smallvec![s("PFCOUNT"), key.clone()]);
    Frame::Integer(card as i64)
}

/// PFMERGE destkey [sourcekey ...]: the register-wise maximum of every named
/// HyperLogLog (the destination included) stored in the destination, dense
/// when any input was dense.
fn pfmerge(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let mut max = vec![0u8; repr::REGISTERS];
    let mut use_dense = false;
    for key in &argv[1..] {
        let Some(e) = ctx.lookup_read(key) else {
            continue;
        };
        let data = crate::tri!(hll_of(&e.value));
        use_dense |= is_dense(data);
        if !repr::merge(&mut max, data) {
            return err(ERR_CORRUPT);
        }
    }
    let key = &argv[1];
    let limit = ctx.thresholds().hll_sparse_max_bytes;
    let (ok, densified) = crate::tri!(with_hll(ctx, key, |buf, _| {
        if use_dense && !repr::to_dense(buf) {
            return false;
        }
        for (i, &m) in max.iter().enumerate() {
            if m != 0 {
                // As in Redis, a failure here is ignored: the destination was
                // already read successfully above.
                let _ = repr::set_register(buf, i, m, limit);
            }
        }
        repr::invalidate(buf);
        true
    }));
    if !ok {
        return err(ERR_CORRUPT);
    }
    ctx.emit_with(|| Args::from(argv));
    if densified {
        ctx.emit(todense_effect(key));
    }
    // Redis announces a merge as `pfadd` ("a mass-add of elements").
    ctx.notify(STRING, "pfadd", key);
    Frame::ok()
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. As in Redis, the key is looked up
/// (and must be a HyperLogLog) before the subcommand is checked.
fn pfdebug(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let sub = &argv[1];
    let key = &argv[2];
    let Some(e) = ctx.lookup_write(key) else {
        return err("ERR The specified key does not exist");
    };
    crate::tri!(hll_of(&e.value));
    let Value::Str { data, form, .. } = &mut e.value else {
        return wrongtype();
    };
    *form = crate::value::Form::Raw;
    let getreg = is(sub, "GETREG");
    if getreg || is(sub, "TODENSE") {
        let converted = !is_dense(data);
        if converted && !repr::to_dense(data.make_mut()) {
            return err(ERR_CORRUPT);
        }
        let reply = if getreg {
            let regs = data.get(repr::HDR_SIZE..).unwrap_or_default();
            Frame::Array(
                (0..repr::REGISTERS)
                    .map(|i| Frame::Integer(repr::dense_get(regs, i) as i64))
                    .collect(),
            )
        } else {
            Frame::Integer(converted as i64)
        };
        if converted {
            ctx.emit(todense_effect(key));
        }
        reply
    } else if is(sub, "DECODE") {
        if is_dense(data) {
            return err("ERR HLL encoding is not sparse");
        }
        Frame::Bulk(Bytes::from(repr::decode(data)))
    } else if is(sub, "ENCODING") {
        Frame::simple(if is_dense(data) { "dense" } else { "sparse" })
    } else {
        err(&format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        ))
    }
}

/// PFSELFTEST: Redis's self-test of the register access and of the estimator
/// (dense and sparse side by side, 10 million elements).
fn pfselftest(ctx: &mut Ctx, _argv: &[Bytes]) -> Frame {
    let limit = ctx.thresholds().hll_sparse_max_bytes;
    match selftest(1000, 10_000_000, ctx.now, limit) {
        Ok(()) => Frame::ok(),
        Err(e) => err(&e),
    }
}

/// The self-test: `cycles` rounds of random register writes and reads on a dense
/// array, then `elements` distinct elements added to a dense and a sparse
/// HyperLogLog, checking at every power of ten that the sparse one is still
/// sparse while small, that both agree, and that the error is within six
/// standard errors (one for cardinality 10). `seed` varies the elements.
fn selftest(cycles: u32, elements: u64, seed: u64, sparse_max: usize) -> Result<(), String> {
    let mut rng = seed | 1;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut dense = repr::sparse_to_dense(&repr::new_sparse()).ok_or("TESTFAILED setup")?;
    let mut bytes = vec![0u8; repr::REGISTERS];
    for _ in 0..cycles {
        let regs = &mut dense[repr::HDR_SIZE..];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (next() & 63) as u8;
            repr::dense_put(regs, i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = repr::dense_get(regs, i);
            if got != b {
                return Err(format!(
                    "TESTFAILED Register {i} should be {b} but is {got}"
                ));
            }
        }
    }
    let mut dense = repr::sparse_to_dense(&repr::new_sparse()).ok_or("TESTFAILED setup")?;
    let mut sparse = repr::new_sparse();
    let relerr = 1.04 / (repr::REGISTERS as f64).sqrt();
    let base = next();
    let mut checkpoint = 1u64;
    let count = |b: &[u8]| repr::histogram(b).map(|h| repr::estimate(&h));
    for j in 1..=elements {
        let ele = (j ^ base).to_le_bytes();
        repr::add(&mut dense, &ele, sparse_max);
        repr::add(&mut sparse, &ele, sparse_max);
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && is_dense(&sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let (d, s) = (count(&dense), count(&sparse));
        if d != s {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(d.unwrap_or(0));
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
