//! Nested link lists (a park's enterprises, a center's members, a firm's parks …) are
//! paged in SQL by key: a page reads only its own rows whatever the list's length, its
//! cursors name links rather than positions, so pages do not shift when a link before
//! the cursor ends, and an old position cursor is refused with a clear error. Runs on
//! SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use std::collections::HashSet;

use base64::Engine;
use common::{TestDb, codes, run};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::Role;
use parkgraph_persistence::sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const PAGE: &str = r#"query($park: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  park(id: $park) {
    enterprises(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor linkId version node { id } }
    }
  }
}"#;

async fn page(schema: &ParkGraphSchema, vars: Value) -> Value {
    let response = run(schema, PAGE, vars).await;
    assert!(response.get("errors").is_none(), "{response:#}");
    response["data"]["park"]["enterprises"].clone()
}

fn link_ids(page: &Value) -> Vec<String> {
    page["edges"].as_array().expect("edges").iter().map(|e| e["linkId"].as_str().expect("id").to_owned()).collect()
}

/// The park with the most enterprise locations, its id and how many (counted in SQL).
async fn busiest_park(test: &TestDb) -> (String, u64) {
    let row = test
        .db
        .query_one_raw(Statement::from_string(
            test.db.get_database_backend(),
            "SELECT park_id, COUNT(*) AS n FROM enterprise_location WHERE archived_at IS NULL \
             GROUP BY park_id ORDER BY n DESC LIMIT 1",
        ))
        .await
        .expect("count")
        .expect("a park with enterprises");
    let park: uuid::Uuid = row.try_get_by_index(0).expect("park id");
    let n: i64 = row.try_get_by_index(1).expect("count");
    let id = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Park, park).0;
    (id, n as u64)
}

