//! The HTTP surface: `POST /graphql`, GraphiQL on `GET /graphql` (its assets under
//! `/graphiql/`, see [`crate::graphiql`]), `/healthz`, `/readyz`,
//! with CORS for configured origins, response compression, a body-size limit and
//! request tracing.

use std::time::Duration;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use async_graphql::{BatchRequest, BatchResponse, Request};
use async_graphql_axum::GraphQLBatchRequest;
use axum::extract::{ConnectInfo, FromRequest, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use parkgraph_persistence::access;
use parkgraph_persistence::entity::audit_event;
use sea_orm::DatabaseConnection;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use uuid::Uuid;

use crate::ParkGraphSchema;
use crate::auth::{AuthFailure, Authenticator, Caller};
use crate::client_address::TrustedProxies;
use crate::cost::{CostMeter, analyze};
use crate::error;
use crate::limiter::{BucketConfig, BucketKey, RateLimiter, StoreConfig, ThrottleStatus};

pub use crate::error::code::{THROTTLED, UNAUTHENTICATED};

/// HTTP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Origins allowed to call the API from a browser; `*` allows any; empty allows none.
    pub cors_origins: Vec<String>,
    /// Serve GraphiQL on `GET /graphql`, and its assets under `/graphiql/`.
    pub graphiql: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self { cors_origins: Vec::new(), graphiql: true, max_body_bytes: 1 << 20 }
    }
}

/// Limits on each request and on each caller's traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLimits {
    /// Highest cost one operation may request.
    pub max_cost: u64,
    /// Most fields (aliases included) one operation may select.
    pub max_fields: usize,
    /// Bucket of each token.
    pub token_bucket: BucketConfig,
    /// Bucket of each anonymous client address.
    pub anonymous_bucket: BucketConfig,
    /// Longest time one request may run.
    pub timeout: Duration,
    /// Most operations in one batch.
    pub max_batch: usize,
    /// Proxies whose `X-Forwarded-For` gives the client address (see [`crate::client_address`]).
    pub trusted_proxies: TrustedProxies,
    /// Where the buckets live, and how many this replica keeps.
    pub buckets: StoreConfig,
    /// Points a request with refused credentials costs its client address.
    pub failed_auth_cost: u64,
    /// Longest string argument (or variable) accepted, in characters.
    pub max_string_chars: usize,
    /// Who may introspect the schema.
    pub introspection: Introspection,
}

/// Who may run introspection queries (`__schema`, `__type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Introspection {
    /// Everyone, anonymous callers included (GraphiQL works without a token).
    #[default]
    All,
    /// Callers with a token.
    Authenticated,
    /// Nobody: the schema is published as `schema.graphql` instead.
    Off,
}

impl Introspection {
    /// True when `caller` may introspect.
    pub fn allows(self, caller: &Caller) -> bool {
        match self {
            Self::All => true,
            Self::Authenticated => caller.jti.is_some(),
            Self::Off => false,
        }
    }
}

impl std::str::FromStr for Introspection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Self::All),
            "authenticated" => Ok(Self::Authenticated),
            "off" => Ok(Self::Off),
            other => Err(format!("introspection must be all, authenticated or off, not {other:?}")),
        }
    }
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_cost: 10_000,
            max_fields: 500,
            token_bucket: BucketConfig { maximum: 20_000, restore_per_second: 500 },
            anonymous_bucket: BucketConfig { maximum: 5_000, restore_per_second: 100 },
            timeout: Duration::from_secs(15),
            max_batch: 10,
            trusted_proxies: TrustedProxies::none(),
            buckets: StoreConfig::default(),
            failed_auth_cost: 50,
            max_string_chars: 1_000,
            introspection: Introspection::All,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The schema, with its loaders and pool.
    pub schema: ParkGraphSchema,
    /// The same schema without field suggestions, for anonymous callers.
    pub anonymous_schema: ParkGraphSchema,
    /// The pool, for readiness checks and the audit trail.
    pub db: DatabaseConnection,
    /// Verifies tokens.
    pub auth: Arc<Authenticator>,
    /// The callers' buckets.
    pub limiter: Arc<RateLimiter>,
    /// Request limits.
    pub limits: RequestLimits,
    /// Where audit events go.
    pub audit: AuditSink,
}

