//! The storage half of the write path: optimistic concurrency, history and the change feed.
//!
//! A command (in the service layer) runs in one transaction and ends with the same tail:
//!
//! 1. validate, then write the row, bumping its version with [`bump_version`] (or
//!    [`update_versioned`], which sets other columns in the same statement, or
//!    [`archive`] / [`restore`]): a writer that
//!    read an older version gets [`StoreError::StaleVersion`] with the current one and
//!    changes nothing;
//! 2. [`record_revision`]: the record's fields before and after, who, when, how;
//! 3. [`append_change`], **the last write of the transaction**: the feed entry and its
//!    sequence number.
//!
//! [`record`] does steps 2 and 3. Every function takes `&impl ConnectionTrait`, so it runs
//! inside the caller's transaction: a rolled-back command leaves no row change, no
//! revision and no feed entry.
//!
//! A bulk load (the seeds, an import) takes the same road in batches: [`create_many`]
//! writes rows at version 1, their revisions ([`record_revisions`]) and their feed
//! entries ([`append_changes`], which takes a run of consecutive numbers in one counter
//! update), many rows per statement. [`crate::replay`] is the other end: it applies feed
//! entries to another store.
//!
//! # A gap-free feed in commit order
//!
//! Partners sync with `changes(after: cursor)`: they must never miss an entry, so an entry
//! must never become visible *behind* a cursor a reader already holds. A database
//! sequence or auto-increment does not give that on PostgreSQL: numbers are handed out
//! when a statement runs, not when its transaction commits, so a transaction holding 10
//! can commit after one holding 11, and a reader that has seen 11 skips 10 for ever; a
//! rolled-back transaction also burns its number, leaving a gap.
//!
//! So numbers come from a one-row table, `change_counter`:
//! `UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value`. The update
//! takes the row's lock, which PostgreSQL holds until the transaction ends. A second
//! writer's update waits on that lock and, under `READ COMMITTED` (the default; a
//! `REPEATABLE READ` or `SERIALIZABLE` transaction would fail with a serialization error
//! and have to retry), re-reads the row once the first commits and takes the next
//! number. Numbers are therefore assigned in commit order and are visible in that order;
//! a transaction that rolls back releases its number unused, and the next writer takes
//! it: 1, 2, 3 … with no gaps. SQLite serializes writers on the database lock already, and
//! the same statement works there (`RETURNING` since SQLite 3.35; the bundled library is
//! newer).
//!
//! The price: writers serialize on the counter **for the tail of their transaction**, from
//! the moment they take a number to their commit. That is why [`append_change`] must be
//! the transaction's last statement: everything before it (validation, the row, the
//! revision) still runs concurrently, and the serialized part is one small insert plus
//! the commit. Throughput of committed changes is then bounded by commit latency (a few
//! thousand per second on one PostgreSQL server), which is far above what a registry
//! edited by staff and an importer needs. A writer that stalls after taking its number
//! (a slow client holding a transaction open) stalls every other writer's tail, so keep
//! the transaction short and take the number just before `COMMIT`.

use std::ops::Range;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, IdenStatic, IntoActiveModel,
    Iterable, ModelTrait, QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{change, revision};

/// Every kind of registry record and link that is versioned, has history and appears in
/// the feed. Its code is the record's table name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    /// A park (`park`).
    Park,
    /// A park's designation (`park_designation`).
    ParkDesignation,
    /// An organization (`organization`).
    Organization,
    /// An organization's designation (`designation`).
    Designation,
    /// An enterprise's location in a park: a link (`enterprise_location`).
    EnterpriseLocation,
    /// An incubator (`incubator`).
    Incubator,
    /// A firm's stay in an incubator: a link (`incubation`).
    Incubation,
    /// A second headquarters (`second_headquarters`).
    SecondHeadquarters,
    /// A national innovation center (`innovation_center`).
    InnovationCenter,
    /// An organization's membership of an innovation center: a link
    /// (`innovation_center_membership`).
    InnovationCenterMembership,
    /// A sourced indicator about a park or a city (`figure`).
    Figure,
    /// A designation of a city (`city_designation`).
    CityDesignation,
}

