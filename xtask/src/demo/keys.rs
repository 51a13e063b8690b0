//! Keys that cover every slot: one hash tag per slot (from the test-support crate).

pub(crate) use slotwise_test_cluster::SLOTS;

/// `tags[slot]` is a short hash tag (`{…}` contents) whose key slot is `slot`.
pub(crate) fn tags_per_slot() -> Vec<String> {
    slotwise_test_cluster::slot_tags().to_vec()
}

/// The counter key `INCR` runs on for `slot`.
pub(crate) fn counter_key(tags: &[String], slot: usize) -> String {
    format!("demo:{{{}}}:counter", tags[slot])
}

/// The string key `SET`/`GET` run on for `slot`.
pub(crate) fn value_key(tags: &[String], slot: usize) -> String {
    format!("demo:{{{}}}:value", tags[slot])
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotwise_slot::key_slot;

    #[test]
    fn every_slot_has_a_tag() {
        let tags = tags_per_slot();
        for (slot, tag) in tags.iter().enumerate() {
            assert_eq!(
                usize::from(key_slot(counter_key(&tags, slot).as_bytes()).get()),
                slot
            );
            assert!(tag.len() <= 7);
        }
    }
}
