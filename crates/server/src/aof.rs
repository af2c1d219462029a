//! The server's side of persistence: start-up loading (while answering -LOADING),
//! the AOF writer behind the effect sink, BGREWRITEAOF and automatic rewrites,
//! WAITAOF, DEBUG LOADAOF, and the persistence fields of INFO.

use crate::server::Server;
use crate::{notice, warning};
use bytes::Bytes;
use keel_persistence::loader::{self, Apply, CorruptPolicy, EngineApply, LoadOptions, Progress};
use keel_persistence::manifest;
use keel_persistence::parallel::with_parallel_apply;
use keel_persistence::rewrite::{self, RewriteStats};
use keel_persistence::writer::{load_manifest, now_ms, AofWriter, FsyncPolicy};
use parking_lot::{Mutex, RwLock};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Loading progress, for INFO persistence.
#[derive(Default)]
pub struct LoadingStats {
    pub start_s: AtomicU64,
    pub total_bytes: AtomicU64,
    pub loaded_bytes: AtomicU64,
    pub started: Mutex<Option<Instant>>,
}

/// The AOF writer while `appendonly` is on, shared by [`Persistence`] and the
/// effect sink (`ServerSink`), so one [`WriterSlot::set`] installs or removes
/// it for both.
#[derive(Default)]
pub struct WriterSlot {
    writer: RwLock<Option<Arc<AofWriter>>>,
    /// Whether `writer` holds one: read first, so a write command with the AOF
    /// off takes no lock (the read lock is two atomic read-modify-writes). Set
    /// under the write lock. A write that misses a writer just installed ran
    /// before the rewrite that installing one starts took its snapshot (with
    /// every shard locked), so that snapshot's base holds its result.
    on: AtomicBool,
}

impl WriterSlot {
    /// Installs (Some) or removes (None) the writer; returns the one it replaced.
    pub fn set(&self, w: Option<Arc<AofWriter>>) -> Option<Arc<AofWriter>> {
        let mut cur = self.writer.write();
        self.on.store(w.is_some(), Ordering::Release);
        std::mem::replace(&mut *cur, w)
    }

    /// Whether a writer is installed (one atomic load).
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    pub fn get(&self) -> Option<Arc<AofWriter>> {
        self.writer.read().clone()
    }

    /// `f` on the writer, borrowed (no `Arc` clone); `None` with none, and
    /// then without taking the lock.
    pub fn with<R>(&self, f: impl FnOnce(&AofWriter) -> R) -> Option<R> {
        if !self.is_on() {
            return None;
        }
        self.writer.read().as_deref().map(f)
    }
}

#[derive(Default)]
pub struct Persistence {
    /// The AOF writer, shared with the effect sink.
    pub writer: Arc<WriterSlot>,
    pub rewrite: Arc<RewriteStats>,
    pub rewrite_scheduled: AtomicBool,
    pub loading: LoadingStats,
    /// What recovery found (truncated tail, quarantined gaps), for INFO and the log.
    pub recovery_note: Mutex<String>,
    pub quarantined_bytes: AtomicU64,
    pub last_rewrite_attempt_ms: AtomicU64,
}

impl Persistence {
    pub fn writer(&self) -> Option<Arc<AofWriter>> {
        self.writer.get()
    }

    /// The AOF's last write error, while it lasts. Every write command asks:
    /// with the AOF off this is one atomic load, and with it on it borrows the
    /// writer instead of cloning its `Arc`.
    pub fn write_error(&self) -> Option<String> {
        self.writer.with(|w| w.write_error()).flatten()
    }
}

/// The AOF directory for the current configuration.
pub fn aof_dir(server: &Server) -> (PathBuf, String) {
    let c = server.config.read();
    let dir = Path::new(c.get_str("dir")).join(c.get_str("appenddirname"));
    (dir, c.get_str("appendfilename").to_string())
}

