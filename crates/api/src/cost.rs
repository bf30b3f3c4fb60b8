//! Query cost, computed from the document before anything runs. The token buckets that
//! cost is charged to live in [`crate::limiter`] (re-exported here).
//!
//! The cost of an operation is 1 plus the number of items its connections may return:
//! a connection asking for `first: 50` inside a page of 100 costs 5,000. (`nodes(ids:)`
//! counts its ids; a connection without `first`/`last` counts the default page of 20.)
//! After execution the *actual* cost counts the items really returned, as counted by the
//! resolvers themselves into the request's [`CostMeter`] (each connection page once,
//! `nodes(ids:)` by its ids), so neither aliases nor fragments change what is charged;
//! the difference is refunded to the bucket, as on GitHub's and Shopify's partner APIs.
//!
//! Both counts follow field *definitions*, never response names: a connection is a field
//! whose selection reaches `edges` or `nodes` directly or through fragments, and an alias
//! renames a field without changing what it costs.
//!
//! The root fields that answer a bounded list rather than a connection are priced by the
//! most they may return, from their arguments and defaults ([`bounded_list`]): `search`
//! its `first` hits plus 50 values per facet counted, `suggest` its `first`,
//! `neighborhood` the 2,000 records a walk may reach whatever `hops`, `connections`
//! `first` paths of `maxHops + 1` records, `statistics` and `secondHeadquartersStatistics`
//! 1,000 groups, `nearby` `first` parks and `first` organizations. What they select
//! inside is multiplied by that number, like the items of a connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Value as ConstValue, Variables};

use crate::connection::DEFAULT_PAGE_SIZE;
pub use crate::limiter::{BucketConfig, RateLimiter, ThrottleStatus, Throttled};

/// What the analysis found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Analysis {
    /// The most the operation can cost.
    pub requested_cost: u64,
    /// Fields selected, aliases included, fragments expanded.
    pub fields: usize,
    /// The first argument the operation may not pass (a string over the length limit, or
    /// one holding a NUL character), described for the caller.
    pub bad_argument: Option<String>,
    /// The operation asks for `__schema` or `__type` (introspection).
    pub introspects: bool,
    /// The operation is a query.
    pub query: bool,
    /// The operation selects a root field whose answer the response cache must not keep
    /// (see [`crate::cache::UNCACHED_ROOTS`]).
    pub uncached_root: bool,
}

impl Analysis {
    /// True when the response cache may keep the operation's answer: a query, no
    /// introspection, no root field of [`crate::cache::UNCACHED_ROOTS`].
    pub fn cacheable(&self) -> bool {
        self.query && !self.introspects && !self.uncached_root
    }
}

/// Finds a string in an argument value (variables substituted) that is longer than
/// `max_chars` or holds a NUL character, and says where it is.
fn bad_string(value: &ConstValue, path: &mut Vec<String>, max_chars: usize) -> Option<String> {
    match value {
        ConstValue::String(text) => {
            if text.contains('\0') {
                Some(format!("argument `{}` holds a NUL character", path.join(".")))
            } else if text.len() > max_chars && text.chars().count() > max_chars {
                Some(format!(
                    "argument `{}` is {} characters long, more than the limit of {max_chars}",
                    path.join("."),
                    text.chars().count()
                ))
            } else {
                None
            }
        }
        ConstValue::List(items) => items.iter().find_map(|item| bad_string(item, path, max_chars)),
        ConstValue::Object(fields) => fields.iter().find_map(|(name, item)| {
            path.push(name.to_string());
            let found = bad_string(item, path, max_chars);
            path.pop();
            found
        }),
        _ => None,
    }
}

const MAX_FRAGMENT_DEPTH: usize = 32;

/// An argument of `field`, variables substituted; `None` when absent or null.
fn argument(field: &async_graphql::parser::types::Field, name: &str, variables: &Variables) -> Option<ConstValue> {
    let (_, value) = field.arguments.iter().find(|(n, _)| n.node.as_str() == name)?;
    let value = value
        .node
        .clone()
        .into_const_with(|var: Name| Ok::<_, ()>(variables.get(&var).cloned().unwrap_or(ConstValue::Null)))
        .ok()?;
    (value != ConstValue::Null).then_some(value)
}

