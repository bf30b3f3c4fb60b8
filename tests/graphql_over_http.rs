//! GraphQL over HTTP as the draft specification describes it, end to end through the
//! router: every answer on `/graphql` is JSON with codes, `Accept` picks the media type
//! and status codes, `GET` runs queries (never mutations) through the same path as
//! `POST`, and no `data` key appears when execution never began.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use parkgraph::Config;
use parkgraph::config::{KeyConfig, Secret};
use parkgraph_domain::Role;
use parkgraph_registry::token::{IssueRequest, issue};
use serde_json::{Value, json};
use tower::ServiceExt;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const SECRET: &str = "graphql-over-http-secret-of-32-bytes-or-more";

fn config(test: &TestDb) -> Config {
    let mut config = Config { database_url: test.url.clone(), ..Config::default() };
    config.auth.keys = vec![KeyConfig {
        kid: "k1".into(),
        algorithm: "HS256".into(),
        secret: Some(Secret(SECRET.into())),
        secret_file: None,
        private_key_file: None,
        public_key_file: None,
    }];
    config.auth.dev_keys = false;
    config
}

fn app(test: &TestDb, config: &Config) -> axum::Router {
    parkgraph::app(config, test.db.clone()).expect("app builds")
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
    body: Value,
}

impl Answer {
    fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
    }
}

async fn send(router: &axum::Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, text, body }
}

fn post_raw(body: impl Into<Body>, accept: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    request.body(body.into()).expect("request")
}

fn post(body: Value, accept: Option<&str>) -> Request<Body> {
    post_raw(body.to_string(), accept)
}

