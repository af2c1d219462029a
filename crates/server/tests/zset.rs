//! Sorted-set commands through the real binary, with the `redis` crate and raw
//! RESP (RESP2 and RESP3). Every expected reply and error text is what Redis
//! 7.0.15 answers.

mod common;
use common::cmd::*;
use common::TestServer;
use redis::Value;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";

fn strs(con: &mut redis::Connection, line: &str) -> Vec<String> {
    q(con, line)
}

#[test]
fn zadd_zincrby_zscore_zrem_zcard() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "ZADD z 1 a 2 b 3 c"), 3);
    assert_eq!(i(&mut con, "ZADD z CH 1 a 5 b 4 d"), 2);
    assert_eq!(i(&mut con, "ZADD z NX 9 a 6 e"), 1);
    assert_eq!(i(&mut con, "ZADD z XX 9 a 6 nope"), 0);
    assert_eq!(i(&mut con, "ZADD z GT CH 0 a 10 a"), 1);
    assert_eq!(i(&mut con, "ZADD z LT CH 11 a"), 0);
    assert_eq!(q::<String>(&mut con, "ZSCORE z a"), "10");
    assert_eq!(
        q::<String>(&mut con, "ZINCRBY z 0.1 b"),
        "5.0999999999999996"
    );
    assert_eq!(q::<String>(&mut con, "ZADD z INCR -1 c"), "2");
    assert_eq!(v(&mut con, "ZADD z INCR NX 1 c"), Value::Nil);
    assert_eq!(i(&mut con, "ZCARD z"), 5);
    assert_eq!(i(&mut con, "ZCARD nokey"), 0);
    assert_eq!(v(&mut con, "ZSCORE z nope"), Value::Nil);
    assert_eq!(v(&mut con, "ZSCORE nokey a"), Value::Nil);
    assert_eq!(
        v(&mut con, "ZMSCORE z a nope c"),
        Value::Array(vec![bulk(b"10"), Value::Nil, bulk(b"2")])
    );
    assert_eq!(
        v(&mut con, "ZMSCORE nokey a"),
        Value::Array(vec![Value::Nil])
    );
    assert_eq!(i(&mut con, "ZREM z a nope b"), 2);
    // Infinities and NaN.
    assert_eq!(i(&mut con, "ZADD inf +inf a -inf b"), 2);
    assert_eq!(q::<String>(&mut con, "ZSCORE inf a"), "inf");
    assert_eq!(
        e(&mut con, "ZINCRBY inf -inf a"),
        "ERR resulting score is not a number (NaN)"
    );
    for (line, want) in [
        ("ZADD z nan a", "ERR value is not a valid float"),
        ("ZADD z 1e400 a", "ERR value is not a valid float"),
        ("ZADD z 1 a 2", SYNTAX),
        (
            "ZADD z NX XX 1 a",
            "ERR XX and NX options at the same time are not compatible",
        ),
        (
            "ZADD z NX GT 1 a",
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            "ZADD z INCR 1 a 2 b",
            "ERR INCR option supports a single increment-element pair",
        ),
        ("ZINCRBY z x a", "ERR value is not a valid float"),
    ] {
        assert_eq!(e(&mut con, line), want, "{line}");
    }
    for (line, name) in [
        ("ZADD z 1", "zadd"),
        ("ZINCRBY z 1", "zincrby"),
        ("ZREM z", "zrem"),
        ("ZCARD", "zcard"),
        ("ZSCORE z", "zscore"),
        ("ZMSCORE z", "zmscore"),
        ("ZRANK z a WITHSCORE", "zrank"),
    ] {
        assert_eq!(e(&mut con, line), arity(name), "{line}");
    }
    // Emptying a set deletes the key.
    assert_eq!(i(&mut con, "ZADD one 1 x"), 1);
    assert_eq!(i(&mut con, "ZREM one x"), 1);
    assert_eq!(i(&mut con, "EXISTS one"), 0);
    // Wrong types.
    assert_eq!(v(&mut con, "SET str v"), Value::Okay);
    for line in [
        "ZADD str 1 a",
        "ZINCRBY str 1 a",
        "ZREM str a",
        "ZCARD str",
        "ZSCORE str a",
        "ZMSCORE str a",
        "ZRANK str a",
        "ZRANGE str 0 -1",
        "ZCOUNT str 0 1",
        "ZPOPMIN str",
        "ZRANDMEMBER str",
        "ZSCAN str 0",
        "ZUNION 1 str",
        "ZREMRANGEBYRANK str 0 1",
        "BZPOPMIN str 1",
    ] {
        assert_eq!(e(&mut con, line), WRONGTYPE, "{line}");
    }
}

