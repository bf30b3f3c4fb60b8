//! A database outage is `UNAVAILABLE` (HTTP 503 with `Retry-After`), not `INTERNAL`, and
//! `/readyz` fails while it lasts. On both backends the outage is the server's pool being
//! closed; on PostgreSQL a TCP proxy between the server's pool and the database is also
//! stopped and started again, and the server recovers on its own.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::{TestDb, codes};
use http_body_util::BodyExt;
use parkgraph::Config;
use parkgraph::config::{KeyConfig, Secret};
use parkgraph_domain::Role;
use parkgraph_persistence::sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use parkgraph_registry::token::{IssueRequest, issue};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};
use tower::ServiceExt;

const PARKS: &str = "{ parks(first: 2) { nodes { id } } }";

fn config(url: &str) -> Config {
    let mut config = Config { database_url: url.into(), ..Config::default() };
    config.auth.keys = vec![KeyConfig {
        kid: "k1".into(),
        algorithm: "HS256".into(),
        secret: Some(Secret("test-secret-of-at-least-thirty-two-bytes!".into())),
        secret_file: None,
        private_key_file: None,
        public_key_file: None,
    }];
    config.auth.signing_kid = Some("k1".into());
    config.auth.dev_keys = false;
    config
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn send(router: &axum::Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Answer { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

async fn graphql(router: &axum::Router, query: &str, token: Option<&str>) -> Answer {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    send(router, request.body(Body::from(json!({ "query": query }).to_string())).expect("request")).await
}

async fn readyz(router: &axum::Router) -> Answer {
    send(router, Request::get("/readyz").body(Body::empty()).expect("request")).await
}

/// The answer is a 503 the client may retry, with `UNAVAILABLE` and no internal detail.
fn assert_unavailable(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{:#}", answer.body);
    let retry_after = answer.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok());
    assert!(
        retry_after.and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| (1..=30).contains(&s)),
        "Retry-After: {retry_after:?}"
    );
    let codes = codes(&answer.body);
    assert!(!codes.is_empty() && codes.iter().all(|c| c == "UNAVAILABLE"), "{:#}", answer.body);
    let text = answer.body.to_string().to_lowercase();
    assert!(!text.contains("pool") && !text.contains("sqlx") && !text.contains("connection"), "{text}");
}

#[tokio::test]
async fn a_closed_pool_answers_503_unavailable_and_readyz_fails() {
    let test = TestDb::sample().await;
    let router = parkgraph::app(&config(&test.url), test.db.clone()).expect("app builds");
    let before = graphql(&router, PARKS, None).await;
    assert_eq!(before.status, StatusCode::OK, "{:#}", before.body);
    assert_eq!(readyz(&router).await.status, StatusCode::OK);

    test.db.close_by_ref().await.expect("the pool closes");

    // The answer already in the response cache may be served until its follower fails
    // to read the feed (every 100 ms) and drops the cache; then the outage shows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut answer = graphql(&router, PARKS, None).await;
    while answer.status == StatusCode::OK && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        answer = graphql(&router, PARKS, None).await;
    }
    assert_unavailable(&answer);
    let ready = readyz(&router).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{:#}", ready.body);
    assert!(ready.headers.contains_key(header::RETRY_AFTER));
    // A failure that is not about the database keeps its own code and status.
    let invalid = graphql(&router, "{ parks(first: -1) { nodes { id } } }", None).await;
    assert_eq!(invalid.status, StatusCode::OK);
    assert_eq!(codes(&invalid.body), vec!["BAD_USER_INPUT".to_string()]);
}

#[tokio::test]
async fn an_unreachable_token_registry_answers_503_unavailable() {
    let test = TestDb::sample().await;
    let config = config(&test.url);
    let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
    let keys = parkgraph::keys::key_set(&config.auth, &config.database_url).expect("keys");
    let request = IssueRequest {
        partner: Some("acme".into()),
        role: Role::Partner,
        scopes: None,
        ttl: Duration::from_secs(600),
        subject: None,
        description: None,
        issued_by: None,
    };
    let (token, _) = issue(&test.db, &keys, request).await.expect("issues");

    test.db.close_by_ref().await.expect("the pool closes");

    assert_unavailable(&graphql(&router, PARKS, Some(&token)).await);
}

/// A TCP proxy to the database that can be stopped (its listener closed, so connecting
/// is refused, and every open connection reset, as when PostgreSQL restarts) and started
/// again on the same address.
struct Proxy {
    addr: SocketAddr,
    upstream: String,
    accept: Option<JoinHandle<()>>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let mut proxy = Self { addr, upstream, accept: None, links: Arc::default() };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let links = Arc::clone(&self.links);
        let upstream = self.upstream.clone();
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        tokio::io::copy_bidirectional(&mut client, &mut server).await.ok();
                    }
                });
                links.lock().expect("proxy links").push(link.abort_handle());
            }
        }));
    }

    async fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            accept.await.ok();
        }
        for link in self.links.lock().expect("proxy links").drain(..) {
            link.abort();
        }
    }

    async fn restart(&mut self) {
        for _ in 0..50 {
            if let Ok(listener) = TcpListener::bind(self.addr).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot listen on {} again", self.addr);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        for link in self.links.lock().expect("proxy links").drain(..) {
            link.abort();
        }
    }
}

