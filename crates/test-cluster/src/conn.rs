//! A minimal blocking RESP connection, for tests and tools (not the product's client).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use slotwise_resp::{Arg, Decoder, Frame, encode::write_command};

use crate::Error;

/// How to connect: credentials and TLS. `ConnOptions::default()` is plain TCP with no `AUTH`.
#[derive(Clone, Debug, Default)]
pub struct ConnOptions {
    /// `AUTH user pass` right after connecting (ACL user; `"default"` for `requirepass`).
    pub auth: Option<(String, String)>,
    /// Speak TLS with this client configuration (the server name is the address's IP, which the test
    /// certificates carry as a subject alternative name).
    pub tls: Option<Arc<ClientConfig>>,
}

/// The byte stream under a [`Conn`].
#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A blocking connection to one server: send a command, read its reply.
#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    decoder: Decoder,
    buf: BytesMut,
}

impl Conn {
    /// Connects over plain TCP with a 5 s connect timeout and a 30 s read timeout.
    pub fn connect(addr: SocketAddr) -> Result<Conn, Error> {
        Conn::connect_with(addr, &ConnOptions::default())
    }

    /// Connects over plain TCP and authenticates with `AUTH user pass` (an error if it is refused).
    pub fn connect_auth(addr: SocketAddr, user: &str, pass: &str) -> Result<Conn, Error> {
        let options = ConnOptions {
            auth: Some((user.to_owned(), pass.to_owned())),
            tls: None,
        };
        Conn::connect_with(addr, &options)
    }

    /// Connects as `options` say (TLS and/or `AUTH`), with a 5 s connect timeout and a 30 s read
    /// timeout.
    pub fn connect_with(addr: SocketAddr, options: &ConnOptions) -> Result<Conn, Error> {
        let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| format!("could not connect to {addr}: {e}"))?;
        tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
        tcp.set_write_timeout(Some(Duration::from_secs(30)))?;
        tcp.set_nodelay(true)?;
        let stream = match &options.tls {
            None => Stream::Plain(tcp),
            Some(config) => {
                let name = ServerName::IpAddress(addr.ip().into());
                let tls = ClientConnection::new(Arc::clone(config), name)
                    .map_err(|e| format!("TLS setup for {addr}: {e}"))?;
                Stream::Tls(Box::new(StreamOwned::new(tls, tcp)))
            }
        };
        let mut conn = Conn {
            stream,
            decoder: Decoder::new(),
            buf: BytesMut::with_capacity(16 * 1024),
        };
        if let Some((user, pass)) = &options.auth {
            conn.ok(["AUTH", user.as_str(), pass.as_str()])
                .map_err(|e| format!("AUTH as {user:?} on {addr} failed: {e}"))?;
        }
        Ok(conn)
    }

    /// Sets the read timeout (how long [`Conn::read`] waits for a reply).
    pub fn set_read_timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        let tcp = match &self.stream {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        };
        tcp.set_read_timeout(Some(timeout))?;
        Ok(())
    }

    /// Sends one command and returns its reply (an error reply is returned as a frame, not an `Err`).
    pub fn cmd<I>(&mut self, args: I) -> Result<Frame, Error>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator,
        I::Item: Arg,
    {
        self.send(args)?;
        self.read()
    }

    /// Like [`Conn::cmd`], but an error reply becomes an `Err` naming the command's reply.
    pub fn ok<I>(&mut self, args: I) -> Result<Frame, Error>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator,
        I::Item: Arg,
    {
        let reply = self.cmd(args)?;
        if reply.is_error() {
            let text = reply
                .as_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            return Err(format!("redis error: {text}").into());
        }
        Ok(reply)
    }

    /// Like [`Conn::ok`], and the reply must be a string (simple, bulk or verbatim): returned as
    /// text.
    pub fn text<I>(&mut self, args: I) -> Result<String, Error>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator,
        I::Item: Arg,
    {
        let reply = self.ok(args)?;
        match reply.as_bytes() {
            Some(bytes) => Ok(String::from_utf8_lossy(bytes).into_owned()),
            None => Err(format!("expected a string reply, got {reply:?}").into()),
        }
    }

    /// Writes one command without reading its reply (for pipelining; read with [`Conn::read`]).
    pub fn send<I>(&mut self, args: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator,
        I::Item: Arg,
    {
        let mut out = Vec::new();
        write_command(&mut out, args);
        self.stream.write_all(&out)?;
        self.stream.flush()?;
        Ok(())
    }

    /// Reads the next reply.
    pub fn read(&mut self) -> Result<Frame, Error> {
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buf)? {
                return Ok(frame);
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err("connection closed by server".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
