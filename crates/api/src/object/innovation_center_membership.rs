//! `InnovationCenterMembership`: one organization's membership of an innovation center, as
//! the membership mutations return it (the `members` and `memberships` edges show the
//! same link from either end).

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::entity::innovation_center_membership;
use uuid::Uuid;

use super::vocabulary::MembershipRole;
use super::{InnovationCenter, Organization, PartialDate, Provenance, dangling, loaders};
use crate::error::stored;
use crate::loader::one;

/// An organization's membership of an innovation center (a link): its role, when it
/// joined, and, once ended, when it ended.
#[derive(Clone)]
pub struct InnovationCenterMembership(pub innovation_center_membership::Model);

/// An organization's membership of an innovation center (a link): its role, when it
/// joined, and, once ended, when it ended.
#[Object]
impl InnovationCenterMembership {
    /// The membership's id: its UUID, as `changes` gives it in `entityId` (links have no
    /// global id). Send it to `updateInnovationCenterMembership` and
    /// `endInnovationCenterMembership`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The membership's UUID in the database.
    async fn database_id(&self) -> Uuid {
        self.0.id
    }

    /// The innovation center.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadInnovationCenters)")]
    async fn innovation_center(&self, ctx: &Context<'_>) -> async_graphql::Result<InnovationCenter> {
        one(&loaders(ctx)?.center, self.0.innovation_center_id)
            .await?
            .map(InnovationCenter)
            .ok_or_else(|| dangling("innovation center", self.0.innovation_center_id))
    }

    /// The member organization.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        one(&loaders(ctx)?.organization, self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| dangling("organization", self.0.organization_id))
    }

    /// The organization's part in the center.
    async fn role(&self) -> async_graphql::Result<MembershipRole> {
        Ok(stored::<domain::MembershipRole>("innovation_center_membership", "role", &self.0.role)?.into())
    }

    /// Date the organization joined, when known to the day (null when only the year or
    /// month is known: see `joinedDate`).
    async fn joined_on(&self) -> Option<NaiveDate> {
        PartialDate::known_day(self.0.joined_on, &self.0.joined_on_precision)
    }

    /// Date the organization joined, at the precision known (`2017`, `2017-11` or
    /// `2017-11-18`).
    async fn joined_date(&self) -> Option<PartialDate> {
        PartialDate::of(self.0.joined_on, &self.0.joined_on_precision)
    }

    /// When the membership was ended (it left the live registry); null while it is live.
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }

    /// Where the link's facts come from.
    async fn provenance(&self) -> Provenance {
        Provenance::of(&self.0.source_name, &self.0.source_url, &self.0.as_of, &self.0.as_of_precision)
    }

    /// Every version of this link, oldest first (staff only): who changed it, when, how,
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
            parkgraph_persistence::write::EntityType::InnovationCenterMembership,
            self.0.id,
            first,
            after,
        )
        .await
    }

    /// When the link was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the link was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The link's version: 1 when added, one more on every change. Send it with an update
    /// or an end; a stale version changes nothing.
    async fn version(&self) -> i32 {
        self.0.version
    }
}
