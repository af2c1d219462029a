//! The server: shared state (engine, configuration, clients, statistics), the
//! listeners, the background cron (active expiry), signal handling and shutdown.
//!
//! Threading: one tokio runtime with `server-threads` workers (default: one per
//! core). Each connection is a task that parses, executes and replies on whatever
//! worker runs it; commands take only the engine's shard locks they need, so
//! connections on different workers run in parallel. A separate `keel-cron` thread
//! runs the active expiry cycle `hz` times a second.

use crate::clients::{Pause, Registry};
use crate::config::Config;
use crate::slowlog::{Latency, SlowLog};
use crate::{notice, warning};
use bytes::Bytes;
use keel_engine::{Effect, EffectSink, Engine, EngineConfig, Notification, SystemClock};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};

/// Per-command counters for INFO commandstats.
#[derive(Default)]
pub struct CmdStat {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

/// Server-wide counters for INFO stats.
#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub error_replies: AtomicU64,
    pub expire_cycle_cpu_ms: AtomicU64,
    pub client_query_buffer_limit_disconnections: AtomicU64,
}

/// Settings read on hot paths, cached from the configuration.
pub struct Hot {
    pub proto_max_bulk_len: AtomicU64,
    pub query_buffer_limit: AtomicU64,
    pub slowlog_slower_than: std::sync::atomic::AtomicI64,
    pub slowlog_max_len: AtomicU64,
    pub latency_threshold_ms: AtomicU64,
    pub maxclients: AtomicU64,
    pub timeout_s: AtomicU64,
    pub hz: AtomicU64,
    pub requirepass: RwLock<String>,
    pub maxmemory: AtomicU64,
    pub eviction_tenacity: AtomicU64,
    /// When used memory was last read from the allocator (µs since start).
    pub memory_checked_us: AtomicU64,
}

/// Subscribers to MONITOR and to the effects feed.
#[derive(Default)]
pub struct Feeds {
    pub monitors: Mutex<Vec<(u64, mpsc::UnboundedSender<Bytes>)>>,
    pub monitor_count: AtomicUsize,
    pub effects: Mutex<Vec<(u64, mpsc::UnboundedSender<Bytes>)>>,
    pub effects_count: AtomicUsize,
}

impl Feeds {
    pub fn send_monitor(&self, line: Bytes) {
        let mut m = self.monitors.lock();
        m.retain(|(_, tx)| tx.send(line.clone()).is_ok());
        self.monitor_count.store(m.len(), Ordering::Relaxed);
    }
}

/// The effect sink of a running server: appends effects to the AOF and fans them
/// out to effect-feed clients.
pub struct ServerSink {
    pub feeds: Arc<Feeds>,
    pub watches: Arc<crate::multi::Watches>,
    pub blocking: Arc<crate::blocking::Blocking>,
    /// The AOF writer, the same slot as `Persistence::writer`.
    pub aof: Arc<crate::aof::WriterSlot>,
    /// Where keyspace notifications are published.
    pub pubsub: Arc<crate::pubsub::PubSub>,
}

impl EffectSink for ServerSink {
    fn emit(&self, effects: &[Effect]) -> u64 {
        self.watches.touch(effects);
        self.blocking.touch(effects);
        let ticket = self.aof.with(|w| w.append(effects)).unwrap_or(0);
        if self.feeds.effects_count.load(Ordering::Relaxed) == 0 {
            return ticket;
        }
        // One RESP push-style line per effect: "+<db> <arg> <arg>...", args quoted
        // like MONITOR so binary data stays on one line.
        let mut out = Vec::new();
        for e in effects {
            out.push(b'+');
            out.extend_from_slice(e.db.to_string().as_bytes());
            for a in &e.argv {
                out.push(b' ');
                crate::commands::quote_into(&mut out, a);
            }
            out.extend_from_slice(b"\r\n");
        }
        let line = Bytes::from(out);
        let mut f = self.feeds.effects.lock();
        f.retain(|(_, tx)| tx.send(line.clone()).is_ok());
        self.feeds.effects_count.store(f.len(), Ordering::Relaxed);
        ticket
    }

