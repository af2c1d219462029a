//! Keyspace notifications: what a command (or expiry) tells `notify-keyspace-events`
//! subscribers, as Redis 7.0's `notifyKeyspaceEvent` (notify.c).
//!
//! Commands record a [`Notification`] through [`Ctx::notify`](crate::Ctx::notify)
//! at the points where Redis calls `notifyKeyspaceEvent`, in the same order. The
//! engine hands them to [`EffectSink::notify`](crate::EffectSink::notify) right after
//! the command ran, under its shard locks; the server publishes each one on
//! `__keyspace@<db>__:<key>` (message: the event) and/or `__keyevent@<db>__:<event>`
//! (message: the key). Notifications are not effects: nothing is logged for them.
//! When `notify-keyspace-events` is empty (or names neither `K` nor `E`) the cost
//! is one relaxed atomic load per command.

use bytes::Bytes;

/// Flags as Redis 7.0 numbers them (`NOTIFY_*` in server.h).
pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const LOADED: u32 = 1 << 12;
pub const MODULE: u32 = 1 << 13;
pub const NEW: u32 = 1 << 14;
/// What `A` stands for (not `m` nor `n`, as in Redis).
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// One keyspace event: `event` happened to `key` in database `db`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The event's class (one of the flags above).
    pub class: u32,
    pub event: &'static str,
    pub db: usize,
    pub key: Bytes,
}

