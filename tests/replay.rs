//! Replaying the change feed reproduces the registry: the sample (seeded through the
//! write path) plus a series of registry commands, read from the start of the feed and
//! applied to a fresh empty store, gives the same rows in all twelve versioned tables,
//! every column compared (version and `archived_at` included). Also: applying is
//! idempotent and never goes back a version, a mirror that applies the feed alone
//! (tombstones without state, as partners read them) ends with the same registry, and a
//! replay resumes from a cursor. Runs on SQLite, and on PostgreSQL with
//! `TEST_DATABASE_URL`.

mod common;

use common::TestDb;
use parkgraph_domain::validation::{OrganizationDraft, OrganizationPatch, ParkDraft, ParkPatch, Patch};
use parkgraph_domain::{OrganizationKind, OrganizationStatus, ParkKind, PartialDate};
use parkgraph_persistence::entity::{
    city_designation, designation, enterprise_location, figure, incubation, incubator, innovation_center,
    innovation_center_membership, organization, park, park_designation, second_headquarters,
};
use parkgraph_persistence::replay::{self, Applied};
use parkgraph_persistence::sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use parkgraph_persistence::{seed, write};
use parkgraph_registry::{Actor, Registry};
use uuid::Uuid;

/// Asserts that two stores hold the same rows in every versioned table, and that the
/// source holds at least `min_rows` rows in all (so the comparison compares something).
async fn assert_same_registry(expected: &DatabaseConnection, actual: &DatabaseConnection, min_rows: usize) {
    let mut compared = 0;
    macro_rules! same_table {
        ($($module:ident),* $(,)?) => {
            $(
                let want = $module::Entity::find().order_by_asc($module::Column::Id).all(expected).await.expect("read the source");
                let got = $module::Entity::find().order_by_asc($module::Column::Id).all(actual).await.expect("read the replica");
                compared += want.len();
                assert_eq!(got.len(), want.len(), "{}: row count", stringify!($module));
                for (w, g) in want.iter().zip(&got) {
                    assert_eq!(g, w, "{}: row {}", stringify!($module), w.id);
                }
            )*
        };
    }
    same_table!(
        park,
        park_designation,
        organization,
        designation,
        enterprise_location,
        incubator,
        incubation,
        second_headquarters,
        innovation_center,
        innovation_center_membership,
        figure,
        city_designation,
    );
    assert!(compared >= min_rows, "only {compared} rows compared");
}

fn date(text: &str) -> PartialDate {
    text.parse().expect("a date")
}

