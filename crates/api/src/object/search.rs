//! `search` and `suggest`: the GraphQL side of the search index (`parkgraph-search`).
//!
//! Search respects the caller's scopes: a record type the caller may not read is never
//! returned or counted (a caller that may read none of the four gets `FORBIDDEN`), and the
//! index holds the live registry only, without internal fields.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use parkgraph_domain as domain;
use parkgraph_domain::Scope;
use parkgraph_search::{Between, Dim, DocKind, Filter, SearchIndex, SearchRequest};
use uuid::Uuid;

use crate::error::ApiError;
use crate::id::{NodeType, decode_as, encode};
use crate::loader::one;
use crate::object::vocabulary::{DesignationKind, OrganizationStatus};
use crate::object::{Incubator, InnovationCenter, Node, Organization, Park, loaders};

/// Hits per page by default, and at most.
pub const DEFAULT_HITS: i32 = 20;
const MAX_HITS: i32 = 100;
/// The most values one facet lists (the most frequent).
pub const FACET_VALUES: usize = 50;
/// How many facets are counted when `facets` is not given.
pub const DEFAULT_FACETS: usize = SearchFacetField::DEFAULT.len();
/// Suggestions by default (`suggest`'s `first`).
pub const DEFAULT_SUGGESTIONS: i32 = 10;

/// A type of record that search finds.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SearchType {
    /// Organizations (needs `read:organizations`).
    Organization,
    /// Parks (needs `read:parks`).
    Park,
    /// Incubators (needs `read:incubators`).
    Incubator,
    /// Innovation centers (needs `read:innovation-centers`).
    InnovationCenter,
}

impl SearchType {
    fn kind(self) -> DocKind {
        match self {
            Self::Organization => DocKind::Organization,
            Self::Park => DocKind::Park,
            Self::Incubator => DocKind::Incubator,
            Self::InnovationCenter => DocKind::InnovationCenter,
        }
    }

    fn of(kind: DocKind) -> Self {
        match kind {
            DocKind::Organization => Self::Organization,
            DocKind::Park => Self::Park,
            DocKind::Incubator => Self::Incubator,
            DocKind::InnovationCenter => Self::InnovationCenter,
        }
    }

    fn node_type(self) -> NodeType {
        match self {
            Self::Organization => NodeType::Organization,
            Self::Park => NodeType::Park,
            Self::Incubator => NodeType::Incubator,
            Self::InnovationCenter => NodeType::InnovationCenter,
        }
    }

    fn scope(self) -> Scope {
        match self {
            Self::Organization => Scope::ReadOrganizations,
            Self::Park => Scope::ReadParks,
            Self::Incubator => Scope::ReadIncubators,
            Self::InnovationCenter => Scope::ReadInnovationCenters,
        }
    }

    const ALL: [Self; 4] = [Self::Organization, Self::Park, Self::Incubator, Self::InnovationCenter];
}

/// A dimension that search results are counted by (a facet).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SearchFacetField {
    /// Record type (`organization`, `park`, `incubator`, `innovation_center`).
    Type,
    /// The record's own kind (`ENTERPRISE`, `NATIONAL_HIGH_TECH_ZONE` …).
    Kind,
    /// Industry, as recorded (for an innovation center: its field).
    Industry,
    /// Designation kind (`UNICORN` …).
    Designation,
    /// Park, counting what is in its sub-parks too (values are park ids).
    Park,
    /// Incubator (values are incubator ids).
    Incubator,
    /// Innovation center (values are innovation center ids).
    InnovationCenter,
    /// Parent group of a second headquarters the organization is the local entity of.
    SecondHqParent,
    /// City.
    City,
    /// District.
    District,
    /// Organization status (`ACTIVE` …).
    Status,
    /// Year founded (parks: established; innovation centers: approved).
    FoundedYear,
}

impl SearchFacetField {
    fn dim(self) -> Dim {
        match self {
            Self::Type => Dim::Type,
            Self::Kind => Dim::Kind,
            Self::Industry => Dim::Industry,
            Self::Designation => Dim::Designation,
            Self::Park => Dim::Park,
            Self::Incubator => Dim::Incubator,
            Self::InnovationCenter => Dim::Center,
            Self::SecondHqParent => Dim::SecondHqParent,
            Self::City => Dim::City,
            Self::District => Dim::District,
            Self::Status => Dim::Status,
            Self::FoundedYear => Dim::Year,
        }
    }

