//! The query-cost limit on the root fields that answer bounded lists rather than
//! connections (`search`, `suggest`, `neighborhood`, `connections`, `statistics`,
//! `secondHeadquartersStatistics`, `nearby`), through the HTTP router on the sample with a
//! search index: each is priced by the most it may return, so selecting a connection
//! inside each of its items, or asking for it under many aliases, is refused up front
//! with the cost error (`BAD_USER_INPUT`, `extensions.cost`), while an ordinary request
//! runs and pays for what it returned.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use parkgraph::Config;
use parkgraph_search::SearchIndex;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Server {
    router: axum::Router,
}

impl Server {
    /// The sample, its search index, and the router with the default limits (10,000
    /// points per operation).
    async fn sample() -> (TestDb, Self) {
        let test = TestDb::sample().await;
        let dir =
            std::env::temp_dir().join("parkgraph-tests").join(format!("cost-search-{}", uuid::Uuid::now_v7().simple()));
        let (index, _) = SearchIndex::open(&dir, &test.db, &|_| {}).await.expect("the index opens");
        let config = Config { database_url: test.url.clone(), ..Config::default() };
        assert_eq!(config.limits.max_query_cost, 10_000);
        let routers =
            parkgraph::routers_with_search(&config, test.db.clone(), Some(Arc::new(index))).expect("routers build");
        (test, Self { router: routers.api })
    }

