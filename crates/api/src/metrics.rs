//! Prometheus metrics, served as text on `/metrics` (see [`crate::http`]).
//!
//! Each [`crate::AppState`] has its own registry (no global state). Series:
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `parkgraph_graphql_requests_total` | counter | `operation`, `outcome` | GraphQL requests on `/graphql`, by operation name and outcome code (`OK` or an error code) |
//! | `parkgraph_graphql_request_duration_seconds` | histogram | `operation` | time from request to answer |
//! | `parkgraph_graphql_throttled_total` | counter | `caller` (`token`, `anonymous`) | requests refused by the rate limit |
//! | `parkgraph_graphql_refused_total` | counter | `reason` | requests refused before execution, by reason |
//! | `parkgraph_db_pool_connections` | gauge | `state` (`idle`, `in_use`) | the database pool's connections |
//! | `parkgraph_db_pool_max_connections` | gauge | | the pool's size limit |
//! | `parkgraph_audit_queue_depth` | gauge | | audit events waiting to be written |
//! | `parkgraph_audit_queue_capacity` | gauge | | events the queue holds at most |
//! | `parkgraph_audit_events_dropped_total` | counter | | events dropped because the queue was full |
//! | `parkgraph_rate_limit_buckets` | gauge | | buckets held in this replica's memory |
//! | `parkgraph_rate_limit_store` | gauge | `store` (`local`, `shared`, `shared_unreachable`) | 1 for where buckets are kept now, 0 for the others |
//! | `parkgraph_snapshot_rows_total` | counter | `kind` | rows sent by partner snapshots (`/bulk/{kind}.ndjson`) |
//! | `parkgraph_snapshots_total` | counter | `kind`, `outcome` (`complete`, `failed`, `dropped`) | partner snapshots streamed: to their last line, broken by an error, or left by the client |
//! | `parkgraph_response_cache_lookups_total` | counter | `result` (`hit`, `miss`) | cacheable queries answered from the response cache, or executed |
//! | `parkgraph_response_cache_hit_ratio` | gauge | | hits ÷ lookups since start (0 before the first) |
//! | `parkgraph_response_cache_evictions_total` | counter | | answers dropped to stay within the cache's byte bound |
//! | `parkgraph_response_cache_invalidations_total` | counter | | times every cached answer was dropped because the registry changed |
//! | `parkgraph_response_cache_entries` | gauge | | answers held |
//! | `parkgraph_response_cache_bytes` | gauge | `of` (`held`, `capacity`) | bytes held (keys and answers) and the bound |
//!
//! Operation names come from clients, so the `operation` label is bounded: a name is
//! used as is only when it matches `[A-Za-z_][A-Za-z0-9_]{0,63}` and is one of the first
//! [`MAX_OPERATION_LABELS`] distinct names seen since start; other names count as
//! `(other)`, and requests with no name (or none known yet, such as a body that does not
//! parse) as `(none)`. Neither can be a GraphQL name, so neither collides with one.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::error::code;
use crate::limiter::StoreStatus;

/// Distinct operation names labelled as themselves; later names count as `(other)`.
pub const MAX_OPERATION_LABELS: usize = 50;
/// The `operation` label of names beyond the bound or not plain GraphQL names.
pub const OTHER_OPERATION: &str = "(other)";
/// The `operation` label of requests without an operation name.
pub const NO_OPERATION: &str = "(none)";
/// The `outcome` label of a request that succeeded.
pub const OK: &str = "OK";

/// Outcome labels: `OK` and every error code; anything else counts as `INTERNAL`.
const OUTCOMES: [&str; 12] = [
    OK,
    code::BAD_REQUEST,
    code::BAD_USER_INPUT,
    code::VALIDATION,
    code::NOT_FOUND,
    code::CONFLICT,
    code::UNAUTHENTICATED,
    code::FORBIDDEN,
    code::THROTTLED,
    code::TIMEOUT,
    code::UNAVAILABLE,
    code::INTERNAL,
];

/// The `outcome` label of a code: the code itself when it is one of ours, else `INTERNAL`.
pub fn outcome(code: &str) -> &'static str {
    OUTCOMES.iter().find(|known| **known == code).copied().unwrap_or(code::INTERNAL)
}

