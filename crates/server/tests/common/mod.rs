//! Test support: start the real `keel-server` binary on a free loopback port in a
//! fresh temporary directory, connect to it with the `redis` crate, and find the
//! Debian redis tools for interoperability tests.
#![allow(dead_code)]

pub mod cmd;
pub mod diff;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct TestServer {
    pub child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    pub log: Arc<Mutex<String>>,
    keep_dir: bool,
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "keel-test-{}-{}-{}",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// The worker threads of a server whose test does not choose: one for
/// about half of the tests, the machine's default (one per core) for the
/// others, picked by a hash of the test's name (libtest names each test's
/// thread after it), so a test always gets the same. One worker is the
/// configuration where replies wait for the end of the worker's turn
/// (`keel_server::output`); several are where commands run in parallel.
/// `KEEL_TEST_SERVER_THREADS=N` gives every such server N.
fn default_threads(extra: &[&str]) -> Option<String> {
    if extra.contains(&"--server-threads") {
        return None;
    }
    if let Ok(n) = std::env::var("KEEL_TEST_SERVER_THREADS") {
        return Some(n);
    }
    let name = std::thread::current().name().unwrap_or("").to_string();
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    (h % 2 == 0).then(|| "1".to_string())
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_keel-server")
}

impl TestServer {
    /// Starts keel with default settings plus `extra` command-line options.
    pub fn start_with(extra: &[&str]) -> TestServer {
        let dir = temp_dir("srv");
        Self::start_in(&dir, extra)
    }

    pub fn start() -> TestServer {
        Self::start_with(&[])
    }

    /// Starts keel in `dir` (kept on drop only if the caller owns it).
    pub fn start_in(dir: &Path, extra: &[&str]) -> TestServer {
        Self::start_wrapped(dir, &[], extra)
    }

    /// Starts keel in `dir` under `wrapper` (a command such as `prlimit
    /// --as=N` that runs the rest of its arguments), or directly when empty.
    pub fn start_wrapped(dir: &Path, wrapper: &[&str], extra: &[&str]) -> TestServer {
        let port = free_port();
        let mut args: Vec<String> = Vec::new();
        // A config file as first argument must come first.
        let mut rest = extra;
        if let Some(first) = extra.first() {
            if !first.starts_with("--") {
                args.push(first.to_string());
                rest = &extra[1..];
            }
        }
        args.extend(["--port".to_string(), port.to_string()]);
        args.extend(["--dir".to_string(), dir.display().to_string()]);
        args.extend(rest.iter().map(|s| s.to_string()));
        if let Some(n) = default_threads(rest) {
            args.extend(["--server-threads".to_string(), n]);
        }
        let mut command = match wrapper.split_first() {
            Some((w, rest)) => {
                let mut c = Command::new(w);
                c.args(rest).arg(binary());
                c
            }
            None => Command::new(binary()),
        };
        let mut child = command
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn keel-server");
        let log = Arc::new(Mutex::new(String::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut l) = log.lock() {
                        l.push_str(&line);
                        l.push('\n');
                    }
                }
            });
        }
        let mut s = TestServer {
            child: Some(child),
            port,
            dir: dir.to_path_buf(),
            log,
            keep_dir: false,
        };
        s.wait_ready();
        s
    }

    /// The contents of any `*.log` file in the server's directory (a test that
    /// passes `--logfile` sends the server's log there, not to stderr).
    fn log_files(&self) -> String {
        let mut out = String::new();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let path = e.path();
                if path.extension().is_some_and(|x| x == "log") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    out.push_str(&format!("--- {}:\n{text}", path.display()));
                }
            }
        }
        out
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!(
                        "keel-server exited early ({status}); log:\n{}{}",
                        self.log(),
                        self.log_files()
                    );
                }
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                if s.write_all(b"PING\r\n").is_ok() {
                    let mut buf = [0u8; 64];
                    if let Ok(n) = s.read(&mut buf) {
                        if buf[..n].starts_with(b"+PONG") {
                            return;
                        }
                        // With requirepass PING says NOAUTH even while loading:
                        // the log says when writes are accepted.
                        let log = self.log();
                        if buf[..n].starts_with(b"-NOAUTH")
                            && (log.contains("Ready to accept writes")
                                || log.contains("appendonly is off"))
                        {
                            return;
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("keel-server did not become ready; log:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Whether the log shows `needle` within `wait`. The log reaches the test
    /// through a pipe and a reader thread, so a line the server wrote just
    /// before a reply the test has seen may not be in `log()` yet.
    #[allow(dead_code)]
    pub fn log_shows(&self, needle: &str, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn url_resp3(&self) -> String {
        format!("redis://127.0.0.1:{}/?protocol=resp3", self.port)
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("client")
    }

    pub fn conn(&self) -> redis::Connection {
        self.client().get_connection().expect("connect")
    }

    pub fn conn_resp3(&self) -> redis::Connection {
        redis::Client::open(self.url_resp3())
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        // SAFETY-free: use the kill command rather than libc in tests.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(s)) = c.try_wait() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                return c.wait().expect("wait");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGKILL (a crash) and waits.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub fn keep_dir(&mut self) {
        self.keep_dir = true;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A raw TCP connection for sending exact bytes and reading exact replies.
pub struct RawConn {
    pub stream: TcpStream,
}

impl RawConn {
    pub fn connect(port: u16) -> RawConn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        RawConn { stream }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads until `want` bytes arrived or the peer closed; returns what came.
    pub fn read_n(&mut self, want: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        while out.len() < want {
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        out
    }

    /// Reads until the reply ends with `suffix` (or the peer closes).
    pub fn read_until(&mut self, suffix: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        while !out.ends_with(suffix) {
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        out
    }

    /// True when the server closed the connection.
    pub fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(self.stream.read(&mut buf), Ok(0))
    }

    /// Whether the server closes the connection, after whatever replies it
    /// still sends (read and discarded) within the read timeout.
    pub fn closes(&mut self) -> bool {
        let mut buf = [0u8; 65536];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }

    pub fn cmd(&mut self, line: &str) -> Vec<u8> {
        self.send(format!("{line}\r\n").as_bytes());
        let mut buf = [0u8; 65536];
        match self.stream.read(&mut buf) {
            Ok(n) => buf[..n].to_vec(),
            Err(_) => Vec::new(),
        }
    }
}

/// Finds a Debian redis tool. Missing tools skip the test loudly, or fail it
/// when KEEL_REQUIRE_INTEROP=1 (as .ci/run sets).
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("KEEL_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("{name} is required (KEEL_REQUIRE_INTEROP=1) but not installed: apt-get install redis-tools redis-server");
        }
        eprintln!("\n!!! SKIPPED: {name} is not installed; install Debian's redis-tools/redis-server to run this interoperability test !!!\n");
    }
    found
}
