//! Changing designations and figures through GraphQL: an editor adds a 2018 unicorn to an
//! Optics Valley enterprise (and "Optics Valley's unicorns in 2018" then counts it),
//! corrects and ends it; adds, corrects and ends park and city designations; creates,
//! corrects, archives and restores a figure. Every change leaves a revision and a feed
//! entry, in order, ends and archives as tombstones; invalid input, stale versions,
//! duplicates and archived endpoints are user errors that change nothing; an analyst is
//! refused. Runs on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use chrono::Datelike;
use common::{TestDb, codes, data, run};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::Role;
use parkgraph_persistence::entity::{city_designation, designation, figure, park_designation, revision};
use parkgraph_persistence::sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use parkgraph_persistence::write::{self, EntityType, Operation};
use serde_json::{Value, json};
use uuid::Uuid;

const DESIGNATION: &str = "designation { id databaseId version kind year valuationUsd note enterprise { nameZh } }";
const PARK_DESIGNATION: &str = "parkDesignation { databaseId version nameZh nameEn designatedDate { text } }";
const CITY_DESIGNATION: &str = "cityDesignation { databaseId version nameZh issuer designatedDate { text } }";
const FIGURE: &str = "figure { databaseId version indicator value unit qualifier city park { nameZh } }";

fn caller(role: Role, subject: &str) -> Caller {
    Caller { role, scopes: role.allowed_scopes(), subject: subject.into(), jti: None, partner_id: None }
}

fn editor() -> Caller {
    caller(Role::Editor, "editor:wang")
}

async fn run_as(schema: &ParkGraphSchema, who: Caller, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    let response = parkgraph_api::execute_as(schema, request, who).await;
    serde_json::to_value(&response).expect("response serializes")
}

fn mutation(name: &str, fields: &str) -> String {
    let kind = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    format!("mutation($input: {kind}!) {{ {name}(input: $input) {{ {fields} userErrors {{ field message code }} }} }}")
}

/// Runs one mutation as an editor, selecting `fields`, and returns its payload (no
/// top-level errors).
async fn mutate(schema: &ParkGraphSchema, name: &str, fields: &str, input: Value) -> Value {
    let response = run_as(schema, editor(), &mutation(name, fields), json!({ "input": input })).await;
    assert!(response.get("errors").is_none(), "unexpected top-level errors: {response:#}");
    response["data"][name].clone()
}

