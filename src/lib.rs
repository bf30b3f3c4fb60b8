//! The `parkgraph` command: configuration, and the `serve`, `migrate`, `schema` and
//! `seed` sub-commands over the `domain`, `persistence` and `api` crates.

pub mod changes;
pub mod config;
pub mod export;
pub mod import;
pub mod keys;
pub mod search;
pub mod server;

use std::net::SocketAddr;

use anyhow_free::Failure;
use std::sync::Arc;
use std::time::Duration;

use parkgraph_api::auth::Authenticator;
use parkgraph_api::bulk::ExportLimits;
use parkgraph_api::client_address::TrustedProxies;
use parkgraph_api::http::RequestLimits;
use parkgraph_api::limiter::{BucketConfig, SharedStoreConfig, StoreConfig};
use parkgraph_api::{AppState, HttpConfig, Limits};
use parkgraph_persistence::db::{Backend, redact};
use parkgraph_persistence::{PoolOptions, sea_orm::DatabaseConnection, seed};
use tokio::net::TcpListener;

pub use config::Config;
pub use server::serve_with;

/// Errors the command reports before exiting with status 1.
pub mod anyhow_free {
    /// A failure with a message for the operator.
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    pub struct Failure(pub String);

    impl From<parkgraph_persistence::StoreError> for Failure {
        fn from(err: parkgraph_persistence::StoreError) -> Self {
            Self(err.to_string())
        }
    }

    impl From<std::io::Error> for Failure {
        fn from(err: std::io::Error) -> Self {
            Self(err.to_string())
        }
    }
}

/// Opens the configured database.
pub async fn open(config: &Config) -> Result<DatabaseConnection, Failure> {
    parkgraph_persistence::connect_with(&config.database_url, pool_options(config))
        .await
        .map_err(|e| cannot_open(config, e))
}

/// Opens the configured database for a bulk command: SQLite's page cache at least
/// [`config::BULK_SQLITE_CACHE_MIB`] per connection, its temporary files in memory.
pub async fn open_for_bulk(config: &Config) -> Result<DatabaseConnection, Failure> {
    let options = PoolOptions {
        sqlite_cache_mib: config.sqlite_cache_mib.max(config::BULK_SQLITE_CACHE_MIB),
        sqlite_temp_in_memory: true,
        ..pool_options(config)
    };
    parkgraph_persistence::connect_with(&config.database_url, options).await.map_err(|e| cannot_open(config, e))
}

fn pool_options(config: &Config) -> PoolOptions {
    PoolOptions {
        sqlite_cache_mib: config.sqlite_cache_mib,
        plan_cache_mode: config.postgres_plan_cache_mode,
        ..PoolOptions::new(config.max_connections)
    }
}

fn cannot_open(config: &Config, error: impl std::fmt::Display) -> Failure {
    Failure(format!("cannot open the database {}: {error}", redact(&config.database_url)))
}

/// Prepares the database for serving: migrations (unless turned off), then, on the
/// embedded SQLite default, the Wuhan sample when the registry is empty.
pub async fn prepare(config: &Config, db: &DatabaseConnection) -> Result<(), Failure> {
    if config.migrate_on_start {
        let applied = parkgraph_persistence::migrate_up(db).await?;
        if applied.is_empty() {
            tracing::info!("the database schema is up to date");
        } else {
            tracing::info!(count = applied.len(), migrations = %applied.join(", "), "migrations applied");
        }
    }
    if config.seed_sample_if_empty
        && Backend::of_url(&config.database_url)? == Backend::Sqlite
        && seed::is_empty(db).await?
    {
        let report = seed::sample::load(db).await?;
        tracing::info!(%report, "empty embedded database: loaded the Wuhan sample dataset");
    }
    Ok(())
}

/// The authenticator of a configuration (its key set, anonymous access, revocation cache).
pub fn authenticator(config: &Config, db: &DatabaseConnection) -> Result<Arc<Authenticator>, Failure> {
    let keys = Arc::new(keys::key_set(&config.auth, &config.database_url)?);
    Ok(Arc::new(Authenticator::new(
        keys,
        db.clone(),
        config.auth.allow_anonymous,
        Duration::from_secs(config.auth.revocation_cache_seconds),
    )))
}