#[tokio::test]
async fn a_parks_enterprises_page_forward_and_back_by_key_and_agree_with_the_count() {
    let test = TestDb::migrated().await;
    parkgraph_persistence::seed::synthetic::load(&test.db, 2_000).await.expect("synthetic data loads");
    let schema = test.schema();
    let (park, n) = busiest_park(&test).await;
    assert!(n > 30, "the busiest park has {n} enterprises");

    // Forward, seven at a time.
    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let p = page(&schema, json!({ "park": park, "first": 7, "after": after })).await;
        assert_eq!(p["totalCount"], n);
        assert_eq!(p["pageInfo"]["hasPreviousPage"], !after.is_null());
        let ids = link_ids(&p);
        assert!(ids.len() <= 7);
        forward.extend(ids);
        if p["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward.len() as u64, n, "every location once");
    assert_eq!(forward.iter().collect::<HashSet<_>>().len(), forward.len(), "no location twice");

    // Backward, five at a time, gives the same list.
    let mut backward: Vec<String> = Vec::new();
    let mut before = Value::Null;
    loop {
        let p = page(&schema, json!({ "park": park, "last": 5, "before": before })).await;
        let mut ids = link_ids(&p);
        ids.extend(backward);
        backward = ids;
        if p["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = p["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, forward);

    // A page between two cursors.
    let first = page(&schema, json!({ "park": park, "first": 10 })).await;
    let edges = first["edges"].as_array().expect("edges");
    let between =
        page(&schema, json!({ "park": park, "first": 100, "after": edges[2]["cursor"], "before": edges[6]["cursor"] }))
            .await;
    assert_eq!(link_ids(&between), forward[3..6].to_vec());
    assert_eq!(between["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn pages_do_not_shift_when_a_link_before_the_cursor_ends_and_position_cursors_are_refused() {
    let test = TestDb::migrated().await;
    parkgraph_persistence::seed::synthetic::load(&test.db, 2_000).await.expect("synthetic data loads");
    let schema = test.schema();
    let (park, _) = busiest_park(&test).await;
    let whole = page(&schema, json!({ "park": park, "first": 20 })).await;
    let all = link_ids(&whole);
    let first = page(&schema, json!({ "park": park, "first": 5 })).await;
    assert_eq!(link_ids(&first), all[..5].to_vec());

    // An editor ends the second location on the first page.
    let editor = Caller {
        role: Role::Editor,
        scopes: Role::Editor.allowed_scopes(),
        subject: "editor:wang".into(),
        jti: None,
        partner_id: None,
    };
    let second = &whole["edges"][1];
    let end = "mutation($input: EndEnterpriseLocationInput!) { endEnterpriseLocation(input: $input) { userErrors { message } } }";
    let request = async_graphql::Request::new(end).variables(async_graphql::Variables::from_json(
        json!({ "input": { "id": second["linkId"], "version": second["version"] } }),
    ));
    let ended = serde_json::to_value(parkgraph_api::execute_as(&schema, request, editor).await).expect("json");
    assert_eq!(ended["data"]["endEnterpriseLocation"]["userErrors"], json!([]), "{ended:#}");

    // The next page starts right after the cursor: the sixth location, as before.
    let next = page(&schema, json!({ "park": park, "first": 5, "after": first["pageInfo"]["endCursor"] })).await;
    assert_eq!(link_ids(&next), all[5..10].to_vec());
    let fresh = page(&schema, json!({ "park": park, "first": 5 })).await;
    assert!(!link_ids(&fresh).contains(&all[1]), "the ended location left the list");

    // A cursor from when nested lists were paged by position.
    let old = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("cursor:4");
    let refused = run(&schema, PAGE, json!({ "park": park, "first": 5, "after": old })).await;
    assert_eq!(codes(&refused), vec!["BAD_USER_INPUT".to_string()]);
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("position cursor") && message.contains("first page"), "{message}");
}

#[tokio::test]
async fn a_long_root_list_is_estimated_by_the_planner_on_postgresql_and_short_lists_are_counted() {
    let test = TestDb::migrated().await;
    parkgraph_persistence::seed::synthetic::load(&test.db, 2_000).await.expect("synthetic data loads");
    if test.is_postgres() {
        test.db.execute_unprepared("ANALYZE").await.expect("analyze");
    }
    let limits = parkgraph_api::Limits { exact_count_below: 500, ..Default::default() };
    let schema = parkgraph_api::schema(test.db.clone(), limits);
    let (park, in_park) = busiest_park(&test).await;
    let query = r#"query($park: ID!) {
      organizations(first: 1) { totalCount totalCountEstimate { count exact } }
      parks(first: 1) { totalCount totalCountEstimate { count exact } }
      park(id: $park) { enterprises(first: 1) { totalCountEstimate { count exact } } }
    }"#;
    let response = run(&schema, query, json!({ "park": park })).await;
    assert!(response.get("errors").is_none(), "{response:#}");
    let data = &response["data"];
    let organizations = data["organizations"]["totalCount"].as_u64().expect("a count");
    assert!(organizations >= 2_000, "{data:#}");
    let estimate = &data["organizations"]["totalCountEstimate"];
    if test.is_postgres() {
        // Planned from ANALYZE's statistics: near the count, and said to be an estimate.
        assert_eq!(estimate["exact"], false, "{data:#}");
        let planned = estimate["count"].as_u64().expect("an estimate");
        assert!(planned * 2 > organizations && planned < organizations * 2, "{planned} against {organizations}");
    } else {
        assert_eq!(estimate, &json!({ "count": organizations, "exact": true }), "SQLite counts");
    }
    // Below the threshold, and link lists: counted.
    let parks = data["parks"]["totalCount"].as_u64().expect("a count");
    assert!(parks < 500, "{data:#}");
    assert_eq!(data["parks"]["totalCountEstimate"], json!({ "count": parks, "exact": true }));
    assert_eq!(data["park"]["enterprises"]["totalCountEstimate"], json!({ "count": in_park, "exact": true }));
}
