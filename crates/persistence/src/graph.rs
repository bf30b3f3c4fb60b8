//! The registry as a graph: records are nodes, links and references are typed edges.
//! [`Store::neighborhood`] walks out from one record; [`Store::connections`] finds the
//! shortest paths between two.
//!
//! Both walk breadth-first, a hop at a time: each hop reads the edges touching the whole
//! frontier with one statement per edge table (`IN` lists of the frontier's ids, never a
//! statement per node), then the records newly reached with one statement per record kind
//! (their labels, and the read's [`Visibility`]: an edge is kept only when both its ends
//! are records the read sees, and links are read through their [`Live`](crate::query::Live)
//! condition). Only the edge types asked for and the node kinds the caller may read are
//! followed.
//!
//! Bounds: at most [`GraphOptions::max_nodes`] nodes are reached, and each edge statement
//! reads at most that many rows; a walk that hits either bound stops growing and says so
//! (`truncated`).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::entity::{
    designation, enterprise_location, incubation, incubator, innovation_center, innovation_center_membership,
    organization, park, second_headquarters,
};
use crate::query::{Visibility, visible};
use crate::{Store, StoreError};

/// The kinds of records that are nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    /// A park.
    Park,
    /// An organization.
    Organization,
    /// An incubator.
    Incubator,
    /// A national innovation center.
    InnovationCenter,
    /// A second headquarters.
    SecondHeadquarters,
    /// A designation held by an organization.
    Designation,
}

/// A node: a record's kind and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeRef {
    /// The record's kind.
    pub kind: NodeKind,
    /// The record's id.
    pub id: Uuid,
}

impl NodeRef {
    /// The node of a record.
    pub fn new(kind: NodeKind, id: Uuid) -> Self {
        Self { kind, id }
    }
}

/// The types of edges, each directed from the record that holds the link or reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeType {
    /// Organization → park it is located in (an enterprise location; role, since).
    LocatedIn,
    /// Park → the park it lies in.
    ParkParent,
    /// Organization → incubator (an incubation; status as role, entered as since).
    IncubatedBy,
    /// Organization → innovation center it is a member of (role, joined as since).
    MemberOf,
    /// Innovation center → its host park; incubator → its park.
    HostedIn,
    /// Organization → a designation it holds.
    Designated,
    /// Second headquarters → its parent group.
    SecondHqOf,
    /// Second headquarters → its park.
    SecondHqIn,
    /// Operator organization → the incubator it operates.
    Operates,
}

impl EdgeType {
    /// Every edge type.
    pub const ALL: [Self; 9] = [
        Self::LocatedIn,
        Self::ParkParent,
        Self::IncubatedBy,
        Self::MemberOf,
        Self::HostedIn,
        Self::Designated,
        Self::SecondHqOf,
        Self::SecondHqIn,
        Self::Operates,
    ];

    /// The (from, to) node kinds edges of this type join.
    pub fn ends(self) -> &'static [(NodeKind, NodeKind)] {
        use NodeKind as K;
        match self {
            Self::LocatedIn => &[(K::Organization, K::Park)],
            Self::ParkParent => &[(K::Park, K::Park)],
            Self::IncubatedBy => &[(K::Organization, K::Incubator)],
            Self::MemberOf => &[(K::Organization, K::InnovationCenter)],
            Self::HostedIn => &[(K::InnovationCenter, K::Park), (K::Incubator, K::Park)],
            Self::Designated => &[(K::Organization, K::Designation)],
            Self::SecondHqOf => &[(K::SecondHeadquarters, K::Organization)],
            Self::SecondHqIn => &[(K::SecondHeadquarters, K::Park)],
            Self::Operates => &[(K::Organization, K::Incubator)],
        }
    }
}

