//! Streaming replay of the append-only log (docs/PERSISTENCE.md).
//!
//! Files are read in 1 MiB chunks; memory is proportional to the largest command
//! (plus, with [`CorruptPolicy::Salvage`], the commands of one batch), never to the
//! file. Each command is handed to an [`Apply`]; `SELECT`, `MULTI` and `EXEC` are
//! handled here: `SELECT` changes the database passed to [`Apply::apply`], and the
//! commands between `MULTI` and `EXEC` are buffered and applied on `EXEC`.
//!
//! Integrity: `#K1` annotation lines are checked against the bytes of their batch
//! (length and CRC-32); other `#` lines (Redis's `#TS:`) are skipped. Problems:
//!
//! - *Truncated tail*: the last file ends inside a command or inside a `MULTI` block.
//!   With [`LoadOptions::load_truncated`] the complete commands are kept, the rest is
//!   copied to `<file>.truncated-<unix ms>` and the file is truncated; without it the
//!   load fails.
//! - *Corruption* (bad RESP, a batch that fails its annotation, a command that fails,
//!   an incomplete command in a file that is not the last): with
//!   [`CorruptPolicy::Refuse`] the load fails and no file is changed; with
//!   [`CorruptPolicy::Salvage`] the damaged range (up to the next verified batch) is
//!   copied to `<file>.quarantine-<offset>` and skipped, and reported as a [`Gap`].
//!
//! In Refuse mode commands are applied as they are read, so after an error the
//! caller must discard what was applied. In Salvage mode the commands of a batch are
//! applied once the batch is verified (or, for bytes no annotation covers, as they
//! are read), so a damaged batch leaves nothing behind — except for a batch larger
//! than 64 MiB, which is applied in parts (the gap's reason then says so).

use crate::format::{Annotation, Tail, MAX_ANNOTATION_LINE};
use crate::manifest::{manifest_name, sync_dir, Manifest};
use bytes::Bytes;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes read from a file at a time.
pub const CHUNK: usize = 1 << 20;
/// Largest bulk argument accepted (Redis's default `proto-max-bulk-len`).
pub const MAX_BULK_LEN: u64 = 512 * 1024 * 1024;
/// Largest multibulk count accepted.
pub const MAX_MULTIBULK_COUNT: u64 = 1 << 31;
/// Longest `*<n>` / `$<n>` header line (the longest valid one is 13 bytes).
const MAX_HEADER_LINE: usize = 64;
/// In Salvage mode, buffered commands of one batch beyond this are applied early.
const SALVAGE_PENDING_CAP: usize = 64 * 1024 * 1024;
/// In Refuse mode, units parsed and held so that their keys are prefetched
/// together ([`Apply::prefetch`]) before the first of them is applied ...
const HELD_UNITS: usize = 16;
/// ... unless they hold more bytes than this: big values are applied one by
/// one, as they come, so holding never adds to the load's peak memory.
const HELD_BYTES: usize = 64 * 1024;
/// The progress callback runs at least this often (in bytes read).
const PROGRESS_EVERY: u64 = 1 << 20;

/// Receives the commands of the log.
pub trait Apply {
    /// Applies one command in database `db`. An `Err` is a command that failed
    /// (its text is reported).
    fn apply(&mut self, db: usize, argv: &[Bytes]) -> Result<(), String>;

    /// Checks a database index named by `SELECT`. The default accepts any index.
    fn check_db(&mut self, _db: usize) -> Result<(), String> {
        Ok(())
    }

    /// Asked after each applied batch: `Some(reason)` stops the load there (for
    /// example memory past `maxmemory` under `noeviction`). The load fails with
    /// [`LoadErrorKind::Stopped`]; no file is changed.
    fn stop(&mut self) -> Option<String> {
        None
    }

    /// Asked at the end of each file, before anything about its tail is decided
    /// or changed: an applier that applies later (on other threads) finishes
    /// everything handed to it and returns `Some(reason)` if any of it failed,
    /// which stops the load ([`LoadErrorKind::Stopped`]) with no file changed.
    fn barrier(&mut self) -> Option<String> {
        None
    }

    /// A hint that the commands `cmds` (database, arguments) are about to be
    /// applied, in order: an applier may start loading what they will touch
    /// into the CPU's cache. It must change nothing.
    fn prefetch(&mut self, _cmds: &mut dyn Iterator<Item = (usize, &[Bytes])>) {}
}

/// Applies commands to an engine (the caller turns loading mode on, so nothing is
/// re-emitted, and discards the engine if the load fails in Refuse mode).
pub struct EngineApply<'a> {
    engine: &'a keel_engine::Engine,
    now: LoadClock,
}

impl<'a> EngineApply<'a> {
    pub fn new(engine: &'a keel_engine::Engine) -> EngineApply<'a> {
        EngineApply {
            engine,
            now: LoadClock::default(),
        }
    }
}

impl Apply for EngineApply<'_> {
    fn apply(&mut self, db: usize, argv: &[Bytes]) -> Result<(), String> {
        let now = self.now.get(self.engine);
        run_one(self.engine, db, argv, now)
    }

    fn prefetch(&mut self, cmds: &mut dyn Iterator<Item = (usize, &[Bytes])>) {
        prefetch_keys(self.engine, cmds);
    }

    fn check_db(&mut self, db: usize) -> Result<(), String> {
        check_db(self.engine, db)
    }
}

/// The engine's time for the commands of a load, read once every
/// [`LoadClock::EVERY`] commands instead of once per command: a clock read
/// was 6% of a one-thread load of a million SETs. Commands a few hundred
/// places apart differ by well under a millisecond, which is also how far
/// apart they would be in time had the load run a moment earlier or later.
#[derive(Default)]
pub(crate) struct LoadClock {
    ms: u64,
    left: u32,
}

impl LoadClock {
    const EVERY: u32 = 256;

    pub(crate) fn get(&mut self, engine: &keel_engine::Engine) -> u64 {
        if self.left == 0 {
            self.ms = engine.now_ms();
            self.left = Self::EVERY;
        }
        self.left -= 1;
        self.ms
    }
}

/// Runs one command of the log in database `db` at time `now_ms` (see
/// [`LoadClock`]); its error reply is the `Err`.
pub(crate) fn run_one(
    engine: &keel_engine::Engine,
    db: usize,
    argv: &[Bytes],
    now_ms: u64,
) -> Result<(), String> {
    let session = keel_engine::Session {
        db,
        resp: 2,
        now_ms: Some(now_ms),
        ..Default::default()
    };
    match engine.run_argv(&session, argv).0 {
        keel_protocol::Frame::Error(e) => Err(String::from_utf8_lossy(&e).into_owned()),
        _ => Ok(()),
    }
}

