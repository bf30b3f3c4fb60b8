//! The security suite, end to end through the HTTP router with real tokens: every way a
//! token is refused, the role × scope × field matrix, throttling, limits, revocation seen
//! by a second server on the same database, key rotation, the audit trail, and the CLI.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use parkgraph::Config;
use parkgraph::config::{KeyConfig, Secret};
use parkgraph_api::auth::Claims;
use parkgraph_domain::{Role, Scope};
use parkgraph_registry::token::{IssueRequest, issue};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "test-secret-of-at-least-thirty-two-bytes!";
const OTHER_SECRET: &str = "another-secret-of-at-least-thirty-two-bytes";

fn hmac_key(kid: &str, secret: &str) -> KeyConfig {
    KeyConfig {
        kid: kid.into(),
        algorithm: "HS256".into(),
        secret: Some(Secret(secret.into())),
        secret_file: None,
        private_key_file: None,
        public_key_file: None,
    }
}

fn config(test: &TestDb, keys: Vec<KeyConfig>, signing: &str) -> Config {
    let mut config = Config { database_url: test.url.clone(), ..Config::default() };
    config.auth.keys = keys;
    config.auth.signing_kid = Some(signing.into());
    config.auth.dev_keys = false;
    config.auth.revocation_cache_seconds = 1;
    config
}

struct Server {
    router: axum::Router,
    config: Config,
    test_db: sea_orm_db::Db,
}

mod sea_orm_db {
    pub type Db = parkgraph_persistence::sea_orm::DatabaseConnection;
}

impl Server {
    fn new(test: &TestDb, config: Config) -> Self {
        let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
        Self { router, config, test_db: test.db.clone() }
    }

    async fn issue(&self, role: Role, scopes: Option<&str>, partner: Option<&str>) -> (String, uuid::Uuid) {
        let keys = parkgraph::keys::key_set(&self.config.auth, &self.config.database_url).expect("keys");
        let request = IssueRequest {
            partner: partner.map(String::from),
            role,
            scopes: scopes.map(|s| Scope::parse_list(s).expect("scopes")),
            ttl: Duration::from_secs(3600),
            subject: None,
            description: None,
            issued_by: None,
        };
        let (token, record) = issue(&self.test_db, &keys, request).await.expect("issues");
        (token, record.jti)
    }

    async fn call(&self, query: &str, authorization: Option<&str>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let payload = json!({ "query": query }).to_string();
        let mut request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, payload.len());
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response =
            self.router.clone().oneshot(request.body(Body::from(payload)).expect("request")).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn as_token(&self, query: &str, token: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
        self.call(query, Some(&format!("Bearer {token}"))).await
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

fn claims(role: &str, jti: uuid::Uuid) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "parkgraph".into(),
        aud: "parkgraph-api".into(),
        sub: "partner:test".into(),
        exp: now + 600,
        iat: now,
        nbf: now,
        jti,
        role: role.into(),
        scope: "read:parks".into(),
        partner_id: None,
    }
}