impl EntityType {
    /// Every entity type.
    pub const ALL: [Self; 12] = [
        Self::Park,
        Self::ParkDesignation,
        Self::Organization,
        Self::Designation,
        Self::EnterpriseLocation,
        Self::Incubator,
        Self::Incubation,
        Self::SecondHeadquarters,
        Self::InnovationCenter,
        Self::InnovationCenterMembership,
        Self::Figure,
        Self::CityDesignation,
    ];

    /// The table, which is also the code stored in `revision` and `change`.
    pub const fn table(self) -> &'static str {
        match self {
            Self::Park => "park",
            Self::ParkDesignation => "park_designation",
            Self::Organization => "organization",
            Self::Designation => "designation",
            Self::EnterpriseLocation => "enterprise_location",
            Self::Incubator => "incubator",
            Self::Incubation => "incubation",
            Self::SecondHeadquarters => "second_headquarters",
            Self::InnovationCenter => "innovation_center",
            Self::InnovationCenterMembership => "innovation_center_membership",
            Self::Figure => "figure",
            Self::CityDesignation => "city_designation",
        }
    }

    /// The entity type of a stored code.
    pub fn parse(code: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|t| t.table() == code)
            .ok_or_else(|| StoreError::Invalid(format!("unknown entity type {code:?}")))
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A record was created (version 1).
    Create,
    /// A record's fields changed.
    Update,
    /// A record was archived: a tombstone in the feed.
    Archive,
    /// An archived record was restored.
    Restore,
    /// A link was added (version 1).
    AddLink,
    /// A link's fields changed.
    UpdateLink,
    /// A link was ended: a tombstone in the feed.
    EndLink,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Self; 7] =
        [Self::Create, Self::Update, Self::Archive, Self::Restore, Self::AddLink, Self::UpdateLink, Self::EndLink];

    /// The stored code: `CREATE`, `UPDATE`, `ARCHIVE`, `RESTORE`, `ADD_LINK`, `UPDATE_LINK`,
    /// `END_LINK`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Archive => "ARCHIVE",
            Self::Restore => "RESTORE",
            Self::AddLink => "ADD_LINK",
            Self::UpdateLink => "UPDATE_LINK",
            Self::EndLink => "END_LINK",
        }
    }

    /// The operation of a stored code.
    pub fn parse(code: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|o| o.code() == code)
            .ok_or_else(|| StoreError::Invalid(format!("unknown operation {code:?}")))
    }

    /// True when the feed carries the change as a tombstone (no `after`): the record left
    /// the live registry.
    pub const fn is_tombstone(self) -> bool {
        matches!(self, Self::Archive | Self::EndLink)
    }
}

/// One version of a record, as written to and read from `revision`.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The record's kind.
    pub entity_type: EntityType,
    /// The record's id.
    pub entity_id: Uuid,
    /// The version the change produced.
    pub version: i32,
    /// What the change did.
    pub operation: Operation,
    /// Who made it: the token's subject.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The record's fields before (none for a creation).
    pub before: Option<Json>,
    /// The record's fields after.
    pub after: Option<Json>,
}

/// A feed entry about to be appended; [`append_change`] gives it its `seq`.
///
/// It holds no copy of the record: the feed reads the record's state from the revision of
/// the same record and version, which the writer records in the same transaction (see
/// [`record`]). A change's JSON is stored once.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChange {
    /// The record's kind.
    pub entity_type: EntityType,
    /// The record's id.
    pub entity_id: Uuid,
    /// The version the change produced.
    pub version: i32,
    /// What the change did.
    pub operation: Operation,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: the token's subject.
    pub actor: String,
}

impl From<&Revision> for NewChange {
    /// The feed entry of a revision: the same change.
    fn from(revision: &Revision) -> Self {
        Self {
            entity_type: revision.entity_type,
            entity_id: revision.entity_id,
            version: revision.version,
            operation: revision.operation,
            at: revision.at,
            actor: revision.actor.clone(),
        }
    }
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Position in the feed: 1, 2, 3 … in commit order, with no gaps.
    pub seq: i64,
    /// The record's kind.
    pub entity_type: EntityType,
    /// The record's id.
    pub entity_id: Uuid,
    /// The version the change produced.
    pub version: i32,
    /// What the change did.
    pub operation: Operation,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: the token's subject.
    pub actor: String,
    /// The record after the change (its revision's `after`); none for a tombstone.
    pub after: Option<Json>,
}

