//! The write path's storage guarantees, under concurrent writers, on the backend under
//! test: optimistic concurrency loses no update and applies none twice; the change feed
//! has no gaps and never shows an entry behind a reader's cursor; a rolled-back command
//! leaves no revision and no feed entry.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use common::TestDb;
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{change, city_designation, figure, revision};
use parkgraph_persistence::sea_orm::sea_query::{Expr, ExprTrait};
use parkgraph_persistence::sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, TransactionTrait,
};
use parkgraph_persistence::write::{
    self, Change, EntityType, NewChange, Operation, Revision, append_change, bump_version, changes, record,
    record_revision, revisions, update_versioned,
};
use serde_json::json;
use uuid::Uuid;

/// Writers in the concurrency tests.
const WRITERS: usize = 16;

/// A pool big enough for every concurrent writer plus a reader.
async fn pool(test: &TestDb) -> DatabaseConnection {
    parkgraph_persistence::connect(&test.url, 20).await.expect("connect a larger pool")
}

/// A figure at version 1 with value 0.
async fn figure(db: &DatabaseConnection) -> Uuid {
    let now = Utc::now();
    let row = figure::Model {
        id: Uuid::now_v7(),
        park_id: None,
        city: Some("武汉".into()),
        organization_id: None,
        indicator: "COUNTER".into(),
        name_zh: "计数".into(),
        name_en: None,
        value: 0.0,
        unit: "次".into(),
        qualifier: "EXACT".into(),
        source_name: None,
        source_url: None,
        as_of: None,
        as_of_precision: None,
        created_at: now,
        updated_at: now,
        version: 1,
        archived_at: None,
    };
    let id = row.id;
    row.into_active_model().insert(db).await.expect("insert a figure");
    id
}

/// A city designation at version 1, not yet written.
fn city_designation(name: &str) -> city_designation::Model {
    let now = Utc::now();
    city_designation::Model {
        id: Uuid::now_v7(),
        city: "武汉".into(),
        name_zh: name.into(),
        name_en: None,
        issuer: None,
        designated_on: None,
        designated_on_precision: None,
        source_name: None,
        source_url: None,
        as_of: None,
        as_of_precision: None,
        created_at: now,
        updated_at: now,
        version: 1,
        archived_at: None,
    }
}

fn revision_of(entity_type: EntityType, id: Uuid, version: i32, operation: Operation, actor: &str) -> Revision {
    Revision {
        entity_type,
        entity_id: id,
        version,
        operation,
        actor: actor.into(),
        at: Utc::now(),
        before: None,
        after: Some(json!({ "id": id, "version": version })),
    }
}

async fn figure_row(db: &DatabaseConnection, id: Uuid) -> figure::Model {
    figure::Entity::find_by_id(id).one(db).await.expect("read the figure").expect("the figure exists")
}

