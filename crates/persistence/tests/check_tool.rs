//! keel-check-aof, through its binary and through `check::run`, and interop with
//! Redis's redis-check-aof.

mod common;

use common::*;
use keel_persistence::check;
use keel_persistence::manifest::manifest_name;
use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

fn tool(args: &[&Path], fix: bool) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel-check-aof"));
    if fix {
        cmd.arg("--fix");
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run keel-check-aof");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let b = sample();
    let p = dir.path().join("x.aof");
    fs::write(&p, &b.bytes).unwrap();
    let (code, out) = tool(&[&p], false);
    assert_eq!(code, 0, "{out}");
    let n = b.bytes.len();
    assert!(
        out.contains(&format!("size={n}, ok_up_to={n}, ")) && out.contains("diff=0"),
        "{out}"
    );
    assert!(
        out.contains(&format!("AOF {} is valid", p.display())),
        "{out}"
    );
}

#[test]
fn truncated_file_fix_and_recheck() {
    let dir = tempfile::tempdir().unwrap();
    let b = sample();
    let cut = b.bytes.len() - 20;
    let (valid, _) = b.valid_at(cut as u64);
    let p = dir.path().join("x.aof");
    fs::write(&p, &b.bytes[..cut]).unwrap();

    let (code, out) = tool(&[&p], false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("ok_up_to={valid}, ")), "{out}");
    assert!(
        out.contains(&format!("diff={}", cut as u64 - valid)),
        "{out}"
    );
    assert!(
        out.contains("is not valid. Use the --fix option to try fixing it."),
        "{out}"
    );
    assert_eq!(
        fs::read(&p).unwrap(),
        &b.bytes[..cut],
        "check changed the file"
    );

    // stdin is not a terminal: --fix asks nothing.
    let (code, out) = tool(&[&p], true);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Successfully truncated"), "{out}");
    assert!(!out.contains("Continue?"), "{out}");
    assert_eq!(fs::read(&p).unwrap(), &b.bytes[..valid as usize]);
    let backups = files_starting(dir.path(), "x.aof.bak-");
    assert_eq!(backups.len(), 1);
    assert_eq!(fs::read(&backups[0]).unwrap(), &b.bytes[..cut]);

    let (code, out) = tool(&[&p], false);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("is valid"), "{out}");
}

#[test]
fn checksum_damage_in_the_last_file_is_fixed_at_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let b = sample();
    let mut bytes = b.bytes.clone();
    let batch = &b.batches[2];
    let at = batch.start as usize
        + bytes[batch.start as usize..]
            .windows(3)
            .position(|w| w == b"bin")
            .unwrap();
    bytes[at] = b'x';
    let p = dir.path().join("x.aof");
    fs::write(&p, &bytes).unwrap();
    let (code, out) = tool(&[&p], false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not match its #K1 annotation"), "{out}");
    let (code, out) = tool(&[&p], true);
    assert_eq!(code, 0, "{out}");
    assert_eq!(fs::read(&p).unwrap(), &bytes[..batch.start as usize]);
}

#[test]
fn manifest_checks_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let b = sample();
    let paths = write_log(dir.path(), &[&b.bytes, &b.bytes]);
    let m = dir.path().join(manifest_name(APPENDFILENAME));
    let (code, out) = tool(&[&m], false);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("INCR AOF appendonly.aof.1.incr.aof is valid"),
        "{out}"
    );
    assert!(
        out.contains("INCR AOF appendonly.aof.2.incr.aof is valid"),
        "{out}"
    );
    assert!(
        out.contains("All AOF files and manifest are valid"),
        "{out}"
    );

    // Damage in a file that is not the last: reported, and --fix refuses.
    let cut = b.bytes.len() - 5;
    fs::write(&paths[0], &b.bytes[..cut]).unwrap();
    let (code, out) = tool(&[&m], true);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "Failed to truncate AOF appendonly.aof.1.incr.aof because it is not the last file"
        ),
        "{out}"
    );
    assert_eq!(fs::read(&paths[0]).unwrap(), &b.bytes[..cut]);
    assert!(files_starting(dir.path(), "appendonly.aof.1.incr.aof.bak").is_empty());

    // A missing file.
    fs::remove_file(&paths[1]).unwrap();
    let (code, out) = tool(&[&m], false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is listed in the manifest"), "{out}");
}

#[test]
fn asks_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let b = sample();
    let cut = b.bytes.len() - 1;
    let p = dir.path().join("x.aof");
    fs::write(&p, &b.bytes[..cut]).unwrap();
    let args = [OsString::from("--fix"), p.clone().into_os_string()];

    let mut out = Vec::new();
    let code = check::run(&args, true, &mut &b"n\n"[..], &mut out);
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("Continue? [y/N]: Aborting..."), "{text}");
    assert_eq!(fs::read(&p).unwrap(), &b.bytes[..cut]);

    let mut out = Vec::new();
    let code = check::run(&args, true, &mut &b"y\n"[..], &mut out);
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{text}");
    let (valid, _) = b.valid_at(cut as u64);
    assert_eq!(fs::read(&p).unwrap(), &b.bytes[..valid as usize]);
}

#[test]
fn usage_errors() {
    let (code, out) = tool(&[], false);
    assert_eq!(code, 1);
    assert!(out.contains("Usage"), "{out}");
    let (code, out) = tool(&[Path::new("/nonexistent/x.aof")], false);
    assert_eq!(code, 1, "{out}");
}

fn redis_check_aof_available() -> bool {
    let found = Command::new("redis-check-aof")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        if std::env::var("KEEL_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("redis-check-aof is not installed and KEEL_REQUIRE_INTEROP=1");
        }
        eprintln!("SKIPPED: redis-check-aof is not installed (set KEEL_REQUIRE_INTEROP=1 to fail)");
    }
    found
}

#[test]
fn redis_check_aof_accepts_keel_files() {
    if !redis_check_aof_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let b = sample();
    let p = dir.path().join("keel.aof");
    fs::write(&p, &b.bytes).unwrap();
    let out = Command::new("redis-check-aof")
        .arg(&p)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("is valid"), "{text}");
    assert!(
        text.contains(&format!("ok_up_to={}", b.bytes.len())),
        "{text}"
    );

    // And a multi-part log through its manifest.
    write_log(dir.path(), &[&b.bytes, &b.bytes]);
    let m = dir.path().join(manifest_name(APPENDFILENAME));
    let out = Command::new("redis-check-aof")
        .arg(&m)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("All AOF files and manifest are valid"),
        "{text}"
    );
}
