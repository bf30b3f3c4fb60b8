//! Nested queries cost a fixed number of SQL statements, however many rows they return.

mod common;

use common::{Counted, TestDb, data};
use serde_json::json;

const NESTED: &str = r#"query($n: Int!) {
  enterprises(first: $n, orderBy: { field: CREATED_AT }) {
    totalCount
    nodes {
      nameZh
      parks { edges { role node { nameZh parent { nameZh } } } }
      designations { kind year valuationUsd }
      innovationCenters { edges { role node { nameZh hostPark { nameZh } } } }
      incubations { edges { status node { nameZh operator { nameZh } } } }
      secondHeadquarters { nodes { nameZh park { nameZh } } }
    }
  }
}"#;

const PARK_PAGE: &str = r#"query($n: Int!) {
  parks(first: $n, orderBy: { field: CREATED_AT }) {
    nodes {
      nameZh
      designations { nameZh }
      enterprises(first: 10) { totalCount edges { role node { nameZh designations { kind } } } }
      incubators(first: 5) { nodes { nameZh incubatees(first: 5) { edges { status node { nameZh } } } } }
      innovationCenters(first: 5) { nodes { members(first: 5) { edges { role node { nameZh } } } } }
    }
  }
}"#;

#[tokio::test]
async fn nested_queries_issue_a_bounded_number_of_statements_for_10_50_or_100_rows() {
    let test = TestDb::migrated().await;
    parkgraph_persistence::seed::synthetic::load(&test.db, 2_000).await.expect("synthetic data loads");
    let counted = Counted::open(&test.url).await;

    // The data really is nested: 100 enterprises with parks and designations.
    let d = data(&counted.schema, NESTED, json!({ "n": 100 })).await;
    let nodes = d["enterprises"]["nodes"].as_array().expect("list");
    assert_eq!(nodes.len(), 100);
    assert!(nodes.iter().all(|n| !n["parks"]["edges"].as_array().expect("list").is_empty()));
    assert!(nodes.iter().any(|n| !n["designations"].as_array().expect("list").is_empty()));

    // At most one statement per batched field path, plus the page and its count: 14 for
    // NESTED, 11 for PARK_PAGE, whatever the page size. (Fewer happen: a path with no rows
    // issues nothing below it, and two paths into one loader that arrive together share a
    // batch.) N+1 would need a statement per row: hundreds here.
    for (query, bound) in [(NESTED, 14), (PARK_PAGE, 11)] {
        let mut counts = Vec::new();
        for n in [10, 50, 100] {
            // A scheduling hiccup on a loaded machine can only split a batch (more
            // statements, never fewer), so the least of three runs is the design's count.
            let mut runs = Vec::new();
            for _ in 0..3 {
                runs.push(counted.statements(query, json!({ "n": n })).await);
            }
            counts.push(runs.into_iter().min().unwrap_or(usize::MAX));
        }
        assert!(counts.iter().all(|&c| c <= bound), "statements for 10, 50, 100 rows: {counts:?}, bound {bound}");
        eprintln!("statements for 10, 50 and 100 rows: {counts:?}");
    }
}
