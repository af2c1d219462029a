//! The option registry: one static table describing every configuration option
//! of Redis 7.0 (everything `CONFIG GET *` returns, the hidden test knobs, and the
//! directives documented in redis.conf), plus keel's own options.
//!
//! `default` is keel's default written the way `CONFIG GET` prints it; where it
//! differs from Redis 7.0's, `redis_default` holds Redis's.

/// What keel does with an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// keel implements the option.
    Honoured,
    /// Tunes a Redis internal keel does not have: accepted, validated and stored
    /// (CONFIG GET/SET/REWRITE work) but it changes nothing.
    Ignored,
    /// Belongs to a feature keel does not have yet: accepted only while the value
    /// keeps the feature off (keel's default); anything else is refused.
    Unsupported,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Honoured => "honoured",
            Class::Ignored => "ignored",
            Class::Unsupported => "unsupported-feature",
        }
    }
}

/// How a numeric option is spelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumFormat {
    /// Plain integer (Redis `string2ll`).
    Plain,
    /// Memory value with optional unit (Redis `memtoull`).
    Memory,
    /// Memory value or `N%` (maxmemory-clients).
    MemoryOrPercent,
    /// Octal number (unixsocketperm).
    Octal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumSpec {
    pub min: i128,
    pub max: i128,
    /// The C type behind the option is unsigned (affects how a huge memory value
    /// wraps, exactly like Redis).
    pub unsigned: bool,
    pub format: NumFormat,
    /// Stored value is clamped into this range after validation (hz).
    pub clamp: Option<(i64, i64)>,
}

/// Extra validation of string options, with Redis's error texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrCheck {
    None,
    /// dbfilename: no `/` or `\`.
    DbFilename,
    /// appendfilename: not empty, no path.
    AofFilename,
    /// appenddirname: not empty, no path.
    AofDirname,
    /// cluster-announce-hostname.
    Hostname,
    /// proc-title-template.
    ProcTitle,
}

/// Extra validation of enum options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnumCheck {
    None,
    /// shutdown-on-sigint / shutdown-on-sigterm: not both save and nosave.
    SaveNosave,
}

/// Options whose syntax is not a single scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    ReplicaOf,
    LatencyTrackingInfoPercentiles,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    Num(NumSpec),
    /// One of `values` (case-insensitive); with `flags`, one or more of them,
    /// OR-ed together as bit flags.
    Enum {
        values: &'static [(&'static str, u32)],
        flags: bool,
        check: EnumCheck,
    },
    /// Free string. `empty_is_null`: an empty value means "unset" (not written
    /// back by CONFIG REWRITE).
    Str {
        empty_is_null: bool,
        check: StrCheck,
    },
    Special(Special),
}

/// One configuration option.
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    /// keel's default, formatted as CONFIG GET shows it. For `dir` this is "."
    /// and CONFIG GET shows the absolute path.
    pub default: &'static str,
    /// Redis 7.0's default where it differs from keel's.
    pub redis_default: Option<&'static str>,
    /// Can be changed with CONFIG SET.
    pub mutable: bool,
    /// CONFIG SET needs `enable-protected-configs` (dir, dbfilename).
    pub protected: bool,
    /// Value must be redacted from logs (passwords).
    pub sensitive: bool,
    /// Not matched by CONFIG GET patterns (Redis's hidden test knobs).
    pub hidden: bool,
    pub class: Class,
    /// For unsupported options: why the value is refused and what to write instead.
    pub reason: &'static str,
    /// One line, in keel's words, on what keel does with the option.
    pub doc: &'static str,
}

impl OptionSpec {
    /// Takes several arguments in a config file; CONFIG SET splits its value on spaces.
    pub fn multi_arg(&self) -> bool {
        match self.kind {
            Kind::Enum { flags, .. } => flags,
            Kind::Special(s) => matches!(
                s,
                Special::Save
                    | Special::ClientOutputBufferLimit
                    | Special::OomScoreAdjValues
                    | Special::Bind
                    | Special::ReplicaOf
                    | Special::LatencyTrackingInfoPercentiles
            ),
            _ => false,
        }
    }

