//! Rate-limit buckets end to end, through the HTTP router with real tokens: which address
//! a request is charged to behind proxies (`limits.trusted_proxies`), one allowance shared
//! by two servers through Redis (`limits.shared_store`), and serving on local buckets when
//! Redis cannot be reached. The shared-store test uses Redis at `TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`, each test under its own key prefix); without one it is
//! skipped, except under CI (`CI` set), where a missing Redis fails it.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use parkgraph::Config;
use parkgraph::config::{KeyConfig, Secret};
use parkgraph_domain::Role;
use parkgraph_registry::token::{IssueRequest, issue};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "test-secret-of-at-least-thirty-two-bytes!";
/// Nothing listens there: connections are refused at once.
const NO_REDIS: &str = "redis://127.0.0.1:1";
/// Asks for 31 points; the sample's 14 parks use 15 of them, so it leaves 25 of a fresh
/// 40-point bucket: not enough to run it a second time.
const PARKS_30: &str = "{ parks(first: 30) { nodes { nameZh } } }";

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
    config.auth.signing_kid = Some("k1".into());
    config.auth.dev_keys = false;
    // Slow refills, so a slow machine cannot refill a bucket between two requests.
    config.limits.token_bucket = 40;
    config.limits.token_restore_per_second = 1;
    config.limits.anonymous_bucket = 40;
    config.limits.anonymous_restore_per_second = 1;
    config
}

/// The test Redis, or `None` (skip) when none answers outside CI.
async fn test_redis() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let ping = async {
        let client = redis::Client::open(url.as_str()).ok()?;
        let mut connection = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING").query_async::<String>(&mut connection).await.ok()
    };
    if tokio::time::timeout(Duration::from_secs(2), ping).await.ok().flatten().is_some() {
        return Some(url);
    }
    assert!(std::env::var_os("CI").is_none(), "no Redis answers at {url} (TEST_REDIS_URL), and CI needs one");
    eprintln!("skipped: no Redis answers at {url} (set TEST_REDIS_URL)");
    None
}

/// A key prefix no other test (or earlier run) uses.
fn unique_prefix() -> String {
    format!("parkgraph:test:{}:", uuid::Uuid::now_v7().simple())
}

struct Server {
    router: axum::Router,
    config: Config,
    db: parkgraph_persistence::sea_orm::DatabaseConnection,
}

/// What a request looks like on the wire: its TCP peer and `X-Forwarded-For` lines.
#[derive(Default)]
struct Origin<'a> {
    peer: Option<&'a str>,
    forwarded_for: &'a [&'a str],
    token: Option<&'a str>,
}

impl Server {
    fn new(test: &TestDb, config: Config) -> Self {
        let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
        Self { router, config, db: test.db.clone() }
    }

    async fn issue(&self, role: Role) -> (String, uuid::Uuid) {
        let keys = parkgraph::keys::key_set(&self.config.auth, &self.config.database_url).expect("keys");
        let partner = (role == Role::Partner).then(|| "acme".to_string());
        let request = IssueRequest {
            partner,
            role,
            scopes: None,
            ttl: Duration::from_secs(3600),
            subject: None,
            description: None,
            issued_by: None,
        };
        let (token, record) = issue(&self.db, &keys, request).await.expect("issues");
        (token, record.jti)
    }

