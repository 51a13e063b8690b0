//! Keys in every slot: one short hash tag per slot, for workloads that must touch all 16384.

use std::sync::OnceLock;

use slotwise_slot::key_slot;

/// Number of slots in a Redis Cluster.
pub const SLOTS: usize = 16384;

/// `slot_tags()[slot]` is a short decimal hash tag whose keys (`prefix:{tag}:suffix`) hash to `slot`.
/// Computed once per process (about 160k tries; at most seven digits each).
pub fn slot_tags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        let mut tags: Vec<Option<String>> = vec![None; SLOTS];
        let mut missing = SLOTS;
        // The bound is generous: ten million decimal tags cover every slot many times over.
        for n in 0u64..10_000_000 {
            let tag = n.to_string();
            let slot = usize::from(key_slot(tag.as_bytes()).get());
            if let Some(free @ None) = tags.get_mut(slot) {
                *free = Some(tag);
                missing -= 1;
                if missing == 0 {
                    break;
                }
            }
        }
        tags.into_iter().map(Option::unwrap_or_default).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_has_a_short_tag() {
        for (slot, tag) in slot_tags().iter().enumerate() {
            assert!(!tag.is_empty() && tag.len() <= 7, "slot {slot}: {tag:?}");
            assert_eq!(
                usize::from(key_slot(format!("x:{{{tag}}}:y").as_bytes()).get()),
                slot
            );
        }
    }
}
