//! Relay-style connections: `edges { cursor node }`, `nodes`, `pageInfo`, `totalCount`,
//! paged with `first`/`after` or `last`/`before`.
//!
//! Cursors are opaque and encode a position in the list's order. A page holds at most
//! [`MAX_PAGE_SIZE`] items; asking for more is a `BAD_USER_INPUT` error, never a silent
//! clamp. Without `first` or `last` a page holds [`DEFAULT_PAGE_SIZE`] items.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::{Context, Object, OutputType, SimpleObject, TypeName};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parkgraph_persistence::StoreError;
use parkgraph_persistence::query::{CountEstimate, Window};

use crate::cost::CostMeter;
use crate::error::{ApiError, ApiResult};

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// Complexity of a connection field: its page size times the cost of one item.
pub fn complexity(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first.or(last).unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE) as usize;
    size.saturating_mul(child).saturating_add(1)
}

/// The paging arguments of a connection field.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    /// Items after the cursor `after`, from the start.
    pub first: Option<i32>,
    /// Start after this cursor.
    pub after: Option<String>,
    /// Items before the cursor `before`, from the end.
    pub last: Option<i32>,
    /// End before this cursor.
    pub before: Option<String>,
}

impl PageArgs {
    /// Collects the four arguments.
    pub fn new(first: Option<i32>, after: Option<String>, last: Option<i32>, before: Option<String>) -> Self {
        Self { first, after, last, before }
    }
}

fn encode_cursor(position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("cursor:{position}"))
}

fn decode_cursor(name: &str, cursor: &str) -> Result<u64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("cursor:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::BadUserInput(format!("`{name}` is not a cursor of this list: {cursor:?}")))
}

/// The opaque cursor of the link with this id, in a list paged by keyset.
pub fn encode_key(id: uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("key:{id}"))
}

fn decode_key(name: &str, cursor: &str) -> Result<uuid::Uuid, ApiError> {
    let text = URL_SAFE_NO_PAD.decode(cursor.trim()).ok().and_then(|b| String::from_utf8(b).ok());
    match text.as_deref() {
        Some(text) if text.starts_with("cursor:") => Err(position_cursor(name)),
        Some(text) => text
            .strip_prefix("key:")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| ApiError::BadUserInput(format!("`{name}` is not a cursor of this list: {cursor:?}"))),
        None => Err(ApiError::BadUserInput(format!("`{name}` is not a cursor of this list: {cursor:?}"))),
    }
}

/// A page of a list read by keyset (rows in id order): the bounds and size the
/// arguments ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    /// Rows after this id.
    pub after: Option<uuid::Uuid>,
    /// Rows before this id.
    pub before: Option<uuid::Uuid>,
    /// Rows on the page at most.
    pub limit: u64,
    /// Taken from the end (`last`).
    pub backward: bool,
}

/// Which sides of a keyset page were bounded by a cursor, and its reading direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bounds {
    /// `after` was given.
    pub after: bool,
    /// `before` was given.
    pub before: bool,
    /// Read from the end (`last`).
    pub backward: bool,
}

/// The opaque cursor of a root list's row: `base64("keys:" + the list's cursor text)`.
pub fn encode_list_cursor(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("keys:{text}"))
}

/// The list's cursor text in a root-list cursor; a position cursor (of before keyset
/// paging) or anything else is `BAD_USER_INPUT`.
pub fn list_cursor_text(name: &str, cursor: &str) -> Result<String, ApiError> {
    let text = URL_SAFE_NO_PAD.decode(cursor.trim()).ok().and_then(|b| String::from_utf8(b).ok());
    match text.as_deref() {
        Some(text) if text.starts_with("cursor:") => Err(position_cursor(name)),
        Some(text) => text
            .strip_prefix("keys:")
            .map(str::to_owned)
            .ok_or_else(|| ApiError::BadUserInput(format!("`{name}` is not a cursor of this list: {cursor:?}"))),
        None => Err(ApiError::BadUserInput(format!("`{name}` is not a cursor of this list: {cursor:?}"))),
    }
}

fn position_cursor(name: &str) -> ApiError {
    ApiError::BadUserInput(format!(
        "`{name}` is a position cursor, which this list no longer takes: it is paged by key now, so pages \
         do not shift when records are added or removed; read it again from the first page"
    ))
}

impl Keyset {
    /// Validates the arguments (sizes as [`plan`] does; cursors must be key cursors).
    pub fn of(args: &PageArgs) -> async_graphql::Result<Self> {
        let shape = Self::shape(args)?;
        let after = args.after.as_deref().map(|c| decode_key("after", c)).transpose().map_err(ApiError::into_error)?;
        let before =
            args.before.as_deref().map(|c| decode_key("before", c)).transpose().map_err(ApiError::into_error)?;
        Ok(Self { after, before, ..shape })
    }

