//! The engine: shards, the execution of one command under its shard locks, and the
//! hand-off of its effects.
//!
//! Execution model (see docs/ARCHITECTURE.md): a command names its keys through the
//! command table's key specs; the engine locks the shards of those keys in ascending
//! shard order (so two multi-key commands can never deadlock), runs the command's
//! function against a [`Ctx`], and, while the locks are still held, passes the
//! command's effects to the [`EffectSink`]. Because a key's effects are emitted
//! under that key's shard lock, the order of effects for any key equals the order
//! in which the commands on it executed, which is what the AOF relies on.

use crate::clock::Clock;
use crate::command::table::{Command, MemberArg, Scope};
use crate::keyspace::{DbShard, Key, KeyMap, Shard, ShardMap};
use crate::notify::{self, Notification};
use crate::util::Stage;
use crate::value::{Entry, Value};
use bytes::Bytes;
use keel_protocol::Frame;
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// One command that reproduces part of a change, in the database it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    pub db: usize,
    pub argv: Args,
}

/// An effect's arguments. Up to four (`SET k v`, `HSET k f v`, `ZADD k s m`,
/// `PEXPIREAT k ms`) live inline, so the common writes' effects allocate
/// nothing; longer ones spill to the heap.
pub type Args = SmallVec<[Bytes; 4]>;

impl Effect {
    pub fn new(db: usize, argv: impl Into<Args>) -> Effect {
        Effect {
            db,
            argv: argv.into(),
        }
    }
}

/// The effects of one command. Nearly every write has exactly one, kept
/// inline: no allocation for the list itself on the write path.
pub type Effects = SmallVec<[Effect; 1]>;

/// Receives the effects of every command, in execution order per key. Called with
/// the command's shard locks held: implementations must be quick and must not call
/// back into the engine.
pub trait EffectSink: Send + Sync {
    /// `effects` are everything one command (or one expiry step) changed; when
    /// there is more than one they must be applied together. Returns a ticket
    /// (increasing) by which a caller can later wait for these effects to be
    /// durable; 0 when the sink makes nothing durable.
    fn emit(&self, effects: &[Effect]) -> u64;

    /// Whether anything reads the effects right now (a log, a feed, a
    /// WATCH, a blocked client). When nothing does, a command's effects
    /// are counted but not built (see [`Ctx::emit_with`]), as Redis only
    /// propagates a command when something takes it. Asked with the
    /// command's shard locks held, after its keys are locked and before
    /// it runs, so a reader that registers and then takes those locks
    /// once (WATCH, a blocked client's recheck, a rewrite's snapshot) sees
    /// every change that did not build its effects.
    fn wants_effects(&self) -> bool {
        true
    }

    /// Keyspace notifications (see [`crate::notify`]) of one command or expiry
    /// step, in the order they happened, already filtered by class. `flags` are
    /// the `notify-keyspace-events` flags they were filtered with (the sink reads
    /// `K` and `E` from them). Called under the same shard locks as `emit`, never
    /// while loading; the default drops them.
    fn notify(&self, _flags: u32, _notes: &[Notification]) {}
}

/// Receives each shard's state as it was when a snapshot began (see
/// [`Engine::begin_snapshot`]). Called with the shard's lock held, before any
/// later command touches what is handed over.
pub trait ShardSnapshot: Send + Sync {
    /// The entries at positions `range` of database `db`'s map in `shard`,
    /// except the keys in `shard.snapshot_done` (already taken).
    fn take_range(&self, shard_index: usize, shard: &Shard, db: usize, range: Range<usize>);
    /// Single keys, as they were, before a command changes them: (db, key, entry).
    fn take_keys(&self, shard_index: usize, entries: &[(usize, &[u8], &Entry)]);
}

/// Keys a snapshot's walk hands over per lock hold of a shard: a command that
/// waits for the shard meanwhile waits for at most this many keys' encoding
/// (tens of microseconds), not a whole shard's.
pub const SNAPSHOT_CHUNK: usize = 256;

/// A sink that drops everything (a server with no AOF and nobody watching).
pub struct NullSink;

impl EffectSink for NullSink {
    fn emit(&self, _: &[Effect]) -> u64 {
        0
    }
}

/// Engine settings fixed at start-up.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub databases: usize,
    /// Number of shards; rounded up to a power of two.
    pub shards: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            databases: 16,
            shards: 256,
        }
    }
}

/// The state a command needs from the client that sent it.
#[derive(Clone, Debug)]
pub struct Session {
    /// Selected database.
    pub db: usize,
    /// Protocol version (2 or 3).
    pub resp: u8,
    /// The sink's ticket for the last effects this session's commands produced
    /// (see [`EffectSink::emit`]); 0 if none yet.
    pub ticket: u64,
    /// Whether a blocking command (BLPOP ...) may block: true for a client
    /// connection outside MULTI; false in EXEC, while loading and in tests that
    /// want Redis's "timeout reached" behaviour at once.
    pub may_block: bool,
    /// Set by [`Engine::execute`] when the command found nothing to serve and
    /// asks to block (only when `may_block`); the server parks the client.
    pub blocked: Option<BlockRequest>,
    /// The wall-clock time (ms) for the next command, when the caller has
    /// just read it (a connection running a pipelined batch); None: the
    /// engine reads its clock.
    pub now_ms: Option<u64>,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            db: 0,
            resp: 2,
            ticket: 0,
            may_block: false,
            blocked: None,
            now_ms: None,
        }
    }
}

/// What a blocking command waits for: any of `keys` (in the session's database)
/// to receive data, for at most `timeout_ms` (0: forever). When one of them is
/// written, the server runs the same command again; if it then blocks again the
/// client keeps waiting. Reply and effects come from that rerun, so they are the
/// non-blocking form's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRequest {
    pub db: usize,
    pub keys: Vec<Bytes>,
    pub timeout_ms: u64,
}

/// The in-memory database.
pub struct Engine {
    shards: Box<[Mutex<Shard>]>,
    map: ShardMap,
    databases: usize,
    clock: Arc<dyn Clock>,
    sink: Arc<dyn EffectSink>,
    /// While loading, keys are not expired on access and nothing is emitted.
    loading: AtomicBool,
    active_expire: AtomicBool,
    /// Count of effects emitted: Redis's "dirty" figure, derived from effects.
    dirty: AtomicU64,
    /// The snapshot in progress, if any.
    snapshot: Mutex<Option<Arc<dyn ShardSnapshot>>>,
    /// `notify-keyspace-events` flags (0 when nothing is to be published).
    notify_flags: AtomicU32,
    /// Collection encoding thresholds (CONFIG SET changes them at runtime).
    limits: crate::types::Limits,
    /// maxmemory-policy and its parameters, and the evicted-keys counter.
    evict: crate::evict::Settings,
}

