//! [`Baton`]: who the loop's socket I/O wakes — the loop's own task, or a caller that is running
//! the loop on its task while it waits for the one request in flight (see [`super::drive`]); and
//! [`Quiet`], the waker such a caller waits on its outcome with.
//!
//! The loop polls its I/O futures with a waker made of the baton; waking it wakes the holder. A
//! caller takes the baton when it runs the loop as the only one waiting, and hands it back
//! ([`Baton::leave`]) when its outcome is in (or its future is dropped); the loop's task is woken
//! then only if an event came that nobody has run the loop for since. Whoever else runs the loop
//! takes the baton without waking the caller that held it: that caller also waits on its outcome
//! (through [`Quiet`]), so it hears of it from whoever completes it.
//!
//! A caller holds the baton only while nothing but its own request waits (no other request,
//! pipeline, session, subscriber or delay: `Driver::alone`). So a holder that is woken and does
//! not come back (its task holds the polled future without polling it again) delays only its own
//! request and the client's upkeep (topology refreshes), until the next request, message or timer
//! of the client wakes the loop's task; any other caller takes the baton back to the task.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Wake, Waker};

/// The waker behind the loop's socket I/O.
#[derive(Default)]
pub(crate) struct Baton {
    /// An I/O event came since the loop last ran.
    woken: AtomicBool,
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    /// Who the next event wakes (`None` until the loop's task first runs).
    holder: Option<Waker>,
    /// The holder is a caller, not the loop's task.
    caller: bool,
    /// Changes whenever the baton moves: a caller's [`Baton::leave`] only hands back a baton it
    /// still holds.
    ticket: u64,
    /// The loop's task.
    task: Option<Waker>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Baton {
    /// The loop's task runs the loop: it holds the baton.
    pub(crate) fn task_runs(&self, task: &Waker) {
        let mut slot = lock(&self.slot);
        if !slot.task.as_ref().is_some_and(|t| t.will_wake(task)) {
            slot.task = Some(task.clone());
        }
        if slot.caller || slot.holder.is_none() {
            slot.holder = slot.task.clone();
            slot.caller = false;
            slot.ticket += 1;
        }
        drop(slot);
        self.woken.store(false, Ordering::SeqCst);
    }

    /// A caller runs the loop and waits, alone, for its outcome: it holds the baton. Returns its
    /// ticket for [`Baton::leave`]; `None` before the loop's task has run (it keeps the baton).
    pub(crate) fn caller_runs(&self, caller: &Waker) -> Option<u64> {
        let mut slot = lock(&self.slot);
        slot.task.as_ref()?;
        if !(slot.caller && slot.holder.as_ref().is_some_and(|h| h.will_wake(caller))) {
            slot.holder = Some(caller.clone());
            slot.caller = true;
            slot.ticket += 1;
        }
        let ticket = slot.ticket;
        drop(slot);
        self.woken.store(false, Ordering::SeqCst);
        Some(ticket)
    }

    /// Others wait too: the loop's task keeps (or takes back) the baton. True if it took it back
    /// from a caller after an event nobody has run the loop for since: the task must run.
    #[must_use]
    pub(crate) fn to_task(&self) -> bool {
        let mut slot = lock(&self.slot);
        if !slot.caller {
            return false;
        }
        slot.holder = slot.task.clone();
        slot.caller = false;
        slot.ticket += 1;
        drop(slot);
        self.woken.load(Ordering::SeqCst)
    }

    /// The caller holding `ticket` stops waiting: the baton goes back to the loop's task, which
    /// is woken if an event came since the loop last ran.
    pub(crate) fn leave(&self, ticket: u64) {
        let task = {
            let mut slot = lock(&self.slot);
            if !slot.caller || slot.ticket != ticket {
                return;
            }
            slot.holder = slot.task.clone();
            slot.caller = false;
            slot.ticket += 1;
            slot.task.clone()
        };
        if self.woken.load(Ordering::SeqCst)
            && let Some(task) = task
        {
            task.wake();
        }
    }

    /// Wakes the loop's task, whoever holds the baton.
    pub(crate) fn wake_task(&self) {
        let task = lock(&self.slot).task.clone();
        if let Some(task) = task {
            task.wake();
        }
    }
}

impl Wake for Baton {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        let holder = lock(&self.slot).holder.clone();
        if let Some(holder) = holder {
            holder.wake();
        }
    }
}

