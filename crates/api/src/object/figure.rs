//! `Figure`: a sourced, dated indicator about a park, a city or an organization.

use std::cmp::Ordering;

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::entity::figure;
use uuid::Uuid;

use super::vocabulary::FigureQualifier;
use super::{Organization, Park, PartialDate, Provenance, loaders};
use crate::connection::Listed;
use crate::error::stored;
use crate::loader::one;

/// A sourced, dated figure about a park or a city: "second headquarters in Optics Valley: more
/// than 60, as of 2018-10". Read `value` with `qualifier` and `unit`; `asOf` says when
/// the figure held and `provenance` where it was published.
#[derive(Clone)]
pub struct Figure(pub figure::Model);

impl Listed for Figure {
    const EDGE: &'static str = "FigureEdge";
    const CONNECTION: &'static str = "FigureConnection";
}

/// The order of figure lists: by indicator, then newest first (unknown dates last), then id.
pub fn order(a: &figure::Model, b: &figure::Model) -> Ordering {
    a.indicator
        .cmp(&b.indicator)
        .then_with(|| match (a.as_of, b.as_of) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then(a.id.cmp(&b.id))
}

/// A sourced, dated figure about a park or a city: "second headquarters in Optics Valley: more
/// than 60, as of 2018-10". Read `value` with `qualifier` and `unit`; `asOf` says when
/// the figure held and `provenance` where it was published.
#[Object]
impl Figure {
    /// The record's UUID in the database: the `id` of `updateFigure`, `archiveFigure` and
    /// `restoreFigure`.
    async fn database_id(&self) -> Uuid {
        self.0.id
    }

    /// A stable key for what is counted (`high_tech_enterprises`, `unicorns`,
    /// `second_headquarters`, …), to compare figures across parks and dates.
    async fn indicator(&self) -> &str {
        &self.0.indicator
    }

    /// What is counted, in Chinese (as the source words it).
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }

    /// What is counted, in English.
    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }

    /// The number as the source gives it (read it with `qualifier`).
    async fn value(&self) -> f64 {
        self.0.value
    }

    /// Unit of the value (`enterprises`, `projects`, `CNY`, …).
    async fn unit(&self) -> &str {
        &self.0.unit
    }

    /// How the value relates to the true number: `MORE_THAN` for "60余家", `EXACT` …
    async fn qualifier(&self) -> async_graphql::Result<FigureQualifier> {
        Ok(stored::<domain::FigureQualifier>("figure", "qualifier", &self.0.qualifier)?.into())
    }

    /// The figure as people write it: `more than 60 enterprises`.
    async fn text(&self) -> async_graphql::Result<String> {
        let qualifier = stored::<domain::FigureQualifier>("figure", "qualifier", &self.0.qualifier)?;
        let prefix = match qualifier {
            domain::FigureQualifier::Exact => "",
            domain::FigureQualifier::MoreThan => "more than ",
            domain::FigureQualifier::AtLeast => "at least ",
            domain::FigureQualifier::About => "about ",
            domain::FigureQualifier::LessThan => "less than ",
        };
        Ok(format!("{prefix}{} {}", self.0.value, self.0.unit))
    }

    /// When the figure held, at the precision the source gives (`2019`, `2019-03`, …).
    async fn as_of(&self) -> Option<PartialDate> {
        PartialDate::of(self.0.as_of, &self.0.as_of_precision)
    }

    /// The park the figure is about; null when it is about a whole city.
    async fn park(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Park>> {
        match self.0.park_id {
            Some(id) => Ok(one(&loaders(ctx)?.park, id).await?.map(Park)),
            None => Ok(None),
        }
    }

    /// The organization the figure is about; null for a figure about a park or a city.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        match self.0.organization_id {
            Some(id) => Ok(one(&loaders(ctx)?.organization, id).await?.map(Organization)),
            None => Ok(None),
        }
    }

    /// The city the figure is about (for a park's figure, the park's city).
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }

    /// Where the figure was published.
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
        super::change::history(ctx, parkgraph_persistence::write::EntityType::Figure, self.0.id, first, after).await
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
