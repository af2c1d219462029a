//! Whole-database commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, and the database
//! index parsing SELECT, MOVE, COPY and SWAPDB share.
//!
//! FLUSHDB and FLUSHALL always emit their effect, even on an empty keyspace: a
//! flush is a write like any other, and the log must show it.

use super::args::*;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::{Ctx, Engine};
use crate::tri;
use bytes::Bytes;
use keel_protocol::Frame;

pub static COMMANDS: &[EngineEntry] = &[
    ("dbsize", Scope::All, dbsize),
    ("flushdb", Scope::All, flushdb),
    ("flushall", Scope::All, flushall),
    ("swapdb", Scope::All, swapdb),
];

pub const ERR_DB_RANGE: &str = "ERR DB index is out of range";
const ERR_INT_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";

/// Parses a C `int` argument as Redis's `getIntFromObjectOrReply`: not an integer
/// -> `ERR value is not an integer or out of range` (or `ERR <msg>` when given);
/// outside the `int` range -> `ERR value is out of range, value must between ...`
/// (or `ERR <msg>`).
pub fn int32_arg(arg: &[u8], msg: Option<&str>) -> Result<i32, Frame> {
    let custom = |m: &str| Frame::error(format!("ERR {m}"));
    let v = match crate::util::parse_i64(arg) {
        Some(v) => v,
        None => return Err(msg.map_or_else(|| err(ERR_NOT_INT), custom)),
    };
    i32::try_from(v).map_err(|_| msg.map_or_else(|| err(ERR_INT_RANGE), custom))
}

/// A database index argument (SELECT, MOVE, COPY ... DB), with Redis's errors:
/// `ERR value is not an integer or out of range`, `ERR value is out of range, value
/// must between -2147483648 and 2147483647` (beyond a C int), and `ERR DB index is
/// out of range`.
pub fn valid_db(engine: &Engine, arg: &[u8]) -> Result<usize, Frame> {
    let id = int32_arg(arg, None)?;
    db_in_range(engine, id)
}

fn db_in_range(engine: &Engine, id: i32) -> Result<usize, Frame> {
    match usize::try_from(id) {
        Ok(i) if i < engine.databases() => Ok(i),
        _ => Err(err(ERR_DB_RANGE)),
    }
}

fn dbsize(ctx: &mut Ctx, _argv: &[Bytes]) -> Frame {
    let db = ctx.db;
    let n: usize = ctx
        .locked_shards()
        .map(|s| s.dbs.get(db).map_or(0, |d| d.len()))
        .sum();
    Frame::Integer(n as i64)
}

/// FLUSHDB / FLUSHALL's optional `ASYNC` / `SYNC` (both run synchronously here).
fn flush_flags(argv: &[Bytes]) -> Result<(), Frame> {
    match argv.len() {
        1 => Ok(()),
        2 if is(&argv[1], "sync") || is(&argv[1], "async") => Ok(()),
        _ => Err(err(ERR_SYNTAX)),
    }
}

fn flushdb(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    tri!(flush_flags(argv));
    let db = ctx.db;
    for shard in ctx.locked_shards() {
        if let Some(d) = shard.dbs.get_mut(db) {
            d.clear();
        }
    }
    ctx.emit(smallvec![s("FLUSHDB")]);
    Frame::ok()
}

fn flushall(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    tri!(flush_flags(argv));
    for shard in ctx.locked_shards() {
        for d in shard.dbs.iter_mut() {
            d.clear();
        }
    }
    ctx.emit(smallvec![s("FLUSHALL")]);
    Frame::ok()
}