fn load_options(server: &Server) -> LoadOptions {
    let c = server.config.read();
    LoadOptions {
        load_truncated: c.get_bool("aof-load-truncated"),
        corrupt: if c
            .get_str("aof-load-corrupt")
            .eq_ignore_ascii_case("salvage")
        {
            CorruptPolicy::Salvage
        } else {
            CorruptPolicy::Refuse
        },
    }
}

fn fsync_policy(server: &Server) -> FsyncPolicy {
    FsyncPolicy::parse(server.config.read().get_str("appendfsync")).unwrap_or(FsyncPolicy::EverySec)
}

/// Files in `dir` that hold data keel would otherwise start without and later
/// overwrite: an RDB file, a pre-Redis-7 single-file AOF.
fn foreign_data(server: &Server) -> Vec<PathBuf> {
    let c = server.config.read();
    let dir = Path::new(c.get_str("dir"));
    let mut found = Vec::new();
    for name in [
        c.get_str("dbfilename"),
        "dump.rdb",
        c.get_str("appendfilename"),
    ] {
        let p = dir.join(name);
        if p.is_file() && !found.contains(&p) {
            found.push(p);
        }
    }
    found
}

/// Prepares persistence at start-up, before listening: checks the directory and
/// decides what to load. Returns Err(message) when keel must not start.
pub fn check_startup(server: &Server) -> Result<bool, String> {
    if !server.config.read().get_bool("appendonly") {
        return Ok(false);
    }
    if !server
        .config
        .read()
        .get_str("aof-use-rdb-preamble")
        .eq_ignore_ascii_case("no")
    {
        notice!("aof-use-rdb-preamble is on, but keel writes RESP bases until RDB support lands.");
    }
    let (dir, afn) = aof_dir(server);
    let mpath = dir.join(manifest::manifest_name(&afn));
    if mpath.exists() {
        return Ok(true);
    }
    let foreign = foreign_data(server);
    if !foreign.is_empty() {
        let list: Vec<String> = foreign.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "appendonly is on and there is no AOF manifest at {}, but the data directory holds other data: {}. \
             keel refuses to start empty, because it would later overwrite that data. \
             To load a Redis AOF file, make it the base of an AOF directory: \
             mkdir -p {dir} && mv {first} {dir}/{afn}.1.base.aof && printf 'file {afn}.1.base.aof seq 1 type b\\n' > {m} \
             (an RDB file cannot be loaded by keel yet). To start empty anyway, move those files away.",
            mpath.display(),
            list.join(", "),
            dir = dir.display(),
            first = list[0],
            afn = afn,
            m = mpath.display()
        ));
    }
    Ok(true)
}

