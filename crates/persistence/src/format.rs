//! The bytes of the log: RESP multibulk records and keel's `#K1` batch annotations
//! (docs/PERSISTENCE.md, "Records" and "Batch annotations").
//!
//! A batch is everything the writer buffered since its last write. After the batch's
//! bytes comes one annotation line:
//!
//! ```text
//! #K1 seq=<n> ts=<unix ms> len=<bytes> crc=<8 lower-case hex digits>\r\n
//! ```
//!
//! where `len` and `crc` (CRC-32, IEEE polynomial) cover exactly the bytes from the
//! end of the previous annotation line (or the start of the file) to the first byte of
//! this line.

/// Prefix of keel's batch annotation lines.
pub const K1_PREFIX: &[u8] = b"#K1";

/// Longest annotation line the loader accepts (keel's own lines are under 100 bytes).
pub const MAX_ANNOTATION_LINE: usize = 64 * 1024;

fn put_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends one command as a RESP multibulk: `*<n>\r\n` then `$<len>\r\n<arg>\r\n` for
/// each argument, exactly as Redis writes its AOF.
pub fn encode_command(out: &mut Vec<u8>, argv: &[impl AsRef<[u8]>]) {
    let body: usize = argv.iter().map(|a| a.as_ref().len() + 16).sum();
    out.reserve(body + 16);
    out.push(b'*');
    put_u64(out, argv.len() as u64);
    out.extend_from_slice(b"\r\n");
    for a in argv {
        let a = a.as_ref();
        out.push(b'$');
        put_u64(out, a.len() as u64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `SELECT <db>`.
pub fn encode_select(out: &mut Vec<u8>, db: usize) {
    let mut n = Vec::with_capacity(4);
    put_u64(&mut n, db as u64);
    encode_command(out, &[&b"SELECT"[..], &n[..]]);
}

/// CRC-32 (IEEE, as zlib's `crc32`) of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// One `#K1` batch annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Batch number; increases by one for every batch the writer writes.
    pub seq: u64,
    /// Wall-clock time of the write, in Unix milliseconds.
    pub ts_ms: u64,
    /// Length of the batch in bytes.
    pub len: u64,
    /// CRC-32 (IEEE) of the batch.
    pub crc: u32,
}

impl Annotation {
    /// The annotation describing `batch`.
    pub fn for_batch(seq: u64, ts_ms: u64, batch: &[u8]) -> Annotation {
        Annotation {
            seq,
            ts_ms,
            len: batch.len() as u64,
            crc: crc32(batch),
        }
    }

    /// Appends the annotation line, `\r\n` included:
    /// `#K1 seq=<n> ts=<ms> len=<bytes> crc=<%08x>\r\n`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"#K1 seq=");
        put_u64(out, self.seq);
        out.extend_from_slice(b" ts=");
        put_u64(out, self.ts_ms);
        out.extend_from_slice(b" len=");
        put_u64(out, self.len);
        out.extend_from_slice(b" crc=");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for shift in (0..8).rev() {
            out.push(HEX[((self.crc >> (shift * 4)) & 0xf) as usize]);
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Parses one annotation line, with or without its trailing `\r\n` (or `\n`).
    /// Returns `None` for anything that is not a well-formed `#K1` line, including
    /// other annotations such as Redis's `#TS:<unix seconds>`.
    pub fn parse(line: &[u8]) -> Option<Annotation> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let rest = line.strip_prefix(b"#K1 seq=")?;
        let (seq, rest) = take_decimal(rest)?;
        let rest = rest.strip_prefix(b" ts=")?;
        let (ts_ms, rest) = take_decimal(rest)?;
        let rest = rest.strip_prefix(b" len=")?;
        let (len, rest) = take_decimal(rest)?;
        let hex = rest.strip_prefix(b" crc=")?;
        if hex.len() != 8 {
            return None;
        }
        let mut crc: u32 = 0;
        for &c in hex {
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            crc = (crc << 4) | v as u32;
        }
        Some(Annotation {
            seq,
            ts_ms,
            len,
            crc,
        })
    }

    /// True when `line` claims to be a `#K1` annotation (whether or not it parses).
    pub fn is_k1(line: &[u8]) -> bool {
        line.starts_with(K1_PREFIX)
            && matches!(line.get(K1_PREFIX.len()), None | Some(b' ' | b'\r' | b'\n'))
    }
}

/// Splits a leading run of decimal digits (1 to 20 of them, fitting a u64).
fn take_decimal(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[..n] {
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some((v, &s[n..]))
}

/// Appends `batch` followed by its annotation to `out`, and returns the annotation.
pub fn append_batch(out: &mut Vec<u8>, batch: &[u8], seq: u64, ts_ms: u64) -> Annotation {
    let ann = Annotation::for_batch(seq, ts_ms, batch);
    out.reserve(batch.len() + 64);
    out.extend_from_slice(batch);
    ann.encode(out);
    ann
}

/// Closes a batch that was encoded in place: annotates `buf[batch_start..]` and
/// appends the annotation line to `buf`. For a writer that encodes commands straight
/// into its output buffer.
///
/// # Panics
/// Never; a `batch_start` past the end of `buf` annotates an empty batch.
pub fn seal_batch(buf: &mut Vec<u8>, batch_start: usize, seq: u64, ts_ms: u64) -> Annotation {
    let start = batch_start.min(buf.len());
    let ann = Annotation::for_batch(seq, ts_ms, &buf[start..]);
    ann.encode(buf);
    ann
}

/// The bytes at the end of a file after its last `#K1` line (an unverified tail, or
/// a whole file Redis wrote). Whoever appends to that file must make its first
/// batch cover them: that batch's `len` and `crc` run from the end of the last
/// annotation line, not from where the appending started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tail {
    pub bytes: u64,
    /// CRC-32 of those bytes.
    pub crc: u32,
}

/// Builds annotated batches: commands are encoded into the current batch, and
/// [`BatchWriter::seal`] closes it with its `#K1` line and a fresh sequence number.
#[derive(Debug, Default)]
pub struct BatchWriter {
    buf: Vec<u8>,
    batch_start: usize,
    next_seq: u64,
    /// Bytes already in the file that the first batch must also cover.
    carry: Option<Tail>,
}

impl BatchWriter {
    /// A writer whose next batch gets sequence number `next_seq`.
    pub fn new(next_seq: u64) -> BatchWriter {
        BatchWriter {
            buf: Vec::new(),
            batch_start: 0,
            next_seq,
            carry: None,
        }
    }

    /// A writer that appends to a file ending with `tail` (see
    /// `LoadReport::tail`): its first batch's annotation covers those bytes too.
    pub fn continuing(next_seq: u64, tail: Tail) -> BatchWriter {
        BatchWriter {
            carry: (tail.bytes > 0).then_some(tail),
            ..BatchWriter::new(next_seq)
        }
    }

    /// Appends a command to the open batch.
    pub fn command(&mut self, argv: &[impl AsRef<[u8]>]) {
        encode_command(&mut self.buf, argv);
    }

    /// Appends already-encoded bytes to the open batch.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// True when the open batch has no bytes.
    pub fn batch_is_empty(&self) -> bool {
        self.buf.len() == self.batch_start
    }

    /// Closes the open batch with its annotation (nothing happens for an empty batch).
    pub fn seal(&mut self, ts_ms: u64) -> Option<Annotation> {
        if self.batch_is_empty() {
            return None;
        }
        let ann = match self.carry.take() {
            Some(tail) => {
                let batch = &self.buf[self.batch_start..];
                let mut h = crc32fast::Hasher::new_with_initial_len(tail.crc, tail.bytes);
                h.update(batch);
                let ann = Annotation {
                    seq: self.next_seq,
                    ts_ms,
                    len: tail.bytes + batch.len() as u64,
                    crc: h.finalize(),
                };
                ann.encode(&mut self.buf);
                ann
            }
            None => seal_batch(&mut self.buf, self.batch_start, self.next_seq, ts_ms),
        };
        self.next_seq += 1;
        self.batch_start = self.buf.len();
        Some(ann)
    }

    /// Sequence number the next sealed batch gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Everything written so far (sealed batches and the open one).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the sealed batches out, keeping the open batch.
    pub fn take_sealed(&mut self) -> Vec<u8> {
        let open = self.buf.split_off(self.batch_start);
        self.batch_start = 0;
        std::mem::replace(&mut self.buf, open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_encoding() {
        let mut out = Vec::new();
        encode_command(&mut out, &["SET", "k", ""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
        out.clear();
        encode_select(&mut out, 12);
        assert_eq!(out, b"*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n");
    }

    #[test]
    fn annotation_round_trip() {
        let a = Annotation {
            seq: 7,
            ts_ms: 1_700_000_000_123,
            len: 42,
            crc: 0x00ab_cdef,
        };
        let mut out = Vec::new();
        a.encode(&mut out);
        assert_eq!(
            out,
            b"#K1 seq=7 ts=1700000000123 len=42 crc=00abcdef\r\n".to_vec()
        );
        assert_eq!(Annotation::parse(&out), Some(a));
        assert_eq!(Annotation::parse(&out[..out.len() - 2]), Some(a));
        assert!(Annotation::is_k1(&out));
    }

    #[test]
    fn other_annotations() {
        assert_eq!(Annotation::parse(b"#TS:1700000000\r\n"), None);
        assert!(!Annotation::is_k1(b"#TS:1700000000\r\n"));
        assert!(!Annotation::is_k1(b"#K12 x\r\n"));
        assert!(Annotation::is_k1(b"#K1 garbage\r\n"));
        assert_eq!(
            Annotation::parse(b"#K1 seq=1 ts=2 len=3 crc=0000000\r\n"),
            None
        );
        assert_eq!(
            Annotation::parse(b"#K1 seq=1 ts=2 len=3 crc=0000000g"),
            None
        );
        assert_eq!(
            Annotation::parse(b"#K1 seq=1 ts=2 len=3 crc=00000000 x"),
            None
        );
        assert_eq!(
            Annotation::parse(b"#K1 seq=99999999999999999999 ts=2 len=3 crc=00000000"),
            None
        );
    }

    #[test]
    fn crc_is_ieee() {
        // The standard check value of CRC-32/ISO-HDLC (zlib's crc32).
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn batches() {
        let mut w = BatchWriter::new(5);
        assert_eq!(w.seal(1), None);
        w.command(&["SET", "a", "1"]);
        let a = w.seal(10).unwrap();
        assert_eq!(a.seq, 5);
        w.command(&["DEL", "a"]);
        let sealed = w.take_sealed();
        let mut expect = Vec::new();
        let mut batch = Vec::new();
        encode_command(&mut batch, &["SET", "a", "1"]);
        append_batch(&mut expect, &batch, 5, 10);
        assert_eq!(sealed, expect);
        let b = w.seal(11).unwrap();
        assert_eq!(b.seq, 6);
        assert_eq!(w.next_seq(), 7);
    }

    #[test]
    fn continuing_covers_the_tail() {
        let tail_bytes = b"*1\r\n$4\r\nPING\r\n";
        let tail = Tail {
            bytes: tail_bytes.len() as u64,
            crc: crc32(tail_bytes),
        };
        let mut w = BatchWriter::continuing(3, tail);
        w.command(&["SET", "a", "1"]);
        let a = w.seal(1).unwrap();
        let mut whole = tail_bytes.to_vec();
        encode_command(&mut whole, &["SET", "a", "1"]);
        assert_eq!(a, Annotation::for_batch(3, 1, &whole));
        w.command(&["SET", "b", "1"]);
        let b = w.seal(2).unwrap();
        let mut second = Vec::new();
        encode_command(&mut second, &["SET", "b", "1"]);
        assert_eq!(b, Annotation::for_batch(4, 2, &second));
    }
}
