//! Scripts and functions.

use crate::typed::{Cmd, RunCmd};
use crate::{Args, FromFrame, Script, ToArgs};

/// `numkeys key … arg …`, the tail of `EVAL`, `EVALSHA` and `FCALL`.
fn keys_and_args<K: ToArgs, A: ToArgs>(head: Args, keys: K, args: A) -> Args {
    let keys = Args::new().arg(keys);
    head.arg(keys.len()).arg(&keys).arg(args)
}

/// Typed `EVALSHA` (falling back to `EVAL`), `SCRIPT LOAD`, `FCALL`, `FCALL_RO`, `FUNCTION LOAD`.
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
/// let n: i64 = client.eval_script(&script, ["counter"], [5]).await?;
/// client
///     .function_load("#!lua name=lib\nredis.register_function('echo', function(k, a) return a[1] end)", true)
///     .await?;
/// let echoed: String = client.fcall("echo", ["any"], ["hi"]).await?;
/// # let _ = (n, echoed); Ok(()) }
/// ```
pub trait ScriptCommands: RunCmd {
    /// Runs `script` by its SHA-1 (`EVALSHA sha numkeys key … arg …`); if the node does not know
    /// it (`NOSCRIPT`), sends it whole (`EVAL`) instead. The keys must share a slot. Not
    /// idempotent (mark the returned request yourself through [`Cmd`] if the script is).
    fn eval_script<K: ToArgs, A: ToArgs, T: FromFrame>(
        &self,
        script: &Script,
        keys: K,
        args: A,
    ) -> Self::Out<T> {
        let keys = Args::new().arg(keys);
        let args = Args::new().arg(args);
        let evalsha = keys_and_args(Args::command("EVALSHA").arg(script.sha()), &keys, &args);
        let eval = keys_and_args(Args::command("EVAL").arg(script.source()), &keys, &args);
        let cmd = Cmd::new(evalsha).or_on_noscript(eval.into_request().not_idempotent());
        self.run(cmd.not_idempotent())
    }

    /// `SCRIPT LOAD source` on every primary (they must agree): the SHA-1.
    fn script_load(&self, script: &Script) -> Self::Out<String> {
        self.run(Cmd::new(
            Args::command("SCRIPT").arg("LOAD").arg(script.source()),
        ))
    }

    /// `FCALL function numkeys key … arg …` (not idempotent; the keys must share a slot).
    fn fcall<F: ToArgs, K: ToArgs, A: ToArgs, T: FromFrame>(
        &self,
        function: F,
        keys: K,
        args: A,
    ) -> Self::Out<T> {
        let head = Args::command("FCALL").arg(function);
        self.run(Cmd::new(keys_and_args(head, keys, args)).not_idempotent())
    }

    /// `FCALL_RO function numkeys key … arg …`: a read-only function (retried like a read, and may
    /// run on a replica when replica reads are on).
    fn fcall_ro<F: ToArgs, K: ToArgs, A: ToArgs, T: FromFrame>(
        &self,
        function: F,
        keys: K,
        args: A,
    ) -> Self::Out<T> {
        let head = Args::command("FCALL_RO").arg(function);
        self.run(Cmd::new(keys_and_args(head, keys, args)))
    }

    /// `FUNCTION LOAD [REPLACE] code` on every primary (they must agree): the library's name.
    fn function_load<C: ToArgs>(&self, code: C, replace: bool) -> Self::Out<String> {
        let replace = replace.then_some("REPLACE");
        self.run(Cmd::new(
            Args::command("FUNCTION").arg("LOAD").arg(replace).arg(code),
        ))
    }
}

impl<C: RunCmd + ?Sized> ScriptCommands for C {}