/// Starts loading the table line where each command's key will be looked up
/// ([`keel_engine::Engine::prefetch_key`]), taking each command's second
/// argument as its key: true of nearly every command a log holds, and a
/// hint only, so a command whose key is elsewhere only loses its prefetch.
/// Into a keyspace bigger than the cache, each insert otherwise waits for its
/// own miss: a quarter of a one-thread load of a million SETs.
pub(crate) fn prefetch_keys(
    engine: &keel_engine::Engine,
    cmds: &mut dyn Iterator<Item = (usize, &[Bytes])>,
) {
    for (db, argv) in cmds {
        if let Some(key) = argv.get(1) {
            engine.prefetch_key(db, key);
        }
    }
}

/// Whether `SELECT db` names a database `engine` has.
pub(crate) fn check_db(engine: &keel_engine::Engine, db: usize) -> Result<(), String> {
    if db < engine.databases() {
        Ok(())
    } else {
        Err(format!(
            "ERR DB index is out of range (this server has {} databases)",
            engine.databases()
        ))
    }
}

/// What to do about corruption before the tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorruptPolicy {
    /// Fail the load and change no file (`aof-load-corrupt refuse`, the default).
    Refuse,
    /// Load every valid batch, quarantine damaged ranges (`aof-load-corrupt salvage`).
    Salvage,
}

/// Load settings.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// `aof-load-truncated`: keep the complete commands of a truncated last file.
    pub load_truncated: bool,
    pub corrupt: CorruptPolicy,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            load_truncated: true,
            corrupt: CorruptPolicy::Refuse,
        }
    }
}

/// Passed to the progress callback (at least every 1 MiB read, and at the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub loaded_bytes: u64,
    pub total_bytes: u64,
    /// Commands applied so far.
    pub commands: u64,
}

/// A truncated tail that was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    pub file: String,
    /// The file's new length: where the dropped bytes started.
    pub offset: u64,
    pub dropped_bytes: u64,
    /// Where the dropped bytes were copied.
    pub saved_to: String,
}

/// A damaged range skipped in Salvage mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub file: String,
    /// Byte range `[start, end)` of the file that was not loaded.
    pub start: u64,
    pub end: u64,
    /// Where the skipped bytes were copied.
    pub saved_to: String,
    pub reason: String,
}

/// What a load did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Paths of the files loaded, in order.
    pub files: Vec<String>,
    /// Commands applied (SELECT, MULTI and EXEC not counted).
    pub commands: u64,
    /// Bytes read (after a truncation, the new length of the truncated file).
    pub bytes: u64,
    /// `#K1` batches whose length and checksum matched.
    pub batches_verified: u64,
    /// Commands of the last file that no `#K1` annotation covers (all of them for a
    /// file Redis wrote).
    pub unverified_tail_commands: u64,
    pub truncated: Option<Truncation>,
    pub quarantined: Vec<Gap>,
    /// `seq` of the last verified batch (0 when none).
    pub last_seq: u64,
    /// The last file's bytes after its last `#K1` line, for a writer that appends
    /// to it (`BatchWriter::continuing`). `None` when there is no file, or when the
    /// last file had damaged ranges (Salvage): a writer must then start a new file.
    pub tail: Option<Tail>,
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// The manifest does not exist: there is no AOF to load.
    MissingManifest,
    /// The manifest cannot be parsed.
    Manifest,
    /// A file the manifest lists does not exist.
    MissingFile,
    /// Something keel cannot load yet (an RDB base).
    Unsupported,
    /// Reading or writing failed.
    Io,
    /// The last file ends inside a command and `load_truncated` is off.
    Truncated,
    /// Corruption, in Refuse mode.
    Corrupt,
    /// The applier asked to stop (see [`Apply::stop`]); `message` says why.
    Stopped,
}

/// Why a load failed: what was found, where, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    /// Path of the file concerned.
    pub file: String,
    /// Byte offset of the problem.
    pub offset: u64,
    /// Line (1-based, counting `\n`) of `offset`; for manifest errors the
    /// manifest's line.
    pub line: u64,
    /// What was found.
    pub message: String,
    /// The file is valid up to this byte: where `keel-check-aof --fix` truncates.
    pub valid_up_to: u64,
    /// Line of `valid_up_to`.
    pub valid_up_to_line: u64,
    /// Whether the file is the last one of the log (only the last can be truncated).
    pub last_file: bool,
}

impl LoadError {
    fn new(kind: LoadErrorKind, file: &Path, message: impl Into<String>) -> LoadError {
        LoadError {
            kind,
            file: file.display().to_string(),
            offset: 0,
            line: 0,
            message: message.into(),
            valid_up_to: 0,
            valid_up_to_line: 1,
            last_file: false,
        }
    }

    fn io(file: &Path, e: &io::Error) -> LoadError {
        LoadError::new(LoadErrorKind::Io, file, e.to_string())
    }

