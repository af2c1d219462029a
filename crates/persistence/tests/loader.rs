//! Loader behaviour: round trips, Redis files, truncated tails, corruption.

mod common;

use common::*;
use keel_persistence::format::{encode_command, Annotation, BatchWriter, Tail};
use keel_persistence::manifest::{base_name, manifest_name, FileEntry, FileKind, Manifest};
use keel_persistence::{
    load_dir, CorruptPolicy, EngineApply, LoadErrorKind, LoadOptions, LoadReport,
};
use std::fs;
use std::path::Path;

fn opts(load_truncated: bool, corrupt: CorruptPolicy) -> LoadOptions {
    LoadOptions {
        load_truncated,
        corrupt,
    }
}

fn load(
    dir: &Path,
    o: &LoadOptions,
    rec: &mut dyn keel_persistence::Apply,
) -> Result<LoadReport, keel_persistence::LoadError> {
    load_dir(dir, APPENDFILENAME, o, rec, &mut |_| {})
}

#[test]
fn round_trip_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = sample();
    let mut b = Builder::new();
    b.seq = a.seq;
    b.select(5).cmd(&["SET", "k", "v"]).seal();
    b.cmd(&["EXPIRE", "k", "100"]).seal();
    write_log(dir.path(), &[&a.bytes, &b.bytes]);
    let mut rec = Recorder::default();
    let r = load(dir.path(), &LoadOptions::default(), &mut rec).unwrap();
    let mut want = a.cmds.clone();
    want.extend(b.cmds.clone());
    assert_eq!(rec.applied, want);
    assert_eq!(r.commands, want.len() as u64);
    assert_eq!(
        r.batches_verified,
        (a.batches.len() + b.batches.len()) as u64
    );
    assert_eq!(r.last_seq, b.seq - 1);
    assert_eq!(r.unverified_tail_commands, 0);
    assert_eq!(r.bytes, (a.bytes.len() + b.bytes.len()) as u64);
    assert_eq!(r.files.len(), 2);
    assert!(r.truncated.is_none() && r.quarantined.is_empty());
}

#[test]
fn base_then_incrs_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut base = Vec::new();
    encode_command(&mut base, &["SET", "k", "base"]);
    let mut incr = Vec::new();
    encode_command(&mut incr, &["SET", "k", "incr"]);
    fs::write(dir.path().join(base_name(APPENDFILENAME, 1)), &base).unwrap();
    fs::write(dir.path().join("appendonly.aof.2.incr.aof"), &incr).unwrap();
    fs::write(dir.path().join("appendonly.aof.1.incr.aof"), b"garbage").unwrap();
    let m = Manifest {
        base: Some(FileEntry {
            name: base_name(APPENDFILENAME, 1),
            seq: 1,
            kind: FileKind::Base,
        }),
        // A history file is not loaded.
        history: vec![FileEntry {
            name: "appendonly.aof.1.incr.aof".into(),
            seq: 1,
            kind: FileKind::History,
        }],
        incrs: vec![FileEntry {
            name: "appendonly.aof.2.incr.aof".into(),
            seq: 2,
            kind: FileKind::Incr,
        }],
    };
    m.write_atomic(dir.path(), &manifest_name(APPENDFILENAME))
        .unwrap();
    let mut rec = Recorder::default();
    load(dir.path(), &LoadOptions::default(), &mut rec).unwrap();
    let vals: Vec<&[u8]> = rec.applied.iter().map(|(_, a)| &a[2][..]).collect();
    assert_eq!(vals, vec![&b"base"[..], b"incr"]);
}

#[test]
fn redis_file_without_annotations_and_ts_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n\
*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n#TS:1700000001\r\n";
    write_log(dir.path(), &[text]);
    let mut rec = Recorder::default();
    let r = load(dir.path(), &LoadOptions::default(), &mut rec).unwrap();
    assert_eq!(
        rec.applied,
        vec![
            (2, vec![b"SET".to_vec(), b"a".to_vec(), b"b".to_vec()]),
            (2, vec![b"INCR".to_vec(), b"n".to_vec()]),
        ]
    );
    assert_eq!(r.batches_verified, 0);
    assert_eq!(r.unverified_tail_commands, 2);
    // The whole file is the tail a writer appending to it must cover.
    assert_eq!(
        r.tail,
        Some(Tail {
            bytes: text.len() as u64,
            crc: keel_persistence::format::crc32(text)
        })
    );
}

