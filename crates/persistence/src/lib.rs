//! keel's append-only file (see docs/PERSISTENCE.md for the format and guarantees).
//!
//! - `format`: RESP encoding of records and keel's `#K1` batch annotations.
//! - `manifest`: Redis 7's multi-part AOF manifest (parse, write atomically).
//! - `loader`: streaming replay of a manifest's files into anything that applies
//!   commands, with truncated-tail and corruption handling.
//! - `parallel`: an applier that replays single-shard commands on several threads.
//! - `check`: the logic of `keel-check-aof`.

pub mod check;
pub mod format;
pub mod loader;
pub mod manifest;
pub mod parallel;

pub use format::{append_batch, encode_command, seal_batch, Annotation, BatchWriter, Tail};
pub use loader::{
    load_dir, load_file, Apply, CorruptPolicy, EngineApply, Gap, LoadError, LoadErrorKind,
    LoadOptions, LoadReport, LoadState, Progress, Truncation,
};
pub use manifest::{FileEntry, FileKind, Manifest};
pub mod log;
pub mod rewrite;
pub mod writer;
