//! One client connection: read, parse every complete request in the buffer,
//! execute each, encode the replies, and write them back with one write per batch.
//!
//! The connection owns its per-client state (selected database, protocol version,
//! authentication, name, reply mode). Protocol errors get Redis's `-ERR Protocol
//! error: ...` reply and close this connection only.

use crate::clients::{ClientHandle, ClientInfo};
use crate::server::Server;
use crate::warning;
use bytes::{Bytes, BytesMut};
use keel_engine::{Command, Lookup, Run, Session};
use keel_protocol::{Frame, Limits, RequestParser};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
}

/// What happens to the connection after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    Continue,
    /// Write pending replies, then close (QUIT, protocol error).
    Close,
}

pub struct Conn {
    pub server: Arc<Server>,
    pub id: u64,
    pub session: Session,
    pub authenticated: bool,
    pub name: Bytes,
    pub reply_mode: ReplyMode,
    pub skip_next: bool,
    pub handle: Arc<ClientHandle>,
    pub peer: String,
    pub local: String,
    pub after: After,
    /// Lines for this client from MONITOR or the effects feed.
    pub feed_rx: Option<mpsc::UnboundedReceiver<Bytes>>,
    pub created: Instant,
    pub lib_name: String,
    pub lib_ver: String,
    pub no_evict: bool,
    pub last_cmd: &'static str,
    /// Highest durability ticket this connection has already waited for.
    pub acked_ticket: u64,
    /// Commands queued since MULTI.
    pub multi: Option<Vec<(&'static Command, Vec<Bytes>)>>,
    /// An error while queuing: EXEC will answer EXECABORT.
    pub multi_error: bool,
    /// Keys this client WATCHes, and the flag the effects sink raises when one changes.
    pub watching: Vec<(usize, Bytes)>,
    pub watch_dirty: Arc<std::sync::atomic::AtomicBool>,
    /// Pub/sub subscriptions and the queue of messages for this client.
    pub subs: crate::pubsub::ClientSubs,
    /// Queued pub/sub bytes moved into the write buffer but not yet written.
    pub subs_owed: u64,
    /// Running the queue of EXEC.
    pub in_exec: bool,
    /// A blocking command that found nothing: the serve loop parks the client.
    pub pending_block: Option<Arc<crate::blocking::Waiter>>,
    /// Clock reads shared along a pipelined batch (see [`BatchClock`]).
    pub clock: BatchClock,
    /// Calls and time not yet added to the shared counters (see [`StatRun`]).
    pub stat_run: StatRun,
}

/// A run of calls to one command whose counts are not yet in the server's
/// shared counters. Adding each call to them costs three atomic
/// read-modify-writes (calls, time, total commands), each a full barrier;
/// a pipelined batch is usually one command repeated, so the counts are
/// summed here and published when the command changes, when the batch's
/// replies are about to be written, and before a server command runs (INFO
/// on the same connection then counts everything before it). Anyone who has
/// seen a reply therefore sees the call counted.
#[derive(Default)]
pub struct StatRun {
    /// The command's id + 1 (0: no run).
    id: usize,
    calls: u64,
    usec: u64,
}

impl StatRun {
    fn add(&mut self, server: &Server, id: usize, us: u64) {
        if self.id != id + 1 {
            self.publish(server);
            self.id = id + 1;
        }
        self.calls += 1;
        self.usec += us;
    }

    pub fn publish(&mut self, server: &Server) {
        if self.calls == 0 {
            return;
        }
        if let Some(stat) = self.id.checked_sub(1).and_then(|i| server.cmdstats.get(i)) {
            stat.calls.fetch_add(self.calls, Ordering::Relaxed);
            stat.usec.fetch_add(self.usec, Ordering::Relaxed);
        }
        server
            .stats
            .commands_processed
            .fetch_add(self.calls, Ordering::Relaxed);
        self.calls = 0;
        self.usec = 0;
    }
}

/// One clock read per command instead of three. In a batch, the instant a
/// command ends is the instant the next one starts (its duration, for
/// INFO commandstats and the slow log), and the wall-clock time the engine
/// sees (for expiry) is one wall-clock read at the batch's start plus the
/// durations of the commands before it. Anything that waits in between (a
/// flush, a blocked client, CLIENT PAUSE) drops the chain, and the next
/// command reads the clocks itself.
///
/// The instants are `quanta`'s: the CPU's time-stamp counter, scaled by a
/// calibration made once at start-up ([`warm_clock`]), where the CPU has an
/// invariant one; the OS's monotonic clock otherwise. On this project's
/// virtual machines `clock_gettime` cost 25 ns or more a call, 4% of a
/// pipelined GET (BENCHMARKS.md).
#[derive(Default)]
pub struct BatchClock {
    /// When the previous command of the batch ended.
    mark: Option<quanta::Instant>,
    /// Wall-clock nanoseconds at `mark`.
    mark_wall_ns: u64,
}

/// Calibrates the command clock ([`BatchClock`]) now, at start-up, instead
/// of in the first command (up to 200 ms of busy-waiting in `quanta`).
pub fn warm_clock() {
    let _ = quanta::Instant::now();
}

impl BatchClock {
    fn start_batch(&mut self, wall_us: u64) {
        self.mark = Some(quanta::Instant::now());
        self.mark_wall_ns = wall_us.saturating_mul(1000);
    }

