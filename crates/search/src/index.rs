//! [`SearchIndex`]: the tantivy index on disk, its schema, opening (or rebuilding) it,
//! applying the change feed to it, and the queries it answers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use parkgraph_persistence::entity::change;
use parkgraph_persistence::replay;
use parkgraph_persistence::write::{Change, EntityType};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{RemoveLongFilter, TextAnalyzer};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};
use uuid::Uuid;

use crate::SearchError;
use crate::facets::{DimCounter, SegmentValuesCache};
use crate::source::{self, DocKind, ParkTree, SearchDoc, Targets};
use crate::text::{self, CJK_TOKENIZER, CjkTokenizer, Unit};
use crate::union::SeekUnionQuery;

/// The version of the index's schema and analysis. An index written with another version
/// is rebuilt when opened.
pub const SCHEMA_VERSION: u32 = 5;

/// Pinyin prefixes up to this many letters are indexed as terms of their own
/// (`pinyin_prefix`), so a pinyin word of up to this length is one term look-up rather
/// than an expansion over every key that starts with it; longer words expand over the
/// full keys (and match few).
const PINYIN_PREFIX_LETTERS: usize = 8;

/// Name prefixes up to this many characters are indexed as terms (`starts`), for the
/// type-ahead bonus of a name that starts with what was typed.
const NAME_PREFIX_CHARS: usize = 12;

/// A unit of a query is read by seeking (see `union`) when it matches at least this many
/// times as many documents as the query's rarest unit: `武汉` (the city of nearly every
/// firm) beside `光电`, not `光谷` beside `生物`.
const SEEK_UNION_RATIO: u64 = 8;

/// Feed entries read per step when catching up.
const FEED_PAGE: u64 = 500;

/// Organizations per page when rebuilding.
const REBUILD_PAGE: u64 = 2000;

/// The marker file that says a directory holds a ParkGraph index (and may be emptied by a
/// rebuild).
const MARKER: &str = "parkgraph-search.marker";

/// What the index holds for a park: its park ids (itself and its ancestors) and names.
type StoredPark = (Vec<Uuid>, Vec<String>);

/// What the index's commit payload records.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
struct Payload {
    schema_version: u32,
    /// The last feed entry applied (0: none).
    seq: i64,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    kind: Field,
    name_zh: Field,
    name_en: Field,
    legal_name: Field,
    context: Field,
    context_pinyin: Field,
    pinyin: Field,
    pinyin_prefix: Field,
    initials: Field,
    exact: Field,
    starts: Field,
    uscc: Field,
    facets: Field,
    founded: Field,
    valuation: Field,
    capital: Field,
    headcount: Field,
}

fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let cjk = |stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(CJK_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored { options.set_stored() } else { options }
    };
    let number = tantivy::schema::NumericOptions::default().set_indexed().set_fast();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        name_zh: b.add_text_field("name_zh", cjk(true)),
        name_en: b.add_text_field("name_en", cjk(true)),
        legal_name: b.add_text_field("legal_name", cjk(true)),
        context: b.add_text_field("context", cjk(false)),
        context_pinyin: b.add_text_field("context_pinyin", STRING),
        pinyin: b.add_text_field("pinyin", STRING),
        pinyin_prefix: b.add_text_field("pinyin_prefix", STRING),
        initials: b.add_text_field("initials", STRING),
        exact: b.add_text_field("exact", STRING),
        starts: b.add_text_field("starts", STRING),
        uscc: b.add_text_field("uscc", STRING | STORED),
        facets: b.add_facet_field("facets", FacetOptions::default().set_stored()),
        founded: b.add_i64_field("founded", number.clone()),
        valuation: b.add_i64_field("valuation", number.clone()),
        capital: b.add_i64_field("capital", number.clone()),
        headcount: b.add_i64_field("headcount", number),
    };
    (b.build(), fields)
}

/// A filter dimension that is counted in facets and filtered on by exact value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// Record type (`organization`, `park`, …).
    Type,
    /// The record's own kind code.
    Kind,
    /// Industry.
    Industry,
    /// Designation kind.
    Designation,
    /// Park (including sub-parks).
    Park,
    /// Incubator.
    Incubator,
    /// Innovation center.
    Center,
    /// Second-headquarters parent group.
    SecondHqParent,
    /// City.
    City,
    /// District.
    District,
    /// Status.
    Status,
    /// Founded year.
    Year,
}

impl Dim {
    /// Every dimension.
    pub const ALL: [Self; 12] = [
        Self::Type,
        Self::Kind,
        Self::Industry,
        Self::Designation,
        Self::Park,
        Self::Incubator,
        Self::Center,
        Self::SecondHqParent,
        Self::City,
        Self::District,
        Self::Status,
        Self::Year,
    ];

    /// Its facet root.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Type => "type",
            Self::Kind => "kind",
            Self::Industry => "industry",
            Self::Designation => "designation",
            Self::Park => "park",
            Self::Incubator => "incubator",
            Self::Center => "center",
            Self::SecondHqParent => "parent",
            Self::City => "city",
            Self::District => "district",
            Self::Status => "status",
            Self::Year => "year",
        }
    }
}

/// An inclusive range; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Between<T> {
    /// At least this.
    pub min: Option<T>,
    /// At most this.
    pub max: Option<T>,
}

impl<T> Between<T> {
    fn is_open(&self) -> bool {
        self.min.is_none() && self.max.is_none()
    }
}

/// What a search is restricted to. Values within one dimension are alternatives (any
/// of them); dimensions and ranges all must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Exact values per dimension (a park's id also finds what is in its sub-parks).
    pub values: BTreeMap<Dim, Vec<String>>,
    /// Founded (established, approved) between these dates.
    pub founded: Between<NaiveDate>,
    /// Valuation in US dollars.
    pub valuation_usd: Between<i64>,
    /// Registered capital in yuan.
    pub registered_capital_cny: Between<i64>,
    /// Headcount.
    pub headcount: Between<i64>,
}

