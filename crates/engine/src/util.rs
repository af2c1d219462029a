//! Number parsing and formatting with Redis's exact rules.

/// Parses a signed 64-bit integer the way Redis's `string2ll` does: optional `-`,
/// no `+`, no leading zeros, no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parses a double the way Redis's `string2d`/`getDoubleFromObject` does: strtod
/// syntax, the whole string consumed, no leading space, no NaN.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5120 || s[0].is_ascii_whitespace() {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let lower = text.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust accepts "nan"/"inf" spelled other ways and no hex floats: reject
            // the former, parse the latter as C's strtod does.
            if lower.contains("nan") {
                return None;
            }
            if lower.contains('x') {
                parse_hex_float(&lower)?
            } else {
                text.parse::<f64>().ok()?
            }
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// C99 hexadecimal floating point (`0x1.8p3`, `-0x10`), as strtod reads it.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let rest = rest.strip_prefix("0x")?;
    let (mant, exp) = match rest.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

/// Formats an integer.
pub fn fmt_i64(n: i64) -> bytes::Bytes {
    let mut b = itoa::Buffer::new();
    bytes::Bytes::copy_from_slice(b.format(n).as_bytes())
}

/// The size jemalloc gives a request of `n` bytes (small classes: multiples of
/// 16 up to 128, then four classes per doubling, which large ones keep). Only
/// memory depends on it being right: buffers sized to it use what the
/// allocator would round up to anyway.
pub fn alloc_size(n: usize) -> usize {
    match n {
        0 => 0,
        1..=8 => 8,
        9..=128 => n.div_ceil(16) * 16,
        _ => {
            let step = (n.next_power_of_two() / 8).max(16);
            n.div_ceil(step).saturating_mul(step)
        }
    }
}

/// The steps of a prefetched member lookup in a batch
/// ([`crate::engine::Engine::prefetch`]): each step starts loads for every
/// command of the batch before the next step reads what arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The index's bucket line, computed from the member's hash alone.
    Bucket,
    /// The entries the probe will compare (their handles in the dense vector).
    Slot,
    /// The entries' heap bytes.
    Bytes,
}

/// Asks the CPU to start loading the cache lines that hold `*r` (a hint: it
/// changes no value and cannot fault), so that a later access does not stall
/// on memory. Used to overlap the cache misses of a pipelined batch's keys
/// ([`crate::engine::Engine::prefetch`]); a no-op off x86-64.
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let start = r as *const T as *const i8;
        let last = start.wrapping_add(std::mem::size_of::<T>().saturating_sub(1));
        // SAFETY: `_mm_prefetch` is `unsafe` only because it is an SSE
        // intrinsic, and SSE is part of the x86-64 baseline that every x86-64
        // CPU (and Rust's x86_64 targets) has. PREFETCHT0 never dereferences
        // in the language's sense: it reads no value into the program and
        // does not fault even on an invalid address, and here both addresses
        // lie within (or at the last byte of) a live reference.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(start);
            _mm_prefetch::<_MM_HINT_T0>(last);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// Whether `a` and `b` hold the same bytes, reading no byte outside either.
///
/// From 4 to 32 bytes it compares (overlapping) 4- or 8-byte words in
/// registers instead of calling `memcmp`. glibc's AVX-512 `memcmp` reads a short slice with one
/// masked 32-byte load, and where that load crosses into the next cache line
/// the CPU waits for that line too, although the mask hides its bytes: a line
/// no prefetch asked for, because it belongs to a neighbouring allocation.
/// Members and fields of 16 to 32 bytes (`element:000000012345`) hit that on
/// nearly every lookup (BENCHMARKS.md).
#[inline]
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // The 8 bytes at `i` (0 past the end, which the lengths below rule out).
    fn word(s: &[u8], i: usize) -> u64 {
        s.get(i..)
            .and_then(|t| t.first_chunk::<8>())
            .map_or(0, |w| u64::from_ne_bytes(*w))
    }
    // The 4 bytes at `i`, likewise.
    fn half(s: &[u8], i: usize) -> u32 {
        s.get(i..)
            .and_then(|t| t.first_chunk::<4>())
            .map_or(0, |w| u32::from_ne_bytes(*w))
    }
    let differ = |i: usize| word(a, i) ^ word(b, i);
    match n {
        4..=7 => (half(a, 0) ^ half(b, 0)) | (half(a, n - 4) ^ half(b, n - 4)) == 0,
        8..=16 => differ(0) | differ(n - 8) == 0,
        17..=32 => differ(0) | differ(8) | differ(n - 16) | differ(n - 8) == 0,
        _ => a == b,
    }
}

/// [`prefetch`] for the lines of a byte slice: its first and its last (the
/// ones between are left to the hardware prefetcher).
#[inline(always)]
pub fn prefetch_bytes(b: &[u8]) {
    if let (Some(first), Some(last)) = (b.first(), b.last()) {
        prefetch(first);
        prefetch(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `bytes_eq` agrees with `==` on any two slices, including ones that
        /// differ in a single byte anywhere (the word boundaries).
        #[test]
        fn bytes_eq_agrees_with_slice_equality(
            a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48),
            flip in proptest::prelude::any::<proptest::sample::Index>(),
            bit in 0u8..8,
            other in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48),
        ) {
            proptest::prop_assert!(bytes_eq(&a, &a.clone()));
            if !a.is_empty() {
                let mut b = a.clone();
                b[flip.index(a.len())] ^= 1 << bit;
                proptest::prop_assert!(!bytes_eq(&a, &b));
                proptest::prop_assert!(!bytes_eq(&b, &a));
            }
            proptest::prop_assert_eq!(bytes_eq(&a, &other), a == other);
        }
    }

    #[test]
    fn ints() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b""), None);
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1 "), None);
        assert_eq!(parse_f64(b"abc"), None);
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_f64(b"0x"), None);
        assert_eq!(parse_f64(b"0xg"), None);
    }
}
