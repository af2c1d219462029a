//! Logging hook: the server installs its logger; without one, messages go to stderr.

use std::sync::OnceLock;

static LOGGER: OnceLock<fn(bool, &str)> = OnceLock::new();

/// Installs the function that logs (`true` = warning, `false` = notice).
pub fn set_logger(f: fn(bool, &str)) {
    let _ = LOGGER.set(f);
}

pub fn warning(msg: &str) {
    match LOGGER.get() {
        Some(f) => f(true, msg),
        None => eprintln!("# {msg}"),
    }
}

pub fn notice(msg: &str) {
    match LOGGER.get() {
        Some(f) => f(false, msg),
        None => eprintln!("* {msg}"),
    }
}