/// Request limits of a configuration: fails on trusted proxies that are not addresses
/// or CIDR blocks, on a shared store that is not a Redis URL (it does not connect), and
/// on an unknown introspection setting.
pub fn request_limits(config: &Config) -> Result<RequestLimits, Failure> {
    let l = &config.limits;
    let trusted_proxies = TrustedProxies::parse(&l.trusted_proxies).map_err(|e| Failure(e.to_string()))?;
    let shared = match &l.shared_store {
        Some(url) => Some(
            SharedStoreConfig::new(
                &url.0,
                l.shared_store_prefix.clone(),
                Duration::from_millis(l.shared_store_timeout_ms),
            )
            .map_err(|e| Failure(e.to_string()))?,
        ),
        None => None,
    };
    Ok(RequestLimits {
        max_cost: l.max_query_cost,
        max_fields: l.max_fields,
        token_bucket: BucketConfig { maximum: l.token_bucket, restore_per_second: l.token_restore_per_second },
        anonymous_bucket: BucketConfig {
            maximum: l.anonymous_bucket,
            restore_per_second: l.anonymous_restore_per_second,
        },
        timeout: Duration::from_millis(l.request_timeout_ms),
        max_batch: l.max_batch,
        trusted_proxies,
        buckets: StoreConfig { max_buckets: l.max_buckets, shared },
        failed_auth_cost: l.failed_auth_cost,
        max_string_chars: l.max_string_chars,
        introspection: l.introspection.parse().map_err(|e| Failure(format!("limits.introspection: {e}")))?,
        export: export_limits(l)?,
        cache: cache_config(&config.cache)?,
        max_concurrent_operations: match l.max_concurrent_operations {
            0 => return Err(Failure("limits.max_concurrent_operations must be above zero".into())),
            n => n,
        },
    })
}

/// The response cache's settings: fails on a follow interval of zero.
fn cache_config(c: &config::CacheConfig) -> Result<parkgraph_api::cache::CacheConfig, Failure> {
    if c.follow_ms == 0 {
        return Err(Failure("cache.follow_ms must be above zero".into()));
    }
    Ok(parkgraph_api::cache::CacheConfig {
        enabled: c.enabled && c.max_mib > 0,
        max_bytes: c.max_mib.saturating_mul(1 << 20),
        follow_interval: Duration::from_millis(c.follow_ms),
        public_max_age_seconds: c.public_max_age_seconds,
    })
}

/// The partner-snapshot limits of a configuration: fails on an allowance that would never
/// let a row through.
fn export_limits(l: &config::LimitsConfig) -> Result<ExportLimits, Failure> {
    if l.export_rows_per_minute < 60 {
        return Err(Failure(format!(
            "limits.export_rows_per_minute is {}: it must be at least 60 (one row a second)",
            l.export_rows_per_minute
        )));
    }
    if l.export_burst_rows == 0 || l.export_page_rows == 0 || l.export_concurrent == 0 {
        return Err(Failure(
            "limits.export_burst_rows, limits.export_page_rows and limits.export_concurrent must be above zero".into(),
        ));
    }
    Ok(ExportLimits {
        bucket: BucketConfig { maximum: l.export_burst_rows, restore_per_second: l.export_rows_per_minute / 60 },
        page_rows: l.export_page_rows,
        concurrent: l.export_concurrent,
    })
}

/// Builds the application state and router for a configuration (with `/metrics` on it
/// unless `metrics` is off or `metrics_listen` moves it; see [`routers`]).
pub fn app(config: &Config, db: DatabaseConnection) -> Result<axum::Router, Failure> {
    Ok(routers(config, db)?.api)
}

/// The routers a server runs.
pub struct Routers {
    /// `/graphql`, `/healthz`, `/readyz`, and `/metrics` unless it has its own listener.
    pub api: axum::Router,
    /// `/metrics` alone, for `metrics_listen`.
    pub metrics: Option<axum::Router>,
}