    /// Effects are read by the AOF, the effects feed, WATCH and blocked
    /// clients; with none of them (the AOF off, say) a command's effects are
    /// only counted. Each reader registers before it takes the locks of the
    /// keys it cares about once (see `multi::watch`, `Blocking::block`, the
    /// rewrite's snapshot), so no change it should see goes unbuilt.
    fn wants_effects(&self) -> bool {
        self.aof.is_on()
            || self.feeds.effects_count.load(Ordering::Acquire) > 0
            || self.watches.watching()
            || self.blocking.blocked_clients() > 0
    }

    /// Publishes each notification as Redis's `notifyKeyspaceEvent`: on
    /// `__keyspace@<db>__:<key>` with the event as message (flag `K`), then on
    /// `__keyevent@<db>__:<event>` with the key as message (flag `E`).
    fn notify(&self, flags: u32, notes: &[Notification]) {
        use crate::pubsub::Kind;
        use keel_engine::notify::{KEYEVENT, KEYSPACE};
        let mut chan = Vec::new();
        for n in notes {
            let mut db = itoa::Buffer::new();
            let db = db.format(n.db).as_bytes();
            if flags & KEYSPACE != 0 {
                chan.clear();
                chan.extend_from_slice(b"__keyspace@");
                chan.extend_from_slice(db);
                chan.extend_from_slice(b"__:");
                chan.extend_from_slice(&n.key);
                self.pubsub.publish(
                    Kind::Channel,
                    &Bytes::copy_from_slice(&chan),
                    &Bytes::from_static(n.event.as_bytes()),
                );
            }
            if flags & KEYEVENT != 0 {
                chan.clear();
                chan.extend_from_slice(b"__keyevent@");
                chan.extend_from_slice(db);
                chan.extend_from_slice(b"__:");
                chan.extend_from_slice(n.event.as_bytes());
                self.pubsub
                    .publish(Kind::Channel, &Bytes::copy_from_slice(&chan), &n.key);
            }
        }
    }
}

pub struct Server {
    pub engine: Arc<Engine>,
    pub sink: Arc<ServerSink>,
    pub watches: Arc<crate::multi::Watches>,
    /// Clients blocked by BLPOP and the other blocking commands.
    pub blocking: Arc<crate::blocking::Blocking>,
    pub persistence: crate::aof::Persistence,
    pub config: RwLock<Config>,
    pub clients: Registry,
    pub pause: Pause,
    pub stats: Stats,
    pub cmdstats: Vec<CmdStat>,
    pub errorstats: Mutex<HashMap<String, u64>>,
    pub slowlog: Mutex<SlowLog>,
    pub latency: Mutex<Latency>,
    pub feeds: Arc<Feeds>,
    /// Pub/sub channels, patterns and shard channels with their subscribers.
    pub pubsub: Arc<crate::pubsub::PubSub>,
    pub hot: Hot,
    pub started: Instant,
    pub started_ms: u64,
    pub run_id: String,
    pub shutting_down: AtomicBool,
    pub shutdown: Notify,
    pub tcp_port: AtomicU64,
    pub lastsave: AtomicU64,
    pub executable: String,
    /// Allocator bytes in use when the server started (INFO used_memory_startup).
    pub startup_memory: u64,
    pub peak_memory: AtomicU64,
    /// Allocator bytes in use, refreshed by the cron (maxmemory checks read it).
    pub used_memory: AtomicU64,
    /// Samples for INFO's instantaneous_* figures: (ms, commands, in bytes, out bytes).
    pub samples: Mutex<std::collections::VecDeque<(u64, u64, u64, u64)>>,
}

