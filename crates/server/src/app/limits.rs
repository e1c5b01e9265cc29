//! Rate limits kept in this node's memory: how often `POST /v1/verify` may be called per
//! user and per API key, and how many failed dashboard sign-ins a source address gets.
//!
//! Per node, not cross-node: with N nodes behind a load balancer a caller gets up to N
//! times the configured rate (see docs/deployment.md). Counting in the database would put
//! a write on every verify for every node; what the limits stop (tuning a forgery against
//! the score, guessing passwords) is slowed as well by N times a small rate.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::app::error::{AppError, ErrorKind};
use crate::domain::ids::UserId;

/// Buckets kept before the full ones (nobody used them for a while) are dropped.
const PRUNE_AT: usize = 10_000;

/// A token bucket per key: `capacity` calls at once, refilled at `capacity` a `period`.
pub struct RateLimiter<K> {
    capacity: u32,
    period: Duration,
    buckets: Mutex<HashMap<K, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Eq + Hash + Clone> RateLimiter<K> {
    /// A limiter of `capacity` calls a `period` per key; a capacity of 0 turns it off.
    pub fn new(capacity: u32, period: Duration) -> Self {
        Self {
            capacity,
            period,
            buckets: Mutex::default(),
        }
    }

    /// A limiter of `per_minute` calls a minute per key; 0 turns it off.
    pub fn per_minute(per_minute: u32) -> Self {
        Self::new(per_minute, Duration::from_secs(60))
    }

    /// Tokens a second.
    fn rate(&self) -> f64 {
        f64::from(self.capacity) / self.period.as_secs_f64().max(1e-9)
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.rate()).min(f64::from(self.capacity))
    }

    /// Takes one call for `key`; when none is left, how long until one is.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        if self.capacity == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= PRUNE_AT {
            let full = f64::from(self.capacity);
            buckets.retain(|_, b| self.refilled(*b, now) < full);
        }
        let full = Bucket {
            tokens: f64::from(self.capacity),
            at: now,
        };
        let bucket = *buckets.get(key).unwrap_or(&full);
        let tokens = self.refilled(bucket, now);
        if tokens >= 1.0 {
            buckets.insert(
                key.clone(),
                Bucket {
                    tokens: tokens - 1.0,
                    at: now,
                },
            );
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.rate()))
        }
    }

    /// Whether `key` has a call left now; if not, how long until it has.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.capacity == 0 {
            return Ok(());
        }
        let buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let tokens = match buckets.get(key) {
            Some(b) => self.refilled(*b, Instant::now()),
            None => f64::from(self.capacity),
        };
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.rate()))
        }
    }
}

/// A call refused by a rate limit: 429 with the seconds to wait (`Retry-After`).
#[derive(Debug)]
pub struct Limited {
    pub error: AppError,
    pub retry_after_s: u64,
}

impl Limited {
    fn new(message: String, wait: Duration) -> Self {
        Self {
            error: AppError::new(ErrorKind::TooMany, "rate_limited", message),
            retry_after_s: (wait.as_secs_f64().ceil() as u64).max(1),
        }
    }
}

/// The verify limits: per user (what an attacker tunes a forgery against) and per key.
pub struct VerifyLimits {
    per_user: RateLimiter<UserId>,
    per_key: RateLimiter<i64>,
}

impl VerifyLimits {
    pub fn new(per_user_per_minute: u32, per_key_per_minute: u32) -> Self {
        Self {
            per_user: RateLimiter::per_minute(per_user_per_minute),
            per_key: RateLimiter::per_minute(per_key_per_minute),
        }
    }

    /// Takes one verification of `user_id` by key `key_id`, or says how long to wait. A call
    /// refused for its user takes nothing from its key.
    pub fn take(&self, key_id: i64, user_id: &UserId) -> Result<(), Limited> {
        let user_limited = |wait| {
            Limited::new(
                format!("too many verifications of {user_id}: try again later"),
                wait,
            )
        };
        self.per_user.check(user_id).map_err(user_limited)?;
        self.per_key.take(&key_id).map_err(|wait| {
            Limited::new(
                "too many verifications with this key: try again later".to_string(),
                wait,
            )
        })?;
        self.per_user.take(user_id).map_err(user_limited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_says_how_long_to_wait() {
        let limiter = RateLimiter::per_minute(3);
        for _ in 0..3 {
            assert!(limiter.check(&"a").is_ok());
            assert!(limiter.take(&"a").is_ok());
        }
        let wait = limiter.take(&"a").unwrap_err();
        assert!(
            wait > Duration::from_secs(19) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.check(&"a").is_err());
        assert!(limiter.take(&"b").is_ok(), "keys are counted apart");
        assert!(
            RateLimiter::per_minute(0).take(&"a").is_ok(),
            "0 is no limit"
        );
    }
}