fn sign(kid: Option<&str>, algorithm: Algorithm, secret: &str, claims: &Claims) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).expect("encodes")
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn every_bad_token_is_a_401_with_a_reason() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let (good, jti) = server.issue(Role::Partner, Some("read:parks"), Some("acme")).await;
    let (revoked, revoked_jti) = server.issue(Role::Partner, None, Some("acme")).await;
    parkgraph_persistence::access::revoke(&test.db, revoked_jti, chrono::Utc::now()).await.expect("revokes");
    let parts: Vec<&str> = good.split('.').collect();
    let payload: Value = {
        use base64::Engine;
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).expect("b64"))
            .expect("json")
    };
    let mut escalated = payload.clone();
    escalated["role"] = json!("ADMIN");
    let now = chrono::Utc::now().timestamp();
    let with = |f: &dyn Fn(&mut Claims)| {
        let mut c = payload_of(&good);
        f(&mut c);
        sign(Some("k1"), Algorithm::HS256, SECRET, &c)
    };

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#), parts[1]),
            "algorithm is not accepted",
        ),
        (
            "tampered payload",
            format!("{}.{}.{}", parts[0], b64(&escalated.to_string()), parts[2]),
            "signature is invalid",
        ),
        (
            "another secret",
            sign(Some("k1"), Algorithm::HS256, OTHER_SECRET, &claims("PARTNER", jti)),
            "signature is invalid",
        ),
        ("unknown kid", sign(Some("k9"), Algorithm::HS256, SECRET, &claims("PARTNER", jti)), "\"k9\""),
        ("no kid", sign(None, Algorithm::HS256, SECRET, &claims("PARTNER", jti)), "no `kid`"),
        (
            "algorithm confusion",
            sign(Some("k1"), Algorithm::HS512, SECRET, &claims("PARTNER", jti)),
            "does not match key",
        ),
        ("expired", with(&|c| c.exp = now - 3600), "expired"),
        ("not yet valid", with(&|c| c.nbf = now + 3600), "not valid yet"),
        ("wrong audience", with(&|c| c.aud = "someone-else".into()), "another audience"),
        ("wrong issuer", with(&|c| c.iss = "someone-else".into()), "another issuer"),
        ("unknown role", with(&|c| c.role = "ROOT".into()), "unknown role"),
        ("revoked", revoked.clone(), "revoked"),
        (
            "unregistered jti",
            sign(Some("k1"), Algorithm::HS256, SECRET, &claims("PARTNER", uuid::Uuid::now_v7())),
            "not registered",
        ),
        ("garbage", "garbage".into(), "not a well-formed JWT"),
    ];
    for (name, token, reason) in cases {
        let (status, headers, body) = server.as_token("{ parks { totalCount } }", &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{name}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{name}: {message:?} should mention {reason:?}");
        assert!(!message.contains(SECRET), "{name}: the reason leaks the key");
        assert!(headers.contains_key(header::WWW_AUTHENTICATE), "{name}");
    }
    let (status, _, body) = server.call("{ parks { totalCount } }", Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"));

    // The genuine token still works, within the small leeway for clock skew.
    let (status, _, body) = server.as_token("{ viewer { role scopes } parks { totalCount } }", &good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["viewer"], json!({ "role": "PARTNER", "scopes": ["read:parks"] }));
    let skewed = with(&|c| c.nbf = now + 10);
    let (status, _, _) = server.as_token("{ parks { totalCount } }", &skewed).await;
    assert_eq!(status, StatusCode::OK, "10 s of skew is within the 30 s leeway");
}

#[tokio::test]
async fn anonymous_access_can_be_switched_off() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test, vec![hmac_key("k1", SECRET)], "k1");
    let open = Server::new(&test, cfg.clone());
    let (status, _, body) = open.call("{ viewer { role } parks { totalCount } }", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["viewer"]["role"], "ANONYMOUS");
    cfg.auth.allow_anonymous = false;
    let closed = Server::new(&test, cfg);
    let (status, _, body) = closed.call("{ parks { totalCount } }", None).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"));
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("requires a token")));
}

#[tokio::test]
async fn internal_fields_follow_the_role_and_scope_matrix() {
    let test = TestDb::migrated().await;
    parkgraph_persistence::seed::synthetic::load(&test.db, 50).await.expect("synthetic");
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let query = "{ enterprises(first: 1) { nodes { nameZh staffNotes contactName } } }";
    let callers: Vec<(&str, Option<String>, bool)> = vec![
        ("admin", Some(server.issue(Role::Admin, None, None).await.0), true),
        ("editor", Some(server.issue(Role::Editor, None, None).await.0), true),
        ("analyst", Some(server.issue(Role::Analyst, None, None).await.0), true),
        (
            "analyst without read:internal",
            Some(server.issue(Role::Analyst, Some("read:organizations"), None).await.0),
            false,
        ),
        ("partner", Some(server.issue(Role::Partner, None, Some("acme")).await.0), false),
        ("anonymous", None, false),
    ];
    for (who, token, allowed) in callers {
        let auth = token.map(|t| format!("Bearer {t}"));
        let (status, _, body) = server.call(query, auth.as_deref()).await;
        assert_eq!(status, StatusCode::OK, "{who}: {body}");
        let node = &body["data"]["enterprises"]["nodes"][0];
        assert!(node["nameZh"].is_string(), "{who}: public fields always return: {body}");
        if allowed {
            assert_eq!(node["staffNotes"], "synthetic staff note", "{who}: {body}");
            assert!(body.get("errors").is_none(), "{who}: {body}");
        } else {
            assert!(node["staffNotes"].is_null() && node["contactName"].is_null(), "{who}: {body}");
            let codes: Vec<&str> = body["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or(""))
                .collect();
            assert_eq!(codes, vec!["FORBIDDEN", "FORBIDDEN"], "{who}: {body}");
        }
    }
}

#[tokio::test]
async fn scopes_narrow_reads_to_their_families() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let (parks_only, _) = server.issue(Role::Partner, Some("read:parks"), Some("acme")).await;
    let (status, _, body) = server
        .as_token(
            "{ parks(first: 2) { nodes { nameZh enterprises { totalCount } } } organizations { totalCount } }",
            &parks_only,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["parks"]["nodes"].as_array().map(Vec::len), Some(2), "{body}");
    assert!(body["data"]["organizations"].is_null());
    assert!(
        body["errors"].as_array().expect("errors").iter().all(|e| e["extensions"]["code"] == "FORBIDDEN"),
        "{body}"
    );
    let (_, _, body) = server.as_token("{ unicorns { totalCount } }", &parks_only).await;
    assert_eq!(code(&body), "FORBIDDEN");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("read:organizations")));
}