#[test]
fn unverified_tail_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample();
    b.cmd(&["SET", "tail", "1"]).cmd(&["SET", "tail", "2"]);
    write_log(dir.path(), &[&b.bytes]);
    let mut rec = Recorder::default();
    let r = load(dir.path(), &LoadOptions::default(), &mut rec).unwrap();
    assert_eq!(rec.applied, b.cmds);
    assert_eq!(r.unverified_tail_commands, 2);
}

#[test]
fn truncated_at_every_offset() {
    let b = sample();
    let full = &b.bytes;
    let check = |cut: usize| {
        let prefix = &full[..cut];
        let (valid, ncmds) = b.valid_at(cut as u64);

        // Without load_truncated: an error naming the offset (or success at a boundary).
        let dir = fast_tempdir();
        let paths = write_log(dir.path(), &[prefix]);
        let mut rec = Recorder::default();
        let r = load(dir.path(), &opts(false, CorruptPolicy::Refuse), &mut rec);
        if valid == cut as u64 {
            let r = r.unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            assert_eq!(rec.applied, b.cmds[..ncmds], "cut {cut}");
            assert!(r.truncated.is_none());
        } else {
            let e = r.expect_err("must refuse a truncated file");
            assert_eq!(e.kind, LoadErrorKind::Truncated, "cut {cut}: {e}");
            assert_eq!(e.offset, valid, "cut {cut}: {e}");
            assert!(e.to_string().contains("truncated"), "{e}");
            assert!(e.to_string().contains(&format!("offset {valid}")), "{e}");
        }
        assert_eq!(fs::read(&paths[0]).unwrap(), prefix, "cut {cut}: changed");

        // With load_truncated: complete commands applied, file cut, tail saved.
        let dir = fast_tempdir();
        let paths = write_log(dir.path(), &[prefix]);
        let mut rec = Recorder::default();
        let r = load(dir.path(), &opts(true, CorruptPolicy::Refuse), &mut rec)
            .unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert_eq!(rec.applied, b.cmds[..ncmds], "cut {cut}");
        assert_eq!(fs::read(&paths[0]).unwrap(), &full[..valid as usize]);
        let side = files_starting(dir.path(), "appendonly.aof.1.incr.aof.truncated-");
        if valid == cut as u64 {
            assert!(r.truncated.is_none());
            assert!(side.is_empty());
        } else {
            let t = r.truncated.expect("a truncation report");
            assert_eq!(t.offset, valid);
            assert_eq!(t.dropped_bytes, cut as u64 - valid);
            assert_eq!(side.len(), 1);
            assert_eq!(t.saved_to, side[0].display().to_string());
            assert_eq!(fs::read(&side[0]).unwrap(), &full[valid as usize..cut]);
            assert_eq!(r.bytes, valid);
        }

        // A writer appending to the (cut) file continues the last batch: the next
        // load verifies everything.
        let tail = r.tail.expect("a tail");
        assert_eq!(
            tail.bytes,
            valid
                - b.batches
                    .iter()
                    .map(|bt| bt.end)
                    .filter(|&e| e <= valid)
                    .max()
                    .unwrap_or(0)
        );
        let mut w = BatchWriter::continuing(r.last_seq + 1, tail);
        w.command(&["SET", "after", "1"]);
        w.seal(1);
        let mut bytes = fs::read(&paths[0]).unwrap();
        bytes.extend_from_slice(w.bytes());
        fs::write(&paths[0], &bytes).unwrap();
        let mut rec = Recorder::default();
        let r2 = load(dir.path(), &opts(false, CorruptPolicy::Refuse), &mut rec)
            .unwrap_or_else(|e| panic!("cut {cut}: after appending: {e}"));
        assert_eq!(rec.applied.len(), ncmds + 1);
        assert_eq!(r2.unverified_tail_commands, 0);
        assert_eq!(r2.tail, Some(Tail::default()));
    };
    // fsyncs dominate: run the offsets on a few threads.
    std::thread::scope(|s| {
        for k in 0..8 {
            let check = &check;
            s.spawn(move || (k..=full.len()).step_by(8).for_each(check));
        }
    });
}

