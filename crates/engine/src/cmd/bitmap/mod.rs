//! Bitmap and bit-field commands on string values (bitops.c): SETBIT, GETBIT,
//! BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

use crate::command::table::EngineEntry;

pub static COMMANDS: &[EngineEntry] = &[];
