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

/// How PostgreSQL plans the statements a connection prepares (its `plan_cache_mode`).
/// Every statement the registry runs is prepared once per connection and executed many
/// times with different values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanCacheMode {
    /// PostgreSQL's own choice: a plan for the values of each of the first five
    /// executions, then the generic plan if it is not estimated to cost more.
    Auto,
    /// One generic plan per prepared statement, made at its first execution and reused:
    /// no planning on later executions.
    #[default]
    ForceGenericPlan,
    /// A plan for the values of every execution.
    ForceCustomPlan,
}

impl PlanCacheMode {
    /// The setting's value, as PostgreSQL spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::ForceGenericPlan => "force_generic_plan",
            Self::ForceCustomPlan => "force_custom_plan",
        }
    }
}

/// A pooled connection idle for at least this long is pinged before it is handed out (a
/// round trip), so that one the database or a proxy dropped while it sat unused is
/// replaced instead of failing a request. A connection in steady use is not pinged: on
/// PostgreSQL a ping per statement was a round trip for each of a page's five or six
/// statements, and 5 % of the server's CPU. A connection that breaks between two uses
/// closer together than this fails the statement running on it, which answers
/// `UNAVAILABLE`, and the pool replaces it.
pub const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// How a connection pool is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_connections: u32,
    /// SQLite's page cache per connection, in MiB: the pool's cache is bounded by
    /// `max_connections × sqlite_cache_mib`.
    pub sqlite_cache_mib: u32,
    /// SQLite keeps its temporary files (statement journals, large sorts) in memory
    /// (`temp_store = MEMORY`). For bulk loads: a multi-row `INSERT` into a table with
    /// foreign keys keeps a statement journal (the pages it changes, to undo the
    /// statement alone should it fail half-way; the other batch inserts avoid it, see
    /// `write`), and in a file, writing those journals was a tenth of an import's time.
    /// A server keeps them on disk, so that a large sort cannot grow its memory.
    pub sqlite_temp_in_memory: bool,
    /// PostgreSQL's `plan_cache_mode` on every connection.
    pub plan_cache_mode: PlanCacheMode,
}

impl PoolOptions {
    /// A pool of at most `max_connections`, SQLite's page cache at
    /// [`DEFAULT_SQLITE_CACHE_MIB`] per connection and its temporary files on disk,
    /// PostgreSQL's plans as [`PlanCacheMode::default`].
    pub fn new(max_connections: u32) -> Self {
        Self {
            max_connections,
            sqlite_cache_mib: DEFAULT_SQLITE_CACHE_MIB,
            sqlite_temp_in_memory: false,
            plan_cache_mode: PlanCacheMode::default(),
        }
    }
}

/// Opens a connection pool with the default [`PoolOptions`]. See [`connect_with`].
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, StoreError> {
    connect_with(url, PoolOptions::new(max_connections)).await
}

/// Opens a connection pool. SQLite runs in WAL mode with foreign keys on and creates the
/// file if missing; PostgreSQL plans prepared statements as `options.plan_cache_mode`
/// says; both backends log statements only at `TRACE`. A connection is pinged before use
/// only when it has been idle for [`PING_WHEN_IDLE_FOR`].
///
/// A transaction that changes more pages than its connection's cache holds spills them
/// to the write-ahead log and reads them back: a bulk load wants a larger cache than a
/// server's readers do.
pub async fn connect_with(url: &str, options: PoolOptions) -> Result<DatabaseConnection, StoreError> {
    let backend = Backend::of_url(url)?;
    let mut connect = ConnectOptions::new(url.to_string());
    connect
        .max_connections(options.max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(PING_WHEN_IDLE_FOR)
        .sqlx_logging(false);
    match backend {
        Backend::Sqlite => {
            connect.map_sqlx_sqlite_opts(move |o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // A negative `cache_size` is in KiB.
                    .pragma("cache_size", format!("-{}", u64::from(options.sqlite_cache_mib.max(1)) * 1024))
                    .pragma("temp_store", if options.sqlite_temp_in_memory { "MEMORY" } else { "DEFAULT" })
            });
        }
        Backend::Postgres => {
            // Sent in the start-up packet, beside any `options` the URL gives.
            connect.map_sqlx_postgres_opts(move |o| o.options([("plan_cache_mode", options.plan_cache_mode.as_str())]));
        }
    }
    Ok(Database::connect(connect).await?)
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
