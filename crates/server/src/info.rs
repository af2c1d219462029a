//! INFO: Redis's sections and field names, filled from the server's and the
//! engine's counters.

use crate::server::Server;
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The Redis version keel is compatible with, reported where clients look for it.
pub const REDIS_VERSION: &str = "7.0.15";

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

pub fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else if n < 1024.0 * 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    } else {
        format!("{:.2}T", n / (1024.0 * 1024.0 * 1024.0 * 1024.0))
    }
}

/// Bytes the allocator says are in use, and bytes it holds from the OS.
pub fn allocator_stats() -> (u64, u64, u64) {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    let allocated = stats::allocated::read().unwrap_or(0) as u64;
    let active = stats::active::read().unwrap_or(0) as u64;
    let resident = stats::resident::read().unwrap_or(0) as u64;
    (allocated, active, resident)
}

/// Turns jemalloc's background thread on or off (`jemalloc-bg-thread`, on by
/// default as in Redis): it returns freed pages to the OS over time, so memory
/// freed by FLUSHALL, DEL or a rewrite leaves the RSS without waiting for more
/// allocations.
pub fn set_allocator_background_thread(on: bool) {
    let _ = tikv_jemalloc_ctl::background_thread::write(on);
}

/// Returns dirty pages of every jemalloc arena to the OS (MEMORY PURGE).
/// Returns whether jemalloc accepted the request.
pub fn purge_allocator() -> bool {
    // "arena.<MALLCTL_ARENAS_ALL>.purge" (4096 is MALLCTL_ARENAS_ALL). The
    // control takes neither an old nor a new value and refuses (EPERM) any
    // pointer, so it is called with null ones.
    // SAFETY: the name is a NUL-terminated mallctl name; every pointer is null
    // and the length 0, which is what this control requires, so jemalloc reads
    // and writes no memory of ours.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    rc == 0
}

