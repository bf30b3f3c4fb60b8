//! Designation commands, following [`crate::organization`]: an organization's designation
//! (unicorn, gazelle, high-tech enterprise, Fortune Global 500 … in a year), a park's
//! designation and a city's designation. Each is a link to a list, so each has three
//! commands: add (`ADD_LINK`, version 1), update (`UPDATE_LINK`) and end (`END_LINK`).
//!
//! **What "end" means.** The designation tables have no end or until column: a
//! designation holds for its year (an organization's) or from its date on (a park's, a
//! city's). Ending one archives the row (`archived_at`): it leaves the live set, the
//! duplicate rule no longer counts it, staff still read it, and the feed carries the end
//! as a tombstone (`END_LINK`, no `after`). An ended designation is not brought back; add
//! a new one. Like an archived organization, an ended designation can still be corrected.
//!
//! The rules that need other rows, checked in the command's transaction:
//! - the designated organization (an `ENTERPRISE`) or park exists and is live
//!   (`NOT_FOUND` / `WRONG_KIND` on `organizationId` / `parkId`), when the designation is
//!   added or moved to another one;
//! - one organization holds at most one live designation of a kind for a year
//!   (`DUPLICATE` on `year`, naming the one it holds). Two concurrent adds could both pass
//!   that check under PostgreSQL's `READ COMMITTED`, so organization-designation commands
//!   are serialized: SQLite's `BEGIN IMMEDIATE` already does it, and on PostgreSQL each
//!   first takes one transaction-scoped advisory lock ([`lock_designations`]).

use chrono::{DateTime, Utc};
use parkgraph_domain::validation::{
    CityDesignationDraft, CityDesignationPatch, DesignationDraft, DesignationPatch, ErrorCode, FieldError, Invalid,
    ParkDesignationDraft, ParkDesignationPatch, Valid,
};
use parkgraph_domain::{DesignationKind, PartialDate};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{city_designation, designation, park_designation};
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter};
use uuid::Uuid;

use crate::endpoints::check_live;
use crate::{Actor, CommandError, Registry, Versioned, already, revision, today};

/// An organization's designation as stored: the row the read side renders.
pub type DesignationRow = designation::Model;
/// A park's designation as stored.
pub type ParkDesignationRow = park_designation::Model;
/// A city's designation as stored.
pub type CityDesignationRow = city_designation::Model;

