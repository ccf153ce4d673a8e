//! Live updates: every open page of a scorecard hears about each change within a second,
//! over server-sent events.
//!
//! The hub keeps one broadcast channel per scorecard with listeners. A write publishes
//! after it commits; each event carries the scorecard's new revision, and a page that
//! reconnects compares the revision it was rendered at with the one the stream greets it
//! with, so it catches up on anything it missed. Closing the hub ends every stream, so a
//! graceful shutdown is not held up by open pages.
//!
//! The hub lives in this process: several app instances would need a shared bus (such as
//! PostgreSQL's LISTEN/NOTIFY) behind the same `publish`/`subscribe`.

pub mod handlers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

/// How many events a slow page may fall behind before it is told to reload.
const CHANNEL_CAPACITY: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    /// The scorecard changed; the page should refresh its numbers.
    Changed { revision: i64 },
    /// The gate walk moved to another workflow.
    Walk { revision: i64, workflow_id: i64 },
}

impl LiveEvent {
    pub fn revision(&self) -> i64 {
        match self {
            LiveEvent::Changed { revision } | LiveEvent::Walk { revision, .. } => *revision,
        }
    }
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    channels: Mutex<HashMap<i64, broadcast::Sender<LiveEvent>>>,
    closed: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            inner: Arc::new(Inner {
                channels: Mutex::new(HashMap::new()),
                closed: watch::channel(false).0,
            }),
        }
    }
}

impl Hub {
    /// Tells every page of the scorecard. Nobody listening is fine.
    pub fn publish(&self, scorecard_id: i64, event: LiveEvent) {
        let mut channels = self.channels();
        if let Some(sender) = channels.get(&scorecard_id)
            && sender.send(event).is_err()
        {
            // The last listener left: drop the channel.
            channels.remove(&scorecard_id);
        }
    }

    /// Listens to a scorecard's events, and to the hub closing.
    pub fn subscribe(
        &self,
        scorecard_id: i64,
    ) -> (broadcast::Receiver<LiveEvent>, watch::Receiver<bool>) {
        let receiver = self
            .channels()
            .entry(scorecard_id)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe();
        (receiver, self.inner.closed.subscribe())
    }

    /// Ends every open stream: called when the server begins to shut down.
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }

    /// How many pages are listening, over all scorecards.
    pub fn listeners(&self) -> usize {
        self.channels()
            .values()
            .map(broadcast::Sender::receiver_count)
            .sum()
    }

    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<i64, broadcast::Sender<LiveEvent>>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.inner
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listeners_of_a_scorecard_hear_its_events_and_only_its_events() {
        let hub = Hub::default();
        let (mut a, _) = hub.subscribe(1);
        let (mut b, _) = hub.subscribe(2);
        hub.publish(1, LiveEvent::Changed { revision: 7 });
        assert_eq!(a.recv().await.unwrap(), LiveEvent::Changed { revision: 7 });
        assert!(b.try_recv().is_err());
        assert_eq!(hub.listeners(), 2);
        drop(a);
        drop(b);
        hub.publish(1, LiveEvent::Changed { revision: 8 });
        hub.publish(2, LiveEvent::Changed { revision: 8 });
        assert_eq!(hub.listeners(), 0);
    }

    #[tokio::test]
    async fn closing_the_hub_is_seen_by_every_listener() {
        let hub = Hub::default();
        let (_, mut closed) = hub.subscribe(1);
        hub.close();
        closed.changed().await.unwrap();
        assert!(*closed.borrow());
    }
}
