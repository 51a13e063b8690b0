//! Who runs the loop: the calling task when the loop is free and the caller is alone, the loop's
//! own task otherwise.
//!
//! The [`Loop`] sits behind a mutex that is only ever *tried*, never waited for. A caller that
//! submits a request while nobody runs the loop and nothing else waits hands it to the driver
//! directly ([`Drive::offer`]: no inbox, no wakeup); its [`Pending`](crate::Pending)'s first poll
//! then runs the loop on the caller's task ([`Drive::drive`]): the request is written from there,
//! and the caller takes the [`Baton`], so the reply's socket event wakes the caller itself, which
//! reads it on its own task — a round trip with no task hop, like a hand-written socket loop.
//!
//! With others waiting, requests go through the inbox and the loop's task runs the loop (routing
//! and encoding beside the callers, one write per node for what came together) and holds the
//! baton. After a run that woke callers with their outcomes while others still wait, the task
//! wakes itself too, which puts it behind those callers: it comes back once they have submitted
//! their next requests, which then leave together, none of them waking it. Coming back stops after
//! [`COME_BACK_TRUST`] come-backs in a row that found nothing (one task awaiting a batch of its
//! own submits nothing until the batch is in) and is tried again every few runs.
//!
//! The inbox and the timer always wake the loop's task. A task that fails to take the mutex marks
//! that it missed a run, and whoever held the mutex wakes it on release ([`Direct::with_loop`],
//! on every path), so no wakeup is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::task::{Context, Poll, Waker};

use super::baton::Baton;
pub(crate) use super::baton::Quiet;
use super::driver::Msg;
use super::event_loop::Loop;
use super::runtime::Runtime;

/// What a [`Handle`](crate::Handle) and its [`Pending`](crate::Pending)s need of a loop they can
/// run themselves.
pub(crate) trait Drive: Send + Sync {
    /// Hands `msg` to the driver now if nobody runs the loop and nothing waits (it is written
    /// when the loop next runs, normally by this caller); gives it back otherwise, for the inbox
    /// (so with others waiting, the loop's task does the routing, beside the callers).
    fn offer(&self, msg: Msg) -> Result<(), Msg>;

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

/// How many come-backs in a row may find nothing before the loop's task stops coming back.
pub(super) const COME_BACK_TRUST: u8 = 4;

/// Once it stopped: how many runs that woke callers pass between two tries.
const COME_BACK_RETRY: u8 = 8;

/// A loop that callers can run: the runtime, the loop behind its mutex, and the baton.
pub(super) struct Direct<R: Runtime> {
    rt: R,
    lp: Mutex<Option<Loop<R>>>,
    baton: Arc<Baton>,
    /// The baton as a waker, for the loop's socket I/O.
    io: Waker,
    /// The loop's task was woken but found the mutex taken.
    missed: AtomicBool,
    /// What the last holder of the mutex saw of [`Driver::alone`](super::driver::Driver::alone)
    /// as it let go: while others wait, [`Drive::offer`] sends to the inbox without touching the
    /// mutex, so a burst of submits does not contend with the loop's task running beside it
    /// (each collision would cost the task another run, and the burst more, smaller writes).
    alone: AtomicBool,
}

impl<R: Runtime> Direct<R> {
    pub(super) fn new(rt: R, lp: Loop<R>) -> Direct<R> {
        let baton = Arc::new(Baton::default());
        Direct {
            rt,
            lp: Mutex::new(Some(lp)),
            io: Waker::from(baton.clone()),
            baton,
            missed: AtomicBool::new(false),
            alone: AtomicBool::new(false),
        }
    }

    /// Before releasing the mutex: publishes whether the driver is alone now.
    fn publish(&self, lp: &Loop<R>) {
        self.alone
            .store(!lp.stopped && lp.driver.alone(), Ordering::Release);
    }

    /// After releasing the mutex: wakes the loop's task if it missed a run meanwhile.
    fn after_release(&self) {
        if self.missed.swap(false, Ordering::SeqCst) {
            self.baton.wake_task();
        }
    }

