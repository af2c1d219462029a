//! Replies and their RESP2/RESP3 encoding.
//!
//! A command builds a [`Frame`] once; the connection encodes it for the protocol
//! version the client chose with HELLO. RESP3-only types degrade the way Redis
//! degrades them for RESP2 clients (maps flatten to arrays, doubles become bulk
//! strings, booleans become integers).

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// One reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+OK`-style status line. Must not contain CR or LF.
    Simple(Bytes),
    /// `-ERR ...` line; the text includes its code (`ERR`, `WRONGTYPE`, ...).
    Error(Bytes),
    Integer(i64),
    Bulk(Bytes),
    /// Null bulk string in RESP2 (`$-1`), `_` in RESP3.
    Null,
    /// Null array in RESP2 (`*-1`), `_` in RESP3.
    NullArray,
    Array(Vec<Frame>),
    /// RESP3 map; a flat array of alternating keys and values in RESP2.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 set; an array in RESP2.
    Set(Vec<Frame>),
    /// RESP3 double; a bulk string in RESP2.
    Double(f64),
    /// RESP3 boolean; integer 1 or 0 in RESP2.
    Boolean(bool),
    /// RESP3 verbatim string (`=len\r\ntxt:...`); a bulk string in RESP2.
    Verbatim(Bytes),
    /// RESP3 out-of-band push (pub/sub); an array in RESP2.
    Push(Vec<Frame>),
    /// Bytes already encoded, written as they are (used for cached replies).
    Raw(Bytes),
}

impl Frame {
    pub fn ok() -> Frame {
        Frame::Simple(Bytes::from_static(b"OK"))
    }

    pub fn simple(s: &'static str) -> Frame {
        Frame::Simple(Bytes::from_static(s.as_bytes()))
    }

    /// An error reply; `msg` starts with its code, e.g. `"ERR syntax error"`.
    pub fn error(msg: impl Into<String>) -> Frame {
        Frame::Error(Bytes::from(msg.into()))
    }

    pub fn bulk(b: impl Into<Bytes>) -> Frame {
        Frame::Bulk(b.into())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }

    /// Appends the encoding of this frame for protocol version `resp` (2 or 3).
    pub fn encode(&self, resp: u8, out: &mut BytesMut) {
        match self {
            Frame::Simple(s) => line(out, b'+', s),
            Frame::Error(s) => line(out, b'-', s),
            Frame::Integer(n) => {
                out.put_u8(b':');
                put_int(out, *n);
                out.put_slice(b"\r\n");
            }
            Frame::Bulk(b) => bulk(out, b),
            Frame::Null => {
                if resp >= 3 {
                    out.put_slice(b"_\r\n")
                } else {
                    out.put_slice(b"$-1\r\n")
                }
            }
            Frame::NullArray => {
                if resp >= 3 {
                    out.put_slice(b"_\r\n")
                } else {
                    out.put_slice(b"*-1\r\n")
                }
            }
            Frame::Array(items) => {
                header(out, b'*', items.len());
                for i in items {
                    i.encode(resp, out);
                }
            }
            Frame::Map(pairs) => {
                if resp >= 3 {
                    header(out, b'%', pairs.len());
                } else {
                    header(out, b'*', pairs.len() * 2);
                }
                for (k, v) in pairs {
                    k.encode(resp, out);
                    v.encode(resp, out);
                }
            }
            Frame::Set(items) => {
                header(out, if resp >= 3 { b'~' } else { b'*' }, items.len());
                for i in items {
                    i.encode(resp, out);
                }
            }
            Frame::Push(items) => {
                header(out, if resp >= 3 { b'>' } else { b'*' }, items.len());
                for i in items {
                    i.encode(resp, out);
                }
            }
            Frame::Double(d) => {
                let s = format_double(*d);
                if resp >= 3 {
                    line(out, b',', s.as_bytes());
                } else {
                    bulk(out, s.as_bytes());
                }
            }
            Frame::Boolean(b) => {
                if resp >= 3 {
                    out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    out.put_slice(if *b { b":1\r\n" } else { b":0\r\n" });
                }
            }
            Frame::Verbatim(b) => {
                if resp >= 3 {
                    header(out, b'=', b.len() + 4);
                    out.put_slice(b"txt:");
                    out.put_slice(b);
                    out.put_slice(b"\r\n");
                } else {
                    bulk(out, b);
                }
            }
            Frame::Raw(b) => out.put_slice(b),
        }
    }
}

fn put_int(out: &mut BytesMut, n: i64) {
    let mut buf = itoa::Buffer::new();
    out.put_slice(buf.format(n).as_bytes());
}

/// An array of bulk strings encoded as it is built, for replies of many
/// elements (LRANGE): one buffer for the whole reply, where a
/// `Frame::Array` of `Frame::Bulk`s costs an allocation, a copy and a free
/// per element before the encoder copies each again. An array of bulk strings
/// is the same bytes in RESP2 and RESP3, so the result is a [`Frame::Raw`].
pub struct BulkArray {
    buf: BytesMut,
    n: usize,
}

