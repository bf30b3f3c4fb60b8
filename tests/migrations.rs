//! Migrations go up, all the way down, and up again, on the backend under test.

mod common;

use common::TestDb;
use parkgraph_persistence::sea_orm::{ConnectionTrait, Statement};

/// Registry tables (with figure and city_designation), partner, api_token, audit_event, and
/// the history and feed tables (revision, change, change_counter).
const TABLES: i64 = 18;

async fn table_count(test: &TestDb) -> i64 {
    let sql = if test.is_postgres() {
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'"
    } else {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT IN ('seaql_migrations') AND name NOT LIKE 'sqlite_%'"
    };
    let row = test
        .db
        .query_one_raw(Statement::from_string(test.db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("one row");
    row.try_get::<i64>("", "n").expect("count")
}

#[tokio::test]
async fn migrations_round_trip_up_down_up() {
    let test = TestDb::empty().await;
    parkgraph_persistence::migrate_up(&test.db).await.expect("up");
    assert_eq!(table_count(&test).await, TABLES);
    parkgraph_persistence::migrate_down(&test.db, None).await.expect("down to zero");
    assert_eq!(table_count(&test).await, 0);
    parkgraph_persistence::migrate_up(&test.db).await.expect("up again");
    assert_eq!(table_count(&test).await, TABLES);
    parkgraph_persistence::seed::sample::load(&test.db).await.expect("the schema holds the sample");
}

/// The revision table changed its key with data in it: going down and up again keeps
/// every revision, and the feed still reads each entry's state from its revision.
#[tokio::test]
async fn rekeying_the_revisions_keeps_every_revision_and_the_feed_its_states() {
    use parkgraph_persistence::entity::revision;
    use parkgraph_persistence::sea_orm::{EntityTrait, PaginatorTrait};
    use parkgraph_persistence::write;

    let test = TestDb::migrated().await;
    parkgraph_persistence::seed::sample::load(&test.db).await.expect("the sample");
    let revisions = revision::Entity::find().count(&test.db).await.expect("count");
    let feed = write::changes(&test.db, None, 100_000, None).await.expect("the feed");
    assert!(revisions > 50, "the sample has history");
    assert!(feed.iter().all(|c| c.after.is_some() || c.operation.is_tombstone()), "every state is read");

    let reverted = parkgraph_persistence::migrate_down(&test.db, Some(1)).await.expect("down one");
    assert_eq!(reverted, ["m20261207_091000_revision_key"]);
    let with_ids = test
        .db
        .query_one_raw(Statement::from_string(
            test.db.get_database_backend(),
            "SELECT COUNT(DISTINCT id) AS n FROM revision",
        ))
        .await
        .expect("count ids")
        .expect("one row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(with_ids as u64, revisions, "going down gives every revision an id of its own");

    parkgraph_persistence::migrate_up(&test.db).await.expect("up again");
    assert_eq!(revision::Entity::find().count(&test.db).await.expect("count"), revisions);
    assert_eq!(write::changes(&test.db, None, 100_000, None).await.expect("the feed"), feed);
}

#[tokio::test]
async fn migrating_twice_is_a_no_op() {
    let test = TestDb::migrated().await;
    parkgraph_persistence::migrate_up(&test.db).await.expect("second up");
    assert_eq!(table_count(&test).await, TABLES);
}

/// SQLite's page cache per connection: the configured size on the server's pool, at
/// least the bulk size on a bulk command's.
#[tokio::test]
async fn sqlite_connections_get_the_configured_page_cache() {
    let dir = std::env::temp_dir().join(format!("parkgraph-cache-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let url = format!("sqlite://{}?mode=rwc", dir.join("cache.db").display());
    let pragma = |db: parkgraph_persistence::sea_orm::DatabaseConnection, name: &'static str| async move {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), format!("PRAGMA {name}")))
            .await
            .expect("pragma")
            .expect("one row");
        row.try_get_by_index::<i64>(0).expect(name)
    };
    let cache_kib = |db| pragma(db, "cache_size");
    let config = parkgraph::config::Config { database_url: url, sqlite_cache_mib: 24, ..Default::default() };
    let served = parkgraph::open(&config).await.expect("open");
    assert_eq!(cache_kib(served.clone()).await, -24 * 1024, "negative: KiB");
    assert_eq!(pragma(served, "temp_store").await, 0, "a server's temporary files stay files");
    let bulk = parkgraph::open_for_bulk(&config).await.expect("open for bulk");
    assert_eq!(cache_kib(bulk.clone()).await, -i64::from(parkgraph::config::BULK_SQLITE_CACHE_MIB) * 1024);
    assert_eq!(pragma(bulk, "temp_store").await, 2, "a bulk load keeps its statement journals in memory");
    let large = parkgraph::config::Config { sqlite_cache_mib: 1024, ..config };
    assert_eq!(cache_kib(parkgraph::open_for_bulk(&large).await.expect("open")).await, -1024 * 1024);
    let _ = std::fs::remove_dir_all(dir);
}

/// PostgreSQL plans each connection's prepared statements as configured: generic plans by
/// default, PostgreSQL's own choice when asked, on the server's pool and a bulk command's.
/// SQLite has no such setting and opens as before.
#[tokio::test]
async fn postgres_connections_get_the_configured_plan_cache_mode() {
    use parkgraph_persistence::PlanCacheMode;
    let test = TestDb::migrated().await;
    let mode = |db: parkgraph_persistence::sea_orm::DatabaseConnection| async move {
        let sql = if db.get_database_backend() == parkgraph_persistence::sea_orm::DatabaseBackend::Postgres {
            "SELECT current_setting('plan_cache_mode') AS mode"
        } else {
            "SELECT 'none' AS mode"
        };
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("setting")
            .expect("one row");
        row.try_get::<String>("", "mode").expect("mode")
    };
    let expected = |mode: &str| if test.is_postgres() { mode.to_string() } else { "none".to_string() };
    let config = parkgraph::config::Config { database_url: test.url.clone(), ..Default::default() };
    assert_eq!(mode(parkgraph::open(&config).await.expect("open")).await, expected("force_generic_plan"));
    let auto = parkgraph::config::Config { postgres_plan_cache_mode: PlanCacheMode::Auto, ..config.clone() };
    assert_eq!(mode(parkgraph::open(&auto).await.expect("open")).await, expected("auto"));
    assert_eq!(mode(parkgraph::open_for_bulk(&auto).await.expect("open")).await, expected("auto"));
    let custom = parkgraph::config::Config { postgres_plan_cache_mode: PlanCacheMode::ForceCustomPlan, ..config };
    assert_eq!(mode(parkgraph::open_for_bulk(&custom).await.expect("open")).await, expected("force_custom_plan"));
}
