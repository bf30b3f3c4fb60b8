//! The response cache: whole answers to queries, kept exact by the change feed.
//!
//! An answer is stored under its [`Key`]: the normalized document (comments, commas and
//! spacing outside strings removed), the operation name, the variables, and what the
//! caller may see (role, scopes, with or without a token). Only queries are stored, only
//! answers without errors, and never an operation that selects a root field whose answer
//! depends on more than that or on data outside the feed ([`UNCACHED_ROOTS`]: the
//! caller's own token, the audit trail, the search index, which follows the feed a
//! moment behind it). The cost a cached answer charges is the cost its first execution
//! measured, so a hit is charged as the miss was.
//!
//! # Exactness
//!
//! The cache has a *generation*. Every entry records the generation read before its
//! execution began, and is served only while the generation is unchanged. The
//! generation moves on, and every entry is dropped, when
//!
//! - this replica has run a mutation (right after it, before its answer is sent, so a
//!   client never reads its own write back from the cache), and
//! - the feed's head (`change_counter`) has moved, which a background task reads every
//!   `follow_interval` (100 ms by default): changes committed by other replicas, by the
//!   CLI (`parkgraph import`), or by anything else that writes through the feed.
//!
//! A change committed while an answer was being computed moves the generation before
//! that answer is stored or served again, so it is never kept. The bound: on the replica
//! that wrote, none; on every other replica, a change visible in the feed stops being
//! masked within `follow_interval` plus one read of the counter.
//!
//! The cache is bounded by bytes (keys and answers), evicting by quick_cache's
//! S3-FIFO-like policy; hits, misses, evictions and invalidations go to `/metrics`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_graphql::Variables;
use parkgraph_persistence::Store;
use prometheus::IntCounter;
use sha2::Digest;

use crate::auth::Caller;

/// Root fields whose answers are never cached: they depend on the caller's own token
/// (`viewer`, `apiTokens`), on records written outside the change feed (`auditEvents`),
/// or on the search index, which follows the feed a moment after each commit (`search`,
/// `suggest`).
pub const UNCACHED_ROOTS: [&str; 5] = ["viewer", "apiTokens", "auditEvents", "search", "suggest"];

/// How the cache is sized and kept in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Whether answers are cached at all.
    pub enabled: bool,
    /// Most bytes of keys and answers held.
    pub max_bytes: u64,
    /// How often the feed's head is read for changes made elsewhere.
    pub follow_interval: Duration,
    /// `max-age` of `Cache-Control: public` on anonymous GET answers; 0 for `no-cache`
    /// (a shared cache keeps the answer but asks again, with its ETag, every time).
    pub public_max_age_seconds: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_bytes: 16 << 20,
            follow_interval: Duration::from_millis(100),
            public_max_age_seconds: 0,
        }
    }
}

/// A cached answer.
pub struct Entry {
    /// The generation it was computed in.
    generation: u64,
    /// The answer's `data`, serialized.
    pub data: Arc<[u8]>,
    /// The cost its execution measured (1 plus the items returned).
    pub cost: u64,
    etag: OnceLock<String>,
}

impl Entry {
    /// A strong ETag of the answer's data: the same data gives the same tag on every
    /// replica.
    pub fn etag(&self) -> &str {
        self.etag.get_or_init(|| etag_of(&self.data))
    }
}

/// A strong ETag of serialized data (the first 128 bits of its SHA-256).
pub fn etag_of(data: &[u8]) -> String {
    let digest = sha2::Sha256::digest(data);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..16] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    tag
}

#[derive(Clone)]
struct Bytes;

impl quick_cache::Weighter<String, Arc<Entry>> for Bytes {
    fn weight(&self, key: &String, entry: &Arc<Entry>) -> u64 {
        // The entry's own fields and the table slot, roughly, beside the two buffers.
        (key.len() + entry.data.len() + 96) as u64
    }
}

#[derive(Clone)]
struct Evictions(IntCounter);

impl quick_cache::Lifecycle<String, Arc<Entry>> for Evictions {
    type RequestState = ();

    fn begin_request(&self) -> Self::RequestState {}

    fn on_evict(&self, _state: &mut Self::RequestState, _key: String, _entry: Arc<Entry>) {
        self.0.inc();
    }
}

type Table = quick_cache::sync::Cache<String, Arc<Entry>, Bytes, quick_cache::DefaultHashBuilder, Evictions>;

/// The counters the cache moves, registered by [`crate::metrics::Metrics`].
#[derive(Clone)]
pub struct CacheCounters {
    /// Answers served from the cache.
    pub hits: IntCounter,
    /// Cacheable operations executed because no current answer was held.
    pub misses: IntCounter,
    /// Answers dropped to stay within the byte bound.
    pub evictions: IntCounter,
    /// Times every answer was dropped because the registry changed.
    pub invalidations: IntCounter,
}