    fn break_chain(&mut self) {
        self.mark = None;
    }

    /// The wall-clock milliseconds at the end of the batch's last command,
    /// while the chain holds (None: read the clock).
    fn wall_ms(&self) -> Option<u64> {
        self.mark.map(|_| self.mark_wall_ns / 1_000_000)
    }

    /// The start of a command, and the wall-clock milliseconds the engine is
    /// to use for it (None: let it read the clock).
    fn command_start(&mut self) -> (quanta::Instant, Option<u64>) {
        match self.mark.take() {
            Some(m) => (m, Some(self.mark_wall_ns / 1_000_000)),
            None => (quanta::Instant::now(), None),
        }
    }

    /// A chained command that started at `command_start` ended at `end`,
    /// `took` later: the next one starts there.
    fn chain(&mut self, end: quanta::Instant, took: Duration) {
        self.mark = Some(end);
        self.mark_wall_ns = self.mark_wall_ns.saturating_add(took.as_nanos() as u64);
    }
}

pub async fn handle(server: Arc<Server>, stream: TcpStream, peer: SocketAddr) {
    server
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
    let mut stream = stream;
    let maxclients = server.hot.maxclients.load(Ordering::Relaxed) as usize;
    if server.clients.len() >= maxclients {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let protected = {
        let c = server.config.read();
        c.get_bool("protected-mode") && c.get_str("requirepass").is_empty()
    };
    if protected && !peer.ip().is_loopback() && !all_binds_local(&server) {
        let _ = stream.write_all(PROTECTED_MSG.as_bytes()).await;
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        return;
    }
    let _ = stream.set_nodelay(true);
    let keepalive = server.config.read().get_i64("tcp-keepalive");
    if keepalive > 0 {
        let sock = socket2::SockRef::from(&stream);
        let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive as u64));
        let _ = sock.set_tcp_keepalive(&ka);
    }
    let id = server.clients.next_id();
    let local = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let now_ms = server.engine.now_ms();
    let authenticated = server.hot.requirepass.read().is_empty();
    let fd = {
        use std::os::fd::AsRawFd;
        stream.as_raw_fd() as i64
    };
    let handle = Arc::new(ClientHandle {
        info: parking_lot::Mutex::new(ClientInfo {
            id,
            addr: peer.to_string(),
            laddr: local.clone(),
            fd,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            resp: 2,
            authenticated,
            ..Default::default()
        }),
        kill: Default::default(),
        peer: Some(peer),
    });
    server.clients.add(handle.clone());
    let mut conn = Conn {
        server: server.clone(),
        id,
        session: Session {
            may_block: true,
            ..Session::default()
        },
        authenticated,
        name: Bytes::new(),
        reply_mode: ReplyMode::On,
        skip_next: false,
        handle,
        peer: peer.to_string(),
        local,
        after: After::Continue,
        feed_rx: None,
        created: Instant::now(),
        lib_name: String::new(),
        lib_ver: String::new(),
        no_evict: false,
        last_cmd: "NULL",
        acked_ticket: 0,
        multi: None,
        multi_error: false,
        watching: Vec::new(),
        watch_dirty: Default::default(),
        subs: Default::default(),
        subs_owed: 0,
        in_exec: false,
        pending_block: None,
        clock: BatchClock::default(),
        stat_run: StatRun::default(),
    };
    conn.serve(stream).await;
    conn.stat_run.publish(&server);
    conn.leave_feeds();
    crate::pubsub::leave_all(&mut conn);
    crate::multi::unwatch(&mut conn);
    server.clients.remove(id);
}

const PROTECTED_MSG: &str = "-DENIED keel is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to keel you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to keel from the same host the server is running, however MAKE SURE keel is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the keel configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

