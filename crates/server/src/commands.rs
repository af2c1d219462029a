//! Commands the server implements itself, because they need the connection or the
//! server's state: connection (PING, HELLO, AUTH, SELECT, RESET, QUIT, CLIENT),
//! introspection (INFO, COMMAND, CONFIG, SLOWLOG, LATENCY, MONITOR, DEBUG), pub/sub
//! (dispatched to `pubsub`) and
//! SHUTDOWN. Every name here is declared `Run::Server` in the engine's command
//! table; `run` dispatches on the table's name.

use crate::conn::{After, Conn, ReplyMode};
use crate::pubsub::Kind;
use crate::server::Server;
use bytes::Bytes;
use keel_engine::cmd::args::{is, ERR_NOT_INT, ERR_SYNTAX};
use keel_engine::command::spec::{Arg, BeginSearch, CommandFacts, FindKeys, KeySpec};
use keel_engine::{table, Command};
use keel_protocol::Frame;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn bulk_str(s: impl Into<String>) -> Frame {
    Frame::Bulk(Bytes::from(s.into()))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Appends `s` quoted the way Redis's `sdscatrepr` quotes (MONITOR, logs).
pub fn quote_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

fn parse_int(b: &[u8]) -> Result<i64, Frame> {
    keel_engine::util::parse_i64(b).ok_or_else(|| Frame::error(ERR_NOT_INT))
}

/// Runs a server-level command. `None`: send no reply.
pub async fn run(conn: &mut Conn, cmd: &'static Command, argv: &[Bytes]) -> Option<Frame> {
    match cmd.name() {
        "debug" => debug(conn, argv).await,
        "waitaof" => Some(waitaof(conn, argv).await),
        "exec" => {
            conn.in_exec = true;
            let r = crate::multi::exec(conn).await;
            conn.in_exec = false;
            r
        }
        _ => run_sync(conn, cmd, argv),
    }
}

/// Server commands that complete without waiting (all but DEBUG, WAITAOF, EXEC).
pub fn run_sync(conn: &mut Conn, cmd: &'static Command, argv: &[Bytes]) -> Option<Frame> {
    let server = conn.server.clone();
    let r = match cmd.name() {
        "ping" if argv.len() > 2 => arity(cmd),
        // A RESP2 client in subscriber mode gets PING's reply as a message.
        "ping" if conn.session.resp < 3 && conn.subs.total() > 0 => Frame::Array(vec![
            bulk_str("pong"),
            Frame::Bulk(argv.get(1).cloned().unwrap_or_default()),
        ]),
        "ping" => match argv.len() {
            1 => Frame::simple("PONG"),
            _ => Frame::Bulk(argv[1].clone()),
        },
        "echo" => Frame::Bulk(argv[1].clone()),
        "quit" => {
            conn.after = After::Close;
            Frame::ok()
        }
        "reset" => {
            conn.multi = None;
            conn.multi_error = false;
            crate::multi::unwatch(conn);
            conn.session = Default::default();
            conn.name = Bytes::new();
            conn.reply_mode = ReplyMode::On;
            conn.skip_next = false;
            conn.authenticated = server.hot.requirepass.read().is_empty();
            conn.feed_rx = None;
            crate::pubsub::leave_all(conn);
            conn.handle.info.lock().name.clear();
            Frame::simple("RESET")
        }
        "select" => match keel_engine::cmd::db::valid_db(&server.engine, &argv[1]) {
            Err(e) => e,
            Ok(n) => {
                conn.session.db = n;
                conn.handle.info.lock().db = n;
                Frame::ok()
            }
        },
        "auth" => auth(conn, argv),
        "hello" => {
            let r = hello(conn, argv);
            if let Some(o) = &conn.subs.outbox {
                o.resp.store(conn.session.resp, Ordering::Relaxed);
            }
            r
        }
        "time" => {
            let us = server.engine.clock().now_us();
            Frame::Array(vec![
                bulk_str((us / 1_000_000).to_string()),
                bulk_str((us % 1_000_000).to_string()),
            ])
        }
        "lastsave" => Frame::Integer(server.lastsave.load(Ordering::Relaxed) as i64),
        "info" => {
            let text = crate::info::info(&server, &argv[1..]);
            Frame::Verbatim(Bytes::from(text))
        }
        "config|get" => {
            let pats: Vec<&[u8]> = argv[2..].iter().map(|a| &a[..]).collect();
            let pairs = server.config.read().get_pairs(&pats);
            Frame::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (bulk_str(k), bulk_str(v)))
                    .collect(),
            )
        }
        "config|set" => {
            let local = conn.handle.peer.is_none_or(|p| p.ip().is_loopback());
            config_set(&server, argv, local)
        }
        "config|resetstat" => {
            reset_stats(&server);
            Frame::ok()
        }
        "config|rewrite" => match server.config.read().rewrite() {
            Ok(()) => {
                crate::notice!("CONFIG REWRITE executed with success.");
                Frame::ok()
            }
            Err(e) => Frame::error(e),
        },
        "memory|stats" => crate::info::memory_stats(&server),
        "memory|doctor" => {
            let (allocated, active, resident) = crate::info::allocator_stats();
            let mut issues = Vec::new();
            if allocated < 5 << 20 {
                Frame::Verbatim(Bytes::from_static(b"txt:Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."))
            } else {
                let peak = server.peak_memory.load(Ordering::Relaxed);
                if peak > allocated.saturating_mul(3) / 2 {
                    issues.push(format!(" * Peak memory: in the past this instance used more than 150% the memory that is currently using ({peak} vs {allocated} bytes). The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the keel instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the keel instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance."));
                }
                if active > allocated.saturating_mul(11) / 10 {
                    issues.push(format!(" * High allocator fragmentation: this instance has an allocator external fragmentation greater than 1.1 ({active} active vs {allocated} allocated bytes). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option."));
                }
                if resident > active.saturating_mul(11) / 10 + (10 << 20) {
                    issues.push(format!(" * High allocator RSS overhead: this instance has a resident memory {resident} bytes greater than the allocator's active memory {active} bytes. Try MEMORY PURGE."));
                }
                let text = if issues.is_empty() {
                    "txt:Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.".to_string()
                } else {
                    format!("txt:Sam, I detected a few issues in this keel instance memory implants:\n\n{}\n\nI'm here to keep you safe, Sam. I want to help you.", issues.join("\n\n"))
                };
                Frame::Verbatim(Bytes::from(text))
            }
        }
        "memory|purge" => {
            if crate::info::purge_allocator() {
                Frame::ok()
            } else {
                Frame::error("ERR Error purging dirty pages")
            }
        }
        "memory|malloc-stats" => Frame::Verbatim(Bytes::from(format!(
            "txt:{}",
            crate::info::malloc_stats_text()
        ))),
        "memory|help" => help(&[
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            "HELP",
            "    Print this help.",
        ]),
        "config|help" => help(&[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
            "HELP",
            "    Print this help.",
        ]),
        "command" => Frame::Array(table().all.iter().map(|c| command_info(c)).collect()),
        "command|count" => Frame::Integer(table().all.len() as i64),
        "command|info" => {
            if argv.len() == 2 {
                Frame::Array(table().all.iter().map(|c| command_info(c)).collect())
            } else {
                Frame::Array(
                    argv[2..]
                        .iter()
                        .map(|n| find_command(n).map_or(Frame::Null, command_info))
                        .collect(),
                )
            }
        }
        "command|docs" => {
            let list: Vec<&'static Command> = if argv.len() == 2 {
                table().all.clone()
            } else {
                argv[2..].iter().filter_map(|n| find_command(n)).collect()
            };
            Frame::Map(
                list.into_iter()
                    .map(|c| (bulk_str(c.name()), command_docs(c)))
                    .collect(),
            )
        }
        "command|list" => command_list(argv),
        "command|getkeys" => command_getkeys(&argv[2..]),
        "command|help" => help(&[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all commands.",
            "COUNT",
            "    Return the total number of commands in this server.",
            "LIST",
            "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full command.",
            "HELP",
            "    Print this help.",
        ]),
        "client|id" => Frame::Integer(conn.id as i64),
        "client|getname" => {
            if conn.name.is_empty() {
                Frame::Null
            } else {
                Frame::Bulk(conn.name.clone())
            }
        }
        "client|setname" => {
            let n = &argv[2];
            if n.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
                Frame::error(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                )
            } else {
                conn.name = n.clone();
                conn.handle.info.lock().name = lossy(n);
                Frame::ok()
            }
        }
        "client|setinfo" => {
            let v = lossy(&argv[3]);
            if v.chars().any(|c| !('!'..='~').contains(&c)) {
                Frame::error(format!(
                    "ERR {} cannot contain spaces, newlines or special characters.",
                    lossy(&argv[2]).to_lowercase()
                ))
            } else if is(&argv[2], "lib-name") {
                conn.lib_name = v.clone();
                conn.handle.info.lock().lib_name = v;
                Frame::ok()
            } else if is(&argv[2], "lib-ver") {
                conn.lib_ver = v.clone();
                conn.handle.info.lock().lib_ver = v;
                Frame::ok()
            } else {
                Frame::error(format!("ERR Unrecognized option '{}'", lossy(&argv[2])))
            }
        }
        "client|info" => {
            let mut info = conn.handle.info.lock().clone();
            // The running command, as Redis shows it (the shared info is only
            // refreshed after each batch of commands).
            info.last_cmd = conn.last_cmd;
            Frame::Verbatim(Bytes::from(client_line(&info) + "\n"))
        }
        "client|list" => client_list(&server, argv, conn),
        "client|kill" => client_kill(conn, argv),
        "client|reply" => {
            if is(&argv[2], "on") {
                conn.reply_mode = ReplyMode::On;
                conn.skip_next = false;
                Frame::ok()
            } else if is(&argv[2], "off") {
                conn.reply_mode = ReplyMode::Off;
                return None;
            } else if is(&argv[2], "skip") {
                if conn.reply_mode != ReplyMode::Off {
                    conn.skip_next = true;
                }
                return None;
            } else {
                Frame::error(ERR_SYNTAX)
            }
        }
        "client|unblock" => {
            let Some(id) = parse_int(&argv[2]).ok().filter(|v| *v >= 0) else {
                return Some(Frame::error("ERR value is not an integer or out of range"));
            };
            let error = match argv.get(3) {
                None => false,
                Some(m) if is(m, "timeout") => false,
                Some(m) if is(m, "error") => true,
                Some(_) => {
                    return Some(Frame::error(
                        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
                    ))
                }
            };
            Frame::Integer(i64::from(server.blocking.unblock(id as u64, error)))
        }
        "client|no-evict" => {
            if is(&argv[2], "on") {
                conn.no_evict = true;
                conn.handle.info.lock().no_evict = true;
                Frame::ok()
            } else if is(&argv[2], "off") {
                conn.no_evict = false;
                conn.handle.info.lock().no_evict = false;
                Frame::ok()
            } else {
                Frame::error(ERR_SYNTAX)
            }
        }
        "client|pause" => {
            if argv.len() > 4 {
                return Some(Frame::error(
                    "ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.",
                ));
            }
            // As Redis: the mode is checked before the timeout.
            let all = match argv.get(3) {
                None => true,
                Some(m) if is(m, "all") => true,
                Some(m) if is(m, "write") => false,
                Some(_) => return Some(Frame::error("ERR CLIENT PAUSE mode must be WRITE or ALL")),
            };
            let ms = match parse_int(&argv[2]) {
                Ok(ms) if ms >= 0 => ms as u64,
                Ok(_) => return Some(Frame::error("ERR timeout is negative")),
                Err(_) => {
                    return Some(Frame::error(
                        "ERR timeout is not an integer or out of range",
                    ))
                }
            };
            server
                .pause
                .pause(server.engine.now_ms().saturating_add(ms), all);
            Frame::ok()
        }
        "client|unpause" => {
            server.pause.unpause();
            Frame::ok()
        }
        "client|help" => help(&[
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are: ID, TYPE, ADDR, LADDR, SKIPME, MAXAGE.",
            "LIST [options ...]",
            "    Return information about client connections. Options: TYPE, ID.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <LIB-NAME|LIB-VER> <value>",
            "    Set client library name or version.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "HELP",
            "    Print this help.",
        ]),
        "slowlog|get" => {
            let count = match argv.get(2) {
                None => None,
                Some(a) => match parse_int(a) {
                    Ok(n) if n >= -1 => {
                        if n == -1 {
                            Some(usize::MAX)
                        } else {
                            Some(n as usize)
                        }
                    }
                    _ => {
                        return Some(Frame::error(
                            "ERR count should be greater than or equal to -1",
                        ))
                    }
                },
            };
            server.slowlog.lock().get(count)
        }
        "slowlog|len" => Frame::Integer(server.slowlog.lock().entries.len() as i64),
        "slowlog|reset" => {
            server.slowlog.lock().entries.clear();
            Frame::ok()
        }
        "slowlog|help" => help(&[
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
            "HELP",
            "    Print this help.",
        ]),
        "latency|latest" => {
            let l = server.latency.lock();
            Frame::Array(
                l.events
                    .iter()
                    .filter_map(|(name, (samples, max))| {
                        let (ts, ms) = samples.back()?;
                        Some(Frame::Array(vec![
                            bulk_str(name.clone()),
                            Frame::Integer(*ts as i64),
                            Frame::Integer(*ms as i64),
                            Frame::Integer(*max as i64),
                        ]))
                    })
                    .collect(),
            )
        }
        "latency|history" => {
            let l = server.latency.lock();
            match l.events.get(&lossy(&argv[2])) {
                None => Frame::Array(vec![]),
                Some((samples, _)) => Frame::Array(
                    samples
                        .iter()
                        .map(|(ts, ms)| {
                            Frame::Array(vec![
                                Frame::Integer(*ts as i64),
                                Frame::Integer(*ms as i64),
                            ])
                        })
                        .collect(),
                ),
            }
        }
        "latency|reset" => {
            let mut l = server.latency.lock();
            if argv.len() == 2 {
                let n = l.events.len();
                l.events.clear();
                Frame::Integer(n as i64)
            } else {
                let mut n = 0;
                for a in &argv[2..] {
                    if l.events.remove(&lossy(a)).is_some() {
                        n += 1;
                    }
                }
                Frame::Integer(n)
            }
        }
        "latency|doctor" => Frame::Verbatim(Bytes::from(latency_doctor(&server))),
        "latency|help" => help(&[
            "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HELP",
            "    Print this help.",
        ]),
        "monitor" => {
            if conn.feed_rx.is_none() {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let mut m = server.feeds.monitors.lock();
                m.push((conn.id, tx));
                server.feeds.monitor_count.store(m.len(), Ordering::Relaxed);
                conn.feed_rx = Some(rx);
                conn.handle.info.lock().monitor = true;
            }
            Frame::ok()
        }
        "multi" => crate::multi::multi(conn),
        "discard" => crate::multi::discard(conn),
        "watch" => crate::multi::watch(conn, argv),
        "unwatch" => {
            crate::multi::unwatch(conn);
            Frame::ok()
        }
        "bgrewriteaof" => match crate::aof::start_rewrite(&server) {
            Ok(()) => Frame::simple("Background append only file rewriting started"),
            Err(e) => Frame::error(e),
        },
        "shutdown" => return shutdown(conn, argv),
        "subscribe" => crate::pubsub::subscribe(conn, Kind::Channel, &argv[1..]),
        "psubscribe" => crate::pubsub::subscribe(conn, Kind::Pattern, &argv[1..]),
        "ssubscribe" if conn.in_exec => {
            Frame::error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
        }
        "ssubscribe" => crate::pubsub::subscribe(conn, Kind::Shard, &argv[1..]),
        "unsubscribe" => crate::pubsub::unsubscribe(conn, Kind::Channel, &argv[1..]),
        "punsubscribe" => crate::pubsub::unsubscribe(conn, Kind::Pattern, &argv[1..]),
        "sunsubscribe" => crate::pubsub::unsubscribe(conn, Kind::Shard, &argv[1..]),
        "publish" => Frame::Integer(server.pubsub.publish(Kind::Channel, &argv[1], &argv[2])),
        "spublish" => Frame::Integer(server.pubsub.publish(Kind::Shard, &argv[1], &argv[2])),
        "pubsub|channels"
        | "pubsub|shardchannels"
        | "pubsub|numsub"
        | "pubsub|shardnumsub"
        | "pubsub|numpat"
        | "pubsub|help" => {
            crate::pubsub::pubsub_command(conn, &cmd.name()["pubsub|".len()..], argv)
        }
        other => Frame::error(format!(
            "ERR '{other}' is declared as a server command but keel has no implementation"
        )),
    };
    Some(r)
}