    /// The size and direction the arguments ask for, their cursors not read.
    pub fn shape(args: &PageArgs) -> async_graphql::Result<Self> {
        let first = size("first", args.first).map_err(ApiError::into_error)?;
        let last = size("last", args.last).map_err(ApiError::into_error)?;
        if first.is_some() && last.is_some() {
            return Err(ApiError::BadUserInput("pass either `first` or `last`, not both".into()).into_error());
        }
        Ok(Self {
            after: None,
            before: None,
            limit: last.or(first).unwrap_or(DEFAULT_PAGE_SIZE as u64),
            backward: last.is_some(),
        })
    }

    /// The page's bounds.
    pub fn bounds(&self) -> Bounds {
        Bounds { after: self.after.is_some(), before: self.before.is_some(), backward: self.backward }
    }

    /// The rows of the page in the list's order, from the rows read (one more than the
    /// page when the list goes on, nearest to `before` first when backward), and whether
    /// the list goes on in the reading direction.
    pub fn trim<R>(&self, mut rows: Vec<R>) -> (Vec<R>, bool) {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        if self.backward {
            rows.reverse();
        }
        (rows, more)
    }
}

fn size(name: &str, value: Option<i32>) -> Result<Option<u64>, ApiError> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(ApiError::BadUserInput(format!("`{name}` must not be negative, got {n}"))),
        Some(n) if n > MAX_PAGE_SIZE => Err(ApiError::BadUserInput(format!(
            "`{name}` is {n}, more than the maximum page size of {MAX_PAGE_SIZE}; page through the list with cursors"
        ))),
        Some(n) => Ok(Some(n as u64)),
    }
}

/// Where a page starts and how many rows it may hold, and where the list is cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The rows to read.
    pub window: Window,
    /// The position of `before`, if given: rows exist there, so a next page exists.
    pub end: Option<u64>,
}

/// Validates the arguments and works out the window. `total` is awaited only for
/// `last` without `before`, the one case that needs the list's length.
pub async fn plan<F>(args: &PageArgs, total: F) -> async_graphql::Result<Plan>
where
    F: Future<Output = Result<u64, ApiError>>,
{
    let first = size("first", args.first).map_err(ApiError::into_error)?;
    let last = size("last", args.last).map_err(ApiError::into_error)?;
    if first.is_some() && last.is_some() {
        return Err(ApiError::BadUserInput("pass either `first` or `last`, not both".into()).into_error());
    }
    let start = match &args.after {
        Some(c) => decode_cursor("after", c).map_err(ApiError::into_error)? + 1,
        None => 0,
    };
    let end = match &args.before {
        Some(c) => Some(decode_cursor("before", c).map_err(ApiError::into_error)?),
        None => None,
    };
    let window = match (first, last) {
        (_, Some(last)) => {
            let end = match end {
                Some(end) => end,
                None => total.await.map_err(ApiError::into_error)?,
            };
            let offset = end.saturating_sub(last).max(start);
            Window { offset, limit: end.saturating_sub(offset) }
        }
        (first, None) => {
            let wanted = first.unwrap_or(DEFAULT_PAGE_SIZE as u64);
            let limit = match end {
                Some(end) => wanted.min(end.saturating_sub(start)),
                None => wanted,
            };
            Window { offset: start, limit }
        }
    };
    Ok(Plan { window, end })
}

/// Information about a page.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// True when items exist before this page.
    pub has_previous_page: bool,
    /// True when items exist after this page.
    pub has_next_page: bool,
    /// Cursor of the first edge of this page.
    pub start_cursor: Option<String>,
    /// Cursor of the last edge of this page.
    pub end_cursor: Option<String>,
}

type CountFuture = Pin<Box<dyn Future<Output = Result<CountEstimate, StoreError>> + Send>>;

/// Lists the database estimates at this many rows or more are not counted by
/// `totalCountEstimate` (schema data; see [`crate::Limits::exact_count_below`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExactCountBelow(pub u64);

/// A list's length: counted, or estimated by the database for a long list.
#[derive(SimpleObject)]
#[graphql(name = "CountEstimate")]
pub struct CountEstimateObject {
    /// The number of items, or the database's estimate of it.
    pub count: u64,
    /// True when `count` was counted; false when it is the query planner's estimate
    /// (PostgreSQL, from the statistics kept by `ANALYZE`, for lists estimated at
    /// `exact_count_below` items or more).
    pub exact: bool,
}

/// The list's total length, known or counted on demand.
pub enum Total {
    /// Already known (lists assembled in memory).
    Known(u64),
    /// Counted by a query, run only when `totalCount` is asked for; given a threshold,
    /// estimated instead when the database expects at least that many rows.
    Query(Arc<dyn Fn(u64) -> CountFuture + Send + Sync>),
    /// Counted by one of the request's batch loaders, only when `totalCount` is asked
    /// for: the counts of every list on a level of the response in one statement.
    Batched(Box<dyn for<'a> Fn(&'a crate::loader::Loaders) -> BatchedCount<'a> + Send + Sync>),
}