    async fn call(&self, query: &str, from: Origin<'_>) -> (StatusCode, Value) {
        let payload = json!({ "query": query }).to_string();
        let mut request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, payload.len());
        for line in from.forwarded_for {
            request = request.header("x-forwarded-for", *line);
        }
        if let Some(token) = from.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let mut request = request.body(Body::from(payload)).expect("request");
        if let Some(peer) = from.peer {
            let peer: SocketAddr = peer.parse().expect("a socket address");
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let response = self.router.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn readyz(&self) -> (StatusCode, Value) {
        let request = Request::get("/readyz").body(Body::empty()).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

/// Points left in the bucket, from a response (or a refusal's error).
fn available(body: &Value) -> u64 {
    let cost = if body["errors"][0]["extensions"]["cost"].is_object() {
        &body["errors"][0]["extensions"]["cost"]
    } else {
        &body["extensions"]["cost"]
    };
    cost["throttleStatus"]["currentlyAvailable"].as_u64().unwrap_or(u64::MAX)
}

#[tokio::test]
async fn a_spoofed_left_most_address_behind_an_appending_proxy_does_not_choose_the_bucket() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test);
    cfg.limits.trusted_proxies = vec!["10.0.0.0/8".into()];
    let server = Server::new(&test, cfg);
    // The client (203.0.113.9) writes a different address each time; the proxy
    // (10.0.0.2) appends the one it saw.
    let (status, body) = server
        .call(PARKS_30, Origin { peer: Some("10.0.0.2:40000"), forwarded_for: &["6.6.6.1, 203.0.113.9"], token: None })
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(available(&body) < 31, "{body}");
    let (status, body) = server
        .call(
            PARKS_30,
            Origin { peer: Some("10.0.0.2:40001"), forwarded_for: &["6.6.6.2", "203.0.113.9"], token: None },
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "THROTTLED"), "same bucket: {body}");
    // Another client behind the same proxy has its own bucket.
    let (status, body) = server
        .call(PARKS_30, Origin { peer: Some("10.0.0.2:40002"), forwarded_for: &["198.51.100.4"], token: None })
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn once_the_bucket_store_is_full_new_addresses_share_one_allowance() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test);
    cfg.limits.trusted_proxies = vec!["10.0.0.0/8".into()];
    cfg.limits.max_buckets = 2;
    // Each PARKS_30 nets 15 points (31 charged, 16 refunded): a bucket of 100 pays for five
    // of them, and one that paid stays short of full (so it is kept) for 15 s.
    cfg.limits.anonymous_bucket = 100;
    let server = Server::new(&test, cfg);
    let proxy = Some("10.0.0.2:40000");
    for client in ["203.0.113.1", "203.0.113.2"] {
        let (status, _) = server.call(PARKS_30, Origin { peer: proxy, forwarded_for: &[client], token: None }).await;
        assert_eq!(status, StatusCode::OK);
    }
    // A flood of new addresses shares one overflow bucket: five get through, not forty.
    let mut served = 0;
    for n in 1..=40 {
        let spoofed = format!("198.51.100.{n}");
        let (status, _) =
            server.call(PARKS_30, Origin { peer: proxy, forwarded_for: &[spoofed.as_str()], token: None }).await;
        if status == StatusCode::OK {
            served += 1;
        }
    }
    assert!((5..=8).contains(&served), "{served} of 40 new addresses were served");
    // The clients that had a bucket keep theirs, debt included.
    let (status, body) =
        server.call(PARKS_30, Origin { peer: proxy, forwarded_for: &["203.0.113.1"], token: None }).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!((60..=75).contains(&available(&body)), "its own bucket, 100 less two spends of 15: {body}");
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test);
    cfg.limits.trusted_proxies = vec!["10.0.0.0/8".into()];
    let server = Server::new(&test, cfg);
    let peer = Some("203.0.113.50:5000");
    let (status, body) = server.call(PARKS_30, Origin { peer, forwarded_for: &["1.1.1.1"], token: None }).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.call(PARKS_30, Origin { peer, forwarded_for: &["2.2.2.2"], token: None }).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "THROTTLED"), "{body}");
    // With no trusted proxy at all, the header is never read either.
    let server = Server::new(&test, config(&test));
    let peer = Some("10.0.0.2:5000");
    let (status, _) = server.call(PARKS_30, Origin { peer, forwarded_for: &["1.1.1.1"], token: None }).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.call(PARKS_30, Origin { peer, forwarded_for: &["2.2.2.2"], token: None }).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_forwarded_for_that_is_not_an_address_is_never_a_bucket_or_an_audit_value() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test);
    cfg.limits.trusted_proxies = vec!["10.0.0.0/8".into()];
    cfg.auth.revocation_cache_seconds = 1;
    let server = Server::new(&test, cfg);
    let proxy = Some("10.0.0.2:40000");
    // Garbage ends the walk at the proxy: every garbage request shares the proxy's bucket.
    let (status, body) =
        server.call(PARKS_30, Origin { peer: proxy, forwarded_for: &["not-an-ip <script>"], token: None }).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        server.call(PARKS_30, Origin { peer: proxy, forwarded_for: &["also garbage, unknown"], token: None }).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "THROTTLED"), "{body}");

    // The audit trail records the last address established, never the header's text.
    let (admin, _) = server.issue(Role::Admin).await;
    let (partner, jti) = server.issue(Role::Partner).await;
    let from = Origin { peer: proxy, forwarded_for: &["203.0.113.9, not-an-ip <script>"], token: Some(&partner) };
    let (status, body) = server.call("{ parks(first: 1) { totalCount } }", from).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let query = format!(r#"{{ auditEvents(jti: "{jti}") {{ clientIp }} }}"#);
    let mut events = Value::Null;
    for _ in 0..50 {
        let (_, body) = server.call(&query, Origin { token: Some(&admin), ..Origin::default() }).await;
        if body["data"]["auditEvents"].as_array().is_some_and(|e| !e.is_empty()) {
            events = body["data"]["auditEvents"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(events, json!([{ "clientIp": "10.0.0.2" }]));
}

#[tokio::test]
async fn a_bad_trusted_proxy_or_shared_store_is_a_configuration_error() {
    let test = TestDb::migrated().await;
    let mut cfg = config(&test);
    cfg.limits.trusted_proxies = vec!["10.0.0.0/8".into(), "lb.internal".into()];
    let err = parkgraph::app(&cfg, test.db.clone()).expect_err("refused");
    assert!(err.to_string().contains("trusted_proxies") && err.to_string().contains("lb.internal"), "{err}");
    let mut cfg = config(&test);
    cfg.limits.shared_store = Some(Secret("memcached://127.0.0.1".into()));
    let err = parkgraph::app(&cfg, test.db.clone()).expect_err("refused");
    assert!(err.to_string().contains("shared_store"), "{err}");
}

#[tokio::test]
async fn two_servers_on_one_redis_share_one_allowance() {
    let Some(redis_url) = test_redis().await else { return };
    let test = TestDb::sample().await;
    let mut cfg = config(&test);
    cfg.limits.shared_store = Some(Secret(redis_url.clone()));
    cfg.limits.shared_store_prefix = unique_prefix();
    let first = Server::new(&test, cfg.clone());
    let second = Server::new(&test, cfg.clone());
    let (token, jti) = first.issue(Role::Partner).await;
    let (status, body) = first.call(PARKS_30, Origin { token: Some(&token), ..Origin::default() }).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let left = available(&body);
    assert!(left < 31, "{body}");
    let (status, body) = second.call(PARKS_30, Origin { token: Some(&token), ..Origin::default() }).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "THROTTLED"), "{body}");
    assert!(available(&body) <= left + 5, "the second server sees the first one's spending: {body}");
    for server in [&first, &second] {
        let (status, body) = server.readyz().await;
        assert_eq!((status, body["rateLimits"].as_str()), (StatusCode::OK, Some("shared")), "{body}");
    }

    // The bucket is a hash that expires in Redis once it would be full again.
    let client = redis::Client::open(redis_url).expect("redis url");
    let mut redis = client.get_multiplexed_async_connection().await.expect("redis answers");
    let key = format!("{}token:{jti}", cfg.limits.shared_store_prefix);
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut redis).await.expect("ttl");
    assert!((1..=42).contains(&ttl), "expires by the time it refills (40 s at most): {ttl}");
    let fields: Vec<String> = redis::cmd("HKEYS").arg(&key).query_async(&mut redis).await.expect("hkeys");
    assert_eq!(fields.len(), 2, "{fields:?}");
    let _: i64 = redis::cmd("DEL").arg(&key).query_async(&mut redis).await.expect("del");
}

