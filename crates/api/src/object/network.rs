//! `neighborhood` and `connections`: the registry as a graph of typed edges, for
//! frontends that draw networks. Nodes are light (`GraphNode { id type label }`, with
//! `node` for the full record); edges are typed and directed (`GraphEdge { from to type
//! role sinceDate }`). The walks are [`parkgraph_persistence::graph`]'s: a hop at a time,
//! one statement per edge table and per record kind, bounded.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use parkgraph_domain::Scope;
use parkgraph_persistence::graph::{self as g, GraphOptions, NodeInfo, NodeKind, NodeRef};
use parkgraph_persistence::query::Visibility;

use super::{
    Designation, Incubator, InnovationCenter, Node, Organization, Park, PartialDate, SecondHeadquarters, loaders,
    visibility,
};
use crate::error::{ApiError, ApiResult};
use crate::id::{NodeType, decode, encode};
use crate::loader::one;

/// The most hops `neighborhood` walks.
pub const MAX_HOPS: i32 = 3;
/// The most hops a path of `connections` may have.
pub const MAX_PATH_HOPS: i32 = 6;
/// The most paths `connections` returns.
pub const MAX_PATHS: i32 = 20;
/// Paths `connections` returns when `first` is not given.
pub const DEFAULT_PATHS: i32 = 5;
/// The most hops of a path when `maxHops` is not given.
pub const DEFAULT_PATH_HOPS: i32 = 4;
/// The most nodes one walk reaches (and the most rows one edge statement reads).
pub const MAX_NODES: usize = 2_000;

/// The types of edges between records. Each runs from the record that holds the link.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EdgeType {
    /// Organization → a park it is located in (`role`: the location role, `sinceDate`).
    LocatedIn,
    /// Park → the park it lies in.
    ParkParent,
    /// Organization → an incubator that incubates it (`role`: the incubation status,
    /// `sinceDate`: entered).
    IncubatedBy,
    /// Organization → an innovation center it is a member of (`role`, `sinceDate`: joined).
    MemberOf,
    /// Innovation center → its host park; incubator → its park.
    HostedIn,
    /// Organization → a designation it holds (unicorn 2018 …). Followed only when asked
    /// for in `types`.
    Designated,
    /// Second headquarters → its parent group.
    SecondHqOf,
    /// Second headquarters → its park.
    SecondHqIn,
    /// Operator organization → the incubator it operates.
    Operates,
}

impl EdgeType {
    fn stored(self) -> g::EdgeType {
        match self {
            Self::LocatedIn => g::EdgeType::LocatedIn,
            Self::ParkParent => g::EdgeType::ParkParent,
            Self::IncubatedBy => g::EdgeType::IncubatedBy,
            Self::MemberOf => g::EdgeType::MemberOf,
            Self::HostedIn => g::EdgeType::HostedIn,
            Self::Designated => g::EdgeType::Designated,
            Self::SecondHqOf => g::EdgeType::SecondHqOf,
            Self::SecondHqIn => g::EdgeType::SecondHqIn,
            Self::Operates => g::EdgeType::Operates,
        }
    }

    fn of(stored: g::EdgeType) -> Self {
        match stored {
            g::EdgeType::LocatedIn => Self::LocatedIn,
            g::EdgeType::ParkParent => Self::ParkParent,
            g::EdgeType::IncubatedBy => Self::IncubatedBy,
            g::EdgeType::MemberOf => Self::MemberOf,
            g::EdgeType::HostedIn => Self::HostedIn,
            g::EdgeType::Designated => Self::Designated,
            g::EdgeType::SecondHqOf => Self::SecondHqOf,
            g::EdgeType::SecondHqIn => Self::SecondHqIn,
            g::EdgeType::Operates => Self::Operates,
        }
    }
}

/// The type of record a graph node is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum GraphNodeType {
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
    /// A designation.
    Designation,
}

fn node_type(kind: NodeKind) -> NodeType {
    match kind {
        NodeKind::Park => NodeType::Park,
        NodeKind::Organization => NodeType::Organization,
        NodeKind::Incubator => NodeType::Incubator,
        NodeKind::InnovationCenter => NodeType::InnovationCenter,
        NodeKind::SecondHeadquarters => NodeType::SecondHeadquarters,
        NodeKind::Designation => NodeType::Designation,
    }
}

fn node_kind(kind: NodeType) -> NodeKind {
    match kind {
        NodeType::Park => NodeKind::Park,
        NodeType::Organization => NodeKind::Organization,
        NodeType::Incubator => NodeKind::Incubator,
        NodeType::InnovationCenter => NodeKind::InnovationCenter,
        NodeType::SecondHeadquarters => NodeKind::SecondHeadquarters,
        NodeType::Designation => NodeKind::Designation,
    }
}