type BatchedCount<'a> = Pin<Box<dyn Future<Output = async_graphql::Result<u64>> + Send + 'a>>;

/// An edge type: its node, and the names of its edge and connection types.
pub trait EdgeType: OutputType {
    /// The node at the end of the edge.
    type Node: OutputType;
    /// Name of the connection type in the schema.
    const CONNECTION: &'static str;
    /// The node.
    fn node(&self) -> &Self::Node;
}

/// One page of a list.
pub struct Connection<E> {
    edges: Vec<E>,
    page_info: PageInfo,
    total: Total,
    /// Whether this page's items were charged to the request's [`CostMeter`] yet: a page
    /// is charged once, however many times (and under whatever aliases) its `edges` and
    /// `nodes` are selected.
    charged: AtomicBool,
}

impl<E> Connection<E> {
    fn charge(&self, ctx: &Context<'_>) {
        if !self.charged.swap(true, Ordering::Relaxed)
            && let Some(meter) = ctx.data_opt::<CostMeter>()
        {
            meter.add(self.edges.len() as u64);
        }
    }
}

impl<E: EdgeType> Connection<E> {
    /// Builds a page read by keyset from its rows in the list's order (see
    /// [`Keyset::trim`]; `more`: the list goes on in the reading direction), each edge's
    /// cursor given by `cursor_of`.
    pub fn keyset<R>(
        bounds: Bounds,
        rows: Vec<R>,
        more: bool,
        cursor_of: impl Fn(&R) -> String,
        total: Total,
        edge: impl Fn(String, R) -> E,
    ) -> Self {
        let start_cursor = rows.first().map(&cursor_of);
        let end_cursor = rows.last().map(&cursor_of);
        // Rows exist at `after` and `before` (unless they were removed since), so the
        // list goes on past a cursor given.
        let page_info = PageInfo {
            has_previous_page: bounds.after || (bounds.backward && more),
            has_next_page: bounds.before || (!bounds.backward && more),
            start_cursor,
            end_cursor,
        };
        let edges = rows.into_iter().map(|row| edge(cursor_of(&row), row)).collect();
        Self { edges, page_info, total, charged: AtomicBool::new(false) }
    }

    /// Builds a page from the rows of `plan`'s window (`has_more`: the query found a row
    /// after them), turning each row and its cursor into an edge.
    pub fn build<R>(plan: Plan, rows: Vec<R>, has_more: bool, total: Total, edge: impl Fn(String, R) -> E) -> Self {
        let offset = plan.window.offset;
        let count = rows.len() as u64;
        let edges: Vec<E> =
            rows.into_iter().enumerate().map(|(i, row)| edge(encode_cursor(offset + i as u64), row)).collect();
        let has_next_page = match plan.end {
            Some(end) => offset + count < end,
            None => has_more,
        };
        let page_info = PageInfo {
            has_previous_page: offset > 0,
            has_next_page,
            start_cursor: (count > 0).then(|| encode_cursor(offset)),
            end_cursor: (count > 0).then(|| encode_cursor(offset + count - 1)),
        };
        Self { edges, page_info, total, charged: AtomicBool::new(false) }
    }
}

/// One page cut from a list held in memory.
pub struct Sliced<R> {
    /// The plan the arguments gave.
    pub plan: Plan,
    /// The page's rows.
    pub rows: Vec<R>,
    /// True when rows follow the page.
    pub has_more: bool,
    /// Length of the whole list.
    pub total: u64,
}

/// Cuts the page the arguments ask for out of `items`.
pub async fn slice<R>(args: &PageArgs, items: Vec<R>) -> async_graphql::Result<Sliced<R>> {
    let total = items.len() as u64;
    let plan = plan(args, async { Ok(total) }).await?;
    let start = (plan.window.offset as usize).min(items.len());
    let stop = (start + plan.window.limit as usize).min(items.len());
    let has_more = stop < items.len();
    let rows: Vec<R> = items.into_iter().skip(start).take(stop - start).collect();
    Ok(Sliced { plan, rows, has_more, total })
}

impl<R> Sliced<R> {
    /// Pairs each row of the page with one item of `extra` (for example its node).
    pub fn zip<T>(self, extra: Vec<T>) -> Sliced<(R, T)> {
        Sliced {
            plan: self.plan,
            rows: self.rows.into_iter().zip(extra).collect(),
            has_more: self.has_more,
            total: self.total,
        }
    }

    /// The page as a connection.
    pub fn into_connection<E: EdgeType>(self, edge: impl Fn(String, R) -> E) -> Connection<E> {
        Connection::build(self.plan, self.rows, self.has_more, Total::Known(self.total), edge)
    }
}

