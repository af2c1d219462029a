//! Command implementations, one module per family, as Redis keeps one file per type.
//!
//! Each module exports a list of `(name, scope, function)` entries; the command
//! table joins them with Redis's facts. A function receives the argument vector
//! (argv[0] is the command name) already checked for arity, runs against the
//! [`Ctx`](crate::engine::Ctx), records its effects there, and returns the reply.

pub mod args;
pub mod bitmap;
pub mod db;
pub mod dump;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod set;
pub mod sort;
pub mod strings;
pub mod zset;

use crate::command::table::EngineEntry;

/// Every engine command list.
pub static ENGINE_COMMANDS: &[&[EngineEntry]] = &[
    strings::COMMANDS,
    keys::COMMANDS,
    db::COMMANDS,
    list::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    zset::COMMANDS,
    bitmap::COMMANDS,
    hll::COMMANDS,
    sort::COMMANDS,
    dump::COMMANDS,
];

/// Commands the server implements itself (they need the connection or server
/// state). The server's dispatcher has a match arm for each; a server test checks.
pub static SERVER_COMMANDS: &[&str] = &[
    "ping",
    "echo",
    "quit",
    "reset",
    "hello",
    "auth",
    "select",
    "time",
    "lastsave",
    "info",
    "config|get",
    "config|set",
    "config|resetstat",
    "config|rewrite",
    "config|help",
    "client|id",
    "client|setname",
    "client|getname",
    "client|list",
    "client|info",
    "client|kill",
    "client|setinfo",
    "client|reply",
    "client|no-evict",
    "client|unblock",
    "client|pause",
    "client|unpause",
    "client|help",
    "command",
    "command|count",
    "command|info",
    "command|docs",
    "command|list",
    "command|getkeys",
    "command|help",
    "debug",
    "memory|stats",
    "memory|doctor",
    "memory|purge",
    "memory|malloc-stats",
    "memory|help",
    "slowlog|get",
    "slowlog|len",
    "slowlog|reset",
    "slowlog|help",
    "latency|latest",
    "latency|history",
    "latency|reset",
    "latency|doctor",
    "latency|help",
    "monitor",
    "shutdown",
    "bgrewriteaof",
    "waitaof",
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    "subscribe",
    "unsubscribe",
    "psubscribe",
    "punsubscribe",
    "ssubscribe",
    "sunsubscribe",
    "publish",
    "spublish",
    "pubsub|channels",
    "pubsub|numsub",
    "pubsub|numpat",
    "pubsub|shardchannels",
    "pubsub|shardnumsub",
    "pubsub|help",
];