fn arity(cmd: &Command) -> Frame {
    Frame::error(format!(
        "ERR wrong number of arguments for '{}' command",
        cmd.name()
    ))
}

fn help(lines: &[&str]) -> Frame {
    Frame::Array(
        lines
            .iter()
            .map(|l| Frame::Simple(Bytes::copy_from_slice(l.as_bytes())))
            .collect(),
    )
}

fn auth(conn: &mut Conn, argv: &[Bytes]) -> Frame {
    let pass = conn.server.hot.requirepass.read().clone();
    let (user, given) = match argv.len() {
        2 => (None, &argv[1]),
        3 => (Some(&argv[1]), &argv[2]),
        _ => return Frame::error(ERR_SYNTAX),
    };
    if pass.is_empty() && user.is_none() {
        return Frame::error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
    }
    let user_ok = user.is_none_or(|u| &u[..] == b"default");
    let pass_ok = pass.is_empty() || given[..] == *pass.as_bytes();
    if user_ok && pass_ok {
        conn.authenticated = true;
        conn.handle.info.lock().authenticated = true;
        Frame::ok()
    } else {
        Frame::error("WRONGPASS invalid username-password pair or user is disabled.")
    }
}

fn hello(conn: &mut Conn, argv: &[Bytes]) -> Frame {
    let mut i = 1;
    let mut proto = conn.session.resp;
    if argv.len() > 1 {
        let Ok(v) = parse_int(&argv[1]) else {
            return Frame::error("ERR Protocol version is not an integer or out of range");
        };
        if !(2..=3).contains(&v) {
            return Frame::error("NOPROTO unsupported protocol version");
        }
        proto = v as u8;
        i = 2;
    }
    let mut setname = None;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if is(&argv[i], "auth") && more >= 2 {
            let r = auth(
                conn,
                &[argv[i].clone(), argv[i + 1].clone(), argv[i + 2].clone()],
            );
            if r.is_error() {
                return r;
            }
            i += 3;
        } else if is(&argv[i], "setname") && more >= 1 {
            setname = Some(argv[i + 1].clone());
            i += 2;
        } else {
            return Frame::error(format!(
                "ERR Syntax error in HELLO option '{}'",
                lossy(&argv[i])
            ));
        }
    }
    if !conn.authenticated {
        return Frame::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(n) = setname {
        if n.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
            return Frame::error(
                "ERR Client names cannot contain spaces, newlines or special characters.",
            );
        }
        conn.handle.info.lock().name = lossy(&n);
        conn.name = n;
    }
    conn.session.resp = proto;
    conn.handle.info.lock().resp = proto;
    Frame::Map(vec![
        (bulk_str("server"), bulk_str("redis")),
        (bulk_str("version"), bulk_str(crate::info::REDIS_VERSION)),
        (bulk_str("proto"), Frame::Integer(proto as i64)),
        (bulk_str("id"), Frame::Integer(conn.id as i64)),
        (bulk_str("mode"), bulk_str("standalone")),
        (bulk_str("role"), bulk_str("master")),
        (bulk_str("modules"), Frame::Array(vec![])),
    ])
}