    /// True when there is no manifest, so nothing to load.
    pub fn missing_manifest(&self) -> bool {
        self.kind == LoadErrorKind::MissingManifest
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = &self.file;
        match self.kind {
            LoadErrorKind::MissingManifest => write!(
                f,
                "The AOF manifest {file} does not exist, so there is no append-only file to load.\n\
                 If the data is elsewhere, point dir / appenddirname / appendfilename at it."
            ),
            LoadErrorKind::Manifest => write!(
                f,
                "The AOF manifest {file} is not valid: {}.\n\
                 Each line must read `file <name> seq <n> type <b|h|i>`. Restore the manifest from a \
                 backup or correct that line, then start again. No file was changed.",
                self.message
            ),
            LoadErrorKind::MissingFile => write!(
                f,
                "{}.\nRestore the file, or, if its writes can be lost, remove its line from the \
                 manifest. No file was changed.",
                self.message
            ),
            LoadErrorKind::Unsupported => write!(f, "{}. No file was changed.", self.message),
            LoadErrorKind::Io => write!(f, "I/O error on the append-only file {file}: {}", self.message),
            LoadErrorKind::Truncated => write!(
                f,
                "The append-only file {file} is truncated: {}\n  \
                 at byte offset {} (line {}); the file is valid up to byte {}.\n\
                 This is what a crash in the middle of a write leaves. keel did not start because \
                 aof-load-truncated is no, and changed no file.\n\
                 To load the complete commands, set aof-load-truncated yes (the incomplete tail is \
                 copied to a side file, then cut off), or run `keel-check-aof --fix {file}` to \
                 truncate it at byte {} (the original is kept as a backup).",
                self.message, self.offset, self.line, self.valid_up_to, self.valid_up_to
            ),
            LoadErrorKind::Stopped => write!(
                f,
                "Loading stopped in {file} at offset {} (line {}): {}\nNo file was changed.",
                self.offset, self.line, self.message
            ),
            LoadErrorKind::Corrupt => {
                write!(
                    f,
                    "The append-only file {file} is damaged: {}\n  \
                     at byte offset {} (line {}); the file is valid up to byte {} (line {}).\n\
                     keel refused to start rather than load part of the data, and changed no file.\n",
                    self.message, self.offset, self.line, self.valid_up_to, self.valid_up_to_line
                )?;
                if self.last_file {
                    write!(
                        f,
                        "To repair: run `keel-check-aof --fix {file}` to truncate it at the last valid \
                         point, byte {} (the original is kept as a backup; what follows is lost), or \
                         set aof-load-corrupt salvage to load around the damage (damaged ranges are \
                         copied to side files and reported).",
                        self.valid_up_to
                    )
                } else {
                    write!(
                        f,
                        "This is not the last file of the log, so it cannot simply be truncated: \
                         restore it from a backup, or set aof-load-corrupt salvage to load around the \
                         damage (damaged ranges are copied to side files and reported). \
                         `keel-check-aof <manifest>` checks every file."
                    )
                }
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// One command as read, in the database it applies to.
struct Cmd {
    db: usize,
    argv: Vec<Bytes>,
    start: u64,
    line: u64,
}

/// Commands that apply together: one command, or a MULTI ... EXEC block.
struct Unit {
    start: u64,
    line: u64,
    end: u64,
    cmds: Vec<Cmd>,
    bytes: usize,
}

struct Multi {
    start: u64,
    line: u64,
    cmds: Vec<Cmd>,
    bytes: usize,
}

/// State carried from file to file during one load.
pub struct LoadState {
    db: usize,
    multi: Option<Multi>,
    pending: Vec<Unit>,
    pending_bytes: usize,
    report: LoadReport,
    done_bytes: u64,
    total_bytes: u64,
    last_progress: u64,
    end_line: u64,
}

impl LoadState {
    /// A fresh load of `total_bytes` bytes (for progress reports).
    pub fn new(total_bytes: u64) -> LoadState {
        LoadState {
            db: 0,
            multi: None,
            pending: Vec::new(),
            pending_bytes: 0,
            report: LoadReport::default(),
            done_bytes: 0,
            total_bytes,
            last_progress: 0,
            end_line: 1,
        }
    }

    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    pub fn into_report(self) -> LoadReport {
        self.report
    }

    /// Line number (1-based) at the end of the last file loaded.
    pub fn end_line(&self) -> u64 {
        self.end_line
    }

    fn progress(&self, current: u64) -> Progress {
        Progress {
            loaded_bytes: self.done_bytes + current,
            total_bytes: self.total_bytes,
            commands: self.report.commands,
        }
    }
}

/// Loads the log described by `<dir>/<appendfilename>.manifest`.
pub fn load_dir(
    dir: &Path,
    appendfilename: &str,
    opts: &LoadOptions,
    apply: &mut dyn Apply,
    progress: &mut dyn FnMut(&Progress),
) -> Result<LoadReport, LoadError> {
    let files = files_from_manifest(dir, appendfilename)?;
    let mut total = 0;
    for p in &files {
        match fs::metadata(p) {
            Ok(m) => total += m.len(),
            Err(e) => return Err(LoadError::io(p, &e)),
        }
    }
    let mut state = LoadState::new(total);
    for (i, p) in files.iter().enumerate() {
        load_file(p, i + 1 == files.len(), opts, apply, progress, &mut state)?;
    }
    progress(&state.progress(0));
    Ok(state.into_report())
}

/// Reads `<dir>/<appendfilename>.manifest` and returns the paths of the files to
/// load, in order, after checking that each exists and is loadable.
pub fn files_from_manifest(dir: &Path, appendfilename: &str) -> Result<Vec<PathBuf>, LoadError> {
    let mpath = dir.join(manifest_name(appendfilename));
    files_from_manifest_path(&mpath)
}

/// Like [`files_from_manifest`], given the manifest's path; the files are in the
/// manifest's directory.
pub fn files_from_manifest_path(mpath: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let text = match fs::read(mpath) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(LoadError::new(
                LoadErrorKind::MissingManifest,
                mpath,
                "the manifest does not exist",
            ))
        }
        Err(e) => return Err(LoadError::io(mpath, &e)),
    };
    let manifest = Manifest::parse(&text).map_err(|msg| {
        let mut e = LoadError::new(LoadErrorKind::Manifest, mpath, msg.clone());
        e.line = msg
            .strip_prefix("line ")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        e
    })?;
    let dir = mpath.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for entry in manifest.files_to_load() {
        let p = dir.join(&entry.name);
        if entry.name.ends_with(".rdb") {
            return Err(LoadError::new(
                LoadErrorKind::Unsupported,
                &p,
                format!(
                    "The AOF base {} is an RDB file ({}.rdb): keel cannot load RDB bases yet. \
                     Load the data into Redis and rewrite it with aof-use-rdb-preamble no \
                     (BGREWRITEAOF) to get a RESP base keel can load",
                    p.display(),
                    entry.name.trim_end_matches(".rdb")
                ),
            ));
        }
        match fs::metadata(&p) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(LoadError::new(
                    LoadErrorKind::MissingFile,
                    &p,
                    format!(
                        "{} is listed in the manifest {} but is not a regular file",
                        p.display(),
                        mpath.display()
                    ),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(LoadError::new(
                    LoadErrorKind::MissingFile,
                    &p,
                    format!(
                        "{} is listed in the manifest {} but does not exist",
                        p.display(),
                        mpath.display()
                    ),
                ))
            }
            Err(e) => return Err(LoadError::io(&p, &e)),
        }
        out.push(p);
    }
    Ok(out)
}

/// Loads one file. `is_last` says whether it is the last file of the log (only
/// there is an incomplete tail a truncation rather than corruption). `state`
/// carries counters between files.
pub fn load_file(
    path: &Path,
    is_last: bool,
    opts: &LoadOptions,
    apply: &mut dyn Apply,
    progress: &mut dyn FnMut(&Progress),
    state: &mut LoadState,
) -> Result<(), LoadError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut err = LoadError::new(
                LoadErrorKind::MissingFile,
                path,
                format!("{} does not exist", path.display()),
            );
            err.last_file = is_last;
            return Err(err);
        }
        Err(e) => return Err(LoadError::io(path, &e)),
    };
    let size = file.metadata().map_err(|e| LoadError::io(path, &e))?.len();
    state.report.files.push(path.display().to_string());
    // Like Redis, every file starts in database 0 with no transaction open.
    state.db = 0;
    state.multi = None;
    state.pending.clear();
    state.pending_bytes = 0;
    let gaps_before = state.report.quarantined.len();
    let mut l = FileLoader {
        input: Input::new(file, size),
        path,
        size,
        is_last,
        opts,
        apply,
        progress,
        state,
        batch_start: 0,
        batch_line: 1,
        item_start: 0,
        item_line: 1,
        since_k1: 0,
        applied_early: 0,
        held: Vec::new(),
        held_bytes: 0,
        clean_eof: false,
        uncertain: None,
    };
    let r = l.run();
    let tail = if is_last && r.is_ok() {
        l.tail(gaps_before)
    } else {
        None
    };
    let end_line = l.input.line();
    let since_k1 = l.since_k1;
    if is_last {
        state.report.unverified_tail_commands = since_k1;
        state.report.tail = tail;
    }
    let len = match &state.report.truncated {
        Some(t) if is_last && r.is_ok() => t.offset,
        _ => size,
    };
    state.end_line = end_line;
    state.report.bytes += len;
    state.done_bytes += size;
    r
}

