//! The CMU keystroke-dynamics benchmark's CSV (Killourhy & Maxion, DSN 2009): one row per
//! typing of a fixed password, `subject,sessionIndex,rep` then for each key its hold time
//! `H.k` and, to the next key, `DD.k.n` and `UD.k.n`, in seconds.
//!
//! Each row becomes a [`KeystrokeSample`] of field positions with key-down and key-up times in
//! milliseconds (the first key goes down at 0), so the core computes the features as it would
//! for a browser's keystrokes.

use std::path::Path;

use pointerprint_core::keystroke::{
    KeyId, Keystroke, KeystrokeError, KeystrokeSample, TextKind, fixed_text_features,
};

use crate::{ParseError, ReadError};

/// Seconds to milliseconds.
const MS_PER_S: f64 = 1000.0;

/// `DD = H + UD` holds to the file's 4 decimals; rows off by more are counted.
const CONSISTENCY_TOLERANCE_S: f64 = 1.5e-4;

/// One typing of the password.
#[derive(Debug, Clone, PartialEq)]
pub struct CmuRepetition {
    pub subject: String,
    /// `sessionIndex`, 1-8.
    pub session: u32,
    /// `rep` within the session, 1-50.
    pub rep: u32,
    pub sample: KeystrokeSample,
}

/// The whole file, rows in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct CmuKeystrokeData {
    /// Keys per typing (11 in the benchmark: `.tie5Roanl` and Return).
    pub field_length: usize,
    pub repetitions: Vec<CmuRepetition>,
    /// Rows whose `UD` disagrees with `DD - H`: kept (times come from `H` and `DD`), counted.
    pub inconsistent_rows: usize,
}

/// Reads the benchmark file.
pub fn read_cmu_keystroke(path: &Path) -> Result<CmuKeystrokeData, ReadError> {
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse_cmu_keystroke(&bytes).map_err(|error| ReadError::Parse {
        path: path.to_path_buf(),
        error,
    })
}

/// Parses the benchmark's CSV.
pub fn parse_cmu_keystroke(bytes: &[u8]) -> Result<CmuKeystrokeData, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        ParseError::new(line, 1, "the file is not UTF-8 text")
    })?;
    let mut lines = text.lines().enumerate();
    let header = lines
        .next()
        .map(|(_, l)| l.trim())
        .filter(|l| !l.is_empty())
        .ok_or_else(|| ParseError::new(1, 1, "the input is empty"))?;
    let field_length = field_length(header)?;
    let columns = 3 + columns(field_length);
    let mut repetitions = Vec::new();
    let mut inconsistent_rows = 0;
    for (index, line) in lines {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != columns {
            return Err(ParseError::new(
                line_no,
                1,
                format!("expected {columns} fields, found {}", fields.len()),
            ));
        }
        let integer = |column: usize| {
            fields[column].parse::<u32>().map_err(|_| {
                ParseError::new(
                    line_no,
                    column + 1,
                    format!("{:?} is not a whole number", fields[column]),
                )
            })
        };
        let (session, rep) = (integer(1)?, integer(2)?);
        let mut times = Vec::with_capacity(columns - 3);
        for (column, field) in fields.iter().enumerate().skip(3) {
            let value: f64 = field.parse().map_err(|_| {
                ParseError::new(line_no, column + 1, format!("{field:?} is not a number"))
            })?;
            times.push(value);
        }
        let (sample, consistent) = sample(field_length, &times).map_err(|e| {
            let key = match &e {
                KeystrokeError::NonFinite { index }
                | KeystrokeError::Negative { index, .. }
                | KeystrokeError::TooLarge { index, .. }
                | KeystrokeError::UpBeforeDown { index, .. } => *index,
                _ => 0,
            };
            ParseError::new(line_no, 4 + 3 * key, e.to_string())
        })?;
        if !consistent {
            inconsistent_rows += 1;
        }
        repetitions.push(CmuRepetition {
            subject: fields[0].to_string(),
            session,
            rep,
            sample,
        });
    }
    Ok(CmuKeystrokeData {
        field_length,
        repetitions,
        inconsistent_rows,
    })
}