fn config_set(server: &std::sync::Arc<Server>, argv: &[Bytes], local: bool) -> Frame {
    if argv.len() < 4 {
        return Frame::error("ERR wrong number of arguments for 'config|set' command");
    }
    // An option without its value: Redis answers a syntax error.
    if argv.len() % 2 != 0 {
        return Frame::error(ERR_SYNTAX);
    }
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = argv[2..]
        .chunks(2)
        .map(|c| (c[0].to_vec(), c[1].to_vec()))
        .collect();
    let res = server.config.write().set_for_client(&pairs, local);
    match res {
        Ok(changed) => {
            server.refresh_hot();
            server
                .pubsub
                .set_limits(server.config.read().client_output_buffer_limits());
            for name in &changed {
                match name.as_str() {
                    "appendfsync" => crate::aof::apply_fsync_policy(server),
                    "appendonly" => {
                        let on = server.config.read().get_bool("appendonly");
                        if let Err(e) = crate::aof::set_appendonly(server, on) {
                            return Frame::error(e);
                        }
                    }
                    _ => {}
                }
            }
            Frame::ok()
        }
        Err(e) => Frame::error(e),
    }
}

fn reset_stats(server: &Server) {
    for s in &server.cmdstats {
        s.calls.store(0, Ordering::Relaxed);
        s.usec.store(0, Ordering::Relaxed);
        s.rejected.store(0, Ordering::Relaxed);
        s.failed.store(0, Ordering::Relaxed);
    }
    server.errorstats.lock().clear();
    let st = &server.stats;
    for a in [
        &st.connections_received,
        &st.commands_processed,
        &st.rejected_connections,
        &st.net_input_bytes,
        &st.net_output_bytes,
        &st.error_replies,
        &st.expire_cycle_cpu_ms,
        &st.client_query_buffer_limit_disconnections,
        &server.pubsub.obuf_disconnections,
    ] {
        a.store(0, Ordering::Relaxed);
    }
    server.engine.reset_stats();
}

