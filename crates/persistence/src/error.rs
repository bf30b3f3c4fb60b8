//! Errors of the storage layer.
//!
//! Policy: persistence returns [`StoreError`]. A unique-constraint violation is a
//! `Conflict` the API reports as `CONFLICT`; a write that names a version other than the
//! record's current one is `StaleVersion`, also `CONFLICT`, carrying the current version
//! so the client can re-read and retry; bad stored or seed data is `Invalid` with
//! the record and field named; a failure to reach the database (pool closed or timed
//! out, a refused, reset or dropped connection, a server shutting down) is
//! `Unavailable`, which the API reports as `UNAVAILABLE` (HTTP 503, retry later);
//! anything else from the database is `Database`, which the API logs and reports to
//! clients only as `INTERNAL`.

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// What can go wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (for example two organizations with one USCC).
    #[error("conflict: {0}")]
    Conflict(String),
    /// An optimistic-concurrency check failed: the record is no longer at the version the
    /// writer read. Nothing was changed.
    #[error("conflict: {entity} {id} is at version {current}, not {expected}")]
    StaleVersion {
        /// The record's table.
        entity: &'static str,
        /// The record's id.
        id: uuid::Uuid,
        /// The version the writer read.
        expected: i32,
        /// The record's current version.
        current: i32,
    },
    /// The record asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A record or input is not valid; the message names the record and field.
    #[error("{0}")]
    Invalid(String),
    /// The database cannot be reached for now; the same call may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(DbErr),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            return Self::Unavailable(err);
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => Self::Conflict(message),
            _ => Self::Database(err),
        }
    }
}

/// True when `err` says the database could not be reached rather than that a statement
/// failed: no connection could be had from the pool (closed, timed out) or opened, the
/// connection broke (I/O, TLS, the driver's worker), or PostgreSQL refused or dropped it
/// (SQLSTATE class `08` connection exception, `57P01` admin shutdown, `57P02` crash
/// shutdown, `57P03` cannot connect now, `53300` too many connections).
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_unavailable(e),
        _ => false,
    }
}

fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::ConnAcquireErr;

    use super::*;

    fn exec(err: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
    }

    #[test]
    fn connection_failures_are_unavailable() {
        for err in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Conn(RuntimeErr::Internal("connection refused".into())),
            exec(sqlx::Error::PoolClosed),
            exec(sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))),
            exec(sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof))),
        ] {
            assert!(matches!(StoreError::from(err), StoreError::Unavailable(_)));
        }
    }

    #[test]
    fn statement_failures_are_database_errors() {
        for err in [
            exec(sqlx::Error::RowNotFound),
            exec(sqlx::Error::Protocol("unexpected message".into())),
            DbErr::Query(RuntimeErr::Internal("no such table".into())),
            DbErr::Custom("bad".into()),
        ] {
            assert!(matches!(StoreError::from(err), StoreError::Database(_)));
        }
    }
}
