//! Batches not yet acknowledged, on disk: one file per batch holding the exact body to
//! post, named by its place in the queue, in a folder only the user can read (0700, files
//! 0600). A batch is written whole (temporary file, then rename) before anything tries to
//! send it, and removed only once the server acknowledged it, so a crash or `kill -9`
//! loses nothing that was queued, and the server's `(session_id, seq)` deduplication
//! makes the one possible repeat (sent, acknowledged, killed before the removal) harmless.
//!
//! The queue is bounded in bytes: past the bound the oldest batches go, counted and logged.
//! The next `seq` of the current session is kept beside the batches, so an agent restarted
//! with the same `--session` continues the numbering instead of sending new data under
//! numbers the server already has.

use std::collections::VecDeque;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use pointerprint_formats::NativeBatch;
use serde::{Deserialize, Serialize};

const SEQ_FILE: &str = "session.json";
const BATCH_SUFFIX: &str = ".batch.json";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "queue folder {0} belongs to another user: the agent keeps its queue only where no one \
         else can read it"
    )]
    NotOwned(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> QueueError + '_ {
    move |source| QueueError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A batch waiting in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub index: u64,
    /// The body to post, exactly as written.
    pub body: Vec<u8>,
    pub batch: NativeBatch,
}

/// The session whose numbering the queue continues.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionSeq {
    session_id: String,
    next_seq: u32,
}

#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    max_bytes: u64,
    /// Index and size of every batch file, oldest first.
    entries: VecDeque<(u64, u64)>,
    bytes: u64,
    next_index: u64,
    session: Option<SessionSeq>,
    dropped: u64,
}

