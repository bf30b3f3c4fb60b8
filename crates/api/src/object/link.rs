//! Edges of links that carry attributes of their own: the attributes sit on the edge,
//! beside `cursor` and `node`, in both directions of the link.

use async_graphql::Object;
use chrono::NaiveDate;
use parkgraph_domain as domain;
use parkgraph_persistence::entity::{enterprise_location, incubation, innovation_center_membership};

use super::vocabulary::{IncubationStatus, LocationRole, MembershipRole};
use super::{Incubator, InnovationCenter, Organization, Park, PartialDate, Provenance};
use crate::connection::EdgeType;
use crate::error::stored;

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

macro_rules! location_edge {
    ($node:ty, $edge:literal, $connection:literal, $doc:literal) => {
        link_edge!(enterprise_location::Model, EnterpriseLocation, $node, $edge, $connection, $doc, {
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

macro_rules! incubation_edge {
    ($node:ty, $edge:literal, $connection:literal, $doc:literal) => {
        link_edge!(incubation::Model, Incubation, $node, $edge, $connection, $doc, {
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
        });
    };
}

location_edge!(
    Organization,
    "ParkEnterpriseEdge",
    "ParkEnterpriseConnection",
    "An enterprise located in a park, with its role there."
);
location_edge!(
    Park,
    "EnterpriseParkEdge",
    "EnterpriseParkConnection",
    "A park an enterprise is located in, with its role there."
);
incubation_edge!(Organization, "IncubateeEdge", "IncubateeConnection", "An enterprise incubated by an incubator.");
incubation_edge!(Incubator, "IncubationEdge", "IncubationConnection", "An incubator that incubated an enterprise.");
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