#[tokio::test]
async fn only_administrators_manage_tokens() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let (admin, _) = server.issue(Role::Admin, None, None).await;
    let (analyst, _) = server.issue(Role::Analyst, None, None).await;
    let mutation = r#"mutation { issueToken(input: { partner: "acme", role: "partner", scopes: ["read:parks"], ttl: "30d" }) { token apiToken { jti role scopes } } }"#;
    let (_, _, body) = server.as_token(mutation, &analyst).await;
    assert_eq!(code(&body), "FORBIDDEN");
    let (_, _, body) = server.as_token(mutation, &admin).await;
    let issued = body["data"]["issueToken"].clone();
    assert_eq!(issued["apiToken"]["role"], "PARTNER", "{body}");
    let token = issued["token"].as_str().expect("token");
    let (status, _, _) = server.as_token("{ parks { totalCount } }", token).await;
    assert_eq!(status, StatusCode::OK);
    let beyond =
        r#"mutation { issueToken(input: { partner: "acme", role: "PARTNER", scopes: ["read:internal"] }) { token } }"#;
    let (_, _, body) = server.as_token(beyond, &admin).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let (_, _, body) = server.as_token("{ apiTokens { jti role } }", &admin).await;
    assert!(body["data"]["apiTokens"].as_array().is_some_and(|t| t.len() >= 3), "{body}");
}

#[tokio::test]
async fn the_bucket_empties_throttles_with_429_and_refills() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test, vec![hmac_key("k1", SECRET)], "k1");
    cfg.limits.token_bucket = 50;
    cfg.limits.token_restore_per_second = 20;
    let server = Server::new(&test, cfg);
    let (token, _) = server.issue(Role::Partner, None, Some("acme")).await;
    let query = "{ parks(first: 30) { nodes { nameZh } } }";
    let (status, headers, body) = server.as_token(query, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 31);
    assert_eq!(cost["actualQueryCost"], 1 + body["data"]["parks"]["nodes"].as_array().map_or(0, Vec::len) as u64);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 50);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 20);
    assert_eq!(headers.get("x-ratelimit-limit").and_then(|v| v.to_str().ok()), Some("50"));
    assert!(headers.contains_key("x-ratelimit-remaining"));

    let (status, _, _) = server.as_token("{ parks(first: 45) { nodes { nameZh } } }", &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, headers, body) = server.as_token("{ parks(first: 49) { nodes { nameZh } } }", &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "THROTTLED");
    assert!(
        headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| s >= 1)
    );
    assert!(body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].as_u64() < Some(50), "{body}");

    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let (status, _, body) = server.as_token("{ parks(first: 45) { nodes { nameZh } } }", &token).await;
    assert_eq!(status, StatusCode::OK, "the bucket refilled: {body}");
}

