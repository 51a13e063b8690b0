//! The core's events as `tracing` events (target `slotwise`): nothing is printed unless the
//! application installs a subscriber.

use slotwise_cluster::Event;

/// Logs one core event at a level that matches how much an operator cares.
pub(crate) fn event(event: &Event) {
    match event {
        Event::TopologyChanged { epoch, diff } => {
            for change in &diff.primaries_changed {
                let to = change.new_endpoint.as_ref().map(ToString::to_string);
                tracing::info!(
                    target: "slotwise",
                    epoch,
                    old_primary = %change.old,
                    new_primary = %change.new,
                    new_endpoint = to.as_deref(),
                    "failover: shard has a new primary"
                );
            }
            tracing::info!(
                target: "slotwise",
                epoch,
                nodes_added = diff.nodes_added.len(),
                nodes_removed = diff.nodes_removed.len(),
                failovers = diff.primaries_changed.len(),
                slot_ranges_moved = diff.slots_moved.len(),
                "topology changed"
            );
            tracing::debug!(target: "slotwise", epoch, %diff, "topology diff");
        }
        Event::Redirected { id, kind, slot, to } => {
            tracing::debug!(target: "slotwise", request = id.0, ?kind, slot, %to, "redirected");
        }
        Event::RefreshStarted { reason } => {
            tracing::debug!(target: "slotwise", %reason, "topology refresh started");
        }
        Event::RefreshFailed => {
            tracing::warn!(target: "slotwise", "topology refresh failed: no node gave a usable answer");
        }
        Event::NodeFailing { endpoint, failures } => {
            tracing::warn!(target: "slotwise", %endpoint, failures, "node failing");
        }
        Event::NodeSuspect {
            endpoint,
            silent_for,
            in_flight,
        } => {
            tracing::warn!(
                target: "slotwise",
                %endpoint,
                silent_ms = silent_for.as_millis() as u64,
                in_flight,
                "node suspect: silent with requests in flight; probing it and asking the others"
            );
        }
        Event::TopologyUnusable { endpoint, reason } => {
            tracing::warn!(target: "slotwise", %endpoint, %reason, "unusable topology answer");
        }
        Event::NodeTrusted { endpoint } => {
            tracing::info!(target: "slotwise", %endpoint, "suspect node answers again");
        }
        Event::Resp2Fallback { endpoint } => {
            tracing::info!(target: "slotwise", %endpoint, "server has no RESP3: using RESP2");
        }
        Event::AuthFailed { endpoint, message } => {
            tracing::error!(target: "slotwise", %endpoint, %message, "authentication refused");
        }
        other => tracing::debug!(target: "slotwise", event = ?other, "event"),
    }
}
