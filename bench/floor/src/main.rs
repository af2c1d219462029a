//! `floor-server`: the cheapest possible server, to measure what a request costs the
//! kernel alone.
//!
//! It answers `+PONG\r\n` to every line it receives (point `redis-benchmark -t
//! ping_inline` at it) and does nothing else: no parsing, no keyspace, no
//! allocation per request. Whatever server CPU a request costs it, any server pays
//! at least that much: it is the floor under keel's and Redis's figures at
//! pipeline 1 (see BENCHMARKS.md, "The kernel's floor").
//!
//! Two modes, one thread each:
//! - `epoll`: Redis's shape. Level-triggered `epoll_wait`, then one `read` per ready
//!   connection, then one `write` per connection that has replies.
//! - `uring`: every receive and send of a loop turn goes to the kernel in one
//!   `io_uring_enter` (a multishot accept, one armed receive per connection, one
//!   send per connection with replies), so a request costs no system call of its
//!   own. If this is not cheaper than `epoll`, no change of I/O interface lowers the
//!   floor.
//!
//! Usage: `floor-server PORT epoll|uring`. It listens on 127.0.0.1 and runs until
//! killed.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};

/// Bytes of one receive; redis-benchmark's requests at pipeline 1 are 6 bytes.
const BUF: usize = 16 * 1024;
const PONG: &[u8] = b"+PONG\r\n";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: floor-server PORT epoll|uring";
    let (Some(port), Some(mode)) = (args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("floor-server: bad port {port:?}\n{usage}");
        std::process::exit(2);
    };
    let run = match mode.as_str() {
        "epoll" => epoll::run,
        "uring" => uring::run,
        _ => {
            eprintln!("floor-server: unknown mode {mode:?}\n{usage}");
            std::process::exit(2);
        }
    };
    let result = TcpListener::bind(("127.0.0.1", port)).and_then(run);
    if let Err(e) = result {
        eprintln!("floor-server ({mode}): {e}");
        std::process::exit(1);
    }
}

/// Lines in `data`: the requests to answer.
fn lines(data: &[u8]) -> usize {
    data.iter().filter(|&&b| b == b'\n').count()
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn nodelay(fd: RawFd) {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a valid c_int that outlives the call, and its size is passed.
    // A failure leaves Nagle on, which only skews the figure; it is not checked.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

mod epoll {
    use super::*;
    use std::collections::HashMap;

    pub fn run(listener: TcpListener) -> io::Result<()> {
        listener.set_nonblocking(true)?;
        let lfd = listener.as_raw_fd();
        // SAFETY: plain system calls on descriptors this function owns; every
        // pointer passed points into a live local of the stated length.
        let ep = check(unsafe { libc::epoll_create1(0) })?;
        add(ep, lfd)?;
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        let mut buf = vec![0u8; BUF];
        let mut owed: HashMap<RawFd, usize> = HashMap::new();
        let mut out = Vec::new();
        loop {
            // SAFETY: `events` has room for the number of entries passed.
            let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, -1) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in &events[..n as usize] {
                let fd = ev.u64 as RawFd;
                if fd == lfd {
                    // SAFETY: null address arguments are allowed by accept4.
                    let c = unsafe {
                        libc::accept4(
                            lfd,
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                            libc::SOCK_NONBLOCK,
                        )
                    };
                    if c >= 0 {
                        nodelay(c);
                        add(ep, c)?;
                    }
                    continue;
                }
                // SAFETY: `buf` is a live buffer of `buf.len()` bytes.
                let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if r == 0
                    || (r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock)
                {
                    // SAFETY: `fd` is a connection this loop accepted and closes once.
                    unsafe { libc::close(fd) };
                    owed.remove(&fd);
                    continue;
                }
                if r > 0 {
                    *owed.entry(fd).or_default() += lines(&buf[..r as usize]);
                }
            }
            // As Redis's beforeSleep: the replies of this turn, one write each.
            for (&fd, count) in owed.iter_mut() {
                if *count == 0 {
                    continue;
                }
                out.clear();
                for _ in 0..*count {
                    out.extend_from_slice(PONG);
                }
                *count = 0;
                // SAFETY: `out` is live for the call. A short write only skews the
                // figure (the client then waits); at pipeline 1 it does not happen.
                unsafe { libc::write(fd, out.as_ptr().cast(), out.len()) };
            }
        }
    }

    fn add(ep: RawFd, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: `ev` is a live epoll_event for the call.
        check(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) }).map(|_| ())
    }
}