impl Filter {
    /// Adds alternatives for a dimension.
    pub fn with(mut self, dim: Dim, values: impl IntoIterator<Item = String>) -> Self {
        self.values.entry(dim).or_default().extend(values);
        self
    }
}

/// A search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The text typed (empty: every record that passes the filter).
    pub query: String,
    /// The filter.
    pub filter: Filter,
    /// The record types the caller may see; others are never returned or counted.
    pub visible: Vec<DocKind>,
    /// Hits to skip.
    pub offset: usize,
    /// Hits to return.
    pub limit: usize,
    /// Dimensions to count.
    pub facets: Vec<Dim>,
    /// Values returned per dimension counted, most frequent first (`None`: every value).
    pub facet_values: Option<usize>,
}

/// A highlighted field of a hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    /// `nameZh`, `nameEn` or `legalName`.
    pub field: &'static str,
    /// The field's text.
    pub text: String,
    /// Matched parts, as character ranges `[start, end)` of `text`.
    pub ranges: Vec<(usize, usize)>,
}

impl Highlight {
    /// The text with matched parts in `<em>…</em>` (the text is not HTML-escaped).
    pub fn html(&self) -> String {
        let mut out = String::new();
        let chars: Vec<char> = self.text.chars().collect();
        let mut at = 0;
        for &(start, end) in &self.ranges {
            out.extend(&chars[at..start]);
            out.push_str("<em>");
            out.extend(&chars[start..end]);
            out.push_str("</em>");
            at = end;
        }
        out.extend(&chars[at..]);
        out
    }
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The record.
    pub id: Uuid,
    /// Its type.
    pub kind: DocKind,
    /// Relevance (higher is better).
    pub score: f32,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Matched parts of the names.
    pub highlights: Vec<Highlight>,
}

/// Counts per value of one dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCounts {
    /// The dimension.
    pub dim: Dim,
    /// Values with their counts, most frequent first (ties by value).
    pub values: Vec<(String, u64)>,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Records matching in all.
    pub total: usize,
    /// The page of hits asked for.
    pub hits: Vec<Hit>,
    /// Counts per dimension asked for, each computed with the other dimensions' filters
    /// (a dimension's own selection does not narrow its own counts).
    pub facets: Vec<FacetCounts>,
}

/// How the index was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// The existing index was current enough to follow the feed from its cursor.
    Existing {
        /// The last feed entry it had applied.
        seq: i64,
    },
    /// It was rebuilt from the database.
    Rebuilt {
        /// Why.
        reason: String,
        /// Documents written.
        documents: u64,
    },
}

/// What a document takes from one of its context texts (a park's name, an industry, a
/// city): the text's pinyin keys and the industry glossary entries it speaks of.
#[derive(Debug, Default)]
struct Derived {
    pinyin: Vec<String>,
    industries: u32,
}

/// [`Derived`] by text. The same park names, cities and industries recur in thousands of
/// documents, so each is analysed once (the cache is emptied when it grows past a bound).
#[derive(Debug, Default)]
struct DerivedCache(Mutex<HashMap<String, Arc<Derived>>>);

impl DerivedCache {
    const MAX_ENTRIES: usize = 100_000;

    fn of(&self, text: &str) -> Arc<Derived> {
        let derive = || Arc::new(Derived { pinyin: text::pinyin_keys(text).0, industries: text::industries_of(text) });
        let Ok(mut cache) = self.0.lock() else { return derive() };
        if let Some(found) = cache.get(text) {
            return found.clone();
        }
        if cache.len() >= Self::MAX_ENTRIES {
            cache.clear();
        }
        let derived = derive();
        cache.insert(text.to_string(), derived.clone());
        derived
    }
}

/// The memory budget of the writer that follows the feed, in bytes (tantivy's least): its
/// commits hold the few documents of a page of changes.
const FOLLOW_BUDGET: usize = 15_000_000;

/// How long reopening the writer waits for its lock (see [`SearchIndex::reopen_writer`]).
const WRITER_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The memory budget of the writer of a rebuild, in bytes: larger segments, fewer to merge.
const REBUILD_BUDGET: usize = 50_000_000;

/// The index writer, locked.
struct WriterGuard<'a>(std::sync::MutexGuard<'a, Option<IndexWriter>>);

impl std::ops::Deref for WriterGuard<'_> {
    type Target = IndexWriter;
    fn deref(&self) -> &IndexWriter {
        match self.0.as_ref() {
            Some(writer) => writer,
            None => unreachable!("a guard is only made over a writer"),
        }
    }
}

impl std::ops::DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut IndexWriter {
        match self.0.as_mut() {
            Some(writer) => writer,
            None => unreachable!("a guard is only made over a writer"),
        }
    }
}

/// The search index: one per server replica, in its own directory, following the feed.
pub struct SearchIndex {
    derived: DerivedCache,
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    /// None only if a writer could not be reopened after the one before it was dropped.
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    cursor: AtomicI64,
    catching_up: tokio::sync::Mutex<()>,
    facet_values: SegmentValuesCache,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("dir", &self.dir).field("cursor", &self.cursor()).finish()
    }
}

fn register_tokenizers(index: &Index) {
    let analyzer = TextAnalyzer::builder(CjkTokenizer::default()).filter(RemoveLongFilter::limit(64)).build();
    index.tokenizers().register(CJK_TOKENIZER, analyzer);
}

async fn feed_bounds(conn: &impl ConnectionTrait) -> Result<(i64, i64), SearchError> {
    let first = change::Entity::find().order_by_asc(change::Column::Seq).one(conn).await.map_err(store)?;
    let last = change::Entity::find().order_by_desc(change::Column::Seq).one(conn).await.map_err(store)?;
    Ok((first.map_or(0, |c| c.seq), last.map_or(0, |c| c.seq)))
}

fn store(err: sea_orm::DbErr) -> SearchError {
    SearchError::Store(err.into())
}