    fn of(dim: Dim) -> Self {
        match dim {
            Dim::Type => Self::Type,
            Dim::Kind => Self::Kind,
            Dim::Industry => Self::Industry,
            Dim::Designation => Self::Designation,
            Dim::Park => Self::Park,
            Dim::Incubator => Self::Incubator,
            Dim::Center => Self::InnovationCenter,
            Dim::SecondHqParent => Self::SecondHqParent,
            Dim::City => Self::City,
            Dim::District => Self::District,
            Dim::Status => Self::Status,
            Dim::Year => Self::FoundedYear,
        }
    }

    /// The node type of the values of an id dimension.
    fn node_type(self) -> Option<NodeType> {
        match self {
            Self::Park => Some(NodeType::Park),
            Self::Incubator => Some(NodeType::Incubator),
            Self::InnovationCenter => Some(NodeType::InnovationCenter),
            Self::SecondHqParent => Some(NodeType::Organization),
            _ => None,
        }
    }

    pub(crate) const DEFAULT: [Self; 7] =
        [Self::Type, Self::Industry, Self::Designation, Self::Park, Self::FoundedYear, Self::City, Self::Status];
}

/// Conditions on search results. Values within one list are alternatives (any of them);
/// all given conditions must hold.
#[derive(InputObject, Clone, Debug, Default)]
pub struct SearchFilter {
    /// Only these record types (default: every type the caller may read).
    pub types: Option<Vec<SearchType>>,
    /// Industry, exactly as recorded (e.g. "optical components").
    pub industries: Option<Vec<String>>,
    /// Holding a designation of any of these kinds.
    pub designations: Option<Vec<DesignationKind>>,
    /// In any of these parks, including their sub-parks (a park itself matches too).
    pub park_ids: Option<Vec<ID>>,
    /// Incubated by any of these incubators.
    pub incubator_ids: Option<Vec<ID>>,
    /// Member of any of these innovation centers.
    pub innovation_center_ids: Option<Vec<ID>>,
    /// The local entity of a second headquarters of any of these parent groups.
    pub second_hq_parent_ids: Option<Vec<ID>>,
    /// City, exactly (e.g. "武汉").
    pub cities: Option<Vec<String>>,
    /// District, exactly.
    pub districts: Option<Vec<String>>,
    /// Organization status.
    pub statuses: Option<Vec<OrganizationStatus>>,
    /// Founded (parks: established; innovation centers: approved) on or after this date.
    pub founded_from: Option<NaiveDate>,
    /// … on or before this date.
    pub founded_to: Option<NaiveDate>,
    /// Highest valuation in US dollars at least this.
    pub valuation_usd_min: Option<f64>,
    /// … at most this.
    pub valuation_usd_max: Option<f64>,
    /// Registered capital in yuan at least this.
    pub registered_capital_cny_min: Option<f64>,
    /// … at most this.
    pub registered_capital_cny_max: Option<f64>,
    /// Headcount at least this.
    pub headcount_min: Option<i32>,
    /// … at most this.
    pub headcount_max: Option<i32>,
}

fn amount(name: &str, value: Option<f64>) -> Result<Option<i64>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && (-9.0e18..9.0e18).contains(&v) => Ok(Some(v.round() as i64)),
        Some(v) => Err(ApiError::BadUserInput(format!("`{name}` must be a finite amount, got {v}"))),
    }
}

fn ids(kind: NodeType, values: &Option<Vec<ID>>) -> Result<Vec<String>, ApiError> {
    values.iter().flatten().map(|id| decode_as(kind, id).map(|u| u.to_string())).collect()
}

