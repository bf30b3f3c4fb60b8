//! Configuration: defaults, then an optional TOML file, then `PARKGRAPH_*` environment
//! variables (and the conventional `DATABASE_URL`), then command-line flags.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use parkgraph_persistence::PlanCacheMode;
use serde::{Deserialize, Serialize};

/// The least SQLite page cache, in MiB, of the bulk commands' connections: a bulk load
/// changes more pages in a transaction than a server's reader touches, and a cache too
/// small for them spills them to the write-ahead log and reads them back.
pub const BULK_SQLITE_CACHE_MIB: u32 = 256;

/// Everything `parkgraph` can be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://FILE?mode=rwc` (the embedded default) or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// Database connection-pool size (client connections are capped by
    /// `server.max_open_connections`).
    pub max_connections: u32,
    /// SQLite's page cache per pooled connection, in MiB: the pool's cache is at most
    /// `max_connections × sqlite_cache_mib`. The bulk loads (`import`, `seed`) open
    /// their database with at least [`BULK_SQLITE_CACHE_MIB`]. Ignored on PostgreSQL.
    pub sqlite_cache_mib: u32,
    /// How PostgreSQL plans the statements each connection prepares (`plan_cache_mode`):
    /// `force_generic_plan` (plan each statement once per connection, the default),
    /// `auto` (PostgreSQL's own default) or `force_custom_plan`. Ignored on SQLite.
    pub postgres_plan_cache_mode: PlanCacheMode,
    /// Run pending migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Load the Wuhan sample when the embedded SQLite database starts empty.
    pub seed_sample_if_empty: bool,
    /// Browser origins allowed by CORS (`*` for any).
    pub cors_origins: Vec<String>,
    /// Serve GraphiQL on `GET /graphql`.
    pub graphiql: bool,
    /// Deepest selection nesting accepted.
    pub max_depth: usize,
    /// Highest query complexity accepted.
    pub max_complexity: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest multipart request (a spreadsheet uploaded to `importOrganizations`), in
    /// bytes.
    pub max_upload_bytes: usize,
    /// How long data loaders collect keys before running a batch, in microseconds.
    pub batch_delay_us: u64,
    /// `totalCountEstimate` gives PostgreSQL's estimate instead of a count for a root list
    /// the planner expects to hold at least this many items.
    pub exact_count_below: u64,
    /// Log filter (`RUST_LOG` syntax); `RUST_LOG` itself wins when set.
    pub log: String,
    /// How log lines are written to stderr: `text` (readable; coloured only when stderr
    /// is a terminal and `NO_COLOR` is unset) or `json` (one JSON object per line).
    pub log_format: LogFormat,
    /// Serve Prometheus metrics on `/metrics`.
    pub metrics: bool,
    /// Serve `/metrics` on this address instead of `listen` (e.g. an address only the
    /// monitoring network reaches); none: on `listen`, beside `/graphql`.
    pub metrics_listen: Option<String>,
    /// Tokens and keys.
    pub auth: AuthConfig,
    /// Query cost and rate limits.
    pub limits: LimitsConfig,
    /// Connection handling: read timeouts, idle connections, the connection cap, shutdown.
    pub server: ServerConfig,
    /// The search index.
    pub search: SearchConfig,
    /// The response cache.
    pub cache: CacheConfig,
}

/// The response cache: answers to queries, per replica, dropped whenever the change feed
/// moves (see the README's "Response cache").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Cache answers to queries.
    pub enabled: bool,
    /// Most memory the cached answers and their keys take, in MiB.
    pub max_mib: u64,
    /// How often the feed's head is read for changes made on other replicas or by the
    /// CLI, in milliseconds: the most time such a change stays masked by a cached answer.
    pub follow_ms: u64,
    /// `Cache-Control: public, max-age=…` on anonymous GET answers, in seconds; 0 sends
    /// `public, no-cache` (shared caches keep the answer and revalidate it by ETag).
    pub public_max_age_seconds: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { enabled: true, max_mib: 16, follow_ms: 100, public_max_age_seconds: 0 }
    }
}

/// The search index (`search` and `suggest`): each replica keeps its own, in its own
/// directory, and follows the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Serve `search` and `suggest` (off: they answer `UNAVAILABLE`, and no index is kept).
    pub enabled: bool,
    /// Where the index lives. Default: beside an SQLite file (`parkgraph.db` →
    /// `parkgraph.search/`), else a directory under the system's temporary directory
    /// named after the database URL and the listen address.
    pub index_dir: Option<std::path::PathBuf>,
    /// How often the index reads the change feed, in milliseconds.
    pub poll_ms: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self { enabled: true, index_dir: None, poll_ms: 200 }
    }
}

