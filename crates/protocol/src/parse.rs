//! Request parsing: multibulk (`*N\r\n$len\r\n...`) and inline commands.
//!
//! The parser is incremental: it remembers where in the buffer each argument of a
//! partly arrived multibulk request lies, so a request that arrives in many reads is
//! never scanned twice. Nothing is split off until the request is complete: then the
//! whole request leaves the buffer at once and its arguments are slices of it (a large
//! bulk argument is never copied). Until then the buffer is not shared, so the
//! connection can move the unparsed tail to the front of its allocation and reuse it
//! instead of allocating a new buffer for every read that ends mid-request.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Longest inline request, and longest `*N` / `$N` header line, Redis accepts (64 KiB).
pub const INLINE_MAX: usize = 64 * 1024;

/// Protocol limits, as configured (`proto-max-bulk-len`) or fixed by Redis.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest bulk argument accepted (`proto-max-bulk-len`, 512 MiB by default).
    pub max_bulk_len: u64,
    /// Largest inline request line.
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_inline_len: INLINE_MAX,
        }
    }
}

/// A request the client sent could not be parsed. The connection must reply with
/// `-ERR <Display>` and be closed, as Redis does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    InvalidMultibulkLength,
    TooBigMultibulkCount,
    UnauthenticatedMultibulkLength,
    ExpectedDollar(u8),
    TooBigBulkCount,
    InvalidBulkLength,
    UnauthenticatedBulkLength,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Protocol error: ")?;
        match self {
            ProtocolError::TooBigInline => f.write_str("too big inline request"),
            ProtocolError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ProtocolError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtocolError::TooBigMultibulkCount => f.write_str("too big mbulk count string"),
            ProtocolError::UnauthenticatedMultibulkLength => {
                f.write_str("unauthenticated multibulk length")
            }
            ProtocolError::ExpectedDollar(c) => write!(f, "expected '$', got '{}'", *c as char),
            ProtocolError::TooBigBulkCount => f.write_str("too big bulk count string"),
            ProtocolError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtocolError::UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// State of a multibulk request whose arguments have not all arrived.
#[derive(Debug)]
struct Pending {
    remaining: usize,
    /// Length of the bulk whose `$len` header was read but whose body has not arrived.
    bulk_len: Option<usize>,
    /// Bytes of the buffer this request has consumed so far (its headers and
    /// complete arguments).
    pos: usize,
}

/// Incremental request parser; one per connection.
///
/// Arguments are slices of the connection's read buffer (one `split_to` +
/// `freeze` per request, reference-counted, never copied). With
/// [`RequestParser::parse_into`] the argument vector is reused from one request
/// to the next, so a pipeline of small commands is parsed without a heap
/// allocation per command.
///
/// Between calls the buffer must only grow at its end (reads append to it; a
/// reserve may move it as a whole): the pending request's arguments are
/// remembered as offsets from its start.
#[derive(Debug, Default)]
pub struct RequestParser {
    pending: Option<Pending>,
    /// Offset and length of each argument of the request being read.
    ranges: Vec<(usize, usize)>,
}

/// Parses a decimal the way Redis's `string2ll` does: no sign other than a leading
/// `-`, no leading zeros, no spaces.
fn parse_len(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&c| c == b'\r')
}

