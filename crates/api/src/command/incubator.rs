//! `createIncubator`, `updateIncubator`, `archiveIncubator`, `restoreIncubator`: inputs,
//! payloads, and the calls into the service.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{Errors, IncubatorDraft, IncubatorPatch, Patch};
use parkgraph_registry::CommandError;
use parkgraph_registry::incubator::IncubatorRow;
use uuid::Uuid;

use super::organization::{date, patch, patch_with};
use super::{UserError, report, service};
use crate::error::ApiResult;
use crate::id::{NodeType, decode, decode_as};
use crate::object::Incubator;
use crate::object::vocabulary::{IncubatorKind, IncubatorLevel};

/// A new incubator, makerspace or accelerator. Text is trimmed; blank optional text is
/// stored as none.
#[derive(InputObject)]
pub struct CreateIncubatorInput {
    /// Incubator, makerspace or accelerator.
    pub kind: IncubatorKind,
    /// Chinese name (required).
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// National, provincial or municipal recognition.
    pub level: Option<IncubatorLevel>,
    /// The live park it is in (a park's id; another record's id is a `WRONG_KIND` user error).
    pub park_id: Option<ID>,
    /// The live organization that runs it (any kind of organization).
    pub operator_id: Option<ID>,
    /// Founding date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub founded_on: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of an incubator at the version read. A field left out stays as it is; a
/// field given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateIncubatorInput {
    /// The incubator's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Incubator, makerspace or accelerator (cannot be cleared).
    pub kind: MaybeUndefined<IncubatorKind>,
    /// Chinese name (cannot be cleared).
    pub name_zh: MaybeUndefined<String>,
    /// English name.
    pub name_en: MaybeUndefined<String>,
    /// National, provincial or municipal recognition.
    pub level: MaybeUndefined<IncubatorLevel>,
    /// The live park it is in.
    pub park_id: MaybeUndefined<ID>,
    /// The live organization that runs it.
    pub operator_id: MaybeUndefined<ID>,
    /// Founding date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub founded_on: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// An incubator to archive, at the version read; its incubations must have ended.
#[derive(InputObject)]
pub struct ArchiveIncubatorInput {
    /// The incubator's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

/// An archived incubator to restore, at the version read; its park and operator must be live.
#[derive(InputObject)]
pub struct RestoreIncubatorInput {
    /// The incubator's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The incubator as the mutation left it; null when it changed nothing.
            pub incubator: Option<Incubator>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(result: Result<IncubatorRow, CommandError>, version: i32) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => Ok(Self { incubator: Some(Incubator(row)), user_errors: Vec::new() }),
                    Err(e) => Ok(Self { incubator: None, user_errors: report(e, "incubator", version)? }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `createIncubator`.
    CreateIncubatorPayload
);
payload!(
    /// The outcome of `updateIncubator`.
    UpdateIncubatorPayload
);
payload!(
    /// The outcome of `archiveIncubator`.
    ArchiveIncubatorPayload
);
payload!(
    /// The outcome of `restoreIncubator`.
    RestoreIncubatorPayload
);

/// The record a reference names, whatever its type: the service says `WRONG_KIND` when it
/// is not the kind the field needs.
pub(super) fn referenced(id: &ID) -> Result<Uuid, crate::error::ApiError> {
    decode(id).map(|(_, uuid)| uuid)
}

/// An optional reference of an update as a patch.
pub(super) fn patch_reference(value: MaybeUndefined<ID>) -> Result<Patch<Uuid>, crate::error::ApiError> {
    Ok(match patch(value) {
        Patch::Set(id) => Patch::Set(referenced(&id)?),
        Patch::Clear => Patch::Clear,
        Patch::Unchanged => Patch::Unchanged,
    })
}

/// Runs `createIncubator`.
pub async fn create(ctx: &Context<'_>, input: CreateIncubatorInput) -> async_graphql::Result<CreateIncubatorPayload> {
    let (registry, actor) = service(ctx)?;
    let park_id = input.park_id.as_ref().map(referenced).transpose().api()?;
    let operator_id = input.operator_id.as_ref().map(referenced).transpose().api()?;
    let mut errors = Errors::new();
    let draft = IncubatorDraft {
        name_en: input.name_en,
        level: input.level.map(domain::IncubatorLevel::from),
        park_id,
        operator_id,
        founded_on: date(&mut errors, "foundedOn", input.founded_on),
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..IncubatorDraft::new(domain::IncubatorKind::from(input.kind), input.name_zh)
    };
    if let Err(invalid) = errors.finish(()) {
        return CreateIncubatorPayload::outcome(Err(invalid.into()), 0);
    }
    CreateIncubatorPayload::outcome(registry.create_incubator(&actor, draft).await, 0)
}

/// Runs `updateIncubator`.
pub async fn update(ctx: &Context<'_>, input: UpdateIncubatorInput) -> async_graphql::Result<UpdateIncubatorPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Incubator, &input.id).api()?;
    let park_id = patch_reference(input.park_id).api()?;
    let operator_id = patch_reference(input.operator_id).api()?;
    let mut errors = Errors::new();
    let founded_on = patch_with(input.founded_on, |t| errors.parse_date("foundedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateIncubatorPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = IncubatorPatch {
        kind: patch(input.kind.map_value(domain::IncubatorKind::from)),
        name_zh: patch(input.name_zh),
        name_en: patch(input.name_en),
        level: patch(input.level.map_value(domain::IncubatorLevel::from)),
        park_id,
        operator_id,
        founded_on,
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    UpdateIncubatorPayload::outcome(registry.update_incubator(&actor, id, input.version, changes).await, input.version)
}

/// Runs `archiveIncubator`.
pub async fn archive(
    ctx: &Context<'_>,
    input: ArchiveIncubatorInput,
) -> async_graphql::Result<ArchiveIncubatorPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Incubator, &input.id).api()?;
    ArchiveIncubatorPayload::outcome(registry.archive_incubator(&actor, id, input.version).await, input.version)
}

/// Runs `restoreIncubator`.
pub async fn restore(
    ctx: &Context<'_>,
    input: RestoreIncubatorInput,
) -> async_graphql::Result<RestoreIncubatorPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Incubator, &input.id).api()?;
    RestoreIncubatorPayload::outcome(registry.restore_incubator(&actor, id, input.version).await, input.version)
}
