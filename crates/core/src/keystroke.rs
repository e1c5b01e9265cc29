//! Typing rhythm: key-down and key-up times, and the features keystroke-dynamics detectors
//! read from them.
//!
//! A sample never holds a character. A key is known only by its position in a fixed-text
//! field (a password, a username) or by a coarse [`KeyClass`] (free text), which is what the
//! models need and what a leak cannot turn back into text. Samples are validated when built
//! ([`KeystrokeSample::new`]), so the features of a sample are always finite.
//!
//! Times are milliseconds, as everywhere in the core.

use serde::{Deserialize, Serialize};

/// The longest field a fixed-text sample may describe.
pub const MAX_FIELD_LENGTH: usize = 1024;

/// Times at or above this (about the year 2286 in Unix milliseconds) are not real clocks.
pub const MAX_TIME_MS: f64 = 1e13;

/// A sample longer than this (first key-down to last key-up) is not one typing of a field.
pub const MAX_SPAN_MS: f64 = 3_600_000.0;

/// What a free-text keystroke is, coarse enough that a sequence of them is not text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyClass {
    Letter,
    Digit,
    Space,
    Backspace,
    Modifier,
    Punctuation,
    /// Enter, Tab, arrows and every other key.
    Other,
}

impl KeyClass {
    pub const ALL: [KeyClass; 7] = [
        KeyClass::Letter,
        KeyClass::Digit,
        KeyClass::Space,
        KeyClass::Backspace,
        KeyClass::Modifier,
        KeyClass::Punctuation,
        KeyClass::Other,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Which key a keystroke was: its position in a fixed-text field, or its class in free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyId {
    Position(u16),
    Class(KeyClass),
}

/// One key press: when the key went down and when it came up (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Keystroke {
    pub key: KeyId,
    pub down: f64,
    pub up: f64,
}

/// What a sample describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextKind {
    /// A field of `length` keys typed in order; keys are [`KeyId::Position`]s below `length`.
    Fixed { length: u16 },
    /// Free text; keys are [`KeyId::Class`]es.
    Free,
}

/// Why keystrokes do not make a sample. `index` is the keystroke's place in the input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KeystrokeError {
    #[error("no keystrokes")]
    Empty,
    #[error("keystroke {index}: a time is not a finite number")]
    NonFinite { index: usize },
    #[error("keystroke {index}: a time is negative ({time} ms)")]
    Negative { index: usize, time: f64 },
    #[error("keystroke {index}: a time of {time} ms is not a real clock (limit {MAX_TIME_MS} ms)")]
    TooLarge { index: usize, time: f64 },
    #[error("keystroke {index}: key-up at {up} ms comes before key-down at {down} ms")]
    UpBeforeDown { index: usize, down: f64, up: f64 },
    #[error("keystroke {index}: position {position} is outside a field of {length} keys")]
    PositionOutOfRange {
        index: usize,
        position: u16,
        length: u16,
    },
    #[error("keystroke {index}: a {expected} sample cannot hold a {found} key")]
    WrongKeyKind {
        index: usize,
        expected: &'static str,
        found: &'static str,
    },
    #[error("a field of {length} keys is longer than {MAX_FIELD_LENGTH} or empty")]
    FieldLength { length: u16 },
    #[error("a field of {found} keys where {expected} were expected")]
    FieldMismatch { expected: usize, found: usize },
    #[error("the keystrokes span {span} ms, more than {MAX_SPAN_MS} ms")]
    SpanTooLong { span: f64 },
    #[error(
        "field position {position} was typed {count} times; fixed-text features need each once"
    )]
    NotTypedOnce { position: u16, count: usize },
}

/// A validated typing sample, keystrokes in key-down order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeystrokeSample {
    kind: TextKind,
    strokes: Vec<Keystroke>,
}

