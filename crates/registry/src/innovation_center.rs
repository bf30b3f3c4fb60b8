//! Innovation center commands: create, update, archive, restore, following
//! [`crate::organization`].
//!
//! The rules that need other rows, checked in the command's transaction:
//! - the host park, when given, must exist and be live (`NOT_FOUND` on `hostParkId`; an id
//!   of another kind of record is `WRONG_KIND`), checked when it is set or changed and
//!   again when the center is restored;
//! - a center that still has live memberships cannot be archived (`INCONSISTENT` on `id`):
//!   end them first, so the feed never holds a live link to an archived center.
//!
//! The approving ministry is not an input: it follows from the kind.

use chrono::Utc;
use parkgraph_domain::validation::{
    ErrorCode, FieldError, InnovationCenterDraft, InnovationCenterPatch, Invalid, Valid,
};
use parkgraph_domain::{InnovationCenterKind, PartialDate};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{innovation_center, innovation_center_membership};
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::endpoints::check_live;
use crate::{Actor, CommandError, Registry, already, revision, today};

/// An innovation center as stored: the row the read side renders.
pub type InnovationCenterRow = innovation_center::Model;

impl Registry {
    /// Creates an innovation center at version 1, hosted by a live park when one is given.
    pub async fn create_innovation_center(
        &self,
        actor: &Actor,
        draft: InnovationCenterDraft,
    ) -> Result<InnovationCenterRow, CommandError> {
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.begin().await?;
        check_live(&txn, valid.references()).await?;
        crate::insert_new::<InnovationCenterRow>(&txn, id, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Create, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the innovation center at `expected_version`: absent fields stay
    /// as they are, the whole result is validated, a new host park must be live, and the
    /// version goes up by one. An archived center can still be corrected.
    pub async fn update_innovation_center(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: InnovationCenterPatch,
    ) -> Result<InnovationCenterRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        if valid.host_park_id != before.host_park_id {
            check_live(&txn, valid.references()).await?;
        }
        write::update_versioned(&txn, EntityType::InnovationCenter, id, expected_version, now, columns(&valid)).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Update, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Archives a live innovation center that has no live memberships (end them first): it
    /// leaves the live registry (staff still read it) and the feed carries a tombstone.
    pub async fn archive_innovation_center(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<InnovationCenterRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<InnovationCenterRow>("archived", "restore it instead, or leave it archived").into());
        }
        // The row is written (and so locked) before the memberships are counted: a
        // membership added concurrently either committed before (and is counted) or waits
        // for this transaction and then finds the center archived.
        write::archive(&txn, EntityType::InnovationCenter, id, expected_version, now).await?;
        let members = innovation_center_membership::Entity::find()
            .filter(innovation_center_membership::Column::InnovationCenterId.eq(id))
            .filter(innovation_center_membership::Column::ArchivedAt.is_null())
            .all(&txn)
            .await?;
        if let Some(member) = members.first() {
            return Err(Invalid::from(FieldError::new(
                "id",
                ErrorCode::Inconsistent,
                format!(
                    "The innovation center still has {} live membership(s), among them {} (organization {}); end \
                     them first.",
                    members.len(),
                    member.id,
                    member.organization_id
                ),
            ))
            .into());
        }
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Archive, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Restores an archived innovation center, unless its host park is no longer live
    /// (`NOT_FOUND` on `hostParkId`: restore the park first, or change the host).
    pub async fn restore_innovation_center(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<InnovationCenterRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_none() {
            return Err(already::<InnovationCenterRow>("live", "there is nothing to restore").into());
        }
        check_live(&txn, draft_of(&before)?.references()).await?;
        write::restore(&txn, EntityType::InnovationCenter, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Restore, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// The stored row of `id`, or `NotFound`.
async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<InnovationCenterRow, CommandError> {
    innovation_center::Entity::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &InnovationCenterRow) -> Result<InnovationCenterDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored innovation center {} {field}: {e}", row.id)))
    };
    let date = |field: &str, date: Option<chrono::NaiveDate>, precision: &Option<String>| {
        date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(field, &e))
    };
    Ok(InnovationCenterDraft {
        kind: row.kind.parse::<InnovationCenterKind>().map_err(|e| stored("kind", &e))?,
        name_zh: row.name_zh.clone(),
        name_en: row.name_en.clone(),
        field: row.field.clone(),
        approved_on: date("approved_on", row.approved_on, &row.approved_on_precision)?,
        city: row.city.clone(),
        host_park_id: row.host_park_id,
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: date("as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and archive),
/// with the ministry that follows from the kind.
pub fn columns(valid: &Valid<InnovationCenterDraft>) -> Vec<(&'static str, Expr)> {
    let d: &InnovationCenterDraft = valid;
    let day = |p: Option<PartialDate>| Expr::val(p.map(PartialDate::first_day));
    let precision = |p: Option<PartialDate>| Expr::val(p.map(|p| p.precision().code().to_string()));
    vec![
        ("kind", Expr::val(d.kind.code())),
        ("name_zh", Expr::val(d.name_zh.clone())),
        ("name_en", Expr::val(d.name_en.clone())),
        ("field", Expr::val(d.field.clone())),
        ("ministry", Expr::val(valid.ministry())),
        ("approved_on", day(d.approved_on)),
        ("approved_on_precision", precision(d.approved_on)),
        ("city", Expr::val(d.city.clone())),
        ("host_park_id", Expr::val(d.host_park_id)),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

impl crate::Versioned for InnovationCenterRow {
    const ENTITY: EntityType = EntityType::InnovationCenter;
    const NOUN: &'static str = "innovation center";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}