/// Shard guards held by one command, sorted by shard index.
pub struct Locks<'a> {
    /// Inline for up to four shards: a command's locking allocates nothing.
    guards: Guards<'a>,
}

type Guards<'a> = SmallVec<[(usize, MutexGuard<'a, Shard>); 4]>;

/// A batch command's member, for [`Engine::prefetch`]: its key's place in
/// the batch's key list, and the member.
type MemberOf<'a> = (usize, &'a [u8]);

/// Shard indexes or key positions of one command, inline when few.
type Few = SmallVec<[usize; 8]>;

impl Locks<'_> {
    fn find(&mut self, shard: usize) -> Option<&mut Shard> {
        if self.guards.len() == 1 {
            let (i, g) = &mut self.guards[0];
            return if *i == shard { Some(&mut **g) } else { None };
        }
        match self.guards.binary_search_by_key(&shard, |(i, _)| *i) {
            Ok(pos) => Some(&mut *self.guards[pos].1),
            Err(_) => None,
        }
    }
}

impl Engine {
    pub fn new(cfg: EngineConfig, clock: Arc<dyn Clock>, sink: Arc<dyn EffectSink>) -> Engine {
        let map = ShardMap::new(cfg.shards.max(1));
        let databases = cfg.databases.max(1);
        Engine {
            shards: (0..map.count())
                .map(|_| Mutex::new(Shard::new(databases)))
                .collect(),
            map,
            databases,
            clock,
            sink,
            loading: AtomicBool::new(false),
            active_expire: AtomicBool::new(true),
            dirty: AtomicU64::new(0),
            snapshot: Mutex::new(None),
            notify_flags: AtomicU32::new(0),
            limits: crate::types::Limits::default(),
            evict: crate::evict::Settings::default(),
        }
    }

    /// Sets the keyspace notification classes ([`crate::notify`] flags); without
    /// `K` or `E` nothing is recorded at all.
    pub fn set_notify_flags(&self, flags: u32) {
        self.notify_flags
            .store(notify::effective(flags), Ordering::Relaxed);
    }

    /// The keyspace notification flags in effect, 0 while loading.
    pub fn notify_flags(&self) -> u32 {
        match self.notify_flags.load(Ordering::Relaxed) {
            0 => 0,
            _ if self.is_loading() => 0,
            f => f,
        }
    }

    /// Records one notification outside a command (the active expiry cycle);
    /// the caller holds the key's shard lock.
    pub fn notify_one(&self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        let flags = self.notify_flags();
        if flags & class == 0 {
            return;
        }
        self.sink.notify(
            flags,
            &[Notification {
                class,
                event,
                db,
                key: Bytes::copy_from_slice(key),
            }],
        );
    }

    /// The collection encoding thresholds.
    pub fn limits(&self) -> &crate::types::Limits {
        &self.limits
    }

    /// The eviction policy, its parameters and counters.
    pub fn evict_settings(&self) -> &crate::evict::Settings {
        &self.evict
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn set_loading(&self, on: bool) {
        self.loading.store(on, Ordering::SeqCst);
    }

    pub fn is_loading(&self) -> bool {
        self.loading.load(Ordering::Relaxed)
    }

    pub fn set_active_expire(&self, on: bool) {
        self.active_expire.store(on, Ordering::SeqCst);
    }

    pub fn active_expire_enabled(&self) -> bool {
        self.active_expire.load(Ordering::Relaxed)
    }

    /// Effects emitted since start: Redis's `rdb_changes_since_last_save` analogue.
    pub fn dirty(&self) -> u64 {
        self.dirty.load(Ordering::Relaxed)
    }

    pub fn shard_of(&self, key: &[u8]) -> usize {
        self.map.shard_of(key)
    }

    /// Locks the given shards (any order, duplicates allowed) in ascending order.
    /// A shard that a snapshot still needs is handed to the snapshot first, so no
    /// command ever changes it before its point-in-time state is captured.
    pub fn lock(&self, shards: Vec<usize>) -> Locks<'_> {
        self.lock_shards(Few::from_vec(shards))
    }

