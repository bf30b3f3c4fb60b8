//! `createPark`, `updatePark`, `archivePark`, `restorePark`: inputs, payloads, and the
//! calls into the service.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{Errors, ParkDraft, ParkPatch, Patch};
use parkgraph_registry::CommandError;
use parkgraph_registry::park::ParkRow;

use super::organization::{date, patch, patch_with};
use super::{UserError, report, service};
use crate::error::ApiResult;
use crate::id::{NodeType, decode_as};
use crate::object::Park;
use crate::object::vocabulary::ParkKind;

/// A new park. Text is trimmed; blank optional text is stored as none.
#[derive(InputObject)]
pub struct CreateParkInput {
    /// Zone, park, innovation valley …
    pub kind: ParkKind,
    /// Chinese name (required).
    pub name_zh: String,
    /// The live park this one lies within; a top-level park when omitted.
    pub parent_id: Option<ID>,
    /// English name.
    pub name_en: Option<String>,
    /// City.
    pub city: Option<String>,
    /// District.
    pub district: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// WGS-84 latitude, −90..90; given with the longitude.
    pub latitude: Option<f64>,
    /// WGS-84 longitude, −180..180; given with the latitude.
    pub longitude: Option<f64>,
    /// Area in square kilometres; not negative.
    pub area_km2: Option<f64>,
    /// Establishment date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub established_on: Option<String>,
    /// Name of the source the facts come from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of a park at the version read. A field left out stays as it is; a field
/// given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateParkInput {
    /// The park's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// Zone, park, innovation valley … (cannot be cleared).
    pub kind: MaybeUndefined<ParkKind>,
    /// Chinese name (cannot be cleared).
    pub name_zh: MaybeUndefined<String>,
    /// Moves the park under another live park (`null`: makes it top-level). A park inside
    /// this one cannot become its parent (`CYCLE`).
    pub parent_id: MaybeUndefined<ID>,
    /// English name.
    pub name_en: MaybeUndefined<String>,
    /// City.
    pub city: MaybeUndefined<String>,
    /// District.
    pub district: MaybeUndefined<String>,
    /// Street address.
    pub address: MaybeUndefined<String>,
    /// WGS-84 latitude, −90..90; changed or cleared with the longitude.
    pub latitude: MaybeUndefined<f64>,
    /// WGS-84 longitude, −180..180; changed or cleared with the latitude.
    pub longitude: MaybeUndefined<f64>,
    /// Area in square kilometres; not negative.
    pub area_km2: MaybeUndefined<f64>,
    /// Establishment date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; not in the future.
    pub established_on: MaybeUndefined<String>,
    /// Name of the source the facts come from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the facts were true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

/// A park to archive, at the version read; it must have no live child parks.
#[derive(InputObject)]
pub struct ArchiveParkInput {
    /// The park's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

/// An archived park to restore, at the version read; its parent must be live.
#[derive(InputObject)]
pub struct RestoreParkInput {
    /// The park's id.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
}

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The park as the mutation left it; null when it changed nothing.
            pub park: Option<Park>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(result: Result<ParkRow, CommandError>, version: i32) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => Ok(Self { park: Some(Park(row)), user_errors: Vec::new() }),
                    Err(e) => Ok(Self { park: None, user_errors: report(e, "park", version)? }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `createPark`.
    CreateParkPayload
);
payload!(
    /// The outcome of `updatePark`.
    UpdateParkPayload
);
payload!(
    /// The outcome of `archivePark`.
    ArchiveParkPayload
);
payload!(
    /// The outcome of `restorePark`.
    RestoreParkPayload
);

/// Runs `createPark`.
pub async fn create(ctx: &Context<'_>, input: CreateParkInput) -> async_graphql::Result<CreateParkPayload> {
    let (registry, actor) = service(ctx)?;
    let parent_id = input.parent_id.map(|id| decode_as(NodeType::Park, &id)).transpose().api()?;
    let mut errors = Errors::new();
    let draft = ParkDraft {
        parent_id,
        name_en: input.name_en,
        city: input.city,
        district: input.district,
        address: input.address,
        latitude: input.latitude,
        longitude: input.longitude,
        area_km2: input.area_km2,
        established_on: date(&mut errors, "establishedOn", input.established_on),
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..ParkDraft::new(domain::ParkKind::from(input.kind), input.name_zh)
    };
    if let Err(invalid) = errors.finish(()) {
        return CreateParkPayload::outcome(Err(invalid.into()), 0);
    }
    CreateParkPayload::outcome(registry.create_park(&actor, draft).await, 0)
}

/// Runs `updatePark`.
pub async fn update(ctx: &Context<'_>, input: UpdateParkInput) -> async_graphql::Result<UpdateParkPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Park, &input.id).api()?;
    let parent_id = match patch(input.parent_id) {
        Patch::Set(parent) => Patch::Set(decode_as(NodeType::Park, &parent).api()?),
        Patch::Clear => Patch::Clear,
        Patch::Unchanged => Patch::Unchanged,
    };
    let mut errors = Errors::new();
    let established_on = patch_with(input.established_on, |t| errors.parse_date("establishedOn", &t));
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateParkPayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = ParkPatch {
        kind: patch(input.kind.map_value(domain::ParkKind::from)),
        name_zh: patch(input.name_zh),
        parent_id,
        name_en: patch(input.name_en),
        city: patch(input.city),
        district: patch(input.district),
        address: patch(input.address),
        latitude: patch(input.latitude),
        longitude: patch(input.longitude),
        area_km2: patch(input.area_km2),
        established_on,
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    UpdateParkPayload::outcome(registry.update_park(&actor, id, input.version, changes).await, input.version)
}

/// Runs `archivePark`.
pub async fn archive(ctx: &Context<'_>, input: ArchiveParkInput) -> async_graphql::Result<ArchiveParkPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Park, &input.id).api()?;
    ArchiveParkPayload::outcome(registry.archive_park(&actor, id, input.version).await, input.version)
}

/// Runs `restorePark`.
pub async fn restore(ctx: &Context<'_>, input: RestoreParkInput) -> async_graphql::Result<RestoreParkPayload> {
    let (registry, actor) = service(ctx)?;
    let id = decode_as(NodeType::Park, &input.id).api()?;
    RestoreParkPayload::outcome(registry.restore_park(&actor, id, input.version).await, input.version)
}
