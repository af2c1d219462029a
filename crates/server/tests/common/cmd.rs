//! Short helpers for driving keel with the `redis` crate in tests: commands from
//! space-separated lines, typed queries, error texts as "CODE detail", INFO fields.
#![allow(dead_code)]

use redis::{Cmd, Connection, FromRedisValue, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A command from a space-separated line (no quoting).
pub fn c(line: &str) -> Cmd {
    let mut cmd = Cmd::new();
    for a in line.split(' ') {
        cmd.arg(a);
    }
    cmd
}

/// A command from binary arguments.
pub fn cb(args: &[&[u8]]) -> Cmd {
    let mut cmd = Cmd::new();
    for a in args {
        cmd.arg(*a);
    }
    cmd
}

/// Runs `line`, which must succeed, and converts its reply.
pub fn q<T: FromRedisValue>(con: &mut Connection, line: &str) -> T {
    c(line)
        .query(con)
        .unwrap_or_else(|e| panic!("{line}: unexpected error {e}"))
}

pub fn v(con: &mut Connection, line: &str) -> Value {
    q(con, line)
}

pub fn i(con: &mut Connection, line: &str) -> i64 {
    q(con, line)
}

/// The error a command answers, as "CODE detail".
pub fn e(con: &mut Connection, line: &str) -> String {
    match c(line).query::<Value>(con) {
        Ok(v) => panic!("{line}: expected an error, got {v:?}"),
        Err(err) => format!(
            "{} {}",
            err.code().unwrap_or("?"),
            err.detail().unwrap_or("")
        ),
    }
}

pub fn bulk(s: &[u8]) -> Value {
    Value::BulkString(s.to_vec())
}

/// Redis's arity error for `cmd`.
pub fn arity(cmd: &str) -> String {
    format!("ERR wrong number of arguments for '{cmd}' command")
}

/// One INFO field's value.
pub fn info_field(con: &mut Connection, section: &str, field: &str) -> Option<String> {
    let text: String = q(con, &format!("INFO {section}"));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|s| s.trim().to_string())
}

/// A numeric INFO field; panics (failing the test) if it is missing or not a
/// number of type `T`.
pub fn info_num<T: std::str::FromStr>(con: &mut Connection, section: &str, field: &str) -> T {
    let v =
        info_field(con, section, field).unwrap_or_else(|| panic!("INFO {section} has no {field}"));
    v.parse()
        .unwrap_or_else(|_| panic!("INFO {section} {field}: not a number: {v}"))
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Polls `f` every 20 ms until it returns true or `limit` passes.
pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
