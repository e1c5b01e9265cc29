//! Demo only: a background population of synthetic users, so that the first person who
//! enrols on a fresh install has someone to be told apart from. A model trained against
//! them learns to separate the person from synthetic motion; real deployments need real
//! other users (see docs/demo.md).

use pointerprint_storage::{NewBatch, StorageError, Store};
use pointerprint_synth::{population, session};

use crate::ingest::now_ms;

/// Fewer other users with data than this, and the synthetic ones are added.
const WANTED_OTHERS: usize = 10;
/// How many synthetic users, named `synthetic-01`...
const USERS: usize = 12;
/// Sessions per synthetic user, and actions per session.
const SESSIONS: u64 = 2;
const ACTIONS: usize = 150;
/// Events per stored batch, as a collector would send them.
const BATCH_EVENTS: usize = 1_000;
/// Seed of the population: the same synthetic people on every install.
const POPULATION_SEED: u64 = 0xdead_beef;

/// Whether a user id is one of the synthetic background users.
pub fn is_synthetic(user_id: &str) -> bool {
    user_id.starts_with("synthetic-")
}

/// Adds the synthetic users that are missing when fewer than ten real users have data;
/// returns how many were added.
pub async fn background_population(store: &Store) -> Result<usize, StorageError> {
    let users = store.users().await?;
    let others = users
        .iter()
        .filter(|u| u.events > 0 && !is_synthetic(&u.user_id))
        .count();
    if others >= WANTED_OTHERS {
        return Ok(0);
    }
    let mut added = 0;
    for (i, style) in population(USERS, POPULATION_SEED).iter().enumerate() {
        let user_id = format!("synthetic-{:02}", i + 1);
        if users.iter().any(|u| u.user_id == user_id) {
            continue;
        }
        for s in 0..SESSIONS {
            let recording = session(style, s, ACTIONS);
            let session_id = format!("{user_id}-{s}");
            for (seq, events) in recording.events.chunks(BATCH_EVENTS).enumerate() {
                store
                    .insert_batch(&NewBatch {
                        user_id: &user_id,
                        session_id: &session_id,
                        seq: seq as i64,
                        received_ms: now_ms(),
                        events,
                        screen: recording.screen,
                    })
                    .await?;
            }
        }
        added += 1;
    }
    if added > 0 {
        tracing::info!(users = added, "demo: added synthetic background users");
    }
    Ok(added)
}
