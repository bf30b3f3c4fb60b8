//! Partner snapshots: `GET /bulk/{kind}.ndjson`, every live record of one kind as
//! newline-delimited JSON, consistent with one position of the change feed.
//!
//! A partner loads a snapshot once and then follows `changes(after:)` from the feed
//! cursor the snapshot gives (the "golden copy plus deltas" pattern). The answer:
//!
//! - header `ParkGraph-Feed-Cursor`: the feed cursor (the opaque format `changes(after:)`
//!   takes) the rows are consistent with;
//! - one line per live record, ordered by id, in exactly the shape a feed entry's `after`
//!   gives it to this caller (internal fields removed unless the caller is staff with
//!   `read:internal`: [`visible_fields`], the function the feed uses);
//! - a last line `{"@snapshot":{"kind":…,"rows":N,"feedCursor":…,"seq":…,"complete":true}}`.
//!   A stream that fails midway is cut without it (the transfer ends with an error), so
//!   a partner that did not get that line did not get the whole snapshot.
//!
//! The rows are read inside one read-only transaction
//! ([`parkgraph_persistence::snapshot`]), [`ExportLimits::page_rows`] at a time by keyset
//! on `id`, and each page is sent as it is read through a channel of
//! [`CHANNEL_PAGES`] pages: a slow client slows the reading down (backpressure) and the
//! server never holds more than a few pages, whatever the table's size. Gzip is applied
//! by the router's compression layer when the client accepts it.
//!
//! `?after=<id>` resumes after the last record a partner received (a new snapshot, with
//! its own cursor: the partner keeps the cursor of its *first* attempt and follows the
//! feed from there; entries it already has are no-ops).
//!
//! Access: a token (anonymous callers get `401`) holding `export` and the read scopes of
//! the kind's family (for a link, both ends' families: the rule of the feed,
//! [`may_read_changes_of`]); otherwise `403`. Rows are charged to the token's export
//! allowance ([`BucketKey::Export`]), apart from its query-cost bucket: a page is paid
//! before it is sent, and when the allowance runs out the stream waits for it to refill
//! rather than failing. A start with no allowance at all is `429` with `Retry-After`.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parkgraph_domain::Scope;
use parkgraph_persistence::snapshot::Snapshot;
use parkgraph_persistence::write::EntityType;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use uuid::Uuid;

use crate::auth::{AuthFailure, Caller};
use crate::error::code;
use crate::http::{
    AppState, Audit, audit, authorization, client_address, error_body, rate_headers, refuse_credentials,
};
use crate::limiter::{BucketConfig, BucketKey, RateLimiter};
use crate::metrics::Metrics;
use crate::object::change::FEED;
use crate::policy::{change_scopes, may_read_changes_of, visible_fields};

/// The header that carries the feed cursor a snapshot is consistent with.
pub const FEED_CURSOR_HEADER: &str = "parkgraph-feed-cursor";
/// The media type of a snapshot.
pub const NDJSON: &str = "application/x-ndjson";
/// Pages read ahead of the client at most (the channel between the reader and the
/// response body).
pub const CHANNEL_PAGES: usize = 2;

/// The record kinds a snapshot serves, by the name in its path: the plural, in camelCase,
/// of each versioned record type of the feed (`ORGANIZATION` → `organizations`,
/// `ENTERPRISE_LOCATION` → `enterpriseLocations`).
pub const KINDS: [(&str, EntityType); 12] = [
    ("organizations", EntityType::Organization),
    ("designations", EntityType::Designation),
    ("parks", EntityType::Park),
    ("parkDesignations", EntityType::ParkDesignation),
    ("enterpriseLocations", EntityType::EnterpriseLocation),
    ("incubators", EntityType::Incubator),
    ("incubations", EntityType::Incubation),
    ("innovationCenters", EntityType::InnovationCenter),
    ("innovationCenterMemberships", EntityType::InnovationCenterMembership),
    ("secondHeadquarters", EntityType::SecondHeadquarters),
    ("figures", EntityType::Figure),
    ("cityDesignations", EntityType::CityDesignation),
];

/// The kind a path's file name (`organizations.ndjson`) names.
pub fn kind_of_file(file: &str) -> Option<(&'static str, EntityType)> {
    let name = file.strip_suffix(".ndjson")?;
    KINDS.into_iter().find(|(known, _)| *known == name)
}

