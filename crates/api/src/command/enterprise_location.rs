//! `addEnterpriseLocation`, `updateEnterpriseLocation`, `endEnterpriseLocation`: inputs,
//! payloads, and the calls into the service.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{EnterpriseLocationDraft, EnterpriseLocationPatch, Errors};
use parkgraph_registry::CommandError;
use parkgraph_registry::enterprise_location::EnterpriseLocationRow;

use super::incubation::link_id;
use super::incubator::referenced;
use super::organization::{date, patch, patch_with};
use super::{UserError, report, service};
use crate::error::ApiResult;
use crate::object::link::LinkRecord;
use crate::object::vocabulary::LocationRole;

/// The GraphQL type of an enterprise location on its own.
pub type EnterpriseLocation = LinkRecord<EnterpriseLocationRow>;

/// A new enterprise location: a firm's site in a park, in one role. Text is trimmed; blank
/// optional text is stored as none.
#[derive(InputObject)]
pub struct AddEnterpriseLocationInput {
    /// The firm: a live organization of kind `ENTERPRISE` (another kind, or another
    /// record's id, is a `WRONG_KIND` user error).
    pub organization_id: ID,
    /// The live park.
    pub park_id: ID,
    /// Registered, operating, R&D or factory; a firm holds each role in a park once.
    pub role: LocationRole,
    /// Since when: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub since: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of an enterprise location at the version read. A field left out stays as
/// it is; a field given as `null` is cleared (the role cannot be cleared). Its firm and
/// park do not change: end it and add another.
#[derive(InputObject)]
pub struct UpdateEnterpriseLocationInput {
    /// The location's id (a UUID: the link's `id`, or `linkId` on its edges).
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Registered, operating, R&D or factory (cannot be cleared).
    pub role: MaybeUndefined<LocationRole>,
    /// Since when: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub since: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// The end of a live enterprise location at the version read (the firm left the park or
/// gave up the role there). It leaves the live registry (a tombstone in the feed); its
/// history stays.
#[derive(InputObject)]
pub struct EndEnterpriseLocationInput {
    /// The location's id (a UUID: the link's `id`, or `linkId` on its edges).
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The location as the mutation left it; null when it changed nothing.
            pub enterprise_location: Option<EnterpriseLocation>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(
                result: Result<EnterpriseLocationRow, CommandError>,
                version: i32,
            ) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => {
                        Ok(Self { enterprise_location: Some(LinkRecord::new(row)), user_errors: Vec::new() })
                    }
                    Err(e) => Ok(Self {
                        enterprise_location: None,
                        user_errors: report(e, "enterprise location", version)?,
                    }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `addEnterpriseLocation`.
    AddEnterpriseLocationPayload
);
payload!(
    /// The outcome of `updateEnterpriseLocation`.
    UpdateEnterpriseLocationPayload
);
payload!(
    /// The outcome of `endEnterpriseLocation`.
    EndEnterpriseLocationPayload
);

/// Runs `addEnterpriseLocation`.
pub async fn add(
    ctx: &Context<'_>,
    input: AddEnterpriseLocationInput,
) -> async_graphql::Result<AddEnterpriseLocationPayload> {
    let (registry, actor) = service(ctx)?;
    let organization_id = referenced(&input.organization_id).api()?;
    let park_id = referenced(&input.park_id).api()?;
    let mut errors = Errors::new();
    let draft = EnterpriseLocationDraft {
        since: date(&mut errors, "since", input.since),
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..EnterpriseLocationDraft::new(organization_id, park_id, domain::LocationRole::from(input.role))
    };
    if let Err(invalid) = errors.finish(()) {
        return AddEnterpriseLocationPayload::outcome(Err(invalid.into()), 0);
    }
    AddEnterpriseLocationPayload::outcome(registry.add_enterprise_location(&actor, draft).await, 0)
}

/// Runs `updateEnterpriseLocation`.
pub async fn update(
    ctx: &Context<'_>,
    input: UpdateEnterpriseLocationInput,
) -> async_graphql::Result<UpdateEnterpriseLocationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = link_id(&input.id).api()?;
    let mut errors = Errors::new();
    let since = patch_with(input.since, |t| errors.parse_date("since", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateEnterpriseLocationPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = EnterpriseLocationPatch {
        role: patch(input.role.map_value(domain::LocationRole::from)),
        since,
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
        ..EnterpriseLocationPatch::default()
    };
    UpdateEnterpriseLocationPayload::outcome(
        registry.update_enterprise_location(&actor, id, input.version, changes).await,
        input.version,
    )
}

/// Runs `endEnterpriseLocation`.
pub async fn end(
    ctx: &Context<'_>,
    input: EndEnterpriseLocationInput,
) -> async_graphql::Result<EndEnterpriseLocationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = link_id(&input.id).api()?;
    EndEnterpriseLocationPayload::outcome(
        registry.end_enterprise_location(&actor, id, input.version).await,
        input.version,
    )
}
