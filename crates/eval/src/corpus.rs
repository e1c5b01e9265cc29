//! A folder of users, each a folder of session files, turned into action features.

use std::path::{Path, PathBuf};

use pointerprint_core::augment::{COARSE_INTERVAL_MS, resample};
use pointerprint_core::{FeatureVector, extract};
use pointerprint_formats::{read_file, session_files};
use rayon::prelude::*;

use crate::{EvalError, Progress};

/// One session's actions.
#[derive(Debug, Clone)]
pub struct Session {
    pub path: PathBuf,
    /// The file name, which the challenge's labels use as the session id.
    pub name: String,
    pub actions: Vec<FeatureVector>,
    /// The actions of the session resampled coarsely, to train on beside the original
    /// (see `pointerprint_core::augment`).
    pub resampled: Vec<FeatureVector>,
    /// Rows of the file left out for a button or state the reader does not know.
    pub unknown_rows: usize,
}

/// One user's sessions, in file-name order (the order the recorders numbered them).
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub sessions: Vec<Session>,
}

impl User {
    /// Rows of the user's files left out for a button or state the reader does not know.
    pub fn unknown_rows(&self) -> usize {
        self.sessions.iter().map(|s| s.unknown_rows).sum()
    }

    pub fn action_count(&self) -> usize {
        self.sessions.iter().map(|s| s.actions.len()).sum()
    }

    /// All actions in session order.
    pub fn actions(&self) -> Vec<FeatureVector> {
        self.sessions
            .iter()
            .flat_map(|s| s.actions.iter().copied())
            .collect()
    }

    /// Training sequences: each session followed by its resampled copy, so a contiguous
    /// block of them keeps a session and its copy together.
    pub fn training_sessions(&self) -> Vec<&[FeatureVector]> {
        self.sessions
            .iter()
            .flat_map(|s| [s.actions.as_slice(), s.resampled.as_slice()])
            .collect()
    }
}

/// Reads every user folder under `root` (each sub-folder is a user, its files searched
/// recursively) and extracts features from every session, in parallel; with `augment`, also
/// from each session's resampled copy.
pub fn read_users(
    root: &Path,
    augment: bool,
    progress: &dyn Progress,
) -> Result<Vec<User>, EvalError> {
    let layout = |message: String| EvalError::Layout {
        path: root.to_path_buf(),
        message,
    };
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| layout(format!("cannot list users: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !is_hidden(p))
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(layout("no user folders found".into()));
    }
    let mut listed = Vec::with_capacity(folders.len());
    for folder in folders {
        let files = session_files(&folder)?;
        listed.push((file_name(&folder), files));
    }
    progress.stage(
        "reading sessions",
        listed.iter().map(|(_, f)| f.len()).sum(),
    );
    listed
        .into_par_iter()
        .map(|(name, files)| {
            let sessions = files
                .into_par_iter()
                .map(|path| {
                    let parsed = read_file(&path)?;
                    let recording = parsed.recording;
                    let actions = extract(&recording);
                    let resampled = if augment {
                        extract(&resample(&recording, COARSE_INTERVAL_MS))
                    } else {
                        Vec::new()
                    };
                    progress.step();
                    Ok(Session {
                        name: file_name(&path),
                        path,
                        actions,
                        resampled,
                        unknown_rows: parsed.unknown_rows,
                    })
                })
                .collect::<Result<Vec<_>, EvalError>>()?;
            Ok(User { name, sessions })
        })
        .collect()
}

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}