/// Limits of partner snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportLimits {
    /// Each token's export allowance, in rows: its burst (`maximum`) and its refill.
    pub bucket: BucketConfig,
    /// Rows read per statement (and sent per chunk).
    pub page_rows: u64,
    /// Snapshots streamed at once by this replica (each holds a database connection).
    pub concurrent: usize,
}

impl Default for ExportLimits {
    fn default() -> Self {
        Self {
            // 600,000 rows a minute, and up to 100,000 at once.
            bucket: BucketConfig { maximum: 100_000, restore_per_second: 10_000 },
            page_rows: 1_000,
            concurrent: 4,
        }
    }
}

/// `?after=<id>`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Parameters {
    after: Option<String>,
}

/// A JSON error answer, like every refusal of the server.
fn refusal(status: StatusCode, code: &str, message: &str, extra: Option<serde_json::Value>) -> Response {
    (status, axum::Json(error_body(message, code, extra))).into_response()
}

/// `GET /bulk/{file}`: see the module docs.
pub(crate) async fn snapshot(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let started = Instant::now();
    let address = client_address(&request, &state.limits.trusted_proxies);
    let caller = match authorization(request.headers()) {
        Ok(authorization) => state.auth.authenticate(authorization).await,
        Err(failure) => Err(failure),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(AuthFailure::Unavailable) => {
            let mut response = refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                code::UNAVAILABLE,
                "the token registry is unavailable; try again shortly",
                None,
            );
            retry_later(&mut response);
            return response;
        }
        Err(failure) => return refuse_credentials(&state, address, &failure).await,
    };
    let Some(jti) = caller.jti else {
        let message = "partner snapshots need a token with the `export` scope: send `Authorization: Bearer <token>`";
        let mut response = refusal(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, message, None);
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    let Some((kind, entity)) = kind_of_file(&file) else {
        let known: Vec<String> = KINDS.iter().map(|(name, _)| format!("{name}.ndjson")).collect();
        let message = format!(
            "no snapshot is named {:?}: /bulk/ serves {}",
            file.chars().take(80).collect::<String>(),
            known.join(", ")
        );
        return refusal(StatusCode::NOT_FOUND, code::NOT_FOUND, &message, Some(serde_json::json!({ "kinds": known })));
    };
    if !caller.has(Scope::Export) {
        let message = format!(
            "partner snapshots need the `{}` scope, which the {} caller does not hold",
            Scope::Export.code(),
            caller.role
        );
        return refusal(StatusCode::FORBIDDEN, code::FORBIDDEN, &message, None);
    }
    if !may_read_changes_of(&caller, entity) {
        let needs: Vec<&str> = change_scopes(entity).iter().map(|s| s.code()).collect();
        let message =
            format!("{kind} need the {} scope(s), which the {} caller does not hold", needs.join(", "), caller.role);
        return refusal(StatusCode::FORBIDDEN, code::FORBIDDEN, &message, None);
    }
    let after = match after_of(request.uri()) {
        Ok(after) => after,
        Err(message) => return refusal(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &message, None),
    };
    let Ok(permit) = state.snapshots.clone().try_acquire_owned() else {
        let message = format!(
            "this server streams {} snapshots at once and all are in use; retry in 1 s",
            state.limits.export.concurrent
        );
        let mut response = refusal(StatusCode::TOO_MANY_REQUESTS, code::THROTTLED, &message, None);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1u32));
        return response;
    };
    // One row is paid for up front: a token with no allowance left is refused at once.
    let key = BucketKey::Export(jti);
    let bucket = state.limits.export.bucket;
    let status = match state.limiter.charge(key, 1, bucket).await {
        Ok(status) => status,
        Err(throttled) => {
            let message = format!(
                "rate limit: this token's snapshot allowance is spent; retry in {} s",
                throttled.retry_after_seconds
            );
            let extra = serde_json::json!({
                "retryAfterSeconds": throttled.retry_after_seconds,
                "throttleStatus": throttled.status,
            });
            let mut response = refusal(StatusCode::TOO_MANY_REQUESTS, code::THROTTLED, &message, Some(extra));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(throttled.retry_after_seconds));
            rate_headers(response.headers_mut(), &throttled.status, 1);
            return response;
        }
    };
    let snapshot = match state.store.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(err) => {
            tracing::warn!(%err, kind, "cannot open a snapshot");
            state.limiter.refund(key, 1, bucket).await;
            let mut response = refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                code::UNAVAILABLE,
                "the database is unavailable; try again shortly",
                None,
            );
            retry_later(&mut response);
            return response;
        }
    };
    let seq = snapshot.feed_position();
    let cursor = crate::keyset::encode(FEED, seq);
    let (sender, receiver) = mpsc::channel(CHANNEL_PAGES);
    let reader = Reader {
        snapshot,
        kind,
        entity,
        after,
        caller,
        key,
        bucket,
        page_rows: state.limits.export.page_rows.max(1),
        cursor: cursor.clone(),
        seq,
        limiter: state.limiter.clone(),
        metrics: state.metrics.clone(),
        audit: state.audit.clone(),
        client_ip: address.map(|a: IpAddr| a.to_string()),
        started,
        _permit: permit,
    };
    tokio::spawn(reader.run(sender));
    let mut response = Response::new(Body::new(Chunks { receiver }));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&cursor) {
        headers.insert(HeaderName::from_static(FEED_CURSOR_HEADER), value);
    }
    rate_headers(headers, &status, 1);
    response
}

