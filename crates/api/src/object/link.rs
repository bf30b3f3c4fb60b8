//! Edges of links that carry attributes of their own: the attributes sit on the edge,
//! beside `cursor` and `node`, in both directions of the link. A link seen on its own, with
//! both ends (what a link mutation returns), is a [`LinkRecord`].

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain as domain;
use parkgraph_persistence::entity::{enterprise_location, incubation, innovation_center_membership};
use uuid::Uuid;

use super::vocabulary::{IncubationStatus, LocationRole, MembershipRole};
use super::{Incubator, InnovationCenter, Organization, Park, PartialDate, Provenance, dangling, loaders};
use crate::connection::EdgeType;
use crate::error::stored;
use crate::loader::one;

/// An edge whose link row `L` leads to node `N`.
pub struct LinkEdge<L, N> {
    cursor: String,
    link: L,
    node: N,
}

impl<L, N> LinkEdge<L, N> {
    /// An edge.
    pub fn new(cursor: String, link: L, node: N) -> Self {
        Self { cursor, link, node }
    }
}

macro_rules! link_edge {
    ($link:ty, $entity:ident, $node:ty, $edge:literal, $connection:literal, $doc:literal, { $($fields:tt)* }) => {
        #[doc = $doc]
        #[Object(name = $edge)]
        impl LinkEdge<$link, $node> {
            /// Opaque cursor of this edge, for `after` and `before`.
            async fn cursor(&self) -> &str {
                &self.cursor
            }

            /// The record at the other end of the link.
            async fn node(&self) -> &$node {
                &self.node
            }

            /// The link's own id (its UUID, as in the feed's `entityId`): give it to the
            /// link's `update…` and `end…` mutations.
            async fn link_id(&self) -> ID {
                ID(self.link.id.to_string())
            }

            /// The link's version: 1 when added, one more on every change. Send it with an
            /// update or end; a stale version changes nothing.
            async fn version(&self) -> i32 {
                self.link.version
            }

            /// When the link ended (it left the live registry); null while it holds.
            async fn ended_at(&self) -> Option<DateTime<Utc>> {
                self.link.archived_at
            }

            /// Where the link's facts come from.
            async fn provenance(&self) -> Provenance {
                Provenance::of(&self.link.source_name, &self.link.source_url, &self.link.as_of, &self.link.as_of_precision)
            }

            /// When the link was ended (it left the live registry); null while it is live.
            /// Only staff read ended links, so other callers always see null.
            async fn archived_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
                self.link.archived_at
            }

            /// Every version of this link, oldest first (staff only): who changed it, when,
            /// how, and its fields before and after. Page on with `after: pageInfo.endCursor`.
            #[graphql(
                complexity = "crate::connection::complexity(first, None, child_complexity)",
                guard = "crate::policy::Staff"
            )]
            async fn history(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "The first N versions after `after` (at most 100; 20 when omitted).")]
                first: Option<i32>,
                #[graphql(desc = "Start after this cursor (from the first version when omitted).")]
                after: Option<String>,
            ) -> async_graphql::Result<crate::keyset::KeysetPage<super::change::Revision>> {
                super::change::history(ctx, parkgraph_persistence::write::EntityType::$entity, self.link.id, first, after)
                    .await
            }

            $($fields)*
        }

        impl EdgeType for LinkEdge<$link, $node> {
            type Node = $node;
            const CONNECTION: &'static str = $connection;
            fn node(&self) -> &$node {
                &self.node
            }
        }
    };
}

/// The fields of an enterprise location, handed to `$then` (an edge or a record).
macro_rules! location_fields {
    ($then:ident!($($args:tt)*)) => {
        $then!(enterprise_location::Model, EnterpriseLocation, $($args)*, {
            /// What the enterprise does at the park.
            async fn role(&self) -> async_graphql::Result<LocationRole> {
                Ok(stored::<domain::LocationRole>("enterprise_location", "role", &self.link.role)?.into())
            }

            /// Since when, when known to the day (null when only the year or month is known: see
            /// `sinceDate`).
            async fn since(&self) -> Option<NaiveDate> {
                PartialDate::known_day(self.link.since, &self.link.since_precision)
            }

            /// Since when, at the precision known (`2017`, `2017-11` or `2017-11-18`).
            async fn since_date(&self) -> Option<PartialDate> {
                PartialDate::of(self.link.since, &self.link.since_precision)
            }
        });
    };
}

