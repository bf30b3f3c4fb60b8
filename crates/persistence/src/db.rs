//! Connecting to the database and migrating it.

use std::time::Duration;

use parkgraph_migrations::{Migrator, sea_orm_migration::MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::StoreError;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL, the production backend.
    Postgres,
}

impl Backend {
    /// The backend of a `DATABASE_URL`, or an error naming the schemes accepted.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Invalid(format!(
                "unsupported database URL scheme in {:?}: use sqlite://FILE or postgres://…",
                redact(url)
            )))
        }
    }
}

/// A URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// SQLite's page cache per connection when not configured, in MiB (SQLite's own default
/// is 2 MiB).
pub const DEFAULT_SQLITE_CACHE_MIB: u32 = 8;

/// Opens a connection pool (SQLite's page cache at [`DEFAULT_SQLITE_CACHE_MIB`] per
/// connection). See [`connect_with_cache`].
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, StoreError> {
    connect_with_cache(url, max_connections, DEFAULT_SQLITE_CACHE_MIB).await
}

/// Opens a connection pool. SQLite runs in WAL mode with foreign keys on, a page cache
/// of at most `sqlite_cache_mib` MiB per connection (so the pool's cache is bounded by
/// `max_connections × sqlite_cache_mib`), and creates the file if missing; both backends
/// log statements only at `TRACE`.
///
/// A transaction that changes more pages than its connection's cache holds spills them
/// to the write-ahead log and reads them back: a bulk load wants a larger cache than a
/// server's readers do.
pub async fn connect_with_cache(
    url: &str,
    max_connections: u32,
    sqlite_cache_mib: u32,
) -> Result<DatabaseConnection, StoreError> {
    connect_tuned(url, max_connections, sqlite_cache_mib, false).await
}

/// Opens a connection pool for a bulk load (an import, a seed): as
/// [`connect_with_cache`], and SQLite keeps its temporary files in memory
/// (`temp_store = MEMORY`). A multi-row `INSERT` into a table with foreign keys keeps a
/// statement journal (the pages it changes, to undo the statement alone should it fail
/// half-way; the other batch inserts avoid it, see `write`); in a file, writing those
/// journals was a tenth of an import's time. A server keeps its temporary files on disk,
/// so that a large sort cannot grow its memory.
pub async fn connect_for_bulk(
    url: &str,
    max_connections: u32,
    sqlite_cache_mib: u32,
) -> Result<DatabaseConnection, StoreError> {
    connect_tuned(url, max_connections, sqlite_cache_mib, true).await
}

async fn connect_tuned(
    url: &str,
    max_connections: u32,
    sqlite_cache_mib: u32,
    temp_in_memory: bool,
) -> Result<DatabaseConnection, StoreError> {
    let backend = Backend::of_url(url)?;
    let mut options = ConnectOptions::new(url.to_string());
    options.max_connections(max_connections).acquire_timeout(Duration::from_secs(10)).sqlx_logging(false);
    if backend == Backend::Sqlite {
        options.map_sqlx_sqlite_opts(move |o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // A negative `cache_size` is in KiB.
                .pragma("cache_size", format!("-{}", u64::from(sqlite_cache_mib.max(1)) * 1024))
                .pragma("temp_store", if temp_in_memory { "MEMORY" } else { "DEFAULT" })
        });
    }
    Ok(Database::connect(options).await?)
}

/// Applies every pending migration and returns their names, in the order applied (none
/// when the database was up to date).
pub async fn migrate_up(db: &DatabaseConnection) -> Result<Vec<String>, StoreError> {
    let pending: Vec<String> =
        Migrator::get_pending_migrations(db).await?.iter().map(|m| m.name().to_string()).collect();
    Migrator::up(db, None).await?;
    Ok(pending)
}

/// Reverts `steps` migrations, or all of them, and returns their names, the last
/// reverted first.
pub async fn migrate_down(db: &DatabaseConnection, steps: Option<u32>) -> Result<Vec<String>, StoreError> {
    let applied = Migrator::get_applied_migrations(db).await?;
    let count = steps.map_or(applied.len(), |n| usize::try_from(n).unwrap_or(usize::MAX).min(applied.len()));
    let reverted: Vec<String> = applied.iter().rev().take(count).map(|m| m.name().to_string()).collect();
    Migrator::down(db, steps).await?;
    Ok(reverted)
}

/// How busy a connection pool is, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open now, idle or in use.
    pub open: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// The pool's use now; `None` for a connection that is not a pool (closed, or a mock).
pub fn pool_stats(db: &DatabaseConnection) -> Option<PoolStats> {
    use sea_orm::DatabaseConnectionType as Kind;
    let (open, idle, max) = match &db.inner {
        Kind::SqlxSqlitePoolConnection(_) => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        Kind::SqlxPostgresPoolConnection(_) => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        _ => return None,
    };
    Some(PoolStats { open, idle: u32::try_from(idle).unwrap_or(u32::MAX), max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/pg"), "postgres://app:***@db:5432/pg");
        assert_eq!(redact("postgres://app@db/pg"), "postgres://app@db/pg");
        assert_eq!(redact("sqlite://parkgraph.db"), "sqlite://parkgraph.db");
    }

    #[test]
    fn the_backend_follows_the_url_scheme() {
        assert_eq!(Backend::of_url("sqlite://x.db?mode=rwc").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgresql://h/db").ok(), Some(Backend::Postgres));
        assert!(Backend::of_url("mysql://h/db").is_err());
    }
}