/// The sample, then organizations and parks created, corrected, moved, archived and
/// restored through the registry service. Returns the ids of the records it archived
/// and left archived.
async fn sample_with_history(test: &TestDb) -> Vec<Uuid> {
    let registry = Registry::new(test.db.clone());
    let editor = Actor::new("editor:wang");

    // An organization: created, corrected twice, archived, restored.
    let mut draft = OrganizationDraft::new(OrganizationKind::Enterprise, "斗鱼", OrganizationStatus::Active);
    draft.founded_on = Some(date("2014"));
    draft.headcount = Some(2000);
    draft.staff_notes = Some("internal note".into());
    let org = registry.create_organization(&editor, draft).await.expect("create");
    let patch = OrganizationPatch { headcount: Patch::Set(2500), ..Default::default() };
    let org = registry.update_organization(&editor, org.id, org.version, patch).await.expect("first correction");
    let patch = OrganizationPatch {
        name_en: Patch::Set("DouYu".into()),
        founded_on: Patch::Set(date("2014-01")),
        website: Patch::Set("https://www.douyu.com".into()),
        ..Default::default()
    };
    let org = registry.update_organization(&editor, org.id, org.version, patch).await.expect("second correction");
    let org = registry.archive_organization(&editor, org.id, org.version).await.expect("archive");
    let org = registry.restore_organization(&editor, org.id, org.version).await.expect("restore");
    assert_eq!(org.version, 5);

    // A sample organization archived and left archived: a tombstone at the feed's end.
    let sampled = organization::Entity::find()
        .order_by_asc(organization::Column::Id)
        .one(&test.db)
        .await
        .expect("read")
        .expect("the sample has organizations");
    let sampled = registry.archive_organization(&editor, sampled.id, sampled.version).await.expect("archive");

    // Parks: one created under a sample zone with coordinates, then moved to another zone
    // and corrected; one created and archived.
    let zones = park::Entity::find()
        .filter(park::Column::ParentId.is_null())
        .order_by_asc(park::Column::Id)
        .all(&test.db)
        .await
        .expect("read zones");
    assert!(zones.len() >= 2, "the sample has two zones or more");
    let mut draft = ParkDraft::new(ParkKind::SciencePark, "光谷测试园");
    draft.parent_id = Some(zones[0].id);
    draft.latitude = Some(30.508_419_123_456_78);
    draft.longitude = Some(114.405_871_987_654_32);
    draft.area_km2 = Some(0.1 + 0.2);
    draft.established_on = Some(date("2020-05"));
    let moved = registry.create_park(&editor, draft).await.expect("create a park");
    let patch = ParkPatch { parent_id: Patch::Set(zones[1].id), ..Default::default() };
    let moved = registry.update_park(&editor, moved.id, moved.version, patch).await.expect("move the park");
    let patch = ParkPatch { name_en: Patch::Set("Optics Valley Test Park".into()), ..Default::default() };
    let moved = registry.update_park(&editor, moved.id, moved.version, patch).await.expect("correct the park");
    assert_eq!((moved.version, moved.parent_id), (3, Some(zones[1].id)));
    let gone = registry.create_park(&editor, ParkDraft::new(ParkKind::IndustrialPark, "临时园")).await.expect("create");
    let gone = registry.archive_park(&editor, gone.id, gone.version).await.expect("archive a park");
    vec![sampled.id, gone.id]
}

#[tokio::test]
async fn replaying_the_feed_from_the_start_into_an_empty_store_reproduces_the_registry() {
    let source = TestDb::sample().await;
    let archived = sample_with_history(&source).await;
    let target = TestDb::migrated().await;

    let report = replay::replay(&source.db, &target.db, None, 100).await.expect("replay");
    let feed = write::changes(&source.db, None, 1_000_000, None).await.expect("the feed");
    assert_eq!(report.entries, feed.len() as u64);
    assert_eq!(report.written, report.entries, "every entry changes an empty store");
    assert_eq!(report.last_seq, feed.last().map(|c| c.seq));
    assert_same_registry(&source.db, &target.db, 100).await;

    let replica = organization::Entity::find_by_id(archived[0]).one(&target.db).await.expect("read").expect("replayed");
    assert!(replica.archived_at.is_some() && replica.version == 2, "{replica:?}");
    let replica = park::Entity::find_by_id(archived[1]).one(&target.db).await.expect("read").expect("replayed");
    assert!(replica.archived_at.is_some() && replica.version == 2, "{replica:?}");

    // Replaying again changes nothing: every row is already at its entry's version.
    let again = replay::replay(&source.db, &target.db, None, 100).await.expect("replay again");
    assert_eq!((again.entries, again.written), (report.entries, 0));
    assert_same_registry(&source.db, &target.db, 100).await;
}

#[tokio::test]
async fn a_mirror_applying_the_feed_alone_with_tombstones_ends_with_the_same_registry() {
    let source = TestDb::sample().await;
    sample_with_history(&source).await;
    let target = TestDb::migrated().await;

    // What a partner reads: tombstones carry no state.
    let feed = write::changes(&source.db, None, 1_000_000, None).await.expect("the feed");
    let tombstones = feed.iter().filter(|c| c.operation.is_tombstone()).count();
    assert!(tombstones >= 3, "the series archives three records");
    assert!(feed.iter().filter(|c| c.operation.is_tombstone()).all(|c| c.after.is_none()));
    for change in &feed {
        assert_eq!(replay::apply(&target.db, change).await.expect("apply"), Applied::Written, "entry {}", change.seq);
    }
    assert_same_registry(&source.db, &target.db, 100).await;
}

