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
    let cache_kib = |db: parkgraph_persistence::sea_orm::DatabaseConnection| async move {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), "PRAGMA cache_size"))
            .await
            .expect("pragma")
            .expect("one row");
        row.try_get_by_index::<i64>(0).expect("cache_size")
    };
    let config = parkgraph::config::Config { database_url: url, sqlite_cache_mib: 24, ..Default::default() };
    let served = parkgraph::open(&config).await.expect("open");
    assert_eq!(cache_kib(served).await, -24 * 1024, "negative: KiB");
    let bulk = parkgraph::open_for_bulk(&config).await.expect("open for bulk");
    assert_eq!(cache_kib(bulk).await, -i64::from(parkgraph::config::BULK_SQLITE_CACHE_MIB) * 1024);
    let large = parkgraph::config::Config { sqlite_cache_mib: 1024, ..config };
    assert_eq!(cache_kib(parkgraph::open_for_bulk(&large).await.expect("open")).await, -1024 * 1024);
    let _ = std::fs::remove_dir_all(dir);
}
