//! keel against Debian's redis-server: the same commands sent to both must leave
//! datasets with the same DEBUG DIGEST and DEBUG DIGEST-VALUE, and a set of read
//! replies must be byte-for-byte identical.

mod common;
use common::diff::setup;

const ZERO_DIGEST: &[u8] = b"+0000000000000000000000000000000000000000\r\n";

#[test]
fn digests_match_redis() {
    let Some((_redis, _keel, mut p)) = setup() else {
        return;
    };
    // An empty dataset: all zeros on both.
    assert_eq!(p.same("DEBUG DIGEST"), ZERO_DIGEST);
    assert_eq!(
        p.same("DEBUG DIGEST-VALUE nokey"),
        [b"*1\r\n".as_slice(), ZERO_DIGEST].concat()
    );

    let far = "99999999999";
    let script = [
        "SET str abc".to_string(),
        "SET int 123".into(),
        "SET neg -9223372036854775808".into(),
        "SET big 9223372036854775808".into(),
        "SET empty \\0".into(),
        "SETRANGE empty 0 x".into(),
        "SET emptystr \\e".into(),
        "APPEND emptyap \\e".into(),
        "SETRANGE emptysr 3 \\e".into(),
        "SET blank x".into(),
        "GETDEL blank".into(),
        "APPEND zero-len-append-target-key-that-is-long \\0\\r\\n".into(),
        "SET bin\\0key\\r\\n \\0\\r\\nvalue\\0".into(),
        format!("SET ttl1 v EXAT {far}"),
        format!("SET ttl2 123 PXAT {far}123"),
        "SET long xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
        "APPEND long yyy".into(),
        "SET counter 10".into(),
        "INCRBY counter 32".into(),
        "DECR counter".into(),
        "INCRBYFLOAT fl 10.5".into(),
        "INCRBYFLOAT fl 1.5".into(),
        "MSET m1 a m2 b m3 c".into(),
        "MSETNX m1 z m4 d".into(),
        "SETRANGE sr 5 hello".into(),
        "SETEX sx 100000 v".into(),
        format!("EXPIREAT str {far}"),
        "PERSIST str".into(),
        format!("PEXPIREAT m1 {far}000"),
        "RENAME m2 m2renamed".into(),
        "COPY m1 m1copy".into(),
        "COPY m3 m3db2 DB 2".into(),
        "MOVE m3 3".into(),
        "SELECT 1".into(),
        "SET db1key v".into(),
        format!("SET db1ttl v EXAT {far}"),
        "SET str abc".into(),
        "SELECT 5".into(),
        "SET str other".into(),
        "SWAPDB 5 6".into(),
        "SELECT 0".into(),
        "DEL m4".into(),
    ];
    for line in &script {
        p.same(line);
    }
    assert_ne!(p.same("DEBUG DIGEST"), ZERO_DIGEST);
    for db in ["0", "1", "2", "3", "5", "6"] {
        p.same(&format!("SELECT {db}"));
        p.same("DBSIZE");
        let keys = [
            "str",
            "int",
            "neg",
            "big",
            "empty",
            "emptystr",
            "emptyap",
            "bin\\0key\\r\\n",
            "ttl1",
            "ttl2",
            "long",
            "counter",
            "fl",
            "m1",
            "m2renamed",
            "m1copy",
            "m3",
            "m3db2",
            "sr",
            "sx",
            "db1key",
            "db1ttl",
            "nokey",
        ];
        p.same(&format!("DEBUG DIGEST-VALUE {}", keys.join(" ")));
    }
    p.same("SELECT 0");
    // The TTL of a key changes the digest, on both.
    let before = p.same("DEBUG DIGEST");
    p.same("PERSIST ttl1");
    assert_ne!(p.same("DEBUG DIGEST"), before);
    p.same("FLUSHDB");
    assert_ne!(p.same("DEBUG DIGEST"), ZERO_DIGEST);
    p.same("FLUSHALL");
    assert_eq!(p.same("DEBUG DIGEST"), ZERO_DIGEST);
}