/// The format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable text, one line per event.
    #[default]
    Text,
    /// One JSON object per line (time, level, target, message, fields, spans).
    Json,
}

/// A secret read from configuration: never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// One key of the key set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Key id, written in the `kid` header of the tokens it signs.
    pub kid: String,
    /// `HS256`, `HS384`, `HS512`, `EdDSA`, `ES256`, `ES384`, `RS256`, `RS384`, `RS512`, `PS256` …
    pub algorithm: String,
    /// HMAC secret, inline (prefer `secret_file`).
    pub secret: Option<Secret>,
    /// File holding the HMAC secret.
    pub secret_file: Option<std::path::PathBuf>,
    /// PEM private key, needed only on the signing key.
    pub private_key_file: Option<std::path::PathBuf>,
    /// PEM public key, for verification.
    pub public_key_file: Option<std::path::PathBuf>,
}

/// Tokens and keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Serve public data to callers without a token.
    pub allow_anonymous: bool,
    /// `iss` of issued tokens, required of presented ones.
    pub issuer: String,
    /// `aud` of issued tokens, required of presented ones.
    pub audience: String,
    /// The key new tokens are signed with (default: the first key).
    pub signing_kid: Option<String>,
    /// The key set: the signing key and any older keys still accepted.
    pub keys: Vec<KeyConfig>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
    /// How long a token's revocation state is cached, in seconds.
    pub revocation_cache_seconds: u64,
    /// On SQLite with no keys configured, generate a development key set beside the database.
    pub dev_keys: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            allow_anonymous: true,
            issuer: "parkgraph".into(),
            audience: "parkgraph-api".into(),
            signing_kid: None,
            keys: Vec::new(),
            leeway_seconds: 30,
            revocation_cache_seconds: 5,
            dev_keys: true,
        }
    }
}

/// Query cost and rate limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Highest cost one operation may request.
    pub max_query_cost: u64,
    /// Most fields one operation may select (aliases and fragments included).
    pub max_fields: usize,
    /// Points in each token's bucket.
    pub token_bucket: u64,
    /// Points restored to a token's bucket per second.
    pub token_restore_per_second: u64,
    /// Points in each anonymous client address's bucket.
    pub anonymous_bucket: u64,
    /// Points restored to an anonymous bucket per second.
    pub anonymous_restore_per_second: u64,
    /// Longest time one request may run, in milliseconds.
    pub request_timeout_ms: u64,
    /// Most operations in one batched request.
    pub max_batch: usize,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed: the client
    /// is the right-most address in it that is not one of them. Empty: the TCP peer.
    pub trusted_proxies: Vec<String>,
    /// Most buckets one replica keeps in memory; beyond it, new addresses share one.
    pub max_buckets: usize,
    /// `redis://HOST:PORT[/DB]` holding the buckets of every replica; none: per replica.
    pub shared_store: Option<Secret>,
    /// Prefix of the bucket keys in the shared store.
    pub shared_store_prefix: String,
    /// Longest wait for the shared store, in milliseconds, before charging locally.
    pub shared_store_timeout_ms: u64,
    /// Points a request with refused credentials costs its client address's bucket.
    pub failed_auth_cost: u64,
    /// Longest string argument or variable accepted, in characters.
    pub max_string_chars: usize,
    /// Who may introspect the schema: `all`, `authenticated` or `off`.
    pub introspection: String,
    /// Rows each token's partner snapshots (`/bulk/{kind}.ndjson`) may stream per minute,
    /// an allowance apart from the query-cost bucket (at least 60).
    pub export_rows_per_minute: u64,
    /// Rows a token's snapshots may stream at once before the rate above applies (its
    /// burst; at least 1).
    pub export_burst_rows: u64,
    /// Rows a snapshot reads per statement and sends per chunk.
    pub export_page_rows: u64,
    /// Snapshots one replica streams at once (each holds a database connection).
    pub export_concurrent: usize,
    /// GraphQL operations one replica executes at once; more wait their turn within the
    /// request timeout (bounds the memory of many concurrent clients). Default: 16 per
    /// CPU core.
    pub max_concurrent_operations: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_query_cost: 10_000,
            max_fields: 500,
            token_bucket: 20_000,
            token_restore_per_second: 500,
            anonymous_bucket: 5_000,
            anonymous_restore_per_second: 100,
            request_timeout_ms: 15_000,
            max_batch: 10,
            trusted_proxies: Vec::new(),
            max_buckets: 100_000,
            shared_store: None,
            shared_store_prefix: "parkgraph:bucket:".into(),
            shared_store_timeout_ms: 250,
            failed_auth_cost: 50,
            max_string_chars: 1_000,
            introspection: "all".into(),
            export_rows_per_minute: 600_000,
            export_burst_rows: 100_000,
            export_page_rows: 1_000,
            export_concurrent: 4,
            max_concurrent_operations: std::thread::available_parallelism().map_or(4, |n| n.get()) * 16,
        }
    }
}