impl AppState {
    /// State over the schemas built with `auth` (see [`crate::Schemas`]; starts the audit
    /// writer and sets up the limiter, which connects to a shared store lazily: call
    /// within Tokio).
    pub fn new(
        schemas: crate::Schemas,
        db: DatabaseConnection,
        auth: Arc<Authenticator>,
        limits: RequestLimits,
    ) -> Self {
        let audit = AuditSink::start(db.clone());
        Self {
            schema: schemas.authenticated,
            anonymous_schema: schemas.anonymous,
            db,
            auth,
            limiter: Arc::new(RateLimiter::new(&limits.buckets)),
            limits,
            audit,
        }
    }
}

/// Audit events queue here and a background task writes them in batches (one statement
/// per few hundred events), so auditing costs a request no database round trip. The
/// queue is bounded: when the database cannot keep up, events beyond it are dropped
/// and counted in the log rather than growing memory without limit.
#[derive(Clone)]
pub struct AuditSink {
    queue: tokio::sync::mpsc::Sender<audit_event::Model>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

impl AuditSink {
    /// Events the queue holds at most.
    pub const CAPACITY: usize = 20_000;

    /// Starts the writer task.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, mut events) = tokio::sync::mpsc::channel::<audit_event::Model>(Self::CAPACITY);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(500);
            while events.recv_many(&mut batch, 500).await > 0 {
                let rows = std::mem::take(&mut batch);
                let count = rows.len();
                if let Err(err) = access::record_many(&db, rows).await {
                    tracing::warn!(%err, count, "cannot write audit events");
                }
            }
        });
        Self { queue, dropped: Arc::new(std::sync::atomic::AtomicU64::new(0)) }
    }

    fn push(&self, event: audit_event::Model) {
        if self.queue.try_send(event).is_err() {
            let dropped = self.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "the audit queue is full: events are being dropped");
            }
        }
    }
}

fn error_body(message: &str, code: &str, extra: Option<serde_json::Value>) -> serde_json::Value {
    let mut extensions = serde_json::json!({ "code": code });
    if let (Some(extra), Some(map)) = (extra, extensions.as_object_mut())
        && let Some(extra) = extra.as_object()
    {
        map.extend(extra.clone());
    }
    serde_json::json!({ "errors": [{ "message": message, "extensions": extensions }] })
}

fn client_address(request: &axum::extract::Request, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    trusted.client_address(peer, request.headers())
}

fn rate_headers(headers: &mut HeaderMap, status: &ThrottleStatus, cost: u64) {
    let reset =
        (status.maximum_available.saturating_sub(status.currently_available)).div_ceil(status.restore_rate.max(1));
    for (name, value) in [
        ("x-ratelimit-limit", status.maximum_available),
        ("x-ratelimit-remaining", status.currently_available),
        ("x-ratelimit-reset", reset),
        ("x-ratelimit-cost", cost),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

struct Audit {
    caller: Caller,
    operation_name: Option<String>,
    cost: u64,
    status: &'static str,
    started: Instant,
    client_ip: Option<String>,
}

fn audit(sink: &AuditSink, entry: Audit) {
    let Some(jti) = entry.caller.jti else { return };
    let event = audit_event::Model {
        id: Uuid::now_v7(),
        at: Utc::now(),
        jti: Some(jti),
        subject: entry.caller.subject,
        role: entry.caller.role.code().into(),
        operation_name: entry.operation_name,
        cost: i32::try_from(entry.cost).unwrap_or(i32::MAX),
        status: entry.status.into(),
        duration_ms: i32::try_from(entry.started.elapsed().as_millis()).unwrap_or(i32::MAX),
        client_ip: entry.client_ip,
    };
    sink.push(event);
}

/// The longest reason, kid or other caller-supplied text a refusal logs or returns.
const MAX_ECHO_CHARS: usize = 160;

/// Cuts caller-supplied text to [`MAX_ECHO_CHARS`] characters for logs and answers.
fn truncated(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        Some((at, _)) => format!("{}… ({} bytes in all)", &text[..at], text.len()).into(),
        None => text.into(),
    }
}

/// The `Authorization` header: absent, or exactly one value of visible ASCII. Several
/// values, or bytes a token never holds, are refused rather than served as anonymous.
fn authorization(headers: &HeaderMap) -> Result<Option<&str>, AuthFailure> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(AuthFailure::MalformedHeader("more than one Authorization header"));
    }
    value.to_str().map(Some).map_err(|_| AuthFailure::MalformedHeader("the Authorization header holds non-ASCII bytes"))
}

