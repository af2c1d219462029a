//! List commands through the real binary, with the `redis` crate (RESP2 and
//! RESP3) and raw connections where the kind of null matters. Every expected
//! reply and error text is what Redis 7.0.15 answers.
//!
//! Blocking commands are tested here only where they do not wait: data present
//! (served at once) and inside MULTI (Redis's immediate null replies). Waking a
//! blocked client is the server's part and is tested with it.

mod common;
use common::cmd::*;
use common::TestServer;
use redis::Value;

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn bulks(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| bulk(s.as_bytes())).collect())
}

fn ints(items: &[i64]) -> Value {
    Value::Array(items.iter().map(|&i| Value::Int(i)).collect())
}

fn range(con: &mut redis::Connection, key: &str) -> Vec<String> {
    q(con, &format!("LRANGE {key} 0 -1"))
}

#[test]
fn push_and_pop() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "RPUSH l a b c"), 3);
    assert_eq!(i(&mut con, "LPUSH l z y"), 5);
    assert_eq!(range(&mut con, "l"), ["y", "z", "a", "b", "c"]);
    assert_eq!(i(&mut con, "LPUSHX l x"), 6);
    assert_eq!(i(&mut con, "RPUSHX l d"), 7);
    assert_eq!(i(&mut con, "LPUSHX nokey x"), 0);
    assert_eq!(i(&mut con, "RPUSHX nokey x"), 0);
    assert_eq!(i(&mut con, "EXISTS nokey"), 0);
    assert_eq!(i(&mut con, "LLEN l"), 7);
    assert_eq!(i(&mut con, "LLEN nokey"), 0);

    assert_eq!(v(&mut con, "LPOP l"), bulk(b"x"));
    assert_eq!(v(&mut con, "RPOP l"), bulk(b"d"));
    assert_eq!(v(&mut con, "LPOP l 2"), bulks(&["y", "z"]));
    assert_eq!(v(&mut con, "RPOP l 2"), bulks(&["c", "b"]));
    assert_eq!(v(&mut con, "LPOP l 0"), bulks(&[]));
    assert_eq!(v(&mut con, "RPOP l 100"), bulks(&["a"]));
    assert_eq!(i(&mut con, "EXISTS l"), 0);
    assert_eq!(v(&mut con, "LPOP l"), Value::Nil);
    assert_eq!(v(&mut con, "LPOP l 3"), Value::Nil);

    let positive = "ERR value is out of range, must be positive";
    assert_eq!(e(&mut con, "LPOP l -1"), positive);
    assert_eq!(e(&mut con, "RPOP l abc"), positive);
    assert_eq!(e(&mut con, "LPOP l 1 2"), arity("lpop"));
    assert_eq!(e(&mut con, "RPOP l 1 2"), arity("rpop"));
    assert_eq!(e(&mut con, "LPUSH l"), arity("lpush"));
    assert_eq!(e(&mut con, "RPUSHX l"), arity("rpushx"));
    assert_eq!(e(&mut con, "LPOP"), arity("lpop"));
    assert_eq!(e(&mut con, "LLEN"), arity("llen"));

    // Wrong type everywhere, and nothing created by LPUSHX.
    assert_eq!(v(&mut con, "SET s v"), Value::Okay);
    for cmd in [
        "LPUSH s a",
        "RPUSH s a",
        "LPUSHX s a",
        "RPUSHX s a",
        "LPOP s",
        "RPOP s 2",
        "LLEN s",
        "LRANGE s 0 -1",
        "LINDEX s 0",
        "LSET s 0 a",
        "LINSERT s BEFORE a b",
        "LREM s 0 a",
        "LTRIM s 0 1",
        "LPOS s a",
        "LMOVE s d LEFT LEFT",
        "RPOPLPUSH s d",
        "LMPOP 1 s LEFT",
        "BLPOP s 0",
        "BRPOP s 0",
        "BLMOVE s d LEFT LEFT 0",
        "BRPOPLPUSH s d 0",
        "BLMPOP 0 1 s LEFT",
    ] {
        assert_eq!(e(&mut con, cmd), WRONGTYPE, "{cmd}");
    }
    assert_eq!(i(&mut con, "EXISTS d"), 0);
}

