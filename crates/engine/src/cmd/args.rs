//! Helpers shared by command functions: argument parsing with Redis's error texts.

/// For building effects: `smallvec![..]` and `Args::from(argv)` keep the
/// common ones off the heap (see [`crate::engine::Args`]).
pub use crate::engine::Args;
use crate::util;
use bytes::Bytes;
use keel_protocol::Frame;
pub use smallvec::smallvec;

pub const ERR_SYNTAX: &str = "ERR syntax error";
pub const ERR_NOT_INT: &str = "ERR value is not an integer or out of range";
pub const ERR_NOT_FLOAT: &str = "ERR value is not a valid float";
pub const ERR_WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const ERR_OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const ERR_NO_KEY: &str = "ERR no such key";

pub fn err(msg: &str) -> Frame {
    Frame::error(msg)
}

pub fn wrongtype() -> Frame {
    Frame::error(ERR_WRONGTYPE)
}

/// Parses an integer argument, or the Redis error reply for it.
pub fn int_arg(b: &[u8]) -> Result<i64, Frame> {
    util::parse_i64(b).ok_or_else(|| Frame::error(ERR_NOT_INT))
}

/// Parses a float argument, or the Redis error reply for it.
pub fn float_arg(b: &[u8]) -> Result<f64, Frame> {
    util::parse_f64(b).ok_or_else(|| Frame::error(ERR_NOT_FLOAT))
}

/// Parses a blocking command's timeout (seconds, fractions allowed, 0 = forever)
/// into milliseconds, with Redis's errors (`getTimeoutFromObjectOrReply`).
pub fn timeout_arg(b: &[u8]) -> Result<u64, Frame> {
    let secs = util::parse_f64(b)
        .filter(|v| !v.is_nan())
        .ok_or_else(|| Frame::error("ERR timeout is not a float or out of range"))?;
    let ms = secs * 1000.0;
    // Redis converts to a signed 64-bit count, so values past its range wrap to
    // negative and get the "negative" error, as infinity does.
    if !(0.0..9.2e18).contains(&ms) {
        return Err(Frame::error("ERR timeout is negative"));
    }
    // A positive timeout below a millisecond still times out (after 1 ms), it
    // does not turn into "forever".
    let whole = ms as u64;
    Ok(if whole == 0 && ms > 0.0 { 1 } else { whole })
}

/// Case-insensitive comparison of an argument with an option name.
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// A static argument (a command name in an effect).
pub fn s(name: &'static str) -> Bytes {
    Bytes::from_static(name.as_bytes())
}

/// An integer as an argument.
pub fn n(v: i64) -> Bytes {
    util::fmt_i64(v)
}

/// Unwraps a `Result<T, Frame>` in a command function, returning the error reply.
#[macro_export]
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(f) => return f,
        }
    };
}
