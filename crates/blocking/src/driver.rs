//! The driver thread: waits for a message or the core's deadline (parking, no runtime), feeds the
//! shared [`Driver`], and starts a thread per new connection.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

use futures_lite::StreamExt;
use slotwise_client::futures_channel::mpsc::UnboundedReceiver;
use slotwise_client::{Driver, Flow, Msg};

/// How many messages are fed before the core is drained (see the async loop in slotwise-client).
const BATCH: usize = 256;

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

enum Recv {
    Msg(Msg),
    Deadline,
    Closed,
}

/// The next message, or `Deadline` once `deadline` has passed.
fn recv_until(
    rx: &mut UnboundedReceiver<Msg>,
    cx: &mut Context<'_>,
    deadline: Option<Instant>,
) -> Recv {
    loop {
        match rx.poll_next(cx) {
            Poll::Ready(Some(msg)) => return Recv::Msg(msg),
            Poll::Ready(None) => return Recv::Closed,
            Poll::Pending => {}
        }
        match deadline {
            None => thread::park(),
            Some(at) => {
                let now = Instant::now();
                if now >= at {
                    return Recv::Deadline;
                }
                thread::park_timeout(at - now);
            }
        }
    }
}

/// The driver loop; returns when the client shuts down.
pub(crate) fn run(mut driver: Driver, mut rx: UnboundedReceiver<Msg>) {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut jobs = Vec::new();
    let mut deadline = driver.poll(&mut jobs);
    'outer: loop {
        for job in jobs.drain(..) {
            crate::conn::spawn(job);
        }
        match recv_until(&mut rx, &mut cx, deadline) {
            Recv::Closed => break,
            Recv::Deadline => driver.tick(),
            Recv::Msg(msg) => {
                if driver.handle(msg) == Flow::Stop {
                    break;
                }
                for _ in 1..BATCH {
                    let Ok(msg) = rx.try_recv() else { break };
                    if driver.handle(msg) == Flow::Stop {
                        break 'outer;
                    }
                }
                if deadline.is_some_and(|at| Instant::now() >= at) {
                    driver.tick();
                }
            }
        }
        deadline = driver.poll(&mut jobs);
    }
    rx.close();
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Shutdown { done } = msg {
            driver.handle(Msg::Shutdown { done });
        }
    }
    driver.shutdown();
}