impl Server {
    pub fn new(config: Config) -> Arc<Server> {
        let feeds = Arc::new(Feeds::default());
        let watches = Arc::new(crate::multi::Watches::default());
        let blocking = Arc::new(crate::blocking::Blocking::default());
        let pubsub = Arc::new(crate::pubsub::PubSub::new(
            config.client_output_buffer_limits(),
        ));
        let persistence = crate::aof::Persistence::default();
        let sink = Arc::new(ServerSink {
            feeds: feeds.clone(),
            watches: watches.clone(),
            blocking: blocking.clone(),
            aof: persistence.writer.clone(),
            pubsub: pubsub.clone(),
        });
        let databases = config.get_i64("databases").clamp(1, 1 << 20) as usize;
        let engine = Arc::new(Engine::new(
            EngineConfig {
                databases,
                ..Default::default()
            },
            Arc::new(SystemClock),
            sink.clone(),
        ));
        let now_ms = engine.now_ms();
        let hot = Hot {
            proto_max_bulk_len: AtomicU64::new(config.get_u64("proto-max-bulk-len")),
            query_buffer_limit: AtomicU64::new(config.get_u64("client-query-buffer-limit")),
            slowlog_slower_than: std::sync::atomic::AtomicI64::new(
                config.get_i64("slowlog-log-slower-than"),
            ),
            slowlog_max_len: AtomicU64::new(config.get_i64("slowlog-max-len").max(0) as u64),
            latency_threshold_ms: AtomicU64::new(
                config.get_i64("latency-monitor-threshold").max(0) as u64,
            ),
            maxclients: AtomicU64::new(config.get_i64("maxclients").max(1) as u64),
            timeout_s: AtomicU64::new(config.get_i64("timeout").max(0) as u64),
            hz: AtomicU64::new(config.get_i64("hz").clamp(1, 500) as u64),
            requirepass: RwLock::new(config.get_str("requirepass").to_string()),
            maxmemory: AtomicU64::new(config.get_u64("maxmemory")),
            eviction_tenacity: AtomicU64::new(
                config.get_i64("maxmemory-eviction-tenacity").clamp(0, 100) as u64,
            ),
            memory_checked_us: AtomicU64::new(0),
        };
        let count = keel_engine::table().count();
        engine.set_notify_flags(config.notify_keyspace_events());
        engine.limits().set(encoding_thresholds(&config));
        apply_eviction_settings(&engine, &config);
        crate::info::set_allocator_background_thread(config.get_bool("jemalloc-bg-thread"));
        Arc::new(Server {
            engine,
            sink,
            watches,
            blocking,
            persistence,
            config: RwLock::new(config),
            clients: Registry::default(),
            pause: Pause::default(),
            stats: Stats::default(),
            cmdstats: (0..count).map(|_| CmdStat::default()).collect(),
            errorstats: Mutex::new(HashMap::new()),
            slowlog: Mutex::new(SlowLog::default()),
            latency: Mutex::new(Latency::default()),
            feeds,
            pubsub,
            hot,
            started: Instant::now(),
            started_ms: now_ms,
            run_id: random_hex(40),
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
            tcp_port: AtomicU64::new(0),
            lastsave: AtomicU64::new(now_ms / 1000),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            startup_memory: crate::info::allocator_stats().0,
            peak_memory: AtomicU64::new(0),
            used_memory: AtomicU64::new(0),
            samples: Mutex::new(Default::default()),
        })
    }

    /// Re-reads the cached hot settings after CONFIG SET.
    pub fn refresh_hot(&self) {
        let c = self.config.read();
        self.hot
            .proto_max_bulk_len
            .store(c.get_u64("proto-max-bulk-len"), Ordering::Relaxed);
        self.hot
            .query_buffer_limit
            .store(c.get_u64("client-query-buffer-limit"), Ordering::Relaxed);
        self.hot
            .slowlog_slower_than
            .store(c.get_i64("slowlog-log-slower-than"), Ordering::Relaxed);
        self.hot.slowlog_max_len.store(
            c.get_i64("slowlog-max-len").max(0) as u64,
            Ordering::Relaxed,
        );
        self.hot.latency_threshold_ms.store(
            c.get_i64("latency-monitor-threshold").max(0) as u64,
            Ordering::Relaxed,
        );
        self.hot
            .maxclients
            .store(c.get_i64("maxclients").max(1) as u64, Ordering::Relaxed);
        self.hot
            .timeout_s
            .store(c.get_i64("timeout").max(0) as u64, Ordering::Relaxed);
        self.hot
            .hz
            .store(c.get_i64("hz").clamp(1, 500) as u64, Ordering::Relaxed);
        *self.hot.requirepass.write() = c.get_str("requirepass").to_string();
        self.engine.set_notify_flags(c.notify_keyspace_events());
        self.engine.limits().set(encoding_thresholds(&c));
        apply_eviction_settings(&self.engine, &c);
        crate::info::set_allocator_background_thread(c.get_bool("jemalloc-bg-thread"));
        self.hot.eviction_tenacity.store(
            c.get_i64("maxmemory-eviction-tenacity").clamp(0, 100) as u64,
            Ordering::Relaxed,
        );
        self.hot
            .maxmemory
            .store(c.get_u64("maxmemory"), Ordering::Relaxed);
        drop(c);
        self.used_memory
            .store(crate::info::allocator_stats().0, Ordering::Relaxed);
        let c = self.config.read();
        if let Some(l) = crate::log::Level::parse(c.get_str("loglevel")) {
            crate::log::set_level(l);
        }
    }

