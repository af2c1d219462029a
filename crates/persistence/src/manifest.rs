//! Redis 7's multi-part AOF manifest: which files make up the log, in order.
//!
//! One line per file, `file <name> seq <n> type <b|h|i>`, split with Redis's quoting
//! rules (`sdssplitargs`; names that need it are written with `sdscatrepr` quoting).
//! Parsing follows Redis 7.0's `aofLoadManifestFromFile`, except that blank lines are
//! ignored (docs/PERSISTENCE.md) where Redis refuses them.

use keel_protocol::split_inline_args;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// What a manifest line says a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `type b`: the base, a image of the dataset (at most one).
    Base,
    /// `type h`: a file being retired; not loaded.
    History,
    /// `type i`: an incremental file, loaded after the base in `seq` order.
    Incr,
}

impl FileKind {
    /// The manifest's letter for this kind.
    pub fn as_char(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::History => 'h',
            FileKind::Incr => 'i',
        }
    }

    fn from_letter(c: u8) -> Option<FileKind> {
        match c {
            b'b' => Some(FileKind::Base),
            b'h' => Some(FileKind::History),
            b'i' => Some(FileKind::Incr),
            _ => None,
        }
    }
}

/// One line of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// File name, relative to the AOF directory (never a path).
    pub name: String,
    pub seq: u64,
    pub kind: FileKind,
}

/// The parsed manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<FileEntry>,
    pub history: Vec<FileEntry>,
    /// Incremental files, in increasing `seq` order.
    pub incrs: Vec<FileEntry>,
}

/// `<appendfilename>.<seq>.base.aof`
pub fn base_name(appendfilename: &str, seq: u64) -> String {
    format!("{appendfilename}.{seq}.base.aof")
}

/// `<appendfilename>.<seq>.incr.aof`
pub fn incr_name(appendfilename: &str, seq: u64) -> String {
    format!("{appendfilename}.{seq}.incr.aof")
}

/// `<appendfilename>.manifest`
pub fn manifest_name(appendfilename: &str) -> String {
    format!("{appendfilename}.manifest")
}

/// The temporary name a manifest is written under before it is renamed into place.
pub fn temp_manifest_name(manifest_name: &str) -> String {
    format!("temp-{manifest_name}")
}

/// Parse error: the 1-based line number (0 when not about one line) and the text.
fn err(line_no: usize, line: &[u8], what: &str) -> String {
    if line_no == 0 {
        return what.to_string();
    }
    format!(
        "line {line_no} ('{}'): {what}",
        String::from_utf8_lossy(line).trim_end()
    )
}

impl Manifest {
    /// Parses a manifest. Errors name the line and what is wrong with it.
    pub fn parse(text: &[u8]) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        let mut max_incr_seq: u64 = 0;
        for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
            let line_no = i + 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            let line = trim(raw);
            if line.is_empty() {
                continue;
            }
            let Some(args) = split_inline_args(line) else {
                return Err(err(line_no, line, "unbalanced quotes"));
            };
            // Redis wants at least file/seq/type, as key/value pairs.
            if args.len() < 6 || args.len() % 2 != 0 {
                return Err(err(
                    line_no,
                    line,
                    "invalid manifest line: expected key/value pairs 'file <name> seq <n> type <b|h|i>'",
                ));
            }
            let mut name: Option<&[u8]> = None;
            let mut seq: Option<u64> = None;
            let mut kind: Option<FileKind> = None;
            for kv in args.chunks(2) {
                let (k, v) = (&kv[0], &kv[1]);
                if k.eq_ignore_ascii_case(b"file") {
                    name = Some(v);
                } else if k.eq_ignore_ascii_case(b"seq") {
                    let Some(n) = parse_seq(v) else {
                        return Err(err(line_no, line, "seq must be a positive integer"));
                    };
                    seq = Some(n);
                } else if k.eq_ignore_ascii_case(b"type") {
                    let Some(kd) = v.first().copied().and_then(FileKind::from_letter) else {
                        return Err(err(
                            line_no,
                            line,
                            "unknown AOF file type (expected b, h or i)",
                        ));
                    };
                    kind = Some(kd);
                }
                // Other keys are ignored, for forward compatibility (as Redis does).
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(err(
                    line_no,
                    line,
                    "invalid manifest line: file, seq and type are all required",
                ));
            };
            if name.is_empty()
                || name.contains(&b'/')
                || name.contains(&b'\\')
                || name == b"."
                || name == b".."
            {
                return Err(err(line_no, line, "file can't be a path, just a filename"));
            }
            let Ok(name) = String::from_utf8(name.to_vec()) else {
                return Err(err(line_no, line, "file name is not valid UTF-8"));
            };
            let entry = FileEntry { name, seq, kind };
            match kind {
                FileKind::Base => {
                    if m.base.is_some() {
                        return Err(err(line_no, line, "found duplicate base file information"));
                    }
                    m.base = Some(entry);
                }
                FileKind::History => m.history.push(entry),
                FileKind::Incr => {
                    if seq <= max_incr_seq {
                        return Err(err(line_no, line, "found a non-monotonic sequence number"));
                    }
                    max_incr_seq = seq;
                    m.incrs.push(entry);
                }
            }
        }
        Ok(m)
    }

    /// The manifest as Redis writes it: base, then history, then incremental files.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for e in self.base.iter().chain(&self.history).chain(&self.incrs) {
            s.push_str("file ");
            s.push_str(&quote_name(&e.name));
            s.push_str(" seq ");
            s.push_str(&e.seq.to_string());
            s.push_str(" type ");
            s.push(e.kind.as_char());
            s.push('\n');
        }
        s
    }

    /// The files to load, in order: the base (if any), then the incremental files.
    pub fn files_to_load(&self) -> Vec<&FileEntry> {
        self.base.iter().chain(&self.incrs).collect()
    }

    /// Replaces `<dir>/<manifest_name>` atomically: writes `temp-<manifest_name>`,
    /// fsyncs it, renames it over the old manifest and fsyncs the directory.
    pub fn write_atomic(&self, dir: &Path, manifest_name: &str) -> io::Result<()> {
        let tmp = dir.join(temp_manifest_name(manifest_name));
        let dst = dir.join(manifest_name);
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(self.to_text().as_bytes())?;
            f.sync_all()?;
        }
        if let Err(e) = fs::rename(&tmp, &dst) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        sync_dir(dir)
    }
}

