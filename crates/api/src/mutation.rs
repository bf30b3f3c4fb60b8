//! The root `Mutation`: token administration and changes to the registry (thin resolvers
//! over [`crate::command`], which calls the service).

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object};
use parkgraph_domain::{Role, Scope};
use parkgraph_registry::token::{IssueError, IssueRequest};
use uuid::Uuid;

use crate::auth::Authenticator;
use crate::command::organization::{
    self as organization, ArchiveOrganizationInput, ArchiveOrganizationPayload, CreateOrganizationInput,
    CreateOrganizationPayload, RestoreOrganizationInput, RestoreOrganizationPayload, UpdateOrganizationInput,
    UpdateOrganizationPayload,
};
use crate::command::park::{
    self as park, ArchiveParkInput, ArchiveParkPayload, CreateParkInput, CreateParkPayload, RestoreParkInput,
    RestoreParkPayload, UpdateParkInput, UpdateParkPayload,
};
// Incubators and the links incubations and enterprise locations.
use crate::command::enterprise_location::{
    self as enterprise_location, AddEnterpriseLocationInput, AddEnterpriseLocationPayload, EndEnterpriseLocationInput,
    EndEnterpriseLocationPayload, UpdateEnterpriseLocationInput, UpdateEnterpriseLocationPayload,
};
use crate::command::incubation::{
    self as incubation, AddIncubationInput, AddIncubationPayload, EndIncubationInput, EndIncubationPayload,
    UpdateIncubationInput, UpdateIncubationPayload,
};
use crate::command::incubator::{
    self as incubator, ArchiveIncubatorInput, ArchiveIncubatorPayload, CreateIncubatorInput, CreateIncubatorPayload,
    RestoreIncubatorInput, RestoreIncubatorPayload, UpdateIncubatorInput, UpdateIncubatorPayload,
};
use crate::error::{ApiError, ApiResult};
use crate::object::access::{ApiToken, IssueTokenPayload};
use crate::policy::{Admin, Writer};

/// What token to issue.
#[derive(InputObject)]
pub struct IssueTokenInput {
    /// Partner name (required for PARTNER tokens; created on first use).
    pub partner: Option<String>,
    /// Role: ADMIN, EDITOR, ANALYST or PARTNER (any case).
    pub role: String,
    /// Scopes (e.g. `read:parks`); when omitted, all the role allows except `read:changes`
    /// for a partner, which must be asked for.
    pub scopes: Option<Vec<String>>,
    /// Lifetime, e.g. `90d`, `12h` (default 90 days).
    pub ttl: Option<String>,
    /// Subject; defaults to `partner:<name>` or `staff:<role>`.
    pub subject: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
}

fn bad(message: impl std::fmt::Display) -> async_graphql::Error {
    ApiError::BadUserInput(message.to_string()).into_error()
}

/// The root of every change.
pub struct Mutation;