#[test]
fn range_index_set_with_negative_indexes() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "RPUSH l a b c d e");
    assert_eq!(range(&mut con, "l"), ["a", "b", "c", "d", "e"]);
    assert_eq!(v(&mut con, "LRANGE l 1 2"), bulks(&["b", "c"]));
    assert_eq!(v(&mut con, "LRANGE l -2 -1"), bulks(&["d", "e"]));
    assert_eq!(v(&mut con, "LRANGE l -100 1"), bulks(&["a", "b"]));
    assert_eq!(v(&mut con, "LRANGE l 3 100"), bulks(&["d", "e"]));
    assert_eq!(v(&mut con, "LRANGE l 3 1"), bulks(&[]));
    assert_eq!(v(&mut con, "LRANGE l 5 10"), bulks(&[]));
    assert_eq!(v(&mut con, "LRANGE l -1 -2"), bulks(&[]));
    assert_eq!(
        v(
            &mut con,
            "LRANGE l 9223372036854775807 -9223372036854775808"
        ),
        bulks(&[])
    );
    assert_eq!(
        v(
            &mut con,
            "LRANGE l -9223372036854775808 9223372036854775807"
        ),
        bulks(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(v(&mut con, "LRANGE nokey 0 -1"), bulks(&[]));
    assert_eq!(e(&mut con, "LRANGE l a 1"), NOT_INT);
    assert_eq!(e(&mut con, "LRANGE nokey 0 b"), NOT_INT);

    assert_eq!(v(&mut con, "LINDEX l 0"), bulk(b"a"));
    assert_eq!(v(&mut con, "LINDEX l -1"), bulk(b"e"));
    assert_eq!(v(&mut con, "LINDEX l -5"), bulk(b"a"));
    assert_eq!(v(&mut con, "LINDEX l -6"), Value::Nil);
    assert_eq!(v(&mut con, "LINDEX l 5"), Value::Nil);
    assert_eq!(v(&mut con, "LINDEX l -9223372036854775808"), Value::Nil);
    assert_eq!(e(&mut con, "LINDEX l x"), NOT_INT);
    // The key is looked up before the index is parsed.
    assert_eq!(v(&mut con, "LINDEX nokey x"), Value::Nil);

    assert_eq!(v(&mut con, "LSET l 0 A"), Value::Okay);
    assert_eq!(v(&mut con, "LSET l -1 E"), Value::Okay);
    assert_eq!(range(&mut con, "l"), ["A", "b", "c", "d", "E"]);
    assert_eq!(e(&mut con, "LSET l 5 x"), "ERR index out of range");
    assert_eq!(e(&mut con, "LSET l -6 x"), "ERR index out of range");
    assert_eq!(e(&mut con, "LSET nokey 0 x"), "ERR no such key");
    assert_eq!(e(&mut con, "LSET nokey x x"), NOT_INT);
    assert_eq!(e(&mut con, "LSET l"), arity("lset"));
}

#[test]
fn insert_remove_trim() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "RPUSH l a b a c a");
    assert_eq!(i(&mut con, "LINSERT l BEFORE a x"), 6);
    assert_eq!(i(&mut con, "LINSERT l after c y"), 7);
    assert_eq!(range(&mut con, "l"), ["x", "a", "b", "a", "c", "y", "a"]);
    assert_eq!(i(&mut con, "LINSERT l BEFORE nope z"), -1);
    assert_eq!(i(&mut con, "LINSERT nokey BEFORE a z"), 0);
    assert_eq!(e(&mut con, "LINSERT l UNDER a z"), SYNTAX);
    // The syntax is checked before the key.
    assert_eq!(e(&mut con, "LINSERT nokey UNDER a z"), SYNTAX);

    assert_eq!(i(&mut con, "LREM l 1 a"), 1);
    assert_eq!(range(&mut con, "l"), ["x", "b", "a", "c", "y", "a"]);
    assert_eq!(i(&mut con, "LREM l -1 a"), 1);
    assert_eq!(range(&mut con, "l"), ["x", "b", "a", "c", "y"]);
    assert_eq!(i(&mut con, "LREM l 0 zz"), 0);
    assert_eq!(i(&mut con, "LREM nokey 0 a"), 0);
    assert_eq!(e(&mut con, "LREM l x a"), NOT_INT);
    i(&mut con, "RPUSH m a a a b a");
    assert_eq!(i(&mut con, "LREM m -9223372036854775808 a"), 4);
    assert_eq!(range(&mut con, "m"), ["b"]);
    assert_eq!(i(&mut con, "LREM m 0 b"), 1);
    assert_eq!(i(&mut con, "EXISTS m"), 0);

    assert_eq!(v(&mut con, "LTRIM l 1 -2"), Value::Okay);
    assert_eq!(range(&mut con, "l"), ["b", "a", "c"]);
    assert_eq!(v(&mut con, "LTRIM l 0 100"), Value::Okay);
    assert_eq!(range(&mut con, "l"), ["b", "a", "c"]);
    assert_eq!(v(&mut con, "LTRIM l -1 -1"), Value::Okay);
    assert_eq!(range(&mut con, "l"), ["c"]);
    assert_eq!(v(&mut con, "LTRIM l 1 0"), Value::Okay);
    assert_eq!(i(&mut con, "EXISTS l"), 0);
    assert_eq!(v(&mut con, "LTRIM nokey 0 1"), Value::Okay);
    assert_eq!(e(&mut con, "LTRIM nokey a 1"), NOT_INT);
}

