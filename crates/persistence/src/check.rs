//! `keel-check-aof [--fix] FILE|MANIFEST`: reports whether the log is valid and
//! where its first problem is, like Redis 7's `redis-check-aof`; `--fix` truncates
//! the last file at its last valid point after copying the original to
//! `<file>.bak-<unix ms>`.
//!
//! Validation is the loader itself (so the checker and a server start agree), with
//! an [`Apply`] that applies nothing and only checks that each command is one the
//! command table knows, with a valid number of arguments.

use crate::loader::{
    files_from_manifest_path, load_file, Apply, CorruptPolicy, LoadError, LoadErrorKind,
    LoadOptions, LoadState,
};
use bytes::Bytes;
use keel_engine::Lookup;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Applies nothing; accepts a command when the command table knows it as one that
/// changes data (an engine command) and its argument count is valid.
pub struct CheckApply;

impl Apply for CheckApply {
    fn apply(&mut self, _db: usize, argv: &[Bytes]) -> Result<(), String> {
        match keel_engine::resolve(argv) {
            Lookup::Found(c) if c.engine_fn().is_some() => Ok(()),
            Lookup::Found(c) => Err(format!(
                "ERR '{}' is a server command, which an AOF cannot contain",
                c.name()
            )),
            Lookup::Unknown(e)
            | Lookup::NotSupported(e)
            | Lookup::UnknownSub(e)
            | Lookup::Arity(e) => Err(e),
        }
    }
}

/// The result of checking one file.
#[derive(Debug)]
pub struct FileCheck {
    pub path: PathBuf,
    /// Name to print (the manifest's name for the file, or the path given).
    pub name: String,
    /// "BASE " / "INCR " for files of a manifest, "" for a single file.
    pub label: &'static str,
    pub size: u64,
    /// The file is valid up to this byte.
    pub ok_up_to: u64,
    /// Line (1-based) of `ok_up_to`.
    pub ok_up_to_line: u64,
    pub error: Option<LoadError>,
    /// Whether this is the last file of the log (only the last can be truncated).
    pub is_last: bool,
}

impl FileCheck {
    pub fn is_valid(&self) -> bool {
        self.error.is_none()
    }

    /// Bytes past the last valid point.
    pub fn diff(&self) -> u64 {
        self.size.saturating_sub(self.ok_up_to)
    }

    /// Whether `--fix` can repair this file (by truncating it).
    pub fn fixable(&self) -> bool {
        matches!(
            self.error.as_ref().map(|e| e.kind),
            Some(LoadErrorKind::Corrupt | LoadErrorKind::Truncated)
        ) && self.is_last
    }
}

/// The result of checking a file or a manifest.
#[derive(Debug)]
pub struct CheckOutcome {
    /// True when a manifest was checked.
    pub multi_part: bool,
    /// The files checked, in order; checking stops at the first invalid one.
    pub files: Vec<FileCheck>,
    /// A problem with the manifest or the list of files (nothing checked).
    pub fatal: Option<LoadError>,
}

impl CheckOutcome {
    pub fn is_valid(&self) -> bool {
        self.fatal.is_none() && self.files.iter().all(FileCheck::is_valid)
    }

    /// The first invalid file.
    pub fn first_invalid(&self) -> Option<&FileCheck> {
        self.files.iter().find(|f| !f.is_valid())
    }
}

fn starts_with_rdb(path: &Path) -> bool {
    let mut head = [0u8; 5];
    match File::open(path).and_then(|mut f| f.read_exact(&mut head)) {
        Ok(()) => &head == b"REDIS",
        Err(_) => false,
    }
}

