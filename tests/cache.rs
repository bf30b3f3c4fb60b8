//! The response cache, over HTTP with real tokens: a repeated query is answered from the
//! cache, and the answer is replaced as soon as a mutation commits (on the replica that
//! ran it, before its answer is sent; on another replica over the same database, once it
//! reads the feed's head). Answers are kept apart by role and scopes, answers about the
//! caller are never shared, and GET answers carry an ETag and `Cache-Control`. Runs on
//! SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use parkgraph_domain::Role;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    raw: String,
}

async fn send(router: &axum::Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    Answer { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), raw }
}

async fn post(router: &axum::Router, token: Option<&str>, query: &str, variables: Value) -> Answer {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let payload = json!({ "query": query, "variables": variables }).to_string();
    send(router, request.body(Body::from(payload)).expect("request")).await
}

async fn data(router: &axum::Router, token: Option<&str>, query: &str, variables: Value) -> Value {
    let answer = post(router, token, query, variables).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.raw);
    assert!(answer.body.get("errors").is_none(), "{}", answer.raw);
    answer.body["data"].clone()
}

/// Runs a mutation that must succeed and returns its payload.
async fn mutate(router: &axum::Router, token: &str, name: &str, fields: &str, input: Value) -> Value {
    let kind = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    let query =
        format!("mutation($input: {kind}!) {{ {name}(input: $input) {{ {fields} userErrors {{ field message }} }} }}");
    let payload = data(router, Some(token), &query, json!({ "input": input })).await;
    assert_eq!(payload[name]["userErrors"], json!([]), "{payload:#}");
    payload[name].clone()
}

/// The value of a `/metrics` series.
async fn series(router: &axum::Router, name: &str) -> f64 {
    let answer = send(router, Request::get("/metrics").body(Body::empty()).expect("request")).await;
    answer
        .raw
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no series {name} in:\n{}", answer.raw))
}

const HITS: &str = r#"parkgraph_response_cache_lookups_total{result="hit"}"#;
const MISSES: &str = r#"parkgraph_response_cache_lookups_total{result="miss"}"#;

const ONE: &str = "query One($id: ID!) { node(id: $id) { ... on Organization { nameZh version } } }";

