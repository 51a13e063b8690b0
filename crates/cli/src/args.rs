//! The command line of the live mode, as redis-cli reads its own: options first (in any order),
//! then the command and its arguments. The first word that does not start with `-` is the
//! command; every word after it is an argument of the command, even one that looks like an
//! option (`GET k --json` sends `--json` to the server; slotwise notes it on stderr).

use crate::Failure;
use crate::connect::{Connect, looks_like_seed};

/// A cursor over the words of a command line.
pub(crate) struct Words<'a> {
    args: &'a [String],
    pos: usize,
}

impl<'a> Words<'a> {
    /// A cursor at the first word.
    pub(crate) fn new(args: &'a [String]) -> Words<'a> {
        Words { args, pos: 0 }
    }

    /// The next word, consumed.
    #[allow(clippy::should_implement_trait)]
    pub(crate) fn next(&mut self) -> Option<&'a str> {
        let word = self.args.get(self.pos)?;
        self.pos += 1;
        Some(word)
    }

    /// The next word, not consumed.
    pub(crate) fn peek(&self) -> Option<&'a str> {
        self.args.get(self.pos).map(String::as_str)
    }

    /// The value of `flag`: the next word, which must be there.
    pub(crate) fn value(&mut self, flag: &str) -> Result<&'a str, Failure> {
        self.next()
            .ok_or_else(|| Failure::Usage(format!("{flag} takes a value")))
    }

    /// The words from the last one consumed on.
    pub(crate) fn last_and_rest(&self) -> &'a [String] {
        &self.args[self.pos.saturating_sub(1)..]
    }
}

/// What the command line asks for.
pub(crate) enum Parsed {
    /// `--help`, or `-h` as the last word (as redis-cli).
    Help,
    /// `--version`.
    Version,
    /// Run a command, or read commands from standard input when none is given.
    Run(Box<Invocation>),
}

/// A parsed live command line.
pub(crate) struct Invocation {
    /// Where and how to connect.
    pub(crate) connect: Connect,
    /// `--json`: replies as plain JSON.
    pub(crate) json: bool,
    /// `-e`: an error reply makes the exit status 1 (one command only, as redis-cli).
    pub(crate) exit_on_error: bool,
    /// `--count N`: a subscription ends after N messages.
    pub(crate) count: Option<u64>,
    /// `--no-auth-warning`.
    pub(crate) no_auth_warning: bool,
    /// The command and its arguments; empty: read them from standard input.
    pub(crate) command: Vec<String>,
}

/// Parses the live command line (what follows `slotwise`, `-c` included).
pub(crate) fn parse(args: &[String]) -> Result<Parsed, Failure> {
    let mut words = Words::new(args);
    let mut inv = Invocation {
        connect: Connect::default(),
        json: false,
        exit_on_error: false,
        count: None,
        no_auth_warning: false,
        command: Vec::new(),
    };
    while let Some(word) = words.next() {
        if !word.starts_with('-') || word == "-" {
            inv.command = words.last_and_rest().to_vec();
            break;
        }
        match word {
            "-c" => {
                if let Some(seed) = words.peek().filter(|w| looks_like_seed(w)) {
                    words.next();
                    inv.connect.seed(seed)?;
                }
            }
            "-h" if words.peek().is_none() => return Ok(Parsed::Help),
            "--help" => return Ok(Parsed::Help),
            "--version" | "-v" => return Ok(Parsed::Version),
            "-e" => inv.exit_on_error = true,
            "--json" => inv.json = true,
            "--no-auth-warning" => inv.no_auth_warning = true,
            "--no-raw" => {}
            "--count" => {
                let v = words.value(word)?;
                inv.count = Some(v.parse().map_err(|_| {
                    Failure::Usage(format!("--count takes a number of messages, not {v:?}"))
                })?);
            }
            "--raw" | "--csv" | "--quoted-json" => {
                return Err(Failure::Usage(format!(
                    "{word} is not supported: replies print as redis-cli --no-raw does, or as JSON with --json"
                )));
            }
            flag => {
                if !inv.connect.take(flag, &mut words)? {
                    return Err(Failure::Usage(format!(
                        "unrecognized option or bad number of args for: '{flag}'"
                    )));
                }
            }
        }
    }
    inv.connect.password_from_env();
    inv.connect.check()?;
    Ok(Parsed::Run(Box::new(inv)))
}

/// slotwise's own long options: after the command they are arguments, which is worth a note.
const LONG_OPTIONS: &[&str] = &[
    "--json",
    "--count",
    "--timeout",
    "--tls",
    "--user",
    "--pass",
    "--cacert",
    "--cert",
    "--key",
    "--sni",
    "--no-raw",
    "--no-auth-warning",
    "--max-depth",
    "--max-bulk-len",
    "--max-aggregate-len",
    "--max-frame-len",
    "--max-line-len",
];

/// The arguments of `command` (its name excluded) that are slotwise options.
pub(crate) fn misplaced_options(command: &[String]) -> Vec<&str> {
    command
        .iter()
        .skip(1)
        .map(String::as_str)
        .filter(|a| LONG_OPTIONS.contains(a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(words: &[&str]) -> Box<Invocation> {
        let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        match parse(&words) {
            Ok(Parsed::Run(inv)) => inv,
            Ok(_) => panic!("not a run: {words:?}"),
            Err(e) => panic!("{words:?}: {e:?}"),
        }
    }

    fn fails(words: &[&str]) -> bool {
        let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        parse(&words).is_err()
    }

    #[test]
    fn options_then_command() {
        let inv = run(&["-c", "-h", "127.0.0.2", "-p", "7000", "GET", "k"]);
        assert_eq!(inv.connect.endpoint().to_string(), "127.0.0.2:7000");
        assert_eq!(inv.command, ["GET", "k"]);
        let inv = run(&["-c", "127.0.0.1:7001", "--json", "-e", "GET", "k", "--json"]);
        assert_eq!(inv.connect.endpoint().to_string(), "127.0.0.1:7001");
        assert!(inv.json && inv.exit_on_error);
        assert_eq!(inv.command, ["GET", "k", "--json"]);
        assert_eq!(misplaced_options(&inv.command), ["--json"]);
        let inv = run(&["-p", "7002", "-c"]);
        assert!(inv.command.is_empty());
        assert_eq!(inv.connect.endpoint().to_string(), "127.0.0.1:7002");
        // The word after -c is a seed only when it looks like one.
        let inv = run(&["-c", "PING"]);
        assert_eq!(inv.command, ["PING"]);
        let inv = run(&["-c", "127.0.0.1:7003", "-p", "7004", "INCRBY", "k", "-5"]);
        assert_eq!(inv.connect.endpoint().to_string(), "127.0.0.1:7004");
        assert_eq!(inv.command, ["INCRBY", "k", "-5"]);
    }

    #[test]
    fn help_and_errors() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches!(parse(&words(&["-c", "-h"])), Ok(Parsed::Help)));
        assert!(matches!(parse(&words(&["--help"])), Ok(Parsed::Help)));
        assert!(matches!(parse(&words(&["--version"])), Ok(Parsed::Version)));
        assert!(fails(&["-c", "--bogus", "GET", "k"]));
        assert!(fails(&["-c", "-n", "1", "GET", "k"]));
        assert!(fails(&["--count", "x", "GET"]));
        assert!(fails(&["--raw", "GET"]));
        assert!(!fails(&["-n", "0", "GET", "k"]));
    }
}