/// Room kept at the front for the header: `*`, up to 20 digits, CRLF.
const ARRAY_HEAD: usize = 23;

impl BulkArray {
    /// An empty array with room for about `bytes` bytes of elements.
    pub fn with_capacity(bytes: usize) -> BulkArray {
        let mut buf = BytesMut::with_capacity(ARRAY_HEAD + bytes);
        buf.put_bytes(0, ARRAY_HEAD);
        BulkArray { buf, n: 0 }
    }

    pub fn push(&mut self, b: &[u8]) {
        bulk(&mut self.buf, b);
        self.n += 1;
    }

    /// The finished reply: the header is written right before the first
    /// element, and the unused front of the room dropped (no copy).
    pub fn finish(mut self) -> Frame {
        let mut digits = itoa::Buffer::new();
        let d = digits.format(self.n).as_bytes();
        let start = ARRAY_HEAD - d.len() - 3;
        let head = &mut self.buf[start..ARRAY_HEAD];
        head[0] = b'*';
        head[1..=d.len()].copy_from_slice(d);
        head[d.len() + 1..].copy_from_slice(b"\r\n");
        self.buf.advance(start);
        Frame::Raw(self.buf.freeze())
    }
}

fn header(out: &mut BytesMut, kind: u8, len: usize) {
    out.put_u8(kind);
    let mut buf = itoa::Buffer::new();
    out.put_slice(buf.format(len).as_bytes());
    out.put_slice(b"\r\n");
}

fn line(out: &mut BytesMut, kind: u8, s: &[u8]) {
    out.reserve(s.len() + 3);
    out.put_u8(kind);
    // A status or error line must stay one line whatever text went into it.
    for &c in s {
        out.put_u8(if c == b'\r' || c == b'\n' { b' ' } else { c });
    }
    out.put_slice(b"\r\n");
}

fn bulk(out: &mut BytesMut, b: &[u8]) {
    out.reserve(b.len() + 16);
    header(out, b'$', b.len());
    out.put_slice(b);
    out.put_slice(b"\r\n");
}

/// Formats a double as Redis 7.0 replies with it: C's `%.17g`, with `inf`, `-inf`
/// and `nan` spelled out.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Integers below 10^17 print as themselves in %.17g: the common case
    // (integer scores) without float formatting.
    if d.fract() == 0.0 && d.abs() < 1e17 {
        return itoa::Buffer::new().format(d as i64).to_string();
    }
    const P: i32 = 17;
    // Scientific form with P significant digits gives us the digits and the exponent.
    let sci = format!("{:.*e}", (P - 1) as usize, d);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    if !(-4..P).contains(&exp) {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (P - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: &Frame, resp: u8) -> Vec<u8> {
        let mut b = BytesMut::new();
        f.encode(resp, &mut b);
        b.to_vec()
    }

    #[test]
    fn bulk_array_encodes_as_an_array_of_bulks() {
        for n in [0usize, 1, 9, 10, 11, 100, 1234] {
            let items: Vec<Vec<u8>> = (0..n)
                .map(|i| format!("e{i}").repeat(i % 5).into_bytes())
                .collect();
            let mut a = BulkArray::with_capacity(if n % 2 == 0 { 0 } else { n * 8 });
            for i in &items {
                a.push(i);
            }
            let raw = a.finish();
            let want = Frame::Array(items.iter().map(|i| Frame::bulk(i.clone())).collect());
            for resp in [2, 3] {
                assert_eq!(
                    enc(&raw, resp),
                    enc(&want, resp),
                    "{n} elements, RESP{resp}"
                );
            }
        }
    }

    #[test]
    fn resp2_and_resp3() {
        let m = Frame::Map(vec![(Frame::bulk("a"), Frame::Integer(1))]);
        assert_eq!(enc(&m, 2), b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, 3), b"%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Frame::Null, 2), b"$-1\r\n");
        assert_eq!(enc(&Frame::NullArray, 2), b"*-1\r\n");
        assert_eq!(enc(&Frame::Null, 3), b"_\r\n");
        assert_eq!(enc(&Frame::Double(1.5), 3), b",1.5\r\n");
        assert_eq!(enc(&Frame::Double(1.5), 2), b"$3\r\n1.5\r\n");
        assert_eq!(enc(&Frame::Boolean(true), 2), b":1\r\n");
        assert_eq!(enc(&Frame::error("ERR a\r\nb"), 2), b"-ERR a  b\r\n");
    }

    #[test]
    fn percent_17g() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(1e20), "1e+20");
        // The integer fast path agrees with %.17g at its edges.
        assert_eq!(format_double(-7.0), "-7");
        assert_eq!(format_double(99999999999999984.0), "99999999999999984");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(-1e17), "-1e+17");
        assert_eq!(format_double(123456789012345.0), "123456789012345");
        assert_eq!(format_double(1.0e-5), "1.0000000000000001e-05");
        assert_eq!(format_double(-2.5e-3), "-0.0025000000000000001");
        assert_eq!(
            format_double(123456789012345678.0),
            "1.2345678901234568e+17"
        );
        assert_eq!(format_double(f64::INFINITY), "inf");
    }
}
