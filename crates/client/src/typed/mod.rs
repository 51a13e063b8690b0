//! [`Cmd`]: a command with the Rust type of its reply; [`Run`]: its outcome as a future (and
//! [`Run::wait`] for synchronous code); [`RunCmd`]: what an adapter's client implements to run
//! one — once, so that the typed helpers serve every adapter: one trait per family, each
//! implemented for every [`RunCmd`] ([`StringCommands`], [`KeyCommands`], [`HashCommands`], [`ListCommands`],
//! [`SetCommands`], [`SortedSetCommands`], [`StreamCommands`], [`ScriptCommands`]; all in
//! [`prelude`](crate::prelude)).

mod hashes;
mod keys;
mod lists;
mod scripts;
mod sets;
mod sorted_sets;
mod streams;
mod strings;

pub use hashes::HashCommands;
pub use keys::KeyCommands;
pub use lists::ListCommands;
pub use scripts::ScriptCommands;
pub use sets::SetCommands;
pub use sorted_sets::SortedSetCommands;
pub use streams::StreamCommands;
pub use strings::StringCommands;

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use slotwise_cluster::Request;
use slotwise_resp::Frame;

use crate::{Args, ConvertError, Error, FromFrame, Handle, Pending};

/// A command and how its reply converts: `Cmd<Option<String>>` for `GET`, `Cmd<u64>` for `HSET`.
/// Built by the family traits' helpers, or by hand for anything else:
///
/// ```
/// use slotwise_client::{Args, Cmd};
/// let cmd: Cmd<Vec<String>> = Cmd::new(Args::command("LRANGE").arg("list").arg(0).arg(-1));
/// assert_eq!(cmd.request().args().count(), 4);
/// ```
#[must_use = "a command does nothing until run"]
pub struct Cmd<T> {
    request: Request,
    convert: fn(Frame) -> Result<T, ConvertError>,
    /// Sent instead if the first answer is `NOSCRIPT` (an `EVAL` for an `EVALSHA`).
    fallback: Option<Request>,
    reply: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Cmd<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cmd")
            .field("request", &self.request)
            .field("reply", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<T: FromFrame> Cmd<T> {
    /// The command `args`, its reply converted with [`FromFrame`].
    pub fn new(args: Args) -> Cmd<T> {
        Cmd::with(args, T::from_frame)
    }

    /// An already built request, its reply converted with [`FromFrame`].
    pub fn from_request(request: Request) -> Cmd<T> {
        Cmd::with_request(request, T::from_frame)
    }
}

impl<T> Cmd<T> {
    /// The command `args`, its reply converted by `convert` (for shapes a type alone cannot tell,
    /// such as [`pairs`](crate::pairs)).
    pub fn with(args: Args, convert: fn(Frame) -> Result<T, ConvertError>) -> Cmd<T> {
        Cmd::with_request(args.into_request(), convert)
    }

    /// An already built request, its reply converted by `convert`.
    pub fn with_request(request: Request, convert: fn(Frame) -> Result<T, ConvertError>) -> Cmd<T> {
        Cmd {
            request,
            convert,
            fallback: None,
            reply: PhantomData,
        }
    }

    /// Sends `fallback` instead if the node answers `NOSCRIPT`.
    pub(crate) fn or_on_noscript(mut self, fallback: Request) -> Cmd<T> {
        self.fallback = Some(fallback);
        self
    }

    /// The request that will be sent.
    #[must_use]
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Its own deadline instead of the client's default.
    pub fn timeout(mut self, timeout: Duration) -> Cmd<T> {
        self.request = self.request.timeout(timeout);
        if let Some(f) = self.fallback.take() {
            self.fallback = Some(f.timeout(timeout));
        }
        self
    }

    /// Marks it safe to run twice (see [`Request::idempotent`]).
    pub fn idempotent(mut self) -> Cmd<T> {
        self.request = self.request.idempotent();
        self.fallback = self.fallback.take().map(Request::idempotent);
        self
    }

    /// Marks it unsafe to run twice (see [`Request::not_idempotent`]).
    pub fn not_idempotent(mut self) -> Cmd<T> {
        self.request = self.request.not_idempotent();
        self.fallback = self.fallback.take().map(Request::not_idempotent);
        self
    }
}

/// The outcome of a [`Cmd`], as a future that needs no runtime; [`Run::wait`] blocks for it
/// instead. Dropping it cancels as dropping a [`Pending`] does.
#[must_use = "a command's outcome does nothing unless awaited"]
pub struct Run<T> {
    handle: Handle,
    pending: Pending,
    convert: fn(Frame) -> Result<T, ConvertError>,
    fallback: Option<Request>,
}

impl<T> std::fmt::Debug for Run<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run").finish_non_exhaustive()
    }
}

impl<T> Run<T> {
    /// Blocks the calling thread until the outcome is there (for synchronous code).
    pub fn wait(self) -> Result<T, Error> {
        futures_lite::future::block_on(self)
    }
}

impl<T> Future for Run<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let outcome = match Pin::new(&mut self.pending).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(outcome) => outcome,
            };
            match outcome {
                Err(Error::Redis(e)) if e.code() == "NOSCRIPT" && self.fallback.is_some() => {
                    if let Some(fallback) = self.fallback.take() {
                        let pending = self.handle.submit(fallback);
                        self.pending = pending;
                    }
                }
                outcome => {
                    let convert = self.convert;
                    return Poll::Ready(outcome.and_then(|f| convert(f).map_err(Error::from)));
                }
            }
        }
    }
}

/// Runs a [`Cmd`]: implemented once per kind of client, so every typed helper works
/// on it. [`Handle`] (and so the async adapters' clients,
/// which dereference to it) gives a [`Run`] future; the blocking client gives the result.
pub trait RunCmd {
    /// What running a `Cmd<T>` gives: a future of `Result<T, Error>`, or that result.
    type Out<T>;

    /// Submits `cmd`.
    fn run<T>(&self, cmd: Cmd<T>) -> Self::Out<T>;
}

impl RunCmd for Handle {
    type Out<T> = Run<T>;

    fn run<T>(&self, cmd: Cmd<T>) -> Run<T> {
        Run {
            handle: self.clone(),
            pending: self.submit(cmd.request),
            convert: cmd.convert,
            fallback: cmd.fallback,
        }
    }
}
