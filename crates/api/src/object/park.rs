//! `Park`: a zone, a park within it, an innovation valley or university belt.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::entity::{park, park_designation};
use uuid::Uuid;

use super::link::LinkEdge;
use super::vocabulary::{LocationRole, ParkKind};
use super::{
    Figure, Incubator, InnovationCenter, Organization, PartialDate, Provenance, SecondHeadquarters, keyset_link_page,
    loaders, plain_page,
};
use crate::connection::{Connection, Edge, Listed, PageArgs};
use crate::error::stored;
use crate::id::{NodeType, encode};
use crate::loader::{each, many, many_of, one, tree};

/// A park: a national high-tech zone, a park within it, an innovation valley, a
/// university innovation belt … Parks nest: a zone contains parks.
#[derive(Clone)]
pub struct Park(pub park::Model);

/// A designation of a park (for example a national industrial base).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ParkDesignation {
    /// The record's UUID in the database: the `id` of `updateParkDesignation` and
    /// `endParkDesignation`.
    pub database_id: uuid::Uuid,
    /// The record's version: 1 when added, one more on every change. Send it with an
    /// update or end; a stale version changes nothing.
    pub version: i32,
    /// Chinese name of the designation.
    pub name_zh: String,
    /// English name of the designation.
    pub name_en: Option<String>,
    /// Date designated, when known to the day (null when only the year or month is known:
    /// see `designatedDate`).
    pub designated_on: Option<NaiveDate>,
    /// Date designated, at the precision known (`1991`, `2017-11` or `2017-11-18`).
    pub designated_date: Option<PartialDate>,
    /// Where the fact comes from.
    pub provenance: Provenance,
    /// When the designation ended (it left the live registry); null while it holds.
    /// Only staff read ended designations, so other callers always see null.
    pub archived_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<park_designation::Model> for ParkDesignation {
    fn from(m: park_designation::Model) -> Self {
        Self {
            archived_at: m.archived_at,
            database_id: m.id,
            version: m.version,
            provenance: Provenance::of(&m.source_name, &m.source_url, &m.as_of, &m.as_of_precision),
            name_zh: m.name_zh,
            name_en: m.name_en,
            designated_on: PartialDate::known_day(m.designated_on, &m.designated_on_precision),
            designated_date: PartialDate::of(m.designated_on, &m.designated_on_precision),
        }
    }
}

#[async_graphql::ComplexObject]
impl ParkDesignation {
    /// Every version of this designation, oldest first (staff only): who changed it, when,
    /// how, and its fields before and after. Page on with `after: pageInfo.endCursor`.
    #[graphql(
        complexity = "crate::connection::complexity(first, None, child_complexity)",
        guard = "crate::policy::Staff"
    )]
    async fn history(
        &self,
        ctx: &async_graphql::Context<'_>,
        #[graphql(desc = "The first N versions after `after` (at most 100; 20 when omitted).")] first: Option<i32>,
        #[graphql(desc = "Start after this cursor (from the first version when omitted).")] after: Option<String>,
    ) -> async_graphql::Result<crate::keyset::KeysetPage<super::change::Revision>> {
        super::change::history(
            ctx,
            parkgraph_persistence::write::EntityType::ParkDesignation,
            self.database_id,
            first,
            after,
        )
        .await
    }
}

impl Listed for Park {
    const EDGE: &'static str = "ParkEdge";
    const CONNECTION: &'static str = "ParkConnection";
}

/// A point on the map (WGS-84).
#[derive(SimpleObject, Clone, Copy)]
pub struct Coordinates {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
}

impl Park {
    /// This park alone, or with all its descendants.
    async fn scope(&self, ctx: &Context<'_>, include_sub_parks: bool) -> async_graphql::Result<Vec<Uuid>> {
        if include_sub_parks { Ok(tree(loaders(ctx)?).await?.subtree(self.0.id)) } else { Ok(vec![self.0.id]) }
    }
}

