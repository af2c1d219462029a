//! keel-server's configuration, as pure logic (no sockets): the redis.conf
//! parser with Redis 7.0's exact rules, the `keel-server [file] [--opt val ...]`
//! command line, the registry of every Redis 7.0 option (see [`OPTIONS`]) and
//! CONFIG GET / SET / REWRITE.
//!
//! Every option is one of three classes ([`Class`]): *honoured* (keel implements
//! it), *ignored* (tunes a Redis internal keel lacks: stored, validated, has no
//! effect) or *unsupported feature* (accepted only while the feature stays off).
//! docs/CONFIG.md lists them all; a test keeps it in sync with the registry.

mod registry;
mod rewrite;
mod value;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Component, Path, PathBuf};

pub use registry::{
    lookup, Class, Directive, EnumCheck, Kind, NumFormat, NumSpec, OptionSpec, Special, StrCheck,
    DIRECTIVES, OPTIONS,
};

use value::{c_strtoll, memtoull, os_error_text, split_on_spaces, string2d, string2ll, yesno};

/// keel's version, printed in fatal configuration errors.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Maximum nesting of `include` directives (Redis has no limit and recurses forever).
const MAX_INCLUDE_DEPTH: usize = 32;

/// Maximum number of `bind` addresses (Redis's CONFIG_BINDADDR_MAX).
const BIND_ADDR_MAX: usize = 16;

/// A configuration error that stops start-up. `message` is complete and ready to
/// print to stderr as is (it starts with a newline, like Redis's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Where an option's current value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// keel's built-in default.
    Default,
    /// A line of a configuration file (possibly an included one).
    File { path: String, line: usize },
    /// A `--name value` command-line option (`line` counts the options from 1).
    CommandLine { line: usize },
    /// CONFIG SET.
    ConfigSet,
}

impl Origin {
    fn explicit(&self) -> bool {
        matches!(self, Origin::File { .. } | Origin::CommandLine { .. })
    }
}

/// One client class of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ObufLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: i64,
}

/// `client-output-buffer-limit` for the three client classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObufLimits {
    pub normal: ObufLimit,
    pub replica: ObufLimit,
    pub pubsub: ObufLimit,
}

/// One `bind` address: `optional` when it was written with a leading `-`
/// (failing to bind it is not fatal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindAddr {
    pub addr: String,
    pub optional: bool,
}

/// Keyspace notification flags, as Redis 7.0 numbers them
/// (`notify-keyspace-events`).
pub mod notify {
    pub use keel_engine::notify::{
        ALL, EVICTED, EXPIRED, GENERIC, HASH, KEYEVENT, KEYSPACE, KEY_MISS, LIST, LOADED, MODULE,
        NEW, SET, STREAM, STRING, ZSET,
    };

    /// Redis's `keyspaceEventsStringToFlags`; `None` on an unknown character.
    pub fn parse(s: &str) -> Option<u32> {
        let mut flags = 0;
        for c in s.bytes() {
            flags |= match c {
                b'A' => ALL,
                b'g' => GENERIC,
                b'$' => STRING,
                b'l' => LIST,
                b's' => SET,
                b'h' => HASH,
                b'z' => ZSET,
                b'x' => EXPIRED,
                b'e' => EVICTED,
                b'K' => KEYSPACE,
                b'E' => KEYEVENT,
                b't' => STREAM,
                b'm' => KEY_MISS,
                b'd' => MODULE,
                b'n' => NEW,
                _ => return None,
            };
        }
        Some(flags)
    }

    /// Redis's `keyspaceEventsFlagsToString` (as CONFIG GET shows the flags).
    pub fn format(flags: u32) -> String {
        let mut s = String::new();
        if flags & ALL == ALL {
            s.push('A');
        } else {
            for (bit, c) in [
                (GENERIC, 'g'),
                (STRING, '$'),
                (LIST, 'l'),
                (SET, 's'),
                (HASH, 'h'),
                (ZSET, 'z'),
                (EXPIRED, 'x'),
                (EVICTED, 'e'),
                (STREAM, 't'),
                (MODULE, 'd'),
                (NEW, 'n'),
            ] {
                if flags & bit != 0 {
                    s.push(c);
                }
            }
        }
        for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
        s
    }
}

/// True for the arguments that make keel-server print its version (`-v`, `--version`).
pub fn is_version_flag(arg: &str) -> bool {
    arg == "-v" || arg == "--version"
}

/// True for the arguments that make keel-server print its usage (`-h`, `--help`).
pub fn is_help_flag(arg: &str) -> bool {
    arg == "-h" || arg == "--help"
}

/// A typed option value.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Bool(bool),
    Num(i128),
    Enum(u32),
    /// `None` is Redis's NULL string (unset).
    Str(Option<String>),
    Dir(String),
    Save(Vec<(i64, i32)>),
    Bind(Vec<String>),
    Obuf([ObufLimit; 3]),
    Oom([i32; 3]),
    Notify(u32),
    Percentiles(Vec<f64>),
    ReplicaOf(Option<(String, i64)>),
}

#[derive(Debug, Clone)]
struct Entry {
    value: Value,
    /// `value` formatted as CONFIG GET shows it.
    shown: String,
    origin: Origin,
    /// The configuration line that set it (for error messages).
    text: String,
    /// Order in which lines were applied (for reporting the earliest problem).
    seq: u64,
}