#[test]
fn incomplete_command_in_a_middle_file_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let b = sample();
    let cut = b.bytes.len() - 3;
    let paths = write_log(dir.path(), &[&b.bytes[..cut], &b.bytes]);
    let mut rec = Recorder::default();
    let e = load(dir.path(), &opts(true, CorruptPolicy::Refuse), &mut rec).unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Corrupt, "{e}");
    assert!(e.file.ends_with("appendonly.aof.1.incr.aof"));
    assert!(!e.last_file);
    assert!(e.to_string().contains("not the last file"), "{e}");
    assert_eq!(fs::read(&paths[0]).unwrap(), &b.bytes[..cut]);
}

/// Offset of the first occurrence of `needle` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> usize {
    from + hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

#[test]
fn checksum_mismatch_is_detected_with_its_offset() {
    let b = sample();
    let mut bytes = b.bytes.clone();
    // Batch 3 holds SET c <value>: change a value byte; it still parses.
    let batch = &b.batches[2];
    let at = find(&bytes, b"bin", batch.start as usize);
    bytes[at] = b'B';
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), &[&bytes]);
    let mut rec = Recorder::default();
    let e = load(dir.path(), &LoadOptions::default(), &mut rec).unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Corrupt);
    assert_eq!(e.offset, batch.start);
    assert_eq!(e.valid_up_to, batch.start);
    let line = 1 + bytes[..batch.start as usize]
        .iter()
        .filter(|&&c| c == b'\n')
        .count() as u64;
    assert_eq!(e.line, line);
    let text = e.to_string();
    assert!(text.contains("does not match its #K1 annotation"), "{text}");
    assert!(text.contains(&format!("offset {}", batch.start)), "{text}");
    assert!(text.contains("keel-check-aof --fix"), "{text}");
    assert!(text.contains("aof-load-corrupt salvage"), "{text}");
    assert_eq!(
        fs::read(&paths[0]).unwrap(),
        bytes,
        "Refuse changed the file"
    );

    // Salvage: the other batches load, the damaged one is set aside.
    let mut rec = Recorder::default();
    let r = load(dir.path(), &opts(true, CorruptPolicy::Salvage), &mut rec).unwrap();
    let mut want = b.cmds.clone();
    want.drain(batch.cmds.clone());
    assert_eq!(rec.applied, want);
    assert_eq!(r.quarantined.len(), 1);
    let g = &r.quarantined[0];
    assert_eq!((g.start, g.end), (batch.start, batch.end));
    assert!(g
        .saved_to
        .ends_with(&format!(".quarantine-{}", batch.start)));
    assert_eq!(
        fs::read(&g.saved_to).unwrap(),
        &bytes[batch.start as usize..batch.end as usize]
    );
    assert_eq!(
        fs::read(&paths[0]).unwrap(),
        bytes,
        "Salvage changed the log"
    );
    assert_eq!(r.batches_verified, b.batches.len() as u64 - 1);
}

#[test]
fn lost_annotation_loses_only_its_batch() {
    let b = sample();
    let mut bytes = b.bytes.clone();
    // Damage batch 2's annotation so it is no longer a #K1 line.
    let batch = &b.batches[1];
    bytes[batch.ann as usize + 1] = b'X';
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&bytes]);
    let mut rec = Recorder::default();
    let r = load(dir.path(), &opts(true, CorruptPolicy::Salvage), &mut rec).unwrap();
    let mut want = b.cmds.clone();
    want.drain(batch.cmds.clone());
    assert_eq!(rec.applied, want);
    assert_eq!(r.quarantined.len(), 1);
    assert_eq!(
        (r.quarantined[0].start, r.quarantined[0].end),
        (batch.start, batch.end)
    );
}