impl KeystrokeSample {
    /// Checks every keystroke (finite, non-negative, real-clock times; key-up not before
    /// key-down; a key of the sample's kind, a position inside the field) and orders them by
    /// key-down time.
    pub fn new(kind: TextKind, mut strokes: Vec<Keystroke>) -> Result<Self, KeystrokeError> {
        if strokes.is_empty() {
            return Err(KeystrokeError::Empty);
        }
        if let TextKind::Fixed { length } = kind
            && (length == 0 || usize::from(length) > MAX_FIELD_LENGTH)
        {
            return Err(KeystrokeError::FieldLength { length });
        }
        for (index, s) in strokes.iter().enumerate() {
            for time in [s.down, s.up] {
                if !time.is_finite() {
                    return Err(KeystrokeError::NonFinite { index });
                }
                if time < 0.0 {
                    return Err(KeystrokeError::Negative { index, time });
                }
                if time >= MAX_TIME_MS {
                    return Err(KeystrokeError::TooLarge { index, time });
                }
            }
            if s.up < s.down {
                return Err(KeystrokeError::UpBeforeDown {
                    index,
                    down: s.down,
                    up: s.up,
                });
            }
            match (kind, s.key) {
                (TextKind::Fixed { length }, KeyId::Position(position)) if position >= length => {
                    return Err(KeystrokeError::PositionOutOfRange {
                        index,
                        position,
                        length,
                    });
                }
                (TextKind::Fixed { .. }, KeyId::Class(_)) => {
                    return Err(KeystrokeError::WrongKeyKind {
                        index,
                        expected: "fixed-text",
                        found: "key-class",
                    });
                }
                (TextKind::Free, KeyId::Position(_)) => {
                    return Err(KeystrokeError::WrongKeyKind {
                        index,
                        expected: "free-text",
                        found: "field-position",
                    });
                }
                _ => {}
            }
        }
        let first = strokes.iter().map(|s| s.down).fold(f64::INFINITY, f64::min);
        let last = strokes
            .iter()
            .map(|s| s.up)
            .fold(f64::NEG_INFINITY, f64::max);
        if last - first > MAX_SPAN_MS {
            return Err(KeystrokeError::SpanTooLong { span: last - first });
        }
        strokes.sort_by(|a, b| a.down.total_cmp(&b.down));
        Ok(Self { kind, strokes })
    }

    pub fn kind(&self) -> TextKind {
        self.kind
    }

    /// The keystrokes in key-down order.
    pub fn strokes(&self) -> &[Keystroke] {
        &self.strokes
    }
}

/// Number of fixed-text features for a field of `length` keys: a hold time per key and a
/// down-down and an up-down latency per consecutive pair.
pub fn fixed_text_feature_count(length: usize) -> usize {
    3 * length - 2
}

/// Names of the fixed-text features, in the order of [`fixed_text_features`]: `H.i`,
/// `DD.i.j`, `UD.i.j` for positions `i`, `j = i + 1` (the CMU benchmark's layout).
pub fn fixed_text_feature_names(length: usize) -> Vec<String> {
    let mut names = Vec::with_capacity(fixed_text_feature_count(length));
    for i in 0..length {
        names.push(format!("H.{i}"));
        if i + 1 < length {
            names.push(format!("DD.{i}.{}", i + 1));
            names.push(format!("UD.{i}.{}", i + 1));
        }
    }
    names
}

/// The fixed-text timing vector of a sample in which each field position was typed exactly
/// once: for each position its hold time (up - down), then to the next position the
/// down-down and up-down latencies (the latter negative when the next key went down first).
pub fn fixed_text_features(sample: &KeystrokeSample) -> Result<Vec<f64>, KeystrokeError> {
    let TextKind::Fixed { length } = sample.kind else {
        return Err(KeystrokeError::WrongKeyKind {
            index: 0,
            expected: "fixed-text",
            found: "key-class",
        });
    };
    let mut by_position: Vec<Option<&Keystroke>> = vec![None; usize::from(length)];
    let mut counts = vec![0usize; usize::from(length)];
    for s in &sample.strokes {
        if let KeyId::Position(p) = s.key {
            counts[usize::from(p)] += 1;
            by_position[usize::from(p)] = Some(s);
        }
    }
    if let Some((position, &count)) = counts.iter().enumerate().find(|(_, c)| **c != 1) {
        return Err(KeystrokeError::NotTypedOnce {
            position: position as u16,
            count,
        });
    }
    let keys: Vec<&Keystroke> = by_position.into_iter().flatten().collect();
    let mut features = Vec::with_capacity(fixed_text_feature_count(keys.len()));
    for (i, k) in keys.iter().enumerate() {
        features.push(k.up - k.down);
        if let Some(next) = keys.get(i + 1) {
            features.push(next.down - k.down);
            features.push(next.down - k.up);
        }
    }
    Ok(features)
}

/// Quantiles (10th, 25th, 50th, 75th, 90th percentile) of a timing distribution, 0 when empty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantiles(pub [f64; 5]);

impl Quantiles {
    const LEVELS: [f64; 5] = [0.10, 0.25, 0.50, 0.75, 0.90];

    fn of(mut values: Vec<f64>) -> Self {
        if values.is_empty() {
            return Self([0.0; 5]);
        }
        values.sort_by(f64::total_cmp);
        Self(Self::LEVELS.map(|q| {
            // Linear interpolation between order statistics (type 7, as R and numpy default).
            let h = q * (values.len() - 1) as f64;
            let (lo, frac) = (h.floor() as usize, h.fract());
            let hi = (lo + 1).min(values.len() - 1);
            values[lo] + frac * (values[hi] - values[lo])
        }))
    }
}