#[test]
fn lpos_options_and_errors() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "RPUSH l a b c 1 2 3 c c");
    assert_eq!(v(&mut con, "LPOS l c"), Value::Int(2));
    assert_eq!(v(&mut con, "LPOS l 3"), Value::Int(5));
    assert_eq!(v(&mut con, "LPOS l 03"), Value::Nil);
    assert_eq!(v(&mut con, "LPOS l c RANK 2"), Value::Int(6));
    assert_eq!(v(&mut con, "LPOS l c RANK -1"), Value::Int(7));
    assert_eq!(v(&mut con, "LPOS l c RANK -3"), Value::Int(2));
    assert_eq!(v(&mut con, "LPOS l c RANK 4"), Value::Nil);
    assert_eq!(v(&mut con, "LPOS l c COUNT 2"), ints(&[2, 6]));
    assert_eq!(v(&mut con, "LPOS l c COUNT 0"), ints(&[2, 6, 7]));
    assert_eq!(v(&mut con, "LPOS l c RANK -1 COUNT 2"), ints(&[7, 6]));
    assert_eq!(v(&mut con, "LPOS l c COUNT 0 MAXLEN 7"), ints(&[2, 6]));
    assert_eq!(v(&mut con, "LPOS l c RANK -1 MAXLEN 1"), Value::Int(7));
    assert_eq!(v(&mut con, "LPOS l c MAXLEN 2"), Value::Nil);
    assert_eq!(v(&mut con, "LPOS l zz COUNT 1"), ints(&[]));
    assert_eq!(v(&mut con, "LPOS nokey a"), Value::Nil);
    assert_eq!(v(&mut con, "LPOS nokey a COUNT 1"), ints(&[]));
    // Redis negates a negative rank in a C long: i64::MIN stays negative.
    assert_eq!(
        v(&mut con, "LPOS l c RANK -9223372036854775808 COUNT 1"),
        ints(&[7, 6, 2])
    );
    assert_eq!(
        v(&mut con, "LPOS l c RANK -9223372036854775807"),
        Value::Nil
    );

    assert_eq!(
        e(&mut con, "LPOS l c RANK 0"),
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
    );
    assert_eq!(e(&mut con, "LPOS l c RANK x"), NOT_INT);
    assert_eq!(
        e(&mut con, "LPOS l c COUNT -1"),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        e(&mut con, "LPOS l c COUNT x"),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        e(&mut con, "LPOS l c MAXLEN -1"),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(e(&mut con, "LPOS l c FOO 1"), SYNTAX);
    assert_eq!(e(&mut con, "LPOS l c RANK"), SYNTAX);
    // Options are checked before the key.
    assert!(e(&mut con, "LPOS nokey c RANK 0").starts_with("ERR RANK"));
}