#[test]
fn binary_safe_members_and_ranks() {
    let s = TestServer::start();
    let mut con = s.conn();
    let m: &[u8] = b"a\x00b\r\n\xff";
    let added: i64 = cb(&[b"ZADD", b"bin", b"1", m, b"2", b""])
        .query(&mut con)
        .unwrap();
    assert_eq!(added, 2);
    let got: Vec<Vec<u8>> = c("ZRANGE bin 0 -1").query(&mut con).unwrap();
    assert_eq!(got, vec![m.to_vec(), Vec::new()]);
    let r: i64 = cb(&[b"ZRANK", b"bin", m]).query(&mut con).unwrap();
    assert_eq!(r, 0);
    let r: i64 = cb(&[b"ZREVRANK", b"bin", b""]).query(&mut con).unwrap();
    assert_eq!(r, 0);
    assert_eq!(v(&mut con, "ZRANK bin nope"), Value::Nil);
    assert_eq!(v(&mut con, "ZRANK nokey a"), Value::Nil);
}

#[test]
fn ranges_counts_and_removals() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(strs(&mut con, "ZRANGE z 0 -1"), ["a", "b", "c", "d", "e"]);
    assert_eq!(strs(&mut con, "ZRANGE z -2 -1"), ["d", "e"]);
    assert_eq!(strs(&mut con, "ZRANGE z -100 1"), ["a", "b"]);
    assert_eq!(strs(&mut con, "ZRANGE z 3 1"), Vec::<String>::new());
    assert_eq!(strs(&mut con, "ZRANGE z 0 1 REV"), ["e", "d"]);
    assert_eq!(
        strs(&mut con, "ZREVRANGE z 0 1 WITHSCORES"),
        ["e", "5", "d", "4"]
    );
    assert_eq!(strs(&mut con, "ZRANGE z (1 3 BYSCORE"), ["b", "c"]);
    assert_eq!(strs(&mut con, "ZRANGE z 3 (1 BYSCORE REV"), ["c", "b"]);
    assert_eq!(
        strs(&mut con, "ZRANGE z -inf +inf BYSCORE LIMIT 1 2"),
        ["b", "c"]
    );
    assert_eq!(
        strs(&mut con, "ZRANGEBYSCORE z 2 4 WITHSCORES LIMIT 1 -1"),
        ["c", "3", "d", "4"]
    );
    assert_eq!(strs(&mut con, "ZREVRANGEBYSCORE z +inf (4"), ["e"]);
    assert_eq!(
        strs(&mut con, "ZRANGEBYSCORE z -inf +inf LIMIT -1 3"),
        Vec::<String>::new()
    );
    i(&mut con, "ZADD lex 0 a 0 b 0 c 0 d");
    assert_eq!(strs(&mut con, "ZRANGE lex [b + BYLEX"), ["b", "c", "d"]);
    assert_eq!(strs(&mut con, "ZRANGEBYLEX lex - (c"), ["a", "b"]);
    assert_eq!(
        strs(&mut con, "ZREVRANGEBYLEX lex + - LIMIT 1 2"),
        ["c", "b"]
    );
    assert_eq!(i(&mut con, "ZLEXCOUNT lex (a [c"), 2);
    assert_eq!(i(&mut con, "ZCOUNT z (1 +inf"), 4);
    assert_eq!(i(&mut con, "ZCOUNT nokey -inf +inf"), 0);
    for (line, want) in [
        (
            "ZRANGE z 0 1 LIMIT 0 1",
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ),
        (
            "ZRANGE lex - + BYLEX WITHSCORES",
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ),
        ("ZRANGE z 0 1 FOO", SYNTAX),
        (
            "ZRANGE z x 1",
            "ERR value is not an integer or out of range",
        ),
        ("ZRANGEBYSCORE z x 1", "ERR min or max is not a float"),
        ("ZCOUNT z 1 x", "ERR min or max is not a float"),
        (
            "ZLEXCOUNT z a b",
            "ERR min or max not valid string range item",
        ),
        (
            "ZRANGEBYLEX z [a b",
            "ERR min or max not valid string range item",
        ),
    ] {
        assert_eq!(e(&mut con, line), want, "{line}");
    }
    // Stores.
    assert_eq!(i(&mut con, "ZRANGESTORE dst z 1 -2"), 3);
    assert_eq!(strs(&mut con, "ZRANGE dst 0 -1"), ["b", "c", "d"]);
    assert_eq!(i(&mut con, "ZRANGESTORE dst z 10 20 BYSCORE"), 0);
    assert_eq!(i(&mut con, "EXISTS dst"), 0);
    // Removals.
    assert_eq!(i(&mut con, "ZREMRANGEBYRANK z -1 -1"), 1);
    assert_eq!(i(&mut con, "ZREMRANGEBYSCORE z (1 2"), 1);
    assert_eq!(i(&mut con, "ZREMRANGEBYLEX lex [b [c"), 2);
    assert_eq!(i(&mut con, "ZREMRANGEBYRANK z 5 10"), 0);
    assert_eq!(strs(&mut con, "ZRANGE z 0 -1"), ["a", "c", "d"]);
    assert_eq!(i(&mut con, "ZREMRANGEBYSCORE z -inf +inf"), 3);
    assert_eq!(i(&mut con, "EXISTS z"), 0);
}

