//! The run's report: counts, latencies, errors, and the check that every acknowledged
//! event is stored exactly once.

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::{Latencies, Tally};

/// Stored against acknowledged events of one user.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserCheck {
    pub(crate) user_id: String,
    pub(crate) baseline: u64,
    pub(crate) acknowledged: u64,
    pub(crate) stored: u64,
}

impl UserCheck {
    fn missing(&self) -> u64 {
        (self.baseline + self.acknowledged).saturating_sub(self.stored)
    }

    fn extra(&self) -> u64 {
        self.stored
            .saturating_sub(self.baseline + self.acknowledged)
    }
}

/// Everything the summary shows.
#[derive(Debug)]
pub struct Report {
    pub(crate) nodes: usize,
    pub(crate) sessions: usize,
    pub(crate) users: usize,
    pub(crate) trained: usize,
    pub(crate) run_id: String,
    pub(crate) rate: Option<f64>,
    pub(crate) batch: usize,
    pub(crate) verify_mode: String,
    pub(crate) elapsed: Duration,
    pub(crate) tally: Tally,
    pub(crate) checks: Vec<UserCheck>,
    /// Users whose stored count could not be read, with why.
    pub(crate) unchecked: Vec<String>,
}

impl Report {
    fn missing(&self) -> u64 {
        self.checks.iter().map(UserCheck::missing).sum()
    }

    fn extra(&self) -> u64 {
        self.checks.iter().map(UserCheck::extra).sum()
    }

    fn error_count(&self) -> u64 {
        self.tally.errors.values().map(|(n, _)| n).sum()
    }

    /// Why the run failed; empty if it passed.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.missing() > 0 {
            problems.push(format!(
                "{} acknowledged events are missing",
                self.missing()
            ));
        }
        if self.extra() > 0 {
            problems.push(format!(
                "{} events are stored that were not acknowledged",
                self.extra()
            ));
        }
        if self.error_count() > 0 {
            problems.push(format!("{} requests failed", self.error_count()));
        }
        if !self.unchecked.is_empty() {
            problems.push(format!(
                "{} users could not be checked",
                self.unchecked.len()
            ));
        }
        problems
    }
}

/// `1234567` as `1,234,567`.
pub(crate) fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn latency_row(out: &mut String, name: &str, latencies: &Latencies) {
    match latencies.summary() {
        Some(s) => {
            let _ = writeln!(
                out,
                "  {name:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                ms(s.p50),
                ms(s.p90),
                ms(s.p99),
                ms(s.max),
                group(s.count as u64)
            );
        }
        None => {
            let _ = writeln!(out, "  {name:<8} {:>9}", "-");
        }
    }
}

fn render(r: &Report) -> String {
    let mut out = String::new();
    let t = &r.tally;
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let rate = match r.rate {
        Some(rate) => format!("{rate} events/s per session"),
        None => "as fast as possible".to_string(),
    };
    let _ = writeln!(out, "pointerprint load test, run {}", r.run_id);
    let _ = writeln!(
        out,
        "sessions      {} on {} node(s), {} users ({} enrolled and trained for this run)",
        r.sessions, r.nodes, r.users, r.trained
    );
    let _ = writeln!(
        out,
        "load          batches of {} events, {rate}; verify {}",
        r.batch, r.verify_mode
    );
    let _ = writeln!(out, "duration      {secs:.2} s");
    let _ = writeln!(
        out,
        "ingested      {} batches, {} events acknowledged ({} duplicates)",
        group(t.batches),
        group(t.events),
        group(t.duplicates)
    );
    let _ = writeln!(
        out,
        "throughput    {} events/s, {} batches/s",
        group((t.events as f64 / secs).round() as u64),
        group((t.batches as f64 / secs).round() as u64)
    );
    let decisions = if t.decisions.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = t
            .decisions
            .iter()
            .map(|(d, n)| format!("{d} {}", group(*n)))
            .collect();
        format!(" ({})", parts.join(", "))
    };
    let _ = writeln!(
        out,
        "verify calls  {}{decisions}, {} skipped before the session's first batch",
        group(t.verifies),
        group(t.verify_skipped)
    );
    let _ = writeln!(
        out,
        "latency (ms)  {:>9} {:>9} {:>9} {:>9} {:>9}",
        "p50", "p90", "p99", "max", "requests"
    );
    latency_row(&mut out, "ingest", &t.ingest);
    latency_row(&mut out, "verify", &t.verify);
    if t.errors.is_empty() {
        let _ = writeln!(out, "errors        none");
    } else {
        let _ = writeln!(out, "errors        {}", group(r.error_count()));
        for (kind, (n, example)) in &t.errors {
            let example: String = example.chars().take(160).collect();
            let _ = writeln!(out, "  {kind}: {} (e.g. {example})", group(*n));
        }
    }
    let acknowledged: u64 = r.checks.iter().map(|c| c.acknowledged).sum();
    let stored: u64 = r
        .checks
        .iter()
        .map(|c| c.stored.saturating_sub(c.baseline))
        .sum();
    let _ = writeln!(
        out,
        "stored check  {} users: {} acknowledged, {} stored, {} missing, {} extra",
        r.checks.len(),
        group(acknowledged),
        group(stored),
        group(r.missing()),
        group(r.extra())
    );
    for c in r.checks.iter().filter(|c| c.missing() > 0 || c.extra() > 0) {
        let _ = writeln!(
            out,
            "  {}: {} acknowledged, {} stored before the run, {} now",
            c.user_id,
            group(c.acknowledged),
            group(c.baseline),
            group(c.stored)
        );
    }
    for u in &r.unchecked {
        let _ = writeln!(out, "  not checked: {u}");
    }
    let problems = r.problems();
    let _ = writeln!(
        out,
        "result        {}",
        if problems.is_empty() {
            "OK: every acknowledged event is stored exactly once".to_string()
        } else {
            format!("FAILED: {}", problems.join("; "))
        }
    );
    out
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(acknowledged: u64, stored: u64, errors: u64) -> Report {
        let mut tally = Tally {
            batches: 3,
            events: acknowledged,
            ..Tally::default()
        };
        tally.ingest.record(Duration::from_millis(2));
        if errors > 0 {
            tally
                .errors
                .insert("ingest: HTTP 500".into(), (errors, "internal".into()));
        }
        Report {
            nodes: 1,
            sessions: 2,
            users: 1,
            trained: 1,
            run_id: "r".into(),
            rate: None,
            batch: 100,
            verify_mode: "off".into(),
            elapsed: Duration::from_secs(2),
            tally,
            checks: vec![UserCheck {
                user_id: "load-r-0".into(),
                baseline: 1_000,
                acknowledged,
                stored,
            }],
            unchecked: vec![],
        }
    }

    #[test]
    fn the_summary_checks_exactly_once() {
        let ok = report(300, 1_300, 0);
        assert!(ok.problems().is_empty());
        let text = render(&ok);
        assert!(
            text.contains("300 acknowledged, 300 stored, 0 missing, 0 extra"),
            "{text}"
        );
        assert!(text.contains("150 events/s"), "{text}");
        assert!(text.contains("result        OK"), "{text}");

        let lost = report(300, 1_200, 0);
        assert_eq!(lost.missing(), 100);
        assert!(render(&lost).contains("100 missing"));
        assert!(!lost.problems().is_empty());

        let failed = report(300, 1_300, 2);
        assert_eq!(failed.problems(), vec!["2 requests failed".to_string()]);
        assert!(render(&failed).contains("ingest: HTTP 500: 2"));
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