    fn lock_shards(&self, shards: Few) -> Locks<'_> {
        let mut guards = self.acquire(shards);
        for (i, g) in guards.iter_mut() {
            if g.snapshot_pending {
                self.snapshot_shard(*i, g);
            }
        }
        Locks { guards }
    }

    /// Locks `shards` (any order, duplicates allowed) in ascending order: the one
    /// order every caller uses, so no two lock sets can deadlock.
    fn acquire(&self, mut shards: Few) -> Guards<'_> {
        // Most commands have one key.
        if let [i] = shards[..] {
            let mut g = Guards::new();
            if let Some(s) = self.shards.get(i) {
                g.push((i, s.lock()));
            }
            return g;
        }
        shards.sort_unstable();
        shards.dedup();
        shards
            .into_iter()
            .filter(|&i| i < self.shards.len())
            .map(|i| (i, self.shards[i].lock()))
            .collect()
    }

    /// Locks the given shards (any order, duplicates allowed) in ascending order
    /// *without* handing pending shards to a snapshot in progress. Only for work
    /// that reads, or whose only change is deleting keys with a logged `DEL`
    /// (lazy or active expiry, eviction): a base that lacks such a key, followed
    /// by the `DEL` in the new incremental file, replays to the same dataset as
    /// one that has it. So the active expiry cycle, eviction's sampling and reads
    /// never serialize a whole shard for a rewrite.
    pub fn lock_unsnapshotted(&self, shards: Vec<usize>) -> Locks<'_> {
        Locks {
            guards: self.acquire(Few::from_vec(shards)),
        }
    }

    /// Hands the rest of pending `shard` to the snapshot.
    fn snapshot_shard(&self, i: usize, shard: &mut Shard) {
        self.snapshot_step(i, shard, usize::MAX);
    }

    /// Hands up to `budget` more entries of `shard` to the snapshot, from where
    /// its walk stands in each database's map (see `keymap`'s docs on the
    /// cursor). Once it has them all the shard is no longer pending. Returns
    /// whether the shard is done.
    fn snapshot_step(&self, i: usize, shard: &mut Shard, budget: usize) -> bool {
        if !shard.snapshot_pending {
            return true;
        }
        if let Some(snap) = self.snapshot.lock().clone() {
            let mut left = budget;
            for db in 0..shard.dbs.len() {
                let (from, len) = match shard.dbs.get(db) {
                    Some(d) => (d.map.cursor(), d.map.len()),
                    None => break,
                };
                if left == 0 {
                    break;
                }
                if from >= len {
                    continue;
                }
                let to = len.min(from.saturating_add(left));
                snap.take_range(i, shard, db, from..to);
                if let Some(d) = shard.dbs.get_mut(db) {
                    d.map.set_cursor(to);
                }
                left -= to - from;
            }
            if shard.dbs.iter().any(|d| d.map.cursor() < d.map.len()) {
                return false;
            }
        }
        shard.snapshot_pending = false;
        shard.snapshot_done = Default::default();
        for d in shard.dbs.iter_mut() {
            d.map.set_cursor(0);
        }
        true
    }

    /// Locks the shards of `keys` in ascending order. In a shard a snapshot still
    /// needs, only these keys are handed to it (their old values, in every
    /// database), not the whole shard: a command pays for what it touches.
    pub fn lock_keys(&self, keys: &[&[u8]]) -> Locks<'_> {
        self.lock_keys_with(keys.len(), |i| keys.get(i).copied(), || true)
    }

    /// [`Engine::lock_keys`] for `n` keys given by `key`; when a snapshot is in
    /// progress and `cow()` says false, the keys are not handed to it (see
    /// [`Engine::lock_unsnapshotted`]).
    fn lock_keys_with<'k>(
        &self,
        n: usize,
        key: impl Fn(usize) -> Option<&'k [u8]>,
        cow: impl Fn() -> bool,
    ) -> Locks<'_> {
        let keys = || (0..n).filter_map(&key);
        let mut guards = self.acquire(keys().map(|k| self.map.shard_of(k)).collect());
        if guards.iter().any(|(_, g)| g.snapshot_pending) && cow() {
            let snap = self.snapshot.lock().clone();
            for (i, g) in guards.iter_mut() {
                if !g.snapshot_pending {
                    continue;
                }
                let Some(snap) = snap.as_ref() else {
                    g.snapshot_pending = false;
                    continue;
                };
                let shard: &mut Shard = g;
                for k in keys().filter(|k| self.map.shard_of(k) == *i) {
                    if !shard.snapshot_done.insert(Key::from(k)) {
                        continue;
                    }
                    // Where the walk already passed it, the key is in the
                    // snapshot as it was.
                    let mut found: SmallVec<[(usize, &[u8], &Entry); 2]> = SmallVec::new();
                    for (db, part) in shard.dbs.iter().enumerate() {
                        if part.map.is_empty() {
                            continue;
                        }
                        let Some(at) = part.map.get_index_of(k) else {
                            continue;
                        };
                        if at < part.map.cursor() {
                            continue;
                        }
                        if let Some((key, e)) = part.map.get_index(at) {
                            found.push((db, &key[..], e));
                        }
                    }
                    if !found.is_empty() {
                        snap.take_keys(*i, &found);
                    }
                }
            }
        }
        Locks { guards }
    }

    /// Begins a point-in-time snapshot without stopping clients: with every shard
    /// locked, runs `at_switch` (the AOF starts its new incremental file there) and
    /// marks every shard pending. Each shard is then handed to `snap` exactly once,
    /// by whoever locks it first: a command about to change it, or
    /// [`Engine::snapshot_all`].
    pub fn begin_snapshot(&self, snap: Arc<dyn ShardSnapshot>, at_switch: impl FnOnce()) {
        let mut all: Vec<MutexGuard<'_, Shard>> = self.shards.iter().map(|s| s.lock()).collect();
        *self.snapshot.lock() = Some(snap);
        at_switch();
        for g in all.iter_mut() {
            g.snapshot_pending = true;
        }
    }

    /// Visits every shard so each pending one is handed to the snapshot, then
    /// ends the snapshot.
    pub fn snapshot_all(&self) {
        self.snapshot_each(|_| {});
    }

    /// Like [`Engine::snapshot_all`], calling `after(i)` (with no lock held) once
    /// shard `i` has been handed over, so the caller can pace its output.
    ///
    /// Each shard is handed over in chunks of [`SNAPSHOT_CHUNK`] keys, one lock
    /// hold each, and `after` runs after every chunk.
    pub fn snapshot_each(&self, mut after: impl FnMut(usize)) {
        for (i, shard) in self.shards.iter().enumerate() {
            loop {
                let done = self.snapshot_step(i, &mut shard.lock(), SNAPSHOT_CHUNK);
                after(i);
                if done {
                    break;
                }
            }
        }
        *self.snapshot.lock() = None;
    }

    /// Abandons a snapshot (a failed rewrite): pending shards are simply cleared.
    pub fn cancel_snapshot(&self) {
        *self.snapshot.lock() = None;
        for s in self.shards.iter() {
            let mut g = s.lock();
            g.snapshot_pending = false;
            g.snapshot_done = Default::default();
            for d in g.dbs.iter_mut() {
                d.map.set_cursor(0);
            }
        }
    }

    /// Locks every shard, in order.
    pub fn lock_all(&self) -> Locks<'_> {
        self.lock((0..self.shards.len()).collect())
    }

    /// The shards `cmd` must lock for `argv`.
    pub fn shards_for(&self, cmd: &Command, argv: &[Bytes]) -> Vec<usize> {
        match cmd.scope {
            Scope::None => Vec::new(),
            Scope::All => (0..self.shards.len()).collect(),
            Scope::Keys => {
                let mut pos = Vec::new();
                if cmd.key_positions(argv, &mut pos).is_none() {
                    return (0..self.shards.len()).collect();
                }
                pos.iter()
                    .filter_map(|&p| argv.get(p))
                    .map(|k| self.map.shard_of(k))
                    .collect()
            }
        }
    }

    /// Runs an engine command: locks its shards, runs it, emits its effects.
    /// `session.ticket` is updated when the command produced effects.
    pub fn execute(&self, session: &mut Session, cmd: &Command, argv: &[Bytes]) -> Frame {
        let mut locks = self.lock_for(cmd, argv);
        session.blocked = None;
        let keep = self.keeps_effects();
        let out = self.run_full(&mut locks, session, cmd, argv, session.may_block, keep);
        let t = self.emit_counted(&out.effects, out.effect_count);
        if t != 0 {
            session.ticket = t;
        }
        session.blocked = out.block;
        out.frame
    }

    /// Warms the CPU cache for a batch of pipelined commands before they run
    /// one by one, for each command's first key (in `db`): first the table
    /// line where its lookup starts is prefetched for every key, then each key
    /// is probed (its line has arrived meanwhile) and its slot prefetched,
    /// then a string value's bytes (a GET copies them into its reply); for a
    /// command on one member of a set or hash (SADD, HSET, HGET ...), the
    /// members its probe will compare, then their bytes. A
    /// command then finds its key in cache instead of paying a chain of misses
    /// (table, slot) that left the core idle: with a dataset larger than the
    /// cache those misses were the largest cost of GET, SET and INCR at
    /// pipeline 16 (BENCHMARKS.md).
    ///
    /// A hint only: it changes nothing, and a shard another thread holds is
    /// skipped rather than waited for. The shards are all locked before the
    /// first probe and released after the last, because taking a lock is a
    /// full barrier that would make each key's misses wait for the previous
    /// key's; between the probes nothing does, so the misses overlap.
    pub fn prefetch<'a>(&self, db: usize, cmds: impl Iterator<Item = (&'a Command, &'a [Bytes])>) {
        const MAX: usize = 32;
        // Each key's shard, bytes and map hash (one hash for both).
        let mut keys: SmallVec<[(usize, &[u8], u32); MAX]> = SmallVec::new();
        // Commands on one member of a set, hash or sorted set.
        let mut members: SmallVec<[MemberOf<'_>; MAX]> = SmallVec::new();
        for (cmd, argv) in cmds.take(MAX) {
            if !matches!(cmd.scope, Scope::Keys) {
                continue;
            }
            let first = if cmd.only_first_key() {
                argv.get(1)
            } else {
                let mut pos = Few::new();
                if cmd.key_positions(argv, &mut pos).is_none() {
                    continue;
                }
                pos.first().and_then(|&p| argv.get(p))
            };
            if let Some(k) = first {
                let (shard, h) = self.map.place_of(k);
                let member = match cmd.member {
                    MemberArg::None => None,
                    MemberArg::At(i) => argv.get(i),
                    MemberArg::Zadd => argv
                        .iter()
                        .skip(2)
                        .position(|a| !is_zadd_flag(a))
                        .and_then(|i| argv.get(i + 3)),
                };
                // A pipeline on one key (LPUSH mylist ...) warms it once.
                if keys.last().is_none_or(|&(_, last, _)| last != &k[..]) {
                    keys.push((shard, &k[..], h));
                }
                if let Some(m) = member {
                    members.push((keys.len() - 1, &m[..]));
                }
            }
        }
        if keys.is_empty() {
            return;
        }
        // Each shard once, in no particular order: `try_lock` never waits, so
        // no order is needed to rule out deadlock.
        let mut guards: SmallVec<[(usize, Option<MutexGuard<'_, Shard>>); MAX]> = SmallVec::new();
        for &(s, _, _) in &keys {
            if !guards.iter().any(|(i, _)| *i == s) {
                guards.push((s, self.shards.get(s).and_then(|m| m.try_lock())));
            }
        }
        let map_of = |s: usize| {
            let (_, g) = guards.iter().find(|(i, _)| *i == s)?;
            g.as_ref()?.dbs.get(db).map(|d| &d.map)
        };
        // Each key was hashed once for its shard and its three steps.
        let hashed: SmallVec<[Option<(&KeyMap, u32)>; MAX]> = keys
            .iter()
            .map(|&(s, _, h)| {
                let m = map_of(s)?;
                m.prefetch_index_hashed(h);
                Some((m, h))
            })
            .collect();
        for &(m, h) in hashed.iter().flatten() {
            m.prefetch_hashed(h);
        }
        // Each key is looked up once here (its slot has arrived by now): a
        // string's bytes are prefetched, and a collection is kept for its
        // members' two steps.
        let values: SmallVec<[Option<&Value>; MAX]> = keys
            .iter()
            .zip(&hashed)
            .map(|(&(_, k, _), mh)| {
                let (m, h) = (*mh)?;
                let v = &m.get_hashed(k, h)?.value;
                if let Value::Str { data, .. } = v {
                    data.prefetch();
                }
                Some(v)
            })
            .collect();
        // Each member is hashed once for its three steps.
        let member_hashes: SmallVec<[Option<(&Value, u64)>; MAX]> = members
            .iter()
            .map(|&(at, member)| {
                let v = (*values.get(at)?)?;
                Some((v, v.member_hash(member)?))
            })
            .collect();
        for stage in [Stage::Bucket, Stage::Slot, Stage::Bytes] {
            for &(v, h) in member_hashes.iter().flatten() {
                v.prefetch_member(h, stage);
            }
        }
    }

    /// Starts loading the table line where a lookup of `key` in `db` begins:
    /// a hint from a caller that knows its next commands before it runs them
    /// (the AOF loader). It changes nothing, and skips a shard another thread
    /// holds. Unlike [`Engine::prefetch`] it releases the shard at once: a
    /// prefetch is not ordered by the lock's barrier, so the next key's
    /// prefetch still overlaps this one's miss.
    pub fn prefetch_key(&self, db: usize, key: &[u8]) {
        let Some(shard) = self.shards.get(self.map.shard_of(key)) else {
            return;
        };
        if let Some(g) = shard.try_lock() {
            if let Some(d) = g.dbs.get(db) {
                d.map.prefetch_index(key);
            }
        }
    }

    /// The locks `cmd` needs for `argv` (see [`Engine::lock_keys`]).
    /// A command that does not write takes no part in a snapshot in progress (see
    /// [`Engine::lock_unsnapshotted`]): its only possible change is a lazy expiry.
    pub fn lock_for(&self, cmd: &Command, argv: &[Bytes]) -> Locks<'_> {
        let writes = || cmd.is_write();
        match cmd.scope {
            Scope::Keys if cmd.only_first_key() => {
                let key = argv.get(1).map(|k| &k[..]);
                self.lock_keys_with(usize::from(key.is_some()), |_| key, writes)
            }
            Scope::Keys => {
                let mut pos = Few::new();
                if cmd.key_positions(argv, &mut pos).is_some() {
                    let key = |i: usize| pos.get(i).and_then(|&p| argv.get(p)).map(|k| &k[..]);
                    self.lock_keys_with(pos.len(), key, writes)
                } else if writes() {
                    self.lock_all()
                } else {
                    self.lock_unsnapshotted((0..self.shards.len()).collect())
                }
            }
            _ if writes() => self.lock(self.shards_for(cmd, argv)),
            _ => self.lock_unsnapshotted(self.shards_for(cmd, argv)),
        }
    }

    /// Runs an engine command under locks the caller already holds (EXEC holds the
    /// locks of every queued command at once). Returns the reply; the effects have
    /// been emitted.
    pub fn execute_locked<'e>(
        &'e self,
        locks: &mut Locks<'e>,
        session: &mut Session,
        cmd: &Command,
        argv: &[Bytes],
    ) -> Frame {
        let (frame, effects) = self.run_collect(locks, session, cmd, argv);
        let t = self.emit(&effects);
        if t != 0 {
            session.ticket = t;
        }
        frame
    }

    /// Runs a command and returns its reply and effects without emitting them (for
    /// callers that group effects, and for tests).
    pub fn run_collect<'e>(
        &'e self,
        locks: &mut Locks<'e>,
        session: &Session,
        cmd: &Command,
        argv: &[Bytes],
    ) -> (Frame, Effects) {
        let out = self.run_full(locks, session, cmd, argv, false, true);
        (out.frame, out.effects)
    }

    /// Whether commands run now build their effects: not while loading
    /// (nothing is emitted then), nor when the sink reads none.
    fn keeps_effects(&self) -> bool {
        !self.is_loading() && self.sink.wants_effects()
    }

    /// Runs a command: its reply, its effects (not emitted yet) and, for a
    /// blocking command that found nothing while `may_block`, what it wants to
    /// block on. [`Engine::run_collect`] (EXEC) never blocks. With
    /// `keep_effects` false the effects are only counted (see
    /// [`Ctx::emit_with`]).
    pub fn run_full<'e>(
        &'e self,
        locks: &mut Locks<'e>,
        session: &Session,
        cmd: &Command,
        argv: &[Bytes],
        may_block: bool,
        keep_effects: bool,
    ) -> Outcome {
        let Some(f) = cmd.engine_fn() else {
            return Outcome {
                frame: Frame::error(format!("ERR '{}' is not an engine command", cmd.facts.name)),
                effects: Effects::new(),
                effect_count: 0,
                block: None,
            };
        };
        let mut ctx = Ctx {
            engine: self,
            locks,
            db: session.db,
            now: session.now_ms.unwrap_or_else(|| self.clock.now_ms()),
            effects: Effects::new(),
            keep_effects,
            effect_count: 0,
            lock_miss: false,
            scratch: None,
            resp: session.resp,
            notify_flags: self.notify_flags(),
            notes: Vec::new(),
            may_block: may_block && !self.is_loading(),
            block: None,
        };
        let frame = f(&mut ctx, argv);
        if ctx.lock_miss {
            return Outcome {
                frame: Frame::error(
                    "ERR internal error: a key outside the locked shards was touched",
                ),
                effects: ctx.effects,
                effect_count: ctx.effect_count,
                block: None,
            };
        }
        // Published as the command runs (inside EXEC too), as Redis does.
        if !ctx.notes.is_empty() {
            self.sink.notify(ctx.notify_flags, &ctx.notes);
        }
        Outcome {
            frame,
            effects: ctx.effects,
            effect_count: ctx.effect_count,
            block: ctx.block,
        }
    }

    /// Hands effects to the sink (caller holds the relevant shard locks) and
    /// returns the sink's durability ticket (0 when nothing was emitted).
    pub fn emit(&self, effects: &[Effect]) -> u64 {
        self.emit_counted(effects, effects.len() as u64)
    }

    /// [`Engine::emit`] of a command that emitted `count` effects, of which
    /// only `effects` were built (none when nothing reads them).
    fn emit_counted(&self, effects: &[Effect], count: u64) -> u64 {
        if count == 0 || self.is_loading() {
            return 0;
        }
        self.dirty.fetch_add(count, Ordering::Relaxed);
        if effects.is_empty() {
            return 0;
        }
        self.sink.emit(effects)
    }

    /// Runs `f` on each shard in turn, each under its own lock.
    pub fn for_each_shard(&self, mut f: impl FnMut(usize, &mut Shard)) {
        for (i, s) in self.shards.iter().enumerate() {
            f(i, &mut s.lock());
        }
    }

    /// Number of keys in `db` (expired keys not yet removed included, as Redis).
    pub fn dbsize(&self, db: usize) -> usize {
        let mut n = 0;
        self.for_each_shard(|_, s| n += s.dbs.get(db).map_or(0, |d| d.len()));
        n
    }

    /// (keys, keys with expiry) per database, for INFO keyspace.
    pub fn keyspace_info(&self) -> Vec<(usize, usize)> {
        let mut v = vec![(0usize, 0usize); self.databases];
        self.for_each_shard(|_, s| {
            for (i, d) in s.dbs.iter().enumerate() {
                v[i].0 += d.map.len();
                v[i].1 += d.expires.len();
            }
        });
        v
    }

    /// Sums the per-shard counters.
    pub fn stats(&self) -> crate::keyspace::ShardStats {
        let mut t = crate::keyspace::ShardStats::default();
        self.for_each_shard(|_, s| {
            t.keyspace_hits += s.stats.keyspace_hits;
            t.keyspace_misses += s.stats.keyspace_misses;
            t.expired_keys += s.stats.expired_keys;
        });
        t
    }

    pub fn reset_stats(&self) {
        self.for_each_shard(|_, s| s.stats = Default::default());
    }
}

