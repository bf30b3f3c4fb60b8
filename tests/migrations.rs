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
