//! The command table: the single source of truth for every command keel runs.
//!
//! Each entry joins Redis 7's facts for the command (arity, flags, key specs,
//! arguments; see `facts.rs`) with what keel runs for it: an engine function, or a
//! command the server implements because it needs the connection or server state
//! (CLIENT, CONFIG, INFO, HELLO ...). COMMAND, the dispatcher, key extraction for
//! locking and the AOF all read this table. Commands Redis has and keel does not
//! yet are answered with an error naming them as not supported.

use super::facts::FACTS;
use super::spec::{key_positions_in, BeginSearch, CommandFacts, FindKeys, KeySpec};
use crate::engine::Ctx;
use bytes::Bytes;
use keel_protocol::Frame;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The function that runs an engine command.
pub type EngineFn = fn(&mut Ctx<'_, '_>, &[Bytes]) -> Frame;

/// Which shards a command locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The shards of the keys its key specs name.
    Keys,
    /// Every shard (whole-keyspace commands: KEYS, SCAN, FLUSHALL, SWAPDB ...).
    All,
    /// None (commands that do not touch the keyspace).
    None,
}

/// What runs a command.
#[derive(Debug, Clone, Copy)]
pub enum Run {
    Engine(EngineFn),
    /// Implemented by the server (connection or server state).
    Server,
    /// A container (CONFIG, CLIENT ...): the subcommand names what runs.
    Container,
}

/// One implemented command.
#[derive(Debug)]
pub struct Command {
    /// Dense index (0..Table::count()), for per-command statistics.
    pub id: usize,
    pub facts: &'static CommandFacts,
    pub run: Run,
    pub scope: Scope,
    /// Subcommands, by lower-case subcommand name, for containers.
    pub subcommands: Vec<&'static Command>,
    /// Where its keys are, decided once from its key specs.
    keys: KeyShape,
    /// For a command on one member of a set, hash or sorted set: where the
    /// member is, for `Engine::prefetch`.
    pub member: MemberArg,
}

/// Where a command's keys are in its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyShape {
    /// `argv[1]` and nothing else (GET, SET, INCR, HSET, SADD, ZADD ...): the
    /// key specs say one key at index 1, range 0, step 1.
    First,
    /// Anything else: the key specs are walked for each request.
    Specs,
}

/// Where the member a command works on is, when it works on one member of a
/// collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberArg {
    None,
    /// `argv[i]`.
    At(usize),
    /// ZADD's first member: after the key, the flags and the first score.
    Zadd,
}

impl KeyShape {
    fn of(specs: &[KeySpec]) -> KeyShape {
        match specs {
            [KeySpec {
                flags,
                begin: BeginSearch::Index(1),
                find:
                    FindKeys::Range {
                        lastkey: 0,
                        step: 1,
                        limit: 0,
                    },
            }] if !flags.contains(&"NOT_KEY") => KeyShape::First,
            _ => KeyShape::Specs,
        }
    }
}

impl MemberArg {
    fn of(name: &str) -> MemberArg {
        match name {
            "sadd" | "srem" | "sismember" | "hset" | "hsetnx" | "hget" | "hdel" | "hexists"
            | "hincrby" | "hincrbyfloat" | "hstrlen" | "hmget" | "zscore" | "zrem" | "zrank"
            | "zrevrank" | "zmscore" => MemberArg::At(2),
            "zincrby" => MemberArg::At(3),
            // ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...
            "zadd" => MemberArg::Zadd,
            _ => MemberArg::None,
        }
    }
}

impl Command {
    /// Positions of the keys in `argv`, as [`key_positions_in`] finds them
    /// from the key specs (`None`: they cannot be found from the arguments).
    pub fn key_positions(&self, argv: &[Bytes], out: &mut impl Extend<usize>) -> Option<()> {
        match self.keys {
            KeyShape::First => {
                if argv.len() > 1 {
                    out.extend(Some(1));
                }
                Some(())
            }
            KeyShape::Specs => key_positions_in(self.facts.key_specs, argv, out),
        }
    }

