//! The evaluation's own files: the challenge's `filename,is_illegal` labels, read, and the
//! `filename,user,score` scores, written.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::ParseError;
use crate::feature_table::push_field;

/// Parses `filename,is_illegal` labels (1 = someone else's session); a header line is
/// allowed, blank lines are skipped.
pub fn parse_labels(text: &str) -> Result<HashMap<String, bool>, ParseError> {
    let mut labels = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if line.trim().is_empty() || (i == 0 && line.trim_start().starts_with("filename")) {
            continue;
        }
        let (name, flag) = line
            .split_once(',')
            .ok_or_else(|| ParseError::new(number, 1, "expected filename,is_illegal"))?;
        let impostor = match flag.trim() {
            "1" => true,
            "0" => false,
            other => {
                return Err(ParseError::new(
                    number,
                    name.len() + 2,
                    format!("is_illegal must be 0 or 1, found {other:?}"),
                ));
            }
        };
        labels.insert(name.trim().to_string(), impostor);
    }
    Ok(labels)
}

/// One scored session of `scores.csv`; higher scores mean more likely an impostor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRow<'a> {
    pub filename: &'a str,
    pub user: &'a str,
    pub score: f64,
}

/// Writes `filename,user,score` and one line per session.
pub fn write_scores<'a>(
    out: &mut impl Write,
    rows: impl IntoIterator<Item = ScoreRow<'a>>,
) -> io::Result<()> {
    let mut buf = b"filename,user,score\n".to_vec();
    for row in rows {
        push_field(&mut buf, row.filename);
        buf.push(b',');
        push_field(&mut buf, row.user);
        buf.push(b',');
        buf.extend_from_slice(row.score.to_string().as_bytes());
        buf.push(b'\n');
    }
    out.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_with_located_errors() {
        let labels = parse_labels("filename,is_illegal\nsession_1,0\n\n session_2 , 1\n").unwrap();
        assert_eq!(labels.len(), 2);
        assert!(!labels["session_1"]);
        assert!(labels["session_2"]);
        let e = parse_labels("filename,is_illegal\nsession_1,maybe\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 11));
        assert!(e.message.contains("\"maybe\""), "{e}");
        let e = parse_labels("session_1\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (1, "expected filename,is_illegal")
        );
    }

    #[test]
    fn scores_are_one_line_per_session() {
        let mut out = Vec::new();
        let rows = [
            ScoreRow {
                filename: "session_1",
                user: "user7",
                score: -0.25,
            },
            ScoreRow {
                filename: "a,b",
                user: "user9",
                score: 1.0,
            },
        ];
        write_scores(&mut out, rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "filename,user,score\nsession_1,user7,-0.25\n\"a,b\",user9,1\n"
        );
    }
}