/// What a command's function sees: the locked shards, the client's database, the
/// time the command started, and the effects it has produced so far.
pub struct Ctx<'e, 'l> {
    pub engine: &'e Engine,
    locks: &'l mut Locks<'e>,
    /// The client's selected database.
    pub db: usize,
    /// Milliseconds since the epoch when the command started; one value for the
    /// whole command, as Redis caches it.
    pub now: u64,
    effects: Effects,
    /// Effects are built and kept (see [`EffectSink::wants_effects`]).
    keep_effects: bool,
    /// Effects emitted, kept or not (Redis's dirty count).
    effect_count: u64,
    lock_miss: bool,
    /// An empty database for a key outside the locked shards (a bug, turned
    /// into an error reply); made only then, since building one costs hasher
    /// seeds and was 2% of every command.
    scratch: Option<Box<DbShard>>,
    pub resp: u8,
    /// The keyspace notification flags when the command started (0: off).
    notify_flags: u32,
    notes: Vec<Notification>,
    may_block: bool,
    block: Option<BlockRequest>,
}

/// What running one command produced.
pub struct Outcome {
    pub frame: Frame,
    pub effects: Effects,
    /// How many effects the command emitted, including any not built
    /// because nothing wanted them.
    pub effect_count: u64,
    pub block: Option<BlockRequest>,
}

