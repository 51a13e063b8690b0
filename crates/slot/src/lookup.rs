//! Case-insensitive binary search over name-sorted tables, without allocating.

use core::cmp::Ordering;

/// Compares a table name (already lowercase) with a name as the user typed it (any ASCII case).
pub(crate) fn cmp_ignore_case(table_name: &[u8], input: &[u8]) -> Ordering {
    let mut a = table_name.iter();
    let mut b = input.iter().map(u8::to_ascii_lowercase);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(&x), Some(y)) => match x.cmp(&y) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
}

/// The item of `sorted` (sorted by `key`, lowercase) whose key equals `name` ignoring ASCII case.
///
/// Comparing byte by byte while lowercasing beats lowercasing into a buffer first and using `memcmp`:
/// most comparisons end at the first byte (measured in `benches/benches/slot.rs`).
pub(crate) fn find_ignore_case<'a, T>(
    sorted: &'a [T],
    name: &[u8],
    key: impl Fn(&T) -> &[u8],
) -> Option<&'a T> {
    sorted
        .binary_search_by(|item| cmp_ignore_case(key(item), name))
        .ok()
        .and_then(|i| sorted.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_ignoring_the_inputs_case() {
        assert_eq!(cmp_ignore_case(b"get", b"GET"), Ordering::Equal);
        assert_eq!(cmp_ignore_case(b"get", b"GETSET"), Ordering::Less);
        assert_eq!(cmp_ignore_case(b"getset", b"Get"), Ordering::Greater);
        assert_eq!(cmp_ignore_case(b"a", b"B"), Ordering::Less);
        let names = ["append", "get", "getset", "set"];
        assert_eq!(
            find_ignore_case(&names, b"GetSet", |s| s.as_bytes()),
            Some(&"getset")
        );
        assert_eq!(find_ignore_case(&names, b"gets", |s| s.as_bytes()), None);
        assert_eq!(find_ignore_case(&names, b"", |s| s.as_bytes()), None);
        let long = ["a".repeat(60), "b".repeat(60)];
        let upper = "B".repeat(60);
        assert_eq!(
            find_ignore_case(&long, upper.as_bytes(), |s| s.as_bytes()),
            Some(&long[1])
        );
    }
}