/// A park: a national high-tech zone, a park within it, an innovation valley, a
/// university innovation belt … Parks nest: a zone contains parks.
#[Object]
impl Park {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        encode(NodeType::Park, self.0.id)
    }

    /// The record's UUID in the database.
    async fn database_id(&self) -> Uuid {
        self.0.id
    }

    /// Chinese name.
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }

    /// English name.
    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }

    /// What kind of area this is.
    async fn kind(&self) -> async_graphql::Result<ParkKind> {
        Ok(stored::<domain::ParkKind>("park", "kind", &self.0.kind)?.into())
    }

    /// City.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }

    /// District.
    async fn district(&self) -> Option<&str> {
        self.0.district.as_deref()
    }

    /// Street address.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }

    /// Location on the map, when known.
    async fn coordinates(&self) -> Option<Coordinates> {
        match (self.0.latitude, self.0.longitude) {
            (Some(latitude), Some(longitude)) => Some(Coordinates { latitude, longitude }),
            _ => None,
        }
    }

    /// Area in square kilometres.
    async fn area_km2(&self) -> Option<f64> {
        self.0.area_km2
    }

    /// Date established, when known to the day (null when only the year or month is known: see
    /// `establishedDate`).
    async fn established_on(&self) -> Option<NaiveDate> {
        PartialDate::known_day(self.0.established_on, &self.0.established_on_precision)
    }

    /// Date established, at the precision known (`2017`, `2017-11` or `2017-11-18`).
    async fn established_date(&self) -> Option<PartialDate> {
        PartialDate::of(self.0.established_on, &self.0.established_on_precision)
    }

    /// National and provincial designations (national industrial bases, …).
    async fn designations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ParkDesignation>> {
        let rows = many(&loaders(ctx)?.park_designations, self.0.id).await?;
        Ok(rows.into_iter().map(ParkDesignation::from).collect())
    }

    /// The park containing this one.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Park>> {
        match self.0.parent_id {
            Some(parent) => Ok(one(&loaders(ctx)?.park, parent).await?.map(Park)),
            None => Ok(None),
        }
    }

    /// Every park containing this one, nearest first.
    async fn ancestors(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Park>> {
        let l = loaders(ctx)?;
        let ids = tree(l).await?.ancestors(self.0.id);
        Ok(each(&l.park, &ids).await?.into_iter().flatten().map(Park).collect())
    }

    /// Parks directly inside this one, by Chinese name.
    #[graphql(complexity = "crate::connection::complexity(first, last, child_complexity)")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Park>>> {
        let mut rows = many(&loaders(ctx)?.park_children, self.0.id).await?;
        rows.sort_by(|a, b| a.name_zh.cmp(&b.name_zh).then(a.id.cmp(&b.id)));
        plain_page(&PageArgs::new(first, after, last, before), rows, Park).await
    }

    /// Enterprises located in this park (and, with `includeSubParks`, in the parks inside
    /// it), with their role there; one edge per location, in the order recorded.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn enterprises(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only locations in this role.")] role: Option<LocationRole>,
        #[graphql(desc = "Include enterprises in all parks inside this one.", default = false)] include_sub_parks: bool,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<
        Connection<LinkEdge<parkgraph_persistence::entity::enterprise_location::Model, Organization>>,
    > {
        let scope = self.scope(ctx, include_sub_parks).await?;
        let role = role.map(|r| domain::LocationRole::from(r).code().to_owned());
        let columns = Organization::node_columns(ctx);
        keyset_link_page(
            ctx,
            &PageArgs::new(first, after, last, before),
            |l| &l.locations_in_pages,
            scope,
            role,
            &loaders(ctx)?.organization_picked,
            |link| link.id,
            |link| (link.organization_id, columns),
            Organization,
            "organization",
        )
        .await
    }

    /// Incubators in this park (with `includeSubParks`, also in the parks inside it).
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadIncubators)"
    )]
    async fn incubators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Include incubators in all parks inside this one.", default = false)] include_sub_parks: bool,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Incubator>>> {
        let scope = self.scope(ctx, include_sub_parks).await?;
        let rows = many_of(&loaders(ctx)?.incubators_in, &scope).await?;
        plain_page(&PageArgs::new(first, after, last, before), rows, Incubator).await
    }

    /// Second headquarters in this park (with `includeSubParks`, also in the parks inside it).
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadSecondHeadquarters)"
    )]
    async fn second_headquarters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Include second headquarters in all parks inside this one.", default = false)]
        include_sub_parks: bool,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<SecondHeadquarters>>> {
        let scope = self.scope(ctx, include_sub_parks).await?;
        let rows = many_of(&loaders(ctx)?.second_hqs_in, &scope).await?;
        plain_page(&PageArgs::new(first, after, last, before), rows, SecondHeadquarters).await
    }

    /// National innovation centers hosted in this park (with `includeSubParks`, also in the parks inside it).
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadInnovationCenters)"
    )]
    async fn innovation_centers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Include centers in all parks inside this one.", default = false)] include_sub_parks: bool,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<InnovationCenter>>> {
        let scope = self.scope(ctx, include_sub_parks).await?;
        let rows = many_of(&loaders(ctx)?.centers_in, &scope).await?;
        plain_page(&PageArgs::new(first, after, last, before), rows, InnovationCenter).await
    }

    /// Sourced, dated figures about this park (with `includeSubParks`, also about the parks
    /// inside it), by indicator and then newest first.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only figures of this indicator (e.g. `second_headquarters`).")] indicator: Option<String>,
        #[graphql(desc = "Include figures about all parks inside this one.", default = false)] include_sub_parks: bool,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Figure>>> {
        let scope = self.scope(ctx, include_sub_parks).await?;
        let mut rows: Vec<_> = many_of(&loaders(ctx)?.figures_of, &scope)
            .await?
            .into_iter()
            .filter(|f| indicator.as_deref().is_none_or(|i| f.indicator == i.trim()))
            .collect();
        rows.sort_by(super::figure::order);
        plain_page(&PageArgs::new(first, after, last, before), rows, Figure).await
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
        super::change::history(ctx, parkgraph_persistence::write::EntityType::Park, self.0.id, first, after).await
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