/// Upper bounds of the latency histogram, in seconds (the default request limit is 15 s).
const LATENCY_BUCKETS: [f64; 13] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0];

/// Why a request was refused before execution: the `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Credentials that did not verify.
    Credentials,
    /// A POST a browser could send cross-origin, without the CSRF header.
    Csrf,
    /// A body or query string that is not a GraphQL request, or no `query`.
    BadRequest,
    /// A mutation over `GET`.
    MutationOverGet,
    /// More operations in a batch than allowed.
    BatchSize,
    /// Introspection the caller may not run.
    Introspection,
    /// An operation over the cost limit.
    CostLimit,
    /// An operation over the field limit.
    FieldLimit,
    /// A string argument too long or holding NUL.
    Argument,
    /// An `Accept` header that allows no media type this server answers in.
    NotAcceptable,
}

impl Refused {
    fn label(self) -> &'static str {
        match self {
            Self::Credentials => "credentials",
            Self::Csrf => "csrf",
            Self::BadRequest => "bad_request",
            Self::MutationOverGet => "mutation_over_get",
            Self::BatchSize => "batch_size",
            Self::Introspection => "introspection",
            Self::CostLimit => "cost_limit",
            Self::FieldLimit => "field_limit",
            Self::Argument => "argument",
            Self::NotAcceptable => "not_acceptable",
        }
    }
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    throttled: IntCounterVec,
    refused: IntCounterVec,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    audit_depth: IntGauge,
    audit_capacity: IntGauge,
    audit_dropped: IntCounter,
    buckets: IntGauge,
    store: IntGaugeVec,
    snapshot_rows: IntCounterVec,
    snapshots: IntCounterVec,
    cache: crate::cache::CacheCounters,
    cache_ratio: prometheus::Gauge,
    cache_entries: IntGauge,
    cache_bytes: IntGaugeVec,
    operations: Mutex<HashSet<String>>,
}