fn swapdb(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let a = tri!(int32_arg(&argv[1], Some("invalid first DB index")));
    let b = tri!(int32_arg(&argv[2], Some("invalid second DB index")));
    let (Ok(a), Ok(b)) = (db_in_range(ctx.engine, a), db_in_range(ctx.engine, b)) else {
        return err(ERR_DB_RANGE);
    };
    if a != b {
        for shard in ctx.locked_shards() {
            if a < shard.dbs.len() && b < shard.dbs.len() {
                shard.dbs.swap(a, b);
            }
        }
    }
    // Redis counts SWAPDB as a change even when a == b; so does keel.
    ctx.emit(smallvec![s("SWAPDB"), n(a as i64), n(b as i64)]);
    Frame::ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::{engine, fx, run};
    use crate::engine::Session;

    fn int(v: i64) -> Frame {
        Frame::Integer(v)
    }

    #[test]
    fn valid_db_errors() {
        let (e, _) = engine();
        assert_eq!(valid_db(&e, b"0"), Ok(0));
        assert_eq!(valid_db(&e, b"15"), Ok(15));
        assert_eq!(valid_db(&e, b"16"), Err(err(ERR_DB_RANGE)));
        assert_eq!(valid_db(&e, b"-1"), Err(err(ERR_DB_RANGE)));
        assert_eq!(
            valid_db(&e, b"abc"),
            Err(err("ERR value is not an integer or out of range"))
        );
        assert_eq!(
            valid_db(&e, b""),
            Err(err("ERR value is not an integer or out of range"))
        );
        assert_eq!(
            valid_db(&e, b"01"),
            Err(err("ERR value is not an integer or out of range"))
        );
        assert_eq!(
            valid_db(&e, b"99999999999"),
            Err(err(
                "ERR value is out of range, value must between -2147483648 and 2147483647"
            ))
        );
        assert_eq!(valid_db(&e, b"2147483647"), Err(err(ERR_DB_RANGE)));
        assert_eq!(
            valid_db(&e, b"2147483648"),
            Err(err(
                "ERR value is out of range, value must between -2147483648 and 2147483647"
            ))
        );
    }

    #[test]
    fn dbsize_counts_current_db() {
        let (e, clock) = engine();
        let mut s = Session::default();
        assert_eq!(run(&e, &mut s, "DBSIZE").0, int(0));
        for i in 0..50 {
            run(&e, &mut s, &format!("SET k{i} v"));
        }
        run(&e, &mut s, "PEXPIRE k0 10");
        let mut s3 = Session {
            db: 3,
            resp: 2,
            ticket: 0,
            ..Default::default()
        };
        run(&e, &mut s3, "SET other v");
        assert_eq!(run(&e, &mut s, "DBSIZE").0, int(50));
        assert_eq!(run(&e, &mut s3, "DBSIZE").0, int(1));
        // Like Redis, keys past their TTL but not yet removed still count.
        clock.advance_ms(20);
        let (r, f) = run(&e, &mut s, "DBSIZE");
        assert_eq!(r, int(50));
        assert!(f.is_empty());
        assert_eq!(
            run(&e, &mut s, "DBSIZE extra").0,
            err("ERR wrong number of arguments for 'dbsize' command")
        );
    }

    #[test]
    fn flushdb() {
        let (e, _) = engine();
        let mut s = Session::default();
        let mut s1 = Session {
            db: 1,
            resp: 2,
            ticket: 0,
            ..Default::default()
        };
        for i in 0..20 {
            run(&e, &mut s, &format!("SET k{i} v"));
            run(&e, &mut s1, &format!("SET k{i} v"));
        }
        run(&e, &mut s, "EXPIRE k1 100");
        let (r, f) = run(&e, &mut s, "FLUSHDB");
        assert_eq!(r, Frame::ok());
        assert_eq!(fx(&f), vec!["0 FLUSHDB"]);
        assert_eq!(run(&e, &mut s, "DBSIZE").0, int(0));
        assert_eq!(run(&e, &mut s1, "DBSIZE").0, int(20));
        assert_eq!(e.keyspace_info()[0], (0, 0));
        // Always emitted, even when the database is already empty.
        let (r, f) = run(&e, &mut s, "FLUSHDB ASYNC");
        assert_eq!(r, Frame::ok());
        assert_eq!(fx(&f), vec!["0 FLUSHDB"]);
        assert_eq!(fx(&run(&e, &mut s1, "flushdb sync").1), vec!["1 FLUSHDB"]);
        assert_eq!(run(&e, &mut s1, "DBSIZE").0, int(0));
        assert_eq!(run(&e, &mut s, "FLUSHDB foo").0, err(ERR_SYNTAX));
        let (r, f) = run(&e, &mut s, "FLUSHDB ASYNC SYNC");
        assert_eq!(r, err(ERR_SYNTAX));
        assert!(f.is_empty());
    }

    #[test]
    fn flushall() {
        let (e, _) = engine();
        let mut s = Session::default();
        for db in 0..16 {
            let mut sd = Session {
                db,
                resp: 2,
                ticket: 0,
                ..Default::default()
            };
            run(&e, &mut sd, "SET k v");
            run(&e, &mut sd, "EXPIRE k 100");
        }
        let mut s5 = Session {
            db: 5,
            resp: 2,
            ticket: 0,
            ..Default::default()
        };
        let (r, f) = run(&e, &mut s5, "FLUSHALL");
        assert_eq!(r, Frame::ok());
        assert_eq!(fx(&f), vec!["5 FLUSHALL"]);
        assert!(e.keyspace_info().iter().all(|&x| x == (0, 0)));
        // Always emitted, even when everything is already empty.
        let (r, f) = run(&e, &mut s, "FLUSHALL");
        assert_eq!(r, Frame::ok());
        assert_eq!(fx(&f), vec!["0 FLUSHALL"]);
        assert_eq!(fx(&run(&e, &mut s, "FLUSHALL async").1), vec!["0 FLUSHALL"]);
        assert_eq!(fx(&run(&e, &mut s, "FLUSHALL SYNC").1), vec!["0 FLUSHALL"]);
        assert_eq!(run(&e, &mut s, "FLUSHALL foo").0, err(ERR_SYNTAX));
        assert_eq!(run(&e, &mut s, "FLUSHALL a b").0, err(ERR_SYNTAX));
        assert_eq!(crate::digest::digest(&e), [0u8; 20]);
    }

    #[test]
    fn swapdb() {
        let (e, clock) = engine();
        let mut s0 = Session::default();
        let mut s1 = Session {
            db: 1,
            resp: 2,
            ticket: 0,
            ..Default::default()
        };
        for i in 0..30 {
            run(&e, &mut s0, &format!("SET a{i} zero"));
        }
        run(&e, &mut s0, "EXPIRE a0 100");
        run(&e, &mut s1, "SET b one");
        let (r, f) = run(&e, &mut s0, "SWAPDB 0 1");
        assert_eq!(r, Frame::ok());
        assert_eq!(fx(&f), vec!["0 SWAPDB 0 1"]);
        assert_eq!(run(&e, &mut s0, "DBSIZE").0, int(1));
        assert_eq!(run(&e, &mut s1, "DBSIZE").0, int(30));
        assert_eq!(run(&e, &mut s0, "GET b").0, Frame::bulk("one"));
        assert_eq!(run(&e, &mut s1, "GET a5").0, Frame::bulk("zero"));
        // TTLs travel with their database.
        assert_eq!(run(&e, &mut s1, "TTL a0").0, int(100));
        assert_eq!(e.keyspace_info()[1], (30, 1));
        clock.advance_ms(100_000);
        assert_eq!(run(&e, &mut s1, "GET a0").0, Frame::Null);
        // Same index: a no-op that still counts as a write.
        assert_eq!(fx(&run(&e, &mut s0, "SWAPDB 2 2").1), vec!["0 SWAPDB 2 2"]);
        assert_eq!(
            run(&e, &mut s0, "SWAPDB abc 0").0,
            err("ERR invalid first DB index")
        );
        assert_eq!(
            run(&e, &mut s0, "SWAPDB 0 abc").0,
            err("ERR invalid second DB index")
        );
        assert_eq!(
            run(&e, &mut s0, "SWAPDB 99999999999 0").0,
            err("ERR invalid first DB index")
        );
        assert_eq!(run(&e, &mut s0, "SWAPDB 0 16").0, err(ERR_DB_RANGE));
        assert_eq!(run(&e, &mut s0, "SWAPDB -1 0").0, err(ERR_DB_RANGE));
        let (r, f) = run(&e, &mut s0, "SWAPDB 16 abc");
        assert_eq!(r, err("ERR invalid second DB index"));
        assert!(f.is_empty());
    }
}