/// Builds the application state and routers for a configuration (without a search index:
/// `search` answers `UNAVAILABLE`; see [`routers_with_search`]).
pub fn routers(config: &Config, db: DatabaseConnection) -> Result<Routers, Failure> {
    routers_with_search(config, db, None)
}

/// Builds the application state and routers for a configuration, answering `search` and
/// `suggest` from `search` when given.
pub fn routers_with_search(
    config: &Config,
    db: DatabaseConnection,
    search: Option<Arc<parkgraph_search::SearchIndex>>,
) -> Result<Routers, Failure> {
    let limits = Limits {
        max_depth: config.max_depth,
        max_complexity: config.max_complexity,
        batch_delay: Duration::from_micros(config.batch_delay_us),
        exact_count_below: config.exact_count_below,
    };
    let auth = authenticator(config, &db)?;
    let schemas = parkgraph_api::schemas_with_search(db.clone(), limits, auth.clone(), search);
    let http = HttpConfig {
        cors_origins: config.cors_origins.clone(),
        graphiql: config.graphiql,
        max_body_bytes: config.max_body_bytes,
        max_upload_bytes: config.max_upload_bytes,
        metrics: config.metrics && config.metrics_listen.is_none(),
    };
    let state = AppState::new(schemas, db, auth, request_limits(config)?)
        .map_err(|e| Failure(format!("cannot set up the metrics: {e}")))?;
    let metrics =
        (config.metrics && config.metrics_listen.is_some()).then(|| parkgraph_api::http::metrics_router(state.clone()));
    Ok(Routers { api: parkgraph_api::router(state, &http), metrics })
}

/// Serves until SIGINT or SIGTERM, then drains in-flight requests for at most
/// `server.shutdown_grace_ms` (see [`server`]).
pub async fn serve(config: &Config) -> Result<(), Failure> {
    let db = open(config).await?;
    prepare(config, &db).await?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr: SocketAddr = listener.local_addr()?;
    // The index is ready (opened, or rebuilt from the database) before the server says
    // it serves; connections that arrive meanwhile wait in the listen backlog.
    let search = if config.search.enabled { Some(search::start(config, &db).await?) } else { None };
    let (shutdown, metrics_shutdown) = (shutdown_signal(), shutdown_signal());
    tracing::info!(database = %redact(&config.database_url), "ParkGraph is listening on http://{addr}/graphql");
    println!("ParkGraph is serving GraphQL at http://{addr}/graphql (open it in a browser for GraphiQL)");
    let routers = routers_with_search(config, db.clone(), search)?;
    match (routers.metrics, &config.metrics_listen) {
        (Some(metrics), Some(metrics_listen)) => {
            let metrics_listener = TcpListener::bind(metrics_listen)
                .await
                .map_err(|e| Failure(format!("cannot listen on {metrics_listen} (metrics_listen): {e}")))?;
            let metrics_addr: SocketAddr = metrics_listener.local_addr()?;
            tracing::info!("metrics are served on http://{metrics_addr}/metrics");
            tokio::try_join!(
                serve_with(listener, routers.api, &config.server, shutdown),
                serve_with(metrics_listener, metrics, &config.server, metrics_shutdown),
            )?;
        }
        _ => serve_with(listener, routers.api, &config.server, shutdown).await?,
    }
    db.close().await.map_err(|e| Failure(format!("closing the database: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGINT or SIGTERM. On Unix the handlers are installed when this is
/// called, not when the future is first polled, so a signal sent as soon as the server
/// says it is serving still shuts it down gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: std::io::Result<tokio::signal::unix::Signal>, name: &'static str| async move {
                match signal {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(err) => {
                        tracing::error!(%err, "cannot listen for {name}");
                        std::future::pending::<()>().await;
                    }
                }
            };
            let (interrupt, terminate) = signals;
            tokio::select! {
                () = wait(interrupt, "SIGINT") => {},
                () = wait(terminate, "SIGTERM") => {},
            }
        }
        #[cfg(not(unix))]
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown signal received");
    }
}