/// Connection handling: how long a client may take to send a request, how long an idle
/// connection stays open, how many connections are served at once, and how long shutdown
/// waits for in-flight requests. Every value must be above zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Longest time a client may take to send a request's headers, in milliseconds. The
    /// clock starts when the server waits for a request, so it also bounds how long a
    /// keep-alive connection may sit idle; past it the connection is closed.
    pub header_read_timeout_ms: u64,
    /// Longest time a client may take to send a request's body once its headers are in,
    /// in milliseconds; past it the request is answered `408` and the connection closed.
    pub body_read_timeout_ms: u64,
    /// A connection with no request being handled and no bytes moving for this long is
    /// closed, in milliseconds.
    pub keep_alive_timeout_ms: u64,
    /// Most connections served at once (the database pool is `max_connections`). Beyond
    /// it the server stops accepting: new connections wait in the listen backlog until a
    /// served connection closes.
    pub max_open_connections: usize,
    /// On SIGTERM or SIGINT, how long in-flight requests may take to finish after the
    /// server stops accepting, in milliseconds; connections still open then are closed.
    pub shutdown_grace_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            keep_alive_timeout_ms: 5_000,
            max_open_connections: 512,
            shutdown_grace_ms: 20_000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://parkgraph.db?mode=rwc".into(),
            listen: "127.0.0.1:8080".into(),
            max_connections: 10,
            sqlite_cache_mib: parkgraph_persistence::DEFAULT_SQLITE_CACHE_MIB,
            postgres_plan_cache_mode: PlanCacheMode::default(),
            migrate_on_start: true,
            seed_sample_if_empty: true,
            cors_origins: Vec::new(),
            graphiql: true,
            max_depth: 12,
            max_complexity: 50_000,
            max_body_bytes: 1 << 20,
            max_upload_bytes: 32 << 20,
            batch_delay_us: 1_000,
            exact_count_below: 10_000,
            log: "info".into(),
            log_format: LogFormat::Text,
            metrics: true,
            metrics_listen: None,
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            server: ServerConfig::default(),
            search: SearchConfig::default(),
            cache: CacheConfig::default(),
        }
    }
}

/// The smallest database pool: an import (and a dry run beside it) looks rows up on one
/// connection while its transaction holds another.
pub const MIN_CONNECTIONS: u32 = 2;

/// The default configuration file, read when present in the working directory.
pub const DEFAULT_FILE: &str = "parkgraph.toml";