/// The waker a caller that runs the loop waits on its outcome with: it wakes the caller's task,
/// except while that task is running the loop itself — completing its own request there must not
/// wake it for nothing (the caller checks its outcome right after).
#[derive(Default)]
pub(crate) struct Quiet {
    running: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Quiet {
    /// The caller's task, to wake.
    pub(crate) fn set(&self, task: &Waker) {
        let mut slot = lock(&self.task);
        if !slot.as_ref().is_some_and(|t| t.will_wake(task)) {
            *slot = Some(task.clone());
        }
    }

    /// The caller's task is (or no longer is) running the loop.
    pub(crate) fn running(&self, running: bool) {
        self.running.store(running, Ordering::SeqCst);
    }
}

impl Wake for Quiet {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.running.load(Ordering::SeqCst) {
            return;
        }
        let task = lock(&self.task).clone();
        if let Some(task) = task {
            task.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its wakes.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count::default());
        (c.clone(), Waker::from(c))
    }

    fn n(c: &Count) -> usize {
        c.0.load(Ordering::SeqCst)
    }

    #[test]
    fn events_wake_the_holder_and_a_leaving_caller_hands_back_only_what_it_holds() {
        let baton = Arc::new(Baton::default());
        let io = Waker::from(baton.clone());
        let (task, task_w) = counter();
        let (a, a_w) = counter();
        let (b, b_w) = counter();
        // Before the task has run, a caller cannot take the baton.
        assert_eq!(baton.caller_runs(&a_w), None);
        baton.task_runs(&task_w);
        io.wake_by_ref();
        assert_eq!((n(&task), n(&a)), (1, 0));
        baton.task_runs(&task_w);
        let ta = baton.caller_runs(&a_w).expect("task has run");
        io.wake_by_ref();
        assert_eq!(
            (n(&task), n(&a)),
            (1, 1),
            "the event goes to the caller only"
        );
        // B takes the baton without waking A; A's leave must not take it from B.
        let tb = baton.caller_runs(&b_w).expect("task has run");
        assert_eq!(n(&a), 1);
        baton.leave(ta);
        io.wake_by_ref();
        assert_eq!((n(&task), n(&a), n(&b)), (1, 1, 1));
        // B leaves after an event it did not run the loop for: the task is woken.
        baton.leave(tb);
        assert_eq!(n(&task), 2);
        io.wake_by_ref();
        assert_eq!((n(&task), n(&b)), (3, 1), "the task holds it again");
    }

    #[test]
    fn a_caller_leaving_after_a_quiet_wait_does_not_wake_the_task() {
        let baton = Arc::new(Baton::default());
        let io = Waker::from(baton.clone());
        let (task, task_w) = counter();
        let (a, a_w) = counter();
        baton.task_runs(&task_w);
        let ticket = baton.caller_runs(&a_w).expect("task has run");
        baton.leave(ticket);
        assert_eq!(n(&task), 0);
        // Others wait: events go to the task, not to A.
        let _ = baton.caller_runs(&a_w);
        assert!(!baton.to_task(), "no event came");
        io.wake_by_ref();
        assert_eq!((n(&task), n(&a)), (1, 0));
        // An event for a caller, which then finds others waiting: the task must run.
        let _ = baton.caller_runs(&a_w);
        io.wake_by_ref();
        assert_eq!(n(&a), 1);
        assert!(baton.to_task());
        assert!(!baton.to_task(), "only once");
    }

    #[test]
    fn quiet_wakes_the_caller_unless_it_is_running_the_loop() {
        let (a, a_w) = counter();
        let quiet = Arc::new(Quiet::default());
        let w = Waker::from(quiet.clone());
        w.wake_by_ref();
        assert_eq!(n(&a), 0, "no task yet");
        quiet.set(&a_w);
        quiet.running(true);
        w.wake_by_ref();
        assert_eq!(n(&a), 0);
        quiet.running(false);
        w.wake_by_ref();
        assert_eq!(n(&a), 1);
    }
}