/// The record id of `?after=`, if any; a message for a bad one.
fn after_of(uri: &axum::http::Uri) -> Result<Option<Uuid>, String> {
    let parameters = axum::extract::Query::<Parameters>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| format!("the query string is not understood ({}); the one parameter is `after`", e.body_text()))?;
    parameters
        .after
        .map(|after| {
            Uuid::parse_str(after.trim()).map_err(|_| {
                format!(
                    "`after` must be the id (a UUID) of the last record received, not {:?}",
                    after.chars().take(80).collect::<String>()
                )
            })
        })
        .transpose()
}

/// Makes a response a `503` to retry shortly.
fn retry_later(response: &mut Response) {
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::http::UNAVAILABLE_RETRY_AFTER_SECONDS));
}

/// Why a snapshot's stream was cut; the client sees a broken transfer, the log the cause.
#[derive(Debug, thiserror::Error)]
#[error("the snapshot could not be read to its end")]
pub struct SnapshotFailed;

/// The response body: the pages the reader sends, as they come.
struct Chunks {
    receiver: mpsc::Receiver<Result<Bytes, SnapshotFailed>>,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = SnapshotFailed;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, SnapshotFailed>>> {
        self.receiver.poll_recv(cx).map(|chunk| chunk.map(|chunk| chunk.map(http_body::Frame::data)))
    }
}

/// How a snapshot's stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Every row and the last line were sent.
    Complete,
    /// Reading failed: the stream was cut.
    Failed,
    /// The client went away.
    Dropped,
}

impl Ended {
    fn label(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Failed => "failed",
            Self::Dropped => "dropped",
        }
    }
}

/// Reads a snapshot page by page and sends each page down the channel.
struct Reader {
    snapshot: Snapshot,
    kind: &'static str,
    entity: EntityType,
    after: Option<Uuid>,
    caller: Caller,
    key: BucketKey,
    bucket: BucketConfig,
    page_rows: u64,
    cursor: String,
    seq: i64,
    limiter: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    audit: crate::http::AuditSink,
    client_ip: Option<String>,
    started: Instant,
    _permit: OwnedSemaphorePermit,
}

impl Reader {
    async fn run(mut self, sender: mpsc::Sender<Result<Bytes, SnapshotFailed>>) {
        let mut rows = 0u64;
        let ended = self.stream(&sender, &mut rows).await;
        let Self { snapshot, kind, metrics, caller, audit: sink, client_ip, started, .. } = self;
        if let Err(err) = snapshot.finish().await {
            tracing::debug!(%err, kind, "ending a snapshot's transaction failed");
        }
        if ended == Ended::Failed {
            // The body ends with an error: the client sees a broken transfer, never a
            // stream that looks complete without its last line.
            let _ = sender.send(Err(SnapshotFailed)).await;
        }
        metrics.snapshot_ended(kind, ended.label());
        let status = match ended {
            Ended::Complete => "OK",
            Ended::Failed => "ERROR",
            Ended::Dropped => "DROPPED",
        };
        audit(
            &sink,
            Audit {
                caller,
                operation_name: Some(format!("GET /bulk/{kind}.ndjson")),
                cost: rows,
                status,
                started,
                client_ip,
            },
        );
    }

