//! Messages between the processes that share a database: a node publishes on a channel
//! and every subscriber, in this process or on another node, receives it. PostgreSQL
//! carries them with LISTEN/NOTIFY; an SQLite store, which one process owns, passes them
//! in memory.

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::StorageError;

/// The channel on which every stored batch is announced, with its session id as the
/// payload (sent by [`crate::Store::insert_batch`] itself, in the same transaction).
pub const BATCH_CHANNEL: &str = "pointerprint_batches";

/// Messages an SQLite store keeps for a slow subscriber before it misses some.
pub(crate) const LOCAL_BACKLOG: usize = 1024;

/// One published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub channel: String,
    pub payload: String,
}

/// A stream of the notifications of some channels, from [`crate::Store::subscribe`].
pub struct Subscription {
    inner: Inner,
}

enum Inner {
    Local {
        receiver: broadcast::Receiver<Notification>,
        channels: Vec<String>,
    },
    Postgres(Box<PgListener>),
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Inner::Local { .. } => "local",
            Inner::Postgres(_) => "postgres",
        };
        f.debug_struct("Subscription").field("kind", &kind).finish()
    }
}

impl Subscription {
    pub(crate) fn local(receiver: broadcast::Receiver<Notification>, channels: &[&str]) -> Self {
        Subscription {
            inner: Inner::Local {
                receiver,
                channels: channels.iter().map(|c| c.to_string()).collect(),
            },
        }
    }

    pub(crate) fn postgres(listener: PgListener) -> Self {
        Subscription {
            inner: Inner::Postgres(Box::new(listener)),
        }
    }

    /// The next notification. `Ok(None)` says some may have been missed (the connection
    /// to the database dropped and was re-established, or this subscriber fell behind):
    /// whatever the subscriber derives from notifications should be reloaded.
    pub async fn recv(&mut self) -> Result<Option<Notification>, StorageError> {
        match &mut self.inner {
            Inner::Local { receiver, channels } => loop {
                match receiver.recv().await {
                    Ok(n) if channels.contains(&n.channel) => return Ok(Some(n)),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return Ok(None),
                    Err(broadcast::error::RecvError::Closed) => {
                        return Err(StorageError::Database(sqlx::Error::PoolClosed));
                    }
                }
            },
            // `try_recv` reconnects on the next call after a lost connection.
            Inner::Postgres(listener) => Ok(listener.try_recv().await?.map(|n| Notification {
                channel: n.channel().to_string(),
                payload: n.payload().to_string(),
            })),
        }
    }
}
