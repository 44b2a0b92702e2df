//! Per-client rate limits at the edge (joins per address, check runs per session): a fixed
//! window per key; past its budget a client gets 429 with `Retry-After` until the window
//! ends. In memory, bounded.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::ApiError;

/// Keys remembered at most; past this, finished windows are forgotten first.
const MAX_KEYS: usize = 50_000;
/// The window every limit counts in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// At most `per_window` requests per key per [`WINDOW`].
pub struct RateLimit<K> {
    per_window: u32,
    seen: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    pub fn new(per_window: u32) -> Self {
        Self {
            per_window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `key`; refused once its window's budget is spent.
    pub fn take(&self, key: &K) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MAX_KEYS {
            seen.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = seen.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            let wait = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(ApiError::RateLimited { retry_after: wait });
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_past_its_budget_waits_and_others_do_not() {
        let limit = RateLimit::new(2);
        assert!(limit.take(&"a").is_ok());
        assert!(limit.take(&"a").is_ok());
        match limit.take(&"a") {
            Err(ApiError::RateLimited { retry_after }) => assert!(retry_after <= WINDOW),
            other => panic!("{other:?}"),
        }
        assert!(limit.take(&"b").is_ok());
    }
}