    /// Counts an error reply under its code (`ERR`, `WRONGTYPE` ...), as INFO
    /// errorstats does.
    pub fn count_error(&self, msg: &[u8]) {
        self.stats.error_replies.fetch_add(1, Ordering::Relaxed);
        let code = msg.split(|&c| c == b' ').next().unwrap_or(b"ERR");
        let code = String::from_utf8_lossy(&code[..code.len().min(64)]).into_owned();
        let mut e = self.errorstats.lock();
        // Redis caps the number of distinct error codes it tracks at 128.
        if e.len() < 128 || e.contains_key(&code) {
            *e.entry(code).or_insert(0) += 1;
        }
    }

    /// Records the current allocator figure and returns the peak so far.
    pub fn note_memory(&self, used: u64) -> u64 {
        self.peak_memory
            .fetch_max(used, Ordering::Relaxed)
            .max(used)
    }

    /// Takes a sample for the instantaneous figures (called by the cron).
    pub fn sample(&self) {
        let now = self.engine.now_ms();
        let mut s = self.samples.lock();
        s.push_back((
            now,
            self.stats.commands_processed.load(Ordering::Relaxed),
            self.stats.net_input_bytes.load(Ordering::Relaxed),
            self.stats.net_output_bytes.load(Ordering::Relaxed),
        ));
        while s.len() > 16 {
            s.pop_front();
        }
    }

    /// (ops/sec, input kbps, output kbps) over the recent samples.
    pub fn instantaneous(&self) -> (u64, f64, f64) {
        let s = self.samples.lock();
        match (s.front(), s.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                let secs = (b.0 - a.0) as f64 / 1000.0;
                (
                    ((b.1 - a.1) as f64 / secs) as u64,
                    (b.2 - a.2) as f64 / secs / 1024.0,
                    (b.3 - a.3) as f64 / secs / 1024.0,
                )
            }
            _ => (0, 0.0, 0.0),
        }
    }

    /// Starts a graceful shutdown.
    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
    }
}

pub fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut r = rand::thread_rng();
    (0..n)
        .map(|_| char::from_digit(r.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// Background work: the active expiry cycle, `hz` times a second.
fn cron(server: Arc<Server>) {
    while !server.shutting_down.load(Ordering::Relaxed) {
        let hz = server.hot.hz.load(Ordering::Relaxed).max(1);
        std::thread::sleep(Duration::from_millis(1000 / hz));
        // Redis gives the slow cycle 25% of each cron period.
        let budget = Duration::from_micros(250_000 / hz);
        let t = Instant::now();
        keel_engine::expire::active_expire_cycle(&server.engine, budget);
        server.sample();
        crate::aof::cron(&server);
        let used = crate::info::allocator_stats().0;
        server.used_memory.store(used, Ordering::Relaxed);
        server.note_memory(used);
        let spent = t.elapsed();
        server
            .stats
            .expire_cycle_cpu_ms
            .fetch_add(spent.as_millis() as u64, Ordering::Relaxed);
    }
}

/// Runs the server until shutdown. Returns the process exit code.
pub fn run(config: Config) -> i32 {
    if let Some(l) = crate::log::Level::parse(config.get_str("loglevel")) {
        crate::log::set_level(l);
    }
    if let Err(e) = crate::log::set_file(config.get_str("logfile")) {
        eprintln!("Can't open the log file: {e}");
        return 1;
    }
    let threads = match config.get_i64("server-threads") {
        n if n > 0 => n as usize,
        _ => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    };
    crate::output::enable(threads == 1);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("keel-worker")
        // Replies deferred during the worker's turn go out in one burst.
        .on_thread_park(crate::output::write_queued)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Failed to start the runtime: {e}");
            return 1;
        }
    };
    notice!("oO0OoO0OoO0Oo keel is starting oO0OoO0OoO0Oo");
    notice!(
        "keel version={}, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    match config.config_file() {
        Some(p) => notice!("Configuration loaded from {}", p.display()),
        None => warning!("No config file specified, using the default config. In order to specify a config file use keel-server /path/to/keel.conf"),
    }
    let ignored = config.ignored_in_use();
    if !ignored.is_empty() {
        notice!(
            "These options tune Redis internals keel does not have and are accepted with no effect: {}",
            ignored.join(", ")
        );
    }
    let server = Server::new(config);
    let code = rt.block_on(serve(server.clone(), threads));
    rt.shutdown_timeout(Duration::from_secs(2));
    code
}

