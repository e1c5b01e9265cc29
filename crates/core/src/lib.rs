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
pub mod preprocess;
pub mod stats;

pub use action::{Action, ActionKind, Segmenter, SegmenterConfig};
pub use event::{Button, Event, EventKind, Recording, Screen};
pub use features::{FEATURE_COUNT, FEATURE_NAMES, FeatureExtractor, FeatureVector};
pub use incremental::IncrementalExtractor;
pub use preprocess::{Cleaned, PreprocessConfig, preprocess};

/// Read, clean, segment and extract in one call: the features of every action in a recording.
pub fn extract(recording: &Recording) -> Vec<FeatureVector> {
    let cleaned = preprocess(recording, &PreprocessConfig::default());
    let actions = Segmenter::new(SegmenterConfig::default()).segment(&cleaned);
    let mut extractor = FeatureExtractor::default();
    actions
        .iter()
        .map(|a| extractor.extract(&cleaned, a))
        .collect()
}
