//! Hash commands (t_hash.c): HSET, HGET, HINCRBY, HRANDFIELD, HSCAN and family.

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