async fn serve(server: Arc<Server>, threads: usize) -> i32 {
    let (port, binds, backlog, dir, pidfile) = {
        let c = server.config.read();
        (
            c.get_i64("port"),
            c.bind_addrs(),
            c.get_i64("tcp-backlog"),
            c.get_str("dir").to_string(),
            c.get_str("pidfile").to_string(),
        )
    };
    if let Err(e) = std::env::set_current_dir(&dir) {
        warning!("Can't chdir to '{}': {}", dir, e);
        return 1;
    }
    keel_persistence::log::set_logger(|warn, msg| {
        crate::log::log(
            if warn {
                crate::log::Level::Warning
            } else {
                crate::log::Level::Notice
            },
            msg,
        )
    });
    let aof_on = match crate::aof::check_startup(&server) {
        Ok(on) => on,
        Err(msg) => {
            warning!("{}", msg);
            return 1;
        }
    };
    if aof_on {
        // Until the log is loaded and the writer is installed, commands get
        // -LOADING: no write may be acknowledged before it can be logged.
        server.engine.set_loading(true);
    }
    let mut listeners = Vec::new();
    if port > 0 {
        for b in &binds {
            let (optional, addr) = match b.strip_prefix('-') {
                Some(a) => (true, a),
                None => (false, b.as_str()),
            };
            let host = if addr == "*" {
                "0.0.0.0"
            } else if addr == "::*" {
                "::"
            } else {
                addr
            };
            match bind(host, port as u16, backlog as i32) {
                Ok(l) => listeners.push(l),
                Err(e) if optional => {
                    notice!("Skipping optional bind address {}:{}: {}", host, port, e);
                }
                Err(e) => {
                    warning!(
                        "Warning: Could not create server TCP listening socket {}:{}: {}",
                        host,
                        port,
                        e
                    );
                    warning!("Failed listening on port {} (tcp), aborting.", port);
                    return 1;
                }
            }
        }
        if listeners.is_empty() {
            warning!("Failed listening on port {} (tcp), aborting.", port);
            return 1;
        }
    }
    server.tcp_port.store(port.max(0) as u64, Ordering::Relaxed);
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            warning!("Failed to write PID file {}: {}", pidfile, e);
        }
    }
    notice!("Server initialized ({} threads)", threads);
    crate::conn::warm_clock();
    {
        let s = server.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("keel-cron".into())
            .spawn(move || cron(s))
        {
            warning!("Failed to start the cron thread: {}", e);
            return 1;
        }
    }
    for l in listeners {
        let s = server.clone();
        tokio::spawn(async move { accept_loop(s, l).await });
    }
    notice!("Ready to accept connections tcp");
    if aof_on {
        let s = server.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("keel-load".into())
            .spawn(move || crate::aof::load_and_start(s))
        {
            warning!("Failed to start loading: {}", e);
            return 1;
        }
    } else {
        warning!("appendonly is off: this server keeps its data in memory only.");
    }

    let sig = server.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            warning!("Could not install signal handlers");
            return;
        };
        tokio::select! {
            _ = term.recv() => warning!("Received SIGTERM scheduling shutdown..."),
            _ = int.recv() => warning!("Received SIGINT scheduling shutdown..."),
        }
        sig.request_shutdown();
    });

    loop {
        server.shutdown.notified().await;
        if server.shutting_down.load(Ordering::SeqCst) {
            break;
        }
    }
    warning!("User requested shutdown...");
    crate::aof::shutdown(&server);
    for c in server.clients.snapshot() {
        c.kill();
    }
    if !pidfile.is_empty() {
        notice!("Removing the pid file.");
        let _ = std::fs::remove_file(&pidfile);
    }
    warning!("keel is now ready to exit, bye bye...");
    0
}

fn bind(host: &str, port: u16, backlog: i32) -> std::io::Result<tokio::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let ip: std::net::IpAddr = host.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("bad address '{host}'"),
        )
    })?;
    let addr = std::net::SocketAddr::new(ip, port);
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.bind(&addr.into())?;
    sock.listen(backlog.max(1))?;
    sock.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(sock.into())
}

