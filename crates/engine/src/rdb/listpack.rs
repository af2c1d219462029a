//! Listpack (listpack.c): the packed form Redis 7 saves small hashes, sorted sets
//! and list nodes in.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 = "count it"),
//! the entries, and a 0xFF terminator. An entry is an encoding byte (7-bit uint,
//! 13/16/24/32/64-bit int, or a 6/12/32-bit string length) with its data,
//! followed by its own length written backwards (the "backlen") so the list can
//! be walked from the tail.
//!
//! [`parse`] validates everything Redis's deep integrity check does (sizes,
//! backlens, count, terminator) and never reads outside the blob; [`Builder`]
//! encodes exactly as `lpAppend` does (strings that are canonical integers are
//! stored as integers), so keel's payloads are byte-identical to Redis's.

use super::{Elem, Error, Result};

const HEADER: usize = 6;
const EOF: u8 = 0xFF;

/// The entries of a listpack blob.
pub fn parse(lp: &[u8]) -> Result<Vec<Elem<'_>>> {
    const BAD: Error = Error("invalid listpack");
    if lp.len() < HEADER + 1 {
        return Err(BAD);
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    let count = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    if total != lp.len() || lp[lp.len() - 1] != EOF {
        return Err(BAD);
    }
    let end = lp.len() - 1;
    // Each entry takes at least two bytes: never reserve more than that allows.
    let mut out = Vec::with_capacity(count.min(end / 2));
    let mut p = HEADER;
    while p < end {
        let (elem, size) = entry(&lp[p..end]).ok_or(BAD)?;
        let back = backlen(size);
        let next = p + size + back.len();
        if next > end || lp[p + size..next] != back[..] {
            return Err(BAD);
        }
        out.push(elem);
        p = next;
    }
    if count != 65535 && count != out.len() {
        return Err(BAD);
    }
    Ok(out)
}

/// Decodes the entry at the start of `b`: the element and the size of its
/// encoding plus data (without the backlen). `None` if it does not fit.
fn entry(b: &[u8]) -> Option<(Elem<'_>, usize)> {
    let e = *b.first()?;
    let int = |n: usize| -> Option<u64> {
        let d = b.get(1..1 + n)?;
        Some(d.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    };
    // Sign-extends an n-bit two's complement value.
    let signed = |u: u64, bits: u32| -> i64 { ((u << (64 - bits)) as i64) >> (64 - bits) };
    Some(if e & 0x80 == 0 {
        (Elem::Int((e & 0x7f) as i64), 1)
    } else if e & 0xC0 == 0x80 {
        let len = (e & 0x3f) as usize;
        (Elem::Str(b.get(1..1 + len)?), 1 + len)
    } else if e & 0xE0 == 0xC0 {
        let u = (((e & 0x1f) as u64) << 8) | *b.get(1)? as u64;
        (Elem::Int(signed(u, 13)), 2)
    } else if e & 0xF0 == 0xE0 {
        let len = (((e & 0x0f) as usize) << 8) | *b.get(1)? as usize;
        (Elem::Str(b.get(2..2 + len)?), 2 + len)
    } else {
        match e {
            0xF0 => {
                let len = int(4)? as usize;
                (Elem::Str(b.get(5..5usize.checked_add(len)?)?), 5 + len)
            }
            0xF1 => (Elem::Int(signed(int(2)?, 16)), 3),
            0xF2 => (Elem::Int(signed(int(3)?, 24)), 4),
            0xF3 => (Elem::Int(signed(int(4)?, 32)), 5),
            0xF4 => (Elem::Int(int(8)? as i64), 9),
            _ => return None,
        }
    })
}

/// `lpEncodeBacklen`: an entry's size written so it reads right to left, seven
/// bits per byte, the high bit marking "more bytes to the left".
fn backlen(l: usize) -> Vec<u8> {
    let l = l as u64;
    if l <= 127 {
        vec![l as u8]
    } else if l < 16383 {
        vec![(l >> 7) as u8, ((l & 127) | 128) as u8]
    } else if l < 2097151 {
        vec![
            (l >> 14) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]
    } else if l < 268435455 {
        vec![
            (l >> 21) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]
    } else {
        vec![
            (l >> 28) as u8,
            (((l >> 21) & 127) | 128) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]
    }
}

/// Builds a listpack the way `lpAppend` does.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Bytes the finished listpack will take (Redis's `lpBytes`).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends an element; a canonical integer string is stored as an integer.
    pub fn push(&mut self, s: &[u8]) {
        match crate::util::parse_i64(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let len = s.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf.push(0xE0 | (len >> 8) as u8);
            self.buf.push(len as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.finish_entry(start);
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            self.buf.push(0xC0 | (u >> 8) as u8);
            self.buf.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.finish_entry(start);
    }

    fn finish_entry(&mut self, start: usize) {
        let size = self.buf.len() - start;
        let b = backlen(size);
        self.buf.extend_from_slice(&b);
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_listpack_bytes() {
        // The node of `RPUSH l a b 1 2 300` in Redis 7.0.15's DUMP.
        let want = b"\x14\x00\x00\x00\x05\x00\x81a\x02\x81b\x02\x01\x01\x02\x01\xc1,\x02\xff";
        let mut b = Builder::new();
        for e in ["a", "b", "1", "2", "300"] {
            b.push(e.as_bytes());
        }
        assert_eq!(b.bytes(), want.len());
        assert_eq!(b.finish(), want.to_vec());
        let got = parse(want).unwrap();
        assert_eq!(
            got,
            vec![
                Elem::Str(b"a"),
                Elem::Str(b"b"),
                Elem::Int(1),
                Elem::Int(2),
                Elem::Int(300)
            ]
        );
    }

    #[test]
    fn every_encoding_round_trips() {
        let long = vec![b'z'; 5000];
        let mid = vec![b'y'; 300];
        let ints = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8388607,
            -8388608,
            8388608,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ];
        let mut b = Builder::new();
        for v in ints {
            b.push_int(v);
        }
        b.push(b"");
        b.push(&mid);
        b.push(&long);
        b.push(b"01");
        let lp = b.finish();
        let got = parse(&lp).unwrap();
        let mut want: Vec<Elem> = ints.iter().map(|&v| Elem::Int(v)).collect();
        want.extend([
            Elem::Str(b""),
            Elem::Str(&mid),
            Elem::Str(&long),
            Elem::Str(b"01"),
        ]);
        assert_eq!(got, want);
        // Every truncation and every single-byte change is caught or parses
        // into something without panicking.
        for cut in 0..lp.len() {
            assert!(parse(&lp[..cut]).is_err());
        }
        for i in 0..lp.len().min(400) {
            let mut bad = lp.clone();
            bad[i] ^= 0x41;
            let _ = parse(&bad);
        }
    }
}
