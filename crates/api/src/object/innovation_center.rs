//! `InnovationCenter`: a national manufacturing, technology or industrial innovation center.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::entity::{innovation_center, innovation_center_membership};
use uuid::Uuid;

use super::link::LinkEdge;
use super::vocabulary::{InnovationCenterKind, MembershipRole};
use super::{Organization, Park, PartialDate, Provenance, keyset_link_page, loaders};
use crate::connection::{Connection, Listed, PageArgs};
use crate::error::stored;
use crate::id::{NodeType, encode};
use crate::loader::one;

/// A national innovation center (国家制造业创新中心, 国家技术创新中心, 国家产业创新中心).
#[derive(Clone)]
pub struct InnovationCenter(pub innovation_center::Model);

impl Listed for InnovationCenter {
    const EDGE: &'static str = "InnovationCenterEdge";
    const CONNECTION: &'static str = "InnovationCenterConnection";
}

/// A national innovation center (国家制造业创新中心, 国家技术创新中心, 国家产业创新中心).
#[Object]
impl InnovationCenter {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        encode(NodeType::InnovationCenter, self.0.id)
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

    /// Manufacturing (MIIT), technology (MOST) or industrial (NDRC).
    async fn kind(&self) -> async_graphql::Result<InnovationCenterKind> {
        Ok(stored::<domain::InnovationCenterKind>("innovation_center", "kind", &self.0.kind)?.into())
    }

    /// Field of the center.
    async fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    /// Approving ministry (MIIT, MOST, NDRC).
    async fn ministry(&self) -> &str {
        &self.0.ministry
    }

    /// Approval date, when known to the day (null when only the year or month is known: see
    /// `approvedDate`).
    async fn approved_on(&self) -> Option<NaiveDate> {
        PartialDate::known_day(self.0.approved_on, &self.0.approved_on_precision)
    }

    /// Approval date, at the precision known (`2017`, `2017-11` or `2017-11-18`).
    async fn approved_date(&self) -> Option<PartialDate> {
        PartialDate::of(self.0.approved_on, &self.0.approved_on_precision)
    }

    /// City.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }

    /// The park hosting the center.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)")]
    async fn host_park(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Park>> {
        match self.0.host_park_id {
            Some(id) => Ok(one(&loaders(ctx)?.park, id).await?.map(Park)),
            None => Ok(None),
        }
    }

    /// Organizations taking part, with their role (lead, founding shareholder, member).
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)"
    )]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only members in this role.")] role: Option<MembershipRole>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<LinkEdge<innovation_center_membership::Model, Organization>>> {
        let role = role.map(|r| domain::MembershipRole::from(r).code().to_owned());
        let columns = Organization::node_columns(ctx);
        keyset_link_page(
            ctx,
            &PageArgs::new(first, after, last, before),
            |l| &l.members_of_pages,
            vec![self.0.id],
            role,
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
        super::change::history(ctx, parkgraph_persistence::write::EntityType::InnovationCenter, self.0.id, first, after)
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