/// The server configuration: every option's value and where it came from.
#[derive(Debug, Clone)]
pub struct Config {
    entries: Vec<Entry>,
    config_file: Option<PathBuf>,
    deprecated_used: Vec<String>,
}

impl Default for Config {
    /// keel's built-in defaults (Redis 7.0's, except `appendonly yes`,
    /// `bind 127.0.0.1 -::1` and `save ""`).
    fn default() -> Config {
        let entries = OPTIONS
            .iter()
            .map(|spec| {
                let value = default_value(spec);
                Entry {
                    shown: format_value(spec, &value),
                    value,
                    origin: Origin::Default,
                    text: String::new(),
                    seq: 0,
                }
            })
            .collect();
        Config {
            entries,
            config_file: None,
            deprecated_used: Vec::new(),
        }
    }
}

/// What a line is being read from.
#[derive(Clone)]
enum Src {
    File(String),
    CommandLine,
}

impl Src {
    fn describe(&self) -> String {
        match self {
            Src::File(p) => format!("the configuration file '{p}'"),
            Src::CommandLine => "the command line options".to_string(),
        }
    }
    fn origin(&self, line: usize) -> Origin {
        match self {
            Src::File(p) => Origin::File {
                path: p.clone(),
                line,
            },
            Src::CommandLine => Origin::CommandLine { line },
        }
    }
}

fn fatal(src_desc: &str, line: usize, text: &str, reason: &str) -> ConfigError {
    ConfigError {
        message: format!(
            "\n*** FATAL CONFIG FILE ERROR (keel {VERSION}) ***\nReading {src_desc}, at line {line}\n>>> '{text}'\n{reason}"
        ),
    }
}

fn fatal_at(origin: &Origin, text: &str, reason: &str) -> ConfigError {
    match origin {
        Origin::File { path, line } => {
            fatal(&Src::File(path.clone()).describe(), *line, text, reason)
        }
        Origin::CommandLine { line } => fatal(&Src::CommandLine.describe(), *line, text, reason),
        _ => ConfigError {
            message: format!("\n*** FATAL CONFIG FILE ERROR (keel {VERSION}) ***\n{reason}"),
        },
    }
}

/// How a value is being set.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Computing a built-in default.
    Default,
    /// Reading a configuration file or the command line.
    Load,
    /// CONFIG SET.
    Set,
}

struct Ctx {
    mode: Mode,
    /// A `save` line was already read during this load (later ones append).
    save_loaded: bool,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn trim_bytes<'a>(mut b: &'a [u8], set: &[u8]) -> &'a [u8] {
    while let Some((first, rest)) = b.split_first() {
        if set.contains(first) {
            b = rest;
        } else {
            break;
        }
    }
    while let Some((last, rest)) = b.split_last() {
        if set.contains(last) {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// Lexical normalisation: drops `.` and resolves `..` without touching the disk.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        normalize(p)
    } else {
        match std::env::current_dir() {
            Ok(cwd) => normalize(&cwd.join(p)),
            Err(_) => p.to_path_buf(),
        }
    }
}

fn current_dir_string() -> String {
    std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Resolves a directory the way `chdir` + `getcwd` would, or the strerror text.
fn resolve_dir(p: &str) -> Result<String, String> {
    match std::fs::canonicalize(p) {
        Ok(c) if c.is_dir() => Ok(c.to_string_lossy().into_owned()),
        Ok(_) => Err("Not a directory".to_string()),
        Err(e) => Err(os_error_text(&e)),
    }
}

fn default_value(spec: &OptionSpec) -> Value {
    match spec.kind {
        Kind::Special(Special::Dir) => return Value::Dir(current_dir_string()),
        Kind::Special(Special::ReplicaOf) => return Value::ReplicaOf(None),
        _ => {}
    }
    let args: Vec<String> = if spec.multi_arg() {
        split_on_spaces(spec.default)
    } else {
        vec![spec.default.to_string()]
    };
    let placeholder = Value::Obuf([ObufLimit::default(); 3]);
    let mut ctx = Ctx {
        mode: Mode::Default,
        save_loaded: false,
    };
    match parse_value(spec, &args, &placeholder, &mut ctx) {
        Ok(v) => v,
        Err(e) => {
            // A registry bug; the unit tests make sure it cannot happen.
            debug_assert!(false, "bad default for {}: {e}", spec.name);
            Value::Str(Some(spec.default.to_string()))
        }
    }
}

fn enum_names(values: &[(&str, u32)]) -> String {
    values
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

fn enum_lookup(values: &[(&str, u32)], arg: &str) -> Option<u32> {
    values
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(arg))
        .map(|(_, v)| *v)
}

/// Redis's `configEnumGetName` (with bit flags for multi-argument enums).
fn enum_format(values: &[(&str, u32)], v: u32, flags: bool) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut unmatched = v;
    for (name, val) in values {
        if *val == v {
            return (*name).to_string();
        }
        if flags && *val != 0 && *val == (unmatched & *val) {
            names.push(name);
            unmatched &= !*val;
        }
    }
    if names.is_empty() || unmatched != 0 {
        "unknown".to_string()
    } else {
        names.join(" ")
    }
}