/// Writes repetitions in the benchmark's layout, naming the keys `keys` (one name per field
/// position, as in the header `H.<key>`). A repetition whose sample is not one typing of
/// every position of a field of `keys.len()` keys is an error.
pub fn write_cmu_keystroke(
    keys: &[&str],
    repetitions: &[CmuRepetition],
) -> Result<String, KeystrokeError> {
    let mut out = String::from("subject,sessionIndex,rep");
    for (i, k) in keys.iter().enumerate() {
        out.push_str(&format!(",H.{k}"));
        if let Some(n) = keys.get(i + 1) {
            out.push_str(&format!(",DD.{k}.{n},UD.{k}.{n}"));
        }
    }
    out.push('\n');
    for r in repetitions {
        let found = match r.sample.kind() {
            TextKind::Fixed { length } => usize::from(length),
            TextKind::Free => 0,
        };
        if found != keys.len() {
            return Err(KeystrokeError::FieldMismatch {
                expected: keys.len(),
                found,
            });
        }
        let features = fixed_text_features(&r.sample)?;
        out.push_str(&format!("{},{},{}", r.subject, r.session, r.rep));
        for v in features {
            out.push_str(&format!(",{:.4}", v / MS_PER_S));
        }
        out.push('\n');
    }
    Ok(out)
}

/// Timing columns for a field of `length` keys: `H` per key, `DD` and `UD` per pair.
fn columns(length: usize) -> usize {
    3 * length - 2
}

/// Checks the header's layout and returns the number of keys.
fn field_length(header: &str) -> Result<usize, ParseError> {
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let bad = |column: usize, message: String| ParseError::new(1, column + 1, message);
    for (column, expected) in ["subject", "sessionIndex", "rep"].iter().enumerate() {
        if names.get(column) != Some(expected) {
            return Err(bad(
                column,
                format!(
                    "expected the CMU keystroke header, starting subject,sessionIndex,rep: column {} should be {expected}",
                    column + 1
                ),
            ));
        }
    }
    let timing = &names[3..];
    if timing.is_empty() || timing.len() % 3 != 1 {
        return Err(bad(
            3,
            "expected H.key, then DD.key.next, UD.key.next, H.next for each further key".into(),
        ));
    }
    let key_of = |column: usize| -> Result<&str, ParseError> {
        names[column]
            .strip_prefix("H.")
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                bad(
                    column,
                    format!("expected a hold column H.key, found {:?}", names[column]),
                )
            })
    };
    let mut previous = key_of(3)?;
    for pair in 0..timing.len() / 3 {
        let column = 4 + 3 * pair;
        let next = key_of(column + 2)?;
        for (offset, kind) in ["DD", "UD"].iter().enumerate() {
            let expected = format!("{kind}.{previous}.{next}");
            if names[column + offset] != expected {
                return Err(bad(
                    column + offset,
                    format!("expected {expected}, found {:?}", names[column + offset]),
                ));
            }
        }
        previous = next;
    }
    Ok(timing.len().div_ceil(3))
}

