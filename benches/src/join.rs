//! [`join_all`]: await futures together, for batches of lazy futures (redis-rs, fred, and
//! slotwise's `op` futures), so all of them are in flight at once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls every future on each wake until all are done (no allocation per poll; the futures are
/// boxed once).
pub struct JoinAll<F: Future> {
    futures: Vec<Option<Pin<Box<F>>>>,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut pending = false;
        for slot in self.futures.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// Awaits all of `futures` together; their outputs are dropped.
pub fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
    JoinAll {
        futures: futures.into_iter().map(|f| Some(Box::pin(f))).collect(),
    }
}