/// One writer's attempt: in one transaction, add 1 to the figure's value and bump its
/// version from `expected`, and record the revision.
async fn increment(db: &DatabaseConnection, id: Uuid, expected: i32, actor: &str) -> Result<i32, StoreError> {
    let txn = db.begin().await?;
    let version =
        update_versioned(&txn, EntityType::Figure, id, expected, Utc::now(), [("value", Expr::col("value").add(1.0))])
            .await?;
    // Hold the row a little, so that the others pile up behind it.
    tokio::time::sleep(Duration::from_millis(2)).await;
    record(&txn, &revision_of(EntityType::Figure, id, version, Operation::Update, actor)).await?;
    txn.commit().await?;
    Ok(version)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn stale_writers_get_the_current_version_and_change_nothing() {
    let test = TestDb::migrated().await;
    let db = pool(&test).await;
    let id = figure(&db).await;

    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { increment(&db, id, 1, &format!("writer-{i}")).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.expect("the task ends") {
            Ok(version) => {
                assert_eq!(version, 2);
                wins += 1;
            }
            Err(StoreError::StaleVersion { entity, id: stale_id, expected, current }) => {
                assert_eq!((entity, stale_id, expected, current), ("figure", id, 1, 2));
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(wins, 1, "exactly one writer wins from one read version");
    let row = figure_row(&db, id).await;
    assert_eq!((row.version, row.value), (2, 1.0));
    assert_eq!(revisions(&db, EntityType::Figure, id, None, 100).await.expect("revisions").len(), 1);
    assert_eq!(changes(&db, None, 100, None).await.expect("changes").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_retrying_writers_lose_no_update_and_apply_none_twice() {
    const EACH: usize = 5;
    let test = TestDb::migrated().await;
    let db = pool(&test).await;
    let id = figure(&db).await;

    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let actor = format!("writer-{i}");
                let (mut read, mut done, mut conflicts) = (1, 0, 0);
                while done < EACH {
                    match increment(&db, id, read, &actor).await {
                        Ok(version) => {
                            done += 1;
                            read = version;
                        }
                        Err(StoreError::StaleVersion { current, .. }) => {
                            assert!(current > read, "a conflict reports a newer version");
                            conflicts += 1;
                            read = current;
                        }
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                }
                conflicts
            })
        })
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.expect("the task ends");
    }
    let successes = WRITERS * EACH;
    let row = figure_row(&db, id).await;
    assert_eq!(row.version as usize, 1 + successes, "one version per success");
    assert_eq!(row.value as usize, successes, "every success applied exactly once");
    let history = revisions(&db, EntityType::Figure, id, None, 1000).await.expect("revisions");
    let versions: Vec<i32> = history.iter().map(|r| r.version).collect();
    assert_eq!(versions, (2..=(1 + successes as i32)).collect::<Vec<_>>());
    for i in 0..WRITERS {
        let actor = format!("writer-{i}");
        assert_eq!(history.iter().filter(|r| r.actor == actor).count(), EACH);
    }
    let feed = changes(&db, None, 1000, None).await.expect("changes");
    assert_eq!(feed.iter().map(|c| c.seq).collect::<Vec<_>>(), (1..=successes as i64).collect::<Vec<_>>());
    assert!(conflicts > 0, "the writers really competed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_feed_reader_under_concurrent_writers_never_sees_an_entry_behind_its_cursor() {
    const WRITERS: usize = 8;
    const EACH: usize = 12;
    let test = TestDb::migrated().await;
    let db = pool(&test).await;
    let done = Arc::new(AtomicBool::new(false));

    let reader = {
        let (db, done) = (db.clone(), done.clone());
        tokio::spawn(async move {
            let mut cursor = 0i64;
            let mut seen: Vec<Change> = Vec::new();
            loop {
                // Read `done` before the page: a page read after every writer finished is final.
                let finished = done.load(Ordering::SeqCst);
                let page = changes(&db, Some(cursor), 7, None).await.expect("read the feed");
                for entry in &page {
                    assert_eq!(entry.seq, cursor + 1, "the feed is contiguous after cursor {cursor}");
                    cursor = entry.seq;
                }
                let empty = page.is_empty();
                seen.extend(page);
                if empty {
                    if finished {
                        return seen;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        })
    };

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                let (mut committed, mut rolled_back) = (Vec::new(), Vec::new());
                for n in 0..EACH {
                    let record_row = city_designation(&format!("试点 {w}-{n}"));
                    let id = record_row.id;
                    let txn = db.begin().await.expect("begin");
                    record_row.into_active_model().insert(&txn).await.expect("insert the record");
                    tokio::time::sleep(Duration::from_millis(((w * 7 + n * 3) % 4) as u64)).await;
                    let seq =
                        record(&txn, &revision_of(EntityType::CityDesignation, id, 1, Operation::Create, "writer"))
                            .await
                            .expect("record the change");
                    assert!(seq > 0);
                    // Linger between taking the number and the end of the transaction: with a
                    // plain sequence, this is when a later number could commit first.
                    tokio::time::sleep(Duration::from_millis((n % 2) as u64)).await;
                    if (w + n) % 4 == 0 {
                        txn.rollback().await.expect("roll back");
                        rolled_back.push(id);
                    } else {
                        txn.commit().await.expect("commit");
                        committed.push(id);
                    }
                }
                (committed, rolled_back)
            })
        })
        .collect();
    let (mut committed, mut rolled_back) = (Vec::new(), Vec::new());
    for writer in writers {
        let (c, r) = writer.await.expect("the writer ends");
        committed.extend(c);
        rolled_back.extend(r);
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader.await.expect("the reader ends");

    assert!(!rolled_back.is_empty());
    let seqs: Vec<i64> = seen.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=committed.len() as i64).collect::<Vec<_>>(), "1..=committed, no gaps");
    let mut fed: Vec<Uuid> = seen.iter().map(|c| c.entity_id).collect();
    fed.sort();
    committed.sort();
    assert_eq!(fed, committed, "every committed change is in the feed once");
    for id in rolled_back {
        assert!(city_designation::Entity::find_by_id(id).one(&db).await.expect("read").is_none());
        assert!(revisions(&db, EntityType::CityDesignation, id, None, 10).await.expect("revisions").is_empty());
    }
    assert_eq!(
        revision::Entity::find().count(&db).await.expect("count revisions"),
        committed.len() as u64,
        "a revision for each committed change and none for a rolled-back one"
    );
}

#[tokio::test]
async fn a_rolled_back_command_leaves_no_revision_and_no_change_and_its_number_is_reused() {
    let test = TestDb::migrated().await;
    let db = &test.db;
    let id = figure(db).await;

    let txn = db.begin().await.expect("begin");
    let version = bump_version(&txn, EntityType::Figure, id, 1, Utc::now()).await.expect("bump");
    assert_eq!(version, 2);
    assert_eq!(record(&txn, &revision_of(EntityType::Figure, id, 2, Operation::Update, "a")).await.expect("record"), 1);
    txn.rollback().await.expect("roll back");
    assert_eq!(figure_row(db, id).await.version, 1);
    assert_eq!(revision::Entity::find().count(db).await.expect("count"), 0);
    assert_eq!(change::Entity::find().count(db).await.expect("count"), 0);

    let txn = db.begin().await.expect("begin");
    bump_version(&txn, EntityType::Figure, id, 1, Utc::now()).await.expect("bump");
    assert_eq!(record(&txn, &revision_of(EntityType::Figure, id, 2, Operation::Update, "b")).await.expect("record"), 1);
    txn.commit().await.expect("commit");
    let feed = changes(db, None, 10, None).await.expect("changes");
    assert_eq!(feed.len(), 1);
    assert_eq!((feed[0].seq, feed[0].actor.as_str(), feed[0].version), (1, "b", 2));
}

#[tokio::test]
async fn a_missing_record_is_not_found_and_a_duplicate_revision_is_a_conflict() {
    let test = TestDb::migrated().await;
    let db = &test.db;
    let missing = bump_version(db, EntityType::Park, Uuid::now_v7(), 1, Utc::now()).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");

    let id = figure(db).await;
    let revision = revision_of(EntityType::Figure, id, 1, Operation::Create, "a");
    record_revision(db, &revision).await.expect("first revision");
    let duplicate = record_revision(db, &revision).await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "{duplicate:?}");
}

