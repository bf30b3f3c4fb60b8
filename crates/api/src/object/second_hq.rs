//! `SecondHeadquarters`: a parent group's second headquarters in the city.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::entity::second_headquarters;
use uuid::Uuid;

use super::vocabulary::{SecondHqFunction, SecondHqStatus};
use super::{Organization, Park, PartialDate, Provenance, dangling, loaders};
use crate::connection::Listed;
use crate::error::stored;
use crate::id::{NodeType, encode};
use crate::loader::one;

/// A second headquarters (第二总部) that a parent group opens in the city: where, with
/// which local entity, when, how big, doing what, and how far it has got.
#[derive(Clone)]
pub struct SecondHeadquarters(pub second_headquarters::Model);

impl Listed for SecondHeadquarters {
    const EDGE: &'static str = "SecondHeadquartersEdge";
    const CONNECTION: &'static str = "SecondHeadquartersConnection";
}

/// A second headquarters (第二总部) that a parent group opens in the city: where, with
/// which local entity, when, how big, doing what, and how far it has got.
#[Object]
impl SecondHeadquarters {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        encode(NodeType::SecondHeadquarters, self.0.id)
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

    /// The parent group.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        one(&loaders(ctx)?.organization, self.0.parent_id)
            .await?
            .map(Organization)
            .ok_or_else(|| dangling("organization", self.0.parent_id))
    }

    /// The park it is in, when known.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)")]
    async fn park(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Park>> {
        match self.0.park_id {
            Some(id) => Ok(one(&loaders(ctx)?.park, id).await?.map(Park)),
            None => Ok(None),
        }
    }

    /// The local legal entity, when known.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn local_entity(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        match self.0.local_entity_id {
            Some(id) => Ok(one(&loaders(ctx)?.organization, id).await?.map(Organization)),
            None => Ok(None),
        }
    }

    /// City.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }

    /// Date announced or signed, when known to the day (null when only the year or month is known: see
    /// `announcedDate`).
    async fn announced_on(&self) -> Option<NaiveDate> {
        PartialDate::known_day(self.0.announced_on, &self.0.announced_on_precision)
    }

    /// Date announced or signed, at the precision known (`2017`, `2017-11` or `2017-11-18`).
    async fn announced_date(&self) -> Option<PartialDate> {
        PartialDate::of(self.0.announced_on, &self.0.announced_on_precision)
    }

    /// Date opened, when known to the day (null when only the year or month is known: see
    /// `openedDate`).
    async fn opened_on(&self) -> Option<NaiveDate> {
        PartialDate::known_day(self.0.opened_on, &self.0.opened_on_precision)
    }

    /// Date opened, at the precision known (`2017`, `2017-11` or `2017-11-18`).
    async fn opened_date(&self) -> Option<PartialDate> {
        PartialDate::of(self.0.opened_on, &self.0.opened_on_precision)
    }

    /// Planned investment in yuan.
    async fn planned_investment_cny(&self) -> Option<f64> {
        self.0.planned_investment_cny.map(|v| v as f64)
    }

    /// Planned headcount.
    async fn planned_headcount(&self) -> Option<i32> {
        self.0.planned_headcount
    }

    /// Planned floor area in square metres.
    async fn planned_floor_area_m2(&self) -> Option<f64> {
        self.0.planned_floor_area_m2
    }

    /// What it does for the parent group.
    async fn functions(&self) -> async_graphql::Result<Vec<SecondHqFunction>> {
        self.0
            .functions
            .split(',')
            .filter(|f| !f.is_empty())
            .map(|f| stored::<domain::SecondHqFunction>("second_headquarters", "functions", f).map(Into::into))
            .collect()
    }

    /// How far it has got.
    async fn status(&self) -> async_graphql::Result<SecondHqStatus> {
        Ok(stored::<domain::SecondHqStatus>("second_headquarters", "status", &self.0.status)?.into())
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
        super::change::history(
            ctx,
            parkgraph_persistence::write::EntityType::SecondHeadquarters,
            self.0.id,
            first,
            after,
        )
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
