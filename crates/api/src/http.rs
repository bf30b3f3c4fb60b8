//! The HTTP surface: GraphQL over HTTP on `/graphql` (POST, and GET for queries),
//! GraphiQL on `GET /graphql` for browsers (its assets under `/graphiql/`, see
//! [`crate::graphiql`]), partner snapshots on `GET /bulk/{kind}.ndjson` (see
//! [`crate::bulk`]), `/healthz`, `/readyz` and `/metrics`, with
//! CORS for configured origins, response compression, a body-size limit and request
//! tracing.
//!
//! GraphQL over HTTP follows the draft specification
//! (<https://graphql.github.io/graphql-over-http/draft/>): every answer on `/graphql` is
//! JSON with `errors[].extensions.code`; the media type and status codes follow `Accept`
//! (see [`crate::media`]); a request refused or failed before execution has no `data`
//! key; `GET /graphql?query=…&variables=…&operationName=…` runs queries through the same
//! path as POST (authentication, cost analysis, limits, rate limit, audit) and refuses
//! mutations with `405` and `Allow: POST`.

use std::time::Duration;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use async_graphql::{BatchRequest, Request};
use async_graphql_axum::GraphQLBatchRequest;
use axum::extract::{ConnectInfo, FromRequest, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use parkgraph_persistence::Store;
use parkgraph_persistence::entity::audit_event;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use uuid::Uuid;

use crate::ParkGraphSchema;
use crate::auth::{AuthFailure, Authenticator, Caller};
use crate::cache::ResponseCache;
use crate::client_address::TrustedProxies;
use crate::cost::{CostMeter, analyze};
use crate::error;
use crate::limiter::{BucketConfig, BucketKey, RateLimiter, StoreConfig, ThrottleStatus};
use crate::media::{self, MediaType};
use crate::metrics::{self, Metrics, Refused, Snapshot};

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
    /// Largest multipart request (a file uploaded to `importOrganizations`), in bytes.
    pub max_upload_bytes: usize,
    /// Serve `/metrics` on this router.
    pub metrics: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            graphiql: true,
            max_body_bytes: 1 << 20,
            max_upload_bytes: 32 << 20,
            metrics: true,
        }
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
    /// Partner snapshots: each token's row allowance, page size, how many at once.
    pub export: crate::bulk::ExportLimits,
    /// The response cache's size and how it follows the feed.
    pub cache: crate::cache::CacheConfig,
    /// Operations executed at once; more wait their turn (within the request timeout).
    pub max_concurrent_operations: usize,
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
            export: crate::bulk::ExportLimits::default(),
            cache: crate::cache::CacheConfig::default(),
            max_concurrent_operations: std::thread::available_parallelism().map_or(4, |n| n.get()) * 16,
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
    /// The store, for readiness checks and the audit trail.
    pub store: Store,
    /// Verifies tokens.
    pub auth: Arc<Authenticator>,
    /// The callers' buckets.
    pub limiter: Arc<RateLimiter>,
    /// Request limits.
    pub limits: RequestLimits,
    /// Where audit events go.
    pub audit: AuditSink,
    /// The server's metrics, served on `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Places for partner snapshots streamed at once (`limits.export.concurrent`): each
    /// holds a database connection while it streams.
    pub snapshots: Arc<tokio::sync::Semaphore>,
    /// Answers to queries, kept exact by the change feed (none when turned off).
    pub cache: Option<Arc<ResponseCache>>,
    /// Places for operations executing at once (`limits.max_concurrent_operations`): the
    /// memory of requests in flight is that of this many executions, whatever the number
    /// of clients; the others wait, holding only their parsed request.
    pub executions: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// State over the schemas built with `auth` (see [`crate::Schemas`]; starts the audit
    /// writer and sets up the limiter, which connects to a shared store lazily: call
    /// within Tokio). Fails only when a metric does not register, which is a bug.
    pub fn new(
        schemas: crate::Schemas,
        store: impl Into<Store>,
        auth: Arc<Authenticator>,
        limits: RequestLimits,
    ) -> Result<Self, prometheus::Error> {
        let store = store.into();
        let metrics = Arc::new(Metrics::new()?);
        let audit = AuditSink::start(store.clone(), metrics.audit_dropped());
        let cache = limits.cache.enabled.then(|| {
            let cache = Arc::new(ResponseCache::new(limits.cache.clone(), metrics.cache_counters()));
            cache.follow(store.clone());
            cache
        });
        Ok(Self {
            cache,
            executions: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent_operations.max(1))),
            schema: schemas.authenticated,
            anonymous_schema: schemas.anonymous,
            store,
            auth,
            limiter: Arc::new(RateLimiter::new(&limits.buckets)),
            snapshots: Arc::new(tokio::sync::Semaphore::new(limits.export.concurrent.max(1))),
            limits,
            audit,
            metrics,
        })
    }
}

