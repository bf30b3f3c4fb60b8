//! Applying the change feed to another store: what a partner's mirror does with the
//! entries it reads, and what a restore does with a whole feed.
//!
//! [`apply`] writes one entry: the record's row as the entry's `after` holds it
//! (inserted, or replacing an older version of it), or, for a tombstone without `after`
//! (an archive or a link's end, as partners read them), the record archived at the
//! entry's time. It is **idempotent and never goes back**: a row already at the entry's
//! version or later is left as it is, so a reader that re-reads a page, or resumes from an
//! older cursor, applies the same entries again harmlessly.
//!
//! The feed carries no `after` on a tombstone, so a mirror that applies the feed alone
//! knows that the record left the live registry and when, not every column of its last
//! version. A restore needs every column: [`read`] gives feed entries with the full
//! state of each record after the change (its revision's `after`, tombstones included),
//! and [`replay`] applies a whole feed from one store to another. Replaying a store's
//! feed from the start into an empty, migrated store reproduces its registry exactly,
//! version and `archived_at` included (`tests/replay.rs`, on both backends).
//!
//! Entries are applied in feed order, which is commit order: a record's references (a
//! park's parent, a link's ends) are always created before it.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn, QueryTrait,
    TransactionTrait,
};
use serde_json::Value as Json;

use crate::StoreError;
use crate::entity::{
    city_designation, designation, enterprise_location, figure, incubation, incubator, innovation_center,
    innovation_center_membership, organization, park, park_designation, second_headquarters,
};
use crate::write::{self, Change, EntityType, VersionedRow};

/// What [`apply`] did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The record was written at the entry's version.
    Written,
    /// The record was already at the entry's version or later; nothing changed.
    AlreadyCurrent,
}

/// Applies one feed entry to the store behind `conn` (see the module docs). A tombstone
/// for a record the store does not hold is [`StoreError::NotFound`]: the mirror missed
/// the record's creation and should resync from the start.
pub async fn apply(conn: &impl ConnectionTrait, change: &Change) -> Result<Applied, StoreError> {
    match &change.after {
        Some(after) => upsert_json(conn, change.entity_type, change, after).await,
        None if change.operation.is_tombstone() => tombstone(conn, change).await,
        None => Err(StoreError::Invalid(format!(
            "feed entry {} ({} of {} {}) has no record state",
            change.seq,
            change.operation.code(),
            change.entity_type.table(),
            change.entity_id
        ))),
    }
}

async fn upsert_json(
    conn: &impl ConnectionTrait,
    entity: EntityType,
    change: &Change,
    after: &Json,
) -> Result<Applied, StoreError> {
    match entity {
        EntityType::Park => upsert::<park::Model>(conn, change, after).await,
        EntityType::ParkDesignation => upsert::<park_designation::Model>(conn, change, after).await,
        EntityType::Organization => upsert::<organization::Model>(conn, change, after).await,
        EntityType::Designation => upsert::<designation::Model>(conn, change, after).await,
        EntityType::EnterpriseLocation => upsert::<enterprise_location::Model>(conn, change, after).await,
        EntityType::Incubator => upsert::<incubator::Model>(conn, change, after).await,
        EntityType::Incubation => upsert::<incubation::Model>(conn, change, after).await,
        EntityType::SecondHeadquarters => upsert::<second_headquarters::Model>(conn, change, after).await,
        EntityType::InnovationCenter => upsert::<innovation_center::Model>(conn, change, after).await,
        EntityType::InnovationCenterMembership => {
            upsert::<innovation_center_membership::Model>(conn, change, after).await
        }
        EntityType::Figure => upsert::<figure::Model>(conn, change, after).await,
        EntityType::CityDesignation => upsert::<city_designation::Model>(conn, change, after).await,
    }
}