#[tokio::test]
async fn an_older_entry_never_overwrites_a_newer_version_and_a_tombstone_needs_its_record() {
    let source = TestDb::sample().await;
    sample_with_history(&source).await;
    let target = TestDb::migrated().await;
    replay::replay(&source.db, &target.db, None, 500).await.expect("replay");

    // Every entry applied again, newest first: each finds its record at a later or the
    // same version and changes nothing.
    let mut feed = replay::read(&source.db, None, 1_000_000).await.expect("the feed with states");
    feed.reverse();
    for change in &feed {
        assert_eq!(replay::apply(&target.db, change).await.expect("apply"), Applied::AlreadyCurrent, "{}", change.seq);
    }
    assert_same_registry(&source.db, &target.db, 100).await;

    // A tombstone for a record the mirror never saw is an error, not a silent skip.
    let empty = TestDb::migrated().await;
    let mut tombstone = feed.iter().find(|c| c.operation.is_tombstone()).expect("a tombstone").clone();
    tombstone.after = None;
    let err = replay::apply(&empty.db, &tombstone).await.expect_err("no record to archive");
    assert!(err.to_string().contains("never created"), "{err}");

    // An entry whose state names another record or version is refused.
    let mut wrong = feed.iter().find(|c| c.after.is_some()).expect("an entry with state").clone();
    wrong.version += 1;
    let err = replay::apply(&empty.db, &wrong).await.expect_err("state and entry disagree");
    assert!(err.to_string().contains("the entry says"), "{err}");
}

#[tokio::test]
async fn a_synthetic_registry_replays_in_pages_and_resumes_from_a_cursor() {
    let source = TestDb::migrated().await;
    seed::synthetic::load(&source.db, 300).await.expect("seed");
    let target = TestDb::migrated().await;

    let feed = write::changes(&source.db, None, 1_000_000, None).await.expect("the feed");
    let middle = feed[feed.len() / 2].seq;
    let whole = replay::replay(&source.db, &target.db, None, 1_000_000).await.expect("replay in one page");
    assert_eq!(whole.entries as usize, feed.len());
    // A second store stops half way, then resumes from its cursor in small pages.
    let resumed = TestDb::migrated().await;
    let first_half = replay::read(&source.db, None, middle as u64).await.expect("first half");
    for change in &first_half {
        replay::apply(&resumed.db, change).await.expect("apply");
    }
    let rest = replay::replay(&source.db, &resumed.db, Some(middle), 97).await.expect("resume");
    assert_eq!(rest.entries as usize, feed.len() - first_half.len());
    assert_eq!(rest.last_seq, feed.last().map(|c| c.seq));
    for db in [&target.db, &resumed.db] {
        // Synthetic data has no figures or city designations.
        assert_same_registry_without_figures(&source.db, db).await;
    }
}

/// The synthetic registry has no figures, city designations or park designations: every
/// other table is compared and must be non-empty.
async fn assert_same_registry_without_figures(expected: &DatabaseConnection, actual: &impl ConnectionTrait) {
    macro_rules! same_table {
        ($($module:ident),* $(,)?) => {
            $(
                let want = $module::Entity::find().order_by_asc($module::Column::Id).all(expected).await.expect("read");
                let got = $module::Entity::find().order_by_asc($module::Column::Id).all(actual).await.expect("read");
                assert!(!want.is_empty(), "{}: empty", stringify!($module));
                assert_eq!(got, want, "{}", stringify!($module));
            )*
        };
    }
    same_table!(
        park,
        organization,
        designation,
        enterprise_location,
        incubator,
        incubation,
        second_headquarters,
        innovation_center,
        innovation_center_membership,
    );
}
