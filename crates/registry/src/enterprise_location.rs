//! Enterprise-location commands (an enterprise's site in a park, a link): add, update, end,
//! following [`crate::organization`].
//!
//! The rules that need other rows, checked in the command's transaction:
//! - the firm must be a live organization of kind `ENTERPRISE` and the park a live park
//!   (`NOT_FOUND` or `WRONG_KIND` on `organizationId` / `parkId`, see
//!   [`crate::reference`]);
//! - no two live locations of one firm in one park with one role (`DUPLICATE` on `role`);
//! - a link's endpoints do not change (`INCONSISTENT`): a firm that moves parks has its
//!   location ended and a new one added, so both stay in the history. Its role can change.
//!
//! **Ending** a location archives the link row (the table has no end date of its own; the
//! link's `archived_at` is when it ended): it leaves the live registry, its history keeps
//! every version, and the feed carries the end as a tombstone (`END_LINK`). An ended
//! location can still be corrected; a firm that comes back gets a new location.
//!
//! Location commands are serialized on PostgreSQL by one advisory lock ([`crate::lock`]),
//! so two concurrent adds cannot both pass the duplicate check; a partial unique index on
//! live locations backs the rule up.

use chrono::Utc;
use parkgraph_domain::validation::{
    EnterpriseLocationDraft, EnterpriseLocationPatch, ErrorCode, Errors, FieldError, Invalid, Valid,
};
use parkgraph_domain::{LocationRole, PartialDate};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::enterprise_location;
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{Actor, CommandError, Registry, already, endpoints, lock, revision, today};

/// An enterprise location as stored: the link row the read side renders.
pub type EnterpriseLocationRow = enterprise_location::Model;

impl Registry {
    /// Adds a location at version 1: a live enterprise in a live park, in a role it does not
    /// hold there yet.
    pub async fn add_enterprise_location(
        &self,
        actor: &Actor,
        draft: EnterpriseLocationDraft,
    ) -> Result<EnterpriseLocationRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        lock::serialize(&txn, lock::LOCATIONS).await?;
        endpoints::check_live(&txn, valid.references()).await?;
        ensure_no_live_duplicate(&txn, &valid, id).await?;
        crate::insert_new::<EnterpriseLocationRow>(&txn, id, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::AddLink, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the location at `expected_version` (role, since, source): absent
    /// fields stay as they are, the whole result is validated, a live location's new role
    /// must be free, and the version goes up by one. The endpoints cannot change.
    pub async fn update_enterprise_location(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: EnterpriseLocationPatch,
    ) -> Result<EnterpriseLocationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock::serialize(&txn, lock::LOCATIONS).await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        same_endpoints(&current, &valid)?;
        if before.archived_at.is_none() && valid.role != current.role {
            ensure_no_live_duplicate(&txn, &valid, id).await?;
        }
        write::update_versioned(&txn, EntityType::EnterpriseLocation, id, expected_version, now, columns(&valid))
            .await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::UpdateLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Ends a live location at `expected_version`: it leaves the live registry, with a
    /// tombstone in the feed.
    pub async fn end_enterprise_location(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<EnterpriseLocationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        lock::serialize(&txn, lock::LOCATIONS).await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<EnterpriseLocationRow>("ended", "add a new location if the firm came back").into());
        }
        write::archive(&txn, EntityType::EnterpriseLocation, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::EndLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// The stored row of `id`, or `NotFound`.
async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<EnterpriseLocationRow, CommandError> {
    enterprise_location::Entity::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// Fails with `DUPLICATE` on `role` when the firm already has another live location in the
/// park with the same role.
async fn ensure_no_live_duplicate(
    conn: &impl ConnectionTrait,
    valid: &Valid<EnterpriseLocationDraft>,
    id: Uuid,
) -> Result<(), CommandError> {
    let existing = enterprise_location::Entity::find()
        .filter(enterprise_location::Column::OrganizationId.eq(valid.organization_id))
        .filter(enterprise_location::Column::ParkId.eq(valid.park_id))
        .filter(enterprise_location::Column::Role.eq(valid.role.code()))
        .filter(enterprise_location::Column::ArchivedAt.is_null())
        .filter(enterprise_location::Column::Id.ne(id))
        .one(conn)
        .await?;
    match existing {
        Some(link) => Err(Invalid::from(FieldError::new(
            "role",
            ErrorCode::Duplicate,
            format!(
                "The firm already has a live {} location in this park ({}, version {}); update it, or end it first.",
                valid.role.code(),
                link.id,
                link.version
            ),
        ))
        .into()),
        None => Ok(()),
    }
}

/// Fails with `INCONSISTENT` when a patch moved the link to other endpoints.
fn same_endpoints(current: &EnterpriseLocationDraft, next: &EnterpriseLocationDraft) -> Result<(), CommandError> {
    let mut errors = Errors::new();
    for (field, was, is) in
        [("organizationId", current.organization_id, next.organization_id), ("parkId", current.park_id, next.park_id)]
    {
        if was != is {
            errors.push(
                field,
                ErrorCode::Inconsistent,
                "A link's endpoints do not change: end this location and add a new one.",
            );
        }
    }
    Ok(errors.finish(())?)
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &EnterpriseLocationRow) -> Result<EnterpriseLocationDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored enterprise location {} {field}: {e}", row.id)))
    };
    let date = |field: &str, date: Option<chrono::NaiveDate>, precision: &Option<String>| {
        date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(field, &e))
    };
    Ok(EnterpriseLocationDraft {
        organization_id: row.organization_id,
        park_id: row.park_id,
        role: row.role.parse::<LocationRole>().map_err(|e| stored("role", &e))?,
        since: date("since", row.since, &row.since_precision)?,
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: date("as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and archive).
pub fn columns(valid: &Valid<EnterpriseLocationDraft>) -> Vec<(&'static str, Expr)> {
    let d: &EnterpriseLocationDraft = valid;
    let day = |p: Option<PartialDate>| Expr::val(p.map(PartialDate::first_day));
    let precision = |p: Option<PartialDate>| Expr::val(p.map(|p| p.precision().code().to_string()));
    vec![
        ("organization_id", Expr::val(d.organization_id)),
        ("park_id", Expr::val(d.park_id)),
        ("role", Expr::val(d.role.code())),
        ("since", day(d.since)),
        ("since_precision", precision(d.since)),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

impl crate::Versioned for EnterpriseLocationRow {
    const ENTITY: EntityType = EntityType::EnterpriseLocation;
    const NOUN: &'static str = "enterprise location";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}