    const fn new(
        name: &'static str,
        kind: Kind,
        default: &'static str,
        class: Class,
        doc: &'static str,
    ) -> Self {
        OptionSpec {
            name,
            alias: None,
            kind,
            default,
            redis_default: None,
            mutable: true,
            protected: false,
            sensitive: false,
            hidden: false,
            class,
            reason: "",
            doc,
        }
    }
    const fn alias(self, alias: &'static str) -> Self {
        OptionSpec {
            alias: Some(alias),
            ..self
        }
    }
    const fn immutable(self) -> Self {
        OptionSpec {
            mutable: false,
            ..self
        }
    }
    const fn protected(self) -> Self {
        OptionSpec {
            protected: true,
            ..self
        }
    }
    const fn sensitive(self) -> Self {
        OptionSpec {
            sensitive: true,
            ..self
        }
    }
    const fn hidden(self) -> Self {
        OptionSpec {
            hidden: true,
            ..self
        }
    }
    const fn redis_default(self, d: &'static str) -> Self {
        OptionSpec {
            redis_default: Some(d),
            ..self
        }
    }
    const fn reason(self, r: &'static str) -> Self {
        OptionSpec { reason: r, ..self }
    }
}

use Class::{Honoured as H, Ignored as I, Unsupported as U};

const INT_MIN: i128 = i32::MIN as i128;
const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const LLONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;

const fn boolean(
    name: &'static str,
    default: &'static str,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(name, Kind::Bool, default, class, doc)
}
const fn num(min: i128, max: i128, unsigned: bool, format: NumFormat) -> Kind {
    Kind::Num(NumSpec {
        min,
        max,
        unsigned,
        format,
        clamp: None,
    })
}
const fn int(
    name: &'static str,
    min: i128,
    max: i128,
    default: &'static str,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(
        name,
        num(min, max, false, NumFormat::Plain),
        default,
        class,
        doc,
    )
}
const fn uint(
    name: &'static str,
    min: i128,
    max: i128,
    default: &'static str,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(
        name,
        num(min, max, true, NumFormat::Plain),
        default,
        class,
        doc,
    )
}
/// Memory option stored in a signed C type.
const fn smem(
    name: &'static str,
    min: i128,
    max: i128,
    default: &'static str,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(
        name,
        num(min, max, false, NumFormat::Memory),
        default,
        class,
        doc,
    )
}
/// Memory option stored in an unsigned C type.
const fn umem(
    name: &'static str,
    min: i128,
    max: i128,
    default: &'static str,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(
        name,
        num(min, max, true, NumFormat::Memory),
        default,
        class,
        doc,
    )
}
const fn enumeration(
    name: &'static str,
    values: &'static [(&'static str, u32)],
    default: &'static str,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(
        name,
        Kind::Enum {
            values,
            flags: false,
            check: EnumCheck::None,
        },
        default,
        class,
        doc,
    )
}
/// String option where "" means unset.
const fn nstr(name: &'static str, class: Class, doc: &'static str) -> OptionSpec {
    OptionSpec::new(
        name,
        Kind::Str {
            empty_is_null: true,
            check: StrCheck::None,
        },
        "",
        class,
        doc,
    )
}
/// String option where "" is a real value.
const fn estr(
    name: &'static str,
    default: &'static str,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(
        name,
        Kind::Str {
            empty_is_null: false,
            check: StrCheck::None,
        },
        default,
        class,
        doc,
    )
}
const fn checked_str(
    name: &'static str,
    default: &'static str,
    check: StrCheck,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(
        name,
        Kind::Str {
            empty_is_null: false,
            check,
        },
        default,
        class,
        doc,
    )
}
const fn special(
    name: &'static str,
    s: Special,
    default: &'static str,
    class: Class,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec::new(name, Kind::Special(s), default, class, doc)
}