#[tokio::test]
async fn the_feed_pages_from_a_cursor_filters_by_type_and_carries_tombstones() {
    let test = TestDb::migrated().await;
    let db = &test.db;
    let park = Uuid::now_v7();
    let link = Uuid::now_v7();
    let entries = [
        (EntityType::Park, park, 1, Operation::Create),
        (EntityType::EnterpriseLocation, link, 1, Operation::AddLink),
        (EntityType::Park, park, 2, Operation::Update),
        (EntityType::EnterpriseLocation, link, 2, Operation::EndLink),
        (EntityType::Park, park, 3, Operation::Archive),
    ];
    for (entity_type, id, version, operation) in entries {
        record(db, &revision_of(entity_type, id, version, operation, "editor")).await.expect("record");
    }

    let first = changes(db, None, 2, None).await.expect("first page");
    assert_eq!(first.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2]);
    let rest = changes(db, Some(2), 10, None).await.expect("next page");
    assert_eq!(rest.iter().map(|c| c.seq).collect::<Vec<_>>(), [3, 4, 5]);
    assert!(changes(db, Some(5), 10, None).await.expect("end").is_empty());

    let links = changes(db, None, 10, Some(&[EntityType::EnterpriseLocation])).await.expect("links only");
    assert_eq!(
        links.iter().map(|c| (c.seq, c.operation)).collect::<Vec<_>>(),
        [(2, Operation::AddLink), (4, Operation::EndLink)]
    );
    assert!(links[0].after.is_some());
    assert_eq!(links[1].after, None, "a link's end is a tombstone");
    let archived = &rest[2];
    assert_eq!((archived.operation, archived.after.clone()), (Operation::Archive, None));
    // The revision of an archive keeps the fields; only the feed entry is a tombstone.
    let history = revisions(db, EntityType::Park, park, Some(1), 10).await.expect("history");
    assert_eq!(history.iter().map(|r| r.version).collect::<Vec<_>>(), [2, 3]);
    assert!(history[1].after.is_some());

    // The feed entry can also be appended on its own, after its revision: it stores no
    // copy of the record and reads the revision's.
    let figure = revision_of(EntityType::Figure, Uuid::now_v7(), 1, Operation::Create, "x");
    record_revision(db, &figure).await.expect("the revision");
    let seq = append_change(db, &NewChange::from(&figure)).await.expect("append");
    assert_eq!(seq, 6);
    let stored = change::Entity::find_by_id(6).one(db).await.expect("read the entry").expect("the entry");
    assert_eq!(stored.after, None, "the entry holds no copy of the record");
    let entry = changes(db, Some(5), 10, None).await.expect("the entry");
    assert_eq!(entry[0].after, figure.after, "the feed gives the revision's state");
}

