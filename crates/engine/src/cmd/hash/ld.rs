//! x87 80-bit extended precision (C's `long double` on x86-64), in software,
//! as far as HINCRBYFLOAT needs it: Redis parses both operands with `strtold`,
//! adds them in `long double` and stores `%.17Lf` with trailing zeros cut
//! (`ld2string(LD_STR_HUMAN)`). Doing the same in `f64` gives other digits
//! (`0.1 + 0.2` is `0.3` in Redis, `0.30000000000000004` in `f64`), so the three
//! steps are reproduced exactly here: correctly rounded parsing (as glibc's
//! `strtold`), round-to-nearest-even addition, and exact decimal formatting.
//!
//! A finite value is `(-1)^neg * mant * 2^exp` with a 64-bit mantissa (the x87
//! format has an explicit integer bit, so it is exactly a `u64`); the smallest
//! step is 2^-16445 (subnormals) and the largest finite value just under 2^16384.

use std::cmp::Ordering;

/// Exponent of the smallest subnormal's unit.
const MIN_EXP: i32 = -16445;
/// Largest exponent of a mantissa normalized to bit 63.
const MAX_EXP: i32 = 16383 - 63;
/// `string2ld`'s buffer: longer inputs are refused.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// A finite long double; the default is +0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ld {
    neg: bool,
    mant: u64,
    exp: i32,
}

/// What `string2ld` makes of a string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Parsed {
    Finite(Ld),
    /// `inf`/`infinity` (the sign: negative); Redis accepts it as a number.
    Infinite(bool),
}

impl Ld {
    fn zero(neg: bool) -> Ld {
        Ld {
            neg,
            mant: 0,
            exp: 0,
        }
    }

    /// Rounds `(-1)^neg * (s + δ) * 2^exp`, where `δ` is in (0, 1) when `sticky`
    /// and 0 otherwise, to nearest-even. `None` on overflow. Callers give `s`
    /// at least 65 significant bits whenever `sticky` is set.
    fn round(neg: bool, s: u128, exp: i32, sticky: bool) -> Option<Ld> {
        if s == 0 {
            return Some(Ld::zero(neg));
        }
        let top = 127 - s.leading_zeros() as i32;
        let target = (exp + top - 63).max(MIN_EXP);
        let shift = target - exp;
        let (mut m, mut e) = if shift <= 0 {
            // Exact (no bits dropped; `sticky` is never set here).
            ((s << (-shift) as u32) as u64 as u128, target)
        } else {
            let shift = shift as u32;
            let keep = if shift >= 128 { 0 } else { s >> shift };
            let rem = if shift >= 128 {
                s
            } else {
                s & ((1u128 << shift) - 1)
            };
            let vs_half = if shift > 128 {
                Ordering::Less
            } else {
                match rem.cmp(&(1u128 << (shift - 1))) {
                    Ordering::Equal if sticky => Ordering::Greater,
                    o => o,
                }
            };
            let up = vs_half == Ordering::Greater || (vs_half == Ordering::Equal && keep & 1 == 1);
            (keep + up as u128, target)
        };
        if m == 1u128 << 64 {
            m >>= 1;
            e += 1;
        }
        if m != 0 && e > MAX_EXP {
            return None;
        }
        Some(Ld {
            neg,
            mant: m as u64,
            exp: e,
        })
    }

    /// An integer, exactly (every i64 fits a 64-bit mantissa).
    #[cfg(test)]
    pub fn from_i64(v: i64) -> Ld {
        Ld {
            neg: v < 0,
            mant: v.unsigned_abs(),
            exp: 0,
        }
    }

