//! Pure bit arithmetic on byte strings, with Redis's bit order: bit 0 is the most
//! significant bit of the first byte (bitops.c). Everything here is bounded: a
//! bit past the end of the slice reads as 0 (the string is zero padded on the
//! right, as Redis sees it) and a write past the end is dropped (callers grow the
//! string first).

/// Number of set bits in `b`.
pub fn popcount(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(8);
    let mut n = 0u64;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|x| x.count_ones() as u64)
        .sum::<u64>()
}

/// Bit `i` of `data` (0 past the end).
pub fn get_bit(data: &[u8], i: u64) -> bool {
    let byte = usize::try_from(i >> 3).unwrap_or(usize::MAX);
    data.get(byte).is_some_and(|b| b & (0x80 >> (i & 7)) != 0)
}

/// Sets bit `i` of `data` to `on` (ignored past the end).
pub fn set_bit(data: &mut [u8], i: u64, on: bool) {
    let byte = usize::try_from(i >> 3).unwrap_or(usize::MAX);
    if let Some(b) = data.get_mut(byte) {
        let mask = 0x80u8 >> (i & 7);
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// The bits `first..=last` of byte `b` (0 = most significant) kept, the others
/// cleared.
fn keep(b: u8, first: u32, last: u32) -> u8 {
    let hi = 0xffu8 >> first;
    let lo = 0xffu8 << (7 - last);
    b & hi & lo
}

/// Set bits between bit positions `start` and `end` (inclusive; both inside
/// `data`, `start <= end`).
pub fn count_range(data: &[u8], start: u64, end: u64) -> u64 {
    let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
    let (Some(&first), Some(&last)) = (data.get(sb), data.get(eb)) else {
        return 0;
    };
    let (so, eo) = ((start & 7) as u32, (end & 7) as u32);
    if sb == eb {
        return keep(first, so, eo).count_ones() as u64;
    }
    let middle = data.get(sb + 1..eb).map_or(0, popcount);
    keep(first, so, 7).count_ones() as u64 + middle + keep(last, 0, eo).count_ones() as u64
}

/// The first bit equal to `bit` between positions `start` and `end` (inclusive;
/// both inside `data`, `start <= end`).
pub fn find_range(data: &[u8], bit: bool, start: u64, end: u64) -> Option<u64> {
    // Bytes entirely made of the other value are skipped a word at a time.
    let skip = if bit { 0u8 } else { 0xff };
    let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
    let in_byte = |byte: usize, from: u32, to: u32| -> Option<u64> {
        let b = *data.get(byte)?;
        // Flip so that we always look for a one.
        let b = if bit { b } else { !b };
        let m = keep(b, from, to);
        (m != 0).then(|| byte as u64 * 8 + m.leading_zeros() as u64)
    };
    let (so, eo) = ((start & 7) as u32, (end & 7) as u32);
    if sb == eb {
        return in_byte(sb, so, eo);
    }
    if let Some(p) = in_byte(sb, so, 7) {
        return Some(p);
    }
    let mut i = sb + 1;
    let skip_word = u64::from_ne_bytes([skip; 8]);
    while i + 8 <= eb {
        let mut w = [0u8; 8];
        w.copy_from_slice(data.get(i..i + 8)?);
        if u64::from_ne_bytes(w) != skip_word {
            break;
        }
        i += 8;
    }
    while i < eb {
        if let Some(p) = in_byte(i, 0, 7) {
            return Some(p);
        }
        i += 1;
    }
    in_byte(eb, 0, eo)
}

/// The `bits`-wide (1..=64) unsigned field at bit `offset`, most significant bit
/// first (Redis's `getUnsignedBitfield`).
pub fn get_field(data: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for j in 0..bits as u64 {
        v = (v << 1) | get_bit(data, offset + j) as u64;
    }
    v
}

/// The field as a signed (two's complement) integer.
pub fn get_signed_field(data: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_field(data, offset, bits) as i64;
    if bits < 64 && v & (1i64 << (bits - 1)) != 0 {
        v | (-1i64 << bits)
    } else {
        v
    }
}

/// Writes the low `bits` bits of `value` at bit `offset`.
pub fn set_field(data: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let on = value & (1u64 << (bits as u64 - 1 - j)) != 0;
        set_bit(data, offset + j, on);
    }
}

/// What to do when a BITFIELD write does not fit its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Redis's `checkUnsignedBitfieldOverflow`: `None` when `value + incr` fits in
/// `bits` (1..=63) unsigned bits, otherwise `Some(result)` (`Some(None)` for
/// FAIL), with Redis's wrapping arithmetic reproduced exactly.
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<Option<u64>> {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || {
        let mask = if bits >= 64 { 0 } else { u64::MAX << bits };
        value.wrapping_add(incr as u64) & !mask
    };
    let over = value > max || (incr > 0 && incr > maxincr);
    let under = !over && incr < 0 && incr < minincr;
    if !over && !under {
        return None;
    }
    Some(match ow {
        Overflow::Wrap => Some(wrap()),
        Overflow::Sat => Some(if over { max } else { 0 }),
        Overflow::Fail => None,
    })
}

/// Redis's `checkSignedBitfieldOverflow` for `bits` in 1..=64, with the same
/// conventions as [`unsigned_overflow`] (including its quirks with SET values
/// far outside the type: Redis's wrapped comparisons decide the direction).
pub fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<Option<i64>> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let over =
        value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr);
    let under = !over
        && (value < min
            || (bits != 64 && incr < minincr)
            || (value < 0 && incr < 0 && incr < minincr));
    if !over && !under {
        return None;
    }
    let wrap = || {
        let msb = 1u64 << (bits - 1);
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & msb != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    Some(match ow {
        Overflow::Wrap => Some(wrap()),
        Overflow::Sat => Some(if over { max } else { min }),
        Overflow::Fail => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit by bit reference for the range functions.
    fn naive(data: &[u8], bit: bool, s: u64, e: u64) -> (u64, Option<u64>) {
        let mut n = 0;
        let mut first = None;
        for i in s..=e {
            let b = get_bit(data, i);
            n += b as u64;
            if b == bit && first.is_none() {
                first = Some(i);
            }
        }
        (n, first)
    }

    #[test]
    fn ranges_agree_with_a_bit_by_bit_scan() {
        let mut seed = 99u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for _ in 0..400 {
            let len = 1 + (rnd() % 40) as usize;
            // Mostly uniform bytes so the word skipping gets exercised.
            let fill = if rnd() % 2 == 0 { 0u8 } else { 0xff };
            let mut data = vec![fill; len];
            for _ in 0..(rnd() % 3) {
                let i = rnd() % (len as u64 * 8);
                set_bit(&mut data, i, fill == 0);
            }
            let total = len as u64 * 8;
            let s = rnd() % total;
            let e = s + rnd() % (total - s);
            for bit in [false, true] {
                let (n, first) = naive(&data, bit, s, e);
                assert_eq!(count_range(&data, s, e), n);
                assert_eq!(
                    find_range(&data, bit, s, e),
                    first,
                    "{data:?} {bit} {s} {e}"
                );
            }
        }
    }

    #[test]
    fn fields_follow_redis_bit_order() {
        // Redis's own example: u5 = 23 at offset 7 gives 00000001 01110000.
        let mut d = [0u8; 2];
        set_field(&mut d, 7, 5, 23);
        assert_eq!(d, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_field(&d, 7, 5), 23);
        assert_eq!(get_signed_field(&d, 7, 5), 23 - 32);
        // Reads past the end are zero; writes past the end are dropped.
        assert_eq!(get_field(&d, 12, 64), 0);
        set_field(&mut d, 15, 8, 0xff);
        assert_eq!(d, [0b0000_0001, 0b0111_0001]);
        let mut d = [0u8; 8];
        set_field(&mut d, 0, 64, i64::MIN as u64);
        assert_eq!(get_signed_field(&d, 0, 64), i64::MIN);
    }

    #[test]
    fn overflow_rules_match_redis() {
        use Overflow::*;
        assert_eq!(unsigned_overflow(250, 10, 8, Wrap), Some(Some(4)));
        assert_eq!(unsigned_overflow(250, 10, 8, Sat), Some(Some(255)));
        assert_eq!(unsigned_overflow(250, 10, 8, Fail), Some(None));
        assert_eq!(unsigned_overflow(5, -10, 8, Sat), Some(Some(0)));
        assert_eq!(unsigned_overflow(5, -10, 8, Wrap), Some(Some(251)));
        assert_eq!(unsigned_overflow(5, -5, 8, Wrap), None);
        // SET u8 -1 is a too-big value: it wraps to 255.
        assert_eq!(unsigned_overflow(-1i64 as u64, 0, 8, Wrap), Some(Some(255)));
        assert_eq!(signed_overflow(120, 10, 8, Wrap), Some(Some(-126)));
        assert_eq!(signed_overflow(120, 10, 8, Sat), Some(Some(127)));
        assert_eq!(signed_overflow(-120, -10, 8, Sat), Some(Some(-128)));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Wrap), Some(Some(i64::MIN)));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Sat), Some(Some(i64::MIN)));
        assert_eq!(signed_overflow(-1, 1, 64, Wrap), None);
        // Redis's quirk: SET i8 with i64::MIN saturates to the maximum (verified
        // on 7.0.15: BITFIELD k OVERFLOW SAT SET i8 0 -9223372036854775808 then
        // GET i8 0 gives 127).
        assert_eq!(signed_overflow(i64::MIN, 0, 8, Sat), Some(Some(127)));
    }
}
