//! `addIncubation`, `updateIncubation`, `endIncubation`: inputs, payloads, and the calls
//! into the service.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{Errors, IncubationDraft, IncubationPatch, Patch};
use parkgraph_registry::CommandError;
use parkgraph_registry::incubation::IncubationRow;
use uuid::Uuid;

use super::incubator::referenced;
use super::organization::{date, patch, patch_with};
use super::{UserError, report, service};
use crate::error::{ApiError, ApiResult};
use crate::object::link::LinkRecord;
use crate::object::vocabulary::IncubationStatus;

/// The GraphQL type of an incubation on its own.
pub type Incubation = LinkRecord<IncubationRow>;

/// A new incubation: an enterprise in an incubator. Text is trimmed; blank optional text
/// is stored as none.
#[derive(InputObject)]
pub struct AddIncubationInput {
    /// The incubated firm: a live organization of kind `ENTERPRISE` (another kind, or
    /// another record's id, is a `WRONG_KIND` user error).
    pub organization_id: ID,
    /// The live incubator.
    pub incubator_id: ID,
    /// Incubating, graduated or exited.
    pub status: IncubationStatus,
    /// Entry date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub entered_on: Option<String>,
    /// Graduation date: not before entry, not in the future, not while still incubating.
    pub graduated_on: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of an incubation at the version read. A field left out stays as it is; a
/// field given as `null` is cleared (the status cannot be cleared). Its firm and incubator
/// do not change: end it and add another.
#[derive(InputObject)]
pub struct UpdateIncubationInput {
    /// The incubation's id (a UUID: the link's `id`, or `linkId` on its edges).
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Incubating, graduated or exited (an ended incubation cannot go back to incubating).
    pub status: MaybeUndefined<IncubationStatus>,
    /// Entry date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub entered_on: MaybeUndefined<String>,
    /// Graduation date: not before entry, not in the future, not while still incubating.
    pub graduated_on: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// The end of a live incubation at the version read: how it ended, and when the firm
/// graduated if it did. The incubation then leaves the live registry (a tombstone in the
/// feed); its history stays.
#[derive(InputObject)]
pub struct EndIncubationInput {
    /// The incubation's id (a UUID: the link's `id`, or `linkId` on its edges).
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// `GRADUATED` or `EXITED`; may be left out when the stored status already says so.
    pub status: Option<IncubationStatus>,
    /// Graduation date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not before entry, not in the future.
    pub graduated_on: Option<String>,
}

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The incubation as the mutation left it; null when it changed nothing.
            pub incubation: Option<Incubation>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(result: Result<IncubationRow, CommandError>, version: i32) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => Ok(Self { incubation: Some(LinkRecord::new(row)), user_errors: Vec::new() }),
                    Err(e) => Ok(Self { incubation: None, user_errors: report(e, "incubation", version)? }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `addIncubation`.
    AddIncubationPayload
);
payload!(
    /// The outcome of `updateIncubation`.
    UpdateIncubationPayload
);
payload!(
    /// The outcome of `endIncubation`.
    EndIncubationPayload
);

/// A link's id: its UUID (links have no global id).
pub(super) fn link_id(id: &ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.trim()).map_err(|_| {
        ApiError::BadUserInput(format!("{:?} is not a link id: give the link's `id` (a UUID)", id.as_str()))
    })
}

/// Runs `addIncubation`.
pub async fn add(ctx: &Context<'_>, input: AddIncubationInput) -> async_graphql::Result<AddIncubationPayload> {
    let (registry, actor) = service(ctx)?;
    let organization_id = referenced(&input.organization_id).api()?;
    let incubator_id = referenced(&input.incubator_id).api()?;
    let mut errors = Errors::new();
    let draft = IncubationDraft {
        entered_on: date(&mut errors, "enteredOn", input.entered_on),
        graduated_on: date(&mut errors, "graduatedOn", input.graduated_on),
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..IncubationDraft::new(organization_id, incubator_id, domain::IncubationStatus::from(input.status))
    };
    if let Err(invalid) = errors.finish(()) {
        return AddIncubationPayload::outcome(Err(invalid.into()), 0);
    }
    AddIncubationPayload::outcome(registry.add_incubation(&actor, draft).await, 0)
}

/// Runs `updateIncubation`.
pub async fn update(ctx: &Context<'_>, input: UpdateIncubationInput) -> async_graphql::Result<UpdateIncubationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = link_id(&input.id).api()?;
    let mut errors = Errors::new();
    let entered_on = patch_with(input.entered_on, |t| errors.parse_date("enteredOn", &t));
    let graduated_on = patch_with(input.graduated_on, |t| errors.parse_date("graduatedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateIncubationPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = IncubationPatch {
        status: patch(input.status.map_value(domain::IncubationStatus::from)),
        entered_on,
        graduated_on,
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
        ..IncubationPatch::default()
    };
    UpdateIncubationPayload::outcome(
        registry.update_incubation(&actor, id, input.version, changes).await,
        input.version,
    )
}

/// Runs `endIncubation`.
pub async fn end(ctx: &Context<'_>, input: EndIncubationInput) -> async_graphql::Result<EndIncubationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = link_id(&input.id).api()?;
    let mut errors = Errors::new();
    let graduated_on = date(&mut errors, "graduatedOn", input.graduated_on);
    if let Err(invalid) = errors.finish(()) {
        return EndIncubationPayload::outcome(Err(invalid.into()), input.version);
    }
    let how = IncubationPatch {
        status: input.status.map(domain::IncubationStatus::from).map_or(Patch::Unchanged, Patch::Set),
        graduated_on: graduated_on.map_or(Patch::Unchanged, Patch::Set),
        ..IncubationPatch::default()
    };
    EndIncubationPayload::outcome(registry.end_incubation(&actor, id, input.version, how).await, input.version)
}