impl<'e, 'l> Ctx<'e, 'l> {
    /// For a blocking command that found nothing to serve: asks the server to
    /// park the client on `keys` for `timeout_ms` (0: forever) and returns the
    /// reply the server sends if the timeout passes (Redis's null array, `*-1`,
    /// `_` in RESP3). When the client may not block (inside MULTI, while
    /// loading), returns `nonblocking` instead: what Redis replies to a blocking
    /// command that cannot block (a null array for BLPOP, a null bulk for BLMOVE).
    pub fn block_on(&mut self, keys: Vec<Bytes>, timeout_ms: u64, nonblocking: Frame) -> Frame {
        if !self.may_block {
            return nonblocking;
        }
        self.block = Some(BlockRequest {
            db: self.db,
            keys,
            timeout_ms,
        });
        Frame::NullArray
    }

    /// The encoding thresholds for this command.
    pub fn thresholds(&self) -> crate::types::Thresholds {
        self.engine.limits.get()
    }

    /// The shard holding `key`.
    fn shard(&mut self, key: &[u8]) -> Option<&mut Shard> {
        let i = self.engine.map.shard_of(key);
        let found = self.locks.find(i);
        if found.is_none() {
            self.lock_miss = true;
        }
        found
    }

    /// The part of database `db` that holds `key`.
    pub fn dbs(&mut self, db: usize, key: &[u8]) -> &mut DbShard {
        let i = self.engine.map.shard_of(key);
        self.dbs_at(i, db)
    }