/// MEMORY MALLOC-STATS: jemalloc's own report (`malloc_stats_print`), as Redis
/// gives it.
pub fn malloc_stats_text() -> String {
    /// Appends one piece of the report to the `String` behind `opaque`.
    ///
    /// SAFETY (for the caller): `opaque` must point to a live `Vec<u8>` that
    /// nothing else touches during the call, and `text` must be a NUL-terminated
    /// string; `malloc_stats_print` passes back the `opaque` it was given and
    /// NUL-terminated text.
    unsafe extern "C" fn append(opaque: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
        if opaque.is_null() || text.is_null() {
            return;
        }
        // SAFETY: see above; both pointers were checked for null.
        let (out, text) = unsafe {
            (
                &mut *(opaque as *mut Vec<u8>),
                std::ffi::CStr::from_ptr(text),
            )
        };
        out.extend_from_slice(text.to_bytes());
    }
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let mut out: Vec<u8> = Vec::new();
    // SAFETY: `append` upholds the callback contract above: the opaque pointer
    // is `out`, which outlives the call and is not otherwise used until it
    // returns; malloc_stats_print calls the callback synchronously on this
    // thread only. The options string is NUL-terminated.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append),
            &mut out as *mut Vec<u8> as *mut std::ffi::c_void,
            c"".as_ptr(),
        );
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// MEMORY STATS: Redis's field names, keel's figures.
pub fn memory_stats(server: &Server) -> keel_protocol::Frame {
    use keel_protocol::Frame;
    let (allocated, active, resident) = allocator_stats();
    let peak = server.note_memory(allocated);
    let rss = rss_bytes();
    let startup = server.startup_memory;
    let keyspace = server.engine.keyspace_info();
    let keys: usize = keyspace.iter().map(|&(n, _)| n).sum();
    let clients = server.clients.buffers_memory();
    let aof = server.aof_buffered();
    let net = allocated.saturating_sub(startup);
    let name = |s: &str| Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()));
    let int = |v: u64| Frame::Integer(v as i64);
    let dbl = |v: f64| Frame::Double(v);
    let mut out = vec![
        name("peak.allocated"),
        int(peak),
        name("total.allocated"),
        int(allocated),
        name("startup.allocated"),
        int(startup),
        name("replication.backlog"),
        int(0),
        name("clients.slaves"),
        int(0),
        name("clients.normal"),
        int(clients),
        name("cluster.links"),
        int(0),
        name("aof.buffer"),
        int(aof),
        name("lua.caches"),
        int(0),
        name("functions.caches"),
        int(0),
    ];
    // As Redis: an entry per database that has keys, with the key map's
    // overhead (a 48-byte slot and an 8-byte table entry per key, see KeyMap) and
    // the expiry set's.
    let mut tables = 0u64;
    for (db, &(n, expires)) in keyspace.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let (main, exp) = (n as u64 * 56, expires as u64 * 24);
        tables += main + exp;
        out.push(name(&format!("db.{db}")));
        out.push(Frame::Map(vec![
            (name("overhead.hashtable.main"), int(main)),
            (name("overhead.hashtable.expires"), int(exp)),
        ]));
    }
    let overhead = startup + clients + aof + tables;
    let dataset = allocated.saturating_sub(overhead);
    out.extend([
        name("overhead.total"),
        int(overhead),
        name("keys.count"),
        int(keys as u64),
        name("keys.bytes-per-key"),
        int(if keys > 0 { net / keys as u64 } else { 0 }),
        name("dataset.bytes"),
        int(dataset),
        name("dataset.percentage"),
        dbl(dataset as f64 * 100.0 / net.max(1) as f64),
        name("peak.percentage"),
        dbl(allocated as f64 * 100.0 / peak.max(1) as f64),
        name("allocator.allocated"),
        int(allocated),
        name("allocator.active"),
        int(active),
        name("allocator.resident"),
        int(resident),
        name("allocator-fragmentation.ratio"),
        dbl(active as f64 / allocated.max(1) as f64),
        name("allocator-fragmentation.bytes"),
        int(active.saturating_sub(allocated)),
        name("allocator.rss-ratio"),
        dbl(resident as f64 / active.max(1) as f64),
        name("allocator.rss-bytes"),
        int(resident.saturating_sub(active)),
        name("rss-overhead.ratio"),
        dbl(rss as f64 / resident.max(1) as f64),
        name("rss-overhead.bytes"),
        int(rss.saturating_sub(resident)),
        name("fragmentation"),
        dbl(rss as f64 / allocated.max(1) as f64),
        name("fragmentation.bytes"),
        int(rss.saturating_sub(allocated)),
    ]);
    let mut pairs = Vec::with_capacity(out.len() / 2);
    let mut it = out.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        pairs.push((k, v));
    }
    Frame::Map(pairs)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb * 1024)
}

fn total_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                })
        })
        .map_or(0, |kb| kb * 1024)
}