    /// `self + other`, rounded to nearest-even; `None` when it overflows.
    pub fn add(self, other: Ld) -> Option<Ld> {
        if self.mant == 0 && other.mant == 0 {
            return Some(Ld::zero(self.neg && other.neg));
        }
        if self.mant == 0 {
            return Some(other);
        }
        if other.mant == 0 {
            return Some(self);
        }
        let norm = |x: Ld| {
            let lz = x.mant.leading_zeros();
            Ld {
                neg: x.neg,
                mant: x.mant << lz,
                exp: x.exp - lz as i32,
            }
        };
        let (mut a, mut b) = (norm(self), norm(other));
        if (b.exp, b.mant) > (a.exp, a.mant) {
            std::mem::swap(&mut a, &mut b);
        }
        let big = (a.mant as u128) << 62;
        let small = (b.mant as u128) << 62;
        let d = (a.exp - b.exp) as u32;
        let (aligned, sticky) = if d >= 128 {
            (0, true)
        } else {
            (small >> d, d > 0 && small & ((1u128 << d) - 1) != 0)
        };
        let exp = a.exp - 62;
        if a.neg == b.neg {
            Ld::round(a.neg, big + aligned, exp, sticky)
        } else {
            let s = big - aligned - sticky as u128;
            if s == 0 && !sticky {
                return Some(Ld::zero(false));
            }
            Ld::round(a.neg, s, exp, sticky)
        }
    }

    /// `ld2string(..., LD_STR_HUMAN)`: `%.17Lf`, trailing zeros (and a bare
    /// point) removed, `-0` written `0`.
    pub fn to_human(self) -> String {
        // The value times 10^17, rounded to an integer (nearest, ties to even,
        // as glibc's printf does).
        let digits = if self.exp >= 0 {
            let mut n = Big::from_u128(self.mant as u128);
            n.shl(self.exp as u32);
            n.mul_pow10(17);
            n.to_decimal()
        } else {
            let num = self.mant as u128 * 100_000_000_000_000_000u128;
            let sh = (-self.exp) as u32;
            let q = if sh >= 128 {
                // num < 2^121 is below half a unit.
                0
            } else {
                let q = num >> sh;
                let rem = num & ((1u128 << sh) - 1);
                let half = 1u128 << (sh - 1);
                q + (rem > half || (rem == half && q & 1 == 1)) as u128
            };
            q.to_string()
        };
        let digits = format!("{digits:0>18}");
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if self.neg {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        if out == "-0" {
            out = "0".into();
        }
        out
    }

    pub fn is_zero(&self) -> bool {
        self.mant == 0
    }
}

/// Redis's `string2ld`: the whole string read by glibc's `strtold` (which stops
/// at a NUL byte), no leading space, at most 5119 bytes, NaN refused, and so are
/// values that overflow or underflow to zero (`ERANGE`).
pub fn parse(s: &[u8]) -> Option<Parsed> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    let s = match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    };
    let first = *s.first()?;
    if matches!(first, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        return None;
    }
    let (neg, body) = match first {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Parsed::Infinite(neg));
    }
    let v = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        parse_hex(neg, &body[2..])?
    } else {
        parse_dec(neg, body)?
    };
    Some(Parsed::Finite(v))
}

/// Reads `[+-]digits` after an exponent marker; `None` when there are no digits.
/// Saturates far beyond any meaningful exponent.
fn parse_exp(s: &[u8]) -> Option<i64> {
    let (neg, d) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in d {
        v = (v * 10 + (c - b'0') as i64).min(1 << 40);
    }
    Some(if neg { -v } else { v })
}

