//! `Organization`: an enterprise, a university, a research institute …

use async_graphql::{Context, ID, Object, SelectionField};
use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::columns::Columns;
use parkgraph_persistence::entity::{enterprise_location, incubation, innovation_center_membership, organization};
use uuid::Uuid;

use super::link::LinkEdge;
use super::vocabulary::{
    DesignationKind, IncubationStatus, LocationRole, MembershipRole, OrganizationKind, OrganizationStatus,
};
use super::{
    Designation, Figure, Incubator, InnovationCenter, Park, PartialDate, Provenance, SecondHeadquarters,
    keyset_link_page, loaders, plain_page,
};
use crate::connection::{Connection, Edge, Listed, PageArgs};
use crate::error::stored;
use crate::id::{NodeType, encode};
use crate::loader::many;

/// An organization: an enterprise (unicorns among them), a university, a research
/// institute or another body. Enterprises are organizations of kind `ENTERPRISE`.
#[derive(Clone)]
pub struct Organization(pub organization::Model);

impl Organization {
    /// The columns that `fields`, fields asked of organizations, read (see
    /// [`Columns`]): an organization read for them alone holds what they show. A field
    /// not named here reads every column, so a field added later is never shown from a
    /// column left out.
    pub(crate) fn columns<'a>(fields: impl IntoIterator<Item = SelectionField<'a>>) -> Columns<organization::Entity> {
        use organization::Column as C;
        let mut columns = Columns::required();
        for field in fields {
            let read: &[C] = match field.name() {
                // Columns that are always read, and the links (read by the id).
                "__typename"
                | "id"
                | "databaseId"
                | "kind"
                | "nameZh"
                | "status"
                | "createdAt"
                | "updatedAt"
                | "version"
                | "designations"
                | "parks"
                | "incubations"
                | "innovationCenters"
                | "secondHeadquarters"
                | "secondHeadquartersAsLocalEntity"
                | "operatedIncubators"
                | "figures"
                | "history" => &[],
                "nameEn" => &[C::NameEn],
                "legalName" => &[C::LegalName],
                "uscc" => &[C::Uscc],
                "usccWarning" => &[C::UsccWarning],
                "foundedOn" | "foundedDate" => &[C::FoundedOn, C::FoundedOnPrecision],
                "industry" => &[C::Industry],
                "registeredCapitalCny" => &[C::RegisteredCapitalCny],
                "headcount" => &[C::Headcount],
                "website" => &[C::Website],
                "city" => &[C::City],
                "district" => &[C::District],
                "contactName" => &[C::ContactName],
                "contactPhone" => &[C::ContactPhone],
                "contactEmail" => &[C::ContactEmail],
                "staffNotes" => &[C::StaffNotes],
                "provenance" => &[C::SourceName, C::SourceUrl, C::AsOf, C::AsOfPrecision],
                "archivedAt" => &[C::ArchivedAt],
                _ => return Columns::all(),
            };
            columns = read.iter().fold(columns, |columns, column| columns.with(*column));
        }
        columns
    }

    /// The columns the organizations of the connection being resolved read: the fields
    /// asked under its `edges { node }` and its `nodes`.
    pub(crate) fn node_columns(ctx: &Context<'_>) -> Columns<organization::Entity> {
        let connection = ctx.look_ahead();
        let nodes = connection.field("edges").field("node").selection_fields();
        let nodes = nodes.into_iter().chain(connection.field("nodes").selection_fields());
        Self::columns(nodes.flat_map(|node| node.selection_set().collect::<Vec<_>>()))
    }
}

impl Listed for Organization {
    const EDGE: &'static str = "OrganizationEdge";
    const CONNECTION: &'static str = "OrganizationConnection";
}

