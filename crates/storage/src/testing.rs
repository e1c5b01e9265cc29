//! For tests of this and other crates (feature `test-support`): a PostgreSQL database of
//! their own, created on a server given by `POINTERPRINT_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`, the CI server) and dropped when the value
//! goes out of scope, also when the test panics.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The server and maintenance database tests create their databases from.
pub fn admin_url() -> String {
    std::env::var("POINTERPRINT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A fresh, empty PostgreSQL database, dropped on drop.
#[derive(Debug)]
pub struct TempPostgres {
    name: String,
    url: String,
}

impl TempPostgres {
    /// Creates `pp_<pid>_<clock>_<n>` on the test server. Panics if the server is not
    /// there: a test that needs PostgreSQL must not pass without it.
    pub fn new() -> TempPostgres {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "pp_{}_{nanos}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = admin_url();
        admin_statement(&admin, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create a test database on {admin}: {e}"));
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        TempPostgres { name, url }
    }

    /// The `postgres://` URL of the database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Default for TempPostgres {
    fn default() -> Self {
        TempPostgres::new()
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = admin_statement(&admin_url(), &sql) {
            eprintln!("cannot drop the test database {}: {e}", self.name);
        }
    }
}

/// Runs one statement on the maintenance database, on a thread and runtime of its own so
/// it works from synchronous code, inside an async test and in `drop`.
fn admin_statement(url: &str, sql: &str) -> Result<(), sqlx::Error> {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(sqlx::Error::Io)?;
        runtime.block_on(async {
            let mut conn = PgConnection::connect(&url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await?;
            conn.close().await
        })
    })
    .join()
    .unwrap_or_else(|_| Err(sqlx::Error::PoolClosed))
}