/// The read scope of a kind of node.
fn scope_of(kind: NodeKind) -> Scope {
    match kind {
        NodeKind::Park => Scope::ReadParks,
        NodeKind::Organization | NodeKind::Designation => Scope::ReadOrganizations,
        NodeKind::Incubator => Scope::ReadIncubators,
        NodeKind::InnovationCenter => Scope::ReadInnovationCenters,
        NodeKind::SecondHeadquarters => Scope::ReadSecondHeadquarters,
    }
}

fn global_id(node: NodeRef) -> ID {
    encode(node_type(node.kind), node.id)
}

/// A record in a graph: its id, type and label, and the full record in `node`.
pub struct GraphNode(NodeInfo);

/// A record in a graph: its id, type and label, and the full record in `node`.
#[Object]
impl GraphNode {
    /// The record's global id (as `node(id:)` takes it).
    async fn id(&self) -> ID {
        global_id(self.0.node)
    }

    /// The type of record.
    #[graphql(name = "type")]
    async fn kind(&self) -> GraphNodeType {
        match self.0.node.kind {
            NodeKind::Park => GraphNodeType::Park,
            NodeKind::Organization => GraphNodeType::Organization,
            NodeKind::Incubator => GraphNodeType::Incubator,
            NodeKind::InnovationCenter => GraphNodeType::InnovationCenter,
            NodeKind::SecondHeadquarters => GraphNodeType::SecondHeadquarters,
            NodeKind::Designation => GraphNodeType::Designation,
        }
    }

    /// A label to draw: the Chinese name (a designation's kind and year, `UNICORN 2018`).
    async fn label(&self) -> &str {
        &self.0.name_zh
    }

    /// The English name, when recorded.
    async fn label_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }

    /// Hops from where the walk started (0 for the record asked about).
    async fn hops(&self) -> i32 {
        i32::try_from(self.0.depth).unwrap_or(i32::MAX)
    }

    /// The full record (loaded in one batch per type for the whole graph).
    async fn node(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Node>> {
        let l = loaders(ctx)?;
        let id = self.0.node.id;
        Ok(match self.0.node.kind {
            NodeKind::Park => one(&l.park, id).await?.map(|m| Node::Park(Park(m))),
            NodeKind::Organization => one(&l.organization, id).await?.map(|m| Node::Organization(Organization(m))),
            NodeKind::Incubator => one(&l.incubator, id).await?.map(|m| Node::Incubator(Incubator(m))),
            NodeKind::InnovationCenter => {
                one(&l.center, id).await?.map(|m| Node::InnovationCenter(InnovationCenter(m)))
            }
            NodeKind::SecondHeadquarters => {
                one(&l.second_hq, id).await?.map(|m| Node::SecondHeadquarters(SecondHeadquarters(m)))
            }
            NodeKind::Designation => one(&l.designation, id).await?.map(|m| Node::Designation(Designation(m))),
        })
    }
}

/// A typed, directed edge between two records of a graph.
pub struct GraphEdge(g::Edge);

/// A typed, directed edge between two records of a graph.
#[Object]
impl GraphEdge {
    /// The id of the record it starts from (the one holding the link).
    async fn from(&self) -> ID {
        global_id(self.0.from)
    }

    /// The id of the record it leads to.
    async fn to(&self) -> ID {
        global_id(self.0.to)
    }

    /// The type.
    #[graphql(name = "type")]
    async fn kind(&self) -> EdgeType {
        EdgeType::of(self.0.kind)
    }

    /// The link's role: a location role (`OPERATING`, `R_AND_D` …), a membership role
    /// (`LEAD` …), or an incubation's status; null for other edges.
    async fn role(&self) -> Option<&str> {
        self.0.role.as_deref()
    }

    /// Since when the link holds (located since, entered, joined), at the precision known.
    async fn since_date(&self) -> Option<PartialDate> {
        PartialDate::of(self.0.since, &self.0.since_precision)
    }

    /// The link's own id (its UUID), for edges that are links (locations, incubations,
    /// memberships); null for references (a park's parent, a center's host park …).
    async fn link_id(&self) -> Option<ID> {
        self.0.link_id.map(|id| ID(id.to_string()))
    }
}

/// The records around one record and the edges between them.
#[derive(SimpleObject)]
pub struct Neighborhood {
    /// The records, the one asked about first, then by hops.
    pub nodes: Vec<GraphNode>,
    /// The edges between them.
    pub edges: Vec<GraphEdge>,
    /// True when the walk stopped at the bound of 2,000 records (or a record had more
    /// than 2,000 links of one table) before going as far as asked.
    pub truncated: bool,
}