/// An organization: an enterprise (unicorns among them), a university, a research
/// institute or another body. Enterprises are organizations of kind `ENTERPRISE`.
#[Object]
impl Organization {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        encode(NodeType::Organization, self.0.id)
    }

    /// The record's UUID in the database.
    async fn database_id(&self) -> Uuid {
        self.0.id
    }

    /// Enterprise, university, research institute …
    async fn kind(&self) -> async_graphql::Result<OrganizationKind> {
        Ok(stored::<domain::OrganizationKind>("organization", "kind", &self.0.kind)?.into())
    }

    /// Chinese name in common use: a brand or short name (斗鱼) or the legal name; see
    /// `legalName`.
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }

    /// English name.
    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }

    /// Registered legal name (…有限公司), when known. `nameZh` is the name in common use,
    /// often a brand (斗鱼, 岚图汽车); compare the two to tell which is which.
    async fn legal_name(&self) -> Option<&str> {
        self.0.legal_name.as_deref()
    }

    /// Unified Social Credit Code (统一社会信用代码), validated; empty when not known.
    async fn uscc(&self) -> Option<&str> {
        self.0.uscc.as_deref()
    }

    /// Set when the USCC fails a checksum and was accepted by explicit override (early pilot codes).
    async fn uscc_warning(&self) -> Option<&str> {
        self.0.uscc_warning.as_deref()
    }

    /// Founding date, when known to the day (null when only the year or month is known: see
    /// `foundedDate`).
    async fn founded_on(&self) -> Option<NaiveDate> {
        PartialDate::known_day(self.0.founded_on, &self.0.founded_on_precision)
    }

    /// Founding date, at the precision known (`2017`, `2017-11` or `2017-11-18`).
    async fn founded_date(&self) -> Option<PartialDate> {
        PartialDate::of(self.0.founded_on, &self.0.founded_on_precision)
    }

    /// Industry.
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }

    /// Registered capital in yuan (a float: amounts can exceed 2^31).
    async fn registered_capital_cny(&self) -> Option<f64> {
        self.0.registered_capital_cny.map(|v| v as f64)
    }

    /// Number of employees.
    async fn headcount(&self) -> Option<i32> {
        self.0.headcount
    }

    /// Website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// Whether the organization still operates.
    async fn status(&self) -> async_graphql::Result<OrganizationStatus> {
        Ok(stored::<domain::OrganizationStatus>("organization", "status", &self.0.status)?.into())
    }

    /// City of the registered seat.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }

    /// District.
    async fn district(&self) -> Option<&str> {
        self.0.district.as_deref()
    }

    /// Designations over time (unicorn, gazelle, high-tech enterprise …), oldest first.
    async fn designations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only designations of this kind.")] kind: Option<DesignationKind>,
    ) -> async_graphql::Result<Vec<Designation>> {
        let kind = kind.map(|k| domain::DesignationKind::from(k).code());
        let mut rows: Vec<_> = many(&loaders(ctx)?.designations_of, self.0.id)
            .await?
            .into_iter()
            .filter(|d| kind.is_none_or(|k| d.kind == k))
            .collect();
        rows.sort_by_key(|d| (d.year, d.id));
        Ok(rows.into_iter().map(Designation).collect())
    }

    /// Parks the organization is located in, with its role at each.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)"
    )]
    async fn parks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only locations in this role.")] role: Option<LocationRole>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<LinkEdge<enterprise_location::Model, Park>>> {
        let role = role.map(|r| domain::LocationRole::from(r).code().to_owned());
        keyset_link_page(
            ctx,
            &PageArgs::new(first, after, last, before),
            |l| &l.locations_of_pages,
            vec![self.0.id],
            role,
            &loaders(ctx)?.park,
            |link| link.id,
            |link| link.park_id,
            Park,
            "park",
        )
        .await
    }

    /// Incubators that incubated the organization, with dates and status.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadIncubators)"
    )]
    async fn incubations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only incubations with this status.")] status: Option<IncubationStatus>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<LinkEdge<incubation::Model, Incubator>>> {
        let status = status.map(|s| domain::IncubationStatus::from(s).code().to_owned());
        keyset_link_page(
            ctx,
            &PageArgs::new(first, after, last, before),
            |l| &l.incubations_of_pages,
            vec![self.0.id],
            status,
            &loaders(ctx)?.incubator,
            |link| link.id,
            |link| link.incubator_id,
            Incubator,
            "incubator",
        )
        .await
    }

    /// National innovation centers the organization takes part in, with its role.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadInnovationCenters)"
    )]
    async fn innovation_centers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only memberships in this role.")] role: Option<MembershipRole>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<LinkEdge<innovation_center_membership::Model, InnovationCenter>>> {
        let role = role.map(|r| domain::MembershipRole::from(r).code().to_owned());
        keyset_link_page(
            ctx,
            &PageArgs::new(first, after, last, before),
            |l| &l.memberships_of_pages,
            vec![self.0.id],
            role,
            &loaders(ctx)?.center,
            |link| link.id,
            |link| link.innovation_center_id,
            InnovationCenter,
            "innovation center",
        )
        .await
    }

    /// Second headquarters this organization opened as parent group.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadSecondHeadquarters)"
    )]
    async fn second_headquarters(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<SecondHeadquarters>>> {
        let rows = many(&loaders(ctx)?.second_hqs_of, self.0.id).await?;
        plain_page(&PageArgs::new(first, after, last, before), rows, SecondHeadquarters).await
    }

    /// Second headquarters for which this organization is the local legal entity.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadSecondHeadquarters)"
    )]
    async fn second_headquarters_as_local_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<SecondHeadquarters>>> {
        let rows = many(&loaders(ctx)?.second_hqs_local, self.0.id).await?;
        plain_page(&PageArgs::new(first, after, last, before), rows, SecondHeadquarters).await
    }

    /// Incubators this organization operates.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadIncubators)"
    )]
    async fn operated_incubators(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Incubator>>> {
        let rows = many(&loaders(ctx)?.incubators_operated_by, self.0.id).await?;
        plain_page(&PageArgs::new(first, after, last, before), rows, Incubator).await
    }

    /// Sourced, dated figures about this organization (the robots in its workshop, the
    /// price of its product), by indicator and then newest first.
    #[graphql(complexity = "crate::connection::complexity(first, last, child_complexity)")]
    async fn figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only figures of this indicator (e.g. `welding_robots`).")] indicator: Option<String>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Figure>>> {
        let mut rows: Vec<_> = many(&loaders(ctx)?.figures_about, self.0.id)
            .await?
            .into_iter()
            .filter(|f| indicator.as_deref().is_none_or(|i| f.indicator == i.trim()))
            .collect();
        rows.sort_by(super::figure::order);
        plain_page(&PageArgs::new(first, after, last, before), rows, Figure).await
    }

    /// Contact person. Internal: staff with `read:internal` only.
    #[graphql(guard = "crate::policy::Internal")]
    async fn contact_name(&self) -> Option<&str> {
        self.0.contact_name.as_deref()
    }

    /// Contact telephone. Internal: staff with `read:internal` only.
    #[graphql(guard = "crate::policy::Internal")]
    async fn contact_phone(&self) -> Option<&str> {
        self.0.contact_phone.as_deref()
    }

    /// Contact e-mail. Internal: staff with `read:internal` only.
    #[graphql(guard = "crate::policy::Internal")]
    async fn contact_email(&self) -> Option<&str> {
        self.0.contact_email.as_deref()
    }

    /// Notes by staff. Internal: staff with `read:internal` only.
    #[graphql(guard = "crate::policy::Internal")]
    async fn staff_notes(&self) -> Option<&str> {
        self.0.staff_notes.as_deref()
    }

    /// Where the record's facts come from.
    async fn provenance(&self) -> Provenance {
        Provenance::of(&self.0.source_name, &self.0.source_url, &self.0.as_of, &self.0.as_of_precision)
    }

    /// Every version of this record, oldest first (staff only): who changed it, when, how,
    /// and its fields before and after. Page on with `after: pageInfo.endCursor`.
    #[graphql(
        complexity = "crate::connection::complexity(first, None, child_complexity)",
        guard = "crate::policy::Staff"
    )]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first N versions after `after` (at most 100; 20 when omitted).")] first: Option<i32>,
        #[graphql(desc = "Start after this cursor (from the first version when omitted).")] after: Option<String>,
    ) -> async_graphql::Result<crate::keyset::KeysetPage<super::change::Revision>> {
        super::change::history(ctx, parkgraph_persistence::write::EntityType::Organization, self.0.id, first, after)
            .await
    }

    /// When the record was archived (it left the live registry); null while it is live.
    /// Only staff read archived records, so other callers always see null.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }

    /// When the record was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the record was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The record's version: 1 when created, one more on every change. Send it with an
    /// update, archive or restore; a stale version changes nothing.
    async fn version(&self) -> i32 {
        self.0.version
    }
}
