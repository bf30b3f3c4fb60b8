//! `City`: a city as a whole, with its own designations and figures.

use async_graphql::{Context, Object, SimpleObject};
use parkgraph_persistence::entity::city_designation;
use parkgraph_persistence::query::{FigureFilter, ParkFilter, Sort};

use super::{Figure, Park, PartialDate, Provenance};
use crate::connection::{Connection, Edge};
use crate::error::ApiResult;

/// A designation of a city as a whole ("Made in China 2025" pilot city).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct CityDesignation {
    /// The record's UUID in the database: the `id` of `updateCityDesignation` and
    /// `endCityDesignation`.
    pub database_id: uuid::Uuid,
    /// The record's version: 1 when added, one more on every change. Send it with an
    /// update or end; a stale version changes nothing.
    pub version: i32,
    /// Chinese name of the designation.
    pub name_zh: String,
    /// English name of the designation.
    pub name_en: Option<String>,
    /// Who designated the city (State Council, a ministry …).
    pub issuer: Option<String>,
    /// Date designated, when known to the day (see `designatedDate`).
    pub designated_on: Option<chrono::NaiveDate>,
    /// Date designated, at the precision known (`2015`, `2016-11`, …).
    pub designated_date: Option<PartialDate>,
    /// Where the fact comes from.
    pub provenance: Provenance,
    /// When the designation ended (it left the live registry); null while it holds.
    /// Only staff read ended designations, so other callers always see null.
    pub archived_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<city_designation::Model> for CityDesignation {
    fn from(m: city_designation::Model) -> Self {
        Self {
            archived_at: m.archived_at,
            database_id: m.id,
            version: m.version,
            provenance: Provenance::of(&m.source_name, &m.source_url, &m.as_of, &m.as_of_precision),
            designated_on: PartialDate::known_day(m.designated_on, &m.designated_on_precision),
            designated_date: PartialDate::of(m.designated_on, &m.designated_on_precision),
            name_zh: m.name_zh,
            name_en: m.name_en,
            issuer: m.issuer,
        }
    }
}

#[async_graphql::ComplexObject]
impl CityDesignation {
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
            parkgraph_persistence::write::EntityType::CityDesignation,
            self.database_id,
            first,
            after,
        )
        .await
    }
}

/// A city as a whole: the designations whose subject is the city, the figures about it,
/// and its top-level parks.
pub struct City {
    /// The city's name as recorded (e.g. "武汉").
    pub name: String,
}

/// A city as a whole: the designations whose subject is the city, the figures about it,
/// and its top-level parks.
#[Object]
impl City {
    /// The city's name as recorded (e.g. "武汉").
    async fn name(&self) -> &str {
        &self.name
    }

    /// Designations of the city itself, oldest first.
    async fn designations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CityDesignation>> {
        let visibility = super::visibility(ctx)?;
        let rows = crate::query::store(ctx)?.city_designations(&self.name, visibility).await.api()?;
        Ok(rows.into_iter().map(CityDesignation::from).collect())
    }

    /// Figures about the city as a whole (not about one of its parks), by indicator and
    /// then newest first.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)"
    )]
    async fn figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only figures of this indicator (e.g. `second_headquarters`).")] indicator: Option<String>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Figure>>> {
        let filter = FigureFilter {
            city: Some(self.name.clone()),
            city_level_only: true,
            indicator: indicator.map(|i| i.trim().to_string()).filter(|i| !i.is_empty()),
            park_ids: None,
            visibility: super::visibility(ctx)?,
        };
        crate::query::page(crate::query::store(ctx)?.figures(&filter), first, after, last, before, Figure).await
    }

    /// The city's top-level parks (zones), by Chinese name.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)"
    )]
    async fn parks(
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
        let filter = ParkFilter {
            city: Some(self.name.clone()),
            parent: Some(None),
            visibility: super::visibility(ctx)?,
            ..Default::default()
        };
        crate::query::page(crate::query::store(ctx)?.parks(&filter, Sort::default()), first, after, last, before, Park)
            .await
    }
}
