//! `addInnovationCenterMembership`, `updateInnovationCenterMembership`,
//! `endInnovationCenterMembership`: inputs, payloads, and the calls into the service.
//!
//! A membership is a link: its id is its UUID (`membershipId` on the `members` and
//! `memberships` edges, `entityId` in `changes`). Ending one archives the link row; the
//! feed carries the end as an `END_LINK` tombstone.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{Errors, InnovationCenterMembershipDraft, InnovationCenterMembershipPatch, Patch};
use parkgraph_registry::CommandError;
use parkgraph_registry::innovation_center_membership::InnovationCenterMembershipRow;

use super::organization::{date, patch, patch_with};
use super::{UserError, link_id, reference, reference_patch, report, service};
use crate::object::InnovationCenterMembership;
use crate::object::vocabulary::MembershipRole;

/// A new membership: a live organization (of any kind) takes part in a live innovation
/// center. An organization has at most one live membership of a center.
#[derive(InputObject)]
pub struct AddInnovationCenterMembershipInput {
    /// The innovation center's id.
    pub innovation_center_id: ID,
    /// The member organization's id.
    pub organization_id: ID,
    /// Lead, founding shareholder or member.
    pub role: MembershipRole,
    /// Joining date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub joined_on: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of a membership at the version read. A field left out stays as it is; a
/// field given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateInnovationCenterMembershipInput {
    /// The membership's id (its UUID).
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Corrects the center (a live innovation center; cannot be cleared).
    pub innovation_center_id: MaybeUndefined<ID>,
    /// Corrects the member (a live organization; cannot be cleared).
    pub organization_id: MaybeUndefined<ID>,
    /// Lead, founding shareholder or member (cannot be cleared).
    pub role: MaybeUndefined<MembershipRole>,
    /// Joining date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub joined_on: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// A live membership to end, at the version read.
#[derive(InputObject)]
pub struct EndInnovationCenterMembershipInput {
    /// The membership's id (its UUID).
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The membership as the mutation left it; null when it changed nothing.
            pub membership: Option<InnovationCenterMembership>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(
                result: Result<InnovationCenterMembershipRow, CommandError>,
                version: i32,
            ) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => Ok(Self { membership: Some(InnovationCenterMembership(row)), user_errors: Vec::new() }),
                    Err(e) => Ok(Self { membership: None, user_errors: report(e, "membership", version)? }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `addInnovationCenterMembership`.
    AddInnovationCenterMembershipPayload
);
payload!(
    /// The outcome of `updateInnovationCenterMembership`.
    UpdateInnovationCenterMembershipPayload
);
payload!(
    /// The outcome of `endInnovationCenterMembership`.
    EndInnovationCenterMembershipPayload
);

/// Runs `addInnovationCenterMembership`.
pub async fn add(
    ctx: &Context<'_>,
    input: AddInnovationCenterMembershipInput,
) -> async_graphql::Result<AddInnovationCenterMembershipPayload> {
    let (registry, actor) = service(ctx)?;
    let center = reference(&input.innovation_center_id)?;
    let organization = reference(&input.organization_id)?;
    let mut errors = Errors::new();
    let draft = InnovationCenterMembershipDraft {
        joined_on: date(&mut errors, "joinedOn", input.joined_on),
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..InnovationCenterMembershipDraft::new(center, organization, domain::MembershipRole::from(input.role))
    };
    if let Err(invalid) = errors.finish(()) {
        return AddInnovationCenterMembershipPayload::outcome(Err(invalid.into()), 0);
    }
    AddInnovationCenterMembershipPayload::outcome(registry.add_innovation_center_membership(&actor, draft).await, 0)
}

/// Runs `updateInnovationCenterMembership`.
pub async fn update(
    ctx: &Context<'_>,
    input: UpdateInnovationCenterMembershipInput,
) -> async_graphql::Result<UpdateInnovationCenterMembershipPayload> {
    let (registry, actor) = service(ctx)?;
    let id = link_id(&input.id)?;
    let innovation_center_id: Patch<uuid::Uuid> = reference_patch(input.innovation_center_id)?;
    let organization_id = reference_patch(input.organization_id)?;
    let mut errors = Errors::new();
    let joined_on = patch_with(input.joined_on, |t| errors.parse_date("joinedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateInnovationCenterMembershipPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = InnovationCenterMembershipPatch {
        innovation_center_id,
        organization_id,
        role: patch(input.role.map_value(domain::MembershipRole::from)),
        joined_on,
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    let result = registry.update_innovation_center_membership(&actor, id, input.version, changes).await;
    UpdateInnovationCenterMembershipPayload::outcome(result, input.version)
}

/// Runs `endInnovationCenterMembership`.
pub async fn end(
    ctx: &Context<'_>,
    input: EndInnovationCenterMembershipInput,
) -> async_graphql::Result<EndInnovationCenterMembershipPayload> {
    let (registry, actor) = service(ctx)?;
    let id = link_id(&input.id)?;
    let result = registry.end_innovation_center_membership(&actor, id, input.version).await;
    EndInnovationCenterMembershipPayload::outcome(result, input.version)
}