#[tokio::test]
async fn oversized_operations_and_batches_are_refused_up_front() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test, vec![hmac_key("k1", SECRET)], "k1");
    cfg.limits.max_query_cost = 1_000;
    cfg.limits.max_fields = 20;
    cfg.limits.max_batch = 2;
    let server = Server::new(&test, cfg);
    let (_, _, body) =
        server.call("{ parks(first: 100) { nodes { children(first: 100) { nodes { nameZh } } } } }", None).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert!(body.get("data").is_none(), "nothing ran: {body}");
    assert_eq!(body["errors"][0]["extensions"]["cost"]["requestedQueryCost"], 1 + 100 + 100 * 100);
    let aliases: String = (0..25).map(|i| format!("a{i}: parks(first: 1) {{ totalCount }} ")).collect();
    let (_, _, body) = server.call(&format!("{{ {aliases} }}"), None).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("fields")));

    let batch = json!([{ "query": "{ parks { totalCount } }" }, { "query": "{ parks { totalCount } }" }, { "query": "{ parks { totalCount } }" }]).to_string();
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, batch.len())
        .body(Body::from(batch))
        .expect("request");
    let response = server.router.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let pair =
        json!([{ "query": "{ parks { totalCount } }" }, { "query": "{ incubators { totalCount } }" }]).to_string();
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, pair.len())
        .body(Body::from(pair))
        .expect("request");
    let response = server.router.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let answers: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(answers.as_array().map(Vec::len), Some(2), "{answers}");
}

#[tokio::test]
async fn a_request_over_its_time_limit_is_stopped() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test, vec![hmac_key("k1", SECRET)], "k1");
    cfg.limits.request_timeout_ms = 0;
    let server = Server::new(&test, cfg);
    let (status, _, body) =
        server.call("{ organizations(first: 50) { nodes { nameZh parks { nodes { nameZh } } } } }", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(code(&body), "TIMEOUT", "{body}");
}