/// Why parsing stopped.
enum Fail {
    Io(io::Error),
    /// The file ended inside the item that started at `item_start`.
    Incomplete,
    Corrupt(Corrupt),
    /// The applier stopped the load after the batch ending at (offset, line).
    Stopped(String, u64, u64),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Io(e)
    }
}

struct Corrupt {
    at: u64,
    line: u64,
    msg: String,
    /// Where the file is valid up to (and its line).
    valid: (u64, u64),
    damage: Damage,
}

enum Damage {
    /// Unparseable bytes; a resynchronisation searches from `search_from`.
    Parse { search_from: u64 },
    /// A command failed (Refuse mode only; Salvage handles it in place).
    Apply,
}

enum LineEnd {
    At(usize),
    Eof,
    TooLong,
}

/// Buffered reading of one file, with the offset, line number and running CRC of
/// what has been consumed. `buf[pos..end]` holds read bytes not yet consumed; the
/// buffer is zeroed only when it grows (to the largest command plus one chunk).
///
/// The line number and the CRC catch up lazily: consuming bytes only moves the
/// cursor, and [`Input::sync`] folds everything consumed since the last catch-up
/// in at once, when either is asked for (once a command) or before the buffer is
/// reused. Updating both for every header and argument separately cost 10% of a
/// load (CRC32 of 4-byte slices takes its slow path, and each count a call).
struct Input {
    file: File,
    /// Size of the file when it was opened (sizes the reads of small files).
    size: u64,
    /// Offset of the file's read position (the end of what was read).
    file_pos: u64,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    off: u64,
    eof: bool,
    /// Line number and CRC as of `buf[..synced]`.
    line: u64,
    crc: crc32fast::Hasher,
    synced: usize,
}

impl Input {
    fn new(file: File, size: u64) -> Input {
        Input {
            file,
            size,
            file_pos: 0,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            off: 0,
            line: 1,
            eof: false,
            crc: crc32fast::Hasher::new(),
            synced: 0,
        }
    }

    /// Folds the bytes consumed since the last call into the line number and
    /// the CRC.
    fn sync(&mut self) {
        if self.synced < self.pos {
            let s = &self.buf[self.synced..self.pos];
            self.crc.update(s);
            self.line += memchr::memchr_iter(b'\n', s).count() as u64;
            self.synced = self.pos;
        }
    }

    /// Line (1-based) of the cursor.
    fn line(&mut self) -> u64 {
        self.sync();
        self.line
    }

    /// CRC32 of what was consumed since the last [`Input::restart_crc`].
    fn crc(&mut self) -> u32 {
        self.sync();
        self.crc.clone().finalize()
    }

    fn restart_crc(&mut self) {
        self.sync();
        self.crc = crc32fast::Hasher::new();
    }

    /// Places the cursor at `off`, line `line`, after the file was cut there.
    fn set_end(&mut self, off: u64, line: u64) {
        self.sync();
        self.off = off;
        self.line = line;
    }

    fn avail(&self) -> usize {
        self.end - self.pos
    }

