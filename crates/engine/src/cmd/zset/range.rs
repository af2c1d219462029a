//! ZRANGE and its older forms (ZREVRANGE, ZRANGEBYSCORE, ZRANGEBYLEX and their
//! REV variants), ZRANGESTORE, ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK/SCORE/LEX
//! (`zrangeGenericCommand`, `zremrangeGenericCommand`).
//!
//! A range is resolved to ascending ranks first (O(log n) on a skiplist), then
//! walked from there, which selects exactly what Redis's element-by-element
//! walk with OFFSET and LIMIT selects.

use super::*;
use keel_protocol::BulkArray;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Auto,
    Fwd,
    Rev,
}

enum Sel {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

pub(super) fn zrange(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, 1, None, Kind::Auto, Dir::Auto)
}

pub(super) fn zrangestore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, 2, Some(&argv[1]), Kind::Auto, Dir::Auto)
}

pub(super) fn zrevrange(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, 1, None, Kind::Rank, Dir::Rev)
}

pub(super) fn zrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, 1, None, Kind::Score, Dir::Fwd)
}

pub(super) fn zrevrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, 1, None, Kind::Score, Dir::Rev)
}

pub(super) fn zrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, 1, None, Kind::Lex, Dir::Fwd)
}

pub(super) fn zrevrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, 1, None, Kind::Lex, Dir::Rev)
}

/// Normalizes a rank range (negative counts from the end) to ascending ranks
/// `start..=end` within `len`, or `None` when it selects nothing.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { start + llen } else { start };
    let mut end = if end < 0 { end + llen } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// Where to start walking (an ascending rank) and how many elements to take.
fn select(z: &ZSet, sel: &Sel, rev: bool, offset: i64, limit: i64) -> Option<(usize, usize)> {
    let (first, last) = match sel {
        Sel::Rank(a, b) => {
            let (a, b) = rank_span(*a, *b, z.len())?;
            let count = b - a + 1;
            return Some((if rev { z.len() - 1 - a } else { a }, count));
        }
        Sel::Score(r) => z.score_span(r)?,
        Sel::Lex(r) => z.lex_span(r)?,
    };
    // A negative offset walks off the end in Redis: nothing is returned.
    let offset = usize::try_from(offset).ok()?;
    let n = last - first + 1;
    if offset >= n {
        return None;
    }
    let avail = n - offset;
    let count = match usize::try_from(limit) {
        Ok(l) => avail.min(l),
        Err(_) => avail,
    };
    if count == 0 {
        return None;
    }
    Some((if rev { last - offset } else { first + offset }, count))
}

