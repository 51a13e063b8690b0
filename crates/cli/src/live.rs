//! `slotwise -c HOST:PORT [options] CMD ARG…`: one command on a live cluster, like `redis-cli -c`
//! (routing, redirects and retries by the slotwise core through `slotwise-blocking`).
//!
//! ```text
//! slotwise -c HOST:PORT [--tls [--cacert F] [--cert F --key F] [--sni NAME]]
//!          [--user U --pass P | --pass P] [--timeout SECS] [--json] [--count N] CMD ARG…
//! ```
//!
//! `SUBSCRIBE`, `PSUBSCRIBE` and `SSUBSCRIBE` stream messages instead (see `subscribe.rs`;
//! `--count N` stops after N).
//!
//! The reply is printed as `slotwise decode` prints frames, like redis-cli (`--json`: the reply as
//! plain JSON: strings, numbers, `null`, arrays, objects, `{"error": …}`). Commands for several
//! nodes go through the core's plans: `DBSIZE` sums every primary, `KEYS *` lists every shard's
//! keys, `MGET`/`DEL`/`MSET` over slots are split, `FLUSHALL` and `SCRIPT LOAD` reach every
//! primary, and `SCAN 0` walks the whole cluster (its cursor is the client's own). An error
//! reply is printed the same way (`(error) …`) and the exit status is 1; a client error (timeout,
//! cluster down, authentication refused …) goes to stderr, also with status 1.

use std::time::Duration;

use slotwise_blocking::{Client, ClientConfig, Error, Frame, Request, TlsOptions};

use crate::Failure;
use crate::decode::{render, to_json};
use serde_json::{Value, json};

const USAGE: &str = "usage: slotwise -c HOST:PORT [--tls [--cacert F] [--cert F --key F] [--sni NAME]] \
                     [--user U] [--pass P] [--timeout SECS] [--json] [--count N] CMD ARG…";

/// How to reach a cluster: shared by `-c` and `topology watch`.
pub(crate) struct Connect {
    pub(crate) seed: String,
    pub(crate) tls: bool,
    cacert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    sni: Option<String>,
    user: Option<String>,
    pass: Option<String>,
    timeout: Option<Duration>,
}

impl Connect {
    /// The seed (`HOST:PORT`, the first argument), then connection options; stops at the first
    /// argument it does not know and returns the rest.
    pub(crate) fn parse<'a>(
        args: &'a [String],
        usage: &str,
    ) -> Result<(Connect, &'a [String]), Failure> {
        let Some((seed, mut rest)) = args.split_first() else {
            return Err(Failure::Usage(format!("missing HOST:PORT; {usage}")));
        };
        let mut c = Connect {
            seed: seed.clone(),
            tls: false,
            cacert: None,
            cert: None,
            key: None,
            sni: None,
            user: None,
            pass: None,
            timeout: None,
        };
        while let Some((flag, after)) = rest.split_first() {
            let value = |name: &str| {
                after
                    .first()
                    .cloned()
                    .ok_or_else(|| Failure::Usage(format!("{name} takes a value; {usage}")))
            };
            match flag.as_str() {
                "--tls" => c.tls = true,
                "--cacert" => c.cacert = Some(value("--cacert")?),
                "--cert" => c.cert = Some(value("--cert")?),
                "--key" => c.key = Some(value("--key")?),
                "--sni" => c.sni = Some(value("--sni")?),
                "--user" => c.user = Some(value("--user")?),
                "--pass" => c.pass = Some(value("--pass")?),
                "--timeout" => {
                    let v = value("--timeout")?;
                    let secs: f64 = v.parse().map_err(|_| {
                        Failure::Usage(format!("--timeout takes seconds, not {v:?}"))
                    })?;
                    c.timeout = Some(Duration::from_secs_f64(secs.clamp(0.001, 86_400.0)));
                }
                _ => break,
            }
            let used = if flag == "--tls" { 1 } else { 2 };
            rest = &rest[used..];
        }
        if c.cert.is_some() != c.key.is_some() {
            return Err(Failure::Usage("--cert and --key go together".into()));
        }
        if c.user.is_some() && c.pass.is_none() {
            return Err(Failure::Usage("--user needs --pass".into()));
        }
        let tls_only = c.cacert.is_some() || c.cert.is_some() || c.sni.is_some();
        if tls_only && !c.tls {
            return Err(Failure::Usage(
                "--cacert, --cert, --key and --sni need --tls".into(),
            ));
        }
        Ok((c, rest))
    }

    /// The client configuration.
    pub(crate) fn config(&self) -> Result<ClientConfig, Failure> {
        let mut config = ClientConfig::new([self.seed.as_str()]).map_err(|e| {
            Failure::Usage(format!("{e} (expected HOST:PORT, got {:?})", self.seed))
        })?;
        if let Some(t) = self.timeout {
            config = config.request_timeout(t).connect_wait(t);
        }
        match (&self.user, &self.pass) {
            (Some(u), Some(p)) => config = config.user(u.as_str(), p.as_str()),
            (None, Some(p)) => config = config.password(p.as_str()),
            _ => {}
        }
        if self.tls {
            let mut tls = match &self.cacert {
                Some(ca) => TlsOptions::ca_file(ca),
                None => TlsOptions::system_roots(),
            };
            if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
                tls = tls.client_cert(cert, key);
            }
            if let Some(name) = &self.sni {
                tls = tls.server_name(name.as_str());
            }
            config = config.tls(tls);
        }
        Ok(config)
    }

    /// Connects (waits for the cluster's topology).
    pub(crate) fn connect(&self) -> Result<Client, Failure> {
        Client::connect(self.config()?)
            .map_err(|e| Failure::Input(format!("connecting to {}: {e}", self.seed)))
    }
}