#[tokio::test]
async fn a_cached_answer_is_replaced_by_the_new_one_once_a_mutation_commits() {
    let test = TestDb::sample().await;
    let (config, tokens) =
        common::config_with_tokens(&test, &[(Role::Editor, "editor:wang"), (Role::Analyst, "analyst:li")]).await;
    let (editor, analyst) = (tokens[0].as_str(), tokens[1].as_str());
    let app = parkgraph::app(&config, test.db.clone()).expect("app builds");

    let created = mutate(
        &app,
        editor,
        "createOrganization",
        "organization { id }",
        json!({ "kind": "ENTERPRISE", "nameZh": "缓存示例科技", "status": "ACTIVE" }),
    )
    .await;
    let id = created["organization"]["id"].clone();

    let first = data(&app, Some(analyst), ONE, json!({ "id": id })).await;
    assert_eq!(first["node"], json!({ "nameZh": "缓存示例科技", "version": 1 }));
    let (hits, misses) = (series(&app, HITS).await, series(&app, MISSES).await);
    // The same operation, spaced and commented differently: one answer.
    let respaced =
        "query One( $id : ID! ) {\n  node(id: $id) {\n    ... on Organization { nameZh, version } # v\n  }\n}";
    let second = data(&app, Some(analyst), respaced, json!({ "id": id })).await;
    assert_eq!(second, first);
    assert_eq!(series(&app, HITS).await, hits + 1.0, "the repeat is a hit");
    assert_eq!(series(&app, MISSES).await, misses);

    mutate(
        &app,
        editor,
        "updateOrganization",
        "organization { version }",
        json!({ "id": id, "version": 1, "nameZh": "缓存示例科技（更名）" }),
    )
    .await;
    let after = data(&app, Some(analyst), ONE, json!({ "id": id })).await;
    assert_eq!(after["node"], json!({ "nameZh": "缓存示例科技（更名）", "version": 2 }));
    assert!(series(&app, "parkgraph_response_cache_invalidations_total").await >= 1.0);
    let ratio = series(&app, "parkgraph_response_cache_hit_ratio").await;
    assert!(ratio > 0.0 && ratio < 1.0, "{ratio}");
    assert!(series(&app, "parkgraph_response_cache_entries").await >= 1.0);
    assert!(series(&app, r#"parkgraph_response_cache_bytes{of="capacity"}"#).await >= 16.0 * 1024.0 * 1024.0 - 4096.0);
}

#[tokio::test]
async fn another_replica_drops_its_cached_answer_once_it_reads_the_feed() {
    let test = TestDb::sample().await;
    let (mut config, tokens) =
        common::config_with_tokens(&test, &[(Role::Editor, "editor:wang"), (Role::Analyst, "analyst:li")]).await;
    config.cache.follow_ms = 50;
    let (editor, analyst) = (tokens[0].as_str(), tokens[1].as_str());
    let writer = parkgraph::app(&config, test.db.clone()).expect("app builds");
    let reader = parkgraph::app(&config, test.db.clone()).expect("app builds");

    let created = mutate(
        &writer,
        editor,
        "createOrganization",
        "organization { id }",
        json!({ "kind": "ENTERPRISE", "nameZh": "副本示例科技", "status": "ACTIVE" }),
    )
    .await;
    let id = created["organization"]["id"].clone();
    // Let the reader's follower see the creation, then fill its cache.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = data(&reader, Some(analyst), ONE, json!({ "id": id })).await;
    assert_eq!(before["node"]["version"], 1);
    let hits = series(&reader, HITS).await;
    assert_eq!(data(&reader, Some(analyst), ONE, json!({ "id": id })).await, before);
    assert_eq!(series(&reader, HITS).await, hits + 1.0, "the reader answers from its cache");

    mutate(
        &writer,
        editor,
        "updateOrganization",
        "organization { version }",
        json!({ "id": id, "version": 1, "nameZh": "副本示例科技（更名）" }),
    )
    .await;
    // The bound is the follow interval plus one read of the counter; a loaded test
    // machine gets ten seconds before this counts as a failure.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = data(&reader, Some(analyst), ONE, json!({ "id": id })).await;
        if now["node"]["version"] == 2 {
            assert_eq!(now["node"]["nameZh"], "副本示例科技（更名）");
            break;
        }
        assert!(Instant::now() < deadline, "the reader still serves version 1: {now:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(series(&reader, "parkgraph_response_cache_invalidations_total").await >= 1.0);
}

#[tokio::test]
async fn answers_are_kept_apart_by_role_and_answers_about_the_caller_are_never_shared() {
    let test = TestDb::sample().await;
    let (config, tokens) = common::config_with_tokens(
        &test,
        &[(Role::Editor, "editor:wang"), (Role::Analyst, "analyst:li"), (Role::Analyst, "analyst:zhao")],
    )
    .await;
    let (editor, li, zhao) = (tokens[0].as_str(), tokens[1].as_str(), tokens[2].as_str());
    let app = parkgraph::app(&config, test.db.clone()).expect("app builds");

    let created = mutate(
        &app,
        editor,
        "createOrganization",
        "organization { id version }",
        json!({ "kind": "ENTERPRISE", "nameZh": "归档缓存示例", "status": "ACTIVE" }),
    )
    .await;
    let id = created["organization"]["id"].clone();
    mutate(&app, editor, "archiveOrganization", "organization { version }", json!({ "id": id, "version": 1 })).await;

    // Staff read archived records; anonymous callers do not, whoever asked first.
    const ARCHIVED: &str = "query($id: ID!) { node(id: $id) { ... on Organization { nameZh archivedAt } } }";
    for _ in 0..2 {
        let staff = data(&app, Some(editor), ARCHIVED, json!({ "id": id })).await;
        assert_eq!(staff["node"]["nameZh"], "归档缓存示例");
        assert!(staff["node"]["archivedAt"].is_string(), "{staff:#}");
        let anonymous = data(&app, None, ARCHIVED, json!({ "id": id })).await;
        assert_eq!(anonymous["node"], Value::Null);
    }

    // Two analysts hold the same role and scopes; `viewer` is each one's own.
    for _ in 0..2 {
        for (token, subject) in [(li, "analyst:li"), (zhao, "analyst:zhao")] {
            let viewer = data(&app, Some(token), "{ viewer { subject } }", json!({})).await;
            assert_eq!(viewer["viewer"]["subject"], subject);
        }
    }
}

fn get(query: &str, token: Option<&str>, if_none_match: Option<&str>) -> Request<Body> {
    let mut url = String::from("/graphql?query=");
    for byte in query.bytes() {
        if byte.is_ascii_alphanumeric() {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    let mut request = Request::get(url).header(header::ACCEPT, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(tag) = if_none_match {
        request = request.header(header::IF_NONE_MATCH, tag);
    }
    request.body(Body::empty()).expect("request")
}

fn header_of(answer: &Answer, name: header::HeaderName) -> &str {
    answer.headers.get(&name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name}: {}", answer.raw))
}

#[tokio::test]
async fn get_answers_carry_an_etag_that_revalidates_and_say_who_may_cache_them() {
    let test = TestDb::sample().await;
    let (mut config, tokens) = common::config_with_tokens(&test, &[(Role::Editor, "editor:wang")]).await;
    let editor = tokens[0].as_str();
    let app = parkgraph::app(&config, test.db.clone()).expect("app builds");
    const PARKS: &str = "{ parks(first: 3) { nodes { id nameZh version } } }";

    let public = send(&app, get(PARKS, None, None)).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.raw);
    assert_eq!(header_of(&public, header::CACHE_CONTROL), "public, no-cache");
    assert_eq!(header_of(&public, header::VARY), "Accept, Authorization");
    let etag = header_of(&public, header::ETAG).to_owned();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");

    // Revalidation: the same data is `304` with no body, from the cache or not.
    let again = send(&app, get(PARKS, None, Some(&etag))).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.raw.is_empty(), "{}", again.raw);
    assert_eq!(header_of(&again, header::ETAG), etag);
    let other = send(&app, get(PARKS, None, Some("\"0000\", W/\"1111\""))).await;
    assert_eq!(other.status, StatusCode::OK);

    // A token's answers are private.
    let private = send(&app, get(PARKS, Some(editor), None)).await;
    assert_eq!(private.status, StatusCode::OK, "{}", private.raw);
    assert_eq!(header_of(&private, header::CACHE_CONTROL), "private, no-cache");

    // After a change to what the answer shows, the old tag no longer matches.
    let park = public.body["data"]["parks"]["nodes"][0].clone();
    mutate(
        &app,
        editor,
        "updatePark",
        "park { version }",
        json!({ "id": park["id"], "version": park["version"], "nameEn": "Cache Test Park" }),
    )
    .await;
    let changed = send(&app, get(PARKS, None, Some(&etag))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.raw);
    assert_ne!(header_of(&changed, header::ETAG), etag);

    // Errors are never stored.
    let broken = send(&app, get("{ parks { noSuchField } }", None, None)).await;
    assert_eq!(header_of(&broken, header::CACHE_CONTROL), "no-store");

    // A configured max-age for public answers.
    config.cache.public_max_age_seconds = 30;
    let app = parkgraph::app(&config, test.db.clone()).expect("app builds");
    let aged = send(&app, get(PARKS, None, None)).await;
    assert_eq!(header_of(&aged, header::CACHE_CONTROL), "public, max-age=30");
}

#[tokio::test]
async fn with_the_cache_off_every_query_runs() {
    let test = TestDb::sample().await;
    let mut config = parkgraph::Config { database_url: test.url.clone(), ..parkgraph::Config::default() };
    config.cache.enabled = false;
    let app = parkgraph::app(&config, test.db.clone()).expect("app builds");
    for _ in 0..3 {
        data(&app, None, "{ parks(first: 2) { totalCount } }", json!({})).await;
    }
    assert_eq!(series(&app, HITS).await, 0.0);
    assert_eq!(series(&app, MISSES).await, 0.0);
}
