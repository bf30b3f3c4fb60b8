//! Partner snapshots: every live record of one kind, read page by page inside one
//! read-only transaction, together with the change-feed position the pages are
//! consistent with.
//!
//! A [`Snapshot`] is opened with [`Snapshot::begin`] (or [`crate::Store::snapshot`]). Its
//! first statement reads `change_counter`, which fixes the transaction's view of the
//! database: on PostgreSQL the transaction is `REPEATABLE READ READ ONLY`, whose snapshot
//! is taken by its first statement; on SQLite it is a deferred transaction on one
//! connection, whose read snapshot is likewise taken by its first `SELECT` (the pool runs
//! in WAL mode, see [`crate::db::connect`], so writers are not blocked while it is open).
//!
//! Why the counter read inside that view is exactly the feed position of the pages: a
//! command takes its feed number from `change_counter` as the last write of its
//! transaction (see [`crate::write`]), so a committed counter value `n` means every entry
//! up to `n` is committed together with the row writes it describes, and no entry above
//! `n` is. A view that sees the counter at `n` therefore sees the rows as the feed left
//! them at entry `n`: applying `changes(after: n)` on top of the pages gives the live
//! registry at any later time.
//!
//! [`Snapshot::page`] reads the next rows of a kind by keyset on `id` (UUID v7), live rows
//! only (the [`Live`] condition of each kind, as the API applies it), each as the JSON
//! object the feed's `after` carries (one key per column). The caller streams each page
//! as it reads it, so memory stays flat whatever the table's size.
//!
//! The price of one view for the whole read: on PostgreSQL an open `REPEATABLE READ`
//! transaction keeps vacuum from removing row versions newer than its snapshot until it
//! ends, and on SQLite an open reader keeps the WAL from being checkpointed past it. A
//! snapshot of the largest table takes seconds to a few minutes, which both tolerate;
//! the API bounds how many run at once.

use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, IsolationLevel,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{
    city_designation, designation, enterprise_location, figure, incubation, incubator, innovation_center,
    innovation_center_membership, organization, park, park_designation, second_headquarters,
};
use crate::query::Live;
use crate::write::{EntityType, VersionedRow};

/// One row of a snapshot: a live record's id and its fields as the feed carries them.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    /// The record's id: the key to resume after (`?after=`).
    pub id: Uuid,
    /// The record's columns by name, exactly as a feed entry's `after` holds them.
    pub fields: Json,
}

/// An open, read-only, consistent view of the registry (see the module docs). Dropping
/// it rolls the transaction back; [`Snapshot::finish`] ends it explicitly.
pub struct Snapshot {
    txn: DatabaseTransaction,
    feed_position: i64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("feed_position", &self.feed_position).finish_non_exhaustive()
    }
}

impl Snapshot {
    /// Opens the read-only transaction and reads the feed position inside it (its first
    /// statement). Holds one pooled connection until the snapshot is finished or dropped.
    pub async fn begin(db: &DatabaseConnection) -> Result<Self, StoreError> {
        let txn = match db.get_database_backend() {
            DbBackend::Postgres => {
                db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
            }
            // SQLite has one isolation level (serializable reads from a fixed snapshot)
            // and no read-only mode: a deferred transaction that only reads is both.
            _ => db.begin().await?,
        };
        let feed_position = crate::write::feed_head(&txn).await?;
        Ok(Self { txn, feed_position })
    }

    /// The feed position the snapshot is consistent with: the `seq` of the last feed entry
    /// its rows include (0 for an empty feed). Follow the feed after it.
    pub fn feed_position(&self) -> i64 {
        self.feed_position
    }

    /// Up to `limit` live records of `entity` whose id is greater than `after` (from the
    /// first when none), in id order.
    pub async fn page(
        &self,
        entity: EntityType,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        let conn = &self.txn;
        match entity {
            EntityType::Park => live_page::<park::Entity>(conn, park::Column::Id, after, limit).await,
            EntityType::ParkDesignation => {
                live_page::<park_designation::Entity>(conn, park_designation::Column::Id, after, limit).await
            }
            EntityType::Organization => {
                live_page::<organization::Entity>(conn, organization::Column::Id, after, limit).await
            }
            EntityType::Designation => {
                live_page::<designation::Entity>(conn, designation::Column::Id, after, limit).await
            }
            EntityType::EnterpriseLocation => {
                live_page::<enterprise_location::Entity>(conn, enterprise_location::Column::Id, after, limit).await
            }
            EntityType::Incubator => live_page::<incubator::Entity>(conn, incubator::Column::Id, after, limit).await,
            EntityType::Incubation => live_page::<incubation::Entity>(conn, incubation::Column::Id, after, limit).await,
            EntityType::SecondHeadquarters => {
                live_page::<second_headquarters::Entity>(conn, second_headquarters::Column::Id, after, limit).await
            }
            EntityType::InnovationCenter => {
                live_page::<innovation_center::Entity>(conn, innovation_center::Column::Id, after, limit).await
            }
            EntityType::InnovationCenterMembership => {
                live_page::<innovation_center_membership::Entity>(
                    conn,
                    innovation_center_membership::Column::Id,
                    after,
                    limit,
                )
                .await
            }
            EntityType::Figure => live_page::<figure::Entity>(conn, figure::Column::Id, after, limit).await,
            EntityType::CityDesignation => {
                live_page::<city_designation::Entity>(conn, city_designation::Column::Id, after, limit).await
            }
        }
    }

    /// Ends the transaction (it wrote nothing: it is rolled back).
    pub async fn finish(self) -> Result<(), StoreError> {
        Ok(self.txn.rollback().await?)
    }
}

async fn live_page<E>(
    conn: &impl ConnectionTrait,
    id: E::Column,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<SnapshotRow>, StoreError>
where
    E: Live,
    E::Model: VersionedRow,
{
    let mut select = E::find().filter(E::live()).order_by_asc(id).limit(limit);
    if let Some(after) = after {
        select = select.filter(id.gt(after));
    }
    select
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            let fields = serde_json::to_value(&row).map_err(|e| {
                StoreError::Invalid(format!("{} {} as JSON: {e}", <E::Model as VersionedRow>::ENTITY.table(), row.id()))
            })?;
            Ok(SnapshotRow { id: row.id(), fields })
        })
        .collect()
}
