//! Unit tests of the configuration module. Files are written under
//! `std::env::temp_dir()`; nothing changes the working directory.

use super::*;
use std::path::PathBuf;

/// `CONFIG GET *` of a stock redis-server 7.0.15 (Debian 7.0.15-1~deb12u10),
/// started with `--port 0 --unixsocket ... --save ''` from /tmp: those four
/// values (and dir) are patched in `defaults_match_redis_7_0_15`.
const REDIS_7_0_15_CONFIG_GET_ALL: &str = "\
acl-pubsub-default\tresetchannels\n\
aclfile\t\n\
acllog-max-len\t128\n\
active-defrag-cycle-max\t25\n\
active-defrag-cycle-min\t1\n\
active-defrag-ignore-bytes\t104857600\n\
active-defrag-max-scan-fields\t1000\n\
active-defrag-threshold-lower\t10\n\
active-defrag-threshold-upper\t100\n\
active-expire-effort\t1\n\
activedefrag\tno\n\
activerehashing\tyes\n\
always-show-logo\tno\n\
aof-disable-auto-gc\tno\n\
aof-load-truncated\tyes\n\
aof-rewrite-incremental-fsync\tyes\n\
aof-timestamp-enabled\tno\n\
aof-use-rdb-preamble\tyes\n\
aof_rewrite_cpulist\t\n\
appenddirname\tappendonlydir\n\
appendfilename\tappendonly.aof\n\
appendfsync\teverysec\n\
appendonly\tno\n\
auto-aof-rewrite-min-size\t67108864\n\
auto-aof-rewrite-percentage\t100\n\
bgsave_cpulist\t\n\
bind\t* -::*\n\
bind-source-addr\t\n\
bio_cpulist\t\n\
busy-reply-threshold\t5000\n\
client-output-buffer-limit\tnormal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\n\
client-query-buffer-limit\t1073741824\n\
cluster-allow-pubsubshard-when-down\tyes\n\
cluster-allow-reads-when-down\tno\n\
cluster-allow-replica-migration\tyes\n\
cluster-announce-bus-port\t0\n\
cluster-announce-hostname\t\n\
cluster-announce-ip\t\n\
cluster-announce-port\t0\n\
cluster-announce-tls-port\t0\n\
cluster-config-file\tnodes.conf\n\
cluster-enabled\tno\n\
cluster-link-sendbuf-limit\t0\n\
cluster-migration-barrier\t1\n\
cluster-node-timeout\t15000\n\
cluster-port\t0\n\
cluster-preferred-endpoint-type\tip\n\
cluster-replica-no-failover\tno\n\
cluster-replica-validity-factor\t10\n\
cluster-require-full-coverage\tyes\n\
cluster-slave-no-failover\tno\n\
cluster-slave-validity-factor\t10\n\
crash-log-enabled\tyes\n\
crash-memcheck-enabled\tyes\n\
daemonize\tno\n\
databases\t16\n\
dbfilename\tdump.rdb\n\
dir\t/tmp\n\
disable-thp\tyes\n\
dynamic-hz\tyes\n\
enable-debug-command\tno\n\
enable-module-command\tno\n\
enable-protected-configs\tno\n\
hash-max-listpack-entries\t512\n\
hash-max-listpack-value\t64\n\
hash-max-ziplist-entries\t512\n\
hash-max-ziplist-value\t64\n\
hll-sparse-max-bytes\t3000\n\
hz\t10\n\
ignore-warnings\t\n\
io-threads\t1\n\
io-threads-do-reads\tno\n\
jemalloc-bg-thread\tyes\n\
latency-monitor-threshold\t0\n\
latency-tracking\tyes\n\
latency-tracking-info-percentiles\t50 99 99.9\n\
lazyfree-lazy-eviction\tno\n\
lazyfree-lazy-expire\tno\n\
lazyfree-lazy-server-del\tno\n\
lazyfree-lazy-user-del\tno\n\
lazyfree-lazy-user-flush\tno\n\
lfu-decay-time\t1\n\
lfu-log-factor\t10\n\
list-compress-depth\t0\n\
list-max-listpack-size\t-2\n\
list-max-ziplist-size\t-2\n\
logfile\t\n\
loglevel\tnotice\n\
lua-time-limit\t5000\n\
masterauth\t\n\
masteruser\t\n\
maxclients\t10000\n\
maxmemory\t0\n\
maxmemory-clients\t0\n\
maxmemory-eviction-tenacity\t10\n\
maxmemory-policy\tnoeviction\n\
maxmemory-samples\t5\n\
min-replicas-max-lag\t10\n\
min-replicas-to-write\t0\n\
min-slaves-max-lag\t10\n\
min-slaves-to-write\t0\n\
no-appendfsync-on-rewrite\tno\n\
notify-keyspace-events\t\n\
oom-score-adj\tno\n\
oom-score-adj-values\t0 200 800\n\
pidfile\t\n\
port\t0\n\
proc-title-template\t{title} {listen-addr} {server-mode}\n\
propagation-error-behavior\tignore\n\
protected-mode\tyes\n\
proto-max-bulk-len\t536870912\n\
rdb-del-sync-files\tno\n\
rdb-save-incremental-fsync\tyes\n\
rdbchecksum\tyes\n\
rdbcompression\tyes\n\
repl-backlog-size\t1048576\n\
repl-backlog-ttl\t3600\n\
repl-disable-tcp-nodelay\tno\n\
repl-diskless-load\tdisabled\n\
repl-diskless-sync\tyes\n\
repl-diskless-sync-delay\t5\n\
repl-diskless-sync-max-replicas\t0\n\
repl-ping-replica-period\t10\n\
repl-ping-slave-period\t10\n\
repl-timeout\t60\n\
replica-announce-ip\t\n\
replica-announce-port\t0\n\
replica-announced\tyes\n\
replica-ignore-disk-write-errors\tno\n\
replica-ignore-maxmemory\tyes\n\
replica-lazy-flush\tno\n\
replica-priority\t100\n\
replica-read-only\tyes\n\
replica-serve-stale-data\tyes\n\
replicaof\t\n\
requirepass\t\n\
sanitize-dump-payload\tno\n\
save\t\n\
server_cpulist\t\n\
set-max-intset-entries\t512\n\
set-proc-title\tyes\n\
shutdown-on-sigint\tdefault\n\
shutdown-on-sigterm\tdefault\n\
shutdown-timeout\t10\n\
slave-announce-ip\t\n\
slave-announce-port\t0\n\
slave-ignore-maxmemory\tyes\n\
slave-lazy-flush\tno\n\
slave-priority\t100\n\
slave-read-only\tyes\n\
slave-serve-stale-data\tyes\n\
slaveof\t\n\
slowlog-log-slower-than\t10000\n\
slowlog-max-len\t128\n\
socket-mark-id\t0\n\
stop-writes-on-bgsave-error\tyes\n\
stream-node-max-bytes\t4096\n\
stream-node-max-entries\t100\n\
supervised\tno\n\
syslog-enabled\tno\n\
syslog-facility\tlocal0\n\
syslog-ident\tredis\n\
tcp-backlog\t511\n\
tcp-keepalive\t300\n\
timeout\t0\n\
tls-auth-clients\tyes\n\
tls-ca-cert-dir\t\n\
tls-ca-cert-file\t\n\
tls-cert-file\t\n\
tls-ciphers\t\n\
tls-ciphersuites\t\n\
tls-client-cert-file\t\n\
tls-client-key-file\t\n\
tls-client-key-file-pass\t\n\
tls-cluster\tno\n\
tls-dh-params-file\t\n\
tls-key-file\t\n\
tls-key-file-pass\t\n\
tls-port\t0\n\
tls-prefer-server-ciphers\tno\n\
tls-protocols\t\n\
tls-replication\tno\n\
tls-session-cache-size\t20480\n\
tls-session-cache-timeout\t300\n\
tls-session-caching\tyes\n\
tracking-table-max-keys\t1000000\n\
unixsocket\t/tmp/keelcfg.sock\n\
unixsocketperm\t0\n\
zset-max-listpack-entries\t128\n\
zset-max-listpack-value\t64\n\
zset-max-ziplist-entries\t128\n\
zset-max-ziplist-value\t64\n\
";

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keel-config-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write temp file");
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn load(text: &str) -> Config {
    match Config::from_text(text, "test.conf") {
        Ok(c) => c,
        Err(e) => panic!("unexpected config error: {e}"),
    }
}