    /// Sends every page, then the last line; counts the rows sent in `rows`.
    async fn stream(&mut self, sender: &mpsc::Sender<Result<Bytes, SnapshotFailed>>, rows: &mut u64) -> Ended {
        // The row paid for at the start.
        let mut prepaid = 1u64;
        let mut after = self.after;
        loop {
            let page = match self.snapshot.page(self.entity, after, self.page_rows).await {
                Ok(page) => page,
                Err(err) => {
                    tracing::error!(%err, kind = self.kind, rows = *rows, "a snapshot failed midway; its stream is cut");
                    return Ended::Failed;
                }
            };
            let count = page.len() as u64;
            if count == 0 {
                break;
            }
            let owed = count.saturating_sub(prepaid);
            prepaid = prepaid.saturating_sub(count);
            if !pay(&self.limiter, self.key, owed, self.bucket, sender).await {
                return Ended::Dropped;
            }
            let mut chunk = Vec::with_capacity(page.len() * 512);
            for row in page {
                after = Some(row.id);
                let fields = visible_fields(&self.caller, Some(row.fields));
                if let Err(err) = serde_json::to_writer(&mut chunk, &fields) {
                    tracing::error!(%err, kind = self.kind, "a snapshot row does not serialize; its stream is cut");
                    return Ended::Failed;
                }
                chunk.push(b'\n');
            }
            if sender.send(Ok(Bytes::from(chunk))).await.is_err() {
                return Ended::Dropped;
            }
            *rows += count;
            self.metrics.snapshot_rows(self.kind, count);
            if count < self.page_rows {
                break;
            }
        }
        let last = serde_json::json!({ "@snapshot": {
            "kind": self.kind,
            "rows": *rows,
            "feedCursor": self.cursor,
            "seq": self.seq,
            "complete": true,
        }});
        let mut line = last.to_string().into_bytes();
        line.push(b'\n');
        if sender.send(Ok(Bytes::from(line))).await.is_err() {
            return Ended::Dropped;
        }
        Ended::Complete
    }
}

/// Charges `rows` to the export allowance, waiting for it to refill as needed (in charges
/// no larger than the bucket holds). False when the client went away while waiting.
async fn pay(
    limiter: &RateLimiter,
    key: BucketKey,
    rows: u64,
    bucket: BucketConfig,
    sender: &mpsc::Sender<Result<Bytes, SnapshotFailed>>,
) -> bool {
    let mut left = rows;
    while left > 0 {
        let charge = left.min(bucket.maximum.max(1));
        match limiter.charge(key, charge, bucket).await {
            Ok(_) => left -= charge,
            Err(throttled) => {
                let missing = charge.saturating_sub(throttled.status.currently_available).max(1);
                let seconds = missing as f64 / bucket.restore_per_second.max(1) as f64;
                let wait = Duration::from_secs_f64(seconds.clamp(0.01, throttled.retry_after_seconds.max(1) as f64));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = sender.closed() => return false,
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_versioned_type_has_one_snapshot_name() {
        for entity in EntityType::ALL {
            assert_eq!(KINDS.iter().filter(|(_, e)| *e == entity).count(), 1, "{entity:?}");
        }
        assert_eq!(
            kind_of_file("enterpriseLocations.ndjson"),
            Some(("enterpriseLocations", EntityType::EnterpriseLocation))
        );
        assert_eq!(kind_of_file("organizations"), None, "the extension is part of the name");
        assert_eq!(kind_of_file("partners.ndjson"), None);
    }

    #[test]
    fn after_must_be_a_record_id() {
        let uri = |q: &str| q.parse::<axum::http::Uri>().expect("uri");
        let id = Uuid::now_v7();
        assert_eq!(after_of(&uri(&format!("/bulk/parks.ndjson?after={id}"))), Ok(Some(id)));
        assert_eq!(after_of(&uri("/bulk/parks.ndjson")), Ok(None));
        assert!(after_of(&uri("/bulk/parks.ndjson?after=42")).is_err());
        assert!(after_of(&uri("/bulk/parks.ndjson?since=1")).is_err());
    }
}
