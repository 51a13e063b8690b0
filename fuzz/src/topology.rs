//! Fuzz bodies for slotwise-topology (issue 4 fills these in).

/// CLUSTER SHARDS replies.
pub fn shards(_data: &[u8]) {}
/// CLUSTER SLOTS replies.
pub fn slots(_data: &[u8]) {}
/// CLUSTER NODES text.
pub fn nodes(_data: &[u8]) {}