#[test]
fn set_operations_with_weights_and_sets() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "ZADD a 1 x 2 y 3 z");
    i(&mut con, "ZADD b 10 y 20 z 30 w");
    assert_eq!(
        strs(&mut con, "ZUNION 2 a b WITHSCORES"),
        ["x", "1", "y", "12", "z", "23", "w", "30"]
    );
    assert_eq!(
        strs(
            &mut con,
            "ZUNION 2 a b WEIGHTS 2 1 AGGREGATE MAX WITHSCORES"
        ),
        ["x", "2", "y", "10", "z", "20", "w", "30"]
    );
    assert_eq!(
        strs(&mut con, "ZINTER 2 a b AGGREGATE MIN WITHSCORES"),
        ["y", "2", "z", "3"]
    );
    assert_eq!(strs(&mut con, "ZDIFF 2 a b"), ["x"]);
    assert_eq!(i(&mut con, "ZINTERCARD 2 a b"), 2);
    assert_eq!(i(&mut con, "ZINTERCARD 2 a b LIMIT 1"), 1);
    assert_eq!(i(&mut con, "ZUNIONSTORE u 2 a b"), 4);
    assert_eq!(i(&mut con, "ZINTERSTORE n 2 a b WEIGHTS 1 0"), 2);
    assert_eq!(
        strs(&mut con, "ZRANGE n 0 -1 WITHSCORES"),
        ["y", "2", "z", "3"]
    );
    assert_eq!(i(&mut con, "ZDIFFSTORE d 2 a b"), 1);
    assert_eq!(i(&mut con, "ZDIFFSTORE d 2 a a"), 0);
    assert_eq!(i(&mut con, "EXISTS d"), 0);
    for (line, want) in [
        (
            "ZUNION 0 a",
            "ERR at least 1 input key is needed for 'zunion' command",
        ),
        (
            "ZINTERSTORE d 0 a",
            "ERR at least 1 input key is needed for 'zinterstore' command",
        ),
        ("ZUNION x a", "ERR value is not an integer or out of range"),
        ("ZUNION 3 a b", SYNTAX),
        (
            "ZUNION 2 a b WEIGHTS 1 x",
            "ERR weight value is not a float",
        ),
        ("ZUNION 2 a b AGGREGATE avg", SYNTAX),
        ("ZDIFF 2 a b WEIGHTS 1 1", SYNTAX),
        ("ZINTERCARD 2 a b LIMIT -1", "ERR LIMIT can't be negative"),
        ("ZUNIONSTORE d 1 a WITHSCORES", SYNTAX),
    ] {
        assert_eq!(e(&mut con, line), want, "{line}");
    }
    // Plain sets take part with score 1 (when this build has SADD).
    if c("SADD s y q").query::<i64>(&mut con).is_ok() {
        assert_eq!(
            strs(&mut con, "ZUNION 2 a s WITHSCORES"),
            ["q", "1", "x", "1", "y", "3", "z", "3"]
        );
        assert_eq!(strs(&mut con, "ZINTER 2 s a"), ["y"]);
    }
}

