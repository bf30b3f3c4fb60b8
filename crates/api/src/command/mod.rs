//! The GraphQL side of registry commands: Relay-style inputs and payloads that call the
//! service ([`parkgraph_registry::Registry`]) and report its outcome.
//!
//! Error policy for mutations: what the caller can fix is a [`UserError`] in the
//! payload's `userErrors`, and the command changed nothing: validation problems (codes
//! from the domain: `REQUIRED`, `INVALID_CHECKSUM`, `DUPLICATE` …), a stale version
//! (`CONFLICT`, saying the current version), a record that does not exist (`NOT_FOUND`).
//! Authorization problems (`FORBIDDEN`) and storage failures (`INTERNAL`, `UNAVAILABLE`)
//! stay top-level errors, built in [`crate::error`].

pub mod import;
pub mod organization;
pub mod park;

// Incubators and the links incubations and enterprise locations.
pub mod enterprise_location;
pub mod incubation;
pub mod incubator;

use async_graphql::{Context, SimpleObject};
use parkgraph_domain::validation::{FieldError, Invalid};
use parkgraph_registry::{Actor, CommandError, Registry};

use crate::error::{ApiError, code};

/// A problem with a mutation's input that the caller can fix; the mutation changed
/// nothing.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    /// The path of the input field at fault, inside `input`: `["nameZh"]`,
    /// `["usccOverride", "reason"]`, `["version"]`.
    pub field: Vec<String>,
    /// A sentence a member of staff can act on.
    pub message: String,
    /// A stable code to match on: `REQUIRED`, `TOO_LONG`, `INVALID_FORMAT`,
    /// `INVALID_CHECKSUM`, `OUT_OF_RANGE`, `DATE_ORDER`, `UNKNOWN_VALUE`, `DUPLICATE`,
    /// `INCONSISTENT`, `NOT_FOUND` or `CONFLICT` (a stale `version`).
    pub code: String,
}

impl From<FieldError> for UserError {
    fn from(error: FieldError) -> Self {
        Self {
            field: error.field.split('.').map(str::to_string).collect(),
            message: error.message,
            code: error.code.code().to_string(),
        }
    }
}

/// The user errors of `invalid`, in the order found.
pub fn user_errors(invalid: Invalid) -> Vec<UserError> {
    invalid.into_errors().into_iter().map(UserError::from).collect()
}

/// A failed command as user errors, or as a top-level error when the caller cannot fix it.
pub fn report(err: CommandError, record: &str, version: i32) -> async_graphql::Result<Vec<UserError>> {
    match err {
        CommandError::Invalid(invalid) => Ok(user_errors(invalid)),
        CommandError::Stale { current_version } => Ok(vec![UserError {
            field: vec!["version".into()],
            message: format!(
                "The {record} is at version {current_version}, not {version}: someone changed it since you read \
                 it. Read it again and reapply your change."
            ),
            code: code::CONFLICT.into(),
        }]),
        CommandError::NotFound => Ok(vec![UserError {
            field: vec!["id".into()],
            message: format!("No {record} has this id."),
            code: code::NOT_FOUND.into(),
        }]),
        CommandError::Store(e) => Err(ApiError::from(e).into_error()),
    }
}

/// The service and the caller as its actor (the token's subject).
pub fn service<'a>(ctx: &Context<'a>) -> async_graphql::Result<(&'a Registry, Actor)> {
    let caller = crate::policy::caller(ctx)?;
    let registry = ctx
        .data::<Registry>()
        .map_err(|_| ApiError::Internal("the schema was built without the registry service".into()).into_error())?;
    Ok((registry, Actor::new(caller.subject.clone())))
}

// Innovation centers, their memberships (a link) and second headquarters, and the id
// helpers they share.
pub mod innovation_center;
pub mod innovation_center_membership;
pub mod second_headquarters;

/// The UUID of a record another record refers to, from a global id of any type: the
/// service checks that it names a live record of the right kind, so a wrong one is a
/// `WRONG_KIND` or `NOT_FOUND` user error on the field, not a top-level error. Text that is
/// no ParkGraph id at all is a top-level `BAD_USER_INPUT`.
pub fn reference(id: &async_graphql::ID) -> async_graphql::Result<uuid::Uuid> {
    use crate::error::ApiResult;
    crate::id::decode(id).map(|(_, uuid)| uuid).api()
}

/// An update field naming another record, as a patch of its UUID (see [`reference`]).
pub fn reference_patch(
    value: async_graphql::MaybeUndefined<async_graphql::ID>,
) -> async_graphql::Result<parkgraph_domain::validation::Patch<uuid::Uuid>> {
    use parkgraph_domain::validation::Patch;
    Ok(match organization::patch(value) {
        Patch::Set(id) => Patch::Set(reference(&id)?),
        Patch::Clear => Patch::Clear,
        Patch::Unchanged => Patch::Unchanged,
    })
}

/// The UUID of a link (links have no global id: their id is the UUID that `changes` gives
/// in `entityId` and their edges in `membershipId`).
pub fn link_id(id: &async_graphql::ID) -> async_graphql::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(id.trim()).map_err(|_| {
        ApiError::BadUserInput(format!("{:?} is not a link id (the link's UUID, as `changes` gives it)", id.as_str()))
            .into_error()
    })
}
// Designations (of organizations, parks and cities) and figures.
pub mod designation;
pub mod figure;