/// What `/metrics` reports of the cache.
#[derive(Debug, Clone, Copy)]
pub struct CacheStats {
    /// Answers held.
    pub entries: usize,
    /// Bytes held (keys and answers).
    pub bytes: u64,
    /// The byte bound.
    pub capacity: u64,
}

/// The response cache of one replica.
pub struct ResponseCache {
    table: Table,
    generation: AtomicU64,
    /// The feed's head as last read (`i64::MIN` before the first read).
    head: AtomicI64,
    counters: CacheCounters,
    config: CacheConfig,
}

impl ResponseCache {
    /// An empty cache.
    pub fn new(config: CacheConfig, counters: CacheCounters) -> Self {
        // quick_cache wants an estimate of the entries: answers of a few kilobytes.
        let estimated = usize::try_from(config.max_bytes / 4096).unwrap_or(usize::MAX).clamp(64, 1 << 20);
        let table = Table::with(
            estimated,
            config.max_bytes.max(1),
            Bytes,
            quick_cache::DefaultHashBuilder::default(),
            Evictions(counters.evictions.clone()),
        );
        Self { table, generation: AtomicU64::new(0), head: AtomicI64::new(i64::MIN), counters, config }
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// The current generation: read it before executing an answer to store.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The current answer under `key`, counting a hit or a miss.
    pub fn get(&self, key: &str) -> Option<Arc<Entry>> {
        let found = self.table.get(key).filter(|entry| entry.generation == self.generation());
        match found {
            Some(entry) => {
                self.counters.hits.inc();
                Some(entry)
            }
            None => {
                self.counters.misses.inc();
                None
            }
        }
    }

    /// Stores an answer computed in `generation`, unless the registry changed since.
    pub fn insert(&self, key: String, generation: u64, data: Arc<[u8]>, cost: u64) -> Arc<Entry> {
        let entry = Arc::new(Entry { generation, data, cost, etag: OnceLock::new() });
        // An entry stored just after a racing invalidation carries the old generation,
        // so `get` never serves it; it only waits to be evicted.
        if generation == self.generation() {
            self.table.insert(key, entry.clone());
        }
        entry
    }

    /// Drops every answer: the registry changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.table.clear();
        self.counters.invalidations.inc();
    }

    /// Records the feed's head as read now; invalidates when it moved since the last read.
    pub fn saw_head(&self, head: i64) {
        let before = self.head.swap(head, Ordering::AcqRel);
        if before != i64::MIN && before != head {
            self.invalidate();
        }
    }

    /// Sizes for `/metrics`.
    pub fn stats(&self) -> CacheStats {
        CacheStats { entries: self.table.len(), bytes: self.table.weight(), capacity: self.table.capacity() }
    }

    /// Starts the task that reads the feed's head every `follow_interval` and invalidates
    /// the cache when it moved. A failed read is logged once and retried at the next tick;
    /// while the database cannot be read, the cache is dropped at each failure, so no
    /// answer outlives a change the task could not see.
    pub fn follow(self: &Arc<Self>, store: Store) -> tokio::task::JoinHandle<()> {
        let cache = Arc::downgrade(self);
        let interval = self.config.follow_interval;
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                ticker.tick().await;
                let Some(cache) = cache.upgrade() else { return };
                match store.feed_head().await {
                    Ok(head) => {
                        if failing {
                            tracing::info!(head, "the response cache follows the change feed again");
                            failing = false;
                        }
                        cache.saw_head(head);
                    }
                    Err(err) => {
                        if !failing {
                            tracing::warn!(%err, "the response cache could not read the change feed; dropping it");
                        }
                        failing = true;
                        cache.head.store(i64::MIN, Ordering::Release);
                        cache.invalidate();
                    }
                }
            }
        })
    }
}