/// Bumps a record's version from `expected` to `expected + 1` and sets `updated_at` to
/// `at`, in one statement (`UPDATE … SET version = version + 1 … WHERE id = ? AND version
/// = ?`). Returns the new version; [`StoreError::StaleVersion`] with the current version
/// when the record has moved on, [`StoreError::NotFound`] when it does not exist.
pub async fn bump_version(
    conn: &impl ConnectionTrait,
    entity: EntityType,
    id: Uuid,
    expected: i32,
    at: DateTime<Utc>,
) -> Result<i32, StoreError> {
    update_versioned(conn, entity, id, expected, at, []).await
}

/// Like [`bump_version`], and sets `columns` (name, value) in the same statement: the
/// write and the optimistic check are one atomic step, whatever the table.
pub async fn update_versioned(
    conn: &impl ConnectionTrait,
    entity: EntityType,
    id: Uuid,
    expected: i32,
    at: DateTime<Utc>,
    columns: impl IntoIterator<Item = (&'static str, Expr)>,
) -> Result<i32, StoreError> {
    let table = entity.table();
    let mut update = Query::update();
    update
        .table(table)
        .value("version", Expr::col("version").add(1))
        .value("updated_at", Expr::val(at))
        .and_where(Expr::col("id").eq(id))
        .and_where(Expr::col("version").eq(expected));
    for (column, value) in columns {
        update.value(column, value);
    }
    if conn.execute(&update).await?.rows_affected() == 1 {
        return Ok(expected + 1);
    }
    let current = Query::select().column("version").from(table).and_where(Expr::col("id").eq(id)).to_owned();
    match conn.query_one(&current).await? {
        Some(row) => {
            let current: i32 = row.try_get("", "version")?;
            Err(StoreError::StaleVersion { entity: table, id, expected, current })
        }
        None => Err(StoreError::NotFound(format!("no {table} has id {id}"))),
    }
}

/// Archives a record (or ends a link): sets `archived_at` to `at` and bumps the version
/// from `expected`, in one statement. Whether the record may be archived (is it live?)
/// is the caller's rule.
pub async fn archive(
    conn: &impl ConnectionTrait,
    entity: EntityType,
    id: Uuid,
    expected: i32,
    at: DateTime<Utc>,
) -> Result<i32, StoreError> {
    update_versioned(conn, entity, id, expected, at, [("archived_at", Expr::val(at))]).await
}

/// Restores an archived record: clears `archived_at` and bumps the version from
/// `expected`, in one statement.
pub async fn restore(
    conn: &impl ConnectionTrait,
    entity: EntityType,
    id: Uuid,
    expected: i32,
    at: DateTime<Utc>,
) -> Result<i32, StoreError> {
    update_versioned(conn, entity, id, expected, at, [("archived_at", Expr::val(None::<DateTime<Utc>>))]).await
}

/// Writes one revision. A second revision of the same record and version is a
/// [`StoreError::Conflict`].
pub async fn record_revision(conn: &impl ConnectionTrait, revision: &Revision) -> Result<(), StoreError> {
    let row = revision::ActiveModel {
        entity_type: Set(revision.entity_type.table().to_string()),
        entity_id: Set(revision.entity_id),
        version: Set(revision.version),
        operation: Set(revision.operation.code().to_string()),
        actor: Set(revision.actor.clone()),
        at: Set(revision.at),
        before: Set(revision.before.clone()),
        after: Set(revision.after.clone()),
    };
    revision::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

/// Appends an entry to the change feed and returns its `seq`. **Call it as the last write
/// of the transaction** (see the module docs): it takes the counter's lock, which every
/// other writer then waits on until this transaction ends. The entry's record state is
/// its revision's: record the revision first, in the same transaction ([`record`]).
pub async fn append_change(conn: &impl ConnectionTrait, change: &NewChange) -> Result<i64, StoreError> {
    let next = Query::update()
        .table("change_counter")
        .value("value", Expr::col("value").add(1))
        .and_where(Expr::col("id").eq(1))
        .returning_col("value")
        .to_owned();
    let seq: i64 = conn
        .query_one(&next)
        .await?
        .ok_or_else(|| StoreError::Invalid("the change_counter row is missing: run the migrations".into()))?
        .try_get("", "value")?;
    let row = change::ActiveModel {
        seq: Set(seq),
        entity_type: Set(change.entity_type.table().to_string()),
        entity_id: Set(change.entity_id),
        version: Set(change.version),
        operation: Set(change.operation.code().to_string()),
        at: Set(change.at),
        actor: Set(change.actor.clone()),
        after: Set(None),
    };
    change::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(seq)
}

/// The `seq` of the last committed feed entry (0 for an empty feed): the counter's value,
/// which a writer's uncommitted increment does not change for other connections.
pub async fn feed_head(conn: &impl ConnectionTrait) -> Result<i64, StoreError> {
    let counter = Query::select().column("value").from("change_counter").and_where(Expr::col("id").eq(1)).to_owned();
    Ok(conn
        .query_one(&counter)
        .await?
        .ok_or_else(|| StoreError::Invalid("the change_counter row is missing: run the migrations".into()))?
        .try_get("", "value")?)
}

/// The usual tail of a command: writes the revision, then appends its feed entry (last).
/// Returns the entry's `seq`.
pub async fn record(conn: &impl ConnectionTrait, revision: &Revision) -> Result<i64, StoreError> {
    record_revision(conn, revision).await?;
    append_change(conn, &NewChange::from(revision)).await
}

/// A stored registry record or link of one of the [`EntityType`]s: its row is what a
/// revision's `before` and `after` hold (as JSON, one key per column), and what a replay
/// writes back (see [`crate::replay`]).
pub trait VersionedRow:
    ModelTrait + IntoActiveModel<<Self::Entity as EntityTrait>::ActiveModel> + Serialize + DeserializeOwned + Sync + 'static
{
    /// The record kind in revisions and the feed.
    const ENTITY: EntityType;
    /// The record's id.
    fn id(&self) -> Uuid;
    /// The record's version.
    fn version(&self) -> i32;
}

macro_rules! versioned_rows {
    ($($module:ident => $variant:ident),* $(,)?) => {
        $(
            impl VersionedRow for crate::entity::$module::Model {
                const ENTITY: EntityType = EntityType::$variant;
                fn id(&self) -> Uuid {
                    self.id
                }
                fn version(&self) -> i32 {
                    self.version
                }
            }
        )*
    };
}

versioned_rows! {
    park => Park,
    park_designation => ParkDesignation,
    organization => Organization,
    designation => Designation,
    enterprise_location => EnterpriseLocation,
    incubator => Incubator,
    incubation => Incubation,
    second_headquarters => SecondHeadquarters,
    innovation_center => InnovationCenter,
    innovation_center_membership => InnovationCenterMembership,
    figure => Figure,
    city_designation => CityDesignation,
}

impl EntityType {
    /// True for the links between records (an enterprise's location, an incubation, an
    /// innovation-center membership): they are added and ended rather than created and
    /// archived.
    pub const fn is_link(self) -> bool {
        matches!(self, Self::EnterpriseLocation | Self::Incubation | Self::InnovationCenterMembership)
    }

    /// The operation that brings a record of this kind into being: `ADD_LINK` for a link,
    /// `CREATE` otherwise.
    pub const fn creation(self) -> Operation {
        if self.is_link() { Operation::AddLink } else { Operation::Create }
    }
}

/// Rows written per multi-row `INSERT` by the batch functions: far below SQLite's limit
/// of bound parameters (32,766) for the widest table, and PostgreSQL's (65,535).
const BATCH_ROWS: usize = 400;

/// The columns of `revision`, in the order the batch functions bind them; `before` and
/// `after` (the last two) hold JSON.
const REVISION_COLUMNS: [&str; 8] =
    ["entity_type", "entity_id", "version", "operation", "actor", "at", "before", "after"];

/// The columns of `change` the batch functions write, in the order they bind them. `after`
/// stays null: the entry's state is its revision's.
const CHANGE_COLUMNS: [&str; 7] = ["seq", "entity_type", "entity_id", "version", "operation", "at", "actor"];

/// A JSON document already serialized, bound as text (cast to `json` on PostgreSQL).
fn json_text(text: Option<String>) -> Value {
    Value::String(text)
}

fn json_string(value: &Option<Json>) -> Result<Option<String>, StoreError> {
    value
        .as_ref()
        .map(|v| serde_json::to_string(v).map_err(|e| StoreError::Invalid(format!("a record as JSON: {e}"))))
        .transpose()
}

/// Inserts `rows` rows into `table`, `values` holding `columns.len()` values per row in
/// column order, with one plain multi-row `INSERT` (the columns whose index is in `json`
/// are cast to `json` on PostgreSQL). The batch functions build their statements here
/// rather than through ORM models and a statement builder: in a bulk load's profile those
/// (and the JSON trees they copy) took most of the time.
///
/// **Inside a transaction only**, which the caller rolls back when this fails: on SQLite
/// the statement is `INSERT OR FAIL`, which on a constraint error stops and keeps the rows
/// it wrote before the failing one. With the default (`ABORT`) SQLite would undo the
/// statement alone, and to be able to it keeps a statement journal (a copy of every page
/// the statement changes), a tenth of a bulk load's time in its profile; the transaction's
/// rollback undoes those rows anyway. (A table with foreign keys still gets a statement
/// journal: SQLite keeps one for an immediate foreign-key check of a multi-row insert.)
async fn insert_rows(
    conn: &impl ConnectionTrait,
    table: &str,
    columns: &[&str],
    json: &[usize],
    rows: usize,
    values: Vec<Value>,
) -> Result<(), StoreError> {
    if rows == 0 {
        return Ok(());
    }
    conn.execute_raw(insert_statement(conn.get_database_backend(), table, columns, json, rows, values)).await?;
    Ok(())
}

/// The statement [`insert_rows`] runs.
fn insert_statement(
    backend: DatabaseBackend,
    table: &str,
    columns: &[&str],
    json: &[usize],
    rows: usize,
    values: Vec<Value>,
) -> Statement {
    let postgres = backend == DatabaseBackend::Postgres;
    let mut sql = String::with_capacity(64 + rows * columns.len() * 8);
    sql.push_str(if postgres { "INSERT INTO \"" } else { "INSERT OR FAIL INTO \"" });
    sql.push_str(table);
    sql.push_str("\" (");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('"');
        sql.push_str(column);
        sql.push('"');
    }
    sql.push_str(") VALUES ");
    let mut n = 0usize;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match (postgres, json.contains(&column)) {
                (true, true) => {
                    sql.push_str("CAST($");
                    sql.push_str(&n.to_string());
                    sql.push_str(" AS json)");
                }
                (true, false) => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
                (false, _) => sql.push('?'),
            }
        }
        sql.push(')');
    }
    Statement::from_sql_and_values(backend, sql, values)
}