fn rusage(who: i32) -> (f64, f64) {
    // SAFETY: getrusage writes into the zero-initialised struct we pass and reads
    // nothing else; `who` is one of the RUSAGE_* constants.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(who, &mut ru) };
    if rc != 0 {
        return (0.0, 0.0);
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

fn uname() -> String {
    // SAFETY: uname fills the zero-initialised struct; its fields are
    // NUL-terminated C strings within the struct's arrays.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let f = |a: &[libc::c_char]| {
        let bytes: Vec<u8> = a
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
}

/// The INFO text for the sections asked for in `args`.
pub fn info(server: &Server, args: &[Bytes]) -> String {
    let mut wanted: Vec<String> = Vec::new();
    if args.is_empty() {
        wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
    }
    for a in args {
        let a = String::from_utf8_lossy(a).to_lowercase();
        match a.as_str() {
            "default" => wanted.extend(DEFAULT.iter().map(|s| s.to_string())),
            "all" | "everything" => wanted.extend(ALL.iter().map(|s| s.to_string())),
            _ => wanted.push(a),
        }
    }
    let mut out = String::new();
    for section in ALL {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section_text(server, section, &mut out);
    }
    out
}

fn section_text(server: &Server, section: &str, o: &mut String) {
    let cfg = server.config.read();
    let st = &server.stats;
    let now_ms = server.engine.now_ms();
    let uptime = server.started.elapsed().as_secs();
    macro_rules! f {
        ($k:expr, $v:expr) => {
            let _ = write!(o, "{}:{}\r\n", $k, $v);
        };
    }
    match section {
        "server" => {
            o.push_str("# Server\r\n");
            f!("redis_version", REDIS_VERSION);
            f!("keel_version", env!("CARGO_PKG_VERSION"));
            f!("redis_git_sha1", "00000000");
            f!("redis_git_dirty", 0);
            f!("redis_build_id", "0");
            f!("redis_mode", "standalone");
            f!("os", uname());
            f!("arch_bits", 64);
            f!("monotonic_clock", "POSIX clock_gettime");
            f!("multiplexing_api", "epoll");
            f!("atomicvar_api", "c11-builtin");
            f!("gcc_version", "0.0.0");
            f!("process_id", std::process::id());
            f!("process_supervised", "no");
            f!("run_id", server.run_id);
            f!("tcp_port", server.tcp_port.load(Ordering::Relaxed));
            f!("server_time_usec", server.engine.clock().now_us());
            f!("uptime_in_seconds", uptime);
            f!("uptime_in_days", uptime / 86400);
            f!("hz", server.hot.hz.load(Ordering::Relaxed));
            f!("configured_hz", cfg.get_i64("hz"));
            f!("lru_clock", keel_engine::value::lru_clock(now_ms));
            f!("executable", server.executable);
            f!(
                "config_file",
                cfg.config_file()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            f!("io_threads_active", 0);
            f!("server_threads", cfg.get_i64("server-threads"));
        }
        "clients" => {
            o.push_str("# Clients\r\n");
            f!("connected_clients", server.clients.len());
            f!("cluster_connections", 0);
            f!("maxclients", cfg.get_i64("maxclients"));
            f!("client_recent_max_input_buffer", 0);
            f!("client_recent_max_output_buffer", 0);
            f!("blocked_clients", server.blocking.blocked_clients());
            f!("tracking_clients", 0);
            f!(
                "clients_in_timeout_table",
                server.blocking.blocked_clients()
            );
        }
        "memory" => {
            let (allocated, active, resident) = allocator_stats();
            let rss = rss_bytes();
            let peak = server.note_memory(allocated);
            let maxmemory = cfg.get_u64("maxmemory");
            let total = total_memory();
            o.push_str("# Memory\r\n");
            f!("used_memory", allocated);
            f!("used_memory_human", human_bytes(allocated));
            f!("used_memory_rss", rss);
            f!("used_memory_rss_human", human_bytes(rss));
            f!("used_memory_peak", peak);
            f!("used_memory_peak_human", human_bytes(peak));
            f!(
                "used_memory_peak_perc",
                format!("{:.2}%", allocated as f64 * 100.0 / peak.max(1) as f64)
            );
            f!("used_memory_startup", server.startup_memory);
            let dataset = allocated.saturating_sub(server.startup_memory);
            f!("used_memory_dataset", dataset);
            f!(
                "used_memory_dataset_perc",
                format!("{:.2}%", dataset as f64 * 100.0 / allocated.max(1) as f64)
            );
            f!("allocator_allocated", allocated);
            f!("allocator_active", active);
            f!("allocator_resident", resident);
            f!("total_system_memory", total);
            f!("total_system_memory_human", human_bytes(total));
            f!("maxmemory", maxmemory);
            f!("maxmemory_human", human_bytes(maxmemory));
            f!("maxmemory_policy", cfg.get_str("maxmemory-policy"));
            f!(
                "allocator_frag_ratio",
                format!("{:.2}", active as f64 / allocated.max(1) as f64)
            );
            f!("allocator_frag_bytes", active.saturating_sub(allocated));
            f!(
                "allocator_rss_ratio",
                format!("{:.2}", resident as f64 / active.max(1) as f64)
            );
            f!(
                "rss_overhead_ratio",
                format!("{:.2}", rss as f64 / resident.max(1) as f64)
            );
            f!(
                "mem_fragmentation_ratio",
                format!("{:.2}", rss as f64 / allocated.max(1) as f64)
            );
            f!("mem_fragmentation_bytes", rss as i64 - allocated as i64);
            let aof_buffer = server.aof_buffered();
            f!("mem_not_counted_for_evict", aof_buffer);
            f!("mem_replication_backlog", 0);
            f!("mem_clients_slaves", 0);
            f!("mem_clients_normal", server.clients.buffers_memory());
            f!("mem_aof_buffer", aof_buffer);
            f!("mem_allocator", "jemalloc-5.3.0");
            f!("active_defrag_running", 0);
            f!("lazyfree_pending_objects", 0);
            f!("lazyfreed_objects", 0);
        }
        "persistence" => {
            o.push_str("# Persistence\r\n");
            f!("loading", server.engine.is_loading() as u8);
            f!("async_loading", 0);
            f!("current_cow_peak", 0);
            f!("current_cow_size", 0);
            f!("current_cow_size_age", 0);
            f!("current_fork_perc", "0.00");
            f!("current_save_keys_processed", 0);
            f!("current_save_keys_total", 0);
            f!("rdb_changes_since_last_save", server.engine.dirty());
            f!("rdb_bgsave_in_progress", 0);
            f!(
                "rdb_last_save_time",
                server.lastsave.load(Ordering::Relaxed)
            );
            f!("rdb_last_bgsave_status", "ok");
            f!("rdb_last_bgsave_time_sec", -1);
            f!("rdb_current_bgsave_time_sec", -1);
            f!("rdb_saves", 0);
            f!("rdb_last_cow_size", 0);
            f!("rdb_last_load_keys_expired", 0);
            f!("rdb_last_load_keys_loaded", 0);
            for (k, v) in crate::aof::info_fields(server) {
                f!(k, v);
            }
            f!("module_fork_in_progress", 0);
            f!("module_fork_last_cow_size", 0);
        }
        "stats" => {
            let es = server.engine.stats();
            let (ops, inkbps, outkbps) = server.instantaneous();
            o.push_str("# Stats\r\n");
            f!(
                "total_connections_received",
                st.connections_received.load(Ordering::Relaxed)
            );
            f!(
                "total_commands_processed",
                st.commands_processed.load(Ordering::Relaxed)
            );
            f!("instantaneous_ops_per_sec", ops);
            f!(
                "total_net_input_bytes",
                st.net_input_bytes.load(Ordering::Relaxed)
            );
            f!(
                "total_net_output_bytes",
                st.net_output_bytes.load(Ordering::Relaxed)
            );
            f!("total_net_repl_input_bytes", 0);
            f!("total_net_repl_output_bytes", 0);
            f!("instantaneous_input_kbps", format!("{inkbps:.2}"));
            f!("instantaneous_output_kbps", format!("{outkbps:.2}"));
            f!("instantaneous_input_repl_kbps", "0.00");
            f!("instantaneous_output_repl_kbps", "0.00");
            f!(
                "rejected_connections",
                st.rejected_connections.load(Ordering::Relaxed)
            );
            f!("sync_full", 0);
            f!("sync_partial_ok", 0);
            f!("sync_partial_err", 0);
            f!("expired_keys", es.expired_keys);
            f!(
                "expired_stale_perc",
                format!(
                    "{:.2}",
                    keel_engine::expire::expired_stale_perc(&server.engine) * 100.0
                )
            );
            f!("expired_time_cap_reached_count", 0);
            f!(
                "expire_cycle_cpu_milliseconds",
                st.expire_cycle_cpu_ms.load(Ordering::Relaxed)
            );
            f!(
                "evicted_keys",
                server
                    .engine
                    .evict_settings()
                    .evicted_keys
                    .load(Ordering::Relaxed)
            );
            f!("evicted_clients", 0);
            f!("total_eviction_exceeded_time", 0);
            f!("current_eviction_exceeded_time", 0);
            f!("keyspace_hits", es.keyspace_hits);
            f!("keyspace_misses", es.keyspace_misses);
            let (channels, patterns, shard) = server.pubsub.counts();
            f!("pubsub_channels", channels);
            f!("pubsub_patterns", patterns);
            f!("pubsubshard_channels", shard);
            f!("latest_fork_usec", 0);
            f!("total_forks", 0);
            f!("migrate_cached_sockets", 0);
            f!("slave_expires_tracked_keys", 0);
            f!("active_defrag_hits", 0);
            f!("active_defrag_misses", 0);
            f!("active_defrag_key_hits", 0);
            f!("active_defrag_key_misses", 0);
            f!("total_active_defrag_time", 0);
            f!("current_active_defrag_time", 0);
            f!("tracking_total_keys", 0);
            f!("tracking_total_items", 0);
            f!("tracking_total_prefixes", 0);
            f!("unexpected_error_replies", 0);
            f!(
                "total_error_replies",
                st.error_replies.load(Ordering::Relaxed)
            );
            f!("dump_payload_sanitizations", 0);
            f!("total_reads_processed", 0);
            f!("total_writes_processed", 0);
            f!("io_threaded_reads_processed", 0);
            f!("io_threaded_writes_processed", 0);
            f!(
                "client_query_buffer_limit_disconnections",
                st.client_query_buffer_limit_disconnections
                    .load(Ordering::Relaxed)
            );
            f!(
                "client_output_buffer_limit_disconnections",
                server.pubsub.obuf_disconnections.load(Ordering::Relaxed)
            );
        }
        "replication" => {
            o.push_str("# Replication\r\n");
            f!("role", "master");
            f!("connected_slaves", 0);
            f!("master_failover_state", "no-failover");
            f!("master_replid", server.run_id);
            f!("master_replid2", "0000000000000000000000000000000000000000");
            f!("master_repl_offset", 0);
            f!("second_repl_offset", -1);
            f!("repl_backlog_active", 0);
            f!("repl_backlog_size", 1048576);
            f!("repl_backlog_first_byte_offset", 0);
            f!("repl_backlog_histlen", 0);
        }
        "cpu" => {
            let (sys, user) = rusage(libc::RUSAGE_SELF);
            let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
            o.push_str("# CPU\r\n");
            f!("used_cpu_sys", format!("{sys:.6}"));
            f!("used_cpu_user", format!("{user:.6}"));
            f!("used_cpu_sys_children", format!("{csys:.6}"));
            f!("used_cpu_user_children", format!("{cuser:.6}"));
        }
        "modules" => o.push_str("# Modules\r\n"),
        "commandstats" => {
            o.push_str("# Commandstats\r\n");
            for c in keel_engine::table().every() {
                let s = &server.cmdstats[c.id];
                let calls = s.calls.load(Ordering::Relaxed);
                let rejected = s.rejected.load(Ordering::Relaxed);
                let failed = s.failed.load(Ordering::Relaxed);
                if calls == 0 && rejected == 0 && failed == 0 {
                    continue;
                }
                let usec = s.usec.load(Ordering::Relaxed);
                let _ = write!(
                    o,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                    c.name(),
                    calls,
                    usec,
                    usec as f64 / calls.max(1) as f64,
                    rejected,
                    failed
                );
            }
        }
        "errorstats" => {
            o.push_str("# Errorstats\r\n");
            let e = server.errorstats.lock();
            let mut v: Vec<_> = e.iter().collect();
            v.sort();
            for (code, n) in v {
                let _ = write!(o, "errorstat_{code}:count={n}\r\n");
            }
        }
        "cluster" => {
            o.push_str("# Cluster\r\n");
            f!("cluster_enabled", 0);
        }
        "keyspace" => {
            o.push_str("# Keyspace\r\n");
            for (db, (keys, expires)) in server.engine.keyspace_info().into_iter().enumerate() {
                if keys > 0 {
                    let _ = write!(o, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
                }
            }
        }
        _ => {}
    }
}