/// A command (or `container|sub`) by name.
fn find_command(name: &[u8]) -> Option<&'static Command> {
    let n = lossy(name).to_lowercase();
    match n.split_once('|') {
        Some((c, s)) => table().get(c.as_bytes())?.subcommand(s.as_bytes()),
        None => table().get(n.as_bytes()),
    }
}

fn set_of(items: &[&str]) -> Frame {
    Frame::Set(
        items
            .iter()
            .map(|s| Frame::Simple(Bytes::copy_from_slice(s.as_bytes())))
            .collect(),
    )
}

fn key_spec_frame(k: &KeySpec) -> Frame {
    let (bt, bs) = match k.begin {
        BeginSearch::Index(i) => ("index", vec![(bulk_str("index"), Frame::Integer(i as i64))]),
        BeginSearch::Keyword(kw, from) => (
            "keyword",
            vec![
                (bulk_str("keyword"), bulk_str(kw)),
                (bulk_str("startfrom"), Frame::Integer(from as i64)),
            ],
        ),
        BeginSearch::Unknown => ("unknown", vec![]),
    };
    let (ft, fs) = match k.find {
        FindKeys::Range {
            lastkey,
            step,
            limit,
        } => (
            "range",
            vec![
                (bulk_str("lastkey"), Frame::Integer(lastkey as i64)),
                (bulk_str("keystep"), Frame::Integer(step as i64)),
                (bulk_str("limit"), Frame::Integer(limit as i64)),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            step,
        } => (
            "keynum",
            vec![
                (bulk_str("keynumidx"), Frame::Integer(keynumidx as i64)),
                (bulk_str("firstkey"), Frame::Integer(firstkey as i64)),
                (bulk_str("keystep"), Frame::Integer(step as i64)),
            ],
        ),
        FindKeys::Unknown => ("unknown", vec![]),
    };
    let flags: Vec<&str> = KEY_SPEC_FLAGS
        .iter()
        .filter(|(upper, _)| k.flags.iter().any(|f| f.eq_ignore_ascii_case(upper)))
        .map(|(_, shown)| *shown)
        .chain(k.flags.iter().copied().filter(|f| {
            !KEY_SPEC_FLAGS
                .iter()
                .any(|(u, _)| f.eq_ignore_ascii_case(u))
        }))
        .collect();
    Frame::Map(vec![
        (bulk_str("flags"), set_of(&flags)),
        (
            bulk_str("begin_search"),
            Frame::Map(vec![
                (bulk_str("type"), bulk_str(bt)),
                (bulk_str("spec"), Frame::Map(bs)),
            ]),
        ),
        (
            bulk_str("find_keys"),
            Frame::Map(vec![
                (bulk_str("type"), bulk_str(ft)),
                (bulk_str("spec"), Frame::Map(fs)),
            ]),
        ),
    ])
}

/// Command flags in the order Redis 7.0's `addReplyCommandFlags` lists them. Flags
/// missing here (`may_replicate`, `sentinel`, `only_sentinel`, `protected`, and
/// `touches_arbitrary_keys`, which Redis 7.0 does not report) are hidden, as in
/// Redis; `movablekeys` is derived from the key specs (see `movable_keys`).
const SHOWN_COMMAND_FLAGS: &[&str] = &[
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

/// ACL categories in the order of Redis's category table (`ACLCommandCategories`).
const ACL_CATEGORY_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// Key-spec flags in the order and case Redis's `addReplyFlagsForKeyArgs` uses.
const KEY_SPEC_FLAGS: &[(&str, &str)] = &[
    ("RO", "RO"),
    ("RW", "RW"),
    ("OW", "OW"),
    ("RM", "RM"),
    ("ACCESS", "access"),
    ("UPDATE", "update"),
    ("INSERT", "insert"),
    ("DELETE", "delete"),
    ("NOT_KEY", "not_key"),
    ("INCOMPLETE", "incomplete"),
    ("VARIABLE_FLAGS", "variable_flags"),
];

/// `items` reordered as `order` lists them (case-insensitively); items `order`
/// does not know come last, in their own order.
fn ordered<'a>(items: &[&'a str], order: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = order
        .iter()
        .filter(|o| items.iter().any(|i| i.eq_ignore_ascii_case(o)))
        .copied()
        .collect();
    out.extend(
        items
            .iter()
            .filter(|i| !order.iter().any(|o| i.eq_ignore_ascii_case(o))),
    );
    out
}

