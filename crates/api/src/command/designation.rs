//! `addDesignation`, `updateDesignation`, `endDesignation` (an organization's designation),
//! `addParkDesignation` …, `addCityDesignation` …: inputs, payloads, and the calls into the
//! service. Ending a designation archives it (it leaves the live set) and the feed carries
//! the end as a tombstone (`END_LINK`).
//!
//! An organization's designation is named by its global `id`; a park's or a city's
//! designation, which has no global id, by its `databaseId` (as the feed's `entityId`).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{
    CityDesignationDraft, CityDesignationPatch, DesignationDraft, DesignationPatch, ErrorCode, Errors,
    ParkDesignationDraft, ParkDesignationPatch, Patch,
};
use parkgraph_registry::CommandError;
use parkgraph_registry::designation::{CityDesignationRow, DesignationRow, ParkDesignationRow};
use uuid::Uuid;

use super::organization::{date, patch, patch_with};
use super::{UserError, report, service};
use crate::error::{ApiError, ApiResult};
use crate::id::{NodeType, decode_as};
use crate::object::vocabulary::DesignationKind;
use crate::object::{CityDesignation, Designation, ParkDesignation};

/// A new designation of an enterprise (unicorn, gazelle, high-tech enterprise, Fortune
/// Global 500 …) for a year. Text is trimmed; blank optional text is stored as none.
#[derive(InputObject)]
pub struct AddDesignationInput {
    /// The designated enterprise: a live organization of kind `ENTERPRISE`.
    pub organization_id: ID,
    /// Unicorn, gazelle, high-tech enterprise, Fortune Global 500 …
    pub kind: DesignationKind,
    /// The year the designation is for (for a unicorn, the list's year): from 1949 to this
    /// year. An enterprise holds at most one live designation of a kind for a year.
    pub year: i32,
    /// Valuation in US dollars: a whole number, not negative.
    pub valuation_usd: Option<f64>,
    /// Free-text note.
    pub note: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of an enterprise's designation at the version read. A field left out
/// stays as it is; a field given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateDesignationInput {
    /// The designation's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Moves the designation to another live enterprise (cannot be cleared).
    pub organization_id: MaybeUndefined<ID>,
    /// Unicorn, gazelle, high-tech enterprise … (cannot be cleared).
    pub kind: MaybeUndefined<DesignationKind>,
    /// The year the designation is for: from 1949 to this year (cannot be cleared).
    pub year: MaybeUndefined<i32>,
    /// Valuation in US dollars: a whole number, not negative.
    pub valuation_usd: MaybeUndefined<f64>,
    /// Free-text note.
    pub note: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// An enterprise's designation to end, at the version read.
#[derive(InputObject)]
pub struct EndDesignationInput {
    /// The designation's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

/// A new designation of a park (a national base, a demonstration zone). Text is trimmed;
/// blank optional text is stored as none.
#[derive(InputObject)]
pub struct AddParkDesignationInput {
    /// The designated park: a live park.
    pub park_id: ID,
    /// Chinese name of the designation (required).
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// When it was designated: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub designated_on: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of a park's designation at the version read. A field left out stays as
/// it is; a field given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateParkDesignationInput {
    /// The designation's `databaseId`.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Moves the designation to another live park (cannot be cleared).
    pub park_id: MaybeUndefined<ID>,
    /// Chinese name of the designation (cannot be cleared).
    pub name_zh: MaybeUndefined<String>,
    /// English name.
    pub name_en: MaybeUndefined<String>,
    /// When it was designated: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub designated_on: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// A park's designation to end, at the version read.
#[derive(InputObject)]
pub struct EndParkDesignationInput {
    /// The designation's `databaseId`.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

/// A new designation of a city as a whole ("Made in China 2025" pilot city). Text is
/// trimmed; blank optional text is stored as none.
#[derive(InputObject)]
pub struct AddCityDesignationInput {
    /// The city, as recorded (e.g. "武汉"; required).
    pub city: String,
    /// Chinese name of the designation (required).
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Who designated the city (State Council, a ministry …).
    pub issuer: Option<String>,
    /// When it was designated: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub designated_on: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of a city's designation at the version read. A field left out stays as
/// it is; a field given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateCityDesignationInput {
    /// The designation's `databaseId`.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// The city (cannot be cleared).
    pub city: MaybeUndefined<String>,
    /// Chinese name of the designation (cannot be cleared).
    pub name_zh: MaybeUndefined<String>,
    /// English name.
    pub name_en: MaybeUndefined<String>,
    /// Who designated the city.
    pub issuer: MaybeUndefined<String>,
    /// When it was designated: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub designated_on: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// A city's designation to end, at the version read.
#[derive(InputObject)]
pub struct EndCityDesignationInput {
    /// The designation's `databaseId`.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident, $field:ident: $object:ident = $wrap:expr, $row:ty, $noun:literal) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The designation as the mutation left it; null when it changed nothing.
            pub $field: Option<$object>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(result: Result<$row, CommandError>, version: i32) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => Ok(Self { $field: Some($wrap(row)), user_errors: Vec::new() }),
                    Err(e) => Ok(Self { $field: None, user_errors: report(e, $noun, version)? }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `addDesignation`.
    AddDesignationPayload, designation: Designation = Designation, DesignationRow, "designation"
);
payload!(
    /// The outcome of `updateDesignation`.
    UpdateDesignationPayload, designation: Designation = Designation, DesignationRow, "designation"
);
payload!(
    /// The outcome of `endDesignation`.
    EndDesignationPayload, designation: Designation = Designation, DesignationRow, "designation"
);
payload!(
    /// The outcome of `addParkDesignation`.
    AddParkDesignationPayload, park_designation: ParkDesignation = ParkDesignation::from, ParkDesignationRow, "park designation"
);
payload!(
    /// The outcome of `updateParkDesignation`.
    UpdateParkDesignationPayload, park_designation: ParkDesignation = ParkDesignation::from, ParkDesignationRow, "park designation"
);
payload!(
    /// The outcome of `endParkDesignation`.
    EndParkDesignationPayload, park_designation: ParkDesignation = ParkDesignation::from, ParkDesignationRow, "park designation"
);
payload!(
    /// The outcome of `addCityDesignation`.
    AddCityDesignationPayload, city_designation: CityDesignation = CityDesignation::from, CityDesignationRow, "city designation"
);
payload!(
    /// The outcome of `updateCityDesignation`.
    UpdateCityDesignationPayload, city_designation: CityDesignation = CityDesignation::from, CityDesignationRow, "city designation"
);
payload!(
    /// The outcome of `endCityDesignation`.
    EndCityDesignationPayload, city_designation: CityDesignation = CityDesignation::from, CityDesignationRow, "city designation"
);

/// The UUID of a record that has no global id (a park's or a city's designation, a
/// figure): its `databaseId`, as the feed's `entityId` gives it.
pub(super) fn database_id(id: &ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.trim())
        .map_err(|_| ApiError::BadUserInput(format!("{:?} is not a databaseId (a UUID) of this record", id.as_str())))
}

/// US dollars typed as a GraphQL `Float`: a whole number that fits.
fn dollars(errors: &mut Errors, value: Option<f64>) -> Option<i64> {
    let value = value?;
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
        Some(value as i64)
    } else {
        errors.push("valuationUsd", ErrorCode::InvalidFormat, "Give the valuation in whole US dollars.");
        None
    }
}

/// Runs `addDesignation`.
pub async fn add(ctx: &Context<'_>, input: AddDesignationInput) -> async_graphql::Result<AddDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let organization_id = decode_as(NodeType::Organization, &input.organization_id).api()?;
    let mut errors = Errors::new();
    let draft = DesignationDraft {
        valuation_usd: dollars(&mut errors, input.valuation_usd),
        note: input.note,
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..DesignationDraft::new(organization_id, domain::DesignationKind::from(input.kind), input.year)
    };
    if let Err(invalid) = errors.finish(()) {
        return AddDesignationPayload::outcome(Err(invalid.into()), 0);
    }
    AddDesignationPayload::outcome(registry.add_designation(&actor, draft).await, 0)
}

/// Runs `updateDesignation`.
pub async fn update(
    ctx: &Context<'_>,
    input: UpdateDesignationInput,
) -> async_graphql::Result<UpdateDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Designation, &input.id).api()?;
    let organization_id = match patch(input.organization_id) {
        Patch::Set(organization) => Patch::Set(decode_as(NodeType::Organization, &organization).api()?),
        Patch::Clear => Patch::Clear,
        Patch::Unchanged => Patch::Unchanged,
    };
    let mut errors = Errors::new();
    let valuation_usd = patch_with(input.valuation_usd, |v| dollars(&mut errors, Some(v)));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateDesignationPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = DesignationPatch {
        organization_id,
        kind: patch(input.kind.map_value(domain::DesignationKind::from)),
        year: patch(input.year),
        valuation_usd,
        note: patch(input.note),
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    let result = registry.update_designation(&actor, id, input.version, changes).await;
    UpdateDesignationPayload::outcome(result, input.version)
}

/// Runs `endDesignation`.
pub async fn end(ctx: &Context<'_>, input: EndDesignationInput) -> async_graphql::Result<EndDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Designation, &input.id).api()?;
    EndDesignationPayload::outcome(registry.end_designation(&actor, id, input.version).await, input.version)
}

/// Runs `addParkDesignation`.
pub async fn add_park(
    ctx: &Context<'_>,
    input: AddParkDesignationInput,
) -> async_graphql::Result<AddParkDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let park_id = decode_as(NodeType::Park, &input.park_id).api()?;
    let mut errors = Errors::new();
    let draft = ParkDesignationDraft {
        name_en: input.name_en,
        designated_on: date(&mut errors, "designatedOn", input.designated_on),
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..ParkDesignationDraft::new(park_id, input.name_zh)
    };
    if let Err(invalid) = errors.finish(()) {
        return AddParkDesignationPayload::outcome(Err(invalid.into()), 0);
    }
    AddParkDesignationPayload::outcome(registry.add_park_designation(&actor, draft).await, 0)
}

/// Runs `updateParkDesignation`.
pub async fn update_park(
    ctx: &Context<'_>,
    input: UpdateParkDesignationInput,
) -> async_graphql::Result<UpdateParkDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = database_id(&input.id).api()?;
    let park_id = match patch(input.park_id) {
        Patch::Set(park) => Patch::Set(decode_as(NodeType::Park, &park).api()?),
        Patch::Clear => Patch::Clear,
        Patch::Unchanged => Patch::Unchanged,
    };
    let mut errors = Errors::new();
    let designated_on = patch_with(input.designated_on, |t| errors.parse_date("designatedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateParkDesignationPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = ParkDesignationPatch {
        park_id,
        name_zh: patch(input.name_zh),
        name_en: patch(input.name_en),
        designated_on,
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    let result = registry.update_park_designation(&actor, id, input.version, changes).await;
    UpdateParkDesignationPayload::outcome(result, input.version)
}

/// Runs `endParkDesignation`.
pub async fn end_park(
    ctx: &Context<'_>,
    input: EndParkDesignationInput,
) -> async_graphql::Result<EndParkDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = database_id(&input.id).api()?;
    EndParkDesignationPayload::outcome(registry.end_park_designation(&actor, id, input.version).await, input.version)
}

/// Runs `addCityDesignation`.
pub async fn add_city(
    ctx: &Context<'_>,
    input: AddCityDesignationInput,
) -> async_graphql::Result<AddCityDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let mut errors = Errors::new();
    let draft = CityDesignationDraft {
        name_en: input.name_en,
        issuer: input.issuer,
        designated_on: date(&mut errors, "designatedOn", input.designated_on),
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..CityDesignationDraft::new(input.city, input.name_zh)
    };
    if let Err(invalid) = errors.finish(()) {
        return AddCityDesignationPayload::outcome(Err(invalid.into()), 0);
    }
    AddCityDesignationPayload::outcome(registry.add_city_designation(&actor, draft).await, 0)
}

/// Runs `updateCityDesignation`.
pub async fn update_city(
    ctx: &Context<'_>,
    input: UpdateCityDesignationInput,
) -> async_graphql::Result<UpdateCityDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = database_id(&input.id).api()?;
    let mut errors = Errors::new();
    let designated_on = patch_with(input.designated_on, |t| errors.parse_date("designatedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateCityDesignationPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = CityDesignationPatch {
        city: patch(input.city),
        name_zh: patch(input.name_zh),
        name_en: patch(input.name_en),
        issuer: patch(input.issuer),
        designated_on,
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    let result = registry.update_city_designation(&actor, id, input.version, changes).await;
    UpdateCityDesignationPayload::outcome(result, input.version)
}

/// Runs `endCityDesignation`.
pub async fn end_city(
    ctx: &Context<'_>,
    input: EndCityDesignationInput,
) -> async_graphql::Result<EndCityDesignationPayload> {
    let (registry, actor) = service(ctx)?;
    let id = database_id(&input.id).api()?;
    EndCityDesignationPayload::outcome(registry.end_city_designation(&actor, id, input.version).await, input.version)
}
