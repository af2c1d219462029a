//! ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD
//! (`zunionInterDiffGenericCommand`). Inputs may be sorted sets or plain sets
//! (every member scoring 1). Sources are read into owned lists first (the
//! engine hands out one key at a time), then combined as Redis does: sources
//! sorted by size (a stable sort; Redis's qsort may order equal sizes
//! differently, which only matters for the rounding of a SUM over three or
//! more inputs), weights applied, NaN products and sums turned into 0.

use super::*;
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggr {
    Sum,
    Min,
    Max,
}

/// One input: its key (to spot the same key given twice), its members with
/// their scores, its weight, and a lookup table built on first use.
struct Src {
    key: Bytes,
    exists: bool,
    items: Vec<(Bytes, f64)>,
    weight: f64,
    map: Option<HashMap<Bytes, f64>>,
}

impl Src {
    fn find(&mut self, m: &Bytes) -> Option<f64> {
        let items = &self.items;
        self.map
            .get_or_insert_with(|| items.iter().cloned().collect())
            .get(m)
            .copied()
    }
}

fn aggregate(target: &mut f64, v: f64, a: Aggr) {
    match a {
        Aggr::Sum => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggr::Min => {
            if v < *target {
                *target = v;
            }
        }
        Aggr::Max => {
            if v > *target {
                *target = v;
            }
        }
    }
}

/// `w * s`, with Redis's NaN (0 * inf) turned into 0.
fn weighted(w: f64, s: f64) -> f64 {
    let v = w * s;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

pub(super) fn zunion(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, None, 1, Op::Union, false)
}

pub(super) fn zinter(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, None, 1, Op::Inter, false)
}

pub(super) fn zdiff(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, None, 1, Op::Diff, false)
}

pub(super) fn zintercard(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, None, 1, Op::Inter, true)
}

pub(super) fn zunionstore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, Some(&argv[1]), 2, Op::Union, false)
}

pub(super) fn zinterstore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, Some(&argv[1]), 2, Op::Inter, false)
}

pub(super) fn zdiffstore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    generic(ctx, argv, Some(&argv[1]), 2, Op::Diff, false)
}

/// Reads one input key: a sorted set, a set (scores 1), nothing, or WRONGTYPE.
fn load(ctx: &mut Ctx, key: &Bytes) -> Result<Src, Frame> {
    let mut items = Vec::new();
    let exists = match ctx.lookup_read(key) {
        None => false,
        Some(e) => {
            match &e.value {
                Value::ZSet(z, _) => z.for_each(|m, s| items.push((Bytes::copy_from_slice(m), s))),
                Value::Set(x, _) => x.for_each(|m| items.push((Bytes::copy_from_slice(m), 1.0))),
                _ => return Err(wrongtype()),
            }
            true
        }
    };
    Ok(Src {
        key: key.clone(),
        exists,
        items,
        weight: 1.0,
        map: None,
    })
}

fn generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    dst: Option<&Bytes>,
    numkeys_idx: usize,
    op: Op,
    card_only: bool,
) -> Frame {
    let setnum = tri!(int_arg(&argv[numkeys_idx]));
    if setnum < 1 {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        return err(&format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ));
    }
    let first = numkeys_idx + 1;
    if setnum > (argv.len() - first) as i64 {
        return err(ERR_SYNTAX);
    }
    let setnum = setnum as usize;
    let mut srcs = Vec::with_capacity(setnum);
    for key in &argv[first..first + setnum] {
        srcs.push(tri!(load(ctx, key)));
    }
    let mut aggr = Aggr::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = first + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = &argv[j];
        if op != Op::Diff && !card_only && remaining > setnum && is(a, "weights") {
            j += 1;
            for src in srcs.iter_mut() {
                match zfloat(&argv[j]) {
                    Some(w) => src.weight = w,
                    None => return err("ERR weight value is not a float"),
                }
                j += 1;
            }
        } else if op != Op::Diff && !card_only && remaining >= 2 && is(a, "aggregate") {
            let v = &argv[j + 1];
            aggr = if is(v, "sum") {
                Aggr::Sum
            } else if is(v, "min") {
                Aggr::Min
            } else if is(v, "max") {
                Aggr::Max
            } else {
                return err(ERR_SYNTAX);
            };
            j += 2;
        } else if dst.is_none() && !card_only && is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a, "limit") {
            match crate::util::parse_i64(&argv[j + 1]).and_then(|l| usize::try_from(l).ok()) {
                Some(l) => limit = l,
                None => return err("ERR LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return err(ERR_SYNTAX);
        }
    }
    if op != Op::Diff {
        srcs.sort_by_key(|s| s.items.len());
    }

    let mut result: Vec<(Bytes, f64)> = Vec::new();
    let mut card = 0usize;
    match op {
        Op::Inter => {
            let (head, rest) = srcs.split_at_mut(1);
            let head = &head[0];
            for (m, s0) in &head.items {
                let mut score = weighted(head.weight, *s0);
                let mut all = true;
                for src in rest.iter_mut() {
                    let value = if src.exists && src.key == head.key {
                        Some(*s0)
                    } else {
                        src.find(m)
                    };
                    match value {
                        Some(v) => aggregate(&mut score, v * src.weight, aggr),
                        None => {
                            all = false;
                            break;
                        }
                    }
                }
                if !all {
                    continue;
                }
                if card_only {
                    card += 1;
                    if limit > 0 && card >= limit {
                        break;
                    }
                } else {
                    result.push((m.clone(), score));
                }
            }
        }
        Op::Union => {
            let mut acc: HashMap<Bytes, f64> = HashMap::new();
            for src in &srcs {
                for (m, s) in &src.items {
                    let score = weighted(src.weight, *s);
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, aggr),
                        None => {
                            acc.insert(m.clone(), score);
                        }
                    }
                }
            }
            result = acc.into_iter().collect();
        }
        Op::Diff => {
            let (head, rest) = srcs.split_at_mut(1);
            let head = &head[0];
            if rest.iter().all(|s| !(s.exists && s.key == head.key)) {
                for (m, s) in &head.items {
                    if rest.iter_mut().all(|src| src.find(m).is_none()) {
                        result.push((m.clone(), *s));
                    }
                }
            }
        }
    }
    if card_only {
        return Frame::Integer(card as i64);
    }
    // Scores compare as doubles (-0 equals 0), then members, as the skiplist orders them.
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    match dst {
        Some(d) => {
            // Redis builds a skiplist and converts it when it fits a listpack.
            let t = ctx.thresholds();
            let fits = result.len() <= t.zset_max_listpack_entries
                && result
                    .iter()
                    .all(|(m, _)| m.len() <= t.zset_max_listpack_value);
            let mut z = if fits {
                ZSet::new()
            } else {
                ZSet::new_skiplist()
            };
            for (m, s) in &result {
                z.set(m, *s, &t);
            }
            let event = match op {
                Op::Union => "zunionstore",
                Op::Inter => "zinterstore",
                Op::Diff => "zdiffstore",
            };
            store_result(ctx, argv, d, z, event)
        }
        None => {
            let resp = ctx.resp;
            let mut out = Vec::with_capacity(result.len() * if withscores { 2 } else { 1 });
            for (m, s) in &result {
                push_member(&mut out, resp, m, *s, withscores);
            }
            Frame::Array(out)
        }
    }
}