impl Config {
    /// Loads the configuration. `file` must exist when given; otherwise `parkgraph.toml`
    /// is read if present.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(Box::new(figment::Error::from(format!(
                        "configuration file {} does not exist",
                        path.display()
                    ))));
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file(DEFAULT_FILE)),
        }
        figment = figment.merge(Env::raw().only(&["DATABASE_URL"])).merge(Env::prefixed("PARKGRAPH_").split("__"));
        let config: Self = figment.extract().map_err(Box::new)?;
        if config.max_connections < MIN_CONNECTIONS {
            return Err(Box::new(figment::Error::from(format!(
                "max_connections is {}: it must be at least {MIN_CONNECTIONS} (an import looks rows up on one \
                 connection while it writes on another)",
                config.max_connections
            ))));
        }
        Ok(config)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "listen = \"0.0.0.0:9000\"\nmax_connections = 3\ncors_origins = [\"https://portal.example\"]\n",
            )?;
            jail.set_env("PARKGRAPH_MAX_CONNECTIONS", "7");
            jail.set_env("DATABASE_URL", "postgres://postgres@127.0.0.1/test");
            let config = Config::load(Some(Path::new("custom.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.listen, "0.0.0.0:9000");
            assert_eq!(config.max_connections, 7);
            assert_eq!(config.cors_origins, vec!["https://portal.example".to_string()]);
            assert_eq!(config.database_url, "postgres://postgres@127.0.0.1/test");
            assert!(config.migrate_on_start);
            assert_eq!(config.postgres_plan_cache_mode, PlanCacheMode::ForceGenericPlan);
            Ok(())
        });
    }

    #[test]
    fn the_plan_cache_mode_comes_from_file_or_environment_and_unknown_modes_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("plans.toml", "postgres_plan_cache_mode = \"auto\"\n")?;
            let config = Config::load(Some(Path::new("plans.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.postgres_plan_cache_mode, PlanCacheMode::Auto);
            jail.set_env("PARKGRAPH_POSTGRES_PLAN_CACHE_MODE", "force_custom_plan");
            let config = Config::load(Some(Path::new("plans.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.postgres_plan_cache_mode, PlanCacheMode::ForceCustomPlan);
            jail.set_env("PARKGRAPH_POSTGRES_PLAN_CACHE_MODE", "generic");
            let error = Config::load(Some(Path::new("plans.toml"))).expect_err("an unknown mode").to_string();
            assert!(error.contains("force_generic_plan"), "the error names the modes accepted: {error}");
            Ok(())
        });
    }

    #[test]
    fn a_pool_of_one_connection_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("one.toml", "max_connections = 1\n")?;
            let error = Config::load(Some(Path::new("one.toml"))).expect_err("one connection").to_string();
            assert!(error.contains("max_connections is 1: it must be at least 2"), "{error}");
            jail.create_file("two.toml", "max_connections = 2\n")?;
            assert_eq!(Config::load(Some(Path::new("two.toml"))).map_err(|e| e.to_string())?.max_connections, 2);
            Ok(())
        });
    }

    #[test]
    fn server_settings_come_from_the_server_table_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("server.toml", "[server]\nheader_read_timeout_ms = 2500\nmax_open_connections = 64\n")?;
            jail.set_env("PARKGRAPH_SERVER__SHUTDOWN_GRACE_MS", "4000");
            let config = Config::load(Some(Path::new("server.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.server.header_read_timeout_ms, 2500);
            assert_eq!(config.server.max_open_connections, 64);
            assert_eq!(config.server.shutdown_grace_ms, 4000);
            assert_eq!(config.server.body_read_timeout_ms, ServerConfig::default().body_read_timeout_ms);
            assert_eq!(config.max_connections, 10, "the database pool size is a separate setting");
            Ok(())
        });
    }

    #[test]
    fn rate_limit_stores_and_trusted_proxies_load_from_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "limits.toml",
                "[limits]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\"]\nmax_buckets = 500\n",
            )?;
            jail.set_env("PARKGRAPH_LIMITS__SHARED_STORE", "redis://:hunter2@127.0.0.1:6379/2");
            jail.set_env("PARKGRAPH_LIMITS__SHARED_STORE_PREFIX", "staging:bucket:");
            let config = Config::load(Some(Path::new("limits.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.limits.trusted_proxies, vec!["10.0.0.0/8".to_string(), "192.0.2.7".to_string()]);
            assert_eq!(config.limits.max_buckets, 500);
            assert_eq!(config.limits.shared_store_prefix, "staging:bucket:");
            assert_eq!(config.limits.shared_store_timeout_ms, 250);
            let store = config.limits.shared_store.as_ref().map(|s| s.0.as_str());
            assert_eq!(store, Some("redis://:hunter2@127.0.0.1:6379/2"));
            assert!(!format!("{config:?}").contains("hunter2"), "the store URL is never printed");
            // The old switch is gone: a file that still sets it is refused, not ignored.
            jail.create_file("old.toml", "[limits]\ntrust_forwarded_for = true\n")?;
            assert!(Config::load(Some(Path::new("old.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    fn the_snapshot_allowance_loads_from_file_and_environment_and_a_useless_one_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("export.toml", "[limits]\nexport_rows_per_minute = 120000\nexport_page_rows = 500\n")?;
            jail.set_env("PARKGRAPH_LIMITS__EXPORT_BURST_ROWS", "5000");
            let config = Config::load(Some(Path::new("export.toml"))).map_err(|e| e.to_string())?;
            let export = crate::request_limits(&config).map_err(|e| e.to_string())?.export;
            assert_eq!(export.bucket.restore_per_second, 2_000, "120,000 rows a minute");
            assert_eq!(export.bucket.maximum, 5_000);
            assert_eq!(export.page_rows, 500);
            assert_eq!(export.concurrent, LimitsConfig::default().export_concurrent);
            jail.set_env("PARKGRAPH_LIMITS__EXPORT_ROWS_PER_MINUTE", "30");
            let config = Config::load(Some(Path::new("export.toml"))).map_err(|e| e.to_string())?;
            let refused = crate::request_limits(&config).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(refused.contains("export_rows_per_minute"), "{refused}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "listne = \"x\"\n")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            assert!(Config::load(Some(Path::new("absent.toml"))).is_err());
            Ok(())
        });
    }
}