/// A typed, directed edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The type.
    pub kind: EdgeType,
    /// Where it starts.
    pub from: NodeRef,
    /// Where it ends.
    pub to: NodeRef,
    /// The link row's id, for edges that are links (locations, incubations, memberships).
    pub link_id: Option<Uuid>,
    /// The link's role (location role, membership role) or an incubation's status.
    pub role: Option<String>,
    /// Since when (location since, incubation entered, membership joined).
    pub since: Option<NaiveDate>,
    /// The precision code of `since`.
    pub since_precision: Option<String>,
}

impl Edge {
    fn plain(kind: EdgeType, from: NodeRef, to: NodeRef) -> Self {
        Self { kind, from, to, link_id: None, role: None, since: None, since_precision: None }
    }

    fn other(&self, node: NodeRef) -> NodeRef {
        if self.from == node { self.to } else { self.from }
    }

    fn key(&self) -> (EdgeType, NodeRef, NodeRef, Option<Uuid>) {
        (self.kind, self.from, self.to, self.link_id)
    }
}

/// A node reached, with its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node.
    pub node: NodeRef,
    /// Chinese name (a designation's is its kind code and year, e.g. `UNICORN 2018`).
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Hops from where the walk started.
    pub depth: u32,
}

/// What a walk follows and how far it may grow.
#[derive(Debug, Clone)]
pub struct GraphOptions {
    /// Live records only, or archived ones too.
    pub visibility: Visibility,
    /// The edge types followed.
    pub types: Vec<EdgeType>,
    /// The node kinds the caller may read; edges to other kinds are not followed.
    pub kinds: Vec<NodeKind>,
    /// The most nodes a walk reaches (and the most rows one edge statement reads).
    pub max_nodes: usize,
}

impl GraphOptions {
    /// True when edges of `kind` between these kinds of nodes are followed.
    fn follows(&self, kind: EdgeType, from: NodeKind, to: NodeKind) -> bool {
        self.types.contains(&kind) && self.kinds.contains(&from) && self.kinds.contains(&to)
    }

    fn follows_any(&self, kind: EdgeType) -> bool {
        kind.ends().iter().any(|(from, to)| self.follows(kind, *from, *to))
    }
}

/// The nodes and edges around a record.
#[derive(Debug, Clone, Default)]
pub struct Neighborhood {
    /// The nodes, the starting record first, then by hops.
    pub nodes: Vec<NodeInfo>,
    /// The edges between them.
    pub edges: Vec<Edge>,
    /// True when a bound stopped the walk before it went as far as asked.
    pub truncated: bool,
}

/// One path: `nodes[0]` is where it starts, and `edges[i]` joins `nodes[i]` and
/// `nodes[i + 1]` (in the edge's own direction, which may run either way).
#[derive(Debug, Clone, Default)]
pub struct GraphPath {
    /// The nodes, from the start to the end.
    pub nodes: Vec<NodeInfo>,
    /// The edges along it.
    pub edges: Vec<Edge>,
}

/// The shortest paths between two records.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// The paths, all of the shortest length found (none when there is none within reach).
    pub paths: Vec<GraphPath>,
    /// True when a bound stopped the search (a path may exist beyond it).
    pub truncated: bool,
    /// Nodes reached by the search.
    pub visited: usize,
}

/// The ids of a frontier, by kind.
#[derive(Default)]
struct Frontier {
    parks: Vec<Uuid>,
    organizations: Vec<Uuid>,
    incubators: Vec<Uuid>,
    centers: Vec<Uuid>,
    second_hqs: Vec<Uuid>,
    designations: Vec<Uuid>,
}

impl Frontier {
    fn of(nodes: &[NodeRef]) -> Self {
        let mut f = Self::default();
        for node in nodes {
            let list = match node.kind {
                NodeKind::Park => &mut f.parks,
                NodeKind::Organization => &mut f.organizations,
                NodeKind::Incubator => &mut f.incubators,
                NodeKind::InnovationCenter => &mut f.centers,
                NodeKind::SecondHeadquarters => &mut f.second_hqs,
                NodeKind::Designation => &mut f.designations,
            };
            list.push(node.id);
        }
        f
    }
}

