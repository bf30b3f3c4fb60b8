//! `Designation`: an enterprise's designation in a year (unicorn, gazelle …).

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::entity::designation;
use uuid::Uuid;

use super::vocabulary::DesignationKind;
use super::{Organization, Provenance, dangling, loaders};
use crate::connection::Listed;
use crate::error::stored;
use crate::id::{NodeType, encode};
use crate::loader::one;

/// A designation an enterprise holds from a year on: unicorn (with valuation), gazelle,
/// certified high-tech enterprise, Fortune Global 500 …
#[derive(Clone)]
pub struct Designation(pub designation::Model);

impl Listed for Designation {
    const EDGE: &'static str = "DesignationEdge";
    const CONNECTION: &'static str = "DesignationConnection";
}

/// A designation an enterprise holds from a year on: unicorn (with valuation), gazelle,
/// certified high-tech enterprise, Fortune Global 500 …
#[Object]
impl Designation {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        encode(NodeType::Designation, self.0.id)
    }

    /// The record's UUID in the database.
    async fn database_id(&self) -> Uuid {
        self.0.id
    }

    /// The designation.
    async fn kind(&self) -> async_graphql::Result<DesignationKind> {
        Ok(stored::<domain::DesignationKind>("designation", "kind", &self.0.kind)?.into())
    }

    /// Year of the designation (for a unicorn, the year of the list naming it).
    async fn year(&self) -> i32 {
        self.0.year
    }

    /// Valuation in US dollars, for unicorns, when reported.
    async fn valuation_usd(&self) -> Option<f64> {
        self.0.valuation_usd.map(|v| v as f64)
    }

    /// Free-text note.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The enterprise holding the designation.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn enterprise(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        one(&loaders(ctx)?.organization, self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| dangling("organization", self.0.organization_id))
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
        super::change::history(ctx, parkgraph_persistence::write::EntityType::Designation, self.0.id, first, after)
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
    /// update or end; a stale version changes nothing.
    async fn version(&self) -> i32 {
        self.0.version
    }
}