/// Inserts the row `after`, or replaces the stored row when it is at an older version:
/// `INSERT … ON CONFLICT (id) DO UPDATE SET … WHERE version < excluded.version`, one
/// statement on both backends.
async fn upsert<R: VersionedRow>(
    conn: &impl ConnectionTrait,
    change: &Change,
    after: &Json,
) -> Result<Applied, StoreError>
where
    <R::Entity as EntityTrait>::ActiveModel: Send,
{
    let table = R::ENTITY.table();
    let row: R = serde_json::from_value(after.clone()).map_err(|e| {
        StoreError::Invalid(format!(
            "feed entry {}: the state of {table} {} does not read: {e}",
            change.seq, change.entity_id
        ))
    })?;
    if row.id() != change.entity_id || row.version() != change.version {
        return Err(StoreError::Invalid(format!(
            "feed entry {}: its state is {table} {} version {}, the entry says {} version {}",
            change.seq,
            row.id(),
            row.version(),
            change.entity_id,
            change.version
        )));
    }
    let keys: Vec<_> = <R::Entity as EntityTrait>::PrimaryKey::iter().map(PrimaryKeyToColumn::into_column).collect();
    let others = <R::Entity as EntityTrait>::Column::iter().filter(|c| !keys.iter().any(|k| k.as_str() == c.as_str()));
    let mut on_conflict = OnConflict::columns(keys.iter().copied());
    on_conflict.update_columns(others).action_and_where(
        Expr::col((Alias::new(table), Alias::new("version")))
            .lt(Expr::col((Alias::new("excluded"), Alias::new("version")))),
    );
    let insert = <R::Entity as EntityTrait>::insert(row.into_active_model()).on_conflict(on_conflict).into_query();
    let written = conn.execute(&insert).await?.rows_affected();
    Ok(if written == 0 { Applied::AlreadyCurrent } else { Applied::Written })
}

/// A tombstone without the record's state: the record archived (or the link ended) at
/// the entry's time and version, as [`write::archive`] left it.
async fn tombstone(conn: &impl ConnectionTrait, change: &Change) -> Result<Applied, StoreError> {
    let table = change.entity_type.table();
    let update = Query::update()
        .table(Alias::new(table))
        .value(Alias::new("archived_at"), Expr::val(change.at))
        .value(Alias::new("updated_at"), Expr::val(change.at))
        .value(Alias::new("version"), Expr::val(change.version))
        .and_where(Expr::col(Alias::new("id")).eq(change.entity_id))
        .and_where(Expr::col(Alias::new("version")).lt(change.version))
        .to_owned();
    if conn.execute(&update).await?.rows_affected() == 1 {
        return Ok(Applied::Written);
    }
    let exists = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("id")).eq(change.entity_id))
        .to_owned();
    match conn.query_one(&exists).await? {
        Some(_) => Ok(Applied::AlreadyCurrent),
        None => Err(StoreError::NotFound(format!(
            "feed entry {}: {} {} is archived but was never created here",
            change.seq, table, change.entity_id
        ))),
    }
}

/// Up to `first` feed entries after `after` (from the start when none), oldest first,
/// each with the record's whole state after the change in `after`, taken from its
/// revision, tombstones included: what a restore applies.
pub async fn read(conn: &impl ConnectionTrait, after: Option<i64>, first: u64) -> Result<Vec<Change>, StoreError> {
    let changes = write::feed_page(conn, after, first, None, true).await?;
    if let Some(missing) = changes.iter().find(|c| c.after.is_none()) {
        return Err(StoreError::Invalid(format!(
            "feed entry {}: no revision holds {} {} at version {}",
            missing.seq,
            missing.entity_type.table(),
            missing.entity_id,
            missing.version
        )));
    }
    Ok(changes)
}

/// What [`replay`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Entries read.
    pub entries: u64,
    /// Entries that changed the target.
    pub written: u64,
    /// The last `seq` applied: the cursor to resume from.
    pub last_seq: Option<i64>,
}

/// Reads `source`'s feed after `after` (from the start when none) with each record's
/// whole state ([`read`]) and applies it to `target` ([`apply`]), one transaction per
/// page of `page` entries, so an interrupted replay resumes from the report's `last_seq`
/// (or from the start: applying is idempotent).
pub async fn replay(
    source: &impl ConnectionTrait,
    target: &DatabaseConnection,
    after: Option<i64>,
    page: u64,
) -> Result<ReplayReport, StoreError> {
    let mut report = ReplayReport { last_seq: after, ..ReplayReport::default() };
    loop {
        let entries = read(source, report.last_seq, Ord::max(page, 1)).await?;
        let Some(last) = entries.last().map(|c| c.seq) else { break };
        let txn = target.begin().await?;
        for entry in &entries {
            if apply(&txn, entry).await? == Applied::Written {
                report.written += 1;
            }
        }
        txn.commit().await?;
        report.entries += entries.len() as u64;
        report.last_seq = Some(last);
    }
    Ok(report)
}