/// `column IN ids` added to an `any` condition when there are ids (and `when` holds).
fn any_in(cond: Condition, when: bool, column: impl ColumnTrait, ids: &[Uuid]) -> Condition {
    if when && !ids.is_empty() { cond.add(column.is_in(ids.to_vec())) } else { cond }
}

/// Reads the rows of `E` that `any` selects (nothing when it is empty), in id order, at
/// most `limit`; true when more were there.
async fn rows<E>(
    store: &Store,
    any: Condition,
    visibility: Visibility,
    id: E::Column,
    limit: usize,
) -> Result<(Vec<E::Model>, bool), StoreError>
where
    E: crate::query::Live,
{
    if any.is_empty() {
        return Ok((Vec::new(), false));
    }
    let mut found = E::find()
        .filter(visible::<E>(visibility))
        .filter(any)
        .order_by_asc(id)
        .limit(limit as u64 + 1)
        .all(store.conn())
        .await?;
    let more = found.len() > limit;
    found.truncate(limit);
    Ok((found, more))
}

/// The state of one walk.
struct Walk<'a> {
    store: &'a Store,
    options: &'a GraphOptions,
    nodes: HashMap<NodeRef, NodeInfo>,
    order: Vec<NodeRef>,
    edges: Vec<Edge>,
    edge_keys: HashSet<(EdgeType, NodeRef, NodeRef, Option<Uuid>)>,
    truncated: bool,
}

impl<'a> Walk<'a> {
    /// A walk from `start`; `NotFound` when the read does not see it.
    async fn start(store: &'a Store, options: &'a GraphOptions, start: NodeRef) -> Result<Self, StoreError> {
        let mut walk = Self {
            store,
            options,
            nodes: HashMap::new(),
            order: Vec::new(),
            edges: Vec::new(),
            edge_keys: HashSet::new(),
            truncated: false,
        };
        let mut found = store.graph_nodes(&[start], options.visibility, 0).await?;
        let info =
            found.remove(&start).ok_or_else(|| StoreError::NotFound(format!("no record has id {}", start.id)))?;
        walk.nodes.insert(start, info);
        walk.order.push(start);
        Ok(walk)
    }

    /// One hop out of `frontier` (nodes at `depth - 1`): adds the nodes newly reached
    /// (returned, in the order found) and every edge touching the frontier whose both
    /// ends are reached. Returns the new nodes and the edges kept, with their index.
    async fn hop(&mut self, frontier: &[NodeRef], depth: u32) -> Result<(Vec<NodeRef>, Vec<usize>), StoreError> {
        let (candidates, more) = self.store.adjacent(frontier, self.options).await?;
        self.truncated |= more;
        let in_frontier: HashSet<NodeRef> = frontier.iter().copied().collect();
        let touching: Vec<Edge> =
            candidates.into_iter().filter(|e| in_frontier.contains(&e.from) || in_frontier.contains(&e.to)).collect();
        let mut unknown = Vec::new();
        let mut seen = HashSet::new();
        for edge in &touching {
            for end in [edge.from, edge.to] {
                if !self.nodes.contains_key(&end) && seen.insert(end) {
                    unknown.push(end);
                }
            }
        }
        let mut loaded = self.store.graph_nodes(&unknown, self.options.visibility, depth).await?;
        let mut new = Vec::new();
        for node in unknown {
            let Some(info) = loaded.remove(&node) else { continue };
            if self.nodes.len() >= self.options.max_nodes {
                self.truncated = true;
                break;
            }
            self.nodes.insert(node, info);
            self.order.push(node);
            new.push(node);
        }
        let mut kept = Vec::new();
        for edge in touching {
            if self.nodes.contains_key(&edge.from)
                && self.nodes.contains_key(&edge.to)
                && self.edge_keys.insert(edge.key())
            {
                kept.push(self.edges.len());
                self.edges.push(edge);
            }
        }
        Ok((new, kept))
    }
}

