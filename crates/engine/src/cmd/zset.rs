//! Sorted-set commands (t_zset.c): ZADD, ZRANGE and family, the set operations,
//! ZSCAN and the blocking forms BZPOPMIN, BZPOPMAX, BZMPOP.

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
