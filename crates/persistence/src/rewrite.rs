//! AOF rewrite without fork and without doubling memory.
//!
//! 1. A new empty incremental file N+1 is created and the manifest is rewritten to
//!    list it after the current files (a crash from here on loads everything).
//! 2. With every shard locked for an instant, the writer is told to send every
//!    later record to file N+1, and every shard is marked *pending*
//!    ([`Engine::begin_snapshot`]).
//! 3. Each shard's state as of that instant is serialized into the new base by
//!    whoever locks it first: the rewrite thread walking the shards, or a command
//!    about to change it (which serializes the shard before it runs). So the base
//!    is a point-in-time image while clients keep reading and writing, and the
//!    extra memory is one shard's serialization buffer at a time.
//! 4. The base is fsynced and renamed into place, the manifest is swapped to the
//!    new base + file N+1 (temp file, fsync, rename, directory fsync), and only then
//!    are the old files deleted.

use crate::format::{encode_command, encode_select, BatchWriter};
use crate::manifest::{self, FileEntry, FileKind, Manifest};
use crate::writer::{load_manifest, now_ms, AofWriter, Switch};
use keel_engine::keyspace::Shard;
use keel_engine::value::Entry;
use keel_engine::{Engine, ShardSnapshot};
use parking_lot::{Condvar, Mutex};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Progress and outcome of rewrites, for INFO persistence.
#[derive(Default)]
pub struct RewriteStats {
    pub in_progress: std::sync::atomic::AtomicBool,
    pub started_ms: AtomicU64,
    pub last_duration_ms: std::sync::atomic::AtomicI64,
    pub last_ok: std::sync::atomic::AtomicBool,
    pub rewrites: AtomicU64,
    pub consecutive_failures: AtomicU64,
    pub last_success_ms: AtomicU64,
    pub keys_done: AtomicU64,
    pub base_bytes: AtomicU64,
    /// Largest serialization buffer held at once (the rewrite's extra memory).
    pub peak_buffer: AtomicU64,
}

/// Collects each shard's serialization. Whoever hands a shard over (a command's
/// thread, or the rewrite thread) only encodes it into memory here, under that
/// shard's lock; the rewrite thread alone writes the file, with no shard locked,
/// so a slow disk never stalls a command.
struct BaseSink {
    queue: Mutex<Queue>,
    stats: Arc<RewriteStats>,
}

/// Encoded commands waiting for the rewrite thread, in blocks of about
/// [`BATCH_BYTES`], each of which selects its database first (so any block can
/// start a batch). A command's single keys are encoded straight into `tail`:
/// no allocation per key, and no large buffer copied as it grows.
#[derive(Default)]
struct Queue {
    blocks: Vec<Vec<u8>>,
    /// Bytes in `blocks`.
    blocks_bytes: usize,
    tail: Vec<u8>,
    /// The database `tail` has selected, if any.
    db: Option<usize>,
}

impl Queue {
    /// The block a command of database `db` goes to.
    fn block_for(&mut self, db: usize) -> &mut Vec<u8> {
        if self.tail.len() >= BATCH_BYTES {
            self.end_tail();
        }
        if self.tail.capacity() == 0 {
            self.tail.reserve(BLOCK_BYTES);
        }
        if self.db.replace(db) != Some(db) {
            encode_select(&mut self.tail, db);
        }
        &mut self.tail
    }

    /// Moves `tail`, if it holds anything, to the full blocks.
    fn end_tail(&mut self) {
        if !self.tail.is_empty() {
            self.blocks_bytes += self.tail.len();
            self.blocks.push(std::mem::take(&mut self.tail));
        }
        self.db = None;
    }

    /// Bytes waiting.
    fn bytes(&self) -> usize {
        self.blocks_bytes + self.tail.len()
    }

    /// Adds whole blocks (each selects its database first).
    fn push_blocks(&mut self, blocks: Vec<Vec<u8>>) {
        self.end_tail();
        self.blocks_bytes += blocks.iter().map(Vec::len).sum::<usize>();
        self.blocks.extend(blocks);
    }

    /// Every block, in order.
    fn take_all(&mut self) -> Vec<Vec<u8>> {
        self.end_tail();
        self.blocks_bytes = 0;
        std::mem::take(&mut self.blocks)
    }
}

/// The capacity a new queue block starts with.
const BLOCK_BYTES: usize = 64 * 1024;

/// The base file being written (owned by the rewrite thread).
struct BaseOut {
    file: BufWriter<File>,
    batches: BatchWriter,
    error: Option<String>,
    written: u64,
}

/// A chunk (one annotated batch in the base) holds about this many bytes.
const BATCH_BYTES: usize = 256 * 1024;

/// fsync the base every this many bytes while it is written.
const INCREMENTAL_FSYNC_BYTES: u64 = 4 * 1024 * 1024;

