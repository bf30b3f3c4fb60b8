//! Keyset pages: lists read forward only, by a key that only grows (the change feed's
//! `seq`, a record's `version`), never by offset.
//!
//! A page asks the store for the rows whose key is greater than the cursor's, in key
//! order, one more than it shows (to know whether another page follows). A row written
//! while a client pages therefore never shifts the rows it has not read yet, which an
//! offset would. Cursors are opaque: `base64("<list>:<key>")`, so a cursor of one list
//! (or of an offset connection) is refused by another as `BAD_USER_INPUT`.
//!
//! The page type exposes `edges`, `nodes` and `pageInfo` like [`crate::connection`]'s, and
//! charges its items to the request's [`CostMeter`] once, however often they are selected.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::{Context, Object, TypeName};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::connection::{DEFAULT_PAGE_SIZE, Listed, MAX_PAGE_SIZE, PageInfo};
use crate::cost::CostMeter;
use crate::error::ApiError;

/// The opaque cursor of the row with `key` in the list `list`.
pub fn encode(list: &str, key: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}:{key}"))
}

/// The key of a cursor of the list `list`; `BAD_USER_INPUT` for anything else (the
/// argument is named `name` in the message).
pub fn decode(list: &str, name: &str, cursor: &str) -> Result<i64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(list).and_then(|rest| rest.strip_prefix(':')).and_then(|n| n.parse().ok()))
        .filter(|key: &i64| *key >= 0)
        .ok_or_else(|| ApiError::BadUserInput(format!("`{name}` is not a cursor of this list: {cursor:?}")))
}

/// The page size `first` asks for: [`DEFAULT_PAGE_SIZE`] when absent, at most
/// [`MAX_PAGE_SIZE`] (more is `BAD_USER_INPUT`, never a silent clamp).
pub fn page_size(first: Option<i32>) -> Result<u64, ApiError> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE as u64),
        Some(n) if n < 0 => Err(ApiError::BadUserInput(format!("`first` must not be negative, got {n}"))),
        Some(n) if n > MAX_PAGE_SIZE => Err(ApiError::BadUserInput(format!(
            "`first` is {n}, more than the maximum page size of {MAX_PAGE_SIZE}; page on with `after`"
        ))),
        Some(n) => Ok(n as u64),
    }
}

/// An edge of a keyset page.
pub struct KeysetEdge<N> {
    cursor: String,
    node: N,
}

/// An edge of a keyset page: an item and its cursor.
#[Object(name_type)]
impl<N: Listed> KeysetEdge<N> {
    /// Opaque cursor of this item: pass it as `after` to read on from here.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The item.
    async fn node(&self) -> &N {
        &self.node
    }
}

impl<N: Listed> TypeName for KeysetEdge<N> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed(N::EDGE)
    }
}

/// One page of a keyset list.
pub struct KeysetPage<N> {
    edges: Vec<KeysetEdge<N>>,
    page_info: PageInfo,
    charged: AtomicBool,
}

impl<N> KeysetPage<N> {
    /// A page from the rows read after the cursor `after` (the query asked for one row
    /// more than `size`: when it came back, another page follows). `key` gives each row's
    /// key, `node` turns it into the item.
    pub fn build<R>(
        list: &str,
        after: Option<i64>,
        size: u64,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> i64,
        node: impl Fn(R) -> N,
    ) -> Self {
        let has_next_page = rows.len() as u64 > size;
        rows.truncate(size as usize);
        let edges: Vec<KeysetEdge<N>> =
            rows.into_iter().map(|row| KeysetEdge { cursor: encode(list, key(&row)), node: node(row) }).collect();
        let page_info = PageInfo {
            has_previous_page: after.is_some_and(|key| key > 0),
            has_next_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Self { edges, page_info, charged: AtomicBool::new(false) }
    }

    fn charge(&self, ctx: &Context<'_>) {
        if !self.charged.swap(true, Ordering::Relaxed) {
            CostMeter::charge(ctx, self.edges.len());
        }
    }
}

/// A page of a list read forward by key: edges with cursors, and where to read on.
#[Object(name_type)]
impl<N: Listed> KeysetPage<N> {
    /// The items of this page, each with its cursor.
    async fn edges(&self, ctx: &Context<'_>) -> &[KeysetEdge<N>] {
        self.charge(ctx);
        &self.edges
    }

    /// The items of this page, for callers that need no cursors.
    async fn nodes(&self, ctx: &Context<'_>) -> Vec<&N> {
        self.charge(ctx);
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// Where to read on: `endCursor` is the cursor of this page's last item (null when
    /// the page is empty: keep the cursor you have), `hasNextPage` says whether items
    /// follow it now.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
}

impl<N: Listed> TypeName for KeysetPage<N> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed(N::CONNECTION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_one_list() {
        assert_eq!(decode("change", "after", &encode("change", 42)).ok(), Some(42));
        assert!(decode("revision", "after", &encode("change", 42)).is_err());
        assert!(decode("change", "after", &encode("changes", 42)).is_err());
        assert!(decode("change", "after", &URL_SAFE_NO_PAD.encode("cursor:3")).is_err());
        assert!(decode("change", "after", &encode("change", -1)).is_err());
        assert!(decode("change", "after", "42").is_err());
    }

    #[test]
    fn page_sizes_default_and_are_bounded() {
        assert_eq!(page_size(None).ok(), Some(DEFAULT_PAGE_SIZE as u64));
        assert_eq!(page_size(Some(100)).ok(), Some(100));
        assert!(page_size(Some(101)).is_err());
        assert!(page_size(Some(-1)).is_err());
    }
}
