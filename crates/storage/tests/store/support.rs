//! What every topic's tests share: fresh databases of each backend, raw access to their
//! rows, the macro that runs a test on both, and small fixtures.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pointerprint_core::{Button, Event, EventKind};
use pointerprint_storage::testing::TempPostgres;
use pointerprint_storage::{Cipher, DecisionQuery, NewBatch, NewDecision, StorageError, Store};
use tempfile::TempDir;

pub(crate) const KEY: [u8; 32] = [0x42; 32];

/// A fresh empty database of one backend; gone when dropped.
pub(crate) enum TestDb {
    Sqlite(TempDir),
    Postgres(TempPostgres),
}

impl TestDb {
    pub(crate) fn sqlite() -> TestDb {
        TestDb::Sqlite(tempfile::tempdir().unwrap())
    }

    pub(crate) fn postgres() -> TestDb {
        TestDb::Postgres(TempPostgres::new())
    }

    /// What `Store::open` takes: the SQLite file's path or the PostgreSQL URL.
    pub(crate) fn target(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => db_path(dir).to_string_lossy().into_owned(),
            TestDb::Postgres(pg) => pg.url().to_string(),
        }
    }

    pub(crate) async fn open(&self, cipher: Cipher) -> Result<Store, StorageError> {
        Store::open(&self.target(), cipher).await
    }

    pub(crate) async fn store(&self) -> Store {
        self.open(Cipher::new(KEY)).await.unwrap()
    }

    pub(crate) fn raw(&self) -> Raw {
        match self {
            TestDb::Sqlite(dir) => Raw::Sqlite(db_path(dir)),
            TestDb::Postgres(pg) => Raw::Postgres(pg.url().to_string()),
        }
    }
}

/// Direct access to the database under the store, to tamper with rows.
pub(crate) enum Raw {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Runs `$body` with `$pool` bound to a fresh one-connection pool on the raw database;
/// the statements use `$N` placeholders, which both backends read.
macro_rules! on_raw {
    ($raw:expr, $pool:ident => $body:expr) => {
        match $raw {
            Raw::Sqlite(path) => {
                let $pool = &sqlite_pool(path).await;
                $body
            }
            Raw::Postgres(url) => {
                let $pool = &pg_pool(url).await;
                $body
            }
        }
    };
}

impl Raw {
    pub(crate) async fn batch_payload(&self, session: &str, seq: i64) -> Vec<u8> {
        let sql = "SELECT payload FROM batches WHERE session_id = $1 AND seq = $2";
        on_raw!(self, pool => sqlx::query_scalar(sql)
            .bind(session)
            .bind(seq)
            .fetch_one(pool)
            .await
            .unwrap())
    }

    pub(crate) async fn set_batch_payload(&self, session: &str, seq: i64, payload: &[u8]) {
        let sql = "UPDATE batches SET payload = $3 WHERE session_id = $1 AND seq = $2";
        on_raw!(self, pool => {
            sqlx::query(sql)
                .bind(session)
                .bind(seq)
                .bind(payload)
                .execute(pool)
                .await
                .unwrap();
        });
    }

    /// Runs a statement without parameters.
    pub(crate) async fn execute(&self, sql: &'static str) {
        on_raw!(self, pool => {
            sqlx::query(sql).execute(pool).await.unwrap();
        });
    }

    pub(crate) async fn model_payloads(&self) -> Vec<(String, Vec<u8>)> {
        let sql = "SELECT user_id, payload FROM models ORDER BY user_id";
        on_raw!(self, pool => sqlx::query_as(sql).fetch_all(pool).await.unwrap())
    }

    pub(crate) async fn set_model_payload(&self, user: &str, payload: &[u8]) {
        let sql = "UPDATE models SET payload = $2 WHERE user_id = $1";
        on_raw!(self, pool => {
            sqlx::query(sql)
                .bind(user)
                .bind(payload)
                .execute(pool)
                .await
                .unwrap();
        });
    }
}

pub(crate) async fn sqlite_pool(path: &Path) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(5));
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

pub(crate) async fn pg_pool(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap()
}

/// Turns `async fn name(db: TestDb) { … }` into a module `name` with a test `sqlite` and a
/// test `postgres` that run the body on a fresh database of each backend. Applied where
/// the test is written (`#[apply(both_backends!)]`), so no test can be run on one backend
/// only, and none needs registering elsewhere.
macro_rules! both_backends {
    ($(#[$attr:meta])* async fn $name:ident($db:ident: TestDb) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$attr])*
            async fn body($db: $crate::support::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                body($crate::support::TestDb::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                body($crate::support::TestDb::postgres()).await;
            }
        }
    };
}
pub(crate) use both_backends;

pub(crate) fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("pointerprint.db")
}

/// `n` move events whose x starts at `x0`, so batches can be told apart.
pub(crate) fn events(n: usize, x0: f64) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let kind = if i % 10 == 9 {
                EventKind::Wheel { dx: 0.0, dy: 3.0 }
            } else {
                EventKind::Move
            };
            Event::new(
                i as f64 * 8.0,
                x0 + i as f64,
                100.0 + i as f64,
                kind,
                Button::None,
            )
        })
        .collect()
}

pub(crate) fn batch<'a>(
    user: &'a str,
    session: &'a str,
    seq: i64,
    ev: &'a [Event],
) -> NewBatch<'a> {
    NewBatch {
        user_id: user,
        session_id: session,
        seq,
        received_ms: 1_000 + seq,
        events: ev,
        screen: None,
    }
}

pub(crate) fn decision<'a>(
    user: &'a str,
    session: Option<&'a str>,
    created_ms: i64,
) -> NewDecision<'a> {
    NewDecision {
        user_id: user,
        session_id: session,
        decision: "accept",
        score: 0.75,
        threshold: 0.5,
        actions: 12,
        reasons_json: r#"["typical"]"#,
        created_ms,
    }
}

/// The newest `limit` decisions, of one user or of all.
pub(crate) fn query(user_id: Option<&str>, limit: u32) -> DecisionQuery<'_> {
    DecisionQuery {
        user_id,
        limit,
        ..DecisionQuery::default()
    }
}

/// Opens `session` of `user` for enrolment, without a token, as an import does.
pub(crate) async fn open_enrolment(store: &Store, user: &str, session: &str) {
    store
        .open_session(&pointerprint_storage::NewCollectionSession {
            session_id: session,
            user_id: user,
            purpose: pointerprint_storage::Purpose::Enrol,
            token_hash: None,
            created_ms: 0,
            expires_ms: 0,
        })
        .await
        .unwrap();
}