/// Checks one file of the log (`state` carries the load state between files).
pub fn check_file(path: &Path, is_last: bool, state: &mut LoadState) -> FileCheck {
    let name = path.display().to_string();
    let mut fc = FileCheck {
        path: path.to_path_buf(),
        name,
        label: "",
        size: 0,
        ok_up_to: 0,
        ok_up_to_line: 1,
        error: None,
        is_last,
    };
    match fs::metadata(path) {
        Ok(m) => fc.size = m.len(),
        Err(e) => {
            fc.error = Some(LoadError {
                kind: if e.kind() == io::ErrorKind::NotFound {
                    LoadErrorKind::MissingFile
                } else {
                    LoadErrorKind::Io
                },
                file: fc.name.clone(),
                offset: 0,
                line: 0,
                message: format!("cannot open {}: {e}", path.display()),
                valid_up_to: 0,
                valid_up_to_line: 1,
                last_file: is_last,
            });
            return fc;
        }
    }
    if starts_with_rdb(path) {
        fc.error = Some(LoadError {
            kind: LoadErrorKind::Unsupported,
            file: fc.name.clone(),
            offset: 0,
            line: 1,
            message: format!(
                "{} starts with an RDB preamble, which keel cannot check or load yet",
                path.display()
            ),
            valid_up_to: 0,
            valid_up_to_line: 1,
            last_file: is_last,
        });
        return fc;
    }
    let opts = LoadOptions {
        load_truncated: false,
        corrupt: CorruptPolicy::Refuse,
    };
    match load_file(path, is_last, &opts, &mut CheckApply, &mut |_| {}, state) {
        Ok(()) => {
            fc.ok_up_to = fc.size;
            fc.ok_up_to_line = state.end_line();
        }
        Err(e) => {
            fc.ok_up_to = e.valid_up_to.min(fc.size);
            fc.ok_up_to_line = e.valid_up_to_line;
            fc.error = Some(e);
        }
    }
    fc
}

/// Checks `path`: a manifest (a name ending in `.manifest`: every file it lists,
/// from its directory) or a single file (checked as the last file of a log).
pub fn check(path: &Path) -> CheckOutcome {
    let is_manifest = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(".manifest"));
    if !is_manifest {
        let mut state = LoadState::new(0);
        let fc = check_file(path, true, &mut state);
        return CheckOutcome {
            multi_part: false,
            files: vec![fc],
            fatal: None,
        };
    }
    let mut out = CheckOutcome {
        multi_part: true,
        files: Vec::new(),
        fatal: None,
    };
    let files = match files_from_manifest_path(path) {
        Ok(f) => f,
        Err(e) => {
            out.fatal = Some(e);
            return out;
        }
    };
    let mut state = LoadState::new(0);
    let base_name = fs::read(path)
        .ok()
        .and_then(|t| crate::manifest::Manifest::parse(&t).ok())
        .and_then(|m| m.base.map(|b| b.name));
    for (i, p) in files.iter().enumerate() {
        let mut fc = check_file(p, i + 1 == files.len(), &mut state);
        fc.name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string());
        fc.label = if i == 0 && base_name.as_deref() == Some(fc.name.as_str()) {
            "BASE "
        } else {
            "INCR "
        };
        let valid = fc.is_valid();
        out.files.push(fc);
        if !valid {
            break;
        }
    }
    out
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Copies the file to `<file>.bak-<unix ms>` (fsynced), then truncates it to
/// `fc.ok_up_to`. Returns the backup's path.
pub fn fix(fc: &FileCheck) -> io::Result<PathBuf> {
    let name = fc
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut ms = now_ms();
    let mut src = File::open(&fc.path)?;
    let backup = loop {
        let b = fc.path.with_file_name(format!("{name}.bak-{ms}"));
        match OpenOptions::new().write(true).create_new(true).open(&b) {
            Ok(mut out) => {
                io::copy(&mut src, &mut out)?;
                out.sync_all()?;
                break b;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => ms += 1,
            Err(e) => return Err(e),
        }
    };
    let f = OpenOptions::new().write(true).open(&fc.path)?;
    f.set_len(fc.ok_up_to)?;
    f.sync_all()?;
    if let Some(dir) = fc.path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        crate::manifest::sync_dir(dir)?;
    }
    Ok(backup)
}

const USAGE: &str = "Usage: keel-check-aof [--fix] <file.manifest|file.aof>\n\
  Checks a keel (or Redis 7) append-only file, or every file a manifest lists.\n\
  --fix  truncate the last file at its last valid point, after copying it to\n\
         <file>.bak-<unix ms> (asks first when stdin is a terminal)";