/// Audit events queue here and a background task writes them in batches (one statement
/// per few hundred events), so auditing costs a request no database round trip. The
/// queue is bounded: when the database cannot keep up, events beyond it are dropped
/// and counted (in the log and in `parkgraph_audit_events_dropped_total`) rather than
/// growing memory without limit.
#[derive(Clone)]
pub struct AuditSink {
    queue: tokio::sync::mpsc::Sender<audit_event::Model>,
    dropped: prometheus::IntCounter,
}

impl AuditSink {
    /// Events the queue holds at most.
    pub const CAPACITY: usize = 20_000;

    /// Starts the writer task; events dropped are added to `dropped`.
    pub fn start(store: Store, dropped: prometheus::IntCounter) -> Self {
        let (queue, mut events) = tokio::sync::mpsc::channel::<audit_event::Model>(Self::CAPACITY);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(500);
            while events.recv_many(&mut batch, 500).await > 0 {
                let rows = std::mem::take(&mut batch);
                let count = rows.len();
                if let Err(err) = store.record_audit_events(rows).await {
                    tracing::warn!(%err, count, "cannot write audit events");
                }
            }
        });
        Self { queue, dropped }
    }

    /// Events waiting to be written.
    pub fn depth(&self) -> usize {
        Self::CAPACITY.saturating_sub(self.queue.capacity())
    }

    fn push(&self, event: audit_event::Model) {
        if self.queue.try_send(event).is_err() {
            self.dropped.inc();
            let dropped = self.dropped.get();
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "the audit queue is full: events are being dropped");
            }
        }
    }
}

pub(crate) fn error_body(message: &str, code: &str, extra: Option<serde_json::Value>) -> serde_json::Value {
    let mut extensions = serde_json::json!({ "code": code });
    if let (Some(extra), Some(map)) = (extra, extensions.as_object_mut())
        && let Some(extra) = extra.as_object()
    {
        map.extend(extra.clone());
    }
    serde_json::json!({ "errors": [{ "message": message, "extensions": extensions }] })
}

pub(crate) fn client_address(request: &axum::extract::Request, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    trusted.client_address(peer, request.headers())
}