/// Writes many revisions, [`BATCH_ROWS`] per statement. The batch form of
/// [`record_revision`].
pub async fn record_revisions(conn: &impl ConnectionTrait, revisions: &[Revision]) -> Result<(), StoreError> {
    for chunk in revisions.chunks(BATCH_ROWS) {
        let mut values = Vec::with_capacity(chunk.len() * REVISION_COLUMNS.len());
        for revision in chunk {
            values.extend([
                Value::from(revision.entity_type.table()),
                Value::from(revision.entity_id),
                Value::from(revision.version),
                Value::from(revision.operation.code()),
                Value::from(revision.actor.clone()),
                Value::from(revision.at),
                json_text(json_string(&revision.before)?),
                json_text(json_string(&revision.after)?),
            ]);
        }
        insert_rows(conn, "revision", &REVISION_COLUMNS, &[6, 7], chunk.len(), values).await?;
    }
    Ok(())
}

/// Takes `count` consecutive feed numbers with one counter update and returns the first.
/// The same rule as [`append_change`]: the caller's transaction holds the counter from
/// here to its end.
async fn take_seqs(conn: &impl ConnectionTrait, count: usize) -> Result<i64, StoreError> {
    // An `i32`, like the `1` of [`append_change`]: both statements have the same SQL text,
    // and sqlx reuses a prepared statement by its text, so on PostgreSQL a parameter of
    // another type (an `i64`) would be sent to a statement prepared for the other.
    let count = i32::try_from(count).map_err(|_| StoreError::Invalid("too many feed entries".into()))?;
    let next = Query::update()
        .table("change_counter")
        .value("value", Expr::col("value").add(count))
        .and_where(Expr::col("id").eq(1))
        .returning_col("value")
        .to_owned();
    let last: i64 = conn
        .query_one(&next)
        .await?
        .ok_or_else(|| StoreError::Invalid("the change_counter row is missing: run the migrations".into()))?
        .try_get("", "value")?;
    Ok(last - i64::from(count) + 1)
}