const SUPERVISED: &[(&str, u32)] = &[("upstart", 1), ("systemd", 2), ("auto", 3), ("no", 0)];
const SYSLOG_FACILITY: &[(&str, u32)] = &[
    ("user", 8),
    ("local0", 128),
    ("local1", 136),
    ("local2", 144),
    ("local3", 152),
    ("local4", 160),
    ("local5", 168),
    ("local6", 176),
    ("local7", 184),
];
const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const LOGLEVEL: &[(&str, u32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const MAXMEMORY_POLICY: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const APPENDFSYNC: &[(&str, u32)] = &[("everysec", 2), ("always", 1), ("no", 0)];
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const ENDPOINT_TYPE: &[(&str, u32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR: &[(&str, u32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
const SHUTDOWN_ON_SIG: &[(&str, u32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];
const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const AOF_LOAD_CORRUPT: &[(&str, u32)] = &[("refuse", 0), ("salvage", 1)];

const fn shutdown_on_sig(name: &'static str) -> OptionSpec {
    OptionSpec::new(
        name,
        Kind::Enum { values: SHUTDOWN_ON_SIG, flags: true, check: EnumCheck::SaveNosave },
        "default",
        I,
        "Accepted and stored; on this signal keel always flushes the AOF and exits (it has no RDB to save).",
    )
}

const HZ_KIND: Kind = Kind::Num(NumSpec {
    min: 0,
    max: INT_MAX,
    unsigned: false,
    format: NumFormat::Plain,
    clamp: Some((1, 500)),
});

const TLS: &str =
    "TLS is not supported by keel yet; leave every tls-* option at its default (tls-port 0)";
const REPL: &str = "Replication tuning; keel has no replication yet, so the value is only stored.";
const CLUSTER: &str = "Cluster tuning; keel has no cluster mode yet, so the value is only stored.";
const DEFRAG: &str =
    "Active defragmentation tuning; keel's allocator does its own housekeeping, value only stored.";
const LAZYFREE: &str = "keel already frees large values in the background; value only stored.";
const CPULIST: &str = "CPU affinity of a Redis thread keel does not have; value only stored.";

/// Every option keel knows, canonical names first in a stable order.
pub static OPTIONS: &[OptionSpec] = &[
    // ---- network --------------------------------------------------------------
    special("bind", Special::Bind, "127.0.0.1 -::1", H,
        "Addresses keel listens on; a leading `-` marks an address whose failure to bind is not fatal.")
        .redis_default("* -::*"),
    nstr("bind-source-addr", I, "Source address for outgoing replication connections; keel makes none."),
    boolean("protected-mode", "yes", H,
        "Without a password and with a non-loopback bind, only loopback clients are served."),
    int("port", 0, 65535, "6379", H, "TCP port; 0 disables the TCP listener. CONFIG SET rebinds."),
    int("tcp-backlog", 0, INT_MAX, "511", H, "listen() backlog of the TCP sockets.").immutable(),
    nstr("unixsocket", U, "Path of a Unix domain socket to listen on.")
        .immutable()
        .reason("Unix domain sockets are not supported by keel yet; use `unixsocket \"\"`"),
    OptionSpec::new("unixsocketperm", num(0, 0o777, true, NumFormat::Octal), "0", I,
        "Permissions of the Unix socket; keel opens none.").immutable(),
    int("timeout", 0, INT_MAX, "0", H, "Close a client idle for this many seconds (0 = never)."),
    int("tcp-keepalive", 0, INT_MAX, "300", H, "TCP keepalive interval in seconds for client sockets (0 = off)."),
    uint("socket-mark-id", 0, UINT_MAX, "0", I, "SO_MARK for listening sockets; keel does not set it.").immutable(),
    // ---- TLS --------------------------------------------------------------------
    int("tls-port", 0, 65535, "0", U, "TLS listener port.").reason(TLS),
    nstr("tls-cert-file", U, "TLS server certificate.").reason(TLS),
    nstr("tls-key-file", U, "TLS server private key.").reason(TLS),
    nstr("tls-key-file-pass", U, "Passphrase of the TLS key.").sensitive().reason(TLS),
    nstr("tls-client-cert-file", U, "TLS client certificate.").reason(TLS),
    nstr("tls-client-key-file", U, "TLS client private key.").reason(TLS),
    nstr("tls-client-key-file-pass", U, "Passphrase of the TLS client key.").sensitive().reason(TLS),
    nstr("tls-dh-params-file", U, "DH parameters for TLS.").reason(TLS),
    nstr("tls-ca-cert-file", U, "CA bundle for TLS peer verification.").reason(TLS),
    nstr("tls-ca-cert-dir", U, "CA directory for TLS peer verification.").reason(TLS),
    enumeration("tls-auth-clients", TLS_AUTH_CLIENTS, "yes", U, "TLS client certificate requirement.").reason(TLS),
    boolean("tls-replication", "no", U, "TLS on replication links.").reason(TLS),
    boolean("tls-cluster", "no", U, "TLS on the cluster bus.").reason(TLS),
    nstr("tls-protocols", U, "Allowed TLS protocol versions.").reason(TLS),
    nstr("tls-ciphers", U, "TLS 1.2 cipher list.").reason(TLS),
    nstr("tls-ciphersuites", U, "TLS 1.3 cipher suites.").reason(TLS),
    boolean("tls-prefer-server-ciphers", "no", U, "Server cipher preference for TLS.").reason(TLS),
    boolean("tls-session-caching", "yes", U, "TLS session caching.").reason(TLS),
    int("tls-session-cache-size", 0, INT_MAX, "20480", U, "TLS session cache size.").reason(TLS),
    int("tls-session-cache-timeout", 0, INT_MAX, "300", U, "TLS session cache timeout.").reason(TLS),
    // ---- general ----------------------------------------------------------------
    boolean("daemonize", "no", I,
        "keel never forks into the background; run it under a supervisor instead. `yes` is accepted and logged.")
        .immutable(),
    enumeration("supervised", SUPERVISED, "no", H,
        "Supervision mode; with systemd (or auto under systemd) keel sends READY=1 to $NOTIFY_SOCKET.")
        .immutable(),
    nstr("pidfile", H, "File keel writes its process id to at start-up and removes on clean exit.").immutable(),
    enumeration("loglevel", LOGLEVEL, "notice", H, "Minimum severity keel logs."),
    estr("logfile", "", H, "Log file path; empty logs to standard output.").immutable(),
    boolean("syslog-enabled", "no", U, "Logging to syslog.")
        .immutable()
        .reason("logging to syslog is not supported by keel yet; use `syslog-enabled no` and `logfile`"),
    estr("syslog-ident", "redis", I, "Syslog identity; keel does not log to syslog.").immutable(),
    enumeration("syslog-facility", SYSLOG_FACILITY, "local0", I, "Syslog facility; keel does not log to syslog.")
        .immutable(),
    boolean("crash-log-enabled", "yes", I, "keel's crash handling is Rust's panic report; value only stored."),
    boolean("crash-memcheck-enabled", "yes", I, "keel runs no memory test after a crash; value only stored."),
    int("databases", 1, INT_MAX, "16", H, "Number of logical databases (SELECT 0..n-1).").immutable(),
    boolean("always-show-logo", "no", I, "keel prints no ASCII-art logo.").immutable(),
    boolean("set-proc-title", "yes", I, "keel does not rewrite its process title.").immutable(),
    checked_str("proc-title-template", "{title} {listen-addr} {server-mode}", StrCheck::ProcTitle, I,
        "Validated like Redis but keel does not rewrite its process title."),
    enumeration("enable-protected-configs", PROTECTED_ACTION, "no", H,
        "Whether CONFIG SET may change protected options (dir, dbfilename); `local` allows loopback clients.")
        .immutable(),
    enumeration("enable-debug-command", PROTECTED_ACTION, "no", I, "Stored only; keel does not gate DEBUG on it yet.")
        .immutable(),
    enumeration("enable-module-command", PROTECTED_ACTION, "no", I, "keel has no MODULE command; value only stored.")
        .immutable(),
    estr("ignore-warnings", "", I, "keel has no start-up warnings to silence; value only stored."),
    // ---- snapshotting -------------------------------------------------------------
    special("save", Special::Save, "", U, "RDB snapshot points.")
        .redis_default("3600 1 300 100 60 10000")
        .reason("RDB snapshots (save points) are not supported by keel yet; use `save \"\"` (keel persists with the AOF)"),
    boolean("stop-writes-on-bgsave-error", "yes", I, "keel never runs BGSAVE; value only stored."),
    boolean("rdbcompression", "yes", I, "RDB compression; keel writes no RDB files."),
    boolean("rdbchecksum", "yes", I, "RDB checksums; keel writes no RDB files.").immutable(),
    checked_str("dbfilename", "dump.rdb", StrCheck::DbFilename, I, "RDB file name; keel writes no RDB files.")
        .protected(),
    boolean("rdb-del-sync-files", "no", I, "RDB files made for replication; keel makes none."),
    special("dir", Special::Dir, ".", H,
        "Working directory for the AOF directory and other files; CONFIG GET shows it as an absolute path.")
        .protected(),
    // ---- replication ----------------------------------------------------------------
    special("replicaof", Special::ReplicaOf, "", U, "Makes this server a replica of another.")
        .alias("slaveof")
        .immutable()
        .reason("replication (replicaof/slaveof) is not supported by keel yet; remove the directive"),
    nstr("masterauth", I, "Password for a master; keel has no replication.").sensitive(),
    nstr("masteruser", I, "User name for a master; keel has no replication.").sensitive(),
    boolean("replica-serve-stale-data", "yes", I, REPL).alias("slave-serve-stale-data"),
    boolean("replica-read-only", "yes", I, REPL).alias("slave-read-only"),
    boolean("repl-diskless-sync", "yes", I, REPL),
    int("repl-diskless-sync-delay", 0, INT_MAX, "5", I, REPL),
    int("repl-diskless-sync-max-replicas", 0, INT_MAX, "0", I, REPL),
    enumeration("repl-diskless-load", REPL_DISKLESS_LOAD, "disabled", I, REPL),
    int("repl-ping-replica-period", 1, INT_MAX, "10", I, REPL).alias("repl-ping-slave-period"),
    int("repl-timeout", 1, INT_MAX, "60", I, REPL),
    boolean("repl-disable-tcp-nodelay", "no", I, REPL),
    smem("repl-backlog-size", 1, LLONG_MAX, "1048576", I, REPL),
    int("repl-backlog-ttl", 0, LONG_MAX, "3600", I, REPL),
    int("replica-priority", 0, INT_MAX, "100", I, REPL).alias("slave-priority"),
    boolean("replica-announced", "yes", I, REPL),
    int("min-replicas-to-write", 0, INT_MAX, "0", U, "Refuse writes unless this many replicas are connected.")
        .alias("min-slaves-to-write")
        .reason("replication is not supported by keel yet, so min-replicas-to-write must stay 0"),
    int("min-replicas-max-lag", 0, INT_MAX, "10", I, REPL).alias("min-slaves-max-lag"),
    nstr("replica-announce-ip", I, REPL).alias("slave-announce-ip"),
    int("replica-announce-port", 0, 65535, "0", I, REPL).alias("slave-announce-port"),
    boolean("replica-ignore-maxmemory", "yes", I, REPL).alias("slave-ignore-maxmemory"),
    boolean("replica-lazy-flush", "no", I, REPL).alias("slave-lazy-flush"),
    boolean("replica-ignore-disk-write-errors", "no", I, REPL),
    enumeration("propagation-error-behavior", PROPAGATION_ERROR, "ignore", I, REPL),
    // ---- keys tracking, security, clients ---------------------------------------------
    uint("tracking-table-max-keys", 0, LONG_MAX, "1000000", I, "Client-side caching table size; value only stored."),
    uint("acllog-max-len", 0, LONG_MAX, "128", I, "ACL log length; keel has no ACL log yet, value only stored."),
    estr("aclfile", "", U, "External ACL user file.")
        .immutable()
        .reason("ACL files are not supported by keel yet; use requirepass"),
    enumeration("acl-pubsub-default", ACL_PUBSUB_DEFAULT, "resetchannels", I,
        "Default channel permissions of new ACL users; keel has no ACL users yet."),
    nstr("requirepass", H, "Password clients must send with AUTH; empty means no password.").sensitive(),
    uint("maxclients", 1, UINT_MAX, "10000", H, "Maximum number of simultaneously connected clients."),
    // ---- memory management -----------------------------------------------------------
    umem("maxmemory", 0, ULLONG_MAX, "0", H, "Memory limit (0 = none): past it keel evicts keys by maxmemory-policy, or, under noeviction, commands that add data get -OOM."),
    enumeration("maxmemory-policy", MAXMEMORY_POLICY, "noeviction", H, "What to evict when maxmemory is reached (every Redis policy; also applied while loading the AOF)."),
    int("maxmemory-samples", 1, INT_MAX, "5", H, "Keys sampled per eviction round (approximate LRU/LFU/TTL)."),
    int("maxmemory-eviction-tenacity", 0, 100, "10", H, "How long one eviction round may run before the command goes ahead (Redis's scale)."),
    int("lfu-log-factor", 0, INT_MAX, "10", H, "How slowly the LFU access counter grows (allkeys-lfu, volatile-lfu)."),
    int("lfu-decay-time", 0, INT_MAX, "1", H, "Minutes of idleness per unit the LFU access counter decays (0 = never)."),
    OptionSpec::new("maxmemory-clients", num(-100, i64::MAX as i128, false, NumFormat::MemoryOrPercent), "0", U,
        "Evict clients when their buffers use this much memory.")
        .reason("client eviction (maxmemory-clients) is not supported by keel yet; use 0"),
    // ---- lazy freeing ------------------------------------------------------------------
    boolean("lazyfree-lazy-eviction", "no", I, LAZYFREE),
    boolean("lazyfree-lazy-expire", "no", I, LAZYFREE),
    boolean("lazyfree-lazy-server-del", "no", I, LAZYFREE),
    boolean("lazyfree-lazy-user-del", "no", I, LAZYFREE),
    boolean("lazyfree-lazy-user-flush", "no", I, LAZYFREE),
    // ---- threads, kernel -----------------------------------------------------------------
    int("io-threads", 1, 128, "1", I, "keel sizes its own threads with server-threads.").immutable(),
    boolean("io-threads-do-reads", "no", I, "keel's threads always read and parse requests.").immutable(),
    enumeration("oom-score-adj", OOM_SCORE_ADJ, "no", I, "keel does not change its OOM score."),
    special("oom-score-adj-values", Special::OomScoreAdjValues, "0 200 800", I, "keel does not change its OOM score."),
    boolean("disable-thp", "yes", I, "keel does not touch transparent huge pages.").immutable(),
    estr("server_cpulist", "", I, CPULIST).immutable(),
    estr("bio_cpulist", "", I, CPULIST).immutable(),
    estr("aof_rewrite_cpulist", "", I, CPULIST).immutable(),
    estr("bgsave_cpulist", "", I, CPULIST).immutable(),
    // ---- append only file --------------------------------------------------------------
    boolean("appendonly", "yes", H, "Append-only file persistence; on by default in keel.").redis_default("no"),
    checked_str("appendfilename", "appendonly.aof", StrCheck::AofFilename, H, "Base name of the AOF files.")
        .immutable(),
    checked_str("appenddirname", "appendonlydir", StrCheck::AofDirname, H, "Directory (inside dir) holding the AOF files.")
        .immutable(),
    enumeration("appendfsync", APPENDFSYNC, "everysec", H, "When keel fsyncs the AOF: always, everysec or no."),
    boolean("no-appendfsync-on-rewrite", "no", I, "keel keeps its fsync policy during AOF rewrites."),
    int("auto-aof-rewrite-percentage", 0, INT_MAX, "100", H, "Rewrite the AOF when it grew by this percentage (0 = never)."),
    smem("auto-aof-rewrite-min-size", 0, LLONG_MAX, "67108864", H, "Minimum AOF size before an automatic rewrite."),
    boolean("aof-load-truncated", "yes", H, "Load an AOF whose last command is cut short (and truncate it)."),
    boolean("aof-use-rdb-preamble", "yes", H, "Accepted; keel's AOF base file is written in RESP for now."),
    boolean("aof-timestamp-enabled", "no", H, "Write #TS timestamp annotations into the AOF."),
    boolean("aof-rewrite-incremental-fsync", "yes", I, "keel chooses its own fsync cadence while rewriting."),
    boolean("rdb-save-incremental-fsync", "yes", I, "keel writes no RDB files."),
    boolean("aof-disable-auto-gc", "no", I, "Stored only; keel removes superseded AOF history files itself."),
    OptionSpec::new("aof-load-corrupt", Kind::Enum { values: AOF_LOAD_CORRUPT, flags: false, check: EnumCheck::None },
        "refuse", H,
        "keel's own: on a corrupt AOF, `refuse` to start (default) or `salvage` the valid prefix."),
    // ---- scripting, shutdown ----------------------------------------------------------
    int("busy-reply-threshold", 0, LONG_MAX, "5000", I, "Busy-script threshold; value only stored.").alias("lua-time-limit"),
    shutdown_on_sig("shutdown-on-sigint"),
    shutdown_on_sig("shutdown-on-sigterm"),
    int("shutdown-timeout", 0, INT_MAX, "10", I, "Grace period for replicas at shutdown; keel has none."),
    // ---- cluster -------------------------------------------------------------------------
    boolean("cluster-enabled", "no", U, "Redis Cluster mode.")
        .immutable()
        .reason("cluster mode is not supported by keel yet; use `cluster-enabled no`"),
    estr("cluster-config-file", "nodes.conf", I, CLUSTER).immutable(),
    int("cluster-node-timeout", 0, LLONG_MAX, "15000", I, CLUSTER),
    int("cluster-port", 0, 65535, "0", I, CLUSTER).immutable(),
    int("cluster-replica-validity-factor", 0, INT_MAX, "10", I, CLUSTER).alias("cluster-slave-validity-factor"),
    int("cluster-migration-barrier", 0, INT_MAX, "1", I, CLUSTER),
    boolean("cluster-allow-replica-migration", "yes", I, CLUSTER),
    boolean("cluster-require-full-coverage", "yes", I, CLUSTER),
    boolean("cluster-replica-no-failover", "no", I, CLUSTER).alias("cluster-slave-no-failover"),
    boolean("cluster-allow-reads-when-down", "no", I, CLUSTER),
    boolean("cluster-allow-pubsubshard-when-down", "yes", I, CLUSTER),
    umem("cluster-link-sendbuf-limit", 0, ULLONG_MAX, "0", I, CLUSTER),
    nstr("cluster-announce-ip", I, CLUSTER),
    OptionSpec::new("cluster-announce-hostname", Kind::Str { empty_is_null: true, check: StrCheck::Hostname }, "", I,
        CLUSTER),
    int("cluster-announce-port", 0, 65535, "0", I, CLUSTER),
    int("cluster-announce-bus-port", 0, 65535, "0", I, CLUSTER),
    int("cluster-announce-tls-port", 0, 65535, "0", I, CLUSTER),
    enumeration("cluster-preferred-endpoint-type", ENDPOINT_TYPE, "ip", I, CLUSTER),
    // ---- slow log, latency ------------------------------------------------------------------
    int("slowlog-log-slower-than", -1, LLONG_MAX, "10000", H,
        "Commands slower than this many microseconds go to the slow log (-1 = off, 0 = all)."),
    uint("slowlog-max-len", 0, LONG_MAX, "128", H, "Slow log length."),
    int("latency-monitor-threshold", 0, LLONG_MAX, "0", H,
        "Events slower than this many milliseconds are recorded by LATENCY (0 = off)."),
    boolean("latency-tracking", "yes", I, "Per-command latency histograms; value only stored."),
    special("latency-tracking-info-percentiles", Special::LatencyTrackingInfoPercentiles, "50 99 99.9", I,
        "Percentiles of the per-command latency histograms; value only stored."),
    // ---- events ---------------------------------------------------------------------------------
    special("notify-keyspace-events", Special::NotifyKeyspaceEvents, "", H,
        "Which keyspace notifications keel publishes (Redis's K E g $ l s h z x e t m d n A flags)."),
    // ---- encodings --------------------------------------------------------------------------
    uint("hash-max-listpack-entries", 0, LONG_MAX, "512", H, "Small-hash encoding limit (entries).")
        .alias("hash-max-ziplist-entries"),
    umem("hash-max-listpack-value", 0, LONG_MAX, "64", H, "Small-hash encoding limit (bytes per field or value).")
        .alias("hash-max-ziplist-value"),
    int("list-max-listpack-size", INT_MIN, INT_MAX, "-2", H,
        "List node size: positive = entries per node, -1..-5 = 4kb..64kb per node.")
        .alias("list-max-ziplist-size"),
    int("list-compress-depth", 0, INT_MAX, "0", H, "List nodes kept uncompressed at each end (0 = no compression)."),
    uint("set-max-intset-entries", 0, LONG_MAX, "512", H, "Integer-set encoding limit (entries)."),
    uint("zset-max-listpack-entries", 0, LONG_MAX, "128", H, "Small sorted-set encoding limit (entries).")
        .alias("zset-max-ziplist-entries"),
    umem("zset-max-listpack-value", 0, LONG_MAX, "64", H, "Small sorted-set encoding limit (bytes per member).")
        .alias("zset-max-ziplist-value"),
    umem("hll-sparse-max-bytes", 0, LONG_MAX, "3000", H,
        "Largest sparse HyperLogLog (bytes, header included) before it turns dense."),
    umem("stream-node-max-bytes", 0, LONG_MAX, "4096", I, "Stream node size; keel lays out streams its own way."),
    int("stream-node-max-entries", 0, LLONG_MAX, "100", I, "Stream node size; keel lays out streams its own way."),
    // ---- housekeeping --------------------------------------------------------------------------
    boolean("activerehashing", "yes", I, "keel's hash tables rehash on their own; value only stored."),
    special("client-output-buffer-limit", Special::ClientOutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", H,
        "Disconnect a client whose pending output passes the hard limit, or the soft limit for too long."),
    OptionSpec::new("hz", HZ_KIND, "10", H, "Background task frequency (clamped to 1..500, like Redis)."),
    boolean("dynamic-hz", "yes", H, "Raise the background frequency with many clients."),
    boolean("jemalloc-bg-thread", "yes", H, "jemalloc's background thread, which returns freed pages to the OS."),
    smem("proto-max-bulk-len", 1024 * 1024, LONG_MAX, "536870912", H, "Largest bulk string a request may carry."),
    umem("client-query-buffer-limit", 1024 * 1024, LONG_MAX, "1073741824", H,
        "Largest query buffer of one client before it is disconnected."),
    int("active-expire-effort", 1, 10, "1", I, "keel's active expiry sets its own effort; value only stored."),
    enumeration("sanitize-dump-payload", SANITIZE_DUMP, "no", I, "RESTORE payload deep sanitisation; value only stored."),
    // ---- active defragmentation ------------------------------------------------------------
    boolean("activedefrag", "no", I, DEFRAG),
    umem("active-defrag-ignore-bytes", 1, LLONG_MAX, "104857600", I, DEFRAG),
    int("active-defrag-threshold-lower", 0, 1000, "10", I, DEFRAG),
    int("active-defrag-threshold-upper", 0, 1000, "100", I, DEFRAG),
    int("active-defrag-cycle-min", 1, 99, "1", I, DEFRAG),
    int("active-defrag-cycle-max", 1, 99, "25", I, DEFRAG),
    uint("active-defrag-max-scan-fields", 1, LONG_MAX, "1000", I, DEFRAG),
    // ---- keel's own -----------------------------------------------------------------------------
    int("server-threads", 0, 1024, "0", H, "keel's own: worker threads (0 = one per CPU core).").immutable(),
    int("aof-load-threads", 0, 64, "0", H,
        "keel's own: threads that apply the AOF at start-up (0 = one per CPU this process may run on)."),
    // ---- hidden test knobs of Redis (exact-name CONFIG GET only) ------------------------------
    boolean("use-exit-on-panic", "no", I, "Redis test knob; value only stored.").hidden(),
    int("rdb-key-save-delay", INT_MIN, INT_MAX, "0", I, "Redis test knob; value only stored.").hidden(),
    int("key-load-delay", INT_MIN, INT_MAX, "0", I, "Redis test knob; value only stored.").hidden(),
    int("watchdog-period", 0, INT_MAX, "0", I, "Redis debugging watchdog; value only stored.").hidden(),
    int("loading-process-events-interval-bytes", 1024, INT_MAX, "2097152", I, "Redis test knob; value only stored.")
        .hidden(),
];

/// A directive of redis.conf that is not an option (no CONFIG GET/SET).
#[derive(Clone, Copy, Debug)]
pub struct Directive {
    pub name: &'static str,
    pub class: Class,
    pub doc: &'static str,
}

/// Directives handled by the file parser rather than by the option table.
pub static DIRECTIVES: &[Directive] = &[
    Directive {
        name: "include",
        class: Class::Honoured,
        doc: "Reads another file (path relative to the working directory, globs allowed) at this point.",
    },
    Directive {
        name: "rename-command",
        class: Class::Unsupported,
        doc: "Refused: keel cannot rename or hide commands yet.",
    },
    Directive {
        name: "user",
        class: Class::Unsupported,
        doc: "Refused: keel has no ACL users yet (use requirepass).",
    },
    Directive {
        name: "loadmodule",
        class: Class::Unsupported,
        doc: "Refused: keel has no module system. `name.option` module settings are refused too.",
    },
    Directive {
        name: "sentinel",
        class: Class::Unsupported,
        doc: "Refused: keel has no Sentinel mode.",
    },
    Directive {
        name: "list-max-ziplist-entries",
        class: Class::Ignored,
        doc: "Obsolete since Redis 3.2; accepted with one argument and ignored, as Redis does.",
    },
    Directive {
        name: "list-max-ziplist-value",
        class: Class::Ignored,
        doc: "Obsolete since Redis 3.2; accepted with one argument and ignored, as Redis does.",
    },
    Directive {
        name: "lua-replicate-commands",
        class: Class::Ignored,
        doc: "Obsolete since Redis 7.0; accepted with one argument and ignored, as Redis does.",
    },
];

/// The option whose name or alias is `name` (ASCII case-insensitive), with its
/// index in [`OPTIONS`].
pub fn lookup(name: &[u8]) -> Option<(usize, &'static OptionSpec)> {
    OPTIONS.iter().enumerate().find(|(_, o)| {
        o.name.as_bytes().eq_ignore_ascii_case(name)
            || o.alias
                .is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(name))
    })
}
