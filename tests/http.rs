//! End to end through the HTTP router: GraphQL over POST, GraphiQL, health, readiness,
//! CORS, compression and the body limit (GET, media types and status codes are in
//! `graphql_over_http.rs`).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use parkgraph::Config;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn app(test: &TestDb, config: Config) -> axum::Router {
    parkgraph::app(&config, test.db.clone()).expect("app builds")
}

async fn body(response: axum::response::Response) -> Vec<u8> {
    response.into_body().collect().await.expect("body").to_bytes().to_vec()
}

fn post(query: &str) -> Request<Body> {
    let payload = json!({ "query": query }).to_string();
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, payload.len())
        .body(Body::from(payload))
        .expect("request")
}

#[tokio::test]
async fn graphql_answers_over_http_post() {
    let test = TestDb::sample().await;
    let response = app(&test, Config::default())
        .await
        .oneshot(post("{ parks(first: 1) { totalCount } }"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let json: Value = serde_json::from_slice(&body(response).await).expect("json");
    assert!(json["data"]["parks"]["totalCount"].as_u64() > Some(10), "{json}");
}

#[tokio::test]
async fn errors_over_http_carry_codes_and_no_internals() {
    let test = TestDb::sample().await;
    let response = app(&test, Config::default())
        .await
        .oneshot(post("{ parks(first: 1000) { totalCount } }"))
        .await
        .expect("response");
    let json: Value = serde_json::from_slice(&body(response).await).expect("json");
    assert_eq!(json["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{json}");
}

#[tokio::test]
async fn graphiql_is_served_to_browsers_on_get_unless_turned_off() {
    let test = TestDb::sample().await;
    let page = || Request::get("/graphql").header(header::ACCEPT, "text/html").body(Body::empty()).expect("request");
    let response = app(&test, Config::default()).await.oneshot(page()).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let html = String::from_utf8(body(response).await).expect("utf-8");
    assert!(html.to_lowercase().contains("graphiql"));

    // Off, GET is still GraphQL over HTTP: a client that accepts only HTML gets a JSON
    // error (406: this server answers GraphQL in JSON only), not a page.
    let off = Config { graphiql: false, ..Config::default() };
    let response = app(&test, off).await.oneshot(page()).await.expect("response");
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    let json: Value = serde_json::from_slice(&body(response).await).expect("json");
    assert_eq!(json["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{json}");
}

#[tokio::test]
async fn health_and_readiness_report_ok() {
    let test = TestDb::migrated().await;
    for path in ["/healthz", "/readyz"] {
        let response = app(&test, Config::default())
            .await
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let test = TestDb::migrated().await;
    let router = app(&test, Config::default()).await;
    test.db.clone().close().await.expect("close");
    let response =
        router.oneshot(Request::get("/readyz").body(Body::empty()).expect("request")).await.expect("response");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let test = TestDb::migrated().await;
    let config = Config { cors_origins: vec!["https://portal.example".into()], ..Config::default() };
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/graphql")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .expect("request")
    };
    let allowed =
        app(&test, config.clone()).await.oneshot(preflight("https://portal.example")).await.expect("response");
    assert_eq!(
        allowed.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).map(|v| v.as_bytes()),
        Some(&b"https://portal.example"[..])
    );
    let other = app(&test, config).await.oneshot(preflight("https://elsewhere.example")).await.expect("response");
    assert!(other.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_gzip() {
    let test = TestDb::sample().await;
    let mut request = post("{ organizations(first: 100) { nodes { nameZh nameEn industry } } }");
    request.headers_mut().insert(header::ACCEPT_ENCODING, "gzip".parse().expect("header"));
    let response = app(&test, Config::default()).await.oneshot(request).await.expect("response");
    assert_eq!(response.headers().get(header::CONTENT_ENCODING).map(|v| v.as_bytes()), Some(&b"gzip"[..]));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let test = TestDb::migrated().await;
    let config = Config { max_body_bytes: 1024, ..Config::default() };
    let big = format!("{{ parks {{ totalCount }} }} # {}", "x".repeat(4096));
    let response = app(&test, config).await.oneshot(post(&big)).await.expect("response");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_server_serves_over_a_real_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let test = TestDb::sample().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(&test, Config::default()).await;
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let payload = json!({ "query": "{ unicorns(filter: { year: 2017 }) { totalCount } }" }).to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.expect("read");
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains(r#"{"data":{"unicorns":{"totalCount":5}}"#), "{raw}");
    assert!(raw.contains(r#""requestedQueryCost":1"#), "{raw}");
    server.abort();
}

#[tokio::test]
async fn operations_beyond_the_concurrency_limit_wait_their_turn_and_a_zero_limit_is_refused() {
    let test = TestDb::sample().await;
    let mut config = Config { database_url: test.url.clone(), ..Config::default() };
    config.cache.enabled = false;
    config.limits.max_concurrent_operations = 1;
    let router = app(&test, config.clone()).await;
    // Twenty clients at once, one a batch of three operations: each waits for the one
    // place in turn, and every answer is complete.
    let mut clients = tokio::task::JoinSet::new();
    for n in 0..20 {
        let router = router.clone();
        clients.spawn(async move {
            let request = if n == 0 {
                let batch = json!([
                    { "query": "{ parks(first: 1) { totalCount } }" },
                    { "query": "{ organizations(first: 2) { nodes { nameZh } } }" },
                    { "query": "{ parks(first: 3) { nodes { nameZh } } }" },
                ])
                .to_string();
                Request::post("/graphql")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(batch))
                    .expect("request")
            } else {
                post(&format!("{{ parks(first: {}) {{ nodes {{ nameZh }} }} }}", 1 + n % 5))
            };
            let response = router.oneshot(request).await.expect("response");
            (response.status(), body(response).await)
        });
    }
    for (status, bytes) in clients.join_all().await {
        assert_eq!(status, StatusCode::OK);
        let answer: Value = serde_json::from_slice(&bytes).expect("json");
        let answers = answer.as_array().cloned().unwrap_or_else(|| vec![answer]);
        assert!(answers.iter().all(|a| a.get("errors").is_none() && a["data"].is_object()), "{answers:?}");
    }

    config.limits.max_concurrent_operations = 0;
    let refused = parkgraph::app(&config, test.db.clone()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("max_concurrent_operations"), "{refused}");
}
