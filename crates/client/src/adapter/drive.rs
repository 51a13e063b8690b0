//! Who runs the loop: the calling task when the loop is free and the caller is alone, the loop's
//! own task otherwise.
//!
//! The [`Loop`] sits behind a mutex that is only ever *tried*, never waited for. A caller that
//! submits a request while nobody runs the loop and nothing else waits hands it to the driver
//! directly ([`Drive::offer`]: no inbox, no wakeup); its [`Pending`](crate::Pending)'s first poll
//! then runs the loop on the caller's task ([`Drive::drive`]): the request is written from there,
//! and the caller takes the [`Baton`], so the reply's socket event wakes the caller itself, which
//! reads it on its own task — a round trip with no task hop, like a hand-written socket loop.
//! Requests submitted while all that waits was handed in that way and is not written yet (one
//! task's burst, submitted before it awaits any) are handed in directly too, waking nobody; the
//! first poll of any of them writes them all, one write per node, and leaves the baton with the
//! loop's task ([`Loop::burst`]). A lone request's first poll may only yield, so that the
//! requests its task makes next (the other futures of a `join`, each submitted at its first
//! poll) join its write; the requests handed in meanwhile yield at their first poll too, and the
//! next poll writes them all. That yield is kept while it gathers others and dropped when it
//! does not ([`Gather`]).
//!
//! With others waiting, requests go through the inbox and the loop's task runs the loop (routing
//! and encoding beside the callers, one write per node for what came together) and holds the
//! baton. After a run that woke callers with their outcomes while others still wait, the task may
//! wake itself too and come back behind them, so that their next requests leave together
//! ([`ComeBack`]).
//!
//! The inbox and the timer always wake the loop's task. A task that fails to take the mutex marks
//! that it missed a run, and whoever held the mutex wakes it on release ([`Direct::with_loop`],
//! on every path), so no wakeup is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::task::{Context, Poll, Waker};

use super::baton::Baton;
pub(crate) use super::baton::Quiet;
use super::come_back::ComeBack;
use super::driver::Msg;
use super::event_loop::Loop;
use super::gather::Gather;
use super::runtime::Runtime;

/// What a [`Handle`](crate::Handle) and its [`Pending`](crate::Pending)s need of a loop they can
/// run themselves.
pub(crate) trait Drive: Send + Sync {
    /// Hands `msg` to the driver now if nobody runs the loop and nothing waits (it is written
    /// when the loop next runs, normally by this caller); gives it back otherwise, for the inbox
    /// (so with others waiting, the loop's task does the routing, beside the callers).
    /// `Ok(true)`: the caller's first poll only yields, to let its task's next requests join this
    /// one's write ([`Gather`]).
    fn offer(&self, msg: Msg) -> Result<bool, Msg>;

    /// Runs the loop on the caller's task if nobody else is running it and the caller's is the
    /// only request waiting ([`Drove::Ran`] with the caller's baton ticket: the loop's socket
    /// events now wake the caller, see [`Baton`]). The caller then waits on its outcome with
    /// `quiet` (made here if need be), which stays quiet while the caller runs the loop. With
    /// others waiting, the loop's task runs the loop (woken if something was handed in).
    fn drive(&self, cx: &Context<'_>, quiet: &mut Option<Arc<Quiet>>) -> Drove;

    /// The caller with `ticket` stops waiting (outcome in, or its future dropped).
    fn leave(&self, ticket: u64);

    /// Wakes the loop's task (a request handed in directly may not be written yet and nobody
    /// may come to run the loop).
    fn nudge(&self);
}

/// What [`Drive::drive`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drove {
    /// Ran the loop; the caller holds the baton with this ticket.
    Ran(u64),
    /// Somebody else holds the loop right now: a baton the caller held may still be its own.
    Busy,
    /// Others wait (or the loop stopped): the loop's task runs it and holds the baton.
    Passed,
}

