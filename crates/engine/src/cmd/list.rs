//! List commands (t_list.c): LPUSH, RPUSH, LPOP, LRANGE, LMOVE, LMPOP and the
//! blocking forms BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