impl Store {
    /// The nodes within `hops` of `start` and the edges between them (see the module
    /// documentation for bounds). `NotFound` when the read does not see `start`.
    pub async fn neighborhood(
        &self,
        start: NodeRef,
        hops: u32,
        options: &GraphOptions,
    ) -> Result<Neighborhood, StoreError> {
        let mut walk = Walk::start(self, options, start).await?;
        let mut frontier = vec![start];
        for depth in 1..=hops {
            if frontier.is_empty() || walk.truncated {
                break;
            }
            frontier = walk.hop(&frontier, depth).await?.0;
        }
        let Walk { mut nodes, order, edges, truncated, .. } = walk;
        Ok(Neighborhood { nodes: order.iter().filter_map(|n| nodes.remove(n)).collect(), edges, truncated })
    }

    /// Up to `first` shortest paths from `from` to `to` of at most `max_hops` edges.
    /// `NotFound` when the read does not see `from`; no paths when `to` is out of reach
    /// (or not seen).
    pub async fn connections(
        &self,
        from: NodeRef,
        to: NodeRef,
        max_hops: u32,
        first: usize,
        options: &GraphOptions,
    ) -> Result<Paths, StoreError> {
        let mut walk = Walk::start(self, options, from).await?;
        if from == to {
            let nodes = walk.nodes.remove(&from).into_iter().collect();
            return Ok(Paths { paths: vec![GraphPath { nodes, edges: Vec::new() }], truncated: false, visited: 1 });
        }
        // For each node reached, the edges that reach it from the hop before.
        let mut reached_by: HashMap<NodeRef, Vec<usize>> = HashMap::new();
        let mut frontier = vec![from];
        let mut found = false;
        for depth in 1..=max_hops {
            if frontier.is_empty() {
                break;
            }
            let (new, kept) = walk.hop(&frontier, depth).await?;
            let new_set: HashSet<NodeRef> = new.iter().copied().collect();
            let previous: HashSet<NodeRef> = frontier.iter().copied().collect();
            for index in kept {
                let edge = &walk.edges[index];
                for (near, far) in [(edge.from, edge.to), (edge.to, edge.from)] {
                    if previous.contains(&near) && new_set.contains(&far) {
                        reached_by.entry(far).or_default().push(index);
                    }
                }
            }
            if new_set.contains(&to) {
                found = true;
                break;
            }
            if walk.truncated {
                break;
            }
            frontier = new;
        }
        let mut paths = Vec::new();
        if found {
            // Walk back from `to` along the edges that reached each node, depth-first.
            let mut stack: Vec<(NodeRef, Vec<usize>)> = vec![(to, Vec::new())];
            while let Some((node, trail)) = stack.pop() {
                if paths.len() >= first {
                    break;
                }
                if node == from {
                    let edges: Vec<Edge> = trail.iter().rev().map(|i| walk.edges[*i].clone()).collect();
                    let mut nodes = vec![from];
                    for edge in &edges {
                        let last = nodes[nodes.len() - 1];
                        nodes.push(edge.other(last));
                    }
                    let nodes = nodes.iter().filter_map(|n| walk.nodes.get(n).cloned()).collect();
                    paths.push(GraphPath { nodes, edges });
                    continue;
                }
                for index in reached_by.get(&node).into_iter().flatten().rev() {
                    let mut next = trail.clone();
                    next.push(*index);
                    stack.push((walk.edges[*index].other(node), next));
                }
            }
        }
        Ok(Paths { paths, truncated: walk.truncated && !found, visited: walk.nodes.len() })
    }