/// fsyncs a directory so a rename or a new file in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn trim(s: &[u8]) -> &[u8] {
    let is_ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|c| !is_ws(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !is_ws(c)).map_or(start, |p| p + 1);
    &s[start..end.max(start)]
}

/// A positive decimal sequence number (Redis treats 0 as missing).
fn parse_seq(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for &c in v {
        n = n.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    (n > 0).then_some(n)
}

/// Quotes a file name the way Redis does (`sdsneedsrepr` / `sdscatrepr`) when it
/// contains spaces, quotes, backslashes or non-printable bytes.
pub fn quote_name(name: &str) -> String {
    let b = name.as_bytes();
    let needs = b.is_empty()
        || b.iter()
            .any(|&c| c == b'\\' || c == b'"' || c == b'\'' || !(0x21..=0x7e).contains(&c));
    if !needs {
        return name.to_string();
    }
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, seq: u64, kind: FileKind) -> FileEntry {
        FileEntry {
            name: name.into(),
            seq,
            kind,
        }
    }

    #[test]
    fn names() {
        assert_eq!(base_name("appendonly.aof", 1), "appendonly.aof.1.base.aof");
        assert_eq!(incr_name("appendonly.aof", 2), "appendonly.aof.2.incr.aof");
        assert_eq!(manifest_name("appendonly.aof"), "appendonly.aof.manifest");
    }

    #[test]
    fn parse_redis_manifest() {
        let m = Manifest::parse(
            b"file appendonly.aof.1.base.rdb seq 1 type b\n\
              file appendonly.aof.1.incr.aof seq 1 type h\n\
              file appendonly.aof.2.incr.aof seq 2 type i\n\
              # comment\n\
              \n\
              file appendonly.aof.3.incr.aof seq 3 type i startoffset 10\n",
        )
        .unwrap();
        assert_eq!(
            m.base,
            Some(entry("appendonly.aof.1.base.rdb", 1, FileKind::Base))
        );
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.files_to_load().len(), 3);
    }

    #[test]
    fn round_trip_with_quoting() {
        let m = Manifest {
            base: Some(entry("my file.1.base.aof", 1, FileKind::Base)),
            history: vec![entry("a\"b.aof", 4, FileKind::History)],
            incrs: vec![
                entry("x.1.incr.aof", 1, FileKind::Incr),
                entry("tab\there\u{e9}.aof", 2, FileKind::Incr),
            ],
        };
        let text = m.to_text();
        assert!(text.starts_with("file \"my file.1.base.aof\" seq 1 type b\n"));
        assert!(text.contains("\"a\\\"b.aof\""));
        assert!(text.contains("\"tab\\there\\xc3\\xa9.aof\""));
        assert_eq!(Manifest::parse(text.as_bytes()).unwrap(), m);
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"file a seq 1\n", "line 1"),
            (b"file a seq 1 type\n", "key/value"),
            (b"file a seq 1 type x\n", "unknown AOF file type"),
            (b"file a seq 0 type i\n", "positive"),
            (b"file a seq x type i\n", "positive"),
            (b"name a seq 1 type i\n", "required"),
            (b"file ../a seq 1 type i\n", "path"),
            (b"file \"a seq 1 type i\n", "quotes"),
            (
                b"file a seq 1 type b\nfile b seq 2 type b\n",
                "line 2 ('file b seq 2 type b'): found duplicate base",
            ),
            (
                b"file a seq 2 type i\nfile b seq 2 type i\n",
                "line 2 ('file b seq 2 type i'): found a non-monotonic",
            ),
        ];
        for (text, want) in cases {
            let e = Manifest::parse(text).unwrap_err();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
        }
    }

    #[test]
    fn atomic_write() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            base: Some(entry("a.1.base.aof", 1, FileKind::Base)),
            history: vec![],
            incrs: vec![entry("a.1.incr.aof", 1, FileKind::Incr)],
        };
        m.write_atomic(dir.path(), "a.manifest").unwrap();
        let text = fs::read(dir.path().join("a.manifest")).unwrap();
        assert_eq!(Manifest::parse(&text).unwrap(), m);
        assert!(!dir.path().join("temp-a.manifest").exists());
    }
}
