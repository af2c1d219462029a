//! Intset (intset.c): the packed form of a set of integers. Layout: element
//! width in bytes (u32 LE: 2, 4 or 8), count (u32 LE), then the values in
//! ascending order, little endian, all of that width (the smallest that holds
//! every value).

use super::{Error, Result};

/// The values of an intset blob (checked for size, width and strict ascending
/// order, as Redis's deep integrity check does).
pub fn parse(b: &[u8]) -> Result<Vec<i64>> {
    const BAD: Error = Error("invalid intset");
    if b.len() < 8 {
        return Err(BAD);
    }
    let width = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let count = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width) != Some(b.len() - 8) {
        return Err(BAD);
    }
    let mut out: Vec<i64> = Vec::with_capacity(count);
    for c in b[8..].chunks_exact(width) {
        let v = match width {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        };
        if out.last().is_some_and(|&last| last >= v) {
            return Err(BAD);
        }
        out.push(v);
    }
    Ok(out)
}

/// An intset blob holding `values` (sorted and deduplicated here).
pub fn build(values: &mut Vec<i64>) -> Vec<u8> {
    values.sort_unstable();
    values.dedup();
    let fits = |lo: i64, hi: i64| values.iter().all(|v| (lo..=hi).contains(v));
    let width: usize = if fits(i16::MIN as i64, i16::MAX as i64) {
        2
    } else if fits(i32::MIN as i64, i32::MAX as i64) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + values.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values.iter() {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_intset_bytes() {
        // `SADD s 1 2 3` in Redis 7.0.15's DUMP.
        let want = b"\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00";
        assert_eq!(build(&mut vec![3, 1, 2]), want.to_vec());
        assert_eq!(parse(want).unwrap(), vec![1, 2, 3]);
        let wide = build(&mut vec![-5, 1 << 40, 70000]);
        assert_eq!(parse(&wide).unwrap(), vec![-5, 70000, 1 << 40]);
        assert_eq!(wide.len(), 8 + 3 * 8);
        assert_eq!(build(&mut vec![70000, 1]).len(), 8 + 2 * 4);
        // Unordered, duplicated, bad width, bad count.
        assert!(parse(b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00").is_err());
        assert!(parse(b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x02\x00").is_err());
        assert!(parse(b"\x03\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00").is_err());
        assert!(parse(b"\x02\x00\x00\x00\xff\xff\xff\xff\x02\x00").is_err());
    }
}