#[test]
fn random_corruption() {
    let b = sample();
    let one = |round: u64| {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (round + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut bytes = b.bytes.clone();
        let what = rng.below(3);
        let pos = rng.below(bytes.len() as u64) as usize;
        match what {
            0 => bytes[pos] ^= 1 << rng.below(8),
            1 => bytes[pos] = rng.next() as u8,
            _ => {
                let n = 1 + rng.below(8) as usize;
                let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                bytes.splice(pos..pos, junk);
            }
        }
        // Refuse never changes a file.
        let dir = fast_tempdir();
        let paths = write_log(dir.path(), &[&bytes]);
        let mut rec = Recorder::default();
        let r = load(dir.path(), &opts(false, CorruptPolicy::Refuse), &mut rec);
        if let Err(e) = &r {
            assert!(
                matches!(e.kind, LoadErrorKind::Corrupt | LoadErrorKind::Truncated),
                "round {round}: {e}"
            );
            assert!(e.valid_up_to <= bytes.len() as u64);
        }
        assert_eq!(fs::read(&paths[0]).unwrap(), bytes, "round {round}");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "round {round}"
        );

        // Salvage loads every batch the damage did not touch.
        let mut rec = Recorder::default();
        let r = load(dir.path(), &opts(true, CorruptPolicy::Salvage), &mut rec)
            .unwrap_or_else(|e| panic!("round {round}: salvage failed: {e}"));
        let damaged: Vec<usize> = b
            .batches
            .iter()
            .enumerate()
            .filter(|(_, bt)| (pos as u64) >= bt.start && (pos as u64) < bt.end)
            .map(|(i, _)| i)
            .collect();
        // Batches before the damaged one are intact.
        let first = damaged.first().copied().unwrap_or(b.batches.len());
        let before = b
            .batches
            .get(first)
            .map_or(b.cmds.len(), |bt| bt.cmds.start);
        assert_eq!(
            rec.applied[..before.min(rec.applied.len())],
            b.cmds[..before.min(rec.applied.len())],
            "round {round}"
        );
        if rec.applied != b.cmds {
            assert!(
                !r.quarantined.is_empty() || r.truncated.is_some() || what == 2,
                "round {round}: commands lost without a report"
            );
        }
        for g in &r.quarantined {
            let saved = fs::read(&g.saved_to).unwrap();
            assert_eq!(saved, &bytes[g.start as usize..g.end as usize]);
        }
        // Batches after the damaged one load when the damage is not an insertion
        // that shifted them (insertions are covered by the checks above).
        if what != 2 && first + 1 < b.batches.len() && r.truncated.is_none() {
            let after = b.batches[first + 1].cmds.start;
            let tail = &b.cmds[after..];
            assert!(
                rec.applied.ends_with(tail),
                "round {round}: later batches missing (pos {pos})"
            );
        }
    };
    std::thread::scope(|s| {
        for k in 0..8u64 {
            let one = &one;
            s.spawn(move || (k..400).step_by(8).for_each(one));
        }
    });
}

#[test]
fn multi_is_buffered_until_exec() {
    let mut bytes = Vec::new();
    encode_command(&mut bytes, &["SET", "before", "1"]);
    encode_command(&mut bytes, &["MULTI"]);
    encode_command(&mut bytes, &["SET", "a", "1"]);
    encode_command(&mut bytes, &["SET", "b", "2"]);
    bytes.extend_from_slice(b"?garbage\r\n");
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&bytes]);
    let mut rec = Recorder::default();
    let e = load(dir.path(), &LoadOptions::default(), &mut rec).unwrap_err();
    assert_eq!(rec.applied.len(), 1, "the MULTI block must not be applied");
    assert_eq!(e.valid_up_to, find(&bytes, b"*1\r\n$5\r\nMULTI", 0) as u64);
    assert!(e.message.contains("expected '*'"), "{e}");
}