/// The fields of an incubation, handed to `$then` (an edge or a record).
macro_rules! incubation_fields {
    ($then:ident!($($args:tt)*)) => {
        $then!(incubation::Model, Incubation, $($args)*, {
            /// Date the enterprise entered the incubator, when known to the day (null when only the year or month is known: see
            /// `enteredDate`).
            async fn entered_on(&self) -> Option<NaiveDate> {
                PartialDate::known_day(self.link.entered_on, &self.link.entered_on_precision)
            }

            /// Date the enterprise entered the incubator, at the precision known (`2017`, `2017-11` or `2017-11-18`).
            async fn entered_date(&self) -> Option<PartialDate> {
                PartialDate::of(self.link.entered_on, &self.link.entered_on_precision)
            }

            /// Date the enterprise graduated, when known to the day (null when only the year or month is known: see
            /// `graduatedDate`).
            async fn graduated_on(&self) -> Option<NaiveDate> {
                PartialDate::known_day(self.link.graduated_on, &self.link.graduated_on_precision)
            }

            /// Date the enterprise graduated, at the precision known (`2017`, `2017-11` or `2017-11-18`).
            async fn graduated_date(&self) -> Option<PartialDate> {
                PartialDate::of(self.link.graduated_on, &self.link.graduated_on_precision)
            }

            /// Incubating, graduated or exited.
            async fn status(&self) -> async_graphql::Result<IncubationStatus> {
                Ok(stored::<domain::IncubationStatus>("incubation", "status", &self.link.status)?.into())
            }
        });
    };
}

macro_rules! membership_edge {
    ($node:ty, $edge:literal, $connection:literal, $doc:literal) => {
        link_edge!(innovation_center_membership::Model, InnovationCenterMembership, $node, $edge, $connection, $doc, {
            /// The organization's part in the center.
            async fn role(&self) -> async_graphql::Result<MembershipRole> {
                Ok(stored::<domain::MembershipRole>("innovation_center_membership", "role", &self.link.role)?.into())
            }

            /// Date the organization joined, when known to the day (null when only the year or month is known: see
            /// `joinedDate`).
            async fn joined_on(&self) -> Option<NaiveDate> {
                PartialDate::known_day(self.link.joined_on, &self.link.joined_on_precision)
            }

            /// Date the organization joined, at the precision known (`2017`, `2017-11` or `2017-11-18`).
            async fn joined_date(&self) -> Option<PartialDate> {
                PartialDate::of(self.link.joined_on, &self.link.joined_on_precision)
            }

            /// The membership's id (its UUID), for `updateInnovationCenterMembership` and
            /// `endInnovationCenterMembership`.
            async fn membership_id(&self) -> async_graphql::ID {
                async_graphql::ID(self.link.id.to_string())
            }
        });
    };
}

location_fields!(link_edge!(
    Organization,
    "ParkEnterpriseEdge",
    "ParkEnterpriseConnection",
    "An enterprise located in a park, with its role there."
));
location_fields!(link_edge!(
    Park,
    "EnterpriseParkEdge",
    "EnterpriseParkConnection",
    "A park an enterprise is located in, with its role there."
));
incubation_fields!(link_edge!(
    Organization,
    "IncubateeEdge",
    "IncubateeConnection",
    "An enterprise incubated by an incubator."
));
incubation_fields!(link_edge!(
    Incubator,
    "IncubationEdge",
    "IncubationConnection",
    "An incubator that incubated an enterprise."
));
membership_edge!(
    Organization,
    "CenterMemberEdge",
    "CenterMemberConnection",
    "An organization taking part in an innovation center."
);
membership_edge!(
    InnovationCenter,
    "MembershipEdge",
    "MembershipConnection",
    "An innovation center an organization takes part in."
);

