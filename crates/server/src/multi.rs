//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queued commands run in EXEC under the locks of every shard they (and the
//! watched keys) touch, taken once in shard order, so no other client sees part of
//! a transaction. Their effects are handed to the sink as one batch, which the AOF
//! wraps in MULTI/EXEC: replay applies all of it or none.
//!
//! WATCH is invalidated by effects: the sink marks every client watching a key that
//! an effect names (or a database that FLUSHDB, FLUSHALL or SWAPDB replaces), so
//! writes from any client, expiry and every other change that is logged invalidate
//! it, while reads never do. A watched key that is logically expired when EXEC runs
//! aborts the transaction too, as in Redis 7.
//!
//! Server commands that read engine state through its locks or wait (INFO, DEBUG,
//! WAITAOF, BGREWRITEAOF, MONITOR, CONFIG SET/RESETSTAT, SHUTDOWN) run right after
//! the transaction's data commands, in their order, with the locks released.

use crate::conn::Conn;
use bytes::Bytes;
use keel_engine::{Command, Effect, Run, Scope};
use keel_protocol::Frame;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// The clients watching one key: (client id, the client's dirty flag).
type Watchers = Vec<(u64, Arc<AtomicBool>)>;

/// Clients watching keys, by (db, key).
#[derive(Default)]
pub struct Watches {
    count: AtomicUsize,
    map: Mutex<HashMap<(usize, Bytes), Watchers>>,
}

