//! Clients blocked by BLPOP, BLMOVE, BZPOPMIN and the other blocking commands.
//!
//! The engine decides *whether* a command blocks: when it finds nothing to serve
//! it returns a [`BlockRequest`] (keys, timeout) instead of data. This module
//! decides *when* it runs again. Each blocked client becomes a [`Waiter`] queued,
//! first blocked first served, on every key it waits for.
//!
//! Wake-ups come from effects, like WATCH: the effects sink marks every key an
//! effect changed as *ready* (only while some client is blocked, so it costs
//! nothing otherwise), whichever client or path made the change: a push, EXEC,
//! RENAME, MOVE, SWAPDB, RESTORE. After each command the connection that ran it
//! serves the ready keys: for each key, the waiter at the head of its queue reruns
//! its own command through the engine. If the rerun serves data, its reply and
//! effects are exactly the non-blocking command's (a served BLPOP is logged as
//! LPOP), and the waiter's connection is woken with the reply; if it would block
//! again, the key has nothing for anyone and serving moves to the next key.
//!
//! Lock order: a waiter's state lock, then shard locks (the rerun), then the
//! registry and ready-list locks, which are leaves: nothing is locked while
//! holding them. A client registers *before* it kicks its own keys, so a push
//! that lands between its first attempt and its registration is never missed.

use bytes::Bytes;
use keel_engine::{BlockRequest, Command, Effect, Engine, Session};
use keel_protocol::Frame;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Where a blocked client stands.
#[derive(Debug)]
pub enum State {
    Waiting,
    /// Served by a rerun: the reply and the durability ticket of its effects.
    Served(Frame, u64),
    /// CLIENT UNBLOCK: reply as a timeout (`false`) or with the UNBLOCKED error.
    Unblocked {
        error: bool,
    },
    /// Timed out or disconnected; no longer served.
    Cancelled,
}

/// One blocked client.
pub struct Waiter {
    pub client: u64,
    pub db: usize,
    pub keys: Vec<Bytes>,
    /// 0: forever.
    pub timeout_ms: u64,
    cmd: &'static Command,
    argv: Vec<Bytes>,
    /// The session the command reruns with (database, protocol, may block).
    session: Mutex<Session>,
    pub state: Mutex<State>,
    pub wake: tokio::sync::Notify,
}

impl Waiter {
    pub fn new(
        client: u64,
        session: &Session,
        req: BlockRequest,
        cmd: &'static Command,
        argv: Vec<Bytes>,
    ) -> Arc<Waiter> {
        let mut s = Session {
            db: req.db,
            resp: session.resp,
            may_block: true,
            ..Default::default()
        };
        s.ticket = 0;
        Arc::new(Waiter {
            client,
            db: req.db,
            keys: req.keys,
            timeout_ms: req.timeout_ms,
            cmd,
            argv,
            session: Mutex::new(s),
            state: Mutex::new(State::Waiting),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// The command's name as CLIENT LIST shows it.
    pub fn command_name(&self) -> &'static str {
        self.cmd.name()
    }
}

#[derive(Default)]
struct Registry {
    queues: HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>,
    by_client: HashMap<u64, Arc<Waiter>>,
}

#[derive(Default)]
struct Ready {
    keys: Vec<(usize, Bytes)>,
    dbs: Vec<usize>,
    all: bool,
}

/// Every blocked client, by key and by client id.
#[derive(Default)]
pub struct Blocking {
    count: AtomicUsize,
    registry: Mutex<Registry>,
    ready: Mutex<Ready>,
    has_ready: AtomicBool,
}

impl Blocking {
    /// Clients blocked right now (INFO's `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Keys with at least one blocked client (INFO's `total_blocking_keys`).
    pub fn blocking_keys(&self) -> usize {
        self.registry.lock().queues.len()
    }

    /// Whether `client` is blocked, and on what command.
    pub fn blocked_on(&self, client: u64) -> Option<&'static str> {
        self.registry
            .lock()
            .by_client
            .get(&client)
            .map(|w| w.command_name())
    }

    /// Marks what `effects` changed as ready (called by the sink under the
    /// shard locks of the command that produced them).
    pub fn touch(&self, effects: &[Effect]) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut r = self.ready.lock();
        crate::touched::each(effects, |t| match t {
            crate::touched::Touched::Key(db, k) => r.keys.push((db, Bytes::copy_from_slice(k))),
            crate::touched::Touched::Db(db) => r.dbs.push(db),
            crate::touched::Touched::All => r.all = true,
        });
        self.has_ready.store(true, Ordering::Release);
    }

