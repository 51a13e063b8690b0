//! Verification of the `INCR` counters: every acknowledged increment must be in Redis.
//!
//! Each slot's counter is incremented by one worker only, one `INCR` at a time, so its outcomes form
//! a sequence. An acknowledged `INCR` returns the counter's new value; between two acknowledgements
//! the value must grow by one, plus at most one per *ambiguous* outcome in between (an `INCR` that
//! may have been applied: `ConnectionLost { maybe_applied: true }`, `Timeout`, `Protocol`,
//! `ClusterDown`, `TooManyRedirects`). The final value read back from the primary must lie between
//! the last acknowledged value and that plus the ambiguous outcomes after it.
//!
//! - Growing by more than that is a **duplicate** (an increment applied twice): never allowed.
//! - Growing by less is a **lost write**: allowed only when the `SIGKILL` lies between the two
//!   observations and the slot was served by the killed primary (Redis replicates asynchronously, so a
//!   primary can acknowledge a write and die before its replica has it). Everything else is a failure.

/// What one `INCR` came back with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Acknowledged: the counter's value after it.
    Ack(i64),
    /// May or may not have been applied.
    Ambiguous,
    /// Certainly not applied (refused before it was written, or answered with an error reply).
    NotApplied,
}

/// The outcomes of one slot's counter, in order, each with the phase it ended in.
#[derive(Clone, Debug, Default)]
pub(crate) struct CounterLog {
    pub(crate) outcomes: Vec<(usize, Outcome)>,
}

/// Where losses are allowed: the kill phase, and the slots its primary served.
pub(crate) struct KillWindow {
    pub(crate) phase: usize,
    pub(crate) slots: Vec<bool>,
}

/// The verdict over all counters.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub(crate) counters: usize,
    pub(crate) acknowledged: u64,
    pub(crate) ambiguous: u64,
    /// Increments lost where the kill can lose them.
    pub(crate) lost_in_kill: u64,
    /// Increments lost anywhere else (a failure).
    pub(crate) lost_elsewhere: u64,
    /// Increments applied more often than asked (a failure).
    pub(crate) duplicated: u64,
    /// The first few problems, for the report.
    pub(crate) problems: Vec<String>,
}

impl Verdict {
    pub(crate) fn holds(&self) -> bool {
        self.lost_elsewhere == 0 && self.duplicated == 0
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < 10 {
            self.problems.push(text);
        }
    }
}

/// Checks every slot's log against its final value (`finals[slot]`).
pub(crate) fn verify(logs: &[CounterLog], finals: &[i64], kill: Option<&KillWindow>) -> Verdict {
    let mut v = Verdict::default();
    for (slot, (log, &fin)) in logs.iter().zip(finals).enumerate() {
        v.counters += 1;
        let loss_ok = |from: usize, to: usize| {
            kill.is_some_and(|k| k.slots[slot] && from <= k.phase && k.phase <= to)
        };
        let mut last = 0i64;
        let mut last_phase = 0usize;
        let mut pending = 0i64;
        for &(phase, outcome) in &log.outcomes {
            match outcome {
                Outcome::Ambiguous => {
                    v.ambiguous += 1;
                    pending += 1;
                }
                Outcome::NotApplied => {}
                Outcome::Ack(value) => {
                    v.acknowledged += 1;
                    check(
                        &mut v,
                        slot,
                        last,
                        pending,
                        value,
                        1,
                        loss_ok(last_phase, phase),
                    );
                    last = value;
                    last_phase = phase;
                    pending = 0;
                }
            }
        }
        let end = log.outcomes.last().map_or(last_phase, |&(p, _)| p);
        check(
            &mut v,
            slot,
            last,
            pending,
            fin,
            0,
            loss_ok(last_phase, end.max(last_phase)),
        );
    }
    v
}

/// One observation `value` after `last` with `pending` ambiguous increments between; `step` is 1
/// for an acknowledged `INCR` (it added one itself) and 0 for the final read.
fn check(
    v: &mut Verdict,
    slot: usize,
    last: i64,
    pending: i64,
    value: i64,
    step: i64,
    loss_ok: bool,
) {
    let low = last + step;
    let high = low + pending;
    if value < low {
        let lost = (low - value) as u64;
        if loss_ok {
            v.lost_in_kill += lost;
        } else {
            v.lost_elsewhere += lost;
            v.problem(format!(
                "slot {slot}: counter went from {last} to {value}: {lost} acknowledged INCR lost"
            ));
        }
    } else if value > high {
        let dup = (value - high) as u64;
        v.duplicated += dup;
        v.problem(format!(
            "slot {slot}: counter went from {last} to {value} with {pending} ambiguous INCR between: \
             {dup} applied twice"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(o: &[(usize, Outcome)]) -> CounterLog {
        CounterLog {
            outcomes: o.to_vec(),
        }
    }

    #[test]
    fn clean_sequence_holds() {
        let l = log(&[
            (0, Outcome::Ack(1)),
            (0, Outcome::Ack(2)),
            (1, Outcome::NotApplied),
        ]);
        let v = verify(&[l], &[2], None);
        assert!(v.holds());
        assert_eq!(v.acknowledged, 2);
    }

    #[test]
    fn ambiguous_bounds_the_overcount() {
        let l = log(&[
            (0, Outcome::Ack(1)),
            (0, Outcome::Ambiguous),
            (0, Outcome::Ack(3)),
        ]);
        assert!(verify(std::slice::from_ref(&l), &[3], None).holds());
        assert!(
            !verify(&[l], &[4], None).holds(),
            "one more than asked is a duplicate"
        );
        let l = log(&[(0, Outcome::Ack(1)), (0, Outcome::Ambiguous)]);
        assert!(verify(std::slice::from_ref(&l), &[1], None).holds());
        assert!(verify(std::slice::from_ref(&l), &[2], None).holds());
        assert_eq!(verify(&[l], &[3], None).duplicated, 1);
    }

    #[test]
    fn losses_only_in_the_kill_window() {
        // Acknowledged 1 and 2, then the kill: the next acknowledgement says 2 again.
        let l = log(&[
            (0, Outcome::Ack(1)),
            (1, Outcome::Ack(2)),
            (2, Outcome::Ack(2)),
        ]);
        let kill = KillWindow {
            phase: 2,
            slots: vec![true],
        };
        let v = verify(std::slice::from_ref(&l), &[2], Some(&kill));
        assert!(v.holds());
        assert_eq!(v.lost_in_kill, 1);
        let v = verify(std::slice::from_ref(&l), &[2], None);
        assert!(!v.holds());
        let other = KillWindow {
            phase: 2,
            slots: vec![false],
        };
        assert!(!verify(&[l], &[2], Some(&other)).holds());
        // A final value below the last acknowledgement, outside the kill.
        let l = log(&[(0, Outcome::Ack(1))]);
        assert_eq!(verify(&[l], &[0], None).lost_elsewhere, 1);
    }
}
