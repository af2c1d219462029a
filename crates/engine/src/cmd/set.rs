//! Set commands (t_set.c): SADD, SREM, SPOP, SRANDMEMBER, SINTER and family, SSCAN.

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