    /// The loop's task's turn: run the loop if it is free. `Ready` once the driver stopped.
    fn poll_task(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut guard = match self.lp.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(_)) => return Poll::Ready(()),
            Err(TryLockError::WouldBlock) => {
                // Whoever holds it wakes us on release; try again in case it already has.
                self.missed.store(true, Ordering::SeqCst);
                match self.lp.try_lock() {
                    Ok(guard) => {
                        self.missed.store(false, Ordering::SeqCst);
                        guard
                    }
                    Err(TryLockError::Poisoned(_)) => return Poll::Ready(()),
                    Err(TryLockError::WouldBlock) => return Poll::Pending,
                }
            }
        };
        let Some(lp) = guard.as_mut() else {
            return Poll::Ready(());
        };
        if lp.stopped {
            return Poll::Ready(());
        }
        self.baton.task_runs(cx.waker());
        if !lp.task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
            lp.task = Some(cx.waker().clone());
        }
        let mut io = Context::from_waker(&self.io);
        let came_back = std::mem::take(&mut lp.coming_back);
        // Submitted since the task yielded: handed in directly, or (when two callers offered at
        // once) through the inbox.
        let handed_in = lp.undrained;
        let taken_in = lp.taken_in;
        let delivered = lp.driver.delivered();
        if lp.poll_run(&mut io, cx).is_ready() {
            lp.stopped = true;
            self.publish(lp);
            return Poll::Ready(());
        }
        self.publish(lp);
        if came_back {
            lp.come_back_score = if handed_in || lp.taken_in != taken_in {
                COME_BACK_TRUST
            } else {
                lp.come_back_score.saturating_sub(1)
            };
        }
        if lp.driver.delivered() != delivered && !lp.driver.alone() {
            if lp.come_back_score == 0 && lp.come_back_skipped < COME_BACK_RETRY {
                lp.come_back_skipped += 1;
                return Poll::Pending;
            }
            lp.come_back_skipped = 0;
            // Callers were just woken with their outcomes and others still wait: come back once
            // the woken ones have run (waking itself now puts this task behind them), so that
            // the requests they submit next leave together, without each waking this task.
            lp.coming_back = true;
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl<R: Runtime> Direct<R> {
    /// Runs `f` on the loop if nobody else holds it and it has not stopped; then releases it,
    /// waking the loop's task if the loop stopped meanwhile or the task missed a run while it
    /// was held (on every path: a missed run left unreported would strand the task).
    fn with_loop<T>(&self, f: impl FnOnce(&mut Loop<R>) -> T) -> Option<T> {
        let mut guard = match self.lp.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => return None,
            Err(TryLockError::Poisoned(_)) => {
                self.baton.wake_task();
                return None;
            }
        };
        let out = guard.as_mut().filter(|lp| !lp.stopped).map(f);
        let stopped = guard.as_ref().is_some_and(|lp| lp.stopped);
        if let Some(lp) = guard.as_ref() {
            self.publish(lp);
        }
        drop(guard);
        if stopped {
            self.baton.wake_task();
        }
        self.after_release();
        out
    }
}

impl<R: Runtime> Drive for Direct<R> {
    fn offer(&self, msg: Msg) -> Result<(), Msg> {
        if !self.alone.load(Ordering::Acquire) {
            return Err(msg);
        }
        let mut msg = Some(msg);
        let offered = self.with_loop(|lp| {
            if lp.driver.alone()
                && let Some(m) = msg.take()
            {
                lp.offer(m)
            } else {
                Ok(())
            }
        });
        match (offered, msg) {
            (Some(Err(back)), _) => Err(back),
            (_, Some(back)) => Err(back),
            (_, None) => Ok(()),
        }
    }

    fn drive(&self, cx: &Context<'_>, quiet: &mut Option<Arc<Quiet>>) -> Drove {
        self.with_loop(|lp| {
            if !lp.driver.alone() {
                // Not alone: the loop's task runs the loop, writing what was handed in together,
                // and handling any event that woke this caller.
                let event = self.baton.to_task();
                if event || (lp.undrained && !lp.coming_back) {
                    self.baton.wake_task();
                }
                return Drove::Passed;
            }
            // Until the loop's task has run once, it alone runs the loop.
            let Some(task) = lp.task.take() else {
                return Drove::Passed;
            };
            let ticket = self.baton.caller_runs(cx.waker());
            let mut io = Context::from_waker(&self.io);
            let mut ctl = Context::from_waker(&task);
            let quiet = quiet.get_or_insert_with(Arc::default);
            quiet.set(cx.waker());
            quiet.running(true);
            let stopped = self.rt.enter(|| lp.poll_run(&mut io, &mut ctl)).is_ready();
            quiet.running(false);
            lp.task = Some(task);
            if stopped {
                lp.stopped = true;
            }
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
    let lp = match direct.lp.lock() {
        Ok(mut guard) => guard.take(),
        // A panic in the loop (on some caller's task): drop it, which ends every request with
        // `Closed` and closes the sockets.
        Err(poisoned) => {
            drop(poisoned.into_inner().take());
            None
        }
    };
    if let Some(lp) = lp {
        lp.finish().await;
    }
}