fn check_string(check: StrCheck, s: &str) -> Result<(), String> {
    let is_path = s.contains('/') || s.contains('\\');
    match check {
        StrCheck::None => Ok(()),
        StrCheck::DbFilename if is_path => {
            Err("dbfilename can't be a path, just a filename".into())
        }
        StrCheck::AofFilename if s.is_empty() => Err("appendfilename can't be empty".into()),
        StrCheck::AofFilename if is_path => {
            Err("appendfilename can't be a path, just a filename".into())
        }
        StrCheck::AofDirname if s.is_empty() => Err("appenddirname can't be empty".into()),
        StrCheck::AofDirname if is_path => {
            Err("appenddirname can't be a path, just a dirname".into())
        }
        StrCheck::Hostname if s.len() >= 256 => {
            Err("Hostnames must be less than 256 characters".into())
        }
        StrCheck::Hostname
            if !s
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') =>
        {
            Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into())
        }
        StrCheck::ProcTitle if !valid_proc_title(s) => {
            Err("template format is invalid or contains unknown variables".into())
        }
        _ => Ok(()),
    }
}

/// Redis's `validateProcTitleTemplate`: `{name}` variables from a fixed set,
/// `{{` for a literal brace, and a non-blank expansion.
fn valid_proc_title(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 0;
    let mut visible = false;
    let literal = |s: &[u8], visible: &mut bool| {
        if s.iter().any(|&c| c != b' ') {
            *visible = true;
        }
    };
    while i < b.len() {
        let Some(off) = b[i..].iter().position(|&c| c == b'{') else {
            literal(&b[i..], &mut visible);
            break;
        };
        let sv = i + off;
        literal(&b[i..sv], &mut visible);
        if sv + 1 >= b.len() {
            return false;
        }
        if b[sv + 1] == b'{' {
            visible = true;
            i = sv + 2;
            continue;
        }
        let Some(off) = b[sv + 1..].iter().position(|&c| c == b'}') else {
            return false;
        };
        let ev = sv + 1 + off;
        match &b[sv + 1..ev] {
            b"title" | b"server-mode" | b"unixsocket" | b"config-file" => {}
            b"listen-addr" | b"port" | b"tls-port" => visible = true,
            _ => return false,
        }
        i = ev + 1;
    }
    visible
}

fn parse_num(n: &NumSpec, s: &str) -> Result<i128, String> {
    let mut res: Option<i128> = None;
    if matches!(n.format, NumFormat::Memory | NumFormat::MemoryOrPercent) {
        if let Some(v) = memtoull(s) {
            // The C code stores the unsigned result in the option's own type.
            res = Some(if n.unsigned {
                i128::from(v)
            } else {
                i128::from(v as i64)
            });
        }
    }
    if res.is_none() && n.format == NumFormat::MemoryOrPercent && s.len() > 1 && s.ends_with('%') {
        if let Some(p) = string2ll(&s.as_bytes()[..s.len() - 1]) {
            if p >= 0 {
                res = Some(-i128::from(p));
            }
        }
    }
    if res.is_none() && n.format == NumFormat::Octal {
        let (v, full, overflow) = c_strtoll(s.as_bytes(), 8);
        if full && !overflow {
            res = Some(i128::from(v));
        }
    }
    if res.is_none() && n.format == NumFormat::Plain {
        res = string2ll(s.as_bytes()).map(i128::from);
    }
    let Some(v) = res else {
        return Err(match n.format {
            NumFormat::MemoryOrPercent => "argument must be a memory or percent value",
            NumFormat::Memory => "argument must be a memory value",
            NumFormat::Octal => "argument couldn't be parsed as an octal number",
            NumFormat::Plain => "argument couldn't be parsed into an integer",
        }
        .to_string());
    };
    if n.unsigned {
        // Compared as unsigned, like Redis does for unsigned C types.
        let u: u128 = if v < 0 {
            u128::from((v as i64) as u64)
        } else {
            v as u128
        };
        if u < n.min as u128 || u > n.max as u128 {
            return Err(if n.format == NumFormat::Octal {
                format!(
                    "argument must be between {:o} and {:o} inclusive",
                    n.min, n.max
                )
            } else {
                format!("argument must be between {} and {} inclusive", n.min, n.max)
            });
        }
    } else if n.format == NumFormat::MemoryOrPercent && v < 0 {
        if v < n.min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -n.min
            ));
        }
    } else if v < n.min || v > n.max {
        return Err(format!(
            "argument must be between {} and {} inclusive",
            n.min, n.max
        ));
    }
    Ok(match n.clamp {
        Some((lo, hi)) => v.clamp(i128::from(lo), i128::from(hi)),
        None => v,
    })
}

fn obuf_class(name: &str) -> Option<usize> {
    if name.eq_ignore_ascii_case("normal") {
        Some(0)
    } else if name.eq_ignore_ascii_case("slave") || name.eq_ignore_ascii_case("replica") {
        Some(1)
    } else if name.eq_ignore_ascii_case("pubsub") {
        Some(2)
    } else {
        // "master" is a valid client type but not a valid class here.
        None
    }
}

