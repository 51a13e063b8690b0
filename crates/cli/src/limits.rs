//! The decoder's limits from the command line: `--max-depth N`, `--max-bulk-len SIZE`,
//! `--max-aggregate-len N`, `--max-frame-len SIZE`, `--max-line-len SIZE` (for `decode`, and for
//! the replies of `-c`). A SIZE is bytes, or a number with `k`, `m` or `g` (KiB, MiB, GiB).

use slotwise_resp::Limits;

use crate::Failure;
use crate::args::Words;

/// The deepest nesting accepted for `--max-depth`: printing and dropping a frame recurse once per
/// level, so a deeper frame could overflow the stack instead of giving an error.
pub(crate) const MAX_DEPTH_CEILING: usize = 10_000;

/// The help text of the limit options.
pub(crate) const HELP: &str = "\
decoder limits (an input past one is an error, never a crash):
  --max-depth N            deepest nesting of aggregates (default 128, at most 10000)
  --max-bulk-len SIZE      longest bulk/verbatim string or chunk (default 512m)
  --max-aggregate-len N    most elements of one aggregate (default 2147483647)
  --max-frame-len SIZE     most bytes of one whole frame (default 1g)
  --max-line-len SIZE      longest simple string, error or header line (default 64k)
  SIZE is bytes, or a number followed by k, m or g (KiB, MiB, GiB)";

/// Takes `flag` (and its value) into `limits` if it is a limit option; `Ok(false)` if not.
pub(crate) fn take(
    flag: &str,
    words: &mut Words<'_>,
    limits: &mut Limits,
) -> Result<bool, Failure> {
    let field = match flag {
        "--max-depth" => &mut limits.max_depth,
        "--max-bulk-len" => &mut limits.max_bulk_len,
        "--max-aggregate-len" => &mut limits.max_aggregate_len,
        "--max-frame-len" => &mut limits.max_frame_len,
        "--max-line-len" => &mut limits.max_line_len,
        _ => return Ok(false),
    };
    let text = words.value(flag)?;
    let n = size(text)
        .filter(|n| *n > 0)
        .ok_or_else(|| Failure::Usage(format!("{flag} takes a positive size, not {text:?}")))?;
    if flag == "--max-depth" && n > MAX_DEPTH_CEILING {
        return Err(Failure::Usage(format!(
            "--max-depth {n}: at most {MAX_DEPTH_CEILING}"
        )));
    }
    *field = n;
    Ok(true)
}

/// `123`, `64k`, `512M`, `1g` in bytes.
fn size(text: &str) -> Option<usize> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 10),
        b'm' | b'M' => (&text[..text.len() - 1], 20),
        b'g' | b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_mul(1usize << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(words: &[&str]) -> Result<Limits, Failure> {
        let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        let mut w = Words::new(&words);
        let mut l = Limits::DEFAULT;
        while let Some(flag) = w.next() {
            assert!(take(flag, &mut w, &mut l)?);
        }
        Ok(l)
    }

    #[test]
    fn sizes_and_bounds() {
        let l = limits(&[
            "--max-depth",
            "3",
            "--max-bulk-len",
            "2k",
            "--max-frame-len",
            "1M",
        ])
        .unwrap();
        assert_eq!(
            (l.max_depth, l.max_bulk_len, l.max_frame_len),
            (3, 2048, 1 << 20)
        );
        assert_eq!(l.max_line_len, Limits::DEFAULT.max_line_len);
        assert!(limits(&["--max-depth", "0"]).is_err());
        assert!(limits(&["--max-depth", "10001"]).is_err());
        assert!(limits(&["--max-depth", "-1"]).is_err());
        assert!(limits(&["--max-line-len", "k"]).is_err());
        assert!(limits(&["--max-line-len", "99999999999999999999g"]).is_err());
        assert!(limits(&["--max-line-len"]).is_err());
    }
}
