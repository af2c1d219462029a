//! Pub/sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBE forms, PUBLISH,
//! SPUBLISH and PUBSUB, with Redis 7's replies.
//!
//! The registry maps each channel, pattern and shard channel to its subscribers.
//! A subscriber is a connection's [`Outbox`]: an unbounded queue of encoded
//! messages that the connection's task writes to its socket. PUBLISH encodes a
//! message once per protocol version (a RESP2 array or a RESP3 push) and queues it
//! for every receiver without waiting for any of them, under a read lock of the
//! registry, so publishers run in parallel and a slow subscriber slows nobody.
//!
//! Output buffer limits: an outbox counts the bytes queued but not yet written to
//! its socket. Past the hard limit of the client's class (`pubsub` while it has
//! subscriptions, else `normal`), or above the soft limit for longer than the
//! soft seconds, the client is closed at once and its queue freed, as Redis does.

use crate::clients::ClientHandle;
use crate::config::{ObufLimit, ObufLimits};
use crate::conn::Conn;
use bytes::{Bytes, BytesMut};
use keel_protocol::Frame;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// The kinds of subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Pattern => "psubscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Pattern => "punsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }
}

/// One connection's outbound queue of pub/sub messages.
pub struct Outbox {
    pub id: u64,
    tx: mpsc::UnboundedSender<Bytes>,
    /// The protocol version messages are encoded for (HELLO may change it).
    pub resp: AtomicU8,
    /// Bytes queued but not yet written to the socket.
    pub pending: AtomicU64,
    /// When the pending bytes went above the soft limit (ms since the registry
    /// started, plus one; 0: not above it).
    soft_since: AtomicU64,
    /// Subscriptions of every kind (the client class for the limits).
    pub subscriptions: AtomicUsize,
    closed: AtomicBool,
    handle: Arc<ClientHandle>,
}

impl Outbox {
    /// Called by the connection once `n` queued bytes reached the socket.
    pub fn written(&self, n: u64) {
        self.pending.fetch_sub(n, Ordering::AcqRel);
    }
}

type Subscribers = HashMap<u64, Arc<Outbox>>;

#[derive(Default)]
struct Maps {
    channels: HashMap<Bytes, Subscribers>,
    patterns: HashMap<Bytes, Subscribers>,
    shard: HashMap<Bytes, Subscribers>,
}

impl Maps {
    fn of(&mut self, kind: Kind) -> &mut HashMap<Bytes, Subscribers> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }
}

/// The server's pub/sub registry.
pub struct PubSub {
    maps: RwLock<Maps>,
    /// (normal, pubsub) output buffer limits, refreshed after CONFIG SET.
    limits: Mutex<(ObufLimit, ObufLimit)>,
    started: Instant,
    /// INFO stats client_output_buffer_limit_disconnections.
    pub obuf_disconnections: AtomicU64,
}

impl PubSub {
    pub fn new(limits: ObufLimits) -> PubSub {
        PubSub {
            maps: RwLock::new(Maps::default()),
            limits: Mutex::new((limits.normal, limits.pubsub)),
            started: Instant::now(),
            obuf_disconnections: AtomicU64::new(0),
        }
    }

    pub fn set_limits(&self, limits: ObufLimits) {
        *self.limits.lock() = (limits.normal, limits.pubsub);
    }

    /// (channels, unique patterns, shard channels) with at least one subscriber.
    pub fn counts(&self) -> (usize, usize, usize) {
        let m = self.maps.read();
        (m.channels.len(), m.patterns.len(), m.shard.len())
    }

    fn add(&self, kind: Kind, name: &Bytes, outbox: &Arc<Outbox>) {
        self.maps
            .write()
            .of(kind)
            .entry(name.clone())
            .or_default()
            .insert(outbox.id, outbox.clone());
    }

