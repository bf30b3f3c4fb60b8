//! `createSecondHeadquarters`, `updateSecondHeadquarters`, `archiveSecondHeadquarters`,
//! `restoreSecondHeadquarters`: inputs, payloads, and the calls into the service.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{ErrorCode, Errors, SecondHeadquartersDraft, SecondHeadquartersPatch};
use parkgraph_registry::CommandError;
use parkgraph_registry::second_headquarters::SecondHeadquartersRow;

use super::organization::{date, patch, patch_with};
use super::{UserError, reference, reference_patch, report, service};
use crate::error::ApiResult;
use crate::id::{NodeType, decode_as};
use crate::object::SecondHeadquarters;
use crate::object::vocabulary::{SecondHqFunction, SecondHqStatus};

/// A new second headquarters (第二总部) of a parent group. Text is trimmed; blank optional
/// text is stored as none.
#[derive(InputObject)]
pub struct CreateSecondHeadquartersInput {
    /// The parent group: a live organization.
    pub parent_id: ID,
    /// Chinese name (required).
    pub name_zh: String,
    /// How far it has got: announced, signed, under construction, operating …
    pub status: SecondHqStatus,
    /// What it does for the group, each function once; none when omitted.
    #[graphql(default)]
    pub functions: Vec<SecondHqFunction>,
    /// The live park it is in.
    pub park_id: Option<ID>,
    /// The local legal entity: a live organization of kind `ENTERPRISE`, not the parent.
    pub local_entity_id: Option<ID>,
    /// City.
    pub city: Option<String>,
    /// English name.
    pub name_en: Option<String>,
    /// Date announced or signed: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub announced_on: Option<String>,
    /// Date opened (may be planned, in the future): `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not
    /// before the announcement, compared at their precisions.
    pub opened_on: Option<String>,
    /// Planned investment in yuan: a whole number, not negative.
    pub planned_investment_cny: Option<f64>,
    /// Planned headcount; not negative.
    pub planned_headcount: Option<i32>,
    /// Planned floor area in square metres; not negative.
    pub planned_floor_area_m2: Option<f64>,
    /// Notes by staff (internal).
    pub staff_notes: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of a second headquarters at the version read. A field left out stays as
/// it is; a field given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateSecondHeadquartersInput {
    /// The second headquarters' id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// The parent group: a live organization (cannot be cleared).
    pub parent_id: MaybeUndefined<ID>,
    /// Chinese name (cannot be cleared).
    pub name_zh: MaybeUndefined<String>,
    /// How far it has got (cannot be cleared).
    pub status: MaybeUndefined<SecondHqStatus>,
    /// What it does for the group, each function once; replaces the list (`[]`: none).
    pub functions: MaybeUndefined<Vec<SecondHqFunction>>,
    /// The live park it is in.
    pub park_id: MaybeUndefined<ID>,
    /// The local legal entity: a live organization of kind `ENTERPRISE`, not the parent.
    pub local_entity_id: MaybeUndefined<ID>,
    /// City.
    pub city: MaybeUndefined<String>,
    /// English name.
    pub name_en: MaybeUndefined<String>,
    /// Date announced or signed: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub announced_on: MaybeUndefined<String>,
    /// Date opened: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not before the announcement.
    pub opened_on: MaybeUndefined<String>,
    /// Planned investment in yuan: a whole number, not negative.
    pub planned_investment_cny: MaybeUndefined<f64>,
    /// Planned headcount; not negative.
    pub planned_headcount: MaybeUndefined<i32>,
    /// Planned floor area in square metres; not negative.
    pub planned_floor_area_m2: MaybeUndefined<f64>,
    /// Notes by staff (internal).
    pub staff_notes: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// A second headquarters to archive, at the version read.
#[derive(InputObject)]
pub struct ArchiveSecondHeadquartersInput {
    /// The second headquarters' id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

/// An archived second headquarters to restore, at the version read; its parent group,
/// park and local entity must be live.
#[derive(InputObject)]
pub struct RestoreSecondHeadquartersInput {
    /// The second headquarters' id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The second headquarters as the mutation left it; null when it changed nothing.
            pub second_headquarters: Option<SecondHeadquarters>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(
                result: Result<SecondHeadquartersRow, CommandError>,
                version: i32,
            ) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => {
                        Ok(Self { second_headquarters: Some(SecondHeadquarters(row)), user_errors: Vec::new() })
                    }
                    Err(e) => Ok(Self {
                        second_headquarters: None,
                        user_errors: report(e, "second headquarters", version)?,
                    }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `createSecondHeadquarters`.
    CreateSecondHeadquartersPayload
);
payload!(
    /// The outcome of `updateSecondHeadquarters`.
    UpdateSecondHeadquartersPayload
);
payload!(
    /// The outcome of `archiveSecondHeadquarters`.
    ArchiveSecondHeadquartersPayload
);
payload!(
    /// The outcome of `restoreSecondHeadquarters`.
    RestoreSecondHeadquartersPayload
);

/// Yuan typed as a GraphQL `Float`: a whole number that fits.
fn whole_yuan(errors: &mut Errors, field: &str, value: Option<f64>) -> Option<i64> {
    let value = value?;
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
        Some(value as i64)
    } else {
        errors.push(field, ErrorCode::InvalidFormat, "Give the amount in whole yuan.");
        None
    }
}

fn functions(list: Vec<SecondHqFunction>) -> Vec<domain::SecondHqFunction> {
    list.into_iter().map(domain::SecondHqFunction::from).collect()
}

/// Runs `createSecondHeadquarters`.
pub async fn create(
    ctx: &Context<'_>,
    input: CreateSecondHeadquartersInput,
) -> async_graphql::Result<CreateSecondHeadquartersPayload> {
    let (registry, actor) = service(ctx)?;
    let parent_id = reference(&input.parent_id)?;
    let park_id = input.park_id.as_ref().map(reference).transpose()?;
    let local_entity_id = input.local_entity_id.as_ref().map(reference).transpose()?;
    let mut errors = Errors::new();
    let draft = SecondHeadquartersDraft {
        functions: functions(input.functions),
        park_id,
        local_entity_id,
        city: input.city,
        name_en: input.name_en,
        announced_on: date(&mut errors, "announcedOn", input.announced_on),
        opened_on: date(&mut errors, "openedOn", input.opened_on),
        planned_investment_cny: whole_yuan(&mut errors, "plannedInvestmentCny", input.planned_investment_cny),
        planned_headcount: input.planned_headcount,
        planned_floor_area_m2: input.planned_floor_area_m2,
        staff_notes: input.staff_notes,
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..SecondHeadquartersDraft::new(parent_id, input.name_zh, domain::SecondHqStatus::from(input.status))
    };
    if let Err(invalid) = errors.finish(()) {
        return CreateSecondHeadquartersPayload::outcome(Err(invalid.into()), 0);
    }
    CreateSecondHeadquartersPayload::outcome(registry.create_second_headquarters(&actor, draft).await, 0)
}

/// Runs `updateSecondHeadquarters`.
pub async fn update(
    ctx: &Context<'_>,
    input: UpdateSecondHeadquartersInput,
) -> async_graphql::Result<UpdateSecondHeadquartersPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::SecondHeadquarters, &input.id).api()?;
    let parent_id = reference_patch(input.parent_id)?;
    let park_id = reference_patch(input.park_id)?;
    let local_entity_id = reference_patch(input.local_entity_id)?;
    let mut errors = Errors::new();
    let announced_on = patch_with(input.announced_on, |t| errors.parse_date("announcedOn", &t));
    let opened_on = patch_with(input.opened_on, |t| errors.parse_date("openedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    let planned_investment_cny =
        patch_with(input.planned_investment_cny, |v| whole_yuan(&mut errors, "plannedInvestmentCny", Some(v)));
    if let Err(invalid) = errors.finish(()) {
        return UpdateSecondHeadquartersPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = SecondHeadquartersPatch {
        parent_id,
        name_zh: patch(input.name_zh),
        status: patch(input.status.map_value(domain::SecondHqStatus::from)),
        functions: patch(input.functions.map_value(functions)),
        park_id,
        local_entity_id,
        city: patch(input.city),
        name_en: patch(input.name_en),
        announced_on,
        opened_on,
        planned_investment_cny,
        planned_headcount: patch(input.planned_headcount),
        planned_floor_area_m2: patch(input.planned_floor_area_m2),
        staff_notes: patch(input.staff_notes),
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    let result = registry.update_second_headquarters(&actor, id, input.version, changes).await;
    UpdateSecondHeadquartersPayload::outcome(result, input.version)
}

/// Runs `archiveSecondHeadquarters`.
pub async fn archive(
    ctx: &Context<'_>,
    input: ArchiveSecondHeadquartersInput,
) -> async_graphql::Result<ArchiveSecondHeadquartersPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::SecondHeadquarters, &input.id).api()?;
    let result = registry.archive_second_headquarters(&actor, id, input.version).await;
    ArchiveSecondHeadquartersPayload::outcome(result, input.version)
}

/// Runs `restoreSecondHeadquarters`.
pub async fn restore(
    ctx: &Context<'_>,
    input: RestoreSecondHeadquartersInput,
) -> async_graphql::Result<RestoreSecondHeadquartersPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::SecondHeadquarters, &input.id).api()?;
    let result = registry.restore_second_headquarters(&actor, id, input.version).await;
    RestoreSecondHeadquartersPayload::outcome(result, input.version)
}