#[tokio::test]
async fn revocation_reaches_a_second_server_on_the_same_database_within_seconds() {
    let test = TestDb::sample().await;
    let cfg = config(&test, vec![hmac_key("k1", SECRET)], "k1");
    let first = Server::new(&test, cfg.clone());
    let second = Server::new(&test, cfg);
    let (admin, _) = first.issue(Role::Admin, None, None).await;
    let (partner, jti) = first.issue(Role::Partner, None, Some("acme")).await;
    for server in [&first, &second] {
        let (status, _, _) = server.as_token("{ parks { totalCount } }", &partner).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, _, body) =
        first.as_token(&format!(r#"mutation {{ revokeToken(jti: "{jti}") {{ revokedAt }} }}"#), &admin).await;
    assert!(body["data"]["revokeToken"]["revokedAt"].is_string(), "{body}");
    let (status, _, _) = first.as_token("{ parks { totalCount } }", &partner).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the revoking server refuses at once");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, _, body) = second.as_token("{ parks { totalCount } }", &partner).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("revoked")));
}

#[tokio::test]
async fn keys_rotate_without_invalidating_tokens_until_the_old_key_is_removed() {
    let test = TestDb::sample().await;
    let old = Server::new(&test, config(&test, vec![hmac_key("2026-01", SECRET)], "2026-01"));
    let (token, _) = old.issue(Role::Partner, None, Some("acme")).await;
    let rotated = Server::new(
        &test,
        config(&test, vec![hmac_key("2026-07", OTHER_SECRET), hmac_key("2026-01", SECRET)], "2026-07"),
    );
    let (status, _, _) = rotated.as_token("{ parks { totalCount } }", &token).await;
    assert_eq!(status, StatusCode::OK, "old tokens stay valid while their key is listed");
    let (fresh, _) = rotated.issue(Role::Partner, None, Some("acme")).await;
    let header: Value = {
        use base64::Engine;
        let part = fresh.split('.').next().expect("header");
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("b64"))
            .expect("json")
    };
    assert_eq!(header["kid"], "2026-07", "new tokens are signed with the new key");
    let retired = Server::new(&test, config(&test, vec![hmac_key("2026-07", OTHER_SECRET)], "2026-07"));
    let (status, _, body) = retired.as_token("{ parks { totalCount } }", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("2026-01")), "{body}");
    let (status, _, _) = retired.as_token("{ parks { totalCount } }", &fresh).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn authenticated_requests_leave_an_audit_trail_and_mark_the_token_used() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let (admin, _) = server.issue(Role::Admin, None, None).await;
    let (partner, jti) = server.issue(Role::Partner, None, Some("acme")).await;
    let (status, _, _) = server.as_token("query PartnerSync { parks(first: 3) { nodes { nameZh } } }", &partner).await;
    assert_eq!(status, StatusCode::OK);
    let mut found = Value::Null;
    for _ in 0..50 {
        let (_, _, body) = server
            .as_token(&format!(r#"{{ auditEvents(jti: "{jti}") {{ operationName status cost role }} apiTokens {{ jti lastUsedAt }} }}"#), &admin)
            .await;
        let used = body["data"]["apiTokens"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["jti"] == json!(jti.to_string()) && t["lastUsedAt"].is_string());
        if body["data"]["auditEvents"].as_array().is_some_and(|e| !e.is_empty()) && used {
            found = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let event = &found["data"]["auditEvents"][0];
    assert_eq!(event["operationName"], "PartnerSync", "{found}");
    assert_eq!(event["status"], "OK");
    assert_eq!(event["role"], "PARTNER");
    assert_eq!(event["cost"], 4);
    let (_, _, body) = server.as_token("{ auditEvents { status } }", &partner).await;
    assert_eq!(code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn a_partner_token_from_the_cli_reads_is_refused_internal_fields_and_dies_on_revocation() {
    let dir = std::env::temp_dir().join(format!("parkgraph-cli-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("registry.db").display());
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_parkgraph"))
            .args(["--database-url", &url])
            .args(args)
            .env("PARKGRAPH_LOG", "warn")
            .output()
            .expect("runs parkgraph");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    cli(&["seed", "--sample"]);
    let token = cli(&[
        "token",
        "issue",
        "--partner",
        "Wuhan Data Institute",
        "--role",
        "Partner",
        "--scopes",
        "read:parks,read:organizations",
        "--ttl",
        "90d",
    ]);
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert!(dir.join("registry.keys.json").exists(), "a development key set was generated beside the database");
    let listed = cli(&["token", "list"]);
    assert!(
        listed.contains("partner:Wuhan Data Institute") && listed.contains("read:parks read:organizations"),
        "{listed}"
    );

    let db = parkgraph_persistence::connect(&url, 2).await.expect("connect");
    let mut config = Config { database_url: url.clone(), ..Config::default() };
    config.auth.revocation_cache_seconds = 1;
    config.limits.token_bucket = 100;
    config.limits.token_restore_per_second = 1;
    let router = parkgraph::app(&config, db.clone()).expect("app");
    let server = Server { router, config, test_db: db };
    let (status, _, body) = server.as_token("{ enterprises(first: 2) { nodes { nameZh staffNotes } } }", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["enterprises"]["nodes"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(code(&body), "FORBIDDEN");
    let (status, _, _) = server.as_token("{ organizations(first: 100) { nodes { nameZh } } }", &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "throttled as configured");

    let jti = listed
        .lines()
        .find(|l| l.contains("partner:Wuhan"))
        .and_then(|l| l.split_whitespace().next())
        .expect("jti")
        .to_string();
    assert!(cli(&["token", "revoke", &jti]).contains("revoked"));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, _, body) = server.as_token("{ parks { totalCount } }", &token).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn ed25519_key_pairs_from_pem_files_sign_and_verify() {
    let dir = std::env::temp_dir().join(format!("parkgraph-keys-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let private = dir.join("ed.pem");
    let public = dir.join("ed.pub.pem");
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl").args(args).status().expect("openssl runs");
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", &private.display().to_string()]);
    openssl(&["pkey", "-in", &private.display().to_string(), "-pubout", "-out", &public.display().to_string()]);
    let ed = |with_private: bool| KeyConfig {
        kid: "ed-2026".into(),
        algorithm: "EdDSA".into(),
        secret: None,
        secret_file: None,
        private_key_file: with_private.then(|| private.clone()),
        public_key_file: Some(public.clone()),
    };
    let test = TestDb::sample().await;
    let signer = Server::new(&test, config(&test, vec![ed(true)], "ed-2026"));
    let (token, _) = signer.issue(Role::Partner, None, Some("acme")).await;
    let (status, _, body) = signer.as_token("{ viewer { role } }", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A replica holding only the public key verifies the same token.
    let verifier = Server::new(&test, config(&test, vec![ed(false)], "ed-2026"));
    let (status, _, _) = verifier.as_token("{ viewer { role } }", &token).await;
    assert_eq!(status, StatusCode::OK);
    // An HMAC token claiming the Ed25519 key's kid is algorithm confusion.
    let confused = sign(Some("ed-2026"), Algorithm::HS256, SECRET, &claims("PARTNER", uuid::Uuid::now_v7()));
    let (status, _, body) = verifier.as_token("{ viewer { role } }", &confused).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("does not match key")), "{body}");
    let bad = KeyConfig { public_key_file: Some(dir.join("absent.pem")), ..ed(false) };
    let err = parkgraph::keys::key_set(&config(&test, vec![bad], "ed-2026").auth, &test.url).expect_err("missing file");
    assert!(err.to_string().contains("absent.pem"), "{err}");
}

fn payload_of(token: &str) -> Claims {
    use base64::Engine;
    let part = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("b64"))
        .expect("claims")
}

#[tokio::test]
async fn a_partner_re_signing_its_own_token_with_the_right_key_is_refused() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let (partner, jti) = server.issue(Role::Partner, Some("read:parks"), Some("acme")).await;
    let genuine = payload_of(&partner);
    let all_scopes = Scope::join(&Role::Admin.allowed_scopes());
    let admin_probe = "{ apiTokens { jti } auditEvents { status } }";
    let resigned = |f: &dyn Fn(&mut Claims)| {
        let mut claims = genuine.clone();
        f(&mut claims);
        sign(Some("k1"), Algorithm::HS256, SECRET, &claims)
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "role ADMIN with every scope",
            resigned(&|c| {
                c.role = "ADMIN".into();
                c.scope = all_scopes.clone();
            }),
            "role",
        ),
        (
            "scopes above the partner ceiling",
            resigned(&|c| c.scope = "read:parks read:internal admin:tokens".into()),
            "scopes",
        ),
        ("more scopes within the ceiling", resigned(&|c| c.scope = "read:parks read:organizations".into()), "scopes"),
        ("a later expiry", resigned(&|c| c.exp += 365 * 24 * 3600), "expiry"),
        ("another subject", resigned(&|c| c.sub = "staff:admin".into()), "subject"),
        ("another partner", resigned(&|c| c.partner_id = Some(uuid::Uuid::now_v7())), "partner"),
    ];
    for (name, token, field) in cases {
        let (status, _, body) = server.as_token(admin_probe, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{name}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("altered") && message.contains(field), "{name}: {message:?}");
    }
    let mint = r#"mutation { issueToken(input: { role: "ADMIN", ttl: "30d" }) { token } }"#;
    let (status, _, _) = server.as_token(mint, &resigned(&|c| c.role = "ADMIN".into())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a re-signed token cannot mint an ADMIN token");

    // The genuine token keeps working, with the stored grant and nothing more.
    let (status, _, body) = server.as_token("{ viewer { role scopes subject } }", &partner).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["viewer"],
        json!({ "role": "PARTNER", "scopes": ["read:parks"], "subject": "partner:acme" })
    );
    let (_, _, body) = server.as_token("{ apiTokens { jti } }", &partner).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let _ = jti;
}

#[tokio::test]
async fn the_stored_expiry_wins_over_the_token_and_tokens_record_who_issued_them() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let (admin, admin_jti) = server.issue(Role::Admin, None, None).await;
    let mint = r#"mutation { issueToken(input: { partner: "acme", role: "PARTNER", ttl: "1h" }) { token apiToken { jti issuedBy } } }"#;
    let (_, _, body) = server.as_token(mint, &admin).await;
    let issued = &body["data"]["issueToken"];
    assert_eq!(issued["apiToken"]["issuedBy"], json!(admin_jti.to_string()), "{body}");
    let minted_jti: uuid::Uuid = issued["apiToken"]["jti"].as_str().expect("jti").parse().expect("uuid");
    let (_, _, body) = server.as_token("{ apiTokens { jti issuedBy } }", &admin).await;
    let listed = body["data"]["apiTokens"].as_array().expect("tokens").clone();
    assert!(
        listed
            .iter()
            .any(|t| t["jti"] == json!(minted_jti.to_string()) && t["issuedBy"] == json!(admin_jti.to_string())),
        "{body}"
    );
    assert!(listed.iter().any(|t| t["jti"] == json!(admin_jti.to_string()) && t["issuedBy"].is_null()), "{body}");

    // Shorten the stored expiry (as an operator cutting a token's life would): the token's
    // own, later `exp` no longer counts.
    let token = issued["token"].as_str().expect("token").to_string();
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    use parkgraph_persistence::sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let record = parkgraph_persistence::access::token(&test.db, minted_jti).await.expect("reads").expect("stored");
    let mut active = record.into_active_model();
    active.expires_at = Set(past);
    active.update(&test.db).await.expect("updates");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, _, body) = server.as_token("{ parks { totalCount } }", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("expired")), "{body}");
}

#[tokio::test]
async fn aliases_and_fragments_pay_for_every_item_they_return() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test, vec![hmac_key("k1", SECRET)], "k1");
    cfg.limits.anonymous_bucket = 2_000;
    cfg.limits.anonymous_restore_per_second = 1;
    let server = Server::new(&test, cfg);
    let (_, _, body) = server.call("{ parks(first: 1) { nodes { id } } }", None).await;
    let id = body["data"]["parks"]["nodes"][0]["id"].as_str().expect("id").to_string();

    let shapes = [
        "{ parks(first: 100) { n: nodes { id } } }",
        "{ p: parks(first: 100) { e: edges { n: node { id } } } }",
        "{ parks(first: 100) { ...P } } fragment P on ParkConnection { items: nodes { id } }",
        "{ parks(first: 100) { ... on ParkConnection { items: nodes { id } } } }",
        "{ parks(first: 100) { a: nodes { id } b: nodes { id } } }",
    ];
    for query in shapes {
        let (status, _, body) = server.call(query, None).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        let returned = body["data"]
            .as_object()
            .and_then(|d| d.values().next())
            .and_then(|c| c.as_object())
            .and_then(|c| c.values().find_map(|v| v.as_array()))
            .map_or(0, Vec::len) as u64;
        assert!(returned > 10, "{query}: {body}");
        assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 1 + returned, "{query}: {body}");
    }

    // Nine aliased `nodes(ids:)` of 100 ids each cost 900 points, aliases or not.
    let ids = vec![format!("\"{id}\""); 100].join(",");
    let aliased: String = (0..9).map(|i| format!("n{i}: nodes(ids: [{ids}]) {{ id }} ")).collect();
    let query = format!("{{ {aliased} }}");
    let (status, _, body) = server.call(&query, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 901, "{}", body["extensions"]);
    let mut throttled = false;
    for _ in 0..3 {
        let (status, _, body) = server.call(&query, None).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(code(&body), "THROTTLED");
            throttled = true;
            break;
        }
    }
    assert!(throttled, "2,000 points pay for two such requests, not four");
}

impl Server {
    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = self.router.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

fn post(content_type: Option<&str>, body: String) -> axum::http::request::Builder {
    let mut request = Request::post("/graphql").header(header::CONTENT_LENGTH, body.len());
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request
}

#[tokio::test]
async fn refused_credentials_are_charged_to_the_address_and_echoed_only_in_short() {
    let test = TestDb::sample().await;
    let mut cfg = config(&test, vec![hmac_key("k1", SECRET)], "k1");
    cfg.limits.anonymous_bucket = 200;
    cfg.limits.anonymous_restore_per_second = 1;
    cfg.limits.failed_auth_cost = 50;
    let server = Server::new(&test, cfg);
    let huge_kid = "k".repeat(300_000);
    let forged = sign(Some(&huge_kid), Algorithm::HS256, SECRET, &claims("PARTNER", uuid::Uuid::now_v7()));
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _, body) = server.as_token("{ parks { totalCount } }", &forged).await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.len() < 400, "the refusal echoes {} bytes", message.len());
        statuses.push(status);
    }
    assert_eq!(&statuses[..4], &[StatusCode::UNAUTHORIZED; 4], "{statuses:?}");
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS, "failures empty the address's bucket: {statuses:?}");
    let (status, _, _) = server.call("{ parks { totalCount } }", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the same address is throttled for anonymous reads too");
}

