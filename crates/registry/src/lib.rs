//! ParkGraph's service layer: it owns every use-case that changes the registry.
//!
//! Whoever changes the registry (a GraphQL mutation, the CLI, the seeds, an import) calls
//! a command here, and every command takes the same road:
//!
//! 1. **validate with the domain**: a create runs `draft.validate(today)`, an update
//!    `patch.apply(current, today)` on the stored record turned back into a draft (see
//!    [`parkgraph_domain::validation`]); every problem comes back at once as
//!    [`CommandError::Invalid`];
//! 2. **one transaction** ([`Registry::begin`]), in which the rules that need other rows are
//!    checked (no two live organizations with one USCC, …);
//! 3. **the row**, written with its version: 1 when created, `version + 1` on every change,
//!    refused as [`CommandError::Stale`] when the caller read an older version;
//! 4. **a revision** (the record before and after as JSON, who, when, how);
//! 5. **a change-feed entry**, the transaction's last write (see
//!    [`parkgraph_persistence::write`]).
//!
//! A command that fails at any step changes nothing: no row, no revision, no feed entry.
//!
//! Commands return the stored row, as the read side renders it. Each record kind has a
//! module with its four commands (`create_…`, `update_…`, `archive_…`, `restore_…`);
//! [`organization`] is the pattern the other kinds and links follow.
//!
//! # Errors
//!
//! [`CommandError`] is the whole policy: `Invalid` and `Stale` are the caller's to fix
//! (the API returns them as `userErrors`, codes from the domain and `CONFLICT`),
//! `NotFound` names a record that does not exist, and `Store` is a storage failure the
//! API logs and reports only by its code.

pub mod organization;
pub mod park;
pub mod token;

// Incubators and the links incubations and enterprise locations.
mod endpoints;
pub mod enterprise_location;
pub mod incubation;
pub mod incubator;
mod lock;

use chrono::{FixedOffset, NaiveDate, Utc};
use parkgraph_domain::validation::Invalid;
use parkgraph_persistence::StoreError;
use sea_orm::{DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions, TransactionTrait};

/// The service: every command that changes the registry, over one connection pool.
#[derive(Clone, Debug)]
pub struct Registry {
    db: DatabaseConnection,
}

impl Registry {
    /// The service over a pool (a connection, or the read side's
    /// [`Store`](parkgraph_persistence::Store)).
    pub fn new(db: impl Into<DatabaseConnection>) -> Self {
        Self { db: db.into() }
    }

    /// The pool the commands run on.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Opens a command's transaction. On SQLite it is `BEGIN IMMEDIATE`: a command reads
    /// the record before writing it, and a deferred transaction that reads and then
    /// writes while another writer commits fails with `SQLITE_BUSY` instead of waiting;
    /// taking the write lock up front makes concurrent commands queue on the busy
    /// timeout. PostgreSQL ignores the mode (READ COMMITTED; the versioned `UPDATE`
    /// settles races).
    pub async fn begin(&self) -> Result<DatabaseTransaction, CommandError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(self.db.begin_with_options(options).await?)
    }
}

/// Who runs a command: recorded as the actor of its revision and feed entry, and as who
/// accepted a USCC override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The token's subject (`staff:editor`, `editor:wang`, `system` for the CLI).
    pub subject: String,
}

impl Actor {
    /// The actor with this subject.
    pub fn new(subject: impl Into<String>) -> Self {
        Self { subject: subject.into() }
    }
}

/// Why a command changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The input breaks domain rules (every problem at once); the API's `userErrors`.
    #[error("invalid input: {} problem(s)", .0.errors().len())]
    Invalid(Invalid),
    /// The record is no longer at the version the caller read (the API's `CONFLICT`
    /// user error): re-read it at `current_version` and retry.
    #[error("the record is at version {current_version}, not the version given")]
    Stale {
        /// The record's version now.
        current_version: i32,
    },
    /// The record does not exist.
    #[error("no such record")]
    NotFound,
    /// The storage failed; logged, reported to clients only by its code.
    #[error(transparent)]
    Store(StoreError),
}