/// Whether Redis 7.0 marks the command `movablekeys`: as its
/// `populateCommandLegacyRangeSpec` decides, when the key specs cannot be expressed
/// as one legacy (first, last, step) range or a spec is incomplete. A key-extraction
/// function alone (SET's, for its variable flags) does not make keys movable.
fn movable_keys(specs: &[KeySpec]) -> bool {
    let incomplete = |k: &KeySpec| k.flags.iter().any(|f| f.eq_ignore_ascii_case("INCOMPLETE"));
    let mut prev_lastkey: i64 = 0;
    let mut lastkey: u32 = 0;
    let mut movable = false;
    for k in specs {
        let (
            BeginSearch::Index(pos),
            FindKeys::Range {
                lastkey: lk, step, ..
            },
        ) = (k.begin, k.find)
        else {
            movable = true;
            continue;
        };
        if specs.len() == 1 {
            return incomplete(k);
        }
        if step != 1 || (prev_lastkey != 0 && prev_lastkey != i64::from(pos) - 1) {
            movable = true;
            continue;
        }
        if incomplete(k) {
            movable = true;
        }
        let abs = if lk >= 0 { lk + pos } else { lk };
        // Redis compares these as unsigned, so a negative (open-ended) last key wins.
        lastkey = lastkey.max(abs as u32);
        prev_lastkey = i64::from(lastkey as i32);
    }
    movable
}

/// COMMAND INFO's flags for a command, as Redis 7.0 shows them.
fn shown_flags(f: &CommandFacts) -> Vec<&'static str> {
    let mut flags: Vec<&'static str> = f
        .flags
        .iter()
        .copied()
        .filter(|fl| *fl != "movablekeys")
        .collect();
    if movable_keys(f.key_specs) {
        flags.push("movablekeys");
    }
    SHOWN_COMMAND_FLAGS
        .iter()
        .copied()
        .filter(|s| flags.contains(s))
        .collect()
}

/// COMMAND INFO's 10-element description of a command.
pub fn command_info(c: &Command) -> Frame {
    let f: &CommandFacts = c.facts;
    Frame::Array(vec![
        bulk_str(f.name),
        Frame::Integer(f.arity as i64),
        set_of(&shown_flags(f)),
        Frame::Integer(f.first_key as i64),
        Frame::Integer(f.last_key as i64),
        Frame::Integer(f.step as i64),
        set_of(&ordered(f.acl, ACL_CATEGORY_ORDER)),
        Frame::Set(
            f.tips
                .iter()
                .map(|t| Frame::Simple(Bytes::copy_from_slice(t.as_bytes())))
                .collect(),
        ),
        Frame::Array(f.key_specs.iter().map(key_spec_frame).collect()),
        Frame::Array(c.subcommands.iter().map(|s| command_info(s)).collect()),
    ])
}

fn arg_docs(a: &Arg) -> Frame {
    let mut m = vec![
        (bulk_str("name"), bulk_str(a.name)),
        (bulk_str("type"), bulk_str(a.kind)),
    ];
    if let Some(d) = a.display {
        m.push((bulk_str("display_text"), bulk_str(d)));
    } else if a.kind != "pure-token" && a.kind != "oneof" && a.kind != "block" {
        m.push((bulk_str("display_text"), bulk_str(a.name)));
    }
    if a.key_spec_index >= 0 {
        m.push((
            bulk_str("key_spec_index"),
            Frame::Integer(a.key_spec_index as i64),
        ));
    }
    if let Some(t) = a.token {
        m.push((bulk_str("token"), bulk_str(t)));
    }
    if let Some(s) = a.since {
        m.push((bulk_str("since"), bulk_str(s)));
    }
    let mut flags = Vec::new();
    if a.optional {
        flags.push("optional");
    }
    if a.multiple {
        flags.push("multiple");
    }
    if a.multiple_token {
        flags.push("multiple_token");
    }
    if !flags.is_empty() {
        m.push((bulk_str("flags"), set_of(&flags)));
    }
    if !a.args.is_empty() {
        m.push((
            bulk_str("arguments"),
            Frame::Array(a.args.iter().map(arg_docs).collect()),
        ));
    }
    Frame::Map(m)
}

