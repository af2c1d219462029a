//! Low-level parsing and formatting helpers that reproduce the exact rules of
//! Redis 7.0's C helpers (`string2ll`, `memtoull`, `strtoll`, `sdscatrepr`, ...),
//! so that keel accepts and rejects the same spellings Redis does.

/// Redis's `string2ll`: strict decimal, no spaces, no `+`, no leading zeros,
/// no `-0`, fewer than 21 bytes, must fit in an `i64`.
pub(crate) fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some(0u64.wrapping_sub(v) as i64)
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Redis 7.0's `memtoull`: `<digits>[b|k|kb|m|mb|g|gb]`, unit case-insensitive,
/// `k`/`m`/`g` are powers of 1000 and `kb`/`mb`/`gb` powers of 1024. An empty
/// digit string counts as 0, an overlong one saturates, and the multiplication
/// wraps, exactly as the C code does.
pub(crate) fn memtoull(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.first() == Some(&b'-') {
        return None;
    }
    let end = b
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(b.len());
    let unit = &s[end..];
    let mul: u64 = if unit.is_empty() || unit.eq_ignore_ascii_case("b") {
        1
    } else if unit.eq_ignore_ascii_case("k") {
        1000
    } else if unit.eq_ignore_ascii_case("kb") {
        1024
    } else if unit.eq_ignore_ascii_case("m") {
        1000 * 1000
    } else if unit.eq_ignore_ascii_case("mb") {
        1024 * 1024
    } else if unit.eq_ignore_ascii_case("g") {
        1000 * 1000 * 1000
    } else if unit.eq_ignore_ascii_case("gb") {
        1024 * 1024 * 1024
    } else {
        return None;
    };
    if end >= 128 {
        return None;
    }
    let mut val: u64 = 0;
    for &c in &b[..end] {
        val = val
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .unwrap_or(u64::MAX);
        if val == u64::MAX {
            break;
        }
    }
    Some(val.wrapping_mul(mul))
}

fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C's `strtoll(s, &end, base)` followed by the usual `*end == '\0'` check:
/// leading white space and a sign are accepted, an empty string converts to 0,
/// out-of-range values saturate. Returns `(value, fully_consumed, overflowed)`.
pub(crate) fn c_strtoll(s: &[u8], base: u32) -> (i64, bool, bool) {
    let mut i = 0;
    while i < s.len() && c_isspace(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut acc: u128 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match (s[i] as char).to_digit(base) {
            Some(d) => d,
            None => break,
        };
        acc = acc * u128::from(base) + u128::from(d);
        if acc > u128::from(u64::MAX) {
            overflow = true;
            acc = u128::from(u64::MAX);
        }
        i += 1;
    }
    if i == start {
        // No digits: strtoll leaves the end pointer at the very beginning.
        return (0, s.is_empty(), false);
    }
    let value = if neg {
        if acc > (i64::MAX as u128) + 1 {
            overflow = true;
            i64::MIN
        } else {
            0i64.wrapping_sub(acc as i64)
        }
    } else if acc > i64::MAX as u128 {
        overflow = true;
        i64::MAX
    } else {
        acc as i64
    };
    (value, i == s.len(), overflow)
}