/// One path between two records.
#[derive(SimpleObject)]
pub struct GraphPath {
    /// Edges along the path.
    pub length: i32,
    /// The records along it, from `from` to `to`.
    pub nodes: Vec<GraphNode>,
    /// The edges along it: `edges[i]` joins `nodes[i]` and `nodes[i + 1]`, in its own
    /// direction (which may run either way along the path).
    pub edges: Vec<GraphEdge>,
}

/// The shortest paths between two records.
#[derive(SimpleObject)]
pub struct ShortestPaths {
    /// The paths, all of the shortest length; empty when none has at most `maxHops` edges.
    pub paths: Vec<GraphPath>,
    /// True when the search stopped at the bound of 2,000 records before finding a path:
    /// one may exist beyond it.
    pub truncated: bool,
    /// Records the search reached.
    pub visited: i32,
}

/// What the caller's walk follows: the types asked for (every type but `DESIGNATED` by
/// default), through the kinds of records the caller may read.
fn options(ctx: &Context<'_>, types: Option<Vec<EdgeType>>) -> async_graphql::Result<GraphOptions> {
    let caller = crate::policy::caller(ctx)?;
    let kinds = [
        NodeKind::Park,
        NodeKind::Organization,
        NodeKind::Incubator,
        NodeKind::InnovationCenter,
        NodeKind::SecondHeadquarters,
        NodeKind::Designation,
    ]
    .into_iter()
    .filter(|k| caller.has(scope_of(*k)))
    .collect();
    let types = match types {
        Some(types) => types.into_iter().map(EdgeType::stored).collect(),
        None => g::EdgeType::ALL.into_iter().filter(|t| *t != g::EdgeType::Designated).collect(),
    };
    let visibility: Visibility = visibility(ctx)?;
    Ok(GraphOptions { visibility, types, kinds, max_nodes: MAX_NODES })
}

/// Decodes a record's id and checks the caller may read its kind.
fn start(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<NodeRef> {
    let (kind, uuid) = decode(id).map_err(ApiError::into_error)?;
    let kind = node_kind(kind);
    crate::policy::require(ctx, scope_of(kind))?;
    Ok(NodeRef::new(kind, uuid))
}

fn bounded(name: &str, value: i32, max: i32) -> async_graphql::Result<u32> {
    if (1..=max).contains(&value) {
        Ok(value.unsigned_abs())
    } else {
        Err(ApiError::BadUserInput(format!("`{name}` must be between 1 and {max}, not {value}")).into_error())
    }
}

/// The resolver of `neighborhood`.
pub(crate) async fn neighborhood(
    ctx: &Context<'_>,
    id: ID,
    hops: i32,
    types: Option<Vec<EdgeType>>,
) -> async_graphql::Result<Neighborhood> {
    let hops = bounded("hops", hops, MAX_HOPS)?;
    let start = start(ctx, &id)?;
    let options = options(ctx, types)?;
    let graph = crate::query::store(ctx)?.neighborhood(start, hops, &options).await.api()?;
    crate::cost::CostMeter::charge(ctx, graph.nodes.len());
    Ok(Neighborhood {
        nodes: graph.nodes.into_iter().map(GraphNode).collect(),
        edges: graph.edges.into_iter().map(GraphEdge).collect(),
        truncated: graph.truncated,
    })
}

/// The resolver of `connections`.
pub(crate) async fn connections(
    ctx: &Context<'_>,
    from: ID,
    to: ID,
    max_hops: i32,
    first: i32,
    types: Option<Vec<EdgeType>>,
) -> async_graphql::Result<ShortestPaths> {
    let max_hops = bounded("maxHops", max_hops, MAX_PATH_HOPS)?;
    let first = bounded("first", first, MAX_PATHS)?;
    let from = start(ctx, &from)?;
    let to = start(ctx, &to)?;
    let options = options(ctx, types)?;
    let found = crate::query::store(ctx)?
        .connections(from, to, max_hops, usize::try_from(first).unwrap_or(1), &options)
        .await
        .api()?;
    crate::cost::CostMeter::charge(ctx, found.paths.iter().map(|p| p.nodes.len()).sum());
    Ok(ShortestPaths {
        paths: found
            .paths
            .into_iter()
            .map(|p| GraphPath {
                length: i32::try_from(p.edges.len()).unwrap_or(i32::MAX),
                nodes: p.nodes.into_iter().map(GraphNode).collect(),
                edges: p.edges.into_iter().map(GraphEdge).collect(),
            })
            .collect(),
        truncated: found.truncated,
        visited: i32::try_from(found.visited).unwrap_or(i32::MAX),
    })
}