/// COMMAND DOCS's description of a command: facts only (group, since,
/// complexity, arguments) and keel's one-line summary.
fn command_docs(c: &Command) -> Frame {
    let f = c.facts;
    let mut m = vec![
        (
            bulk_str("summary"),
            bulk_str(crate::summaries::summary(f.name)),
        ),
        (bulk_str("since"), bulk_str(f.since)),
        (bulk_str("group"), bulk_str(f.group)),
    ];
    if !f.complexity.is_empty() {
        m.push((bulk_str("complexity"), bulk_str(f.complexity)));
    }
    if !f.doc_flags.is_empty() {
        m.push((bulk_str("doc_flags"), set_of(f.doc_flags)));
    }
    if !f.args.is_empty() {
        m.push((
            bulk_str("arguments"),
            Frame::Array(f.args.iter().map(arg_docs).collect()),
        ));
    }
    if !c.subcommands.is_empty() {
        m.push((
            bulk_str("subcommands"),
            Frame::Map(
                c.subcommands
                    .iter()
                    .map(|s| (bulk_str(s.name()), command_docs(s)))
                    .collect(),
            ),
        ));
    }
    Frame::Map(m)
}

fn command_list(argv: &[Bytes]) -> Frame {
    let every: Vec<&'static Command> = table().every().collect();
    let names = |filter: &dyn Fn(&Command) -> bool| {
        Frame::Array(
            every
                .iter()
                .filter(|c| filter(c))
                .map(|c| bulk_str(c.name()))
                .collect(),
        )
    };
    match argv.len() {
        2 => names(&|_| true),
        5 if is(&argv[2], "filterby") => {
            let v = lossy(&argv[4]);
            if is(&argv[3], "module") {
                Frame::Array(vec![])
            } else if is(&argv[3], "aclcat") {
                let cat = format!("@{}", v.to_lowercase());
                names(&|c| c.facts.acl.contains(&cat.as_str()))
            } else if is(&argv[3], "pattern") {
                names(&|c| keel_engine::glob::matches(v.as_bytes(), c.name().as_bytes(), true))
            } else {
                Frame::error(ERR_SYNTAX)
            }
        }
        _ => Frame::error(ERR_SYNTAX),
    }
}

fn command_getkeys(args: &[Bytes]) -> Frame {
    let cmd = match keel_engine::resolve(args) {
        keel_engine::Lookup::Found(c) => c,
        keel_engine::Lookup::Arity(_) => {
            return Frame::error("ERR Invalid number of arguments specified for command")
        }
        _ => return Frame::error("ERR Invalid command specified"),
    };
    let mut pos = Vec::new();
    if cmd.key_positions(args, &mut pos).is_none() {
        return Frame::error("ERR Invalid arguments specified for command");
    }
    if pos.is_empty() {
        return Frame::error("ERR The command has no key arguments");
    }
    Frame::Array(
        pos.iter()
            .filter_map(|&p| args.get(p))
            .map(|k| Frame::Bulk(k.clone()))
            .collect(),
    )
}

/// One CLIENT LIST line.
pub fn client_line(i: &crate::clients::ClientInfo) -> String {
    let now = keel_engine::Clock::now_ms(&keel_engine::SystemClock);
    let mut flags = String::new();
    if i.monitor {
        flags.push('O');
    }
    if i.is_pubsub() {
        flags.push('P');
    }
    if i.no_evict {
        flags.push('e');
    }
    if i.blocked {
        flags.push('b');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        i.id,
        i.addr,
        i.laddr,
        i.fd,
        i.name,
        now.saturating_sub(i.created_ms) / 1000,
        now.saturating_sub(i.last_interaction_ms) / 1000,
        flags,
        i.db,
        i.sub,
        i.psub,
        i.ssub,
        i.qbuf,
        i.omem,
        i.qbuf + i.omem + 16384,
        if i.last_cmd.is_empty() { "NULL" } else { i.last_cmd },
        i.resp,
        i.lib_name,
        i.lib_ver
    )
}

/// The connected clients, without those already killed whose task has not exited
/// yet (Redis frees a killed client at once, so it is neither listed nor killed twice).
fn live_clients(server: &Server) -> Vec<std::sync::Arc<crate::clients::ClientHandle>> {
    let mut all = server.clients.snapshot();
    all.retain(|c| !c.kill.is_raised());
    all
}

fn client_list(server: &Server, argv: &[Bytes], conn: &Conn) -> Frame {
    let mut ids: Option<Vec<u64>> = None;
    let mut pubsub_type: Option<bool> = None;
    let mut i = 2;
    while i < argv.len() {
        if is(&argv[i], "type") && i + 1 < argv.len() {
            let t = lossy(&argv[i + 1]).to_lowercase();
            match t.as_str() {
                "normal" | "pubsub" => {}
                "master" | "replica" | "slave" => return Frame::Verbatim(Bytes::new()),
                _ => {
                    return Frame::error(format!(
                        "ERR Unknown client type '{}'",
                        lossy(&argv[i + 1])
                    ))
                }
            }
            pubsub_type = Some(t == "pubsub");
            i += 2;
        } else if is(&argv[i], "id") && i + 1 < argv.len() {
            let mut v = Vec::new();
            for a in &argv[i + 1..] {
                match parse_int(a) {
                    Ok(n) if n > 0 => v.push(n as u64),
                    _ => return Frame::error("ERR Invalid client ID"),
                }
            }
            ids = Some(v);
            i = argv.len();
        } else {
            return Frame::error(ERR_SYNTAX);
        }
    }
    let mut out = String::new();
    for c in live_clients(server) {
        let mut info = c.info.lock().clone();
        if ids.as_ref().is_some_and(|v| !v.contains(&info.id))
            || pubsub_type.is_some_and(|p| p != info.is_pubsub())
        {
            continue;
        }
        if info.id == conn.id {
            info.last_cmd = conn.last_cmd;
        }
        out.push_str(&client_line(&info));
        out.push('\n');
    }
    Frame::Verbatim(Bytes::from(out))
}