/// A header a browser never sends cross-origin without a CORS preflight; a POST that is
/// not `application/json` must carry it.
pub const CSRF_HEADER: &str = "x-parkgraph-csrf";

/// Refuses POSTs a browser could send cross-origin without a preflight (`text/plain`,
/// forms, multipart) unless they carry [`CSRF_HEADER`]: a page on another site must not
/// be able to run operations with a visitor's ambient credentials.
fn csrf_refusal(headers: &HeaderMap) -> Option<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let json = matches!(content_type.as_deref(), Some("application/json" | "application/graphql-response+json"));
    if json || headers.get(CSRF_HEADER).is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let message = format!(
        "POST /graphql with `Content-Type: application/json`; other content types ({}) need the `{CSRF_HEADER}` header",
        truncated(content_type.as_deref().unwrap_or("none"))
    );
    Some(
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Json(error_body(&message, error::code::BAD_USER_INPUT, None)))
            .into_response(),
    )
}

/// Answers a body that is not a GraphQL request (malformed JSON, `{"query": 42}`, a broken
/// multipart body, one over the size limit) with a GraphQL error in JSON, never a debug
/// string: 413 for size, 400 otherwise.
fn unreadable(error: async_graphql::ParseRequestError) -> Response {
    use async_graphql::ParseRequestError as E;
    let (status, message) = match &error {
        E::PayloadTooLarge => {
            (StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than this server accepts".to_string())
        }
        E::Io(err) if err.to_string().contains("length limit") => {
            (StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than this server accepts".to_string())
        }
        other => {
            (StatusCode::BAD_REQUEST, format!("the body is not a GraphQL request: {}", truncated(&other.to_string())))
        }
    };
    (status, Json(error_body(&message, error::code::BAD_USER_INPUT, None))).into_response()
}

/// Answers a request whose credentials were refused: the failure is charged to the
/// client address's bucket (so guessing tokens is throttled like any other traffic), and
/// the reason is cut short before it is logged or returned.
async fn refuse(state: &AppState, address: Option<IpAddr>, failure: &AuthFailure) -> Response {
    let reason = failure.to_string();
    let reason = truncated(&reason);
    let key = BucketKey::anonymous(address);
    let bucket = state.limits.anonymous_bucket;
    if let Err(throttled) = state.limiter.charge(key, state.limits.failed_auth_cost, bucket).await {
        let message = format!(
            "rate limit: too many refused credentials from this address; retry in {} s",
            throttled.retry_after_seconds
        );
        let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(error_body(&message, THROTTLED, None))).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(throttled.retry_after_seconds));
        return response;
    }
    tracing::info!(%reason, "refused a request's credentials");
    let body = error_body(&reason, UNAUTHENTICATED, None);
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    response
}