async fn accept_loop(server: Arc<Server>, listener: tokio::net::TcpListener) {
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    warning!("Accepting client connection: {}", e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = server.shutdown.notified() => return,
        };
        if server.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        let s = server.clone();
        tokio::spawn(async move { crate::conn::handle(s, stream, peer).await });
    }
}

/// The collection encoding thresholds from the configuration.
fn encoding_thresholds(c: &crate::config::Config) -> keel_engine::types::Thresholds {
    let size = |name: &str| c.get_i64(name).max(0) as usize;
    keel_engine::types::Thresholds {
        hash_max_listpack_entries: size("hash-max-listpack-entries"),
        hash_max_listpack_value: size("hash-max-listpack-value"),
        list_max_listpack_size: c.get_i64("list-max-listpack-size"),
        set_max_intset_entries: size("set-max-intset-entries"),
        zset_max_listpack_entries: size("zset-max-listpack-entries"),
        zset_max_listpack_value: size("zset-max-listpack-value"),
        hll_sparse_max_bytes: size("hll-sparse-max-bytes"),
    }
}

/// maxmemory-policy and its parameters, into the engine.
fn apply_eviction_settings(engine: &Engine, c: &crate::config::Config) {
    let policy = keel_engine::evict::Policy::parse(c.get_str("maxmemory-policy"))
        .unwrap_or(keel_engine::evict::Policy::NoEviction);
    let n = |name: &str| c.get_i64(name).clamp(0, u32::MAX as i64) as u32;
    engine.evict_settings().set(
        policy,
        n("maxmemory-samples"),
        n("lfu-log-factor"),
        n("lfu-decay-time"),
    );
}

impl Server {
    /// Allocator bytes in use, re-read from jemalloc at most once a millisecond
    /// (only called while maxmemory is set), so a burst of writes between two cron
    /// ticks cannot run far past the limit.
    pub fn used_memory_fresh(&self) -> u64 {
        let now_us = self.started.elapsed().as_micros() as u64;
        let last = self.hot.memory_checked_us.load(Ordering::Relaxed);
        if now_us.saturating_sub(last) >= 1000
            && self
                .hot
                .memory_checked_us
                .compare_exchange(last, now_us, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let used = crate::info::allocator_stats().0;
            self.used_memory.store(used, Ordering::Relaxed);
            self.note_memory(used);
            return used;
        }
        self.used_memory.load(Ordering::Relaxed)
    }

    /// Redis's `performEvictions`: when used memory is past maxmemory, evicts keys
    /// by the policy for at most the tenacity's time budget. Returns true when
    /// memory is still past the limit and nothing more can be evicted (then
    /// commands that add data get -OOM); false when under the limit or when
    /// eviction is still making progress.
    pub fn perform_evictions(&self) -> bool {
        let max = self.hot.maxmemory.load(Ordering::Relaxed);
        if max == 0 {
            return false;
        }
        // As Redis's freeMemoryGetNotCountedMemory: the AOF buffer is not
        // counted against maxmemory (it drains to disk by itself; evicting
        // for it would only add DELs to it). Client buffers are counted.
        let used = self.used_memory_fresh().saturating_sub(self.aof_buffered());
        if used <= max {
            return false;
        }
        let budget = eviction_budget(self.hot.eviction_tenacity.load(Ordering::Relaxed));
        let r = self.engine.evict(used - max, budget);
        // Account for what was freed until the next fresh reading.
        let _ = self
            .used_memory
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(r.bytes))
            });
        r.exhausted && r.bytes < used - max
    }
}

impl Server {
    /// Bytes in the AOF writer's buffer, not yet written to the file.
    pub fn aof_buffered(&self) -> u64 {
        self.persistence.writer().map_or(0, |w| w.buffered() as u64)
    }
}

/// Redis's `evictionTimeLimitUs`: 50 µs per tenacity step up to 10, then growing
/// 15% per step; 100 means no limit.
fn eviction_budget(tenacity: u64) -> Duration {
    if tenacity >= 100 {
        return Duration::from_secs(3600);
    }
    if tenacity <= 10 {
        return Duration::from_micros(50 * tenacity.max(1));
    }
    Duration::from_micros((500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64)
}