fn all_binds_local(server: &Server) -> bool {
    // Protected mode only matters when keel listens beyond loopback without a
    // password; with an explicit non-wildcard bind Redis also lets clients in.
    server
        .config
        .read()
        .bind_addrs()
        .iter()
        .all(|b| !matches!(b.trim_start_matches('-'), "*" | "::*" | "0.0.0.0" | "::"))
}

/// Most commands parsed from one read before any of them runs (see
/// `Conn::serve`): redis-benchmark's pipeline of 16 fits, with room.
const BATCH: usize = 32;

/// Whether `argv` may change the client's authentication, which changes how
/// the commands after it are parsed.
fn may_change_auth(argv: &[Bytes]) -> bool {
    argv.first().is_some_and(|n| {
        [&b"auth"[..], b"hello", b"reset"]
            .iter()
            .any(|c| n.eq_ignore_ascii_case(c))
    })
}

impl Conn {
    async fn serve(&mut self, stream: TcpStream) {
        let out = crate::output::Output::new(stream);
        self.serve_on(&out).await;
        // Deferred replies go out only if the records they wait for are safe.
        let needs = out.needs();
        let safe = needs == 0
            || self
                .server
                .persistence
                .writer()
                .is_none_or(|w| w.settle(needs));
        out.close(safe);
        let _ = socket2::SockRef::from(&out.stream).shutdown(std::net::Shutdown::Write);
    }

    /// Brings what CLIENT LIST shows of this connection up to date: after a
    /// turn's commands, and before a wait in the middle of them. `qbuf` is the
    /// bytes of input still buffered.
    fn publish_info(&self, qbuf: usize) {
        let mut info = self.handle.info.lock();
        info.last_interaction_ms = self
            .clock
            .wall_ms()
            .unwrap_or_else(|| self.server.engine.now_ms());
        info.qbuf = qbuf;
        info.db = self.session.db;
        info.resp = self.session.resp;
        info.last_cmd = self.last_cmd;
    }