    fn rest(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Reads one more chunk; false at end of file.
    fn read_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.sync();
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            self.synced = 0;
        }
        let remaining = self.size.saturating_sub(self.file_pos);
        let want = (remaining.min(CHUNK as u64) as usize + 1).clamp(4096, CHUNK);
        if self.buf.len() < self.end + want {
            self.buf.resize(self.end + want, 0);
        }
        loop {
            match self.file.read(&mut self.buf[self.end..self.end + want]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    self.file_pos += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Makes `need` bytes available; false if the file ends first.
    fn fill(&mut self, need: usize) -> io::Result<bool> {
        while self.avail() < need {
            if !self.read_more()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Finds the next `\n` within `max` bytes of the cursor.
    fn find_newline(&mut self, max: usize) -> io::Result<LineEnd> {
        let mut scanned = 0;
        loop {
            let upto = self.avail().min(max);
            if let Some(i) = memchr::memchr(b'\n', &self.rest()[scanned..upto]) {
                return Ok(LineEnd::At(scanned + i));
            }
            scanned = upto;
            if scanned >= max {
                return Ok(LineEnd::TooLong);
            }
            if !self.read_more()? {
                return Ok(LineEnd::Eof);
            }
        }
    }

    /// Consumes `n` available bytes.
    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.off += n as u64;
    }

    /// Line number of the byte `k` bytes past the cursor (`k` bytes available).
    fn line_at(&self, k: usize) -> u64 {
        let k = k.min(self.avail());
        self.line + memchr::memchr_iter(b'\n', &self.buf[self.synced..self.pos + k]).count() as u64
    }

    fn seek(&mut self, off: u64, line: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(off))?;
        self.file_pos = off;
        self.pos = 0;
        self.end = 0;
        self.synced = 0;
        self.off = off;
        self.line = line;
        self.eof = false;
        self.crc = crc32fast::Hasher::new();
        Ok(())
    }
}

/// Renders bytes found in a file for a message.
fn show(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &c in bytes.iter().take(40) {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    if bytes.len() > 40 {
        s.push_str("...");
    }
    format!("\"{s}\"")
}

/// A decimal as Redis writes it: optional `-`, no leading zeros.
fn parse_decimal(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(if neg { -v } else { v })
}

/// True when `s` (after the prefix character) can still become a valid header line.
fn header_prefix_ok(s: &[u8]) -> bool {
    let s = s.strip_prefix(b"-").unwrap_or(s);
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = &s[digits..];
    digits <= 18 && (rest.is_empty() || (rest == b"\r" && digits > 0))
}

fn ascii_eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `<dir>/<name><suffix>` for a file at `path`.
fn side_path(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{name}{suffix}"))
}

/// Reads into `buf` from `off` until it is full or the file ends.
fn read_at(file: &mut File, off: u64, buf: &mut [u8]) -> io::Result<usize> {
    file.seek(SeekFrom::Start(off))?;
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// CRC-32 of `[start, end)` of `file`.
fn crc_range(file: &mut File, start: u64, end: u64) -> io::Result<u32> {
    let mut h = crc32fast::Hasher::new();
    let mut buf = vec![0u8; CHUNK];
    let mut off = start;
    while off < end {
        let want = ((end - off) as usize).min(CHUNK);
        let n = read_at(file, off, &mut buf[..want])?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        off += n as u64;
    }
    Ok(h.finalize())
}

/// Copies `[start, end)` of `file` to a new file `dest` (fsynced); returns the
/// number of `\n` copied and whether the bytes contain `select` (any case).
fn copy_range(
    file: &mut File,
    start: u64,
    end: u64,
    dest: &Path,
    create_new: bool,
) -> io::Result<(u64, bool)> {
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .create_new(create_new)
        .truncate(!create_new)
        .open(dest)?;
    let mut buf = vec![0u8; CHUNK.min((end.saturating_sub(start)) as usize).max(1)];
    let mut off = start;
    let mut newlines = 0;
    let mut select = false;
    let mut carry: Vec<u8> = Vec::new();
    while off < end {
        let want = ((end - off) as usize).min(buf.len());
        let n = read_at(file, off, &mut buf[..want])?;
        if n == 0 {
            break;
        }
        newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        if !select {
            carry.extend_from_slice(&buf[..n]);
            select = carry.windows(6).any(|w| w.eq_ignore_ascii_case(b"select"));
            let keep = carry.len().saturating_sub(5);
            carry.drain(..keep);
        }
        out.write_all(&buf[..n])?;
        off += n as u64;
    }
    out.sync_all()?;
    if let Some(dir) = dest.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        sync_dir(dir)?;
    }
    Ok((newlines, select))
}

/// A `#K1` annotation found by a forward search.
struct Found {
    at: u64,
    end: u64,
    ann: Annotation,
}

/// Finds the first well-formed `#K1` line that starts a line at or after `from`.
fn find_next_k1(file: &mut File, from: u64) -> io::Result<Option<Found>> {
    const PAT: &[u8] = b"\n#K1 ";
    let check = |file: &mut File, at: u64| -> io::Result<Option<Found>> {
        let mut line = vec![0u8; MAX_ANNOTATION_LINE];
        let n = read_at(file, at, &mut line)?;
        let Some(nl) = memchr::memchr(b'\n', &line[..n]) else {
            return Ok(None);
        };
        Ok(Annotation::parse(&line[..=nl]).map(|ann| Found {
            at,
            end: at + nl as u64 + 1,
            ann,
        }))
    };
    if from == 0 {
        if let Some(f) = check(file, 0)? {
            return Ok(Some(f));
        }
    }
    let mut pos = from.saturating_sub(1);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = read_at(file, pos, &mut buf)?;
        if n < PAT.len() {
            return Ok(None);
        }
        let hits: Vec<usize> = memchr::memmem::find_iter(&buf[..n], PAT).collect();
        for h in hits {
            let at = pos + h as u64 + 1;
            if at < from {
                continue;
            }
            if let Some(f) = check(file, at)? {
                return Ok(Some(f));
            }
        }
        if n < buf.len() {
            return Ok(None);
        }
        pos += (n - (PAT.len() - 1)) as u64;
    }
}

struct FileLoader<'a, 'b> {
    input: Input,
    path: &'a Path,
    size: u64,
    is_last: bool,
    opts: &'a LoadOptions,
    apply: &'b mut dyn Apply,
    progress: &'b mut dyn FnMut(&Progress),
    state: &'b mut LoadState,
    /// Start (and line) of the current batch: after the last `#K1` line.
    batch_start: u64,
    batch_line: u64,
    /// Start (and line) of the item being parsed.
    item_start: u64,
    item_line: u64,
    /// Commands applied since the last verified annotation.
    since_k1: u64,
    /// Commands of the current batch applied before it was verified (Salvage).
    applied_early: u64,
    /// Units parsed and not applied yet (Refuse): applied [`HELD_UNITS`] at a
    /// time, after a prefetch of their keys, and before anything else happens
    /// ([`FileLoader::apply_held`]).
    held: Vec<Unit>,
    held_bytes: usize,
    /// The file was read to its end with no salvage (the running CRC covers the
    /// bytes since the last annotation).
    clean_eof: bool,
    /// After a gap that may have contained a SELECT, the database is unknown until
    /// the next SELECT: `(start and line of the commands skipped for that, start of
    /// the gap)`.
    uncertain: Option<(u64, u64, u64)>,
}

impl FileLoader<'_, '_> {
    /// The bytes after the last annotation, once the file is loaded (see
    /// [`LoadReport::tail`]).
    fn tail(&mut self, gaps_before: usize) -> Option<Tail> {
        if self.state.report.quarantined.len() > gaps_before {
            return None;
        }
        if self.clean_eof {
            return Some(Tail {
                bytes: self.input.off - self.batch_start,
                crc: self.input.crc(),
            });
        }
        let len = self.state.report.truncated.as_ref()?.offset;
        if self.batch_start > len {
            return None;
        }
        let crc = crc_range(&mut self.input.file, self.batch_start, len).ok()?;
        Some(Tail {
            bytes: len - self.batch_start,
            crc,
        })
    }

    fn run(&mut self) -> Result<(), LoadError> {
        if self.input.off == 0 {
            let rdb = self
                .input
                .fill(5)
                .map_err(|e| LoadError::io(self.path, &e))?
                && self.input.rest().starts_with(b"REDIS");
            if rdb {
                let mut e = LoadError::new(
                    LoadErrorKind::Unsupported,
                    self.path,
                    format!(
                        "{} starts with an RDB preamble (Redis's aof-use-rdb-preamble): keel cannot \
                         load RDB data yet. Rewrite the AOF in Redis with aof-use-rdb-preamble no \
                         (BGREWRITEAOF) to get a file keel can load",
                        self.path.display()
                    ),
                );
                e.last_file = self.is_last;
                return Err(e);
            }
        }
        loop {
            let r = match self.step() {
                Ok(true) => continue,
                // Whatever happens next, the units read before it are applied
                // first: a failure among them is the earlier problem.
                r => match self.apply_held() {
                    Ok(()) => r,
                    Err(f) => Err(f),
                },
            };
            match r {
                Ok(true) => continue,
                Ok(false) => return self.at_eof(),
                Err(Fail::Io(e)) => return Err(LoadError::io(self.path, &e)),
                Err(Fail::Incomplete) => return self.incomplete(),
                Err(f @ Fail::Stopped(..)) => return Err(self.fail_to_error(f)),
                Err(Fail::Corrupt(c)) => {
                    if !self.corrupt(c)? {
                        return self.after_salvage_to_eof();
                    }
                }
            }
        }
    }

    /// Reads and handles one item; false at a clean end of file.
    fn step(&mut self) -> Result<bool, Fail> {
        let loaded = self.state.done_bytes + self.input.off;
        if loaded >= self.state.last_progress + PROGRESS_EVERY {
            self.state.last_progress = loaded;
            let p = self.state.progress(self.input.off);
            (self.progress)(&p);
        }
        self.item_start = self.input.off;
        self.item_line = self.input.line();
        if !self.input.fill(1)? {
            return Ok(false);
        }
        match self.input.rest()[0] {
            b'#' => self.annotation(),
            b'*' => {
                let argv = self.parse_command()?;
                self.command(argv)
            }
            _ => Err(self.bad(
                0,
                format!(
                    "expected '*' (the start of a command) or '#' (an annotation), found {}",
                    show(&self.input.rest()[..self.input.avail().min(16)])
                ),
            )),
        }
    }

    /// Corruption at `k` bytes past the cursor (found while parsing the current
    /// item): valid up to the item (or its MULTI block).
    fn bad(&self, k: usize, msg: String) -> Fail {
        let at = self.input.off + k as u64;
        let line = self.input.line_at(k);
        Fail::Corrupt(Corrupt {
            at,
            line,
            msg,
            valid: self.item_valid(),
            damage: Damage::Parse { search_from: at },
        })
    }

    /// Where the file is valid up to when the current item is bad.
    fn item_valid(&self) -> (u64, u64) {
        match &self.state.multi {
            Some(m) if m.start < self.item_start => (m.start, m.line),
            _ => (self.item_start, self.item_line),
        }
    }

    fn annotation(&mut self) -> Result<bool, Fail> {
        let nl = match self.input.find_newline(MAX_ANNOTATION_LINE)? {
            LineEnd::At(i) => i,
            LineEnd::Eof => return Err(Fail::Incomplete),
            LineEnd::TooLong => {
                return Err(self.bad(0, "an annotation line ('#...') longer than 64 KiB".into()))
            }
        };
        let line = &self.input.rest()[..=nl];
        if !Annotation::is_k1(line) {
            // Another annotation (Redis's #TS:): part of the batch's bytes.
            self.input.advance(nl + 1);
            return Ok(true);
        }
        let Some(ann) = Annotation::parse(line) else {
            let msg = format!("a malformed #K1 annotation {}", show(line));
            let mut f = self.bad(0, msg);
            if let Fail::Corrupt(c) = &mut f {
                c.damage = Damage::Parse {
                    search_from: self.input.off + 1,
                };
            }
            return Err(f);
        };
        let at = self.input.off;
        let len = at - self.batch_start;
        let crc = self.input.crc();
        if ann.len != len || ann.crc != crc {
            let (mut vs, mut vl) = (self.batch_start, self.batch_line);
            if let Some(m) = &self.state.multi {
                if m.start < vs {
                    (vs, vl) = (m.start, m.line);
                }
            }
            return Err(Fail::Corrupt(Corrupt {
                at: self.batch_start,
                line: self.batch_line,
                msg: format!(
                    "the batch of bytes {}..{at} does not match its #K1 annotation (seq {}) at \
                     offset {at} (line {}): the annotation says len={} crc={:08x}, the bytes have \
                     len={len} crc={crc:08x}",
                    self.batch_start,
                    ann.seq,
                    self.input.line(),
                    ann.len,
                    ann.crc
                ),
                valid: (vs, vl),
                damage: Damage::Parse { search_from: at },
            }));
        }
        self.input.advance(nl + 1);
        self.input.restart_crc();
        self.batch_start = self.input.off;
        self.batch_line = self.input.line();
        self.state.report.batches_verified += 1;
        self.state.report.last_seq = ann.seq;
        self.apply_held()?;
        self.flush_pending()?;
        self.since_k1 = 0;
        self.applied_early = 0;
        Ok(true)
    }

    /// Reads a `*<n>` or `$<n>` header line and returns `n`, checked against
    /// `[min, max]`.
    fn header(&mut self, prefix: u8, min: i64, max: i64, what: &str) -> Result<i64, Fail> {
        if !self.input.fill(1)? {
            return Err(Fail::Incomplete);
        }
        let c = self.input.rest()[0];
        if c != prefix {
            return Err(self.bad(
                0,
                format!(
                    "expected '{}' ({what}), found {}",
                    prefix as char,
                    show(&self.input.rest()[..self.input.avail().min(16)])
                ),
            ));
        }
        let nl = match self.input.find_newline(MAX_HEADER_LINE)? {
            LineEnd::At(i) => i,
            LineEnd::Eof => {
                if header_prefix_ok(&self.input.rest()[1..]) {
                    return Err(Fail::Incomplete);
                }
                let msg = format!("a bad {what} {}", show(self.input.rest()));
                return Err(self.bad(0, msg));
            }
            LineEnd::TooLong => {
                let msg = format!(
                    "a bad {what} {}",
                    show(&self.input.rest()[..MAX_HEADER_LINE])
                );
                return Err(self.bad(0, msg));
            }
        };
        let line = &self.input.rest()[..=nl];
        let n = if nl >= 2 && line[nl - 1] == b'\r' {
            parse_decimal(&line[1..nl - 1])
        } else {
            None
        };
        match n {
            Some(n) if n >= min && n <= max => {
                self.input.advance(nl + 1);
                Ok(n)
            }
            Some(n) => {
                let msg = format!("a {what} out of range ({n}; allowed {min}..{max})");
                Err(self.bad(0, msg))
            }
            None => {
                let msg = format!("a bad {what} {}", show(line));
                Err(self.bad(0, msg))
            }
        }
    }

    fn parse_command(&mut self) -> Result<Vec<Bytes>, Fail> {
        let argc = self.header(b'*', 1, MAX_MULTIBULK_COUNT as i64, "multibulk count")?;
        // Never trust a declared count for an allocation.
        let mut argv = Vec::with_capacity((argc as usize).min(1024));
        for _ in 0..argc {
            let len = self.header(b'$', 0, MAX_BULK_LEN as i64, "bulk length")? as usize;
            if !self.input.fill(len + 2)? {
                let avail = self.input.avail();
                if avail > len && self.input.rest()[len] != b'\r' {
                    let msg = format!(
                        "expected \"\\r\\n\" after a bulk string of {len} bytes, found {}",
                        show(&self.input.rest()[len..])
                    );
                    return Err(self.bad(len, msg));
                }
                return Err(Fail::Incomplete);
            }
            let rest = self.input.rest();
            if &rest[len..len + 2] != b"\r\n" {
                let msg = format!(
                    "expected \"\\r\\n\" after a bulk string of {len} bytes, found {}",
                    show(&rest[len..len + 2])
                );
                return Err(self.bad(len, msg));
            }
            argv.push(Bytes::copy_from_slice(&rest[..len]));
            self.input.advance(len + 2);
        }
        Ok(argv)
    }

    /// Handles one complete command.
    fn command(&mut self, argv: Vec<Bytes>) -> Result<bool, Fail> {
        let start = self.item_start;
        let line = self.item_line;
        let end = self.input.off;
        let name = &argv[0];
        let bad_here = |me: &Self, msg: String| -> Fail {
            Fail::Corrupt(Corrupt {
                at: start,
                line,
                msg,
                valid: me.item_valid(),
                // Search for the next batch from the next byte.
                damage: Damage::Parse {
                    search_from: start + 1,
                },
            })
        };
        if ascii_eq(name, "multi") {
            if argv.len() != 1 {
                return Err(bad_here(self, "MULTI with arguments".into()));
            }
            if let Some(m) = &self.state.multi {
                let msg = format!(
                    "MULTI inside the MULTI block opened at offset {} (line {})",
                    m.start, m.line
                );
                return Err(bad_here(self, msg));
            }
            self.state.multi = Some(Multi {
                start,
                line,
                cmds: Vec::new(),
                bytes: 0,
            });
            return Ok(true);
        }
        if ascii_eq(name, "exec") {
            if argv.len() != 1 {
                return Err(bad_here(self, "EXEC with arguments".into()));
            }
            let Some(m) = self.state.multi.take() else {
                return Err(bad_here(self, "EXEC without MULTI".into()));
            };
            self.emit(Unit {
                start: m.start,
                line: m.line,
                end,
                cmds: m.cmds,
                bytes: m.bytes,
            })?;
            return Ok(true);
        }
        if ascii_eq(name, "select") {
            let db = if argv.len() == 2 {
                parse_decimal(&argv[1]).filter(|&d| d >= 0)
            } else {
                None
            };
            let Some(db) = db else {
                let msg = format!("a bad SELECT {}", show(&argv[1..].concat()));
                return Err(bad_here(self, msg));
            };
            if let Err(e) = self.apply.check_db(db as usize) {
                return Err(bad_here(self, format!("SELECT {db} failed: {e}")));
            }
            if self.state.multi.is_none() {
                self.close_uncertain(start)?;
            }
            self.state.db = db as usize;
            return Ok(true);
        }
        let bytes = argv.iter().map(|a| a.len() + 16).sum::<usize>();
        let cmd = Cmd {
            db: self.state.db,
            argv,
            start,
            line,
        };
        if let Some(m) = &mut self.state.multi {
            m.cmds.push(cmd);
            m.bytes += bytes;
            return Ok(true);
        }
        self.emit(Unit {
            start,
            line,
            end,
            cmds: vec![cmd],
            bytes,
        })?;
        Ok(true)
    }

    /// Applies a unit now (Refuse) or once its batch is verified (Salvage).
    fn emit(&mut self, unit: Unit) -> Result<(), Fail> {
        if self.uncertain.is_some() {
            // Skipped: its bytes go to the quarantine when the range closes.
            return Ok(());
        }
        match self.opts.corrupt {
            CorruptPolicy::Refuse => {
                self.held_bytes += unit.bytes;
                self.held.push(unit);
                if self.held.len() >= HELD_UNITS || self.held_bytes > HELD_BYTES {
                    self.apply_held()?;
                }
            }
            CorruptPolicy::Salvage => {
                self.state.pending_bytes += unit.bytes;
                self.state.pending.push(unit);
                if self.state.pending_bytes > SALVAGE_PENDING_CAP {
                    let n: u64 = self.state.pending.iter().map(|u| u.cmds.len() as u64).sum();
                    self.applied_early += n;
                    self.flush_pending()?;
                }
            }
        }
        Ok(())
    }

    /// Applies the held units in order (Refuse), after a prefetch of their
    /// keys; the first that fails is the load's error.
    fn apply_held(&mut self) -> Result<(), Fail> {
        if self.held.is_empty() {
            return Ok(());
        }
        let mut held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        self.apply.prefetch(
            &mut held
                .iter()
                .flat_map(|u| u.cmds.iter())
                .map(|c| (c.db, &c.argv[..])),
        );
        for unit in held.drain(..) {
            if let Err((i, e)) = self.apply_unit(&unit) {
                let c = &unit.cmds[i];
                let msg = format!(
                    "command {} at offset {} failed: {e}",
                    show(&c.argv[0]),
                    c.start
                );
                return Err(Fail::Corrupt(Corrupt {
                    at: c.start,
                    line: c.line,
                    msg,
                    valid: (unit.start, unit.line),
                    damage: Damage::Apply,
                }));
            }
            self.check_stop(&unit)?;
        }
        // Keep the vector's memory for the next units.
        self.held = held;
        Ok(())
    }

    fn apply_unit(&mut self, unit: &Unit) -> Result<(), (usize, String)> {
        for (i, c) in unit.cmds.iter().enumerate() {
            self.apply.apply(c.db, &c.argv).map_err(|e| (i, e))?;
            self.state.report.commands += 1;
            self.since_k1 += 1;
        }
        Ok(())
    }

    /// Whether the applier wants the load to stop after `unit`.
    fn check_stop(&mut self, unit: &Unit) -> Result<(), Fail> {
        match self.apply.stop() {
            Some(msg) => Err(Fail::Stopped(msg, unit.end, unit.line)),
            None => Ok(()),
        }
    }

    /// Applies the buffered units (Salvage); a unit that fails becomes a gap.
    fn flush_pending(&mut self) -> Result<(), Fail> {
        let pending = std::mem::take(&mut self.state.pending);
        self.state.pending_bytes = 0;
        for unit in pending {
            if let Err((i, e)) = self.apply_unit(&unit) {
                let c = &unit.cmds[i];
                let mut reason = format!(
                    "command {} at offset {} (line {}) failed: {e}",
                    show(&c.argv[0]),
                    c.start,
                    c.line
                );
                if i > 0 {
                    reason.push_str(&format!(
                        "; the {i} command(s) before it in its MULTI block were applied"
                    ));
                }
                self.quarantine(unit.start, unit.end, reason)?;
            } else {
                self.check_stop(&unit)?;
            }
        }
        Ok(())
    }

    /// Copies `[start, end)` to `<file>.quarantine-<start>` and records the gap.
    /// Returns the number of lines in the range. Leaves the file position anywhere:
    /// callers seek afterwards (or have nothing more to read).
    fn quarantine(&mut self, start: u64, end: u64, reason: String) -> io::Result<(u64, bool)> {
        let dest = side_path(self.path, &format!(".quarantine-{start}"));
        let pos = self.input.file.stream_position()?;
        let scanned = copy_range(&mut self.input.file, start, end, &dest, false)?;
        self.input.file.seek(SeekFrom::Start(pos))?;
        self.state.report.quarantined.push(Gap {
            file: self.path.display().to_string(),
            start,
            end,
            saved_to: dest.display().to_string(),
            reason,
        });
        Ok(scanned)
    }

    /// Ends the range skipped because the database was unknown, at `end`.
    fn close_uncertain(&mut self, end: u64) -> io::Result<()> {
        if let Some((start, _, gap)) = self.uncertain.take() {
            if end > start {
                let reason = format!(
                    "the damaged range at offset {gap} may have contained a SELECT, so the \
                     database of the commands after it is unknown up to the next SELECT"
                );
                self.quarantine(start, end, reason)?;
            }
        }
        Ok(())
    }

    fn error(
        &self,
        kind: LoadErrorKind,
        at: u64,
        line: u64,
        msg: String,
        valid: (u64, u64),
    ) -> LoadError {
        LoadError {
            kind,
            file: self.path.display().to_string(),
            offset: at,
            line,
            message: msg,
            valid_up_to: valid.0,
            valid_up_to_line: valid.1,
            last_file: self.is_last,
        }
    }

    /// Handles corruption by policy. Ok(true): continue from where the input now
    /// is; Ok(false): nothing more to load from this file.
    fn corrupt(&mut self, c: Corrupt) -> Result<bool, LoadError> {
        if self.opts.corrupt == CorruptPolicy::Refuse {
            return Err(self.error(LoadErrorKind::Corrupt, c.at, c.line, c.msg, c.valid));
        }
        let search_from = match c.damage {
            Damage::Parse { search_from } => search_from,
            Damage::Apply => c.at + 1,
        };
        self.salvage(c, search_from)
            .map_err(|e| LoadError::io(self.path, &e))
    }

    fn salvage(&mut self, c: Corrupt, search_from: u64) -> io::Result<bool> {
        let multi = self.state.multi.take().map(|m| (m.start, m.line));
        let mut ds = (self.batch_start, self.batch_line);
        if let Some(m) = multi {
            if m.0 < ds.0 {
                ds = m;
            }
        }
        // A range skipped for an unknown database joins this gap.
        let was_uncertain = self.uncertain.take();
        if let Some((u, ul, _)) = was_uncertain {
            if u < ds.0 {
                ds = (u, ul);
            }
        }
        let found = find_next_k1(&mut self.input.file, search_from)?;
        let Some(k) = found else {
            // Nothing verifiable follows: keep the complete commands before the
            // damage (they are an unverified tail, as Redis keeps them) and set the
            // rest of the file aside.
            let mut vs = c.valid.0;
            if let Some((u, _, _)) = was_uncertain {
                vs = vs.min(u);
            }
            self.state.pending.retain(|u| u.end <= vs);
            self.flush_pending().map_err(fail_to_io)?;
            let reason = format!(
                "{} at offset {} (line {}); no verified batch follows, so the rest of the file \
                 was set aside",
                c.msg, c.at, c.line
            );
            self.quarantine(vs, self.size, reason)?;
            return Ok(false);
        };
        // Resume at the start of the found batch if it checks out (the damage was
        // confined to what precedes it), else after its annotation line.
        let mut resume = k.end;
        if k.ann.len <= k.at {
            let s = k.at - k.ann.len;
            if s > ds.0 && crc_range(&mut self.input.file, s, k.at)? == k.ann.crc {
                resume = s;
            }
        }
        self.state.pending.clear();
        self.state.pending_bytes = 0;
        let mut reason = format!(
            "{} at offset {} (line {}); skipped up to the next verified batch",
            c.msg, c.at, c.line
        );
        if self.applied_early > 0 {
            reason.push_str(&format!(
                "; {} command(s) of the damaged batch had already been applied (a batch over 64 MiB)",
                self.applied_early
            ));
        }
        let (newlines, select) = self.quarantine(ds.0, resume, reason)?;
        let line = ds.1 + newlines;
        if select || was_uncertain.is_some() {
            self.uncertain = Some((resume, line, ds.0));
        }
        self.input.seek(resume, line)?;
        self.batch_start = resume;
        self.batch_line = line;
        self.applied_early = 0;
        Ok(true)
    }

    /// The file ended inside an item.
    fn incomplete(&mut self) -> Result<(), LoadError> {
        let cut = self.item_valid();
        self.barrier(cut)?;
        if !self.is_last {
            let c = Corrupt {
                at: self.item_start,
                line: self.item_line,
                msg: format!(
                    "the file ends in the middle of a command (the {} bytes from offset {}); only \
                     the last file of the log may end that way",
                    self.size - self.item_start,
                    self.item_start
                ),
                valid: cut,
                damage: Damage::Parse {
                    search_from: self.size,
                },
            };
            return if self.corrupt(c)? {
                self.run()
            } else {
                self.after_salvage_to_eof()
            };
        }
        let what = if cut.0 < self.item_start {
            format!(
                "the file ends inside a MULTI block opened at offset {} (line {}), in the middle of a command",
                cut.0, cut.1
            )
        } else {
            "the file ends in the middle of a command".to_string()
        };
        self.truncate_tail(cut, what)
    }

    /// Waits for the applier to finish what it was handed ([`Apply::barrier`]).
    fn barrier(&mut self, (at, line): (u64, u64)) -> Result<(), LoadError> {
        match self.apply.barrier() {
            Some(msg) => Err(self.fail_to_error(Fail::Stopped(msg, at, line))),
            None => Ok(()),
        }
    }

    /// Clean end of file (at an item boundary).
    fn at_eof(&mut self) -> Result<(), LoadError> {
        let end = (self.input.off, self.input.line());
        self.barrier(end)?;
        if let Some(m) = &self.state.multi {
            let (start, line) = (m.start, m.line);
            let what = format!(
                "the file ends inside a MULTI block opened at offset {start} (line {line}) (no EXEC)"
            );
            if self.is_last {
                return self.truncate_tail((start, line), what);
            }
            let c = Corrupt {
                at: start,
                line,
                msg: what,
                valid: (start, line),
                damage: Damage::Parse {
                    search_from: self.size,
                },
            };
            return if self.corrupt(c)? {
                self.run()
            } else {
                self.after_salvage_to_eof()
            };
        }
        self.flush_pending().map_err(|f| self.fail_to_error(f))?;
        let end = self.input.off;
        self.close_uncertain(end)
            .map_err(|e| LoadError::io(self.path, &e))?;
        self.clean_eof = true;
        Ok(())
    }

    fn after_salvage_to_eof(&mut self) -> Result<(), LoadError> {
        self.state.multi = None;
        self.input.off = self.size;
        Ok(())
    }

    fn fail_to_error(&self, f: Fail) -> LoadError {
        match f {
            Fail::Io(e) => LoadError::io(self.path, &e),
            Fail::Incomplete => self.error(
                LoadErrorKind::Io,
                self.item_start,
                self.item_line,
                "unexpected end of file".into(),
                (self.item_start, self.item_line),
            ),
            Fail::Corrupt(c) => self.error(LoadErrorKind::Corrupt, c.at, c.line, c.msg, c.valid),
            Fail::Stopped(msg, at, line) => {
                self.error(LoadErrorKind::Stopped, at, line, msg, (at, line))
            }
        }
    }

    /// The last file ends at `cut` with an incomplete tail.
    fn truncate_tail(&mut self, cut: (u64, u64), what: String) -> Result<(), LoadError> {
        let dropped = self.size - cut.0;
        if !self.opts.load_truncated {
            let msg = format!("{what}; the last {dropped} bytes are incomplete");
            return Err(self.error(LoadErrorKind::Truncated, cut.0, cut.1, msg, cut));
        }
        self.state.multi = None;
        self.flush_pending().map_err(|f| self.fail_to_error(f))?;
        self.close_uncertain(cut.0)
            .map_err(|e| LoadError::io(self.path, &e))?;
        let io_err = |e: io::Error| LoadError::io(self.path, &e);
        let mut ms = now_ms();
        let dest = loop {
            let dest = side_path(self.path, &format!(".truncated-{ms}"));
            match copy_range(&mut self.input.file, cut.0, self.size, &dest, true) {
                Ok(_) => break dest,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => ms += 1,
                Err(e) => return Err(io_err(e)),
            }
        };
        let f = OpenOptions::new()
            .write(true)
            .open(self.path)
            .map_err(io_err)?;
        f.set_len(cut.0).map_err(io_err)?;
        f.sync_all().map_err(io_err)?;
        self.input.set_end(cut.0, cut.1);
        self.state.report.truncated = Some(Truncation {
            file: self.path.display().to_string(),
            offset: cut.0,
            dropped_bytes: dropped,
            saved_to: dest.display().to_string(),
        });
        Ok(())
    }
}

fn fail_to_io(f: Fail) -> io::Error {
    match f {
        Fail::Io(e) => e,
        Fail::Incomplete => io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected end of file"),
        Fail::Corrupt(c) => io::Error::other(c.msg),
        Fail::Stopped(msg, ..) => io::Error::other(msg),
    }
}