/// Redis's `yesnotoi`.
pub(crate) fn yesno(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Redis's `sdscatrepr`: a double-quoted string with C-style escapes that
/// `sdssplitargs` reads back to the same bytes.
pub(crate) fn repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s.as_bytes() {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// Redis's `rewriteConfigFormatMemory`: the largest of gb/mb/kb that divides
/// (all powers of two, hence the masks).
pub(crate) fn format_memory_for_file(bytes: u64) -> String {
    const GB: u64 = 1024 * 1024 * 1024;
    const MB: u64 = 1024 * 1024;
    const KB: u64 = 1024;
    if bytes != 0 && bytes & (GB - 1) == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes & (MB - 1) == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes & (KB - 1) == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// Redis's `string2d`: no surrounding white space, not NaN. Also accepts the
/// hexadecimal integers `strtod` understands (`0x10`).
pub(crate) fn string2d(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.is_empty() || c_isspace(b[0]) || c_isspace(b[b.len() - 1]) || b.len() >= 5 * 1024 {
        return None;
    }
    let v = match s.parse::<f64>() {
        Ok(v) => v,
        Err(_) => {
            let (neg, rest) = match s.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, s.strip_prefix('+').unwrap_or(s)),
            };
            let hex = rest
                .strip_prefix("0x")
                .or_else(|| rest.strip_prefix("0X"))?;
            let v = u64::from_str_radix(hex, 16).ok()? as f64;
            if neg {
                -v
            } else {
                v
            }
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// `printf("%f")` followed by Redis's `trimDoubleString`.
pub(crate) fn format_percentile(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// The text of an I/O error the way `strerror` prints it (without Rust's
/// " (os error N)" suffix).
pub(crate) fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(pos) => s[..pos].to_string(),
        None => s,
    }
}

/// Redis's `sdssplitlen(value, " ")`, used by CONFIG SET for multi-argument
/// options: an empty value is zero arguments, otherwise every single space
/// separates (so two spaces in a row make an empty argument).
pub(crate) fn split_on_spaces(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(' ').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_rules() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+5",
            b" 5",
            b"5 ",
            b"9223372036854775808",
            b"1a",
            b"abc",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn memtoull_rules() {
        assert_eq!(memtoull("10"), Some(10));
        assert_eq!(memtoull("10b"), Some(10));
        assert_eq!(memtoull("10K"), Some(10_000));
        assert_eq!(memtoull("10Kb"), Some(10_240));
        assert_eq!(memtoull("1mB"), Some(1 << 20));
        assert_eq!(memtoull("1g"), Some(1_000_000_000));
        assert_eq!(memtoull("1gb"), Some(1 << 30));
        assert_eq!(memtoull(""), Some(0));
        assert_eq!(memtoull("kb"), Some(0));
        assert_eq!(memtoull("00010"), Some(10));
        assert_eq!(memtoull("18446744073709551616"), Some(u64::MAX));
        assert_eq!(memtoull("17179869184gb"), Some(0));
        for bad in ["-1", "1.5gb", " 10", "10 ", "0x10", "1x", "1tb"] {
            assert_eq!(memtoull(bad), None, "{bad}");
        }
    }

    #[test]
    fn strtoll_rules() {
        assert_eq!(c_strtoll(b"", 10), (0, true, false));
        assert_eq!(c_strtoll(b" +7", 10), (7, true, false));
        assert_eq!(c_strtoll(b"7x", 10), (7, false, false));
        assert_eq!(c_strtoll(b"x", 10), (0, false, false));
        assert_eq!(c_strtoll(b"777", 8), (511, true, false));
        assert!(!c_strtoll(b"8", 8).1);
        assert!(c_strtoll(b"99999999999999999999999", 10).2);
    }

    #[test]
    fn repr_round_trips_through_split() {
        let s = "a b\"c\\d\n\t\u{7}é";
        let line = format!("x {}", repr(s));
        let args = keel_protocol::split_inline_args(line.as_bytes()).unwrap_or_default();
        assert_eq!(args.len(), 2);
        assert_eq!(args[1], s.as_bytes());
    }

    #[test]
    fn small_formatters() {
        assert_eq!(format_memory_for_file(0), "0");
        assert_eq!(format_memory_for_file(64 << 20), "64mb");
        assert_eq!(format_memory_for_file(3 << 30), "3gb");
        assert_eq!(format_memory_for_file(2048), "2kb");
        assert_eq!(format_memory_for_file(1000), "1000");
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(format_percentile(99.99), "99.99");
        assert_eq!(string2d("0x10"), Some(16.0));
        assert_eq!(string2d("nan"), None);
        assert_eq!(string2d(" 1"), None);
        assert_eq!(split_on_spaces(""), Vec::<String>::new());
        assert_eq!(split_on_spaces("a  b"), vec!["a", "", "b"]);
    }
}