    /// [`Ctx::dbs`] for a key whose shard is `i`.
    fn dbs_at(&mut self, i: usize, db: usize) -> &mut DbShard {
        let ok = self.locks.find(i).is_some_and(|s| db < s.dbs.len());
        if !ok {
            // A key outside the locked shards (a bug) or a bad database index:
            // behave as an empty database and turn the reply into an error.
            self.lock_miss = true;
            let scratch = self.scratch.get_or_insert_with(Default::default);
            scratch.clear();
            return scratch;
        }
        match self.locks.find(i) {
            Some(s) => &mut s.dbs[db],
            None => self.scratch.get_or_insert_with(Default::default),
        }
    }

    /// Removes `key` from `db` if its deadline has passed, emitting `DEL` as its
    /// effect. Returns true if it was removed.
    pub fn expire_if_needed(&mut self, db: usize, key: &[u8]) -> bool {
        if self.engine.is_loading() {
            return false;
        }
        let now = self.now;
        let Some(shard) = self.shard(key) else {
            return false;
        };
        let Some(d) = shard.dbs.get_mut(db) else {
            return false;
        };
        match d.map.get(key) {
            Some(e) if e.is_expired(now) => {}
            _ => return false,
        }
        d.remove(key);
        shard.stats.expired_keys += 1;
        self.logged_expiry(db, key);
        true
    }