    fn remove(&self, kind: Kind, name: &Bytes, id: u64) {
        let mut m = self.maps.write();
        let map = m.of(kind);
        if let Some(subs) = map.get_mut(name) {
            subs.remove(&id);
            if subs.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Queues `channel`'s message for its subscribers (and, unless sharded, for
    /// the subscribers of every matching pattern). Returns the number of receivers.
    pub fn publish(&self, kind: Kind, channel: &Bytes, message: &Bytes) -> i64 {
        let limits = *self.limits.lock();
        let m = self.maps.read();
        let mut receivers = 0;
        let word = if kind == Kind::Shard {
            "smessage"
        } else {
            "message"
        };
        let map = if kind == Kind::Shard {
            &m.shard
        } else {
            &m.channels
        };
        if let Some(subs) = map.get(channel) {
            let mut enc = Encoded::new(vec![
                Frame::Bulk(Bytes::from_static(word.as_bytes())),
                Frame::Bulk(channel.clone()),
                Frame::Bulk(message.clone()),
            ]);
            for o in subs.values() {
                receivers += self.deliver(o, &mut enc, &limits);
            }
        }
        if kind != Kind::Shard {
            for (pattern, subs) in &m.patterns {
                if !keel_engine::glob::matches(pattern, channel, false) {
                    continue;
                }
                let mut enc = Encoded::new(vec![
                    Frame::Bulk(Bytes::from_static(b"pmessage")),
                    Frame::Bulk(pattern.clone()),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(message.clone()),
                ]);
                for o in subs.values() {
                    receivers += self.deliver(o, &mut enc, &limits);
                }
            }
        }
        receivers
    }

    /// Queues one message for one subscriber and enforces its output buffer
    /// limit. Never waits. Returns 1 (a receiver, as Redis counts it).
    fn deliver(&self, o: &Outbox, enc: &mut Encoded, limits: &(ObufLimit, ObufLimit)) -> i64 {
        if o.closed.load(Ordering::Acquire) {
            // Being closed for its limits: counted, as Redis counts a client
            // scheduled to close, but nothing more is queued for it.
            return 1;
        }
        let bytes = enc.get(o.resp.load(Ordering::Relaxed));
        let n = bytes.len() as u64;
        // Counted before it is queued: the connection may write it out (and
        // subtract it) as soon as it is sent.
        let pending = o.pending.fetch_add(n, Ordering::AcqRel).wrapping_add(n);
        if o.tx.send(bytes).is_err() {
            o.pending.fetch_sub(n, Ordering::AcqRel);
            return 1;
        }
        let limit = if o.subscriptions.load(Ordering::Relaxed) > 0 {
            limits.1
        } else {
            limits.0
        };
        if limit.hard_bytes > 0 && pending >= limit.hard_bytes {
            self.close(o);
        } else if limit.soft_bytes > 0 && pending >= limit.soft_bytes {
            let now = self.started.elapsed().as_millis() as u64 + 1;
            match o
                .soft_since
                .compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {}
                Err(since) => {
                    if now.saturating_sub(since) > limit.soft_seconds.max(0) as u64 * 1000 {
                        self.close(o);
                    }
                }
            }
        } else {
            o.soft_since.store(0, Ordering::Release);
        }
        1
    }

    fn close(&self, o: &Outbox) {
        if o.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let line = {
            let mut info = o.handle.info.lock().clone();
            info.omem = o.pending.load(Ordering::Relaxed) as usize;
            crate::commands::client_line(&info)
        };
        crate::warning!(
            "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
            line
        );
        self.obuf_disconnections.fetch_add(1, Ordering::Relaxed);
        o.handle.kill();
    }

    /// Active channels (or shard channels) matching `pattern` (all without one).
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let m = self.maps.read();
        let map = if kind == Kind::Shard {
            &m.shard
        } else {
            &m.channels
        };
        map.keys()
            .filter(|c| pattern.is_none_or(|p| keel_engine::glob::matches(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of one channel (or shard channel).
    pub fn numsub(&self, kind: Kind, channel: &[u8]) -> usize {
        let m = self.maps.read();
        let map = if kind == Kind::Shard {
            &m.shard
        } else {
            &m.channels
        };
        map.get(channel).map_or(0, |s| s.len())
    }
}

/// A message frame, encoded at most once per protocol version.
struct Encoded {
    frame: Frame,
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
}

impl Encoded {
    fn new(items: Vec<Frame>) -> Encoded {
        Encoded {
            frame: Frame::Push(items),
            resp2: None,
            resp3: None,
        }
    }

    fn get(&mut self, resp: u8) -> Bytes {
        let slot = if resp >= 3 {
            &mut self.resp3
        } else {
            &mut self.resp2
        };
        slot.get_or_insert_with(|| {
            let mut b = BytesMut::new();
            self.frame.encode(resp, &mut b);
            b.freeze()
        })
        .clone()
    }
}

/// One connection's subscriptions (owned by its task).
#[derive(Default)]
pub struct ClientSubs {
    /// name -> order of subscription, per kind.
    channels: HashMap<Bytes, u64>,
    patterns: HashMap<Bytes, u64>,
    shard: HashMap<Bytes, u64>,
    seq: u64,
    pub outbox: Option<Arc<Outbox>>,
    /// Messages queued for this connection; the connection writes them out.
    pub rx: Option<mpsc::UnboundedReceiver<Bytes>>,
}

impl ClientSubs {
    fn of(&mut self, kind: Kind) -> &mut HashMap<Bytes, u64> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// Channels plus patterns (what (P)SUBSCRIBE replies count).
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    pub fn shard_count(&self) -> usize {
        self.shard.len()
    }

    /// Subscriptions of every kind: a RESP2 client with any is in subscriber mode.
    pub fn total(&self) -> usize {
        self.count() + self.shard_count()
    }

    pub fn lens(&self) -> (usize, usize, usize) {
        (self.channels.len(), self.patterns.len(), self.shard.len())
    }
}

fn reply_count(subs: &ClientSubs, kind: Kind) -> i64 {
    (if kind == Kind::Shard {
        subs.shard_count()
    } else {
        subs.count()
    }) as i64
}

fn confirmation(word: &'static str, name: Option<&Bytes>, count: i64) -> Frame {
    Frame::Push(vec![
        Frame::Bulk(Bytes::from_static(word.as_bytes())),
        name.map_or(Frame::Null, |n| Frame::Bulk(n.clone())),
        Frame::Integer(count),
    ])
}

/// Publishes the connection's subscription counts to CLIENT LIST and the outbox.
fn sync_info(conn: &mut Conn) {
    let (sub, psub, ssub) = conn.subs.lens();
    if let Some(o) = &conn.subs.outbox {
        o.subscriptions.store(sub + psub + ssub, Ordering::Relaxed);
    }
    let mut info = conn.handle.info.lock();
    info.sub = sub;
    info.psub = psub;
    info.ssub = ssub;
}

/// SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: one confirmation per name, encoded for
/// the connection's protocol, in one raw reply.
pub fn subscribe(conn: &mut Conn, kind: Kind, names: &[Bytes]) -> Frame {
    let server = conn.server.clone();
    let outbox = match &conn.subs.outbox {
        Some(o) => o.clone(),
        None => {
            let (tx, rx) = mpsc::unbounded_channel();
            let o = Arc::new(Outbox {
                id: conn.id,
                tx,
                resp: AtomicU8::new(conn.session.resp),
                pending: AtomicU64::new(0),
                soft_since: AtomicU64::new(0),
                subscriptions: AtomicUsize::new(0),
                closed: AtomicBool::new(false),
                handle: conn.handle.clone(),
            });
            conn.subs.outbox = Some(o.clone());
            conn.subs.rx = Some(rx);
            o
        }
    };
    outbox.resp.store(conn.session.resp, Ordering::Relaxed);
    let mut out = BytesMut::new();
    for name in names {
        conn.subs.seq += 1;
        let seq = conn.subs.seq;
        if !conn.subs.of(kind).contains_key(name) {
            conn.subs.of(kind).insert(name.clone(), seq);
            // Count it before anything can be queued for it.
            outbox.subscriptions.fetch_add(1, Ordering::Relaxed);
            server.pubsub.add(kind, name, &outbox);
        }
        confirmation(
            kind.subscribe_word(),
            Some(name),
            reply_count(&conn.subs, kind),
        )
        .encode(conn.session.resp, &mut out);
    }
    sync_info(conn);
    Frame::Raw(out.freeze())
}

/// UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE; without names, from every one
/// (`[word, nil, count]` when there is none).
pub fn unsubscribe(conn: &mut Conn, kind: Kind, names: &[Bytes]) -> Frame {
    let server = conn.server.clone();
    let list: Vec<Bytes> = if names.is_empty() {
        let mut all: Vec<(&Bytes, &u64)> = conn.subs.of(kind).iter().collect();
        all.sort_by_key(|(_, seq)| **seq);
        all.into_iter().map(|(n, _)| n.clone()).collect()
    } else {
        names.to_vec()
    };
    let mut out = BytesMut::new();
    if list.is_empty() {
        confirmation(kind.unsubscribe_word(), None, reply_count(&conn.subs, kind))
            .encode(conn.session.resp, &mut out);
    }
    for name in &list {
        if conn.subs.of(kind).remove(name).is_some() {
            server.pubsub.remove(kind, name, conn.id);
        }
        confirmation(
            kind.unsubscribe_word(),
            Some(name),
            reply_count(&conn.subs, kind),
        )
        .encode(conn.session.resp, &mut out);
    }
    sync_info(conn);
    Frame::Raw(out.freeze())
}

/// Drops every subscription of the connection (RESET, disconnection) and frees
/// its queue.
pub fn leave_all(conn: &mut Conn) {
    let server = conn.server.clone();
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for (name, _) in std::mem::take(conn.subs.of(kind)) {
            server.pubsub.remove(kind, &name, conn.id);
        }
    }
    conn.subs.outbox = None;
    conn.subs.rx = None;
    conn.subs_owed = 0;
    sync_info(conn);
}

/// PUBSUB subcommands.
pub fn pubsub_command(conn: &Conn, sub: &str, argv: &[Bytes]) -> Frame {
    let ps = &conn.server.pubsub;
    let list = |kind: Kind| {
        Frame::Array(
            ps.channels(kind, argv.get(2).map(|p| &p[..]))
                .into_iter()
                .map(Frame::Bulk)
                .collect(),
        )
    };
    let numsub = |kind: Kind| {
        let mut out = Vec::new();
        for c in &argv[2..] {
            out.push(Frame::Bulk(c.clone()));
            out.push(Frame::Integer(ps.numsub(kind, c) as i64));
        }
        Frame::Array(out)
    };
    match sub {
        "channels" | "shardchannels" if argv.len() > 3 => Frame::error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            lossy(&argv[1])
        )),
        "channels" => list(Kind::Channel),
        "shardchannels" => list(Kind::Shard),
        "numsub" => numsub(Kind::Channel),
        "shardnumsub" => numsub(Kind::Shard),
        "numpat" => Frame::Integer(ps.counts().1 as i64),
        _ => Frame::Array(
            [
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
                "HELP",
                "    Prints this help.",
            ]
            .iter()
            .map(|l| Frame::Simple(Bytes::from_static(l.as_bytes())))
            .collect(),
        ),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
