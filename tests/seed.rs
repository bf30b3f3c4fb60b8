//! The Wuhan sample and the synthetic generator.

mod common;

use common::{TestDb, data};
use parkgraph_domain::Uscc;
use parkgraph_persistence::seed;
use serde_json::json;

#[tokio::test]
async fn the_sample_loads_every_kind_of_record() {
    let test = TestDb::migrated().await;
    let report = seed::sample::load(&test.db).await.expect("loads");
    assert!(report.parks >= 10 && report.organizations >= 30, "{report}");
    assert!(report.innovation_centers >= 13 && report.second_headquarters >= 10 && report.incubators >= 5, "{report}");
    assert!(report.designations >= 11 && report.memberships >= 5 && report.locations >= 5, "{report}");
}

#[tokio::test]
async fn the_sample_invents_no_credit_codes() {
    let test = TestDb::sample().await;
    let d = data(&test.schema(), "{ organizations(first: 100) { nodes { uscc } } }", json!({})).await;
    assert!(d["organizations"]["nodes"].as_array().expect("list").iter().all(|n| n["uscc"].is_null()));
}

#[tokio::test]
async fn seeding_a_database_that_holds_data_is_refused_and_changes_nothing() {
    let test = TestDb::sample().await;
    let before = data(&test.schema(), "{ organizations { totalCount } }", json!({})).await;
    let err = seed::sample::load(&test.db).await.expect_err("second load refused");
    assert!(err.to_string().contains("empty database"), "{err}");
    let err = seed::synthetic::load(&test.db, 10).await.expect_err("synthetic refused too");
    assert!(err.to_string().contains("empty database"), "{err}");
    let after = data(&test.schema(), "{ organizations { totalCount } }", json!({})).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn synthetic_data_is_deterministic_and_its_credit_codes_are_valid() {
    let query = "{ enterprises(first: 50, orderBy: { field: CREATED_AT }) { totalCount nodes { databaseId uscc nameEn } } parks(first: 5) { nodes { databaseId } } }";
    let mut runs = Vec::new();
    for _ in 0..2 {
        let test = TestDb::migrated().await;
        let report = seed::synthetic::load(&test.db, 500).await.expect("loads");
        assert_eq!(report.organizations, 500 + seed::synthetic::Shape::for_enterprises(500).institutions);
        runs.push(data(&test.schema(), query, json!({})).await);
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0]["enterprises"]["totalCount"], 500);
    for node in runs[0]["enterprises"]["nodes"].as_array().expect("list") {
        let code = node["uscc"].as_str().expect("synthetic enterprises have a USCC");
        assert!(Uscc::parse(code).is_ok(), "{code}");
        assert!(node["nameEn"].as_str().is_some_and(|n| n.starts_with("Synthetic")));
    }
}
