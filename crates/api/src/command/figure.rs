//! `createFigure`, `updateFigure`, `archiveFigure`, `restoreFigure`: inputs, payloads, and
//! the calls into the service. A figure has no global id: it is named by its `databaseId`
//! (as the feed's `entityId`).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, SimpleObject};
use parkgraph_domain as domain;
use parkgraph_domain::validation::{Errors, FigureDraft, FigurePatch, Patch};
use parkgraph_registry::CommandError;
use parkgraph_registry::figure::FigureRow;

use super::designation::database_id;
use super::organization::{date, patch, patch_with};
use super::{UserError, report, service};
use crate::error::ApiResult;
use crate::id::{NodeType, decode_as};
use crate::object::Figure;
use crate::object::vocabulary::FigureQualifier;

/// A new figure: a sourced, dated number about an organization, a park or a city ("second
/// headquarters in Optics Valley: more than 60, as of 2018-10"). Text is trimmed; blank optional text is
/// stored as none.
#[derive(InputObject)]
pub struct CreateFigureInput {
    /// What is counted, as a `snake_case` code (`unicorns`, `second_headquarters`).
    pub indicator: String,
    /// What is counted, in Chinese (required).
    pub name_zh: String,
    /// The number as the source gives it: finite; not negative unless the unit is a
    /// percentage (`%`, `percent`).
    pub value: f64,
    /// Unit of the value (`enterprises`, `CNY`, `km2`, `%`; required).
    pub unit: String,
    /// How the value relates to the true number: `MORE_THAN` for "60余家", `EXACT` …
    pub qualifier: FigureQualifier,
    /// The live park the figure is about; this, `city` or `organizationId` is required.
    pub park_id: Option<ID>,
    /// The city the figure is about; this, `parkId` or `organizationId` is required. A
    /// park's figure without a city takes its park's city.
    pub city: Option<String>,
    /// The live organization the figure is about (its robots, its product's price); this,
    /// `parkId` or `city` is required.
    pub organization_id: Option<ID>,
    /// What is counted, in English.
    pub name_en: Option<String>,
    /// Name of the source the figure comes from.
    pub source_name: Option<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: Option<String>,
    /// When the figure was true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: Option<String>,
}

/// A correction of a figure at the version read. A field left out stays as it is; a field
/// given as `null` is cleared (a required field cannot be cleared).
#[derive(InputObject)]
pub struct UpdateFigureInput {
    /// The figure's `databaseId`.
    pub id: ID,
    /// The `version` read; a stale version is a `CONFLICT` user error and changes nothing.
    pub version: i32,
    /// What is counted, as a `snake_case` code (cannot be cleared).
    pub indicator: MaybeUndefined<String>,
    /// What is counted, in Chinese (cannot be cleared).
    pub name_zh: MaybeUndefined<String>,
    /// The number: finite; not negative unless the unit is a percentage (cannot be cleared).
    pub value: MaybeUndefined<f64>,
    /// Unit of the value (cannot be cleared).
    pub unit: MaybeUndefined<String>,
    /// How the value relates to the true number (cannot be cleared).
    pub qualifier: MaybeUndefined<FigureQualifier>,
    /// Moves the figure to another live park (`null`: not about a park).
    pub park_id: MaybeUndefined<ID>,
    /// The city the figure is about.
    pub city: MaybeUndefined<String>,
    /// Moves the figure to another live organization (`null`: not about an organization).
    pub organization_id: MaybeUndefined<ID>,
    /// What is counted, in English.
    pub name_en: MaybeUndefined<String>,
    /// Name of the source the figure comes from.
    pub source_name: MaybeUndefined<String>,
    /// Where the source can be read: an `http` or `https` address.
    pub source_url: MaybeUndefined<String>,
    /// When the figure was true: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: MaybeUndefined<String>,
}

macro_rules! version_input {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(InputObject)]
        pub struct $name {
            /// The figure's `databaseId`.
            pub id: ID,
            /// The `version` read; a stale version is a `CONFLICT` user error and changes
            /// nothing.
            pub version: i32,
        }
    };
}

version_input!(
    /// A figure to archive, at the version read.
    ArchiveFigureInput
);
version_input!(
    /// An archived figure to restore, at the version read; its park and organization, if
    /// any, must be live.
    RestoreFigureInput
);

