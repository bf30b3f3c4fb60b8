//! Second headquarters commands: create, update, archive, restore, following
//! [`crate::organization`].
//!
//! The rules that need other rows, checked in the command's transaction: the parent group
//! must be a live organization (any kind), the park a live park, and the local legal
//! entity a live organization of kind `ENTERPRISE` (`NOT_FOUND` / `WRONG_KIND` on
//! `parentId`, `parkId`, `localEntityId`). An update checks the references it sets or
//! changes; a restore checks them all again. Dates in order (opened ≥ announced, at their
//! precisions), functions listed once and a local entity other than the parent are the
//! domain draft's rules.

use chrono::Utc;
use parkgraph_domain::validation::{Reference, SecondHeadquartersDraft, SecondHeadquartersPatch, Valid};
use parkgraph_domain::{PartialDate, SecondHqFunction, SecondHqStatus};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::second_headquarters;
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::endpoints::check_live;
use crate::{Actor, CommandError, Registry, already, revision, today};

/// A second headquarters as stored: the row the read side renders.
pub type SecondHeadquartersRow = second_headquarters::Model;

impl Registry {
    /// Creates a second headquarters at version 1, of a live parent group, in a live park
    /// and with a live local enterprise when those are given.
    pub async fn create_second_headquarters(
        &self,
        actor: &Actor,
        draft: SecondHeadquartersDraft,
    ) -> Result<SecondHeadquartersRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        check_live(&txn, valid.references()).await?;
        crate::insert_new::<SecondHeadquartersRow>(&txn, id, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Create, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the second headquarters at `expected_version`: absent fields
    /// stay as they are, the whole result is validated (an opening date is checked against
    /// the stored announcement), references it sets or changes must be live and of the
    /// right kind, and the version goes up by one. An archived record can still be
    /// corrected.
    pub async fn update_second_headquarters(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: SecondHeadquartersPatch,
    ) -> Result<SecondHeadquartersRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        let stored = current.references();
        let changed: Vec<Reference> = valid.references().into_iter().filter(|r| !stored.contains(r)).collect();
        check_live(&txn, changed).await?;
        write::update_versioned(&txn, EntityType::SecondHeadquarters, id, expected_version, now, columns(&valid))
            .await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Update, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Archives a live second headquarters: it leaves the live registry (staff still read
    /// it) and the feed carries a tombstone.
    pub async fn archive_second_headquarters(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<SecondHeadquartersRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<SecondHeadquartersRow>("archived", "restore it instead, or leave it archived").into());
        }
        write::archive(&txn, EntityType::SecondHeadquarters, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Archive, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Restores an archived second headquarters, unless its parent group, park or local
    /// entity is no longer live (`NOT_FOUND` on that field: restore it first, or change
    /// the reference).
    pub async fn restore_second_headquarters(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<SecondHeadquartersRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_none() {
            return Err(already::<SecondHeadquartersRow>("live", "there is nothing to restore").into());
        }
        check_live(&txn, draft_of(&before)?.references()).await?;
        write::restore(&txn, EntityType::SecondHeadquarters, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Restore, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// The stored row of `id`, or `NotFound`.
async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<SecondHeadquartersRow, CommandError> {
    second_headquarters::Entity::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &SecondHeadquartersRow) -> Result<SecondHeadquartersDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored second headquarters {} {field}: {e}", row.id)))
    };
    let date = |field: &str, date: Option<chrono::NaiveDate>, precision: &Option<String>| {
        date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(field, &e))
    };
    let functions = row
        .functions
        .split(',')
        .filter(|f| !f.is_empty())
        .map(|f| f.parse::<SecondHqFunction>().map_err(|e| stored("functions", &e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SecondHeadquartersDraft {
        parent_id: row.parent_id,
        name_zh: row.name_zh.clone(),
        status: row.status.parse::<SecondHqStatus>().map_err(|e| stored("status", &e))?,
        functions,
        park_id: row.park_id,
        local_entity_id: row.local_entity_id,
        city: row.city.clone(),
        name_en: row.name_en.clone(),
        announced_on: date("announced_on", row.announced_on, &row.announced_on_precision)?,
        opened_on: date("opened_on", row.opened_on, &row.opened_on_precision)?,
        planned_investment_cny: row.planned_investment_cny,
        planned_headcount: row.planned_headcount,
        planned_floor_area_m2: row.planned_floor_area_m2,
        staff_notes: row.staff_notes.clone(),
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: date("as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and archive);
/// the functions are stored as comma-separated codes.
pub fn columns(valid: &Valid<SecondHeadquartersDraft>) -> Vec<(&'static str, Expr)> {
    let d: &SecondHeadquartersDraft = valid;
    let day = |p: Option<PartialDate>| Expr::val(p.map(PartialDate::first_day));
    let precision = |p: Option<PartialDate>| Expr::val(p.map(|p| p.precision().code().to_string()));
    let functions: Vec<&str> = d.functions.iter().map(|f| f.code()).collect();
    vec![
        ("parent_id", Expr::val(d.parent_id)),
        ("park_id", Expr::val(d.park_id)),
        ("local_entity_id", Expr::val(d.local_entity_id)),
        ("city", Expr::val(d.city.clone())),
        ("name_zh", Expr::val(d.name_zh.clone())),
        ("name_en", Expr::val(d.name_en.clone())),
        ("announced_on", day(d.announced_on)),
        ("announced_on_precision", precision(d.announced_on)),
        ("opened_on", day(d.opened_on)),
        ("opened_on_precision", precision(d.opened_on)),
        ("planned_investment_cny", Expr::val(d.planned_investment_cny)),
        ("planned_headcount", Expr::val(d.planned_headcount)),
        ("planned_floor_area_m2", Expr::val(d.planned_floor_area_m2)),
        ("functions", Expr::val(functions.join(","))),
        ("status", Expr::val(d.status.code())),
        ("staff_notes", Expr::val(d.staff_notes.clone())),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

impl crate::Versioned for SecondHeadquartersRow {
    const ENTITY: EntityType = EntityType::SecondHeadquarters;
    const NOUN: &'static str = "second headquarters";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}
