//! Incubator commands: create, update, archive, restore, following [`crate::organization`].
//!
//! The rules that need other rows, checked in the command's transaction:
//! - the park must be a live park and the operator a live organization (any kind):
//!   `NOT_FOUND` or `WRONG_KIND` on `parkId` / `operatorId` (see [`crate::reference`]);
//!   an update checks only a reference it changes, and an archived incubator's references
//!   are checked when it is restored;
//! - an incubator that still has live incubations cannot be archived (`INCONSISTENT` on
//!   `id`: end them first). Archiving takes the incubation lock ([`crate::lock`]), so no
//!   incubation is added while the check runs.

use chrono::Utc;
use parkgraph_domain::validation::{ErrorCode, FieldError, IncubatorDraft, IncubatorPatch, Invalid, Valid};
use parkgraph_domain::{IncubatorKind, IncubatorLevel, PartialDate};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{incubation, incubator};
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{Actor, CommandError, Registry, already, endpoints, lock, revision, today};

/// An incubator as stored: the row the read side renders.
pub type IncubatorRow = incubator::Model;

impl Registry {
    /// Creates an incubator at version 1, in a live park and run by a live organization
    /// when they are given.
    pub async fn create_incubator(&self, actor: &Actor, draft: IncubatorDraft) -> Result<IncubatorRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        endpoints::check_live(&txn, valid.references()).await?;
        crate::insert_new::<IncubatorRow>(&txn, id, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Create, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the incubator at `expected_version`: absent fields stay as they
    /// are, the whole result is validated, a new park or operator must be live and of the
    /// right kind, and the version goes up by one.
    ///
    /// An archived incubator can still be corrected; its references are checked when it is
    /// restored.
    pub async fn update_incubator(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: IncubatorPatch,
    ) -> Result<IncubatorRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        if before.archived_at.is_none() {
            let changed = valid.references().into_iter().filter(|r| !current.references().contains(r));
            endpoints::check_live(&txn, changed).await?;
        }
        write::update_versioned(&txn, EntityType::Incubator, id, expected_version, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Update, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Archives a live incubator that has no live incubations (end them first): it leaves
    /// the live registry (staff still read it) and the feed carries a tombstone.
    pub async fn archive_incubator(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<IncubatorRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock::serialize(&txn, lock::INCUBATIONS).await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<IncubatorRow>("archived", "restore it instead, or leave it archived").into());
        }
        let live = incubation::Entity::find()
            .filter(incubation::Column::IncubatorId.eq(id))
            .filter(incubation::Column::ArchivedAt.is_null())
            .all(&txn)
            .await?;
        if let Some(first) = live.first() {
            return Err(Invalid::from(FieldError::new(
                "id",
                ErrorCode::Inconsistent,
                format!(
                    "The incubator still has {} live incubation(s), among them {} (organization {}); end them first.",
                    live.len(),
                    first.id,
                    first.organization_id
                ),
            ))
            .into());
        }
        write::archive(&txn, EntityType::Incubator, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Archive, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Restores an archived incubator, unless its park or operator is no longer live
    /// (`NOT_FOUND` on `parkId` / `operatorId`: restore it first, or correct the incubator).
    pub async fn restore_incubator(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<IncubatorRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_none() {
            return Err(already::<IncubatorRow>("live", "there is nothing to restore").into());
        }
        endpoints::check_live(&txn, draft_of(&before)?.references()).await?;
        write::restore(&txn, EntityType::Incubator, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Restore, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// The stored row of `id`, or `NotFound`.
pub(crate) async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<IncubatorRow, CommandError> {
    incubator::Entity::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &IncubatorRow) -> Result<IncubatorDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored incubator {} {field}: {e}", row.id)))
    };
    let date = |field: &str, date: Option<chrono::NaiveDate>, precision: &Option<String>| {
        date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(field, &e))
    };
    Ok(IncubatorDraft {
        kind: row.kind.parse::<IncubatorKind>().map_err(|e| stored("kind", &e))?,
        name_zh: row.name_zh.clone(),
        name_en: row.name_en.clone(),
        level: row.level.as_deref().map(str::parse::<IncubatorLevel>).transpose().map_err(|e| stored("level", &e))?,
        park_id: row.park_id,
        operator_id: row.operator_id,
        founded_on: date("founded_on", row.founded_on, &row.founded_on_precision)?,
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: date("as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and archive).
pub fn columns(valid: &Valid<IncubatorDraft>) -> Vec<(&'static str, Expr)> {
    let d: &IncubatorDraft = valid;
    let day = |p: Option<PartialDate>| Expr::val(p.map(PartialDate::first_day));
    let precision = |p: Option<PartialDate>| Expr::val(p.map(|p| p.precision().code().to_string()));
    vec![
        ("kind", Expr::val(d.kind.code())),
        ("name_zh", Expr::val(d.name_zh.clone())),
        ("name_en", Expr::val(d.name_en.clone())),
        ("level", Expr::val(d.level.map(|l| l.code().to_string()))),
        ("park_id", Expr::val(d.park_id)),
        ("operator_id", Expr::val(d.operator_id)),
        ("founded_on", day(d.founded_on)),
        ("founded_on_precision", precision(d.founded_on)),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

impl crate::Versioned for IncubatorRow {
    const ENTITY: EntityType = EntityType::Incubator;
    const NOUN: &'static str = "incubator";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}