macro_rules! payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The figure as the mutation left it; null when it changed nothing.
            pub figure: Option<Figure>,
            /// What to fix when the mutation changed nothing; empty on success.
            pub user_errors: Vec<UserError>,
        }

        impl $name {
            fn outcome(result: Result<FigureRow, CommandError>, version: i32) -> async_graphql::Result<Self> {
                match result {
                    Ok(row) => Ok(Self { figure: Some(Figure(row)), user_errors: Vec::new() }),
                    Err(e) => Ok(Self { figure: None, user_errors: report(e, "figure", version)? }),
                }
            }
        }
    };
}

payload!(
    /// The outcome of `createFigure`.
    CreateFigurePayload
);
payload!(
    /// The outcome of `updateFigure`.
    UpdateFigurePayload
);
payload!(
    /// The outcome of `archiveFigure`.
    ArchiveFigurePayload
);
payload!(
    /// The outcome of `restoreFigure`.
    RestoreFigurePayload
);

/// Runs `createFigure`.
pub async fn create(ctx: &Context<'_>, input: CreateFigureInput) -> async_graphql::Result<CreateFigurePayload> {
    let (registry, actor) = service(ctx)?;
    let park_id = input.park_id.map(|id| decode_as(NodeType::Park, &id)).transpose().api()?;
    let organization_id = input.organization_id.map(|id| decode_as(NodeType::Organization, &id)).transpose().api()?;
    let mut errors = Errors::new();
    let draft = FigureDraft {
        park_id,
        city: input.city,
        organization_id,
        name_en: input.name_en,
        source_name: input.source_name,
        source_url: input.source_url,
        as_of: date(&mut errors, "asOf", input.as_of),
        ..FigureDraft::new(
            input.indicator,
            input.name_zh,
            input.value,
            input.unit,
            domain::FigureQualifier::from(input.qualifier),
        )
    };
    if let Err(invalid) = errors.finish(()) {
        return CreateFigurePayload::outcome(Err(invalid.into()), 0);
    }
    CreateFigurePayload::outcome(registry.create_figure(&actor, draft).await, 0)
}

/// Runs `updateFigure`.
pub async fn update(ctx: &Context<'_>, input: UpdateFigureInput) -> async_graphql::Result<UpdateFigurePayload> {
    let (registry, actor) = service(ctx)?;
    let id = database_id(&input.id).api()?;
    let park_id = match patch(input.park_id) {
        Patch::Set(park) => Patch::Set(decode_as(NodeType::Park, &park).api()?),
        Patch::Clear => Patch::Clear,
        Patch::Unchanged => Patch::Unchanged,
    };
    let organization_id = match patch(input.organization_id) {
        Patch::Set(organization) => Patch::Set(decode_as(NodeType::Organization, &organization).api()?),
        Patch::Clear => Patch::Clear,
        Patch::Unchanged => Patch::Unchanged,
    };
    let mut errors = Errors::new();
    let as_of = patch_with(input.as_of, |t| errors.parse_date("asOf", &t));
    if let Err(invalid) = errors.finish(()) {
        return UpdateFigurePayload::outcome(Err(invalid.into()), input.version);
    }
    let changes = FigurePatch {
        indicator: patch(input.indicator),
        name_zh: patch(input.name_zh),
        value: patch(input.value),
        unit: patch(input.unit),
        qualifier: patch(input.qualifier.map_value(domain::FigureQualifier::from)),
        park_id,
        city: patch(input.city),
        organization_id,
        name_en: patch(input.name_en),
        source_name: patch(input.source_name),
        source_url: patch(input.source_url),
        as_of,
    };
    UpdateFigurePayload::outcome(registry.update_figure(&actor, id, input.version, changes).await, input.version)
}

/// Runs `archiveFigure`.
pub async fn archive(ctx: &Context<'_>, input: ArchiveFigureInput) -> async_graphql::Result<ArchiveFigurePayload> {
    let (registry, actor) = service(ctx)?;
    let id = database_id(&input.id).api()?;
    ArchiveFigurePayload::outcome(registry.archive_figure(&actor, id, input.version).await, input.version)
}

/// Runs `restoreFigure`.
pub async fn restore(ctx: &Context<'_>, input: RestoreFigureInput) -> async_graphql::Result<RestoreFigurePayload> {
    let (registry, actor) = service(ctx)?;
    let id = database_id(&input.id).api()?;
    RestoreFigurePayload::outcome(registry.restore_figure(&actor, id, input.version).await, input.version)
}