    /// Records what a lazy expiry of `key` in `db` does beyond removing it and
    /// counting it: `DEL` as its effect and the `expired` event.
    fn logged_expiry(&mut self, db: usize, key: &[u8]) {
        self.emit_in_with(db, || {
            vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(key)]
        });
        self.notify_in(notify::EXPIRED, "expired", db, key);
    }

    /// The position of `key` in `db`'s map, with one hash lookup, after lazy
    /// expiry (an expired key is removed here and `DEL` is recorded).
    fn find(&mut self, db: usize, key: &[u8]) -> Option<usize> {
        let (i, h) = self.engine.map.place_of(key);
        self.find_in(i, h, db, key)
    }

    /// [`Ctx::find`] for a key whose shard is `i` and whose map hash is `h`
    /// ([`ShardMap::place_of`]): a lookup hashes its key once, for the shard
    /// and the map, not at each step.
    fn find_in(&mut self, i: usize, h: u32, db: usize, key: &[u8]) -> Option<usize> {
        let now = self.now;
        let loading = self.engine.is_loading();
        let removed = {
            let Some(shard) = self.locks.find(i) else {
                self.lock_miss = true;
                return None;
            };
            let d = shard.dbs.get_mut(db)?;
            let idx = d.map.get_index_of_hashed(key, h)?;
            let expired = !loading && d.map.get_index(idx).is_some_and(|(_, e)| e.is_expired(now));
            if !expired {
                return Some(idx);
            }
            if let Some((k, e)) = d.map.swap_remove_index(idx) {
                if e.expire_at != 0 {
                    d.expires.swap_remove(&k);
                }
            }
            shard.stats.expired_keys += 1;
            true
        };
        if removed {
            self.logged_expiry(db, key);
        }
        None
    }

    /// The entry at `idx` of `db`'s map in `key`'s shard, marking it used now.
    /// The entry at `idx` in `db`'s part of shard `i` (as [`Ctx::find_in`]
    /// found it), touched for eviction.
    fn entry_in(&mut self, i: usize, db: usize, idx: usize) -> Option<&mut Entry> {
        let now = self.now;
        let e = self
            .locks
            .find(i)?
            .dbs
            .get_mut(db)?
            .map
            .get_index_mut(idx)?
            .1;
        self.engine.evict.touch(e, now);
        Some(e)
    }

    /// Looks `key` up in `db` for writing: expired keys are removed first. Does not
    /// count hits or misses.
    pub fn lookup_in(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let (i, h) = self.engine.map.place_of(key);
        let idx = self.find_in(i, h, db, key)?;
        self.entry_in(i, db, idx)
    }

    /// Looks `key` up in the current database for writing.
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup_in(self.db, key)
    }

    /// Looks `key` up in the current database for reading, counting a hit or miss.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let db = self.db;
        let (i, h) = self.engine.map.place_of(key);
        let found = self.find_in(i, h, db, key);
        if let Some(shard) = self.locks.find(i) {
            if found.is_some() {
                shard.stats.keyspace_hits += 1;
            } else {
                shard.stats.keyspace_misses += 1;
            }
        }
        let Some(idx) = found else {
            self.notify_in(notify::KEY_MISS, "keymiss", db, key);
            return None;
        };
        self.entry_in(i, db, idx)
    }

    /// Whether `key` exists in `db` (after lazy expiry), without touching its LRU.
    pub fn exists_in(&mut self, db: usize, key: &[u8]) -> bool {
        self.find(db, key).is_some()
    }

    /// Stores `entry` under `key` in `db`, replacing any value and TTL.
    /// A key that did not exist is announced as `new` (Redis's `dbAdd`).
    pub fn insert_in(&mut self, db: usize, key: &[u8], mut entry: Entry) -> Option<Entry> {
        if entry.lru() == crate::value::LRU_UNSET {
            entry.set_lru(self.engine.evict.initial(self.now));
        }
        let (i, h) = self.engine.map.place_of(key);
        if self.notify_flags & notify::NEW == 0 {
            return self.dbs_at(i, db).insert_hashed(key, h, entry);
        }
        let old = self.dbs_at(i, db).insert_hashed(key, h, entry);
        if old.is_none() {
            self.notify_in(notify::NEW, "new", db, key);
        }
        old
    }

    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        self.insert_in(self.db, key, entry)
    }

    /// Starts loading what the lookups of `keys` (in the current database,
    /// all locked) will read, so a command on many keys (MSET) waits for
    /// their cache misses together instead of one after another:
    /// first each key's table line, then (the lines have arrived or are on
    /// their way) each key's slot. A hint only: it changes nothing.
    pub fn prefetch_keys<'k>(&mut self, keys: impl Iterator<Item = &'k Bytes>) {
        let db = self.db;
        let mut hashed: SmallVec<[(usize, u32); 16]> = SmallVec::new();
        for k in keys {
            let (i, h) = self.engine.map.place_of(k);
            if let Some(d) = self.locks.find(i).and_then(|s| s.dbs.get(db)) {
                d.map.prefetch_index_hashed(h);
                hashed.push((i, h));
            }
        }
        for (i, h) in hashed {
            if let Some(d) = self.locks.find(i).and_then(|s| s.dbs.get(db)) {
                d.map.prefetch_hashed(h);
            }
        }
    }

    /// Stores `entry` under `key` in the current database with one hash probe,
    /// for a write that replaces whatever was there without looking at it
    /// first (plain SET). A replaced entry whose deadline had passed is
    /// accounted for as the lookup would have: removed by lazy expiry (`DEL`
    /// effect, `expired` event, expired_keys), then the key is `new`. Returns
    /// the replaced entry if it was live.
    pub fn replace(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        let db = self.db;
        let old = self.insert_in(db, key, entry)?;
        if self.engine.is_loading() || !old.is_expired(self.now) {
            return Some(old);
        }
        if let Some(shard) = self.shard(key) {
            shard.stats.expired_keys += 1;
        }
        self.logged_expiry(db, key);
        self.notify_in(notify::NEW, "new", db, key);
        None
    }

    /// Removes `key` from `db` (no lazy-expiry effect: the caller emits its own).
    pub fn remove_in(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.dbs(db, key).remove(key)
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.remove_in(self.db, key)
    }

    /// Sets (or clears with 0) the TTL of an existing key in the current database.
    pub fn set_expire(&mut self, key: &[u8], at: u64) -> bool {
        let db = self.db;
        self.dbs(db, key).set_expire(key, at)
    }

    /// Records an effect in the current database.
    pub fn emit(&mut self, argv: impl Into<Args>) {
        self.emit_in(self.db, argv);
    }

    /// Records an effect in database `db`.
    pub fn emit_in(&mut self, db: usize, argv: impl Into<Args>) {
        self.effect_count += 1;
        if self.keep_effects {
            self.effects.push(Effect::new(db, argv));
        }
    }

    /// Whether the effects emitted now are kept (see [`Ctx::emit_with`]); a
    /// command that builds its effect as it goes can skip that work when not.
    pub fn keeps_effects(&self) -> bool {
        self.keep_effects
    }

    /// Records an effect in the current database, built by `argv` only if
    /// anything reads effects now ([`EffectSink::wants_effects`]); otherwise
    /// it is only counted. For the commands that run most: building an
    /// effect costs allocations and a reference count per argument.
    pub fn emit_with<A: Into<Args>>(&mut self, argv: impl FnOnce() -> A) {
        self.emit_in_with(self.db, argv);
    }

    /// [`Ctx::emit_with`] in database `db`.
    pub fn emit_in_with<A: Into<Args>>(&mut self, db: usize, argv: impl FnOnce() -> A) {
        self.effect_count += 1;
        if self.keep_effects {
            self.effects.push(Effect::new(db, argv()));
        }
    }

    /// The effects recorded so far.
    pub fn effects(&self) -> &[Effect] {
        &self.effects
    }

    /// Records the keyspace notification `event` (of class `class`, a
    /// [`crate::notify`] flag) for `key` in the current database, if that class
    /// is enabled.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        self.notify_in(class, event, self.db, key);
    }

    /// Like [`Ctx::notify`], in database `db`.
    #[inline]
    pub fn notify_in(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        if self.notify_flags & class != 0 {
            self.notes.push(Notification {
                class,
                event,
                db,
                key: Bytes::copy_from_slice(key),
            });
        }
    }

    /// The notifications recorded so far.
    pub fn notes(&self) -> &[Notification] {
        &self.notes
    }

    /// Every locked shard (all of them for commands with whole-keyspace scope).
    pub fn locked_shards(&mut self) -> impl Iterator<Item = &mut Shard> + use<'_, 'e, 'l> {
        self.locks.guards.iter_mut().map(|(_, g)| &mut **g)
    }

    /// Every locked shard with its index.
    pub fn locked_shards_indexed(
        &mut self,
    ) -> impl Iterator<Item = (usize, &mut Shard)> + use<'_, 'e, 'l> {
        self.locks.guards.iter_mut().map(|(i, g)| (*i, &mut **g))
    }

    /// True when this context holds every shard.
    pub fn holds_all(&self) -> bool {
        self.locks.guards.len() == self.engine.shards.len()
    }
}

impl Engine {
    /// Resolves and runs an engine command from its argument vector, returning the
    /// reply and its effects (which are also emitted). Server-level commands are
    /// refused. Used by the AOF loader and by tests.
    /// The one shard every key of `argv` lives in, if the command is known, has
    /// keys, and all of them are in one shard: such commands on different shards
    /// commute, which lets the AOF loader apply them on several threads.
    pub fn single_shard_of(&self, argv: &[Bytes]) -> Option<usize> {
        let crate::command::table::Lookup::Found(cmd) = crate::command::table::resolve(argv) else {
            return None;
        };
        if !matches!(cmd.scope, Scope::Keys) {
            return None;
        }
        let mut pos = Few::new();
        cmd.key_positions(argv, &mut pos)?;
        let mut shards = pos
            .iter()
            .map(|&p| argv.get(p).map(|k| self.map.shard_of(k)));
        let first = shards.next()??;
        shards.all(|s| s == Some(first)).then_some(first)
    }

    pub fn run_argv(&self, session: &Session, argv: &[Bytes]) -> (Frame, Effects) {
        let cmd = match crate::command::table::resolve(argv) {
            crate::command::table::Lookup::Found(c) => c,
            crate::command::table::Lookup::Unknown(e)
            | crate::command::table::Lookup::NotSupported(e)
            | crate::command::table::Lookup::UnknownSub(e)
            | crate::command::table::Lookup::Arity(e) => return (Frame::error(e), Effects::new()),
        };
        let mut locks = self.lock_for(cmd, argv);
        // While loading (the AOF loader runs every command through here)
        // nothing is emitted, so nothing is built.
        let keep = self.keeps_effects();
        let out = self.run_full(&mut locks, session, cmd, argv, false, keep);
        self.emit_counted(&out.effects, out.effect_count);
        (out.frame, out.effects)
    }
}

