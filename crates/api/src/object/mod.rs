//! The API's own GraphQL types. They wrap storage rows but are defined here, so the
//! schema changes only when we change it (entities never derive GraphQL traits).

pub mod access;
pub mod change;
pub mod city;
pub mod designation;
pub mod figure;
pub mod incubator;
pub mod innovation_center;
pub mod innovation_center_membership;
pub mod link;
pub mod nearby;
pub mod network;
pub mod organization;
pub mod park;
pub mod search;
pub mod second_hq;
pub mod statistics;
pub mod vocabulary;

use async_graphql::{Context, Interface, Object, SimpleObject};
use chrono::NaiveDate;
use parkgraph_domain as domain;
use parkgraph_persistence::batch::Batch;
use parkgraph_persistence::query::Visibility;
use uuid::Uuid;

use vocabulary::DatePrecision;

pub use city::{City, CityDesignation};
pub use designation::Designation;
pub use figure::Figure;
pub use incubator::Incubator;
pub use innovation_center::InnovationCenter;
pub use innovation_center_membership::InnovationCenterMembership;
pub use organization::Organization;
pub use park::{Park, ParkDesignation};
pub use second_hq::SecondHeadquarters;

use crate::error::ApiError;
use crate::loader::Loaders;

/// A date known to a year, a month or a day, shown at its precision: `text` is `1988`,
/// `2017-11` or `2018-05-16`, never an invented day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialDate(pub domain::PartialDate);

impl PartialDate {
    /// From a stored date and its stored precision code. A null precision (rows written
    /// before precision was recorded) is a day; an unknown code is read as a year, the
    /// least precise, so that no day is ever invented.
    pub fn of(date: Option<NaiveDate>, precision: &Option<String>) -> Option<Self> {
        let date = date?;
        let precision = match precision.as_deref() {
            None => domain::DatePrecision::Day,
            Some(code) => code.parse().unwrap_or(domain::DatePrecision::Year),
        };
        Some(Self(domain::PartialDate::new(date, precision)))
    }

    /// The stored date as a `Date` only when it is known to the day: the value of the
    /// API's older `…On: Date` fields, which never show a padded day.
    pub fn known_day(date: Option<NaiveDate>, precision: &Option<String>) -> Option<NaiveDate> {
        Self::of(date, precision).and_then(|d| d.0.exact_day())
    }
}

/// A date known to a year, a month or a day, shown at its precision: `text` is `1988`,
/// `2017-11` or `2018-05-16`, never an invented day. Sort and filter by `start`/`end`.
#[Object]
impl PartialDate {
    /// The date as known: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`. Show this to people.
    async fn text(&self) -> String {
        self.0.to_string()
    }

    /// How much of the date is known.
    async fn precision(&self) -> DatePrecision {
        self.0.precision().into()
    }

    /// The year.
    async fn year(&self) -> i32 {
        self.0.year()
    }

    /// The day, only when the date is known to the day (otherwise null).
    async fn day(&self) -> Option<NaiveDate> {
        self.0.exact_day()
    }

    /// First day of the period (`2017` → 2017-01-01): for sorting and ranges, not for display.
    async fn start(&self) -> NaiveDate {
        self.0.first_day()
    }

    /// Last day of the period (`2017` → 2017-12-31): for sorting and ranges, not for display.
    async fn end(&self) -> NaiveDate {
        self.0.last_day()
    }
}

/// Where a record's facts come from and as of when they were true.
#[derive(SimpleObject, Debug, Clone)]
pub struct Provenance {
    /// Name of the source: publisher, date and title of a publication.
    pub source_name: Option<String>,
    /// Where the source can be read.
    pub source_url: Option<String>,
    /// The day the facts were true or reported, when known to the day (see `asOfDate`
    /// for a year or month).
    pub as_of: Option<NaiveDate>,
    /// When the facts were true or reported, at the precision known.
    pub as_of_date: Option<PartialDate>,
}

