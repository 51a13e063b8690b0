//! Who runs the driver loop (the glue's `adapter::drive`), on the in-memory runtime: a caller
//! runs it on its own task when the loop is free, the loop's task otherwise. These check that a
//! lone caller's round trip happens within the caller's own polls, that one caller's burst of
//! submits and a join of request futures leave in one write per node, that requests keep their
//! order whichever way they enter, and that a caller that stops polling (or is dropped, or outlives the
//! client) never strands anyone.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_lite::future::block_on;
use slotwise_client::{Error, Frame, Handle, Request};
use support::{Memory, config, eventually, keys_of, poll_once, poll_twice, port, writes};

/// Counts its wakes.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_lone_caller_does_its_round_trip_within_its_own_polls() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let keys = keys_of(&memory, 0, 1);
    block_on(client.send(Request::new(["SET", keys[0].as_str(), "v"]))).expect("SET");
    std::thread::sleep(Duration::from_millis(20)); // the bootstrap's refreshes are done
    // The in-memory server answers as soon as a write lands, so a request whose caller runs the
    // loop itself is written, answered and read within the caller's own polls — even with the
    // loop's task never scheduled (paused here). Were the loop's task doing it, the polls would
    // find nothing. The first poll of a lone request may only yield, for its task's next
    // requests to join its write (the gather); one request at a time, that stops after a few
    // yields that gathered nothing, and is tried again now and then. (A timer the caller's run
    // handles may give the loop work of its own, so a few may go the long way: for those the
    // loop's task is let run.)
    memory.pause_tasks();
    let count = Arc::new(Count::default());
    let waker = Waker::from(count.clone());
    let (mut in_first_poll, mut in_own_polls) = (0, 0);
    for _ in 0..100 {
        let mut p = client.submit(Request::new(["GET", keys[0].as_str()]));
        let mut polls = 0;
        let reply = loop {
            polls += 1;
            let woken = count.0.load(Ordering::SeqCst);
            match Pin::new(&mut p).poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(reply) => break reply,
                // A gather's yield wakes the caller at once; anything else waits on the loop.
                Poll::Pending if polls == 1 && count.0.load(Ordering::SeqCst) > woken => {}
                Poll::Pending => {
                    memory.resume_tasks();
                    let reply = block_on(&mut p);
                    memory.pause_tasks();
                    polls = usize::MAX;
                    break reply;
                }
            }
        };
        assert_eq!(reply.expect("GET"), Frame::BulkString("v".into()));
        in_first_poll += usize::from(polls == 1);
        in_own_polls += usize::from(polls <= 2);
    }
    memory.resume_tasks();
    assert!(
        in_own_polls >= 95,
        "only {in_own_polls} of 100 round trips finished within their caller's polls"
    );
    // Gathers: a few while trusted, then one every 33 lone requests.
    assert!(
        in_first_poll >= 85,
        "only {in_first_poll} of 100 round trips finished within their first poll: \
         the gather's yields did not stop"
    );
    block_on(client.shutdown());
}

/// A client, and `per_shard` keys of each of the two shards (shard 0's first): the first key
/// holds "v", the last "w" ([`stored`]). Both shared connections are up and the bootstrap's
/// refreshes done.
fn on_both_shards(memory: &Memory, per_shard: usize) -> (Handle, Vec<String>) {
    let client = memory.client(config()).expect("connects");
    let keys: Vec<String> = keys_of(memory, 0, per_shard)
        .into_iter()
        .chain(keys_of(memory, 1, per_shard))
        .collect();
    let last = keys.len() - 1;
    block_on(client.send(Request::new(["SET", keys[0].as_str(), "v"]))).expect("SET");
    block_on(client.send(Request::new(["SET", keys[last].as_str(), "w"]))).expect("SET");
    std::thread::sleep(Duration::from_millis(20));
    (client, keys)
}

/// What a GET of key `i` of [`on_both_shards`]'s `n` keys answers.
fn stored(i: usize, n: usize) -> Frame {
    match i {
        0 => Frame::BulkString("v".into()),
        i if i == n - 1 => Frame::BulkString("w".into()),
        _ => Frame::NullBulk,
    }
}

#[test]
fn one_callers_burst_is_written_by_its_own_poll_waking_nobody() {
    let memory = Memory::new(2);
    let (client, keys) = on_both_shards(&memory, 25);
    // The loop's task is never scheduled: 50 requests submitted before any is awaited are
    // handed in directly (none wakes it). The first poll of one only yields (the first of them
    // was lone: a gather, which the others joined), and the next writes them all, one write per
    // node.
    memory.pause_tasks();
    let before = writes(&memory);
    let mut pending: Vec<_> = keys
        .iter()
        .map(|k| client.submit(Request::new(["GET", k.as_str()])))
        .collect();
    assert!(poll_once(&mut pending[7]).is_pending());
    assert_eq!(writes(&memory), before, "the gather's yield writes nothing");
    let mut first = Some(poll_once(&mut pending[7]));
    let after = writes(&memory);
    memory.resume_tasks();
    assert_eq!(
        [after[0] - before[0], after[1] - before[1]],
        [1, 1],
        "one write per node, by the polling caller"
    );
    for (i, p) in pending.into_iter().enumerate() {
        let want = stored(i, keys.len());
        // Answered at once by the in-memory server, so possibly within that first poll.
        let got = if i == 7
            && let Some(Poll::Ready(reply)) = first.take()
        {
            reply
        } else {
            p.wait()
        };
        assert_eq!(got.expect("GET"), want);
    }
    block_on(client.shutdown());
}

/// A request's future, as a `join` holds it.
type Get = Pin<Box<dyn Future<Output = Result<Frame, Error>> + Send>>;