fn load_err(text: &str) -> String {
    match Config::from_text(text, "test.conf") {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e.message,
    }
}

fn get1(c: &Config, name: &str) -> String {
    let r = c.get(name.as_bytes());
    assert_eq!(r.len(), 1, "CONFIG GET {name} -> {r:?}");
    r[0].1.clone()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    v.iter()
        .map(|(a, b)| (a.as_bytes().to_vec(), b.as_bytes().to_vec()))
        .collect()
}

const KEEL_OWN: &[&str] = &["aof-load-corrupt", "server-threads", "aof-load-threads"];

// ---- registry ----------------------------------------------------------------------

#[test]
fn registry_names_are_unique_and_lowercase() {
    let mut seen = std::collections::HashSet::new();
    for o in OPTIONS {
        for n in std::iter::once(o.name).chain(o.alias) {
            assert_eq!(n, n.to_ascii_lowercase());
            assert!(seen.insert(n), "duplicate option name {n}");
        }
        if o.class == Class::Unsupported {
            assert!(!o.reason.is_empty(), "{} needs a reason", o.name);
        }
        assert!(!o.doc.is_empty(), "{} needs a doc line", o.name);
    }
}

#[test]
fn registry_covers_config_get_star_of_redis_7_0_15() {
    let redis: std::collections::BTreeSet<&str> = REDIS_7_0_15_CONFIG_GET_ALL
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    let ours: std::collections::BTreeSet<&str> = OPTIONS
        .iter()
        .filter(|o| !o.hidden && !KEEL_OWN.contains(&o.name))
        .flat_map(|o| std::iter::once(o.name).chain(o.alias))
        .collect();
    assert_eq!(redis.len(), 192);
    let missing: Vec<_> = redis.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&redis).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    // And CONFIG GET * answers exactly those (plus keel's own).
    let all = Config::default().get(b"*");
    assert_eq!(all.len(), 192 + KEEL_OWN.len());
}

#[test]
fn defaults_match_redis_7_0_15() {
    let c = Config::default();
    for line in REDIS_7_0_15_CONFIG_GET_ALL.lines() {
        let (name, mut expected) = line.split_once('\t').unwrap_or((line, ""));
        match name {
            "dir" => continue,
            "port" => expected = "6379",
            "unixsocket" => expected = "",
            "save" => expected = "3600 1 300 100 60 10000",
            _ => {}
        }
        let Some((_, spec)) = lookup(name.as_bytes()) else {
            panic!("{name} not in registry")
        };
        let redis_default = spec.redis_default.unwrap_or(spec.default);
        assert_eq!(redis_default, expected, "Redis default of {name}");
        let keel = get1(&c, name);
        assert_eq!(keel, spec.default, "keel default of {name}");
    }
    let differing: Vec<&str> = OPTIONS
        .iter()
        .filter(|o| o.redis_default.is_some())
        .map(|o| o.name)
        .collect();
    assert_eq!(differing, ["bind", "save", "appendonly"]);
}