impl SearchFilter {
    fn to_filter(&self) -> Result<Filter, ApiError> {
        let mut filter = Filter::default();
        let mut put = |dim: Dim, values: Vec<String>, given: bool| {
            if given {
                filter.values.insert(dim, values);
            }
        };
        put(Dim::Industry, self.industries.clone().unwrap_or_default(), self.industries.is_some());
        put(
            Dim::Designation,
            self.designations.iter().flatten().map(|k| domain::DesignationKind::from(*k).code().to_string()).collect(),
            self.designations.is_some(),
        );
        put(Dim::Park, ids(NodeType::Park, &self.park_ids)?, self.park_ids.is_some());
        put(Dim::Incubator, ids(NodeType::Incubator, &self.incubator_ids)?, self.incubator_ids.is_some());
        put(
            Dim::Center,
            ids(NodeType::InnovationCenter, &self.innovation_center_ids)?,
            self.innovation_center_ids.is_some(),
        );
        put(
            Dim::SecondHqParent,
            ids(NodeType::Organization, &self.second_hq_parent_ids)?,
            self.second_hq_parent_ids.is_some(),
        );
        put(Dim::City, self.cities.clone().unwrap_or_default(), self.cities.is_some());
        put(Dim::District, self.districts.clone().unwrap_or_default(), self.districts.is_some());
        put(
            Dim::Status,
            self.statuses.iter().flatten().map(|s| domain::OrganizationStatus::from(*s).code().to_string()).collect(),
            self.statuses.is_some(),
        );
        put(
            Dim::Type,
            self.types.iter().flatten().map(|t| t.kind().code().to_string()).collect(),
            self.types.is_some(),
        );
        filter.founded = Between { min: self.founded_from, max: self.founded_to };
        filter.valuation_usd = Between {
            min: amount("valuationUsdMin", self.valuation_usd_min)?,
            max: amount("valuationUsdMax", self.valuation_usd_max)?,
        };
        filter.registered_capital_cny = Between {
            min: amount("registeredCapitalCnyMin", self.registered_capital_cny_min)?,
            max: amount("registeredCapitalCnyMax", self.registered_capital_cny_max)?,
        };
        filter.headcount = Between { min: self.headcount_min.map(i64::from), max: self.headcount_max.map(i64::from) };
        ordered("foundedFrom", "foundedTo", filter.founded)?;
        ordered("valuationUsdMin", "valuationUsdMax", filter.valuation_usd)?;
        ordered("registeredCapitalCnyMin", "registeredCapitalCnyMax", filter.registered_capital_cny)?;
        ordered("headcountMin", "headcountMax", filter.headcount)?;
        Ok(filter)
    }
}

/// A range whose lower end lies above its upper end matches nothing: it is a mistake, said so.
fn ordered<T: PartialOrd + std::fmt::Display + Copy>(low: &str, high: &str, range: Between<T>) -> Result<(), ApiError> {
    match (range.min, range.max) {
        (Some(min), Some(max)) if min > max => {
            Err(ApiError::BadUserInput(format!("`{low}` ({min}) is above `{high}` ({max}): the range is empty")))
        }
        _ => Ok(()),
    }
}

/// A matched part of a hit's name.
#[derive(SimpleObject, Clone, Debug)]
pub struct SearchHighlight {
    /// The field: `nameZh`, `nameEn` or `legalName`.
    pub field: String,
    /// The field's whole text.
    pub text: String,
    /// The text with each matched part in `<em>…</em>` (the text itself is not escaped).
    pub html: String,
    /// Matched parts as `[start, end)` character offsets into `text`, in order.
    pub ranges: Vec<HighlightRange>,
}

/// Character offsets `[start, end)` of a matched part.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct HighlightRange {
    /// First character matched.
    pub start: i32,
    /// One past the last character matched.
    pub end: i32,
}

/// One search hit.
pub struct SearchHit {
    kind: SearchType,
    id: Uuid,
    score: f32,
    name_zh: String,
    name_en: Option<String>,
    highlights: Vec<parkgraph_search::Highlight>,
}

/// Loads the record of a hit.
async fn node_of(ctx: &Context<'_>, kind: SearchType, id: Uuid) -> async_graphql::Result<Option<Node>> {
    let l = loaders(ctx)?;
    Ok(match kind {
        SearchType::Organization => one(&l.organization, id).await?.map(|m| Node::Organization(Organization(m))),
        SearchType::Park => one(&l.park, id).await?.map(|m| Node::Park(Park(m))),
        SearchType::Incubator => one(&l.incubator, id).await?.map(|m| Node::Incubator(Incubator(m))),
        SearchType::InnovationCenter => one(&l.center, id).await?.map(|m| Node::InnovationCenter(InnovationCenter(m))),
    })
}

/// One search hit: the record, how well it matched, and what matched.
#[Object]
impl SearchHit {
    /// The record's global id.
    async fn id(&self) -> ID {
        encode(self.kind.node_type(), self.id)
    }