/// Loads the AOF (if any) into the engine and starts the writer. Runs on its own
/// thread while connections are served (they get -LOADING meanwhile). On a load
/// error the process exits with the loader's message: keel never starts with part
/// of the data unless told to salvage.
pub fn load_and_start(server: Arc<Server>) {
    let (dir, afn) = aof_dir(&server);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        warning!("Can't create the AOF directory {}: {}", dir.display(), e);
        std::process::exit(1);
    }
    rewrite::clean_temp_files(&dir);
    let mname = manifest::manifest_name(&afn);
    let mut last_seq = 0;
    let mut append_ok = true;
    let m = if dir.join(&mname).exists() {
        server.engine.set_loading(true);
        *server.persistence.loading.started.lock() = Some(Instant::now());
        server
            .persistence
            .loading
            .start_s
            .store(now_ms() / 1000, Ordering::Relaxed);
        let opts = load_options(&server);
        let started = Instant::now();
        let mut last_log = Instant::now();
        let stats = &server.persistence.loading;
        let mut progress = |p: &Progress| {
            stats.total_bytes.store(p.total_bytes, Ordering::Relaxed);
            stats.loaded_bytes.store(p.loaded_bytes, Ordering::Relaxed);
            if last_log.elapsed() >= Duration::from_secs(2) {
                last_log = Instant::now();
                notice!(
                    "Loading the AOF: {} of {} bytes ({:.1}%), {} commands",
                    p.loaded_bytes,
                    p.total_bytes,
                    p.loaded_bytes as f64 * 100.0 / p.total_bytes.max(1) as f64,
                    p.commands
                );
            }
        };
        let workers = load_workers(&server, &opts);
        let mut parallel = None;
        if workers > 1 {
            let r = with_parallel_apply(&server.engine, workers, |a| {
                loader::load_dir(&dir, &afn, &opts, a, &mut progress)
            });
            match r {
                Ok(report) => parallel = Some(report),
                Err(e) => {
                    // No file was changed (see `parallel`): replay on one thread,
                    // which stops at the first problem and names it exactly.
                    notice!(
                        "The AOF load on {} threads stopped ({}); loading it again on one thread",
                        workers,
                        e.to_string().replace(['\r', '\n'], " ")
                    );
                    server.engine.clear_all();
                }
            }
        }
        let mut apply = MemoryGuard::new(&server);
        let result = match parallel {
            Some(report) => Ok(report),
            None => loader::load_dir(&dir, &afn, &opts, &mut apply, &mut progress),
        };
        match result {
            Ok(report) => {
                last_seq = report.last_seq;
                append_ok = report.tail.as_ref().is_some_and(|t| t.bytes == 0);
                if let Some(t) = &report.truncated {
                    let note = format!("{t:?}");
                    warning!("The AOF was truncated at the end (a crash during a write); loaded every complete command: {}", note);
                    *server.persistence.recovery_note.lock() = note;
                }
                if !report.quarantined.is_empty() {
                    let mut bytes = 0;
                    for g in &report.quarantined {
                        warning!(
                            "Skipped a damaged part of the AOF (aof-load-corrupt salvage): {:?}",
                            g
                        );
                        bytes += g.end.saturating_sub(g.start);
                    }
                    server
                        .persistence
                        .quarantined_bytes
                        .store(bytes, Ordering::Relaxed);
                    *server.persistence.recovery_note.lock() = format!("{:?}", report.quarantined);
                }
                notice!(
                    "DB loaded from append only file: {:.3} seconds ({} commands, {} bytes)",
                    started.elapsed().as_secs_f64(),
                    report.commands,
                    report.bytes
                );
                if apply.evicted > 0 {
                    warning!(
                        "The dataset did not fit maxmemory ({} bytes): {} keys were evicted while loading (maxmemory-policy {}). The AOF was not changed.",
                        apply.max,
                        apply.evicted,
                        server.engine.evict_settings().policy().name()
                    );
                }
            }
            Err(e) => {
                warning!("{}", e);
                warning!("keel did not start: the AOF could not be loaded. No file was changed.");
                std::process::exit(1);
            }
        }
        match load_manifest(&dir, &mname) {
            Ok(m) => m,
            Err(e) => {
                warning!(
                    "Can't read the AOF manifest {}: {}",
                    dir.join(&mname).display(),
                    e
                );
                std::process::exit(1);
            }
        }
    } else {
        Default::default()
    };
    match AofWriter::open(&dir, &afn, m, fsync_policy(&server), last_seq, append_ok) {
        Ok(w) => {
            if let Err(e) = w.start() {
                warning!("Can't start the AOF threads: {}", e);
                std::process::exit(1);
            }
            server.persistence.writer.set(Some(w));
        }
        Err(e) => {
            warning!(
                "Can't open the append only file in {}: {}",
                dir.display(),
                e
            );
            std::process::exit(1);
        }
    }
    server.engine.set_loading(false);
    notice!(
        "Ready to accept writes: the append only file is in {}",
        dir.display()
    );
}

