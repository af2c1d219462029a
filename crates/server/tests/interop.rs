//! Interoperability with Debian's redis tools: redis-cli (scripted commands and
//! --pipe mass insertion), redis-benchmark, and Debian's stock redis.conf.

mod common;
use common::{tool, TestServer};
use std::io::Write;
use std::process::{Command, Stdio};

fn cli(s: &TestServer, cli: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(cli)
        .args(["-p", &s.port.to_string()])
        .args(args)
        .output()
        .expect("run redis-cli");
    assert!(
        out.status.success(),
        "redis-cli {:?} failed: {:?}",
        args,
        out
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_cli_scripted_commands() {
    let Some(rc) = tool("redis-cli") else { return };
    let s = TestServer::start();
    assert_eq!(cli(&s, &rc, &["PING"]), "PONG\n");
    assert_eq!(cli(&s, &rc, &["SET", "greeting", "hello world"]), "OK\n");
    assert_eq!(cli(&s, &rc, &["GET", "greeting"]), "hello world\n");
    assert_eq!(cli(&s, &rc, &["INCR", "n"]), "1\n");
    assert_eq!(cli(&s, &rc, &["--no-raw", "GET", "missing"]), "(nil)\n");
    let err = cli(&s, &rc, &["--no-raw", "INCR", "greeting"]);
    assert_eq!(err, "(error) ERR value is not an integer or out of range\n");
    // Commands from stdin, one per line, as a script would send them.
    let mut child = Command::new(&rc)
        .args(["-p", &s.port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SET a 1\nMSET b 2 c 3\nMGET a b c\nDBSIZE\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\nOK\n1\n2\n3\n5\n");
    // RESP3 through redis-cli -3.
    assert_eq!(cli(&s, &rc, &["-3", "GET", "a"]), "1\n");
    let info = cli(&s, &rc, &["INFO", "server"]);
    assert!(info.contains("redis_version:"), "{info}");
}

#[test]
fn redis_cli_pipe_mass_insertion() {
    let Some(rc) = tool("redis-cli") else { return };
    let s = TestServer::start();
    let mut payload = Vec::new();
    for i in 0..20_000 {
        let k = format!("key:{i}");
        let v = format!("value:{i}");
        payload.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n${}\r\n{}\r\n",
                k.len(),
                k,
                v.len(),
                v
            )
            .as_bytes(),
        );
    }
    let mut child = Command::new(&rc)
        .args(["-p", &s.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&payload).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("errors: 0, replies: 20000"), "{text}");
    assert_eq!(cli(&s, &rc, &["DBSIZE"]), "20000\n");
    assert_eq!(cli(&s, &rc, &["GET", "key:19999"]), "value:19999\n");
}

#[test]
fn redis_benchmark_runs_without_errors() {
    let Some(rb) = tool("redis-benchmark") else {
        return;
    };
    let s = TestServer::start();
    let out = Command::new(&rb)
        .args([
            "-p",
            &s.port.to_string(),
            "-t",
            "set,get,incr,mset",
            "-P",
            "16",
            "-q",
            "-n",
            "50000",
        ])
        .output()
        .expect("run redis-benchmark");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    for t in ["SET", "GET", "INCR", "MSET"] {
        assert!(
            text.contains(&format!("{t}: ")) || text.contains(&format!("{t} (")),
            "missing {t} in {text}"
        );
    }
    assert!(!text.to_lowercase().contains("error"), "{text}");
    assert!(text.contains("requests per second"), "{text}");
}

#[test]
fn debian_stock_redis_conf_starts_keel() {
    let conf = std::path::Path::new("/etc/redis/redis.conf");
    if !conf.exists() {
        if std::env::var("KEEL_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("/etc/redis/redis.conf is required (KEEL_REQUIRE_INTEROP=1): apt-get install redis-server");
        }
        eprintln!(
            "\n!!! SKIPPED: /etc/redis/redis.conf not found (install Debian's redis-server) !!!\n"
        );
        return;
    }
    let text = std::fs::read_to_string(conf).expect("read redis.conf");
    let dir = common::temp_dir("stockconf");
    let stripped: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("save "))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = dir.join("redis.conf");
    std::fs::write(&path, stripped).unwrap();
    let p = path.display().to_string();
    // Debian's file logs to /var/log/redis and writes a pidfile under /run; send both
    // somewhere the test owns, as an admin would override them on the command line.
    let log = dir.join("keel.log").display().to_string();
    let pid = dir.join("keel.pid").display().to_string();
    let s = TestServer::start_in(
        &dir,
        &[
            &p,
            "--logfile",
            &log,
            "--pidfile",
            &pid,
            "--daemonize",
            "no",
        ],
    );
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("a").arg("b").query(&mut c).unwrap();
    let file: String = redis::cmd("INFO").arg("server").query(&mut c).unwrap();
    assert!(file.contains(&format!("config_file:{p}")), "{file}");
}