    /// Its type.
    async fn r#type(&self) -> SearchType {
        self.kind
    }

    /// The record (an `Organization`, `Park`, `Incubator` or `InnovationCenter`); null
    /// in the rare case it left the registry since the index last caught up.
    async fn node(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Node>> {
        node_of(ctx, self.kind, self.id).await
    }

    /// Relevance: higher is better; only comparable within one search.
    async fn score(&self) -> f64 {
        f64::from(self.score)
    }

    /// Chinese name, as indexed.
    async fn name_zh(&self) -> &str {
        &self.name_zh
    }

    /// English name, as indexed.
    async fn name_en(&self) -> Option<&str> {
        self.name_en.as_deref()
    }

    /// The parts of the names the query matched (Chinese substrings, English words).
    async fn highlights(&self) -> Vec<SearchHighlight> {
        self.highlights
            .iter()
            .map(|h| SearchHighlight {
                field: h.field.to_string(),
                text: h.text.clone(),
                html: h.html(),
                ranges: h
                    .ranges
                    .iter()
                    .map(|&(start, end)| HighlightRange {
                        start: i32::try_from(start).unwrap_or(i32::MAX),
                        end: i32::try_from(end).unwrap_or(i32::MAX),
                    })
                    .collect(),
            })
            .collect()
    }
}

/// How many results have one value of a facet.
pub struct FacetValue {
    field: SearchFacetField,
    value: String,
    count: u64,
}

/// How many results have one value of a facet.
#[Object]
impl FacetValue {
    /// The value: a code, a name, a year, or for parks, incubators, innovation centers
    /// and parent groups the record's global id (pass it back in the filter).
    async fn value(&self) -> String {
        match (self.field.node_type(), Uuid::parse_str(&self.value)) {
            (Some(kind), Ok(id)) => encode(kind, id).to_string(),
            _ => self.value.clone(),
        }
    }

    /// How many results have it.
    async fn count(&self) -> i32 {
        i32::try_from(self.count).unwrap_or(i32::MAX)
    }