/// A row's timings (seconds, `H.0, DD.0.1, UD.0.1, H.1, ...`) as a sample, and whether its
/// `UD` columns agree with `DD - H`.
fn sample(length: usize, times: &[f64]) -> Result<(KeystrokeSample, bool), KeystrokeError> {
    let mut strokes = Vec::with_capacity(length);
    let mut down = 0.0;
    let mut consistent = true;
    for key in 0..length {
        let hold = times[3 * key];
        strokes.push((key, down, hold));
        if key + 1 < length {
            let (dd, ud) = (times[3 * key + 1], times[3 * key + 2]);
            consistent &= (dd - (hold + ud)).abs() <= CONSISTENCY_TOLERANCE_S;
            down += dd;
        }
    }
    // A key may go down before the previous one (negative DD): start the clock at the first.
    let start = strokes.iter().map(|s| s.1).fold(0.0, f64::min);
    let strokes = strokes
        .into_iter()
        .map(|(key, down, hold)| Keystroke {
            key: KeyId::Position(key as u16),
            down: (down - start) * MS_PER_S,
            up: (down - start + hold) * MS_PER_S,
        })
        .collect();
    let kind = TextKind::Fixed {
        length: length as u16,
    };
    Ok((KeystrokeSample::new(kind, strokes)?, consistent))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "subject,sessionIndex,rep,H.a,DD.a.b,UD.a.b,H.b,DD.b.Shift.r,UD.b.Shift.r,H.Shift.r";

    #[test]
    fn rows_become_samples_with_the_same_features() {
        let csv = format!(
            "{HEADER}\ns002,1,1,0.1491,0.3979,0.2488,0.1069,0.1674,0.0605,0.1169\n\
             s003,2,7,0.1000,0.0500,-0.0500,0.0900,0.2000,0.1100,0.0800\n"
        );
        let data = parse_cmu_keystroke(csv.as_bytes()).unwrap();
        assert_eq!(data.field_length, 3);
        assert_eq!(data.inconsistent_rows, 0);
        let r = &data.repetitions[1];
        assert_eq!((r.subject.as_str(), r.session, r.rep), ("s003", 2, 7));
        let f = fixed_text_features(&data.repetitions[0].sample).unwrap();
        let expected = [149.1, 397.9, 248.8, 106.9, 167.4, 60.5, 116.9];
        for (a, b) in f.iter().zip(expected) {
            assert!((a - b).abs() < 1e-9, "{f:?}");
        }
        // The second key went down before the first came up: UD is negative.
        let f = fixed_text_features(&r.sample).unwrap();
        assert!((f[2] + 50.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn written_files_read_back() {
        let csv = format!(
            "{HEADER}\ns002,1,1,0.1491,0.3979,0.2488,0.1069,0.1674,0.0605,0.1169\n\
             s003,2,7,0.1000,0.0500,-0.0500,0.0900,0.2000,0.1100,0.0800\n"
        );
        let data = parse_cmu_keystroke(csv.as_bytes()).unwrap();
        let written = write_cmu_keystroke(&["a", "b", "Shift.r"], &data.repetitions).unwrap();
        assert_eq!(written, csv);
        assert!(write_cmu_keystroke(&["a", "b"], &data.repetitions).is_err());
    }

    #[test]
    fn inconsistent_rows_are_counted_not_fatal() {
        let csv = format!("{HEADER}\ns002,1,1,0.1,0.4,0.2,0.1,0.2,0.1,0.1\n");
        assert_eq!(
            parse_cmu_keystroke(csv.as_bytes())
                .unwrap()
                .inconsistent_rows,
            1
        );
    }

    #[test]
    fn bad_input_is_located() {
        let err = |csv: String| parse_cmu_keystroke(csv.as_bytes()).unwrap_err();
        let e = err(format!("{HEADER}\ns002,1,1,-0.1,0.4,0.5,0.1,0.2,0.1,0.1\n"));
        assert_eq!((e.line, e.column), (2, 4));
        assert!(e.message.contains("negative"), "{e}");
        let e = err(format!("{HEADER}\ns002,1,1,0.1,0.4,0.5,-0.1,0.2,0.3,0.1\n"));
        assert_eq!((e.line, e.column), (2, 7));
        assert!(e.message.contains("before key-down"), "{e}");
        let e = err(format!("{HEADER}\ns002,1,1,0.1,0.4,0.3,0.1,0.2,0.1,NaN\n"));
        assert_eq!((e.line, e.column), (2, 10));
        let e = err(format!("{HEADER}\ns002,1,1,0.1,0.4,0.3,0.1,0.2,0.1,1e12\n"));
        assert_eq!((e.line, e.column), (2, 10));
        let e = err(format!("{HEADER}\ns002,1,x,0.1,0.4,0.3,0.1,0.2,0.1,0.1\n"));
        assert_eq!((e.line, e.column), (2, 3));
        let e = err(format!("{HEADER}\ns002,1,1,0.1,0.4,0.3\n"));
        assert_eq!(e.line, 2);
        let e = err("subject,sessionIndex,rep,H.a,DD.a.c,UD.a.b,H.b\n".into());
        assert_eq!((e.line, e.column), (1, 5));
        let e = err("record timestamp,client timestamp,button,state,x,y\n".into());
        assert_eq!(e.line, 1);
        assert!(err(String::new()).message.contains("empty"));
    }
}