impl SearchIndex {
    /// Opens the index in `dir`, or rebuilds it from the database when it is missing,
    /// unreadable or corrupt, of another schema version, or does not fit the database's
    /// feed (ahead of it, or behind its oldest entry). `progress` is told how many
    /// documents a rebuild will write, then each page written.
    pub async fn open(
        dir: &Path,
        conn: &impl ConnectionTrait,
        progress: &dyn Fn(Progress),
    ) -> Result<(Self, Opened), SearchError> {
        let (first, last) = feed_bounds(conn).await?;
        let reason = match Self::open_existing(dir) {
            Ok(index) => {
                let seq = index.cursor();
                if seq > last {
                    format!("it has applied feed entry {seq}, but the database's feed ends at {last}")
                } else if first > seq + 1 {
                    format!("it has applied feed entry {seq}, but the database's feed starts at {first}")
                } else {
                    return Ok((index, Opened::Existing { seq }));
                }
            }
            Err(reason) => reason,
        };
        tracing::info!(dir = %dir.display(), %reason, "rebuilding the search index");
        let index = Self::create(dir)?;
        let documents = index.rebuild(conn, progress).await?;
        Ok((index, Opened::Rebuilt { reason, documents }))
    }

    /// Rebuilds the index in `dir` from the database, whatever it holds.
    pub async fn rebuild_in(
        dir: &Path,
        conn: &impl ConnectionTrait,
        progress: &dyn Fn(Progress),
    ) -> Result<(Self, u64), SearchError> {
        let index = Self::create(dir)?;
        let documents = index.rebuild(conn, progress).await?;
        Ok((index, documents))
    }