#[test]
fn torn_multi_at_end_is_dropped() {
    let mut b = Builder::new();
    b.cmd(&["SET", "a", "1"]).seal();
    let keep = b.bytes.len();
    encode_command(&mut b.bytes, &["MULTI"]);
    encode_command(&mut b.bytes, &["SET", "b", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), &[&b.bytes]);
    let mut rec = Recorder::default();
    let r = load(dir.path(), &LoadOptions::default(), &mut rec).unwrap();
    assert_eq!(rec.applied, b.cmds);
    let t = r.truncated.unwrap();
    assert_eq!(t.offset, keep as u64);
    assert_eq!(fs::read(&paths[0]).unwrap(), &b.bytes[..keep]);
    assert_eq!(fs::read(&t.saved_to).unwrap(), &b.bytes[keep..]);
}

#[test]
fn multi_errors() {
    for (text, want) in [
        (&b"*1\r\n$4\r\nEXEC\r\n"[..], "EXEC without MULTI"),
        (
            &b"*1\r\n$5\r\nMULTI\r\n*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nEXEC\r\n"[..],
            "MULTI inside",
        ),
        (&b"*2\r\n$6\r\nSELECT\r\n$1\r\nx\r\n"[..], "bad SELECT"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), &[text]);
        let e = load(
            dir.path(),
            &LoadOptions::default(),
            &mut Recorder::default(),
        )
        .unwrap_err();
        assert!(e.message.contains(want), "{e}");
    }
}

/// Writes `b` as a log and loads it (Refuse) with a recorder that refuses
/// BOOM: the directory, its files, the load's error and what was applied.
fn load_refusing_boom(
    b: &Builder,
) -> (
    tempfile::TempDir,
    Vec<std::path::PathBuf>,
    keel_persistence::LoadError,
    Recorder,
) {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), &[&b.bytes]);
    let mut rec = Recorder {
        fail: vec!["BOOM"],
        ..Default::default()
    };
    let e = load(dir.path(), &LoadOptions::default(), &mut rec).unwrap_err();
    (dir, paths, e, rec)
}

#[test]
fn failing_command() {
    let mut b = Builder::new();
    b.cmd(&["SET", "a", "1"]).seal();
    let bad_start = b.bytes.len() as u64;
    b.cmd(&["BOOM", "x"]).cmd(&["SET", "b", "2"]).seal();
    let (dir, paths, e, _) = load_refusing_boom(&b);
    assert_eq!(e.offset, bad_start);
    assert!(
        e.message.contains(&format!(
            "command \"BOOM\" at offset {bad_start} failed: ERR BOOM refused"
        )),
        "{e}"
    );
    assert_eq!(fs::read(&paths[0]).unwrap(), b.bytes);

    let mut rec = Recorder {
        fail: vec!["BOOM"],
        ..Default::default()
    };
    let r = load(dir.path(), &opts(true, CorruptPolicy::Salvage), &mut rec).unwrap();
    let names: Vec<&[u8]> = rec.applied.iter().map(|(_, a)| &a[1][..]).collect();
    assert_eq!(names, vec![&b"a"[..], b"b"]);
    assert_eq!(r.quarantined.len(), 1);
    assert_eq!(r.quarantined[0].start, bad_start);
    assert!(r.quarantined[0].reason.contains("BOOM"));
}

