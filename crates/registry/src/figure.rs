//! Figure commands (create, update, archive, restore), following [`crate::organization`]:
//! a sourced, dated indicator about an organization, a park or a city.
//!
//! The rules that need other rows, checked in the command's transaction:
//! - the park and the organization, when given, exist and are live (`NOT_FOUND` on
//!   `parkId` / `organizationId`), when the figure is created, moved to another one, or
//!   restored;
//! - a figure about a park whose city is not given takes its park's city, so the city's
//!   figures (`city(name:) { figures }`, `figures(filter: { city })`) include it, as they
//!   do the sample's.

use chrono::Utc;
use parkgraph_domain::validation::{FigureDraft, FigurePatch, Valid};
use parkgraph_domain::{FigureQualifier, PartialDate};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{figure, park};
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::designation::load;
use crate::endpoints::check_live;
use crate::{Actor, CommandError, Registry, already, revision, today};

/// A figure as stored: the row the read side renders.
pub type FigureRow = figure::Model;

impl Registry {
    /// Creates a figure at version 1, about a live organization, a live park or a city.
    pub async fn create_figure(&self, actor: &Actor, draft: FigureDraft) -> Result<FigureRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        check_live(&txn, valid.references()).await?;
        let city = city_of(&txn, &valid).await?;
        crate::insert_new::<FigureRow>(&txn, id, now, columns(&valid, city)).await?;
        let after = load::<figure::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Create, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the figure at `expected_version`: absent fields stay as they are,
    /// the whole result is validated, a new park or organization must be live, and the
    /// version goes up by one. An archived figure can still be corrected.
    pub async fn update_figure(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: FigurePatch,
    ) -> Result<FigureRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load::<figure::Entity>(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        let moved = valid.park_id != before.park_id || valid.organization_id != before.organization_id;
        if before.archived_at.is_none() && moved {
            check_live(&txn, valid.references()).await?;
        }
        let city = city_of(&txn, &valid).await?;
        write::update_versioned(&txn, EntityType::Figure, id, expected_version, now, columns(&valid, city)).await?;
        let after = load::<figure::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Update, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Archives a live figure: it leaves the live registry (staff still read it) and the
    /// feed carries a tombstone.
    pub async fn archive_figure(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<FigureRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load::<figure::Entity>(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<FigureRow>("archived", "restore it instead, or leave it archived").into());
        }
        write::archive(&txn, EntityType::Figure, id, expected_version, now).await?;
        let after = load::<figure::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Archive, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Restores an archived figure, unless its park or organization is no longer live
    /// (`NOT_FOUND` on `parkId` / `organizationId`: restore it first, or move the figure).
    pub async fn restore_figure(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<FigureRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load::<figure::Entity>(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_none() {
            return Err(already::<FigureRow>("live", "there is nothing to restore").into());
        }
        check_live(&txn, draft_of(&before)?.references()).await?;
        write::restore(&txn, EntityType::Figure, id, expected_version, now).await?;
        let after = load::<figure::Entity>(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Restore, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// The city to store: the one given, else the park's.
async fn city_of(conn: &impl ConnectionTrait, valid: &Valid<FigureDraft>) -> Result<Option<String>, CommandError> {
    match (&valid.city, valid.park_id) {
        (Some(city), _) => Ok(Some(city.clone())),
        (None, Some(park_id)) => Ok(park::Entity::find_by_id(park_id).one(conn).await?.and_then(|p| p.city)),
        (None, None) => Ok(None),
    }
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &FigureRow) -> Result<FigureDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored figure {} {field}: {e}", row.id)))
    };
    Ok(FigureDraft {
        indicator: row.indicator.clone(),
        name_zh: row.name_zh.clone(),
        value: row.value,
        unit: row.unit.clone(),
        qualifier: row.qualifier.parse::<FigureQualifier>().map_err(|e| stored("qualifier", &e))?,
        park_id: row.park_id,
        city: row.city.clone(),
        organization_id: row.organization_id,
        name_en: row.name_en.clone(),
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: row
            .as_of
            .map(|d| PartialDate::from_stored(d, row.as_of_precision.as_deref()))
            .transpose()
            .map_err(|e| stored("as_of", &e))?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and archive),
/// with the city to store.
pub fn columns(valid: &Valid<FigureDraft>, city: Option<String>) -> Vec<(&'static str, Expr)> {
    let d: &FigureDraft = valid;
    vec![
        ("park_id", Expr::val(d.park_id)),
        ("city", Expr::val(city)),
        ("organization_id", Expr::val(d.organization_id)),
        ("indicator", Expr::val(d.indicator.clone())),
        ("name_zh", Expr::val(d.name_zh.clone())),
        ("name_en", Expr::val(d.name_en.clone())),
        ("value", Expr::val(d.value)),
        ("unit", Expr::val(d.unit.clone())),
        ("qualifier", Expr::val(d.qualifier.code())),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", Expr::val(d.as_of.map(PartialDate::first_day))),
        ("as_of_precision", Expr::val(d.as_of.map(|p| p.precision().code().to_string()))),
    ]
}

impl crate::Versioned for FigureRow {
    const ENTITY: EntityType = EntityType::Figure;
    const NOUN: &'static str = "figure";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}