/// An integer argument, or its default when absent (a negative number counts 0; the
/// resolver refuses it).
fn int_argument(field: &async_graphql::parser::types::Field, name: &str, default: i32, variables: &Variables) -> u64 {
    match argument(field, name, variables) {
        Some(ConstValue::Number(n)) => n.as_i64().map_or(u64::MAX, |n| u64::try_from(n).unwrap_or(0)),
        _ => u64::try_from(default).unwrap_or(0),
    }
}

/// True when the selection reaches a field named `name`, directly or through fragments.
fn selects(doc: &ExecutableDocument, set: &SelectionSet, name: &str, depth: usize) -> bool {
    if depth > MAX_FRAGMENT_DEPTH {
        return false;
    }
    set.items.iter().any(|item| match &item.node {
        Selection::Field(f) => f.node.name.node.as_str() == name,
        Selection::InlineFragment(fragment) => selects(doc, &fragment.node.selection_set.node, name, depth + 1),
        Selection::FragmentSpread(spread) => doc
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|fragment| selects(doc, &fragment.node.selection_set.node, name, depth + 1)),
    })
}

/// The most items a root field that answers a bounded list (not a connection) may return,
/// from its arguments and their defaults, and the fields inside it that make up those
/// items (priced by that number, not as connections of their own: `connections { paths {
/// nodes } }` is `first × (maxHops + 1)` records); `None` for every other field.
pub fn bounded_list(
    doc: &ExecutableDocument,
    field: &async_graphql::parser::types::Field,
    variables: &Variables,
) -> Option<(u64, &'static [&'static str])> {
    use crate::object::{nearby, network, search};
    let int = |name: &str, default: i32| int_argument(field, name, default, variables);
    let items = match field.name.node.as_str() {
        "search" => {
            let hits = int("first", search::DEFAULT_HITS);
            let facets = if selects(doc, &field.selection_set.node, "facets", 0) {
                let dimensions = match argument(field, "facets", variables) {
                    Some(ConstValue::List(dims)) => {
                        let mut names: Vec<String> = dims.iter().map(ToString::to_string).collect();
                        names.sort_unstable();
                        names.dedup();
                        names.len()
                    }
                    _ => search::DEFAULT_FACETS,
                };
                (dimensions as u64).saturating_mul(search::FACET_VALUES as u64)
            } else {
                0
            };
            (hits.saturating_add(facets), &["hits", "facets", "values"][..])
        }
        "suggest" => (int("first", search::DEFAULT_SUGGESTIONS), &[][..]),
        "neighborhood" => (network::MAX_NODES as u64, &["nodes", "edges"][..]),
        "connections" => {
            let hops = int("maxHops", network::DEFAULT_PATH_HOPS);
            (
                int("first", network::DEFAULT_PATHS).saturating_mul(hops.saturating_add(1)),
                &["paths", "nodes", "edges"][..],
            )
        }
        "statistics" | "secondHeadquartersStatistics" => (parkgraph_persistence::stats::MAX_GROUPS, &[][..]),
        "nearby" => (int("first", nearby::DEFAULT_FIRST).saturating_mul(2), &["parks", "organizations"][..]),
        _ => return None,
    };
    Some(items)
}

/// Where a selection set is, for pricing.
#[derive(Clone, Copy)]
enum Place {
    /// The operation's own selection (where the bounded-list fields live).
    Root,
    /// Inside a field; the names are the fields of a bounded list's items, priced with it.
    Within(&'static [&'static str]),
}

fn page_size(field: &async_graphql::parser::types::Field, variables: &Variables) -> Option<u64> {
    for (name, value) in &field.arguments {
        let wanted = name.node.as_str();
        if wanted != "first" && wanted != "last" && wanted != "ids" {
            continue;
        }
        let value = value
            .node
            .clone()
            .into_const_with(|var: Name| Ok::<_, ()>(variables.get(&var).cloned().unwrap_or(ConstValue::Null)));
        match (wanted, value) {
            ("ids", Ok(ConstValue::List(ids))) => return Some(ids.len() as u64),
            (_, Ok(ConstValue::Number(n))) => return Some(n.as_u64().unwrap_or(0)),
            _ => {}
        }
    }
    None
}