pub(crate) fn rate_headers(headers: &mut HeaderMap, status: &ThrottleStatus, cost: u64) {
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

/// One audit event to record: who did what, at what cost, with what outcome.
pub(crate) struct Audit {
    pub(crate) caller: Caller,
    pub(crate) operation_name: Option<String>,
    pub(crate) cost: u64,
    pub(crate) status: &'static str,
    pub(crate) started: Instant,
    pub(crate) client_ip: Option<String>,
}

/// Queues an audit event for a caller with a token (anonymous calls are not audited).
pub(crate) fn audit(sink: &AuditSink, entry: Audit) {
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
pub(crate) fn authorization(headers: &HeaderMap) -> Result<Option<&str>, AuthFailure> {
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
fn csrf_refusal(headers: &HeaderMap) -> Option<Refusal> {
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
    Some(Refusal::http(StatusCode::UNSUPPORTED_MEDIA_TYPE, error::code::BAD_REQUEST, message, Refused::Csrf))
}

/// Answers a body that is not a GraphQL request (malformed JSON, an empty body,
/// `{"query": 42}`, a broken multipart body, one over the size limit) with a
/// `BAD_REQUEST` error in JSON, never a debug string: 413 for size, 400 otherwise.
fn unreadable(error: async_graphql::ParseRequestError) -> Refusal {
    use async_graphql::ParseRequestError as E;
    let too_large = "the request body is larger than this server accepts";
    let (status, message) = match &error {
        E::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, too_large.to_string()),
        E::Io(err) if err.to_string().contains("length limit") => {
            (StatusCode::PAYLOAD_TOO_LARGE, too_large.to_string())
        }
        other => {
            (StatusCode::BAD_REQUEST, format!("the body is not a GraphQL request: {}", truncated(&other.to_string())))
        }
    };
    Refusal::http(status, error::code::BAD_REQUEST, message, Refused::BadRequest)
}

/// How a GraphQL request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// `GET /graphql?query=…`: queries only, cacheable.
    Get,
    /// `POST /graphql` with a JSON body (or a batch of them).
    Post,
}

/// How the HTTP status of a refusal is chosen.
#[derive(Debug, Clone, Copy)]
enum Status {
    /// The same whatever the media type (the request is not one GraphQL can run).
    Http(StatusCode),
    /// A GraphQL request refused before execution: `200` under the legacy
    /// `application/json` rule, `4xx` under `application/graphql-response+json`.
    BeforeExecution,
}

/// A request refused before any operation ran: one error with a code, and no `data`.
struct Refusal {
    status: Status,
    code: &'static str,
    message: String,
    extra: Option<serde_json::Value>,
    reason: Refused,
}

impl Refusal {
    fn http(status: StatusCode, code: &'static str, message: impl Into<String>, reason: Refused) -> Self {
        Self { status: Status::Http(status), code, message: message.into(), extra: None, reason }
    }

    fn before_execution(code: &'static str, message: impl Into<String>, reason: Refused) -> Self {
        Self { status: Status::BeforeExecution, code, message: message.into(), extra: None, reason }
    }

    fn with(mut self, extra: serde_json::Value) -> Self {
        self.extra = Some(extra);
        self
    }
}

/// An answer in the negotiated media type.
fn answer(media: MediaType, status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    response
}

/// An answer without errors from its serialized `data` and the request's cost report:
/// `{"data": …, "extensions": {"cost": …}}`, as async-graphql writes a response.
fn answer_data(media: MediaType, data: &[u8], cost: &serde_json::Value) -> Response {
    let cost = serde_json::to_vec(cost).unwrap_or_default();
    let mut body = Vec::with_capacity(data.len() + cost.len() + 32);
    body.extend_from_slice(b"{\"data\":");
    body.extend_from_slice(data);
    body.extend_from_slice(b",\"extensions\":{\"cost\":");
    body.extend_from_slice(&cost);
    body.extend_from_slice(b"}}");
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    response
}

/// HTTP caching of a GET answer without errors: its ETag, `304 Not Modified` when the
/// client's `If-None-Match` holds it, and `Cache-Control`: `public` (with the configured
/// `max-age`, else `no-cache`) for what an anonymous caller may cache anywhere, `private,
/// no-cache` for a token's answers and for root fields the response cache does not keep.
fn http_caching(
    mut response: Response,
    etag: &str,
    if_none_match: Option<&str>,
    caller: &Caller,
    cacheable: bool,
    state: &AppState,
) -> Response {
    let max_age = state.limits.cache.public_max_age_seconds;
    let control = if cacheable && caller.jti.is_none() {
        if max_age > 0 { format!("public, max-age={max_age}") } else { "public, no-cache".to_owned() }
    } else {
        "private, no-cache".to_owned()
    };
    let matches = if_none_match.is_some_and(|tags| {
        tags.split(',').map(|tag| tag.trim().trim_start_matches("W/")).any(|tag| tag == "*" || tag == etag)
    });
    if matches {
        // No body; the rate-limit headers still tell the client what it was charged.
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for (name, value) in response.headers() {
            if name.as_str().starts_with("x-ratelimit") {
                not_modified.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response = not_modified;
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&control) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept, Authorization"));
    response
}

/// What one GraphQL request did, for the metrics: its operation's name and its outcome
/// (`OK` or the code of its first error).
struct Report<'a> {
    state: &'a AppState,
    media: MediaType,
    operation: Option<String>,
    outcome: &'static str,
}

impl Report<'_> {
    /// Answers a refusal and records it.
    fn refuse(&mut self, refusal: Refusal) -> Response {
        self.outcome = refusal.code;
        self.state.metrics.refused(refusal.reason);
        let status = match refusal.status {
            Status::Http(status) => status,
            Status::BeforeExecution => self.media.before_execution(refusal.code),
        };
        answer(self.media, status, &error_body(&refusal.message, refusal.code, refusal.extra))
    }

    /// Answers `503` with `Retry-After`: something the request needs is unavailable.
    fn unavailable(&mut self, message: &str) -> Response {
        self.outcome = error::code::UNAVAILABLE;
        let mut response = answer(self.media, StatusCode::OK, &error_body(message, error::code::UNAVAILABLE, None));
        retry_later(&mut response);
        response
    }
}

/// Answers a request whose credentials were refused: the failure is charged to the
/// client address's bucket (so guessing tokens is throttled like any other traffic), and
/// the reason is cut short before it is logged or returned.
async fn refuse(report: &mut Report<'_>, address: Option<IpAddr>, failure: &AuthFailure) -> Response {
    let state = report.state;
    let reason = failure.to_string();
    let reason = truncated(&reason);
    let key = BucketKey::anonymous(address);
    let bucket = state.limits.anonymous_bucket;
    if let Err(throttled) = state.limiter.charge(key, state.limits.failed_auth_cost, bucket).await {
        let message = format!(
            "rate limit: too many refused credentials from this address; retry in {} s",
            throttled.retry_after_seconds
        );
        state.metrics.throttled(false);
        report.outcome = THROTTLED;
        let mut response = answer(report.media, StatusCode::TOO_MANY_REQUESTS, &error_body(&message, THROTTLED, None));
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(throttled.retry_after_seconds));
        return response;
    }
    tracing::info!(%reason, "refused a request's credentials");
    let mut response =
        report.refuse(Refusal::http(StatusCode::UNAUTHORIZED, UNAUTHENTICATED, reason, Refused::Credentials));
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    response
}

