//! `createOrganization`, `updateOrganization`, `archiveOrganization`,
//! `restoreOrganization`: inputs, payloads, and the calls into the service.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain::validation::{ErrorCode, Errors, OrganizationDraft, OrganizationPatch, Patch, UsccOverride};
use parkgraph_domain::{self as domain, PartialDate};
use parkgraph_registry::CommandError;
use parkgraph_registry::organization::OrganizationRow;

use super::{UserError, report, service};
use crate::error::ApiResult;
use crate::id::{NodeType, decode_as};
use crate::object::Organization;
use crate::object::vocabulary::{OrganizationKind, OrganizationStatus};

/// Acceptance of a USCC whose check character is wrong (an early pilot code that is right
/// as registered). Who accepted it is the caller, recorded from the token.
#[derive(InputObject, Clone)]
pub struct UsccOverrideInput {
    /// Why the code is right although its check character is wrong.
    pub reason: String,
}

/// A new organization. Text is trimmed; blank optional text is stored as none.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Enterprise, university, research institute …
    pub kind: OrganizationKind,
    /// Chinese name in common use (required).
    pub name_zh: String,
    /// Whether it still operates.
    pub status: OrganizationStatus,
    /// English name.
    pub name_en: Option<String>,
    /// Registered legal name (…有限公司).
    pub legal_name: Option<String>,
    /// Unified Social Credit Code (18 characters); checked, including its check characters.
    pub uscc: Option<String>,
    /// Accepts a USCC that fails only its check character; needs a reason.
    pub uscc_override: Option<UsccOverrideInput>,
    /// Founding date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub founded_on: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Registered capital in yuan: a whole number, not negative.
    pub registered_capital_cny: Option<f64>,
    /// Number of employees; not negative.
    pub headcount: Option<i32>,
    /// Website: an `http` or `https` address.
    pub website: Option<String>,
    /// City of the registered seat.
    pub city: Option<String>,
    /// District.
    pub district: Option<String>,
    /// Contact person (internal).
    pub contact_name: Option<String>,
    /// Contact telephone (internal).
    pub contact_phone: Option<String>,
    /// Contact e-mail (internal).
    pub contact_email: Option<String>,
    /// Notes by staff (internal).
    pub staff_notes: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of an organization at the version read. A field left out stays as it is;
/// a field given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Enterprise, university, research institute …
    pub kind: MaybeUndefined<OrganizationKind>,
    /// Chinese name in common use (cannot be cleared).
    pub name_zh: MaybeUndefined<String>,
    /// Whether it still operates (cannot be cleared).
    pub status: MaybeUndefined<OrganizationStatus>,
    /// English name.
    pub name_en: MaybeUndefined<String>,
    /// Registered legal name (…有限公司).
    pub legal_name: MaybeUndefined<String>,
    /// Unified Social Credit Code (18 characters); checked, including its check characters.
    pub uscc: MaybeUndefined<String>,
    /// Accepts a new USCC that fails only its check character; needs a reason.
    pub uscc_override: MaybeUndefined<UsccOverrideInput>,
    /// Founding date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub founded_on: MaybeUndefined<String>,
    /// Industry.
    pub industry: MaybeUndefined<String>,
    /// Registered capital in yuan: a whole number, not negative.
    pub registered_capital_cny: MaybeUndefined<f64>,
    /// Number of employees; not negative.
    pub headcount: MaybeUndefined<i32>,
    /// Website: an `http` or `https` address.
    pub website: MaybeUndefined<String>,
    /// City of the registered seat.
    pub city: MaybeUndefined<String>,
    /// District.
    pub district: MaybeUndefined<String>,
    /// Contact person (internal).
    pub contact_name: MaybeUndefined<String>,
    /// Contact telephone (internal).
    pub contact_phone: MaybeUndefined<String>,
    /// Contact e-mail (internal).
    pub contact_email: MaybeUndefined<String>,
    /// Notes by staff (internal).
    pub staff_notes: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

macro_rules! version_input {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(InputObject)]
        pub struct $name {
            /// The organization's id.
            pub id: ID,
            /// The `version` read; a stale version is a `CONFLICT` user error and changes
            /// nothing.
            pub version: i32,
        }
    };
}

version_input!(
    /// An organization to archive, at the version read.
    ArchiveOrganizationInput
);
version_input!(
    /// An archived organization to restore, at the version read.
    RestoreOrganizationInput
);

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The organization as the mutation left it; null when it changed nothing.
            pub organization: Option<Organization>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(
                result: Result<OrganizationRow, CommandError>,
                version: i32,
            ) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => Ok(Self { organization: Some(Organization(row)), user_errors: Vec::new() }),
                    Err(e) => Ok(Self { organization: None, user_errors: report(e, "organization", version)? }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `createOrganization`.
    CreateOrganizationPayload
);
payload!(
    /// The outcome of `updateOrganization`.
    UpdateOrganizationPayload
);
payload!(
    /// The outcome of `archiveOrganization`.
    ArchiveOrganizationPayload
);
payload!(
    /// The outcome of `restoreOrganization`.
    RestoreOrganizationPayload
);