#[tokio::test]
async fn without_a_shared_store_each_server_has_its_own_buckets() {
    let test = TestDb::sample().await;
    let cfg = config(&test);
    let first = Server::new(&test, cfg.clone());
    let second = Server::new(&test, cfg);
    let (token, _) = first.issue(Role::Partner).await;
    for server in [&first, &second] {
        let (status, body) = server.call(PARKS_30, Origin { token: Some(&token), ..Origin::default() }).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, body) = server.readyz().await;
        assert_eq!(body["rateLimits"], "local");
    }
}

#[tokio::test]
async fn an_unreachable_shared_store_leaves_the_server_serving_on_local_buckets() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test);
    cfg.limits.shared_store = Some(Secret(NO_REDIS.into()));
    cfg.limits.shared_store_prefix = unique_prefix();
    // Startup does not wait for, or fail on, the store.
    let server = Server::new(&test, cfg);
    let (token, _) = server.issue(Role::Partner).await;
    let started = std::time::Instant::now();
    let (status, body) = server.call(PARKS_30, Origin { token: Some(&token), ..Origin::default() }).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(available(&body) < 31, "charged locally: {body}");
    let (status, body) = server.call(PARKS_30, Origin { token: Some(&token), ..Origin::default() }).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "THROTTLED"), "still limited: {body}");
    assert!(started.elapsed() < Duration::from_secs(5), "no long waits on the store: {:?}", started.elapsed());
    let (status, body) = server.readyz().await;
    assert_eq!(status, StatusCode::OK, "readiness does not depend on the store: {body}");
    assert_eq!(body["rateLimits"], "local (shared store unreachable)", "{body}");
}