/// Answers a request to another route than `/graphql` whose credentials were refused,
/// like [`refuse`] does for GraphQL (in JSON, charged to the client address).
pub(crate) async fn refuse_credentials(state: &AppState, address: Option<IpAddr>, failure: &AuthFailure) -> Response {
    let mut report = Report { state, media: MediaType::Json, operation: None, outcome: metrics::OK };
    refuse(&mut report, address, failure).await
}

/// The parameters of `GET /graphql` (`variables` and `extensions` are JSON text).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParameters {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
}

impl GetParameters {
    fn of(uri: &axum::http::Uri) -> Result<Self, String> {
        axum::extract::Query::<Self>::try_from_uri(uri).map(|q| q.0).map_err(|e| e.body_text())
    }

    fn into_request(self) -> Result<Request, String> {
        let mut request = Request::new(self.query.unwrap_or_default());
        request.operation_name = self.operation_name;
        if let Some(variables) = self.variables.filter(|v| !v.trim().is_empty()) {
            match serde_json::from_str::<serde_json::Value>(&variables) {
                Ok(value @ serde_json::Value::Object(_)) => {
                    request.variables = async_graphql::Variables::from_json(value);
                }
                Ok(_) => return Err("`variables` must be a JSON object".into()),
                Err(err) => return Err(format!("`variables` is not JSON: {err}")),
            }
        }
        Ok(request)
    }
}

/// The type of the operation a request selects, when the document names it clearly
/// (execution reports the other cases).
fn operation_type(
    doc: &async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
) -> Option<async_graphql::parser::types::OperationType> {
    use async_graphql::parser::types::DocumentOperations;
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        _ => None,
    }
}

/// `POST /graphql`. A multipart request (an upload) may be as large as
/// `max_upload_bytes`; any other body is held to `max_body_bytes`.
async fn graphql_post(state: AppState, request: axum::extract::Request, max_body_bytes: usize) -> Response {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let request = if multipart {
        request
    } else {
        let (parts, body) = request.into_parts();
        axum::extract::Request::from_parts(
            parts,
            axum::body::Body::new(http_body_util::Limited::new(body, max_body_bytes)),
        )
    };
    graphql(&state, request, Transport::Post).await
}

/// `GET /graphql`: a browser asking for a page (no `query`, `Accept: text/html`) gets
/// GraphiQL when it is on; everything else is a GraphQL request like a POST.
async fn graphql_get(state: AppState, request: axum::extract::Request, graphiql_on: bool) -> Response {
    if graphiql_on
        && media::accepts_html(request.headers())
        && GetParameters::of(request.uri()).is_ok_and(|p| p.query.is_none())
    {
        return crate::graphiql::page().await;
    }
    let mut response = graphql(&state, request, Transport::Get).await;
    // Caches keep answers apart by what they depend on besides the URL.
    response.headers_mut().append(header::VARY, HeaderValue::from_static("accept, authorization"));
    response
}