/// Starts a background rewrite. Err(reply text) if one is running or there is no AOF.
pub fn start_rewrite(server: &Arc<Server>) -> Result<(), String> {
    let Some(w) = server.persistence.writer() else {
        return Err("ERR Background append only file rewriting is only possible with appendonly yes in keel".into());
    };
    if server
        .persistence
        .rewrite
        .in_progress
        .swap(true, Ordering::SeqCst)
    {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    server
        .persistence
        .last_rewrite_attempt_ms
        .store(now_ms(), Ordering::Relaxed);
    let s = server.clone();
    let spawned = std::thread::Builder::new()
        .name("keel-rewrite".into())
        .spawn(move || {
            notice!("Background append only file rewriting started");
            lowest_cpu_priority();
            let _ = rewrite::rewrite(&s.engine, &w, &s.persistence.rewrite);
        });
    if let Err(e) = spawned {
        server
            .persistence
            .rewrite
            .in_progress
            .store(false, Ordering::SeqCst);
        return Err(format!("ERR Can't start the rewrite thread: {e}"));
    }
    Ok(())
}

/// Lowers the calling thread to the lowest CPU priority (nice 19; on Linux each
/// thread has its own nice value). The rewrite thread runs this way: on a busy
/// core, the threads serving clients preempt it whenever they have work, and it
/// still gets a small share, so a saturated server delays a rewrite but never
/// starves it. Measured in bench/ (rewrite p99, BENCHMARKS.md): at normal
/// priority, looping rewrites made the p99 of a SET load 8-10x its p99 without.
fn lowest_cpu_priority() {
    // SAFETY: setpriority(2) takes integers only and touches no memory of ours;
    // `who` 0 means the calling thread. Failure only leaves the priority as it was.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    if rc != 0 {
        warning!(
            "Could not lower the rewrite thread's CPU priority: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Cron: automatic rewrite when the log grew past auto-aof-rewrite-percentage of
/// its size after the last rewrite (and past auto-aof-rewrite-min-size). A rewrite
/// that keeps failing backs off: at most one attempt per minute after a failure.
pub fn cron(server: &Arc<Server>) {
    let Some(w) = server.persistence.writer() else {
        return;
    };
    if server
        .persistence
        .rewrite
        .in_progress
        .load(Ordering::Relaxed)
        || server.engine.is_loading()
    {
        return;
    }
    let (pct, min) = {
        let c = server.config.read();
        (
            c.get_i64("auto-aof-rewrite-percentage"),
            c.get_u64("auto-aof-rewrite-min-size"),
        )
    };
    let failures = server
        .persistence
        .rewrite
        .consecutive_failures
        .load(Ordering::Relaxed);
    if failures > 0
        && now_ms().saturating_sub(
            server
                .persistence
                .last_rewrite_attempt_ms
                .load(Ordering::Relaxed),
        ) < 60_000
    {
        return;
    }
    let scheduled = server
        .persistence
        .rewrite_scheduled
        .swap(false, Ordering::SeqCst);
    let (size, base) = w.sizes();
    let grown = pct > 0 && size > min && size >= base + base.max(1) * pct as u64 / 100;
    if scheduled || grown {
        if grown {
            notice!(
                "Starting automatic rewriting of AOF on {}% growth",
                (size.saturating_sub(base)) * 100 / base.max(1)
            );
        }
        let _ = start_rewrite(server);
    }
}

/// Writes and fsyncs everything (shutdown).
pub fn shutdown(server: &Server) {
    if let Some(w) = server.persistence.writer() {
        notice!("Calling fsync() on the AOF file.");
        w.shutdown();
    }
}

fn percentile(v: &[u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    s[((s.len() - 1) as f64 * p) as usize]
}

/// The AOF and loading fields of INFO persistence.
pub fn info_fields(server: &Server) -> Vec<(&'static str, String)> {
    let p = &server.persistence;
    let w = p.writer();
    let rs = &p.rewrite;
    let now = now_ms();
    let in_progress = rs.in_progress.load(Ordering::Relaxed);
    let mut f: Vec<(&'static str, String)> = Vec::new();
    let loading = server.engine.is_loading();
    if loading {
        let total = p.loading.total_bytes.load(Ordering::Relaxed);
        let loaded = p.loading.loaded_bytes.load(Ordering::Relaxed);
        let elapsed = p
            .loading
            .started
            .lock()
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        let eta = if loaded > 0 {
            (elapsed * (total.saturating_sub(loaded)) as f64 / loaded as f64) as u64
        } else {
            1
        };
        f.push((
            "loading_start_time",
            p.loading.start_s.load(Ordering::Relaxed).to_string(),
        ));
        f.push(("loading_total_bytes", total.to_string()));
        f.push(("loading_rdb_used_mem", "0".into()));
        f.push(("loading_loaded_bytes", loaded.to_string()));
        f.push((
            "loading_loaded_perc",
            format!("{:.2}", loaded as f64 * 100.0 / total.max(1) as f64),
        ));
        f.push(("loading_eta_seconds", eta.to_string()));
    }
    f.push(("aof_enabled", (w.is_some() as u8).to_string()));
    f.push(("aof_rewrite_in_progress", (in_progress as u8).to_string()));
    f.push((
        "aof_rewrite_scheduled",
        (p.rewrite_scheduled.load(Ordering::Relaxed) as u8).to_string(),
    ));
    f.push((
        "aof_last_rewrite_time_sec",
        match rs.last_duration_ms.load(Ordering::Relaxed) {
            0 if rs.rewrites.load(Ordering::Relaxed) == 0
                && rs.consecutive_failures.load(Ordering::Relaxed) == 0 =>
            {
                "-1".into()
            }
            ms => (ms / 1000).to_string(),
        },
    ));
    f.push((
        "aof_current_rewrite_time_sec",
        if in_progress {
            (now.saturating_sub(rs.started_ms.load(Ordering::Relaxed)) / 1000).to_string()
        } else {
            "-1".into()
        },
    ));
    let last_ok = rs.consecutive_failures.load(Ordering::Relaxed) == 0;
    f.push((
        "aof_last_bgrewrite_status",
        if last_ok { "ok" } else { "err" }.into(),
    ));
    f.push((
        "aof_rewrites",
        rs.rewrites.load(Ordering::Relaxed).to_string(),
    ));
    f.push((
        "aof_rewrites_consecutive_failures",
        rs.consecutive_failures.load(Ordering::Relaxed).to_string(),
    ));
    let werr = w.as_ref().and_then(|w| w.write_error());
    f.push((
        "aof_last_write_status",
        if werr.is_some() { "err" } else { "ok" }.into(),
    ));
    f.push(("aof_last_cow_size", "0".into()));
    if let Some(w) = &w {
        let (size, base) = w.sizes();
        let st = &w.status;
        let written = st.written_ticket.load(Ordering::Relaxed);
        let durable = st.durable_ticket.load(Ordering::Relaxed);
        let unsynced_ms = if written > durable || w.buffered() > 0 {
            now.saturating_sub(st.last_fsync_ms.load(Ordering::Relaxed))
        } else {
            0
        };
        let fs: Vec<u64> = st.fsync_us.lock().iter().copied().collect();
        f.push(("aof_current_size", size.to_string()));
        f.push(("aof_base_size", base.to_string()));
        f.push((
            "aof_pending_rewrite",
            (p.rewrite_scheduled.load(Ordering::Relaxed) as u8).to_string(),
        ));
        f.push(("aof_buffer_length", w.buffered().to_string()));
        f.push((
            "aof_pending_bio_fsync",
            ((written > durable) as u8).to_string(),
        ));
        f.push((
            "aof_delayed_fsync",
            st.delayed_fsync.load(Ordering::Relaxed).to_string(),
        ));
        f.push((
            "aof_fsync_policy",
            format!("{:?}", w.policy()).to_lowercase(),
        ));
        f.push(("aof_written_batches", written.to_string()));
        f.push(("aof_durable_batches", durable.to_string()));
        f.push(("aof_last_durable_batch", durable.to_string()));
        f.push((
            "aof_unsynced_batches",
            written.saturating_sub(durable).to_string(),
        ));
        f.push(("aof_unsynced_ms", unsynced_ms.to_string()));
        f.push(("aof_fsync_p50_us", percentile(&fs, 0.5).to_string()));
        f.push(("aof_fsync_p99_us", percentile(&fs, 0.99).to_string()));
        f.push((
            "aof_fsync_max_us",
            fs.iter().max().copied().unwrap_or(0).to_string(),
        ));
        f.push((
            "aof_size_vs_base_perc",
            format!("{:.2}", size as f64 * 100.0 / base.max(1) as f64),
        ));
        let last = rs.last_success_ms.load(Ordering::Relaxed);
        f.push((
            "aof_last_rewrite_ago_sec",
            if last == 0 {
                "-1".into()
            } else {
                (now.saturating_sub(last) / 1000).to_string()
            },
        ));
        f.push((
            "aof_flushall_resets",
            w.resets.load(Ordering::Relaxed).to_string(),
        ));
        f.push(("aof_last_write_error", werr.unwrap_or_default()));
        f.push(("aof_current_incr_file", w.current_incr()));
        f.push((
            "aof_rewrite_peak_buffer_bytes",
            rs.peak_buffer.load(Ordering::Relaxed).to_string(),
        ));
    }
    f.push((
        "aof_quarantined_bytes",
        p.quarantined_bytes.load(Ordering::Relaxed).to_string(),
    ));
    f.push((
        "aof_recovery_note",
        p.recovery_note.lock().replace(['\r', '\n'], " "),
    ));
    f
}

/// DEBUG LOADAOF / RELOAD: writes and fsyncs the AOF, empties the dataset and
/// loads it back from the files (clients get -LOADING meanwhile).
pub fn reload(server: &Arc<Server>) -> Result<(), String> {
    let Some(w) = server.persistence.writer() else {
        return Err("ERR DEBUG LOADAOF needs appendonly yes".into());
    };
    w.flush_and_sync(Duration::from_secs(10));
    let (dir, afn) = aof_dir(server);
    server.engine.set_loading(true);
    server.engine.clear_all();
    let opts = load_options(server);
    let mut apply = EngineApply::new(&server.engine);
    let r = loader::load_dir(&dir, &afn, &opts, &mut apply, &mut |_| {});
    server.engine.set_loading(false);
    match r {
        Ok(_) => {
            notice!("Append only file loaded by DEBUG LOADAOF");
            Ok(())
        }
        Err(e) => {
            warning!("{}", e);
            Err(format!(
                "ERR Error loading the AOF: {}",
                e.to_string().replace(['\r', '\n'], " ")
            ))
        }
    }
}

/// CONFIG SET appendonly yes|no at run time, as Redis: turning it on writes a
/// base of the current dataset first (a rewrite), turning it off flushes, fsyncs
/// and stops logging.
pub fn set_appendonly(server: &Arc<Server>, on: bool) -> Result<(), String> {
    if on {
        if server.persistence.writer().is_some() {
            return Ok(());
        }
        let (dir, afn) = aof_dir(server);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("ERR can't create {}: {e}", dir.display()))?;
        rewrite::clean_temp_files(&dir);
        let m = load_manifest(&dir, &manifest::manifest_name(&afn)).unwrap_or_default();
        let w = AofWriter::open(&dir, &afn, m, fsync_policy(server), 0, false)
            .map_err(|e| format!("ERR can't open the append only file: {e}"))?;
        w.start()
            .map_err(|e| format!("ERR can't start the AOF threads: {e}"))?;
        server.persistence.writer.set(Some(w));
        notice!("AOF enabled at run time: writing a base of the current dataset.");
        start_rewrite(server).map_err(|e| e.replace("ERR ", "ERR appendonly: "))?;
    } else if let Some(w) = server.persistence.writer.set(None) {
        w.shutdown();
        notice!("AOF disabled at run time.");
    }
    Ok(())
}

/// CONFIG SET appendfsync at run time.
pub fn apply_fsync_policy(server: &Server) {
    if let Some(w) = server.persistence.writer() {
        w.set_policy(fsync_policy(server));
    }
}

/// Threads that apply the log at start-up: `aof-load-threads`, by default one
/// per CPU this process may run on (so a server pinned to one core loads on one
/// thread, up to 8), or one when each command's outcome is needed at once: a
/// `maxmemory` to keep while loading, or `aof-load-corrupt salvage`.
fn load_workers(server: &Server, opts: &LoadOptions) -> usize {
    if server.hot.maxmemory.load(Ordering::Relaxed) > 0 || opts.corrupt != CorruptPolicy::Refuse {
        return 1;
    }
    match server.config.read().get_i64("aof-load-threads") {
        n if n > 0 => n as usize,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
    }
}

/// Applies the log to the engine while keeping memory within `maxmemory`: every
/// 256 commands it reads the allocator's figure; past the limit it evicts
/// by the policy exactly as at runtime (nothing is logged while loading), or,
/// under `noeviction`, stops the load with a message naming the limit, how far
/// loading got, and what to do. It never changes a file.
struct MemoryGuard<'a> {
    inner: EngineApply<'a>,
    server: &'a Server,
    max: u64,
    commands: u64,
    evicted: u64,
    stop: Option<String>,
}

/// Commands between two memory checks while loading.
const LOAD_MEMORY_CHECK_EVERY: u64 = 256;

impl<'a> MemoryGuard<'a> {
    fn new(server: &'a Arc<Server>) -> MemoryGuard<'a> {
        MemoryGuard {
            inner: EngineApply::new(&server.engine),
            server,
            max: server.hot.maxmemory.load(Ordering::Relaxed),
            commands: 0,
            evicted: 0,
            stop: None,
        }
    }

    fn check(&mut self) {
        let used = crate::info::allocator_stats().0;
        if used <= self.max {
            return;
        }
        let engine = &self.server.engine;
        let policy = engine.evict_settings().policy();
        if policy != keel_engine::evict::Policy::NoEviction {
            let r = engine.evict(used - self.max, Duration::from_secs(10));
            self.evicted += r.keys;
            if !r.exhausted || r.bytes >= used - self.max {
                return;
            }
        }
        self.stop = Some(format!(
            "used memory ({} bytes) passed maxmemory ({} bytes) after {} commands, and maxmemory-policy {} {}. \
             The dataset in the AOF does not fit the configured limit. Either raise maxmemory \
             (in the config file or with --maxmemory), or choose an eviction policy \
             (for example --maxmemory-policy allkeys-lru) to evict keys while loading",
            used,
            self.max,
            self.commands,
            policy.name(),
            if policy == keel_engine::evict::Policy::NoEviction {
                "does not evict"
            } else {
                "found nothing more to evict"
            }
        ));
    }
}

impl Apply for MemoryGuard<'_> {
    fn apply(&mut self, db: usize, argv: &[Bytes]) -> Result<(), String> {
        self.commands += 1;
        let r = self.inner.apply(db, argv);
        if self.max > 0 && self.commands % LOAD_MEMORY_CHECK_EVERY == 0 {
            self.check();
        }
        r
    }

    fn prefetch(&mut self, cmds: &mut dyn Iterator<Item = (usize, &[Bytes])>) {
        self.inner.prefetch(cmds);
    }

    fn check_db(&mut self, db: usize) -> Result<(), String> {
        self.inner.check_db(db)
    }

    fn stop(&mut self) -> Option<String> {
        self.stop.take()
    }
}
