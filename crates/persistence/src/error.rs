//! Errors of the storage layer.
//!
//! Policy: persistence returns [`StoreError`]. A unique-constraint violation is a
//! `Conflict` the API reports as `CONFLICT`; bad stored or seed data is `Invalid` with
//! the record and field named; anything else from the database is `Database`, which the
//! API logs and reports to clients only as `INTERNAL`.

use sea_orm::{DbErr, SqlErr};

/// What can go wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (for example two organizations with one USCC).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A record or input is not valid; the message names the record and field.
    #[error("{0}")]
    Invalid(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => Self::Conflict(message),
            _ => Self::Database(err),
        }
    }
}
