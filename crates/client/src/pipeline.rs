//! [`Pipeline`]: commands added in order, sent together (one batch per node), every outcome
//! returned in the order added.

use futures_channel::oneshot;
use slotwise_cluster::{Frame, Request, RequestError};
use slotwise_resp::Arg;

use crate::adapter::Msg;
use crate::{Error, Handle};

/// A pipeline: commands added in order, handed to the driver in one message and written as one
/// batch per node; redirects (`MOVED`, `ASK`) and retries are handled per command, and every
/// reply or error comes back in the order the commands were added. Commands of any slots mix
/// freely, multi-node ones (`MGET` over slots, `DBSIZE`) included.
///
/// Made by [`Handle::pipeline`]. [`Pipeline::atomic`] makes it a transaction (`MULTI` … `EXEC`)
/// on the connection of one slot's primary instead.
///
/// ```no_run
/// # async fn demo(client: slotwise_client::Handle) -> Result<(), slotwise_client::Error> {
/// let mut pipe = client.pipeline();
/// for i in 0..100 {
///     pipe.cmd(["SET", &format!("user:{i}"), "x"]);
/// }
/// pipe.cmd(["GET", "user:7"]);
/// let replies = pipe.run().await?; // 101 outcomes, in order
/// assert!(replies.iter().all(|r| r.is_ok()));
/// # Ok(()) }
/// ```
///
/// A pipeline of any length is fine: at most
/// [`PIPELINE_WINDOW`](crate::adapter::PIPELINE_WINDOW) of its commands are in flight at once;
/// the rest follow as replies come back.
#[derive(Debug)]
#[must_use = "a pipeline does nothing until run"]
pub struct Pipeline {
    handle: Handle,
    requests: Vec<Request>,
    atomic: bool,
}

impl Handle {
    /// An empty [`Pipeline`].
    pub fn pipeline(&self) -> Pipeline {
        Pipeline {
            handle: self.clone(),
            requests: Vec::new(),
            atomic: false,
        }
    }
}

impl Pipeline {
    /// Adds a command given as its arguments, name first.
    pub fn cmd<I>(&mut self, args: I) -> &mut Pipeline
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        self.requests.push(Request::new(args));
        self
    }

    /// Adds a [`Request`] (with its own deadline and `idempotent` flag).
    pub fn add(&mut self, request: Request) -> &mut Pipeline {
        self.requests.push(request);
        self
    }

    /// Makes the pipeline a transaction: `MULTI`, the commands, `EXEC` on one connection of the
    /// primary of their slot, so that they run together and nothing runs between them. All their
    /// keys must be in one slot ([`RequestError::CrossSlot`] otherwise). If a command is refused
    /// when queued, nothing runs and [`Pipeline::run`] returns that error.
    pub fn atomic(&mut self) -> &mut Pipeline {
        self.atomic = true;
        self
    }

    /// How many commands it has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// True with no commands.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// Runs the commands (the pipeline is empty afterwards, ready for more) and returns one
    /// outcome per command, in the order added: its reply, or its error (an error reply is
    /// [`Error::Redis`]). The outer error is for the pipeline as a whole: [`Error::Closed`], or
    /// for an atomic one, a transaction that could not run.
    pub async fn run(&mut self) -> Result<Vec<Result<Frame, Error>>, Error> {
        let requests = std::mem::take(&mut self.requests);
        if self.atomic {
            return self.run_atomic(requests).await;
        }
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        if !self.handle.send_msg(Msg::Pipeline { requests, reply }) {
            return Err(Error::Closed);
        }
        let outcomes = rx.await.map_err(|_| Error::Closed)?;
        Ok(outcomes.into_iter().map(outcome).collect())
    }

    /// [`Pipeline::run`], parking the calling thread until it is done (for synchronous code).
    pub fn wait(&mut self) -> Result<Vec<Result<Frame, Error>>, Error> {
        futures_lite::future::block_on(self.run())
    }

    async fn run_atomic(&self, requests: Vec<Request>) -> Result<Vec<Result<Frame, Error>>, Error> {
        let table = slotwise_slot::CommandTable::new();
        let mut slot = None;
        for r in &requests {
            let args: Vec<&[u8]> = r.args().collect();
            match table.classify(&args).map(|c| c.route) {
                Ok(slotwise_slot::Route::SingleSlot { slot: s, .. }) => {
                    if slot.is_some_and(|x| x != s.get()) {
                        return Err(Error::Request(RequestError::CrossSlot));
                    }
                    slot = Some(s.get());
                }
                Ok(slotwise_slot::Route::NoKey { .. }) => {}
                Ok(_) => return Err(Error::Request(RequestError::CrossSlot)),
                Err(e) => return Err(Error::Request(RequestError::InvalidCommand(e))),
            }
        }
        let tx = self.handle.open_session(slot);
        tx.multi().await?;
        for r in requests {
            tx.queue_request(r);
        }
        match tx.exec().await? {
            Some(replies) => Ok(replies.into_iter().map(|f| outcome(Ok(f))).collect()),
            // No WATCH in a pipeline: EXEC cannot be aborted by one.
            None => Err(Error::Request(RequestError::TransactionAborted {
                reason: "EXEC returned nil".into(),
            })),
        }
    }
}

fn outcome(result: Result<Frame, RequestError>) -> Result<Frame, Error> {
    match result {
        Ok(frame) => crate::handle::reply(frame),
        Err(e) => Err(Error::Request(e)),
    }
}
