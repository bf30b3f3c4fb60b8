//! Property tests of the request path: arbitrary bodies, headers, GraphQL documents and
//! GET query strings sent through the HTTP router never make it panic or answer with a
//! 5xx, and every answer on `/graphql` is JSON. The budget is
//! fixed (`PARKGRAPH_FUZZ_CASES`, 1,000 cases per property by default) so CI time is bounded.

mod common;

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use parkgraph::Config;
use parkgraph::config::{KeyConfig, Secret};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use tower::ServiceExt;

fn cases() -> u32 {
    std::env::var("PARKGRAPH_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000)
}

/// A server over the sample, with a key so that token paths run, and generous buckets so
/// that the properties exercise the request path rather than the rate limit.
fn server(runtime: &tokio::runtime::Runtime) -> (TestDb, axum::Router) {
    runtime.block_on(async {
        let test = TestDb::sample().await;
        let mut config = Config { database_url: test.url.clone(), ..Config::default() };
        config.auth.keys = vec![KeyConfig {
            kid: "fuzz".into(),
            algorithm: "HS256".into(),
            secret: Some(Secret("fuzz-secret-of-at-least-thirty-two-bytes".into())),
            secret_file: None,
            private_key_file: None,
            public_key_file: None,
        }];
        config.auth.dev_keys = false;
        config.limits.anonymous_bucket = 100_000_000;
        config.limits.anonymous_restore_per_second = 100_000_000;
        let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
        (test, router)
    })
}

/// Sends one request and checks the property: no panic (the call returns), no 5xx, a
/// JSON body on `/graphql` answers, and no error masked as `INTERNAL`.
fn check(
    runtime: &tokio::runtime::Runtime,
    router: &axum::Router,
    request: Request<Body>,
) -> Result<(), TestCaseError> {
    let (status, body) = runtime.block_on(async {
        let response = router.clone().oneshot(request).await.expect("the router answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, bytes)
    });
    prop_assert!(!status.is_server_error(), "answered {status}: {}", String::from_utf8_lossy(&body));
    // Every answer on /graphql is JSON, refusals (405, 406, 413, 415) included.
    if status != StatusCode::NOT_FOUND {
        let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&body);
        prop_assert!(
            parsed.is_ok(),
            "answered {status} with a body that is not JSON: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}

fn runner() -> TestRunner {
    TestRunner::new(RunnerConfig { cases: cases(), failure_persistence: None, ..RunnerConfig::default() })
}

/// Words GraphQL documents are made of: real field and argument names, punctuation,
/// values of every kind, directives, fragments, variables and some junk.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ":",
            "...",
            "$v",
            "@include(if: true)",
            "@skip(if: $v)",
            "query",
            "mutation",
            "subscription",
            "fragment F on Query",
            "...F",
            "on",
            "parks",
            "organizations",
            "enterprises",
            "incubators",
            "innovationCenters",
            "secondHeadquarters",
            "unicorns",
            "designations",
            "node",
            "nodes",
            "edges",
            "pageInfo",
            "totalCount",
            "id",
            "nameZh",
            "nameEn",
            "children",
            "parent",
            "staffNotes",
            "contactName",
            "viewer",
            "apiTokens",
            "auditEvents",
            "issueToken",
            "revokeToken",
            "__schema",
            "__type",
            "__typename",
            "first:",
            "last:",
            "after:",
            "before:",
            "ids:",
            "filter:",
            "orderBy:",
            "nameContains:",
            "id:",
            "input:",
            "100",
            "-1",
            "2147483648",
            "1e400",
            "0.5",
            "true",
            "null",
            "\"x\"",
            "\"\\u0000\"",
            "\"光谷\"",
            "\"\\\"",
            "#",
            ",",
            "\n",
            "a:",
            "b:",
            "ZZZ",
            "\u{0}",
            "\u{feff}",
        ])
        .prop_map(String::from),
        "[a-zA-Z_]{1,8}",
        ".{0,6}",
    ]
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..40).prop_map(|tokens| tokens.join(" "))
}

fn variables() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        Just(serde_json::json!({ "v": true })),
        Just(serde_json::json!({ "v": "x".repeat(5_000) })),
        Just(serde_json::json!({ "v": [1, 2, 3], "f": { "nameContains": "\u{0}" } })),
        Just(serde_json::json!("not an object")),
        Just(serde_json::json!({ "v": { "deep": { "deeper": [null, 1e300, -0.0] } } })),
    ]
}

fn post(content_type: Option<String>, extra: Vec<(String, Vec<u8>)>, body: Vec<u8>) -> Request<Body> {
    let mut request = Request::post("/graphql");
    if let Some(content_type) = content_type
        && let Ok(value) = HeaderValue::from_str(&content_type)
    {
        request = request.header(header::CONTENT_TYPE, value);
    }
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) =
            (header::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(&value))
        {
            request = request.header(name, value);
        }
    }
    request.body(Body::from(body)).expect("request")
}