#[test]
fn lmove_rpoplpush_lmpop() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "RPUSH a 1 2 3");
    assert_eq!(v(&mut con, "LMOVE a b LEFT RIGHT"), bulk(b"1"));
    assert_eq!(v(&mut con, "LMOVE a b right left"), bulk(b"3"));
    assert_eq!(range(&mut con, "b"), ["3", "1"]);
    assert_eq!(v(&mut con, "RPOPLPUSH a b"), bulk(b"2"));
    assert_eq!(i(&mut con, "EXISTS a"), 0);
    assert_eq!(range(&mut con, "b"), ["2", "3", "1"]);
    // Rotation.
    assert_eq!(v(&mut con, "LMOVE b b LEFT RIGHT"), bulk(b"2"));
    assert_eq!(v(&mut con, "RPOPLPUSH b b"), bulk(b"2"));
    assert_eq!(range(&mut con, "b"), ["2", "3", "1"]);
    assert_eq!(v(&mut con, "LMOVE nokey b LEFT LEFT"), Value::Nil);
    assert_eq!(v(&mut con, "RPOPLPUSH nokey b"), Value::Nil);
    assert_eq!(e(&mut con, "LMOVE b c UP LEFT"), SYNTAX);
    assert_eq!(e(&mut con, "LMOVE b c LEFT"), arity("lmove"));
    // A wrong-type destination stops the move before anything changes.
    v(&mut con, "SET s x");
    assert_eq!(e(&mut con, "LMOVE b s LEFT LEFT"), WRONGTYPE);
    assert_eq!(e(&mut con, "RPOPLPUSH b s"), WRONGTYPE);
    assert_eq!(i(&mut con, "LLEN b"), 3);
    assert_eq!(v(&mut con, "LMOVE nokey s LEFT LEFT"), Value::Nil);

    assert_eq!(
        v(&mut con, "LMPOP 2 nokey b LEFT"),
        Value::Array(vec![bulk(b"b"), bulks(&["2"])])
    );
    assert_eq!(
        v(&mut con, "LMPOP 1 b RIGHT COUNT 10"),
        Value::Array(vec![bulk(b"b"), bulks(&["1", "3"])])
    );
    assert_eq!(v(&mut con, "LMPOP 1 b LEFT"), Value::Nil);
    assert_eq!(e(&mut con, "LMPOP 2 nokey s LEFT"), WRONGTYPE);
    assert_eq!(
        e(&mut con, "LMPOP 0 a LEFT"),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        e(&mut con, "LMPOP x a LEFT"),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(e(&mut con, "LMPOP 2 a LEFT"), SYNTAX);
    assert_eq!(e(&mut con, "LMPOP 9223372036854775807 a LEFT"), SYNTAX);
    assert_eq!(e(&mut con, "LMPOP 1 a UP"), SYNTAX);
    assert_eq!(
        e(&mut con, "LMPOP 1 a LEFT COUNT 0"),
        "ERR count should be greater than 0"
    );
    assert_eq!(
        e(&mut con, "LMPOP 1 a LEFT COUNT x"),
        "ERR count should be greater than 0"
    );
    assert_eq!(e(&mut con, "LMPOP 1 a LEFT COUNT 1 COUNT 1"), SYNTAX);
    assert_eq!(e(&mut con, "LMPOP 1 a LEFT COUNT"), SYNTAX);
    assert_eq!(e(&mut con, "LMPOP 1 a"), arity("lmpop"));
}