/// Parses and validates `args` (the words after the option name) into a value,
/// with Redis's error texts. `current` is the value being replaced.
fn parse_value(
    spec: &OptionSpec,
    args: &[String],
    current: &Value,
    ctx: &mut Ctx,
) -> Result<Value, String> {
    let one = || -> Result<&str, String> {
        match args {
            [a] => Ok(a.as_str()),
            _ => Err("wrong number of arguments".to_string()),
        }
    };
    match spec.kind {
        Kind::Bool => yesno(one()?)
            .map(Value::Bool)
            .ok_or_else(|| "argument must be 'yes' or 'no'".to_string()),
        Kind::Num(n) => parse_num(&n, one()?).map(Value::Num),
        Kind::Enum {
            values,
            flags,
            check,
        } => {
            let parsed = if flags {
                if args.is_empty() {
                    None
                } else {
                    args.iter()
                        .try_fold(0u32, |acc, a| enum_lookup(values, a).map(|v| acc | v))
                }
            } else {
                match args {
                    [a] => enum_lookup(values, a),
                    _ => None,
                }
            };
            let v = parsed.ok_or_else(|| {
                format!(
                    "argument(s) must be one of the following: {}",
                    enum_names(values)
                )
            })?;
            if check == EnumCheck::SaveNosave && v & 1 != 0 && v & 2 != 0 {
                return Err(
                    "shutdown options SAVE and NOSAVE can't be used simultaneously".to_string(),
                );
            }
            Ok(Value::Enum(v))
        }
        Kind::Str {
            empty_is_null,
            check,
        } => {
            let s = one()?;
            check_string(check, s)?;
            Ok(Value::Str(if empty_is_null && s.is_empty() {
                None
            } else {
                Some(s.to_string())
            }))
        }
        Kind::Special(sp) => parse_special(sp, args, current, ctx),
    }
}

fn parse_special(
    sp: Special,
    args: &[String],
    current: &Value,
    ctx: &mut Ctx,
) -> Result<Value, String> {
    match sp {
        Special::Dir => {
            let [a] = args else {
                return Err("wrong number of arguments".to_string());
            };
            let base = match current {
                Value::Dir(d) if !d.is_empty() => PathBuf::from(d),
                _ => PathBuf::from(current_dir_string()),
            };
            let joined = normalize(&base.join(a));
            let s = joined.to_string_lossy().into_owned();
            if ctx.mode == Mode::Set {
                // CONFIG SET: the directory must exist now. While loading, the
                // final value is checked once everything has been read.
                return resolve_dir(&s).map(Value::Dir);
            }
            Ok(Value::Dir(s))
        }
        Special::Save => {
            let args: &[String] = if args.len() == 1 && args[0].is_empty() {
                &[]
            } else {
                args
            };
            if args.len() % 2 == 1 {
                return Err("Invalid save parameters".to_string());
            }
            let mut points = Vec::with_capacity(args.len() / 2);
            for pair in args.chunks(2) {
                let (secs, full_s, _) = c_strtoll(pair[0].as_bytes(), 10);
                let (changes, full_c, _) = c_strtoll(pair[1].as_bytes(), 10);
                if !full_s || !full_c || secs < 1 || changes < 0 {
                    return Err("Invalid save parameters".to_string());
                }
                points.push((secs, changes as i32));
            }
            if ctx.mode == Mode::Load && !points.is_empty() {
                // Within one load, save lines accumulate; the first one replaces
                // the defaults and `save ""` clears everything.
                if ctx.save_loaded {
                    if let Value::Save(old) = current {
                        let mut all = old.clone();
                        all.extend(points);
                        return Ok(Value::Save(all));
                    }
                }
                ctx.save_loaded = true;
            }
            Ok(Value::Save(points))
        }
        Special::ClientOutputBufferLimit => {
            if args.len() & 3 != 0 {
                return Err("Wrong number of arguments in buffer limit configuration.".to_string());
            }
            let mut limits = match current {
                Value::Obuf(l) => *l,
                _ => [ObufLimit::default(); 3],
            };
            let mut updates = Vec::new();
            for group in args.chunks(4) {
                let class = obuf_class(&group[0]).ok_or_else(|| {
                    "Invalid client class specified in buffer limit configuration.".to_string()
                })?;
                let hard = memtoull(&group[1]);
                let soft = memtoull(&group[2]);
                let (secs, full, _) = c_strtoll(group[3].as_bytes(), 10);
                let secs = i64::from(secs as i32);
                match (hard, soft) {
                    (Some(hard_bytes), Some(soft_bytes)) if secs >= 0 && full => {
                        updates.push((class, ObufLimit { hard_bytes, soft_bytes, soft_seconds: secs }));
                    }
                    _ => {
                        return Err(
                            "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string()
                        )
                    }
                }
            }
            for (class, l) in updates {
                limits[class] = l;
            }
            Ok(Value::Obuf(limits))
        }
        Special::OomScoreAdjValues => {
            if args.len() != 3 {
                return Err("wrong number of arguments".to_string());
            }
            let mut vals = [0i32; 3];
            for (slot, a) in vals.iter_mut().zip(args) {
                let (v, full, _) = c_strtoll(a.as_bytes(), 10);
                if !full || !(-2000..=2000).contains(&v) {
                    return Err(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .to_string(),
                    );
                }
                *slot = v as i32;
            }
            Ok(Value::Oom(vals))
        }
        Special::NotifyKeyspaceEvents => {
            let [a] = args else {
                return Err("wrong number of arguments".to_string());
            };
            notify::parse(a)
                .map(Value::Notify)
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())
        }
        Special::Bind => {
            if args.len() > BIND_ADDR_MAX {
                return Err("Too many bind addresses specified.".to_string());
            }
            if args.len() == 1 && args[0].is_empty() {
                return Ok(Value::Bind(Vec::new()));
            }
            Ok(Value::Bind(args.to_vec()))
        }
        Special::ReplicaOf => {
            let [host, port] = args else {
                return Err("wrong number of arguments".to_string());
            };
            if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
                return Ok(Value::ReplicaOf(None));
            }
            let (p, full, overflow) = c_strtoll(port.as_bytes(), 10);
            if !full || overflow || !(0..=65535).contains(&p) {
                return Err("Invalid master port".to_string());
            }
            Ok(Value::ReplicaOf(Some((host.clone(), p))))
        }
        Special::LatencyTrackingInfoPercentiles => {
            if args.len() == 1 && args[0].is_empty() {
                return Ok(Value::Percentiles(Vec::new()));
            }
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                let v = string2d(a).ok_or_else(|| {
                    "Invalid latency-tracking-info-percentiles parameters".to_string()
                })?;
                if !(0.0..=100.0).contains(&v) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".to_string());
                }
                out.push(v);
            }
            Ok(Value::Percentiles(out))
        }
    }
}

