//! Organization commands: create, update, archive, restore.
//!
//! The pattern every record kind follows: a command validates with the domain, opens one
//! transaction, checks the rules that need other rows (here: no two live organizations
//! with one USCC), writes the row with its version, then the revision and the feed entry
//! ([`write::record`], the last write), and commits.
//!
//! A stored row becomes a draft with [`draft_of`] (its USCC override is not stored
//! separately: a stored code is "accepted before" and not re-checked while an update
//! leaves it unchanged), and a valid draft becomes the row's columns with [`columns`].

use chrono::Utc;
use parkgraph_domain::validation::{Invalid, OrganizationDraft, OrganizationPatch, Patch, UsccTaken, Valid};
use parkgraph_domain::{OrganizationKind, OrganizationStatus, PartialDate, Uscc};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::organization;
use parkgraph_persistence::write::{self, EntityType, Operation};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{Actor, CommandError, Registry, already, revision, today};

/// An organization as stored: the row the read side renders.
pub type OrganizationRow = organization::Model;

impl Registry {
    /// Creates an organization at version 1. The caller's subject is recorded as the
    /// actor and as who accepted a USCC override.
    pub async fn create_organization(
        &self,
        actor: &Actor,
        mut draft: OrganizationDraft,
    ) -> Result<OrganizationRow, CommandError> {
        if let Some(over) = &mut draft.uscc_override {
            over.by = actor.subject.clone();
        }
        let valid = draft.validate(today())?;
        let id = Uuid::now_v7();
        let result = self.create_in_transaction(actor, id, &valid).await;
        self.uscc_race(result, valid.uscc(), id).await
    }

