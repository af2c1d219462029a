//! Zipmap (zipmap.c), the packed hash of Redis before 2.6, which RDB files and
//! DUMP payloads may still carry (RDB_TYPE_HASH_ZIPMAP). Layout: a count byte
//! (254 = "count it"), then per pair a field length, the field, a value length,
//! a byte of trailing free space, the value and that free space; 0xFF ends it.
//! A length is one byte below 254, else 0xFE (or 0xFF) and a u32 LE.

use super::{Error, Result};

/// The (field, value) pairs of a zipmap blob, checked as Redis's deep integrity
/// check does (bounds, at least one pair, the count byte, the terminator).
pub fn parse(zm: &[u8]) -> Result<Vec<(&[u8], &[u8])>> {
    const BAD: Error = Error("invalid zipmap");
    if zm.len() < 2 || zm[zm.len() - 1] != 0xFF {
        return Err(BAD);
    }
    let end = zm.len() - 1;
    let len_at = |p: usize| -> Option<(usize, usize)> {
        let b = *zm.get(p)?;
        if b < 254 {
            Some((b as usize, 1))
        } else {
            let d = zm.get(p + 1..p + 5)?;
            Some((u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize, 5))
        }
    };
    let mut out = Vec::new();
    let mut p = 1;
    while p < end && zm[p] != 0xFF {
        let (flen, s) = len_at(p).ok_or(BAD)?;
        p += s;
        let field = zm.get(p..p.checked_add(flen).ok_or(BAD)?).ok_or(BAD)?;
        p += flen;
        if p > end {
            return Err(BAD);
        }
        let (vlen, s) = len_at(p).ok_or(BAD)?;
        p += s;
        let free = *zm.get(p).ok_or(BAD)? as usize;
        p += 1;
        let value = zm.get(p..p.checked_add(vlen).ok_or(BAD)?).ok_or(BAD)?;
        p += vlen + free;
        if p > end {
            return Err(BAD);
        }
        out.push((field, value));
    }
    if p != end || out.is_empty() || (zm[0] != 254 && zm[0] as usize != out.len()) {
        return Err(BAD);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_corruption() {
        // {"foo": "bar", "hello": "world"} with one byte of free space after "bar".
        let zm = b"\x02\x03foo\x03\x01barX\x05hello\x05\x00world\xff";
        assert_eq!(
            parse(zm).unwrap(),
            vec![(&b"foo"[..], &b"bar"[..]), (&b"hello"[..], &b"world"[..])]
        );
        for cut in 0..zm.len() {
            assert!(parse(&zm[..cut]).is_err());
        }
        assert!(parse(b"\x00\xff").is_err());
        assert!(parse(b"\x05\x03foo\x03\x00bar\xff").is_err());
        assert!(parse(b"\xfe\x03foo\xfe\xff\xff\xff\xff\x00bar\xff").is_err());
    }
}
