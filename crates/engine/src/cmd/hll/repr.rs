//! The HyperLogLog string layout, byte for byte Redis's (hyperloglog.c), so that
//! a value moves between keel and Redis through GET/SET and both answer the same
//! PFCOUNT, and PFADD of the same elements writes the same bytes on both.
//!
//! A HyperLogLog is a plain string: a 16-byte header (`HYLL`, the encoding byte,
//! three unused bytes, the cached cardinality in 8 little-endian bytes whose top
//! bit set means "stale") followed by 16384 registers of 6 bits, in one of two
//! encodings:
//!
//! - dense: the registers packed least significant bit first, 12288 bytes;
//! - sparse: run-length opcodes, `ZERO` (`00xxxxxx`, 1..64 zero registers),
//!   `XZERO` (`01xxxxxx yyyyyyyy`, 1..16384 zero registers) and `VAL`
//!   (`1vvvvvxx`, 1..4 registers holding 1..32).
//!
//! Every new HyperLogLog starts sparse and turns dense when a register needs a
//! value above 32 or the sparse form would grow past `hll-sparse-max-bytes`.
//! The sparse update follows Redis's algorithm step by step (where it splits an
//! opcode, which neighbours it merges) because the bytes it leaves depend on it.
//!
//! Values written by a client may be malformed: every reader here is bounded and
//! reports corruption instead of panicking. Where Redis reads the string's
//! implicit NUL terminator (an `XZERO` cut in half at the end), a missing byte
//! reads as 0, which is what Redis sees.

/// Header size: magic, encoding, 3 unused bytes, 8 bytes of cached cardinality.
pub const HDR_SIZE: usize = 16;
/// Register index bits.
const P: u32 = 14;
/// Hash bits left for the run of zeros.
const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
/// Size of a dense HyperLogLog, header included.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * 6).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2): the estimator's constant for an infinite number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// The seed Redis hashes elements with.
const SEED: u64 = 0xadc8_3b19;

/// MurmurHash64A as Redis has it (endian-neutral: 8-byte blocks read little
/// endian).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for b in &mut blocks {
        let mut k = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the length of its `000..1` pattern
/// (1..=51): Redis's `hllPatLen`.
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & P_MASK) as usize;
    // The extra top bit ends the run, so the count is at most Q + 1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, (rest.trailing_zeros() + 1) as u8)
}

// ---------------------------------------------------------------------------
// Header

/// Whether `data` passes Redis's `isHLLObjectOrReply` checks (magic, known
/// encoding, exact dense size). A sparse body is only checked when used.
pub fn is_hll(data: &[u8]) -> bool {
    data.len() >= HDR_SIZE
        && &data[..4] == b"HYLL"
        && data[4] <= SPARSE
        && (data[4] != DENSE || data.len() == DENSE_SIZE)
}

/// The cached cardinality, when it is valid.
pub fn cached_card(data: &[u8]) -> Option<u64> {
    let c: [u8; 8] = data.get(8..16)?.try_into().ok()?;
    (c[7] & 0x80 == 0).then(|| u64::from_le_bytes(c))
}

/// Stores a freshly computed cardinality (valid: its top bit is clear).
pub fn set_card(data: &mut [u8], card: u64) {
    if let Some(c) = data.get_mut(8..16) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate(data: &mut [u8]) {
    if let Some(b) = data.get_mut(15) {
        *b |= 0x80;
    }
}

/// A new, empty HyperLogLog: sparse, one `XZERO` per 16384 registers.
pub fn new_sparse() -> Vec<u8> {
    let mut b = Vec::with_capacity(HDR_SIZE + 2 + 5);
    b.extend_from_slice(b"HYLL");
    b.extend_from_slice(&[SPARSE, 0, 0, 0]);
    b.extend_from_slice(&[0; 8]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        b.extend_from_slice(&xzero(n));
        left -= n;
    }
    b
}

// ---------------------------------------------------------------------------
// Dense registers

/// Register `i` of packed 6-bit registers (`regs` starts after the header).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

/// Sets register `i` to `v` (at most 63).
pub fn dense_put(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = (v & 63) as u32;
    if let Some(b) = regs.get_mut(byte) {
        *b = ((*b as u32 & !(63u32 << fb)) | (v << fb)) as u8;
    }
    // The part that spills into the next byte (none when the register fits).
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = ((*b as u32 & !(63u32 >> (8 - fb))) | (v >> (8 - fb))) as u8;
    }
}

