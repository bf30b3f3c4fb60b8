//! Park commands: create, update, archive, restore, following [`crate::organization`].
//!
//! The rules that need other rows, checked in the command's transaction:
//! - the parent must exist and be live (`NOT_FOUND` on `parentId`);
//! - no park is its own ancestor ([`check_no_cycle`] over the parents read in the
//!   transaction, `CYCLE` on `parentId`);
//! - a park that still has live child parks cannot be archived (`INCONSISTENT` on `id`),
//!   and an archived park comes back only under a live parent.
//!
//! Two concurrent moves could each pass the cycle check and together form a loop, so the
//! park commands are serialized: SQLite's `BEGIN IMMEDIATE` already does it, and on
//! PostgreSQL every park command first takes one transaction-scoped advisory lock
//! ([`lock_parks`]), which every park write contends on.

use std::collections::HashMap;

use chrono::Utc;
use parkgraph_domain::validation::{Endpoint, Reference};
use parkgraph_domain::validation::{
    ErrorCode, FieldError, Invalid, ParkDraft, ParkPatch, Valid, check_no_cycle, check_references,
};
use parkgraph_domain::{ParkKind, PartialDate};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::park;
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect, Statement};
use uuid::Uuid;

use crate::{Actor, CommandError, Registry, already, revision, today};

/// A park as stored: the row the read side renders.
pub type ParkRow = park::Model;

/// The advisory-lock key every park command takes on PostgreSQL ("PARK" in ASCII).
const PARK_LOCK_KEY: i64 = 0x5041_524B;

impl Registry {
    /// Creates a park at version 1, under a live parent when one is given.
    pub async fn create_park(&self, actor: &Actor, draft: ParkDraft) -> Result<ParkRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        lock_parks(&txn).await?;
        ensure_parent_live(&txn, &valid).await?;
        crate::insert_new::<ParkRow>(&txn, id, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Create, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the park at `expected_version`: absent fields stay as they are,
    /// the whole result is validated, a new parent must be live and must not lie inside
    /// the park, and the version goes up by one.
    pub async fn update_park(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: ParkPatch,
    ) -> Result<ParkRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock_parks(&txn).await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        if valid.parent_id != before.parent_id {
            ensure_parent_live(&txn, &valid).await?;
            let parents = parent_map(&txn).await?;
            check_no_cycle(id, valid.parent_id, |p| parents.get(&p).copied().flatten()).map_err(Invalid::from)?;
        }
        write::update_versioned(&txn, EntityType::Park, id, expected_version, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Update, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Archives a live park that has no live child parks (move or archive them first):
    /// it leaves the live registry (staff still read it) and the feed carries a tombstone.
    pub async fn archive_park(&self, actor: &Actor, id: Uuid, expected_version: i32) -> Result<ParkRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock_parks(&txn).await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<ParkRow>("archived", "restore it instead, or leave it archived").into());
        }
        let children = park::Entity::find()
            .filter(park::Column::ParentId.eq(id))
            .filter(park::Column::ArchivedAt.is_null())
            .all(&txn)
            .await?;
        if let Some(child) = children.first() {
            return Err(Invalid::from(FieldError::new(
                "id",
                ErrorCode::Inconsistent,
                format!(
                    "The park still contains {} live park(s), among them {} ({}); move or archive them first.",
                    children.len(),
                    child.name_zh,
                    child.id
                ),
            ))
            .into());
        }
        write::archive(&txn, EntityType::Park, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Archive, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Restores an archived park, unless its parent is no longer live (`NOT_FOUND` on
    /// `parentId`: restore the parent first, or move the park).
    pub async fn restore_park(&self, actor: &Actor, id: Uuid, expected_version: i32) -> Result<ParkRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock_parks(&txn).await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_none() {
            return Err(already::<ParkRow>("live", "there is nothing to restore").into());
        }
        let current = draft_of(&before)?;
        check_parent(&txn, current.references()).await?;
        write::restore(&txn, EntityType::Park, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Restore, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// Serializes park commands on PostgreSQL with a transaction-scoped advisory lock (released
/// at commit or rollback). SQLite needs nothing: `BEGIN IMMEDIATE` holds the write lock.
async fn lock_parks(conn: &impl ConnectionTrait) -> Result<(), CommandError> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        let lock = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [PARK_LOCK_KEY.into()],
        );
        conn.execute_raw(lock).await.map_err(StoreError::from)?;
    }
    Ok(())
}

/// The stored row of `id`, or `NotFound`.
async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<ParkRow, CommandError> {
    park::Entity::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// Fails with `NOT_FOUND` on `parentId` when the draft's parent is not a live park.
async fn ensure_parent_live(conn: &impl ConnectionTrait, valid: &Valid<ParkDraft>) -> Result<(), CommandError> {
    check_parent(conn, valid.references()).await
}

/// Looks up each park reference among the live parks and checks it.
async fn check_parent(conn: &impl ConnectionTrait, references: Vec<Reference>) -> Result<(), CommandError> {
    let mut found = Vec::with_capacity(references.len());
    for reference in references {
        let live = park::Entity::find_by_id(reference.id)
            .filter(park::Column::ArchivedAt.is_null())
            .one(conn)
            .await?
            .map(|_| Endpoint::Park);
        found.push((reference, live));
    }
    Ok(check_references(found)?)
}

/// Every park's stored parent, read in the command's transaction.
async fn parent_map(conn: &impl ConnectionTrait) -> Result<HashMap<Uuid, Option<Uuid>>, CommandError> {
    let rows: Vec<(Uuid, Option<Uuid>)> = park::Entity::find()
        .select_only()
        .column(park::Column::Id)
        .column(park::Column::ParentId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &ParkRow) -> Result<ParkDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored park {} {field}: {e}", row.id)))
    };
    let date = |field: &str, date: Option<chrono::NaiveDate>, precision: &Option<String>| {
        date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(field, &e))
    };
    Ok(ParkDraft {
        kind: row.kind.parse::<ParkKind>().map_err(|e| stored("kind", &e))?,
        name_zh: row.name_zh.clone(),
        parent_id: row.parent_id,
        name_en: row.name_en.clone(),
        city: row.city.clone(),
        district: row.district.clone(),
        address: row.address.clone(),
        latitude: row.latitude,
        longitude: row.longitude,
        area_km2: row.area_km2,
        established_on: date("established_on", row.established_on, &row.established_on_precision)?,
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: date("as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and archive).
pub fn columns(valid: &Valid<ParkDraft>) -> Vec<(&'static str, Expr)> {
    let d: &ParkDraft = valid;
    let day = |p: Option<PartialDate>| Expr::val(p.map(PartialDate::first_day));
    let precision = |p: Option<PartialDate>| Expr::val(p.map(|p| p.precision().code().to_string()));
    vec![
        ("parent_id", Expr::val(d.parent_id)),
        ("kind", Expr::val(d.kind.code())),
        ("name_zh", Expr::val(d.name_zh.clone())),
        ("name_en", Expr::val(d.name_en.clone())),
        ("city", Expr::val(d.city.clone())),
        ("district", Expr::val(d.district.clone())),
        ("address", Expr::val(d.address.clone())),
        ("latitude", Expr::val(d.latitude)),
        ("longitude", Expr::val(d.longitude)),
        ("area_km2", Expr::val(d.area_km2)),
        ("established_on", day(d.established_on)),
        ("established_on_precision", precision(d.established_on)),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

impl crate::Versioned for ParkRow {
    const ENTITY: EntityType = EntityType::Park;
    const NOUN: &'static str = "park";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}