/// One feed entry's values, in [`CHANGE_COLUMNS`] order.
#[allow(clippy::too_many_arguments)]
fn change_values(
    values: &mut Vec<Value>,
    seq: i64,
    entity_type: EntityType,
    entity_id: Uuid,
    version: i32,
    operation: Operation,
    at: DateTime<Utc>,
    actor: &str,
) {
    values.extend([
        Value::from(seq),
        Value::from(entity_type.table()),
        Value::from(entity_id),
        Value::from(version),
        Value::from(operation.code()),
        Value::from(at),
        Value::from(actor.to_string()),
    ]);
}

/// Appends many entries to the change feed, in the order given, and returns their
/// `seq`s (empty for no entries). The batch form of [`append_change`]: one counter update
/// takes `changes.len()` consecutive numbers (so the feed stays gap-free and ordered),
/// then the entries go in with multi-row inserts. The same rule holds: call it as the
/// transaction's last write.
pub async fn append_changes(conn: &impl ConnectionTrait, changes: &[NewChange]) -> Result<Range<i64>, StoreError> {
    if changes.is_empty() {
        return Ok(0..0);
    }
    let first = take_seqs(conn, changes.len()).await?;
    for (offset, chunk) in (first..).step_by(BATCH_ROWS).zip(changes.chunks(BATCH_ROWS)) {
        let mut values = Vec::with_capacity(chunk.len() * CHANGE_COLUMNS.len());
        for (seq, change) in (offset..).zip(chunk) {
            change_values(
                &mut values,
                seq,
                change.entity_type,
                change.entity_id,
                change.version,
                change.operation,
                change.at,
                &change.actor,
            );
        }
        insert_rows(conn, "change", &CHANGE_COLUMNS, &[], chunk.len(), values).await?;
    }
    Ok(first..first + changes.len() as i64)
}