fn client_kill(conn: &mut Conn, argv: &[Bytes]) -> Frame {
    let server = conn.server.clone();
    if argv.len() == 3 {
        // Old form: CLIENT KILL addr:port.
        let addr = lossy(&argv[2]);
        for c in live_clients(&server) {
            if c.info.lock().addr == addr {
                c.kill();
                if c.info.lock().id == conn.id {
                    conn.after = After::Close;
                }
                return Frame::ok();
            }
        }
        return Frame::error("ERR No such client");
    }
    if argv.len() % 2 != 0 {
        return Frame::error(ERR_SYNTAX);
    }
    let (mut id, mut addr, mut laddr, mut skipme, mut maxage, mut typ) =
        (None, None, None, true, None, None);
    for pair in argv[2..].chunks(2) {
        let v = &pair[1];
        if is(&pair[0], "id") {
            match parse_int(v) {
                Ok(n) if n > 0 => id = Some(n as u64),
                _ => return Frame::error("ERR client-id should be greater than 0"),
            }
        } else if is(&pair[0], "addr") {
            addr = Some(lossy(v));
        } else if is(&pair[0], "laddr") {
            laddr = Some(lossy(v));
        } else if is(&pair[0], "type") {
            let t = lossy(v).to_lowercase();
            if !matches!(
                t.as_str(),
                "normal" | "master" | "slave" | "replica" | "pubsub"
            ) {
                return Frame::error(format!("ERR Unknown client type '{}'", lossy(v)));
            }
            typ = Some(t);
        } else if is(&pair[0], "user") {
            if &v[..] != b"default" {
                return Frame::error(format!("ERR No such user '{}'", lossy(v)));
            }
        } else if is(&pair[0], "skipme") {
            if is(v, "yes") {
                skipme = true;
            } else if is(v, "no") {
                skipme = false;
            } else {
                return Frame::error(ERR_SYNTAX);
            }
        } else if is(&pair[0], "maxage") {
            match parse_int(v) {
                Ok(n) if n >= 0 => maxage = Some(n as u64),
                _ => return Frame::error(ERR_SYNTAX),
            }
        } else {
            return Frame::error(ERR_SYNTAX);
        }
    }
    let now = server.engine.now_ms();
    let mut killed = 0;
    for c in live_clients(&server) {
        let info = c.info.lock().clone();
        if id.is_some_and(|i| i != info.id)
            || addr.as_ref().is_some_and(|a| *a != info.addr)
            || laddr.as_ref().is_some_and(|a| *a != info.laddr)
            || typ.as_ref().is_some_and(|t| match t.as_str() {
                "normal" => info.is_pubsub(),
                "pubsub" => !info.is_pubsub(),
                _ => true,
            })
            || maxage.is_some_and(|m| now.saturating_sub(info.created_ms) / 1000 < m)
            || (skipme && info.id == conn.id)
        {
            continue;
        }
        c.kill();
        if info.id == conn.id {
            conn.after = After::Close;
        }
        killed += 1;
    }
    Frame::Integer(killed)
}

fn latency_doctor(server: &Server) -> String {
    let l = server.latency.lock();
    if l.events.is_empty() {
        return "Dave, no latency spike was observed during the lifetime of this keel instance, not in the slightest bit. I honestly think you ought to sleep a little better.\n".into();
    }
    let mut s = String::from("Dave, I have observed latency spikes in this keel instance.\n\n");
    for (i, (name, (samples, max))) in l.events.iter().enumerate() {
        let avg = samples.iter().map(|x| x.1).sum::<u64>() / samples.len().max(1) as u64;
        s.push_str(&format!(
            "{}. {}: {} latency spikes (average {}ms, worst {}ms).\n",
            i + 1,
            name,
            samples.len(),
            avg,
            max
        ));
    }
    s.push_str(
        "\nThreshold: latency-monitor-threshold; slow commands are listed by SLOWLOG GET.\n",
    );
    s
}

async fn debug(conn: &mut Conn, argv: &[Bytes]) -> Option<Frame> {
    let server = conn.server.clone();
    let sub = lossy(&argv[1]).to_lowercase();
    let r = match sub.as_str() {
        "digest" if argv.len() == 2 => Frame::Simple(Bytes::from(keel_engine::digest::hex(
            &keel_engine::digest::digest(&server.engine),
        ))),
        "digest-value" => Frame::Array(
            argv[2..]
                .iter()
                .map(|k| {
                    let d = keel_engine::digest::digest_value(&server.engine, conn.session.db, k);
                    Frame::Simple(Bytes::from(keel_engine::digest::hex(&d)))
                })
                .collect(),
        ),
        "sleep" if argv.len() == 3 => {
            let secs = keel_engine::util::parse_f64(&argv[2])
                .unwrap_or(0.0)
                .clamp(0.0, 3600.0);
            // DEBUG SLEEP blocks the whole server in Redis; here it blocks this client.
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            Frame::ok()
        }
        "set-active-expire" if argv.len() == 3 => {
            // Redis reads the flag with atoi(): "00" disables, "abc" disables too.
            server.engine.set_active_expire(atoi(&argv[2]) != 0);
            Frame::ok()
        }
        "object" if argv.len() == 3 => {
            let lru_now = keel_engine::value::lru_clock(server.engine.now_ms());
            let limits = server.engine.limits().get();
            match keel_engine::inspect::with_entry(&server.engine, conn.session.db, &argv[2], |e| {
                format!(
                    "Value at:0x{:x} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                    e as *const _ as usize,
                    keel_engine::cmd::keys::refcount(&e.value),
                    e.value.encoding(),
                    serialized_len(&e.value, &limits),
                    e.lru(),
                    lru_now.wrapping_sub(e.lru()) & ((1 << 24) - 1)
                )
            }) {
                Some(s) => Frame::Simple(Bytes::from(s)),
                None => Frame::error("ERR no such key"),
            }
        }
        "log" if argv.len() == 3 => {
            crate::warning!("DEBUG LOG: {}", lossy(&argv[2]));
            Frame::ok()
        }
        "effects" if argv.len() == 2 => {
            // keel's feed of effects (what the AOF logs), one line per effect:
            // "+<db> \"ARG\" \"ARG\"...". Like MONITOR, the connection only receives.
            if conn.feed_rx.is_none() {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let mut e = server.feeds.effects.lock();
                e.push((conn.id, tx));
                server.feeds.effects_count.store(e.len(), Ordering::Relaxed);
                conn.feed_rx = Some(rx);
            }
            Frame::ok()
        }
        "reload" | "loadaof" if argv.len() == 2 => {
            let s = server.clone();
            match tokio::task::spawn_blocking(move || crate::aof::reload(&s)).await {
                Ok(Ok(())) => Frame::ok(),
                Ok(Err(e)) => Frame::error(e),
                Err(e) => Frame::error(format!("ERR reload failed: {e}")),
            }
        }
        "help" if argv.len() == 2 => help(&[
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "EFFECTS",
            "    Turn this connection into a feed of the effects every write produces.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show low level info about the key and associated value.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not accessed.",
            "SLEEP <seconds>",
            "    Stop the client for <seconds>. Decimals allowed.",
            "HELP",
            "    Print this help.",
        ]),
        _ => Frame::error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            lossy(&argv[1])
        )),
    };
    Some(r)
}