/// A date typed as text, recorded as a problem when it is not one.
pub(super) fn date(errors: &mut Errors, field: &str, text: Option<String>) -> Option<PartialDate> {
    text.and_then(|t| errors.parse_date(field, &t))
}

/// Yuan typed as a GraphQL `Float`: a whole number that fits.
fn yuan(errors: &mut Errors, value: Option<f64>) -> Option<i64> {
    let value = value?;
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
        Some(value as i64)
    } else {
        errors.push("registeredCapitalCny", ErrorCode::InvalidFormat, "Give the registered capital in whole yuan.");
        None
    }
}

/// An update field as a patch.
pub(super) fn patch<T>(value: MaybeUndefined<T>) -> Patch<T> {
    match value {
        MaybeUndefined::Undefined => Patch::Unchanged,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v),
    }
}

/// An update field typed as text, parsed (a parse problem is recorded, the field left
/// unchanged).
pub(super) fn patch_with<T, U>(value: MaybeUndefined<T>, parse: impl FnOnce(T) -> Option<U>) -> Patch<U> {
    match patch(value) {
        Patch::Unchanged => Patch::Unchanged,
        Patch::Clear => Patch::Clear,
        Patch::Set(v) => parse(v).map_or(Patch::Unchanged, Patch::Set),
    }
}

/// The override as the domain takes it; the service fills in who (the caller).
fn accept(input: UsccOverrideInput) -> UsccOverride {
    UsccOverride { by: String::new(), reason: input.reason }
}

/// Runs `createOrganization`.
pub async fn create(
    ctx: &Context<'_>,
    input: CreateOrganizationInput,
) -> async_graphql::Result<CreateOrganizationPayload> {
    let (registry, actor) = service(ctx)?;
    let mut errors = Errors::new();
    let draft = OrganizationDraft {
        name_en: input.name_en,
        legal_name: input.legal_name,
        uscc: input.uscc,
        uscc_override: input.uscc_override.map(accept),
        founded_on: date(&mut errors, "foundedOn", input.founded_on),
        industry: input.industry,
        registered_capital_cny: yuan(&mut errors, input.registered_capital_cny),
        headcount: input.headcount,
        website: input.website,
        city: input.city,
        district: input.district,
        contact_name: input.contact_name,
        contact_phone: input.contact_phone,
        contact_email: input.contact_email,
        staff_notes: input.staff_notes,
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..OrganizationDraft::new(
            domain::OrganizationKind::from(input.kind),
            input.name_zh,
            domain::OrganizationStatus::from(input.status),
        )
    };
    if let Err(invalid) = errors.finish(()) {
        return CreateOrganizationPayload::outcome(Err(invalid.into()), 0);
    }
    CreateOrganizationPayload::outcome(registry.create_organization(&actor, draft).await, 0)
}

/// Runs `updateOrganization`.
pub async fn update(
    ctx: &Context<'_>,
    input: UpdateOrganizationInput,
) -> async_graphql::Result<UpdateOrganizationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Organization, &input.id).api()?;
    let mut errors = Errors::new();
    let founded_on = patch_with(input.founded_on, |t| errors.parse_date("foundedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    let registered_capital_cny = patch_with(input.registered_capital_cny, |v| yuan(&mut errors, Some(v)));
    if let Err(invalid) = errors.finish(()) {
        return UpdateOrganizationPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = OrganizationPatch {
        kind: patch(input.kind.map_value(domain::OrganizationKind::from)),
        name_zh: patch(input.name_zh),
        status: patch(input.status.map_value(domain::OrganizationStatus::from)),
        name_en: patch(input.name_en),
        legal_name: patch(input.legal_name),
        uscc: patch(input.uscc),
        uscc_override: patch(input.uscc_override.map_value(accept)),
        founded_on,
        industry: patch(input.industry),
        registered_capital_cny,
        headcount: patch(input.headcount),
        website: patch(input.website),
        city: patch(input.city),
        district: patch(input.district),
        contact_name: patch(input.contact_name),
        contact_phone: patch(input.contact_phone),
        contact_email: patch(input.contact_email),
        staff_notes: patch(input.staff_notes),
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    let result = registry.update_organization(&actor, id, input.version, changes).await;
    UpdateOrganizationPayload::outcome(result, input.version)
}

/// Runs `archiveOrganization`.
pub async fn archive(
    ctx: &Context<'_>,
    input: ArchiveOrganizationInput,
) -> async_graphql::Result<ArchiveOrganizationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Organization, &input.id).api()?;
    ArchiveOrganizationPayload::outcome(registry.archive_organization(&actor, id, input.version).await, input.version)
}

/// Runs `restoreOrganization`.
pub async fn restore(
    ctx: &Context<'_>,
    input: RestoreOrganizationInput,
) -> async_graphql::Result<RestoreOrganizationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Organization, &input.id).api()?;
    RestoreOrganizationPayload::outcome(registry.restore_organization(&actor, id, input.version).await, input.version)
}
