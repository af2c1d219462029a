//! HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE, on string values
//! in Redis's dense and sparse representations (see [`repr`]).

pub mod repr;

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
