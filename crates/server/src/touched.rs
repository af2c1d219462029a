//! What a batch of effects changed, as keys and databases: the one reading of
//! effects shared by WATCH (a change invalidates watchers) and blocking commands
//! (a change may serve a blocked client). Keys come from the command table's key
//! specs; MOVE and COPY also name the key in their target database; FLUSHDB,
//! SWAPDB and FLUSHALL change whole databases.

use keel_engine::Effect;

/// One thing an effect changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touched<'a> {
    Key(usize, &'a [u8]),
    Db(usize),
    All,
}

/// Calls `f` with everything `effects` changed (a key may be named twice).
pub fn each(effects: &[Effect], mut f: impl FnMut(Touched<'_>)) {
    for e in effects {
        let Some(name) = e.argv.first() else { continue };
        let int = |i: usize| {
            e.argv
                .get(i)
                .and_then(|a| keel_engine::util::parse_i64(a))
                .and_then(|n| usize::try_from(n).ok())
        };
        if name.eq_ignore_ascii_case(b"FLUSHALL") {
            f(Touched::All);
            continue;
        }
        if name.eq_ignore_ascii_case(b"FLUSHDB") {
            f(Touched::Db(e.db));
            continue;
        }
        if name.eq_ignore_ascii_case(b"SWAPDB") {
            if let (Some(a), Some(b)) = (int(1), int(2)) {
                f(Touched::Db(a));
                f(Touched::Db(b));
            }
            continue;
        }
        if name.eq_ignore_ascii_case(b"MOVE") {
            if let (Some(k), Some(d)) = (e.argv.get(1), int(2)) {
                f(Touched::Key(d, k));
            }
        }
        if name.eq_ignore_ascii_case(b"COPY") {
            let mut target_db = e.db;
            for (i, a) in e.argv.iter().enumerate() {
                if a.eq_ignore_ascii_case(b"DB") {
                    target_db = int(i + 1).unwrap_or(e.db);
                }
            }
            if let Some(k) = e.argv.get(2) {
                f(Touched::Key(target_db, k));
            }
        }
        if let keel_engine::Lookup::Found(cmd) = keel_engine::resolve(&e.argv) {
            let mut pos = Vec::new();
            if cmd.key_positions(&e.argv, &mut pos).is_some() {
                for p in pos {
                    if let Some(k) = e.argv.get(p) {
                        f(Touched::Key(e.db, k));
                    }
                }
            } else {
                f(Touched::Db(e.db));
            }
        }
    }
}