/// Formats a value the way Redis 7.0's CONFIG GET does.
fn format_value(spec: &OptionSpec, v: &Value) -> String {
    match (spec.kind, v) {
        (_, Value::Bool(b)) => (if *b { "yes" } else { "no" }).to_string(),
        (Kind::Num(n), Value::Num(x)) => {
            let x = *x;
            match n.format {
                NumFormat::MemoryOrPercent if x < 0 => format!("{}%", -x),
                NumFormat::Memory | NumFormat::MemoryOrPercent => {
                    if x < 0 {
                        ((x as i64) as u64).to_string()
                    } else {
                        x.to_string()
                    }
                }
                NumFormat::Octal => format!("{x:o}"),
                NumFormat::Plain => x.to_string(),
            }
        }
        (Kind::Enum { values, flags, .. }, Value::Enum(e)) => enum_format(values, *e, flags),
        (_, Value::Str(s)) => s.clone().unwrap_or_default(),
        (_, Value::Dir(d)) => d.clone(),
        (_, Value::Save(points)) => points
            .iter()
            .map(|(s, c)| format!("{s} {c}"))
            .collect::<Vec<_>>()
            .join(" "),
        (_, Value::Bind(addrs)) => addrs.join(" "),
        (_, Value::Obuf(l)) => ["normal", "slave", "pubsub"]
            .iter()
            .zip(l.iter())
            .map(|(n, l)| format!("{n} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_seconds))
            .collect::<Vec<_>>()
            .join(" "),
        (_, Value::Oom(v)) => format!("{} {} {}", v[0], v[1], v[2]),
        (_, Value::Notify(f)) => notify::format(*f),
        (_, Value::ReplicaOf(r)) => r
            .as_ref()
            .map(|(h, p)| format!("{h} {p}"))
            .unwrap_or_default(),
        (_, Value::Percentiles(p)) => p
            .iter()
            .map(|v| value::format_percentile(*v))
            .collect::<Vec<_>>()
            .join(" "),
        (_, Value::Num(x)) => x.to_string(),
        (_, Value::Enum(e)) => e.to_string(),
    }
}

const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Expands an `include` pattern like glob(3): sorted, hidden files only when the
/// pattern component starts with a dot, nothing when nothing matches.
fn glob_paths(pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![if pattern.starts_with('/') {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for comp in &comps {
        let mut next = Vec::new();
        for base in &current {
            if has_glob(comp) {
                let dir = if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base.as_path()
                };
                let Ok(rd) = std::fs::read_dir(dir) else {
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                for n in names {
                    if n.starts_with('.') && !comp.starts_with('.') {
                        continue;
                    }
                    if keel_engine::glob::matches(comp.as_bytes(), n.as_bytes(), false) {
                        next.push(base.join(n));
                    }
                }
            } else {
                next.push(base.join(comp));
            }
        }
        current = next;
    }
    current.into_iter().filter(|p| p.exists()).collect()
}

struct Loader {
    cfg: Config,
    ctx: Ctx,
    seq: u64,
    depth: usize,
}

impl Loader {
    fn new() -> Loader {
        Loader {
            cfg: Config::default(),
            ctx: Ctx {
                mode: Mode::Load,
                save_loaded: false,
            },
            seq: 0,
            depth: 0,
        }
    }

    fn load_text(&mut self, text: &[u8], src: &Src) -> Result<(), ConfigError> {
        for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
            let linenum = i + 1;
            let line = trim_bytes(raw, b" \t\r\n");
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let text = lossy(line);
            let err = |reason: &str| fatal(&src.describe(), linenum, &text, reason);
            let Some(argv) = keel_protocol::split_inline_args(line) else {
                return Err(err("Unbalanced quotes in configuration line"));
            };
            let Some((first, rest)) = argv.split_first() else {
                continue;
            };
            let name = lossy(first).to_ascii_lowercase();
            let mut rest: Vec<String> = rest.iter().map(|a| lossy(a)).collect();
            if let Some((idx, spec)) = lookup(name.as_bytes()) {
                // As Redis 7: a multi-argument option given as one argument (as
                // `--save "900 1"` on the command line arrives) is split on spaces.
                if spec.multi_arg() && rest.len() == 1 && rest[0].contains(' ') {
                    rest = split_on_spaces(&rest[0]);
                }
                if !spec.multi_arg() && rest.len() != 1 {
                    return Err(err("wrong number of arguments"));
                }
                let value = parse_value(spec, &rest, &self.cfg.entries[idx].value, &mut self.ctx)
                    .map_err(|e| err(&e))?;
                self.seq += 1;
                self.cfg.entries[idx] = Entry {
                    shown: format_value(spec, &value),
                    value,
                    origin: src.origin(linenum),
                    text: text.clone(),
                    seq: self.seq,
                };
                continue;
            }
            let argc = argv.len();
            if DEPRECATED.contains(&name.as_str()) && argc == 2 {
                if !self.cfg.deprecated_used.contains(&name) {
                    self.cfg.deprecated_used.push(name);
                }
            } else if name == "include" && argc == 2 {
                self.include(&rest[0], &err)?;
            } else if name == "rename-command" && argc == 3 {
                return Err(err(
                    "rename-command is not supported by keel yet; remove the line",
                ));
            } else if name == "user" && argc >= 2 {
                return Err(err(
                    "ACL users (the user directive) are not supported by keel yet; use requirepass",
                ));
            } else if name == "loadmodule" && argc >= 2 {
                return Err(err(
                    "modules are not supported by keel; remove the loadmodule line",
                ));
            } else if name.contains('.') {
                if argc != 2 {
                    return Err(err("Module config specified without value"));
                }
                return Err(err(
                    "module configuration is not supported by keel (it has no modules)",
                ));
            } else if name == "sentinel" {
                return Err(err("Sentinel mode is not supported by keel"));
            } else {
                return Err(err("Bad directive or wrong number of arguments"));
            }
        }
        Ok(())
    }

    fn include(
        &mut self,
        pattern: &str,
        err: &dyn Fn(&str) -> ConfigError,
    ) -> Result<(), ConfigError> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(err(&format!(
                "include nesting is deeper than {MAX_INCLUDE_DEPTH} levels (an include loop?)"
            )));
        }
        let files = if has_glob(pattern) {
            glob_paths(pattern)
        } else {
            vec![PathBuf::from(pattern)]
        };
        for f in files {
            let shown = f.to_string_lossy().into_owned();
            let content = std::fs::read(&f).map_err(|e| {
                err(&format!(
                    "can't open config file '{shown}': {}",
                    os_error_text(&e)
                ))
            })?;
            self.depth += 1;
            let r = self.load_text(&content, &Src::File(shown));
            self.depth -= 1;
            r?;
        }
        Ok(())
    }

    /// Checks that need the final values: the directory exists, and no
    /// unsupported feature is switched on.
    fn finish(mut self) -> Result<Config, ConfigError> {
        for (idx, spec) in OPTIONS.iter().enumerate() {
            if let (Kind::Special(Special::Dir), Value::Dir(d)) =
                (spec.kind, &self.cfg.entries[idx].value)
            {
                match resolve_dir(d) {
                    Ok(abs) => {
                        let e = &mut self.cfg.entries[idx];
                        e.shown = abs.clone();
                        e.value = Value::Dir(abs);
                    }
                    Err(reason) if self.cfg.entries[idx].origin.explicit() => {
                        let e = &self.cfg.entries[idx];
                        return Err(fatal_at(&e.origin, &e.text, &reason));
                    }
                    Err(_) => {}
                }
            }
        }
        let mut first: Option<(u64, ConfigError)> = None;
        for (idx, spec) in OPTIONS.iter().enumerate() {
            let e = &self.cfg.entries[idx];
            if spec.class != Class::Unsupported || !e.origin.explicit() {
                continue;
            }
            if e.shown != format_value(spec, &default_value(spec))
                && first.as_ref().is_none_or(|(s, _)| e.seq < *s)
            {
                first = Some((e.seq, fatal_at(&e.origin, &e.text, spec.reason)));
            }
        }
        match first {
            Some((_, err)) => Err(err),
            None => Ok(self.cfg),
        }
    }
}

/// Builds the configuration text Redis derives from `--name value ...`
/// (redis-server 7.0's `main`), one line per option.
fn options_text(args: &[String]) -> Result<String, ConfigError> {
    let mut options = String::new();
    let mut handled_last = true;
    let last = args.len().saturating_sub(1);
    for (j, arg) in args.iter().enumerate() {
        if arg == "-" && (j == 0 || j == last) {
            return Err(ConfigError {
                message:
                    "reading the configuration from standard input ('-') is not supported by keel"
                        .to_string(),
            });
        }
        if handled_last && arg.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&arg[2..]);
            options.push(' ');
            let words = keel_protocol::split_inline_args(arg.as_bytes()).map_or(0, |v| v.len());
            if words == 1 {
                handled_last = false;
                let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
                if arg.eq_ignore_ascii_case("--save") && (next_is_option || j == last) {
                    // `--save` with no value means `save ""`, as in Redis.
                    options.push_str("\"\"");
                    handled_last = true;
                } else if arg.eq_ignore_ascii_case("--sentinel") && next_is_option {
                    handled_last = true;
                }
            } else {
                handled_last = true;
            }
        } else {
            options.push_str(&value::repr(arg));
            options.push(' ');
            handled_last = true;
        }
    }
    Ok(options)
}