/// `slotwise -c …`.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let (connect, mut command) = Connect::parse(args, USAGE)?;
    let (mut json, mut count) = (false, None);
    loop {
        match command.split_first() {
            Some((flag, rest)) if flag == "--json" => {
                json = true;
                command = rest;
            }
            Some((flag, rest)) if flag == "--count" => {
                let n = rest
                    .first()
                    .and_then(|n| n.parse::<u64>().ok())
                    .ok_or_else(|| {
                        Failure::Usage(format!("--count takes a number of messages; {USAGE}"))
                    })?;
                count = Some(n);
                command = &rest[1..];
            }
            _ => break,
        }
    }
    let Some((name, channels)) = command.split_first() else {
        return Err(Failure::Usage(format!("no command given; {USAGE}")));
    };
    let client = connect.connect()?;
    if let Some(kind) = crate::subscribe::kind_of(name) {
        let outcome = crate::subscribe::run(&client, kind, channels, count, json);
        client.shutdown();
        return outcome;
    }
    let outcome = client.send(Request::new(command.iter().map(String::as_bytes)));
    client.shutdown();
    let (frame, failed) = match outcome {
        Ok(frame) => (frame, false),
        Err(Error::Redis(e)) => (Frame::SimpleError(e.line().to_owned().into()), true),
        Err(e) => return Err(Failure::Input(e.to_string())),
    };
    let mut out = String::new();
    if json {
        out = plain_json(&frame).to_string();
        out.push('\n');
    } else {
        render(&frame, 0, &mut out);
    }
    emit(&out)?;
    if failed { Err(Failure::Reply) } else { Ok(()) }
}

/// A reply as plain JSON, the way a script wants it: a bulk or simple string is a string (or
/// `{"hex": …}` when it is not UTF-8), an integer or double a number, nil `null`, an array or set
/// an array, a map an object (non-string keys as their JSON text), an error `{"error": line}`;
/// other frames keep `slotwise decode --json`'s typed form.
fn plain_json(frame: &Frame) -> Value {
    let text = |b: &[u8]| match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => json!({ "hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
    };
    match frame {
        Frame::SimpleString(s) | Frame::BulkString(s) => text(s),
        Frame::Verbatim(v) => text(&v.text),
        Frame::SimpleError(e) | Frame::BulkError(e) => json!({ "error": text(e) }),
        Frame::Integer(n) => json!(n),
        Frame::Boolean(b) => json!(b),
        Frame::Double(d) => std::str::from_utf8(d.text())
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .map_or_else(|| to_json(frame), |x| json!(x)),
        Frame::Null | Frame::NullBulk | Frame::NullArray => Value::Null,
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            Value::Array(items.iter().map(plain_json).collect())
        }
        Frame::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| {
                    let key = match plain_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, plain_json(v))
                })
                .collect(),
        ),
        Frame::Attributed(a) => plain_json(&a.frame),
        _ => to_json(frame),
    }
}

/// Writes to stdout and flushes; a closed pipe (`| head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