fn register<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: prometheus::Result<M>,
) -> prometheus::Result<M> {
    let metric = metric?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl Metrics {
    /// A registry with every series (a name that does not register is a bug, reported
    /// as the error).
    pub fn new() -> prometheus::Result<Self> {
        let r = Registry::new();
        let histogram = HistogramOpts::new(
            "parkgraph_graphql_request_duration_seconds",
            "Time from a GraphQL request to its answer, in seconds, by operation name.",
        )
        .buckets(LATENCY_BUCKETS.to_vec());
        Ok(Self {
            requests: register(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "parkgraph_graphql_requests_total",
                        "GraphQL requests, by operation name and outcome code (OK or an error code).",
                    ),
                    &["operation", "outcome"],
                ),
            )?,
            duration: register(&r, HistogramVec::new(histogram, &["operation"]))?,
            throttled: register(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "parkgraph_graphql_throttled_total",
                        "Requests refused by the rate limit, by caller kind.",
                    ),
                    &["caller"],
                ),
            )?,
            refused: register(
                &r,
                IntCounterVec::new(
                    Opts::new("parkgraph_graphql_refused_total", "Requests refused before execution, by reason."),
                    &["reason"],
                ),
            )?,
            pool_connections: register(
                &r,
                IntGaugeVec::new(
                    Opts::new("parkgraph_db_pool_connections", "Open database connections, idle or in use."),
                    &["state"],
                ),
            )?,
            pool_max: register(
                &r,
                IntGauge::new("parkgraph_db_pool_max_connections", "Most connections the database pool opens."),
            )?,
            audit_depth: register(
                &r,
                IntGauge::new("parkgraph_audit_queue_depth", "Audit events waiting to be written."),
            )?,
            audit_capacity: register(
                &r,
                IntGauge::new("parkgraph_audit_queue_capacity", "Audit events the queue holds at most."),
            )?,
            audit_dropped: register(
                &r,
                IntCounter::new(
                    "parkgraph_audit_events_dropped_total",
                    "Audit events dropped because the queue was full.",
                ),
            )?,
            buckets: register(
                &r,
                IntGauge::new("parkgraph_rate_limit_buckets", "Rate-limit buckets held in this replica's memory."),
            )?,
            store: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "parkgraph_rate_limit_store",
                        "Where rate-limit buckets are kept now: 1 for the current store, 0 for the others.",
                    ),
                    &["store"],
                ),
            )?,
            snapshot_rows: register(
                &r,
                IntCounterVec::new(
                    Opts::new("parkgraph_snapshot_rows_total", "Rows sent by partner snapshots, by record kind."),
                    &["kind"],
                ),
            )?,
            snapshots: register(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "parkgraph_snapshots_total",
                        "Partner snapshots streamed, by record kind and outcome (complete, failed, dropped).",
                    ),
                    &["kind", "outcome"],
                ),
            )?,
            cache: {
                let lookups = register(
                    &r,
                    IntCounterVec::new(
                        Opts::new(
                            "parkgraph_response_cache_lookups_total",
                            "Cacheable queries answered from the response cache (hit) or executed (miss).",
                        ),
                        &["result"],
                    ),
                )?;
                crate::cache::CacheCounters {
                    hits: lookups.with_label_values(&["hit"]),
                    misses: lookups.with_label_values(&["miss"]),
                    evictions: register(
                        &r,
                        IntCounter::new(
                            "parkgraph_response_cache_evictions_total",
                            "Answers dropped to stay within the response cache's byte bound.",
                        ),
                    )?,
                    invalidations: register(
                        &r,
                        IntCounter::new(
                            "parkgraph_response_cache_invalidations_total",
                            "Times every cached answer was dropped because the registry changed.",
                        ),
                    )?,
                }
            },
            cache_ratio: register(
                &r,
                prometheus::Gauge::new(
                    "parkgraph_response_cache_hit_ratio",
                    "Response cache hits divided by lookups since start (0 before the first).",
                ),
            )?,
            cache_entries: register(
                &r,
                IntGauge::new("parkgraph_response_cache_entries", "Answers the response cache holds."),
            )?,
            cache_bytes: register(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "parkgraph_response_cache_bytes",
                        "Bytes the response cache holds (keys and answers), and its bound.",
                    ),
                    &["of"],
                ),
            )?,
            operations: Mutex::new(HashSet::new()),
            registry: r,
        })
    }

    /// The `operation` label of an operation name (see the module documentation).
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else { return NO_OPERATION.into() };
        let plain = name.len() <= 64
            && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain {
            return OTHER_OPERATION.into();
        }
        let mut seen = self.operations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(name) {
            return name.into();
        }
        if seen.len() < MAX_OPERATION_LABELS {
            seen.insert(name.to_string());
            return name.into();
        }
        OTHER_OPERATION.into()
    }

    /// Counts one GraphQL request and its latency.
    pub fn observe(&self, operation: Option<&str>, outcome: &str, elapsed: Duration) {
        let operation = self.operation_label(operation);
        let outcome = self::outcome(outcome);
        self.requests.with_label_values(&[operation.as_str(), outcome]).inc();
        self.duration.with_label_values(&[operation.as_str()]).observe(elapsed.as_secs_f64());
    }

    /// Counts a request refused by the rate limit; `token` tells whose bucket.
    pub fn throttled(&self, token: bool) {
        self.throttled.with_label_values(&[if token { "token" } else { "anonymous" }]).inc();
    }

    /// Counts rows a partner snapshot of `kind` sent (`kind` is one of the fixed list
    /// names, so the label is bounded).
    pub fn snapshot_rows(&self, kind: &str, rows: u64) {
        self.snapshot_rows.with_label_values(&[kind]).inc_by(rows);
    }

    /// Counts a partner snapshot that ended: `complete`, `failed` or `dropped`.
    pub fn snapshot_ended(&self, kind: &str, outcome: &str) {
        self.snapshots.with_label_values(&[kind, outcome]).inc();
    }

    /// Counts a request refused before execution.
    pub fn refused(&self, reason: Refused) {
        self.refused.with_label_values(&[reason.label()]).inc();
    }

    /// The counter the audit queue adds its dropped events to.
    /// The counters the response cache moves.
    pub fn cache_counters(&self) -> crate::cache::CacheCounters {
        self.cache.clone()
    }

    pub fn audit_dropped(&self) -> IntCounter {
        self.audit_dropped.clone()
    }

    /// Sets the gauges read at scrape time and encodes every series in the Prometheus
    /// text format (version 0.0.4).
    pub fn render(&self, now: Snapshot) -> prometheus::Result<String> {
        if let Some(pool) = now.pool {
            let idle = i64::from(pool.idle.min(pool.open));
            self.pool_connections.with_label_values(&["idle"]).set(idle);
            self.pool_connections.with_label_values(&["in_use"]).set(i64::from(pool.open) - idle);
            self.pool_max.set(i64::from(pool.max));
        }
        self.audit_depth.set(i64::try_from(now.audit_depth).unwrap_or(i64::MAX));
        self.audit_capacity.set(i64::try_from(now.audit_capacity).unwrap_or(i64::MAX));
        self.buckets.set(i64::try_from(now.buckets).unwrap_or(i64::MAX));
        for (store, label) in [
            (StoreStatus::Local, "local"),
            (StoreStatus::Shared, "shared"),
            (StoreStatus::SharedUnreachable, "shared_unreachable"),
        ] {
            self.store.with_label_values(&[label]).set(i64::from(now.store == store));
        }
        let (hits, misses) = (self.cache.hits.get(), self.cache.misses.get());
        self.cache_ratio.set(if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 });
        if let Some(cache) = now.cache {
            self.cache_entries.set(i64::try_from(cache.entries).unwrap_or(i64::MAX));
            self.cache_bytes.with_label_values(&["held"]).set(i64::try_from(cache.bytes).unwrap_or(i64::MAX));
            self.cache_bytes.with_label_values(&["capacity"]).set(i64::try_from(cache.capacity).unwrap_or(i64::MAX));
        }
        prometheus::TextEncoder::new().encode_to_string(&self.registry.gather())
    }
}