/// The (field path joined by '.', code) of each user error.
fn user_errors(payload: &Value) -> Vec<(String, String)> {
    payload["userErrors"]
        .as_array()
        .expect("userErrors is a list")
        .iter()
        .map(|e| {
            let path: Vec<&str> = e["field"].as_array().expect("field").iter().filter_map(Value::as_str).collect();
            (path.join("."), e["code"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn error(field: &str, code: &str) -> (String, String) {
    (field.to_string(), code.to_string())
}

/// Rows of the four tables, revisions and feed entries stored.
async fn counts(db: &DatabaseConnection) -> [u64; 6] {
    [
        designation::Entity::find().count(db).await.expect("count designations"),
        park_designation::Entity::find().count(db).await.expect("count park designations"),
        city_designation::Entity::find().count(db).await.expect("count city designations"),
        figure::Entity::find().count(db).await.expect("count figures"),
        revision::Entity::find().count(db).await.expect("count revisions"),
        write::changes(db, None, 100_000, None).await.expect("read the feed").len() as u64,
    ]
}

/// The last seq of the feed so far.
async fn feed_end(db: &DatabaseConnection) -> Option<i64> {
    write::changes(db, None, 100_000, None).await.expect("feed").last().map(|c| c.seq)
}

/// The feed after `after`: (type, id, version, operation, has `after`).
async fn feed_since(db: &DatabaseConnection, after: Option<i64>) -> Vec<(EntityType, Uuid, i32, Operation, bool)> {
    write::changes(db, after, 1000, None)
        .await
        .expect("feed")
        .into_iter()
        .map(|c| (c.entity_type, c.entity_id, c.version, c.operation, c.after.is_some()))
        .collect()
}

/// The global id of the sample organization whose name contains `name`.
async fn organization(schema: &ParkGraphSchema, name: &str) -> String {
    let d = data(
        schema,
        "query($name: String!) { organizations(filter: { nameContains: $name }) { nodes { id } } }",
        json!({ "name": name }),
    )
    .await;
    d["organizations"]["nodes"][0]["id"].as_str().unwrap_or_else(|| panic!("{name} is in the sample")).to_string()
}

/// The global id of the sample's top park, 东湖 (Optics Valley).
async fn donghu(schema: &ParkGraphSchema) -> String {
    let d = data(
        schema,
        r#"{ parks(filter: { topLevel: true, nameContains: "东湖新技术" }) { nodes { id } } }"#,
        json!({}),
    )
    .await;
    d["parks"]["nodes"][0]["id"].as_str().expect("东湖 is in the sample").to_string()
}

fn uuid_of(object: &Value) -> Uuid {
    object["databaseId"].as_str().expect("databaseId").parse().expect("uuid")
}

/// The enterprises among Optics Valley's unicorns of 2018.
async fn optics_valley_unicorns_2018(schema: &ParkGraphSchema, park: &str) -> Vec<String> {
    let d = data(
        schema,
        "query($park: ID!) { unicorns(filter: { year: 2018, park: { parkId: $park } }, first: 50) \
         { totalCount nodes { enterprise { nameZh } } } }",
        json!({ "park": park }),
    )
    .await;
    let names: Vec<String> = d["unicorns"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["enterprise"]["nameZh"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(d["unicorns"]["totalCount"].as_u64(), Some(names.len() as u64));
    names
}

#[tokio::test]
async fn an_editor_adds_corrects_and_ends_a_unicorn_that_optics_valley_counts_with_history_and_feed_in_order() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = donghu(&schema).await;
    let zhibo = organization(&schema, "直播优选").await;
    let feed_start = feed_end(&test.db).await;

    let before_add = optics_valley_unicorns_2018(&schema, &zone).await;
    assert_eq!(before_add.len(), 5, "the sample's 2018 list: {before_add:?}");
    assert!(!before_add.iter().any(|n| n.contains("直播优选")));

    let added = mutate(
        &schema,
        "addDesignation",
        DESIGNATION,
        json!({
            "organizationId": zhibo, "kind": "UNICORN", "year": 2018, "valuationUsd": 1.2e9,
            "note": "  test entry ", "sourceName": "2018 list", "sourceUrl": "https://example.cn/unicorns-2018",
            "asOf": "2019-05",
        }),
    )
    .await;
    assert_eq!(user_errors(&added), []);
    let d = &added["designation"];
    assert_eq!((d["version"].as_i64(), d["kind"].as_str(), d["year"].as_i64()), (Some(1), Some("UNICORN"), Some(2018)));
    assert_eq!((d["valuationUsd"].as_f64(), d["note"].as_str()), (Some(1.2e9), Some("test entry")));
    assert!(d["enterprise"]["nameZh"].as_str().expect("name").contains("直播优选"));
    let id = d["id"].as_str().expect("id").to_string();
    let uuid = uuid_of(d);

    // "Optics Valley's unicorns in 2018" now counts it.
    let after_add = optics_valley_unicorns_2018(&schema, &zone).await;
    assert_eq!(after_add.len(), 6, "{after_add:?}");
    assert!(after_add.iter().any(|n| n.contains("直播优选")), "{after_add:?}");

    let corrected = mutate(
        &schema,
        "updateDesignation",
        DESIGNATION,
        json!({ "id": id, "version": 1, "valuationUsd": 1.5e9, "note": null }),
    )
    .await;
    assert_eq!(user_errors(&corrected), []);
    assert_eq!(corrected["designation"]["version"], 2);
    assert_eq!(
        (corrected["designation"]["valuationUsd"].as_f64(), &corrected["designation"]["note"]),
        (Some(1.5e9), &Value::Null)
    );

    // Refusals change nothing: a stale version, bad values, a duplicate, a university.
    let before = counts(&test.db).await;
    let stale =
        mutate(&schema, "updateDesignation", DESIGNATION, json!({ "id": id, "version": 1, "year": 2017 })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    assert!(stale["userErrors"][0]["message"].as_str().expect("message").contains("version 2"), "{stale:#}");
    assert_eq!(stale["designation"], Value::Null);
    let next_year = chrono::Utc::now().year() + 1;
    let invalid = mutate(
        &schema,
        "addDesignation",
        DESIGNATION,
        json!({ "organizationId": zhibo, "kind": "GAZELLE", "year": next_year, "valuationUsd": -1.0 }),
    )
    .await;
    assert_eq!(user_errors(&invalid), [error("year", "OUT_OF_RANGE"), error("valuationUsd", "OUT_OF_RANGE")]);
    let douyu = organization(&schema, "斗鱼").await;
    let duplicate = mutate(
        &schema,
        "addDesignation",
        DESIGNATION,
        json!({ "organizationId": douyu, "kind": "UNICORN", "year": 2017 }),
    )
    .await;
    assert_eq!(user_errors(&duplicate), [error("year", "DUPLICATE")], "{duplicate:#}");
    assert!(duplicate["userErrors"][0]["message"].as_str().expect("message").contains("UNICORN designation for 2017"));
    let again = mutate(
        &schema,
        "addDesignation",
        DESIGNATION,
        json!({ "organizationId": zhibo, "kind": "UNICORN", "year": 2018 }),
    )
    .await;
    assert_eq!(user_errors(&again), [error("year", "DUPLICATE")]);
    let moved_onto_duplicate =
        mutate(&schema, "updateDesignation", DESIGNATION, json!({ "id": id, "version": 2, "organizationId": douyu }))
            .await;
    assert_eq!(user_errors(&moved_onto_duplicate), [error("year", "DUPLICATE")]);
    let hust = organization(&schema, "华中科技大学").await;
    let university = mutate(
        &schema,
        "addDesignation",
        DESIGNATION,
        json!({ "organizationId": hust, "kind": "GAZELLE", "year": 2020 }),
    )
    .await;
    assert_eq!(user_errors(&university), [error("organizationId", "WRONG_KIND")]);
    assert_eq!(counts(&test.db).await, before, "refused commands write nothing");

    // End it: it leaves the 2018 list; ending twice is refused; a new 2018 one may be added.
    let ended = mutate(&schema, "endDesignation", DESIGNATION, json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&ended), []);
    assert_eq!(ended["designation"]["version"], 3);
    let row = designation::Entity::find_by_id(uuid).one(&test.db).await.expect("read").expect("row");
    assert!(row.archived_at.is_some(), "an ended designation is archived");
    let twice = mutate(&schema, "endDesignation", DESIGNATION, json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&twice), [error("id", "INCONSISTENT")]);
    let readded = mutate(
        &schema,
        "addDesignation",
        DESIGNATION,
        json!({ "organizationId": zhibo, "kind": "UNICORN", "year": 2018 }),
    )
    .await;
    assert_eq!(user_errors(&readded), [], "an ended designation no longer counts as held");
    let readded_uuid = uuid_of(&readded["designation"]);

    // History, through GraphQL, oldest first.
    let history = run_as(
        &schema,
        editor(),
        "query($id: ID!) { node(id: $id) { ... on Designation { version history(first: 20) { nodes { version operation actor } } } } }",
        json!({ "id": id }),
    )
    .await;
    assert!(history.get("errors").is_none(), "{history:#}");
    assert_eq!(history["data"]["node"]["version"], 3);
    let steps: Vec<(i64, String)> = history["data"]["node"]["history"]["nodes"]
        .as_array()
        .expect("history")
        .iter()
        .map(|n| (n["version"].as_i64().unwrap_or_default(), n["operation"].as_str().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(steps, [(1, "ADD_LINK".to_string()), (2, "UPDATE_LINK".to_string()), (3, "END_LINK".to_string())]);

    // The feed: every change, in order; the end is a tombstone.
    assert_eq!(
        feed_since(&test.db, feed_start).await,
        [
            (EntityType::Designation, uuid, 1, Operation::AddLink, true),
            (EntityType::Designation, uuid, 2, Operation::UpdateLink, true),
            (EntityType::Designation, uuid, 3, Operation::EndLink, false),
            (EntityType::Designation, readded_uuid, 1, Operation::AddLink, true),
        ]
    );

    // And through `changes`, as a partner reads it.
    let page = run_as(
        &schema,
        editor(),
        "{ changes(types: [DESIGNATION], first: 100) { nodes { entityId version operation tombstone after actor } } }",
        json!({}),
    )
    .await;
    assert!(page.get("errors").is_none(), "{page:#}");
    let nodes = page["data"]["changes"]["nodes"].as_array().expect("nodes");
    let end = nodes.iter().find(|n| n["entityId"] == id.as_str() && n["operation"] == "END_LINK").expect("the end");
    assert_eq!((&end["version"], &end["tombstone"], &end["after"]), (&json!(3), &json!(true), &Value::Null));
    assert_eq!(end["actor"], "editor:wang");
}

#[tokio::test]
async fn a_designation_of_an_archived_or_missing_organization_is_refused_and_nothing_is_written() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let created = mutate(
        &schema,
        "createOrganization",
        "organization { id }",
        json!({ "kind": "ENTERPRISE", "nameZh": "光谷归档科技", "status": "ACTIVE" }),
    )
    .await;
    let org = created["organization"]["id"].as_str().expect("id").to_string();
    let archived =
        mutate(&schema, "archiveOrganization", "organization { version }", json!({ "id": org, "version": 1 })).await;
    assert_eq!(user_errors(&archived), []);

    let before = counts(&test.db).await;
    let refused = mutate(
        &schema,
        "addDesignation",
        DESIGNATION,
        json!({ "organizationId": org, "kind": "GAZELLE", "year": 2021 }),
    )
    .await;
    assert_eq!(user_errors(&refused), [error("organizationId", "NOT_FOUND")], "{refused:#}");
    assert_eq!(refused["designation"], Value::Null);
    let missing = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Organization, Uuid::now_v7());
    let refused = mutate(
        &schema,
        "addDesignation",
        DESIGNATION,
        json!({ "organizationId": missing, "kind": "GAZELLE", "year": 2021 }),
    )
    .await;
    assert_eq!(user_errors(&refused), [error("organizationId", "NOT_FOUND")]);
    let unknown = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Designation, Uuid::now_v7());
    let refused = mutate(&schema, "endDesignation", DESIGNATION, json!({ "id": unknown, "version": 1 })).await;
    assert_eq!(user_errors(&refused), [error("id", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before);
}

#[tokio::test]
async fn an_analyst_cannot_change_designations_or_figures_and_nothing_is_written() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = donghu(&schema).await;
    let zhibo = organization(&schema, "直播优选").await;
    let before = counts(&test.db).await;
    let analyst = || caller(Role::Analyst, "analyst:li");
    let attempts = [
        ("addDesignation", DESIGNATION, json!({ "organizationId": zhibo, "kind": "UNICORN", "year": 2018 })),
        ("addParkDesignation", PARK_DESIGNATION, json!({ "parkId": zone, "nameZh": "分析基地" })),
        ("addCityDesignation", CITY_DESIGNATION, json!({ "city": "武汉", "nameZh": "分析城市" })),
        ("endCityDesignation", CITY_DESIGNATION, json!({ "id": Uuid::now_v7().to_string(), "version": 1 })),
        (
            "createFigure",
            FIGURE,
            json!({ "indicator": "unicorns", "nameZh": "独角兽", "value": 6.0, "unit": "enterprises", "qualifier": "EXACT", "city": "武汉" }),
        ),
    ];
    for (name, fields, input) in attempts {
        let response = run_as(&schema, analyst(), &mutation(name, fields), json!({ "input": input })).await;
        assert_eq!(codes(&response), ["FORBIDDEN"], "{name}: {response:#}");
    }
    assert_eq!(counts(&test.db).await, before);
}

#[tokio::test]
async fn park_and_city_designations_are_added_corrected_and_ended_with_feed_entries() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = donghu(&schema).await;
    let feed_start = feed_end(&test.db).await;

    let added = mutate(
        &schema,
        "addParkDesignation",
        PARK_DESIGNATION,
        json!({ "parkId": zone, "nameZh": " 国家测试基地 ", "designatedOn": "2020-05", "sourceUrl": "https://example.cn/base" }),
    )
    .await;
    assert_eq!(user_errors(&added), []);
    let pd = &added["parkDesignation"];
    assert_eq!((pd["version"].as_i64(), pd["nameZh"].as_str()), (Some(1), Some("国家测试基地")));
    assert_eq!(pd["designatedDate"]["text"], "2020-05");
    let park_uuid = uuid_of(pd);
    let park_id = park_uuid.to_string();
    let listed = data(
        &schema,
        "query($id: ID!) { node(id: $id) { ... on Park { designations { databaseId version nameZh } } } }",
        json!({ "id": zone }),
    )
    .await;
    let listed = listed["node"]["designations"].as_array().expect("designations").clone();
    assert!(listed.iter().any(|d| d["databaseId"] == park_id.as_str() && d["version"] == 1), "{listed:?}");

    let corrected = mutate(
        &schema,
        "updateParkDesignation",
        PARK_DESIGNATION,
        json!({ "id": park_id, "version": 1, "nameEn": "National Test Base" }),
    )
    .await;
    assert_eq!(user_errors(&corrected), []);
    assert_eq!(
        (corrected["parkDesignation"]["version"].as_i64(), corrected["parkDesignation"]["nameEn"].as_str()),
        (Some(2), Some("National Test Base"))
    );

    let before = counts(&test.db).await;
    let stale = mutate(
        &schema,
        "updateParkDesignation",
        PARK_DESIGNATION,
        json!({ "id": park_id, "version": 1, "nameEn": "x" }),
    )
    .await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    let future = mutate(
        &schema,
        "addParkDesignation",
        PARK_DESIGNATION,
        json!({ "parkId": zone, "nameZh": "未来基地", "designatedOn": format!("{}", chrono::Utc::now().year() + 1) }),
    )
    .await;
    assert_eq!(user_errors(&future), [error("designatedOn", "DATE_ORDER")]);
    let blank =
        mutate(&schema, "addCityDesignation", CITY_DESIGNATION, json!({ "city": " ", "nameZh": "试点城市" })).await;
    assert_eq!(user_errors(&blank), [error("city", "REQUIRED")]);
    assert_eq!(counts(&test.db).await, before, "refused commands write nothing");

    // A park that is archived takes no designation.
    let archived_park = mutate(
        &schema,
        "createPark",
        "park { id }",
        json!({ "kind": "SCIENCE_PARK", "nameZh": "归档测试园", "parentId": zone }),
    )
    .await;
    let archived_park = archived_park["park"]["id"].as_str().expect("park id").to_string();
    let archived =
        mutate(&schema, "archivePark", "park { version }", json!({ "id": archived_park, "version": 1 })).await;
    assert_eq!(user_errors(&archived), []);
    let before = counts(&test.db).await;
    let refused = mutate(
        &schema,
        "addParkDesignation",
        PARK_DESIGNATION,
        json!({ "parkId": archived_park, "nameZh": "归档基地" }),
    )
    .await;
    assert_eq!(user_errors(&refused), [error("parkId", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before);

    let ended = mutate(&schema, "endParkDesignation", PARK_DESIGNATION, json!({ "id": park_id, "version": 2 })).await;
    assert_eq!(user_errors(&ended), []);
    assert_eq!(ended["parkDesignation"]["version"], 3);

    // A city designation.
    let city = mutate(
        &schema,
        "addCityDesignation",
        CITY_DESIGNATION,
        json!({ "city": "武汉", "nameZh": "测试示范城市", "designatedOn": "2019" }),
    )
    .await;
    assert_eq!(user_errors(&city), []);
    let city_uuid = uuid_of(&city["cityDesignation"]);
    let city_id = city_uuid.to_string();
    let listed =
        data(&schema, r#"{ city(name: "武汉") { designations { databaseId version nameZh } } }"#, json!({})).await;
    assert!(
        listed["city"]["designations"].as_array().expect("list").iter().any(|d| d["databaseId"] == city_id.as_str()),
        "{listed:#}"
    );
    let corrected = mutate(
        &schema,
        "updateCityDesignation",
        CITY_DESIGNATION,
        json!({ "id": city_id, "version": 1, "issuer": "国务院" }),
    )
    .await;
    assert_eq!(user_errors(&corrected), []);
    assert_eq!(
        (corrected["cityDesignation"]["version"].as_i64(), corrected["cityDesignation"]["issuer"].as_str()),
        (Some(2), Some("国务院"))
    );
    let ended = mutate(&schema, "endCityDesignation", CITY_DESIGNATION, json!({ "id": city_id, "version": 2 })).await;
    assert_eq!(user_errors(&ended), []);
    let twice = mutate(&schema, "endCityDesignation", CITY_DESIGNATION, json!({ "id": city_id, "version": 3 })).await;
    assert_eq!(user_errors(&twice), [error("id", "INCONSISTENT")]);

    let feed: Vec<_> = feed_since(&test.db, feed_start)
        .await
        .into_iter()
        .filter(|c| matches!(c.0, EntityType::ParkDesignation | EntityType::CityDesignation))
        .collect();
    assert_eq!(
        feed,
        [
            (EntityType::ParkDesignation, park_uuid, 1, Operation::AddLink, true),
            (EntityType::ParkDesignation, park_uuid, 2, Operation::UpdateLink, true),
            (EntityType::ParkDesignation, park_uuid, 3, Operation::EndLink, false),
            (EntityType::CityDesignation, city_uuid, 1, Operation::AddLink, true),
            (EntityType::CityDesignation, city_uuid, 2, Operation::UpdateLink, true),
            (EntityType::CityDesignation, city_uuid, 3, Operation::EndLink, false),
        ]
    );
    let revisions =
        write::revisions(&test.db, EntityType::CityDesignation, city_uuid, None, 10).await.expect("history");
    assert_eq!(revisions.iter().map(|r| r.actor.as_str()).collect::<Vec<_>>(), ["editor:wang"; 3]);
    assert_eq!(revisions[1].before.as_ref().map(|b| b["issuer"].clone()), Some(Value::Null));
    assert_eq!(revisions[1].after.as_ref().map(|a| a["issuer"].clone()), Some(json!("国务院")));

    // Staff read an ended designation's history and when it ended through the API.
    let listed = run_as(
        &schema,
        editor(),
        "query($id: ID!) { node(id: $id) { ... on Park { designations { databaseId archivedAt
             history { nodes { version operation actor } } } } }
           city(name: \"武汉\") { designations { databaseId archivedAt history { nodes { version operation } } } } }",
        json!({ "id": zone }),
    )
    .await;
    let steps = |designation: &Value| -> Vec<(i64, String)> {
        designation["history"]["nodes"]
            .as_array()
            .expect("history")
            .iter()
            .map(|r| (r["version"].as_i64().unwrap_or_default(), r["operation"].as_str().unwrap_or_default().into()))
            .collect()
    };
    let expected: Vec<(i64, String)> =
        [(1, "ADD_LINK"), (2, "UPDATE_LINK"), (3, "END_LINK")].map(|(v, o)| (v, o.to_string())).into();
    let of_park = listed["data"]["node"]["designations"].as_array().expect("park designations");
    let ended_base = of_park.iter().find(|d| d["databaseId"] == park_id.as_str()).expect("staff see the ended one");
    assert_eq!(steps(ended_base), expected, "{listed:#}");
    assert!(ended_base["archivedAt"].is_string());
    let of_city = listed["data"]["city"]["designations"].as_array().expect("city designations");
    let ended_city = of_city.iter().find(|d| d["databaseId"] == city_id.as_str()).expect("staff see the ended one");
    assert_eq!(steps(ended_city), expected, "{listed:#}");
    // Anyone else is refused the history (staff only).
    let anonymous =
        run(&schema, r#"{ city(name: "武汉") { designations { history { nodes { version } } } } }"#, json!({})).await;
    assert!(codes(&anonymous).contains(&"FORBIDDEN".to_string()), "{anonymous:#}");
}

#[tokio::test]
async fn a_figure_is_created_corrected_archived_and_restored_with_history_and_feed_in_order() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = donghu(&schema).await;
    let feed_start = feed_end(&test.db).await;

    let created = mutate(
        &schema,
        "createFigure",
        FIGURE,
        json!({
            "indicator": "test_unicorns", "nameZh": "光谷独角兽（测试）", "value": 6.0, "unit": "enterprises",
            "qualifier": "EXACT", "parkId": zone, "sourceUrl": "https://example.cn/figures", "asOf": "2019-05",
        }),
    )
    .await;
    assert_eq!(user_errors(&created), []);
    let f = &created["figure"];
    assert_eq!(
        (f["version"].as_i64(), f["value"].as_f64(), f["qualifier"].as_str()),
        (Some(1), Some(6.0), Some("EXACT"))
    );
    assert_eq!(f["city"], "武汉", "a park's figure takes its park's city");
    assert!(f["park"]["nameZh"].as_str().expect("park").contains("东湖"));
    let uuid = uuid_of(f);
    let id = uuid.to_string();
    let listed = data(
        &schema,
        r#"{ figures(filter: { city: "武汉", indicator: "test_unicorns" }) { totalCount nodes { databaseId } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(listed["figures"]["nodes"][0]["databaseId"], id.as_str(), "{listed:#}");

    let corrected = mutate(
        &schema,
        "updateFigure",
        FIGURE,
        json!({ "id": id, "version": 1, "value": 7.0, "qualifier": "MORE_THAN" }),
    )
    .await;
    assert_eq!(user_errors(&corrected), []);
    assert_eq!((corrected["figure"]["version"].as_i64(), corrected["figure"]["value"].as_f64()), (Some(2), Some(7.0)));

    // Refusals change nothing.
    let before = counts(&test.db).await;
    let stale = mutate(&schema, "updateFigure", FIGURE, json!({ "id": id, "version": 1, "value": 8.0 })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    assert!(stale["userErrors"][0]["message"].as_str().expect("message").contains("version 2"));
    let nowhere = mutate(
        &schema,
        "createFigure",
        FIGURE,
        json!({ "indicator": "unicorns", "nameZh": "独角兽", "value": 6.0, "unit": "enterprises", "qualifier": "EXACT" }),
    )
    .await;
    assert_eq!(user_errors(&nowhere), [error("city", "REQUIRED")]);
    let negative = mutate(
        &schema,
        "createFigure",
        FIGURE,
        json!({ "indicator": "unicorns", "nameZh": "独角兽", "value": -6.0, "unit": "enterprises", "qualifier": "EXACT", "city": "武汉" }),
    )
    .await;
    assert_eq!(user_errors(&negative), [error("value", "OUT_OF_RANGE")]);
    let unparked =
        mutate(&schema, "updateFigure", FIGURE, json!({ "id": id, "version": 2, "parkId": null, "city": null })).await;
    assert_eq!(user_errors(&unparked), [error("city", "REQUIRED")]);
    let missing = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Park, Uuid::now_v7());
    let moved = mutate(&schema, "updateFigure", FIGURE, json!({ "id": id, "version": 2, "parkId": missing })).await;
    assert_eq!(user_errors(&moved), [error("parkId", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before, "refused commands write nothing");

    let archived = mutate(&schema, "archiveFigure", FIGURE, json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&archived), []);
    assert_eq!(archived["figure"]["version"], 3);
    let twice = mutate(&schema, "archiveFigure", FIGURE, json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&twice), [error("id", "INCONSISTENT")]);
    let restored = mutate(&schema, "restoreFigure", FIGURE, json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&restored), []);
    assert_eq!(restored["figure"]["version"], 4);
    let row = figure::Entity::find_by_id(uuid).one(&test.db).await.expect("read").expect("row");
    assert_eq!((row.archived_at, row.version, row.value), (None, 4, 7.0));

    // A figure about a park that is archived cannot come back until the park does.
    let small = mutate(
        &schema,
        "createPark",
        "park { id }",
        json!({ "kind": "SCIENCE_PARK", "nameZh": "图表测试园", "parentId": zone }),
    )
    .await;
    let small = small["park"]["id"].as_str().expect("park").to_string();
    let about_small = mutate(
        &schema,
        "createFigure",
        FIGURE,
        json!({ "indicator": "area_km2", "nameZh": "面积", "value": 1.5, "unit": "km2", "qualifier": "ABOUT", "parkId": small }),
    )
    .await;
    assert_eq!(user_errors(&about_small), []);
    let small_figure = uuid_of(&about_small["figure"]).to_string();
    mutate(&schema, "archiveFigure", FIGURE, json!({ "id": small_figure, "version": 1 })).await;
    let archived_park = mutate(&schema, "archivePark", "park { version }", json!({ "id": small, "version": 1 })).await;
    assert_eq!(user_errors(&archived_park), []);
    let early = mutate(&schema, "restoreFigure", FIGURE, json!({ "id": small_figure, "version": 2 })).await;
    assert_eq!(user_errors(&early), [error("parkId", "NOT_FOUND")]);
    let refused = mutate(
        &schema,
        "createFigure",
        FIGURE,
        json!({ "indicator": "area_km2", "nameZh": "面积", "value": 1.5, "unit": "km2", "qualifier": "ABOUT", "parkId": small }),
    )
    .await;
    assert_eq!(user_errors(&refused), [error("parkId", "NOT_FOUND")]);

    // A figure about an organization needs no park or city; a missing one is refused.
    let douyu = organization(&schema, "斗鱼").await;
    let about_douyu = mutate(
        &schema,
        "createFigure",
        "figure { databaseId version city organization { nameZh } }",
        json!({ "indicator": "headcount", "nameZh": "员工", "value": 2000.0, "unit": "people", "qualifier": "ABOUT", "organizationId": douyu }),
    )
    .await;
    assert_eq!(user_errors(&about_douyu), []);
    assert_eq!(
        (&about_douyu["figure"]["organization"]["nameZh"], &about_douyu["figure"]["city"]),
        (&json!("斗鱼"), &Value::Null)
    );
    let nobody = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Organization, Uuid::now_v7());
    let refused = mutate(
        &schema,
        "createFigure",
        FIGURE,
        json!({ "indicator": "headcount", "nameZh": "员工", "value": 1.0, "unit": "people", "qualifier": "ABOUT", "organizationId": nobody }),
    )
    .await;
    assert_eq!(user_errors(&refused), [error("organizationId", "NOT_FOUND")]);

    let feed: Vec<_> = feed_since(&test.db, feed_start).await.into_iter().filter(|c| c.1 == uuid).collect();
    assert_eq!(
        feed,
        [
            (EntityType::Figure, uuid, 1, Operation::Create, true),
            (EntityType::Figure, uuid, 2, Operation::Update, true),
            (EntityType::Figure, uuid, 3, Operation::Archive, false),
            (EntityType::Figure, uuid, 4, Operation::Restore, true),
        ]
    );
    let history = run_as(
        &schema,
        editor(),
        r#"{ figures(filter: { indicator: "test_unicorns" }) { nodes { version history(first: 10) { nodes { version operation } } } } }"#,
        json!({}),
    )
    .await;
    assert!(history.get("errors").is_none(), "{history:#}");
    let steps: Vec<String> = history["data"]["figures"]["nodes"][0]["history"]["nodes"]
        .as_array()
        .expect("history")
        .iter()
        .map(|n| n["operation"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(steps, ["CREATE", "UPDATE", "ARCHIVE", "RESTORE"]);
}

/// Many editors add the same designation at once: exactly one wins and the others get
/// `DUPLICATE` (designation commands are serialized: SQLite's `BEGIN IMMEDIATE`,
/// PostgreSQL's advisory lock), so one live designation per kind and year holds. Without
/// the lock, PostgreSQL stores several.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_of_one_designation_leave_exactly_one_live() {
    use parkgraph_domain::validation::{DesignationDraft, ErrorCode};
    use parkgraph_domain::{DesignationKind, OrganizationKind, OrganizationStatus};
    use parkgraph_registry::{Actor, CommandError, Registry};

    let test = TestDb::migrated().await;
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("editor:wang");
    let firm = registry
        .create_organization(
            &actor,
            parkgraph_domain::validation::OrganizationDraft::new(
                OrganizationKind::Enterprise,
                "并发科技",
                OrganizationStatus::Active,
            ),
        )
        .await
        .expect("firm");
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let registry = registry.clone();
            let actor = actor.clone();
            tokio::spawn(async move {
                registry.add_designation(&actor, DesignationDraft::new(firm.id, DesignationKind::Gazelle, 2020)).await
            })
        })
        .collect();
    let mut won = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(_) => won += 1,
            Err(CommandError::Invalid(invalid)) => {
                let found: Vec<ErrorCode> = invalid.errors().iter().map(|e| e.code).collect();
                assert_eq!(found, [ErrorCode::Duplicate]);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(designation::Entity::find().count(&test.db).await.expect("count"), 1);
}