#[test]
fn every_default_parses_and_formats_back() {
    for spec in OPTIONS {
        if matches!(spec.kind, Kind::Special(Special::Dir)) {
            continue;
        }
        let v = default_value(spec);
        assert_eq!(format_value(spec, &v), spec.default, "{}", spec.name);
    }
    let c = Config::default();
    assert!(Path::new(c.get_str("dir")).is_absolute());
    assert_eq!(
        c.get_str("dir"),
        std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
}

#[test]
fn keel_defaults() {
    let c = Config::default();
    assert!(c.get_bool("appendonly"));
    assert_eq!(c.bind_addrs(), s(&["127.0.0.1", "-::1"]));
    assert_eq!(
        c.bind_specs(),
        vec![
            BindAddr {
                addr: "127.0.0.1".into(),
                optional: false
            },
            BindAddr {
                addr: "::1".into(),
                optional: true
            }
        ]
    );
    assert_eq!(c.get_str("save"), "");
    assert_eq!(c.get_i64("port"), 6379);
    assert_eq!(c.get_u64("client-query-buffer-limit"), 1 << 30);
    assert_eq!(c.get_str("aof-load-corrupt"), "refuse");
    assert_eq!(c.get_i64("server-threads"), 0);
    assert_eq!(c.config_file(), None);
    assert!(c.ignored_in_use().is_empty());
    let l = c.client_output_buffer_limits();
    assert_eq!(l.normal, ObufLimit::default());
    assert_eq!(
        l.replica,
        ObufLimit {
            hard_bytes: 256 << 20,
            soft_bytes: 64 << 20,
            soft_seconds: 60
        }
    );
    assert_eq!(
        l.pubsub,
        ObufLimit {
            hard_bytes: 32 << 20,
            soft_bytes: 8 << 20,
            soft_seconds: 60
        }
    );
}

// ---- file syntax ----------------------------------------------------------------------

#[test]
fn parses_comments_quoting_and_case() {
    let c = load(
        "# a comment\n\
         \n\
         \t  PORT 7000  \r\n\
            # indented comment\n\
         requirepass \"pa ss\\x41\\n\"\n\
         masterauth 'it\\'s'\n\
         Bind 10.0.0.1 \"-::1\"\n\
         logfile \"\"\n\
         loglevel WARNING\n\
         client-output-buffer-limit pubsub 64mb 16mb 90\n\
         maxmemory 1gb\n\
         proto-max-bulk-len 2m\n\
         hash-max-listpack-value 1k\n\
         notify-keyspace-events KEA\n",
    );
    assert_eq!(c.get_i64("port"), 7000);
    assert_eq!(c.get_str("requirepass"), "pa ssA\n");
    assert_eq!(c.get_str("masterauth"), "it's");
    assert_eq!(c.bind_addrs(), s(&["10.0.0.1", "-::1"]));
    assert_eq!(c.get_str("logfile"), "");
    assert_eq!(c.get_str("loglevel"), "warning");
    assert_eq!(c.get_u64("maxmemory"), 1 << 30);
    assert_eq!(c.get_str("maxmemory"), "1073741824");
    assert_eq!(c.get_u64("proto-max-bulk-len"), 2_000_000);
    assert_eq!(c.get_u64("hash-max-listpack-value"), 1000);
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
    assert_eq!(
        c.notify_keyspace_events(),
        notify::ALL | notify::KEYSPACE | notify::KEYEVENT
    );
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90"
    );
    assert_eq!(
        c.origin("port"),
        Some(&Origin::File {
            path: "test.conf".into(),
            line: 3
        })
    );
    assert_eq!(c.origin("timeout"), Some(&Origin::Default));
}

#[test]
fn later_lines_override_earlier_ones() {
    let c = load("port 1\nport 2\nmaxmemory-policy allkeys-lru\nmaxmemory-policy noeviction\n");
    assert_eq!(c.get_i64("port"), 2);
    assert_eq!(c.get_str("maxmemory-policy"), "noeviction");
}

#[test]
fn aliases_set_the_canonical_option() {
    let c = load(
        "hash-max-ziplist-entries 100\nzset-max-ziplist-value 32\nlist-max-ziplist-size -3\n\
         slave-read-only no\nlua-time-limit 100\nmin-slaves-max-lag 3\n",
    );
    assert_eq!(c.get_i64("hash-max-listpack-entries"), 100);
    assert_eq!(c.get_i64("zset-max-listpack-value"), 32);
    assert_eq!(c.get_i64("list-max-listpack-size"), -3);
    assert!(!c.get_bool("replica-read-only"));
    assert_eq!(c.get_i64("busy-reply-threshold"), 100);
    assert_eq!(c.get_i64("min-replicas-max-lag"), 3);
    // Obsolete directives are accepted with one argument, like Redis.
    let c = load("list-max-ziplist-entries 5\nlua-replicate-commands yes\n");
    assert_eq!(
        c.ignored_in_use(),
        s(&["list-max-ziplist-entries", "lua-replicate-commands"])
    );
    assert!(load_err("list-max-ziplist-entries 5 6\n")
        .contains("Bad directive or wrong number of arguments"));
}

#[test]
fn error_message_format() {
    let e = load_err("port 0\nfoo bar\n");
    assert_eq!(
        e,
        format!(
            "\n*** FATAL CONFIG FILE ERROR (keel {VERSION}) ***\n\
             Reading the configuration file 'test.conf', at line 2\n\
             >>> 'foo bar'\n\
             Bad directive or wrong number of arguments"
        )
    );
}