    /// Queues `w` on each of its keys and serves those keys at once, in case
    /// data arrived between its first attempt and now.
    pub fn block(&self, engine: &Engine, w: &Arc<Waiter>) {
        {
            let mut reg = self.registry.lock();
            for k in &w.keys {
                let q = reg.queues.entry((w.db, k.clone())).or_default();
                if !q.iter().any(|x| Arc::ptr_eq(x, w)) {
                    q.push_back(w.clone());
                }
            }
            reg.by_client.insert(w.client, w.clone());
            self.count.store(reg.by_client.len(), Ordering::Relaxed);
        }
        {
            let mut r = self.ready.lock();
            r.keys.extend(w.keys.iter().map(|k| (w.db, k.clone())));
            self.has_ready.store(true, Ordering::Release);
        }
        self.serve(engine);
    }

    /// Removes `w` from every queue (after it was served, timed out, or left).
    pub fn remove(&self, w: &Arc<Waiter>) {
        let mut reg = self.registry.lock();
        for k in &w.keys {
            let key = (w.db, k.clone());
            if let Some(q) = reg.queues.get_mut(&key) {
                q.retain(|x| !Arc::ptr_eq(x, w));
                if q.is_empty() {
                    reg.queues.remove(&key);
                }
            }
        }
        if reg
            .by_client
            .get(&w.client)
            .is_some_and(|x| Arc::ptr_eq(x, w))
        {
            reg.by_client.remove(&w.client);
        }
        self.count.store(reg.by_client.len(), Ordering::Relaxed);
    }

    /// Ends a wait that did not get served (timeout, disconnect). Returns the
    /// reply (and its durability ticket) if a rerun served the client meanwhile.
    pub fn cancel(&self, w: &Arc<Waiter>) -> Option<(Frame, u64)> {
        let served = {
            let mut st = w.state.lock();
            match std::mem::replace(&mut *st, State::Cancelled) {
                State::Served(f, t) => Some((f, t)),
                _ => None,
            }
        };
        self.remove(w);
        served
    }

    /// CLIENT UNBLOCK: wakes `client` if it is blocked. True when it was.
    pub fn unblock(&self, client: u64, error: bool) -> bool {
        let Some(w) = self.registry.lock().by_client.get(&client).cloned() else {
            return false;
        };
        let mut st = w.state.lock();
        if !matches!(*st, State::Waiting) {
            return false;
        }
        *st = State::Unblocked { error };
        drop(st);
        self.remove(&w);
        w.wake.notify_one();
        true
    }

    /// Serves blocked clients on every ready key until nothing is ready. Cheap
    /// when nothing is: one atomic load.
    pub fn serve(&self, engine: &Engine) {
        if !self.has_ready.load(Ordering::Acquire) {
            return;
        }
        while self.has_ready.swap(false, Ordering::AcqRel) {
            let ready = std::mem::take(&mut *self.ready.lock());
            let mut keys = ready.keys;
            if ready.all || !ready.dbs.is_empty() {
                let reg = self.registry.lock();
                keys.extend(
                    reg.queues
                        .keys()
                        .filter(|(db, _)| ready.all || ready.dbs.contains(db))
                        .cloned(),
                );
            }
            keys.sort();
            keys.dedup();
            for key in keys {
                self.serve_key(engine, &key);
            }
        }
    }

    /// Serves the clients blocked on `key` in the order they blocked, as long as
    /// the head of the queue gets data.
    fn serve_key(&self, engine: &Engine, key: &(usize, Bytes)) {
        loop {
            let head = self
                .registry
                .lock()
                .queues
                .get(key)
                .and_then(|q| q.front().cloned());
            let Some(w) = head else { return };
            let mut st = w.state.lock();
            if !matches!(*st, State::Waiting) {
                drop(st);
                self.remove(&w);
                continue;
            }
            let mut session = w.session.lock();
            let frame = engine.execute(&mut session, w.cmd, &w.argv);
            if session.blocked.take().is_some() {
                // Nothing there for the first in line: nothing for the others.
                return;
            }
            *st = State::Served(frame, session.ticket);
            drop(session);
            drop(st);
            self.remove(&w);
            w.wake.notify_one();
        }
    }
}