/// The root of every change.
#[Object]
impl Mutation {
    /// Issues a token (administrators with `admin:tokens`). The token is in the payload,
    /// shown this once only.
    #[graphql(guard = "Admin(Scope::AdminTokens)")]
    async fn issue_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to issue.")] input: IssueTokenInput,
    ) -> async_graphql::Result<IssueTokenPayload> {
        let role: Role = input.role.parse().map_err(bad)?;
        let scopes = match &input.scopes {
            Some(list) => Some(Scope::parse_list(&list.join(" ")).map_err(bad)?),
            None => None,
        };
        let ttl = humantime_like(input.ttl.as_deref().unwrap_or("90d")).map_err(bad)?;
        let (registry, _) = crate::command::service(ctx)?;
        let auth = ctx.data::<Arc<Authenticator>>()?;
        let request = IssueRequest {
            partner: input.partner,
            role,
            scopes,
            ttl,
            subject: input.subject,
            description: input.description,
            issued_by: crate::policy::caller(ctx)?.jti,
        };
        let (token, record) = registry.issue_token(auth.keys(), request).await.map_err(|e| match e {
            IssueError::Invalid(_) | IssueError::Signing(_) => bad(e),
            IssueError::Store(e) => ApiError::from(e).into_error(),
        })?;
        Ok(IssueTokenPayload { token, api_token: ApiToken(record) })
    }

    /// Revokes a token (administrators with `admin:tokens`); every replica refuses it
    /// within the revocation cache's lifetime (5 s by default).
    #[graphql(guard = "Admin(Scope::AdminTokens)")]
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's jti.")] jti: Uuid,
    ) -> async_graphql::Result<ApiToken> {
        let record = crate::query::store(ctx)?.revoke_token(jti, chrono::Utc::now()).await.api()?;
        if let Ok(auth) = ctx.data::<Arc<Authenticator>>() {
            auth.forget(jti);
        }
        Ok(ApiToken(record))
    }

    /// Imports organizations with their park locations, designations and incubators from
    /// an uploaded CSV or XLSX file (administrators with `write:registry`; send it as a
    /// GraphQL multipart request with the `X-ParkGraph-CSRF` header). Every row goes
    /// through the write path with the caller as actor. With `dryRun` nothing is written
    /// and the payload says what would be; with `onError: ABORT` (the default) nothing is
    /// written when any row is refused. A file that is not a spreadsheet, or has no name
    /// column, is a `BAD_USER_INPUT` error.
    #[graphql(guard = "Admin(Scope::WriteRegistry)")]
    async fn import_organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The spreadsheet: CSV (UTF-8 or GBK/GB18030) or XLSX, headers in Chinese or English.")]
        file: async_graphql::Upload,
        #[graphql(desc = "Report what would change; write nothing.", default = false)] dry_run: bool,
        #[graphql(desc = "All or nothing (ABORT), or write the good rows (SKIP).", default)]
        on_error: crate::command::import::ImportOnError,
    ) -> async_graphql::Result<crate::command::import::ImportOrganizationsPayload> {
        crate::command::import::import(ctx, file, dry_run, on_error).await
    }

    /// Creates an organization at version 1 (editors and administrators with
    /// `write:registry`). Invalid input is reported in `userErrors` and creates nothing.
    #[graphql(guard = "Writer")]
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new organization.")] input: CreateOrganizationInput,
    ) -> async_graphql::Result<CreateOrganizationPayload> {
        organization::create(ctx, input).await
    }

    /// Corrects an organization at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears. A stale version or invalid
    /// input is reported in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization, the version read, and the fields to change.")]
        input: UpdateOrganizationInput,
    ) -> async_graphql::Result<UpdateOrganizationPayload> {
        organization::update(ctx, input).await
    }

    /// Archives an organization at the version read (editors and administrators with
    /// `write:registry`): it leaves the live registry and frees its USCC; staff still read it.
    #[graphql(guard = "Writer")]
    async fn archive_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization and the version read.")] input: ArchiveOrganizationInput,
    ) -> async_graphql::Result<ArchiveOrganizationPayload> {
        organization::archive(ctx, input).await
    }

    /// Restores an archived organization at the version read (editors and administrators
    /// with `write:registry`), unless another live organization has taken its USCC.
    #[graphql(guard = "Writer")]
    async fn restore_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization and the version read.")] input: RestoreOrganizationInput,
    ) -> async_graphql::Result<RestoreOrganizationPayload> {
        organization::restore(ctx, input).await
    }

    /// Creates a park at version 1 (editors and administrators with `write:registry`),
    /// under a live parent when one is given. Invalid input is reported in `userErrors`
    /// and creates nothing.
    #[graphql(guard = "Writer")]
    async fn create_park(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new park.")] input: CreateParkInput,
    ) -> async_graphql::Result<CreateParkPayload> {
        park::create(ctx, input).await
    }

    /// Corrects or moves a park at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears. A new parent must be live and
    /// outside the park (`CYCLE`); a stale version or invalid input is reported in
    /// `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_park(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The park, the version read, and the fields to change.")] input: UpdateParkInput,
    ) -> async_graphql::Result<UpdateParkPayload> {
        park::update(ctx, input).await
    }

    /// Archives a park at the version read (editors and administrators with
    /// `write:registry`), unless it still contains live parks: it leaves the live registry;
    /// staff still read it.
    #[graphql(guard = "Writer")]
    async fn archive_park(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The park and the version read.")] input: ArchiveParkInput,
    ) -> async_graphql::Result<ArchiveParkPayload> {
        park::archive(ctx, input).await
    }

    /// Restores an archived park at the version read (editors and administrators with
    /// `write:registry`), unless its parent is no longer live.
    #[graphql(guard = "Writer")]
    async fn restore_park(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The park and the version read.")] input: RestoreParkInput,
    ) -> async_graphql::Result<RestoreParkPayload> {
        park::restore(ctx, input).await
    }

    // Incubators and the links incubations and enterprise locations.

    /// Creates an incubator at version 1 (editors and administrators with
    /// `write:registry`), in a live park and run by a live organization when given.
    /// Invalid input is reported in `userErrors` and creates nothing.
    #[graphql(guard = "Writer")]
    async fn create_incubator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new incubator.")] input: CreateIncubatorInput,
    ) -> async_graphql::Result<CreateIncubatorPayload> {
        incubator::create(ctx, input).await
    }

    /// Corrects an incubator at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears. A new park or operator must be
    /// live and of the right kind; a stale version or invalid input is reported in
    /// `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_incubator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incubator, the version read, and the fields to change.")] input: UpdateIncubatorInput,
    ) -> async_graphql::Result<UpdateIncubatorPayload> {
        incubator::update(ctx, input).await
    }

    /// Archives an incubator at the version read (editors and administrators with
    /// `write:registry`), unless it still has live incubations: it leaves the live registry;
    /// staff still read it.
    #[graphql(guard = "Writer")]
    async fn archive_incubator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incubator and the version read.")] input: ArchiveIncubatorInput,
    ) -> async_graphql::Result<ArchiveIncubatorPayload> {
        incubator::archive(ctx, input).await
    }

    /// Restores an archived incubator at the version read (editors and administrators with
    /// `write:registry`), unless its park or operator is no longer live.
    #[graphql(guard = "Writer")]
    async fn restore_incubator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incubator and the version read.")] input: RestoreIncubatorInput,
    ) -> async_graphql::Result<RestoreIncubatorPayload> {
        incubator::restore(ctx, input).await
    }

    /// Adds an incubation at version 1 (editors and administrators with `write:registry`):
    /// a live enterprise in a live incubator, at most one live incubation per pair
    /// (`DUPLICATE`). Invalid input is reported in `userErrors` and adds nothing.
    #[graphql(guard = "Writer")]
    async fn add_incubation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new incubation.")] input: AddIncubationInput,
    ) -> async_graphql::Result<AddIncubationPayload> {
        incubation::add(ctx, input).await
    }

    /// Corrects an incubation at the version read (editors and administrators with
    /// `write:registry`): status, dates (graduated ≥ entered), source. A stale version or
    /// invalid input is reported in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_incubation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incubation, the version read, and the fields to change.")] input: UpdateIncubationInput,
    ) -> async_graphql::Result<UpdateIncubationPayload> {
        incubation::update(ctx, input).await
    }

    /// Ends a live incubation at the version read (editors and administrators with
    /// `write:registry`): the firm graduated or exited; the link leaves the live registry
    /// and the feed carries a tombstone (`END_LINK`).
    #[graphql(guard = "Writer")]
    async fn end_incubation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incubation, the version read, and how it ended.")] input: EndIncubationInput,
    ) -> async_graphql::Result<EndIncubationPayload> {
        incubation::end(ctx, input).await
    }

    /// Adds an enterprise location at version 1 (editors and administrators with
    /// `write:registry`): a live enterprise in a live park, each role once per park among
    /// live locations (`DUPLICATE`). Invalid input is reported in `userErrors` and adds
    /// nothing.
    #[graphql(guard = "Writer")]
    async fn add_enterprise_location(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new location.")] input: AddEnterpriseLocationInput,
    ) -> async_graphql::Result<AddEnterpriseLocationPayload> {
        enterprise_location::add(ctx, input).await
    }

    /// Corrects an enterprise location at the version read (editors and administrators with
    /// `write:registry`): role, since, source. A stale version or invalid input is reported
    /// in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_enterprise_location(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The location, the version read, and the fields to change.")]
        input: UpdateEnterpriseLocationInput,
    ) -> async_graphql::Result<UpdateEnterpriseLocationPayload> {
        enterprise_location::update(ctx, input).await
    }

    /// Ends a live enterprise location at the version read (editors and administrators with
    /// `write:registry`): the link leaves the live registry and the feed carries a tombstone
    /// (`END_LINK`).
    #[graphql(guard = "Writer")]
    async fn end_enterprise_location(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The location and the version read.")] input: EndEnterpriseLocationInput,
    ) -> async_graphql::Result<EndEnterpriseLocationPayload> {
        enterprise_location::end(ctx, input).await
    }

    // ---- Innovation centers, their memberships, and second headquarters ----

    /// Creates an innovation center at version 1 (editors and administrators with
    /// `write:registry`), hosted by a live park when one is given; the ministry follows from
    /// the kind. Invalid input is reported in `userErrors` and creates nothing.
    #[graphql(guard = "Writer")]
    async fn create_innovation_center(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new innovation center.")] input: CreateInnovationCenterInput,
    ) -> async_graphql::Result<CreateInnovationCenterPayload> {
        innovation_center::create(ctx, input).await
    }

    /// Corrects an innovation center at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears; a new host park must be live.
    /// A stale version or invalid input is reported in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_innovation_center(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The innovation center, the version read, and the fields to change.")]
        input: UpdateInnovationCenterInput,
    ) -> async_graphql::Result<UpdateInnovationCenterPayload> {
        innovation_center::update(ctx, input).await
    }

    /// Archives an innovation center at the version read (editors and administrators with
    /// `write:registry`), unless it still has live memberships: it leaves the live registry;
    /// staff still read it.
    #[graphql(guard = "Writer")]
    async fn archive_innovation_center(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The innovation center and the version read.")] input: ArchiveInnovationCenterInput,
    ) -> async_graphql::Result<ArchiveInnovationCenterPayload> {
        innovation_center::archive(ctx, input).await
    }

    /// Restores an archived innovation center at the version read (editors and
    /// administrators with `write:registry`), unless its host park is no longer live.
    #[graphql(guard = "Writer")]
    async fn restore_innovation_center(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The innovation center and the version read.")] input: RestoreInnovationCenterInput,
    ) -> async_graphql::Result<RestoreInnovationCenterPayload> {
        innovation_center::restore(ctx, input).await
    }

    /// Adds a live organization to a live innovation center as lead, founding shareholder
    /// or member, at version 1 (editors and administrators with `write:registry`). An
    /// organization that is already a live member is a `DUPLICATE` user error; invalid input
    /// is reported in `userErrors` and adds nothing.
    #[graphql(guard = "Writer")]
    async fn add_innovation_center_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The center, the organization and its role.")] input: AddInnovationCenterMembershipInput,
    ) -> async_graphql::Result<AddInnovationCenterMembershipPayload> {
        membership::add(ctx, input).await
    }

    /// Corrects a membership at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears. A stale version or invalid
    /// input is reported in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_innovation_center_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership, the version read, and the fields to change.")]
        input: UpdateInnovationCenterMembershipInput,
    ) -> async_graphql::Result<UpdateInnovationCenterMembershipPayload> {
        membership::update(ctx, input).await
    }

    /// Ends a live membership at the version read (editors and administrators with
    /// `write:registry`): the link leaves the live registry (staff still read it, with
    /// `endedAt`) and the feed carries an `END_LINK` tombstone.
    #[graphql(guard = "Writer")]
    async fn end_innovation_center_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership and the version read.")] input: EndInnovationCenterMembershipInput,
    ) -> async_graphql::Result<EndInnovationCenterMembershipPayload> {
        membership::end(ctx, input).await
    }

    /// Creates a second headquarters at version 1 (editors and administrators with
    /// `write:registry`): its parent group a live organization, its park a live park, its
    /// local entity a live enterprise. Invalid input (an opening before the announcement, a
    /// function listed twice …) is reported in `userErrors` and creates nothing.
    #[graphql(guard = "Writer")]
    async fn create_second_headquarters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new second headquarters.")] input: CreateSecondHeadquartersInput,
    ) -> async_graphql::Result<CreateSecondHeadquartersPayload> {
        second_headquarters::create(ctx, input).await
    }

    /// Corrects a second headquarters at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears. A stale version or invalid
    /// input is reported in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_second_headquarters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The second headquarters, the version read, and the fields to change.")]
        input: UpdateSecondHeadquartersInput,
    ) -> async_graphql::Result<UpdateSecondHeadquartersPayload> {
        second_headquarters::update(ctx, input).await
    }

    /// Archives a second headquarters at the version read (editors and administrators with
    /// `write:registry`): it leaves the live registry; staff still read it.
    #[graphql(guard = "Writer")]
    async fn archive_second_headquarters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The second headquarters and the version read.")] input: ArchiveSecondHeadquartersInput,
    ) -> async_graphql::Result<ArchiveSecondHeadquartersPayload> {
        second_headquarters::archive(ctx, input).await
    }

    /// Restores an archived second headquarters at the version read (editors and
    /// administrators with `write:registry`), unless its parent group, park or local entity
    /// is no longer live.
    #[graphql(guard = "Writer")]
    async fn restore_second_headquarters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The second headquarters and the version read.")] input: RestoreSecondHeadquartersInput,
    ) -> async_graphql::Result<RestoreSecondHeadquartersPayload> {
        second_headquarters::restore(ctx, input).await
    }

    // ---- Designations (of organizations, parks and cities) and figures ----

    /// Adds a designation (unicorn, gazelle, high-tech enterprise, Fortune Global 500 …)
    /// for a year to a live enterprise, at version 1 (editors and administrators with
    /// `write:registry`). An enterprise holds at most one live designation of a kind for a
    /// year (`DUPLICATE`); invalid input is reported in `userErrors` and adds nothing.
    #[graphql(guard = "Writer")]
    async fn add_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new designation.")] input: crate::command::designation::AddDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::AddDesignationPayload> {
        crate::command::designation::add(ctx, input).await
    }

    /// Corrects an enterprise's designation at the version read (editors and
    /// administrators with `write:registry`): fields left out stay, `null` clears. A stale
    /// version or invalid input is reported in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The designation, the version read, and the fields to change.")]
        input: crate::command::designation::UpdateDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::UpdateDesignationPayload> {
        crate::command::designation::update(ctx, input).await
    }

    /// Ends an enterprise's designation at the version read (editors and administrators
    /// with `write:registry`): it leaves the live set (staff still read it) and the feed
    /// carries a tombstone (`END_LINK`).
    #[graphql(guard = "Writer")]
    async fn end_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The designation and the version read.")]
        input: crate::command::designation::EndDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::EndDesignationPayload> {
        crate::command::designation::end(ctx, input).await
    }

    /// Adds a designation (a national base, a demonstration zone) to a live park, at
    /// version 1 (editors and administrators with `write:registry`). Invalid input is
    /// reported in `userErrors` and adds nothing.
    #[graphql(guard = "Writer")]
    async fn add_park_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new park designation.")] input: crate::command::designation::AddParkDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::AddParkDesignationPayload> {
        crate::command::designation::add_park(ctx, input).await
    }

    /// Corrects a park's designation at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears.
    #[graphql(guard = "Writer")]
    async fn update_park_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The park designation, the version read, and the fields to change.")]
        input: crate::command::designation::UpdateParkDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::UpdateParkDesignationPayload> {
        crate::command::designation::update_park(ctx, input).await
    }

    /// Ends a park's designation at the version read (editors and administrators with
    /// `write:registry`): it leaves the live set and the feed carries a tombstone.
    #[graphql(guard = "Writer")]
    async fn end_park_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The park designation and the version read.")]
        input: crate::command::designation::EndParkDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::EndParkDesignationPayload> {
        crate::command::designation::end_park(ctx, input).await
    }

    /// Adds a designation to a city as a whole, at version 1 (editors and administrators
    /// with `write:registry`). Invalid input is reported in `userErrors` and adds nothing.
    #[graphql(guard = "Writer")]
    async fn add_city_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new city designation.")] input: crate::command::designation::AddCityDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::AddCityDesignationPayload> {
        crate::command::designation::add_city(ctx, input).await
    }

    /// Corrects a city's designation at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears.
    #[graphql(guard = "Writer")]
    async fn update_city_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The city designation, the version read, and the fields to change.")]
        input: crate::command::designation::UpdateCityDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::UpdateCityDesignationPayload> {
        crate::command::designation::update_city(ctx, input).await
    }

    /// Ends a city's designation at the version read (editors and administrators with
    /// `write:registry`): it leaves the live set and the feed carries a tombstone.
    #[graphql(guard = "Writer")]
    async fn end_city_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The city designation and the version read.")]
        input: crate::command::designation::EndCityDesignationInput,
    ) -> async_graphql::Result<crate::command::designation::EndCityDesignationPayload> {
        crate::command::designation::end_city(ctx, input).await
    }

    /// Creates a figure about a live organization, a live park or a city at version 1 (editors and
    /// administrators with `write:registry`). Invalid input is reported in `userErrors` and
    /// creates nothing.
    #[graphql(guard = "Writer")]
    async fn create_figure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new figure.")] input: crate::command::figure::CreateFigureInput,
    ) -> async_graphql::Result<crate::command::figure::CreateFigurePayload> {
        crate::command::figure::create(ctx, input).await
    }

    /// Corrects a figure at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears. A stale version or invalid
    /// input is reported in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_figure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The figure, the version read, and the fields to change.")]
        input: crate::command::figure::UpdateFigureInput,
    ) -> async_graphql::Result<crate::command::figure::UpdateFigurePayload> {
        crate::command::figure::update(ctx, input).await
    }

    /// Archives a figure at the version read (editors and administrators with
    /// `write:registry`): it leaves the live registry; staff still read it.
    #[graphql(guard = "Writer")]
    async fn archive_figure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The figure and the version read.")] input: crate::command::figure::ArchiveFigureInput,
    ) -> async_graphql::Result<crate::command::figure::ArchiveFigurePayload> {
        crate::command::figure::archive(ctx, input).await
    }

    /// Restores an archived figure at the version read (editors and administrators with
    /// `write:registry`), unless its park or organization is no longer live.
    #[graphql(guard = "Writer")]
    async fn restore_figure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The figure and the version read.")] input: crate::command::figure::RestoreFigureInput,
    ) -> async_graphql::Result<crate::command::figure::RestoreFigurePayload> {
        crate::command::figure::restore(ctx, input).await
    }
}