#[test]
fn a_join_of_request_futures_leaves_in_one_write_per_node() {
    // A task awaiting many request futures together (a `join`): each submits at its first poll,
    // so the first is lone when it comes. Its first poll yields instead of writing it alone (a
    // gather); the others, submitted in the same pass, join it; the next pass writes all of
    // them, one write per node — with the loop's task never scheduled.
    let memory = Memory::new(2);
    let (client, keys) = on_both_shards(&memory, 20);
    memory.pause_tasks();
    let before = writes(&memory);
    let mut futures: Vec<Get> = keys
        .iter()
        .map(|k| {
            let client = client.clone();
            let k = k.clone();
            Box::pin(async move { client.send(Request::new(["GET", k.as_str()])).await }) as Get
        })
        .collect();
    let mut done: Vec<Option<Result<Frame, Error>>> = (0..futures.len()).map(|_| None).collect();
    let mut pass = |futures: &mut Vec<Get>| {
        for (f, d) in futures.iter_mut().zip(done.iter_mut()) {
            if d.is_none()
                && let Poll::Ready(r) = poll_once(f)
            {
                *d = Some(r);
            }
        }
    };
    pass(&mut futures);
    assert_eq!(writes(&memory), before, "the first pass only gathers");
    pass(&mut futures);
    let after = writes(&memory);
    assert_eq!(
        [after[0] - before[0], after[1] - before[1]],
        [1, 1],
        "one write per node"
    );
    memory.resume_tasks();
    for (i, (f, d)) in futures.into_iter().zip(done).enumerate() {
        let want = stored(i, keys.len());
        let got = d.unwrap_or_else(|| block_on(f));
        assert_eq!(got.expect("GET"), want);
    }
    block_on(client.shutdown());
}

#[test]
fn requests_keep_their_order_whichever_way_they_enter_the_loop() {
    // Four threads each INCR their own key 300 times, in bursts submitted before awaiting: some
    // requests are taken in directly, some (when another thread is running the loop) go through
    // the inbox. Each thread's replies must count 1, 2, 3 … in submission order.
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                let key = format!("counter:{t}");
                let mut next = 1i64;
                let mut burst = 1 + t;
                while next <= 300 {
                    let n = burst.min(301 - next as usize);
                    let pending: Vec<_> = (0..n)
                        .map(|_| client.submit(Request::new(["INCR", key.as_str()])))
                        .collect();
                    for p in pending {
                        assert_eq!(p.wait().expect("INCR"), Frame::Integer(next), "{key}");
                        next += 1;
                    }
                    burst = burst % 7 + 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a thread's replies came in order");
    }
    block_on(client.shutdown());
}

#[test]
fn a_caller_that_stops_polling_strands_nobody_else() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    let other = keys_of(&memory, 1, 1).remove(0);
    block_on(client.send(Request::new(["SET", key.as_str(), "0"]))).expect("SET");
    block_on(client.send(Request::new(["SET", other.as_str(), "w"]))).expect("SET");
    std::thread::sleep(Duration::from_millis(20));
    // The write does not go through at first: the caller runs the loop once (it is alone, so the
    // loop's socket events now wake it) and is then never polled again.
    memory.world().hold_writes = true;
    let mut abandoned = client.submit(Request::new(["INCR", key.as_str()]));
    poll_twice(&mut abandoned);
    eventually("the write to be held", || memory.writes_held() > 0);
    // Its write can go on: an event for a caller that does not come. Another caller's request
    // takes the loop's events back to the loop's task, which completes both.
    memory.release_writes();
    let waiter = std::thread::spawn({
        let client = client.clone();
        move || client.submit(Request::new(["GET", other.as_str()])).wait()
    });
    assert_eq!(
        waiter.join().expect("thread").expect("GET"),
        Frame::BulkString("w".into())
    );
    eventually("the INCR to be written without its caller", || {
        memory.world().model.executed_incr.get(&key) == Some(&1)
    });
    assert_eq!(block_on(abandoned).expect("INCR"), Frame::Integer(1));
    block_on(client.shutdown());
}

#[test]
fn a_caller_dropped_while_running_the_loop_strands_nobody() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let k0 = keys_of(&memory, 0, 1).remove(0);
    let k1 = keys_of(&memory, 1, 1).remove(0);
    block_on(client.send(Request::new(["SET", k1.as_str(), "v"]))).expect("SET");
    // A request to a node that never answers, polled (its caller now gets the loop's
    // events), then dropped: the next caller's requests, on both nodes, still complete.
    memory.world().stall.insert(port(0));
    let mut lost =
        client.submit(Request::new(["GET", k0.as_str()]).timeout(Duration::from_secs(30)));
    poll_twice(&mut lost);
    drop(lost);
    let waiter = std::thread::spawn({
        let client = client.clone();
        move || client.submit(Request::new(["GET", k1.as_str()])).wait()
    });
    assert_eq!(
        waiter.join().expect("thread").expect("GET"),
        Frame::BulkString("v".into())
    );
    block_on(client.shutdown());
}

#[test]
fn a_caller_running_the_loop_hears_of_a_shutdown() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    memory.world().stall.insert(port(0));
    let mut waiting = client.submit(Request::new(["GET", key.as_str()]));
    poll_twice(&mut waiting);
    let other = client.clone();
    std::thread::spawn(move || block_on(other.shutdown()))
        .join()
        .expect("shutdown");
    assert!(matches!(waiting.wait(), Err(Error::Closed)));
    assert!(matches!(
        client.submit(Request::new(["GET", key.as_str()])).wait(),
        Err(Error::Closed)
    ));
}
