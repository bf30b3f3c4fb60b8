//! Incubation commands (a firm's stay in an incubator, a link): add, update, end,
//! following [`crate::organization`].
//!
//! The rules that need other rows, checked in the command's transaction:
//! - the firm must be a live organization of kind `ENTERPRISE` and the incubator a live
//!   incubator (`NOT_FOUND` or `WRONG_KIND` on `organizationId` / `incubatorId`, see
//!   [`crate::reference`]);
//! - no two live incubations of one firm at one incubator (`DUPLICATE` on `incubatorId`);
//! - a link's endpoints do not change (`INCONSISTENT`): a firm that moves on has its
//!   incubation ended and, elsewhere, a new one added, so both stay in the history.
//!
//! **Ending** an incubation records how it ended (`GRADUATED` or `EXITED`, with the
//! graduation date when known; the dates are checked by the domain) and archives the link
//! row in the same write: it leaves the live registry, its history keeps every version,
//! and the feed carries the end as a tombstone (`END_LINK`). An ended incubation can still
//! be corrected, but not back to `INCUBATING`; a firm that returns gets a new incubation.
//!
//! Incubation commands (and archiving an incubator) are serialized on PostgreSQL by one
//! advisory lock ([`crate::lock`]), so two concurrent adds cannot both pass the duplicate
//! check; a partial unique index on live links backs the rule up.

use chrono::Utc;
use parkgraph_domain::validation::{ErrorCode, Errors, FieldError, IncubationDraft, IncubationPatch, Invalid, Valid};
use parkgraph_domain::{IncubationStatus, PartialDate};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::incubation;
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{Actor, CommandError, Registry, already, endpoints, lock, revision, today};

/// An incubation as stored: the link row the read side renders.
pub type IncubationRow = incubation::Model;

impl Registry {
    /// Adds an incubation at version 1 between a live enterprise and a live incubator that
    /// have no live incubation yet.
    pub async fn add_incubation(&self, actor: &Actor, draft: IncubationDraft) -> Result<IncubationRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        lock::serialize(&txn, lock::INCUBATIONS).await?;
        endpoints::check_live(&txn, valid.references()).await?;
        ensure_no_live_duplicate(&txn, &valid, id).await?;
        crate::insert_new::<IncubationRow>(&txn, id, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::AddLink, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the incubation at `expected_version` (status, dates, source):
    /// absent fields stay as they are, the whole result is validated (graduated ≥
    /// entered …), and the version goes up by one. The endpoints cannot change.
    pub async fn update_incubation(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: IncubationPatch,
    ) -> Result<IncubationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock::serialize(&txn, lock::INCUBATIONS).await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        same_endpoints(&current, &valid)?;
        if before.archived_at.is_some() && valid.status == IncubationStatus::Incubating {
            return Err(Invalid::from(FieldError::new(
                "status",
                ErrorCode::Inconsistent,
                "The incubation has ended, so the firm is no longer incubating; add a new incubation if it came back.",
            ))
            .into());
        }
        write::update_versioned(&txn, EntityType::Incubation, id, expected_version, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::UpdateLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Ends a live incubation at `expected_version`: `patch` says how it ended (the status
    /// must come out `GRADUATED` or `EXITED`; a graduation date is checked against the
    /// entry), and the link leaves the live registry in the same write, with a tombstone
    /// in the feed.
    pub async fn end_incubation(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: IncubationPatch,
    ) -> Result<IncubationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock::serialize(&txn, lock::INCUBATIONS).await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<IncubationRow>("ended", "add a new incubation if the firm came back").into());
        }
        let status_given = patch.status.is_change();
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        same_endpoints(&current, &valid)?;
        if valid.status == IncubationStatus::Incubating {
            let (code, message) = if status_given {
                (ErrorCode::Inconsistent, "An incubation ends with the firm GRADUATED or EXITED, not INCUBATING.")
            } else {
                (ErrorCode::Required, "Say how the incubation ended: status GRADUATED or EXITED.")
            };
            return Err(Invalid::from(FieldError::new("status", code, message)).into());
        }
        let mut ended = columns(&valid);
        ended.push(("archived_at", Expr::val(now)));
        write::update_versioned(&txn, EntityType::Incubation, id, expected_version, now, ended).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::EndLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// The stored row of `id`, or `NotFound`.
async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<IncubationRow, CommandError> {
    incubation::Entity::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// Fails with `DUPLICATE` on `incubatorId` when the firm already has another live
/// incubation at the incubator.
async fn ensure_no_live_duplicate(
    conn: &impl ConnectionTrait,
    valid: &Valid<IncubationDraft>,
    id: Uuid,
) -> Result<(), CommandError> {
    let existing = incubation::Entity::find()
        .filter(incubation::Column::OrganizationId.eq(valid.organization_id))
        .filter(incubation::Column::IncubatorId.eq(valid.incubator_id))
        .filter(incubation::Column::ArchivedAt.is_null())
        .filter(incubation::Column::Id.ne(id))
        .one(conn)
        .await?;
    match existing {
        Some(link) => Err(Invalid::from(FieldError::new(
            "incubatorId",
            ErrorCode::Duplicate,
            format!(
                "The firm already has a live incubation at this incubator ({}, version {}); update it, or end it \
                 first.",
                link.id, link.version
            ),
        ))
        .into()),
        None => Ok(()),
    }
}

/// Fails with `INCONSISTENT` when a patch moved the link to other endpoints.
fn same_endpoints(current: &IncubationDraft, next: &IncubationDraft) -> Result<(), CommandError> {
    let mut errors = Errors::new();
    for (field, was, is) in [
        ("organizationId", current.organization_id, next.organization_id),
        ("incubatorId", current.incubator_id, next.incubator_id),
    ] {
        if was != is {
            errors.push(
                field,
                ErrorCode::Inconsistent,
                "A link's endpoints do not change: end this incubation and add a new one.",
            );
        }
    }
    Ok(errors.finish(())?)
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &IncubationRow) -> Result<IncubationDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored incubation {} {field}: {e}", row.id)))
    };
    let date = |field: &str, date: Option<chrono::NaiveDate>, precision: &Option<String>| {
        date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(field, &e))
    };
    Ok(IncubationDraft {
        organization_id: row.organization_id,
        incubator_id: row.incubator_id,
        status: row.status.parse::<IncubationStatus>().map_err(|e| stored("status", &e))?,
        entered_on: date("entered_on", row.entered_on, &row.entered_on_precision)?,
        graduated_on: date("graduated_on", row.graduated_on, &row.graduated_on_precision)?,
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: date("as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and archive).
pub fn columns(valid: &Valid<IncubationDraft>) -> Vec<(&'static str, Expr)> {
    let d: &IncubationDraft = valid;
    let day = |p: Option<PartialDate>| Expr::val(p.map(PartialDate::first_day));
    let precision = |p: Option<PartialDate>| Expr::val(p.map(|p| p.precision().code().to_string()));
    vec![
        ("organization_id", Expr::val(d.organization_id)),
        ("incubator_id", Expr::val(d.incubator_id)),
        ("status", Expr::val(d.status.code())),
        ("entered_on", day(d.entered_on)),
        ("entered_on_precision", precision(d.entered_on)),
        ("graduated_on", day(d.graduated_on)),
        ("graduated_on_precision", precision(d.graduated_on)),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

impl crate::Versioned for IncubationRow {
    const ENTITY: EntityType = EntityType::Incubation;
    const NOUN: &'static str = "incubation";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}