    fn open_existing(dir: &Path) -> Result<Self, String> {
        if !dir.join("meta.json").exists() {
            return Err(format!("there is no index in {}", dir.display()));
        }
        let index = Index::open_in_dir(dir).map_err(|e| format!("the index does not open: {e}"))?;
        let (schema, fields) = build_schema();
        if index.schema() != schema {
            return Err("the index was built with another schema".into());
        }
        let metas = index.load_metas().map_err(|e| format!("the index's metadata does not read: {e}"))?;
        let payload: Payload = metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .ok_or_else(|| "the index records no feed cursor".to_string())?;
        if payload.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "the index has schema version {}, this build writes {SCHEMA_VERSION}",
                payload.schema_version
            ));
        }
        let corrupt = index.validate_checksum().map_err(|e| format!("the index's files do not read: {e}"))?;
        if !corrupt.is_empty() {
            return Err(format!("{} of the index's files are corrupt", corrupt.len()));
        }
        Self::wrap(dir, index, fields, payload.seq).map_err(|e| format!("the index does not open: {e}"))
    }

    fn wrap(dir: &Path, index: Index, fields: Fields, seq: i64) -> Result<Self, SearchError> {
        register_tokenizers(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer_with_num_threads(1, FOLLOW_BUDGET)?;
        let searcher = reader.searcher();
        searcher.search(&AllQuery, &Count)?;
        Ok(Self {
            derived: DerivedCache::default(),
            dir: dir.to_path_buf(),
            index,
            reader,
            writer: Mutex::new(Some(writer)),
            fields,
            cursor: AtomicI64::new(seq),
            catching_up: tokio::sync::Mutex::new(()),
            facet_values: SegmentValuesCache::default(),
        })
    }

    /// An empty index in `dir`, after removing what was there (only a ParkGraph index or
    /// an empty directory is removed; anything else is an error).
    fn create(dir: &Path) -> Result<Self, SearchError> {
        if dir.exists() {
            let mut entries = std::fs::read_dir(dir)?;
            let ours = dir.join(MARKER).exists() || dir.join("meta.json").exists();
            if entries.next().is_some() && !ours {
                return Err(SearchError::Invalid(format!(
                    "{} holds files that are not a ParkGraph search index; not removing them",
                    dir.display()
                )));
            }
            // Another process (a running server) writing this index holds its lock.
            if let Ok(existing) = Index::open_in_dir(dir)
                && let Err(tantivy::TantivyError::LockFailure(..)) =
                    existing.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)
            {
                return Err(SearchError::Invalid(format!(
                    "another process is writing the index in {}; stop it first",
                    dir.display()
                )));
            }
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join(MARKER), "ParkGraph search index: rebuilt from the database when needed\n")?;
        let (schema, fields) = build_schema();
        let index = Index::create_in_dir(dir, schema)?;
        Self::wrap(dir, index, fields, 0)
    }

    async fn rebuild(&self, conn: &impl ConnectionTrait, progress: &dyn Fn(Progress)) -> Result<u64, SearchError> {
        // The feed's end before reading: every change up to it is committed and seen by the
        // reads below; later ones are applied by `catch_up` (reloading is idempotent).
        let (_, last) = feed_bounds(conn).await?;
        progress(Progress::Total(source::count_live(conn).await?));
        let mut written = 0u64;
        self.reopen_writer(REBUILD_BUDGET)?;
        {
            let writer = self.lock_writer()?;
            writer.delete_all_documents()?;
            // Segments are merged into one at the end, not while the rebuild writes them.
            writer.set_merge_policy(Box::new(tantivy::merge_policy::NoMergePolicy));
        }
        source::load_all(conn, REBUILD_PAGE, |docs| {
            let writer = self.lock_writer().map_err(|e| parkgraph_persistence::StoreError::Invalid(e.to_string()))?;
            for doc in &docs {
                writer
                    .add_document(self.to_document(doc))
                    .map_err(|e| parkgraph_persistence::StoreError::Invalid(e.to_string()))?;
            }
            written += docs.len() as u64;
            progress(Progress::Written(docs.len() as u64));
            Ok(())
        })
        .await?;
        self.commit(last)?;
        self.merge_all()?;
        // The rebuild's writer goes with its indexing thread and the memory it indexed with
        // (tens of MiB the allocator would otherwise keep for that idle thread).
        self.reopen_writer(FOLLOW_BUDGET)?;
        Ok(written)
    }

    /// Merges every segment into one (a rebuild writes dozens, and each query pays for
    /// each segment: term look-ups, prefix expansions, facet set-up), then restores the
    /// default merge policy for the follower's small commits.
    fn merge_all(&self) -> Result<(), SearchError> {
        let ids: Vec<tantivy::index::SegmentId> =
            self.reader.searcher().segment_readers().iter().map(|s| s.segment_id()).collect();
        {
            let mut writer = self.lock_writer()?;
            if ids.len() > 1 {
                writer.merge(&ids).wait()?;
                writer.garbage_collect_files().wait()?;
            }
            writer.set_merge_policy(Box::new(tantivy::merge_policy::LogMergePolicy::default()));
        }
        self.reader.reload()?;
        Ok(())
    }

    fn writer_slot(&self) -> Result<std::sync::MutexGuard<'_, Option<IndexWriter>>, SearchError> {
        self.writer.lock().map_err(|_| SearchError::Invalid("the index writer was poisoned by a panic".into()))
    }

    fn lock_writer(&self) -> Result<WriterGuard<'_>, SearchError> {
        let guard = self.writer_slot()?;
        if guard.is_none() {
            return Err(SearchError::Invalid("the index writer could not be reopened; restart the server".into()));
        }
        Ok(WriterGuard(guard))
    }

    /// Replaces the writer by one of `budget` bytes. The old one is dropped first (one
    /// writer holds the index's lock at a time): its indexing thread ends, and with it
    /// the memory that thread's allocator heap kept.
    ///
    /// The lock is taken again with a short wait: it is a `flock` on a file, and a child
    /// process forked by this one at that moment (a test harness running the CLI, say)
    /// holds a copy of the file handle, and so the lock, until it executes its program.
    fn reopen_writer(&self, budget: usize) -> Result<(), SearchError> {
        let mut guard = self.writer_slot()?;
        *guard = None;
        let deadline = std::time::Instant::now() + WRITER_LOCK_WAIT;
        let writer = loop {
            match self.index.writer_with_num_threads(1, budget) {
                Err(tantivy::TantivyError::LockFailure(..)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => break other?,
            }
        };
        *guard = Some(writer);
        Ok(())
    }

    fn commit(&self, seq: i64) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        let mut prepared = writer.prepare_commit()?;
        let payload = serde_json::to_string(&Payload { schema_version: SCHEMA_VERSION, seq })
            .map_err(|e| SearchError::Invalid(e.to_string()))?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        drop(writer);
        self.reader.reload()?;
        self.cursor.store(seq, Ordering::Release);
        Ok(())
    }

    /// The directory of the index.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last feed entry applied (0: none).
    pub fn cursor(&self) -> i64 {
        self.cursor.load(Ordering::Acquire)
    }

    /// Applies every feed entry after the cursor; returns how many were read. One call
    /// runs at a time.
    pub async fn catch_up(&self, conn: &impl ConnectionTrait) -> Result<u64, SearchError> {
        let _one = self.catching_up.lock().await;
        let mut read = 0;
        loop {
            let cursor = self.cursor();
            let changes = replay::read(conn, (cursor > 0).then_some(cursor), FEED_PAGE).await?;
            let Some(last) = changes.last().map(|c| c.seq) else { break };
            let tree = ParkTree::load(conn).await?;
            let targets = self.targets(conn, &tree, &changes).await?;
            let docs = source::load(conn, &tree, &targets).await?;
            {
                let writer = self.lock_writer()?;
                for (id, doc) in &docs {
                    writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
                    if let Some(doc) = doc {
                        writer.add_document(self.to_document(doc))?;
                    }
                }
            }
            self.commit(last)?;
            read += changes.len() as u64;
            if (changes.len() as u64) < FEED_PAGE {
                break;
            }
        }
        Ok(read)
    }

    /// The records whose documents a run of feed entries changes.
    async fn targets(
        &self,
        conn: &impl ConnectionTrait,
        tree: &ParkTree,
        changes: &[Change],
    ) -> Result<Targets, SearchError> {
        let mut t = Targets::default();
        let uuid_of = |c: &Change, key: &str| -> Option<Uuid> {
            c.after.as_ref().and_then(|a| a.get(key)).and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok())
        };
        let mut moved_parks = HashSet::new();
        for c in changes {
            match c.entity_type {
                EntityType::Organization => {
                    t.organizations.insert(c.entity_id);
                }
                EntityType::Designation
                | EntityType::EnterpriseLocation
                | EntityType::Incubation
                | EntityType::InnovationCenterMembership => {
                    t.organizations.extend(uuid_of(c, "organization_id"));
                }
                EntityType::SecondHeadquarters => {
                    t.organizations.extend(uuid_of(c, "local_entity_id"));
                }
                EntityType::Park => {
                    t.parks.insert(c.entity_id);
                    // A park that moved, was renamed, or left the live registry changes
                    // the ancestors or place names of everything inside it.
                    let mut now = Vec::new();
                    tree.with_ancestors(c.entity_id, &mut now);
                    let names = tree.names_of(&[c.entity_id]);
                    if let Some((parks, stored_names)) = self.stored_park(c.entity_id)?
                        && (!same_set(&parks, &now) || stored_names != names)
                    {
                        moved_parks.insert(c.entity_id);
                    }
                }
                EntityType::Incubator => {
                    t.incubators.insert(c.entity_id);
                }
                EntityType::InnovationCenter => {
                    t.centers.insert(c.entity_id);
                }
                EntityType::ParkDesignation | EntityType::Figure | EntityType::CityDesignation => {}
            }
        }
        if !moved_parks.is_empty() {
            let mut inside = HashSet::new();
            for park in &moved_parks {
                inside.extend(tree.subtree(*park));
            }
            t.organizations.extend(source::organizations_in_parks(conn, &inside).await?);
            let (incubators, centers) = source::hosted_in_parks(conn, &inside).await?;
            t.incubators.extend(incubators);
            t.centers.extend(centers);
            t.parks.extend(inside);
        }
        Ok(t)
    }

    /// The park ids (with ancestors) and the names the index holds for a park's document.
    fn stored_park(&self, park: Uuid) -> Result<Option<StoredPark>, SearchError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(Term::from_field_text(self.fields.id, &park.to_string()), IndexRecordOption::Basic);
        let Some((_, address)) = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?.into_iter().next()
        else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(address)?;
        let prefix = format!("{}\0", Dim::Park.code());
        let parks = doc
            .get_all(self.fields.facets)
            .filter_map(|v| v.as_facet())
            .filter_map(|f| f.strip_prefix(&prefix))
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect();
        let names = [self.fields.name_zh, self.fields.name_en]
            .into_iter()
            .filter_map(|field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        Ok(Some((parks, names)))
    }

    fn to_document(&self, doc: &SearchDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        let kind = doc.kind.unwrap_or(DocKind::Organization);
        d.add_text(f.id, doc.id.to_string());
        d.add_text(f.kind, kind.code());
        d.add_text(f.name_zh, &doc.name_zh);
        let mut names = vec![doc.name_zh.as_str()];
        if let Some(en) = &doc.name_en {
            d.add_text(f.name_en, en);
            names.push(en);
        }
        if let Some(legal) = &doc.legal_name {
            d.add_text(f.legal_name, legal);
            names.push(legal);
        }
        let mut starts = HashSet::new();
        for name in &names {
            let lower = name.to_lowercase();
            for (at, c) in lower.char_indices().take(NAME_PREFIX_CHARS) {
                starts.insert(lower[..at + c.len_utf8()].to_string());
            }
            d.add_text(f.exact, lower);
        }
        for prefix in starts {
            d.add_text(f.starts, prefix);
        }
        let mut pinyin = HashSet::new();
        let mut initials = HashSet::new();
        for name in [Some(&doc.name_zh), doc.legal_name.as_ref()].into_iter().flatten() {
            let (full, first) = text::pinyin_keys(name);
            pinyin.extend(full);
            initials.extend(first);
        }
        let mut prefixes = HashSet::new();
        for key in &pinyin {
            for (at, c) in key.char_indices().take(PINYIN_PREFIX_LETTERS) {
                prefixes.insert(key[..at + c.len_utf8()].to_string());
            }
        }
        for key in pinyin {
            d.add_text(f.pinyin, key);
        }
        for prefix in prefixes {
            d.add_text(f.pinyin_prefix, prefix);
        }
        for key in initials {
            d.add_text(f.initials, key);
        }
        let mut context_pinyin = HashSet::new();
        let mut industries = [Some(&doc.name_zh), doc.legal_name.as_ref()]
            .into_iter()
            .flatten()
            .fold(0, |set, name| set | text::industries_of(name));
        for context in [&doc.industry, &doc.city, &doc.district].into_iter().flatten().chain(&doc.place_names) {
            d.add_text(f.context, context);
            let derived = self.derived.of(context);
            context_pinyin.extend(derived.pinyin.iter().cloned());
            industries |= derived.industries;
        }
        for key in context_pinyin {
            d.add_text(f.context_pinyin, key);
        }
        for terms in text::industry_terms_of(industries) {
            d.add_text(f.context, terms);
        }
        for terms in doc.designations.iter().filter_map(|code| text::designation_terms(code)) {
            d.add_text(f.context, terms);
        }
        if let Some(uscc) = &doc.uscc {
            d.add_text(f.uscc, uscc.to_uppercase());
        }
        let mut facet = |dim: Dim, value: &str| {
            if !value.is_empty() {
                d.add_facet(f.facets, tantivy::schema::Facet::from_path([dim.code(), value]));
            }
        };
        facet(Dim::Type, kind.code());
        for (dim, value) in [
            (Dim::Kind, &doc.subkind),
            (Dim::Industry, &doc.industry),
            (Dim::City, &doc.city),
            (Dim::District, &doc.district),
            (Dim::Status, &doc.status),
        ] {
            if let Some(value) = value {
                facet(dim, value);
            }
        }
        for value in &doc.designations {
            facet(Dim::Designation, value);
        }
        for (dim, ids) in [
            (Dim::Park, &doc.park_ids),
            (Dim::Incubator, &doc.incubator_ids),
            (Dim::Center, &doc.center_ids),
            (Dim::SecondHqParent, &doc.second_hq_parent_ids),
        ] {
            for id in ids {
                facet(dim, &id.to_string());
            }
        }
        if let Some(founded) = doc.founded_on {
            facet(Dim::Year, &founded.year().to_string());
            d.add_i64(f.founded, days(founded));
        }
        for (field, value) in
            [(f.valuation, doc.valuation_usd), (f.capital, doc.registered_capital_cny), (f.headcount, doc.headcount)]
        {
            if let Some(value) = value {
                d.add_i64(field, value);
            }
        }
        d
    }

    /// Runs a search (see [`SearchRequest`]).
    ///
    /// The hits, the total and the counts of every dimension the filter does not select
    /// on are collected in one pass over the matching documents; a dimension the filter
    /// selects on is counted without its own selection, in a pass of its own.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let text = self.text_query(&searcher, &request.query, false);
        let query = self.full_query(&searcher, text.as_deref(), &request.filter, &request.visible, None);
        let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset).order_by_score();
        let shared: Vec<Dim> =
            request.facets.iter().copied().filter(|dim| !request.filter.values.contains_key(dim)).collect();
        let counter =
            |dims| DimCounter { field: "facets", dims, limit: request.facet_values, cache: &self.facet_values };
        let (top, total, mut counted) = if shared.is_empty() {
            let (top, total) = searcher.search(&query, &(top, Count))?;
            (top, total, Vec::new())
        } else {
            searcher.search(&query, &(top, Count, counter(&shared)))?
        };
        // A dimension the filter selects on is counted without its own selection.
        for dim in request.facets.iter().filter(|dim| !shared.contains(dim)) {
            let query = self.full_query(&searcher, text.as_deref(), &request.filter, &request.visible, Some(*dim));
            counted.extend(searcher.search(&query, &counter(std::slice::from_ref(dim)))?);
        }
        self.facet_values.keep_only(searcher.segment_readers().iter().map(tantivy::SegmentReader::segment_id));
        let top = if request.limit == 0 { Vec::new() } else { top };
        let units = text::units(&request.query);
        let hits = top
            .into_iter()
            .map(|(score, address)| self.hit(&searcher, score, address, &units))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        let facets = request
            .facets
            .iter()
            .map(|dim| {
                let values = counted.iter().find(|(d, _)| d == dim).map(|(_, v)| v.clone()).unwrap_or_default();
                FacetCounts { dim: *dim, values }
            })
            .collect();
        Ok(SearchResults { total, hits, facets })
    }

    /// Type-ahead: up to `limit` records whose names (or their pinyin, or initials) start
    /// with, or contain, what was typed; best first, names that start with it above the rest.
    pub fn suggest(&self, prefix: &str, visible: &[DocKind], limit: usize) -> Result<Vec<Hit>, SearchError> {
        let searcher = self.reader.searcher();
        let Some(text) = self.text_query(&searcher, prefix, true) else { return Ok(Vec::new()) };
        let typed = prefix.trim().to_lowercase();
        let exact_prefix = starts_with(self.fields.starts, self.fields.exact, &typed, NAME_PREFIX_CHARS);
        // What was typed matches as a query, or a whole name starts with it (its last word
        // may be a single letter: "Optics Valley B" completes to Optics Valley Biolake).
        let boosted: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (Occur::Should, text),
            (Occur::Should, Box::new(BoostQuery::new(exact_prefix, 5.0))),
        ]));
        let query = self.full_query(&searcher, Some(&*boosted), &Filter::default(), visible, None);
        let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        let units = text::units(prefix);
        Ok(top
            .into_iter()
            .take(limit)
            .map(|(score, address)| self.hit(&searcher, score, address, &units))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Segments searched (for tests and status): one after a rebuild, more as the feed
    /// is applied, until tantivy merges them.
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Documents in the index that `visible` may see (for tests and status).
    pub fn count(&self, visible: &[DocKind]) -> Result<usize, SearchError> {
        let searcher = self.reader.searcher();
        let query = self.full_query(&searcher, None, &Filter::default(), visible, None);
        Ok(searcher.search(&query, &Count)?)
    }

    fn hit(
        &self,
        searcher: &Searcher,
        score: f32,
        address: DocAddress,
        units: &[Unit],
    ) -> Result<Option<Hit>, SearchError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text_of = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
        let Some(id) = text_of(self.fields.id).and_then(|s| Uuid::parse_str(&s).ok()) else { return Ok(None) };
        let Some(kind) = text_of(self.fields.kind).and_then(|s| DocKind::parse(&s)) else { return Ok(None) };
        let name_zh = text_of(self.fields.name_zh).unwrap_or_default();
        let name_en = text_of(self.fields.name_en);
        let legal = text_of(self.fields.legal_name);
        let highlights = [("nameZh", Some(&name_zh)), ("nameEn", name_en.as_ref()), ("legalName", legal.as_ref())]
            .into_iter()
            .filter_map(|(field, text)| text.and_then(|t| highlight(field, t, units)))
            .collect();
        Ok(Some(Hit { id, kind, score, name_zh, name_en, highlights }))
    }

    /// The text part of a query: every unit typed must match somewhere (see the crate
    /// docs for the fields and boosts); `typing` (type-ahead) lets the last word match an
    /// English word by prefix however short it is. `None` for an empty query.
    fn text_query(&self, searcher: &Searcher, query: &str, typing: bool) -> Option<Box<dyn Query>> {
        let f = &self.fields;
        let units = text::units(query);
        if units.is_empty() {
            return None;
        }
        let term = |field: Field, text: &str| Term::from_field_text(field, text);
        // Roughly how many documents a unit matches, from its plainest terms: the rarest
        // unit leads the intersection (walked as tantivy's union, fastest from start to
        // end); the others are only asked about its matches (read by seeking, see `union`).
        let documents = |fields: &[Field], text: &str| -> u64 {
            fields.iter().map(|field| searcher.doc_freq(&term(*field, text)).unwrap_or(0)).fold(0, u64::saturating_add)
        };
        let mut sizes = Vec::with_capacity(units.len());
        let mut alternatives = Vec::with_capacity(units.len());
        let scored = |field: Field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(term(field, text), IndexRecordOption::WithFreqs))
        };
        let boost =
            |q: Box<dyn Query>, b: f32| -> (Occur, Box<dyn Query>) { (Occur::Should, Box::new(BoostQuery::new(q, b))) };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, unit) in units.iter().enumerate() {
            let should: Vec<(Occur, Box<dyn Query>)> = match unit {
                Unit::Cjk(run) => {
                    let terms = text::cjk_query_terms(run);
                    // Consecutive bigrams: the run as a substring of one value, never
                    // pieced together from two values (a park's name and its zone's).
                    let all = |field: Field| -> Box<dyn Query> {
                        if terms.len() == 1 {
                            scored(field, &terms[0])
                        } else {
                            Box::new(PhraseQuery::new(terms.iter().map(|t| term(field, t)).collect()))
                        }
                    };
                    sizes.push(documents(&[f.name_zh, f.legal_name, f.context], &terms[0]));
                    vec![boost(all(f.name_zh), 3.0), boost(all(f.legal_name), 2.0), boost(all(f.context), 0.5)]
                }
                Unit::Word(word) => {
                    let mut size = documents(&[f.name_en, f.name_zh, f.legal_name, f.context, f.initials], word);
                    if word.chars().count() <= PINYIN_PREFIX_LETTERS {
                        size = size.saturating_add(documents(&[f.pinyin_prefix], word));
                    }
                    sizes.push(size);
                    let mut should = vec![
                        boost(scored(f.name_en, word), 2.0),
                        boost(scored(f.name_zh, word), 2.0),
                        boost(scored(f.legal_name, word), 1.5),
                        boost(scored(f.context, word), 0.5),
                        boost(starts_with(f.pinyin_prefix, f.pinyin, word, PINYIN_PREFIX_LETTERS), 2.0),
                        boost(Box::new(FuzzyTermQuery::new_prefix(term(f.initials, word), 0, false)), 1.5),
                        boost(scored(f.uscc, &word.to_uppercase()), 10.0),
                    ];
                    // Being typed, the last word is a prefix however short ("Optics Valley B").
                    let typed = typing && i + 1 == units.len();
                    if typed && word.chars().count() < 2 {
                        should.push(boost(Box::new(FuzzyTermQuery::new_prefix(term(f.name_en, word), 0, false)), 1.2));
                    }
                    if word.chars().count() >= 2 {
                        should.push(boost(Box::new(FuzzyTermQuery::new_prefix(term(f.name_en, word), 0, false)), 1.2));
                        should.push(boost(Box::new(FuzzyTermQuery::new_prefix(term(f.context, word), 0, false)), 0.3));
                    }
                    // Not in type-ahead, which completes names: a firm in a 光谷 park would
                    // otherwise outrank the 光谷 parks themselves for `guang`.
                    if word.chars().count() >= 3 && !typing {
                        let pinyin = FuzzyTermQuery::new_prefix(term(f.context_pinyin, word), 0, false);
                        should.push(boost(Box::new(pinyin), 0.3));
                    }
                    let distance = typo_distance(word);
                    if distance > 0 {
                        should.push(boost(Box::new(FuzzyTermQuery::new(term(f.name_en, word), distance, true)), 1.0));
                        should.push(boost(Box::new(FuzzyTermQuery::new(term(f.context, word), distance, true)), 0.3));
                    }
                    should
                }
            };
            alternatives.push(should);
        }
        let lead = (0..sizes.len()).min_by_key(|i| sizes[*i]).unwrap_or(0);
        let dense = sizes[lead].max(1).saturating_mul(SEEK_UNION_RATIO);
        for (i, should) in alternatives.into_iter().enumerate() {
            // Seeking pays off when the lead's matches are far apart in this unit's: a
            // unit of comparable size is as cheap to walk window by window.
            let unit: Box<dyn Query> = if i == lead || sizes[i] < dense {
                Box::new(BooleanQuery::new(should))
            } else {
                Box::new(SeekUnionQuery::new(should.into_iter().map(|(_, q)| q).collect()))
            };
            clauses.push((Occur::Must, unit));
        }
        let whole = query.trim().to_lowercase();
        clauses.push(boost(scored(f.exact, &whole), 10.0));
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// The text query (or every document) restricted by the filter (leaving out one
    /// dimension's own values, for its facet counts) and by the visible types.
    fn full_query(
        &self,
        searcher: &Searcher,
        text: Option<&dyn Query>,
        filter: &Filter,
        visible: &[DocKind],
        skip: Option<Dim>,
    ) -> Box<dyn Query> {
        let f = &self.fields;
        if visible.is_empty() {
            return Box::new(EmptyQuery);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            match text {
                Some(q) => q.box_clone(),
                None => Box::new(AllQuery),
            },
        )];
        let facet_term = |dim: Dim, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_facet(f.facets, &tantivy::schema::Facet::from_path([dim.code(), value])),
                IndexRecordOption::Basic,
            ))
        };
        let any_of = |mut queries: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            let union = if queries.len() == 1 { queries.remove(0) } else { Box::new(BooleanQuery::union(queries)) };
            Box::new(ConstScoreQuery::new(union, 0.0))
        };
        // The types the caller may see, or (when fewer documents) those it may not: every
        // match is checked against this clause, and checking a short list of documents
        // (a few thousand parks) costs far less than a long one (a million firms).
        let hidden: Vec<DocKind> = DocKind::ALL.into_iter().filter(|k| !visible.contains(k)).collect();
        if !hidden.is_empty() {
            let documents = |kinds: &[DocKind]| -> u64 {
                kinds
                    .iter()
                    .map(|k| {
                        let term = Term::from_facet(
                            f.facets,
                            &tantivy::schema::Facet::from_path([Dim::Type.code(), k.code()]),
                        );
                        searcher.doc_freq(&term).unwrap_or(u64::MAX)
                    })
                    .fold(0, u64::saturating_add)
            };
            let terms = |kinds: &[DocKind]| kinds.iter().map(|k| facet_term(Dim::Type, k.code())).collect();
            if documents(visible) <= documents(&hidden) {
                clauses.push((Occur::Must, any_of(terms(visible))));
            } else {
                clauses.push((Occur::MustNot, any_of(terms(&hidden))));
            }
        }
        for (dim, values) in &filter.values {
            if Some(*dim) == skip {
                continue;
            }
            clauses.push((Occur::Must, any_of(values.iter().map(|v| facet_term(*dim, v)).collect())));
        }
        let mut range = |field: Field, between: Between<i64>| {
            if between.is_open() {
                return;
            }
            let lower = between.min.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(field, v)));
            let upper = between.max.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(field, v)));
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(RangeQuery::new(lower, upper)), 0.0))));
        };
        range(f.founded, Between { min: filter.founded.min.map(days), max: filter.founded.max.map(days) });
        range(f.valuation, filter.valuation_usd);
        range(f.capital, filter.registered_capital_cny);
        range(f.headcount, filter.headcount);
        Box::new(BooleanQuery::new(clauses))
    }
}