impl Provenance {
    /// From the provenance columns every table has.
    pub fn of(
        source_name: &Option<String>,
        source_url: &Option<String>,
        as_of: &Option<NaiveDate>,
        as_of_precision: &Option<String>,
    ) -> Self {
        Self {
            source_name: source_name.clone(),
            source_url: source_url.clone(),
            as_of: PartialDate::known_day(*as_of, as_of_precision),
            as_of_date: PartialDate::of(*as_of, as_of_precision),
        }
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

/// The loaders of the caller's audience: staff see archived records and ended links,
/// everyone else the live registry (see [`crate::loader::Audiences`]).
pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    let audiences = ctx
        .data::<crate::loader::Audiences>()
        .map_err(|_| ApiError::Internal("loaders missing from schema data".into()).into_error())?;
    Ok(match visibility(ctx)? {
        Visibility::Live => &audiences.live,
        Visibility::WithArchived => &audiences.staff,
    })
}

/// What the caller sees of the registry by id and in nested fields: staff (who keep
/// archived records readable) see archived records and ended links too; partners and
/// anonymous callers the live registry only.
pub fn visibility(ctx: &Context<'_>) -> async_graphql::Result<Visibility> {
    let caller = crate::policy::caller(ctx)?;
    Ok(if caller.role.is_staff() { Visibility::WithArchived } else { Visibility::Live })
}

/// A row that a link points to is missing: a broken foreign key, so an internal error.
pub fn dangling(what: &str, id: Uuid) -> async_graphql::Error {
    ApiError::Internal(format!("{what} {id} referenced by a link does not exist")).into_error()
}

/// What a node is loaded by: its id, or its id with the columns to read.
pub trait NodeKey {
    /// The node's id.
    fn id(&self) -> Uuid;
}

impl NodeKey for Uuid {
    fn id(&self) -> Uuid {
        *self
    }
}

impl NodeKey for (Uuid, parkgraph_persistence::columns::Columns<parkgraph_persistence::entity::organization::Entity>) {
    fn id(&self) -> Uuid {
        self.0
    }
}

/// Loads the nodes a page of links points to, in the page's order.
pub async fn resolve_nodes<B, L, N>(
    loader: &async_graphql::dataloader::DataLoader<crate::loader::Batched<B>>,
    links: &[L],
    target: impl Fn(&L) -> B::Key,
    wrap: impl Fn(B::Record) -> N,
    what: &str,
) -> async_graphql::Result<Vec<N>>
where
    B: Batch,
    B::Key: NodeKey,
{
    let keys: Vec<B::Key> = links.iter().map(&target).collect();
    let rows = crate::loader::each(loader, &keys).await?;
    rows.into_iter().zip(keys).map(|(row, key)| row.map(&wrap).ok_or_else(|| dangling(what, key.id()))).collect()
}

/// One page of a link list read in SQL by keyset (see [`crate::loader::LinkList`]): the
/// links of `parents` (one parent, or a park with its sub-parks) whose filter column
/// holds `filter`, in the order recorded, with the nodes they lead to loaded in one batch
/// for the page, and `totalCount` counted in one batch for the level when asked.
#[allow(clippy::too_many_arguments)]
pub async fn keyset_link_page<P, C, B, N>(
    ctx: &Context<'_>,
    args: &crate::connection::PageArgs,
    list: fn(&crate::loader::Loaders) -> &crate::loader::LinkList<P, C>,
    parents: Vec<Uuid>,
    filter: Option<String>,
    nodes: &async_graphql::dataloader::DataLoader<crate::loader::Batched<B>>,
    id_of: fn(&P::Record) -> Uuid,
    target: impl Fn(&P::Record) -> B::Key,
    wrap: impl Fn(B::Record) -> N,
    what: &str,
) -> async_graphql::Result<crate::connection::Connection<link::LinkEdge<P::Record, N>>>
where
    P: Batch<Key = parkgraph_persistence::batch::PageKey>,
    C: Batch<Key = parkgraph_persistence::batch::CountKey, Record = u64>,
    B: Batch,
    B::Key: NodeKey,
    link::LinkEdge<P::Record, N>: crate::connection::EdgeType,
{
    use parkgraph_persistence::batch::{CountKey, PageKey};
    let keyset = crate::connection::Keyset::of(args)?;
    let key = PageKey {
        parents: parents.clone(),
        filter: filter.clone(),
        after: keyset.after,
        before: keyset.before,
        limit: keyset.limit,
        backward: keyset.backward,
    };
    let (links, more) = keyset.trim(list(loaders(ctx)?).page(key).await?);
    let targets = resolve_nodes(nodes, &links, &target, &wrap, what).await?;
    let count = CountKey { parents, filter };
    let total = crate::connection::Total::Batched(Box::new(move |loaders| {
        let count = count.clone();
        Box::pin(async move { list(loaders).count(count).await })
    }));
    let rows: Vec<(P::Record, N)> = links.into_iter().zip(targets).collect();
    let cursor_of = |(link, _): &(P::Record, N)| crate::connection::encode_key(id_of(link));
    Ok(crate::connection::Connection::keyset(keyset.bounds(), rows, more, cursor_of, total, |cursor, (link, node)| {
        link::LinkEdge::new(cursor, link, node)
    }))
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
