//! `keel-check-aof [--fix] FILE|MANIFEST` (see `keel_persistence::check`).

use std::io::IsTerminal;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let stdout = std::io::stdout();
    let code = keel_persistence::check::run(&args, tty, &mut stdin.lock(), &mut stdout.lock());
    std::process::exit(code);
}