impl ShardSnapshot for BaseSink {
    fn take_range(&self, _shard_index: usize, shard: &Shard, db: usize, range: Range<usize>) {
        let Some(part) = shard.dbs.get(db) else {
            return;
        };
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut keys = 0u64;
        encode_select(&mut buf, db);
        let select_len = buf.len();
        for at in range {
            let Some((key, entry)) = part.map.get_index(at) else {
                break;
            };
            if shard.snapshot_done.contains(key) {
                // Already taken, as it was, before a command changed it.
                continue;
            }
            keel_engine::rewrite::entry_commands(key, entry, &mut |argv: &[&[u8]]| {
                encode_command(&mut buf, argv);
            });
            keys += 1;
            if buf.len() >= BATCH_BYTES {
                chunks.push(std::mem::take(&mut buf));
                // Every chunk is a batch of its own: it selects its database.
                encode_select(&mut buf, db);
            }
        }
        if buf.len() > select_len {
            chunks.push(buf);
        }
        if !chunks.is_empty() {
            self.enqueue(chunks);
        }
        self.stats.keys_done.fetch_add(keys, Ordering::Relaxed);
    }

    fn take_keys(&self, _shard_index: usize, entries: &[(usize, &[u8], &Entry)]) {
        let mut q = self.queue.lock();
        for (db, key, entry) in entries {
            let block = q.block_for(*db);
            keel_engine::rewrite::entry_commands(key, entry, &mut |argv: &[&[u8]]| {
                encode_command(block, argv);
            });
        }
        self.note_peak(&q);
        drop(q);
        self.stats
            .keys_done
            .fetch_add(entries.len() as u64, Ordering::Relaxed);
    }
}

impl BaseSink {
    fn enqueue(&self, chunks: Vec<Vec<u8>>) {
        let mut q = self.queue.lock();
        q.push_blocks(chunks);
        self.note_peak(&q);
    }

    /// The most bytes held at once is the rewrite's extra memory (INFO).
    fn note_peak(&self, q: &Queue) {
        self.stats
            .peak_buffer
            .fetch_max(q.bytes() as u64, Ordering::Relaxed);
    }

    /// Writes every queued chunk into annotated batches (small chunks, each of
    /// which selects its database, are packed together up to BATCH_BYTES).
    fn drain(&self, o: &mut BaseOut) {
        let chunks = self.queue.lock().take_all();
        let mut packed: Vec<Vec<u8>> = Vec::new();
        for c in chunks {
            match packed.last_mut() {
                Some(last) if last.len() + c.len() <= BATCH_BYTES => last.extend_from_slice(&c),
                _ => packed.push(c),
            }
        }
        for c in packed {
            o.batches.raw(&c);
            o.batches.seal(now_ms());
            let sealed = o.batches.take_sealed();
            self.stats
                .base_bytes
                .fetch_add(sealed.len() as u64, Ordering::Relaxed);
            o.written += sealed.len() as u64;
            if o.error.is_none() {
                if let Err(e) = o.file.write_all(&sealed) {
                    o.error = Some(e.to_string());
                }
            }
        }
    }
}

fn temp_base_name(pid: u32) -> String {
    format!("temp-rewriteaof-bg-{pid}.aof")
}