#[test]
fn arbitrary_graphql_documents_never_fail_the_server() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (_test, router) = server(&runtime);
    runner()
        .run(&(document(), variables(), prop::option::of("[A-Za-z]{1,6}")), |(query, variables, operation)| {
            let body = serde_json::json!({ "query": query, "variables": variables, "operationName": operation });
            check(&runtime, &router, post(Some("application/json".into()), Vec::new(), body.to_string().into_bytes()))
        })
        .expect("no panic and no 5xx for any document");
}

#[test]
fn arbitrary_bodies_and_content_types_never_fail_the_server() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (_test, router) = server(&runtime);
    let content_type = prop::option::of(prop_oneof![
        Just("application/json".to_string()),
        Just("application/graphql-response+json".to_string()),
        Just("text/plain".to_string()),
        Just("multipart/form-data; boundary=xyz".to_string()),
        Just("application/x-www-form-urlencoded".to_string()),
        "[ -~]{0,30}",
    ]);
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        Just(b"{\"query\": 42}".to_vec()),
        Just(b"[]".to_vec()),
        Just(b"[{\"query\": \"{ parks { totalCount } }\"}, 7]".to_vec()),
        Just(b"{\"query\": \"{ parks { totalCount } }\", \"variables\": [1]}".to_vec()),
        Just(b"--xyz\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--xyz--".to_vec()),
        "[ -~]{0,200}".prop_map(String::into_bytes),
    ];
    let csrf = prop::option::of(Just(("x-parkgraph-csrf".to_string(), b"1".to_vec())));
    runner()
        .run(&(content_type, body, csrf), |(content_type, body, csrf)| {
            check(&runtime, &router, post(content_type, csrf.into_iter().collect(), body))
        })
        .expect("no panic and no 5xx for any body");
}

/// Percent-encodes every byte outside the unreserved set.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn arbitrary_get_requests_never_fail_the_server() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (_test, router) = server(&runtime);
    let accept = prop::option::of(prop_oneof![
        Just("application/json".to_string()),
        Just("application/graphql-response+json".to_string()),
        Just("application/graphql-response+json, application/json;q=0.9".to_string()),
        Just("*/*".to_string()),
        Just("application/xml".to_string()),
        "[ -~]{0,30}".prop_filter("no page", |a| !a.to_ascii_lowercase().contains("html")),
    ]);
    let variables =
        prop::option::of(prop_oneof![variables().prop_map(|v| v.to_string()), "[ -~]{0,20}".prop_map(String::from),]);
    let raw = "[ -~]{0,60}".prop_map(String::from);
    runner()
        .run(
            &(prop::option::of(document()), variables, prop::option::of("[A-Za-z]{1,6}"), accept, raw),
            |(query, variables, operation, accept, raw)| {
                let mut parameters = Vec::new();
                if let Some(query) = query {
                    parameters.push(format!("query={}", percent_encoded(&query)));
                }
                if let Some(variables) = variables {
                    parameters.push(format!("variables={}", percent_encoded(&variables)));
                }
                if let Some(operation) = operation {
                    parameters.push(format!("operationName={operation}"));
                }
                // Some bytes as they come (duplicates, stray `&` and `=`, bad escapes).
                parameters.push(raw.replace(['#', ' '], ""));
                let mut request = Request::get(format!("/graphql?{}", parameters.join("&")));
                if let Some(accept) = accept
                    && let Ok(value) = HeaderValue::from_str(&accept)
                {
                    request = request.header(header::ACCEPT, value);
                }
                match request.body(Body::empty()) {
                    Ok(request) => check(&runtime, &router, request),
                    // A URI the HTTP types refuse never reaches a server.
                    Err(_) => Ok(()),
                }
            },
        )
        .expect("no panic and no 5xx for any GET")
}

#[test]
fn arbitrary_authorization_and_forwarding_headers_never_fail_the_server() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (_test, router) = server(&runtime);
    let value = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        "Bearer [A-Za-z0-9_.=-]{0,200}".prop_map(String::into_bytes),
        "Bearer eyJ[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}".prop_map(String::into_bytes),
        Just(b"Bearer ".to_vec()),
        Just(b"bearer\tx".to_vec()),
    ];
    let name = prop::sample::select(vec!["authorization", "x-forwarded-for", "forwarded", "origin", "accept"])
        .prop_map(String::from);
    runner()
        .run(&prop::collection::vec((name, value), 0..4), |headers| {
            let body = serde_json::json!({ "query": "{ viewer { role } parks(first: 2) { nodes { nameZh } } }" });
            check(&runtime, &router, post(Some("application/json".into()), headers, body.to_string().into_bytes()))
        })
        .expect("no panic and no 5xx for any header");
}
