//! Reading RDB objects (rdb.c `rdbLoadObject` and its helpers) into keel values.
//!
//! Values are built through the types' public methods (`push_back`, `insert`)
//! with the configured thresholds, so a loaded value takes the encoding Redis
//! gives it on load (small hashes listpack, small integer sets intset, ...).
//! As in Redis, an empty collection and a duplicate member, field or set
//! element are errors, and so is a NaN score.

use super::{intset, kind, listpack, lzf, strtod, ziplist, zipmap, Elem, Error, Result};
use crate::types::{Hash, List, Set, Thresholds, ZSet};
use crate::value::Value;
use bytes::Bytes;
use std::borrow::Cow;

const TRUNCATED: Error = Error("unexpected end of data");
const EMPTY: Error = Error("empty keys are not allowed");

/// A cursor over RDB bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn byte(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or(TRUNCATED)?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes (an error if fewer are left, before anything is
    /// allocated for them).
    pub fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        if n > self.remaining() as u64 {
            return Err(TRUNCATED);
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    /// `rdbLoadLenByRef`: a length, or (`true`) a special string encoding.
    pub fn length_enc(&mut self) -> Result<(u64, bool)> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3f) as u64, false),
            1 => ((((b & 0x3f) as u64) << 8) | self.byte()? as u64, false),
            3 => ((b & 0x3f) as u64, true),
            _ => match b {
                0x80 => {
                    let d = self.take(4)?;
                    (u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as u64, false)
                }
                0x81 => {
                    let d = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(d);
                    (u64::from_be_bytes(a), false)
                }
                _ => return Err(Error("unknown length encoding")),
            },
        })
    }

    /// `rdbLoadLen(rdb, NULL)`: a length (a special encoding reads as its
    /// 6-bit value, as in Redis).
    pub fn length(&mut self) -> Result<u64> {
        Ok(self.length_enc()?.0)
    }

    /// A collection's element count: refused when even one byte per element
    /// could not follow (so a huge declared count costs nothing).
    fn count(&mut self) -> Result<u64> {
        let n = self.length()?;
        if n > self.remaining() as u64 {
            return Err(TRUNCATED);
        }
        Ok(n)
    }

    /// `rdbGenericLoadStringObject`: a plain, integer-encoded or LZF string.
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        let (len, encoded) = self.length_enc()?;
        if !encoded {
            return Ok(Cow::Borrowed(self.take(len)?));
        }
        let int = |v: i64| Ok(Cow::Owned(crate::util::fmt_i64(v).to_vec()));
        match len {
            0 => int(self.byte()? as i8 as i64),
            1 => {
                let d = self.take(2)?;
                int(i16::from_le_bytes([d[0], d[1]]) as i64)
            }
            2 => {
                let d = self.take(4)?;
                int(i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64)
            }
            3 => {
                let clen = self.length()?;
                let ulen = self.length()?;
                if clen > self.remaining() as u64
                    || ulen > clen.saturating_mul(lzf::MAX_RATIO as u64)
                {
                    return Err(Error("invalid LZF lengths"));
                }
                let data = self.take(clen)?;
                if ulen == 0 {
                    // lzf_decompress "succeeds" with an empty output.
                    return Ok(Cow::Owned(Vec::new()));
                }
                lzf::decompress(data, ulen as usize)
                    .map(Cow::Owned)
                    .ok_or(Error("invalid LZF compressed string"))
            }
            _ => Err(Error("unknown string encoding")),
        }
    }

    fn bytes(&mut self) -> Result<Bytes> {
        Ok(match self.string()? {
            Cow::Borrowed(s) => Bytes::copy_from_slice(s),
            Cow::Owned(v) => Bytes::from(v),
        })
    }

    /// `rdbLoadDoubleValue`: the old text score (a length byte, or 253 NaN,
    /// 254 +inf, 255 -inf).
    pub fn text_double(&mut self) -> Result<f64> {
        let len = self.byte()?;
        Ok(match len {
            255 => f64::NEG_INFINITY,
            254 => f64::INFINITY,
            253 => f64::NAN,
            _ => {
                let text = self.take(len as u64)?;
                let text = text.split(|&c| c == 0).next().unwrap_or(text);
                let p = strtod::strtod(text);
                if p.len == 0 {
                    return Err(Error("invalid double"));
                }
                p.value
            }
        })
    }

    /// `rdbLoadBinaryDoubleValue`: 8 bytes, little endian.
    pub fn binary_double(&mut self) -> Result<f64> {
        let d = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(d);
        Ok(f64::from_le_bytes(a))
    }
}