/// The common header, `<prefix><digits>\r\n` with 1 to 18 digits and no
/// leading zero, read in one pass: its value and the offset of its `\r`.
/// None for anything else (a sign, a leading zero, a partial header, other
/// bytes), which the general path ([`find_crlf`] then [`parse_len`]) then
/// reads, so both paths accept, refuse and wait for exactly the same input.
#[inline]
fn quick_header(buf: &[u8], prefix: u8) -> Option<(i64, usize)> {
    if buf.first() != Some(&prefix) || buf.get(1) == Some(&b'0') {
        return None;
    }
    let mut v: i64 = 0;
    let mut i = 1;
    while let Some(&c) = buf.get(i) {
        if !c.is_ascii_digit() || i > 18 {
            break;
        }
        v = v * 10 + (c - b'0') as i64;
        i += 1;
    }
    (i > 1 && buf.get(i) == Some(&b'\r') && buf.get(i + 1) == Some(&b'\n')).then_some((v, i))
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// True while a multibulk request is partly read.
    pub fn in_progress(&self) -> bool {
        self.pending.is_some()
    }

    /// Bytes the buffer must hold before the pending bulk argument can be taken,
    /// so the caller can reserve that much at once.
    pub fn wanted(&self) -> Option<usize> {
        self.pending.as_ref().and_then(|p| {
            p.bulk_len
                .map(|n| p.pos.saturating_add(n).saturating_add(2))
        })
    }

    /// Parses the next complete request from `buf`, removing its bytes.
    ///
    /// Returns `Ok(None)` when more bytes are needed. Empty requests (a blank inline
    /// line, `*0`) are skipped. `authenticated` applies Redis's tighter limits to
    /// clients that still have to AUTH.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        authenticated: bool,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let mut out = Vec::new();
        Ok(self
            .parse_into(buf, limits, authenticated, &mut out)?
            .then_some(out))
    }

    /// Like [`RequestParser::parse`], but leaves the request's arguments in `out`
    /// (replacing what it held) and returns whether a request was complete. The
    /// arguments are written into `out`'s own storage, so a caller that passes the
    /// same vector every time allocates none per request.
    pub fn parse_into(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        authenticated: bool,
        out: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        loop {
            if self.pending.is_none() {
                if buf.is_empty() {
                    return Ok(false);
                }
                if buf[0] != b'*' {
                    match parse_inline(buf, limits)? {
                        None => return Ok(false),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => {
                            *out = args;
                            return Ok(true);
                        }
                    }
                }
                let (n, cr) = match quick_header(buf, b'*') {
                    Some((n, cr)) => (Some(n), cr),
                    None => {
                        let Some(cr) = find_crlf(buf) else {
                            if buf.len() > INLINE_MAX {
                                return Err(ProtocolError::TooBigMultibulkCount);
                            }
                            return Ok(false);
                        };
                        if cr + 1 >= buf.len() {
                            return Ok(false); // wait for the '\n'
                        }
                        (parse_len(&buf[1..cr]), cr)
                    }
                };
                let n = match n {
                    Some(n) if n <= i32::MAX as i64 => n,
                    _ => return Err(ProtocolError::InvalidMultibulkLength),
                };
                if n > 10 && !authenticated {
                    return Err(ProtocolError::UnauthenticatedMultibulkLength);
                }
                if n <= 0 {
                    buf.advance(cr + 2);
                    continue;
                }
                self.pending = Some(Pending {
                    remaining: n as usize,
                    bulk_len: None,
                    pos: cr + 2,
                });
                self.ranges.clear();
                // Never trust the declared count for an allocation.
                self.ranges.reserve((n as usize).min(1024));
            }
            let Some(p) = self.pending.as_mut() else {
                continue;
            };
            while p.remaining > 0 {
                let len = match p.bulk_len {
                    Some(len) => len,
                    None => {
                        let rest = buf.get(p.pos..).unwrap_or_default();
                        let (len, cr) = match quick_header(rest, b'$') {
                            Some((len, cr)) => (Some(len), cr),
                            None => {
                                if rest.is_empty() {
                                    return Ok(false);
                                }
                                let Some(cr) = find_crlf(rest) else {
                                    if rest.len() > INLINE_MAX {
                                        return Err(ProtocolError::TooBigBulkCount);
                                    }
                                    return Ok(false);
                                };
                                if cr + 1 >= rest.len() {
                                    return Ok(false);
                                }
                                if rest[0] != b'$' {
                                    return Err(ProtocolError::ExpectedDollar(rest[0]));
                                }
                                (parse_len(&rest[1..cr]), cr)
                            }
                        };
                        let len = match len {
                            Some(n) if n >= 0 && (n as u64) <= limits.max_bulk_len => n as usize,
                            _ => return Err(ProtocolError::InvalidBulkLength),
                        };
                        if len > 16384 && !authenticated {
                            return Err(ProtocolError::UnauthenticatedBulkLength);
                        }
                        p.pos += cr + 2;
                        p.bulk_len = Some(len);
                        len
                    }
                };
                if buf.len().saturating_sub(p.pos) < len + 2 {
                    return Ok(false);
                }
                self.ranges.push((p.pos, len));
                p.pos += len + 2;
                p.bulk_len = None;
                p.remaining -= 1;
            }
            let mut request = buf.split_to(p.pos).freeze();
            self.pending = None;
            out.clear();
            // Each argument is a view of the request's bytes. The last one is
            // the request itself, cut down, rather than one more view plus the
            // request dropped: each view made or dropped is an atomic
            // read-modify-write on the buffer's reference count.
            if let Some((&(last_at, last_len), rest)) = self.ranges.split_last() {
                out.extend(rest.iter().map(|&(at, len)| request.slice(at..at + len)));
                request.truncate(last_at + last_len);
                request.advance(last_at);
                out.push(request);
            }
            return Ok(true);
        }
    }
}