async fn graphql(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let started = Instant::now();
    let address = client_address(&request, &state.limits.trusted_proxies);
    let ip = address.map(|address| address.to_string());
    if let Some(refusal) = csrf_refusal(request.headers()) {
        return refusal;
    }
    let caller = match authorization(request.headers()) {
        Ok(authorization) => state.auth.authenticate(authorization).await,
        Err(failure) => Err(failure),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(AuthFailure::Unavailable) => return unavailable("the token registry is unavailable; try again shortly"),
        Err(failure) => return refuse(&state, address, &failure).await,
    };
    let batch =
        match GraphQLBatchRequest::<async_graphql_axum::rejection::GraphQLRejection>::from_request(request, &state)
            .await
        {
            Ok(batch) => batch.into_inner(),
            Err(rejection) => return unreadable(rejection.0),
        };
    let mut requests: Vec<Request> = match batch {
        BatchRequest::Single(request) => vec![request],
        BatchRequest::Batch(requests) => requests,
    };
    if requests.len() > state.limits.max_batch || requests.is_empty() {
        let message = format!("a batch holds 1 to {} operations, this one {}", state.limits.max_batch, requests.len());
        return (StatusCode::BAD_REQUEST, Json(error_body(&message, error::code::BAD_USER_INPUT, None)))
            .into_response();
    }
    let mut operation_name = requests.first().and_then(|r| r.operation_name.clone());

    // Cost and size of every operation, before anything runs.
    let mut requested = 0u64;
    for request in &mut requests {
        let Ok(doc) = async_graphql::parser::parse_query(&request.query) else { continue };
        if operation_name.is_none()
            && let async_graphql::parser::types::DocumentOperations::Multiple(ops) = &doc.operations
            && ops.len() == 1
        {
            operation_name = ops.keys().next().map(|name| name.to_string());
        }
        let analysis =
            analyze(&doc, request.operation_name.as_deref(), &request.variables, state.limits.max_string_chars);
        if analysis.introspects && !state.limits.introspection.allows(&caller) {
            let message = match state.limits.introspection {
                Introspection::Off => {
                    "introspection is turned off on this server; the schema is published as schema.graphql"
                }
                _ => {
                    "introspection is open to callers with a token on this server; send `Authorization: Bearer <token>`"
                }
            };
            audit(&state.audit, Audit { caller, operation_name, cost: 0, status: "REJECTED", started, client_ip: ip });
            return (StatusCode::OK, Json(error_body(message, error::code::FORBIDDEN, None))).into_response();
        }
        if let Some(problem) = analysis.bad_argument {
            audit(&state.audit, Audit { caller, operation_name, cost: 0, status: "REJECTED", started, client_ip: ip });
            return (StatusCode::OK, Json(error_body(&problem, error::code::BAD_USER_INPUT, None))).into_response();
        }
        if analysis.fields > state.limits.max_fields {
            let message = format!(
                "the operation selects {} fields (aliases and fragments included), more than the limit of {}",
                analysis.fields, state.limits.max_fields
            );
            audit(&state.audit, Audit { caller, operation_name, cost: 0, status: "REJECTED", started, client_ip: ip });
            return (StatusCode::OK, Json(error_body(&message, error::code::BAD_USER_INPUT, None))).into_response();
        }
        if analysis.requested_cost > state.limits.max_cost {
            let message = format!(
                "the operation may cost {} points, more than the limit of {} per operation: ask for smaller pages",
                analysis.requested_cost, state.limits.max_cost
            );
            let extra = serde_json::json!({ "cost": { "requestedQueryCost": analysis.requested_cost, "maximumQueryCost": state.limits.max_cost } });
            audit(&state.audit, Audit { caller, operation_name, cost: 0, status: "REJECTED", started, client_ip: ip });
            return (StatusCode::OK, Json(error_body(&message, error::code::BAD_USER_INPUT, Some(extra))))
                .into_response();
        }
        requested = requested.saturating_add(analysis.requested_cost);
        // Execution reuses this parse instead of parsing the document again.
        request.set_parsed_query(doc);
    }

    let (bucket_key, bucket) = match caller.jti {
        Some(jti) => (BucketKey::Token(jti), state.limits.token_bucket),
        None => (BucketKey::anonymous(address), state.limits.anonymous_bucket),
    };
    let _charged = match state.limiter.charge(bucket_key, requested, bucket).await {
        Ok(status) => status,
        Err(throttled) => {
            let message = format!(
                "rate limit: this operation costs {requested} points and {} are available; retry in {} s",
                throttled.status.currently_available, throttled.retry_after_seconds
            );
            let extra =
                serde_json::json!({ "cost": { "requestedQueryCost": requested, "throttleStatus": throttled.status } });
            let mut response =
                (StatusCode::TOO_MANY_REQUESTS, Json(error_body(&message, THROTTLED, Some(extra)))).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(throttled.retry_after_seconds));
            rate_headers(response.headers_mut(), &throttled.status, requested);
            audit(&state.audit, Audit { caller, operation_name, cost: 0, status: "THROTTLED", started, client_ip: ip });
            return response;
        }
    };

    let mut responses = Vec::with_capacity(requests.len());
    let mut actual = 0u64;
    let mut timed_out = false;
    for request in requests {
        let meter = CostMeter::new();
        let mut request = request.data(caller.clone()).data(meter.clone());
        if !state.limits.introspection.allows(&caller) {
            request = request.disable_introspection();
        }
        // Anonymous callers get the schema without "did you mean …" suggestions, so
        // misspelt guesses do not reveal fields they cannot see.
        let schema = if caller.jti.is_some() { &state.schema } else { &state.anonymous_schema };
        let outcome = tokio::time::timeout(state.limits.timeout, crate::execute(schema, request)).await;
        // Items returned so far are charged, even by an operation stopped at the limit.
        actual = actual.saturating_add(meter.actual_cost());
        match outcome {
            Ok(response) => responses.push(response),
            Err(_) => {
                timed_out = true;
                let mut error = async_graphql::ServerError::new(
                    format!("the operation took longer than {} ms and was stopped", state.limits.timeout.as_millis()),
                    None,
                );
                error.extensions.get_or_insert_with(Default::default).set("code", error::code::TIMEOUT);
                responses.push(async_graphql::Response::from_errors(vec![error]));
            }
        }
    }
    let status = state.limiter.refund(bucket_key, requested.saturating_sub(actual), bucket).await;
    let cost = serde_json::json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual.min(requested),
        "throttleStatus": status,
    });
    let failed = responses.iter().any(|r| !r.errors.is_empty());
    let unavailable = any_unavailable(&responses);
    let responses: Vec<async_graphql::Response> = responses
        .into_iter()
        .map(|r| r.extension("cost", async_graphql::Value::from_json(cost.clone()).unwrap_or_default()))
        .collect();
    let body = if responses.len() == 1 {
        serde_json::to_value(BatchResponse::Single(responses.into_iter().next().unwrap_or_default()))
    } else {
        serde_json::to_value(BatchResponse::Batch(responses))
    }
    .unwrap_or_default();
    let mut response = Json(body).into_response();
    rate_headers(response.headers_mut(), &status, actual.min(requested));
    let outcome = if timed_out {
        "TIMEOUT"
    } else if failed {
        "ERROR"
    } else {
        "OK"
    };
    audit(
        &state.audit,
        Audit { caller, operation_name, cost: actual.min(requested), status: outcome, started, client_ip: ip },
    );
    if unavailable {
        retry_later(&mut response);
    }
    response
}