// The inputs and payloads of the innovation center, membership and second headquarters
// mutations above.
use crate::command::innovation_center::{
    self as innovation_center, ArchiveInnovationCenterInput, ArchiveInnovationCenterPayload,
    CreateInnovationCenterInput, CreateInnovationCenterPayload, RestoreInnovationCenterInput,
    RestoreInnovationCenterPayload, UpdateInnovationCenterInput, UpdateInnovationCenterPayload,
};
use crate::command::innovation_center_membership::{
    self as membership, AddInnovationCenterMembershipInput, AddInnovationCenterMembershipPayload,
    EndInnovationCenterMembershipInput, EndInnovationCenterMembershipPayload, UpdateInnovationCenterMembershipInput,
    UpdateInnovationCenterMembershipPayload,
};
use crate::command::second_headquarters::{
    self as second_headquarters, ArchiveSecondHeadquartersInput, ArchiveSecondHeadquartersPayload,
    CreateSecondHeadquartersInput, CreateSecondHeadquartersPayload, RestoreSecondHeadquartersInput,
    RestoreSecondHeadquartersPayload, UpdateSecondHeadquartersInput, UpdateSecondHeadquartersPayload,
};

/// Parses a lifetime such as `90d`, `12h`, `30m` or `3600s` (also `90days`).
pub fn humantime_like(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a lifetime such as 90d, 12h or 30m"))?;
    let seconds = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return Err(format!("{text:?} is not a lifetime such as 90d, 12h or 30m")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(seconds)))
}

#[cfg(test)]
mod tests {
    use super::humantime_like;

    #[test]
    fn lifetimes_parse_with_units() {
        assert_eq!(humantime_like("90d").map(|d| d.as_secs()), Ok(90 * 86_400));
        assert_eq!(humantime_like("12h").map(|d| d.as_secs()), Ok(12 * 3600));
        assert!(humantime_like("ninety").is_err());
        assert!(humantime_like("5y").is_err());
    }
}