/// WAITAOF numlocal numreplicas timeout: waits until this client's writes are
/// fsynced locally (keel has no replicas: numreplicas > 0 waits for the timeout).
async fn waitaof(conn: &mut Conn, argv: &[Bytes]) -> Frame {
    let server = conn.server.clone();
    let (Ok(numlocal), Ok(numreplicas)) = (parse_int(&argv[1]), parse_int(&argv[2])) else {
        return Frame::error(ERR_NOT_INT);
    };
    let timeout = match parse_int(&argv[3]) {
        Ok(t) if t >= 0 => t as u64,
        Ok(_) => return Frame::error("ERR timeout is negative"),
        Err(_) => return Frame::error("ERR timeout is not an integer or out of range"),
    };
    if numlocal < 0 || numreplicas < 0 {
        return Frame::error(ERR_NOT_INT);
    }
    let Some(w) = server.persistence.writer() else {
        if numlocal > 0 {
            return Frame::error(
                "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.",
            );
        }
        return Frame::Array(vec![Frame::Integer(0), Frame::Integer(0)]);
    };
    let ticket = conn.session.ticket;
    let deadline =
        (timeout > 0).then(|| std::time::Instant::now() + Duration::from_millis(timeout));
    let mut local = (w.status.durable_ticket.load(Ordering::Acquire) >= ticket) as i64;
    if local == 0 && numlocal > 0 {
        // Ask for the fsync now rather than waiting for the next second.
        let w2 = w.clone();
        let _ =
            tokio::task::spawn_blocking(move || w2.flush_and_sync(Duration::from_secs(5))).await;
        local = (w.status.durable_ticket.load(Ordering::Acquire) >= ticket) as i64;
    }
    if numreplicas > 0 || local < numlocal {
        match deadline {
            Some(d) => tokio::time::sleep_until(d.into()).await,
            None if local < numlocal => {
                // Block until durable (the fsync thread publishes progress).
                let mut rx = w.durable_rx();
                while *rx.borrow_and_update() < ticket {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            }
            None => {}
        }
        local = (w.status.durable_ticket.load(Ordering::Acquire) >= ticket) as i64;
    }
    Frame::Array(vec![Frame::Integer(local), Frame::Integer(0)])
}

/// C's `atoi`: optional leading spaces and sign, then digits up to the first
/// non-digit; 0 when there are none.
fn atoi(b: &[u8]) -> i64 {
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let neg = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut n: i64 = 0;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
        i += 1;
    }
    if neg {
        -n
    } else {
        n
    }
}

/// DEBUG OBJECT's `serializedlength`: the bytes the value takes in an RDB file
/// (`rdbSavedObjectLen`, without the type byte), from keel's RDB codec, which
/// writes what Redis writes (integer encoding, LZF compression as with the
/// default `rdbcompression yes`, the encoding's packed form).
fn serialized_len(v: &keel_engine::value::Value, t: &keel_engine::types::Thresholds) -> usize {
    keel_engine::rdb::object_len(v, t)
}

fn shutdown(conn: &mut Conn, argv: &[Bytes]) -> Option<Frame> {
    let mut abort = false;
    for a in &argv[1..] {
        if is(a, "nosave") || is(a, "save") || is(a, "now") || is(a, "force") {
        } else if is(a, "abort") {
            abort = true;
        } else {
            return Some(Frame::error(ERR_SYNTAX));
        }
    }
    if abort {
        return Some(Frame::error("ERR No shutdown in progress."));
    }
    conn.server.request_shutdown();
    conn.after = After::Close;
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_engine::value::Value;

    fn val(s: &str) -> Value {
        Value::string(s.as_bytes())
    }

    #[test]
    fn serialized_lengths_follow_redis_rdb_encoding() {
        // Values Redis 7.0.15's DEBUG OBJECT reports.
        let t = keel_engine::types::Thresholds::default();
        let len = |v: &Value| serialized_len(v, &t);
        assert_eq!(len(&val("abc")), 4);
        assert_eq!(len(&val("123")), 2);
        assert_eq!(len(&val("-128")), 2);
        assert_eq!(len(&val("128")), 3);
        assert_eq!(len(&val("32768")), 5);
        assert_eq!(len(&val("2147483648")), 11);
        assert_eq!(len(&val("0123")), 5);
        assert_eq!(len(&val("")), 1);
        // 64 x's compress to 9 bytes (LZF marker, two lengths, data).
        assert_eq!(len(&val(&"x".repeat(64))), 13);
        let raw = Value::Str {
            data: Bytes::from_static(b"77").into(),
            form: keel_engine::value::Form::Raw,
            lru: keel_engine::value::LRU_UNSET,
        };
        assert_eq!(len(&raw), 2);
    }

    #[test]
    fn atoi_as_c() {
        assert_eq!(atoi(b"0"), 0);
        assert_eq!(atoi(b"00"), 0);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b" -2x"), -2);
    }

    #[test]
    fn command_info_flags_as_redis_7_0() {
        let facts = |n: &str| find_command(n.as_bytes()).expect(n).facts;
        for n in [
            "set",
            "get",
            "mset",
            "rename",
            "copy",
            "del",
            "object|encoding",
        ] {
            assert!(!movable_keys(facts(n).key_specs), "{n}");
        }
        assert_eq!(shown_flags(facts("set")), ["write", "denyoom"]);
        // Flags Redis hides, and Redis's order.
        assert_eq!(
            shown_flags(facts("hello")),
            [
                "noscript",
                "loading",
                "stale",
                "fast",
                "no_auth",
                "allow_busy"
            ]
        );
        assert_eq!(shown_flags(facts("scan")), ["readonly"]);
        assert_eq!(
            ordered(facts("get").acl, ACL_CATEGORY_ORDER),
            ["@read", "@string", "@fast"]
        );
    }
}
