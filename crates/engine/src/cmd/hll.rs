//! HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE, on string values
//! in Redis's dense and sparse representations.

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