/// True when the selection reaches a connection's `edges` or `nodes`, directly, under an
/// alias, or through named and inline fragments.
fn selects_items(doc: &ExecutableDocument, set: &SelectionSet, depth: usize) -> bool {
    if depth > MAX_FRAGMENT_DEPTH {
        return false;
    }
    set.items.iter().any(|item| match &item.node {
        Selection::Field(f) => matches!(f.node.name.node.as_str(), "edges" | "nodes"),
        Selection::InlineFragment(fragment) => selects_items(doc, &fragment.node.selection_set.node, depth + 1),
        Selection::FragmentSpread(spread) => doc
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|fragment| selects_items(doc, &fragment.node.selection_set.node, depth + 1)),
    })
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    fields: usize,
    max_string: usize,
    bad_argument: Option<String>,
    introspects: bool,
    uncached_root: bool,
}

impl Walker<'_> {
    fn check_arguments(&mut self, field: &async_graphql::parser::types::Field) {
        for (name, value) in &field.arguments {
            let Ok(value) = value.node.clone().into_const_with(|var: Name| {
                Ok::<_, ()>(self.variables.get(&var).cloned().unwrap_or(ConstValue::Null))
            }) else {
                continue;
            };
            let mut path = vec![format!("{}.{}", field.name.node, name.node)];
            if let Some(problem) = bad_string(&value, &mut path, self.max_string) {
                self.bad_argument = Some(problem);
                return;
            }
        }
    }

    /// The cost of a selection whose items are each `multiplier` times over.
    fn cost(&mut self, set: &SelectionSet, multiplier: u64, depth: usize, place: Place) -> u64 {
        if depth > MAX_FRAGMENT_DEPTH {
            return 0;
        }
        let mut total: u64 = 0;
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    self.fields += 1;
                    let field = &field.node;
                    if matches!(field.name.node.as_str(), "__schema" | "__type") {
                        self.introspects = true;
                    }
                    if matches!(place, Place::Root) && crate::cache::UNCACHED_ROOTS.contains(&field.name.node.as_str())
                    {
                        self.uncached_root = true;
                    }
                    if self.bad_argument.is_none() {
                        self.check_arguments(field);
                    }
                    let bounded = match place {
                        Place::Root => bounded_list(self.doc, field, self.variables),
                        Place::Within(_) => None,
                    };
                    if let Some((items, parts)) = bounded {
                        total = total.saturating_add(multiplier.saturating_mul(items));
                        let inner = multiplier.saturating_mul(items.max(1));
                        let set = &field.selection_set.node;
                        total = total.saturating_add(self.cost(set, inner, depth + 1, Place::Within(parts)));
                        continue;
                    }
                    let part = matches!(place, Place::Within(parts) if parts.contains(&field.name.node.as_str()));
                    let explicit = page_size(field, self.variables);
                    let page = match explicit {
                        Some(n) => Some(n),
                        None if !part && selects_items(self.doc, &field.selection_set.node, 0) => {
                            Some(DEFAULT_PAGE_SIZE as u64)
                        }
                        None => None,
                    };
                    let inner = match page {
                        Some(n) if field.name.node.as_str() != "nodes" || explicit.is_some() => {
                            total = total.saturating_add(multiplier.saturating_mul(n));
                            multiplier.saturating_mul(n.max(1))
                        }
                        _ => multiplier,
                    };
                    let place = if part { place } else { Place::Within(&[]) };
                    total = total.saturating_add(self.cost(&field.selection_set.node, inner, depth + 1, place));
                }
                Selection::InlineFragment(fragment) => {
                    let inner = self.cost(&fragment.node.selection_set.node, multiplier, depth + 1, place);
                    total = total.saturating_add(inner);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.doc.fragments.get(&spread.node.fragment_name.node) {
                        let inner = self.cost(&fragment.node.selection_set.node, multiplier, depth + 1, place);
                        total = total.saturating_add(inner);
                    }
                }
            }
        }
        total
    }
}