    async fn call(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        let payload = json!({ "query": query, "variables": variables }).to_string();
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, payload.len())
            .body(Body::from(payload))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn id_of(&self, list: &str, name: &str) -> String {
        let query = format!(r#"query($n: String!) {{ {list}(filter: {{ nameContains: $n }}) {{ nodes {{ id }} }} }}"#);
        let (_, body) = self.call(&query, json!({ "n": name })).await;
        body["data"][list]["nodes"][0]["id"].as_str().expect("an id").to_string()
    }
}

/// Asserts the operation was refused before running, for its cost, and returns the cost
/// it was priced at.
fn refused_for_cost(body: &Value, query: &str) -> u64 {
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{query}: {body}");
    assert!(body.get("data").is_none(), "nothing ran: {query}: {body}");
    let cost = &body["errors"][0]["extensions"]["cost"];
    assert_eq!(cost["maximumQueryCost"], 10_000, "{query}: {body}");
    cost["requestedQueryCost"].as_u64().expect("the requested cost")
}

/// Asserts the operation ran and returns its requested and actual costs.
fn ran(status: StatusCode, body: &Value, query: &str) -> (u64, u64) {
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    assert!(body.get("errors").is_none(), "{query}: {body}");
    let cost = &body["extensions"]["cost"];
    (cost["requestedQueryCost"].as_u64().expect("requested"), cost["actualQueryCost"].as_u64().expect("actual"))
}

#[tokio::test]
async fn graph_walks_statistics_nearby_and_search_are_priced_by_the_most_they_may_return() {
    let (_test, server) = Server::sample().await;
    let zone = server.id_of("parks", "武汉东湖新技术开发区").await;
    let xiaomi = server.id_of("organizations", "小米").await;
    let shunwei = server.id_of("organizations", "顺为资本").await;
    let vars = json!({ "zone": zone, "xiaomi": xiaomi, "shunwei": shunwei });

    // Each item of the list pays for the connection it selects: refused before running.
    let expensive = [
        (
            "query($zone: ID!) { neighborhood(id: $zone) { nodes { node { ... on Park { children(first: 10) { nodes { id } } } } } } }",
            1 + 2_000 + 2_000 * 10,
        ),
        (
            "query($xiaomi: ID!, $shunwei: ID!) { connections(from: $xiaomi, to: $shunwei, first: 20, maxHops: 6) { paths { nodes { node { ... on Organization { parks(first: 100) { nodes { id } } } } } } } }",
            1 + 20 * 7 + 20 * 7 * 100,
        ),
        (
            "{ nearby(latitude: 30.505, longitude: 114.399, radiusKm: 10, first: 100) { organizations { organization { parks(first: 100) { nodes { id } } } } } }",
            1 + 200 + 200 * 100,
        ),
        (
            "{ a: search(query: \"光谷\") { ...S } b: search(query: \"gu\") { ...S } c: search(query: \"wu\") { ...S } d: search(query: \"han\") { ...S } e: search(query: \"\") { ...S } } fragment S on SearchResult { hits { node { ... on Organization { parks(first: 100) { nodes { id } } } } } }",
            1 + 5 * (20 + 20 * 100),
        ),
        (
            "{ a: suggest(prefix: \"guang\", first: 50) { ...P } b: suggest(prefix: \"gu\", first: 50) { ...P } } fragment P on SearchHit { node { ... on Park { children(first: 100) { nodes { id } } } } }",
            1 + 2 * (50 + 50 * 100),
        ),
    ];
    for (query, cost) in expensive {
        let (_, body) = server.call(query, vars.clone()).await;
        assert_eq!(refused_for_cost(&body, query), cost, "{query}");
    }
    // Aliases multiply what a walk or a grouping may return.
    let statistics: String =
        (0..11).map(|i| format!("s{i}: statistics(groupBy: [PARK, INDUSTRY]) {{ count }} ")).collect();
    let (_, body) = server.call(&format!("{{ {statistics} }}"), json!({})).await;
    assert_eq!(refused_for_cost(&body, "statistics"), 1 + 11 * 1_000);
    let grouped: String =
        (0..10).map(|i| format!("s{i}: secondHeadquartersStatistics(groupBy: [PARK]) {{ count }} ")).collect();
    let (_, body) = server.call(&format!("{{ {grouped} statistics(groupBy: [CITY]) {{ count }} }}"), json!({})).await;
    assert_eq!(refused_for_cost(&body, "secondHeadquartersStatistics"), 1 + 11 * 1_000);
    let walks: String = (0..5).map(|i| format!("w{i}: neighborhood(id: $zone, hops: 3) {{ truncated }} ")).collect();
    let (_, body) = server.call(&format!("query($zone: ID!) {{ {walks} }}"), json!({ "zone": zone })).await;
    assert_eq!(refused_for_cost(&body, "neighborhood"), 1 + 5 * 2_000);

    // Ordinary requests run, priced up front by their bounds and charged what they returned.
    let cheap = [
        ("query($zone: ID!) { neighborhood(id: $zone) { nodes { id label } edges { type } } }", 1 + 2_000),
        (
            "query($xiaomi: ID!, $shunwei: ID!) { connections(from: $xiaomi, to: $shunwei) { paths { length } } }",
            1 + 5 * 5,
        ),
        ("{ statistics(groupBy: [DESIGNATION_YEAR, PARK], filter: { designations: [UNICORN] }) { count } }", 1 + 1_000),
        ("{ secondHeadquartersStatistics(groupBy: [OPENED_YEAR]) { count } }", 1 + 1_000),
        (
            "{ nearby(latitude: 30.505, longitude: 114.399, radiusKm: 6) { parks { distanceKm } organizations { distanceKm } } }",
            1 + 2 * 20,
        ),
        ("{ search(query: \"Optics Valley biotech\", first: 10) { totalCount hits { nameZh } } }", 1 + 10),
        (
            "{ search(query: \"\", facets: [PARK, INDUSTRY]) { hits { nameZh } facets { values { count } } } }",
            1 + 20 + 2 * 50,
        ),
        ("{ suggest(prefix: \"guang\") { nameZh } }", 1 + 10),
    ];
    for (query, cost) in cheap {
        let (status, body) = server.call(query, vars.clone()).await;
        let (requested, actual) = ran(status, &body, query);
        assert_eq!(requested, cost, "{query}: {body}");
        assert!(actual > 1 && actual <= requested, "{query}: charged {actual} of {requested}: {body}");
    }
}