/// Raises register `index` to `count`; true when it changed.
fn dense_raise(regs: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(regs, index) {
        dense_put(regs, index, count);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------
// Sparse opcodes

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

fn val_len(b: u8) -> usize {
    (b & 3) as usize + 1
}

/// A `VAL` opcode: `len` (1..=4) registers holding `val` (1..=32).
fn val_op(val: u8, len: usize) -> u8 {
    0x80 | ((val - 1) << 2) | (len as u8 - 1)
}

/// A `ZERO` opcode for 1..=64 registers.
fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}

/// An `XZERO` opcode for 1..=16384 registers.
fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [((l >> 8) as u8) | 0x40, (l & 0xff) as u8]
}

/// The opcode at `p`: (registers covered, register value (0 for the zero
/// opcodes), bytes used). A byte past the end reads as 0 (Redis's terminator).
fn op_at(s: &[u8], p: usize) -> (usize, u8, usize) {
    let b = s.get(p).copied().unwrap_or(0);
    if is_zero(b) {
        ((b & 0x3f) as usize + 1, 0, 1)
    } else if is_val(b) {
        (val_len(b), val_value(b), 1)
    } else {
        let b1 = s.get(p + 1).copied().unwrap_or(0) as usize;
        ((((b & 0x3f) as usize) << 8 | b1) + 1, 0, 2)
    }
}

/// Calls `f(first register, registers covered, value, opcode)` for each opcode
/// of a sparse body (`data` is the whole value).
fn for_each_op(data: &[u8], mut f: impl FnMut(usize, usize, u8, usize) -> bool) {
    let mut p = HDR_SIZE;
    let mut idx = 0usize;
    while p < data.len() {
        let (run, val, len) = op_at(data, p);
        if !f(idx, run, val, p) {
            return;
        }
        idx = idx.saturating_add(run);
        p += len;
    }
}

/// Calls `f(first register, registers covered, value)` for each opcode of a
/// sparse body; false when the opcodes do not cover exactly the 16384
/// registers. As in Debian's redis-server 7.0.15 (with the CVE-2025-32023 fix),
/// a run past the last register makes the whole value corrupt, even when the
/// runs before it covered every register.
fn sparse_runs(data: &[u8], mut f: impl FnMut(usize, usize, u8)) -> bool {
    let mut idx = 0usize;
    let mut ok = true;
    for_each_op(data, |first, run, val, _| {
        if first + run > REGISTERS {
            ok = false;
            return false;
        }
        f(first, run, val);
        idx = first + run;
        true
    });
    ok && idx == REGISTERS
}

/// The dense form of a sparse HyperLogLog (the header, cached cardinality
/// included, is kept), or `None` when the opcodes do not cover exactly the
/// 16384 registers.
pub fn sparse_to_dense(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; DENSE_SIZE];
    out[..HDR_SIZE].copy_from_slice(data.get(..HDR_SIZE)?);
    out[4] = DENSE;
    let regs = &mut out[HDR_SIZE..];
    let ok = sparse_runs(data, |first, run, val| {
        if val != 0 {
            for i in first..first + run {
                dense_put(regs, i, val);
            }
        }
    });
    ok.then_some(out)
}

/// What setting a register did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Set {
    Unchanged,
    Updated,
    /// The sparse representation is malformed (Redis's `INVALIDOBJ`).
    Corrupt,
}