fn generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    start: usize,
    dst: Option<&Bytes>,
    mut kind: Kind,
    mut dir: Dir,
) -> Frame {
    let store = dst.is_some();
    let key = &argv[start];
    let (mut minidx, mut maxidx) = (start + 1, start + 2);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = start + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = tri!(int_arg(&argv[j + 1]));
            limit = tri!(int_arg(&argv[j + 2]));
            j += 2;
        } else if dir == Dir::Auto && is(a, "rev") {
            dir = Dir::Rev;
        } else if kind == Kind::Auto && is(a, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && is(a, "byscore") {
            kind = Kind::Score;
        } else {
            return err(ERR_SYNTAX);
        }
        j += 1;
    }
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    let rev = dir == Dir::Rev;
    if limit != -1 && kind == Kind::Rank {
        return err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && kind == Kind::Lex {
        return err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let sel = match kind {
        Kind::Score => Sel::Score(tri!(score_range(&argv[minidx], &argv[maxidx]))),
        Kind::Lex => Sel::Lex(tri!(lex_range(&argv[minidx], &argv[maxidx]))),
        _ => Sel::Rank(tri!(int_arg(&argv[minidx])), tri!(int_arg(&argv[maxidx]))),
    };
    let t = ctx.thresholds();
    let resp = ctx.resp;
    let z = match read(ctx, key) {
        Err(f) => return f,
        Ok(Some(z)) => z,
        Ok(None) => {
            return match dst {
                Some(d) => store_result(ctx, argv, d, ZSet::new(), "zrangestore"),
                None => Frame::Array(Vec::new()),
            }
        }
    };
    let picked = select(z, &sel, rev, offset, limit);
    let items = picked
        .map(|(from, count)| z.iter_from(from, rev).take(count))
        .into_iter()
        .flatten();
    match dst {
        Some(d) => {
            // A rank range knows its length: past the limit Redis starts with
            // a skiplist; score and lex ranges start with a listpack.
            let big = matches!(sel, Sel::Rank(..))
                && picked.is_some_and(|(_, n)| n > t.zset_max_listpack_entries);
            let mut out = if big {
                ZSet::new_skiplist()
            } else {
                ZSet::new()
            };
            for (m, s) in items {
                out.set(m, s, &t);
            }
            store_result(ctx, argv, d, out, "zrangestore")
        }
        // RESP3 pairs each member with a double: frames.
        None if withscores && resp >= 3 => {
            let mut out = Vec::new();
            for (m, s) in items {
                push_member(&mut out, resp, m, s, withscores);
            }
            Frame::Array(out)
        }
        // Otherwise an array of bulk strings (RESP2 sends a score as one),
        // encoded as it is read: one buffer for the whole reply.
        None => {
            let per = if withscores { 40 } else { 20 };
            let n = picked.map_or(0, |(_, n)| n);
            let mut out = BulkArray::with_capacity(n.saturating_mul(per).min(1 << 20));
            for (m, s) in items {
                out.push(m);
                if withscores {
                    out.push(keel_protocol::format_double(s).as_bytes());
                }
            }
            out.finish()
        }
    }
}

// ---------------------------------------------------------------- ZCOUNT, ZLEXCOUNT

pub(super) fn zcount(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let r = tri!(score_range(&argv[2], &argv[3]));
    let z = tri!(read(ctx, &argv[1]));
    let n = z
        .and_then(|z| z.score_span(&r))
        .map_or(0, |(a, b)| b - a + 1);
    Frame::Integer(n as i64)
}

pub(super) fn zlexcount(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let r = tri!(lex_range(&argv[2], &argv[3]));
    let z = tri!(read(ctx, &argv[1]));
    let n = z.and_then(|z| z.lex_span(&r)).map_or(0, |(a, b)| b - a + 1);
    Frame::Integer(n as i64)
}

// ---------------------------------------------------------------- ZREMRANGEBY*

pub(super) fn zremrangebyrank(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let a = tri!(int_arg(&argv[2]));
    let b = tri!(int_arg(&argv[3]));
    remrange(ctx, argv, Sel::Rank(a, b), "zremrangebyrank")
}

pub(super) fn zremrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let r = tri!(score_range(&argv[2], &argv[3]));
    remrange(ctx, argv, Sel::Score(r), "zremrangebyscore")
}

pub(super) fn zremrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let r = tri!(lex_range(&argv[2], &argv[3]));
    remrange(ctx, argv, Sel::Lex(r), "zremrangebylex")
}

fn remrange(ctx: &mut Ctx, argv: &[Bytes], sel: Sel, event: &'static str) -> Frame {
    let key = &argv[1];
    let Some(z) = tri!(write(ctx, key)) else {
        return Frame::Integer(0);
    };
    let span = match &sel {
        Sel::Rank(a, b) => rank_span(*a, *b, z.len()),
        Sel::Score(r) => z.score_span(r),
        Sel::Lex(r) => z.lex_span(r),
    };
    let Some((a, b)) = span else {
        return Frame::Integer(0);
    };
    // A lexicographic range over members of different scores has no defined
    // answer (it depends on the skiplist's random levels, in Redis too), so
    // ZREMRANGEBYLEX logs the members it removed; the others log themselves.
    let removed: Option<Vec<Bytes>> = matches!(sel, Sel::Lex(_)).then(|| {
        (a..=b)
            .filter_map(|r| z.get(r).map(|(m, _)| Bytes::copy_from_slice(m)))
            .collect()
    });
    z.remove_ranks(a, b);
    ctx.notify(ZSET, event, key);
    drop_if_empty(ctx, key);
    match removed {
        Some(members) => {
            for chunk in members.chunks(crate::rewrite::ITEMS_PER_CMD) {
                let mut e = vec![Bytes::from_static(b"ZREM"), key.clone()];
                e.extend(chunk.iter().cloned());
                ctx.emit(e);
            }
        }
        None => ctx.emit(Args::from(argv)),
    }
    Frame::Integer((b - a + 1) as i64)
}
