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
    // NESTED, 12 for PARK_PAGE (whose parks' `enterprises { totalCount }` is one more
    // batched statement: the lists are paged in SQL, so their counts are queried too),
    // whatever the page size. (Fewer happen: a path with no rows
    // issues nothing below it, and two paths into one loader that arrive together share a
    // batch.) N+1 would need a statement per row: hundreds here.
    for (query, bound) in [(NESTED, 14), (PARK_PAGE, 12)] {
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

const HISTORY_PAGE: &str = r#"query($n: Int!) {
  organizations(first: $n, orderBy: { field: CREATED_AT }) {
    nodes { nameZh history(first: 5) { nodes { version operation } } }
  }
}"#;

/// `history` on every item of a list is one batch: a statement for the page and one for
/// the revisions of all its items, however many items the page holds (one statement per
/// item would be N+1).
#[tokio::test]
async fn history_on_a_list_is_read_in_one_batch_for_5_15_or_30_records() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use parkgraph_api::auth::Caller;
    use parkgraph_domain::Role;

    let test = TestDb::migrated().await;
    let mut db = parkgraph_persistence::connect(&test.url, 5).await.expect("connect");
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let limits = parkgraph_api::Limits { batch_delay: std::time::Duration::from_millis(50), ..Default::default() };
    let schema = parkgraph_api::schema(db, limits);
    let editor = Caller {
        role: Role::Editor,
        scopes: Role::Editor.allowed_scopes(),
        subject: "editor:wang".into(),
        jti: None,
        partner_id: None,
    };
    let run = |query: &str, variables: serde_json::Value| {
        let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
        let (schema, editor) = (schema.clone(), editor.clone());
        async move {
            let response = parkgraph_api::execute_as(&schema, request, editor).await;
            let response = serde_json::to_value(&response).expect("response serializes");
            assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
            response["data"].clone()
        }
    };

    // 30 organizations, each created and corrected once: two revisions each.
    let create = "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { \
                  organization { id } userErrors { code } } }";
    let update = "mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { \
                  userErrors { code } } }";
    for i in 0..30 {
        let input = json!({ "kind": "ENTERPRISE", "nameZh": format!("企业{i:02}"), "status": "ACTIVE" });
        let created = run(create, json!({ "input": input })).await;
        let id = created["createOrganization"]["organization"]["id"].clone();
        let updated = run(update, json!({ "input": { "id": id, "version": 1, "headcount": i } })).await;
        assert_eq!(updated["updateOrganization"]["userErrors"], json!([]));
    }

    let mut counts = Vec::new();
    for n in [5, 15, 30] {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let before = count.load(Ordering::SeqCst);
            let d = run(HISTORY_PAGE, json!({ "n": n })).await;
            runs.push(count.load(Ordering::SeqCst) - before);
            let nodes = d["organizations"]["nodes"].as_array().expect("list");
            assert_eq!(nodes.len(), n);
            for node in nodes {
                let versions: Vec<i64> = node["history"]["nodes"]
                    .as_array()
                    .expect("history")
                    .iter()
                    .filter_map(|r| r["version"].as_i64())
                    .collect();
                assert_eq!(versions, [1, 2], "each organization's own history, oldest first: {node:#}");
            }
        }
        counts.push(runs.into_iter().min().unwrap_or(usize::MAX));
    }
    // The page, and one batch for every item's history.
    assert!(counts.iter().all(|&c| c <= 2), "statements for 5, 15, 30 histories: {counts:?}");
    eprintln!("statements for 5, 15 and 30 histories: {counts:?}");
}
