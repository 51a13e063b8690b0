//! Keys in every slot: one short hash tag per slot.

pub use slotwise_test_cluster::{SLOTS, slot_tags as tags};

/// The counter key of `slot` (incremented with `INCR`).
pub fn counter(slot: usize) -> String {
    counter_in("e2e", slot)
}

/// The string key of `slot` (written with `SET`, read with `GET`).
pub fn value(slot: usize) -> String {
    value_in("e2e", slot)
}

/// The counter key of `slot` in namespace `ns` (each load run has its own).
pub fn counter_in(ns: &str, slot: usize) -> String {
    format!("{ns}:{{{}}}:n", tags()[slot])
}

/// The string key of `slot` in namespace `ns`.
pub fn value_in(ns: &str, slot: usize) -> String {
    format!("{ns}:{{{}}}:v", tags()[slot])
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_hash_to_their_slot() {
        for slot in [0, 1, 5000, 16383] {
            let k = super::counter(slot);
            assert_eq!(
                usize::from(slotwise_slot::key_slot(k.as_bytes()).get()),
                slot
            );
        }
    }
}