/// Any other method on `/graphql`: `405` with `Allow`, and a GraphQL error.
async fn graphql_wrong_method(State(state): State<AppState>, method: Method) -> Response {
    let mut report = Report { state: &state, media: MediaType::Json, operation: None, outcome: metrics::OK };
    let message = format!("{method} is not a GraphQL request: use POST, or GET for queries");
    let mut response = report.refuse(Refusal::http(
        StatusCode::METHOD_NOT_ALLOWED,
        error::code::BAD_REQUEST,
        message,
        Refused::BadRequest,
    ));
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    state.metrics.observe(None, report.outcome, Duration::ZERO);
    response
}

/// Every GraphQL request, over GET or POST, goes through here: media type, CSRF (POST),
/// authentication, the request itself, cost analysis and limits, the rate limit,
/// execution with a cost meter, the cost extension, the audit trail and the metrics.
async fn graphql(state: &AppState, request: axum::extract::Request, transport: Transport) -> Response {
    let started = Instant::now();
    let (media, not_acceptable) = match media::negotiate(request.headers()) {
        Ok(media) => (media, None),
        Err(refusal) => (MediaType::Json, Some(refusal)),
    };
    let mut report = Report { state, media, operation: None, outcome: metrics::OK };
    let response = match not_acceptable {
        Some(refusal) => report.refuse(Refusal::http(
            StatusCode::NOT_ACCEPTABLE,
            error::code::BAD_REQUEST,
            refusal.to_string(),
            Refused::NotAcceptable,
        )),
        None => run(&mut report, request, transport, started).await,
    };
    state.metrics.observe(report.operation.as_deref(), report.outcome, started.elapsed());
    response
}