/// Timing statistics of consecutive keystrokes from one key class to another.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Digraph {
    pub from: KeyClass,
    pub to: KeyClass,
    pub count: usize,
    /// Mean down-down latency (ms).
    pub mean_down_down: f64,
    /// Mean up-down latency, the flight time (ms).
    pub mean_up_down: f64,
}

/// The free-text profile of a sample: the distributions of hold and flight times, holds per
/// key class, and digraph statistics over key classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreeTextFeatures {
    pub keystrokes: usize,
    pub hold: Quantiles,
    /// Up-down latencies between consecutive keystrokes.
    pub flight: Quantiles,
    pub down_down: Quantiles,
    /// Mean hold per key class ([`KeyClass::ALL`] order), `None` for a class not typed.
    pub class_hold: [Option<f64>; 7],
    /// Every class pair that occurred, in [`KeyClass::ALL`] order of (from, to).
    pub digraphs: Vec<Digraph>,
}

/// The free-text features of a sample. Keys of a fixed-text sample count as class `Other`:
/// the timing distributions apply to any typing.
pub fn free_text_features(sample: &KeystrokeSample) -> FreeTextFeatures {
    let class = |k: &Keystroke| match k.key {
        KeyId::Class(c) => c,
        KeyId::Position(_) => KeyClass::Other,
    };
    let strokes = &sample.strokes;
    let holds: Vec<f64> = strokes.iter().map(|k| k.up - k.down).collect();
    let mut class_sum = [(0.0, 0usize); 7];
    for (k, h) in strokes.iter().zip(&holds) {
        let slot = &mut class_sum[class(k).index()];
        slot.0 += h;
        slot.1 += 1;
    }
    // sums[from][to] = (count, down-down sum, up-down sum)
    let mut sums = [[(0usize, 0.0, 0.0); 7]; 7];
    let mut flights = Vec::with_capacity(strokes.len());
    let mut down_downs = Vec::with_capacity(strokes.len());
    for pair in strokes.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (dd, ud) = (b.down - a.down, b.down - a.up);
        flights.push(ud);
        down_downs.push(dd);
        let slot = &mut sums[class(a).index()][class(b).index()];
        slot.0 += 1;
        slot.1 += dd;
        slot.2 += ud;
    }
    let mut digraphs = Vec::new();
    for from in KeyClass::ALL {
        for to in KeyClass::ALL {
            let (count, dd, ud) = sums[from.index()][to.index()];
            if count > 0 {
                digraphs.push(Digraph {
                    from,
                    to,
                    count,
                    mean_down_down: dd / count as f64,
                    mean_up_down: ud / count as f64,
                });
            }
        }
    }
    FreeTextFeatures {
        keystrokes: strokes.len(),
        hold: Quantiles::of(holds),
        flight: Quantiles::of(flights),
        down_down: Quantiles::of(down_downs),
        class_hold: class_sum.map(|(sum, n)| (n > 0).then(|| sum / n as f64)),
        digraphs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(position: u16, down: f64, up: f64) -> Keystroke {
        Keystroke {
            key: KeyId::Position(position),
            down,
            up,
        }
    }

    fn class(c: KeyClass, down: f64, up: f64) -> Keystroke {
        Keystroke {
            key: KeyId::Class(c),
            down,
            up,
        }
    }

    /// "cat" typed with known times: c 0-90, a 150-230, t 200-310 (t goes down before a
    /// comes up, so that up-down latency is negative).
    #[test]
    fn hand_computed_fixed_text_features() {
        let sample = KeystrokeSample::new(
            TextKind::Fixed { length: 3 },
            // Given out of order: the sample sorts by key-down.
            vec![at(2, 200.0, 310.0), at(0, 0.0, 90.0), at(1, 150.0, 230.0)],
        )
        .unwrap();
        let f = fixed_text_features(&sample).unwrap();
        // H.0, DD.0.1, UD.0.1, H.1, DD.1.2, UD.1.2, H.2
        assert_eq!(f, vec![90.0, 150.0, 60.0, 80.0, 50.0, -30.0, 110.0]);
        assert_eq!(f.len(), fixed_text_feature_count(3));
        assert_eq!(
            fixed_text_feature_names(3),
            ["H.0", "DD.0.1", "UD.0.1", "H.1", "DD.1.2", "UD.1.2", "H.2"]
        );
        // On every pair DD = H + UD, as in the CMU file.
        assert_eq!(f[1], f[0] + f[2]);
        assert_eq!(f[4], f[3] + f[5]);
    }

    #[test]
    fn hand_computed_free_text_features() {
        // "a b" then a backspace: letter 0-100, space 160-220, letter 300-380, backspace 500-560.
        let sample = KeystrokeSample::new(
            TextKind::Free,
            vec![
                class(KeyClass::Letter, 0.0, 100.0),
                class(KeyClass::Space, 160.0, 220.0),
                class(KeyClass::Letter, 300.0, 380.0),
                class(KeyClass::Backspace, 500.0, 560.0),
            ],
        )
        .unwrap();
        let f = free_text_features(&sample);
        assert_eq!(f.keystrokes, 4);
        // Holds 100, 60, 80, 60 -> sorted 60, 60, 80, 100; the median interpolates 60 and 80.
        assert_eq!(f.hold.0[2], 70.0);
        assert_eq!(f.hold.0[0], 60.0);
        // Flights 60, 80, 120; down-downs 160, 140, 200.
        assert_eq!(f.flight.0[2], 80.0);
        assert_eq!(f.down_down.0[2], 160.0);
        assert_eq!(f.class_hold[0], Some(90.0));
        assert_eq!(f.class_hold[2], Some(60.0));
        assert_eq!(f.class_hold[1], None);
        let pairs: Vec<(KeyClass, KeyClass, usize, f64, f64)> = f
            .digraphs
            .iter()
            .map(|d| (d.from, d.to, d.count, d.mean_down_down, d.mean_up_down))
            .collect();
        assert_eq!(
            pairs,
            [
                (KeyClass::Letter, KeyClass::Space, 1, 160.0, 60.0),
                (KeyClass::Letter, KeyClass::Backspace, 1, 200.0, 120.0),
                (KeyClass::Space, KeyClass::Letter, 1, 140.0, 80.0),
            ]
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let fixed = TextKind::Fixed { length: 2 };
        let check = |kind, strokes| KeystrokeSample::new(kind, strokes).unwrap_err();
        assert_eq!(check(fixed, vec![]), KeystrokeError::Empty);
        assert_eq!(
            check(fixed, vec![at(0, 0.0, 10.0), at(1, f64::NAN, 30.0)]),
            KeystrokeError::NonFinite { index: 1 }
        );
        assert_eq!(
            check(fixed, vec![at(0, 0.0, f64::INFINITY)]),
            KeystrokeError::NonFinite { index: 0 }
        );
        assert_eq!(
            check(fixed, vec![at(0, -5.0, 10.0)]),
            KeystrokeError::Negative {
                index: 0,
                time: -5.0
            }
        );
        assert!(matches!(
            check(fixed, vec![at(0, 1e14, 1e14 + 5.0)]),
            KeystrokeError::TooLarge { index: 0, .. }
        ));
        assert_eq!(
            check(fixed, vec![at(0, 50.0, 40.0)]),
            KeystrokeError::UpBeforeDown {
                index: 0,
                down: 50.0,
                up: 40.0
            }
        );
        assert_eq!(
            check(fixed, vec![at(0, 0.0, 10.0), at(2, 20.0, 30.0)]),
            KeystrokeError::PositionOutOfRange {
                index: 1,
                position: 2,
                length: 2
            }
        );
        assert!(matches!(
            check(fixed, vec![class(KeyClass::Letter, 0.0, 10.0)]),
            KeystrokeError::WrongKeyKind { index: 0, .. }
        ));
        assert!(matches!(
            check(TextKind::Free, vec![at(0, 0.0, 10.0)]),
            KeystrokeError::WrongKeyKind { index: 0, .. }
        ));
        assert_eq!(
            check(TextKind::Fixed { length: 0 }, vec![at(0, 0.0, 10.0)]),
            KeystrokeError::FieldLength { length: 0 }
        );
        assert!(matches!(
            check(fixed, vec![at(0, 0.0, 10.0), at(1, 4e6, 4e6 + 10.0)]),
            KeystrokeError::SpanTooLong { .. }
        ));
    }

    #[test]
    fn fixed_text_features_need_each_position_once() {
        let fixed = TextKind::Fixed { length: 3 };
        let twice = KeystrokeSample::new(fixed, vec![at(0, 0.0, 10.0), at(0, 20.0, 30.0)]).unwrap();
        assert_eq!(
            fixed_text_features(&twice),
            Err(KeystrokeError::NotTypedOnce {
                position: 0,
                count: 2
            })
        );
        let free =
            KeystrokeSample::new(TextKind::Free, vec![class(KeyClass::Digit, 0.0, 1.0)]).unwrap();
        assert!(fixed_text_features(&free).is_err());
    }
}