#[test]
fn limits_are_corruption_without_allocation() {
    for (text, want) in [
        (
            &b"*1\r\n$536870913\r\nx\r\n"[..],
            "bulk length out of range",
        ),
        (
            &b"*2147483649\r\n$1\r\nx\r\n"[..],
            "multibulk count out of range",
        ),
        (&b"*0\r\n"[..], "multibulk count out of range"),
        (&b"*1\r\n$-1\r\n"[..], "bulk length out of range"),
        (
            &b"*1\r\n$99999999999999999999999\r\n"[..],
            "bad bulk length",
        ),
        (&b"*1\r\n$01\r\nx\r\n"[..], "bad bulk length"),
        (&b"*1\r\n$1\r\nxy\r\n"[..], "expected \"\\r\\n\""),
        (&b"*1\r\n:1\r\n"[..], "expected '$'"),
        (&b"SET a b\r\n"[..], "expected '*'"),
        (
            &b"#K1 seq=1 ts=1 len=x crc=00000000\r\n"[..],
            "malformed #K1",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        // A second file makes the first one "not last": nothing is a truncation.
        write_log(dir.path(), &[text, b""]);
        let e = load(
            dir.path(),
            &LoadOptions::default(),
            &mut Recorder::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::Corrupt, "{e}");
        assert!(e.message.contains(want), "{want}: {e}");
    }
}

#[test]
fn manifest_problems() {
    let dir = tempfile::tempdir().unwrap();
    let e = load(
        dir.path(),
        &LoadOptions::default(),
        &mut Recorder::default(),
    )
    .unwrap_err();
    assert!(e.missing_manifest());

    let mpath = dir.path().join(manifest_name(APPENDFILENAME));
    fs::write(&mpath, "file appendonly.aof.1.incr.aof seq 1 type i\n").unwrap();
    let e = load(
        dir.path(),
        &LoadOptions::default(),
        &mut Recorder::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::MissingFile);
    assert!(
        e.to_string().contains("is listed in the manifest")
            && e.to_string().contains("but does not exist"),
        "{e}"
    );

    fs::write(&mpath, "file appendonly.aof.1.base.rdb seq 1 type b\n").unwrap();
    fs::write(dir.path().join("appendonly.aof.1.base.rdb"), b"REDIS0011").unwrap();
    let e = load(
        dir.path(),
        &LoadOptions::default(),
        &mut Recorder::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Unsupported);
    assert!(e.to_string().contains("RDB"), "{e}");

    fs::write(&mpath, "# c\nfile a seq 1 type i\nfile b seq 1 type i\n").unwrap();
    let e = load(
        dir.path(),
        &LoadOptions::default(),
        &mut Recorder::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Manifest);
    assert_eq!(e.line, 3);
    assert!(e.to_string().contains("non-monotonic"), "{e}");

    // An empty manifest: nothing to load.
    fs::write(&mpath, "").unwrap();
    let r = load(
        dir.path(),
        &LoadOptions::default(),
        &mut Recorder::default(),
    )
    .unwrap();
    assert_eq!(r.commands, 0);
}

/// `n` SETs of `k0`, `k1` ... to `val`, sealed every `every` commands and
/// after the last.
fn sets(n: usize, every: usize, val: &str) -> Builder {
    let mut b = Builder::new();
    for i in 0..n {
        b.cmd(&["SET", &format!("k{i}"), val]);
        if i % every == every - 1 {
            b.seal();
        }
    }
    if n % every != 0 {
        b.seal();
    }
    b
}

#[test]
fn progress_is_reported() {
    let b = sets(4000, 100, &"x".repeat(1000));
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&b.bytes]);
    let mut seen = Vec::new();
    let r = load_dir(
        dir.path(),
        APPENDFILENAME,
        &LoadOptions::default(),
        &mut Recorder::default(),
        &mut |p| seen.push(p.clone()),
    )
    .unwrap();
    assert_eq!(r.commands, 4000);
    assert!(seen.len() >= 3, "{seen:?}");
    let last = seen.last().unwrap();
    assert_eq!(last.loaded_bytes, b.bytes.len() as u64);
    assert_eq!(last.total_bytes, b.bytes.len() as u64);
    assert!(seen
        .windows(2)
        .all(|w| w[0].loaded_bytes <= w[1].loaded_bytes));
}

#[test]
fn large_values_stream() {
    let mut b = Builder::new();
    let big = "v".repeat(3 * 1024 * 1024 + 17);
    b.cmd(&["SET", "big", &big])
        .seal()
        .cmd(&["SET", "small", "1"]);
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&b.bytes]);
    let mut rec = Recorder::default();
    load(dir.path(), &opts(true, CorruptPolicy::Salvage), &mut rec).unwrap();
    assert_eq!(rec.applied, b.cmds);
}

