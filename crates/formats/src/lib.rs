//! Readers (and writers) for the file and wire formats of recorded mouse data, and the CMU
//! keystroke benchmark's CSV.
//!
//! Every reader turns bytes into a [`Recording`] or a [`ParseError`] that names the line and
//! column of the first bad value; none panics and none silently skips a malformed row. A
//! well-formed CSV row with a button or state the reader does not know (real recorders write
//! the odd `Other`) is left out and counted in [`Parsed::unknown_rows`], not fatal.

mod csv;
mod decimal;
mod evaluation;
mod extension;
mod feature_table;
mod keystroke;
mod native;

use std::fmt;
use std::path::{Path, PathBuf};

use pointerprint_core::Recording;

pub use csv::{CsvFlavour, write_csv};
pub use evaluation::{ScoreRow, parse_labels, write_scores};
pub use extension::ExtensionEvent;
pub use feature_table::{format_feature_rows, write_feature_header};
pub use keystroke::{
    CmuKeystrokeData, CmuRepetition, parse_cmu_keystroke, read_cmu_keystroke, write_cmu_keystroke,
};
pub use native::{
    Millis, NativeBatch, NativeEvent, NativeRecording, NativeScreen, PointerType, to_native,
};

/// The formats the readers understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `record timestamp,client timestamp,button,state,x,y`, times in seconds.
    BalabitCsv,
    /// `client timestamp,button,state,x,y`, times in milliseconds.
    FiveColumnCsv,
    /// A JSON array of the original browser extension's `eventType` records.
    ExtensionJson,
    /// pointerprint's own JSON event format (see [`NativeRecording`]).
    Native,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::BalabitCsv => "Balabit CSV",
            Format::FiveColumnCsv => "5-column CSV",
            Format::ExtensionJson => "extension JSON",
            Format::Native => "pointerprint JSON",
        })
    }
}

/// A malformed input, located at its first bad value (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(line: usize, column: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            column,
            message: message.into(),
        }
    }

    pub(crate) fn from_json(e: &serde_json::Error) -> Self {
        Self::new(e.line(), e.column(), json_message(e))
    }
}

/// serde_json's message without its own " at line L column C" suffix, which we print ourselves.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A file that could not be read or parsed. The message is complete on its own (the cause
/// is part of it, not a separate error source), so it prints once in any error chain.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {error}", path.display())]
    Parse { path: PathBuf, error: ParseError },
}

/// A parsed input: its recording, and the well-formed rows left out because their button or
/// state is one the reader does not know (so `eval` and `import` can say how many).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub recording: Recording,
    pub unknown_rows: usize,
}

impl From<Recording> for Parsed {
    fn from(recording: Recording) -> Self {
        Self {
            recording,
            unknown_rows: 0,
        }
    }
}

/// Recognises a format by the header (CSV) or the shape (JSON) of the input.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let text = bytes.trim_ascii_start();
    match text.first()? {
        b'[' => Some(Format::ExtensionJson),
        b'{' => Some(Format::Native),
        _ => csv::detect(text),
    }
}

/// Parses input of any supported format, detected with [`detect`].
pub fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    match detect(bytes) {
        Some(format) => parse_as(bytes, format),
        None if bytes.trim_ascii().is_empty() => Err(ParseError::new(1, 1, "the input is empty")),
        None => Err(ParseError::new(
            1,
            1,
            "unrecognised format: expected a Balabit or 5-column CSV header, a JSON array of \
             extension events, or a pointerprint JSON object",
        )),
    }
}

/// Parses input known to be in `format`.
pub fn parse_as(bytes: &[u8], format: Format) -> Result<Parsed, ParseError> {
    match format {
        Format::BalabitCsv | Format::FiveColumnCsv => {
            let (recording, unknown_rows) = csv::parse(bytes, format)?;
            Ok(Parsed {
                recording,
                unknown_rows,
            })
        }
        Format::ExtensionJson => extension::parse(bytes).map(Parsed::from),
        Format::Native => native::parse(bytes).map(Parsed::from),
    }
}

/// Reads and parses a `filename,is_illegal` labels file (see [`parse_labels`]).
pub fn read_labels(path: &Path) -> Result<std::collections::HashMap<String, bool>, ReadError> {
    let located = |error| ReadError::Parse {
        path: path.to_path_buf(),
        error,
    };
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| located(ParseError::new(1, 1, format!("not UTF-8: {e}"))))?;
    parse_labels(text).map_err(located)
}

/// Reads and parses one session file.
pub fn read_file(path: &Path) -> Result<Parsed, ReadError> {
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&bytes).map_err(|error| ReadError::Parse {
        path: path.to_path_buf(),
        error,
    })
}

/// Every file under `path` (or `path` itself if it is a file), recursively, in name order.
/// Hidden files (a leading dot) are skipped; an unreadable directory is an error.
pub fn session_files(path: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let io = |error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    };
    if path.metadata().map_err(io)?.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    let mut files = Vec::new();
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            files.extend(session_files(&entry)?);
        }
    }
    Ok(files)
}
