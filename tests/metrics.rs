//! `/metrics`: Prometheus text after some traffic, with the series and their values;
//! the switch that turns it off, and the listener of its own that moves it.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use parkgraph::Config;
use serde_json::json;
use tower::ServiceExt;

async fn call(router: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn post(body: String) -> Request<Body> {
    Request::post("/graphql").header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).expect("request")
}

fn query(query: &str) -> Request<Body> {
    post(json!({ "query": query }).to_string())
}

fn scrape() -> Request<Body> {
    Request::get("/metrics").body(Body::empty()).expect("request")
}

/// The value of the series `name{labels}` (labels as the exporter writes them).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_outcomes_latency_throttling_pool_audit_and_buckets() {
    let test = TestDb::sample().await;
    let mut config = Config { database_url: test.url.clone(), ..Config::default() };
    config.limits.anonymous_bucket = 200;
    config.limits.anonymous_restore_per_second = 1;
    let router = parkgraph::app(&config, test.db.clone()).expect("app builds");

    for _ in 0..2 {
        let (status, body) = call(&router, query("query Parks { parks(first: 2) { totalCount } }")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    call(&router, post("{ not json".into())).await;
    call(&router, query("query Broken { parks { noSuchField } }")).await;
    call(&router, query("{ parks { totalCount } }")).await;
    let invented = json!({ "query": "{ parks { totalCount } }", "operationName": "Evil name; --" });
    call(&router, post(invented.to_string())).await;
    let bad_token = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, "Bearer not.a.token")
        .body(Body::from(json!({ "query": "{ parks { totalCount } }" }).to_string()))
        .expect("request");
    call(&router, bad_token).await;
    // 200 points, one restored a second, 50 of them taken by the refused token: a page
    // of up to 100 organizations (101 points asked, what it returns kept) runs once.
    let mut throttled = false;
    for _ in 0..3 {
        let (status, _) = call(&router, query("query Big { organizations(first: 100) { nodes { id } } }")).await;
        throttled |= status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(throttled, "the small bucket throttles");

    let (status, text) = call(&router, scrape()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let series = |s: &str| value(&text, s).unwrap_or_else(|| panic!("no series {s} in:\n{text}"));
    assert_eq!(series(r#"parkgraph_graphql_requests_total{operation="Parks",outcome="OK"}"#), 2.0);
    assert_eq!(series(r#"parkgraph_graphql_requests_total{operation="(none)",outcome="BAD_REQUEST"}"#), 1.0);
    assert_eq!(
        series(r#"parkgraph_graphql_requests_total{operation="Broken",outcome="GRAPHQL_VALIDATION_FAILED"}"#),
        1.0
    );
    assert_eq!(series(r#"parkgraph_graphql_requests_total{operation="(none)",outcome="OK"}"#), 1.0);
    assert_eq!(series(r#"parkgraph_graphql_requests_total{operation="(none)",outcome="UNAUTHENTICATED"}"#), 1.0);
    assert!(series(r#"parkgraph_graphql_requests_total{operation="Big",outcome="THROTTLED"}"#) >= 1.0);
    assert!(!text.contains("Evil"), "a name that is not a plain GraphQL name is not a label:\n{text}");
    assert_eq!(
        series(r#"parkgraph_graphql_requests_total{operation="(other)",outcome="GRAPHQL_VALIDATION_FAILED"}"#),
        1.0
    );
    assert_eq!(series(r#"parkgraph_graphql_request_duration_seconds_count{operation="Parks"}"#), 2.0);
    assert!(series(r#"parkgraph_graphql_request_duration_seconds_bucket{operation="Parks",le="+Inf"}"#) >= 2.0);
    assert!(series(r#"parkgraph_graphql_request_duration_seconds_sum{operation="Parks"}"#) > 0.0);
    assert!(series(r#"parkgraph_graphql_throttled_total{caller="anonymous"}"#) >= 1.0);
    assert_eq!(series(r#"parkgraph_graphql_refused_total{reason="credentials"}"#), 1.0);
    assert_eq!(series(r#"parkgraph_graphql_refused_total{reason="bad_request"}"#), 1.0);
    assert_eq!(series("parkgraph_db_pool_max_connections"), 5.0, "the test pool holds 5");
    // The pool has served requests, so it holds connections; how many are idle at the
    // moment of the scrape depends on background writers (audit, last use), so only the
    // total is checked.
    let idle = series(r#"parkgraph_db_pool_connections{state="idle"}"#);
    let in_use = series(r#"parkgraph_db_pool_connections{state="in_use"}"#);
    assert!(idle + in_use >= 1.0 && idle + in_use <= 5.0, "idle {idle}, in use {in_use}");
    assert_eq!(series("parkgraph_audit_queue_capacity"), 20_000.0);
    assert!(series("parkgraph_audit_queue_depth") >= 0.0);
    assert_eq!(series("parkgraph_audit_events_dropped_total"), 0.0);
    assert!(series("parkgraph_rate_limit_buckets") >= 1.0);
    assert_eq!(series(r#"parkgraph_rate_limit_store{store="local"}"#), 1.0);
    assert_eq!(series(r#"parkgraph_rate_limit_store{store="shared"}"#), 0.0);
    assert!(text.contains("# TYPE parkgraph_graphql_request_duration_seconds histogram"), "{text}");
    assert!(text.contains("# TYPE parkgraph_graphql_requests_total counter"), "{text}");
}

#[tokio::test]
async fn metrics_can_be_turned_off_or_moved_to_a_listener_of_their_own() {
    let test = TestDb::migrated().await;
    let off = Config { database_url: test.url.clone(), metrics: false, ..Config::default() };
    let router = parkgraph::app(&off, test.db.clone()).expect("app builds");
    assert_eq!(call(&router, scrape()).await.0, StatusCode::NOT_FOUND);
    let routers = parkgraph::routers(&off, test.db.clone()).expect("routers build");
    assert!(routers.metrics.is_none());

    let moved =
        Config { database_url: test.url.clone(), metrics_listen: Some("127.0.0.1:0".into()), ..Config::default() };
    let routers = parkgraph::routers(&moved, test.db.clone()).expect("routers build");
    assert_eq!(call(&routers.api, scrape()).await.0, StatusCode::NOT_FOUND, "not beside /graphql");
    call(&routers.api, query("query Moved { parks { totalCount } }")).await;
    let metrics = routers.metrics.expect("a metrics router");
    let (status, text) = call(&metrics, scrape()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        value(&text, r#"parkgraph_graphql_requests_total{operation="Moved",outcome="OK"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(call(&metrics, query("{ parks { totalCount } }")).await.0, StatusCode::NOT_FOUND, "only /metrics");
}