    async fn serve_on(&mut self, out: &Arc<crate::output::Output>) {
        let stream = &out.stream;
        let mut rbuf = BytesMut::with_capacity(16 * 1024);
        let mut wbuf = BytesMut::with_capacity(16 * 1024);
        let mut parser = RequestParser::new();
        // Reused for every batch: no allocation per command for its arguments.
        let mut batch: Vec<Vec<Bytes>> = Vec::new();
        let mut lookups: Vec<Lookup> = Vec::new();
        let mut resolver = keel_engine::Resolver::default();
        loop {
            if self.handle.kill.is_raised() {
                break;
            }
            // Grow the buffer toward a pending large argument gradually, so a
            // declared length alone never allocates memory the client did not send.
            let want = parser.wanted().unwrap_or(0).saturating_sub(rbuf.len());
            let step = want.min(rbuf.len().max(16 * 1024) * 2).max(16 * 1024);
            // Reuse the buffer when the parsed commands have been let go (the
            // unparsed tail moves to its front); a fresh allocation only when it
            // is too small. Reallocating on every read would churn the
            // allocator, whose thread cache then flushes and refills the size
            // classes the dataset is growing in (measured: 1,100 20 KiB buffers
            // for a 24 MB pipeline, and 1.4 MB of extra dirty pages).
            if rbuf.capacity() - rbuf.len() < step / 2 && !rbuf.try_reclaim(step / 2) {
                rbuf.reserve(step);
            }
            let mut stuck = false;
            // Whether this read filled the buffer: the client has more queued.
            let mut filled = false;
            let room = rbuf.capacity() - rbuf.len();
            let timeout_s = self.server.hot.timeout_s.load(Ordering::Relaxed);
            // As Redis: clients in pub/sub mode never time out.
            let idle_enabled = timeout_s > 0 && self.feed_rx.is_none() && self.subs.total() == 0;
            let idle = async {
                if idle_enabled {
                    tokio::time::sleep(Duration::from_secs(timeout_s)).await
                } else {
                    std::future::pending::<()>().await
                }
            };
            let feed = async {
                match self.feed_rx.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            let messages = async {
                match self.subs.rx.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = crate::output::read_some(stream, &mut rbuf) => {
                    match r {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            filled = n == room;
                            self.server.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                        }
                    }
                }
                _ = self.handle.kill.raised() => break,
                // A worker could not write all of this client's replies: this
                // turn waits for the socket itself.
                _ = out.stuck.raised() => stuck = out.stuck.take(),
                line = feed => {
                    match line {
                        Some(l) => {
                            wbuf.extend_from_slice(&l);
                            // Drain whatever else is queued into the same write.
                            if let Some(rx) = self.feed_rx.as_mut() {
                                while let Ok(l) = rx.try_recv() {
                                    wbuf.extend_from_slice(&l);
                                    if wbuf.len() > 1 << 20 { break; }
                                }
                            }
                        }
                        None => self.feed_rx = None,
                    }
                }
                m = messages => {
                    match m {
                        Some(m) => {
                            self.subs_owed += m.len() as u64;
                            wbuf.extend_from_slice(&m);
                            self.drain_messages(&mut wbuf);
                        }
                        None => self.subs.rx = None,
                    }
                }
                _ = idle => {
                    crate::verbose!("Closing idle client");
                    break;
                }
            }
            // A kill and new input can be ready at once (the select picks either):
            // a killed client runs nothing more, whatever arrived with the kill.
            if self.handle.kill.is_raised() {
                break;
            }
            let limit = self.server.hot.query_buffer_limit.load(Ordering::Relaxed) as usize;
            if rbuf.len() > limit {
                warning!(
                    "Closing client that reached max query buffer length: id={} addr={} qbuf={}",
                    self.id,
                    self.peer,
                    rbuf.len()
                );
                self.server
                    .stats
                    .client_query_buffer_limit_disconnections
                    .fetch_add(1, Ordering::Relaxed);
                break;
            }
            let limits = Limits {
                max_bulk_len: self.server.hot.proto_max_bulk_len.load(Ordering::Relaxed),
                ..Limits::default()
            };
            let mut commands = 0u64;
            // Commands are parsed in batches of up to BATCH before any of them
            // runs, so the engine can prefetch all their keys at once (see
            // `Engine::prefetch`); then each runs in order exactly as if parsed
            // alone. A client not yet authenticated parses one at a time (its
            // size limits change with AUTH), and a command that can change
            // authentication ends a batch.
            let mut failed = None;
            'input: loop {
                let mut n = 0;
                let mut more = true;
                while n < BATCH {
                    if batch.len() == n {
                        batch.push(Vec::new());
                    }
                    match parser.parse_into(&mut rbuf, &limits, self.authenticated, &mut batch[n]) {
                        Ok(true) => {
                            n += 1;
                            if !self.authenticated || may_change_auth(&batch[n - 1]) {
                                break;
                            }
                        }
                        Ok(false) => {
                            more = false;
                            break;
                        }
                        Err(e) => {
                            failed = Some(e);
                            more = false;
                            break;
                        }
                    }
                }
                // Each command is looked up once, for the prefetch and its run.
                lookups.clear();
                lookups.extend(batch[..n].iter().map(|a| resolver.resolve(a)));
                if n > 1 {
                    let found = lookups
                        .iter()
                        .zip(&batch[..n])
                        .filter_map(|(l, a)| match l {
                            Lookup::Found(c) => Some((*c, &a[..])),
                            _ => None,
                        });
                    self.server.engine.prefetch(self.session.db, found);
                }
                self.clock.start_batch(self.server.engine.clock().now_us());
                for (argv, lookup) in batch[..n].iter().zip(lookups.drain(..)) {
                    commands += 1;
                    // Messages queued before this command go out before its reply.
                    self.drain_messages(&mut wbuf);
                    let mut reply = self.execute(lookup, argv).await;
                    if let Some(w) = self.pending_block.take() {
                        self.clock.break_chain();
                        // Earlier replies go out before the client waits.
                        self.wait_durable().await;
                        if self.flush(out, &mut wbuf).await.is_err() {
                            self.server.blocking.cancel(&w);
                            return;
                        }
                        reply = self.wait_blocked(&w, stream, &mut rbuf).await;
                        if self.after == After::Close {
                            break 'input;
                        }
                    }
                    if matches!(self.last_cmd, "publish" | "spublish") {
                        // A client's own message precedes the PUBLISH reply.
                        self.drain_messages(&mut wbuf);
                    }
                    self.write_reply(reply, &mut wbuf);
                    if self.after == After::Close {
                        break 'input;
                    }
                    // Keep memory bounded for huge pipelines: flush as we go.
                    if wbuf.len() > 64 * 1024 {
                        // The flush may wait on a client that does not read:
                        // CLIENT LIST shows the command it waits in, as Redis.
                        self.publish_info(rbuf.len());
                        self.clock.break_chain();
                        self.wait_durable().await;
                        if self.flush(out, &mut wbuf).await.is_err() {
                            return;
                        }
                    }
                }
                // The arguments are slices of `rbuf`: drop them now, so the
                // next read can reuse the buffer instead of allocating a new
                // one while they pin it.
                for argv in &mut batch[..n] {
                    argv.clear();
                }
                if !more {
                    break;
                }
            }
            for argv in &mut batch {
                argv.clear();
            }
            if let Some(e) = failed.filter(|_| self.after != After::Close) {
                let msg = e.to_string();
                crate::verbose!(
                    "Protocol error ({}) from client: id={} addr={}",
                    msg,
                    self.id,
                    self.peer
                );
                self.server.count_error(b"ERR");
                Frame::error(format!("ERR {msg}")).encode(self.session.resp, &mut wbuf);
                self.after = After::Close;
            }
            if commands > 0 {
                self.publish_info(rbuf.len());
            }
            // A deferred reply waits for its records in the worker's burst;
            // one written here waits for them first.
            let deferred = self.after != After::Close
                && self.can_defer()
                && !stuck
                && self.defer(out, &mut wbuf);
            if !deferred {
                self.wait_durable().await;
                if self.after == After::Close {
                    let _ = self.flush(out, &mut wbuf).await;
                    break;
                }
                if self.flush(out, &mut wbuf).await.is_err() {
                    break;
                }
            }
            // Return memory after a large request.
            if rbuf.is_empty() && rbuf.capacity() > 1 << 20 {
                rbuf = BytesMut::with_capacity(16 * 1024);
            }
            if filled {
                // A client that keeps its socket full (a bulk load) would
                // otherwise keep this task running read after read, and the
                // worker would never park: every other client's reply (and
                // this client's own, piling up deferred) would wait for the
                // end of the whole flood. Redis serves each client one read
                // per event-loop turn; here the replies this worker holds go
                // out now, and the others get their turn. Measured: a PING
                // during a flood of SETs from one client, p50 1.97-2.39 ms ->
                // 0.36-0.41 ms (Redis 0.32); `redis-cli --pipe` of a million
                // SETs, 5 rounds each: 0.53-0.59 -> 0.61-0.68 s in one series,
                // 0.57-0.76 -> 0.63-0.74 s in another (Redis 0.96-1.0 s).
                crate::output::write_queued();
                tokio::task::yield_now().await;
            }
        }
    }

    /// Parks the client on the keys of its blocking command until a rerun serves
    /// it, its timeout passes, CLIENT UNBLOCK wakes it, or it goes away (input
    /// that arrives meanwhile is buffered, as Redis does, and runs afterwards).
    async fn wait_blocked(
        &mut self,
        w: &Arc<crate::blocking::Waiter>,
        rd: &TcpStream,
        rbuf: &mut BytesMut,
    ) -> Option<Frame> {
        let server = self.server.clone();
        {
            let mut info = self.handle.info.lock();
            info.blocked = true;
            info.last_cmd = w.command_name();
            info.db = self.session.db;
        }
        server.blocking.block(&server.engine, w);
        let reply = self.wait_served(w, rd, rbuf).await;
        self.handle.info.lock().blocked = false;
        reply
    }

    async fn wait_served(
        &mut self,
        w: &Arc<crate::blocking::Waiter>,
        rd: &TcpStream,
        rbuf: &mut BytesMut,
    ) -> Option<Frame> {
        use crate::blocking::State;
        let server = self.server.clone();
        let timeout_ms = w.timeout_ms;
        let deadline = (timeout_ms > 0)
            .then(|| tokio::time::Instant::now() + Duration::from_millis(timeout_ms));
        loop {
            {
                let mut st = w.state.lock();
                match std::mem::replace(&mut *st, State::Cancelled) {
                    State::Served(f, ticket) => {
                        self.session.ticket = self.session.ticket.max(ticket);
                        return Some(f);
                    }
                    State::Unblocked { error } => {
                        return Some(if error {
                            Frame::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
                        } else {
                            Frame::NullArray
                        });
                    }
                    other => *st = other,
                }
            }
            if self.handle.kill.is_raised() {
                server.blocking.cancel(w);
                self.after = After::Close;
                return None;
            }
            let timeout = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = w.wake.notified() => {}
                _ = timeout => {
                    return Some(match server.blocking.cancel(w) {
                        Some((f, ticket)) => {
                            self.session.ticket = self.session.ticket.max(ticket);
                            f
                        }
                        None => Frame::NullArray,
                    });
                }
                _ = self.handle.kill.raised() => {
                    server.blocking.cancel(w);
                    self.after = After::Close;
                    return None;
                }
                r = crate::output::read_some(rd, rbuf) => match r {
                    Ok(0) | Err(_) => {
                        server.blocking.cancel(w);
                        self.after = After::Close;
                        return None;
                    }
                    Ok(n) => {
                        server.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                        let limit = server.hot.query_buffer_limit.load(Ordering::Relaxed) as usize;
                        if rbuf.len() > limit {
                            server.blocking.cancel(w);
                            self.after = After::Close;
                            return None;
                        }
                    }
                }
            }
        }
    }

    /// Holds this client's replies until the effects of its writes are safe:
    /// under `always` on disk (many clients share one fsync: group commit), under
    /// `everysec` and `no` written to the OS. Clients without writes never wait.
    async fn wait_durable(&mut self) {
        let ticket = self.session.ticket;
        if ticket <= self.acked_ticket {
            return;
        }
        self.acked_ticket = ticket;
        self.wait_ticket(ticket).await;
    }

    /// Waits until the AOF records up to `ticket` are safe (see
    /// [`Conn::wait_durable`]).
    async fn wait_ticket(&mut self, ticket: u64) {
        let Some(w) = self.server.persistence.writer() else {
            return;
        };
        // First let every other connection ready on this worker run its
        // commands, so that one write (and under `always` one fsync) covers all
        // their records, as Redis writes once per event-loop turn: a yield runs
        // this task again after the others and a poll of the sockets. Measured
        // at pipeline 1, 50 clients, everysec: CPU per request -6%, p50 halved;
        // at pipeline 16 up to +35% requests per second (BENCHMARKS.md).
        if !w.is_written(ticket) {
            tokio::task::yield_now().await;
        }
        if w.policy() != keel_persistence::writer::FsyncPolicy::Always {
            // everysec / no: the records reach the OS before the reply does
            // (usually written already, by a connection that ran before).
            w.write_through(ticket);
            return;
        }
        w.kick(ticket);
        let Some(mut rx) = w.durable_waiter(ticket) else {
            return;
        };
        loop {
            match tokio::time::timeout(Duration::from_millis(100), &mut rx).await {
                Ok(_) => return,
                Err(_) if self.handle.kill.is_raised() => return,
                Err(_) => {}
            }
        }
    }

    /// Moves queued pub/sub messages into the write buffer (up to about 1 MiB).
    fn drain_messages(&mut self, wbuf: &mut BytesMut) {
        let Some(rx) = self.subs.rx.as_mut() else {
            return;
        };
        let start = wbuf.len();
        while wbuf.len() - start < 1 << 20 {
            match rx.try_recv() {
                Ok(m) => {
                    self.subs_owed += m.len() as u64;
                    wbuf.extend_from_slice(&m);
                }
                Err(_) => break,
            }
        }
    }

    /// Whether this batch's replies may wait for the end of the worker's
    /// turn ([`crate::output`]): only with one worker thread, and not for a
    /// subscriber or a monitor, whose writes settle what they owe their
    /// publishers.
    fn can_defer(&self) -> bool {
        crate::output::enabled()
            && self.subs_owed == 0
            && self.feed_rx.is_none()
            && self.subs.rx.is_none()
    }

    /// Hands this batch's replies to the worker, to be written in one burst
    /// with every other connection's when its turn ends. False when the
    /// connection must write them itself (its socket was found full).
    fn defer(&mut self, out: &Arc<crate::output::Output>, wbuf: &mut BytesMut) -> bool {
        self.stat_run.publish(&self.server);
        // The records of this client's writes must be safe before the worker
        // writes these replies (or before its next reply, if there is none).
        let ticket = self.session.ticket;
        let writer = if ticket > self.acked_ticket {
            self.server.persistence.writer()
        } else {
            None
        };
        let n = wbuf.len() as u64;
        if !out.defer(wbuf, writer.as_ref().map(|w| (w, ticket))) {
            return false;
        }
        self.acked_ticket = self.acked_ticket.max(ticket);
        if n == 0 {
            return true;
        }
        self.server
            .stats
            .net_output_bytes
            .fetch_add(n, Ordering::Relaxed);
        if wbuf.capacity() > 1 << 20 {
            *wbuf = BytesMut::with_capacity(16 * 1024);
        }
        true
    }

    async fn flush(
        &mut self,
        out: &Arc<crate::output::Output>,
        wbuf: &mut BytesMut,
    ) -> std::io::Result<()> {
        self.stat_run.publish(&self.server);
        // What was deferred and not yet written goes first, once the records
        // it waits for are safe.
        let (earlier, needs) = out.take();
        if needs > 0 {
            self.wait_ticket(needs).await;
        }
        if wbuf.is_empty() && earlier.is_empty() {
            return Ok(());
        }
        // A client that does not read must still be closable (CLIENT KILL,
        // output buffer limits): a write that cannot proceed gives way to a kill.
        let write = async {
            crate::output::write_all(&out.stream, &earlier).await?;
            crate::output::write_all(&out.stream, wbuf).await
        };
        tokio::select! {
            biased;
            r = write => r?,
            _ = self.handle.kill.raised() => {
                return Err(std::io::Error::other("client killed"));
            }
        }
        if self.subs_owed > 0 {
            if let Some(o) = &self.subs.outbox {
                o.written(self.subs_owed);
            }
            self.subs_owed = 0;
        }
        self.server
            .stats
            .net_output_bytes
            .fetch_add(wbuf.len() as u64, Ordering::Relaxed);
        wbuf.clear();
        if wbuf.capacity() > 1 << 20 {
            *wbuf = BytesMut::with_capacity(16 * 1024);
        }
        Ok(())
    }

    fn write_reply(&mut self, reply: Option<Frame>, wbuf: &mut BytesMut) {
        let Some(reply) = reply else { return };
        if self.skip_next {
            self.skip_next = false;
            return;
        }
        if self.reply_mode == ReplyMode::On {
            reply.encode(self.session.resp, wbuf);
        }
    }

    fn leave_feeds(&mut self) {
        if self.feed_rx.take().is_some() {
            let feeds = &self.server.feeds;
            let mut m = feeds.monitors.lock();
            m.retain(|(id, _)| *id != self.id);
            feeds.monitor_count.store(m.len(), Ordering::Relaxed);
            drop(m);
            let mut e = feeds.effects.lock();
            e.retain(|(id, _)| *id != self.id);
            feeds.effects_count.store(e.len(), Ordering::Relaxed);
        }
    }

    /// Runs one request, `lookup` being what the command table made of it.
    /// `None` means no reply at all.
    pub async fn execute(&mut self, lookup: Lookup, argv: &[Bytes]) -> Option<Frame> {
        // Borrowed, not cloned: an Arc clone and drop per command are two
        // atomic read-modify-writes. Paths that need `&mut self` whole
        // (server commands, MULTI's queue) borrow again afterwards.
        let server = &self.server;
        let cmd: &'static Command = match lookup {
            Lookup::Found(c) => c,
            Lookup::Unknown(e)
            | Lookup::NotSupported(e)
            | Lookup::UnknownSub(e)
            | Lookup::Arity(e) => {
                if !self.authenticated {
                    server.count_error(b"NOAUTH");
                    return Some(Frame::error("NOAUTH Authentication required."));
                }
                server.count_error(e.as_bytes());
                if self.multi.is_some() {
                    self.multi_error = true;
                }
                if let Some(c) = keel_engine::table().get(&argv[0]) {
                    server.cmdstats[c.id]
                        .rejected
                        .fetch_add(1, Ordering::Relaxed);
                }
                return Some(Frame::error(e));
            }
        };
        let stat = &server.cmdstats[cmd.id];
        if !self.authenticated && !cmd.facts.has_flag("no_auth") && cmd.name() != "quit" {
            stat.rejected.fetch_add(1, Ordering::Relaxed);
            server.count_error(b"NOAUTH");
            return Some(Frame::error("NOAUTH Authentication required."));
        }
        if self.feed_rx.is_some()
            && self.session.resp < 3
            && !matches!(cmd.name(), "quit" | "reset" | "ping")
        {
            // A MONITOR client may only leave.
            return None;
        }
        if self.session.resp < 3
            && self.subs.total() > 0
            && !matches!(
                cmd.name(),
                "ping"
                    | "subscribe"
                    | "psubscribe"
                    | "ssubscribe"
                    | "unsubscribe"
                    | "punsubscribe"
                    | "sunsubscribe"
                    | "quit"
                    | "reset"
            )
        {
            stat.rejected.fetch_add(1, Ordering::Relaxed);
            server.count_error(b"ERR");
            return Some(Frame::error(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                cmd.name()
            )));
        }
        if server.engine.is_loading() && !cmd.facts.has_flag("loading") {
            stat.rejected.fetch_add(1, Ordering::Relaxed);
            server.count_error(b"LOADING");
            return Some(Frame::error(
                "LOADING Redis is loading the dataset in memory",
            ));
        }
        // As Redis: with maxmemory set, every command first frees memory by the
        // policy; past the limit with nothing left to evict, commands that add
        // data are refused while reads and deletes go on.
        let maxmemory = server.hot.maxmemory.load(Ordering::Relaxed);
        if maxmemory > 0
            && !self.in_exec
            && server.perform_evictions()
            && cmd.facts.has_flag("denyoom")
        {
            stat.rejected.fetch_add(1, Ordering::Relaxed);
            server.count_error(b"OOM");
            if self.multi.is_some() {
                self.multi_error = true;
            }
            return Some(Frame::error(
                "OOM command not allowed when used memory > 'maxmemory'.",
            ));
        }
        if cmd.is_write() {
            if let Some(e) = server.persistence.write_error() {
                stat.rejected.fetch_add(1, Ordering::Relaxed);
                server.count_error(b"MISCONF");
                return Some(Frame::error(format!(
                    "MISCONF Errors writing to the AOF file: {e}"
                )));
            }
        }
        // CLIENT PAUSE: writes (or everything) wait until the pause ends.
        while server.pause.active() {
            self.clock.break_chain();
            let now = server.engine.now_ms();
            let Some(until) = server
                .pause
                .blocks(cmd.is_write() || cmd.facts.has_flag("may_replicate"), now)
            else {
                break;
            };
            if cmd.name() == "client|unpause" {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(until.saturating_sub(now).min(100))) => {}
                _ = server.pause.unpaused.notified() => {}
            }
        }
        if self.multi.is_some() && !crate::multi::runs_inside_multi(cmd) {
            return Some(crate::multi::queue(self, cmd, argv.to_vec()));
        }
        self.last_cmd = cmd.name();
        let (start, now_ms) = self.clock.command_start();
        let reply = match cmd.run {
            Run::Engine(_) => {
                self.session.now_ms = now_ms;
                let r = server.engine.execute(&mut self.session, cmd, argv);
                self.session.now_ms = None;
                match self.session.blocked.take() {
                    Some(req) => {
                        let w = crate::blocking::Waiter::new(
                            self.id,
                            &self.session,
                            req,
                            cmd,
                            argv.to_vec(),
                        );
                        self.pending_block = Some(w);
                        None
                    }
                    None => Some(r),
                }
            }
            Run::Server => {
                // What the command reports (INFO commandstats) includes
                // every call before it.
                self.stat_run.publish(&self.server);
                crate::commands::run(self, cmd, argv).await
            }
            Run::Container => Some(Frame::error("ERR unknown subcommand")),
        };
        let server = &self.server;
        // Serve clients blocked on keys this command (or anyone's) made ready.
        server.blocking.serve(&server.engine);
        let end = quanta::Instant::now();
        let took = end.saturating_duration_since(start);
        let us = took.as_micros() as u64;
        if now_ms.is_some() {
            self.clock.chain(end, took);
        }
        self.stat_run.add(server, cmd.id, us);
        if let Some(Frame::Error(e)) = &reply {
            server.cmdstats[cmd.id]
                .failed
                .fetch_add(1, Ordering::Relaxed);
            server.count_error(e);
        }
        self.after_call(cmd, argv, us);
        reply
    }

    /// Slow log, latency monitor and MONITOR feed.
    fn after_call(&self, cmd: &'static Command, argv: &[Bytes], us: u64) {
        let server = &self.server;
        let slower = server.hot.slowlog_slower_than.load(Ordering::Relaxed);
        if slower >= 0 && us >= slower as u64 && !cmd.facts.has_flag("skip_slowlog") {
            let max = server.hot.slowlog_max_len.load(Ordering::Relaxed) as usize;
            server.slowlog.lock().push(
                crate::slowlog::SlowEntry {
                    id: 0,
                    time: server.engine.now_ms() / 1000,
                    duration_us: us,
                    argv: argv.to_vec(),
                    addr: self.peer.clone(),
                    name: String::from_utf8_lossy(&self.name).into_owned(),
                },
                max,
            );
        }
        let threshold = server.hot.latency_threshold_ms.load(Ordering::Relaxed);
        if threshold > 0 && us / 1000 >= threshold {
            let event = if cmd.facts.has_flag("fast") {
                "fast-command"
            } else {
                "command"
            };
            server
                .latency
                .lock()
                .add(event, server.engine.now_ms() / 1000, us / 1000);
        }
        if server.feeds.monitor_count.load(Ordering::Relaxed) > 0
            && !cmd.facts.has_flag("skip_monitor")
            && !cmd.facts.has_flag("admin")
        {
            let now_us = server.engine.clock().now_us();
            let mut line = format!(
                "+{}.{:06} [{} {}]",
                now_us / 1_000_000,
                now_us % 1_000_000,
                self.session.db,
                self.peer
            )
            .into_bytes();
            for a in argv {
                line.push(b' ');
                crate::commands::quote_into(&mut line, a);
            }
            line.extend_from_slice(b"\r\n");
            server.feeds.send_monitor(Bytes::from(line));
        }
    }
}
