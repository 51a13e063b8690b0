//! `slotwise -c HOST:PORT` without a command: reads commands from standard input, one per line,
//! as redis-cli does, and prints each reply as for a single command.
//!
//! A line is split as redis-cli splits it (`quote.rs`); a blank line is skipped; `N CMD …` runs
//! CMD N times; `quit` or `exit` ends the session; `help` prints a short help. A line with
//! unbalanced quotes prints `Invalid argument(s)` and the session goes on, and so does one whose
//! request fails (told on stderr). On a terminal a prompt (`127.0.0.1:7000> `, or
//! `not connected> `) comes before each line; the line is edited by the terminal's own line
//! discipline (backspace, ^U, ^W), with no history or completion. When the cluster cannot be
//! reached, the error is told on stderr and each command tries to connect again. The exit status
//! is 0 at the end of the input, as redis-cli's.

use std::io::{BufRead, IsTerminal};

use slotwise_blocking::Client;

use crate::Failure;
use crate::connect::Connect;
use crate::live::{Printing, emit, execute};

const HELP: &str = "\
Type a Redis command and its arguments, quoted as in redis-cli (\"a b\", 'a b', \\xHH escapes in
double quotes); `N CMD …` runs it N times; `quit` or `exit` leaves. See slotwise -c --help.
";

/// Reads and runs commands until the end of standard input.
pub(crate) fn run(connect: &Connect, printing: &Printing) -> Result<(), Failure> {
    let interactive = std::io::stdin().is_terminal();
    let mut client = connected(connect);
    let prompt = format!("{}> ", connect.endpoint());
    let mut stdin = std::io::stdin().lock();
    let mut line = Vec::new();
    loop {
        if interactive {
            emit(if client.is_some() {
                &prompt
            } else {
                "not connected> "
            })?;
        }
        line.clear();
        if stdin.read_until(b'\n', &mut line)? == 0 {
            if interactive {
                emit("\n")?;
            }
            break;
        }
        let Some(words) = crate::quote::split(&line) else {
            emit("Invalid argument(s)\n")?;
            continue;
        };
        if words.is_empty() {
            continue;
        }
        let Some((times, command)) = repeat(&words) else {
            emit("Invalid redis-cli repeat command option value.\n")?;
            continue;
        };
        match command[0].to_ascii_lowercase().as_slice() {
            b"quit" | b"exit" => break,
            b"help" => {
                emit(HELP)?;
                continue;
            }
            b"clear" if interactive => {
                emit("\x1b[H\x1b[2J")?;
                continue;
            }
            _ => {}
        }
        if client.as_ref().is_none_or(Client::is_closed) {
            client = connected(connect);
        }
        let Some(c) = &client else { continue };
        for _ in 0..times {
            match execute(c, command, printing) {
                Ok(_) => {}
                Err(Failure::Input(msg)) => {
                    eprintln!("slotwise: {msg}");
                    break;
                }
                Err(other) => return Err(other),
            }
        }
    }
    if let Some(c) = client {
        c.shutdown();
    }
    Ok(())
}

/// A client, or `None` after telling on stderr why there is none.
fn connected(connect: &Connect) -> Option<Client> {
    match connect.connect() {
        Ok(c) => Some(c),
        Err(Failure::Input(msg) | Failure::Usage(msg)) => {
            eprintln!("slotwise: {msg}");
            None
        }
        Err(Failure::Reply) => None,
    }
}

/// redis-cli's repeat prefix: `3 PING` is PING three times. `None` for a count that is not
/// positive; a number alone is a command.
fn repeat(words: &[Vec<u8>]) -> Option<(u64, &[Vec<u8>])> {
    let number = std::str::from_utf8(&words[0]).ok().filter(|w| {
        let digits = w.strip_prefix(['-', '+']).unwrap_or(w);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    match number {
        Some(n) if words.len() > 1 => {
            let n: i64 = n.parse().ok()?;
            u64::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .map(|n| (n, &words[1..]))
        }
        _ => Some((1, words)),
    }
}

#[cfg(test)]
mod tests {
    use super::repeat;

    fn r(line: &str) -> Option<(u64, usize)> {
        let words = crate::quote::split(line.as_bytes()).unwrap();
        repeat(&words).map(|(n, c)| (n, c.len()))
    }

    #[test]
    fn repeat_prefix() {
        assert_eq!(r("3 ping"), Some((3, 1)));
        assert_eq!(r("ping"), Some((1, 1)));
        assert_eq!(r("2"), Some((1, 1)));
        assert_eq!(r("0 ping"), None);
        assert_eq!(r("-1 ping"), None);
        assert_eq!(r("99999999999999999999 ping"), None);
        assert_eq!(r("2x ping"), Some((1, 2)));
        assert_eq!(r("- ping"), Some((1, 2)));
    }
}