/// Analyses the operation a request will run (by name, or the only one); string
/// arguments may hold at most `max_string` characters.
pub fn analyze(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    max_string: usize,
) -> Analysis {
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(&Name::new(name)),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    let Some(operation) = operation else { return Analysis::default() };
    let mut walker =
        Walker { doc, variables, fields: 0, max_string, bad_argument: None, introspects: false, uncached_root: false };
    let place = match operation.node.ty {
        async_graphql::parser::types::OperationType::Query => Place::Root,
        _ => Place::Within(&[]),
    };
    let cost = walker.cost(&operation.node.selection_set.node, 1, 0, place);
    Analysis {
        requested_cost: 1u64.saturating_add(cost),
        fields: walker.fields,
        bad_argument: walker.bad_argument,
        introspects: walker.introspects,
        query: operation.node.ty == async_graphql::parser::types::OperationType::Query,
        uncached_root: walker.uncached_root,
    }
}

/// Counts the items a request's resolvers really returned; attached to each request's
/// data by the HTTP handler and read after execution for the actual cost.
#[derive(Debug, Clone, Default)]
pub struct CostMeter(Arc<AtomicU64>);

impl CostMeter {
    /// A meter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds returned items.
    pub fn add(&self, items: u64) {
        self.0.fetch_add(items, Ordering::Relaxed);
    }

    /// Adds `items` to the meter of the request `ctx` runs in, if it has one.
    pub fn charge(ctx: &async_graphql::Context<'_>, items: usize) {
        if let Some(meter) = ctx.data_opt::<Self>() {
            meter.add(items as u64);
        }
    }

