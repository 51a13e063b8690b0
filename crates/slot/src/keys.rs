//! [`Keys`]: the key positions found in one command line, with their flags.

use alloc::vec::Vec;
use core::fmt;

use crate::flags::KeyFlags;

/// One key of a command line: its argument index and how the command uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct KeyRef {
    /// Index into the command line (the command name is index 0).
    pub index: usize,
    /// How the command uses this key, from its key spec. Empty when the server's own key finder
    /// reports no flags (as `COMMAND GETKEYSANDFLAGS` does for some movable-keys commands).
    pub flags: KeyFlags,
}

impl KeyRef {
    /// The key's bytes in `args` (the same command line the keys were found in).
    #[must_use]
    pub fn key<'a, A: AsRef<[u8]>>(&self, args: &'a [A]) -> Option<&'a [u8]> {
        args.get(self.index).map(AsRef::as_ref)
    }
}

/// Keys kept inline before spilling to the heap: most commands have few keys, and finding them
/// should not allocate.
const INLINE: usize = 6;

/// The keys of one command line, in the order the server reports them.
///
/// Up to six keys are kept inline; more go to the heap.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Keys(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Inline { len: u8, items: [KeyRef; INLINE] },
    Heap(Vec<KeyRef>),
}

impl Keys {
    /// No keys.
    #[must_use]
    pub const fn new() -> Keys {
        Keys(Repr::Inline {
            len: 0,
            items: [KeyRef {
                index: 0,
                flags: KeyFlags::EMPTY,
            }; INLINE],
        })
    }

    /// Appends a key.
    pub fn push(&mut self, key: KeyRef) {
        match &mut self.0 {
            Repr::Inline { len, items } => {
                if let Some(slot) = items.get_mut(usize::from(*len)) {
                    *slot = key;
                    *len += 1;
                } else {
                    let mut v = Vec::with_capacity(INLINE * 2);
                    v.extend_from_slice(items);
                    v.push(key);
                    self.0 = Repr::Heap(v);
                }
            }
            Repr::Heap(v) => v.push(key),
        }
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        *self = Keys::new();
    }

    /// The keys, in order.
    #[must_use]
    pub fn as_slice(&self) -> &[KeyRef] {
        match &self.0 {
            Repr::Inline { len, items } => items.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Heap(v) => v,
        }
    }

    /// The number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// True when there are no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The keys, in order.
    pub fn iter(&self) -> core::slice::Iter<'_, KeyRef> {
        self.as_slice().iter()
    }

    /// The keys' bytes in `args` (the command line they were found in).
    pub fn bytes<'a, A: AsRef<[u8]>>(&self, args: &'a [A]) -> impl Iterator<Item = &'a [u8]> {
        self.iter().filter_map(move |k| k.key(args))
    }
}

impl Default for Keys {
    fn default() -> Keys {
        Keys::new()
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<'a> IntoIterator for &'a Keys {
    type Item = &'a KeyRef;
    type IntoIter = core::slice::Iter<'a, KeyRef>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<KeyRef> for Keys {
    fn from_iter<I: IntoIterator<Item = KeyRef>>(iter: I) -> Keys {
        let mut keys = Keys::new();
        for k in iter {
            keys.push(k);
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_the_heap_keeping_order() {
        let mut keys = Keys::new();
        for i in 0..20 {
            keys.push(KeyRef {
                index: i,
                flags: KeyFlags::RO,
            });
            assert_eq!(keys.len(), i + 1);
            assert!(keys.iter().map(|k| k.index).eq(0..=i));
        }
        keys.clear();
        assert!(keys.is_empty());
    }
}
