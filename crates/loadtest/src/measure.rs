//! What a run measured: latencies, counts and errors, per session and then merged.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use hdrhistogram::Histogram;
use pointerprint_client::ClientError;

/// Latencies of one kind of request, in microseconds (three significant digits, up to an
/// hour).
#[derive(Debug, Clone)]
pub struct Latencies {
    micros: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            micros: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("the bounds are valid"),
        }
    }
}

/// Percentiles of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    pub count: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latencies {
    pub fn record(&mut self, d: Duration) {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.micros.saturating_record(micros.max(1));
    }

    pub fn merge(&mut self, other: Latencies) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.micros.add(&other.micros);
    }

    /// `None` when nothing was recorded.
    pub fn summary(&self) -> Option<LatencySummary> {
        if self.micros.is_empty() {
            return None;
        }
        let at = |q| Duration::from_micros(self.micros.value_at_quantile(q));
        Some(LatencySummary {
            count: self.micros.len() as usize,
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: Duration::from_micros(self.micros.max()),
        })
    }
}

/// What one session (or, merged, the whole run) did.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) batches: u64,
    pub(crate) events: u64,
    pub(crate) duplicates: u64,
    pub(crate) verifies: u64,
    pub(crate) verify_skipped: u64,
    pub(crate) decisions: BTreeMap<String, u64>,
    pub(crate) ingest: Latencies,
    pub(crate) verify: Latencies,
    /// Errors by "endpoint: kind", with one example message each.
    pub(crate) errors: BTreeMap<String, (u64, String)>,
}

impl Tally {
    pub(crate) fn error(&mut self, endpoint: &str, e: &ClientError) {
        let entry = self
            .errors
            .entry(format!("{endpoint}: {}", e.kind()))
            .or_insert_with(|| (0, e.to_string()));
        entry.0 += 1;
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        self.batches += other.batches;
        self.events += other.events;
        self.duplicates += other.duplicates;
        self.verifies += other.verifies;
        self.verify_skipped += other.verify_skipped;
        for (k, n) in other.decisions {
            *self.decisions.entry(k).or_default() += n;
        }
        self.ingest.merge(other.ingest);
        self.verify.merge(other.verify);
        for (k, (n, example)) in other.errors {
            self.errors.entry(k).or_insert((0, example)).0 += n;
        }
    }
}

/// Counters the progress display reads while sessions run.
#[derive(Default)]
pub(crate) struct Live {
    pub(crate) events: AtomicU64,
    pub(crate) errors: AtomicU64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal within the histogram's three significant digits.
    fn close(a: Duration, b: Duration) -> bool {
        a.as_secs_f64().max(b.as_secs_f64()) - a.as_secs_f64().min(b.as_secs_f64())
            <= 1e-3 * b.as_secs_f64()
    }

    #[test]
    fn latencies_summarise_in_any_order_and_merge() {
        let mut a = Latencies::default();
        assert_eq!(a.summary(), None);
        for ms in [30u64, 10, 20] {
            a.record(Duration::from_millis(ms));
        }
        let mut b = Latencies::default();
        for ms in (40..=100u64).rev() {
            b.record(Duration::from_millis(ms));
        }
        a.merge(b);
        let s = a.summary().unwrap();
        assert_eq!(s.count, 64);
        assert!(close(s.max, Duration::from_millis(100)), "{s:?}");
        // Ranks: ceil(0.5 * 64) = 32nd value = 10, 20, 30, then 40.. → 40 + 28 = 68.
        assert!(close(s.p50, Duration::from_millis(68)), "{s:?}");
        assert!(close(s.p99, Duration::from_millis(100)), "{s:?}");
        assert!(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut l = Latencies::default();
        for us in 1..=100u64 {
            l.record(Duration::from_micros(us));
        }
        let s = l.summary().unwrap();
        // Small values are exact.
        assert_eq!(s.p50, Duration::from_micros(50));
        assert_eq!(s.p90, Duration::from_micros(90));
        assert_eq!(s.p99, Duration::from_micros(99));
        assert_eq!(s.max, Duration::from_micros(100));
        let mut one = Latencies::default();
        one.record(Duration::from_micros(7));
        assert_eq!(one.summary().unwrap().p99, Duration::from_micros(7));
    }

    #[test]
    fn errors_are_counted_by_endpoint_and_kind() {
        let mut t = Tally::default();
        let e = ClientError::Api {
            status: 500,
            code: Some("internal".into()),
            message: "internal error".into(),
        };
        t.error("ingest", &e);
        t.error("ingest", &e);
        let mut other = Tally::default();
        other.error("ingest", &e);
        t.merge(other);
        assert_eq!(t.errors["ingest: HTTP 500"].0, 3);
        assert_eq!(
            t.errors["ingest: HTTP 500"].1,
            "HTTP 500 internal: internal error"
        );
    }
}
