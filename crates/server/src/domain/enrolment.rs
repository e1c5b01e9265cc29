//! When a user without a model is due for automatic training.

/// Where a user without a model stands on the way to automatic training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolment {
    /// `events` so far; training is queued at `target` (the configured number of events,
    /// doubled after each failed training; `u64::MAX` when automatic training is off).
    Collecting { events: u64, target: u64 },
    /// A training job is queued or running.
    Training,
}

impl Enrolment {
    /// The user's standing: `events` sent, `failed_jobs` trainings failed so far, a job
    /// queued or running or not; `auto_train_events` is the configured number of events
    /// that queues a first training.
    pub fn of(events: u64, failed_jobs: u64, active_job: bool, auto_train_events: u64) -> Self {
        if active_job {
            return Enrolment::Training;
        }
        let doublings = u32::try_from(failed_jobs).unwrap_or(u32::MAX).min(20);
        Enrolment::Collecting {
            events,
            target: auto_train_events.saturating_mul(1 << doublings),
        }
    }

    /// Whether a training job should be queued now.
    pub fn is_due(self) -> bool {
        matches!(self, Enrolment::Collecting { events, target } if events >= target)
    }
}