mod uring {
    use super::*;
    use io_uring::{cqueue, opcode, squeue, types, IoUring};

    /// `user_data` of the multishot accept; a connection's operations carry its
    /// index shifted left by 1, with the low bit set for a send.
    const ACCEPT: u64 = u64::MAX;

    struct Conn {
        fd: RawFd,
        /// The receive buffer. Its heap block never moves or shrinks and is never
        /// freed while the program runs (connections are never removed from
        /// `conns`), so a receive in flight always writes into live memory.
        inbuf: Box<[u8]>,
        /// The send buffer: only rebuilt when no send is in flight (`sending`).
        out: Vec<u8>,
        owed: usize,
        sending: bool,
        open: bool,
    }

    pub fn run(listener: TcpListener) -> io::Result<()> {
        let lfd = listener.as_raw_fd();
        let mut ring: IoUring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .build(4096)?;
        let mut conns: Vec<Conn> = Vec::new();
        let mut next: Vec<squeue::Entry> = vec![accept(lfd)];
        loop {
            {
                let mut sq = ring.submission();
                for e in next.drain(..) {
                    // SAFETY: every entry points at memory that stays valid until its
                    // completion: the listener lives for the whole function, and the
                    // buffers are those described on `Conn`.
                    if unsafe { sq.push(&e) }.is_err() {
                        return Err(io::Error::other("submission queue full"));
                    }
                }
            }
            ring.submit_and_wait(1)?;
            let done: Vec<(u64, i32, u32)> = ring
                .completion()
                .map(|c: cqueue::Entry| (c.user_data(), c.result(), c.flags()))
                .collect();
            for (ud, res, flags) in done {
                if ud == ACCEPT {
                    if res >= 0 {
                        nodelay(res);
                        let mut c = Conn {
                            fd: res,
                            inbuf: vec![0u8; BUF].into_boxed_slice(),
                            out: Vec::new(),
                            owed: 0,
                            sending: false,
                            open: true,
                        };
                        next.push(recv(&mut c, conns.len()));
                        conns.push(c);
                    }
                    if !cqueue::more(flags) {
                        next.push(accept(lfd));
                    }
                    continue;
                }
                let i = (ud >> 1) as usize;
                let Some(c) = conns.get_mut(i) else { continue };
                if ud & 1 == 0 {
                    if res <= 0 {
                        // SAFETY: the connection's descriptor, closed once.
                        unsafe { libc::close(c.fd) };
                        c.open = false;
                        continue;
                    }
                    c.owed += lines(&c.inbuf[..res as usize]);
                    next.push(recv(c, i));
                } else {
                    c.sending = false;
                }
                if c.open && !c.sending && c.owed > 0 {
                    c.out.clear();
                    for _ in 0..c.owed {
                        c.out.extend_from_slice(PONG);
                    }
                    c.owed = 0;
                    c.sending = true;
                    let e = opcode::Send::new(types::Fd(c.fd), c.out.as_ptr(), c.out.len() as u32);
                    next.push(e.build().user_data((i as u64) << 1 | 1));
                }
            }
        }
    }

    fn accept(lfd: RawFd) -> squeue::Entry {
        opcode::AcceptMulti::new(types::Fd(lfd))
            .build()
            .user_data(ACCEPT)
    }

    fn recv(c: &mut Conn, i: usize) -> squeue::Entry {
        let e = opcode::Recv::new(types::Fd(c.fd), c.inbuf.as_mut_ptr(), c.inbuf.len() as u32);
        e.build().user_data((i as u64) << 1)
    }
}
