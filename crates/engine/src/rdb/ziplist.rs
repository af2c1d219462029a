//! Ziplist (ziplist.c), the packed form of Redis before 7.0: still found in DUMP
//! payloads and RDB files written by Redis 6 (list quicklist nodes, small hashes
//! and sorted sets), which Redis 7.0 loads by converting them to listpacks.
//!
//! Layout: total bytes (u32 LE), offset of the last entry (u32 LE), entry count
//! (u16 LE, 65535 = "count it"), the entries, 0xFF. An entry is the previous
//! entry's size (1 byte, or 0xFE + u32 LE), an encoding (6/14/32-bit string
//! length, or an int8/16/24/32/64 or a 4-bit immediate 0..12) and the data.
//! [`parse`] checks what Redis's deep integrity check does: every size, the
//! previous-entry sizes, the tail offset, the count and the terminator.

use super::{Elem, Error, Result};

const HEADER: usize = 10;
const END: u8 = 0xFF;

/// The entries of a ziplist blob.
pub fn parse(zl: &[u8]) -> Result<Vec<Elem<'_>>> {
    const BAD: Error = Error("invalid ziplist");
    if zl.len() < HEADER + 1 {
        return Err(BAD);
    }
    let u32le = |i: usize| u32::from_le_bytes([zl[i], zl[i + 1], zl[i + 2], zl[i + 3]]) as usize;
    let total = u32le(0);
    let tail = u32le(4);
    let count = u16::from_le_bytes([zl[8], zl[9]]) as usize;
    let end = zl.len() - 1;
    if total != zl.len() || zl[end] != END || tail > end {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(count.min(end / 2));
    let mut p = HEADER;
    let mut prev_size = 0usize;
    let mut last = None;
    while p < end {
        let b = &zl[p..end];
        let (prevlen, plen) = if b[0] < 254 {
            (b[0] as usize, 1)
        } else if b[0] == 254 {
            let d = b.get(1..5).ok_or(BAD)?;
            (u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize, 5)
        } else {
            return Err(BAD);
        };
        if prevlen != prev_size {
            return Err(BAD);
        }
        let (elem, size) = entry(&b[plen..]).ok_or(BAD)?;
        out.push(elem);
        last = Some(p);
        prev_size = plen + size;
        p += prev_size;
    }
    match last {
        Some(l) if l != tail => return Err(BAD),
        _ => {}
    }
    if count != 65535 && count != out.len() {
        return Err(BAD);
    }
    Ok(out)
}

/// Decodes an entry's encoding and data: the element and their size.
fn entry(b: &[u8]) -> Option<(Elem<'_>, usize)> {
    let e = *b.first()?;
    let le = |n: usize| -> Option<u64> {
        let d = b.get(1..1 + n)?;
        Some(d.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    };
    let signed = |u: u64, bits: u32| -> i64 { ((u << (64 - bits)) as i64) >> (64 - bits) };
    let string = |hdr: usize, len: usize| -> Option<(Elem<'_>, usize)> {
        let end = hdr.checked_add(len)?;
        Some((Elem::Str(b.get(hdr..end)?), end))
    };
    match e >> 6 {
        0 => string(1, (e & 0x3f) as usize),
        1 => string(2, (((e & 0x3f) as usize) << 8) | *b.get(1)? as usize),
        // ziplist.c masks the low bits of a 32-bit length encoding away.
        2 => {
            let d = b.get(1..5)?;
            string(5, u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        }
        _ => Some(match e {
            0xC0 => (Elem::Int(signed(le(2)?, 16)), 3),
            0xD0 => (Elem::Int(signed(le(4)?, 32)), 5),
            0xE0 => (Elem::Int(le(8)? as i64), 9),
            0xF0 => (Elem::Int(signed(le(3)?, 24)), 4),
            0xFE => (Elem::Int(signed(le(1)?, 8)), 2),
            0xF1..=0xFD => (Elem::Int((e & 0x0f) as i64 - 1), 1),
            _ => return None,
        }),
    }
}

/// Builds a ziplist as Redis 6 did, for tests.
#[cfg(test)]
pub fn build_for_tests(elems: &[Elem]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = HEADER;
    for e in elems {
        let start = body.len();
        tail = HEADER + start;
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(254);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match *e {
            Elem::Int(v) if (0..=12).contains(&v) => body.push(0xF1 + v as u8),
            Elem::Int(v) if i8::try_from(v).is_ok() => body.extend([0xFE, v as u8]),
            Elem::Int(v) if i16::try_from(v).is_ok() => {
                body.push(0xC0);
                body.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Elem::Int(v) if (-8388608..8388608).contains(&v) => {
                body.push(0xF0);
                body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Elem::Int(v) if i32::try_from(v).is_ok() => {
                body.push(0xD0);
                body.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Elem::Int(v) => {
                body.push(0xE0);
                body.extend_from_slice(&v.to_le_bytes());
            }
            Elem::Str(s) if s.len() < 64 => {
                body.push(s.len() as u8);
                body.extend_from_slice(s);
            }
            Elem::Str(s) if s.len() < 16384 => {
                body.push(0x40 | (s.len() >> 8) as u8);
                body.push(s.len() as u8);
                body.extend_from_slice(s);
            }
            Elem::Str(s) => {
                body.push(0x80);
                body.extend_from_slice(&(s.len() as u32).to_be_bytes());
                body.extend_from_slice(s);
            }
        }
        prev = body.len() - start;
    }
    let mut zl = Vec::new();
    zl.extend_from_slice(&((HEADER + body.len() + 1) as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(elems.len().min(65535) as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(END);
    zl
}

#[cfg(test)]
mod tests {
    use super::build_for_tests as build;
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let long = vec![b'q'; 20000];
        let elems = vec![
            Elem::Int(0),
            Elem::Int(12),
            Elem::Int(13),
            Elem::Int(-100),
            Elem::Int(1000),
            Elem::Int(-70000),
            Elem::Int(1 << 30),
            Elem::Int(i64::MIN),
            Elem::Str(b""),
            Elem::Str(&long),
            Elem::Str(&long[..300]),
            Elem::Str(b"x"),
        ];
        let zl = build(&elems);
        assert_eq!(parse(&zl).unwrap(), elems);
        for cut in 0..zl.len() {
            assert!(parse(&zl[..cut]).is_err());
        }
        for i in (0..zl.len()).step_by(7) {
            let mut bad = zl.clone();
            bad[i] = bad[i].wrapping_add(1);
            let _ = parse(&bad);
        }
        // An empty ziplist.
        assert_eq!(parse(&build(&[])).unwrap(), vec![]);
    }
}