/// The steps of [`graphql`] after the media type is known; `report` collects what the
/// metrics record (the operation's name, the outcome).
async fn run(
    report: &mut Report<'_>,
    request: axum::extract::Request,
    transport: Transport,
    started: Instant,
) -> Response {
    let state = report.state;
    let address = client_address(&request, &state.limits.trusted_proxies);
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let ip = address.map(|address| address.to_string());
    if transport == Transport::Post
        && let Some(refusal) = csrf_refusal(request.headers())
    {
        return report.refuse(refusal);
    }
    let caller = match authorization(request.headers()) {
        Ok(authorization) => state.auth.authenticate(authorization).await,
        Err(failure) => Err(failure),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(AuthFailure::Unavailable) => {
            return report.unavailable("the token registry is unavailable; try again shortly");
        }
        Err(failure) => return refuse(report, address, &failure).await,
    };
    let mut requests: Vec<Request> = match transport {
        Transport::Post => {
            let batch =
                GraphQLBatchRequest::<async_graphql_axum::rejection::GraphQLRejection>::from_request(request, state)
                    .await;
            match batch.map(GraphQLBatchRequest::into_inner) {
                Ok(BatchRequest::Single(request)) => vec![request],
                Ok(BatchRequest::Batch(requests)) => requests,
                Err(rejection) => return report.refuse(unreadable(rejection.0)),
            }
        }
        Transport::Get => match GetParameters::of(request.uri()).and_then(GetParameters::into_request) {
            Ok(request) => vec![request],
            Err(problem) => {
                let message = format!("the query string is not a GraphQL request: {}", truncated(&problem));
                return report.refuse(Refusal::http(
                    StatusCode::BAD_REQUEST,
                    error::code::BAD_REQUEST,
                    message,
                    Refused::BadRequest,
                ));
            }
        },
    };
    if requests.len() > state.limits.max_batch || requests.is_empty() {
        let message = format!("a batch holds 1 to {} operations, this one {}", state.limits.max_batch, requests.len());
        return report.refuse(Refusal::http(
            StatusCode::BAD_REQUEST,
            error::code::BAD_REQUEST,
            message,
            Refused::BatchSize,
        ));
    }
    if requests.iter().any(|r| r.query.trim().is_empty()) {
        let message = match transport {
            Transport::Get => "the request has no `query`: GET /graphql?query={…}",
            Transport::Post => "the request has no `query`: send {\"query\": \"{ … }\"}",
        };
        return report.refuse(Refusal::http(
            StatusCode::BAD_REQUEST,
            error::code::BAD_REQUEST,
            message,
            Refused::BadRequest,
        ));
    }
    report.operation = requests.first().and_then(|r| r.operation_name.clone());

    // Cost and size of every operation, before anything runs.
    let mut requested = 0u64;
    // The response cache serves single operations; a batch runs every operation.
    let single = requests.len() == 1;
    let mut cacheable = false;
    let mut key: Option<String> = None;
    let mut mutates = false;
    for request in &mut requests {
        let Ok(doc) = async_graphql::parser::parse_query(&request.query) else { continue };
        if report.operation.is_none()
            && let async_graphql::parser::types::DocumentOperations::Multiple(ops) = &doc.operations
            && ops.len() == 1
        {
            report.operation = ops.keys().next().map(|name| name.to_string());
        }
        let operation_name = report.operation.clone();
        let rejected = |report: &mut Report<'_>, refusal: Refusal| {
            audit(
                &state.audit,
                Audit {
                    caller: caller.clone(),
                    operation_name,
                    cost: 0,
                    status: "REJECTED",
                    started,
                    client_ip: ip.clone(),
                },
            );
            report.refuse(refusal)
        };
        let ty = operation_type(&doc, request.operation_name.as_deref());
        if transport == Transport::Get && ty.is_some_and(|ty| ty != async_graphql::parser::types::OperationType::Query)
        {
            let message = "GET /graphql runs queries only: send mutations with POST";
            let mut response = rejected(
                report,
                Refusal::http(
                    StatusCode::METHOD_NOT_ALLOWED,
                    error::code::BAD_REQUEST,
                    message,
                    Refused::MutationOverGet,
                ),
            );
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
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
            let refusal = Refusal::before_execution(error::code::FORBIDDEN, message, Refused::Introspection);
            return rejected(report, refusal);
        }
        if let Some(problem) = analysis.bad_argument {
            let refusal = Refusal::before_execution(error::code::BAD_USER_INPUT, problem, Refused::Argument);
            return rejected(report, refusal);
        }
        if analysis.fields > state.limits.max_fields {
            let message = format!(
                "the operation selects {} fields (aliases and fragments included), more than the limit of {}",
                analysis.fields, state.limits.max_fields
            );
            let refusal = Refusal::before_execution(error::code::BAD_USER_INPUT, message, Refused::FieldLimit);
            return rejected(report, refusal);
        }
        if analysis.requested_cost > state.limits.max_cost {
            let message = format!(
                "the operation may cost {} points, more than the limit of {} per operation: ask for smaller pages",
                analysis.requested_cost, state.limits.max_cost
            );
            let extra = serde_json::json!({ "cost": { "requestedQueryCost": analysis.requested_cost, "maximumQueryCost": state.limits.max_cost } });
            let refusal =
                Refusal::before_execution(error::code::BAD_USER_INPUT, message, Refused::CostLimit).with(extra);
            return rejected(report, refusal);
        }
        requested = requested.saturating_add(analysis.requested_cost);
        mutates |= ty == Some(async_graphql::parser::types::OperationType::Mutation);
        if single && analysis.cacheable() {
            cacheable = true;
            if state.cache.is_some() {
                key = Some(crate::cache::key(
                    &request.query,
                    request.operation_name.as_deref(),
                    &request.variables,
                    &caller,
                ));
            }
        }
        // Execution reuses this parse instead of parsing the document again.
        request.set_parsed_query(doc);
    }
    let operation_name = report.operation.clone();

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
            state.metrics.throttled(caller.jti.is_some());
            report.outcome = THROTTLED;
            let mut response =
                answer(report.media, StatusCode::TOO_MANY_REQUESTS, &error_body(&message, THROTTLED, Some(extra)));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(throttled.retry_after_seconds));
            rate_headers(response.headers_mut(), &throttled.status, requested);
            audit(&state.audit, Audit { caller, operation_name, cost: 0, status: THROTTLED, started, client_ip: ip });
            return response;
        }
    };

    let mut responses = Vec::with_capacity(requests.len());
    let mut actual = 0u64;
    let mut timed_out = false;
    // A current answer from the cache, or the key and generation to store a new one under.
    let mut cached: Option<Arc<crate::cache::Entry>> = None;
    let mut to_store: Option<(String, u64)> = None;
    for request in requests {
        if let (Some(cache), Some(key)) = (&state.cache, key.take()) {
            if let Some(entry) = cache.get(&key) {
                actual = actual.saturating_add(entry.cost);
                cached = Some(entry);
                continue;
            }
            to_store = Some((key, cache.generation()));
        }
        let meter = CostMeter::new();
        let began = crate::Began::default();
        let mut request = request.data(caller.clone()).data(meter.clone()).data(began.clone());
        if !state.limits.introspection.allows(&caller) {
            request = request.disable_introspection();
        }
        // Anonymous callers get the schema without "did you mean …" suggestions, so
        // misspelt guesses do not reveal fields they cannot see.
        let schema = if caller.jti.is_some() { &state.schema } else { &state.anonymous_schema };
        // The wait for a place counts toward the request's time limit.
        let execution = async {
            let _place = state.executions.acquire().await;
            crate::execute(schema, request).await
        };
        let outcome = tokio::time::timeout(state.limits.timeout, execution).await;
        // Items returned so far are charged, even by an operation stopped at the limit.
        actual = actual.saturating_add(meter.actual_cost());
        match outcome {
            Ok(response) => responses.push((response, began.get())),
            Err(_) => {
                timed_out = true;
                let mut error = async_graphql::ServerError::new(
                    format!("the operation took longer than {} ms and was stopped", state.limits.timeout.as_millis()),
                    None,
                );
                error.extensions.get_or_insert_with(Default::default).set("code", error::code::TIMEOUT);
                responses.push((async_graphql::Response::from_errors(vec![error]), true));
            }
        }
    }
    // A mutation may have changed what any cached answer shows: drop them all before the
    // mutation's own answer goes out, so its client never reads the old state back.
    if mutates && let Some(cache) = &state.cache {
        cache.invalidate();
    }
    let status = state.limiter.refund(bucket_key, requested.saturating_sub(actual), bucket).await;
    let cost = serde_json::json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual.min(requested),
        "throttleStatus": status,
    });
    let unavailable = any_unavailable(responses.iter().map(|(r, _)| r));
    report.outcome = if timed_out {
        error::code::TIMEOUT
    } else if unavailable {
        error::code::UNAVAILABLE
    } else {
        first_code(responses.iter().map(|(r, _)| r)).unwrap_or(metrics::OK)
    };
    // One answer without errors: its `data` is serialized once, to bytes, and shared by
    // the body, the cache and the ETag.
    let data: Option<Arc<[u8]>> = match (&cached, responses.as_slice()) {
        (Some(entry), _) => Some(entry.data.clone()),
        (None, [(response, true)]) if response.errors.is_empty() && response.extensions.is_empty() => {
            serde_json::to_vec(&response.data).ok().map(Arc::from)
        }
        _ => None,
    };
    if let Some(data) = data {
        let entry = match (to_store, &state.cache) {
            (Some((key, generation)), Some(cache)) if cached.is_none() => {
                Some(cache.insert(key, generation, data.clone(), actual.min(requested)))
            }
            _ => cached,
        };
        let mut response = answer_data(report.media, &data, &cost);
        rate_headers(response.headers_mut(), &status, actual.min(requested));
        if transport == Transport::Get {
            let etag = match &entry {
                Some(entry) => entry.etag().to_owned(),
                None => crate::cache::etag_of(&data),
            };
            response = http_caching(response, &etag, if_none_match.as_deref(), &caller, cacheable, state);
        }
        audit(
            &state.audit,
            Audit { caller, operation_name, cost: actual.min(requested), status: "OK", started, client_ip: ip },
        );
        return response;
    }
    let failed = responses.iter().any(|(r, _)| !r.errors.is_empty());
    let any_began = responses.iter().any(|(_, began)| *began);
    let mut bodies: Vec<serde_json::Value> = responses
        .into_iter()
        .map(|(response, began)| {
            let response =
                response.extension("cost", async_graphql::Value::from_json(cost.clone()).unwrap_or_default());
            let mut body = serde_json::to_value(&response).unwrap_or_default();
            // GraphQL over HTTP: no `data` at all when execution never began (the
            // document did not parse or validate), where async-graphql writes null.
            if !began && let Some(body) = body.as_object_mut() {
                body.remove("data");
            }
            body
        })
        .collect();
    let body = if bodies.len() == 1 { bodies.pop().unwrap_or_default() } else { serde_json::Value::Array(bodies) };
    let http_status = if any_began { StatusCode::OK } else { report.media.before_execution(error::code::VALIDATION) };
    let mut response = answer(report.media, http_status, &body);
    rate_headers(response.headers_mut(), &status, actual.min(requested));
    if transport == Transport::Get {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let outcome = if timed_out {
        error::code::TIMEOUT
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

/// The code of the first error of any response.
fn first_code<'a>(responses: impl IntoIterator<Item = &'a async_graphql::Response>) -> Option<&'static str> {
    let code = responses.into_iter().flat_map(|r| &r.errors).find_map(|e| {
        e.extensions.as_ref().and_then(|x| x.get("code")).and_then(|code| match code {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        })
    })?;
    Some(metrics::outcome(&code))
}

