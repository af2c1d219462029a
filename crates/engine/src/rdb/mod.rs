//! The RDB object codec: how Redis serialises one value, shared by DUMP/RESTORE
//! (a payload is one object) and, later, by RDB files (a stream of them).
//!
//! * [`load`]: reads every object type Redis 7.0 reads (strings plain, integer or
//!   LZF encoded; lists as quicklist 2, quicklist of ziplists, ziplist or plain;
//!   sets as intset or plain, and 7.2's listpack sets; hashes as listpack,
//!   ziplist, zipmap or plain; sorted sets as listpack, ziplist, binary or text
//!   scores) into keel's [`Value`], building it through the types' public
//!   methods so encodings follow the configured thresholds. Streams and module
//!   values are refused (keel has neither).
//! * [`save`]: writes what Redis 7.0.15 writes for the same value: listpack,
//!   intset, quicklist 2 or plain forms by the value's encoding, strings with
//!   Redis's integer encoding and LZF compression, so payloads and DEBUG OBJECT
//!   `serializedlength` match Redis's.
//! * The packed formats live in their own modules ([`listpack`], [`ziplist`],
//!   [`intset`], [`zipmap`]), with [`lzf`], [`crc64`] and [`strtod`].
//!
//! Nothing here trusts its input: every length is checked against the bytes
//! actually present before anything is allocated for it (an LZF length against
//! the most the compressed bytes can expand to), every packed blob is fully
//! validated, and no input can make the loader panic.

pub mod crc64;
pub mod intset;
pub mod listpack;
pub mod load;
pub mod lzf;
pub mod save;
pub mod strtod;
pub mod ziplist;
pub mod zipmap;

use crate::types::Thresholds;
use crate::value::Value;
use bytes::Bytes;

pub use load::{load_object, Reader};
pub use save::{object_len, save_object, value_type};

/// The RDB version keel writes and the highest it accepts (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;

/// RDB object type bytes (rdb.h).
pub mod kind {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// Redis 7.2 (RDB 11); loaded, never written.
    pub const SET_LISTPACK: u8 = 20;
}

/// Why an object could not be loaded (for logs; RESTORE answers "Bad data
/// format" whatever it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub &'static str);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// One element of a packed blob: listpacks and ziplists store integers apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The element as the string Redis hands out for it.
    pub fn to_bytes(self) -> Bytes {
        match self {
            Elem::Int(v) => crate::util::fmt_i64(v),
            Elem::Str(s) => Bytes::copy_from_slice(s),
        }
    }

    /// A sorted-set score stored in a packed blob (`zzlGetScore`): integers as
    /// they are, strings through `strtod` of at most their first 127 bytes.
    pub fn score(self) -> f64 {
        match self {
            Elem::Int(v) => v as f64,
            Elem::Str(s) => {
                let s = &s[..s.len().min(127)];
                let s = s.split(|&c| c == 0).next().unwrap_or(s);
                strtod::strtod(s).value
            }
        }
    }
}

/// Why RESTORE refuses a payload; each has its own Redis error reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// "DUMP payload version or checksum are wrong".
    VersionOrChecksum,
    /// "Bad data format".
    BadData(Error),
}

/// The DUMP payload of `value`: type byte, object, RDB version (u16 LE), CRC64
/// of all that (u64 LE).
pub fn dump_payload(value: &Value, t: &Thresholds) -> Vec<u8> {
    let mut out = vec![value_type(value)];
    save_object(&mut out, value, t);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// `verifyDumpPayload`: at least the 10-byte footer, a version keel knows and
/// a matching checksum.
pub fn verify_payload(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return false;
    }
    let crc = crc64::crc64(0, &p[..p.len() - 8]);
    crc.to_le_bytes()[..] == footer[2..]
}

/// The value a DUMP payload holds (RESTORE). As in Redis, the object is read
/// from the whole payload, footer included (a string declared longer than its
/// bytes may take the footer's), and whatever follows the object is ignored.
pub fn load_payload(p: &[u8], t: &Thresholds) -> std::result::Result<Value, PayloadError> {
    if !verify_payload(p) {
        return Err(PayloadError::VersionOrChecksum);
    }
    let mut r = Reader::new(p);
    let kind = r.byte().map_err(PayloadError::BadData)?;
    load_object(&mut r, kind, t).map_err(PayloadError::BadData)
}

#[cfg(test)]
mod tests;