#[tokio::test]
async fn a_malformed_authorization_header_is_refused_not_served_as_anonymous() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let payload = json!({ "query": "{ viewer { role } }" }).to_string();
    let non_ascii = axum::http::HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("opaque header value");
    let request = post(Some("application/json"), payload.clone())
        .header(header::AUTHORIZATION, non_ascii)
        .body(Body::from(payload.clone()))
        .expect("request");
    let (status, _, body) = server.send(request).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"), "{body}");
    let request = post(Some("application/json"), payload.clone())
        .header(header::AUTHORIZATION, "Bearer a.b.c")
        .header(header::AUTHORIZATION, "Bearer d.e.f")
        .body(Body::from(payload))
        .expect("request");
    let (status, _, _) = server.send(request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn posts_a_browser_sends_without_preflight_are_refused_unless_they_carry_the_csrf_header() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let payload = json!({ "query": "{ parks { totalCount } }" }).to_string();
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let request = post(content_type, payload.clone()).body(Body::from(payload.clone())).expect("request");
        let (status, _, body) = server.send(request).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}: {body}");
        assert_eq!(code(&body), "BAD_REQUEST");
        assert!(body.get("data").is_none(), "nothing ran: {body}");
    }
    let request = post(Some("text/plain"), payload.clone())
        .header("x-parkgraph-csrf", "1")
        .body(Body::from(payload.clone()))
        .expect("request");
    let (status, _, body) = server.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let request =
        post(Some("application/json; charset=utf-8"), payload.clone()).body(Body::from(payload)).expect("request");
    let (status, _, _) = server.send(request).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn oversized_or_nul_string_arguments_are_bad_user_input_before_anything_runs() {
    let test = TestDb::sample().await;
    let server = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let long = "光".repeat(50_000);
    let (status, _, body) = server
        .call(&format!(r#"{{ organizations(filter: {{ nameContains: "{long}" }}) {{ totalCount }} }}"#), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("nameContains")), "{body}");

    let payload = json!({
        "query": "query($f: OrganizationFilter) { organizations(filter: $f) { totalCount } }",
        "variables": { "f": { "nameContains": "\u{0}" } }
    })
    .to_string();
    let request = post(Some("application/json"), payload.clone()).body(Body::from(payload)).expect("request");
    let (_, _, body) = server.send(request).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "a NUL must not match everything: {body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("NUL")), "{body}");
}

#[tokio::test]
async fn introspection_and_suggestions_follow_the_configuration_and_the_caller() {
    let test = TestDb::sample().await;
    let introspect = "{ __schema { queryType { name } } }";
    let misspelt = "{ enterprises(first: 1) { nodes { staffNote } } }";

    let open = Server::new(&test, config(&test, vec![hmac_key("k1", SECRET)], "k1"));
    let (analyst, _) = open.issue(Role::Analyst, None, None).await;
    let (_, _, body) = open.call(introspect, None).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query", "introspection = all by default: {body}");
    let (_, _, body) = open.call(misspelt, None).await;
    let anonymous = body["errors"][0]["message"].as_str().unwrap_or_default().to_string();
    assert!(!anonymous.is_empty() && !anonymous.contains("Did you mean"), "{anonymous}");
    let (_, _, body) = open.as_token(misspelt, &analyst).await;
    let staff = body["errors"][0]["message"].as_str().unwrap_or_default().to_string();
    assert!(staff.contains("Did you mean") && staff.contains("staffNotes"), "{staff}");

    let mut cfg = config(&test, vec![hmac_key("k1", SECRET)], "k1");
    cfg.limits.introspection = "authenticated".into();
    let closed = Server::new(&test, cfg.clone());
    let (_, _, body) = closed.call(introspect, None).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let (_, _, body) =
        closed.call("query { ...Sneaky } fragment Sneaky on Query { __type(name: \"Query\") { name } }", None).await;
    assert_eq!(code(&body), "FORBIDDEN", "through a fragment too: {body}");
    let (_, _, body) = closed.as_token(introspect, &analyst).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query", "{body}");

    cfg.limits.introspection = "off".into();
    let off = Server::new(&test, cfg.clone());
    let (_, _, body) = off.as_token(introspect, &analyst).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    cfg.limits.introspection = "sometimes".into();
    let Err(err) = parkgraph::app(&cfg, test.db.clone()) else { panic!("a bad value is a configuration error") };
    assert!(err.to_string().contains("introspection"), "{err}");
}

#[tokio::test]
async fn a_request_without_an_attached_caller_fails_closed() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let response = parkgraph_api::execute(&schema, "{ viewer { role } parks { totalCount } }").await;
    let response = serde_json::to_value(&response).expect("json");
    let codes = common::codes(&response);
    assert!(!codes.is_empty() && codes.iter().all(|c| c == "UNAUTHENTICATED"), "{response}");
    assert!(response["data"].is_null(), "nothing is served: {response}");
}