/// Seconds a client is told to wait (`Retry-After`) when the database is unavailable:
/// long enough for a restart or fail-over to finish, short enough to notice recovery.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u32 = 2;

/// True when an error of any response is `UNAVAILABLE` (the database could not be
/// reached): the whole answer is then a `503` the client should retry.
fn any_unavailable(responses: &[async_graphql::Response]) -> bool {
    responses.iter().flat_map(|r| &r.errors).any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|code| matches!(code, async_graphql::Value::String(code) if code == error::code::UNAVAILABLE))
    })
}

/// Makes a response a `503 Service Unavailable` with `Retry-After`, keeping its body.
fn retry_later(response: &mut Response) {
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECONDS));
}

/// A `503` with `Retry-After` and one `UNAVAILABLE` error.
fn unavailable(message: &str) -> Response {
    let mut response = Json(error_body(message, error::code::UNAVAILABLE, None)).into_response();
    retry_later(&mut response);
    response
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the database answers a ping within 2 s; otherwise `503` with `Retry-After`,
/// so a load balancer stops sending traffic while the database is unreachable. Where the
/// rate-limit buckets are (`rateLimits`) is reported, never a reason to fail: the limiter
/// falls back to local buckets on its own.
async fn readyz(State(state): State<AppState>) -> Response {
    let (database, rate_limits) =
        tokio::join!(tokio::time::timeout(Duration::from_secs(2), state.db.ping()), state.limiter.store_status());
    let rate_limits = rate_limits.to_string();
    let status = match database {
        Ok(Ok(())) => {
            return Json(serde_json::json!({ "status": "ready", "rateLimits": rate_limits })).into_response();
        }
        Ok(Err(err)) => {
            tracing::warn!(%err, "readiness check failed");
            "database unavailable"
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            "database timed out"
        }
    };
    let mut response = Json(serde_json::json!({ "status": status, "rateLimits": rate_limits })).into_response();
    retry_later(&mut response);
    response
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| match HeaderValue::from_str(o) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring a CORS origin that is not a valid header value");
                None
            }
        }))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::HeaderName::from_static(CSRF_HEADER)])
            .max_age(Duration::from_secs(3600)),
    )
}

/// The router.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let graphql_route =
        if config.graphiql { get(crate::graphiql::page).post(graphql) } else { axum::routing::post(graphql) };
    let mut router = Router::new()
        .route("/graphql", graphql_route)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(crate::graphiql::routes(config.graphiql))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http());
    if let Some(cors) = cors(&config.cors_origins) {
        router = router.layer(cors);
    }
    router
}