/// A link row seen on its own, with both ends: what a link mutation returns.
pub struct LinkRecord<L> {
    link: L,
}

impl<L> LinkRecord<L> {
    /// The record of a stored link row.
    pub fn new(link: L) -> Self {
        Self { link }
    }
}

/// Declares the GraphQL type of a link seen on its own: its id, version, end, both ends
/// (`{ $ends }`), its fields (`{ $fields }`, shared with its edges), provenance and history.
macro_rules! link_record {
    ($link:ty, $entity:ident, $name:literal, $doc:literal, { $($ends:tt)* }, { $($fields:tt)* }) => {
        #[doc = $doc]
        #[Object(name = $name)]
        impl LinkRecord<$link> {
            /// The link's id (its UUID, as in the feed's `entityId`): give it to the link's
            /// `update…` and `end…` mutations.
            async fn id(&self) -> ID {
                ID(self.link.id.to_string())
            }

            /// The link's UUID in the database.
            async fn database_id(&self) -> Uuid {
                self.link.id
            }

            /// The link's version: 1 when added, one more on every change. Send it with an
            /// update or end; a stale version changes nothing.
            async fn version(&self) -> i32 {
                self.link.version
            }

            /// When the link ended (it left the live registry); null while it holds.
            async fn ended_at(&self) -> Option<DateTime<Utc>> {
                self.link.archived_at
            }

            $($ends)*

            $($fields)*

            /// Where the link's facts come from.
            async fn provenance(&self) -> Provenance {
                Provenance::of(&self.link.source_name, &self.link.source_url, &self.link.as_of, &self.link.as_of_precision)
            }

            /// Every version of this link, oldest first (staff only): who changed it, when,
            /// how, and its fields before and after. Page on with `after: pageInfo.endCursor`.
            #[graphql(
                complexity = "crate::connection::complexity(first, None, child_complexity)",
                guard = "crate::policy::Staff"
            )]
            async fn history(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The first N versions after `after` (at most 100; 20 when omitted).")]
                first: Option<i32>,
                #[graphql(desc = "Start after this cursor (from the first version when omitted).")]
                after: Option<String>,
            ) -> async_graphql::Result<crate::keyset::KeysetPage<super::change::Revision>> {
                super::change::history(ctx, parkgraph_persistence::write::EntityType::$entity, self.link.id, first, after)
                    .await
            }

            /// When the link was added.
            async fn created_at(&self) -> DateTime<Utc> {
                self.link.created_at
            }

            /// When the link was last changed.
            async fn updated_at(&self) -> DateTime<Utc> {
                self.link.updated_at
            }
        }
    };
}

/// The organization at one end of a link.
async fn organization_end(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Organization> {
    one(&loaders(ctx)?.organization, id).await?.map(Organization).ok_or_else(|| dangling("organization", id))
}

location_fields!(link_record!(
    "EnterpriseLocation",
    "An enterprise's site in a park (a link), with both ends: what the enterprise-location mutations return.",
    {
        /// The enterprise.
        #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
        async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
            organization_end(ctx, self.link.organization_id).await
        }

        /// The park.
        #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)")]
        async fn park(&self, ctx: &Context<'_>) -> async_graphql::Result<Park> {
            let id = self.link.park_id;
            one(&loaders(ctx)?.park, id).await?.map(Park).ok_or_else(|| dangling("park", id))
        }
    }
));

incubation_fields!(link_record!(
    "Incubation",
    "An enterprise's stay in an incubator (a link), with both ends: what the incubation mutations return.",
    {
        /// The incubated enterprise.
        #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
        async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
            organization_end(ctx, self.link.organization_id).await
        }

        /// The incubator.
        #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadIncubators)")]
        async fn incubator(&self, ctx: &Context<'_>) -> async_graphql::Result<Incubator> {
            let id = self.link.incubator_id;
            one(&loaders(ctx)?.incubator, id).await?.map(Incubator).ok_or_else(|| dangling("incubator", id))
        }
    }
));