    /// For an id value: the record, to show its name.
    async fn node(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Node>> {
        let Some(kind) = self.field.node_type() else { return Ok(None) };
        let Ok(id) = Uuid::parse_str(&self.value) else { return Ok(None) };
        let kind = match kind {
            NodeType::Park => SearchType::Park,
            NodeType::Incubator => SearchType::Incubator,
            NodeType::InnovationCenter => SearchType::InnovationCenter,
            _ => SearchType::Organization,
        };
        if !crate::policy::caller(ctx)?.has(kind.scope()) {
            return Ok(None);
        }
        node_of(ctx, kind, id).await
    }
}

/// Counts of the results per value of one dimension, computed with every other
/// condition of the filter but not this dimension's own (as a shop's sidebar does).
#[derive(SimpleObject)]
pub struct SearchFacet {
    /// The dimension.
    pub field: SearchFacetField,
    /// Values, most frequent first (at most 50).
    pub values: Vec<FacetValue>,
}

/// A page of search results.
#[derive(SimpleObject)]
pub struct SearchResult {
    /// How many records match in all.
    pub total_count: i32,
    /// This page of hits, best first.
    pub hits: Vec<SearchHit>,
    /// Pass as `after` for the next page; null on the last page.
    pub end_cursor: Option<String>,
    /// Whether more hits follow this page.
    pub has_next_page: bool,
    /// Counts per dimension (those asked for in `facets`).
    pub facets: Vec<SearchFacet>,
}

/// The index, or an error saying search is off.
fn index<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<SearchIndex>> {
    ctx.data_opt::<Arc<SearchIndex>>().ok_or_else(|| {
        async_graphql::Error::new("search is not enabled on this server")
            .extend_with_code(crate::error::code::UNAVAILABLE)
    })
}

trait WithCode {
    fn extend_with_code(self, code: &'static str) -> async_graphql::Error;
}

impl WithCode for async_graphql::Error {
    fn extend_with_code(self, code: &'static str) -> async_graphql::Error {
        use async_graphql::ErrorExtensions;
        self.extend_with(|_, e| e.set("code", code))
    }
}

/// The types the caller may see, of those asked for; FORBIDDEN when none.
fn visible(ctx: &Context<'_>) -> async_graphql::Result<Vec<DocKind>> {
    let caller = crate::policy::caller(ctx)?;
    let kinds: Vec<DocKind> =
        SearchType::ALL.into_iter().filter(|t| caller.has(t.scope())).map(SearchType::kind).collect();
    if kinds.is_empty() {
        return Err(crate::policy::forbidden(format!(
            "search needs one of the scopes read:organizations, read:parks, read:incubators, read:innovation-centers, which the {} caller does not hold",
            caller.role
        )));
    }
    Ok(kinds)
}

fn offset_of(after: Option<&str>) -> Result<usize, ApiError> {
    let Some(after) = after else { return Ok(0) };
    URL_SAFE_NO_PAD
        .decode(after.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("search:").and_then(|n| n.parse::<usize>().ok()))
        .map(|n| n + 1)
        .ok_or_else(|| ApiError::BadUserInput(format!("`after` is not a search cursor: {after:?}")))
}

fn internal(err: parkgraph_search::SearchError) -> async_graphql::Error {
    ApiError::Internal(err.to_string()).into_error()
}

fn to_hit(h: parkgraph_search::Hit) -> SearchHit {
    SearchHit {
        kind: SearchType::of(h.kind),
        id: h.id,
        score: h.score,
        name_zh: h.name_zh,
        name_en: h.name_en,
        highlights: h.highlights,
    }
}

/// Runs `search` (the root field's resolver).
pub async fn search(
    ctx: &Context<'_>,
    query: String,
    filter: Option<SearchFilter>,
    facets: Option<Vec<SearchFacetField>>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<SearchResult> {
    let index = index(ctx)?;
    let visible = visible(ctx)?;
    if query.chars().count() > 200 {
        return Err(ApiError::BadUserInput("`query` is longer than 200 characters".into()).into_error());
    }
    let first = first.unwrap_or(DEFAULT_HITS);
    if !(0..=MAX_HITS).contains(&first) {
        return Err(
            ApiError::BadUserInput(format!("`first` must be between 0 and {MAX_HITS}, got {first}")).into_error()
        );
    }
    let offset = offset_of(after.as_deref()).map_err(ApiError::into_error)?;
    if offset > 10_000 {
        return Err(ApiError::BadUserInput("search pages end at 10,000 hits; narrow the query".into()).into_error());
    }
    let filter = filter.unwrap_or_default().to_filter().map_err(ApiError::into_error)?;
    // Facets are counted only when the selection asks for them, each dimension once
    // however often it is named.
    let mut dims: Vec<SearchFacetField> = Vec::new();
    if ctx.look_ahead().field("facets").exists() {
        for dim in facets.unwrap_or_else(|| SearchFacetField::DEFAULT.to_vec()) {
            if !dims.contains(&dim) {
                dims.push(dim);
            }
        }
    }
    let request = SearchRequest {
        query,
        filter,
        visible,
        offset,
        limit: first as usize,
        facets: dims.iter().map(|d| d.dim()).collect(),
        facet_values: Some(FACET_VALUES),
    };
    let results = index.search(&request).map_err(internal)?;
    let facet_values: usize = results.facets.iter().map(|f| f.values.len().min(FACET_VALUES)).sum();
    crate::cost::CostMeter::charge(ctx, results.hits.len() + facet_values);
    let shown = offset + results.hits.len();
    let has_next_page = shown < results.total;
    let end_cursor = (!results.hits.is_empty()).then(|| URL_SAFE_NO_PAD.encode(format!("search:{}", shown - 1)));
    Ok(SearchResult {
        total_count: i32::try_from(results.total).unwrap_or(i32::MAX),
        hits: results.hits.into_iter().map(to_hit).collect(),
        end_cursor,
        has_next_page,
        facets: results
            .facets
            .into_iter()
            .map(|f| {
                let field = SearchFacetField::of(f.dim);
                SearchFacet {
                    field,
                    values: f
                        .values
                        .into_iter()
                        .take(FACET_VALUES)
                        .map(|(value, count)| FacetValue { field, value, count })
                        .collect(),
                }
            })
            .collect(),
    })
}

/// Runs `suggest` (the root field's resolver).
pub async fn suggest(
    ctx: &Context<'_>,
    prefix: String,
    types: Option<Vec<SearchType>>,
    first: i32,
) -> async_graphql::Result<Vec<SearchHit>> {
    let index = index(ctx)?;
    let mut visible = visible(ctx)?;
    if let Some(types) = types {
        visible.retain(|k| types.iter().any(|t| t.kind() == *k));
    }
    if prefix.chars().count() > 100 {
        return Err(ApiError::BadUserInput("`prefix` is longer than 100 characters".into()).into_error());
    }
    if !(1..=50).contains(&first) {
        return Err(ApiError::BadUserInput(format!("`first` must be between 1 and 50, got {first}")).into_error());
    }
    let hits = index.suggest(&prefix, &visible, first as usize).map_err(internal)?;
    crate::cost::CostMeter::charge(ctx, hits.len());
    Ok(hits.into_iter().map(to_hit).collect())
}