/// Writes new records at version 1 with their revisions (`CREATE`, or `ADD_LINK` for a
/// link, by `actor` at `at`) and their feed entries, in the order given and
/// [`BATCH_ROWS`] rows per statement: the write path of a bulk load (the seeds, an
/// import), whose records have history and reach partners like any other change.
///
/// Records that refer to each other must come referenced first (a park before its
/// children): the feed keeps this order, and a replay applies it in that order. The
/// validation of the records is the caller's. The feed numbers of all the records are
/// taken first, with one counter update, so the counter's lock is held from there to the
/// commit: keep a bulk load in its own transaction. Returns the number of records
/// written.
///
/// Each record is serialized to JSON once and stored once, in its revision (which its
/// feed entry reads). The statements of the next [`BATCH_ROWS`] records are built while
/// the database runs the current ones, so that building them costs no time of its own.
pub async fn create_many<R: VersionedRow, B: std::borrow::Borrow<R> + Sync>(
    conn: &impl ConnectionTrait,
    actor: &str,
    at: DateTime<Utc>,
    rows: &[B],
) -> Result<usize, StoreError>
where
    <R::Entity as EntityTrait>::ActiveModel: Send,
{
    let table = R::ENTITY.table();
    if let Some(row) = rows.iter().map(B::borrow).find(|row| row.version() != 1) {
        return Err(StoreError::Invalid(format!(
            "{table} {} is created at version 1, not {}",
            row.id(),
            row.version()
        )));
    }
    if rows.is_empty() {
        return Ok(0);
    }
    let columns: Vec<<R::Entity as EntityTrait>::Column> =
        <<R::Entity as EntityTrait>::Column as Iterable>::iter().collect();
    let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    let operation = R::ENTITY.creation();
    let backend = conn.get_database_backend();
    // The three statements of a chunk of records whose first feed number is `first`.
    let build = |chunk: &[B], first: i64| -> Result<[Statement; 3], StoreError> {
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        let mut revisions = Vec::with_capacity(chunk.len() * REVISION_COLUMNS.len());
        let mut changes = Vec::with_capacity(chunk.len() * CHANGE_COLUMNS.len());
        for (seq, row) in (first..).zip(chunk.iter().map(B::borrow)) {
            let document = serde_json::to_string(row)
                .map_err(|e| StoreError::Invalid(format!("{table} {} as JSON: {e}", row.id())))?;
            values.extend(columns.iter().map(|column| row.get(*column)));
            revisions.extend([
                Value::from(table),
                Value::from(row.id()),
                Value::from(1i32),
                Value::from(operation.code()),
                Value::from(actor.to_string()),
                Value::from(at),
                json_text(None),
                json_text(Some(document)),
            ]);
            change_values(&mut changes, seq, R::ENTITY, row.id(), 1, operation, at, actor);
        }
        Ok([
            insert_statement(backend, table, &names, &[], chunk.len(), values),
            insert_statement(backend, "revision", &REVISION_COLUMNS, &[6, 7], chunk.len(), revisions),
            insert_statement(backend, "change", &CHANGE_COLUMNS, &[], chunk.len(), changes),
        ])
    };
    let first = take_seqs(conn, rows.len()).await?;
    let mut chunks = rows.chunks(BATCH_ROWS).zip((first..).step_by(BATCH_ROWS));
    let mut next = chunks.next().map(|(chunk, first)| build(chunk, first)).transpose()?;
    while let Some(statements) = next.take() {
        let following = chunks.next();
        let (written, built) = tokio::join!(
            async {
                for statement in statements {
                    conn.execute_raw(statement).await?;
                }
                Ok::<_, StoreError>(())
            },
            async { following.map(|(chunk, first)| build(chunk, first)).transpose() },
        );
        written?;
        next = built?;
    }
    Ok(rows.len())
}

