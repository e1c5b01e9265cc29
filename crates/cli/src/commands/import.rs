use pointerprint_formats::{read_file, session_files};
use pointerprint_server::app::sessions::open_trusted_enrolment;
use pointerprint_storage::{Inserted, NewBatch, StorageError};

use super::with_store;
use crate::args::ImportArgs;

/// Stores each file as one enrolment session of the user (session id: the file name), so
/// the service's trainer enrols the user from them.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    pointerprint_server::domain::ids::UserId::parse(args.user.as_str())
        .map_err(|e| anyhow::anyhow!("--user {}", e.problem))?;
    let mut files = Vec::new();
    for path in &args.files {
        files.extend(session_files(path)?);
    }
    let recordings = files
        .iter()
        .map(|f| Ok((f, read_file(f)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    with_store(args.data.clone(), async |_, store| {
        let (mut stored, mut events) = (0, 0);
        let unknown_rows: usize = recordings.iter().map(|(_, p)| p.unknown_rows).sum();
        for (path, parsed) in &recordings {
            let recording = &parsed.recording;
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let session_id = format!("import:{}:{name}", args.user);
            match open_trusted_enrolment(&store, &args.user, &session_id).await {
                // imported before: its batch is a duplicate below
                Ok(()) | Err(StorageError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
            let batch = NewBatch {
                user_id: &args.user,
                session_id: &session_id,
                seq: 0,
                received_ms: store.now_ms(),
                events: &recording.events,
                screen: recording.screen,
            };
            if matches!(store.insert_batch(&batch).await?, Inserted::Stored) {
                stored += 1;
                events += recording.events.len();
            }
        }
        let id = store.enqueue_training(&args.user).await?;
        if unknown_rows > 0 {
            say!("{unknown_rows} rows with an unknown button or state left out")?;
        }
        say!(
            "{stored} sessions ({events} events) stored for {}; training job {id} queued (runs when the service runs)",
            args.user
        )?;
        anyhow::Ok(())
    })
}
