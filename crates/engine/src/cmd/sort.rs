//! SORT and SORT_RO (sort.c).

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
