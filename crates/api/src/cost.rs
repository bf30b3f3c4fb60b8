//! Query cost, computed from the document before anything runs. The token buckets that
//! cost is charged to live in [`crate::limiter`] (re-exported here).
//!
//! The cost of an operation is 1 plus the number of items its connections may return:
//! a connection asking for `first: 50` inside a page of 100 costs 5,000. (`nodes(ids:)`
//! counts its ids; a connection without `first`/`last` counts the default page of 20.)
//! After execution the *actual* cost counts the items really returned; the difference is
//! refunded to the bucket, as on GitHub's and Shopify's partner APIs.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Value as ConstValue, Variables};

use crate::connection::DEFAULT_PAGE_SIZE;
pub use crate::limiter::{BucketConfig, RateLimiter, ThrottleStatus, Throttled};

/// What the analysis found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Analysis {
    /// The most the operation can cost.
    pub requested_cost: u64,
    /// Fields selected, aliases included, fragments expanded.
    pub fields: usize,
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

fn is_connection(field: &async_graphql::parser::types::Field) -> bool {
    field.selection_set.node.items.iter().any(|item| match &item.node {
        Selection::Field(f) => matches!(f.node.name.node.as_str(), "edges" | "nodes"),
        _ => false,
    })
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    fields: usize,
}

impl Walker<'_> {
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
                    let explicit = page_size(field, self.variables);
                    let page = match explicit {
                        Some(n) => Some(n),
                        None if is_connection(field) => Some(DEFAULT_PAGE_SIZE as u64),
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

/// Analyses the operation a request will run (by name, or the only one).
pub fn analyze(doc: &ExecutableDocument, operation_name: Option<&str>, variables: &Variables) -> Analysis {
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(&Name::new(name)),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    let Some(operation) = operation else { return Analysis::default() };
    let mut walker = Walker { doc, variables, fields: 0 };
    let cost = walker.cost(&operation.node.selection_set.node, 1, 0);
    Analysis { requested_cost: 1u64.saturating_add(cost), fields: walker.fields }
}

/// The actual cost of a response: 1 plus the items its connections returned.
pub fn actual_cost(data: &serde_json::Value) -> u64 {
    fn walk(value: &serde_json::Value) -> u64 {
        match value {
            serde_json::Value::Object(map) => {
                let edges = map.get("edges").and_then(|v| v.as_array()).map_or(0, Vec::len);
                let nodes = map.get("nodes").and_then(|v| v.as_array()).map_or(0, Vec::len);
                edges.max(nodes) as u64 + map.values().map(walk).sum::<u64>()
            }
            serde_json::Value::Array(items) => items.iter().map(walk).sum(),
            _ => 0,
        }
    }
    1 + walk(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost_of(query: &str, variables: serde_json::Value) -> Analysis {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        analyze(&doc, None, &Variables::from_json(variables))
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
    fn actual_cost_counts_returned_items() {
        let data = serde_json::json!({ "parks": { "nodes": [{ "children": { "edges": [1, 2] } }, {}] } });
        assert_eq!(actual_cost(&data), 1 + 2 + 2);
    }
}