impl NewChange {
    /// The feed entry of a revision, taking it: the same change.
    pub fn from_revision(revision: Revision) -> Self {
        Self {
            entity_type: revision.entity_type,
            entity_id: revision.entity_id,
            version: revision.version,
            operation: revision.operation,
            at: revision.at,
            actor: revision.actor,
        }
    }
}

/// Up to `first` feed entries after `after` (from the start when none), oldest first,
/// only of `types` when given. Each carries its record's state after the change, read
/// from the revision of the same record and version (none for a tombstone).
pub async fn changes(
    conn: &impl ConnectionTrait,
    after: Option<i64>,
    first: u64,
    types: Option<&[EntityType]>,
) -> Result<Vec<Change>, StoreError> {
    feed_page(conn, after, first, types, false).await
}

/// Like [`changes`], with `tombstone_state`: a tombstone carries its revision's state too
/// (the record as it was archived or ended), what a restore applies.
pub(crate) async fn feed_page(
    conn: &impl ConnectionTrait,
    after: Option<i64>,
    first: u64,
    types: Option<&[EntityType]>,
    tombstone_state: bool,
) -> Result<Vec<Change>, StoreError> {
    use sea_orm::sea_query::{Condition, JoinType, Order};

    const COLUMNS: [&str; 8] = ["seq", "entity_type", "entity_id", "version", "operation", "at", "actor", "after"];
    let mut select = Query::select();
    select
        .columns(COLUMNS.map(|column| ("c", column)))
        .expr_as(Expr::col(("r", "after")), "revision_after")
        .from_as("change", "c")
        .join_as(
            JoinType::LeftJoin,
            "revision",
            "r",
            Condition::all()
                .add(Expr::col(("r", "entity_type")).equals(("c", "entity_type")))
                .add(Expr::col(("r", "entity_id")).equals(("c", "entity_id")))
                .add(Expr::col(("r", "version")).equals(("c", "version"))),
        )
        .order_by(("c", "seq"), Order::Asc)
        .limit(first);
    if let Some(after) = after {
        select.and_where(Expr::col(("c", "seq")).gt(after));
    }
    if let Some(types) = types {
        select.and_where(Expr::col(("c", "entity_type")).is_in(types.iter().map(|t| t.table())));
    }
    conn.query_all(&select)
        .await?
        .into_iter()
        .map(|row| {
            let operation = Operation::parse(&row.try_get::<String>("", "operation")?)?;
            // Entries written before the feed read its revisions hold their own copy.
            let own: Option<Json> = row.try_get("", "after")?;
            let revision: Option<Json> = row.try_get("", "revision_after")?;
            let after = match (operation.is_tombstone(), tombstone_state) {
                (true, false) => None,
                (true, true) => revision,
                (false, _) => own.or(revision),
            };
            Ok(Change {
                seq: row.try_get("", "seq")?,
                entity_type: EntityType::parse(&row.try_get::<String>("", "entity_type")?)?,
                entity_id: row.try_get("", "entity_id")?,
                version: row.try_get("", "version")?,
                operation,
                at: row.try_get("", "at")?,
                actor: row.try_get("", "actor")?,
                after,
            })
        })
        .collect()
}

