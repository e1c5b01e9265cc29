//! The pure core of pointerprint: mouse events, their cleaning, their segmentation into
//! mouse actions and the features of each action; and typing rhythm ([`keystroke`]).
//!
//! Architecture invariant: nothing here does I/O, spawns threads, or knows a file or wire
//! format. Input arrives as [`Recording`]s built by the readers in `pointerprint-formats`
//! (or by the synthesiser); output is plain numbers.

pub mod action;
pub mod augment;
pub mod event;
pub mod features;
pub mod geometry;
pub mod incremental;
pub mod keystroke;
pub mod plausibility;
pub mod preprocess;
pub mod stats;

pub use action::{Action, ActionKind, Segmenter, SegmenterConfig};
pub use event::{Button, Event, EventKind, Recording, Screen};
pub use features::{FEATURE_COUNT, FEATURE_NAMES, FeatureExtractor, FeatureVector};
pub use incremental::IncrementalExtractor;
pub use plausibility::{Gate, Implausible, Refused};
pub use preprocess::{Cleaned, PreprocessConfig, preprocess};

/// Read, clean, segment and extract in one call: the features of every action in a recording.
pub fn extract(recording: &Recording) -> Vec<FeatureVector> {
    let (cleaned, actions) = clean_and_segment(recording);
    features_of(&cleaned, &actions)
}

/// The features of every action of a recording that passes the plausibility `gate` (see
/// [`plausibility`]); what does not is not extracted, so never scored.
pub fn extract_plausible(
    recording: &Recording,
    gate: &Gate,
) -> Result<Vec<FeatureVector>, Refused> {
    let (cleaned, actions) = clean_and_segment(recording);
    let movement = plausibility::measure(&cleaned, &actions);
    gate.check(&movement).map_err(|reason| Refused {
        reason,
        actions: actions.len(),
    })?;
    Ok(features_of(&cleaned, &actions))
}

/// Cleans a recording with the default knobs and cuts it into actions.
pub(crate) fn clean_and_segment(recording: &Recording) -> (Cleaned, Vec<Action>) {
    let cleaned = preprocess(recording, &PreprocessConfig::default());
    let actions = Segmenter::new(SegmenterConfig::default()).segment(&cleaned);
    (cleaned, actions)
}

fn features_of(cleaned: &Cleaned, actions: &[Action]) -> Vec<FeatureVector> {
    let mut extractor = FeatureExtractor::default();
    actions
        .iter()
        .map(|a| extractor.extract(cleaned, a))
        .collect()
}
