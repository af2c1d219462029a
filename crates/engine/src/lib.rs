//! keel's engine: the keyspace, value types, expiry, the command table and every
//! command that works on data. No sockets and no files live here: commands come in
//! as argument vectors, replies go out as [`Frame`](keel_protocol::Frame)s, and each
//! write produces *effects* (the exact commands that reproduce the change), which
//! the engine hands to an [`EffectSink`] in execution order. Time comes through a
//! [`Clock`], so expiry is testable without sleeping.

pub mod clock;
pub mod cmd;
pub mod command;
pub mod digest;
pub mod engine;
pub mod evict;
pub mod expire;
pub mod glob;
pub mod inspect;
pub mod keymap;
pub mod keyspace;
pub mod notify;
pub mod postable;
pub mod rdb;
pub mod rewrite;
pub mod types;
pub mod util;
pub mod value;

pub use clock::{Clock, ManualClock, SystemClock};
pub use command::table::{resolve, table, Command, Lookup, Resolver, Run, Scope};
pub use engine::{
    BlockRequest, Ctx, Effect, EffectSink, Engine, EngineConfig, Locks, NullSink, Outcome, Session,
    ShardSnapshot,
};
pub use notify::Notification;