/// `rdbLoadObject`: the object of type `kind` at the reader's position.
pub fn load_object(r: &mut Reader<'_>, kind: u8, t: &Thresholds) -> Result<Value> {
    match kind {
        kind::STRING => Ok(Value::string(&r.bytes()?)),
        kind::LIST => {
            let n = r.count()?;
            let mut l = List::new();
            for _ in 0..n {
                l.push_back(r.bytes()?);
            }
            list(l)
        }
        kind::LIST_ZIPLIST => {
            let blob = r.string()?;
            let mut l = List::new();
            for e in ziplist::parse(&blob)? {
                l.push_back(e.to_bytes());
            }
            list(l)
        }
        kind::LIST_QUICKLIST | kind::LIST_QUICKLIST_2 => {
            let nodes = r.count()?;
            let mut l = List::new();
            for _ in 0..nodes {
                let container = if kind == kind::LIST_QUICKLIST_2 {
                    r.length()?
                } else {
                    2
                };
                let blob = r.string()?;
                match container {
                    // A plain node: one element as it is.
                    1 => l.push_back(Bytes::copy_from_slice(&blob)),
                    2 => {
                        let elems = if kind == kind::LIST_QUICKLIST_2 {
                            listpack::parse(&blob)?
                        } else {
                            ziplist::parse(&blob)?
                        };
                        // Empty nodes are skipped, as Redis does.
                        for e in elems {
                            l.push_back(e.to_bytes());
                        }
                    }
                    _ => return Err(Error("quicklist integrity check failed")),
                }
            }
            list(l)
        }
        kind::SET => {
            let n = r.count()?;
            let mut s = Set::new();
            for _ in 0..n {
                set_add(&mut s, r.bytes()?, t)?;
            }
            set(s)
        }
        kind::SET_INTSET => {
            let blob = r.string()?;
            let mut s = Set::new();
            for v in intset::parse(&blob)? {
                set_add(&mut s, crate::util::fmt_i64(v), t)?;
            }
            set(s)
        }
        kind::SET_LISTPACK => {
            let blob = r.string()?;
            let mut s = Set::new();
            for e in listpack::parse(&blob)? {
                set_add(&mut s, e.to_bytes(), t)?;
            }
            set(s)
        }
        kind::HASH => {
            let n = r.count()?;
            let mut h = Hash::new();
            for _ in 0..n {
                let f = r.bytes()?;
                let v = r.bytes()?;
                hash_set(&mut h, f, v, t)?;
            }
            hash(h)
        }
        kind::HASH_ZIPLIST | kind::HASH_LISTPACK => {
            let blob = r.string()?;
            let elems = if kind == kind::HASH_LISTPACK {
                listpack::parse(&blob)?
            } else {
                ziplist::parse(&blob)?
            };
            if elems.len() % 2 != 0 {
                return Err(Error("odd number of hash entries"));
            }
            let mut h = Hash::new();
            for p in elems.chunks_exact(2) {
                hash_set(&mut h, p[0].to_bytes(), p[1].to_bytes(), t)?;
            }
            hash(h)
        }
        kind::HASH_ZIPMAP => {
            let blob = r.string()?;
            let mut h = Hash::new();
            for (f, v) in zipmap::parse(&blob)? {
                hash_set(
                    &mut h,
                    Bytes::copy_from_slice(f),
                    Bytes::copy_from_slice(v),
                    t,
                )?;
            }
            hash(h)
        }
        kind::ZSET | kind::ZSET_2 => {
            let n = r.count()?;
            let mut z = ZSet::new();
            for _ in 0..n {
                let m = r.bytes()?;
                let score = if kind == kind::ZSET_2 {
                    r.binary_double()?
                } else {
                    r.text_double()?
                };
                zset_add(&mut z, m, score, t)?;
            }
            zset(z)
        }
        kind::ZSET_ZIPLIST | kind::ZSET_LISTPACK => {
            let blob = r.string()?;
            let elems: Vec<Elem> = if kind == kind::ZSET_LISTPACK {
                listpack::parse(&blob)?
            } else {
                ziplist::parse(&blob)?
            };
            if elems.len() % 2 != 0 {
                return Err(Error("odd number of sorted set entries"));
            }
            let mut z = ZSet::new();
            for p in elems.chunks_exact(2) {
                zset_add(&mut z, p[0].to_bytes(), p[1].score(), t)?;
            }
            zset(z)
        }
        kind::MODULE | kind::MODULE_2 => Err(Error("module values are not supported")),
        kind::STREAM_LISTPACKS | kind::STREAM_LISTPACKS_2 => {
            Err(Error("streams are not supported"))
        }
        _ => Err(Error("unknown object type")),
    }
}

fn list(l: List) -> Result<Value> {
    if l.is_empty() {
        return Err(EMPTY);
    }
    Ok(Value::List(l, crate::value::LRU_UNSET))
}

fn set(s: Set) -> Result<Value> {
    if s.is_empty() {
        return Err(EMPTY);
    }
    Ok(Value::Set(s, crate::value::LRU_UNSET))
}

fn hash(h: Hash) -> Result<Value> {
    if h.is_empty() {
        return Err(EMPTY);
    }
    Ok(Value::Hash(h, crate::value::LRU_UNSET))
}

fn zset(z: ZSet) -> Result<Value> {
    if z.is_empty() {
        return Err(EMPTY);
    }
    Ok(Value::ZSet(z, crate::value::LRU_UNSET))
}

fn set_add(s: &mut Set, m: Bytes, t: &Thresholds) -> Result<()> {
    if s.insert(m, t) {
        Ok(())
    } else {
        Err(Error("duplicate set members"))
    }
}

fn hash_set(h: &mut Hash, f: Bytes, v: Bytes, t: &Thresholds) -> Result<()> {
    if h.insert(f, v, t) {
        Ok(())
    } else {
        Err(Error("duplicate hash fields"))
    }
}

fn zset_add(z: &mut ZSet, m: Bytes, score: f64, t: &Thresholds) -> Result<()> {
    if score.is_nan() {
        return Err(Error("sorted set with a NaN score"));
    }
    if z.insert(m, score, t) {
        Ok(())
    } else {
        Err(Error("duplicate sorted set members"))
    }
}