impl Config {
    /// Loads the configuration from `keel-server`'s arguments (without the
    /// program name): an optional config file, then `--name value ...` options
    /// that override it, exactly as redis-server reads them.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let (file, rest) = match args.split_first() {
            Some((first, rest)) if !first.starts_with('-') => (Some(first), rest),
            _ => (None, args),
        };
        let options = options_text(rest)?;
        let mut loader = Loader::new();
        if let Some(f) = file {
            let content = std::fs::read(f).map_err(|e| ConfigError {
                message: format!(
                    "Fatal error, can't open config file '{f}': {}",
                    os_error_text(&e)
                ),
            })?;
            loader.cfg.config_file = Some(absolute(Path::new(f)));
            loader.load_text(&content, &Src::File(f.clone()))?;
        }
        if !options.is_empty() {
            loader.load_text(options.as_bytes(), &Src::CommandLine)?;
        }
        loader.finish()
    }

    /// Loads a configuration from text, reporting errors against `source` as if
    /// it were a file name. The result has no config file (CONFIG REWRITE fails).
    pub fn from_text(text: &str, source: &str) -> Result<Config, ConfigError> {
        let mut loader = Loader::new();
        loader.load_text(text.as_bytes(), &Src::File(source.to_string()))?;
        loader.finish()
    }

    /// The absolute path of the configuration file, if one was given.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// CONFIG GET with one pattern.
    pub fn get(&self, pattern: &[u8]) -> Vec<(String, String)> {
        self.get_pairs(&[pattern])
    }

    /// CONFIG GET with several patterns, as Redis 7 does: a pattern without glob
    /// characters is looked up directly (names and aliases, case-insensitively)
    /// and answered under the name asked; a glob pattern matches every
    /// non-hidden name and alias case-insensitively. Each name appears once.
    pub fn get_pairs(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for &p in patterns {
            if !p.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
                let key = lossy(p).to_ascii_lowercase();
                if seen.contains(&key) {
                    continue;
                }
                if let Some((idx, _)) = lookup(p) {
                    out.push((lossy(p), self.entries[idx].shown.clone()));
                    seen.push(key);
                }
                continue;
            }
            for (idx, spec) in OPTIONS.iter().enumerate() {
                if spec.hidden {
                    continue;
                }
                for name in std::iter::once(spec.name).chain(spec.alias) {
                    if seen.iter().any(|s| s == name) {
                        continue;
                    }
                    if keel_engine::glob::matches(p, name.as_bytes(), true) {
                        out.push((name.to_string(), self.entries[idx].shown.clone()));
                        seen.push(name.to_string());
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET from a non-local client; see [`Config::set_for_client`].
    pub fn set(&mut self, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<String>, String> {
        self.set_for_client(pairs, false)
    }

    /// CONFIG SET with one or more name/value pairs, all or nothing. Returns the
    /// canonical names whose value actually changed, or the error reply text
    /// (starting with `ERR `) worded as Redis 7.0 words it. `client_is_local`
    /// matters for protected options when `enable-protected-configs` is `local`.
    pub fn set_for_client(
        &mut self,
        pairs: &[(Vec<u8>, Vec<u8>)],
        client_is_local: bool,
    ) -> Result<Vec<String>, String> {
        let failed = |name: &str, why: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
        };
        let mut targets: Vec<(usize, &'static OptionSpec, String, &'static str)> = Vec::new();
        let mut first_err: Option<String> = None;
        for (name, value) in pairs {
            let Some((idx, spec)) = lookup(name) else {
                if first_err.is_none() {
                    first_err = Some(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                        lossy(name)
                    ));
                }
                continue;
            };
            if first_err.is_some() {
                continue;
            }
            let given = lossy(name);
            if !spec.mutable {
                first_err = Some(failed(&given, "can't set immutable config"));
            } else if spec.protected && !self.protected_allowed(client_is_local) {
                first_err = Some(failed(&given, "can't set protected config"));
            } else if targets.iter().any(|(i, ..)| *i == idx) {
                first_err = Some(failed(&given, "duplicate parameter"));
            } else {
                // Redis names the option by the table entry that matched, so an
                // alias is reported as the alias.
                let matched = if spec.name.as_bytes().eq_ignore_ascii_case(name) {
                    spec.name
                } else {
                    spec.alias.unwrap_or(spec.name)
                };
                targets.push((idx, spec, lossy(value), matched));
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        let mut ctx = Ctx {
            mode: Mode::Set,
            save_loaded: false,
        };
        let mut new_values = Vec::with_capacity(targets.len());
        for (idx, spec, value, matched) in &targets {
            let args = if spec.multi_arg() {
                split_on_spaces(value)
            } else {
                vec![value.clone()]
            };
            let v = parse_value(spec, &args, &self.entries[*idx].value, &mut ctx)
                .map_err(|e| failed(matched, &e))?;
            let shown = format_value(spec, &v);
            if spec.class == Class::Unsupported && shown != format_value(spec, &default_value(spec))
            {
                return Err(failed(matched, spec.reason));
            }
            new_values.push((*idx, v, shown));
        }
        let mut changed = Vec::new();
        for (idx, v, shown) in new_values {
            let e = &mut self.entries[idx];
            if e.value != v {
                changed.push(OPTIONS[idx].name.to_string());
            }
            *e = Entry {
                value: v,
                shown,
                origin: Origin::ConfigSet,
                text: String::new(),
                seq: 0,
            };
        }
        Ok(changed)
    }

    fn protected_allowed(&self, client_is_local: bool) -> bool {
        match self.value("enable-protected-configs") {
            Some(Value::Enum(1)) => true,
            Some(Value::Enum(2)) => client_is_local,
            _ => false,
        }
    }

    /// CONFIG REWRITE: rewrites the file this configuration was loaded from the
    /// way Redis does (comments and unrelated lines kept, option lines replaced
    /// in place, new ones appended after `# Generated by CONFIG REWRITE`), via a
    /// temporary file, fsync and rename. Returns the error reply text.
    pub fn rewrite(&self) -> Result<(), String> {
        let Some(path) = self.config_file.as_deref() else {
            return Err("ERR The server is running without a config file".to_string());
        };
        rewrite::rewrite_file(self, path)
            .map_err(|e| format!("ERR Rewriting config file: {}", os_error_text(&e)))
    }

    /// Ignored options (and obsolete directives) that the configuration file or
    /// the command line set explicitly, for a start-up log line.
    pub fn ignored_in_use(&self) -> Vec<String> {
        let mut out: Vec<String> = OPTIONS
            .iter()
            .zip(&self.entries)
            .filter(|(spec, e)| spec.class == Class::Ignored && e.origin.explicit())
            .map(|(spec, _)| spec.name.to_string())
            .collect();
        out.extend(self.deprecated_used.iter().cloned());
        out
    }

    fn entry(&self, name: &str) -> Option<&Entry> {
        let found = lookup(name.as_bytes());
        debug_assert!(found.is_some(), "unknown configuration option {name:?}");
        found.map(|(idx, _)| &self.entries[idx])
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.entry(name).map(|e| &e.value)
    }

    /// Any option's value as CONFIG GET shows it ("" for an unknown name).
    pub fn get_str(&self, name: &str) -> &str {
        self.entry(name).map_or("", |e| e.shown.as_str())
    }

    /// A yes/no option (false for anything else).
    pub fn get_bool(&self, name: &str) -> bool {
        matches!(self.value(name), Some(Value::Bool(true)))
    }

    /// A numeric option (memory values in bytes; a maxmemory-clients percentage
    /// is negative), saturated to `i64`. Enums give their internal number.
    pub fn get_i64(&self, name: &str) -> i64 {
        match self.value(name) {
            Some(Value::Num(v)) => (*v).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
            Some(Value::Enum(v)) => i64::from(*v),
            Some(Value::Bool(b)) => i64::from(*b),
            _ => 0,
        }
    }

    /// A numeric option (memory values in bytes), 0 when negative.
    pub fn get_u64(&self, name: &str) -> u64 {
        match self.value(name) {
            Some(Value::Num(v)) => (*v).clamp(0, i128::from(u64::MAX)) as u64,
            Some(Value::Enum(v)) => u64::from(*v),
            Some(Value::Bool(b)) => u64::from(*b),
            _ => 0,
        }
    }

    /// Where an option's current value came from.
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.entry(name).map(|e| &e.origin)
    }

    /// The `bind` addresses as written (a leading `-` marks an optional one).
    pub fn bind_addrs(&self) -> Vec<String> {
        match self.value("bind") {
            Some(Value::Bind(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    /// The `bind` addresses with the optional marker split off.
    pub fn bind_specs(&self) -> Vec<BindAddr> {
        self.bind_addrs()
            .into_iter()
            .map(|a| match a.strip_prefix('-') {
                Some(rest) => BindAddr {
                    addr: rest.to_string(),
                    optional: true,
                },
                None => BindAddr {
                    addr: a,
                    optional: false,
                },
            })
            .collect()
    }

    /// `client-output-buffer-limit` for the three client classes.
    pub fn client_output_buffer_limits(&self) -> ObufLimits {
        let l = match self.value("client-output-buffer-limit") {
            Some(Value::Obuf(l)) => *l,
            _ => [ObufLimit::default(); 3],
        };
        ObufLimits {
            normal: l[0],
            replica: l[1],
            pubsub: l[2],
        }
    }

    /// `notify-keyspace-events` as [`notify`] flags.
    pub fn notify_keyspace_events(&self) -> u32 {
        match self.value("notify-keyspace-events") {
            Some(Value::Notify(f)) => *f,
            _ => 0,
        }
    }
}