/// `url` with its host and port replaced by `proxy`, and the host and port it named.
fn through(url: &str, proxy: SocketAddr) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (format!("{userinfo}@"), host),
        None => (String::new(), authority),
    };
    let upstream = if host.contains(':') { host.to_string() } else { format!("{host}:5432") };
    (format!("{scheme}://{userinfo}{proxy}/{path}"), upstream)
}

async fn pool(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect_timeout(Duration::from_secs(1))
        .sqlx_logging(false);
    Database::connect(options).await.expect("connect through the proxy")
}

#[tokio::test]
async fn a_postgres_outage_answers_503_unavailable_then_recovers() {
    let test = TestDb::sample().await;
    if !test.is_postgres() {
        eprintln!("skipped: the proxy outage runs on PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let (_, upstream) = through(&test.url, "127.0.0.1:1".parse().expect("address"));
    let mut proxy = Proxy::start(upstream).await;
    let (url, _) = through(&test.url, proxy.addr);
    // How each database failure is answered, without the response cache in front
    // (`a_closed_pool_answers_503_unavailable_and_readyz_fails` covers the cache).
    let config =
        Config { cache: parkgraph::config::CacheConfig { enabled: false, ..Default::default() }, ..config(&url) };
    let router = parkgraph::app(&config, pool(&url).await).expect("app builds");
    let before = graphql(&router, PARKS, None).await;
    assert_eq!(before.status, StatusCode::OK, "{:#}", before.body);
    assert_eq!(readyz(&router).await.status, StatusCode::OK);

    proxy.stop().await;
    for _ in 0..3 {
        assert_unavailable(&graphql(&router, PARKS, None).await);
    }
    let ready = readyz(&router).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{:#}", ready.body);

    proxy.restart().await;
    let mut recovered = None;
    for _ in 0..50 {
        let answer = graphql(&router, PARKS, None).await;
        if answer.status == StatusCode::OK {
            recovered = Some(answer);
            break;
        }
        assert_unavailable(&answer);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = recovered.expect("the server recovers once the database is back");
    assert!(recovered.body.get("errors").is_none(), "{:#}", recovered.body);
    assert_eq!(readyz(&router).await.status, StatusCode::OK);
}

/// Ends every connection to the test's database from the PostgreSQL side (as a restart
/// or an administrator would).
async fn terminate_connections(test: &TestDb) {
    let server = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let admin = Database::connect(&server).await.expect("connect as administrator");
    let name = test.url.rsplit('/').next().expect("database name");
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .expect("terminate the server's connections");
    admin.close().await.ok();
}

#[tokio::test]
async fn connections_terminated_by_postgresql_answer_503_unavailable() {
    let test = TestDb::sample().await;
    if !test.is_postgres() {
        eprintln!("skipped: terminating backends is a PostgreSQL test (set TEST_DATABASE_URL)");
        return;
    }
    // One connection, never tested before use: the next request runs on the connection
    // PostgreSQL has just terminated (as in a restart: SQLSTATE 57P01, or a closed socket).
    let mut options = ConnectOptions::new(test.url.clone());
    options.max_connections(1).test_before_acquire(false).sqlx_logging(false);
    let db = Database::connect(options).await.expect("connect");
    let config =
        Config { cache: parkgraph::config::CacheConfig { enabled: false, ..Default::default() }, ..config(&test.url) };
    let router = parkgraph::app(&config, db).expect("app builds");
    let before = graphql(&router, PARKS, None).await;
    assert_eq!(before.status, StatusCode::OK, "{:#}", before.body);

    terminate_connections(&test).await;

    assert_unavailable(&graphql(&router, PARKS, None).await);
}

#[tokio::test]
async fn the_servers_pool_replaces_connections_postgresql_terminated() {
    let test = TestDb::sample().await;
    if !test.is_postgres() {
        eprintln!("skipped: terminating backends is a PostgreSQL test (set TEST_DATABASE_URL)");
        return;
    }
    // The server's own pool: a connection in steady use is not pinged before each
    // statement (a round trip per statement), only one idle for a while.
    let config =
        Config { cache: parkgraph::config::CacheConfig { enabled: false, ..Default::default() }, ..config(&test.url) };
    let db = parkgraph::open(&config).await.expect("open");
    assert!(!db.get_postgres_connection_pool().options().get_test_before_acquire(), "pinged on every acquire");
    let router = parkgraph::app(&config, db).expect("app builds");
    for _ in 0..3 {
        let answer = graphql(&router, PARKS, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    }

    terminate_connections(&test).await;

    // A request on a terminated connection answers 503; the pool drops that connection
    // and the next request gets a new one. Never an error of another kind.
    let mut failed = 0;
    let mut recovered = false;
    for _ in 0..20 {
        let answer = graphql(&router, PARKS, None).await;
        if answer.status == StatusCode::OK {
            assert!(answer.body.get("errors").is_none(), "{:#}", answer.body);
            recovered = true;
            break;
        }
        assert_unavailable(&answer);
        failed += 1;
    }
    assert!(recovered, "the server answers again once its broken connections are replaced");
    assert!(failed <= 10, "{failed} requests failed before the pool replaced its connections");
}
