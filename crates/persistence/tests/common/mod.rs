//! Helpers shared by the persistence integration tests.
#![allow(dead_code)]

use bytes::Bytes;
use keel_persistence::format::{encode_command, encode_select, Annotation};
use keel_persistence::manifest::{incr_name, manifest_name, FileEntry, FileKind, Manifest};
use keel_persistence::Apply;
use std::fs;
use std::path::{Path, PathBuf};

pub const APPENDFILENAME: &str = "appendonly.aof";

/// An Apply that records every command with its database; commands whose name is
/// in `fail` return an error.
#[derive(Default)]
pub struct Recorder {
    pub applied: Vec<(usize, Vec<Vec<u8>>)>,
    pub fail: Vec<&'static str>,
}

impl Apply for Recorder {
    fn apply(&mut self, db: usize, argv: &[Bytes]) -> Result<(), String> {
        if let Some(f) = self
            .fail
            .iter()
            .find(|f| f.as_bytes().eq_ignore_ascii_case(&argv[0]))
        {
            return Err(format!("ERR {f} refused by the test"));
        }
        self.applied
            .push((db, argv.iter().map(|a| a.to_vec()).collect()));
        Ok(())
    }
}

/// A batch of the built file.
#[derive(Clone, Debug)]
pub struct Batch {
    pub start: u64,
    /// Offset of its annotation line.
    pub ann: u64,
    /// End of its annotation line.
    pub end: u64,
    /// Indices into `Built::cmds`.
    pub cmds: std::ops::Range<usize>,
}

/// Builds a file in keel's format while recording what a loader must see.
#[derive(Default)]
pub struct Builder {
    pub bytes: Vec<u8>,
    pub db: usize,
    /// Commands a loader applies, in order, with their database.
    pub cmds: Vec<(usize, Vec<Vec<u8>>)>,
    /// Offsets where the file may end cleanly (between items, no MULTI open),
    /// with the number of commands complete there.
    pub boundaries: Vec<(u64, usize)>,
    pub batches: Vec<Batch>,
    batch_start: usize,
    batch_cmd_start: usize,
    pub seq: u64,
}

fn argv_of(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

impl Builder {
    pub fn new() -> Builder {
        let mut b = Builder {
            seq: 1,
            ..Default::default()
        };
        b.boundaries.push((0, 0));
        b
    }

    fn boundary(&mut self) {
        self.boundaries
            .push((self.bytes.len() as u64, self.cmds.len()));
    }

    pub fn select(&mut self, db: usize) -> &mut Self {
        encode_select(&mut self.bytes, db);
        self.db = db;
        self.boundary();
        self
    }

    pub fn cmd(&mut self, words: &[&str]) -> &mut Self {
        encode_command(&mut self.bytes, words);
        self.cmds.push((self.db, argv_of(words)));
        self.boundary();
        self
    }

    pub fn multi(&mut self, cmds: &[&[&str]]) -> &mut Self {
        encode_command(&mut self.bytes, &["MULTI"]);
        for c in cmds {
            encode_command(&mut self.bytes, c);
        }
        encode_command(&mut self.bytes, &["EXEC"]);
        for c in cmds {
            self.cmds.push((self.db, argv_of(c)));
        }
        self.boundary();
        self
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self.boundary();
        self
    }

    /// Closes the batch with its #K1 annotation.
    pub fn seal(&mut self) -> &mut Self {
        let ann = Annotation::for_batch(
            self.seq,
            1_700_000_000_000 + self.seq,
            &self.bytes[self.batch_start..],
        );
        self.seq += 1;
        let at = self.bytes.len() as u64;
        ann.encode(&mut self.bytes);
        self.batches.push(Batch {
            start: self.batch_start as u64,
            ann: at,
            end: self.bytes.len() as u64,
            cmds: self.batch_cmd_start..self.cmds.len(),
        });
        self.batch_start = self.bytes.len();
        self.batch_cmd_start = self.cmds.len();
        self.boundary();
        self
    }

    /// The last boundary at or before `cut`, and the commands complete there.
    pub fn valid_at(&self, cut: u64) -> (u64, usize) {
        *self
            .boundaries
            .iter()
            .rev()
            .find(|(o, _)| *o <= cut)
            .unwrap()
    }
}

/// A standard file: several annotated batches over two databases, each starting
/// with SELECT, with a MULTI block, an empty value and a binary one.
pub fn sample() -> Builder {
    let mut b = Builder::new();
    b.select(0)
        .cmd(&["SET", "a", "1"])
        .cmd(&["SET", "b", ""])
        .seal();
    b.select(0)
        .multi(&[&["INCR", "n"], &["SET", "l", "x"]])
        .seal();
    b.select(3).cmd(&["SET", "c", "\r\n\u{0}bin"]).seal();
    b.select(3)
        .cmd(&["DEL", "a"])
        .cmd(&["PEXPIREAT", "c", "99999999999999"])
        .seal();
    b
}

/// Writes `files` (contents of incr files 1..n) and a manifest into `dir`.
pub fn write_log(dir: &Path, files: &[&[u8]]) -> Vec<PathBuf> {
    let mut m = Manifest::default();
    let mut paths = Vec::new();
    for (i, bytes) in files.iter().enumerate() {
        let name = incr_name(APPENDFILENAME, i as u64 + 1);
        let p = dir.join(&name);
        fs::write(&p, bytes).unwrap();
        m.incrs.push(FileEntry {
            name,
            seq: i as u64 + 1,
            kind: FileKind::Incr,
        });
        paths.push(p);
    }
    // Plain write (no fsync) keeps the many-file tests fast; write_atomic has its own test.
    fs::write(dir.join(manifest_name(APPENDFILENAME)), m.to_text()).unwrap();
    paths
}

/// Files in `dir` whose names start with `prefix`.
pub fn files_starting(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// A small deterministic random generator for corruption tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A temporary directory on tmpfs when there is one (the loader fsyncs what it
/// writes; tests that load hundreds of files would otherwise wait on the disk).
pub fn fast_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}
