//! Applying the log on several threads while it loads.
//!
//! Replaying a log is mostly inserting into the keyspace, and two commands whose
//! keys live in different shards commute. [`with_parallel_apply`] gives the loader
//! an [`Apply`] that routes each command whose keys all lie in one shard to the
//! worker thread that owns that shard (shard modulo the number of workers), in
//! batches, so per shard the order of the log is kept. Any other command (keys in
//! several shards, FLUSHALL, SWAPDB, an unknown command) is a barrier: every worker
//! finishes what it was given, then the command runs on the loader's thread. So the
//! result is exactly the sequential replay's.
//!
//! A command that fails on a worker is found after the loader has moved on: the
//! failure stops the load at the next batch boundary ([`Apply::stop`]) or at the
//! end of the file ([`Apply::barrier`]), before any file is changed. The caller
//! then replays sequentially to report exactly where and why (see the server's
//! `aof::load_and_start`). Only [`crate::loader::CorruptPolicy::Refuse`] loads run
//! this way; salvage needs each command's result at once.
//!
//! Memory: each worker's queue holds at most [`QUEUE_BATCHES`] batches of
//! [`BATCH`] commands, so what waits is bounded, not proportional to the file.

use crate::loader::{check_db, run_one, Apply, LoadClock};
use bytes::Bytes;
use keel_engine::Engine;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// Commands sent to a worker at a time.
pub const BATCH: usize = 512;
/// Batches a worker's queue holds before the loader waits for it.
pub const QUEUE_BATCHES: usize = 8;
/// How many commands ahead a worker prefetches the key of the next one.
const PREFETCH_AHEAD: usize = 16;

/// Commands for one worker, their arguments copied into one buffer: one
/// allocation a batch instead of one an argument, and on the worker each
/// argument is a slice of the shared buffer.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    /// (start, len) of each argument in `data`.
    args: Vec<(usize, usize)>,
    /// (database, index of the first argument in `args`, argument count).
    cmds: Vec<(usize, usize, usize)>,
}

impl Batch {
    fn push(&mut self, db: usize, argv: &[Bytes]) {
        self.cmds.push((db, self.args.len(), argv.len()));
        for a in argv {
            self.args.push((self.data.len(), a.len()));
            self.data.extend_from_slice(a);
        }
    }

    fn len(&self) -> usize {
        self.cmds.len()
    }

    fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Calls `f` with each command's database and arguments, first
    /// prefetching the key of the command [`PREFETCH_AHEAD`] places further
    /// on (see [`crate::loader::prefetch_keys`]).
    fn each(self, engine: &Engine, mut f: impl FnMut(usize, &[Bytes]) -> bool) {
        let data = Bytes::from(self.data);
        let args = &self.args;
        let prefetch = |c: Option<&(usize, usize, usize)>| {
            let Some(&(db, first, n)) = c else { return };
            if let Some(key) = args
                .get(first + 1)
                .filter(|_| n > 1)
                .and_then(|&(start, len)| data.get(start..start + len))
            {
                engine.prefetch_key(db, key);
            }
        };
        for c in self.cmds.iter().take(PREFETCH_AHEAD) {
            prefetch(Some(c));
        }
        let mut argv: Vec<Bytes> = Vec::new();
        for (i, &(db, first, n)) in self.cmds.iter().enumerate() {
            prefetch(self.cmds.get(i + PREFETCH_AHEAD));
            argv.clear();
            argv.extend(
                args[first..first + n]
                    .iter()
                    .map(|&(start, len)| data.slice(start..start + len)),
            );
            if !f(db, &argv) {
                return;
            }
        }
    }
}

/// What the workers share with the loader's thread.
#[derive(Default)]
struct Shared {
    /// Batches handed to workers and not yet finished.
    outstanding: Mutex<usize>,
    idle: Condvar,
    failed: AtomicBool,
    /// The first failure: the command and its error.
    failure: Mutex<Option<String>>,
}

/// The [`Apply`] of a parallel load (see the module docs).
pub struct ParallelApply<'e> {
    engine: &'e Engine,
    queues: Vec<SyncSender<Batch>>,
    batches: Vec<Batch>,
    shared: Arc<Shared>,
}

