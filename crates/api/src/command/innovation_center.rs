//! `createInnovationCenter`, `updateInnovationCenter`, `archiveInnovationCenter`,
//! `restoreInnovationCenter`: inputs, payloads, and the calls into the service.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{Errors, InnovationCenterDraft, InnovationCenterPatch};
use parkgraph_registry::CommandError;
use parkgraph_registry::innovation_center::InnovationCenterRow;

use super::organization::{date, patch, patch_with};
use super::{UserError, reference, reference_patch, report, service};
use crate::error::ApiResult;
use crate::id::{NodeType, decode_as};
use crate::object::InnovationCenter;
use crate::object::vocabulary::InnovationCenterKind;

/// A new national innovation center. Text is trimmed; blank optional text is stored as
/// none. The approving ministry follows from the kind.
#[derive(InputObject)]
pub struct CreateInnovationCenterInput {
    /// Manufacturing (MIIT), technology (MOST) or industrial (NDRC).
    pub kind: InnovationCenterKind,
    /// Chinese name (required).
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Field of technology.
    pub field: Option<String>,
    /// Approval date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub approved_on: Option<String>,
    /// City.
    pub city: Option<String>,
    /// The live park hosting the center.
    pub host_park_id: Option<ID>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of an innovation center at the version read. A field left out stays as it
/// is; a field given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateInnovationCenterInput {
    /// The innovation center's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Manufacturing (MIIT), technology (MOST) or industrial (NDRC); the ministry follows
    /// (cannot be cleared).
    pub kind: MaybeUndefined<InnovationCenterKind>,
    /// Chinese name (cannot be cleared).
    pub name_zh: MaybeUndefined<String>,
    /// English name.
    pub name_en: MaybeUndefined<String>,
    /// Field of technology.
    pub field: MaybeUndefined<String>,
    /// Approval date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub approved_on: MaybeUndefined<String>,
    /// City.
    pub city: MaybeUndefined<String>,
    /// Moves the center to another live host park (`null`: no host park).
    pub host_park_id: MaybeUndefined<ID>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// An innovation center to archive, at the version read; it must have no live memberships.
#[derive(InputObject)]
pub struct ArchiveInnovationCenterInput {
    /// The innovation center's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

/// An archived innovation center to restore, at the version read; its host park must be
/// live.
#[derive(InputObject)]
pub struct RestoreInnovationCenterInput {
    /// The innovation center's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The innovation center as the mutation left it; null when it changed nothing.
            pub innovation_center: Option<InnovationCenter>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(
                result: Result<InnovationCenterRow, CommandError>,
                version: i32,
            ) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => Ok(Self { innovation_center: Some(InnovationCenter(row)), user_errors: Vec::new() }),
                    Err(e) => {
                        Ok(Self { innovation_center: None, user_errors: report(e, "innovation center", version)? })
                    }
                }
            }
        }
    };
}

payload!(
    /// The outcome of `createInnovationCenter`.
    CreateInnovationCenterPayload
);
payload!(
    /// The outcome of `updateInnovationCenter`.
    UpdateInnovationCenterPayload
);
payload!(
    /// The outcome of `archiveInnovationCenter`.
    ArchiveInnovationCenterPayload
);
payload!(
    /// The outcome of `restoreInnovationCenter`.
    RestoreInnovationCenterPayload
);

/// Runs `createInnovationCenter`.
pub async fn create(
    ctx: &Context<'_>,
    input: CreateInnovationCenterInput,
) -> async_graphql::Result<CreateInnovationCenterPayload> {
    let (registry, actor) = service(ctx)?;
    let host_park_id = input.host_park_id.as_ref().map(reference).transpose()?;
    let mut errors = Errors::new();
    let draft = InnovationCenterDraft {
        name_en: input.name_en,
        field: input.field,
        approved_on: date(&mut errors, "approvedOn", input.approved_on),
        city: input.city,
        host_park_id,
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..InnovationCenterDraft::new(domain::InnovationCenterKind::from(input.kind), input.name_zh)
    };
    if let Err(invalid) = errors.finish(()) {
        return CreateInnovationCenterPayload::outcome(Err(invalid.into()), 0);
    }
    CreateInnovationCenterPayload::outcome(registry.create_innovation_center(&actor, draft).await, 0)
}

/// Runs `updateInnovationCenter`.
pub async fn update(
    ctx: &Context<'_>,
    input: UpdateInnovationCenterInput,
) -> async_graphql::Result<UpdateInnovationCenterPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::InnovationCenter, &input.id).api()?;
    let host_park_id = reference_patch(input.host_park_id)?;
    let mut errors = Errors::new();
    let approved_on = patch_with(input.approved_on, |t| errors.parse_date("approvedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateInnovationCenterPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = InnovationCenterPatch {
        kind: patch(input.kind.map_value(domain::InnovationCenterKind::from)),
        name_zh: patch(input.name_zh),
        name_en: patch(input.name_en),
        field: patch(input.field),
        approved_on,
        city: patch(input.city),
        host_park_id,
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    let result = registry.update_innovation_center(&actor, id, input.version, changes).await;
    UpdateInnovationCenterPayload::outcome(result, input.version)
}

/// Runs `archiveInnovationCenter`.
pub async fn archive(
    ctx: &Context<'_>,
    input: ArchiveInnovationCenterInput,
) -> async_graphql::Result<ArchiveInnovationCenterPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::InnovationCenter, &input.id).api()?;
    let result = registry.archive_innovation_center(&actor, id, input.version).await;
    ArchiveInnovationCenterPayload::outcome(result, input.version)
}

/// Runs `restoreInnovationCenter`.
pub async fn restore(
    ctx: &Context<'_>,
    input: RestoreInnovationCenterInput,
) -> async_graphql::Result<RestoreInnovationCenterPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::InnovationCenter, &input.id).api()?;
    let result = registry.restore_innovation_center(&actor, id, input.version).await;
    RestoreInnovationCenterPayload::outcome(result, input.version)
}