/// Seconds a client is told to wait (`Retry-After`) when the database is unavailable:
/// long enough for a restart or fail-over to finish, short enough to notice recovery.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u32 = 2;

/// True when an error of any response is `UNAVAILABLE` (the database could not be
/// reached): the whole answer is then a `503` the client should retry.
fn any_unavailable<'a>(responses: impl IntoIterator<Item = &'a async_graphql::Response>) -> bool {
    responses.into_iter().flat_map(|r| &r.errors).any(|e| {
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

/// `/metrics`: every series in the Prometheus text format (see [`crate::metrics`]).
async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.limiter.store_status().await;
    let now = Snapshot {
        pool: state.store.pool_stats(),
        audit_depth: state.audit.depth(),
        audit_capacity: AuditSink::CAPACITY,
        buckets: state.limiter.local_buckets(),
        store,
        cache: state.cache.as_ref().map(|cache| cache.stats()),
    };
    match state.metrics.render(now) {
        Ok(text) => ([(header::CONTENT_TYPE, HeaderValue::from_static(prometheus::TEXT_FORMAT))], text).into_response(),
        Err(err) => {
            tracing::error!(%err, "cannot encode the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
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
        tokio::join!(tokio::time::timeout(Duration::from_secs(2), state.store.ping()), state.limiter.store_status());
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

/// The router: `/graphql` (GET and POST; GraphiQL for browsers when on),
/// `/bulk/{kind}.ndjson` (partner snapshots), `/healthz`,
/// `/readyz`, and `/metrics` when `config.metrics` says so.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let graphiql_on = config.graphiql;
    let max_body_bytes = config.max_body_bytes;
    let graphql_route = get(move |State(state): State<AppState>, request: axum::extract::Request| {
        graphql_get(state, request, graphiql_on)
    })
    .post(move |State(state): State<AppState>, request: axum::extract::Request| {
        graphql_post(state, request, max_body_bytes)
    })
    .fallback(graphql_wrong_method);
    let mut router = Router::new()
        .route("/graphql", graphql_route)
        .route("/bulk/{file}", get(crate::bulk::snapshot))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(crate::graphiql::routes(config.graphiql));
    if config.metrics {
        router = router.route("/metrics", get(metrics));
    }
    let mut router = router
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes.max(config.max_upload_bytes)))
        .layer(axum::middleware::map_response(json_payload_too_large))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http());
    if let Some(cors) = cors(&config.cors_origins) {
        router = router.layer(cors);
    }
    router
}

/// `/metrics` alone, for a listener of its own (`metrics_listen`), so that it can be
/// reachable from inside the network only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state).layer(TraceLayer::new_for_http())
}

/// The body-size limit answers a `Content-Length` over the limit with plain text: make it
/// a GraphQL error like every other answer.
async fn json_payload_too_large(response: Response) -> Response {
    let plain = response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && !response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
    if !plain {
        return response;
    }
    let message = "the request body is larger than this server accepts";
    (StatusCode::PAYLOAD_TOO_LARGE, Json(error_body(message, error::code::BAD_REQUEST, None))).into_response()
}