/// A page of a list.
#[Object(name_type)]
impl<E: EdgeType> Connection<E> {
    /// The edges of this page, each with its cursor and node.
    async fn edges(&self, ctx: &Context<'_>) -> &[E] {
        self.charge(ctx);
        &self.edges
    }

    /// The nodes of this page, for callers that need no cursors.
    async fn nodes(&self, ctx: &Context<'_>) -> Vec<&E::Node> {
        self.charge(ctx);
        self.edges.iter().map(EdgeType::node).collect()
    }

    /// Information to fetch the previous or next page.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// Number of items in the whole list, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        match &self.total {
            Total::Known(n) => Ok(*n),
            Total::Query(count) => Ok(count(u64::MAX).await.api()?.count),
            Total::Batched(count) => count(crate::object::loaders(ctx)?).await,
        }
    }

    /// Number of items in the whole list, as `totalCount`, or the database's estimate of
    /// it when it expects a long list (`exact` says which): a root list that PostgreSQL's
    /// planner puts at `exact_count_below` items or more (10,000 by default) is estimated
    /// from its statistics, without reading the rows a count would read. Short lists, link
    /// lists and every list on SQLite are counted.
    async fn total_count_estimate(&self, ctx: &Context<'_>) -> async_graphql::Result<CountEstimateObject> {
        let exact = |count| CountEstimateObject { count, exact: true };
        match &self.total {
            Total::Known(n) => Ok(exact(*n)),
            Total::Query(count) => {
                let below = ctx.data_opt::<ExactCountBelow>().map_or(u64::MAX, |b| b.0);
                let estimate = count(below).await.api()?;
                Ok(CountEstimateObject { count: estimate.count, exact: estimate.exact })
            }
            Total::Batched(count) => Ok(exact(count(crate::object::loaders(ctx)?).await?)),
        }
    }
}

impl<E: EdgeType> TypeName for Connection<E> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed(E::CONNECTION)
    }
}

/// A plain edge to a node, for lists whose links carry no attributes.
pub struct Edge<N> {
    cursor: String,
    node: N,
}

impl<N> Edge<N> {
    /// An edge.
    pub fn new(cursor: String, node: N) -> Self {
        Self { cursor, node }
    }
}

/// Names of the plain edge and connection types of a node type.
pub trait Listed: OutputType {
    /// Edge type name.
    const EDGE: &'static str;
    /// Connection type name.
    const CONNECTION: &'static str;
}

/// An edge in a list.
#[Object(name_type)]
impl<N: Listed> Edge<N> {
    /// Opaque cursor of this edge, for `after` and `before`.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The item.
    async fn node(&self) -> &N {
        &self.node
    }
}

impl<N: Listed> TypeName for Edge<N> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed(N::EDGE)
    }
}

impl<N: Listed> EdgeType for Edge<N> {
    type Node = N;
    const CONNECTION: &'static str = N::CONNECTION;
    fn node(&self) -> &N {
        &self.node
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(first: Option<i32>, after: Option<u64>, last: Option<i32>, before: Option<u64>) -> PageArgs {
        PageArgs::new(first, after.map(encode_cursor), last, before.map(encode_cursor))
    }

    async fn window(a: PageArgs, total: u64) -> Result<Window, String> {
        plan(&a, async { Ok(total) }).await.map(|p| p.window).map_err(|e| e.message)
    }

    #[tokio::test]
    async fn first_and_after_start_past_the_cursor() {
        assert_eq!(window(args(Some(10), Some(4), None, None), 50).await, Ok(Window { offset: 5, limit: 10 }));
        assert_eq!(window(args(None, None, None, None), 50).await, Ok(Window { offset: 0, limit: 20 }));
    }

    #[tokio::test]
    async fn last_counts_back_from_the_end_or_from_before() {
        assert_eq!(window(args(None, None, Some(10), None), 50).await, Ok(Window { offset: 40, limit: 10 }));
        assert_eq!(window(args(None, None, Some(10), Some(5)), 50).await, Ok(Window { offset: 0, limit: 5 }));
        assert_eq!(window(args(None, Some(1), Some(10), Some(5)), 50).await, Ok(Window { offset: 2, limit: 3 }));
    }

    #[tokio::test]
    async fn oversized_negative_or_mixed_pages_are_rejected() {
        let too_big = window(args(Some(101), None, None, None), 5).await.expect_err("101 > 100");
        assert!(too_big.contains("maximum page size of 100"), "{too_big}");
        assert!(window(args(Some(-1), None, None, None), 5).await.is_err());
        assert!(window(args(Some(1), None, Some(1), None), 5).await.is_err());
        let bad = PageArgs::new(Some(1), Some("nope".into()), None, None);
        assert!(window(bad, 5).await.is_err());
    }
}
