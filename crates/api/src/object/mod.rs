//! The API's own GraphQL types. They wrap storage rows but are defined here, so the
//! schema changes only when we change it (entities never derive GraphQL traits).

pub mod access;
pub mod designation;
pub mod incubator;
pub mod innovation_center;
pub mod link;
pub mod organization;
pub mod park;
pub mod second_hq;
pub mod vocabulary;

use async_graphql::{Context, Interface, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;

pub use designation::Designation;
pub use incubator::Incubator;
pub use innovation_center::InnovationCenter;
pub use organization::Organization;
pub use park::{Park, ParkDesignation};
pub use second_hq::SecondHeadquarters;

use crate::error::ApiError;
use crate::loader::Loaders;

/// Where a record's facts come from and as of when they were true.
#[derive(SimpleObject, Debug, Clone)]
pub struct Provenance {
    /// Name of the source: a publication, report, registry or announcement.
    pub source_name: Option<String>,
    /// Where the source can be read.
    pub source_url: Option<String>,
    /// The date the facts were true or reported.
    pub as_of: Option<NaiveDate>,
}

impl Provenance {
    /// From the three provenance columns every table has.
    pub fn of(source_name: &Option<String>, source_url: &Option<String>, as_of: &Option<NaiveDate>) -> Self {
        Self { source_name: source_name.clone(), source_url: source_url.clone(), as_of: *as_of }
    }
}

/// An object with a global id, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "async_graphql::ID", desc = "Opaque global id."))]
pub enum Node {
    /// A park.
    Park(Park),
    /// An organization.
    Organization(Organization),
    /// An incubator.
    Incubator(Incubator),
    /// A national innovation center.
    InnovationCenter(InnovationCenter),
    /// A second headquarters.
    SecondHeadquarters(SecondHeadquarters),
    /// A designation of an enterprise.
    Designation(Designation),
}

/// The loaders of this schema.
pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>().map_err(|_| ApiError::Internal("loaders missing from schema data".into()).into_error())
}

/// A row that a link points to is missing: a broken foreign key, so an internal error.
pub fn dangling(what: &str, id: Uuid) -> async_graphql::Error {
    ApiError::Internal(format!("{what} {id} referenced by a link does not exist")).into_error()
}

/// Loads the nodes a page of links points to, in the page's order.
pub async fn resolve_nodes<E, L, N>(
    loader: &async_graphql::dataloader::DataLoader<crate::loader::ByColumn<E>>,
    links: &[L],
    target: impl Fn(&L) -> Uuid,
    wrap: impl Fn(E::Model) -> N,
    what: &str,
) -> async_graphql::Result<Vec<N>>
where
    E: sea_orm::EntityTrait + Sync,
    E::Model: Clone + Sync,
    E::Column: Sync,
{
    let ids: Vec<Uuid> = links.iter().map(&target).collect();
    let rows = crate::loader::each(loader, &ids).await?;
    rows.into_iter().zip(ids).map(|(row, id)| row.map(&wrap).ok_or_else(|| dangling(what, id))).collect()
}

/// One page of links as a connection whose edges carry each link and the node it leads
/// to (nodes loaded in one batch for the page).
pub async fn link_page<L, E, N>(
    args: &crate::connection::PageArgs,
    links: Vec<L>,
    loader: &async_graphql::dataloader::DataLoader<crate::loader::ByColumn<E>>,
    target: impl Fn(&L) -> Uuid,
    wrap: impl Fn(E::Model) -> N,
    what: &str,
) -> async_graphql::Result<crate::connection::Connection<link::LinkEdge<L, N>>>
where
    E: sea_orm::EntityTrait + Sync,
    E::Model: Clone + Sync,
    E::Column: Sync,
    link::LinkEdge<L, N>: crate::connection::EdgeType,
{
    let page = crate::connection::slice(args, links).await?;
    let nodes = resolve_nodes(loader, &page.rows, target, wrap, what).await?;
    Ok(page.zip(nodes).into_connection(|cursor, (link, node)| link::LinkEdge::new(cursor, link, node)))
}

/// One page of rows held in memory as a plain connection.
pub async fn plain_page<R, N: crate::connection::Listed>(
    args: &crate::connection::PageArgs,
    rows: Vec<R>,
    wrap: impl Fn(R) -> N,
) -> async_graphql::Result<crate::connection::Connection<crate::connection::Edge<N>>> {
    let page = crate::connection::slice(args, rows).await?;
    Ok(page.into_connection(|cursor, row| crate::connection::Edge::new(cursor, wrap(row))))
}