/// Helpers for unit tests of command functions.
pub mod testing {
    use super::*;
    use crate::clock::ManualClock;

    /// A reply encoded ahead ([`keel_protocol::BulkArray`], a `Frame::Raw`
    /// array of bulk strings) read back as the frames it encodes, so tests
    /// compare it like any other; other frames are returned as they are.
    pub fn unraw(f: Frame) -> Frame {
        let Frame::Raw(raw) = &f else {
            return f;
        };
        let text = &raw[..];
        let line = |at: usize| -> (usize, usize) {
            let end = text[at..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .map(|p| at + p)
                .unwrap_or_else(|| panic!("no CRLF in {raw:?}"));
            let n = std::str::from_utf8(&text[at + 1..end])
                .ok()
                .and_then(|d| d.parse().ok())
                .unwrap_or_else(|| panic!("bad length in {raw:?}"));
            (n, end + 2)
        };
        assert_eq!(text.first(), Some(&b'*'), "not an array: {raw:?}");
        let (n, mut at) = line(0);
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            assert_eq!(text.get(at), Some(&b'$'), "not a bulk string: {raw:?}");
            let (len, start) = line(at);
            items.push(Frame::Bulk(raw.slice(start..start + len)));
            at = start + len + 2;
        }
        assert_eq!(at, text.len(), "bytes after the array: {raw:?}");
        Frame::Array(items)
    }

    /// Reply builders for assertions.
    pub fn bulk(s: &str) -> Frame {
        Frame::bulk(Bytes::copy_from_slice(s.as_bytes()))
    }
    pub fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }
    pub fn error(s: &str) -> Frame {
        Frame::error(s)
    }
    pub fn arr(v: Vec<Frame>) -> Frame {
        Frame::Array(v)
    }

    /// Runs a command given as separate arguments (binary, empty allowed).
    pub fn runb(e: &Engine, s: &Session, argv: &[&[u8]]) -> (Frame, Vec<Effect>) {
        let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let (frame, effects) = e.run_argv(s, &argv);
        (frame, effects.into_vec())
    }

    /// An engine on a manual clock starting at 1,000,000,000,000 ms.
    pub fn engine() -> (Engine, ManualClock) {
        let clock = ManualClock::new(1_000_000_000_000);
        let e = Engine::new(
            EngineConfig::default(),
            Arc::new(clock.clone()),
            Arc::new(NullSink),
        );
        (e, clock)
    }

    /// Records the keyspace notifications handed to it (effects are dropped).
    #[derive(Default)]
    pub struct NoteRecorder(pub Mutex<Vec<Notification>>);

    impl EffectSink for NoteRecorder {
        fn emit(&self, _: &[Effect]) -> u64 {
            0
        }

        fn notify(&self, _flags: u32, notes: &[Notification]) {
            self.0.lock().extend_from_slice(notes);
        }
    }

    impl NoteRecorder {
        /// The notifications so far as lines like `0 set k`, emptying the record.
        pub fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock())
                .iter()
                .map(|n| format!("{} {} {}", n.db, n.event, String::from_utf8_lossy(&n.key)))
                .collect()
        }
    }

    /// An engine on a manual clock (as [`engine`]) whose sink records keyspace
    /// notifications, with every class (`KEA` plus `n` and `m`) enabled.
    pub fn notes_engine() -> (Engine, ManualClock, Arc<NoteRecorder>) {
        let clock = ManualClock::new(1_000_000_000_000);
        let rec = Arc::new(NoteRecorder::default());
        let e = Engine::new(
            EngineConfig::default(),
            Arc::new(clock.clone()),
            rec.clone(),
        );
        e.set_notify_flags(
            crate::notify::ALL
                | crate::notify::KEYSPACE
                | crate::notify::KEYEVENT
                | crate::notify::NEW
                | crate::notify::KEY_MISS,
        );
        (e, clock, rec)
    }

    /// Runs a command given as space-separated words (no quoting).
    pub fn run(e: &Engine, s: &mut Session, line: &str) -> (Frame, Vec<Effect>) {
        let argv: Vec<Bytes> = line
            .split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        let (frame, effects) = e.run_argv(s, &argv);
        (frame, effects.into_vec())
    }

    /// Renders effects as lines like `0 SET k v` for compact assertions.
    pub fn fx(effects: &[Effect]) -> Vec<String> {
        effects
            .iter()
            .map(|e| {
                let mut s = e.db.to_string();
                for a in &e.argv {
                    s.push(' ');
                    s.push_str(&String::from_utf8_lossy(a));
                }
                s
            })
            .collect()
    }
}

// Added for digest.rs (DEBUG DIGEST under every shard lock) and expire.rs (the
// active expiry cycle, one shard lock at a time): access to the shards a `Locks`
// holds, outside a command's `Ctx`.
impl<'a> Locks<'a> {
    /// Every held shard with its index, in ascending index order.
    pub fn shards_mut(&mut self) -> impl Iterator<Item = (usize, &mut Shard)> + use<'_, 'a> {
        self.guards.iter_mut().map(|(i, g)| (*i, &mut **g))
    }
}

impl Locks<'_> {
    /// Runs `f` on each locked shard (used by introspection helpers).
    pub fn for_each(&mut self, f: impl FnOnce(&mut Shard)) {
        if let Some((_, g)) = self.guards.first_mut() {
            f(g);
        }
    }
}

impl Engine {
    /// Empties every database without emitting effects (DEBUG LOADAOF reloads the
    /// dataset from the log right after).
    pub fn clear_all(&self) {
        let mut locks = self.lock_all();
        for (_, g) in locks.guards.iter_mut() {
            for d in g.dbs.iter_mut() {
                d.clear();
            }
        }
    }
}

impl Locks<'_> {
    /// The locked shard with index `idx`, if this set holds it.
    pub fn shard(&mut self, idx: usize) -> Option<&mut Shard> {
        self.find(idx)
    }
}

/// A ZADD option (the words before the first score).
fn is_zadd_flag(a: &[u8]) -> bool {
    [&b"nx"[..], b"xx", b"gt", b"lt", b"ch", b"incr"]
        .iter()
        .any(|f| a.eq_ignore_ascii_case(f))
}
