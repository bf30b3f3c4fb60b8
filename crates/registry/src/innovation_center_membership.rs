//! Innovation center membership commands (a link: an organization taking part in an
//! innovation center as lead, founding shareholder or member): add, update, end.
//!
//! The rules that need other rows, checked in the command's transaction:
//! - both endpoints must exist and be live, the center an innovation center and the
//!   member an organization of any kind (`NOT_FOUND` / `WRONG_KIND` on
//!   `innovationCenterId` / `organizationId`);
//! - an organization has at most one live membership of a center (`DUPLICATE` on
//!   `organizationId`, naming the membership that exists): change its role with an
//!   update. A partial unique index over live memberships backs the rule up, and a
//!   violation that races past the check becomes the same error.
//!
//! **Ending** a membership: the table has no end date, so the end is the link's
//! `archived_at`: the row stays (history, staff), leaves the live set, and its feed entry
//! is an [`Operation::EndLink`] tombstone. An ended membership can still be corrected (an
//! update keeps it ended); an organization that joins again gets a new membership.

use chrono::Utc;
use parkgraph_domain::validation::{
    ErrorCode, FieldError, InnovationCenterMembershipDraft, InnovationCenterMembershipPatch, Invalid, Valid,
};
use parkgraph_domain::{MembershipRole, PartialDate};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::innovation_center_membership as membership;
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::endpoints::check_live;
use crate::{Actor, CommandError, Registry, already, revision, today};

/// A membership as stored: the link row the read side renders.
pub type InnovationCenterMembershipRow = membership::Model;