/// Adds one element: Redis's `hllAdd` (the dense or the sparse path).
pub fn add(buf: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Set {
    let (index, count) = pat_len(ele);
    set_register(buf, index, count, sparse_max)
}

/// Raises register `index` to `count` in either encoding.
pub fn set_register(buf: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Set {
    if count == 0 || index >= REGISTERS {
        // Nothing to raise (callers never ask for this; kept total).
        return Set::Unchanged;
    }
    match buf.get(4) {
        Some(&DENSE) => {
            if dense_raise(&mut buf[HDR_SIZE..], index, count) {
                Set::Updated
            } else {
                Set::Unchanged
            }
        }
        Some(&SPARSE) => sparse_set(buf, index, count, sparse_max),
        _ => Set::Corrupt,
    }
}

/// Converts a sparse HyperLogLog to dense in place; false when it is corrupt.
/// A dense one is left as it is.
pub fn to_dense(buf: &mut Vec<u8>) -> bool {
    if buf.get(4) != Some(&SPARSE) {
        return true;
    }
    match sparse_to_dense(buf) {
        Some(d) => {
            *buf = d;
            true
        }
        None => false,
    }
}

/// Turns a sparse HyperLogLog dense and then raises the register.
fn promote(buf: &mut Vec<u8>, index: usize, count: u8) -> Set {
    if !to_dense(buf) {
        return Set::Corrupt;
    }
    dense_raise(&mut buf[HDR_SIZE..], index, count);
    Set::Updated
}

/// Redis's `hllSparseSet`: raises register `index` to `count` in a sparse
/// HyperLogLog, splitting the opcode that covers it and merging equal `VAL`
/// neighbours as Redis does; promotes to dense when needed.
fn sparse_set(buf: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Set {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(buf, index, count);
    }
    // Work in a buffer with the string's terminator and the few spare bytes
    // Redis reserves (an opcode grows by at most 3 bytes), then cut it back.
    let mut len = buf.len();
    buf.resize(len + 5, 0);
    let r = sparse_set_in(&mut buf[..], &mut len, index, count, sparse_max);
    buf.truncate(len);
    match r {
        None => promote(buf, index, count),
        Some(r) => r,
    }
}

/// The body of [`sparse_set`] on `s` (logical length `*len`, at least 5 spare
/// bytes after it, the first of them 0). `None` asks for promotion.
fn sparse_set_in(
    s: &mut [u8],
    len: &mut usize,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Option<Set> {
    let mut end = *len;
    // Step 1: find the opcode covering the register.
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev = None;
    let mut span = 0usize;
    while p < end {
        let (run, _, oplen) = op_at(s, p);
        span = run;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Some(Set::Corrupt);
    }
    let b = s[p];
    let next = {
        let n = if is_xzero(b) { p + 2 } else { p + 1 };
        (n < end).then_some(n)
    };
    let (zero, xz, val) = (is_zero(b), is_xzero(b), is_val(b));
    let runlen = span;

    // Step 2: the trivial updates in place.
    let mut done = false;
    if val {
        if val_value(b) >= count {
            return Some(Set::Unchanged);
        }
        if runlen == 1 {
            s[p] = val_op(count, 1);
            done = true;
        }
    }
    if !done && zero && runlen == 1 {
        s[p] = val_op(count, 1);
        done = true;
    }

    // Step 3: the general case, the opcode split in up to three.
    if !done {
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        let zeros = |seq: &mut [u8; 5], n: &mut usize, l: usize| {
            if l > SPARSE_ZERO_MAX_LEN {
                seq[*n..*n + 2].copy_from_slice(&xzero(l));
                *n += 2;
            } else {
                seq[*n] = zero_op(l);
                *n += 1;
            }
        };
        if zero || xz {
            if index != first {
                zeros(&mut seq, &mut n, index - first);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                zeros(&mut seq, &mut n, last - index);
            }
        } else {
            let cur = val_value(b);
            if index != first {
                seq[n] = val_op(cur, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(cur, last - index);
                n += 1;
            }
        }
        let oldlen = if xz { 2 } else { 1 };
        let grow = n as isize - oldlen as isize;
        if grow > 0 && end + grow as usize > sparse_max {
            return None;
        }
        let new_end = (end as isize + grow) as usize;
        if grow != 0 {
            if let Some(nx) = next {
                s.copy_within(nx..end, (nx as isize + grow) as usize);
            }
        }
        // Redis's order: the new length (and terminator) first, then the copy.
        *len = new_end;
        s[new_end] = 0;
        s[p..p + n].copy_from_slice(&seq[..n]);
        end = new_end;
    }

    // Step 4: merge adjacent VAL opcodes of equal value, scanning up to five
    // opcodes from the one before the change.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < end && scan > 0 {
        scan -= 1;
        let b = s[p];
        if is_xzero(b) {
            p += 2;
            continue;
        }
        if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(s[p + 1]) {
            let (v1, v2) = (val_value(b), val_value(s[p + 1]));
            let l = val_len(b) + val_len(s[p + 1]);
            if v1 == v2 && l <= SPARSE_VAL_MAX_LEN {
                s[p + 1] = val_op(v1, l);
                s.copy_within(p + 1..end + 1, p);
                end -= 1;
                *len = end;
                s[end] = 0;
                continue;
            }
        }
        p += 1;
    }
    invalidate(s);
    Some(Set::Updated)
}

// ---------------------------------------------------------------------------
// Counting and merging

/// How many registers hold each value (0..=63), or `None` for a sparse body
/// that does not cover exactly 16384 registers.
pub fn histogram(data: &[u8]) -> Option<[u64; 64]> {
    let mut h = [0u64; 64];
    match data.get(4) {
        Some(&DENSE) => {
            let regs = data.get(HDR_SIZE..).unwrap_or_default();
            for i in 0..REGISTERS {
                h[dense_get(regs, i) as usize] += 1;
            }
            Some(h)
        }
        Some(&SPARSE) => {
            sparse_runs(data, |_, run, val| h[val as usize] += run as u64).then_some(h)
        }
        _ => None,
    }
}

/// The histogram of one byte per register (a merge result).
pub fn raw_histogram(max: &[u8]) -> [u64; 64] {
    let mut h = [0u64; 64];
    for &v in max {
        h[(v & 63) as usize] += 1;
    }
    h
}

/// Ertl's sigma (arXiv:1702.01284), as Redis computes it.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

/// Ertl's tau, as Redis computes it.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram: Redis 7's estimator
/// (Ertl's improved raw estimate), with Redis's order of floating point steps.
pub fn estimate(h: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - h[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// Raises `max[i]` to each register of the HyperLogLog `data` (already checked
/// with [`is_hll`]); false when its sparse body is corrupt.
pub fn merge(max: &mut [u8], data: &[u8]) -> bool {
    match data.get(4) {
        Some(&DENSE) => {
            let regs = data.get(HDR_SIZE..).unwrap_or_default();
            for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
                *m = (*m).max(dense_get(regs, i));
            }
            true
        }
        Some(&SPARSE) => sparse_runs(data, |first, run, val| {
            if let Some(m) = max.get_mut(first..first + run) {
                m.iter_mut().for_each(|m| *m = (*m).max(val));
            }
        }),
        _ => false,
    }
}

/// PFDEBUG DECODE's text for a sparse body: `z:<n>`, `Z:<n>`, `v:<val>,<n>`.
pub fn decode(data: &[u8]) -> String {
    let mut out = String::new();
    for_each_op(data, |_, run, val, p| {
        let b = data.get(p).copied().unwrap_or(0);
        let part = if val != 0 {
            format!("v:{val},{run} ")
        } else if is_xzero(b) {
            format!("Z:{run} ")
        } else {
            format!("z:{run} ")
        };
        out.push_str(&part);
        true
    });
    out.trim_matches(' ').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_matches_redis_reference_values() {
        // Registers and counts Redis 7.0 assigns (PFDEBUG DECODE of PFADD h a b c
        // is `Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603`).
        let mut got: Vec<(usize, u8)> = [b"a", b"b", b"c"].iter().map(|e| pat_len(*e)).collect();
        got.sort();
        assert_eq!(got, vec![(8436, 1), (12711, 2), (15780, 1)]);
    }

    #[test]
    fn empty_sparse_is_redis_bytes() {
        let b = new_sparse();
        assert_eq!(
            &b[..],
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
        );
        assert_eq!(histogram(&b).map(|h| h[0]), Some(REGISTERS as u64));
        assert_eq!(estimate(&histogram(&b).unwrap_or([0; 64])), 0);
    }

    #[test]
    fn dense_registers_round_trip_without_touching_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        let mut want = vec![0u8; REGISTERS];
        let mut seed = 7u64;
        for round in 0..3 {
            for (i, w) in want.iter_mut().enumerate() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let v = ((seed >> 33) as u8 ^ round) & 63;
                *w = v;
                dense_put(&mut regs, i, v);
            }
            for (i, w) in want.iter().enumerate() {
                assert_eq!(dense_get(&regs, i), *w, "register {i}");
            }
        }
    }

    /// Sparse and dense agree on every register after many adds, and the
    /// sparse form decodes to exactly 16384 registers.
    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sparse();
        let mut dense = sparse_to_dense(&sparse).expect("valid");
        for i in 0..3000u32 {
            let e = i.to_le_bytes();
            let a = add(&mut sparse, &e, usize::MAX);
            let b = add(&mut dense, &e, usize::MAX);
            assert_ne!(a, Set::Corrupt);
            assert_eq!(a, b, "element {i}");
        }
        assert_eq!(sparse[4], SPARSE);
        let (mut m1, mut m2) = (vec![0u8; REGISTERS], vec![0u8; REGISTERS]);
        assert!(merge(&mut m1, &sparse));
        assert!(merge(&mut m2, &dense));
        assert_eq!(m1, m2);
        assert_eq!(histogram(&sparse), histogram(&dense));
        let d2 = sparse_to_dense(&sparse).expect("valid");
        assert_eq!(&d2[HDR_SIZE..], &dense[HDR_SIZE..]);
    }

    #[test]
    fn sparse_promotes_past_the_limit_and_for_big_values() {
        let mut h = new_sparse();
        let mut i = 0u32;
        while h[4] == SPARSE {
            add(&mut h, &i.to_le_bytes(), 3000);
            assert!(h[4] == DENSE || h.len() <= 3000);
            i += 1;
        }
        assert_eq!(h.len(), DENSE_SIZE);
        let mut h = new_sparse();
        assert_eq!(set_register(&mut h, 5, 33, 3000), Set::Updated);
        assert_eq!(h[4], DENSE);
        assert_eq!(dense_get(&h[HDR_SIZE..], 5), 33);
    }

    #[test]
    fn corrupt_sparse_bodies_are_reported_not_panicked_on() {
        let mut base = new_sparse();
        base.truncate(HDR_SIZE);
        for body in [
            &b""[..],
            b"\x7f",
            b"\x7f\xfe",
            b"\x7f\xff\x80",
            b"\xff\xff\xff",
            b"\x00",
            b"\x7f\xff\x7f\xff",
        ] {
            let mut v = base.clone();
            v.extend_from_slice(body);
            let _ = histogram(&v);
            let _ = sparse_to_dense(&v);
            let mut m = vec![0u8; REGISTERS];
            let _ = merge(&mut m, &v);
            let _ = decode(&v);
            for ele in 0..50u32 {
                let mut w = v.clone();
                let _ = add(&mut w, &ele.to_le_bytes(), 3000);
            }
        }
    }

    #[test]
    fn estimator_is_within_the_standard_error() {
        let mut h = sparse_to_dense(&new_sparse()).expect("valid");
        for n in 1..=20_000u32 {
            add(&mut h, &n.to_be_bytes(), 0);
        }
        let est = estimate(&histogram(&h).expect("dense")) as f64;
        assert!((est - 20_000.0).abs() / 20_000.0 < 0.03, "{est}");
    }
}
