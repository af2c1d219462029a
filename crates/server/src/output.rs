//! A connection's socket and the replies it has not written yet, so that a
//! worker thread writes the replies of every connection it served in one
//! burst, once per turn, as Redis's event loop does (`beforeSleep`), instead
//! of one write in the middle of each connection's turn.
//!
//! Why: a reply written while the worker still has other connections to
//! serve wakes the load generator (or any client process that owns many
//! connections) once per connection; the burst wakes it once per turn, and it
//! then finds many replies ready in one `epoll_wait`. At pipeline 1 the client
//! sets the rate, so what it spends per reply is what the server's throughput
//! is (BENCHMARKS.md).
//!
//! How: at the end of a batch a connection with nothing else to do hands its
//! reply bytes to its [`Output`] ([`Output::defer`]), which queues itself on
//! the current worker thread, and goes back to waiting for input. When the
//! worker runs out of tasks, just before it parks (tokio's `on_thread_park`
//! hook), [`write_queued`] writes every queued output without waiting: what
//! the socket does not take stays queued in the [`Output`], whose connection
//! is woken ([`Output::stuck`]) to wait for the socket itself. Whatever the
//! connection writes itself later ([`Output::take`]) goes after what it
//! deferred, so the bytes on the wire keep their order.
//!
//! A connection that keeps its socket full (a bulk load) calls
//! [`write_queued`] itself after each read that filled its buffer, and then
//! yields: its task would otherwise stay ready read after read, the worker
//! would never park, and every other reply would wait for the whole flood.
//!
//! The socket lives here, behind an `Arc`, so it stays open while a worker
//! may still write to it: a connection that ends marks its output closed
//! ([`Output::close`]) and the socket closes when the last holder drops it.
//!
//! Replies to writes wait for their records in the AOF the same way, as in
//! Redis: a connection defers them with the ticket of its last write
//! ([`Output::defer`]), and the park hook first makes every ticket of the
//! turn safe with one call ([`AofWriter::settle`]: under `always` one write
//! and one fsync for the whole burst, under `everysec` one write), then
//! writes the replies. The connection neither waits nor wakes the AOF
//! thread. If the records cannot be made safe (a disk error), the outputs
//! that need them are handed back to their connections, which wait for them
//! as they would without deferring.
//!
//! Only with one worker thread ([`enable`]): with two, on two cores shared
//! with the load generator, deferring cost 20% of SET's throughput at
//! pipeline 16 (a worker that steals work from the other parks less often,
//! so its clients wait longer for their replies), and connections write
//! their replies themselves there.

use crate::signal::Signal;
use bytes::{Buf, BytesMut};
use keel_persistence::writer::AofWriter;
use parking_lot::Mutex;
use std::cell::RefCell;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::Interest;
use tokio::net::TcpStream;

pub struct Output {
    pub stream: TcpStream,
    state: Mutex<State>,
    /// Woken when a worker could not write all of the deferred bytes: the
    /// connection then waits for the socket itself.
    pub stuck: Signal,
}

#[derive(Default)]
struct State {
    /// Deferred bytes, in order, not yet taken by the socket.
    buf: BytesMut,
    /// On some worker's queue (at most once).
    queued: bool,
    /// The connection is gone: nothing more is written.
    closed: bool,
    /// A worker found the socket full: the connection writes the rest
    /// itself, waiting for the socket, before it defers anything more.
    stuck: bool,
    /// AOF ticket that must be safe before `buf` is written (0: none).
    needs: u64,
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns deferring on (the server does so when it runs one worker thread).
pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether connections defer their replies to the worker.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// What a worker has to do at the end of its turn.
#[derive(Default)]
struct Turn {
    /// Outputs with deferred bytes, queued by connections this worker served.
    queue: Vec<Arc<Output>>,
    /// The AOF whose records the deferred replies wait for, and the highest
    /// ticket among them (0: none).
    writer: Option<Arc<AofWriter>>,
    needs: u64,
}

thread_local! {
    static TURN: RefCell<Turn> = RefCell::new(Turn::default());
}

/// Records that this turn's burst needs `ticket` of `w` safe. False if the
/// turn already waits on another writer (the AOF was just switched off and
/// on): the connection then waits itself.
fn turn_needs(w: &Arc<AofWriter>, ticket: u64) -> bool {
    TURN.with(|t| {
        let mut t = t.borrow_mut();
        match &t.writer {
            Some(cur) if !Arc::ptr_eq(cur, w) => return false,
            Some(_) => {}
            None => t.writer = Some(w.clone()),
        }
        t.needs = t.needs.max(ticket);
        true
    })
}

impl Output {
    pub fn new(stream: TcpStream) -> Arc<Output> {
        Arc::new(Output {
            stream,
            state: Mutex::new(State::default()),
            stuck: Signal::default(),
        })
    }

