//! Query cost, computed from the document before anything runs, and the token buckets
//! that cost is charged to.
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Value as ConstValue, Variables};
use serde::Serialize;

use crate::connection::DEFAULT_PAGE_SIZE;

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

    fn cost(&mut self, set: &SelectionSet, multiplier: u64, depth: usize) -> u64 {
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
                    if self.bad_argument.is_none() {
                        self.check_arguments(field);
                    }
                    let explicit = page_size(field, self.variables);
                    let page = match explicit {
                        Some(n) => Some(n),
                        None if selects_items(self.doc, &field.selection_set.node, 0) => Some(DEFAULT_PAGE_SIZE as u64),
                        None => None,
                    };
                    let inner = match page {
                        Some(n) if field.name.node.as_str() != "nodes" || explicit.is_some() => {
                            total = total.saturating_add(multiplier.saturating_mul(n));
                            multiplier.saturating_mul(n.max(1))
                        }
                        _ => multiplier,
                    };
                    total = total.saturating_add(self.cost(&field.selection_set.node, inner, depth + 1));
                }
                Selection::InlineFragment(fragment) => {
                    total = total.saturating_add(self.cost(&fragment.node.selection_set.node, multiplier, depth + 1));
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.doc.fragments.get(&spread.node.fragment_name.node) {
                        total =
                            total.saturating_add(self.cost(&fragment.node.selection_set.node, multiplier, depth + 1));
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
    let mut walker = Walker { doc, variables, fields: 0, max_string, bad_argument: None, introspects: false };
    let cost = walker.cost(&operation.node.selection_set.node, 1, 0);
    Analysis {
        requested_cost: 1u64.saturating_add(cost),
        fields: walker.fields,
        bad_argument: walker.bad_argument,
        introspects: walker.introspects,
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

/// A bucket's state, as reported in `extensions.cost.throttleStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    /// Points the bucket holds when full.
    pub maximum_available: u64,
    /// Points available now.
    pub currently_available: u64,
    /// Points restored per second.
    pub restore_rate: u64,
}

/// The bucket cannot pay for the request yet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttled {
    /// Seconds until enough points are back.
    pub retry_after_seconds: u64,
    /// The bucket now.
    pub status: ThrottleStatus,
}

/// Bucket sizes and refill rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketConfig {
    /// Points when full.
    pub maximum: u64,
    /// Points restored per second.
    pub restore_per_second: u64,
}

/// Token buckets, one per token (or per client address for anonymous callers), kept in
/// memory: each replica limits the traffic it serves.
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiter {
    /// No buckets yet: each starts full.
    pub fn new() -> Self {
        Self { buckets: Mutex::new(HashMap::new()) }
    }

    fn with_bucket<T>(&self, key: &str, config: BucketConfig, f: impl FnOnce(&mut f64) -> T) -> T {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let entry = buckets.entry(key.to_string()).or_insert((config.maximum as f64, now));
        let elapsed = now.duration_since(entry.1).as_secs_f64();
        entry.0 = (entry.0 + elapsed * config.restore_per_second as f64).min(config.maximum as f64);
        entry.1 = now;
        f(&mut entry.0)
    }

    fn status(available: f64, config: BucketConfig) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: config.maximum,
            currently_available: available.max(0.0).floor() as u64,
            restore_rate: config.restore_per_second,
        }
    }

    /// Takes `cost` points, or says how long to wait.
    pub fn charge(&self, key: &str, cost: u64, config: BucketConfig) -> Result<ThrottleStatus, Throttled> {
        self.with_bucket(key, config, |available| {
            if *available >= cost as f64 {
                *available -= cost as f64;
                Ok(Self::status(*available, config))
            } else {
                let missing = cost as f64 - *available;
                let rate = config.restore_per_second.max(1) as f64;
                Err(Throttled {
                    retry_after_seconds: (missing / rate).ceil().max(1.0) as u64,
                    status: Self::status(*available, config),
                })
            }
        })
    }

    /// Gives back points charged but not used.
    pub fn refund(&self, key: &str, points: u64, config: BucketConfig) -> ThrottleStatus {
        self.with_bucket(key, config, |available| {
            *available = (*available + points as f64).min(config.maximum as f64);
            Self::status(*available, config)
        })
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
    fn a_bucket_empties_and_refills() {
        let limiter = RateLimiter::new();
        let config = BucketConfig { maximum: 100, restore_per_second: 1000 };
        assert!(limiter.charge("k", 60, config).is_ok());
        let throttled = limiter.charge("k", 60, config).expect_err("only 40 left");
        assert!(throttled.retry_after_seconds >= 1);
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert!(limiter.charge("k", 60, config).is_ok(), "refilled at 1000/s");
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
}
