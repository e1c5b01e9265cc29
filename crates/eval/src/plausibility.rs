//! How often the plausibility gate (`pointerprint_core::plausibility`) turns away genuine
//! input: every recording is tried whole and cut into pieces of a few seconds, as the
//! service sees sign-ins and verify calls. The gate must pass ~all genuine pieces that hold
//! enough actions for a decision.

use std::collections::BTreeMap;
use std::path::Path;

use pointerprint_core::plausibility::measure_recording;
use pointerprint_core::{Gate, Recording};
use pointerprint_formats::{read_file, session_files};
use rayon::prelude::*;
use serde::Serialize;

use crate::EvalError;

/// The gate's verdicts on one kind of unit (whole recordings, or pieces).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GateTally {
    /// Units tried, and how many of them hold at least the decision's minimum of actions.
    pub units: usize,
    pub decidable: usize,
    /// Decidable units the gate refused, by reason code.
    pub refused: BTreeMap<&'static str, usize>,
    /// Units with fewer actions the gate refused (they get no decision anyway).
    pub refused_undecidable: usize,
}

impl GateTally {
    /// Share of decidable units refused.
    pub fn refused_share(&self) -> f64 {
        let refused: usize = self.refused.values().sum();
        if self.decidable == 0 {
            0.0
        } else {
            refused as f64 / self.decidable as f64
        }
    }

    fn add(&mut self, recording: &Recording, gate: &Gate, min_actions: usize) {
        let movement = measure_recording(recording);
        self.units += 1;
        let decidable = movement.actions >= min_actions;
        self.decidable += usize::from(decidable);
        if let Err(reason) = gate.check(&movement) {
            if decidable {
                *self.refused.entry(reason.code()).or_default() += 1;
            } else {
                self.refused_undecidable += 1;
            }
        }
    }

    fn merge(mut self, other: GateTally) -> GateTally {
        self.units += other.units;
        self.decidable += other.decidable;
        self.refused_undecidable += other.refused_undecidable;
        for (code, n) in other.refused {
            *self.refused.entry(code).or_default() += n;
        }
        self
    }
}

/// The gate's verdicts on a set of genuine recordings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GateSurvey {
    pub whole: GateTally,
    pub pieces: GateTally,
    pub piece_seconds: f64,
}

impl GateSurvey {
    /// Decidable units refused, whole and pieces together.
    pub fn refused_total(&self) -> usize {
        self.whole.refused.values().sum::<usize>() + self.pieces.refused.values().sum::<usize>()
    }
}

/// Tries the gate on each recording whole and in pieces of `piece_seconds`.
pub fn survey(
    recordings: &[Recording],
    gate: &Gate,
    piece_seconds: f64,
    min_actions: usize,
) -> GateSurvey {
    let tallies = recordings
        .par_iter()
        .map(|recording| {
            let mut whole = GateTally::default();
            whole.add(recording, gate, min_actions);
            let mut pieces = GateTally::default();
            for piece in cut(recording, piece_seconds * 1000.0) {
                pieces.add(&piece, gate, min_actions);
            }
            (whole, pieces)
        })
        .reduce(
            || (GateTally::default(), GateTally::default()),
            |a, b| (a.0.merge(b.0), a.1.merge(b.1)),
        );
    GateSurvey {
        whole: tallies.0,
        pieces: tallies.1,
        piece_seconds,
    }
}

/// Every recording file under `path` (searched recursively).
pub fn read_recordings(path: &Path) -> Result<Vec<Recording>, EvalError> {
    session_files(path)?
        .par_iter()
        .map(|file| Ok(read_file(file)?.recording))
        .collect()
}

/// Consecutive pieces of `piece_ms` of a recording, by its events' times (the last may be
/// shorter); a clock that jumps back starts a new piece.
fn cut(recording: &Recording, piece_ms: f64) -> Vec<Recording> {
    let mut pieces = Vec::new();
    let mut current: Vec<pointerprint_core::Event> = Vec::new();
    let mut start = f64::NAN;
    for e in &recording.events {
        if !(e.t >= start && e.t < start + piece_ms) {
            if !current.is_empty() {
                pieces.push(std::mem::take(&mut current));
            }
            start = e.t;
        }
        current.push(*e);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
        .into_iter()
        .map(|events| Recording {
            events,
            screen: recording.screen,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pointerprint_core::{Button, Event, EventKind};

    #[test]
    fn recordings_are_cut_by_time() {
        let events = [0.0, 10.0, 14_999.0, 15_000.0, 31_000.0, 5.0]
            .iter()
            .map(|&t| Event::new(t, 1.0, 1.0, EventKind::Move, Button::None))
            .collect();
        let sizes: Vec<usize> = cut(&Recording::new(events), 15_000.0)
            .iter()
            .map(|p| p.events.len())
            .collect();
        assert_eq!(sizes, vec![3, 1, 1, 1]);
    }

    #[test]
    fn synthetic_users_pass_the_gate() {
        let recordings: Vec<Recording> = pointerprint_synth::population(4, 7)
            .iter()
            .enumerate()
            .map(|(i, style)| pointerprint_synth::session(style, i as u64, 200))
            .collect();
        let s = survey(&recordings, &Gate::default(), 15.0, 5);
        assert_eq!(s.whole.decidable, 4);
        assert!(s.pieces.decidable > 10, "{s:?}");
        assert_eq!(s.refused_total(), 0, "{s:?}");
    }
}