    /// The edges touching `frontier` that `options` follows: one statement per edge table.
    /// True when a statement had more rows than `max_nodes`.
    async fn adjacent(&self, frontier: &[NodeRef], options: &GraphOptions) -> Result<(Vec<Edge>, bool), StoreError> {
        use EdgeType as T;
        use NodeKind as K;
        let f = Frontier::of(frontier);
        let vis = options.visibility;
        let limit = options.max_nodes;
        let mut edges = Vec::new();
        let mut more = false;
        let org = |id| NodeRef::new(K::Organization, id);
        let park_node = |id| NodeRef::new(K::Park, id);

        if options.follows_any(T::LocatedIn) {
            use enterprise_location::Column as C;
            let any = any_in(Condition::any(), true, C::OrganizationId, &f.organizations);
            let any = any_in(any, true, C::ParkId, &f.parks);
            let (found, m) = rows::<enterprise_location::Entity>(self, any, vis, C::Id, limit).await?;
            more |= m;
            edges.extend(found.into_iter().map(|r| Edge {
                kind: T::LocatedIn,
                from: org(r.organization_id),
                to: park_node(r.park_id),
                link_id: Some(r.id),
                role: Some(r.role),
                since: r.since,
                since_precision: r.since_precision,
            }));
        }
        if options.follows_any(T::ParkParent) && !f.parks.is_empty() {
            use park::Column as C;
            let any = Condition::any().add(C::Id.is_in(f.parks.clone())).add(C::ParentId.is_in(f.parks.clone()));
            let (found, m) = rows::<park::Entity>(self, any, vis, C::Id, limit).await?;
            more |= m;
            edges.extend(found.into_iter().filter_map(|r| {
                r.parent_id.map(|parent| Edge::plain(T::ParkParent, park_node(r.id), park_node(parent)))
            }));
        }
        if options.follows_any(T::IncubatedBy) {
            use incubation::Column as C;
            let any = any_in(Condition::any(), true, C::OrganizationId, &f.organizations);
            let any = any_in(any, true, C::IncubatorId, &f.incubators);
            let (found, m) = rows::<incubation::Entity>(self, any, vis, C::Id, limit).await?;
            more |= m;
            edges.extend(found.into_iter().map(|r| Edge {
                kind: T::IncubatedBy,
                from: org(r.organization_id),
                to: NodeRef::new(K::Incubator, r.incubator_id),
                link_id: Some(r.id),
                role: Some(r.status),
                since: r.entered_on,
                since_precision: r.entered_on_precision,
            }));
        }
        if options.follows_any(T::MemberOf) {
            use innovation_center_membership::Column as C;
            let any = any_in(Condition::any(), true, C::OrganizationId, &f.organizations);
            let any = any_in(any, true, C::InnovationCenterId, &f.centers);
            let (found, m) = rows::<innovation_center_membership::Entity>(self, any, vis, C::Id, limit).await?;
            more |= m;
            edges.extend(found.into_iter().map(|r| Edge {
                kind: T::MemberOf,
                from: org(r.organization_id),
                to: NodeRef::new(K::InnovationCenter, r.innovation_center_id),
                link_id: Some(r.id),
                role: Some(r.role),
                since: r.joined_on,
                since_precision: r.joined_on_precision,
            }));
        }
        if options.follows(T::HostedIn, K::InnovationCenter, K::Park) {
            use innovation_center::Column as C;
            let any = any_in(Condition::any(), true, C::Id, &f.centers);
            let any = any_in(any, true, C::HostParkId, &f.parks);
            let (found, m) = rows::<innovation_center::Entity>(self, any, vis, C::Id, limit).await?;
            more |= m;
            edges.extend(found.into_iter().filter_map(|r| {
                r.host_park_id.map(|p| Edge::plain(T::HostedIn, NodeRef::new(K::InnovationCenter, r.id), park_node(p)))
            }));
        }
        let hosted_incubators = options.follows(T::HostedIn, K::Incubator, K::Park);
        let operates = options.follows(T::Operates, K::Organization, K::Incubator);
        if hosted_incubators || operates {
            use incubator::Column as C;
            let any = any_in(Condition::any(), true, C::Id, &f.incubators);
            let any = any_in(any, hosted_incubators, C::ParkId, &f.parks);
            let any = any_in(any, operates, C::OperatorId, &f.organizations);
            let (found, m) = rows::<incubator::Entity>(self, any, vis, C::Id, limit).await?;
            more |= m;
            for r in found {
                let node = NodeRef::new(K::Incubator, r.id);
                if let (true, Some(p)) = (hosted_incubators, r.park_id) {
                    edges.push(Edge::plain(T::HostedIn, node, park_node(p)));
                }
                if let (true, Some(o)) = (operates, r.operator_id) {
                    edges.push(Edge::plain(T::Operates, org(o), node));
                }
            }
        }
        let hq_of = options.follows_any(T::SecondHqOf);
        let hq_in = options.follows_any(T::SecondHqIn);
        if hq_of || hq_in {
            use second_headquarters::Column as C;
            let any = any_in(Condition::any(), true, C::Id, &f.second_hqs);
            let any = any_in(any, hq_of, C::ParentId, &f.organizations);
            let any = any_in(any, hq_in, C::ParkId, &f.parks);
            let (found, m) = rows::<second_headquarters::Entity>(self, any, vis, C::Id, limit).await?;
            more |= m;
            for r in found {
                let node = NodeRef::new(K::SecondHeadquarters, r.id);
                if hq_of {
                    edges.push(Edge::plain(T::SecondHqOf, node, org(r.parent_id)));
                }
                if let (true, Some(p)) = (hq_in, r.park_id) {
                    edges.push(Edge::plain(T::SecondHqIn, node, park_node(p)));
                }
            }
        }
        if options.follows_any(T::Designated) {
            use designation::Column as C;
            let any = any_in(Condition::any(), true, C::OrganizationId, &f.organizations);
            let any = any_in(any, true, C::Id, &f.designations);
            let (found, m) = rows::<designation::Entity>(self, any, vis, C::Id, limit).await?;
            more |= m;
            edges.extend(
                found
                    .into_iter()
                    .map(|r| Edge::plain(T::Designated, org(r.organization_id), NodeRef::new(K::Designation, r.id))),
            );
        }
        Ok((edges, more))
    }