/// A loop that callers can run: the runtime, the loop behind its mutex, and the baton.
pub(super) struct Direct<R: Runtime> {
    rt: R,
    held: Mutex<Option<Held<R>>>,
    baton: Arc<Baton>,
    /// The baton as a waker, for the loop's socket I/O.
    io: Waker,
    /// The loop's task was woken but found the mutex taken.
    missed: AtomicBool,
    /// What the last holder of the mutex saw of [`Loop::takes_direct`] as it let go: while others
    /// wait, [`Drive::offer`] sends to the inbox without touching the mutex, so a burst of
    /// submits from many callers does not contend with the loop's task running beside it (each
    /// collision would cost the task another run, and the burst more, smaller writes).
    takes_direct: AtomicBool,
}

/// The loop, with what only those who run it need: the loop's task, its come-back, and the
/// gather of a lone caller's requests.
struct Held<R: Runtime> {
    lp: Loop<R>,
    /// The loop's task, woken by the inbox and the timer whoever runs the loop (`None` until the
    /// task first runs).
    task: Option<Waker>,
    come_back: ComeBack,
    gather: Gather,
}

/// Runs the loop with socket I/O waking `io` and the inbox and timer `ctl`, settling an open
/// gather first (whoever runs the loop writes what was handed in).
fn run<R: Runtime>(
    lp: &mut Loop<R>,
    gather: &mut Gather,
    io: &mut Context<'_>,
    ctl: &mut Context<'_>,
) -> Poll<()> {
    gather.settle(lp.fresh());
    lp.poll_run(io, ctl)
}

/// Why [`Direct::with_loop`] did not run the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unheld {
    /// Somebody else holds it right now.
    Busy,
    /// It stopped, or a panic poisoned it.
    Gone,
}

impl<R: Runtime> Direct<R> {
    pub(super) fn new(rt: R, lp: Loop<R>) -> Direct<R> {
        let baton = Arc::new(Baton::default());
        Direct {
            rt,
            held: Mutex::new(Some(Held {
                lp,
                task: None,
                come_back: ComeBack::default(),
                gather: Gather::default(),
            })),
            io: Waker::from(baton.clone()),
            baton,
            missed: AtomicBool::new(false),
            takes_direct: AtomicBool::new(false),
        }
    }

