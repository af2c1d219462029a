//! The AOF writer: turns effects into RESP records, writes them in batches to the
//! current incremental file with a `#K1` annotation after each batch, and makes
//! them durable according to `appendfsync`.
//!
//! Threads and ordering:
//! - [`AofWriter::append`] is called by the engine's effect sink while the
//!   command's shard locks are held; it only encodes into a shared in-memory
//!   buffer (one short mutex), so the buffer order is the execution order per key.
//!   It returns a *ticket*: the number of effect batches appended so far.
//! - The `keel-aof` thread takes the whole buffer, writes it plus its annotation
//!   with one `write`, and, under `always`, `fdatasync`s before publishing the
//!   batch's last ticket as durable: every client waiting in that window shares one
//!   fsync (group commit). Only clients waiting for their own writes wait.
//! - Under `everysec` a `keel-fsync` thread fsyncs once a second; under `no` the OS
//!   decides.
//! - A failed write keeps the bytes in memory (nothing is dropped), records the
//!   error (write commands are then refused, like Redis's MISCONF), and retries
//!   every second until the disk recovers.

use crate::format::{encode_command, Annotation};
use crate::manifest::{self, FileEntry, FileKind, Manifest};
use keel_engine::Effect;
use parking_lot::{Condvar, Mutex};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `appendfsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always,
    EverySec,
    No,
}

impl FsyncPolicy {
    pub fn parse(s: &str) -> Option<FsyncPolicy> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(FsyncPolicy::Always),
            "everysec" => Some(FsyncPolicy::EverySec),
            "no" => Some(FsyncPolicy::No),
            _ => None,
        }
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Records appended but not yet written.
struct Pending {
    bytes: Vec<u8>,
    /// Database the records so far leave selected (None: next record selects).
    db: Option<usize>,
    /// Ticket of the last batch appended.
    ticket: u64,
    /// A FLUSHALL emptied the whole dataset at this byte offset of `bytes` (just
    /// after it): the log before it is dead and can be replaced by an empty base.
    reset_at: Option<usize>,
    /// Set by a rewrite: bytes from this offset on belong to the next incr file.
    switch_at: Option<(usize, Switch)>,
}

/// A hand-over to a new incremental file requested by a rewrite.
pub struct Switch {
    pub incr: File,
    pub name: String,
    pub done: Arc<(Mutex<bool>, Condvar)>,
    /// The previous incremental file, handed back so the rewrite thread fsyncs it
    /// (not the writer, which would hold up clients writing through meanwhile).
    pub old: Arc<Mutex<Option<Arc<File>>>>,
}

/// The open incremental file and what we know about the log.
struct Files {
    /// Shared so that an fsync can run outside this lock without a `dup` per call.
    incr: Arc<File>,
    incr_name: String,
    /// Bytes in the current incremental file.
    incr_size: u64,
    /// Sum of the sizes of every file in the manifest.
    total_size: u64,
    /// Size of the log right after the last rewrite (auto-aof-rewrite base).
    base_size: u64,
    seq: u64,
}

/// Durability status, for INFO and for waiting clients.
#[derive(Default)]
pub struct Status {
    pub written_ticket: AtomicU64,
    pub durable_ticket: AtomicU64,
    pub written_bytes: AtomicU64,
    pub last_fsync_ms: AtomicU64,
    pub pending_since_ms: AtomicU64,
    pub delayed_fsync: AtomicU64,
    /// The last write or fsync error, until a write succeeds again. Set and
    /// cleared only through [`Status::set_write_error`], which keeps
    /// `failing` in step with it.
    write_error: Mutex<Option<String>>,
    /// `write_error` is set: every write command asks, and a load is cheaper
    /// than the mutex (see [`AofWriter::write_error`]).
    failing: AtomicBool,
    /// Latencies of the last 1024 fsyncs (a ring, for INFO's percentiles).
    pub fsync_us: Mutex<std::collections::VecDeque<u64>>,
}

impl Status {
    /// Records (Some) or clears (None) the write error; returns the one it
    /// replaced.
    fn set_write_error(&self, e: Option<String>) -> Option<String> {
        let mut we = self.write_error.lock();
        self.failing.store(e.is_some(), Ordering::Release);
        std::mem::replace(&mut *we, e)
    }
}

pub struct AofWriter {
    pub dir: PathBuf,
    pub appendfilename: String,
    policy: Mutex<FsyncPolicy>,
    pending: Mutex<Pending>,
    wake: Condvar,
    sleeping: AtomicBool,
    files: Mutex<Files>,
    pub status: Status,
    durable_tx: tokio::sync::watch::Sender<u64>,
    /// Connections waiting under `always` for a ticket to become durable: each is
    /// woken alone when its ticket is published, not with every fsync.
    waiters: Mutex<Vec<(u64, tokio::sync::oneshot::Sender<()>)>>,
    stop: AtomicBool,
    /// Serialises file-set changes (rewrite, FLUSHALL reset).
    pub maintenance: Mutex<()>,
    /// Held while a batch is being written (by the writer thread or a connection).
    write_lock: Mutex<()>,
    /// The everysec fsync thread is inside fsync.
    fsync_running: AtomicBool,
    pub resets: AtomicU64,
}

/// Reads and parses `<dir>/<manifest_name>`.
pub fn load_manifest(dir: &Path, manifest_name: &str) -> std::io::Result<Manifest> {
    let text = std::fs::read(dir.join(manifest_name))?;
    Manifest::parse(&text).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn err_text(e: &std::io::Error) -> String {
    e.to_string()
}

/// fsync of a directory, so renames and new files in it are durable.
pub fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl AofWriter {
    /// Opens the log in `dir` (the appenddirname directory) described by `m`, for
    /// appending to its last incremental file (created if the manifest has none).
    pub fn open(
        dir: &Path,
        appendfilename: &str,
        m: Manifest,
        policy: FsyncPolicy,
        last_seq: u64,
        append_ok: bool,
    ) -> std::io::Result<Arc<AofWriter>> {
        std::fs::create_dir_all(dir)?;
        let mut m = m;
        let mut total = 0;
        for f in m.base.iter().chain(m.incrs.iter()) {
            total += std::fs::metadata(dir.join(&f.name))
                .map(|md| md.len())
                .unwrap_or(0);
        }
        // Append to the last incremental file only if it ends exactly after an
        // annotation (its next batch's len/crc then count from there); otherwise
        // (a file Redis wrote, a tail kept after a crash) start a new one.
        let mut last_seq = last_seq;
        let incr_entry = match m.incrs.last() {
            Some(e) if append_ok => e.clone(),
            _ => {
                let seq = if m.incrs.is_empty() && m.base.is_none() {
                    1
                } else {
                    crate::rewrite::next_seq(&m)
                };
                let e = FileEntry {
                    name: manifest::incr_name(appendfilename, seq),
                    seq,
                    kind: FileKind::Incr,
                };
                m.incrs.push(e.clone());
                File::create(dir.join(&e.name))?.sync_all()?;
                m.write_atomic(dir, &manifest::manifest_name(appendfilename))?;
                last_seq = 0;
                e
            }
        };
        let path = dir.join(&incr_entry.name);
        let incr = OpenOptions::new().create(true).append(true).open(&path)?;
        let incr_size = incr.metadata()?.len();
        let (durable_tx, _) = tokio::sync::watch::channel(0u64);
        let w = Arc::new(AofWriter {
            dir: dir.to_path_buf(),
            appendfilename: appendfilename.to_string(),
            policy: Mutex::new(policy),
            pending: Mutex::new(Pending {
                bytes: Vec::with_capacity(1 << 16),
                db: None,
                ticket: 0,
                reset_at: None,
                switch_at: None,
            }),
            wake: Condvar::new(),
            sleeping: AtomicBool::new(false),
            files: Mutex::new(Files {
                incr: Arc::new(incr),
                incr_name: incr_entry.name.clone(),
                incr_size,
                total_size: total,
                base_size: total,
                seq: last_seq,
            }),
            status: Status::default(),
            durable_tx,
            waiters: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            maintenance: Mutex::new(()),
            write_lock: Mutex::new(()),
            fsync_running: AtomicBool::new(false),
            resets: AtomicU64::new(0),
        });
        w.status.last_fsync_ms.store(now_ms(), Ordering::Relaxed);
        Ok(w)
    }

    /// Starts the writer and fsync threads.
    pub fn start(self: &Arc<Self>) -> std::io::Result<()> {
        let w = self.clone();
        std::thread::Builder::new()
            .name("keel-aof".into())
            .spawn(move || w.write_loop())?;
        let w = self.clone();
        std::thread::Builder::new()
            .name("keel-fsync".into())
            .spawn(move || w.fsync_loop())?;
        Ok(())
    }

    pub fn policy(&self) -> FsyncPolicy {
        *self.policy.lock()
    }

    pub fn set_policy(&self, p: FsyncPolicy) {
        *self.policy.lock() = p;
    }

    /// Encodes one command's effects (applied together) and returns its ticket.
    pub fn append(&self, effects: &[Effect]) -> u64 {
        let mut p = self.pending.lock();
        let wrap = effects.len() > 1;
        let was_empty = p.bytes.is_empty();
        if was_empty {
            self.status
                .pending_since_ms
                .store(now_ms(), Ordering::Relaxed);
        }
        if wrap {
            // Select the first effect's database outside the transaction block.
            if p.db != Some(effects[0].db) {
                let db = effects[0].db.to_string();
                encode_command(&mut p.bytes, &[b"SELECT".as_slice(), db.as_bytes()]);
                p.db = Some(effects[0].db);
            }
            encode_command(&mut p.bytes, &[b"MULTI".as_slice()]);
        }
        let mut flushall = false;
        for e in effects {
            if p.db != Some(e.db) {
                let db = e.db.to_string();
                encode_command(&mut p.bytes, &[b"SELECT".as_slice(), db.as_bytes()]);
                p.db = Some(e.db);
            }
            encode_command(&mut p.bytes, &e.argv);
            if e.argv
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case(b"FLUSHALL"))
            {
                flushall = true;
            }
        }
        if wrap {
            encode_command(&mut p.bytes, &[b"EXEC".as_slice()]);
        }
        if flushall {
            p.reset_at = Some(p.bytes.len());
            // What follows may land in a new file: it must select its database.
            p.db = None;
        }
        p.ticket += 1;
        let t = p.ticket;
        drop(p);
        // Nobody is woken here. Under `always` the connection that waits for
        // `ticket` kicks the writer thread once every connection ready on its
        // worker has appended (see `kick`); under `everysec` and `no` connections
        // write through before replying. The thread picks up the rest (expiry,
        // eviction) within 100 ms.
        t
    }

    /// Under `always`, called by a connection waiting for `ticket`, after the
    /// other connections ready on its worker have run (it yields first): wakes
    /// the writer thread, which then writes and fsyncs the records of all of
    /// them at once (group commit, as Redis's one fsync per event-loop turn).
    /// Waking it at each append made it fsync the first few records of a turn
    /// alone: 40% more fsyncs for the same requests.
    pub fn kick(&self, ticket: u64) {
        if !self.is_written(ticket) && self.sleeping.load(Ordering::Acquire) {
            self.wake.notify_one();
        }
    }

    /// Asks the writer thread to send every record appended from now on to a new
    /// incremental file (called by a rewrite with every shard locked).
    pub fn request_switch(&self, sw: Switch) {
        let mut p = self.pending.lock();
        let at = p.bytes.len();
        p.switch_at = Some((at, sw));
        p.db = None;
        drop(p);
        self.wake.notify_one();
    }

    /// Records the new sizes after a rewrite swapped the manifest.
    pub fn after_rewrite(&self, base_size: u64) {
        let mut f = self.files.lock();
        f.total_size = base_size + f.incr_size;
        f.base_size = f.total_size;
    }

    /// Tells the writer that another fsync on the same disk is running (a rewrite
    /// syncing its base): under everysec, connections then postpone their writes,
    /// as they do during the writer's own fsync, rather than block behind it.
    pub fn set_external_fsync(&self, on: bool) {
        self.fsync_running.store(on, Ordering::Release);
    }

    /// Ticket of the last batch appended.
    pub fn last_ticket(&self) -> u64 {
        self.pending.lock().ticket
    }

    /// A receiver that sees the durable ticket advance.
    pub fn durable_rx(&self) -> tokio::sync::watch::Receiver<u64> {
        self.durable_tx.subscribe()
    }

    /// The error that stops writes, if the last write or fsync failed.
    pub fn write_error(&self) -> Option<String> {
        // Asked by every write command: the mutex only when there is an error.
        if !self.status.failing.load(Ordering::Acquire) {
            return None;
        }
        self.status.write_error.lock().clone()
    }

    /// A receiver that completes once `ticket` is durable, or None if it already
    /// is. Only the connection waiting for it is woken, by the fsync that covers
    /// it (a watch channel woke every waiting connection at every fsync).
    pub fn durable_waiter(&self, ticket: u64) -> Option<tokio::sync::oneshot::Receiver<()>> {
        if self.status.durable_ticket.load(Ordering::Acquire) >= ticket {
            return None;
        }
        let mut w = self.waiters.lock();
        // Checked again under the lock: `publish_durable` raises the ticket before
        // it takes the lock, so either this sees the new ticket or it sees us.
        if self.status.durable_ticket.load(Ordering::Acquire) >= ticket {
            return None;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        w.push((ticket, tx));
        Some(rx)
    }

    fn publish_durable(&self, t: u64) {
        let prev = self.status.durable_ticket.fetch_max(t, Ordering::AcqRel);
        if t > prev {
            self.durable_tx.send_replace(t);
            let mut w = self.waiters.lock();
            let mut i = 0;
            while i < w.len() {
                if w[i].0 <= t {
                    let (_, tx) = w.swap_remove(i);
                    let _ = tx.send(());
                } else {
                    i += 1;
                }
            }
        }
    }

    /// Bytes of the whole log (every file in the manifest) and the size after the
    /// last rewrite.
    pub fn sizes(&self) -> (u64, u64) {
        let f = self.files.lock();
        (f.total_size, f.base_size)
    }

    pub fn current_incr(&self) -> String {
        self.files.lock().incr_name.clone()
    }

    /// Bytes buffered and not yet written.
    pub fn buffered(&self) -> usize {
        self.pending.lock().bytes.len()
    }

    fn write_loop(self: Arc<Self>) {
        loop {
            {
                let mut p = self.pending.lock();
                while p.bytes.is_empty()
                    && p.switch_at.is_none()
                    && !self.stop.load(Ordering::Acquire)
                {
                    self.sleeping.store(true, Ordering::Release);
                    self.wake.wait_for(&mut p, Duration::from_millis(100));
                    self.sleeping.store(false, Ordering::Release);
                }
                if p.bytes.is_empty() && p.switch_at.is_none() && self.stop.load(Ordering::Acquire)
                {
                    return;
                }
            }
            if !self.write_pending(u64::MAX) {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }

    /// Whether the records up to `ticket` have reached the OS.
    pub fn is_written(&self, ticket: u64) -> bool {
        self.status.written_ticket.load(Ordering::Acquire) >= ticket
    }

    /// Makes the records up to `ticket` safe from the calling thread, as the
    /// policy defines it: under `always` written and fsynced (one fsync covers
    /// everything appended so far: the worker's burst of replies waits for it,
    /// as Redis's `beforeSleep` does), under `everysec` and `no` handed to the OS
    /// ([`AofWriter::write_through`]). False when they are not (a write or fsync
    /// error): the caller must then wait for them before it replies.
    pub fn settle(&self, ticket: u64) -> bool {
        if self.policy() != FsyncPolicy::Always {
            return self.write_through(ticket);
        }
        if self.status.durable_ticket.load(Ordering::Acquire) >= ticket {
            return true;
        }
        // Not `write_pending(ticket)`: that returns as soon as the records are
        // written, and they may be waiting for another thread's fsync. Taking
        // the write lock waits for that fsync, then writes and fsyncs the rest.
        self.write_pending(u64::MAX);
        self.status.durable_ticket.load(Ordering::Acquire) >= ticket
    }

    /// Makes sure the records up to `ticket` have been handed to the OS (written,
    /// not necessarily fsynced), writing them from the calling thread if needed.
    /// Under `everysec` and `no` a connection calls this before it replies, so an
    /// acknowledged write survives a crash of the keel process, as in Redis.
    /// Returns false if the write failed (the bytes stay buffered).
    pub fn write_through(&self, ticket: u64) -> bool {
        if self.is_written(ticket) {
            return true;
        }
        // Like Redis under everysec: while a background fsync is running a write
        // to the same file can block, so postpone it (the records stay buffered
        // and the writer thread catches up), but never for more than 2 seconds.
        if self.fsync_running.load(Ordering::Acquire) && self.policy() == FsyncPolicy::EverySec {
            let since = self.status.pending_since_ms.load(Ordering::Relaxed);
            if now_ms().saturating_sub(since) < 2000 {
                self.status.delayed_fsync.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
        self.write_pending(ticket)
    }

    /// Writes everything appended so far (one batch, plus the splits a rewrite
    /// switch or a FLUSHALL reset require). Returns false on a write error.
    fn write_pending(&self, ticket_needed: u64) -> bool {
        let _w = self.write_lock.lock();
        if ticket_needed != u64::MAX
            && self.status.written_ticket.load(Ordering::Acquire) >= ticket_needed
        {
            return true;
        }
        let (mut data, ticket, reset_at, switch) = {
            let mut p = self.pending.lock();
            if p.bytes.is_empty() && p.switch_at.is_none() {
                return true;
            }
            let cap = p.bytes.capacity().min(1 << 20);
            let data = std::mem::replace(&mut p.bytes, Vec::with_capacity(cap));
            // Every batch starts by selecting its database, so a reader that has to
            // skip a damaged batch never applies the next one to the wrong database.
            p.db = None;
            let reset_at = p.reset_at.take();
            let switch = p.switch_at.take();
            (data, p.ticket, reset_at, switch)
        };
        // Split at a rewrite's switch point, then at a FLUSHALL reset point.
        let mut rest = Vec::new();
        if let Some((at, _)) = &switch {
            rest = data.split_off((*at).min(data.len()));
        }
        let reset_at = reset_at.filter(|&r| switch.is_none() || r <= data.len());
        let mut after_reset = Vec::new();
        if let Some(r) = reset_at {
            after_reset = data.split_off(r.min(data.len()));
        }
        if !self.write_batch(&mut data) {
            self.requeue(data, after_reset, rest, reset_at, switch);
            return false;
        }
        if reset_at.is_some() {
            if let Err(e) = self.reset_to_empty() {
                crate::log::warning(&format!(
                    "Could not start a new empty AOF after FLUSHALL: {e}"
                ));
            }
            if !after_reset.is_empty() && !self.write_batch(&mut after_reset) {
                self.requeue(after_reset, Vec::new(), rest, None, switch);
                return false;
            }
        }
        if let Some((_, sw)) = switch {
            let mut f = self.files.lock();
            let old = std::mem::replace(&mut f.incr, Arc::new(sw.incr));
            *sw.old.lock() = Some(old);
            f.incr_name = sw.name;
            f.incr_size = 0;
            f.seq = 0;
            drop(f);
            let (lock, cv) = &*sw.done;
            *lock.lock() = true;
            cv.notify_all();
            if !rest.is_empty() && !self.write_batch(&mut rest) {
                self.requeue(rest, Vec::new(), Vec::new(), None, None);
                return false;
            }
        }
        self.status.written_ticket.store(ticket, Ordering::Release);
        if self.policy() == FsyncPolicy::Always && self.sync_now() {
            self.publish_durable(ticket);
        }
        true
    }

    /// Puts unwritten bytes back in front of whatever was appended meanwhile.
    fn requeue(
        &self,
        data: Vec<u8>,
        after_reset: Vec<u8>,
        rest: Vec<u8>,
        reset_at: Option<usize>,
        switch: Option<(usize, Switch)>,
    ) {
        let mut p = self.pending.lock();
        let mut all = data;
        let reset_pos = reset_at.map(|_| all.len());
        all.extend_from_slice(&after_reset);
        let switch_pos = all.len();
        all.extend_from_slice(&rest);
        let shift = all.len();
        all.extend_from_slice(&p.bytes);
        p.bytes = all;
        if let Some(r) = reset_pos {
            p.reset_at = Some(r);
        } else if let Some(r) = p.reset_at {
            p.reset_at = Some(r + shift);
        }
        if let Some((_, sw)) = switch {
            p.switch_at = Some((switch_pos, sw));
        } else if let Some((at, sw)) = p.switch_at.take() {
            p.switch_at = Some((at + shift, sw));
        }
    }

    /// Writes one batch and its annotation with one `write` (the annotation is
    /// appended to `data` for the call and cut off again). On failure records the
    /// error and returns false (the caller keeps the bytes).
    fn write_batch(&self, data: &mut Vec<u8>) -> bool {
        if data.is_empty() {
            return true;
        }
        let body = data.len();
        let mut f = self.files.lock();
        f.seq += 1;
        let ann = Annotation {
            seq: f.seq,
            ts_ms: now_ms(),
            len: body as u64,
            crc: crc32fast::hash(data),
        };
        ann.encode(data);
        let len_before = f.incr_size;
        let r = f.incr.write_all(data);
        let n = data.len() as u64;
        data.truncate(body);
        match r {
            Ok(()) => {
                f.incr_size += n;
                f.total_size += n;
                self.status.written_bytes.fetch_add(n, Ordering::Relaxed);
                let was_err = self.status.failing.load(Ordering::Acquire)
                    && self.status.set_write_error(None).is_some();
                if was_err {
                    crate::log::notice("AOF write error looks solved, keel can write again.");
                }
                true
            }
            Err(e) => {
                f.seq -= 1;
                // Cut off a partial write so the file ends at the last good batch.
                let _ = f.incr.set_len(len_before);
                let text = err_text(&e);
                if self.status.set_write_error(Some(text.clone())).is_none() {
                    crate::log::warning(&format!("Error writing to the AOF file: {text}"));
                }
                false
            }
        }
    }

    /// fdatasync the current incremental file; records latency and errors.
    pub fn sync_now(&self) -> bool {
        let file = self.files.lock().incr.clone();
        let t = Instant::now();
        let r = file.sync_data();
        let us = t.elapsed().as_micros() as u64;
        {
            let mut v = self.status.fsync_us.lock();
            if v.len() >= 1024 {
                v.pop_front();
            }
            v.push_back(us);
        }
        match r {
            Ok(()) => {
                self.status.last_fsync_ms.store(now_ms(), Ordering::Relaxed);
                true
            }
            Err(e) => {
                let text = format!("fsync: {}", err_text(&e));
                crate::log::warning(&format!("Error syncing the AOF file: {text}"));
                self.status.set_write_error(Some(text));
                false
            }
        }
    }

    fn fsync_loop(self: Arc<Self>) {
        while !self.stop.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(100));
            if self.policy() != FsyncPolicy::EverySec {
                continue;
            }
            let last = self.status.last_fsync_ms.load(Ordering::Relaxed);
            if now_ms().saturating_sub(last) < 1000 {
                continue;
            }
            let written = self.status.written_ticket.load(Ordering::Acquire);
            if written <= self.status.durable_ticket.load(Ordering::Acquire) {
                self.status.last_fsync_ms.store(now_ms(), Ordering::Relaxed);
                continue;
            }
            self.fsync_running.store(true, Ordering::Release);
            let ok = self.sync_now();
            self.fsync_running.store(false, Ordering::Release);
            if ok {
                self.publish_durable(written);
            }
        }
    }

    /// Writes everything buffered and fsyncs, whatever the policy (shutdown,
    /// WAITAOF). Returns the durable ticket.
    pub fn flush_and_sync(&self, timeout: Duration) -> u64 {
        let target = self.last_ticket();
        let deadline = Instant::now() + timeout;
        while self.status.written_ticket.load(Ordering::Acquire) < target
            && Instant::now() < deadline
        {
            self.wake.notify_one();
            std::thread::sleep(Duration::from_millis(1));
        }
        let written = self.status.written_ticket.load(Ordering::Acquire);
        if self.sync_now() {
            self.publish_durable(written);
        }
        self.status.durable_ticket.load(Ordering::Acquire)
    }

    /// Stops the threads after writing and fsyncing everything.
    pub fn shutdown(&self) {
        self.flush_and_sync(Duration::from_secs(10));
        self.stop.store(true, Ordering::Release);
        self.wake.notify_all();
    }

    /// After a FLUSHALL that left the dataset empty: start a new empty base and a
    /// new incremental file, swap the manifest, and delete the old files, so the
    /// directory shrinks at once.
    fn reset_to_empty(&self) -> std::io::Result<()> {
        // A rewrite in progress holds this lock and waits for this thread; it will
        // produce a compact base itself, so skip the reset then.
        let Some(_m) = self.maintenance.try_lock() else {
            return Ok(());
        };
        let mname = manifest::manifest_name(&self.appendfilename);
        let old = load_manifest(&self.dir, &mname)?;
        let seq = crate::rewrite::next_seq(&old);
        let base = FileEntry {
            name: manifest::base_name(&self.appendfilename, seq),
            seq,
            kind: FileKind::Base,
        };
        let incr = FileEntry {
            name: manifest::incr_name(&self.appendfilename, seq),
            seq,
            kind: FileKind::Incr,
        };
        // An empty dataset: the base is empty.
        File::create(self.dir.join(&base.name))?.sync_all()?;
        let incr_file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(&incr.name))?;
        incr_file.sync_all()?;
        self.sync_now();
        let new = Manifest {
            base: Some(base),
            history: Vec::new(),
            incrs: vec![incr.clone()],
        };
        new.write_atomic(&self.dir, &mname)?;
        {
            let mut f = self.files.lock();
            f.incr = Arc::new(incr_file);
            f.incr_name = incr.name.clone();
            f.incr_size = 0;
            f.total_size = 0;
            f.base_size = 0;
        }
        self.pending.lock().db = None;
        for e in old
            .base
            .iter()
            .chain(old.history.iter())
            .chain(old.incrs.iter())
        {
            let _ = std::fs::remove_file(self.dir.join(&e.name));
        }
        self.files.lock().seq = 0;
        self.resets.fetch_add(1, Ordering::Relaxed);
        crate::log::notice("FLUSHALL emptied the dataset: started a new empty AOF base and incremental file, removed the old ones.");
        Ok(())
    }
}
