//! The test harness: every test gets its own fresh, migrated database, on SQLite by
//! default and on PostgreSQL when `TEST_DATABASE_URL` names a server.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parkgraph_api::{Limits, ParkGraphSchema};
use parkgraph_persistence::sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;

/// A fresh database for one test.
pub struct TestDb {
    /// The pool.
    pub db: DatabaseConnection,
    /// Its URL.
    pub url: String,
}

fn unique_name() -> String {
    format!("parkgraph_test_{}", uuid::Uuid::now_v7().simple())
}

impl TestDb {
    /// An empty database with no tables.
    pub async fn empty() -> Self {
        let url = match std::env::var("TEST_DATABASE_URL") {
            Ok(server) if !server.is_empty() => {
                let admin = Database::connect(&server).await.expect("connect to TEST_DATABASE_URL");
                let name = unique_name();
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                let base = server.rsplit_once('/').map(|(base, _)| base).unwrap_or(&server);
                format!("{base}/{name}")
            }
            _ => {
                let dir = std::env::temp_dir().join("parkgraph-tests");
                std::fs::create_dir_all(&dir).expect("temp dir");
                format!("sqlite://{}?mode=rwc", dir.join(format!("{}.db", unique_name())).display())
            }
        };
        let db = parkgraph_persistence::connect(&url, 5).await.expect("connect to the test database");
        Self { db, url }
    }

    /// A fresh database with every migration applied.
    pub async fn migrated() -> Self {
        let test = Self::empty().await;
        parkgraph_persistence::migrate_up(&test.db).await.expect("migrations apply");
        test
    }

    /// A migrated database holding the Wuhan sample.
    pub async fn sample() -> Self {
        let test = Self::migrated().await;
        parkgraph_persistence::seed::sample::load(&test.db).await.expect("sample loads");
        test
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// The schema over this database.
    pub fn schema(&self) -> ParkGraphSchema {
        parkgraph_api::schema(self.db.clone(), Limits::default())
    }
}

/// Runs a query in-process as an anonymous caller and returns the whole response as JSON.
pub async fn run(schema: &ParkGraphSchema, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    let response = parkgraph_api::execute_as(schema, request, parkgraph_api::auth::Caller::anonymous()).await;
    serde_json::to_value(&response).expect("response serializes")
}

/// Runs a query that must succeed and returns its `data`.
pub async fn data(schema: &ParkGraphSchema, query: &str, variables: Value) -> Value {
    let response = run(schema, query, variables).await;
    assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
    response["data"].clone()
}

/// The `extensions.code` of each error of a response.
pub fn codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_string()).collect())
        .unwrap_or_default()
}

/// A connection whose every statement is counted.
pub struct Counted {
    /// The schema over the counted connection.
    pub schema: ParkGraphSchema,
    count: Arc<AtomicUsize>,
}

impl Counted {
    /// Counts the statements of the schema built over a fresh pool on `url`.
    pub async fn open(url: &str) -> Self {
        let mut db = parkgraph_persistence::connect(url, 5).await.expect("connect");
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        db.set_metric_callback(move |info| {
            if std::env::var_os("PARKGRAPH_TEST_PRINT_SQL").is_some() {
                eprintln!("SQL: {}", info.statement.sql.chars().take(160).collect::<String>());
            }
            counter.fetch_add(1, Ordering::SeqCst);
        });
        // A generous batch window: a debug build on a busy CI machine can take longer than
        // the default millisecond to walk a page, which would split batches by timing.
        // What this harness checks is that every nested field goes through a batch.
        let limits = Limits { batch_delay: std::time::Duration::from_millis(50), ..Limits::default() };
        Self { schema: parkgraph_api::schema(db, limits), count }
    }

    /// Statements executed by one query.
    pub async fn statements(&self, query: &str, variables: Value) -> usize {
        let before = self.count.load(Ordering::SeqCst);
        data(&self.schema, query, variables).await;
        self.count.load(Ordering::SeqCst) - before
    }
}

/// A configuration over `test`'s database that signs and verifies tokens with one HMAC
/// key (no development keys), and a token for each `(role, subject)`, valid for an hour.
pub async fn config_with_tokens(
    test: &TestDb,
    who: &[(parkgraph_domain::Role, &str)],
) -> (parkgraph::Config, Vec<String>) {
    use parkgraph::config::{KeyConfig, Secret};
    use parkgraph_registry::token::{IssueRequest, issue};
    let mut config = parkgraph::Config { database_url: test.url.clone(), ..parkgraph::Config::default() };
    config.auth.keys = vec![KeyConfig {
        kid: "k1".into(),
        algorithm: "HS256".into(),
        secret: Some(Secret("test-secret-of-at-least-thirty-two-bytes".into())),
        secret_file: None,
        private_key_file: None,
        public_key_file: None,
    }];
    config.auth.signing_kid = Some("k1".into());
    config.auth.dev_keys = false;
    let keys = parkgraph::keys::key_set(&config.auth, &config.database_url).expect("keys");
    let mut tokens = Vec::new();
    for (role, subject) in who {
        let request = IssueRequest {
            partner: None,
            role: *role,
            scopes: None,
            ttl: std::time::Duration::from_secs(3600),
            subject: Some((*subject).into()),
            description: None,
            issued_by: None,
        };
        tokens.push(issue(&test.db, &keys, request).await.expect("a token").0);
    }
    (config, tokens)
}