    /// Whether `argv[1]` is the command's only key (GET, SET, HSET ...), so
    /// callers that need no list can skip [`Command::key_positions`].
    pub fn only_first_key(&self) -> bool {
        self.keys == KeyShape::First
    }

    pub fn engine_fn(&self) -> Option<EngineFn> {
        match self.run {
            Run::Engine(f) => Some(f),
            _ => None,
        }
    }

    pub fn is_write(&self) -> bool {
        self.facts.has_flag("write")
    }

    /// The name as Redis 7 reports it in errors and COMMAND (`config|get`).
    pub fn name(&self) -> &'static str {
        self.facts.name
    }

    /// Arity check as Redis: positive is exact, negative is a minimum.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.facts.arity;
        (a > 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// The subcommand named by `arg`, case-insensitively.
    pub fn subcommand(&self, arg: &[u8]) -> Option<&'static Command> {
        self.subcommands.iter().copied().find(|c| {
            c.facts
                .name
                .split_once('|')
                .is_some_and(|(_, sub)| sub.as_bytes().eq_ignore_ascii_case(arg))
        })
    }
}

/// Every implemented command.
pub struct Table {
    /// foldhash, not SipHash: names are ours, not attacker-chosen keys, and this
    /// lookup runs for every command.
    by_name: HashMap<&'static str, &'static Command, foldhash::fast::FixedState>,
    /// Every command in name order, for COMMAND and COMMAND LIST.
    pub all: Vec<&'static Command>,
    count: usize,
}

/// Engine commands: name, scope, function. Each command module contributes its list.
pub type EngineEntry = (&'static str, Scope, EngineFn);

fn facts_of(name: &str) -> Option<&'static CommandFacts> {
    FACTS
        .iter()
        .chain(super::facts_extra::EXTRA_FACTS.iter())
        .find(|f| f.name == name)
}

/// Facts for a command Redis 7 has, implemented or not.
pub fn redis_facts(name: &str) -> Option<&'static CommandFacts> {
    facts_of(name)
}

impl Table {
    fn build() -> Table {
        let mut runs: HashMap<&'static str, (Run, Scope)> = HashMap::new();
        for list in crate::cmd::ENGINE_COMMANDS {
            for &(name, scope, f) in *list {
                runs.insert(name, (Run::Engine(f), scope));
            }
        }
        for &name in crate::cmd::SERVER_COMMANDS {
            runs.entry(name).or_insert((Run::Server, Scope::None));
        }
        let mut by_name: HashMap<&'static str, &'static Command, foldhash::fast::FixedState> =
            HashMap::default();
        let mut subs: HashMap<&'static str, Vec<&'static Command>> = HashMap::new();
        let mut next_id = 0;
        let mut names: Vec<_> = runs.keys().copied().collect();
        names.sort_unstable();
        for name in names {
            let Some(&(run, scope)) = runs.get(name) else {
                continue;
            };
            let Some(facts) = facts_of(name) else {
                continue;
            };
            let id = next_id;
            next_id += 1;
            let cmd: &'static Command = Box::leak(Box::new(Command {
                id,
                facts,
                run,
                scope,
                subcommands: Vec::new(),
                keys: KeyShape::of(facts.key_specs),
                member: MemberArg::of(name),
            }));
            if let Some((container, _)) = name.split_once('|') {
                subs.entry(container).or_default().push(cmd);
            } else {
                by_name.insert(facts.name, cmd);
            }
        }
        let mut containers: Vec<_> = subs.into_iter().collect();
        containers.sort_by_key(|(c, _)| *c);
        for (container, mut list) in containers {
            let Some(facts) = facts_of(container) else {
                continue;
            };
            list.sort_by_key(|c| c.facts.name);
            let id = next_id;
            next_id += 1;
            let cmd: &'static Command = Box::leak(Box::new(Command {
                id,
                facts,
                run: Run::Container,
                scope: Scope::None,
                subcommands: list,
                keys: KeyShape::Specs,
                member: MemberArg::None,
            }));
            by_name.insert(facts.name, cmd);
        }
        let mut all: Vec<&'static Command> = by_name.values().copied().collect();
        all.sort_by_key(|c| c.facts.name);
        Table {
            by_name,
            all,
            count: next_id,
        }
    }

    /// Number of commands and subcommands (ids are below this).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Every command and subcommand.
    pub fn every(&self) -> impl Iterator<Item = &'static Command> + '_ {
        self.all
            .iter()
            .flat_map(|c| std::iter::once(*c).chain(c.subcommands.iter().copied()))
    }

    /// Looks a command up by name, case-insensitively.
    pub fn get(&self, name: &[u8]) -> Option<&'static Command> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
        self.by_name.get(lower).copied()
    }
}

