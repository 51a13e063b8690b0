//! The server's own ways of reading arguments, reproduced byte for byte: keyword comparison with
//! `strcasecmp` (which stops at a NUL byte), `string2ll` (strict) and `atoi` (lenient). Key extraction
//! must agree with `COMMAND GETKEYS` even on odd input, so these follow the C functions exactly.

/// The argument as C sees it: up to the first NUL byte.
fn c_str(arg: &[u8]) -> &[u8] {
    match memchr::memchr(0, arg) {
        Some(nul) => arg.get(..nul).unwrap_or(arg),
        None => arg,
    }
}

/// `strcasecmp(arg, keyword) == 0`: ASCII case-insensitive, and blind to anything after a NUL byte.
pub(crate) fn keyword_eq(arg: &[u8], keyword: &[u8]) -> bool {
    c_str(arg).eq_ignore_ascii_case(keyword)
}

/// Redis's `string2ll`: a strict decimal `i64` (no sign `+`, no leading zeros or spaces, no trailing
/// bytes, at most 20 bytes).
pub(crate) fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        // -(2^63) is the one negative value whose magnitude does not fit an i64.
        if v == 1u64 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(v).ok().map(|v| -v)
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// C's `atoi` as glibc implements it: `(int) strtol(s, NULL, 10)`, i.e. leading white space, an
/// optional sign, digits up to the first other byte, saturation at the `long` range, then truncation
/// to `int`.
pub(crate) fn atoi(s: &[u8]) -> i32 {
    let mut rest = s;
    while let Some((&b, tail)) = rest.split_first() {
        if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            rest = tail;
        } else {
            break;
        }
    }
    let negative = match rest.split_first() {
        Some((b'-', tail)) => {
            rest = tail;
            true
        }
        Some((b'+', tail)) => {
            rest = tail;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    for &d in rest {
        if !d.is_ascii_digit() {
            break;
        }
        let digit = i64::from(d - b'0');
        v = if negative {
            v.saturating_mul(10).saturating_sub(digit)
        } else {
            v.saturating_mul(10).saturating_add(digit)
        };
    }
    // The truncating cast is the point: C's (int) conversion of a long.
    v as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"12"), Some(12));
        assert_eq!(string2ll(b"-3"), Some(-3));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-",
        ] {
            assert_eq!(string2ll(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn atoi_is_lenient() {
        assert_eq!(atoi(b" 12abc"), 12);
        assert_eq!(atoi(b"\t-7"), -7);
        assert_eq!(atoi(b"+5"), 5);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"4294967297"), 1);
        assert_eq!(atoi(b"99999999999999999999999"), -1); // LONG_MAX truncated to int
        assert_eq!(atoi(b"1\x002"), 1);
    }

    #[test]
    fn keywords_stop_at_nul() {
        assert!(keyword_eq(b"StOrE", b"store"));
        assert!(keyword_eq(b"store\0junk", b"store"));
        assert!(!keyword_eq(b"stores", b"store"));
    }
}