impl Registry {
    /// Adds a live membership at version 1 between a live innovation center and a live
    /// organization that is not a live member of it yet.
    pub async fn add_innovation_center_membership(
        &self,
        actor: &Actor,
        draft: InnovationCenterMembershipDraft,
    ) -> Result<InnovationCenterMembershipRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let result = self.add_in_transaction(actor, id, &valid).await;
        self.membership_race(result, &valid, id).await
    }

    async fn add_in_transaction(
        &self,
        actor: &Actor,
        id: Uuid,
        valid: &Valid<InnovationCenterMembershipDraft>,
    ) -> Result<InnovationCenterMembershipRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        check_live(&txn, valid.references()).await?;
        ensure_no_live_duplicate(&txn, valid, id).await?;
        crate::insert_new::<InnovationCenterMembershipRow>(&txn, id, now, columns(valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::AddLink, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the membership at `expected_version`: absent fields stay as
    /// they are, the whole result is validated, and the version goes up by one. A live
    /// membership moved to another center or organization is checked like a new one; an
    /// ended membership can be corrected and stays ended.
    pub async fn update_innovation_center_membership(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: InnovationCenterMembershipPatch,
    ) -> Result<InnovationCenterMembershipRow, CommandError> {
        let mut checked = None;
        let result = self.update_link_in_transaction(actor, id, expected_version, patch, &mut checked).await;
        match checked {
            Some(valid) => self.membership_race(result, &valid, id).await,
            None => result,
        }
    }

    async fn update_link_in_transaction(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: InnovationCenterMembershipPatch,
        checked: &mut Option<Valid<InnovationCenterMembershipDraft>>,
    ) -> Result<InnovationCenterMembershipRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        let moved = valid.innovation_center_id != before.innovation_center_id
            || valid.organization_id != before.organization_id;
        if moved && before.archived_at.is_none() {
            check_live(&txn, valid.references()).await?;
            ensure_no_live_duplicate(&txn, &valid, id).await?;
            *checked = Some(valid.clone());
        }
        write::update_versioned(
            &txn,
            EntityType::InnovationCenterMembership,
            id,
            expected_version,
            now,
            columns(&valid),
        )
        .await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::UpdateLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Ends a live membership: the link leaves the live set (staff still read it, with
    /// when it ended) and the feed carries an `END_LINK` tombstone.
    pub async fn end_innovation_center_membership(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<InnovationCenterMembershipRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<InnovationCenterMembershipRow>(
                "ended",
                "add a new membership if the organization has joined again",
            )
            .into());
        }
        write::archive(&txn, EntityType::InnovationCenterMembership, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::EndLink, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// A unique-index violation on the live pair that raced past the in-transaction check
    /// (two writers at once) becomes the same `DUPLICATE` error, never a 500.
    async fn membership_race(
        &self,
        result: Result<InnovationCenterMembershipRow, CommandError>,
        valid: &Valid<InnovationCenterMembershipDraft>,
        id: Uuid,
    ) -> Result<InnovationCenterMembershipRow, CommandError> {
        let Err(CommandError::Store(StoreError::Conflict(message))) = &result else {
            return result;
        };
        match live_duplicate(&self.db, valid, id).await? {
            Some(existing) => Err(duplicate(&existing).into()),
            None => Err(CommandError::Store(StoreError::Conflict(message.clone()))),
        }
    }
}

/// The stored row of `id`, or `NotFound`.
async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<InnovationCenterMembershipRow, CommandError> {
    membership::Entity::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// Another live membership (other than `id`) of the same organization in the same center.
async fn live_duplicate(
    conn: &impl ConnectionTrait,
    valid: &InnovationCenterMembershipDraft,
    id: Uuid,
) -> Result<Option<InnovationCenterMembershipRow>, CommandError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::InnovationCenterId.eq(valid.innovation_center_id))
        .filter(membership::Column::OrganizationId.eq(valid.organization_id))
        .filter(membership::Column::Id.ne(id))
        .filter(membership::Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// Fails with `DUPLICATE` on `organizationId` when the organization already has a live
/// membership of the center.
async fn ensure_no_live_duplicate(
    conn: &impl ConnectionTrait,
    valid: &InnovationCenterMembershipDraft,
    id: Uuid,
) -> Result<(), CommandError> {
    match live_duplicate(conn, valid, id).await? {
        Some(existing) => Err(duplicate(&existing).into()),
        None => Ok(()),
    }
}

/// The `DUPLICATE` error naming the live membership that exists.
fn duplicate(existing: &InnovationCenterMembershipRow) -> Invalid {
    FieldError::new(
        "organizationId",
        ErrorCode::Duplicate,
        format!(
            "Organization {} is already a live member of innovation center {} (membership {}, role {}); update \
             that membership instead, or end it first.",
            existing.organization_id, existing.innovation_center_id, existing.id, existing.role
        ),
    )
    .into()
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &InnovationCenterMembershipRow) -> Result<InnovationCenterMembershipDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored innovation center membership {} {field}: {e}", row.id)))
    };
    let date = |field: &str, date: Option<chrono::NaiveDate>, precision: &Option<String>| {
        date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(field, &e))
    };
    Ok(InnovationCenterMembershipDraft {
        innovation_center_id: row.innovation_center_id,
        organization_id: row.organization_id,
        role: row.role.parse::<MembershipRole>().map_err(|e| stored("role", &e))?,
        joined_on: date("joined_on", row.joined_on, &row.joined_on_precision)?,
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: date("as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and end).
pub fn columns(valid: &Valid<InnovationCenterMembershipDraft>) -> Vec<(&'static str, Expr)> {
    let d: &InnovationCenterMembershipDraft = valid;
    let day = |p: Option<PartialDate>| Expr::val(p.map(PartialDate::first_day));
    let precision = |p: Option<PartialDate>| Expr::val(p.map(|p| p.precision().code().to_string()));
    vec![
        ("innovation_center_id", Expr::val(d.innovation_center_id)),
        ("organization_id", Expr::val(d.organization_id)),
        ("role", Expr::val(d.role.code())),
        ("joined_on", day(d.joined_on)),
        ("joined_on_precision", precision(d.joined_on)),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

impl crate::Versioned for InnovationCenterMembershipRow {
    const ENTITY: EntityType = EntityType::InnovationCenterMembership;
    const NOUN: &'static str = "innovation center membership";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}