/// The flags worth acting on: nothing is published unless `K` or `E` is set.
pub fn effective(flags: u32) -> u32 {
    if flags & (KEYSPACE | KEYEVENT) == 0 {
        0
    } else {
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::{notes_engine, run};
    use crate::engine::Session;

    /// Runs each command and returns every notification, as `db event key`.
    fn events(lines: &[&str]) -> Vec<String> {
        let (e, _, rec) = notes_engine();
        let mut s = Session::default();
        for l in lines {
            run(&e, &mut s, l);
        }
        rec.take()
    }

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn string_commands() {
        assert_eq!(
            events(&[
                "SET a 1",
                "SET a 2",
                "SET a 3 EX 10",
                "SET a 4 XX KEEPTTL",
                "SET a 5 NX"
            ]),
            v(&[
                "0 new a",
                "0 set a",
                "0 set a",
                "0 set a",
                "0 expire a",
                "0 set a"
            ])
        );
        assert_eq!(
            events(&[
                "SET b 1 GET",
                "GETSET c 1",
                "SETNX c 2",
                "SETNX d 2",
                "SETEX e 10 v",
                "PSETEX f 10 v"
            ]),
            v(&[
                "0 keymiss b",
                "0 new b",
                "0 set b",
                "0 keymiss c",
                "0 new c",
                "0 set c",
                "0 new d",
                "0 set d",
                "0 new e",
                "0 set e",
                "0 expire e",
                "0 new f",
                "0 set f",
                "0 expire f",
            ])
        );
        assert_eq!(
            events(&["MSET d 1 e 2 d 3", "MSETNX x 1 d 1", "MSETNX x 1 y 2"]),
            v(&[
                "0 new d", "0 set d", "0 new e", "0 set e", "0 set d", "0 new x", "0 set x",
                "0 new y", "0 set y",
            ])
        );
        assert_eq!(
            events(&[
                "APPEND d x",
                "APPEND d x",
                "APPEND d ",
                "SETRANGE d 0 ",
                "SETRANGE z 0 ",
                "SETRANGE d 3 y"
            ]),
            v(&[
                "0 new d",
                "0 append d",
                "0 append d",
                "0 append d",
                "0 setrange d"
            ])
        );
        assert_eq!(
            events(&[
                "INCR f",
                "INCRBY f 2",
                "DECR f",
                "DECRBY f 2",
                "INCRBYFLOAT g 1.5",
                "INCR g"
            ]),
            v(&[
                "0 new f",
                "0 incrby f",
                "0 incrby f",
                "0 incrby f",
                "0 incrby f",
                "0 new g",
                "0 incrbyfloat g",
            ])
        );
        assert_eq!(
            events(&[
                "SET g 1",
                "GETDEL g",
                "GETDEL g",
                "GET g",
                "MGET g h",
                "STRLEN g",
                "GETRANGE g 0 1",
                "LCS g h"
            ]),
            v(&[
                "0 new g",
                "0 set g",
                "0 del g",
                "0 keymiss g",
                "0 keymiss g",
                "0 keymiss g",
                "0 keymiss h",
                "0 keymiss g",
                "0 keymiss g",
                "0 keymiss g",
                "0 keymiss h",
            ])
        );
        assert_eq!(
            events(&[
                "SET c v",
                "GETEX c EX 100",
                "GETEX c PERSIST",
                "GETEX c PERSIST",
                "GETEX c",
                "GETEX c PXAT 1",
                "GETEX c"
            ]),
            v(&[
                "0 new c",
                "0 set c",
                "0 expire c",
                "0 persist c",
                "0 del c",
                "0 keymiss c",
            ])
        );
        // Failed commands announce nothing.
        assert_eq!(
            events(&[
                "SET a x",
                "INCR a",
                "SET a 1 EX 0",
                "SETNX a 1",
                "SET a 1 XX NX"
            ]),
            v(&["0 new a", "0 set a"])
        );
    }

    #[test]
    fn set_with_a_past_deadline() {
        // Redis: set, expire, then `expired` on the next access; keel removes
        // the key at once and announces all three.
        assert_eq!(
            events(&["SET a 1", "SET a 2 PXAT 1", "SET b 1 PXAT 1", "GET a"]),
            v(&[
                "0 new a",
                "0 set a",
                "0 set a",
                "0 expire a",
                "0 expired a",
                "0 new b",
                "0 set b",
                "0 expire b",
                "0 expired b",
                "0 keymiss a",
            ])
        );
    }

    #[test]
    fn key_commands() {
        assert_eq!(
            events(&[
                "MSET a 1 b 2",
                "DEL a b c",
                "UNLINK a",
                "SET a 1",
                "EXPIRE a 100",
                "EXPIRE a 100 NX",
                "PERSIST a",
                "PERSIST a",
                "PEXPIREAT a 1"
            ]),
            v(&[
                "0 new a",
                "0 set a",
                "0 new b",
                "0 set b",
                "0 del a",
                "0 del b",
                "0 new a",
                "0 set a",
                "0 expire a",
                "0 persist a",
                "0 del a",
            ])
        );
        assert_eq!(
            events(&[
                "MSET d 1 e 2",
                "RENAME d r",
                "RENAME e r",
                "RENAMENX r r",
                "RENAMENX r s"
            ]),
            v(&[
                "0 new d",
                "0 set d",
                "0 new e",
                "0 set e",
                "0 new r",
                "0 rename_from d",
                "0 rename_to r",
                "0 new r",
                "0 rename_from e",
                "0 rename_to r",
                "0 new s",
                "0 rename_from r",
                "0 rename_to s",
            ])
        );
        assert_eq!(
            events(&[
                "SET r 1",
                "COPY r c",
                "COPY r c",
                "COPY r c REPLACE",
                "COPY r c DB 2",
                "MOVE r 1",
                "MOVE c 2"
            ]),
            v(&[
                "0 new r",
                "0 set r",
                "0 new c",
                "0 copy_to c",
                "0 new c",
                "0 copy_to c",
                "2 new c",
                "2 copy_to c",
                "1 new r",
                "0 move_from r",
                "1 move_to r",
            ])
        );
        // Reads of missing keys: keymiss, except OBJECT (Redis's LOOKUP_NONOTIFY).
        assert_eq!(
            events(&[
                "EXISTS n",
                "TTL n",
                "PTTL n",
                "EXPIRETIME n",
                "TYPE n",
                "TOUCH n",
                "OBJECT ENCODING n",
                "OBJECT IDLETIME n",
                "COPY n m"
            ]),
            v(&[
                "0 keymiss n",
                "0 keymiss n",
                "0 keymiss n",
                "0 keymiss n",
                "0 keymiss n",
                "0 keymiss n",
                "0 keymiss n",
            ])
        );
        // Whole-database commands announce nothing per key.
        assert_eq!(
            events(&[
                "SET a 1",
                "SWAPDB 0 1",
                "FLUSHDB",
                "FLUSHALL",
                "DBSIZE",
                "KEYS *",
                "SCAN 0"
            ]),
            v(&["0 new a", "0 set a"])
        );
    }

    #[test]
    fn lazy_and_active_expiry() {
        let (e, clock, rec) = notes_engine();
        let mut s = Session::default();
        for k in ["a", "b", "c", "d", "e", "f"] {
            run(&e, &mut s, &format!("SET {k} v PX 10"));
        }
        rec.take();
        clock.advance_ms(10);
        run(&e, &mut s, "GET a");
        run(&e, &mut s, "DEL b");
        run(&e, &mut s, "EXPIRE c 100");
        run(&e, &mut s, "SET d w");
        run(&e, &mut s, "TTL e");
        assert_eq!(
            rec.take(),
            v(&[
                "0 expired a",
                "0 keymiss a",
                "0 expired b",
                "0 expired c",
                "0 expired d",
                "0 new d",
                "0 set d",
                "0 expired e",
                "0 keymiss e",
            ])
        );
        crate::expire::ActiveExpire::new().cycle(&e, std::time::Duration::from_secs(10));
        assert_eq!(rec.take(), v(&["0 expired f"]));
    }

    #[test]
    fn classes_filter_and_off_records_nothing() {
        let (e, clock, rec) = notes_engine();
        let mut s = Session::default();
        let script = |e: &crate::Engine, s: &mut Session| {
            run(e, s, "SET a 1 PX 5");
            run(e, s, "GET zz");
            run(e, s, "DEL a");
        };
        e.set_notify_flags(KEYSPACE | STRING);
        script(&e, &mut s);
        assert_eq!(rec.take(), v(&["0 set a"]));
        e.set_notify_flags(KEYEVENT | GENERIC | NEW);
        script(&e, &mut s);
        assert_eq!(rec.take(), v(&["0 new a", "0 expire a", "0 del a"]));
        e.set_notify_flags(KEYEVENT | KEY_MISS);
        script(&e, &mut s);
        assert_eq!(rec.take(), v(&["0 keymiss zz"]));
        // Classes without K or E: nothing at all.
        e.set_notify_flags(ALL | NEW | KEY_MISS);
        script(&e, &mut s);
        assert!(rec.take().is_empty());
        e.set_notify_flags(0);
        script(&e, &mut s);
        run(&e, &mut s, "SET x 1 PX 1");
        clock.advance_ms(1);
        run(&e, &mut s, "GET x");
        assert!(rec.take().is_empty());
        // Nothing while loading, and effects are unchanged by notifications.
        e.set_notify_flags(ALL | KEYSPACE);
        e.set_loading(true);
        script(&e, &mut s);
        e.set_loading(false);
        assert!(rec.take().is_empty());
        let (fx_on, _) = {
            let (f, fx) = run(&e, &mut s, "SET k v EX 10");
            (crate::engine::testing::fx(&fx), f)
        };
        e.set_notify_flags(0);
        let (_, fx_off) = run(&e, &mut s, "SET k v EX 10");
        assert_eq!(fx_on, crate::engine::testing::fx(&fx_off));
    }
}