/// What the gauges show, read when `/metrics` is scraped.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// The database pool, when it is one.
    pub pool: Option<parkgraph_persistence::db::PoolStats>,
    /// Audit events queued.
    pub audit_depth: usize,
    /// The audit queue's capacity.
    pub audit_capacity: usize,
    /// Buckets in this replica's memory.
    pub buckets: usize,
    /// Where buckets are kept now.
    pub store: StoreStatus,
    /// The response cache's sizes, when it is on.
    pub cache: Option<crate::cache::CacheStats>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let metrics = Metrics::new().expect("metrics register");
        assert_eq!(metrics.operation_label(None), NO_OPERATION);
        assert_eq!(metrics.operation_label(Some("Parks")), "Parks");
        assert_eq!(metrics.operation_label(Some("drop table; --")), OTHER_OPERATION);
        assert_eq!(metrics.operation_label(Some(&"x".repeat(65))), OTHER_OPERATION);
        assert_eq!(metrics.operation_label(Some("9lives")), OTHER_OPERATION);
        for n in 0..MAX_OPERATION_LABELS * 2 {
            metrics.operation_label(Some(&format!("Op{n}")));
        }
        assert_eq!(metrics.operation_label(Some("Parks")), "Parks", "a name seen early keeps its label");
        assert_eq!(metrics.operation_label(Some("OneMore")), OTHER_OPERATION);
        let seen = metrics.operations.lock().expect("lock").len();
        assert_eq!(seen, MAX_OPERATION_LABELS);
    }

    #[test]
    fn unknown_outcomes_count_as_internal() {
        let metrics = Metrics::new().expect("metrics register");
        metrics.observe(Some("Q"), "SOMETHING_NEW", Duration::from_millis(3));
        let text = metrics
            .render(Snapshot {
                pool: None,
                audit_depth: 0,
                audit_capacity: 1,
                buckets: 0,
                store: StoreStatus::Local,
                cache: None,
            })
            .expect("render");
        assert!(text.contains(r#"parkgraph_graphql_requests_total{operation="Q",outcome="INTERNAL"} 1"#), "{text}");
    }
}