/// Up to `first` revisions of one record after version `after_version` (from the first
/// when none), oldest first.
pub async fn revisions(
    conn: &impl ConnectionTrait,
    entity_type: EntityType,
    entity_id: Uuid,
    after_version: Option<i32>,
    first: u64,
) -> Result<Vec<Revision>, StoreError> {
    let mut select = revision::Entity::find()
        .filter(revision::Column::EntityType.eq(entity_type.table()))
        .filter(revision::Column::EntityId.eq(entity_id))
        .order_by_asc(revision::Column::Version)
        .limit(first);
    if let Some(after) = after_version {
        select = select.filter(revision::Column::Version.gt(after));
    }
    select.all(conn).await?.into_iter().map(revision_of).collect()
}

/// Up to `first` revisions of each of several records after version `after_version`
/// (from the first when none), oldest first per record, in one statement: the records'
/// revisions numbered per record by a window function (`ROW_NUMBER() OVER (PARTITION BY
/// entity_type, entity_id ORDER BY version)`), cut at `first` each. For the `history` of
/// every record on a page at once.
pub async fn revisions_of(
    conn: &impl ConnectionTrait,
    records: &[(EntityType, Uuid)],
    after_version: Option<i32>,
    first: u64,
) -> Result<Vec<Revision>, StoreError> {
    use revision::Column as C;
    use sea_orm::sea_query::{Alias, OverStatement, WindowStatement};
    use sea_orm::{FromQueryResult, Iterable, Order};

    if records.is_empty() || first == 0 {
        return Ok(Vec::new());
    }
    let mut types: Vec<&'static str> = records.iter().map(|(t, _)| t.table()).collect();
    types.sort_unstable();
    types.dedup();
    let mut ids: Vec<Uuid> = records.iter().map(|(_, id)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut window = WindowStatement::new();
    window.partition_by(C::EntityType).partition_by(C::EntityId).order_by(C::Version, Order::Asc);
    let mut numbered = Query::select();
    numbered
        .columns(C::iter())
        .expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("rn"))
        .from(revision::Entity)
        .and_where(C::EntityType.is_in(types))
        .and_where(C::EntityId.is_in(ids));
    if let Some(after) = after_version {
        numbered.and_where(C::Version.gt(after));
    }
    let select = Query::select()
        .columns(C::iter())
        .from_subquery(numbered.to_owned(), Alias::new("numbered"))
        .and_where(Expr::col(Alias::new("rn")).lte(first))
        .order_by(C::EntityType, Order::Asc)
        .order_by(C::EntityId, Order::Asc)
        .order_by(C::Version, Order::Asc)
        .to_owned();
    let wanted: std::collections::HashSet<(EntityType, Uuid)> = records.iter().copied().collect();
    let mut out = Vec::new();
    for row in conn.query_all(&select).await? {
        let revision = revision_of(revision::Model::from_query_result(&row, "")?)?;
        // Ids are unique across tables, but the pair is what was asked for.
        if wanted.contains(&(revision.entity_type, revision.entity_id)) {
            out.push(revision);
        }
    }
    Ok(out)
}

fn revision_of(row: revision::Model) -> Result<Revision, StoreError> {
    Ok(Revision {
        entity_type: EntityType::parse(&row.entity_type)?,
        entity_id: row.entity_id,
        version: row.version,
        operation: Operation::parse(&row.operation)?,
        actor: row.actor,
        at: row.at,
        before: row.before,
        after: row.after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in EntityType::ALL {
            assert_eq!(EntityType::parse(t.table()).ok(), Some(t));
        }
        for o in Operation::ALL {
            assert_eq!(Operation::parse(o.code()).ok(), Some(o));
        }
        assert!(EntityType::parse("partner").is_err());
        assert!(Operation::parse("DELETE").is_err());
    }
}