/// `GET /graphql` with these parameters, percent-encoded.
fn get(parameters: &[(&str, &str)], accept: Option<&str>) -> Request<Body> {
    let query: String =
        parameters.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect::<Vec<_>>().join("&");
    let mut request = Request::get(format!("/graphql?{query}"));
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    request.body(Body::empty()).expect("request")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn bodies_that_are_not_graphql_requests_are_json_bad_request_errors() {
    let test = TestDb::migrated().await;
    let router = app(&test, &config(&test));
    for (body, what) in [
        (r#"{"query": "{ parks { totalCount } "#, "malformed JSON"),
        ("", "an empty body"),
        (r#"{"query": 42}"#, "a number as query"),
        (r#"{"query": null}"#, "a null query"),
        ("{}", "no query"),
        (r#"{"query": "   "}"#, "a blank query"),
        ("[]", "an empty batch"),
        ("\"{ parks { totalCount } }\"", "a bare string"),
    ] {
        for accept in [None, Some("application/json"), Some(GRAPHQL_RESPONSE)] {
            let answer = send(&router, post_raw(body, accept)).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what} ({accept:?}): {}", answer.text);
            assert_eq!(answer.code(), "BAD_REQUEST", "{what}: {}", answer.text);
            assert!(answer.body.get("data").is_none(), "{what}: nothing ran: {}", answer.text);
            let message = answer.body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(!message.contains("InvalidRequest(") && !message.is_empty(), "{what}: {message}");
            let expected = if accept == Some(GRAPHQL_RESPONSE) { GRAPHQL_RESPONSE } else { "application/json" };
            assert!(answer.content_type().starts_with(expected), "{what}: {}", answer.content_type());
        }
    }
}

#[tokio::test]
async fn a_get_query_runs_with_variables_and_operation_name() {
    let test = TestDb::sample().await;
    let router = app(&test, &config(&test));
    let document = "query Parks($n: Int) { parks(first: $n) { nodes { nameZh } } } \
                    query Count { parks { totalCount } }";
    let answer =
        send(&router, get(&[("query", document), ("variables", r#"{"n": 2}"#), ("operationName", "Parks")], None))
            .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["data"]["parks"]["nodes"].as_array().map(Vec::len), Some(2), "{}", answer.text);
    assert!(answer.body.get("errors").is_none(), "{}", answer.text);
    assert!(answer.body["extensions"]["cost"]["requestedQueryCost"].as_u64() > Some(0), "{}", answer.text);
    assert!(answer.headers.contains_key("x-ratelimit-remaining"), "rate limited like POST");
    let vary: Vec<_> = answer.headers.get_all(header::VARY).iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(vary.iter().any(|v| v.contains("authorization") && v.contains("accept")), "{vary:?}");

    let answer = send(&router, get(&[("query", document), ("operationName", "Count")], None)).await;
    assert!(answer.body["data"]["parks"]["totalCount"].as_u64() > Some(10), "{}", answer.text);

    let answer = send(&router, get(&[("query", "{ parks { totalCount } }"), ("variables", "[1]")], None)).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::BAD_REQUEST, "BAD_REQUEST"), "{}", answer.text);
    let answer = send(&router, get(&[("query", "{ parks { totalCount } }"), ("variables", "{oops")], None)).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::BAD_REQUEST, "BAD_REQUEST"), "{}", answer.text);
}

#[tokio::test]
async fn a_get_runs_as_the_token_and_is_limited_like_a_post() {
    let test = TestDb::sample().await;
    let mut config = config(&test);
    config.limits.max_query_cost = 50;
    let router = app(&test, &config);
    let keys = parkgraph::keys::key_set(&config.auth, &config.database_url).expect("keys");
    let request = IssueRequest {
        partner: Some("Get Partner".into()),
        role: Role::Partner,
        scopes: None,
        ttl: Duration::from_secs(3600),
        subject: None,
        description: None,
        issued_by: None,
    };
    let (token, _) = issue(&test.db, &keys, request).await.expect("issues");
    let mut request = get(&[("query", "{ viewer { role } }")], None);
    request.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {token}").parse().expect("header"));
    let answer = send(&router, request).await;
    assert_eq!(answer.body["data"]["viewer"]["role"], "PARTNER", "{}", answer.text);

    let mut request = get(&[("query", "{ viewer { role } }")], None);
    request.headers_mut().insert(header::AUTHORIZATION, "Bearer not.a.token".parse().expect("header"));
    let answer = send(&router, request).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"), "{}", answer.text);

    let costly = "{ organizations(first: 100) { totalCount } }";
    let answer = send(&router, get(&[("query", costly)], None)).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::OK, "BAD_USER_INPUT"), "{}", answer.text);
    let answer = send(&router, get(&[("query", costly)], Some(GRAPHQL_RESPONSE))).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"), "{}", answer.text);
    assert!(answer.body.get("data").is_none(), "{}", answer.text);
}

#[tokio::test]
async fn a_mutation_over_get_is_405_with_allow_post() {
    let test = TestDb::migrated().await;
    let router = app(&test, &config(&test));
    let mutation = r#"mutation { revokeToken(jti: "018f0000-0000-7000-8000-000000000000") { jti } }"#;
    let both = format!("query Q {{ parks {{ totalCount }} }} {mutation}");
    let named = both.replace("mutation {", "mutation M {");
    for parameters in [vec![("query", mutation)], vec![("query", named.as_str()), ("operationName", "M")]] {
        for accept in [None, Some(GRAPHQL_RESPONSE)] {
            let answer = send(&router, get(&parameters, accept)).await;
            assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{}", answer.text);
            assert_eq!(answer.headers.get(header::ALLOW).map(|v| v.as_bytes()), Some(&b"POST"[..]));
            assert_eq!(answer.code(), "BAD_REQUEST", "{}", answer.text);
            assert!(answer.body.get("data").is_none(), "{}", answer.text);
        }
    }
    // The query of the same document runs.
    let answer = send(&router, get(&[("query", named.as_str()), ("operationName", "Q")], None)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["data"]["parks"]["totalCount"], 0, "{}", answer.text);
}

#[tokio::test]
async fn accept_chooses_the_media_type_and_the_status_codes() {
    let test = TestDb::sample().await;
    let router = app(&test, &config(&test));
    let valid = json!({ "query": "{ parks(first: 1) { totalCount } }" });
    let invalid = json!({ "query": "{ parks { noSuchField } }" });
    let unparsable = json!({ "query": "{ parks {" });

    // application/graphql-response+json: 200 once execution began, 400 before.
    let answer = send(&router, post(valid.clone(), Some(GRAPHQL_RESPONSE))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.content_type().starts_with(GRAPHQL_RESPONSE), "{}", answer.content_type());
    assert!(answer.body["data"]["parks"]["totalCount"].as_u64() > Some(0));
    for document in [&invalid, &unparsable] {
        let answer = send(&router, post(document.clone(), Some(GRAPHQL_RESPONSE))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        assert!(answer.content_type().starts_with(GRAPHQL_RESPONSE));
        assert_eq!(answer.code(), "GRAPHQL_VALIDATION_FAILED", "{}", answer.text);
        assert!(answer.body.get("data").is_none(), "{}", answer.text);
    }
    let preferred = "application/graphql-response+json, application/json;q=0.9";
    assert_eq!(send(&router, post(invalid.clone(), Some(preferred))).await.status, StatusCode::BAD_REQUEST);

    // application/json, */* or no Accept: the legacy rule, 200 for GraphQL errors.
    for accept in [None, Some("application/json"), Some("*/*"), Some("application/json, text/plain;q=0.5")] {
        let answer = send(&router, post(invalid.clone(), accept)).await;
        assert_eq!(answer.status, StatusCode::OK, "{accept:?}: {}", answer.text);
        assert!(answer.content_type().starts_with("application/json"), "{accept:?}: {}", answer.content_type());
        assert_eq!(answer.code(), "GRAPHQL_VALIDATION_FAILED");
        assert!(answer.body.get("data").is_none(), "{accept:?}: {}", answer.text);
    }

    // Neither allowed: 406, in JSON all the same.
    for accept in ["text/html", "application/xml", "application/json;q=0"] {
        let answer = send(&router, post(valid.clone(), Some(accept))).await;
        assert_eq!(answer.status, StatusCode::NOT_ACCEPTABLE, "{accept}: {}", answer.text);
        assert_eq!(answer.code(), "BAD_REQUEST", "{}", answer.text);
        assert!(answer.body.get("data").is_none());
    }
}

#[tokio::test]
async fn execution_errors_keep_data_and_validation_errors_have_none_single_or_batched() {
    let test = TestDb::sample().await;
    let router = app(&test, &config(&test));
    // A field error during execution: data is present, and the status is 200 even
    // under application/graphql-response+json.
    let field_error =
        json!({ "query": r#"{ parks(first: 1) { totalCount } organization(id: "bm90IGFuIGlk") { nameZh } }"# });
    let answer = send(&router, post(field_error, Some(GRAPHQL_RESPONSE))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.body.get("data").is_some_and(Value::is_object), "{}", answer.text);
    assert!(answer.body["errors"][0]["path"].is_array(), "{}", answer.text);

    let batch = json!([
        { "query": "{ parks(first: 1) { totalCount } }" },
        { "query": "{ parks { noSuchField } }" },
        { "query": "query ($n: Int!) { parks(first: $n) { totalCount } }" },
    ]);
    for accept in [None, Some(GRAPHQL_RESPONSE)] {
        let answer = send(&router, post(batch.clone(), accept)).await;
        assert_eq!(answer.status, StatusCode::OK, "one operation ran: {}", answer.text);
        let answers = answer.body.as_array().expect("a batch answers with an array");
        assert!(answers[0]["data"]["parks"]["totalCount"].as_u64() > Some(0), "{}", answer.text);
        for invalid in &answers[1..] {
            assert!(invalid.get("data").is_none(), "no data when execution never began: {invalid}");
            assert_eq!(invalid["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{invalid}");
        }
    }
    let invalid_only = json!([{ "query": "{ nope }" }, { "query": "{ parks { " }]);
    let answer = send(&router, post(invalid_only.clone(), Some(GRAPHQL_RESPONSE))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "nothing ran: {}", answer.text);
    assert!(answer.body.as_array().is_some_and(|a| a.iter().all(|r| r.get("data").is_none())), "{}", answer.text);
    let answer = send(&router, post(invalid_only, None)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn other_methods_are_405_with_a_graphql_error() {
    let test = TestDb::migrated().await;
    let router = app(&test, &config(&test));
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let request = Request::builder().method(method.clone()).uri("/graphql").body(Body::empty()).expect("request");
        let answer = send(&router, request).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(answer.headers.get(header::ALLOW).map(|v| v.as_bytes()), Some(&b"GET, POST"[..]));
        assert_eq!(answer.code(), "BAD_REQUEST", "{method}: {}", answer.text);
    }
}

#[tokio::test]
async fn get_without_a_query_is_graphiql_for_browsers_and_an_error_otherwise() {
    let test = TestDb::migrated().await;
    let config = config(&test);
    let router = app(&test, &config);
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let page = send(&router, get(&[], Some(browser))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type().starts_with("text/html"), "{}", page.content_type());
    assert!(page.text.to_lowercase().contains("graphiql"));

    for accept in [None, Some("application/json"), Some(GRAPHQL_RESPONSE)] {
        let answer = send(&router, get(&[], accept)).await;
        assert_eq!((answer.status, answer.code()), (StatusCode::BAD_REQUEST, "BAD_REQUEST"), "{}", answer.text);
    }
    // A browser that sends a query gets the answer, as JSON.
    let answer = send(&router, get(&[("query", "{ parks { totalCount } }")], Some(browser))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.content_type().starts_with("application/json"));

    let off = Config { graphiql: false, ..config };
    let answer = send(&app(&test, &off), get(&[], Some(browser))).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::BAD_REQUEST, "BAD_REQUEST"), "{}", answer.text);
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_json_413() {
    let test = TestDb::migrated().await;
    let config = Config { max_body_bytes: 256, ..config(&test) };
    let router = app(&test, &config);
    let big = json!({ "query": format!("{{ parks {{ totalCount }} }} # {}", "x".repeat(1024)) }).to_string();
    let mut request = post_raw(big.clone(), None);
    request.headers_mut().insert(header::CONTENT_LENGTH, big.len().into());
    let answer = send(&router, request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.text);
    assert_eq!(answer.code(), "BAD_REQUEST", "{}", answer.text);
    // Without Content-Length the limit trips while reading: the same answer.
    let answer = send(&router, post_raw(big, None)).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST"), "{}", answer.text);
}