/// Splits `digits[.digits][marker exp]`: (integer digits, fraction digits,
/// exponent). `None` unless the whole input has that shape with a digit.
fn split_number(s: &[u8], marker: u8, is_digit: fn(&u8) -> bool) -> Option<(&[u8], &[u8], i64)> {
    let int_end = s.iter().position(|c| !is_digit(c)).unwrap_or(s.len());
    let (int, rest) = s.split_at(int_end);
    let (frac, rest) = match rest.first() {
        Some(b'.') => {
            let r = &rest[1..];
            let end = r.iter().position(|c| !is_digit(c)).unwrap_or(r.len());
            r.split_at(end)
        }
        _ => (&rest[..0], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest.first() {
        None => 0,
        Some(c) if c | 0x20 == marker => parse_exp(&rest[1..])?,
        Some(_) => return None,
    };
    Some((int, frac, exp))
}

fn parse_dec(neg: bool, s: &[u8]) -> Option<Ld> {
    let (int, frac, exp) = split_number(s, b'e', u8::is_ascii_digit)?;
    let digits: Vec<u8> = int
        .iter()
        .chain(frac)
        .copied()
        .skip_while(|&c| c == b'0')
        .collect();
    if digits.is_empty() {
        return Some(Ld::zero(neg));
    }
    // value = digits * 10^e10
    let e10 = exp - frac.len() as i64;
    let magnitude = digits.len() as i64 + e10; // value < 10^magnitude
    if magnitude > 4940 {
        return None; // past 1.19e4932: overflow
    }
    if magnitude < -4960 {
        return None; // below half the smallest subnormal (3.6e-4951): zero
    }
    let mut num = Big::from_digits(&digits);
    let mut den = Big::from_u128(1);
    if e10 >= 0 {
        num.mul_pow10(e10 as u32);
    } else {
        den.mul_pow10((-e10) as u32);
    }
    let v = Ld::round(neg, 0, 0, false).and(ratio_round(neg, num, den, 0))?;
    if v.is_zero() {
        return None;
    }
    Some(v)
}

/// Rounds `num / den * 2^exp2` (num, den > 0).
fn ratio_round(neg: bool, mut num: Big, mut den: Big, exp2: i64) -> Option<Ld> {
    // Scale so the quotient has 102..=103 bits: enough for 64 bits and rounding.
    let k = 102 - (num.bits() as i64 - den.bits() as i64);
    if k >= 0 {
        num.shl(k as u32);
    } else {
        den.shl((-k) as u32);
    }
    let (q, rem_nonzero) = num.div_small_quotient(&den, 104);
    let e = exp2 - k;
    let e = e.clamp(i32::MIN as i64 / 2, i32::MAX as i64 / 2) as i32;
    Ld::round(neg, q, e, rem_nonzero)
}

fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
    let (int, frac, exp) = split_number(s, b'p', u8::is_ascii_hexdigit)?;
    let mut m: u128 = 0;
    let mut e: i64 = exp;
    let mut sticky = false;
    let mut seen = false;
    for (i, &c) in int.iter().chain(frac).enumerate() {
        let d = (c as char).to_digit(16).unwrap_or(0) as u128;
        let in_frac = i >= int.len();
        if !seen && d == 0 {
            if in_frac {
                e -= 4;
            }
            continue;
        }
        seen = true;
        if m >> 120 == 0 {
            m = (m << 4) | d;
            if in_frac {
                e -= 4;
            }
        } else {
            sticky |= d != 0;
            if !in_frac {
                e += 4;
            }
        }
    }
    if m == 0 {
        return Some(Ld::zero(neg));
    }
    let top = 127 - m.leading_zeros() as i64;
    if e + top > 16384 + 1 {
        return None;
    }
    if e + top < MIN_EXP as i64 - 2 {
        return None;
    }
    let v = Ld::round(neg, m, e as i32, sticky)?;
    if v.is_zero() {
        return None;
    }
    Some(v)
}

/// A little arbitrary-precision unsigned integer (base 2^32, little-endian),
/// just what parsing and formatting need.
#[derive(Clone, Debug)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut d = Vec::new();
        while v != 0 {
            d.push(v as u32);
            v >>= 32;
        }
        Big(d)
    }

    fn from_digits(digits: &[u8]) -> Big {
        let mut b = Big(Vec::new());
        for chunk in digits.chunks(9) {
            let mut v = 0u32;
            for &c in chunk {
                v = v * 10 + (c - b'0') as u32;
            }
            b.mul_add_small(10u32.pow(chunk.len() as u32), v);
        }
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn mul_add_small(&mut self, m: u32, add: u32) {
        let mut carry = add as u64;
        for d in self.0.iter_mut() {
            let v = *d as u64 * m as u64 + carry;
            *d = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn mul_pow10(&mut self, mut n: u32) {
        while n > 0 {
            let step = n.min(9);
            self.mul_add_small(10u32.pow(step), 0);
            n -= step;
        }
    }

    fn bits(&self) -> u32 {
        match self.0.last() {
            Some(&top) => (self.0.len() as u32 - 1) * 32 + (32 - top.leading_zeros()),
            None => 0,
        }
    }

    fn shl(&mut self, n: u32) {
        let words = (n / 32) as usize;
        let bits = n % 32;
        if bits != 0 {
            let mut carry = 0u32;
            for d in self.0.iter_mut() {
                let v = (*d << bits) | carry;
                carry = *d >> (32 - bits);
                *d = v;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        if words > 0 && !self.0.is_empty() {
            self.0.splice(0..0, std::iter::repeat_n(0, words));
        }
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for d in self.0.iter_mut().rev() {
            let v = (*d >> 1) | (carry << 31);
            carry = *d & 1;
            *d = v;
        }
        self.trim();
    }

    fn cmp(&self, o: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }

    /// `self -= o` (requires `self >= o`).
    fn sub(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for (i, d) in self.0.iter_mut().enumerate() {
            let v = *d as i64 - o.0.get(i).copied().unwrap_or(0) as i64 - borrow;
            borrow = (v < 0) as i64;
            *d = v.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }

    /// Long division whose quotient is known to fit `qbits` bits (≤ 127):
    /// (quotient, remainder != 0). `self` is consumed as the remainder.
    fn div_small_quotient(mut self, den: &Big, qbits: u32) -> (u128, bool) {
        let mut d = den.clone();
        d.shl(qbits - 1);
        let mut q = 0u128;
        for i in (0..qbits).rev() {
            if self.cmp(&d) != Ordering::Less {
                self.sub(&d);
                q |= 1u128 << i;
            }
            d.shr1();
        }
        (q, !self.0.is_empty())
    }

    fn to_decimal(&self) -> String {
        if self.0.is_empty() {
            return "0".into();
        }
        let mut n = self.0.clone();
        let mut chunks = Vec::new();
        while !n.is_empty() {
            let mut rem = 0u64;
            for d in n.iter_mut().rev() {
                let v = (rem << 32) | *d as u64;
                *d = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            while n.last() == Some(&0) {
                n.pop();
            }
            chunks.push(rem as u32);
        }
        let mut out = String::new();
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                out.push_str(&c.to_string());
            } else {
                out.push_str(&format!("{c:09}"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Ld {
        match parse(s.as_bytes()) {
            Some(Parsed::Finite(v)) => v,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn sum(a: &str, b: &str) -> String {
        p(a).add(p(b)).expect("finite").to_human()
    }

    #[test]
    fn formats_like_redis() {
        // Every expectation below is what Redis 7.0.15 on x86-64 answers.
        assert_eq!(sum("1.5", "0.1"), "1.6");
        assert_eq!(sum("1.6", "0.2"), "1.8");
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("10.5", "0.1"), "10.6");
        assert_eq!(
            sum("0", "1e70"),
            "10000000000000000000222479489586148259025995410601157579323600873193472"
        );
        assert_eq!(sum("3", "1e-30"), "3");
        assert_eq!(sum("0", "1e-30"), "0");
        assert_eq!(sum("0", "-1e-30"), "0");
        assert_eq!(sum("0", "-0.0"), "0");
        assert_eq!(sum("0", "0x10"), "16");
        assert_eq!(sum("5", "-5"), "0");
        assert_eq!(sum("3.0e3", "1"), "3001");
        assert_eq!(sum("10.50", "0.1"), "10.6");
        assert_eq!(sum("0", "1e4900").len(), 4901);
        assert!(sum("0", "1e4900").starts_with("1000000000000000000027083122306903498332240525040788343465029301119590285172606926666370482304143748"));
        assert_eq!(sum("1", "-1.5"), "-0.5");
        assert_eq!(sum("9223372036854775807", "1"), "9223372036854775808");
        assert_eq!(sum("0", "0.00000000000000001"), "0.00000000000000001");
        // Decimal ties are not ties in binary: which way they go depends on
        // the exact long double.
        assert_eq!(sum("0", "0.000000000000000005"), "0");
        assert_eq!(sum("0", "0.0000000000000000051"), "0.00000000000000001");
        assert_eq!(sum("0", "0.000000000000000015"), "0.00000000000000002");
        assert_eq!(sum("0", "0.000000000000000025"), "0.00000000000000002");
        assert_eq!(sum("0", "-0.000000000000000005"), "0");
        assert_eq!(sum("0", "-0.000000000000000001"), "0");
        assert_eq!(Ld::from_i64(-42).to_human(), "-42");
        assert_eq!(Ld::from_i64(0).to_human(), "0");
    }

    #[test]
    fn parse_rules() {
        for bad in [
            "",
            " 1",
            "1 ",
            "abc",
            "1e",
            "1e+",
            ".",
            "-",
            "nan",
            "NaN",
            "-nan",
            "nan(1)",
            "0x",
            "0xg",
            "1x",
            "1e5000",
            "-1e5000",
            "1e-5000",
            "0x1p99999",
            "1..2",
            "--1",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse(b"inf"), Some(Parsed::Infinite(false)));
        assert_eq!(parse(b"-Infinity"), Some(Parsed::Infinite(true)));
        assert_eq!(parse(b"+INF"), Some(Parsed::Infinite(false)));
        // strtold stops at a NUL, and string2ld sees the end of the string there.
        assert_eq!(parse(b"1.5\0junk"), parse(b"1.5"));
        assert_eq!(parse(b"\x001"), None);
        assert_eq!(p("0e99999"), Ld::zero(false));
        assert_eq!(p("-0"), Ld::zero(true));
        assert_eq!(p(".5").to_human(), "0.5");
        assert_eq!(p("5.").to_human(), "5");
        assert_eq!(p("+7").to_human(), "7");
        assert_eq!(p("1E2").to_human(), "100");
        assert_eq!(p("0x1.8p1").to_human(), "3");
        assert_eq!(p("0X.8").to_human(), "0.5");
        assert_eq!(p("-0x10").to_human(), "-16");
        // The edges of the range, as Redis answers them.
        assert_eq!(parse(b"0x1p-16446"), None);
        assert_eq!(parse(b"1.8e-4951"), None);
        assert_eq!(parse(b"0x1p16384"), None);
        assert_eq!(parse(b"1.18973149535723176509e4932"), None);
        assert!(!p("0x1.8p-16446").is_zero());
        assert!(!p("1.9e-4951").is_zero());
        assert!(p("0x1p16383")
            .to_human()
            .starts_with("594865747678615882542879663314003565381722343548255118736337"));
        assert!(p("1.18973149535723176502e4932")
            .to_human()
            .starts_with("118973149535723176502126385303097020516906332229462420044032"));
        // Subnormal: accepted (non-zero), formats as 0.
        assert!(!p("1e-4940").is_zero());
        assert_eq!(p("1e-4940").to_human(), "0");
        // 5119 bytes are read, 5120 are not.
        let long = format!("1.{}", "0".repeat(5117));
        assert_eq!(p(&long).to_human(), "1");
        let too_long = format!("1.{}", "0".repeat(5118));
        assert_eq!(parse(too_long.as_bytes()), None);
    }

    #[test]
    fn rounding_is_exact() {
        // 2^64 + 1 is not representable: ties go to even.
        assert_eq!(p("18446744073709551617").to_human(), "18446744073709551616");
        assert_eq!(p("18446744073709551619").to_human(), "18446744073709551620");
        assert_eq!(p("18446744073709551618").to_human(), "18446744073709551618");
        // Near the top of the range: the largest finite long double parses,
        // twice it overflows.
        let max = p("1.18973149535723176502e4932");
        assert!(max.add(max).is_none());
        assert!(max.add(p("-1e4932")).is_some());
        // Cancellation.
        assert_eq!(sum("1.0000000000000000001", "-1"), "0");
        assert_eq!(sum("100", "-99.99999999999999999"), "0.00000000000000001");
    }
}
