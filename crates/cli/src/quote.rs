//! Splits a command line into arguments the way redis-cli does (its `sdssplitargs`): words are
//! separated by blanks; `"…"` takes the escapes `\n \r \t \b \a \xHH` and `\` before any other
//! character for that character; `'…'` takes only `\'`; a closing quote must be followed by a
//! blank or the end of the line. Arguments are bytes (`\xff` is not UTF-8).

/// The arguments of `line`, or `None` for unbalanced quotes (redis-cli: "Invalid argument(s)").
pub(crate) fn split(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let at = |i: usize| line.get(i).copied();
    loop {
        while at(i).is_some_and(is_blank) {
            i += 1;
        }
        if at(i).is_none() {
            return Some(args);
        }
        let mut arg = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = at(i);
            if in_double {
                match c? {
                    b'\\'
                        if at(i + 1) == Some(b'x')
                            && at(i + 2).is_some_and(|b| b.is_ascii_hexdigit())
                            && at(i + 3).is_some_and(|b| b.is_ascii_hexdigit()) =>
                    {
                        let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                        arg.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                        i += 3;
                    }
                    b'\\' if at(i + 1).is_some() => {
                        i += 1;
                        arg.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    b'"' => {
                        if at(i + 1).is_some_and(|b| !is_blank(b)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    other => arg.push(other),
                }
            } else if in_single {
                match c? {
                    b'\\' if at(i + 1) == Some(b'\'') => {
                        i += 1;
                        arg.push(b'\'');
                    }
                    b'\'' => {
                        if at(i + 1).is_some_and(|b| !is_blank(b)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    other => arg.push(other),
                }
            } else {
                match c {
                    None => break,
                    Some(b) if is_blank(b) => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(b) => arg.push(b),
                }
            }
            i += 1;
        }
        args.push(arg);
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c | 0)
}

#[cfg(test)]
mod tests {
    use super::split;

    fn words(line: &str) -> Option<Vec<String>> {
        split(line.as_bytes()).map(|a| {
            a.into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect()
        })
    }

    #[test]
    fn like_redis_cli() {
        assert_eq!(
            words("  set  k v "),
            Some(vec!["set".into(), "k".into(), "v".into()])
        );
        assert_eq!(words(""), Some(vec![]));
        assert_eq!(
            words(r#"set "a b" "x\ny\"\\\x41\q""#).unwrap(),
            ["set", "a b", "x\ny\"\\Aq"]
        );
        assert_eq!(words(r"get 'it\'s \n'").unwrap(), ["get", "it's \\n"]);
        assert_eq!(words(r#"a"b c" x"#).unwrap(), ["ab c", "x"]);
        assert_eq!(words(r#"get """#).unwrap(), ["get", ""]);
        assert_eq!(split(br#""\xff\x0""#).unwrap(), [b"\xffx0".to_vec()]);
        assert_eq!(words(r#"get "a"#), None);
        assert_eq!(words(r#"get "a"b"#), None);
        assert_eq!(words("get 'a"), None);
        assert_eq!(words("get 'a'b"), None);
        assert_eq!(words(r#"get "a\"#), None);
    }
}