/// The command line tool. Returns the exit code: 0 when the log is valid (or was
/// fixed), 1 otherwise.
pub fn run(
    args: &[OsString],
    stdin_is_tty: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> i32 {
    match run_inner(args, stdin_is_tty, input, out) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(out, "keel-check-aof: {e}");
            1
        }
    }
}

fn run_inner(
    args: &[OsString],
    stdin_is_tty: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<i32> {
    let mut fix_it = false;
    let mut target: Option<PathBuf> = None;
    for a in args {
        match a.to_str() {
            Some("--fix") => fix_it = true,
            Some("-h" | "--help") => {
                writeln!(out, "{USAGE}")?;
                return Ok(0);
            }
            Some(s) if s.starts_with("--") => {
                writeln!(out, "Unknown option {s}\n{USAGE}")?;
                return Ok(1);
            }
            _ if target.is_none() => target = Some(PathBuf::from(a)),
            _ => {
                writeln!(out, "{USAGE}")?;
                return Ok(1);
            }
        }
    }
    let Some(target) = target else {
        writeln!(out, "{USAGE}")?;
        return Ok(1);
    };

    let outcome = check(&target);
    if outcome.multi_part {
        writeln!(out, "Start checking Multi Part AOF {}", target.display())?;
    } else {
        writeln!(out, "Start checking AOF {}", target.display())?;
    }
    if let Some(e) = &outcome.fatal {
        writeln!(out, "{e}")?;
        return Ok(1);
    }
    for (i, fc) in outcome.files.iter().enumerate() {
        if outcome.multi_part {
            if i == 0 && fc.label == "BASE " {
                writeln!(out, "Start to check BASE AOF (RESP format).")?;
            } else if i == 0 || (i == 1 && outcome.files[0].label == "BASE ") {
                writeln!(out, "Start to check INCR files.")?;
            }
        }
        if let Some(e) = &fc.error {
            match e.kind {
                LoadErrorKind::Corrupt | LoadErrorKind::Truncated => writeln!(
                    out,
                    "AOF {} format error at offset {} (line {}): {}",
                    fc.name, e.offset, e.line, e.message
                )?,
                _ => {
                    writeln!(out, "{e}")?;
                    return Ok(1);
                }
            }
        }
        writeln!(
            out,
            "AOF analyzed: filename={}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
            fc.name,
            fc.size,
            fc.ok_up_to,
            fc.ok_up_to_line,
            fc.diff()
        )?;
        if fc.is_valid() {
            writeln!(out, "{}AOF {} is valid", fc.label, fc.name)?;
            continue;
        }
        if !fix_it {
            writeln!(
                out,
                "AOF {} is not valid. Use the --fix option to try fixing it.",
                fc.name
            )?;
            return Ok(1);
        }
        if !fc.fixable() {
            writeln!(
                out,
                "Failed to truncate AOF {} because it is not the last file",
                fc.name
            )?;
            return Ok(1);
        }
        writeln!(
            out,
            "This will shrink the AOF {} from {} bytes, with {} bytes, to {} bytes",
            fc.name,
            fc.size,
            fc.diff(),
            fc.ok_up_to
        )?;
        if stdin_is_tty {
            write!(out, "Continue? [y/N]: ")?;
            out.flush()?;
            let mut answer = String::new();
            input.read_line(&mut answer)?;
            if !answer.trim_start().starts_with(['y', 'Y']) {
                writeln!(out, "Aborting...")?;
                return Ok(1);
            }
        }
        match fix(fc) {
            Ok(backup) => {
                writeln!(
                    out,
                    "Successfully truncated AOF {} (the original is kept as {})",
                    fc.name,
                    backup.display()
                )?;
                return Ok(0);
            }
            Err(e) => {
                writeln!(out, "Failed to truncate AOF {}: {e}", fc.name)?;
                return Ok(1);
            }
        }
    }
    if outcome.multi_part {
        writeln!(out, "All AOF files and manifest are valid")?;
    }
    Ok(0)
}