/// Values of `full` that start with `text`, each scoring 1: one term of `prefixes` (where
/// the first `indexed` characters of every value are terms) when `text` is that short,
/// else an expansion over `full`'s terms.
fn starts_with(prefixes: Field, full: Field, text: &str, indexed: usize) -> Box<dyn Query> {
    if text.chars().count() <= indexed {
        let term = TermQuery::new(Term::from_field_text(prefixes, text), IndexRecordOption::Basic);
        Box::new(ConstScoreQuery::new(Box::new(term), 1.0))
    } else {
        Box::new(FuzzyTermQuery::new_prefix(Term::from_field_text(full, text), 0, false))
    }
}

fn same_set(a: &[Uuid], b: &[Uuid]) -> bool {
    let a: HashSet<&Uuid> = a.iter().collect();
    let b: HashSet<&Uuid> = b.iter().collect();
    a == b
}

fn days(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

/// How many typos a word may carry: none up to 3 letters, one up to 7, two beyond.
pub fn typo_distance(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Levenshtein distance (with adjacent transpositions counting one), for highlights.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// The parts of `text` that the query's units match: Chinese substrings, words equal to,
/// starting with, or a typo away from a query word.
fn highlight(field: &'static str, text: &str, units: &[Unit]) -> Option<Highlight> {
    let chars: Vec<char> = text.chars().collect();
    let mut marked = vec![false; chars.len()];
    let syllables = text::char_pinyin(text);
    for unit in units {
        match unit {
            Unit::Cjk(run) => {
                let run: Vec<char> = run.chars().collect();
                if run.len() <= chars.len() {
                    for start in 0..=(chars.len() - run.len()) {
                        if chars[start..start + run.len()] == run[..] {
                            marked[start..start + run.len()].iter_mut().for_each(|m| *m = true);
                        }
                    }
                }
            }
            Unit::Word(word) => {
                let word: Vec<char> = word.chars().collect();
                let mut i = 0;
                while i < chars.len() {
                    if chars[i].is_alphanumeric() && !text::is_cjk(chars[i]) {
                        let start = i;
                        while i < chars.len() && chars[i].is_alphanumeric() && !text::is_cjk(chars[i]) {
                            i += 1;
                        }
                        let token: Vec<char> = chars[start..i].iter().flat_map(|c| c.to_lowercase()).collect();
                        let matches = token.starts_with(&word)
                            || edit_distance(&token, &word)
                                <= usize::from(typo_distance(&word.iter().collect::<String>()));
                        if matches {
                            marked[start..i].iter_mut().for_each(|m| *m = true);
                        }
                    } else {
                        i += 1;
                    }
                }
                let word: String = word.iter().collect();
                mark_pinyin(&syllables, &word, &mut marked);
            }
        }
    }
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < marked.len() {
        if marked[i] {
            let start = i;
            while i < marked.len() && marked[i] {
                i += 1;
            }
            ranges.push((start, i));
        } else {
            i += 1;
        }
    }
    (!ranges.is_empty()).then(|| Highlight { field, text: text.to_string(), ranges })
}

/// Marks the characters whose pinyin (in full, or their initials) spells `word` from
/// its first letter, as the pinyin keys match it: 光谷 for guanggu, guangg or gg.
fn mark_pinyin(syllables: &[Option<String>], word: &str, marked: &mut [bool]) {
    for initials in [false, true] {
        for start in 0..syllables.len() {
            let mut spelled = String::new();
            for (end, syllable) in syllables.iter().enumerate().skip(start) {
                let Some(syllable) = syllable else { break };
                if initials {
                    spelled.extend(syllable.chars().next());
                } else {
                    spelled.push_str(syllable);
                }
                if spelled.starts_with(word) {
                    marked[start..=end].iter_mut().for_each(|m| *m = true);
                    break;
                }
                if !word.starts_with(&spelled) {
                    break;
                }
            }
        }
    }
}

/// What a rebuild reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Documents it will write in all.
    Total(u64),
    /// Documents just written.
    Written(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_mark_chinese_substrings_and_near_words() {
        let units = text::units("光谷 douyo");
        let h = highlight("nameZh", "光谷生物城", &units).expect("a highlight");
        assert_eq!(h.ranges, [(0, 2)]);
        assert_eq!(h.html(), "<em>光谷</em>生物城");
        let h = highlight("nameEn", "DouYu Live", &units).expect("a highlight");
        assert_eq!(h.html(), "<em>DouYu</em> Live");
        assert!(highlight("nameEn", "Xiaomi", &units).is_none());
    }

    #[test]
    fn pinyin_highlights_mark_the_characters_spelled() {
        let html = |text: &str, query: &str| highlight("nameZh", text, &text::units(query)).map(|h| h.html());
        assert_eq!(html("光谷生物城", "shengwu").as_deref(), Some("光谷<em>生物</em>城"));
        assert_eq!(html("光谷生物城", "ggs").as_deref(), Some("<em>光谷生</em>物城"));
        assert_eq!(html("小米", "xiaom").as_deref(), Some("<em>小米</em>"));
        assert_eq!(html("小米", "xiaoma"), None);
    }

    /// Someone else holding the writer's lock for a moment (a forked child's copy of the
    /// lock file's handle) delays reopening the writer; it does not fail it.
    #[test]
    fn the_writer_is_reopened_after_a_brief_holder_of_its_lock_lets_go() {
        let dir =
            std::env::temp_dir().join("parkgraph-tests").join(format!("search-lock-{}", uuid::Uuid::now_v7().simple()));
        let index = SearchIndex::create(&dir).expect("an empty index");
        *index.writer_slot().expect("the writer") = None;
        let held = tantivy::directory::Directory::acquire_lock(
            index.index.directory(),
            &tantivy::directory::INDEX_WRITER_LOCK,
        )
        .expect("the lock");
        let holder = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            drop(held);
        });
        index.reopen_writer(FOLLOW_BUDGET).expect("reopened once the lock is free");
        assert!(index.lock_writer().is_ok());
        holder.join().expect("the holder ends");
        drop(index);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn typo_tolerance_grows_with_the_word() {
        assert_eq!(typo_distance("xm"), 0);
        assert_eq!(typo_distance("douyo"), 1);
        assert_eq!(typo_distance("biotechnology"), 2);
        assert_eq!(edit_distance(&['d', 'o', 'u', 'y', 'o'], &['d', 'o', 'u', 'y', 'u']), 1);
    }
}