/// Parses one inline request line. `Ok(Some(vec![]))` is an empty line.
fn parse_inline(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some(nl) = buf.iter().position(|&c| c == b'\n') else {
        if buf.len() > limits.max_inline_len {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(None);
    };
    let line = buf.split_to(nl + 1);
    let mut end = nl;
    if end > 0 && line[end - 1] == b'\r' {
        end -= 1;
    }
    let args = split_inline_args(&line[..end]).ok_or(ProtocolError::UnbalancedQuotes)?;
    Ok(Some(args.into_iter().map(Bytes::from).collect()))
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

/// Splits a line into arguments with Redis's `sdssplitargs` rules: whitespace
/// separates, `"..."` understands `\n \r \t \b \a \xHH` escapes, `'...'` only `\'`.
/// Returns `None` for unbalanced quotes or a closing quote not followed by a space.
pub fn split_inline_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    let e = match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    };
                    cur.push(e);
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                }
                if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else {
                if i >= n || is_space(line[i]) {
                    break;
                }
                match line[i] {
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        args.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(args) = p.parse(&mut buf, &Limits::default(), true)? {
            out.push(args);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_inline() {
        let got = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n\r\nSET a \"b c\"\n").unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(got[1], vec![Bytes::from("PING")]);
        assert_eq!(got[2][2], Bytes::from("b c"));
    }

    #[test]
    fn partial_input_byte_by_byte() {
        let input = b"*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$0\r\n\r\n";
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut result = None;
        for (i, &b) in input.iter().enumerate() {
            buf.extend_from_slice(&[b]);
            let r = p.parse(&mut buf, &Limits::default(), true).unwrap();
            if i + 1 < input.len() {
                assert!(r.is_none(), "complete too early at {i}");
            } else {
                result = r;
            }
        }
        let args = result.unwrap();
        assert_eq!(
            args,
            vec![Bytes::from("SET"), Bytes::from("hello"), Bytes::new()]
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn a_partial_request_leaves_the_buffer_unshared() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$2\r\nk");
        let first = p.parse(&mut buf, &Limits::default(), true).unwrap();
        assert_eq!(first.unwrap(), vec![Bytes::from("GET"), Bytes::from("k")]);
        assert!(p
            .parse(&mut buf, &Limits::default(), true)
            .unwrap()
            .is_none());
        // The complete request's arguments are gone, and the pending one holds
        // no slice of the buffer: its allocation can be reused whole.
        assert!(buf.try_reclaim(64 - buf.len()));
        assert_eq!(p.wanted(), Some(buf.len() + 3));
        buf.extend_from_slice(b"2\r\n");
        let second = p.parse(&mut buf, &Limits::default(), true).unwrap();
        assert_eq!(second.unwrap(), vec![Bytes::from("GET"), Bytes::from("k2")]);
        assert!(buf.is_empty());
    }

    #[test]
    fn errors_use_redis_wording() {
        let e = parse_all(b"*1\r\n+foo\r\n").unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: expected '$', got '+'");
        let e = parse_all(b"*abc\r\n").unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: invalid multibulk length");
        let e = parse_all(b"*1\r\n$-5\r\n").unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: invalid bulk length");
        let e = parse_all(b"*1\r\n$600000000\r\n").unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: invalid bulk length");
        let e = parse_all(b"SET a \"b\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Protocol error: unbalanced quotes in request"
        );
        let big = vec![b'a'; INLINE_MAX + 10];
        let e = parse_all(&big).unwrap_err();
        assert_eq!(e, ProtocolError::TooBigInline);
    }

    #[test]
    fn huge_declared_count_does_not_allocate() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        assert!(p
            .parse(&mut buf, &Limits::default(), true)
            .unwrap()
            .is_none());
        assert!(p.in_progress());
        let e = parse_all(b"*2147483648\r\n").unwrap_err();
        assert_eq!(e, ProtocolError::InvalidMultibulkLength);
    }

    #[test]
    fn unauthenticated_limits() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        let e = p.parse(&mut buf, &Limits::default(), false).unwrap_err();
        assert_eq!(e, ProtocolError::UnauthenticatedMultibulkLength);
    }

    #[test]
    fn split_args_escapes() {
        let a = split_inline_args(br#"set "\x41\n" 'it\'s'"#).unwrap();
        assert_eq!(a, vec![b"set".to_vec(), b"A\n".to_vec(), b"it's".to_vec()]);
        assert!(split_inline_args(br#""a"b"#).is_none());
        assert_eq!(split_inline_args(b"   ").unwrap().len(), 0);
    }

    proptest::proptest! {
        /// Any argument vector, encoded as multibulk and fed in arbitrary chunks,
        /// parses back to itself.
        #[test]
        fn roundtrip(args in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..40), 1..8),
                     chunk in 1usize..17) {
            let mut wire = Vec::new();
            wire.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in &args {
                wire.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                wire.extend_from_slice(a);
                wire.extend_from_slice(b"\r\n");
            }
            // Twice, so a request starts mid-chunk; the buffer is reclaimed or
            // reserved between chunks, as the connection does.
            let wire = [wire.clone(), wire].concat();
            let mut p = RequestParser::new();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                if !buf.try_reclaim(piece.len()) {
                    buf.reserve(piece.len());
                }
                buf.extend_from_slice(piece);
                while let Some(r) = p.parse(&mut buf, &Limits::default(), true).unwrap() {
                    got.push(r);
                }
            }
            proptest::prop_assert_eq!(got.len(), 2);
            for req in &got {
                proptest::prop_assert_eq!(req.len(), args.len());
                for (g, a) in req.iter().zip(&args) {
                    proptest::prop_assert_eq!(&g[..], &a[..]);
                }
            }
        }

        /// The one-pass header reader agrees with the general path wherever it
        /// answers: same value, same `\r`, a complete header. Headers from an
        /// alphabet that makes every edge likely (signs, zeros, long runs of
        /// digits, a `\r` without its `\n`).
        #[test]
        fn quick_header_agrees_with_the_general_path(
            data in proptest::collection::vec(proptest::sample::select(
                b"$*0123456789-\r\nx".to_vec()), 0..28),
            prefix in proptest::sample::select(vec![b'$', b'*']),
        ) {
            let mut buf = vec![prefix];
            buf.extend_from_slice(&data);
            if let Some((v, cr)) = quick_header(&buf, prefix) {
                proptest::prop_assert_eq!(find_crlf(&buf), Some(cr));
                proptest::prop_assert!(cr + 1 < buf.len());
                proptest::prop_assert_eq!(parse_len(&buf[1..cr]), Some(v));
            }
            // And it takes the common shapes.
            let n = (data.len() as i64 + 1) * 1_000_003;
            let head = format!("{}{n}\r\n", prefix as char);
            proptest::prop_assert_eq!(quick_header(head.as_bytes(), prefix), Some((n, head.len() - 2)));
        }

        /// Arbitrary bytes never panic the parser.
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut p = RequestParser::new();
            let mut buf = BytesMut::from(&data[..]);
            for _ in 0..300 {
                match p.parse(&mut buf, &Limits::default(), true) {
                    Ok(Some(_)) => continue,
                    _ => break,
                }
            }
        }
    }
}
