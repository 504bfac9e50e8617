//! Sliding-window rate limits, keyed by real client IP or by account.
//!
//! In memory (a restart forgets, which errs on the side of letting people in). Each key
//! keeps at most `limit` timestamps, and the map is pruned when it grows, so a flood of
//! distinct keys cannot grow memory without bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A limiter: at most `limit` events per `window` per key.
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    max_keys: usize,
    events: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimiter {
    /// New limiter.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self { limit: limit.max(1), window, max_keys: 100_000, events: Mutex::new(HashMap::new()) }
    }

    /// Record an event for `key` if it is under the limit. `Err(retry_after_s)` otherwise.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        self.hit_at(key, Instant::now())
    }

    /// True when `key` is at its limit (checks without recording).
    pub fn is_limited(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let map = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let v = map.get(key)?;
        let live: Vec<&Instant> =
            v.iter().filter(|t| now.duration_since(**t) < self.window).collect();
        if live.len() >= self.limit {
            let oldest = live.iter().min().map(|t| **t).unwrap_or(now);
            Some(self.window.saturating_sub(now.duration_since(oldest)).as_secs().max(1))
        } else {
            None
        }
    }

    /// Record an event unconditionally (e.g. a failed password for an account).
    pub fn record(&self, key: &str) {
        let now = Instant::now();
        let mut map = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let v = map.entry(key.to_owned()).or_default();
        v.retain(|t| now.duration_since(*t) < self.window);
        if v.len() < self.limit {
            v.push(now);
        }
    }

    /// Take back the most recent event of `key`: a login reserves its slot with [`hit`]
    /// before the password is checked (so a burst of parallel attempts cannot all slip under
    /// the limit) and gives it back when the password was right, so only failures count.
    ///
    /// [`hit`]: Self::hit
    pub fn forgive(&self, key: &str) {
        let mut map = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(v) = map.get_mut(key) {
            // Timestamps are pushed in order, so the last one is this request's.
            v.pop();
            if v.is_empty() {
                map.remove(key);
            }
        }
    }

    /// Forget a key (a successful login clears the account's failure count).
    pub fn clear(&self, key: &str) {
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }

    fn hit_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut map = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= self.max_keys {
            let window = self.window;
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < window));
        }
        let v = map.entry(key.to_owned()).or_default();
        v.retain(|t| now.duration_since(*t) < self.window);
        if v.len() >= self.limit {
            let oldest = v.iter().min().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)).as_secs().max(1));
        }
        v.push(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window_slides() {
        let rl = RateLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.hit_at("a", t0).is_ok());
        }
        assert!(rl.hit_at("a", t0).is_err());
        assert!(rl.hit_at("b", t0).is_ok(), "another key is independent");
        assert!(rl.hit_at("a", t0 + Duration::from_secs(61)).is_ok(), "window slid");
    }

    #[test]
    fn forgiven_events_do_not_count() {
        let rl = RateLimiter::new(2, Duration::from_secs(60));
        for _ in 0..5 {
            assert!(rl.hit("a").is_ok());
            rl.forgive("a");
        }
        assert!(rl.hit("a").is_ok() && rl.hit("a").is_ok());
        assert!(rl.hit("a").is_err(), "unforgiven events still count");
        rl.forgive("nobody"); // no entry: nothing happens
    }
}
