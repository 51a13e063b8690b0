// The typed helpers of every family against a real cluster, written once and included by each
// adapter's tests (`crates/{tokio,async-std,blocking}/tests/typed.rs`). The including function
// defines `client` (its adapter's client), `ns` (a key prefix of its own) and `run!` (`.await`
// for the async clients, nothing for the blocking one).
{
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    use std::time::Duration;

    let k = |name: &str| format!("{ns}:{{typed}}:{name}");

    // Strings and keys.
    let s = k("s");
    assert_eq!(run!(client.append(&s, "ab")).unwrap(), 2);
    assert_eq!(run!(client.append(&s, b"cd".to_vec())).unwrap(), 4);
    assert_eq!(run!(client.strlen(&s)).unwrap(), 4);
    let part: String = run!(client.getrange(&s, 1, 2)).unwrap();
    assert_eq!(part, "bc");
    let n = k("n");
    assert_eq!(run!(client.decr_by(&n, 5)).unwrap(), -5);
    assert!((run!(client.incr_by_float(&n, 2.5)).unwrap() + 2.5).abs() < 1e-9);
    assert!(run!(client.set_nx(k("once"), 1)).unwrap());
    assert!(!run!(client.set_nx(k("once"), 2)).unwrap());
    let gone: Option<i64> = run!(client.getdel(k("once"))).unwrap();
    assert_eq!(gone, Some(1));
    run!(client.mset([(k("m1"), "1"), (k("m2"), "2")])).unwrap();
    assert_eq!(run!(client.touch([k("m1"), k("m2"), k("none")])).unwrap(), 2);
    assert!(run!(client.expire(k("m1"), Duration::from_secs(60))).unwrap());
    let pttl = run!(client.pttl(k("m1"))).unwrap();
    assert!(pttl > 0 && pttl <= 60_000, "{pttl}");
    assert!(run!(client.persist(k("m1"))).unwrap());
    assert_eq!(run!(client.pttl(k("m1"))).unwrap(), -1);
    assert_eq!(run!(client.key_type(k("m1"))).unwrap(), "string");
    run!(client.rename(k("m2"), k("m3"))).unwrap();
    assert_eq!(run!(client.unlink([k("m1"), k("m3"), k("none")])).unwrap(), 2);

    // Hashes.
    let h = k("h");
    assert_eq!(run!(client.hset(&h, [("name", "ada"), ("lang", "en")])).unwrap(), 2);
    assert_eq!(run!(client.hset(&h, BTreeMap::from([("age", 36)]))).unwrap(), 1);
    let name: Option<String> = run!(client.hget(&h, "name")).unwrap();
    assert_eq!(name.as_deref(), Some("ada"));
    let age: Option<u32> = run!(client.hget(&h, "age")).unwrap();
    assert_eq!(age, Some(36));
    let many: Vec<Option<String>> = run!(client.hmget(&h, ["lang", "nope"])).unwrap();
    assert_eq!(many, [Some("en".to_string()), None]);
    let all: HashMap<String, String> = run!(client.hgetall(&h)).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all["age"], "36");
    assert!(run!(client.hexists(&h, "lang")).unwrap());
    assert!(!run!(client.hset_nx(&h, "name", "grace")).unwrap());
    assert_eq!(run!(client.hincr_by(&h, "age", 1)).unwrap(), 37);
    assert!((run!(client.hincr_by_float(&h, "score", 0.5)).unwrap() - 0.5).abs() < 1e-9);
    assert_eq!(run!(client.hlen(&h)).unwrap(), 4);
    let fields: BTreeSet<String> = run!(client.hkeys(&h)).unwrap().into_iter().collect();
    assert_eq!(fields, BTreeSet::from(["age", "lang", "name", "score"].map(String::from)));
    let values: Vec<String> = run!(client.hvals(&h)).unwrap();
    assert_eq!(values.len(), 4);
    assert_eq!(run!(client.hdel(&h, ["score", "nope"])).unwrap(), 1);

    // Lists, a blocking pop included.
    let l = k("l");
    assert_eq!(run!(client.rpush(&l, [1, 2, 3])).unwrap(), 3);
    assert_eq!(run!(client.lpush(&l, 0)).unwrap(), 4);
    let items: Vec<i64> = run!(client.lrange(&l, 0, -1)).unwrap();
    assert_eq!(items, [0, 1, 2, 3]);
    assert_eq!(run!(client.llen(&l)).unwrap(), 4);
    let second: Option<String> = run!(client.lindex(&l, 1)).unwrap();
    assert_eq!(second.as_deref(), Some("1"));
    run!(client.lset(&l, 1, "one")).unwrap();
    assert_eq!(run!(client.lrem(&l, 0, "one")).unwrap(), 1);
    run!(client.ltrim(&l, 0, 1)).unwrap();
    let head: Option<i64> = run!(client.lpop(&l)).unwrap();
    let tail: Option<i64> = run!(client.rpop(&l)).unwrap();
    assert_eq!((head, tail), (Some(0), Some(2)));
    run!(client.rpush(&l, "x")).unwrap();
    let popped: Option<(String, String)> =
        run!(client.blpop([&l, &k("l2")], Duration::from_secs(1))).unwrap();
    assert_eq!(popped, Some((l.clone(), "x".to_string())));
    let started = std::time::Instant::now();
    let nothing: Option<(String, String)> =
        run!(client.brpop(&l, Duration::from_millis(200))).unwrap();
    assert_eq!(nothing, None);
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());

    // Sets.
    let set = k("set");
    assert_eq!(run!(client.sadd(&set, ["a", "b", "c"])).unwrap(), 3);
    assert_eq!(run!(client.srem(&set, "c")).unwrap(), 1);
    let members: BTreeSet<String> = run!(client.smembers(&set)).unwrap();
    assert_eq!(members, BTreeSet::from(["a".to_string(), "b".to_string()]));
    assert!(run!(client.sismember(&set, "a")).unwrap());
    assert_eq!(run!(client.scard(&set)).unwrap(), 2);
    let popped: Option<String> = run!(client.spop(&set)).unwrap();
    assert!(popped.is_some_and(|m| members.contains(&m)));

    // Sorted sets.
    let z = k("z");
    assert_eq!(run!(client.zadd(&z, [(1.5, "ada"), (2.0, "grace"), (0.5, "alan")])).unwrap(), 3);
    assert!((run!(client.zincr_by(&z, 1.0, "alan")).unwrap() - 1.5).abs() < 1e-9);
    assert_eq!(run!(client.zscore(&z, "grace")).unwrap(), Some(2.0));
    assert_eq!(run!(client.zscore(&z, "nobody")).unwrap(), None);
    assert_eq!(run!(client.zrank(&z, "grace")).unwrap(), Some(2));
    assert_eq!(run!(client.zcard(&z)).unwrap(), 3);
    let by_rank: Vec<String> = run!(client.zrange(&z, 0, 0)).unwrap();
    assert_eq!(by_rank.len(), 1);
    let scored: Vec<(String, f64)> = run!(client.zrange_with_scores(&z, -1, -1)).unwrap();
    assert_eq!(scored, [("grace".to_string(), 2.0)]);
    let low: Vec<String> = run!(client.zrange_by_score(&z, "-inf", "(2")).unwrap();
    assert_eq!(low.len(), 2);
    assert_eq!(run!(client.zrem(&z, ["ada", "alan"])).unwrap(), 2);

    // Streams, with a consumer group and a blocking read.
    let x = k("x");
    let id1 = run!(client.xadd(&x, "*", [("temp", "20"), ("unit", "C")])).unwrap();
    let id2 = run!(client.xadd_capped(&x, 1000, [("temp", "21")])).unwrap();
    assert!(id1 < id2 || id1.len() < id2.len(), "{id1} {id2}");
    assert_eq!(run!(client.xlen(&x)).unwrap(), 2);
    let entries = run!(client.xrange(&x, "-", "+", None)).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].id, id1);
    assert_eq!(entries[0].get("unit").map(|v| &v[..]), Some(&b"C"[..]));
    let newest = run!(client.xrevrange(&x, "+", "-", Some(1))).unwrap();
    assert_eq!(newest[0].id, id2);
    let read = run!(client.xread([&x], ["0"], None, None)).unwrap();
    assert_eq!(read.entries(&x).len(), 2);
    let started = std::time::Instant::now();
    let none = run!(client.xread([&x], ["$"], None, Some(Duration::from_millis(200)))).unwrap();
    assert!(none.is_empty(), "{none:?}");
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
    run!(client.xgroup_create(&x, "g", "0", false)).unwrap();
    let g = k("g");
    run!(client.xgroup_create(&g, "g", "$", true)).unwrap();
    let got = run!(client.xreadgroup("g", "c1", [&x], [">"], Some(10), None)).unwrap();
    assert_eq!(got.len(), 2);
    let ids: Vec<String> = got.entries(&x).iter().map(|e| e.id.clone()).collect();
    assert_eq!(run!(client.xack(&x, "g", &ids)).unwrap(), 2);
    assert_eq!(run!(client.xdel(&x, [&id1])).unwrap(), 1);
    assert_eq!(run!(client.xtrim(&x, 0)).unwrap(), 1);

    // Scripts (EVALSHA, falling back to EVAL when the node does not have it) and functions.
    let script = Script::new("return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[1])}");
    let sk = k("script");
    let first: (String, String, i64) = run!(client.eval_script(&script, [&sk], [5])).unwrap();
    assert_eq!(first, (sk.clone(), "5".to_string(), 5));
    let second: (String, String, i64) = run!(client.eval_script(&script, [&sk], [2])).unwrap();
    assert_eq!(second.2, 7);
    assert_eq!(run!(client.script_load(&script)).unwrap(), script.sha());
    let library = "#!lua name=slotwise_typed\n\
        redis.register_function('typed_echo', function(keys, args) return args[1] end)\n\
        redis.register_function{function_name='typed_get', callback=function(keys) \
        return redis.call('GET', keys[1]) end, flags={'no-writes'}}";
    assert_eq!(run!(client.function_load(library, true)).unwrap(), "slotwise_typed");
    let echoed: String = run!(client.fcall("typed_echo", [&sk], ["hi"])).unwrap();
    assert_eq!(echoed, "hi");
    let read_back: i64 = run!(client.fcall_ro("typed_get", [&sk], ())).unwrap();
    assert_eq!(read_back, 7);

    // A command of one's own, typed.
    let custom: Cmd<Vec<i64>> = Cmd::new(Args::command("LRANGE").arg(k("c")).arg(0).arg(-1));
    assert!(run!(client.run(custom)).unwrap().is_empty());
    // A wrong type is a conversion error, not a panic.
    let wrong: Result<Option<i64>, Error> = run!(client.hget(&h, "name"));
    assert!(matches!(wrong, Err(Error::Convert(_))), "{wrong:?}");
}