/// A TCP forwarder to Redis that a test can cut and restore, on the same port.
struct Link {
    port: u16,
    target: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Link {
    async fn open(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let port = listener.local_addr().expect("addr").port();
        let mut link = Self { port, target, task: None };
        link.serve(listener);
        link
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let target = self.target.clone();
        self.task = Some(tokio::spawn(async move {
            // Dropping the set (when the task is aborted) closes every forwarded connection.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    async fn restore(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.expect("binds again");
        self.serve(listener);
    }
}

#[tokio::test]
async fn the_server_rides_out_a_shared_store_outage_and_goes_back_to_it() {
    let Some(redis_url) = test_redis().await else { return };
    let target = redis::Client::open(redis_url.as_str()).expect("redis url").get_connection_info().addr().to_string();
    let mut link = Link::open(target).await;
    let test = TestDb::sample().await;
    let mut cfg = config(&test);
    cfg.limits.shared_store = Some(Secret(format!("redis://127.0.0.1:{}", link.port)));
    let prefix = unique_prefix();
    cfg.limits.shared_store_prefix = prefix.clone();
    let server = Server::new(&test, cfg);
    let (token, jti) = server.issue(Role::Partner).await;
    let as_partner = || Origin { token: Some(&token), ..Origin::default() };
    let (status, body) = server.call(PARKS_30, as_partner()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(server.readyz().await.1["rateLimits"], "shared");

    link.cut();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let (status, body) = server.call("{ parks(first: 1) { totalCount } }", as_partner()).await;
        assert_eq!(status, StatusCode::OK, "served during the outage: {body}");
    }
    assert!(started.elapsed() < Duration::from_secs(3), "no long waits: {:?}", started.elapsed());
    let (status, body) = server.readyz().await;
    assert_eq!((status, body["rateLimits"].as_str()), (StatusCode::OK, Some("local (shared store unreachable)")));

    link.restore().await;
    let mut back = Value::Null;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        back = server.readyz().await.1;
        if back["rateLimits"] == "shared" {
            break;
        }
    }
    assert_eq!(back["rateLimits"], "shared", "{back}");
    // Charges go to the shared bucket again: its `ts` (Redis's clock) moves.
    let client = redis::Client::open(redis_url).expect("redis url");
    let mut redis = client.get_multiplexed_async_connection().await.expect("redis answers");
    let (now, _): (i64, i64) = redis::cmd("TIME").query_async(&mut redis).await.expect("time");
    let (status, _) = server.call("{ parks(first: 1) { totalCount } }", as_partner()).await;
    assert_eq!(status, StatusCode::OK);
    let key = format!("{}token:{jti}", prefix);
    let ts: f64 = redis::cmd("HGET").arg(&key).arg("ts").query_async(&mut redis).await.expect("the bucket exists");
    assert!(ts >= now as f64, "charged in Redis after the outage: {ts} < {now}");
}

#[tokio::test]
async fn the_redis_bucket_refunds_up_to_full_then_disappears_and_says_when_to_retry() {
    use parkgraph_api::limiter::{BucketConfig, BucketKey, RateLimiter, SharedStoreConfig, StoreConfig};
    let Some(redis_url) = test_redis().await else { return };
    let prefix = unique_prefix();
    let shared = SharedStoreConfig::new(&redis_url, prefix.clone(), Duration::from_millis(250)).expect("a redis url");
    let limiter = RateLimiter::new(&StoreConfig { max_buckets: 10, shared: Some(shared) });
    let config = BucketConfig { maximum: 40, restore_per_second: 1 };
    let jti = uuid::Uuid::now_v7();
    let key = BucketKey::Token(jti);
    let status = limiter.charge(key, 30, config).await.expect("a full bucket pays");
    assert_eq!(status.currently_available, 10);
    let throttled = limiter.charge(key, 35, config).await.expect_err("10 left");
    assert!((20..=25).contains(&throttled.retry_after_seconds), "25 points at 1/s: {throttled:?}");
    assert_eq!(limiter.refund(key, 30, config).await.currently_available, 40);
    let client = redis::Client::open(redis_url).expect("redis url");
    let mut redis = client.get_multiplexed_async_connection().await.expect("redis answers");
    let exists: i64 =
        redis::cmd("EXISTS").arg(format!("{prefix}token:{jti}")).query_async(&mut redis).await.expect("exists");
    assert_eq!(exists, 0, "a full bucket is not kept");
    assert_eq!(limiter.local_buckets(), 0, "nothing was charged locally");
    assert_eq!(limiter.store_status().await.to_string(), "shared");
}

mod properties {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    use axum::http::{HeaderMap, HeaderValue};
    use parkgraph_api::client_address::TrustedProxies;
    use proptest::prelude::*;

    fn entry() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<Ipv4Addr>().prop_map(|ip| ip.to_string()),
            any::<Ipv6Addr>().prop_map(|ip| format!("[{ip}]:443")),
            any::<u8>().prop_map(|n| format!("10.0.0.{n}")),
            "[ -~]{0,16}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// Whatever the header holds, the client is the peer or an address one of its
        /// entries spells: never text, and never the header of an untrusted peer.
        #[test]
        fn the_client_is_the_peer_or_an_address_the_header_spells(
            lines in prop::collection::vec(prop::collection::vec(entry(), 0..5), 0..3),
            trusted_peer in any::<bool>(),
        ) {
            let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).expect("parses");
            let peer: IpAddr = if trusted_peer { "10.0.0.2" } else { "192.0.2.1" }.parse().expect("ip");
            let mut headers = HeaderMap::new();
            for line in &lines {
                if let Ok(value) = HeaderValue::from_str(&line.join(", ")) {
                    headers.append("x-forwarded-for", value);
                }
            }
            let client = trusted.client_address(Some(peer), &headers).expect("a peer gives a client");
            if !trusted_peer {
                prop_assert_eq!(client, peer);
            } else if client != peer {
                // (IPv4-mapped IPv6 addresses count as the IPv4 address they map.)
                let spelled = lines.iter().flatten().any(|entry| {
                    let entry = entry.trim();
                    let ip = entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()));
                    ip.map(|ip| ip.to_canonical()) == Some(client)
                });
                prop_assert!(spelled, "{} is not in {:?}", client, lines);
            }
        }
    }
}