#[test]
fn bad_values_are_reported_with_redis_wording() {
    let cases: &[(&str, &str)] = &[
        ("port 1 2", "wrong number of arguments"),
        ("daemonize", "wrong number of arguments"),
        ("appendonly maybe", "argument must be 'yes' or 'no'"),
        ("port \"0", "Unbalanced quotes in configuration line"),
        ("port \"0\"x", "Unbalanced quotes in configuration line"),
        ("hz \"abc\"", "argument couldn't be parsed into an integer"),
        ("port 007", "argument couldn't be parsed into an integer"),
        (
            "port 65536",
            "argument must be between 0 and 65535 inclusive",
        ),
        (
            "maxclients 0",
            "argument must be between 1 and 4294967295 inclusive",
        ),
        (
            "slowlog-max-len -1",
            "argument must be between 0 and 9223372036854775807 inclusive",
        ),
        (
            "loglevel foo",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        ("maxmemory 1x", "argument must be a memory value"),
        ("maxmemory -1", "argument must be a memory value"),
        (
            "proto-max-bulk-len 10",
            "argument must be between 1048576 and 9223372036854775807 inclusive",
        ),
        (
            "maxmemory-clients -5",
            "argument must be a memory or percent value",
        ),
        (
            "maxmemory-clients 101%",
            "percentage argument must be less or equal to 100",
        ),
        (
            "unixsocketperm 999",
            "argument couldn't be parsed as an octal number",
        ),
        (
            "unixsocketperm 17777",
            "argument must be between 0 and 777 inclusive",
        ),
        ("save 10", "Invalid save parameters"),
        ("save 0 1", "Invalid save parameters"),
        (
            "client-output-buffer-limit normal 1 2",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit master 1 2 3",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit replica 1 1 -1",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "oom-score-adj-values 1 2 9999",
            "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
        ),
        (
            "notify-keyspace-events q",
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
        ),
        ("notify-keyspace-events", "wrong number of arguments"),
        (
            "shutdown-on-sigterm save nosave",
            "shutdown options SAVE and NOSAVE can't be used simultaneously",
        ),
        (
            "shutdown-on-sigint",
            "argument(s) must be one of the following: default, save, nosave, now, force",
        ),
        (
            "dbfilename a/b",
            "dbfilename can't be a path, just a filename",
        ),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        (
            "appenddirname x/y",
            "appenddirname can't be a path, just a dirname",
        ),
        (
            "proc-title-template {foo}",
            "template format is invalid or contains unknown variables",
        ),
        (
            "cluster-announce-hostname a_b",
            "Hostnames may only contain alphanumeric characters, hyphens or dots",
        ),
        (
            "latency-tracking-info-percentiles 50 101",
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
        ),
        ("replicaof foo", "wrong number of arguments"),
        ("replicaof foo bar", "Invalid master port"),
        (
            "bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
            "Too many bind addresses specified.",
        ),
        ("include", "Bad directive or wrong number of arguments"),
        ("user", "Bad directive or wrong number of arguments"),
        ("dir /nonexistent-keel-dir", "No such file or directory"),
    ];
    for (line, reason) in cases {
        let e = load_err(&format!("# first\n{line}\n"));
        let expected_tail = format!("at line 2\n>>> '{line}'\n{reason}");
        assert!(e.ends_with(&expected_tail), "{line:?} gave {e:?}");
        assert!(e.contains("'test.conf'"), "{e}");
    }
}

#[test]
fn multi_argument_options() {
    let c = load("bind\n");
    assert!(c.bind_addrs().is_empty());
    let c =
        load("client-output-buffer-limit\nlatency-tracking-info-percentiles 50.0 99.990 0x10\n");
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99.99 16");
    let c = load("shutdown-on-sigint NOW nosave\noom-score-adj relative\n");
    assert_eq!(get1(&c, "shutdown-on-sigint"), "nosave now");
    assert_eq!(get1(&c, "oom-score-adj"), "yes");
    let mut ldr = Loader::new();
    ldr.load_text(b"maxmemory-clients 10%\n", &Src::CommandLine)
        .expect("load");
    assert_eq!(get1(&ldr.cfg, "maxmemory-clients"), "10%");
    assert_eq!(ldr.cfg.get_i64("maxmemory-clients"), -10);
    let c = load("unixsocketperm 0700\nhz 1000\n");
    assert_eq!(get1(&c, "unixsocketperm"), "700");
    assert_eq!(get1(&c, "hz"), "500");
}

// ---- classes ------------------------------------------------------------------------------

#[test]
fn unsupported_features_are_refused_unless_off() {
    for ok in [
        "save \"\"",
        "save 900 1\nsave \"\"",
        "cluster-enabled no",
        "tls-port 0",
        "unixsocket \"\"",
        "replicaof no one",
        "syslog-enabled no",
        "aclfile \"\"",
        "min-replicas-to-write 0",
        "maxmemory-clients 0",
        "cluster-enabled yes\ncluster-enabled no",
    ] {
        load(ok);
    }
    let refused: &[(&str, &str)] = &[
        (
            "save 900 1",
            "RDB snapshots (save points) are not supported by keel yet; use `save \"\"`",
        ),
        (
            "cluster-enabled yes",
            "cluster mode is not supported by keel yet",
        ),
        ("tls-port 6380", "TLS is not supported by keel yet"),
        ("tls-cert-file /x.crt", "TLS is not supported by keel yet"),
        (
            "unixsocket /tmp/keel.sock",
            "Unix domain sockets are not supported by keel yet",
        ),
        (
            "slaveof 10.0.0.1 6379",
            "replication (replicaof/slaveof) is not supported by keel yet",
        ),
        (
            "syslog-enabled yes",
            "logging to syslog is not supported by keel yet",
        ),
        (
            "maxmemory-clients 5%",
            "client eviction (maxmemory-clients) is not supported by keel yet",
        ),
        (
            "rename-command FLUSHALL \"\"",
            "rename-command is not supported by keel yet",
        ),
        (
            "user alice on >pw ~* +@all",
            "ACL users (the user directive) are not supported by keel yet",
        ),
        ("loadmodule /x.so", "modules are not supported by keel"),
        (
            "mymod.opt 1",
            "module configuration is not supported by keel",
        ),
        (
            "sentinel monitor m 127.0.0.1 6379 2",
            "Sentinel mode is not supported by keel",
        ),
    ];
    for (line, reason) in refused {
        let e = load_err(&format!("port 1\n{line}\nport 2\n"));
        assert!(
            e.contains(&format!("at line 2\n>>> '{line}'\n")),
            "{line}: {e}"
        );
        assert!(e.contains(reason), "{line}: {e}");
    }
    // The earliest offending line is the one reported.
    let e = load_err("cluster-enabled yes\nsave 1 1\n");
    assert!(e.contains("at line 1\n"), "{e}");
}

#[test]
fn save_lines_accumulate_like_redis() {
    // Values are only inspected through CONFIG GET here, since any save point
    // is refused at the end of a load.
    let mut ldr = Loader::new();
    ldr.load_text(b"save 900 1\nsave 5 5\n", &Src::CommandLine)
        .expect("load");
    assert_eq!(ldr.cfg.get_str("save"), "900 1 5 5");
    ldr.load_text(b"save \"\"\nsave 7 7\n", &Src::CommandLine)
        .expect("load");
    assert_eq!(ldr.cfg.get_str("save"), "7 7");
}

#[test]
fn ignored_options_are_stored_and_listed() {
    let c =
        load("daemonize yes\nactiverehashing no\nrdbcompression yes\nport 7000\nio-threads 4\n");
    assert!(c.get_bool("daemonize"));
    assert_eq!(get1(&c, "activerehashing"), "no");
    assert_eq!(
        c.ignored_in_use(),
        s(&[
            "daemonize",
            "rdbcompression",
            "io-threads",
            "activerehashing"
        ])
    );
}

// ---- include ----------------------------------------------------------------------------------

#[test]
fn include_files_recursively_and_with_globs() {
    let d = tmp_dir("include");
    let inner = d.join("inner.conf");
    let sub = d.join("sub.conf");
    write(&inner, "hz 20\n");
    write(
        &sub,
        &format!("port 7001\ninclude {}\ntimeout 5\n", inner.display()),
    );
    std::fs::create_dir_all(d.join("conf.d")).expect("mkdir");
    write(&d.join("conf.d/a.conf"), "maxclients 10\n");
    write(&d.join("conf.d/b.conf"), "maxclients 20\n");
    write(&d.join("conf.d/.hidden.conf"), "maxclients 30\n");
    let main = d.join("main.conf");
    write(
        &main,
        &format!(
            "port 7000\ninclude {}\ninclude {}/conf.d/*.conf\ninclude {}/nothing/*.conf\nhz 30\n",
            sub.display(),
            d.display(),
            d.display()
        ),
    );
    let c = Config::from_args(&[main.to_string_lossy().into_owned()]).expect("load");
    assert_eq!(c.get_i64("port"), 7001);
    assert_eq!(c.get_i64("timeout"), 5);
    assert_eq!(c.get_i64("hz"), 30);
    assert_eq!(c.get_i64("maxclients"), 20);
    assert_eq!(
        c.origin("timeout"),
        Some(&Origin::File {
            path: sub.to_string_lossy().into_owned(),
            line: 3
        })
    );
    assert_eq!(c.config_file(), Some(main.as_path()));

    // An error inside an included file names that file.
    write(&inner, "hz x\n");
    let e = Config::from_args(&[main.to_string_lossy().into_owned()]).expect_err("bad include");
    assert!(
        e.message
            .contains(&format!("'{}', at line 1\n>>> 'hz x'", inner.display())),
        "{e}"
    );

    // A missing include stops start-up.
    let missing = d.join("missing.conf");
    let e = Config::from_text(&format!("include {}\n", missing.display()), "m.conf")
        .expect_err("missing");
    assert!(e.message.contains("can't open config file"), "{e}");
    assert!(e.message.contains("No such file or directory"), "{e}");

    // An include loop does not overflow the stack.
    let lp = d.join("loop.conf");
    write(&lp, &format!("include {}\n", lp.display()));
    let e = Config::from_args(&[lp.to_string_lossy().into_owned()]).expect_err("loop");
    assert!(e.message.contains("include nesting"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

// ---- command line ----------------------------------------------------------------------------

#[test]
fn command_line_options_override_the_file() {
    let d = tmp_dir("cmdline");
    let f = d.join("keel.conf");
    write(&f, "port 7000\nbind 10.0.0.1\nappendonly yes\n");
    let c = Config::from_args(&s(&[
        &f.to_string_lossy(),
        "--port",
        "7002",
        "--bind",
        "127.0.0.1",
        "::1",
        "--save",
        "--appendonly",
        "no",
        "--requirepass",
        "a \"b\"",
        "--dir",
        &d.to_string_lossy(),
        "--save",
    ]))
    .expect("load");
    assert_eq!(c.get_i64("port"), 7002);
    assert_eq!(c.bind_addrs(), s(&["127.0.0.1", "::1"]));
    assert!(!c.get_bool("appendonly"));
    assert_eq!(c.get_str("requirepass"), "a \"b\"");
    assert_eq!(c.get_str("save"), "");
    assert_eq!(
        PathBuf::from(c.get_str("dir")),
        std::fs::canonicalize(&d).expect("canonical")
    );
    assert_eq!(c.origin("port"), Some(&Origin::CommandLine { line: 1 }));

    // Without a file; a name and value in one argument; an error.
    let c = Config::from_args(&s(&["--port 7003", "--maxmemory", "100mb"])).expect("load");
    assert_eq!(c.get_i64("port"), 7003);
    assert_eq!(c.get_u64("maxmemory"), 100 << 20);
    assert_eq!(c.config_file(), None);
    let e = Config::from_args(&s(&["--port", "7000", "--hz", "abc"])).expect_err("bad");
    assert!(
        e.message.ends_with("Reading the command line options, at line 2\n>>> 'hz \"abc\"'\nargument couldn't be parsed into an integer"),
        "{e}"
    );
    let e = Config::from_args(&s(&["--save", "900", "1"])).expect_err("save");
    assert!(e.message.contains("RDB snapshots"), "{e}");
    assert!(Config::from_args(&s(&["-"])).is_err());
    let e = Config::from_args(&s(&["/nonexistent/keel.conf"])).expect_err("missing");
    assert_eq!(
        e.message,
        "Fatal error, can't open config file '/nonexistent/keel.conf': No such file or directory"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn version_and_help_flags() {
    assert!(is_version_flag("-v") && is_version_flag("--version"));
    assert!(is_help_flag("-h") && is_help_flag("--help"));
    assert!(!is_version_flag("--port") && !is_help_flag("-v"));
}

// ---- CONFIG GET ---------------------------------------------------------------------------------

#[test]
fn config_get_globs_aliases_and_multiple_patterns() {
    let c = Config::default();
    let mut names: Vec<String> = c
        .get(b"*max-*-entries*")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    names.sort();
    assert_eq!(
        names,
        s(&[
            "hash-max-listpack-entries",
            "hash-max-ziplist-entries",
            "set-max-intset-entries",
            "zset-max-listpack-entries",
            "zset-max-ziplist-entries"
        ])
    );
    // An exact alias is answered under the name asked, case preserved.
    assert_eq!(
        c.get(b"hash-max-ziplist-entries"),
        vec![("hash-max-ziplist-entries".to_string(), "512".to_string())]
    );
    assert_eq!(
        c.get(b"PORT"),
        vec![("PORT".to_string(), "6379".to_string())]
    );
    assert_eq!(
        c.get(b"PO*"),
        vec![("port".to_string(), "6379".to_string())]
    );
    assert!(c.get(b"nonexistent").is_empty());
    // Several patterns, each name once.
    let r = c.get_pairs(&[b"port", b"port", b"PORT", b"bind", b"b*"]);
    let names: Vec<&str> = r.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.eq_ignore_ascii_case("port"))
            .count(),
        1
    );
    assert_eq!(names.iter().filter(|n| **n == "bind").count(), 1);
    assert!(names.contains(&"bind-source-addr") && names.contains(&"busy-reply-threshold"));
    // Hidden options need their exact name.
    assert!(c.get(b"key-load-*").is_empty());
    assert_eq!(c.get(b"key-load-delay").len(), 1);
    // Formatting.
    assert_eq!(get1(&c, "save"), "");
    assert_eq!(get1(&c, "auto-aof-rewrite-min-size"), "67108864");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert!(Path::new(&get1(&c, "dir")).is_absolute());
}

// ---- CONFIG SET -----------------------------------------------------------------------------------

#[test]
fn config_set_is_atomic_and_reports_changes() {
    let mut c = Config::default();
    let changed = c
        .set(&pairs(&[
            ("maxmemory", "1gb"),
            ("PORT", "6379"),
            ("appendfsync", "ALWAYS"),
        ]))
        .expect("set");
    assert_eq!(changed, s(&["maxmemory", "appendfsync"]));
    assert_eq!(get1(&c, "maxmemory"), "1073741824");
    assert_eq!(get1(&c, "appendfsync"), "always");
    assert_eq!(c.origin("maxmemory"), Some(&Origin::ConfigSet));

    let before = c.get(b"*");
    let err = c
        .set(&pairs(&[("maxmemory", "2gb"), ("port", "abc")]))
        .expect_err("bad");
    assert_eq!(err, "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer");
    assert_eq!(c.get(b"*"), before, "a failed CONFIG SET changed something");

    // Partial update of client-output-buffer-limit, aliases, hz clamping.
    c.set(&pairs(&[
        (
            "client-output-buffer-limit",
            "pubsub 1kb 1k 5 replica 0 0 0",
        ),
        ("slave-priority", "5"),
        ("hz", "0"),
    ]))
    .expect("set");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 0 0 0 pubsub 1024 1000 5"
    );
    assert_eq!(c.get_i64("replica-priority"), 5);
    assert_eq!(c.get_i64("hz"), 1);
    c.set(&pairs(&[
        ("save", ""),
        ("bind", ""),
        ("notify-keyspace-events", "Kgm$lshzxetdn"),
    ]))
    .expect("set");
    assert!(c.bind_addrs().is_empty());
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKm");
    assert_ne!(c.notify_keyspace_events() & notify::NEW, 0);
    c.set(&pairs(&[("shutdown-on-sigint", "force now")]))
        .expect("set");
    assert_eq!(get1(&c, "shutdown-on-sigint"), "now force");
}

#[test]
fn config_set_errors_use_redis_wording() {
    let mut c = Config::default();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("foo", "bar")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("port", "1"), ("foo", "2")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("daemonize", "yes")], "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        (&[("Databases", "5")], "ERR CONFIG SET failed (possibly related to argument 'Databases') - can't set immutable config"),
        (&[("daemonize", "yes"), ("foo", "1")], "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        (&[("port", "1"), ("port", "2")], "ERR CONFIG SET failed (possibly related to argument 'port') - duplicate parameter"),
        (&[("slave-priority", "x")], "ERR CONFIG SET failed (possibly related to argument 'slave-priority') - argument couldn't be parsed into an integer"),
        (&[("Slave-Priority", "x")], "ERR CONFIG SET failed (possibly related to argument 'slave-priority') - argument couldn't be parsed into an integer"),
        (&[("dir", "/tmp")], "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
        (&[("dbfilename", "x")], "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"),
        (&[("loglevel", "foo")], "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"),
        (&[("save", "100 1  200 2")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("shutdown-on-sigint", "")], "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - argument(s) must be one of the following: default, save, nosave, now, force"),
        (&[("save", "3600 1")], "ERR CONFIG SET failed (possibly related to argument 'save') - RDB snapshots (save points) are not supported by keel yet; use `save \"\"` (keel persists with the AOF)"),
        (&[("tls-port", "6380")], "ERR CONFIG SET failed (possibly related to argument 'tls-port') - TLS is not supported by keel yet; leave every tls-* option at its default (tls-port 0)"),
    ];
    let before = c.get(b"*");
    for (p, expected) in cases {
        assert_eq!(c.set(&pairs(p)).expect_err("must fail"), *expected);
    }
    assert_eq!(c.get(b"*"), before);
}

#[test]
fn protected_options_follow_enable_protected_configs() {
    let d = tmp_dir("protected");
    let mut c = load("enable-protected-configs local\n");
    let dir = d.to_string_lossy().into_owned();
    assert!(c.set(&pairs(&[("dir", &dir)])).is_err());
    c.set_for_client(&pairs(&[("dir", &dir)]), true)
        .expect("local client may");
    assert_eq!(
        PathBuf::from(c.get_str("dir")),
        std::fs::canonicalize(&d).expect("canonical")
    );
    let mut c = load("enable-protected-configs yes\n");
    let err = c
        .set(&pairs(&[("dir", "/nonexistent-keel-dir")]))
        .expect_err("missing dir");
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    );
    let _ = std::fs::remove_dir_all(&d);
}

// ---- CONFIG REWRITE -------------------------------------------------------------------------------

#[test]
fn rewrite_without_file_fails() {
    assert_eq!(
        Config::default().rewrite(),
        Err("ERR The server is running without a config file".to_string())
    );
}

#[test]
fn rewrite_preserves_comments_and_replaces_in_place() {
    let d = tmp_dir("rewrite");
    let f = d.join("keel.conf");
    let dir = std::fs::canonicalize(&d)
        .expect("canonical")
        .to_string_lossy()
        .into_owned();
    write(
        &f,
        &format!(
            "# keel test configuration\n\
             # port 1234 (commented out, stays)\n\
             port 7000\n\
             \n\
             \n\
             # memory\n\
             maxmemory 100mb\n\
             hash-max-ziplist-entries 100\n\
             timeout 0\n\
             timeout 5\n\
             dir {dir}\n"
        ),
    );
    let mut c = Config::from_args(&[f.to_string_lossy().into_owned()]).expect("load");
    c.set(&pairs(&[
        ("port", "7100"),
        ("maxmemory", "2gb"),
        ("requirepass", "s3cret"),
        ("hash-max-listpack-entries", "64"),
    ]))
    .expect("set");
    c.rewrite().expect("rewrite");
    let text = std::fs::read_to_string(&f).expect("read back");
    let expected = format!(
        "# keel test configuration\n\
         # port 1234 (commented out, stays)\n\
         port 7100\n\
         \n\
         # memory\n\
         maxmemory 2gb\n\
         hash-max-listpack-entries 64\n\
         timeout 5\n\
         \n\
         dir \"{dir}\"\n\
         \n\
         # Generated by CONFIG REWRITE\n\
         save \"\"\n\
         requirepass \"s3cret\"\n\
         latency-tracking-info-percentiles 50 99 99.9\n"
    );
    assert_eq!(text, expected, "got:\n{text}");
    // No temporary files are left behind, and the result loads back identically.
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .expect("ls")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(leftovers.len(), 1);
    let again = Config::from_args(&[f.to_string_lossy().into_owned()]).expect("reload");
    assert_eq!(again.get(b"*"), c.get(b"*"));
    // Rewriting again is stable.
    again.rewrite().expect("rewrite");
    assert_eq!(std::fs::read_to_string(&f).expect("read"), expected);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn rewrite_handles_special_options() {
    let old = b"include /x/y.conf\nsave \"\"\nbind 127.0.0.1 -::1\nlist-max-ziplist-entries 5\nclient-output-buffer-limit normal 0 0 0\n";
    let mut c = Config::default();
    c.set(&pairs(&[
        ("client-output-buffer-limit", "pubsub 64mb 16mb 90"),
        ("notify-keyspace-events", "Ex"),
    ]))
    .expect("set");
    let text = rewrite::rewrite_content(&c, old);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "include /x/y.conf");
    assert_eq!(lines[1], "save \"\"");
    // bind at keel's default is dropped, like Redis drops a default bind.
    assert_eq!(lines[2], "");
    assert_eq!(lines[3], "# ??? list-max-ziplist-entries 5");
    assert_eq!(lines[4], "client-output-buffer-limit normal 0 0 0");
    assert!(lines.contains(&"client-output-buffer-limit pubsub 64mb 16mb 90"));
    assert!(lines.contains(&"notify-keyspace-events \"xE\""));
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("client-output-buffer-limit replica")));
}

