//! `--record FILE`: everything captured, in pointerprint's native format, for offline
//! enrolment (`pointerprint import`) and tests. The file is rewritten whole (temporary
//! file, then rename) at every batch, so it always reads as a complete recording.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use pointerprint_formats::{NativeEvent, NativeRecording, NativeScreen};

#[derive(Debug, thiserror::Error)]
#[error("cannot write the recording {path}: {source}")]
pub struct RecordError {
    path: PathBuf,
    source: std::io::Error,
}

pub struct Recorder {
    path: PathBuf,
    recording: NativeRecording,
}

impl Recorder {
    pub fn new(path: &Path, screen: NativeScreen) -> Recorder {
        Recorder {
            path: path.to_path_buf(),
            recording: NativeRecording {
                screen: Some(screen),
                events: Vec::new(),
            },
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.recording.events.len()
    }

    /// Adds events and writes the whole recording again.
    pub fn append(&mut self, events: &[NativeEvent]) -> Result<(), RecordError> {
        self.recording.events.extend_from_slice(events);
        self.write().map_err(|source| RecordError {
            path: self.path.clone(),
            source,
        })
    }

    fn write(&self) -> std::io::Result<()> {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        let tmp = self.path.with_file_name(format!(".{name}.tmp"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        let mut out = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut out, &self.recording)?;
        out.flush()?;
        std::fs::rename(&tmp, &self.path)
    }
}