/// A writer that appends to the feed while another one holds a number waits for it to end,
/// then takes the next number, or the same one when the other rolled back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_later_writer_takes_its_number_only_after_the_earlier_one_ends() {
    let test = TestDb::migrated().await;
    let db = pool(&test).await;
    for (earlier_commits, expected) in [(false, 1), (true, 3)] {
        let first = db.begin().await.expect("begin");
        let taken = record(&first, &revision_of(EntityType::Figure, Uuid::now_v7(), 1, Operation::Create, "first"))
            .await
            .expect("the first writer takes a number");
        let later = {
            let db = db.clone();
            tokio::spawn(async move {
                let txn = db.begin().await.expect("begin");
                let seq = record(&txn, &revision_of(EntityType::Figure, Uuid::now_v7(), 1, Operation::Create, "later"))
                    .await
                    .expect("the later writer takes a number");
                txn.commit().await.expect("commit");
                seq
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!later.is_finished(), "the later writer waits while number {taken} is held");
        if earlier_commits {
            first.commit().await.expect("commit");
        } else {
            first.rollback().await.expect("roll back");
        }
        assert_eq!(later.await.expect("the later writer ends"), expected);
    }
    let seqs: Vec<i64> = changes(&db, None, 10, None).await.expect("changes").iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

/// Why the feed does not use a sequence: on PostgreSQL a sequence hands out numbers when
/// the statement runs, so a later number can commit first and a reader's cursor passes
/// an entry that then appears behind it. (SQLite serializes writers: nothing to show.)
#[tokio::test]
async fn with_a_plain_sequence_an_entry_would_appear_behind_the_cursor() {
    use parkgraph_persistence::sea_orm::{ConnectionTrait, Statement};
    let test = TestDb::migrated().await;
    if !test.is_postgres() {
        return;
    }
    let db = &test.db;
    let sql = |s: &str| Statement::from_string(db.get_database_backend(), s);
    db.execute_unprepared("CREATE SEQUENCE plain; CREATE TABLE plain_feed (seq bigint PRIMARY KEY)")
        .await
        .expect("a plain sequence");
    let a = db.begin().await.expect("begin");
    a.execute_unprepared("INSERT INTO plain_feed VALUES (nextval('plain'))").await.expect("a takes 1");
    let b = db.begin().await.expect("begin");
    b.execute_unprepared("INSERT INTO plain_feed VALUES (nextval('plain'))").await.expect("b takes 2");
    b.commit().await.expect("b commits first");
    let read = |after: i64| async move {
        db.query_all_raw(sql(&format!("SELECT seq FROM plain_feed WHERE seq > {after} ORDER BY seq")))
            .await
            .expect("read")
            .iter()
            .map(|row| row.try_get::<i64>("", "seq").expect("seq"))
            .collect::<Vec<_>>()
    };
    assert_eq!(read(0).await, [2], "the reader sees 2 and moves its cursor to 2");
    a.commit().await.expect("a commits");
    assert_eq!(read(0).await, [1, 2], "1 appeared behind the cursor: a reader after 2 never gets it");
}

#[tokio::test]
async fn archiving_and_restoring_bump_the_version_and_a_stale_archive_changes_nothing() {
    let test = TestDb::migrated().await;
    let db = &test.db;
    let id = figure(db).await;
    let at = Utc::now();
    assert_eq!(write::archive(db, EntityType::Figure, id, 1, at).await.expect("archive"), 2);
    let row = figure_row(db, id).await;
    assert_eq!(row.version, 2);
    assert!(row.archived_at.is_some());
    let stale = write::archive(db, EntityType::Figure, id, 1, Utc::now()).await;
    assert!(matches!(stale, Err(StoreError::StaleVersion { current: 2, .. })), "{stale:?}");
    assert_eq!(write::restore(db, EntityType::Figure, id, 2, Utc::now()).await.expect("restore"), 3);
    let row = figure_row(db, id).await;
    assert_eq!((row.version, row.archived_at), (3, None));
}
