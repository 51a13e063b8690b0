//! A minimal blocking RESP connection, for tests and tools (not the product's client).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::BytesMut;
use slotwise_resp::{Arg, Decoder, Frame, encode::write_command};

use crate::Error;

/// A blocking connection to one server: send a command, read its reply.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    decoder: Decoder,
    buf: BytesMut,
}

impl Conn {
    /// Connects with a 5 s connect timeout and a 30 s read timeout.
    pub fn connect(addr: SocketAddr) -> Result<Conn, Error> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            decoder: Decoder::new(),
            buf: BytesMut::with_capacity(16 * 1024),
        })
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
