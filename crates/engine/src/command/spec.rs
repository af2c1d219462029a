//! The shape of a command's facts: arity, flags, key specs and arguments, as Redis 7
//! declares them. `facts.rs` holds the generated table of every Redis 7.0 command;
//! `table.rs` pairs the ones keel implements with the function that runs them.

/// Where the search for keys starts.
#[derive(Debug, Clone, Copy)]
pub enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// After `keyword`, searching from `startfrom` (negative: from the end, backwards).
    Keyword(&'static str, i32),
    /// Keys cannot be found from the arguments alone.
    Unknown,
}

/// How many keys follow the start.
#[derive(Debug, Clone, Copy)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative to the start; negative counts from the end),
    /// every `step` arguments; `limit` > 1 takes 1/limit of the remaining arguments.
    Range {
        lastkey: i32,
        step: i32,
        limit: i32,
    },
    /// The argument at `keynumidx` (relative) says how many keys follow, starting at
    /// `firstkey` (relative), every `step`.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        step: i32,
    },
    Unknown,
}

#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub flags: &'static [&'static str],
    pub begin: BeginSearch,
    pub find: FindKeys,
}

/// One argument of a command's syntax (for COMMAND DOCS).
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: &'static str,
    pub token: Option<&'static str>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    pub key_spec_index: i32,
    pub since: Option<&'static str>,
    pub display: Option<&'static str>,
    pub args: &'static [Arg],
}

/// Everything Redis 7.0 declares about one command or subcommand.
#[derive(Debug)]
pub struct CommandFacts {
    /// Lower-case; subcommands as `container|sub`.
    pub name: &'static str,
    pub arity: i32,
    /// Lower-case command flags as COMMAND INFO shows them.
    pub flags: &'static [&'static str],
    /// ACL categories, implicit ones included, as COMMAND INFO shows them.
    pub acl: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub key_specs: &'static [KeySpec],
    pub group: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub doc_flags: &'static [&'static str],
    /// Command tips (COMMAND INFO's 8th element), lower-case as Redis shows them.
    pub tips: &'static [&'static str],
    pub args: &'static [Arg],
}

impl CommandFacts {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }
}

/// Positions of the keys in `argv` according to `specs`, as Redis's
/// `getKeysUsingKeySpecs` finds them. Returns `None` when a spec is `Unknown`
/// (the caller must then treat the command as touching the whole keyspace).
pub fn key_positions_in(
    specs: &[KeySpec],
    argv: &[bytes::Bytes],
    out: &mut impl Extend<usize>,
) -> Option<()> {
    key_positions_with(specs, argv.len(), |i| argv.get(i).map(|b| &b[..]), out)
}

fn key_positions_with<'a>(
    specs: &[KeySpec],
    argc: usize,
    arg: impl Fn(usize) -> Option<&'a [u8]>,
    out: &mut impl Extend<usize>,
) -> Option<()> {
    let argc_i = argc as i64;
    for spec in specs {
        if spec.flags.contains(&"NOT_KEY") {
            continue;
        }
        let first: i64 = match spec.begin {
            BeginSearch::Index(pos) => pos as i64,
            BeginSearch::Keyword(kw, startfrom) => {
                let (start, end, dir): (i64, i64, i64) = if startfrom >= 0 {
                    (startfrom as i64, argc_i - 1, 1)
                } else {
                    (argc_i + startfrom as i64, 1, -1)
                };
                let mut found = None;
                let mut i = start;
                while (dir > 0 && i <= end) || (dir < 0 && i >= end) {
                    if i <= 0 || i >= argc_i {
                        break;
                    }
                    match arg(i as usize) {
                        Some(a) if a.eq_ignore_ascii_case(kw.as_bytes()) => {
                            found = Some(i + 1);
                            break;
                        }
                        Some(_) => {}
                        None => return None,
                    }
                    i += dir;
                }
                match found {
                    Some(f) => f,
                    None => continue,
                }
            }
            BeginSearch::Unknown => return None,
        };
        if first >= argc_i {
            continue;
        }
        match spec.find {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let step = step.max(1) as i64;
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit <= 1 {
                    argc_i + lastkey as i64
                } else {
                    first + ((argc_i - first) / limit as i64 + lastkey as i64)
                };
                let last = last.min(argc_i - 1);
                let mut i = first;
                while i <= last {
                    out.extend(Some(i as usize));
                    i += step;
                }
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                let idx = first + keynumidx as i64;
                if idx >= argc_i {
                    continue;
                }
                let n = std::str::from_utf8(arg(idx as usize)?)
                    .ok()?
                    .parse::<i64>()
                    .ok()?;
                if n <= 0 {
                    continue;
                }
                let start = first + firstkey as i64;
                let step = step.max(1) as i64;
                let mut i = start;
                let mut taken = 0;
                while taken < n && i < argc_i {
                    out.extend(Some(i as usize));
                    i += step;
                    taken += 1;
                }
            }
            FindKeys::Unknown => return None,
        }
    }
    Some(())
}
