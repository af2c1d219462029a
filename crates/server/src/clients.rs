//! The registry of connected clients, for CLIENT LIST / KILL / INFO, and the
//! CLIENT PAUSE state.

use crate::signal::Signal;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// What CLIENT LIST shows about one connection; updated by its task.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    pub name: String,
    pub created_ms: u64,
    pub last_interaction_ms: u64,
    pub db: usize,
    pub resp: u8,
    /// The last command's name (CLIENT LIST `cmd`): a name from the command
    /// table, so recording it copies a pointer, not the text.
    pub last_cmd: &'static str,
    pub qbuf: usize,
    pub omem: usize,
    pub monitor: bool,
    pub lib_name: String,
    pub lib_ver: String,
    pub no_evict: bool,
    /// Waiting in a blocking command (CLIENT LIST flag `b`).
    pub blocked: bool,
    pub authenticated: bool,
    /// Pub/sub subscriptions: channels, patterns, shard channels.
    pub sub: usize,
    pub psub: usize,
    pub ssub: usize,
}

impl ClientInfo {
    /// A client with subscriptions is of the `pubsub` class (CLIENT LIST TYPE,
    /// CLIENT KILL TYPE, output buffer limits), as in Redis.
    pub fn is_pubsub(&self) -> bool {
        self.sub + self.psub + self.ssub > 0
    }
}

/// A connected client as the registry sees it.
pub struct ClientHandle {
    pub info: Mutex<ClientInfo>,
    /// Raised by CLIENT KILL (and never lowered): the connection's task
    /// closes it.
    pub kill: Signal,
    pub peer: Option<SocketAddr>,
}

impl ClientHandle {
    pub fn kill(&self) {
        self.kill.raise();
    }
}

#[derive(Default)]
pub struct Registry {
    pub clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    next_id: AtomicU64,
}

impl Registry {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn add(&self, h: Arc<ClientHandle>) {
        let id = h.info.lock().id;
        self.clients.lock().insert(id, h);
    }

    pub fn remove(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    /// Memory of every client's buffers, counted as CLIENT LIST's tot-mem
    /// (query buffer, pending output, and the 16 KB read buffer each has).
    pub fn buffers_memory(&self) -> u64 {
        self.snapshot()
            .iter()
            .map(|c| {
                let i = c.info.lock();
                (i.qbuf + i.omem + 16384) as u64
            })
            .sum()
    }
}

/// CLIENT PAUSE state.
#[derive(Default)]
pub struct Pause {
    state: Mutex<Option<(u64, bool)>>, // (until ms, all commands?)
    /// Set while a pause may be in force: the command path checks only this.
    active: AtomicBool,
    pub unpaused: Notify,
}

impl Pause {
    pub fn pause(&self, until_ms: u64, all: bool) {
        self.active.store(true, Ordering::SeqCst);
        let mut s = self.state.lock();
        // A later pause extends; a stricter mode wins, as Redis does.
        *s = Some(match *s {
            Some((u, a)) => (u.max(until_ms), a || all),
            None => (until_ms, all),
        });
    }

    pub fn unpause(&self) {
        *self.state.lock() = None;
        self.active.store(false, Ordering::SeqCst);
        self.unpaused.notify_waiters();
    }

    /// Whether a pause may be in force (cheap; check before [`Pause::blocks`]).
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// If a command (write or not) must wait now, until when.
    pub fn blocks(&self, is_write: bool, now_ms: u64) -> Option<u64> {
        let mut s = self.state.lock();
        match *s {
            Some((until, _)) if until <= now_ms => {
                *s = None;
                self.active.store(false, Ordering::SeqCst);
                None
            }
            Some((until, all)) if all || is_write => Some(until),
            _ => None,
        }
    }
}