    /// The actual cost: 1 plus the items returned.
    pub fn actual_cost(&self) -> u64 {
        1u64.saturating_add(self.0.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost_of(query: &str, variables: serde_json::Value) -> Analysis {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        analyze(&doc, None, &Variables::from_json(variables), 1_000)
    }

    #[test]
    fn nested_connections_multiply() {
        let a = cost_of(
            "{ enterprises(first: 100) { nodes { parks(first: 5) { edges { node { nameZh } } } } } }",
            serde_json::json!({}),
        );
        assert_eq!(a.requested_cost, 1 + 100 + 100 * 5);
        let b = cost_of("query($n: Int) { parks(first: $n) { totalCount } }", serde_json::json!({ "n": 7 }));
        assert_eq!(b.requested_cost, 8);
        let c = cost_of("{ parks { nodes { nameZh } } }", serde_json::json!({}));
        assert_eq!(c.requested_cost, 21, "a connection without first costs the default page");
    }

    #[test]
    fn fragments_and_aliases_count() {
        let a = cost_of(
            "{ a: parks(first: 10) { ...P } b: parks(first: 10) { ...P } } fragment P on ParkConnection { nodes { nameZh } }",
            serde_json::json!({}),
        );
        assert_eq!(a.requested_cost, 21);
        assert_eq!(a.fields, 6);
    }

    #[test]
    fn long_or_nul_string_arguments_are_found_in_literals_and_variables() {
        let long = "x".repeat(1_001);
        let a = cost_of(
            &format!("{{ parks(filter: {{ nameContains: \"{long}\" }}) {{ totalCount }} }}"),
            serde_json::json!({}),
        );
        assert!(
            a.bad_argument.as_deref().is_some_and(|m| m.contains("parks.filter.nameContains") && m.contains("1001")),
            "{a:?}"
        );
        let b = cost_of(
            "query($f: ParkFilter) { parks(filter: $f) { totalCount } }",
            serde_json::json!({ "f": { "city": "武汉\u{0}" } }),
        );
        assert!(b.bad_argument.as_deref().is_some_and(|m| m.contains("NUL")), "{b:?}");
        let fine = cost_of(
            &format!("{{ parks(filter: {{ nameContains: \"{}\" }}) {{ totalCount }} }}", "光".repeat(1_000)),
            serde_json::json!({}),
        );
        assert_eq!(fine.bad_argument, None, "1,000 characters are allowed, whatever their byte length");
    }

    #[test]
    fn aliases_fragments_and_inline_fragments_are_priced_by_field_definitions() {
        let plain = cost_of("{ parks { nodes { nameZh } } }", serde_json::json!({})).requested_cost;
        for query in [
            "{ parks { n: nodes { nameZh } } }",
            "{ p: parks { e: edges { node { nameZh } } } }",
            "{ parks { ...P } } fragment P on ParkConnection { nodes { nameZh } }",
            "{ parks { ... on ParkConnection { items: nodes { nameZh } } } }",
            "{ parks { ...Outer } } fragment Outer on ParkConnection { ...Inner } fragment Inner on ParkConnection { nodes { nameZh } }",
        ] {
            assert_eq!(cost_of(query, serde_json::json!({})).requested_cost, plain, "{query}");
        }
        let ids: Vec<String> = (0..100).map(|i| format!("\"id{i}\"")).collect();
        let aliased: String = (0..9).map(|i| format!("n{i}: nodes(ids: [{}]) {{ id }} ", ids.join(","))).collect();
        assert_eq!(cost_of(&format!("{{ {aliased} }}"), serde_json::json!({})).requested_cost, 1 + 900);
    }

    #[test]
    fn bounded_lists_are_priced_by_the_most_they_may_return() {
        let cost = |query: &str| cost_of(query, serde_json::json!({})).requested_cost;
        // search: `first` hits (default 20), plus 50 values per facet counted when selected.
        assert_eq!(cost("{ search(query: \"\") { hits { id } } }"), 1 + 20);
        assert_eq!(cost("{ search(query: \"\", first: 100) { totalCount } }"), 1 + 100);
        assert_eq!(cost("{ search(query: \"\") { hits { id } facets { field } } }"), 1 + 20 + 7 * 50);
        assert_eq!(
            cost("{ search(query: \"\", first: 5, facets: [PARK, PARK, CITY]) { facets { field } } }"),
            1 + 5 + 2 * 50,
            "a facet named twice is counted once"
        );
        assert_eq!(
            cost(
                "{ search(query: \"\", first: 100) { hits { node { ... on Organization { parks(first: 10) { nodes { id } } } } } } }"
            ),
            1 + 100 + 100 * 10,
            "what each hit selects is multiplied by the hits"
        );
        assert_eq!(cost("{ suggest(prefix: \"gu\") { id } }"), 1 + 10);
        assert_eq!(cost("{ suggest(prefix: \"gu\", first: 50) { id } }"), 1 + 50);
        // neighborhood: the 2,000 records a walk may reach, whatever `hops`.
        assert_eq!(cost("{ neighborhood(id: \"x\") { truncated } }"), 1 + 2_000);
        assert_eq!(
            cost(
                "{ neighborhood(id: \"x\", hops: 3) { nodes { node { ... on Park { children(first: 10) { nodes { id } } } } } } }"
            ),
            1 + 2_000 + 2_000 * 10
        );
        // connections: `first` paths (default 5) of `maxHops + 1` records (default 4).
        assert_eq!(cost("{ connections(from: \"a\", to: \"b\") { truncated } }"), 1 + 5 * 5);
        assert_eq!(cost("{ connections(from: \"a\", to: \"b\", first: 20, maxHops: 6) { truncated } }"), 1 + 20 * 7);
        assert_eq!(
            cost(
                "{ connections(from: \"a\", to: \"b\") { paths { nodes { node { ... on Park { children(first: 2) { nodes { id } } } } } } } }"
            ),
            1 + 25 + 25 * 2,
            "a path's records are the items priced, not a connection of their own"
        );
        assert_eq!(cost("{ statistics(groupBy: [CITY]) { count } }"), 1 + 1_000);
        assert_eq!(cost("{ secondHeadquartersStatistics(groupBy: [PARK]) { count } }"), 1 + 1_000);
        // nearby: `first` parks and `first` organizations (default 20).
        assert_eq!(cost("{ nearby(latitude: 30.5, longitude: 114.4, radiusKm: 5) { hasMoreParks } }"), 1 + 40);
        let by_variable = cost_of(
            "query($n: Int) { nearby(latitude: 30.5, longitude: 114.4, radiusKm: 5, first: $n) { hasMoreParks } }",
            serde_json::json!({ "n": 100 }),
        );
        assert_eq!(by_variable.requested_cost, 1 + 200);
        // Aliases and fragments on the query type pay for each use.
        assert_eq!(
            cost(
                "{ a: neighborhood(id: \"x\") { truncated } ...Q } fragment Q on Query { b: neighborhood(id: \"y\") { truncated } }"
            ),
            1 + 2 * 2_000
        );
    }
}