/// Removes temporary files a crashed rewrite left behind.
pub fn clean_temp_files(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("temp-rewriteaof-")
                || name.starts_with("temp-") && name.ends_with(".manifest")
            {
                crate::log::notice(&format!("Removing leftover temporary AOF file {name}"));
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Rewrites the log of `writer` from the live `engine`. Blocks the calling thread
/// (run it on a background thread) while clients keep being served.
pub fn rewrite(
    engine: &Engine,
    writer: &Arc<AofWriter>,
    stats: &Arc<RewriteStats>,
) -> Result<(), String> {
    let _m = writer.maintenance.lock();
    stats.in_progress.store(true, Ordering::SeqCst);
    stats.started_ms.store(now_ms(), Ordering::Relaxed);
    stats.keys_done.store(0, Ordering::Relaxed);
    stats.base_bytes.store(0, Ordering::Relaxed);
    let t = Instant::now();
    let r = rewrite_inner(engine, writer, stats);
    stats.in_progress.store(false, Ordering::SeqCst);
    stats
        .last_duration_ms
        .store(t.elapsed().as_millis() as i64, Ordering::Relaxed);
    match &r {
        Ok(()) => {
            stats.last_ok.store(true, Ordering::Relaxed);
            stats.rewrites.fetch_add(1, Ordering::Relaxed);
            stats.consecutive_failures.store(0, Ordering::Relaxed);
            stats.last_success_ms.store(now_ms(), Ordering::Relaxed);
        }
        Err(e) => {
            stats.last_ok.store(false, Ordering::Relaxed);
            stats.consecutive_failures.fetch_add(1, Ordering::Relaxed);
            crate::log::warning(&format!("Background AOF rewrite failed: {e}"));
        }
    }
    r
}

fn rewrite_inner(
    engine: &Engine,
    writer: &Arc<AofWriter>,
    stats: &Arc<RewriteStats>,
) -> Result<(), String> {
    let dir: PathBuf = writer.dir.clone();
    let afn = writer.appendfilename.clone();
    let mname = manifest::manifest_name(&afn);
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    let old = load_manifest(&dir, &mname).map_err(|e| io("reading the manifest", e))?;
    let seq = next_seq(&old);
    // 1. The next incremental file, listed in the manifest before anything goes to it.
    let incr = FileEntry {
        name: manifest::incr_name(&afn, seq),
        seq,
        kind: FileKind::Incr,
    };
    let incr_file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(&incr.name))
        .map_err(|e| io("creating the new incremental file", e))?;
    incr_file
        .sync_all()
        .map_err(|e| io("syncing the new incremental file", e))?;
    let mut during = old.clone();
    during.incrs.push(incr.clone());
    during
        .write_atomic(&dir, &mname)
        .map_err(|e| io("writing the manifest", e))?;

    // 2. The switch point, and the snapshot.
    let temp = dir.join(temp_base_name(std::process::id()));
    let base_file = File::create(&temp).map_err(|e| io("creating the temporary base", e))?;
    let sink = Arc::new(BaseSink {
        queue: Mutex::new(Queue::default()),
        stats: stats.clone(),
    });
    let mut out = BaseOut {
        file: BufWriter::with_capacity(1 << 20, base_file),
        batches: BatchWriter::new(1),
        error: None,
        written: 0,
    };
    let done = Arc::new((Mutex::new(false), Condvar::new()));
    let old_incr = Arc::new(Mutex::new(None));
    let sw = Switch {
        incr: incr_file,
        name: incr.name.clone(),
        done: done.clone(),
        old: old_incr.clone(),
    };
    engine.begin_snapshot(sink.clone(), || writer.request_switch(sw));
    // 3. Walk every shard; commands may have taken some already. Like Redis's
    // aof-rewrite-incremental-fsync, sync the base every few MiB so the final
    // fsync is short and never stalls the disk for long.
    let mut synced = 0u64;
    engine.snapshot_each(|_| {
        sink.drain(&mut out);
        // Give the core back between chunks: the server runs this thread at the
        // lowest priority, but a scheduler only switches at a wake-up, a tick or
        // a yield, so without this a chunk's neighbours would run on for up to a
        // tick (4 ms) while a client's command waits.
        std::thread::yield_now();
        if out.written.saturating_sub(synced) >= INCREMENTAL_FSYNC_BYTES {
            synced = out.written;
            let _ = out.file.flush();
            writer.set_external_fsync(true);
            let _ = out.file.get_ref().sync_data();
            writer.set_external_fsync(false);
        }
    });
    sink.drain(&mut out);
    {
        let (lock, cv) = &*done;
        let mut d = lock.lock();
        while !*d {
            cv.wait_for(&mut d, std::time::Duration::from_millis(100));
        }
    }
    // Everything logged before the switch point is in the old incremental file:
    // make it durable here, off the writer's path.
    if let Some(f) = old_incr.lock().take() {
        f.sync_data()
            .map_err(|e| io("syncing the previous incremental file", e))?;
    }
    if let Some(e) = out.error.take() {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("writing the base: {e}"));
    }
    writer.set_external_fsync(true);
    let flushed = out.file.flush().and_then(|_| out.file.get_ref().sync_all());
    writer.set_external_fsync(false);
    drop(out);
    if let Err(e) = flushed {
        let _ = std::fs::remove_file(&temp);
        return Err(io("syncing the base", e));
    }
    // 4. Rename, swap the manifest, then delete the old files.
    let base = FileEntry {
        name: manifest::base_name(&afn, seq),
        seq,
        kind: FileKind::Base,
    };
    std::fs::rename(&temp, dir.join(&base.name)).map_err(|e| io("renaming the base", e))?;
    let new = Manifest {
        base: Some(base.clone()),
        history: Vec::new(),
        incrs: vec![incr.clone()],
    };
    new.write_atomic(&dir, &mname)
        .map_err(|e| io("writing the manifest", e))?;
    for e in old
        .base
        .iter()
        .chain(old.history.iter())
        .chain(old.incrs.iter())
    {
        if e.name != base.name && e.name != incr.name {
            let _ = std::fs::remove_file(dir.join(&e.name));
        }
    }
    let base_size = std::fs::metadata(dir.join(&base.name))
        .map(|m| m.len())
        .unwrap_or(0);
    writer.after_rewrite(base_size);
    crate::log::notice(&format!(
        "Background AOF rewrite finished successfully: base {} ({} keys, {} bytes), incremental file {}",
        base.name,
        stats.keys_done.load(Ordering::Relaxed),
        base_size,
        incr.name
    ));
    Ok(())
}

/// The seq for the next base/incr files: one more than any in the manifest.
pub fn next_seq(m: &Manifest) -> u64 {
    m.base
        .iter()
        .chain(m.history.iter())
        .chain(m.incrs.iter())
        .map(|e| e.seq)
        .max()
        .unwrap_or(0)
        + 1
}