    /// The records of `nodes` the read sees, with their labels: one statement per kind.
    async fn graph_nodes(
        &self,
        nodes: &[NodeRef],
        visibility: Visibility,
        depth: u32,
    ) -> Result<HashMap<NodeRef, NodeInfo>, StoreError> {
        let f = Frontier::of(nodes);
        let mut out = HashMap::new();
        let mut put = |kind: NodeKind, rows: Vec<(Uuid, String, Option<String>)>| {
            for (id, name_zh, name_en) in rows {
                let node = NodeRef::new(kind, id);
                out.insert(node, NodeInfo { node, name_zh, name_en, depth });
            }
        };
        macro_rules! named {
            ($entity:ident, $ids:expr, $kind:expr) => {
                if !$ids.is_empty() {
                    use $entity::Column as C;
                    let rows: Vec<(Uuid, String, Option<String>)> = $entity::Entity::find()
                        .filter(visible::<$entity::Entity>(visibility))
                        .filter(C::Id.is_in($ids.clone()))
                        .select_only()
                        .column(C::Id)
                        .column(C::NameZh)
                        .column(C::NameEn)
                        .into_tuple()
                        .all(self.conn())
                        .await?;
                    put($kind, rows);
                }
            };
        }
        named!(park, f.parks, NodeKind::Park);
        named!(organization, f.organizations, NodeKind::Organization);
        named!(incubator, f.incubators, NodeKind::Incubator);
        named!(innovation_center, f.centers, NodeKind::InnovationCenter);
        named!(second_headquarters, f.second_hqs, NodeKind::SecondHeadquarters);
        if !f.designations.is_empty() {
            use designation::Column as C;
            let rows: Vec<(Uuid, String, i32)> = designation::Entity::find()
                .filter(visible::<designation::Entity>(visibility))
                .filter(C::Id.is_in(f.designations.clone()))
                .select_only()
                .column(C::Id)
                .column(C::Kind)
                .column(C::Year)
                .into_tuple()
                .all(self.conn())
                .await?;
            put(
                NodeKind::Designation,
                rows.into_iter().map(|(id, kind, year)| (id, format!("{kind} {year}"), None)).collect(),
            );
        }
        Ok(out)
    }
}