    async fn create_in_transaction(
        &self,
        actor: &Actor,
        id: Uuid,
        valid: &Valid<OrganizationDraft>,
    ) -> Result<OrganizationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        ensure_uscc_free(&txn, valid.uscc(), id).await?;
        crate::insert_new::<OrganizationRow>(
            &txn,
            id,
            now,
            columns(valid, valid.uscc_warning().map(|w| w.to_string())),
        )
        .await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Create, now, None)?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Applies `patch` to the organization at `expected_version`: absent fields stay as
    /// they are, the whole result is validated, and the version goes up by one.
    ///
    /// An archived organization can still be corrected; its USCC is checked against the
    /// live records when it is restored, not before.
    pub async fn update_organization(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        mut patch: OrganizationPatch,
    ) -> Result<OrganizationRow, CommandError> {
        if let Patch::Set(over) = &mut patch.uscc_override {
            over.by = actor.subject.clone();
        }
        let mut uscc = None;
        let result = self.update_in_transaction(actor, id, expected_version, patch, &mut uscc).await;
        self.uscc_race(result, uscc, id).await
    }

    async fn update_in_transaction(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        patch: OrganizationPatch,
        uscc: &mut Option<Uscc>,
    ) -> Result<OrganizationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        let current = draft_of(&before)?;
        let valid = patch.apply(&current, today())?;
        *uscc = valid.uscc();
        if before.archived_at.is_none() {
            ensure_uscc_free(&txn, valid.uscc(), id).await?;
        }
        // A code left as it was keeps its stored warning (who accepted it and why).
        let warning = if valid.uscc == current.uscc && valid.uscc_override.is_none() {
            before.uscc_warning.clone()
        } else {
            valid.uscc_warning().map(|w| w.to_string())
        };
        write::update_versioned(&txn, EntityType::Organization, id, expected_version, now, columns(&valid, warning))
            .await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Update, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Archives a live organization: it leaves the live registry (staff still read it),
    /// its USCC is free for another record, and the feed carries a tombstone.
    pub async fn archive_organization(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<OrganizationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_some() {
            return Err(already::<OrganizationRow>("archived", "restore it instead, or leave it archived").into());
        }
        write::archive(&txn, EntityType::Organization, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Archive, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Restores an archived organization, unless another live organization has taken
    /// its USCC meanwhile (`DUPLICATE` on `uscc`).
    pub async fn restore_organization(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
    ) -> Result<OrganizationRow, CommandError> {
        let now = Utc::now();
        let txn = self.begin().await?;
        let before = load(&txn, id).await?;
        if before.version != expected_version {
            return Err(CommandError::Stale { current_version: before.version });
        }
        if before.archived_at.is_none() {
            return Err(already::<OrganizationRow>("live", "there is nothing to restore").into());
        }
        let uscc = before.uscc.as_deref().and_then(|code| Uscc::parse_with_override(code).ok()).map(|(code, _)| code);
        ensure_uscc_free(&txn, uscc, id).await?;
        write::restore(&txn, EntityType::Organization, id, expected_version, now).await?;
        let after = load(&txn, id).await?;
        write::record(&txn, &revision(actor, &after, Operation::Restore, now, Some(&before))?).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// A unique-index violation on the USCC that raced past the in-transaction check
    /// (two writers at once) becomes the same `DUPLICATE` error, never a 500.
    async fn uscc_race(
        &self,
        result: Result<OrganizationRow, CommandError>,
        uscc: Option<Uscc>,
        id: Uuid,
    ) -> Result<OrganizationRow, CommandError> {
        let (Err(CommandError::Store(StoreError::Conflict(message))), Some(code)) = (&result, uscc) else {
            return result;
        };
        match holder(&self.db, &code, id).await? {
            Some(existing_id) => Err(Invalid::from(UsccTaken { existing_id, uscc: code }).into()),
            None => Err(CommandError::Store(StoreError::Conflict(message.clone()))),
        }
    }
}

/// The stored row of `id`, or `NotFound`.
async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<OrganizationRow, CommandError> {
    organization::Entity::find_by_id(id).one(conn).await?.ok_or(CommandError::NotFound)
}

/// Another live organization (other than `id`) holding `code`.
async fn holder(conn: &impl ConnectionTrait, code: &Uscc, id: Uuid) -> Result<Option<Uuid>, CommandError> {
    let found = organization::Entity::find()
        .filter(organization::Column::Uscc.eq(code.as_str()))
        .filter(organization::Column::Id.ne(id))
        .filter(organization::Column::ArchivedAt.is_null())
        .one(conn)
        .await?;
    Ok(found.map(|row| row.id))
}

/// Fails with [`UsccTaken`] when another live organization holds the code.
async fn ensure_uscc_free(conn: &impl ConnectionTrait, uscc: Option<Uscc>, id: Uuid) -> Result<(), CommandError> {
    let Some(code) = uscc else { return Ok(()) };
    match holder(conn, &code, id).await? {
        Some(existing_id) => Err(Invalid::from(UsccTaken { existing_id, uscc: code }).into()),
        None => Ok(()),
    }
}

/// A stored row as a draft, to apply a patch to. Stored codes that no longer parse are a
/// storage error (the data is wrong, not the caller).
pub fn draft_of(row: &OrganizationRow) -> Result<OrganizationDraft, CommandError> {
    let stored = |field: &str, e: &dyn std::fmt::Display| {
        CommandError::Store(StoreError::Invalid(format!("stored organization {} {field}: {e}", row.id)))
    };
    let date = |field: &str, date: Option<chrono::NaiveDate>, precision: &Option<String>| {
        date.map(|d| PartialDate::from_stored(d, precision.as_deref())).transpose().map_err(|e| stored(field, &e))
    };
    Ok(OrganizationDraft {
        kind: row.kind.parse::<OrganizationKind>().map_err(|e| stored("kind", &e))?,
        name_zh: row.name_zh.clone(),
        status: row.status.parse::<OrganizationStatus>().map_err(|e| stored("status", &e))?,
        name_en: row.name_en.clone(),
        legal_name: row.legal_name.clone(),
        uscc: row.uscc.clone(),
        uscc_override: None,
        founded_on: date("founded_on", row.founded_on, &row.founded_on_precision)?,
        industry: row.industry.clone(),
        registered_capital_cny: row.registered_capital_cny,
        headcount: row.headcount,
        website: row.website.clone(),
        city: row.city.clone(),
        district: row.district.clone(),
        contact_name: row.contact_name.clone(),
        contact_phone: row.contact_phone.clone(),
        contact_email: row.contact_email.clone(),
        staff_notes: row.staff_notes.clone(),
        source_name: row.source_name.clone(),
        source_url: row.source_url.clone(),
        as_of: date("as_of", row.as_of, &row.as_of_precision)?,
    })
}

/// The row's columns of a valid draft (everything but id, times, version and archive),
/// with the USCC warning to store.
pub fn columns(valid: &Valid<OrganizationDraft>, uscc_warning: Option<String>) -> Vec<(&'static str, Expr)> {
    let d: &OrganizationDraft = valid;
    let day = |p: Option<PartialDate>| Expr::val(p.map(PartialDate::first_day));
    let precision = |p: Option<PartialDate>| Expr::val(p.map(|p| p.precision().code().to_string()));
    vec![
        ("kind", Expr::val(d.kind.code())),
        ("name_zh", Expr::val(d.name_zh.clone())),
        ("name_en", Expr::val(d.name_en.clone())),
        ("legal_name", Expr::val(d.legal_name.clone())),
        ("uscc", Expr::val(d.uscc.clone())),
        ("uscc_warning", Expr::val(uscc_warning)),
        ("founded_on", day(d.founded_on)),
        ("founded_on_precision", precision(d.founded_on)),
        ("industry", Expr::val(d.industry.clone())),
        ("registered_capital_cny", Expr::val(d.registered_capital_cny)),
        ("headcount", Expr::val(d.headcount)),
        ("website", Expr::val(d.website.clone())),
        ("status", Expr::val(d.status.code())),
        ("city", Expr::val(d.city.clone())),
        ("district", Expr::val(d.district.clone())),
        ("contact_name", Expr::val(d.contact_name.clone())),
        ("contact_phone", Expr::val(d.contact_phone.clone())),
        ("contact_email", Expr::val(d.contact_email.clone())),
        ("staff_notes", Expr::val(d.staff_notes.clone())),
        ("source_name", Expr::val(d.source_name.clone())),
        ("source_url", Expr::val(d.source_url.clone())),
        ("as_of", day(d.as_of)),
        ("as_of_precision", precision(d.as_of)),
    ]
}

impl crate::Versioned for OrganizationRow {
    const ENTITY: EntityType = EntityType::Organization;
    const NOUN: &'static str = "organization";
    fn id(&self) -> Uuid {
        self.id
    }
    fn version(&self) -> i32 {
        self.version
    }
}

/// The stored row of a new organization `id` made from a valid draft at `now` (version 1):
/// the same columns as [`columns`], for a bulk load through [`write::create_many`].
pub fn row_of(
    id: Uuid,
    now: chrono::DateTime<Utc>,
    valid: &Valid<OrganizationDraft>,
    uscc_warning: Option<String>,
) -> OrganizationRow {
    let d: &OrganizationDraft = valid;
    let day = |p: Option<PartialDate>| p.map(PartialDate::first_day);
    let precision = |p: Option<PartialDate>| p.map(|p| p.precision().code().to_string());
    OrganizationRow {
        id,
        kind: d.kind.code().to_string(),
        name_zh: d.name_zh.clone(),
        name_en: d.name_en.clone(),
        legal_name: d.legal_name.clone(),
        uscc: d.uscc.clone(),
        uscc_warning,
        founded_on: day(d.founded_on),
        founded_on_precision: precision(d.founded_on),
        industry: d.industry.clone(),
        registered_capital_cny: d.registered_capital_cny,
        headcount: d.headcount,
        website: d.website.clone(),
        status: d.status.code().to_string(),
        city: d.city.clone(),
        district: d.district.clone(),
        contact_name: d.contact_name.clone(),
        contact_phone: d.contact_phone.clone(),
        contact_email: d.contact_email.clone(),
        staff_notes: d.staff_notes.clone(),
        source_name: d.source_name.clone(),
        source_url: d.source_url.clone(),
        as_of: day(d.as_of),
        as_of_precision: precision(d.as_of),
        created_at: now,
        updated_at: now,
        version: 1,
        archived_at: None,
    }
}