impl Queue {
    /// Opens (creating) the queue in `dir`, with what an earlier run left in it.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Queue, QueueError> {
        private_dir(dir)?;
        let mut entries = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".tmp") {
                // A write cut short by a crash: the batch was never queued.
                let _ = fs::remove_file(entry.path());
            } else if let Some(index) = name
                .strip_suffix(BATCH_SUFFIX)
                .and_then(|i| i.parse::<u64>().ok())
            {
                let size = entry.metadata().map_err(io(dir))?.len();
                entries.push((index, size));
            }
        }
        entries.sort_unstable();
        let session = fs::read(dir.join(SEQ_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        Ok(Queue {
            dir: dir.to_path_buf(),
            max_bytes,
            bytes: entries.iter().map(|(_, s)| s).sum(),
            next_index: entries.last().map_or(0, |(i, _)| i + 1),
            entries: entries.into(),
            session,
            dropped: 0,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Batches dropped for the bound since the queue was opened.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The next sequence number of `session_id`: after the last one given out if the queue
    /// numbered this session before, else 0. Kept on disk before it is used, so a number
    /// is never given out twice, even across a crash.
    pub fn next_seq(&mut self, session_id: &str) -> Result<u32, QueueError> {
        let seq = match &self.session {
            Some(s) if s.session_id == session_id => s.next_seq,
            _ => 0,
        };
        let state = SessionSeq {
            session_id: session_id.to_string(),
            next_seq: seq.saturating_add(1),
        };
        let bytes = serde_json::to_vec(&state).expect("a plain struct serialises");
        write_whole(&self.dir, SEQ_FILE, &bytes)?;
        self.session = Some(state);
        Ok(seq)
    }

    /// Appends a batch; drops the oldest batches if the queue would exceed its bound
    /// (never the new one). Returns how many were dropped.
    pub fn push(&mut self, batch: &NativeBatch) -> Result<u64, QueueError> {
        let body = serde_json::to_vec(batch).expect("native events serialise");
        let size = body.len() as u64;
        let mut dropped = 0;
        while !self.entries.is_empty() && self.bytes + size > self.max_bytes {
            let (index, _) = self.entries[0];
            self.remove(index)?;
            dropped += 1;
        }
        let index = self.next_index;
        write_whole(&self.dir, &batch_name(index), &body)?;
        self.next_index += 1;
        self.entries.push_back((index, size));
        self.bytes += size;
        self.dropped += dropped;
        Ok(dropped)
    }

    /// The oldest batch. A file that no longer reads as a batch (the disk's fault, not the
    /// agent's) is removed with a warning and the next one is given.
    pub fn front(&mut self) -> Result<Option<Queued>, QueueError> {
        while let Some(&(index, _)) = self.entries.front() {
            let path = self.dir.join(batch_name(index));
            let body = fs::read(&path).map_err(io(&path))?;
            match serde_json::from_slice(&body) {
                Ok(batch) => return Ok(Some(Queued { index, body, batch })),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "dropping an unreadable queued batch");
                    self.remove(index)?;
                }
            }
        }
        Ok(None)
    }

    /// Removes a batch (acknowledged, or refused for good). Removing one that is no longer
    /// there (dropped for the bound meanwhile) does nothing.
    pub fn remove(&mut self, index: u64) -> Result<(), QueueError> {
        let Some(pos) = self.entries.iter().position(|(i, _)| *i == index) else {
            return Ok(());
        };
        let path = self.dir.join(batch_name(index));
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
        let (_, size) = self.entries.remove(pos).expect("position is in range");
        self.bytes -= size;
        Ok(())
    }
}

fn batch_name(index: u64) -> String {
    format!("{index:020}{BATCH_SUFFIX}")
}

/// Creates `dir` readable only by its owner, or makes an existing one so (if it is ours).
fn private_dir(dir: &Path) -> Result<(), QueueError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let meta = fs::metadata(dir).map_err(io(dir))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(QueueError::NotOwned(dir.to_path_buf()));
    }
    if meta.mode() & 0o077 != 0 {
        tracing::warn!(dir = %dir.display(), "queue folder was readable by others; now 0700");
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

/// Writes a file whole or not at all: a 0600 temporary file, synced, then renamed.
fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), QueueError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    let path = dir.join(name);
    fs::rename(&tmp, &path).map_err(io(&path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pointerprint_formats::{Millis, NativeEvent, PointerType};

    fn batch(seq: u32, events: usize) -> NativeBatch {
        NativeBatch {
            user_id: "alice".into(),
            session_id: "s".into(),
            seq,
            events: (0..events)
                .map(|i| NativeEvent::Move {
                    t: Millis(i as f64),
                    x: 1.0,
                    y: 2.0,
                    buttons: 0,
                    pointer: PointerType::Mouse,
                })
                .collect(),
            screen: None,
        }
    }

    fn drain(queue: &mut Queue) -> Vec<u32> {
        let mut seqs = Vec::new();
        while let Some(q) = queue.front().unwrap() {
            seqs.push(q.batch.seq);
            queue.remove(q.index).unwrap();
        }
        seqs
    }

    #[test]
    fn gives_batches_back_in_order_and_only_user_can_read_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue");
        let mut queue = Queue::open(&path, u64::MAX).unwrap();
        for seq in 0..12 {
            queue.push(&batch(seq, 3)).unwrap();
        }
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o700);
        for entry in fs::read_dir(&path).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let front = queue.front().unwrap().unwrap();
        assert_eq!(front.body, serde_json::to_vec(&batch(0, 3)).unwrap());
        assert_eq!(drain(&mut queue), (0..12).collect::<Vec<_>>());
        assert!(queue.is_empty());
        assert_eq!(queue.bytes(), 0);
    }

    #[test]
    fn bound_drops_the_oldest_batches_never_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let size = serde_json::to_vec(&batch(0, 5)).unwrap().len() as u64;
        let mut queue = Queue::open(dir.path(), size * 3).unwrap();
        let mut dropped = 0;
        for seq in 0..5 {
            dropped += queue.push(&batch(seq, 5)).unwrap();
        }
        assert_eq!(dropped, 2);
        assert_eq!(queue.dropped(), 2);
        assert_eq!(queue.len(), 3);
        assert!(queue.bytes() <= size * 3);
        // A batch larger than the whole bound still goes in, alone.
        queue.push(&batch(5, 50)).unwrap();
        assert_eq!(drain(&mut queue), vec![5]);
    }

    #[test]
    fn survives_a_restart_with_order_and_numbering_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut queue = Queue::open(dir.path(), u64::MAX).unwrap();
        for _ in 0..4 {
            let seq = queue.next_seq("s").unwrap();
            queue.push(&batch(seq, 2)).unwrap();
        }
        let first = queue.front().unwrap().unwrap();
        queue.remove(first.index).unwrap();
        // A crash mid-write leaves a temporary file: it is not a batch.
        fs::write(
            dir.path().join(".00000000000000000009.batch.json.tmp"),
            b"{",
        )
        .unwrap();
        drop(queue);

        let mut queue = Queue::open(dir.path(), u64::MAX).unwrap();
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.next_seq("s").unwrap(), 4);
        assert_eq!(queue.next_seq("other").unwrap(), 0);
        queue.push(&batch(99, 1)).unwrap();
        assert_eq!(drain(&mut queue), vec![1, 2, 3, 99]);
        assert!(
            !dir.path()
                .join(".00000000000000000009.batch.json.tmp")
                .exists()
        );
    }

    #[test]
    fn an_unreadable_file_is_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let mut queue = Queue::open(dir.path(), u64::MAX).unwrap();
        queue.push(&batch(0, 1)).unwrap();
        queue.push(&batch(1, 1)).unwrap();
        fs::write(dir.path().join(batch_name(0)), b"not json").unwrap();
        assert_eq!(drain(&mut queue), vec![1]);
    }
}