#[test]
fn read_replies_match_redis_byte_for_byte() {
    let Some((_redis, _keel, mut p)) = setup() else {
        return;
    };
    let long45 = "x".repeat(45);
    let setup_lines = [
        "SET n 123".to_string(),
        "SET s abc".into(),
        format!("SET l {long45}"),
        "SET a abc".into(),
        "APPEND a def".into(),
        "SET ai 12".into(),
        "APPEND ai 3".into(),
        "SET e \\0".into(),
        "SET z \\e".into(),
        "SETRANGE e 0 \\r\\n".into(),
        "SET ttl v EXAT 99999999999".into(),
        "MSET key1 ohmytext key2 mynewtext".into(),
    ];
    for l in &setup_lines {
        p.same(l);
    }
    for k in ["n", "s", "l", "a", "ai", "e", "z", "ttl", "nokey"] {
        for cmd in [
            format!("GET {k}"),
            format!("STRLEN {k}"),
            format!("GETRANGE {k} 0 -1"),
            format!("GETRANGE {k} 1 2"),
            format!("GETRANGE {k} -2 -1"),
            format!("SUBSTR {k} 0 0"),
            format!("TYPE {k}"),
            format!("EXISTS {k}"),
            format!("OBJECT ENCODING {k}"),
            format!("OBJECT REFCOUNT {k}"),
            format!("EXPIRETIME {k}"),
            format!("PEXPIRETIME {k}"),
            format!("LCS {k} s"),
            format!("LCS {k} a LEN"),
            format!("LCS {k} key1 IDX WITHMATCHLEN"),
        ] {
            p.same(&cmd);
        }
    }
    p.same("MGET n s l a ai e ttl nokey");
    for lcs in [
        "LCS key1 key2",
        "LCS key1 key2 LEN",
        "LCS key1 key2 IDX",
        "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN",
        "LCS key1 key2 IDX MINMATCHLEN 0",
        "LCS key1 key2 LEN IDX",
        "LCS key1 key2 MINMATCHLEN",
        "LCS key1 nokey IDX",
    ] {
        p.same(lcs);
    }
    // TTL depends on the moment it is asked: both positive, within a second.
    let (r, k) = p.both("TTL ttl");
    let secs = |b: &[u8]| -> i64 {
        std::str::from_utf8(&b[1..b.len() - 2])
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        secs(&r) > 0 && (secs(&r) - secs(&k)).abs() <= 1,
        "{r:?} {k:?}"
    );
    for l in ["TTL n", "PTTL n", "TTL nokey", "PTTL nokey"] {
        p.same(l);
    }
    // Writes that answer deterministically.
    for l in [
        "INCR n",
        "INCRBY n -200",
        "DECRBY n 9223372036854775807",
        "INCR s",
        "INCRBYFLOAT f 10.5",
        "INCRBYFLOAT f 0.1",
        "INCRBYFLOAT s 1",
        "INCRBYFLOAT ld 0.1",
        "INCRBYFLOAT ld 0.2",
        "INCRBYFLOAT ld 1e400",
        "SETRANGE l 3 abc",
        "SETRANGE l -1 x",
        "SETRANGE l 536870912 x",
        "APPEND nokey2 \\0\\r\\n",
        "GETSET nokey2 v",
        "GETDEL nokey2",
        "GETEX ttl",
        "GETEX s EX 0",
        "SET s x NX GET",
        "SET s y XX GET",
        "SET s z GET KEEPTTL",
        "SET s y EX 0",
        "SET s y PX 10 EX 10",
        "MSETNX s 1 t 2",
        "SETNX s 1",
        "EXPIRE s 100 GT",
        "EXPIRE s 100 NX XX",
        "COPY s s",
        "MOVE s 16",
        "RENAME nokey x",
        "OBJECT FREQ s",
        "OBJECT ENCODING s",
        "DEBUG DIGEST-VALUE s n l",
        "DEBUG DIGEST",
    ] {
        p.same(l);
    }
    // RESP3 shapes.
    let (r, k) = p.both("HELLO 3");
    assert_eq!(r[0], k[0]);
    for l in [
        "GET nokey",
        "MGET n nokey",
        "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN",
        "OBJECT ENCODING nokey",
        "SET s v XX GET",
        "CONFIG GET maxmemory-policy",
        // (SCAN cursors differ by design: keel's encode a shard and a position;
        // with a COUNT covering the dataset both answer cursor 0.)
        "SCAN 0 MATCH nomatch* COUNT 1000",
    ] {
        p.same(l);
    }
}
