//! A slab with generation-checked keys: requests live here while in the core, and queues hold keys,
//! so a request that ended (by timeout, say) leaves only a stale key that lookups skip.

use alloc::vec::Vec;

/// A slab index plus the generation it was given at: stale once the slot is reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    idx: u32,
    generation: u32,
}

#[derive(Debug)]
struct Cell<T> {
    generation: u32,
    value: Option<T>,
}

#[derive(Debug)]
pub(crate) struct Slab<T> {
    cells: Vec<Cell<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Slab<T> {
        Slab {
            cells: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(idx) = self.free.pop()
            && let Some(cell) = self.cells.get_mut(idx as usize)
        {
            cell.generation = cell.generation.wrapping_add(1);
            cell.value = Some(value);
            return Key {
                idx,
                generation: cell.generation,
            };
        }
        let idx = u32::try_from(self.cells.len()).unwrap_or(u32::MAX);
        self.cells.push(Cell {
            generation: 0,
            value: Some(value),
        });
        Key { idx, generation: 0 }
    }

    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        let cell = self.cells.get(key.idx as usize)?;
        (cell.generation == key.generation)
            .then_some(cell.value.as_ref())
            .flatten()
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let cell = self.cells.get_mut(key.idx as usize)?;
        if cell.generation == key.generation {
            cell.value.as_mut()
        } else {
            None
        }
    }

    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let cell = self.cells.get_mut(key.idx as usize)?;
        if cell.generation != key.generation {
            return None;
        }
        let value = cell.value.take()?;
        self.free.push(key.idx);
        self.len -= 1;
        Some(value)
    }
}
