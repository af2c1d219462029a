//! C's `strtod` as glibc implements it, for the places where Redis parses
//! numbers with it and accepts what it accepts: sorted-set scores stored as
//! strings in listpacks and ziplists (`zzlStrtod`), the old RDB text scores
//! (`%lg`), and SORT's weights (which also reject `ERANGE` and trailing bytes).
//!
//! Accepted: leading white space, a sign, decimal digits with an optional point
//! and exponent, `0x` hexadecimal floats with an optional `p` exponent, `inf`,
//! `infinity`, `nan` and `nan(chars)`, all case-insensitive. The longest prefix
//! that forms a number is used.

/// The result of parsing a prefix of a byte string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parsed {
    pub value: f64,
    /// Bytes consumed; 0 when no number was found (the value is then 0).
    pub len: usize,
    /// glibc sets `errno = ERANGE`: the value overflowed to infinity or
    /// underflowed to zero or a subnormal.
    pub range_error: bool,
}

/// Parses the longest number at the start of `s` (see the module doc).
pub fn strtod(s: &[u8]) -> Parsed {
    let none = Parsed {
        value: 0.0,
        len: 0,
        range_error: false,
    };
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") || starts(b"inf") {
        let n = if starts(b"infinity") { 8 } else { 3 };
        return Parsed {
            value: sign(f64::INFINITY),
            len: i + n,
            range_error: false,
        };
    }
    if starts(b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            if let Some(close) = rest[4..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
            {
                if rest[4 + close] == b')' {
                    n = 4 + close + 1;
                }
            }
        }
        return Parsed {
            value: f64::NAN,
            len: i + n,
            range_error: false,
        };
    }
    if (starts(b"0x"))
        && rest
            .get(2)
            .is_some_and(|c| c.is_ascii_hexdigit() || *c == b'.')
    {
        if let Some((v, n)) = hex(&rest[2..]) {
            let range_error =
                v == 0.0 && n.1 || v.is_infinite() || (v != 0.0 && v.abs() < f64::MIN_POSITIVE);
            return Parsed {
                value: sign(v),
                len: i + 2 + n.0,
                range_error,
            };
        }
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one digit.
    let mut j = 0;
    let digits = |from: usize| {
        rest[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_digits = digits(0);
    j += int_digits;
    let mut frac_digits = 0;
    if rest.get(j) == Some(&b'.') {
        frac_digits = digits(j + 1);
        if int_digits + frac_digits > 0 {
            j += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return none;
    }
    if matches!(rest.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(rest.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let e = digits(k);
        if e > 0 {
            j = k + e;
        }
    }
    let text = std::str::from_utf8(&rest[..j]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    let nonzero_digits = rest[..j]
        .iter()
        .take_while(|c| !matches!(c, b'e' | b'E'))
        .any(|c| (b'1'..=b'9').contains(c));
    let range_error = v.is_infinite() || (nonzero_digits && v.abs() < f64::MIN_POSITIVE);
    Parsed {
        value: sign(v),
        len: i + j,
        range_error,
    }
}

/// A hexadecimal float after the `0x`: the value and (bytes used, whether any
/// non-zero digit was seen). `None` without a single hex digit.
fn hex(s: &[u8]) -> Option<(f64, (usize, bool))> {
    let mut mant: u128 = 0;
    let mut exp: i64 = 0;
    let mut any = false;
    let mut nonzero = false;
    let mut sticky = false;
    let mut i = 0;
    let mut seen_point = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        any = true;
        nonzero |= d != 0;
        if mant >> 120 == 0 {
            mant = (mant << 4) | d as u128;
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut k = i + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let n = s[k..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 0 {
            let e = s[k..k + n]
                .iter()
                .fold(0i64, |a, &c| (a * 10 + (c - b'0') as i64).min(1 << 20));
            exp += if neg { -e } else { e };
            i = k + n;
        }
    }
    if sticky {
        mant |= 1;
    }
    let mut v = mant as f64;
    // Scale in steps so intermediate powers stay finite.
    let mut e = exp.clamp(-3000, 3000) as i32;
    while e != 0 {
        let step = e.clamp(-1000, 1000);
        v *= 2f64.powi(step);
        e -= step;
    }
    Some((v, (i, nonzero)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> Option<f64> {
        let p = strtod(s.as_bytes());
        (p.len == s.len() && !p.range_error).then_some(p.value)
    }

    #[test]
    fn as_glibc() {
        // Each of these was checked with Redis 7.0.15's SORT ... BY (which
        // rejects a partial parse, NaN and ERANGE).
        assert_eq!(full("2.2250738585072014e-308"), Some(f64::MIN_POSITIVE));
        assert_eq!(full(" 5"), Some(5.0));
        assert_eq!(full("5 "), None);
        assert_eq!(full("0x10"), Some(16.0));
        assert_eq!(full("0x"), None);
        assert_eq!(strtod(b"0x").len, 1);
        assert_eq!(full("inf"), Some(f64::INFINITY));
        assert_eq!(full("-infinity"), Some(f64::NEG_INFINITY));
        assert!(full("nan").unwrap().is_nan());
        assert_eq!(strtod(b"").len, 0);
        assert_eq!(full("1e"), None);
        assert_eq!(strtod(b"1e+").len, 1);
        assert_eq!(full(".5"), Some(0.5));
        assert_eq!(full("5."), Some(5.0));
        assert_eq!(full("+3"), Some(3.0));
        assert_eq!(full("infx"), None);
        assert_eq!(full("0e-999"), Some(0.0));
        assert_eq!(strtod(b"nan(123)").len, 8);
        assert_eq!(full("  -0x1p3"), Some(-8.0));
        assert_eq!(full("INFINITY"), Some(f64::INFINITY));
        assert!(strtod(b"1e-310").range_error);
        assert!(strtod(b"1e-400").range_error);
        assert!(strtod(b"1e400").range_error);
        assert!(!strtod(b"1e300").range_error);
        assert_eq!(full("-0x1.8p1"), Some(-3.0));
        assert_eq!(full("0x.8"), Some(0.5));
        assert_eq!(full("1.5e3"), Some(1500.0));
        assert_eq!(full("."), None);
        assert_eq!(strtod(b"-").len, 0);
        assert_eq!(full("3.0000000000000000000000000001"), Some(3.0));
    }
}