/// The key of an operation for `caller` (see the module docs).
pub fn key(document: &str, operation_name: Option<&str>, variables: &Variables, caller: &Caller) -> String {
    let variables = serde_json::to_string(variables).unwrap_or_default();
    let normalized = normalize(document);
    let mut key = String::with_capacity(normalized.len() + variables.len() + 64);
    key.push_str(&format!("{:?}|{}|", caller.role, caller.jti.is_some()));
    for scope in &caller.scopes {
        key.push_str(&format!("{scope:?},"));
    }
    key.push('|');
    key.push_str(operation_name.unwrap_or(""));
    key.push('|');
    key.push_str(&variables);
    key.push('|');
    key.push_str(&normalized);
    key
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The document without what GraphQL ignores: comments, commas, and spacing outside
/// strings. Two documents that normalize alike are the same operation.
pub fn normalize(document: &str) -> String {
    let mut out = String::with_capacity(document.len());
    let mut chars = document.chars().peekable();
    let mut gap = false;
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                while chars.next_if(|c| *c != '\n' && *c != '\r').is_some() {}
                gap = true;
            }
            ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => gap = true,
            '"' => {
                gap = false;
                out.push('"');
                if chars.peek() == Some(&'"') {
                    chars.next();
                    out.push('"');
                    if chars.peek() == Some(&'"') {
                        // A block string: up to the next unescaped `"""`.
                        chars.next();
                        out.push('"');
                        let mut quotes = 0;
                        let mut escaped = false;
                        for c in chars.by_ref() {
                            out.push(c);
                            match c {
                                '\\' => {
                                    escaped = true;
                                    quotes = 0;
                                    continue;
                                }
                                '"' if !escaped => quotes += 1,
                                _ => quotes = 0,
                            }
                            escaped = false;
                            if quotes == 3 {
                                break;
                            }
                        }
                    }
                    // Else the empty string `""`.
                    continue;
                }
                let mut escaped = false;
                for c in chars.by_ref() {
                    out.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' || c == '\n' {
                        break;
                    }
                }
            }
            _ => {
                if gap && out.chars().next_back().is_some_and(is_name_char) && (is_name_char(c) || c == '.') {
                    out.push(' ');
                }
                gap = false;
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_commas_and_comments_do_not_change_the_key_strings_do() {
        let a = "query P($id: ID!) {\n  park(id: $id) { nameZh, kind } # the park\n}";
        let b = "query P($id:ID!){park(id:$id){nameZh kind}}";
        assert_eq!(normalize(a), normalize(b));
        assert_eq!(normalize(b), "query P($id:ID!){park(id:$id){nameZh kind}}");
        // Inside strings everything counts.
        assert_ne!(
            normalize(r#"{ search(query: "光谷 生物") { total } }"#),
            normalize(r#"{ search(query: "光谷生物") { total } }"#)
        );
        assert_ne!(normalize(r#"{ a(q: "x, y") }"#), normalize(r#"{ a(q: "x y") }"#));
        assert_eq!(normalize(r#"{ a(q: "say \"hi\", # not a comment") }"#), r#"{a(q:"say \"hi\", # not a comment")}"#);
        assert_eq!(normalize(r#"{ a(q: """block, \""" x""") b }"#), r#"{a(q:"""block, \""" x""")b}"#);
        assert_eq!(normalize("{ a(q: \"\") b }"), "{a(q:\"\")b}");
        // Names and numbers stay apart.
        assert_eq!(normalize("query  Q { a(first: 1) ... on Park { b } }"), "query Q{a(first:1)...on Park{b}}");
    }

    fn counters() -> CacheCounters {
        CacheCounters {
            hits: IntCounter::new("h", "h").expect("a counter"),
            misses: IntCounter::new("m", "m").expect("a counter"),
            evictions: IntCounter::new("e", "e").expect("a counter"),
            invalidations: IntCounter::new("i", "i").expect("a counter"),
        }
    }

    #[test]
    fn an_answer_computed_before_a_change_is_never_served_after_it() {
        let cache = ResponseCache::new(CacheConfig::default(), counters());
        let before = cache.generation();
        cache.insert("k".into(), before, Arc::from(&b"{}"[..]), 3);
        assert_eq!(cache.get("k").map(|e| e.cost), Some(3));
        // A change lands while a second answer is computed: it is not stored.
        let computing = cache.generation();
        cache.invalidate();
        cache.insert("k2".into(), computing, Arc::from(&b"{}"[..]), 1);
        assert!(cache.get("k").is_none());
        assert!(cache.get("k2").is_none());
        assert_eq!(cache.stats().entries, 0);
        // The feed's head moving is a change; the first read is not.
        cache.insert("k".into(), cache.generation(), Arc::from(&b"{}"[..]), 3);
        cache.saw_head(7);
        assert!(cache.get("k").is_some());
        cache.saw_head(7);
        assert!(cache.get("k").is_some());
        cache.saw_head(8);
        assert!(cache.get("k").is_none());
        assert_eq!(cache.counters.hits.get(), 3);
        assert_eq!(cache.counters.invalidations.get(), 2);
    }

    #[test]
    fn the_byte_bound_holds_and_evictions_are_counted() {
        let config = CacheConfig { max_bytes: 64 * 1024, ..CacheConfig::default() };
        let cache = ResponseCache::new(config, counters());
        for n in 0..1_000 {
            cache.insert(format!("key {n}"), cache.generation(), Arc::from(vec![b'x'; 1_000]), 1);
        }
        let stats = cache.stats();
        assert!(stats.bytes <= stats.capacity && stats.capacity <= 64 * 1024 + 4096, "{stats:?}");
        assert!(stats.entries < 100, "{stats:?}");
        assert!(cache.counters.evictions.get() > 900, "{}", cache.counters.evictions.get());
    }

    #[test]
    fn etags_depend_on_the_data_only() {
        assert_eq!(etag_of(b"{\"a\":1}"), etag_of(b"{\"a\":1}"));
        assert_ne!(etag_of(b"{\"a\":1}"), etag_of(b"{\"a\":2}"));
        assert_eq!(etag_of(b"x").len(), 34);
    }
}