#[test]
fn engine_apply_loads_into_an_engine() {
    let b = sample();
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&b.bytes]);
    let (engine, _clock) = keel_engine::engine::testing::engine();
    engine.set_loading(true);
    let mut apply = EngineApply::new(&engine);
    let r = load(dir.path(), &LoadOptions::default(), &mut apply).unwrap();
    engine.set_loading(false);
    assert_eq!(r.commands, b.cmds.len() as u64);
    // db 0: a, b, n, l; db 3: c.
    assert_eq!(engine.dbsize(0), 4);
    assert_eq!(engine.dbsize(3), 1);
}

#[test]
fn engine_apply_reports_errors_and_bad_databases() {
    let (engine, _clock) = keel_engine::engine::testing::engine();
    engine.set_loading(true);
    for (text, want) in [
        (
            &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"[..],
            "command \"INCR\" at offset 27 failed: ERR value is not an integer",
        ),
        (
            &b"*2\r\n$6\r\nSELECT\r\n$2\r\n99\r\n"[..],
            "DB index is out of range",
        ),
        (
            &b"*2\r\n$7\r\nNOSUCHC\r\n$1\r\nk\r\n"[..],
            "unknown command",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), &[text]);
        let mut apply = EngineApply::new(&engine);
        let e = load_dir(
            dir.path(),
            APPENDFILENAME,
            &LoadOptions::default(),
            &mut apply,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.message.contains(want), "{want}: {e}");
    }
}

#[test]
fn database_after_a_gap() {
    // The damaged batch selects db 3; the next batch has no SELECT, so its
    // database is unknown: it is set aside too, up to the next SELECT.
    let mut b = Builder::new();
    b.select(0).cmd(&["SET", "a", "1"]).seal();
    b.select(3).cmd(&["SET", "damaged", "1"]).seal();
    let unknown = b.bytes.len() as u64;
    b.cmd(&["SET", "where", "1"]).seal();
    let known = b.bytes.len() as u64;
    b.select(3).cmd(&["SET", "z", "1"]).seal();
    let mut bytes = b.bytes.clone();
    let at = find(&bytes, b"damaged", 0);
    bytes[at] = b'D';
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&bytes]);
    let mut rec = Recorder::default();
    let r = load(dir.path(), &opts(true, CorruptPolicy::Salvage), &mut rec).unwrap();
    let keys: Vec<(usize, &[u8])> = rec.applied.iter().map(|(d, a)| (*d, &a[1][..])).collect();
    assert_eq!(keys, vec![(0, &b"a"[..]), (3, b"z")]);
    assert_eq!(r.quarantined.len(), 2, "{r:#?}");
    assert_eq!(
        (r.quarantined[1].start, r.quarantined[1].end),
        (unknown, known)
    );
    assert!(r.quarantined[1].reason.contains("database"));

    // Without a SELECT in the damaged batch the database is known.
    let mut b = Builder::new();
    b.select(2).cmd(&["SET", "a", "1"]).seal();
    b.cmd(&["SET", "damaged", "1"]).seal();
    b.cmd(&["SET", "after", "1"]).seal();
    let mut bytes = b.bytes.clone();
    let at = find(&bytes, b"damaged", 0);
    bytes[at] = b'D';
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&bytes]);
    let mut rec = Recorder::default();
    let r = load(dir.path(), &opts(true, CorruptPolicy::Salvage), &mut rec).unwrap();
    let keys: Vec<(usize, &[u8])> = rec.applied.iter().map(|(d, a)| (*d, &a[1][..])).collect();
    assert_eq!(keys, vec![(2, &b"a"[..]), (2, b"after")]);
    assert_eq!(r.quarantined.len(), 1);
}

#[test]
fn annotation_parse_is_not_fooled_by_values() {
    // A value that contains an annotation-looking line inside a bulk is data.
    let mut b = Builder::new();
    b.cmd(&["SET", "k", "\r\n#K1 seq=9 ts=9 len=0 crc=00000000\r\n"])
        .seal();
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&b.bytes]);
    let mut rec = Recorder::default();
    let r = load(dir.path(), &LoadOptions::default(), &mut rec).unwrap();
    assert_eq!(rec.applied, b.cmds);
    assert_eq!(r.batches_verified, 1);
    assert!(Annotation::parse(b"#K1 seq=9 ts=9 len=0 crc=00000000").is_some());
}

