//! Rate limit on failed share-link look-ups, per client address.
//!
//! Share links are 256-bit secrets, so guessing is hopeless; this keeps anyone from
//! hammering the database trying. Only failures count: a workshop room behind one
//! address can make as many edits as it likes, and links already in use keep working
//! while an address is held back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed look-ups allowed per address in one window.
const LIMIT: u32 = 30;
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most; the table is cleared of old windows when it fills.
const TRACKED: usize = 10_000;

/// The client's address, when the server knows it (a real socket; not in router tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[derive(Default)]
pub struct FailedLookups {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailedLookups {
    /// Whether this address has used up its failures for now.
    pub fn blocked(&self, addr: IpAddr) -> bool {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows
            .get(&addr)
            .is_some_and(|(start, count)| start.elapsed() < WINDOW && *count >= LIMIT)
    }

    pub fn record_failure(&self, addr: IpAddr) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= TRACKED {
            windows.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let entry = windows.entry(addr).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_held_back_after_its_failures_and_others_are_not() {
        let lookups = FailedLookups::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..LIMIT {
            assert!(!lookups.blocked(a));
            lookups.record_failure(a);
        }
        assert!(lookups.blocked(a));
        assert!(!lookups.blocked(b));
    }
}
