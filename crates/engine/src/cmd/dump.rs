//! DUMP and RESTORE in Redis's DUMP payload format (RDB object encoding, RDB
//! version, CRC64 footer).

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