/// The command table, built once.
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(Table::build)
}

/// Resolution of argv[0] (and argv[1] for containers) against the table.
pub enum Lookup {
    Found(&'static Command),
    /// `ERR unknown command ...` with Redis's text.
    Unknown(String),
    /// Known to Redis 7 but not implemented by keel.
    NotSupported(String),
    /// `ERR unknown subcommand ...`.
    UnknownSub(String),
    /// Wrong number of arguments.
    Arity(String),
}

/// [`resolve`] for a connection's stream of requests. A pipeline usually
/// repeats one command, so the last top-level command found is remembered by
/// the exact bytes of its name: a request that spells it the same way costs
/// one comparison instead of a lower-casing and a table lookup. Anything else
/// (another name, a subcommand, an arity error) goes through [`resolve`].
#[derive(Default)]
pub struct Resolver {
    name: [u8; 16],
    len: usize,
    cmd: Option<&'static Command>,
}

impl Resolver {
    pub fn resolve(&mut self, argv: &[Bytes]) -> Lookup {
        if let (Some(c), Some(name)) = (self.cmd, argv.first()) {
            if self.name.get(..self.len) == Some(&name[..]) && c.arity_ok(argv.len()) {
                return Lookup::Found(c);
            }
        }
        let found = resolve(argv);
        if let (Lookup::Found(c), Some(name)) = (&found, argv.first()) {
            // A container's subcommand depends on argv[1] too: not remembered.
            if !c.name().contains('|') {
                if let Some(slot) = self.name.get_mut(..name.len()) {
                    slot.copy_from_slice(name);
                    self.len = name.len();
                    self.cmd = Some(c);
                }
            }
        }
        found
    }
}

/// Finds the command `argv` asks for and checks its arity, with Redis's errors.
pub fn resolve(argv: &[Bytes]) -> Lookup {
    let Some(name) = argv.first() else {
        return Lookup::Unknown("ERR unknown command ''".into());
    };
    let Some(cmd) = table().get(name) else {
        let lower = String::from_utf8_lossy(name).to_lowercase();
        if facts_of(&lower).is_some() {
            return Lookup::NotSupported(format!(
                "ERR command '{}' is not supported by keel yet",
                String::from_utf8_lossy(name)
            ));
        }
        let mut args = String::new();
        for a in argv.iter().skip(1).take(10) {
            args.push('\'');
            args.push_str(&String::from_utf8_lossy(&a[..a.len().min(128)]));
            args.push_str("' ");
        }
        return Lookup::Unknown(format!(
            "ERR unknown command '{}', with args beginning with: {}",
            String::from_utf8_lossy(&name[..name.len().min(128)]),
            args
        ));
    };
    if let Run::Container = cmd.run {
        if argv.len() < 2 {
            return Lookup::Arity(format!(
                "ERR wrong number of arguments for '{}' command",
                cmd.name()
            ));
        }
        let Some(sub) = cmd.subcommand(&argv[1]) else {
            let want = format!(
                "{}|{}",
                cmd.name(),
                String::from_utf8_lossy(&argv[1]).to_lowercase()
            );
            if facts_of(&want).is_some() {
                return Lookup::NotSupported(format!(
                    "ERR subcommand '{}' of '{}' is not supported by keel yet",
                    String::from_utf8_lossy(&argv[1]),
                    cmd.name().to_uppercase()
                ));
            }
            return Lookup::UnknownSub(format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                String::from_utf8_lossy(&argv[1][..argv[1].len().min(128)]),
                cmd.name().to_uppercase()
            ));
        };
        if !sub.arity_ok(argv.len()) {
            return Lookup::Arity(format!(
                "ERR wrong number of arguments for '{}' command",
                sub.name()
            ));
        }
        return Lookup::Found(sub);
    }
    if !cmd.arity_ok(argv.len()) {
        return Lookup::Arity(format!(
            "ERR wrong number of arguments for '{}' command",
            cmd.name()
        ));
    }
    Lookup::Found(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn name(l: &Lookup) -> String {
        match l {
            Lookup::Found(c) => c.name().to_string(),
            Lookup::Unknown(e)
            | Lookup::NotSupported(e)
            | Lookup::UnknownSub(e)
            | Lookup::Arity(e) => e.clone(),
        }
    }

    /// The resolver answers exactly as `resolve` for every request of a
    /// stream, whatever it remembered from the one before.
    #[test]
    fn resolver_answers_as_resolve() {
        let stream: &[&[&str]] = &[
            &["SET", "k", "v"],
            &["SET", "k", "v"],
            &["SET", "k"],
            &["set", "k", "v", "NX"],
            &["SET", "k", "v", "EX", "10"],
            &["GET", "k"],
            &["GET"],
            &["GET", "k", "x"],
            &["CONFIG", "GET", "maxmemory"],
            &["CONFIG", "SET", "maxmemory", "0"],
            &["CONFIG", "NOPE"],
            &["CONFIG"],
            &["NOSUCHCOMMAND", "a"],
            &["GET", "k"],
            &["GETX", "k"],
            &["averyveryverylongcommandname", "k"],
            &["averyveryverylongcommandname", "k"],
            &["MSET", "a", "1", "b", "2"],
            &["MSET", "a", "1", "b"],
            &["MSET", "a", "1"],
        ];
        let mut r = Resolver::default();
        for words in stream {
            let a = argv(words);
            assert_eq!(name(&r.resolve(&a)), name(&resolve(&a)), "{words:?}");
        }
    }

    #[test]
    fn resolver_remembers_top_level_commands_only() {
        let mut r = Resolver::default();
        r.resolve(&argv(&["SET", "k", "v"]));
        assert_eq!(r.cmd.map(|c| c.name()), Some("set"));
        // A different spelling is resolved again, and then remembered.
        r.resolve(&argv(&["set", "k", "v"]));
        assert_eq!(&r.name[..r.len], b"set");
        r.resolve(&argv(&["CONFIG", "GET", "x"]));
        assert_eq!(r.cmd.map(|c| c.name()), Some("set"));
    }

    /// The precomputed shape finds the same keys as the key specs, for every
    /// command and argument count, and is the one the common commands take.
    #[test]
    fn key_positions_match_the_key_specs() {
        for cmd in table().every() {
            for argc in 0..8 {
                let argv: Vec<Bytes> = (0..argc)
                    .map(|i| {
                        Bytes::from(if i == 0 {
                            cmd.name().to_string()
                        } else {
                            format!("a{i}")
                        })
                    })
                    .collect();
                let (mut fast, mut slow) = (Vec::new(), Vec::new());
                let f = cmd.key_positions(&argv, &mut fast);
                let s = key_positions_in(cmd.facts.key_specs, &argv, &mut slow);
                assert_eq!((f, fast), (s, slow), "{} with {argc} arguments", cmd.name());
            }
        }
        for name in [
            "get", "set", "incr", "lpush", "rpop", "sadd", "hset", "zadd", "getex",
        ] {
            let cmd = table().get(name.as_bytes()).map(|c| c.keys);
            assert_eq!(cmd, Some(KeyShape::First), "{name}");
        }
        for name in ["mset", "del", "lmove", "rename", "zunionstore"] {
            let cmd = table().get(name.as_bytes()).map(|c| c.keys);
            assert_eq!(cmd, Some(KeyShape::Specs), "{name}");
        }
    }
}