impl From<Invalid> for CommandError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(invalid)
    }
}

impl From<StoreError> for CommandError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::StaleVersion { current, .. } => Self::Stale { current_version: current },
            StoreError::NotFound(_) => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

impl From<sea_orm::DbErr> for CommandError {
    fn from(err: sea_orm::DbErr) -> Self {
        StoreError::from(err).into()
    }
}

/// The registry's time zone: Wuhan's, China Standard Time (UTC+8, no daylight saving).
const REGISTRY_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

/// Today in the registry's time zone, taken once per command so validation stays pure.
pub fn today() -> NaiveDate {
    match FixedOffset::east_opt(REGISTRY_UTC_OFFSET_SECONDS) {
        Some(offset) => Utc::now().with_timezone(&offset).date_naive(),
        None => Utc::now().date_naive(),
    }
}

/// A stored record the commands version: what its revisions and feed entries say of it.
pub(crate) trait Versioned: serde::Serialize {
    /// The record kind in revisions and the feed.
    const ENTITY: parkgraph_persistence::write::EntityType;
    /// How messages name it ("organization", "park").
    const NOUN: &'static str;
    /// Its id.
    fn id(&self) -> uuid::Uuid;
    /// Its version.
    fn version(&self) -> i32;
}

/// The revision of a change: the row before (none for a creation) and after, as JSON.
pub(crate) fn revision<R: Versioned>(
    actor: &Actor,
    after: &R,
    operation: parkgraph_persistence::write::Operation,
    at: chrono::DateTime<Utc>,
    before: Option<&R>,
) -> Result<parkgraph_persistence::write::Revision, CommandError> {
    let json = |row: &R| {
        serde_json::to_value(row).map_err(|e| StoreError::Invalid(format!("{} {} as JSON: {e}", R::NOUN, row.id())))
    };
    Ok(parkgraph_persistence::write::Revision {
        entity_type: R::ENTITY,
        entity_id: after.id(),
        version: after.version(),
        operation,
        actor: actor.subject.clone(),
        at,
        before: before.map(json).transpose()?,
        after: Some(json(after)?),
    })
}

/// An archive of an archived record, or a restore of a live one.
pub(crate) fn already<R: Versioned>(state: &str, advice: &str) -> Invalid {
    parkgraph_domain::validation::FieldError::new(
        "id",
        parkgraph_domain::validation::ErrorCode::Inconsistent,
        format!("The {} is already {state}; {advice}.", R::NOUN),
    )
    .into()
}

/// Inserts a new record of kind `R` at version 1 with `fields` (the validated columns),
/// inside the command's transaction.
pub(crate) async fn insert_new<R: Versioned>(
    conn: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
    now: chrono::DateTime<Utc>,
    mut fields: Vec<(&'static str, sea_orm::sea_query::Expr)>,
) -> Result<(), CommandError> {
    use sea_orm::sea_query::{Expr, Query};
    fields.extend([
        ("id", Expr::val(id)),
        ("created_at", Expr::val(now)),
        ("updated_at", Expr::val(now)),
        ("version", Expr::val(1)),
    ]);
    let (names, values): (Vec<&str>, Vec<Expr>) = fields.into_iter().unzip();
    let mut insert = Query::insert();
    insert.into_table(R::ENTITY.table()).columns(names);
    insert.values(values).map_err(|e| StoreError::Invalid(format!("{} insert: {e}", R::NOUN)))?;
    conn.execute(&insert).await.map_err(StoreError::from)?;
    Ok(())
}

// Innovation centers, their memberships (a link) and second headquarters.
pub mod innovation_center;
pub mod innovation_center_membership;
pub mod second_headquarters;
// Designations (of organizations, parks and cities) and figures: add / update / end for
// the designation links, create / update / archive / restore for figures.
pub mod designation;
pub mod figure;
pub mod import;
