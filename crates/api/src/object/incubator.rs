//! `Incubator`: an incubator, makerspace or accelerator.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::entity::{incubation, incubator};
use uuid::Uuid;

use super::link::LinkEdge;
use super::vocabulary::{IncubationStatus, IncubatorKind, IncubatorLevel};
use super::{Organization, Park, PartialDate, Provenance, keyset_link_page, loaders};
use crate::connection::{Connection, Listed, PageArgs};
use crate::error::stored;
use crate::id::{NodeType, encode};
use crate::loader::one;

/// An incubator (孵化器), makerspace (众创空间) or accelerator (加速器).
#[derive(Clone)]
pub struct Incubator(pub incubator::Model);

impl Listed for Incubator {
    const EDGE: &'static str = "IncubatorEdge";
    const CONNECTION: &'static str = "IncubatorConnection";
}

/// An incubator (孵化器), makerspace (众创空间) or accelerator (加速器).
#[Object]
impl Incubator {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        encode(NodeType::Incubator, self.0.id)
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

    /// Incubator, makerspace or accelerator.
    async fn kind(&self) -> async_graphql::Result<IncubatorKind> {
        Ok(stored::<domain::IncubatorKind>("incubator", "kind", &self.0.kind)?.into())
    }

    /// National, provincial or municipal recognition.
    async fn level(&self) -> async_graphql::Result<Option<IncubatorLevel>> {
        match &self.0.level {
            Some(level) => Ok(Some(stored::<domain::IncubatorLevel>("incubator", "level", level)?.into())),
            None => Ok(None),
        }
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

    /// The park the incubator is in.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)")]
    async fn park(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Park>> {
        match self.0.park_id {
            Some(id) => Ok(one(&loaders(ctx)?.park, id).await?.map(Park)),
            None => Ok(None),
        }
    }

    /// The organization operating the incubator.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn operator(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        match self.0.operator_id {
            Some(id) => Ok(one(&loaders(ctx)?.organization, id).await?.map(Organization)),
            None => Ok(None),
        }
    }

    /// Enterprises incubated here, with dates and status.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)"
    )]
    async fn incubatees(
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
    ) -> async_graphql::Result<Connection<LinkEdge<incubation::Model, Organization>>> {
        let status = status.map(|s| domain::IncubationStatus::from(s).code().to_owned());
        let columns = Organization::node_columns(ctx);
        keyset_link_page(
            ctx,
            &PageArgs::new(first, after, last, before),
            |l| &l.incubations_at_pages,
            vec![self.0.id],
            status,
            &loaders(ctx)?.organization_picked,
            |link| link.id,
            |link| (link.organization_id, columns),
            Organization,
            "organization",
        )
        .await
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
        super::change::history(ctx, parkgraph_persistence::write::EntityType::Incubator, self.0.id, first, after).await
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