#[test]
fn pops_and_blocking_pops_that_do_not_wait() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(strs(&mut con, "ZPOPMIN z"), ["a", "1"]);
    assert_eq!(strs(&mut con, "ZPOPMAX z 2"), ["d", "4", "c", "3"]);
    assert_eq!(v(&mut con, "ZPOPMIN z 0"), Value::Array(vec![]));
    assert_eq!(v(&mut con, "ZPOPMIN nokey"), Value::Array(vec![]));
    assert_eq!(
        v(&mut con, "ZMPOP 2 nokey z MIN COUNT 5"),
        Value::Array(vec![
            bulk(b"z"),
            Value::Array(vec![Value::Array(vec![bulk(b"b"), bulk(b"2")])])
        ])
    );
    assert_eq!(i(&mut con, "EXISTS z"), 0);
    assert_eq!(v(&mut con, "ZMPOP 1 z MIN"), Value::Nil);
    i(&mut con, "ZADD y 5 m 6 n");
    assert_eq!(strs(&mut con, "BZPOPMAX nokey y 0"), ["y", "n", "6"]);
    assert_eq!(
        v(&mut con, "BZMPOP 0 1 y MIN"),
        Value::Array(vec![
            bulk(b"y"),
            Value::Array(vec![Value::Array(vec![bulk(b"m"), bulk(b"5")])])
        ])
    );
    // Inside MULTI a blocking pop on empty keys answers a null array at once.
    let mut raw = s.raw();
    assert_eq!(raw.cmd("MULTI"), b"+OK\r\n");
    assert_eq!(raw.cmd("BZPOPMIN nokey 0"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("BZMPOP 0 1 nokey MIN"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd("EXEC"), b"*2\r\n*-1\r\n*-1\r\n");
    for (line, want) in [
        (
            "ZPOPMIN z -1",
            "ERR value is out of range, must be positive",
        ),
        ("ZPOPMIN z 1 2", SYNTAX),
        ("ZMPOP 0 z MIN", "ERR numkeys should be greater than 0"),
        (
            "ZMPOP 1 z MIN COUNT 0",
            "ERR count should be greater than 0",
        ),
        ("ZMPOP 2 z MIN", SYNTAX),
        ("BZPOPMIN z -1", "ERR timeout is negative"),
        ("BZPOPMIN z x", "ERR timeout is not a float or out of range"),
        ("BZMPOP 0 0 z MIN", "ERR numkeys should be greater than 0"),
    ] {
        assert_eq!(e(&mut con, line), want, "{line}");
    }
}

#[test]
fn zrandmember_and_zscan() {
    let s = TestServer::start();
    let mut con = s.conn();
    i(&mut con, "ZADD z 1 a 2 b 3 c");
    let one: String = q(&mut con, "ZRANDMEMBER z");
    assert!(["a", "b", "c"].contains(&one.as_str()));
    assert_eq!(
        strs(&mut con, "ZRANDMEMBER z 10 WITHSCORES"),
        ["c", "3", "b", "2", "a", "1"]
    );
    assert_eq!(strs(&mut con, "ZRANDMEMBER z -7").len(), 7);
    let two = strs(&mut con, "ZRANDMEMBER z 2");
    assert!(two.len() == 2 && two[0] != two[1]);
    assert_eq!(v(&mut con, "ZRANDMEMBER nokey"), Value::Nil);
    assert_eq!(v(&mut con, "ZRANDMEMBER nokey 3"), Value::Array(vec![]));
    assert_eq!(e(&mut con, "ZRANDMEMBER z 1 foo"), SYNTAX);
    assert_eq!(
        e(&mut con, "ZRANDMEMBER z -4611686018427387905 WITHSCORES"),
        "ERR value is out of range"
    );
    // A listpack comes back whole with cursor 0.
    assert_eq!(
        v(&mut con, "ZSCAN z 0 MATCH [ab]"),
        Value::Array(vec![
            bulk(b"0"),
            Value::Array(vec![bulk(b"a"), bulk(b"1"), bulk(b"b"), bulk(b"2")])
        ])
    );
    assert_eq!(e(&mut con, "ZSCAN z 0 COUNT 0"), SYNTAX);
    assert_eq!(e(&mut con, "ZSCAN z x"), "ERR invalid cursor");
    // A skiplist is walked with a cursor; a full iteration sees every member.
    for chunk in 0..10 {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg("big");
        for j in 0..100 {
            cmd.arg(chunk * 100 + j)
                .arg(format!("m{}", chunk * 100 + j));
        }
        let _: i64 = cmd.query(&mut con).unwrap();
    }
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1000 {
        let (next, items): (String, Vec<String>) =
            q(&mut con, &format!("ZSCAN big {cursor} COUNT 37"));
        for pair in items.chunks(2) {
            assert_eq!(pair[0], format!("m{}", pair[1]));
            seen.insert(pair[0].clone());
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0");
    assert_eq!(seen.len(), 1000);
}

#[test]
fn encodings_at_the_thresholds_and_after_config_set() {
    let s = TestServer::start();
    let mut con = s.conn();
    let enc =
        |con: &mut redis::Connection, k: &str| q::<String>(con, &format!("OBJECT ENCODING {k}"));
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("z");
    for j in 0..128 {
        cmd.arg(j).arg(format!("m{j}"));
    }
    let _: i64 = cmd.query(&mut con).unwrap();
    assert_eq!(enc(&mut con, "z"), "listpack");
    i(&mut con, "ZADD z 1000 one-more");
    assert_eq!(enc(&mut con, "z"), "skiplist");
    i(&mut con, "ZREM z one-more");
    assert_eq!(enc(&mut con, "z"), "skiplist");
    i(&mut con, &format!("ZADD v 1 {}", "x".repeat(64)));
    assert_eq!(enc(&mut con, "v"), "listpack");
    i(&mut con, &format!("ZADD v 1 {}", "y".repeat(65)));
    assert_eq!(enc(&mut con, "v"), "skiplist");
    // Results of *STORE take the encoding their size calls for.
    assert_eq!(i(&mut con, "ZRANGESTORE small z 0 9"), 10);
    assert_eq!(enc(&mut con, "small"), "listpack");
    assert_eq!(i(&mut con, "ZUNIONSTORE all 1 z"), 128);
    assert_eq!(enc(&mut con, "all"), "listpack");
    // CONFIG SET moves the thresholds for later writes.
    assert_eq!(
        v(&mut con, "CONFIG SET zset-max-listpack-entries 4"),
        Value::Okay
    );
    i(&mut con, "ZADD c 1 a 2 b 3 c 4 d");
    assert_eq!(enc(&mut con, "c"), "listpack");
    i(&mut con, "ZADD c 5 e");
    assert_eq!(enc(&mut con, "c"), "skiplist");
    assert_eq!(
        v(&mut con, "CONFIG SET zset-max-listpack-entries 0"),
        Value::Okay
    );
    i(&mut con, "ZADD zero 1 a");
    assert_eq!(enc(&mut con, "zero"), "skiplist");
    assert_eq!(
        v(&mut con, "CONFIG SET zset-max-listpack-entries 128"),
        Value::Okay
    );
    assert_eq!(
        v(&mut con, "CONFIG SET zset-max-listpack-value 2"),
        Value::Okay
    );
    i(&mut con, "ZADD val 1 abc");
    assert_eq!(enc(&mut con, "val"), "skiplist");
    // The skiplist answers like the listpack.
    assert_eq!(i(&mut con, "ZRANK z m100"), 100);
    assert_eq!(i(&mut con, "ZREVRANK z m100"), 27);
    assert_eq!(
        strs(&mut con, "ZRANGE z 10 (13 BYSCORE"),
        ["m10", "m11", "m12"]
    );
    assert_eq!(i(&mut con, "ZCOUNT z 100 +inf"), 28);
}

#[test]
fn a_huge_sorted_set() {
    let s = TestServer::start();
    let mut con = s.conn();
    for chunk in 0..100 {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg("h");
        for j in 0..1000 {
            let n = chunk * 1000 + j;
            cmd.arg(n % 1000).arg(format!("member:{n}"));
        }
        let _: i64 = cmd.query(&mut con).unwrap();
    }
    assert_eq!(i(&mut con, "ZCARD h"), 100_000);
    assert_eq!(i(&mut con, "ZCOUNT h 10 (20"), 1000);
    assert_eq!(i(&mut con, "ZRANK h member:99999"), 99_999);
    assert_eq!(strs(&mut con, "ZRANGE h 0 0"), ["member:0"]);
    assert_eq!(strs(&mut con, "ZRANGE h -1 -1"), ["member:99999"]);
    assert_eq!(i(&mut con, "ZREMRANGEBYSCORE h 0 (500"), 50_000);
    assert_eq!(i(&mut con, "ZREMRANGEBYRANK h 0 9999"), 10_000);
    assert_eq!(i(&mut con, "ZCARD h"), 40_000);
    assert_eq!(strs(&mut con, "ZPOPMIN h"), ["member:10600", "600"]);
}

#[test]
fn resp2_and_resp3_reply_shapes() {
    let s = TestServer::start();
    let mut raw = s.raw();
    assert_eq!(raw.cmd("ZADD z 1 a 2.5 b"), b":2\r\n");
    assert_eq!(raw.cmd("ZSCORE z b"), b"$3\r\n2.5\r\n");
    assert_eq!(raw.cmd("ZINCRBY z 0.1 a"), b"$18\r\n1.1000000000000001\r\n");
    assert_eq!(
        raw.cmd("ZRANGE z 0 -1 WITHSCORES"),
        b"*4\r\n$1\r\na\r\n$18\r\n1.1000000000000001\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
    );
    assert_eq!(raw.cmd("ZPOPMIN nokey 1"), b"*0\r\n");
    assert_eq!(raw.cmd("ZMPOP 1 nokey MIN"), b"*-1\r\n");
    assert_eq!(raw.cmd("ZRANK z nope"), b"$-1\r\n");
    assert_eq!(raw.cmd("HELLO 3").first(), Some(&b'%'));
    assert_eq!(raw.cmd("ZSCORE z b"), b",2.5\r\n");
    assert_eq!(raw.cmd("ZMSCORE z b nope"), b"*2\r\n,2.5\r\n_\r\n");
    assert_eq!(
        raw.cmd("ZRANGE z 0 -1 WITHSCORES"),
        b"*2\r\n*2\r\n$1\r\na\r\n,1.1000000000000001\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    );
    assert_eq!(raw.cmd("ZRANGE z 0 -1"), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(
        raw.cmd("ZUNION 1 z WITHSCORES"),
        b"*2\r\n*2\r\n$1\r\na\r\n,1.1000000000000001\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    );
    assert_eq!(
        raw.cmd("ZRANDMEMBER z 5 WITHSCORES"),
        b"*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\na\r\n,1.1000000000000001\r\n"
    );
    // A pop without a count stays flat; with a count it nests.
    assert_eq!(raw.cmd("ZPOPMAX z"), b"*2\r\n$1\r\nb\r\n,2.5\r\n");
    assert_eq!(raw.cmd("ZADD z 2.5 b"), b":1\r\n");
    assert_eq!(raw.cmd("ZPOPMAX z 1"), b"*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
    assert_eq!(raw.cmd("ZADD z 2.5 b"), b":1\r\n");
    assert_eq!(
        raw.cmd("BZPOPMAX z 0"),
        b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n,2.5\r\n"
    );
    assert_eq!(
        raw.cmd("ZMPOP 1 z MIN"),
        b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1.1000000000000001\r\n"
    );
    assert_eq!(raw.cmd("ZMPOP 1 z MIN"), b"_\r\n");
    assert_eq!(raw.cmd("ZADD z inf a"), b":1\r\n");
    assert_eq!(raw.cmd("ZSCORE z a"), b",inf\r\n");
    assert_eq!(
        raw.cmd("ZSCAN z 0"),
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$3\r\ninf\r\n"
    );
}

#[test]
fn resp3_with_the_redis_crate() {
    let s = TestServer::start();
    let mut con = s.conn_resp3();
    i(&mut con, "ZADD z 1 a 2 b");
    assert_eq!(v(&mut con, "ZSCORE z a"), Value::Double(1.0));
    assert_eq!(
        v(&mut con, "ZRANGE z 0 -1 WITHSCORES"),
        Value::Array(vec![
            Value::Array(vec![bulk(b"a"), Value::Double(1.0)]),
            Value::Array(vec![bulk(b"b"), Value::Double(2.0)]),
        ])
    );
}