impl Registry {
    /// Adds a designation to a live enterprise at version 1, unless the enterprise already
    /// holds a live one of the same kind for the same year.
    pub async fn add_designation(
        &self,
        actor: &Actor,
        draft: DesignationDraft,
    ) -> Result<DesignationRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        lock_designations(&txn).await?;
        check_live(&txn, valid.references()).await?;
        ensure_not_held(&txn, &valid, id).await?;
        crate::insert_new::<DesignationRow>(&txn, id, now, designation_columns(&valid)).await?;
        let after = load::<designation::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::AddLink, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the designation at `expected_version`: absent fields stay as they
    /// are, the whole result is validated, a new enterprise must be live, and a live
    /// designation must stay the only live one of its kind and year for its enterprise.
    pub async fn update_designation(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: DesignationPatch,
    ) -> Result<DesignationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock_designations(&txn).await?;
        let before = load::<designation::Entity>(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = designation_draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        if before.archived_at.is_none() {
            if valid.organization_id != before.organization_id {
                check_live(&txn, valid.references()).await?;
            }
            ensure_not_held(&txn, &valid, id).await?;
        }
        write::update_versioned(&txn, EntityType::Designation, id, expected_version, now, designation_columns(&valid))
            .await?;
        let after = load::<designation::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::UpdateLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Ends a live designation: it leaves the live set (staff still read it) and the feed
    /// carries a tombstone.
    pub async fn end_designation(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<DesignationRow, CommandError> {
        self.end_link::<designation::Entity>(actor, id, expected_version).await
    }

    /// Adds a designation to a live park at version 1.
    pub async fn add_park_designation(
        &self,
        actor: &Actor,
        draft: ParkDesignationDraft,
    ) -> Result<ParkDesignationRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        check_live(&txn, valid.references()).await?;
        crate::insert_new::<ParkDesignationRow>(&txn, id, now, park_designation_columns(&valid)).await?;
        let after = load::<park_designation::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::AddLink, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the park designation at `expected_version`; a live designation
    /// moved to another park needs that park live.
    pub async fn update_park_designation(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: ParkDesignationPatch,
    ) -> Result<ParkDesignationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load::<park_designation::Entity>(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = park_designation_draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        if before.archived_at.is_none() && valid.park_id != before.park_id {
            check_live(&txn, valid.references()).await?;
        }
        let columns = park_designation_columns(&valid);
        write::update_versioned(&txn, EntityType::ParkDesignation, id, expected_version, now, columns).await?;
        let after = load::<park_designation::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::UpdateLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Ends a live park designation (a tombstone in the feed).
    pub async fn end_park_designation(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<ParkDesignationRow, CommandError> {
        self.end_link::<park_designation::Entity>(actor, id, expected_version).await
    }

    /// Adds a designation to a city at version 1.
    pub async fn add_city_designation(
        &self,
        actor: &Actor,
        draft: CityDesignationDraft,
    ) -> Result<CityDesignationRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        crate::insert_new::<CityDesignationRow>(&txn, id, now, city_designation_columns(&valid)).await?;
        let after = load::<city_designation::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::AddLink, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the city designation at `expected_version`.
    pub async fn update_city_designation(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: CityDesignationPatch,
    ) -> Result<CityDesignationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load::<city_designation::Entity>(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = city_designation_draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        let columns = city_designation_columns(&valid);
        write::update_versioned(&txn, EntityType::CityDesignation, id, expected_version, now, columns).await?;
        let after = load::<city_designation::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::UpdateLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Ends a live city designation (a tombstone in the feed).
    pub async fn end_city_designation(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<CityDesignationRow, CommandError> {
        self.end_link::<city_designation::Entity>(actor, id, expected_version).await
    }

    /// Ends the live link `id` of table `E` at `expected_version`: archives the row and
    /// records an `END_LINK` revision and tombstone.
    async fn end_link<E>(&self, actor: &Actor, id: Uuid, expected_version: i32) -> Result<E::Model, CommandError>
    where
        E: EntityTrait,
        E::Model: Versioned + Ends,
        <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
    {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load::<E>(&txn, id).await?;
        if before.version() != expected_version {
            return Err(CommandError::Stale { current_version: before.version() });
        }
        if before.ended_at().is_some() {
            return Err(already::<E::Model>("ended", "add a new one instead").into());
        }
        write::archive(&txn, <E::Model as Versioned>::ENTITY, id, expected_version, now).await?;
        let after = load::<E>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::EndLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// A link row that can be ended: when it was (none while it is live).
pub(crate) trait Ends {
    /// When the link ended (its `archived_at`).
    fn ended_at(&self) -> Option<DateTime<Utc>>;
}

/// Serializes organization-designation commands on PostgreSQL with a transaction-scoped
/// advisory lock (released at commit or rollback), so two concurrent adds cannot both pass
/// the duplicate check. SQLite needs nothing: `BEGIN IMMEDIATE` holds the write lock.
async fn lock_designations(conn: &impl ConnectionTrait) -> Result<(), CommandError> {
    crate::lock::serialize(conn, crate::lock::DESIGNATIONS).await
}

/// The stored row of `id` in table `E`, or `NotFound`.
pub(crate) async fn load<E>(conn: &impl ConnectionTrait, id: Uuid) -> Result<E::Model, CommandError>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    E::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// Fails with `DUPLICATE` on `year` when the enterprise already holds another live
/// designation of the draft's kind for its year.
async fn ensure_not_held(
    conn: &impl ConnectionTrait,
    valid: &Valid<DesignationDraft>,
    id: Uuid,
) -> Result<(), CommandError> {
    let held = designation::Entity::find()
        .filter(designation::Column::OrganizationId.eq(valid.organization_id))
        .filter(designation::Column::Kind.eq(valid.kind.code()))
        .filter(designation::Column::Year.eq(valid.year))
        .filter(designation::Column::Id.ne(id))
        .filter(designation::Column::ArchivedAt.is_null())
        .one(conn)
        .await?;
    match held {
        Some(existing) => Err(Invalid::from(FieldError::new(
            "year",
            ErrorCode::Duplicate,
            format!(
                "The organization already holds a live {} designation for {} (databaseId {}); correct that one, \
                 or end it first.",
                valid.kind.code(),
                valid.year,
                existing.id
            ),
        ))
        .into()),
        None => Ok(()),
    }
}

/// A stored-data error: the row is wrong, not the caller.
fn stored(noun: &str, id: Uuid, field: &str, e: &dyn std::fmt::Display) -> CommandError {
    CommandError::Store(StoreError::Invalid(format!("stored {noun} {id} {field}: {e}")))
}

/// A stored date at its stored precision.
fn stored_date(
    noun: &str,
    id: Uuid,
    field: &str,
    date: Option<chrono::NaiveDate>,
    precision: &Option<String>,
) -> Result<Option<PartialDate>, CommandError> {
    date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(noun, id, field, &e))
}

fn day(p: Option<PartialDate>) -> Expr {
    Expr::val(p.map(PartialDate::first_day))
}

fn precision(p: Option<PartialDate>) -> Expr {
    Expr::val(p.map(|p| p.precision().code().to_string()))
}

/// A stored organization designation as a draft, to apply a patch to.
pub fn designation_draft_of(row: &DesignationRow) -> Result<DesignationDraft, CommandError> {
    Ok(DesignationDraft {
        organization_id: row.organization_id,
        kind: row.kind.parse::<DesignationKind>().map_err(|e| stored("designation", row.id, "kind", &e))?,
        year: row.year,
        valuation_usd: row.valuation_usd,
        note: row.note.clone(),
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: stored_date("designation", row.id, "as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid organization designation.
pub fn designation_columns(valid: &Valid<DesignationDraft>) -> Vec<(&'static str, Expr)> {
    let d: &DesignationDraft = valid;
    vec![
        ("organization_id", Expr::val(d.organization_id)),
        ("kind", Expr::val(d.kind.code())),
        ("year", Expr::val(d.year)),
        ("valuation_usd", Expr::val(d.valuation_usd)),
        ("note", Expr::val(d.note.clone())),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

/// A stored park designation as a draft.
pub fn park_designation_draft_of(row: &ParkDesignationRow) -> Result<ParkDesignationDraft, CommandError> {
    let noun = "park designation";
    Ok(ParkDesignationDraft {
        park_id: row.park_id,
        name_zh: row.name_zh.clone(),
        name_en: row.name_en.clone(),
        designated_on: stored_date(noun, row.id, "designated_on", row.designated_on, &row.designated_on_precision)?,
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: stored_date(noun, row.id, "as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid park designation.
pub fn park_designation_columns(valid: &Valid<ParkDesignationDraft>) -> Vec<(&'static str, Expr)> {
    let d: &ParkDesignationDraft = valid;
    vec![
        ("park_id", Expr::val(d.park_id)),
        ("name_zh", Expr::val(d.name_zh.clone())),
        ("name_en", Expr::val(d.name_en.clone())),
        ("designated_on", day(d.designated_on)),
        ("designated_on_precision", precision(d.designated_on)),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

/// A stored city designation as a draft.
pub fn city_designation_draft_of(row: &CityDesignationRow) -> Result<CityDesignationDraft, CommandError> {
    let noun = "city designation";
    Ok(CityDesignationDraft {
        city: row.city.clone(),
        name_zh: row.name_zh.clone(),
        name_en: row.name_en.clone(),
        issuer: row.issuer.clone(),
        designated_on: stored_date(noun, row.id, "designated_on", row.designated_on, &row.designated_on_precision)?,
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: stored_date(noun, row.id, "as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid city designation.
pub fn city_designation_columns(valid: &Valid<CityDesignationDraft>) -> Vec<(&'static str, Expr)> {
    let d: &CityDesignationDraft = valid;
    vec![
        ("city", Expr::val(d.city.clone())),
        ("name_zh", Expr::val(d.name_zh.clone())),
        ("name_en", Expr::val(d.name_en.clone())),
        ("issuer", Expr::val(d.issuer.clone())),
        ("designated_on", day(d.designated_on)),
        ("designated_on_precision", precision(d.designated_on)),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

macro_rules! link_row {
    ($row:ty, $entity:expr, $noun:literal) => {
        impl crate::Versioned for $row {
            const ENTITY: EntityType = $entity;
            const NOUN: &'static str = $noun;
            fn id(&self) -> Uuid {
                self.id
            }
            fn version(&self) -> i32 {
                self.version
            }
        }

        impl Ends for $row {
            fn ended_at(&self) -> Option<DateTime<Utc>> {
                self.archived_at
            }
        }
    };
}

link_row!(DesignationRow, EntityType::Designation, "designation");
link_row!(ParkDesignationRow, EntityType::ParkDesignation, "park designation");
link_row!(CityDesignationRow, EntityType::CityDesignation, "city designation");