    /// Hands `wbuf`'s bytes over to be written when this worker's turn ends
    /// (`wbuf` comes back empty, usually with the previous buffer's capacity),
    /// once the AOF records up to `safe`'s ticket are safe. False, taking
    /// nothing, when the socket was found full (or the turn waits on another
    /// AOF): the connection must then write itself (see [`Output::take`]), so
    /// a client that does not read holds its connection up instead of piling
    /// up replies.
    pub fn defer(
        self: &Arc<Self>,
        wbuf: &mut BytesMut,
        safe: Option<(&Arc<AofWriter>, u64)>,
    ) -> bool {
        let mut st = self.state.lock();
        if st.stuck {
            return false;
        }
        if let Some((w, ticket)) = safe {
            if !turn_needs(w, ticket) {
                return false;
            }
            if !wbuf.is_empty() {
                st.needs = st.needs.max(ticket);
            }
        }
        if st.closed {
            wbuf.clear();
            return true;
        }
        if wbuf.is_empty() {
            return true;
        }
        if st.buf.is_empty() {
            std::mem::swap(&mut st.buf, wbuf);
        } else {
            st.buf.extend_from_slice(wbuf);
            wbuf.clear();
        }
        if !st.queued {
            st.queued = true;
            drop(st);
            TURN.with(|t| t.borrow_mut().queue.push(self.clone()));
        }
        true
    }

    /// The deferred bytes no worker has written yet, for the connection to
    /// write itself before anything newer, and the AOF ticket that must be
    /// safe before it does (0: none).
    pub fn take(&self) -> (BytesMut, u64) {
        let mut st = self.state.lock();
        st.stuck = false;
        let needs = std::mem::take(&mut st.needs);
        (std::mem::take(&mut st.buf), needs)
    }

    /// The AOF ticket the deferred bytes wait for (0: none).
    pub fn needs(&self) -> u64 {
        self.state.lock().needs
    }

    /// The connection is ending: what is deferred is written if the socket
    /// takes it now and `safe` (its records are safe: as the connection's
    /// last write would have been: a client that kills itself still gets the
    /// reply), the rest is dropped, and nothing more is written.
    pub fn close(&self, safe: bool) {
        self.write_now(safe);
        let mut st = self.state.lock();
        st.closed = true;
        st.buf = BytesMut::new();
    }

    /// Writes as much of the deferred bytes as the socket takes now, if
    /// `safe` says the AOF records they wait for are safe. True when some are
    /// left (the socket is full, or the records are not safe): the
    /// connection then writes them itself.
    fn write_now(&self, safe: bool) -> bool {
        let mut st = self.state.lock();
        st.queued = false;
        if st.needs > 0 && !st.closed {
            if !safe {
                st.stuck = !st.buf.is_empty();
                return st.stuck;
            }
            st.needs = 0;
        }
        while !st.buf.is_empty() && !st.closed {
            match self.stream.try_write(&st.buf) {
                Ok(0) => break,
                Ok(n) if n >= st.buf.len() => st.buf.clear(),
                // (`advance`, not `split_to`: no shared header is allocated.)
                Ok(n) => st.buf.advance(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    st.stuck = true;
                    return true;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // The connection sees the error on its next read or write.
                Err(_) => break,
            }
        }
        if st.buf.is_empty() {
            // Keep the buffer's memory for the next turn, unless it grew big.
            if st.buf.capacity() > 1 << 20 || st.closed {
                st.buf = BytesMut::new();
            } else {
                st.buf.clear();
            }
        }
        false
    }
}

/// Writes every output queued on this thread, after making the AOF records
/// they wait for safe: the worker's park hook, and a flooding connection's
/// turn (see the module docs). A socket that is full keeps the rest, and its
/// connection is woken to wait for it.
pub fn write_queued() {
    let (queued, writer, needs) = TURN.with(|t| {
        let mut t = t.borrow_mut();
        let needs = std::mem::take(&mut t.needs);
        (std::mem::take(&mut t.queue), t.writer.take(), needs)
    });
    // First the AOF records the replies wait for: one write (and under
    // `always` one fsync) for the whole burst.
    let safe = match writer {
        Some(w) if needs > 0 => w.settle(needs),
        _ => true,
    };
    if queued.is_empty() {
        return;
    }
    for out in &queued {
        if out.write_now(safe) {
            out.stuck.raise();
        }
    }
    // Give the (now empty) vector back, so the next turn does not allocate.
    let mut queued = queued;
    queued.clear();
    TURN.with(|t| {
        let mut t = t.borrow_mut();
        if t.queue.is_empty() {
            t.queue = queued;
        }
    });
}

/// Reads what the socket has into `buf`, waiting for it if nothing is there.
///
/// A read that leaves room in `buf` has drained the socket: like tokio's own
/// `read`, it then marks the socket not ready (by answering `WouldBlock`
/// inside `try_io`, which clears the readiness seen before the read, never a
/// newer one), so the next call waits for the poller instead of spending a
/// `recvfrom` to learn that nothing is there.
pub async fn read_some(s: &TcpStream, buf: &mut BytesMut) -> std::io::Result<usize> {
    loop {
        s.readable().await?;
        let room = buf.capacity() - buf.len();
        let mut got = 0;
        let r = s.try_io(Interest::READABLE, || {
            let n = s.try_read_buf(buf)?;
            got = n;
            if n > 0 && n < room {
                Err(ErrorKind::WouldBlock.into())
            } else {
                Ok(n)
            }
        });
        match r {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if got > 0 {
                    return Ok(got);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Writes all of `data`, waiting for the socket as needed.
pub async fn write_all(s: &TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        s.writable().await?;
        match s.try_write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => data = data.get(n..).unwrap_or_default(),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
