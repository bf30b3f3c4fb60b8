//! ParkGraph's search: an embedded tantivy index of every live organization, park,
//! incubator and innovation center, searched in Chinese, pinyin and English, filtered and
//! counted (facets), and kept in sync with the database by following the change feed.
//!
//! - [`text`]: the CJK-aware tokenizer (unigrams and bigrams), pinyin keys, query units.
//! - [`source`]: the documents, read from the database (`sea-orm`, through persistence's
//!   entities).
//! - [`index`]: the index on disk ([`SearchIndex`]): opening it or rebuilding it when it
//!   is missing, corrupt, of another schema version or out of step with the feed; the
//!   cursor of the last feed entry applied (kept in tantivy's commit payload); search,
//!   facets and type-ahead.
//! - `facets`: counting matches per value of a dimension from the facet column, naming
//!   only the values returned.
//! - `union`: a union of alternatives read by seeking, for the units of a query that are
//!   far denser than its rarest (`武汉` beside `光电`).
//! - [`follow`]: the background task that applies the feed every ~200 ms.
//!
//! # Matching and ranking
//!
//! A query is cut into units: runs of Chinese characters and Latin words. Every unit must
//! match somewhere (so `光谷 生物` needs both): a Chinese run as a substring of a name, or
//! (scored low) of the industry, city, district or the name of a park the record is in
//! (its consecutive bigrams, as a phrase); a word in the ways listed below, or (scored low)
//! as a word of those same fields, which include the English names of the parks and the
//! English terms of the industries their Chinese names speak of ([`text::INDUSTRY_TERMS`]:
//! 生物 → biotech …), so "Optics Valley biotech" finds what "光谷 生物" finds, and the
//! words of the record's designations ([`text::designation_terms`]: 独角兽, unicorn …);
//! and (scored low, words of 3 letters or more, in search but not type-ahead) as a prefix
//! of the pinyin of those fields, so `guanggu` finds what `光谷` finds, the firms of the 光谷
//! parks included. The scores add up (BM25 for terms,
//! constant scores for prefix and typo matches), with boosts so that an exact name (10)
//! ranks above a Chinese substring (3 in the Chinese name, 2 in the legal name), above
//! pinyin (2 full, 1.5 initials, both by prefix), above English words (2 exact, 1.2
//! prefix, 1 with typos: one typo from 4 letters, two from 8). An exact USCC scores 10.

mod facets;
pub mod follow;
pub mod index;
pub mod source;
pub mod text;
mod union;

pub use index::{
    Between, Dim, FacetCounts, Filter, Highlight, Hit, Opened, Progress, SCHEMA_VERSION, SearchIndex, SearchRequest,
    SearchResults,
};
pub use source::DocKind;

/// What can go wrong with the index. None of it reaches a client as such: the API
/// reports an internal error and logs this.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The search engine failed.
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// Reading the database failed.
    #[error("search index: reading the registry: {0}")]
    Store(#[from] parkgraph_persistence::StoreError),
    /// A file operation failed.
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    /// Anything else, said in words.
    #[error("search index: {0}")]
    Invalid(String),
}
