//! The handshake on each new connection: `HELLO 3 [AUTH user pass] [SETNAME name]`, or `AUTH` +
//! `CLIENT SETNAME` on RESP2 (also the fallback when a server does not know `HELLO`), then
//! `READONLY` on a replica connection that serves reads. Requests wait until it is done.

use alloc::vec::Vec;

use bytes::BytesMut;
use slotwise_resp::Frame;
use slotwise_resp::encode::{write_arg, write_array_header};

use crate::config::Auth;

/// One handshake command, whose reply the connection waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Hello,
    Auth,
    SetName,
    ReadOnly,
}

/// What to send, for [`write`].
pub(crate) struct Plan<'a> {
    pub(crate) resp3: bool,
    pub(crate) auth: Option<&'a Auth>,
    pub(crate) client_name: Option<&'a str>,
    pub(crate) readonly: bool,
}

/// Writes the handshake commands into `out`, and the steps whose replies to expect into `steps`.
pub(crate) fn write(plan: &Plan<'_>, out: &mut BytesMut, steps: &mut Vec<Step>) {
    if plan.resp3 {
        let mut n = 2;
        if plan.auth.is_some() {
            n += 3;
        }
        if plan.client_name.is_some() {
            n += 2;
        }
        write_array_header(out, n);
        write_arg(out, "HELLO");
        write_arg(out, "3");
        if let Some(auth) = plan.auth {
            write_arg(out, "AUTH");
            write_arg(out, auth.username.as_deref().unwrap_or("default"));
            write_arg(out, auth.password.as_str());
        }
        if let Some(name) = plan.client_name {
            write_arg(out, "SETNAME");
            write_arg(out, name);
        }
        steps.push(Step::Hello);
    } else {
        if let Some(auth) = plan.auth {
            match &auth.username {
                Some(user) => {
                    write_array_header(out, 3);
                    write_arg(out, "AUTH");
                    write_arg(out, user.as_str());
                }
                None => {
                    write_array_header(out, 2);
                    write_arg(out, "AUTH");
                }
            }
            write_arg(out, auth.password.as_str());
            steps.push(Step::Auth);
        }
        if let Some(name) = plan.client_name {
            write_array_header(out, 3);
            write_arg(out, "CLIENT");
            write_arg(out, "SETNAME");
            write_arg(out, name);
            steps.push(Step::SetName);
        }
    }
    if plan.readonly {
        write_array_header(out, 1);
        write_arg(out, "READONLY");
        steps.push(Step::ReadOnly);
    }
}

/// What a handshake reply means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Done with this step.
    Ok,
    /// `HELLO` is unknown, or RESP3 is not supported: redo the handshake on RESP2.
    Fallback,
    /// Authentication was refused: the error line.
    AuthFailed(bytes::Bytes),
}

/// Reads the reply to `step`.
pub(crate) fn outcome(step: Step, reply: &Frame) -> Outcome {
    let line = match reply {
        Frame::SimpleError(b) | Frame::BulkError(b) => b,
        _ => return Outcome::Ok,
    };
    match step {
        Step::Hello => {
            let lower = |b: &u8| b.to_ascii_lowercase();
            let text: Vec<u8> = line.iter().map(lower).collect();
            if line.starts_with(b"NOPROTO") || text.windows(15).any(|w| w == b"unknown command") {
                Outcome::Fallback
            } else {
                Outcome::AuthFailed(line.clone())
            }
        }
        Step::Auth => Outcome::AuthFailed(line.clone()),
        // A refused name or READONLY does not stop the connection: reads then get MOVED.
        Step::SetName | Step::ReadOnly => Outcome::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn hello_with_auth_and_name() {
        let auth = Auth {
            username: Some(String::from("u")),
            password: String::from("p"),
        };
        let mut out = BytesMut::new();
        let mut steps = Vec::new();
        write(
            &Plan {
                resp3: true,
                auth: Some(&auth),
                client_name: Some("n"),
                readonly: true,
            },
            &mut out,
            &mut steps,
        );
        assert_eq!(
            &out[..],
            &b"*7\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n$7\r\nSETNAME\r\n$1\r\nn\r\n*1\r\n$8\r\nREADONLY\r\n"[..]
        );
        assert_eq!(steps, [Step::Hello, Step::ReadOnly]);
        assert_eq!(
            outcome(
                Step::Hello,
                &Frame::SimpleError("ERR unknown command 'HELLO'".into())
            ),
            Outcome::Fallback
        );
        assert!(matches!(
            outcome(Step::Hello, &Frame::SimpleError("WRONGPASS invalid".into())),
            Outcome::AuthFailed(_)
        ));
    }
}
