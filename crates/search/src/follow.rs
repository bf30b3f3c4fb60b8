//! The follower: a background task that keeps a [`SearchIndex`] in step with the
//! database by applying the change feed every `interval` (about 200 ms), so a change is
//! searchable within a second of its commit. Each server replica runs its own, over its
//! own index directory.

use std::sync::Arc;
use std::time::Duration;

use parkgraph_persistence::Store;
use tokio::task::JoinHandle;

use crate::SearchIndex;

/// Starts the follower. It runs until the handle is aborted (or the runtime stops); a
/// failed step (the database unreachable …) is logged and retried at the next tick.
pub fn spawn(index: Arc<SearchIndex>, store: Store, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticker.tick().await;
            match index.catch_up(store.conn()).await {
                Ok(read) => {
                    if failing {
                        tracing::info!(cursor = index.cursor(), "the search index follows the change feed again");
                        failing = false;
                    }
                    if read > 0 {
                        tracing::debug!(entries = read, cursor = index.cursor(), "search index caught up");
                    }
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(%err, "the search index could not apply the change feed; retrying");
                    }
                    failing = true;
                }
            }
        }
    })
}