/// Runs `f` with a [`ParallelApply`] over `workers` threads applying to
/// `engine`; the threads end when `f` returns.
pub fn with_parallel_apply<R>(
    engine: &Engine,
    workers: usize,
    f: impl FnOnce(&mut ParallelApply<'_>) -> R,
) -> R {
    let workers = workers.max(1);
    let shared = Arc::new(Shared::default());
    std::thread::scope(|scope| {
        let mut queues = Vec::with_capacity(workers);
        for i in 0..workers {
            let (tx, rx) = sync_channel::<Batch>(QUEUE_BATCHES);
            queues.push(tx);
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("keel-load-{i}"))
                .spawn_scoped(scope, move || work(engine, &rx, &shared));
            if spawned.is_err() {
                // No thread: that queue's batches could never run. Fall back to
                // fewer workers (at worst the loader's thread applies it all).
                queues.pop();
                break;
            }
        }
        let mut apply = ParallelApply {
            engine,
            batches: (0..queues.len()).map(|_| Batch::default()).collect(),
            queues,
            shared,
        };
        let r = f(&mut apply);
        apply.drain();
        // Dropping the senders ends the workers; the scope joins them.
        drop(apply);
        r
    })
}

fn work(engine: &Engine, rx: &Receiver<Batch>, shared: &Shared) {
    let mut now = LoadClock::default();
    for batch in rx.iter() {
        if !shared.failed.load(Ordering::Relaxed) {
            batch.each(engine, |db, argv| {
                match run_one(engine, db, argv, now.get(engine)) {
                    Ok(()) => true,
                    Err(e) => {
                        shared.fail(argv, e);
                        false
                    }
                }
            });
        }
        shared.finish_one();
    }
}

impl Shared {
    /// Records the first command that failed.
    fn fail(&self, argv: &[Bytes], e: String) {
        let mut f = self.failure.lock();
        if f.is_none() {
            let name = argv
                .first()
                .map(|a| String::from_utf8_lossy(a).into_owned());
            *f = Some(format!("command {} failed: {e}", name.unwrap_or_default()));
        }
        self.failed.store(true, Ordering::Release);
    }

    fn finish_one(&self) {
        let mut n = self.outstanding.lock();
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.idle.notify_all();
        }
    }
}

impl ParallelApply<'_> {
    fn send(&mut self, w: usize) {
        let batch = std::mem::take(&mut self.batches[w]);
        if batch.is_empty() {
            return;
        }
        *self.shared.outstanding.lock() += 1;
        if let Err(e) = self.queues[w].send(batch) {
            // The worker is gone (it cannot end before its queue closes short of
            // a bug): apply the batch here.
            self.shared.finish_one();
            let now = self.engine.now_ms();
            e.0.each(self.engine, |db, argv| {
                match run_one(self.engine, db, argv, now) {
                    Ok(()) => true,
                    Err(err) => {
                        self.shared.fail(argv, err);
                        false
                    }
                }
            });
        }
    }

    /// Hands every partial batch over and waits until the workers are idle.
    fn drain(&mut self) {
        for w in 0..self.batches.len() {
            self.send(w);
        }
        let mut n = self.shared.outstanding.lock();
        while *n > 0 {
            self.shared.idle.wait(&mut n);
        }
    }

    fn failure(&self) -> Option<String> {
        if !self.shared.failed.load(Ordering::Acquire) {
            return None;
        }
        Some(
            self.shared
                .failure
                .lock()
                .clone()
                .unwrap_or_else(|| "a command failed".into()),
        )
    }
}

impl Apply for ParallelApply<'_> {
    fn apply(&mut self, db: usize, argv: &[Bytes]) -> Result<(), String> {
        if !self.queues.is_empty() {
            if let Some(shard) = self.engine.single_shard_of(argv) {
                let w = shard % self.queues.len();
                self.batches[w].push(db, argv);
                if self.batches[w].len() >= BATCH {
                    self.send(w);
                }
                return Ok(());
            }
        }
        // A barrier: everything before it first, then it, here.
        self.drain();
        if let Some(f) = self.failure() {
            return Err(f);
        }
        run_one(self.engine, db, argv, self.engine.now_ms())
    }

    fn check_db(&mut self, db: usize) -> Result<(), String> {
        check_db(self.engine, db)
    }

    fn stop(&mut self) -> Option<String> {
        self.failure()
    }

    fn barrier(&mut self) -> Option<String> {
        self.drain();
        self.failure()
    }
}