/// A command that fails on a worker thread of a parallel load stops the load
/// before the end of the file is handled: the file, even with a torn tail that a
/// load would truncate, is left exactly as it was.
#[test]
fn a_parallel_load_stops_on_a_failed_command_without_changing_files() {
    let (engine, _clock) = keel_engine::engine::testing::engine();
    engine.set_loading(true);
    let mut b = Builder::new();
    b.select(0);
    for i in 0..2000 {
        b.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    // Same key, same worker: the INCR fails there, after the loader has moved
    // on to the torn tail right behind it.
    b.cmd(&["SET", "n", "x"]).cmd(&["INCR", "n"]);
    b.seal();
    let mut bytes = b.bytes.clone();
    bytes.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\ntorn");
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&bytes]);
    let before = std::fs::read(dir.path().join("appendonly.aof.1.incr.aof")).unwrap();
    let e = keel_persistence::parallel::with_parallel_apply(&engine, 2, |a| {
        load_dir(
            dir.path(),
            APPENDFILENAME,
            &LoadOptions::default(),
            a,
            &mut |_| {},
        )
    })
    .unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Stopped, "{e}");
    assert!(
        e.message.contains("INCR") && e.message.contains("not an integer"),
        "{e}"
    );
    let after = std::fs::read(dir.path().join("appendonly.aof.1.incr.aof")).unwrap();
    assert_eq!(before, after, "no file changed");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "nothing written beside it"
    );
}

/// An applier that records the keys it is told about ahead
/// ([`Apply::prefetch`]) and checks that each command it applies was among
/// them, in the same order.
#[derive(Default)]
struct Hinting {
    rec: Recorder,
    hinted: Vec<Vec<u8>>,
    applied: usize,
    unhinted: Vec<Vec<u8>>,
    largest_hint: usize,
}

impl keel_persistence::Apply for Hinting {
    fn apply(&mut self, db: usize, argv: &[bytes::Bytes]) -> Result<(), String> {
        if self.hinted.get(self.applied).map(|k| &k[..]) != argv.get(1).map(|k| &k[..]) {
            self.unhinted.push(argv[0].to_vec());
        }
        self.applied += 1;
        self.rec.apply(db, argv)
    }

    fn prefetch(&mut self, cmds: &mut dyn Iterator<Item = (usize, &[bytes::Bytes])>) {
        let before = self.hinted.len();
        self.hinted
            .extend(cmds.map(|(_, a)| a.get(1).map(|k| k.to_vec()).unwrap_or_default()));
        self.largest_hint = self.largest_hint.max(self.hinted.len() - before);
    }
}

/// The loader holds a few parsed units so that their keys are prefetched
/// together: every command is announced before it is applied, in order, and
/// a failure among held commands is still the error reported, ahead of
/// damage that comes later in the file.
#[test]
fn held_commands_are_announced_then_applied_and_fail_first() {
    let b = sets(100, 40, "v");
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[&b.bytes]);
    let mut h = Hinting::default();
    let r = load(dir.path(), &LoadOptions::default(), &mut h).unwrap();
    assert_eq!(r.commands, 100);
    assert_eq!(h.rec.applied, b.cmds);
    assert!(
        h.unhinted.is_empty(),
        "applied before announced: {:?}",
        h.unhinted
    );
    assert!(h.largest_hint > 1, "never more than one command ahead");

    // A failing command, then damage a few commands later (no annotations, as
    // in a Redis file, so nothing else makes the loader apply what it holds).
    let mut b = Builder::new();
    b.cmd(&["SET", "a", "1"]);
    let bad_start = b.bytes.len() as u64;
    b.cmd(&["BOOM", "x"]).cmd(&["SET", "b", "2"]);
    b.raw(b"?this is not RESP\r\n");
    let (_dir, paths, e, rec) = load_refusing_boom(&b);
    assert_eq!(e.offset, bad_start, "{e}");
    assert!(e.message.contains("BOOM"), "{e}");
    assert_eq!(rec.applied.len(), 1);
    assert_eq!(fs::read(&paths[0]).unwrap(), b.bytes);
}