// ---- robustness -----------------------------------------------------------------------------------

/// Deterministic pseudo-random bytes (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

#[test]
fn never_panics_on_garbage() {
    let words = [
        "",
        " ",
        "\"",
        "'",
        "\\",
        "-",
        "--",
        "0",
        "-1",
        "007",
        "1gb",
        "99999999999999999999999",
        "yes",
        "no",
        "%",
        "101%",
        "{",
        "}",
        "{title",
        "a b",
        "\u{0}",
        "é",
        "*",
        "[",
        "normal",
        "master",
        "1 2 3 4",
        "no one",
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..3000 {
        let spec = &OPTIONS[(rng.next() % OPTIONS.len() as u64) as usize];
        let value = format!("{} {}", rng.pick(&words), rng.pick(&words));
        let _ = Config::from_text(&format!("{} {}\n", spec.name, value), "fuzz.conf");
        let mut c = Config::default();
        let _ = c.set(&pairs(&[(spec.name, &value)]));
        let _ = c.get(rng.pick(&words).as_bytes());
        let mut bytes = Vec::new();
        for _ in 0..(rng.next() % 40) {
            bytes.push((rng.next() % 256) as u8);
        }
        let _ = Config::from_text(&String::from_utf8_lossy(&bytes), "fuzz.conf");
        let _ = c.set(&[(bytes.clone(), bytes.clone())]);
        let _ = rewrite::rewrite_content(&c, &bytes);
    }
}

// ---- interoperability with Debian's stock redis.conf -------------------------------------------------

#[test]
fn debian_stock_redis_conf_loads() {
    let path = Path::new("/etc/redis/redis.conf");
    let required = std::env::var("KEEL_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            assert!(
                !required,
                "KEEL_REQUIRE_INTEROP=1 but {} is unreadable: {e}",
                path.display()
            );
            eprintln!(
                "\n!!!!! SKIPPED debian_stock_redis_conf_loads: {} is unreadable ({e}); \
                 install redis-server or set KEEL_REQUIRE_INTEROP=1 to make this fatal !!!!!\n",
                path.display()
            );
            return;
        }
    };
    let kept: String = text
        .lines()
        .filter(|l| !l.trim_start().to_ascii_lowercase().starts_with("save "))
        .map(|l| format!("{l}\n"))
        .collect();
    let d = tmp_dir("debian");
    let f = d.join("redis.conf");
    write(&f, &kept);
    let c = match Config::from_args(&s(&[
        &f.to_string_lossy(),
        "--port",
        "0",
        "--dir",
        &d.to_string_lossy(),
    ])) {
        Ok(c) => c,
        Err(e) => panic!("Debian's redis.conf was refused:{e}"),
    };
    assert_eq!(c.get_i64("port"), 0);
    assert_eq!(c.get_str("save"), "");
    assert!(c.ignored_in_use().contains(&"daemonize".to_string()));
    // Every uncommented directive of the stock file is an option keel knows.
    for line in kept.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let name = t.split_whitespace().next().unwrap_or("");
        assert!(
            lookup(name.as_bytes()).is_some(),
            "unknown directive {name}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

// ---- docs/CONFIG.md ---------------------------------------------------------------------------------

const DOC_BEGIN: &str = "<!-- BEGIN GENERATED: options table (cargo test -p keel-server --lib config; KEEL_UPDATE_DOCS=1 rewrites it) -->";
const DOC_END: &str = "<!-- END GENERATED -->";

fn doc_cell(v: &str) -> String {
    if v.is_empty() {
        "`\"\"`".to_string()
    } else {
        format!("`{}`", v.replace('|', "\\|"))
    }
}

/// The generated part of docs/CONFIG.md.
fn render_doc_tables() -> String {
    let mut out = String::new();
    out.push_str(DOC_BEGIN);
    out.push_str("\n\n### Options\n\n");
    out.push_str("| Option | Aliases | Class | CONFIG SET | keel default | What keel does |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    let mut specs: Vec<&OptionSpec> = OPTIONS.iter().collect();
    specs.sort_by_key(|o| o.name);
    for o in specs {
        let aliases = o.alias.map(|a| format!("`{a}`")).unwrap_or_default();
        let set = if !o.mutable {
            "no"
        } else if o.protected {
            "protected"
        } else {
            "yes"
        };
        let default = match (o.kind, o.redis_default) {
            (Kind::Special(Special::Dir), _) => "working directory".to_string(),
            (_, Some(r)) => format!("{} (Redis: {})", doc_cell(o.default), doc_cell(r)),
            (_, None) => doc_cell(o.default),
        };
        let mut what = o.doc.to_string();
        if o.class == Class::Unsupported {
            what = format!("{what} Refused unless at its default: {}.", o.reason);
        }
        if o.hidden {
            what.push_str(" (Hidden: CONFIG GET needs the exact name.)");
        }
        out.push_str(&format!(
            "| `{}` | {aliases} | {} | {set} | {default} | {what} |\n",
            o.name,
            o.class.as_str()
        ));
    }
    out.push_str("\n### Directives\n\n| Directive | Class | What keel does |\n|---|---|---|\n");
    for d in DIRECTIVES {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            d.name,
            d.class.as_str(),
            d.doc
        ));
    }
    out.push('\n');
    out.push_str(DOC_END);
    out
}

#[test]
fn config_md_lists_every_option() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/CONFIG.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = render_doc_tables();
    let current = match (text.find(DOC_BEGIN), text.find(DOC_END)) {
        (Some(b), Some(e)) if b < e => &text[b..e + DOC_END.len()],
        _ => "",
    };
    if current == generated {
        return;
    }
    if std::env::var("KEEL_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        let new_text = if current.is_empty() {
            format!("{text}\n{generated}\n")
        } else {
            text.replacen(current, &generated, 1)
        };
        std::fs::write(&path, new_text).expect("write docs/CONFIG.md");
        return;
    }
    panic!(
        "docs/CONFIG.md is out of date with the option registry; run \
         `KEEL_UPDATE_DOCS=1 cargo test -p keel-server --lib config_md` and review the diff"
    );
}

#[test]
fn multi_argument_option_given_as_one_argument_is_split() {
    let c = Config::from_args(&[
        "--client-output-buffer-limit".to_string(),
        "pubsub 1mb 512kb 1".to_string(),
    ])
    .expect("load");
    let v = c.get_pairs(&[b"client-output-buffer-limit".as_slice()]);
    assert!(v[0].1.contains("pubsub 1048576 524288 1"), "{v:?}");
}