impl Watches {
    pub fn add(&self, db: usize, key: Bytes, client: u64, dirty: &Arc<AtomicBool>) {
        let mut m = self.map.lock();
        let list = m.entry((db, key)).or_default();
        if !list.iter().any(|(id, _)| *id == client) {
            list.push((client, dirty.clone()));
            self.count.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Whether any client watches any key.
    pub fn watching(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    pub fn remove(&self, db: usize, key: &Bytes, client: u64) {
        let mut m = self.map.lock();
        let k = (db, key.clone());
        if let Some(list) = m.get_mut(&k) {
            let before = list.len();
            list.retain(|(id, _)| *id != client);
            self.count.fetch_sub(before - list.len(), Ordering::Relaxed);
            if list.is_empty() {
                m.remove(&k);
            }
        }
    }

    /// Marks the watchers of everything `effects` changed. Called by the sink,
    /// under the shard locks of the command that produced them.
    pub fn touch(&self, effects: &[Effect]) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let m = self.map.lock();
        let mark_db = |db: usize| {
            for ((d, _), list) in m.iter() {
                if *d == db {
                    list.iter()
                        .for_each(|(_, f)| f.store(true, Ordering::Release));
                }
            }
        };
        let mark = |db: usize, key: &[u8]| {
            if let Some(list) = m.get(&(db, Bytes::copy_from_slice(key))) {
                list.iter()
                    .for_each(|(_, f)| f.store(true, Ordering::Release));
            }
        };
        crate::touched::each(effects, |t| match t {
            crate::touched::Touched::Key(db, k) => mark(db, k),
            crate::touched::Touched::Db(db) => mark_db(db),
            crate::touched::Touched::All => {
                for list in m.values() {
                    list.iter()
                        .for_each(|(_, f)| f.store(true, Ordering::Release));
                }
            }
        });
    }
}

/// Commands a transaction queues but runs after its locked phase.
fn deferred(cmd: &Command) -> bool {
    matches!(
        cmd.name(),
        "info"
            | "debug"
            | "waitaof"
            | "bgrewriteaof"
            | "monitor"
            | "config|set"
            | "config|resetstat"
            | "shutdown"
    )
}

/// Commands that act at once even inside MULTI (everything else is queued,
/// UNWATCH included, as in Redis).
pub fn runs_inside_multi(cmd: &Command) -> bool {
    matches!(
        cmd.name(),
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

pub fn multi(conn: &mut Conn) -> Frame {
    if conn.multi.is_some() {
        return Frame::error("ERR MULTI calls can not be nested");
    }
    conn.multi = Some(Vec::new());
    conn.multi_error = false;
    Frame::ok()
}

pub fn discard(conn: &mut Conn) -> Frame {
    if conn.multi.take().is_none() {
        return Frame::error("ERR DISCARD without MULTI");
    }
    conn.multi_error = false;
    unwatch(conn);
    Frame::ok()
}

pub fn watch(conn: &mut Conn, argv: &[Bytes]) -> Frame {
    if conn.multi.is_some() {
        return Frame::error("ERR WATCH inside MULTI is not allowed");
    }
    let db = conn.session.db;
    for k in &argv[1..] {
        if !conn.watching.iter().any(|(d, key)| *d == db && key == k) {
            conn.server
                .watches
                .add(db, k.clone(), conn.id, &conn.watch_dirty);
            conn.watching.push((db, k.clone()));
        }
    }
    // Registered first, then each key's shard locked once: a write that holds
    // one of those locks now finishes before WATCH answers (it happened
    // before the WATCH), and every later write sees the watch, so it builds
    // its effects and marks this client (see `EffectSink::wants_effects`).
    let keys: Vec<&[u8]> = argv[1..].iter().map(|k| &k[..]).collect();
    drop(
        conn.server.engine.lock_unsnapshotted(
            keys.iter()
                .map(|k| conn.server.engine.shard_of(k))
                .collect(),
        ),
    );
    Frame::ok()
}

pub fn unwatch(conn: &mut Conn) {
    for (db, k) in std::mem::take(&mut conn.watching) {
        conn.server.watches.remove(db, &k, conn.id);
    }
    conn.watch_dirty.store(false, Ordering::Release);
}

/// Queues `cmd` inside MULTI (or refuses it). Returns the reply to send now.
pub fn queue(conn: &mut Conn, cmd: &'static Command, argv: Vec<Bytes>) -> Frame {
    if cmd.facts.has_flag("no_multi") {
        conn.multi_error = true;
        return Frame::error("ERR Command not allowed inside a transaction");
    }
    if let Some(q) = conn.multi.as_mut() {
        q.push((cmd, argv));
    }
    Frame::simple("QUEUED")
}

/// The locked phase of EXEC: checks WATCH, runs the queued data commands and the
/// immediate server commands, emits the effects as one batch. Returns the replies
/// (None for deferred commands), or None when WATCH aborted the transaction.
fn run_locked(
    conn: &mut Conn,
    queue: &[(&'static Command, Vec<Bytes>)],
) -> Option<Vec<Option<Frame>>> {
    let server = conn.server.clone();
    let engine = &server.engine;
    let mut shards = Vec::new();
    let mut all = false;
    for (cmd, argv) in queue {
        if let Run::Engine(_) = cmd.run {
            match cmd.scope {
                Scope::All => all = true,
                Scope::None => {}
                Scope::Keys => shards.extend(engine.shards_for(cmd, argv)),
            }
        }
    }
    for (_, k) in &conn.watching {
        shards.push(engine.shard_of(k));
    }
    let mut locks = if all {
        engine.lock_all()
    } else {
        engine.lock(shards)
    };
    let now = engine.now_ms();
    let mut aborted = conn.watch_dirty.load(Ordering::Acquire);
    if !aborted {
        for (db, k) in &conn.watching {
            let idx = engine.shard_of(k);
            if let Some(shard) = locks.shard(idx) {
                if shard
                    .dbs
                    .get(*db)
                    .and_then(|d| d.map.get(k))
                    .is_some_and(|e| e.is_expired(now))
                {
                    aborted = true;
                }
            }
        }
    }
    if aborted {
        return None;
    }
    let mut replies = Vec::with_capacity(queue.len());
    let mut effects: Vec<Effect> = Vec::new();
    for (cmd, argv) in queue {
        let stat = &server.cmdstats[cmd.id];
        stat.calls.fetch_add(1, Ordering::Relaxed);
        let reply = match cmd.run {
            Run::Engine(_) => {
                let (f, fx) = engine.run_collect(&mut locks, &conn.session, cmd, argv);
                effects.extend(fx);
                Some(f)
            }
            Run::Server if deferred(cmd) => None,
            Run::Server => Some(crate::commands::run_sync(conn, cmd, argv).unwrap_or(Frame::Null)),
            Run::Container => Some(Frame::error("ERR unknown subcommand")),
        };
        if let Some(Frame::Error(e)) = &reply {
            stat.failed.fetch_add(1, Ordering::Relaxed);
            server.count_error(e);
        }
        replies.push(reply);
    }
    let t = engine.emit(&effects);
    if t != 0 {
        conn.session.ticket = t;
    }
    drop(locks);
    Some(replies)
}

pub async fn exec(conn: &mut Conn) -> Option<Frame> {
    let Some(queue) = conn.multi.take() else {
        return Some(Frame::error("ERR EXEC without MULTI"));
    };
    if std::mem::take(&mut conn.multi_error) {
        unwatch(conn);
        return Some(Frame::error(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let replies = run_locked(conn, &queue);
    unwatch(conn);
    let Some(mut replies) = replies else {
        return Some(Frame::NullArray);
    };
    for (i, (cmd, argv)) in queue.iter().enumerate() {
        if replies[i].is_none() {
            let r = Box::pin(crate::commands::run(conn, cmd, argv)).await;
            replies[i] = Some(r.unwrap_or(Frame::Null));
        }
    }
    Some(Frame::Array(
        replies
            .into_iter()
            .map(|r| r.unwrap_or(Frame::Null))
            .collect(),
    ))
}