    /// Runs `f` on the loop if nobody else holds it and it has not stopped. Before releasing it,
    /// publishes whether the loop takes requests directly ([`Loop::takes_direct`]); after, wakes the loop's task if the loop stopped
    /// meanwhile or the task missed a run while it was held (on every path: a missed run left
    /// unreported would strand the task).
    fn with_loop<T>(&self, f: impl FnOnce(&mut Held<R>) -> T) -> Result<T, Unheld> {
        let mut guard = match self.held.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => return Err(Unheld::Busy),
            Err(TryLockError::Poisoned(_)) => {
                self.baton.wake_task();
                return Err(Unheld::Gone);
            }
        };
        let out = guard.as_mut().filter(|h| !h.lp.stopped).map(f);
        let stopped = guard.as_ref().is_some_and(|h| h.lp.stopped);
        if let Some(h) = guard.as_ref() {
            self.takes_direct
                .store(h.lp.takes_direct(), Ordering::Release);
        }
        drop(guard);
        if stopped {
            self.baton.wake_task();
        }
        if self.missed.swap(false, Ordering::SeqCst) {
            self.baton.wake_task();
        }
        out.ok_or(Unheld::Gone)
    }

    /// The loop's task's turn: run the loop if it is free. `Ready` once the driver stopped.
    fn poll_task(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut run = |held: &mut Held<R>| self.task_runs(held, cx);
        match self.with_loop(&mut run) {
            Ok(poll) => poll,
            Err(Unheld::Gone) => Poll::Ready(()),
            Err(Unheld::Busy) => {
                // Whoever holds it wakes us on release; try again in case it already has.
                self.missed.store(true, Ordering::SeqCst);
                match self.with_loop(run) {
                    Ok(poll) => poll,
                    Err(Unheld::Gone) => Poll::Ready(()),
                    Err(Unheld::Busy) => Poll::Pending,
                }
            }
        }
    }

    /// The loop's task runs the loop, holding the baton; it may come back after callers it woke.
    fn task_runs(&self, held: &mut Held<R>, cx: &mut Context<'_>) -> Poll<()> {
        // This run is the one any missed wakeup asked for.
        self.missed.store(false, Ordering::SeqCst);
        self.baton.task_runs(cx.waker());
        if !held.task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
            held.task = Some(cx.waker().clone());
        }
        let mut io = Context::from_waker(&self.io);
        let delivered = held.lp.driver.delivered();
        if run(&mut held.lp, &mut held.gather, &mut io, cx).is_ready() {
            return Poll::Ready(());
        }
        let woke_others = held.lp.driver.delivered() != delivered && !held.lp.driver.alone();
        if held.come_back.after_run(held.lp.taken_in(), woke_others) {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl<R: Runtime> Drive for Direct<R> {
    fn offer(&self, msg: Msg) -> Result<bool, Msg> {
        if !self.takes_direct.load(Ordering::Acquire) {
            return Err(msg);
        }
        let mut back = Some(msg);
        let mut gather = false;
        let _ = self.with_loop(|held| {
            if held.lp.takes_direct()
                && let Some(msg) = back.take()
            {
                let lone = held.lp.driver.only_requests(0) && !held.lp.undrained();
                back = held.lp.offer(msg).err();
                gather = back.is_none()
                    && if lone {
                        held.gather.start()
                    } else {
                        held.gather.is_open()
                    };
            }
        });
        back.map_or(Ok(gather), Err)
    }

    fn drive(&self, cx: &Context<'_>, quiet: &mut Option<Arc<Quiet>>) -> Drove {
        self.with_loop(|held| {
            // Until the loop's task has run once, it alone runs the loop.
            let Some(task) = &held.task else {
                self.baton.wake_task();
                return Drove::Passed;
            };
            if !held.lp.driver.alone() {
                // Not alone: the loop's task holds the baton and handles socket events, any that
                // woke this caller among them.
                let event = self.baton.to_task();
                if held.lp.burst() {
                    // A burst handed in directly (one task's requests, submitted before it
                    // awaited any): this caller writes them all now, with no hop; their replies
                    // wake the loop's task.
                    let mut io = Context::from_waker(&self.io);
                    let mut ctl = Context::from_waker(task);
                    let (lp, gather) = (&mut held.lp, &mut held.gather);
                    let _ = self.rt.enter(|| run(lp, gather, &mut io, &mut ctl));
                } else if event || (held.lp.undrained() && !held.come_back.is_coming()) {
                    self.baton.wake_task();
                }
                return Drove::Passed;
            }
            let ticket = self.baton.caller_runs(cx.waker());
            let mut io = Context::from_waker(&self.io);
            let mut ctl = Context::from_waker(task);
            let quiet = quiet.get_or_insert_with(Arc::default);
            quiet.set(cx.waker());
            quiet.running(true);
            let (lp, gather) = (&mut held.lp, &mut held.gather);
            let _ = self.rt.enter(|| run(lp, gather, &mut io, &mut ctl));
            quiet.running(false);
            ticket.map_or(Drove::Passed, Drove::Ran)
        })
        .unwrap_or(Drove::Busy)
    }

    fn leave(&self, ticket: u64) {
        self.baton.leave(ticket);
    }

    fn nudge(&self) {
        self.baton.wake_task();
    }
}

/// The loop's task: runs the loop whenever it is woken and nobody else is running it; once the
/// driver stops, closes everything.
pub(super) async fn task<R: Runtime>(direct: Arc<Direct<R>>) {
    std::future::poll_fn(|cx| direct.poll_task(cx)).await;
    let held = match direct.held.lock() {
        Ok(mut guard) => guard.take(),
        // A panic in the loop (on some caller's task): drop it, which ends every request with
        // `Closed` and closes the sockets.
        Err(poisoned) => {
            drop(poisoned.into_inner().take());
            None
        }
    };
    if let Some(held) = held {
        held.lp.finish().await;
    }
}