#[test]
fn blocking_forms_without_waiting() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "RPUSH l a b c d e f");
    // Data present: served at once, like the non-blocking forms.
    assert_eq!(v(&mut con, "BLPOP nokey l 0"), bulks(&["l", "a"]));
    assert_eq!(v(&mut con, "BRPOP l 1.5"), bulks(&["l", "f"]));
    assert_eq!(v(&mut con, "BLMOVE l d LEFT RIGHT 0"), bulk(b"b"));
    assert_eq!(v(&mut con, "BRPOPLPUSH l d 0"), bulk(b"e"));
    assert_eq!(
        v(&mut con, "BLMPOP 0 2 nokey l RIGHT COUNT 5"),
        Value::Array(vec![bulk(b"l"), bulks(&["d", "c"])])
    );
    assert_eq!(i(&mut con, "EXISTS l"), 0);
    assert_eq!(range(&mut con, "d"), ["e", "b"]);

    // Argument errors come before anything else.
    assert_eq!(e(&mut con, "BLPOP l -1"), "ERR timeout is negative");
    assert_eq!(
        e(&mut con, "BLPOP l x"),
        "ERR timeout is not a float or out of range"
    );
    assert_eq!(e(&mut con, "BLMOVE l d UP LEFT x"), SYNTAX);
    assert_eq!(
        e(&mut con, "BLMOVE l d LEFT LEFT x"),
        "ERR timeout is not a float or out of range"
    );
    assert_eq!(
        e(&mut con, "BLMPOP x 1 l LEFT"),
        "ERR timeout is not a float or out of range"
    );
    assert_eq!(
        e(&mut con, "BLMPOP x 0 l LEFT"),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        e(&mut con, "BLMPOP x 1 l LEFT COUNT 0"),
        "ERR count should be greater than 0"
    );
    assert_eq!(e(&mut con, "BLPOP l"), arity("blpop"));
    assert_eq!(e(&mut con, "BLMPOP 0 1 l"), arity("blmpop"));

    // Inside MULTI a blocking command cannot block: Redis answers at once,
    // a null array for the pops and a null bulk for the moves.
    let mut raw = s.raw();
    assert_eq!(raw.cmd("MULTI"), b"+OK\r\n");
    for c in [
        "BLPOP nokey 0",
        "BRPOP nokey 0",
        "BLMOVE nokey d LEFT LEFT 0",
        "BRPOPLPUSH nokey d 0",
        "BLMPOP 0 1 nokey LEFT",
    ] {
        assert_eq!(raw.cmd(c), b"+QUEUED\r\n");
    }
    assert_eq!(
        raw.cmd("EXEC"),
        b"*5\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n"
    );
    assert_eq!(raw.cmd("HELLO 3").first(), Some(&b'%'));
    assert_eq!(raw.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(raw.cmd("BLPOP nokey 0"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("BLMOVE nokey d LEFT LEFT 0"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("EXEC"), b"*2\r\n_\r\n_\r\n");
}

#[test]
fn raw_replies_are_exact() {
    let s = TestServer::start();
    let mut raw = s.raw();
    assert_eq!(raw.cmd("LPOP nokey"), b"$-1\r\n");
    assert_eq!(raw.cmd("LPOP nokey 1"), b"*-1\r\n");
    assert_eq!(raw.cmd("LMPOP 1 nokey LEFT"), b"*-1\r\n");
    assert_eq!(raw.cmd("LINDEX nokey 0"), b"$-1\r\n");
    assert_eq!(raw.cmd("LPOS nokey a"), b"$-1\r\n");
    assert_eq!(raw.cmd("LMOVE nokey b LEFT LEFT"), b"$-1\r\n");
    assert_eq!(raw.cmd("RPUSH l a"), b":1\r\n");
    assert_eq!(raw.cmd("LPOP l 0"), b"*0\r\n");
    assert_eq!(raw.cmd("HELLO 3").first(), Some(&b'%'));
    assert_eq!(raw.cmd("LPOP nokey"), b"_\r\n");
    assert_eq!(raw.cmd("LPOP nokey 1"), b"_\r\n");
    assert_eq!(raw.cmd("LMPOP 1 nokey LEFT"), b"_\r\n");
    assert_eq!(raw.cmd("LPOS l zz"), b"_\r\n");
    assert_eq!(raw.cmd("LPOP l 1"), b"*1\r\n$1\r\na\r\n");
}

#[test]
fn resp3_shapes() {
    let s = TestServer::start();
    let mut con = s.conn_resp3();
    i(&mut con, "RPUSH l a b c a");
    assert_eq!(v(&mut con, "LRANGE l 0 1"), bulks(&["a", "b"]));
    assert_eq!(v(&mut con, "LPOS l a COUNT 0"), ints(&[0, 3]));
    assert_eq!(v(&mut con, "LPOS l zz"), Value::Nil);
    assert_eq!(v(&mut con, "LINDEX l 9"), Value::Nil);
    assert_eq!(v(&mut con, "RPOP l 2"), bulks(&["a", "c"]));
    assert_eq!(
        v(&mut con, "LMPOP 1 l LEFT"),
        Value::Array(vec![bulk(b"l"), bulks(&["a"])])
    );
    assert_eq!(v(&mut con, "BLPOP l 0"), bulks(&["l", "b"]));
    assert_eq!(v(&mut con, "LPOP l"), Value::Nil);
}

#[test]
fn binary_safe_and_integer_like_elements() {
    let s = TestServer::start();
    let mut con = s.conn();
    let elems: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\x00\r\n\xff".to_vec(),
        b"01".to_vec(),
        b"-0".to_vec(),
        b"+1".to_vec(),
        b" 1".to_vec(),
        b"127".to_vec(),
        b"-4096".to_vec(),
        b"32768".to_vec(),
        b"-8388609".to_vec(),
        b"9223372036854775807".to_vec(),
        b"-9223372036854775808".to_vec(),
        b"9223372036854775808".to_vec(),
        vec![b'x'; 63],
        vec![b'y'; 64],
        vec![b'z'; 4096],
        vec![b'w'; 100_000],
    ];
    let mut push = redis::cmd("RPUSH");
    push.arg("bin");
    for x in &elems {
        push.arg(&x[..]);
    }
    let n: i64 = push.query(&mut con).unwrap();
    assert_eq!(n, elems.len() as i64);
    let got: Vec<Vec<u8>> = q(&mut con, "LRANGE bin 0 -1");
    assert_eq!(got, elems);
    for (k, x) in elems.iter().enumerate() {
        let one: Vec<u8> = c(&format!("LINDEX bin {k}")).query(&mut con).unwrap();
        assert_eq!(&one, x);
        // LPOS compares exactly: "01" is not 1.
        let pos: Option<i64> = cb(&[b"LPOS", b"bin", x]).query(&mut con).unwrap();
        assert_eq!(pos, Some(k as i64));
    }
    let rem: i64 = cb(&[b"LREM", b"bin", b"0", b"\x00\r\n\xff"])
        .query(&mut con)
        .unwrap();
    assert_eq!(rem, 1);
    let set: Value = cb(&[b"LSET", b"bin", b"0", &vec![b'q'; 70_000]])
        .query(&mut con)
        .unwrap();
    assert_eq!(set, Value::Okay);
    let first: Vec<u8> = q(&mut con, "LINDEX bin 0");
    assert_eq!(first.len(), 70_000);
}

/// A list long enough for many nodes, checked against a model after every
/// kind of edit, with the default node size and after CONFIG SET of
/// list-max-listpack-size (entry counts and byte sizes). The encoding is
/// always `quicklist`, as Redis 7.0 reports.
#[test]
fn big_lists_and_node_sizes() {
    let s = TestServer::start();
    let mut con = s.conn();
    for fill in ["-2", "1", "3", "-1", "-5", "128"] {
        assert_eq!(
            v(
                &mut con,
                &format!("CONFIG SET list-max-listpack-size {fill}")
            ),
            Value::Okay
        );
        let key = format!("big{fill}");
        let mut model: Vec<String> = Vec::new();
        for chunk in 0..20 {
            let items: Vec<String> = (0..100)
                .map(|k| {
                    let n = chunk * 100 + k;
                    if n % 3 == 0 {
                        n.to_string()
                    } else {
                        format!("elem-{n}")
                    }
                })
                .collect();
            let mut cmd = redis::cmd(if chunk % 2 == 0 { "RPUSH" } else { "LPUSH" });
            cmd.arg(&key).arg(&items);
            let _: i64 = cmd.query(&mut con).unwrap();
            if chunk % 2 == 0 {
                model.extend(items);
            } else {
                for x in items {
                    model.insert(0, x);
                }
            }
        }
        assert_eq!(
            q::<String>(&mut con, &format!("OBJECT ENCODING {key}")),
            "quicklist"
        );
        assert_eq!(range(&mut con, &key), model);
        for idx in [0i64, 1, 499, 500, 1000, 1999, -1, -2, -1000, -2000] {
            let want = if idx < 0 {
                &model[(model.len() as i64 + idx) as usize]
            } else {
                &model[idx as usize]
            };
            let got: String = q(&mut con, &format!("LINDEX {key} {idx}"));
            assert_eq!(&got, want, "{fill} {idx}");
        }
        let got: Vec<String> = q(&mut con, &format!("LRANGE {key} 700 1300"));
        assert_eq!(got, model[700..=1300]);
        // Edits in the middle of the list.
        v(&mut con, &format!("LSET {key} 1000 {}", "m".repeat(300)));
        model[1000] = "m".repeat(300);
        i(&mut con, &format!("LINSERT {key} AFTER elem-1001 inserted"));
        let p = model.iter().position(|x| x == "elem-1001").unwrap();
        model.insert(p + 1, "inserted".to_string());
        let removed = i(&mut con, &format!("LREM {key} 0 {}", model[600]));
        let target = model[600].clone();
        model.retain(|x| *x != target);
        assert_eq!(removed, 1);
        v(&mut con, &format!("LTRIM {key} 10 -10"));
        model = model[10..model.len() - 9].to_vec();
        assert_eq!(range(&mut con, &key), model);
        assert_eq!(i(&mut con, &format!("LLEN {key}")), model.len() as i64);
        let popped: Vec<String> = q(&mut con, &format!("RPOP {key} 1500"));
        let mut want: Vec<String> = model.split_off(model.len() - 1500);
        want.reverse();
        assert_eq!(popped, want);
        assert_eq!(range(&mut con, &key), model);
    }
    assert_eq!(
        v(&mut con, "CONFIG SET list-max-listpack-size -2"),
        Value::Okay
    );
    i(&mut con, "RPUSH small a");
    assert_eq!(q::<String>(&mut con, "OBJECT ENCODING small"), "quicklist");
}

#[tokio::test]
async fn async_lists_resp2_and_resp3() {
    let s = TestServer::start();
    for url in [s.url(), s.url_resp3()] {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("FLUSHALL").query_async(&mut con).await.unwrap();
        let n: i64 = redis::cmd("RPUSH")
            .arg("l")
            .arg(&[&b"a"[..], b"\x00", b"3"])
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(n, 3);
        let got: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg("l")
            .arg(0)
            .arg(-1)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(got, [b"a".to_vec(), b"\x00".to_vec(), b"3".to_vec()]);
        let popped: Option<(String, String)> = redis::cmd("BRPOP")
            .arg("l")
            .arg(0)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(popped, Some(("l".to_string(), "3".to_string())));
    }
}
