//! Differential testing against Debian's redis-server: start one next to keel,
//! send both the same commands over a minimal RESP client, and compare the raw
//! replies byte for byte (or as unordered collections where the order differs by
//! design), then the datasets with DEBUG DIGEST and DIGEST-VALUE.

use super::{free_port, temp_dir, tool, TestServer};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server child process, killed (and its directory removed) on drop.
pub struct RedisGuard {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl RedisGuard {
    pub fn start(bin: &std::path::Path) -> RedisGuard {
        let port = free_port();
        let dir = temp_dir("redis-server");
        let child = Command::new(bin)
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--enable-debug-command", "yes"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut g = RedisGuard { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(st)) = g.child.try_wait() {
                panic!("redis-server exited early: {st}");
            }
            if let Ok(s) = TcpStream::connect(("127.0.0.1", g.port)) {
                let mut c = Resp::new(s);
                if c.req(&[b"PING"]) == b"+PONG\r\n" {
                    return g;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A minimal RESP client: sends a request, reads exactly one whole reply.
pub struct Resp {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Resp {
    pub fn new(s: TcpStream) -> Resp {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Resp {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        }
    }

    pub fn connect(port: u16) -> Resp {
        Resp::new(TcpStream::connect(("127.0.0.1", port)).expect("connect"))
    }

    pub fn req(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&out).unwrap();
        let mut reply = Vec::new();
        self.read_one(&mut reply);
        reply
    }

    pub fn read_one(&mut self, out: &mut Vec<u8>) {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).unwrap();
        assert!(line.ends_with(b"\r\n"), "truncated reply {line:?}");
        out.extend_from_slice(&line);
        let n = || -> i64 {
            std::str::from_utf8(&line[1..line.len() - 2])
                .unwrap()
                .parse()
                .unwrap()
        };
        match line[0] {
            b'$' | b'=' | b'!' => {
                let len = n();
                if len >= 0 {
                    let mut buf = vec![0; len as usize + 2];
                    self.r.read_exact(&mut buf).unwrap();
                    out.extend_from_slice(&buf);
                }
            }
            b'*' | b'~' | b'>' => {
                for _ in 0..n().max(0) {
                    self.read_one(out);
                }
            }
            b'%' | b'|' => {
                for _ in 0..2 * n() {
                    self.read_one(out);
                }
            }
            _ => {}
        }
    }
}

/// Splits a command line on spaces; `\0`, `\r`, `\n` and `\s` (a space) are
/// written escaped so binary arguments stay readable, and `\e` alone is an empty
/// argument.
pub fn args(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .map(|a| {
            if a == "\\e" {
                return Vec::new();
            }
            a.replace("\\0", "\0")
                .replace("\\r", "\r")
                .replace("\\n", "\n")
                .replace("\\s", " ")
                .into_bytes()
        })
        .collect()
}

pub struct Pair {
    pub redis: Resp,
    pub keel: Resp,
}

impl Pair {
    /// Sends `line` to both servers and returns both replies.
    pub fn both(&mut self, line: &str) -> (Vec<u8>, Vec<u8>) {
        let a = args(line);
        let refs: Vec<&[u8]> = a.iter().map(|x| &x[..]).collect();
        (self.redis.req(&refs), self.keel.req(&refs))
    }

    /// Sends `line` to both and asserts the replies are identical.
    pub fn same(&mut self, line: &str) -> Vec<u8> {
        let (r, k) = self.both(line);
        assert_eq!(
            String::from_utf8_lossy(&k),
            String::from_utf8_lossy(&r),
            "keel and redis answer `{line}` differently"
        );
        r
    }
}

pub fn setup() -> Option<(RedisGuard, TestServer, Pair)> {
    let bin = tool("redis-server")?;
    let redis = RedisGuard::start(&bin);
    let keel = TestServer::start();
    let pair = Pair {
        redis: Resp::connect(redis.port),
        keel: Resp::connect(keel.port),
    };
    Some((redis, keel, pair))
}

impl Pair {
    /// Sends binary `args` to both servers and returns both raw replies.
    pub fn both_args(&mut self, args: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
        (self.redis.req(args), self.keel.req(args))
    }

    /// Sends `args` to both and asserts identical replies; `unordered` compares
    /// the top-level elements of an array reply as a multiset (for replies whose
    /// order is the hash table's, like SMEMBERS or HGETALL on a big hash).
    pub fn same_args(&mut self, args: &[&[u8]], unordered: bool) -> Vec<u8> {
        let (r, k) = self.both_args(args);
        let show = |a: &[&[u8]]| {
            a.iter()
                .map(|x| String::from_utf8_lossy(x).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        if unordered {
            assert_eq!(
                sorted_elements(&k),
                sorted_elements(&r),
                "keel and redis answer `{}` with different elements",
                show(args)
            );
        } else {
            assert_eq!(
                String::from_utf8_lossy(&k),
                String::from_utf8_lossy(&r),
                "keel and redis answer `{}` differently",
                show(args)
            );
        }
        r
    }

    /// Compares the whole datasets: DBSIZE and DEBUG DIGEST of the selected
    /// database's server, and DIGEST-VALUE of every key (named in the failure).
    pub fn same_dataset(&mut self) {
        self.same("DBSIZE");
        let keys = self.redis.req(&[b"KEYS", b"*"]);
        for key in elements(&keys) {
            let k = strip_bulk(&key);
            self.same_args(&[b"TYPE", &k], false);
            self.same_args(&[b"DEBUG", b"DIGEST-VALUE", &k], false);
        }
        self.same("DEBUG DIGEST");
    }
}

/// The raw top-level elements of an array, set or map reply (a map's pairs as
/// one element each), or the whole reply as one element otherwise.
pub fn elements(reply: &[u8]) -> Vec<Vec<u8>> {
    fn skip(b: &[u8], mut i: usize) -> usize {
        let end = i + b[i..].windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        let n: i64 = std::str::from_utf8(&b[i + 1..end - 2])
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        let kind = b[i];
        i = end;
        match kind {
            b'$' | b'=' | b'!' if n >= 0 => i + n as usize + 2,
            b'*' | b'~' | b'>' => (0..n.max(0)).fold(i, |j, _| skip(b, j)),
            b'%' | b'|' => (0..2 * n).fold(i, |j, _| skip(b, j)),
            _ => i,
        }
    }
    if reply.is_empty() || !matches!(reply[0], b'*' | b'~' | b'%') {
        return vec![reply.to_vec()];
    }
    let end = reply.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let n: i64 = std::str::from_utf8(&reply[1..end - 2])
        .unwrap()
        .parse()
        .unwrap();
    let per = if reply[0] == b'%' { 2 } else { 1 };
    let mut out = Vec::new();
    let mut i = end;
    for _ in 0..n.max(0) {
        let j = (0..per).fold(i, |j, _| skip(reply, j));
        out.push(reply[i..j].to_vec());
        i = j;
    }
    out
}

fn sorted_elements(reply: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = elements(reply)
        .iter()
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .collect();
    v.sort();
    v
}

/// The payload of a raw bulk reply (`$3\r\nabc\r\n` -> `abc`).
pub fn strip_bulk(raw: &[u8]) -> Vec<u8> {
    let start = raw
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(0, |p| p + 2);
    raw[start..raw.len().saturating_sub(2)].to_vec()
}
