//! Changing incubators and the links incubations and enterprise locations through GraphQL,
//! on the Wuhan sample: an editor creates an incubator in 东湖 run by 华中科技大学, corrects,
//! archives and restores it; incubates 斗鱼 there, corrects and ends the incubation; adds,
//! corrects and ends a location of 斗鱼 in 光谷生物城. Every change leaves a revision and a
//! feed entry (a link's end is a tombstone); invalid input, a stale version, a link to an
//! archived or wrong-kind record and a duplicate live link are user errors that change
//! nothing; an analyst is refused. Runs on SQLite, and on PostgreSQL with
//! `TEST_DATABASE_URL`.

mod common;

use common::{TestDb, codes, data};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::Role;
use parkgraph_persistence::entity::{enterprise_location, incubation, incubator, revision};
use parkgraph_persistence::sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use parkgraph_persistence::write::{self, EntityType, Operation};
use serde_json::{Value, json};
use uuid::Uuid;

const INCUBATOR: &str = "incubator { id databaseId version nameZh nameEn level foundedDate { text } \
                         park { id } operator { id } } userErrors { field message code }";
const INCUBATION: &str = "incubation { id databaseId version status endedAt enteredDate { text } \
                          graduatedDate { text } organization { id nameZh } incubator { id nameZh } } \
                          userErrors { field message code }";
const LOCATION: &str = "enterpriseLocation { id databaseId version role endedAt sinceDate { text } \
                        organization { id nameZh } park { id nameZh } } userErrors { field message code }";

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

/// The text of mutation `name` selecting `fields` of its payload.
fn mutation(name: &str, fields: &str) -> String {
    let kind = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    format!("mutation($input: {kind}!) {{ {name}(input: $input) {{ {fields} }} }}")
}

/// The payload fields of mutation `name`.
fn fields_of(name: &str) -> &'static str {
    if name.ends_with("Incubator") {
        INCUBATOR
    } else if name.ends_with("Incubation") {
        INCUBATION
    } else {
        LOCATION
    }
}

/// Runs one mutation as an editor and returns its payload (no top-level errors).
async fn mutate(schema: &ParkGraphSchema, name: &str, input: Value) -> Value {
    let response = run_as(schema, editor(), &mutation(name, fields_of(name)), json!({ "input": input })).await;
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

/// Incubators, incubations, locations, revisions and feed entries stored.
async fn counts(db: &DatabaseConnection) -> (u64, u64, u64, u64, usize) {
    let incubators = incubator::Entity::find().count(db).await.expect("count incubators");
    let incubations = incubation::Entity::find().count(db).await.expect("count incubations");
    let locations = enterprise_location::Entity::find().count(db).await.expect("count locations");
    let revisions = revision::Entity::find().count(db).await.expect("count revisions");
    let changes = write::changes(db, None, 100_000, None).await.expect("read the feed").len();
    (incubators, incubations, locations, revisions, changes)
}

/// The last feed position (none on the bare sample).
async fn feed_end(db: &DatabaseConnection) -> Option<i64> {
    write::changes(db, None, 100_000, None).await.expect("feed").last().map(|c| c.seq)
}

/// The feed after `start`: (type, id, version, operation, tombstone).
async fn feed_after(db: &DatabaseConnection, start: Option<i64>) -> Vec<(EntityType, Uuid, i32, Operation, bool)> {
    write::changes(db, start, 1000, None)
        .await
        .expect("feed")
        .into_iter()
        .map(|c| (c.entity_type, c.entity_id, c.version, c.operation, c.after.is_none()))
        .collect()
}

/// The global id of the first park whose name contains `name`.
async fn park(schema: &ParkGraphSchema, name: &str) -> String {
    let d = data(
        schema,
        "query($n: String!) { parks(filter: { nameContains: $n }) { nodes { id } } }",
        json!({ "n": name }),
    )
    .await;
    d["parks"]["nodes"][0]["id"].as_str().unwrap_or_else(|| panic!("{name} is in the sample")).to_string()
}

/// The global id of the first organization whose name contains `name`.
async fn organization(schema: &ParkGraphSchema, name: &str) -> String {
    let d = data(
        schema,
        "query($n: String!) { organizations(filter: { nameContains: $n }) { nodes { id } } }",
        json!({ "n": name }),
    )
    .await;
    d["organizations"]["nodes"][0]["id"].as_str().unwrap_or_else(|| panic!("{name} is in the sample")).to_string()
}

/// (global or link id, UUID) of the record in a payload.
fn ids(payload: &Value, key: &str) -> (String, Uuid) {
    let record = &payload[key];
    let id = record["id"].as_str().unwrap_or_else(|| panic!("no {key} in {payload:#}")).to_string();
    (id, record["databaseId"].as_str().expect("databaseId").parse().expect("uuid"))
}

/// (version, operation) of each revision of a record, through GraphQL `history`.
fn steps(history: &Value) -> Vec<(i64, String)> {
    history["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("history nodes in {history:#}"))
        .iter()
        .map(|n| (n["version"].as_i64().unwrap_or_default(), n["operation"].as_str().unwrap_or_default().to_string()))
        .collect()
}

fn expect_steps(list: &[(i64, &str)]) -> Vec<(i64, String)> {
    list.iter().map(|(v, o)| (*v, o.to_string())).collect()
}

/// A new incubator in 东湖 run by 华中科技大学, at version 1.
async fn an_incubator(schema: &ParkGraphSchema, name: &str) -> (String, Uuid) {
    let zone = park(schema, "东湖新技术").await;
    let hust = organization(schema, "华中科技大学").await;
    let created = mutate(
        schema,
        "createIncubator",
        json!({ "kind": "INCUBATOR", "nameZh": name, "parkId": zone, "operatorId": hust }),
    )
    .await;
    assert_eq!(user_errors(&created), []);
    ids(&created, "incubator")
}

#[tokio::test]
async fn an_editor_creates_corrects_archives_and_restores_an_incubator_with_revisions_and_feed_in_order() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = park(&schema, "东湖新技术").await;
    let hust = organization(&schema, "华中科技大学").await;
    let start = feed_end(&test.db).await;

    let created = mutate(
        &schema,
        "createIncubator",
        json!({ "kind": "INCUBATOR", "nameZh": " 华科测试孵化器 ", "level": "PROVINCIAL", "parkId": zone,
                "operatorId": hust, "foundedOn": "2019-03" }),
    )
    .await;
    assert_eq!(user_errors(&created), []);
    let record = &created["incubator"];
    assert_eq!((record["version"].as_i64(), record["nameZh"].as_str()), (Some(1), Some("华科测试孵化器")));
    assert_eq!((&record["park"]["id"], &record["operator"]["id"]), (&json!(zone), &json!(hust)));
    assert_eq!(record["foundedDate"]["text"], "2019-03");
    let (id, uuid) = ids(&created, "incubator");

    let updated = mutate(
        &schema,
        "updateIncubator",
        json!({ "id": id, "version": 1, "level": "NATIONAL", "nameEn": "HUST Inc" }),
    )
    .await;
    assert_eq!(user_errors(&updated), []);
    assert_eq!(
        (updated["incubator"]["version"].as_i64(), updated["incubator"]["level"].as_str()),
        (Some(2), Some("NATIONAL"))
    );
    // The revision holds the row before and after.
    let revisions = write::revisions(&test.db, EntityType::Incubator, uuid, None, 10).await.expect("revisions");
    assert_eq!(revisions.len(), 2);
    let correction = &revisions[1];
    assert_eq!((correction.version, correction.operation), (2, Operation::Update));
    assert_eq!(correction.before.as_ref().map(|b| b["level"].clone()), Some(json!("PROVINCIAL")));
    assert_eq!(correction.after.as_ref().map(|a| a["level"].clone()), Some(json!("NATIONAL")));
    assert_eq!(correction.actor, "editor:wang");

    // Invalid input, wrong-kind references and a stale version are user errors that write
    // nothing.
    let before = counts(&test.db).await;
    let invalid =
        mutate(&schema, "createIncubator", json!({ "kind": "MAKERSPACE", "nameZh": " ", "foundedOn": "2999" })).await;
    assert_eq!(user_errors(&invalid), [error("nameZh", "REQUIRED"), error("foundedOn", "DATE_ORDER")]);
    assert_eq!(invalid["incubator"], Value::Null);
    let swapped = mutate(
        &schema,
        "createIncubator",
        json!({ "kind": "INCUBATOR", "nameZh": "错位孵化器", "parkId": hust, "operatorId": zone }),
    )
    .await;
    assert_eq!(user_errors(&swapped), [error("parkId", "WRONG_KIND"), error("operatorId", "WRONG_KIND")]);
    let message = swapped["userErrors"][0]["message"].as_str().expect("message");
    assert!(message.contains("an organization of kind UNIVERSITY") && message.contains("a park"), "{message}");
    let stale = mutate(&schema, "updateIncubator", json!({ "id": id, "version": 1, "nameEn": "Stale" })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    assert!(stale["userErrors"][0]["message"].as_str().expect("message").contains("version 2"), "{stale:#}");
    let clear = mutate(&schema, "updateIncubator", json!({ "id": id, "version": 2, "kind": null })).await;
    assert_eq!(user_errors(&clear), [error("kind", "REQUIRED")]);
    assert_eq!(counts(&test.db).await, before, "refused commands write nothing");

    let archived = mutate(&schema, "archiveIncubator", json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&archived), []);
    assert_eq!(archived["incubator"]["version"], 3);
    let again = mutate(&schema, "archiveIncubator", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&again), [error("id", "INCONSISTENT")]);
    let restored = mutate(&schema, "restoreIncubator", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&restored), []);
    assert_eq!(restored["incubator"]["version"], 4);
    let row = incubator::Entity::find_by_id(uuid).one(&test.db).await.expect("read").expect("row");
    assert_eq!((row.version, row.archived_at, row.level.as_deref()), (4, None, Some("NATIONAL")));

    let history = data_as_editor(
        &schema,
        "query($id: ID!) { node(id: $id) { ... on Incubator { history(first: 10) { nodes { version operation } } } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        steps(&history["node"]["history"]),
        expect_steps(&[(1, "CREATE"), (2, "UPDATE"), (3, "ARCHIVE"), (4, "RESTORE")])
    );
    assert_eq!(
        feed_after(&test.db, start).await,
        [
            (EntityType::Incubator, uuid, 1, Operation::Create, false),
            (EntityType::Incubator, uuid, 2, Operation::Update, false),
            (EntityType::Incubator, uuid, 3, Operation::Archive, true),
            (EntityType::Incubator, uuid, 4, Operation::Restore, false),
        ]
    );
}

async fn data_as_editor(schema: &ParkGraphSchema, query: &str, variables: Value) -> Value {
    let response = run_as(schema, editor(), query, variables).await;
    assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
    response["data"].clone()
}

#[tokio::test]
async fn an_incubator_needs_a_live_park_and_is_archived_only_once_its_incubations_have_ended() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = park(&schema, "东湖新技术").await;
    // A park of its own, archived: no incubator can be created in it.
    let created = run_as(
        &schema,
        editor(),
        "mutation($p: ID!) { createPark(input: { kind: SCIENCE_PARK, nameZh: \"临时园\", parentId: $p }) { park { id } } }",
        json!({ "p": zone }),
    )
    .await;
    let temporary = created["data"]["createPark"]["park"]["id"].as_str().expect("park").to_string();
    let (id, _) = an_incubator(&schema, "临时孵化器").await;
    let moved = mutate(&schema, "updateIncubator", json!({ "id": id, "version": 1, "parkId": temporary })).await;
    assert_eq!(user_errors(&moved), []);
    let archived = mutate(&schema, "archiveIncubator", json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&archived), []);
    let park_archived = run_as(
        &schema,
        editor(),
        "mutation($p: ID!) { archivePark(input: { id: $p, version: 1 }) { userErrors { code } } }",
        json!({ "p": temporary }),
    )
    .await;
    assert_eq!(park_archived["data"]["archivePark"]["userErrors"], json!([]), "{park_archived:#}");

    let before = counts(&test.db).await;
    let refused =
        mutate(&schema, "createIncubator", json!({ "kind": "INCUBATOR", "nameZh": "迟到孵化器", "parkId": temporary }))
            .await;
    assert_eq!(user_errors(&refused), [error("parkId", "NOT_FOUND")]);
    // The archived incubator comes back only once its park is live again (or it moves).
    let early = mutate(&schema, "restoreIncubator", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&early), [error("parkId", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before);
    let corrected = mutate(&schema, "updateIncubator", json!({ "id": id, "version": 3, "parkId": zone })).await;
    assert_eq!(user_errors(&corrected), [], "an archived incubator can be corrected");
    let restored = mutate(&schema, "restoreIncubator", json!({ "id": id, "version": 4 })).await;
    assert_eq!(user_errors(&restored), []);

    // With a live incubation it cannot be archived; once the incubation ends, it can.
    let douyu = organization(&schema, "斗鱼").await;
    let added =
        mutate(&schema, "addIncubation", json!({ "organizationId": douyu, "incubatorId": id, "status": "INCUBATING" }))
            .await;
    assert_eq!(user_errors(&added), []);
    let (link, _) = ids(&added, "incubation");
    let busy = mutate(&schema, "archiveIncubator", json!({ "id": id, "version": 5 })).await;
    assert_eq!(user_errors(&busy), [error("id", "INCONSISTENT")]);
    let ended = mutate(&schema, "endIncubation", json!({ "id": link, "version": 1, "status": "EXITED" })).await;
    assert_eq!(user_errors(&ended), []);
    let archived = mutate(&schema, "archiveIncubator", json!({ "id": id, "version": 5 })).await;
    assert_eq!(user_errors(&archived), []);
    // An archived incubator takes no new incubation.
    let closed =
        mutate(&schema, "addIncubation", json!({ "organizationId": douyu, "incubatorId": id, "status": "INCUBATING" }))
            .await;
    assert_eq!(user_errors(&closed), [error("incubatorId", "NOT_FOUND")]);
}

#[tokio::test]
async fn an_incubation_is_added_corrected_and_ended_with_its_end_a_tombstone_in_the_feed_and_history() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let (incubator_id, incubator_uuid) = an_incubator(&schema, "光谷测试孵化器").await;
    let douyu = organization(&schema, "斗鱼").await;
    let hust = organization(&schema, "华中科技大学").await;
    let zone = park(&schema, "东湖新技术").await;
    let start = feed_end(&test.db).await;

    let added = mutate(
        &schema,
        "addIncubation",
        json!({ "organizationId": douyu, "incubatorId": incubator_id, "status": "INCUBATING", "enteredOn": "2015-03" }),
    )
    .await;
    assert_eq!(user_errors(&added), []);
    let link = &added["incubation"];
    assert_eq!((link["version"].as_i64(), link["status"].as_str()), (Some(1), Some("INCUBATING")));
    assert_eq!(
        (link["organization"]["nameZh"].as_str(), link["incubator"]["id"].as_str()),
        (Some("斗鱼"), Some(incubator_id.as_str()))
    );
    assert_eq!((&link["endedAt"], &link["enteredDate"]["text"]), (&Value::Null, &json!("2015-03")));
    let (id, uuid) = ids(&added, "incubation");
    assert_eq!(id, uuid.to_string(), "a link's id is its UUID");

    // Refusals write nothing: a second live incubation of the pair, wrong-kind endpoints,
    // dates out of order, a stale version, an unknown link.
    let before = counts(&test.db).await;
    let twice = mutate(
        &schema,
        "addIncubation",
        json!({ "organizationId": douyu, "incubatorId": incubator_id, "status": "INCUBATING" }),
    )
    .await;
    assert_eq!(user_errors(&twice), [error("incubatorId", "DUPLICATE")]);
    assert!(twice["userErrors"][0]["message"].as_str().expect("message").contains(&id), "{twice:#}");
    let wrong = mutate(
        &schema,
        "addIncubation",
        json!({ "organizationId": hust, "incubatorId": zone, "status": "INCUBATING" }),
    )
    .await;
    assert_eq!(user_errors(&wrong), [error("organizationId", "WRONG_KIND"), error("incubatorId", "WRONG_KIND")]);
    let early = mutate(
        &schema,
        "updateIncubation",
        json!({ "id": id, "version": 1, "status": "GRADUATED", "graduatedOn": "2014" }),
    )
    .await;
    assert_eq!(user_errors(&early), [error("graduatedOn", "DATE_ORDER")]);
    let inconsistent =
        mutate(&schema, "updateIncubation", json!({ "id": id, "version": 1, "graduatedOn": "2018" })).await;
    assert_eq!(user_errors(&inconsistent), [error("graduatedOn", "INCONSISTENT")]);
    let unknown = mutate(&schema, "updateIncubation", json!({ "id": Uuid::now_v7().to_string(), "version": 1 })).await;
    assert_eq!(user_errors(&unknown), [error("id", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before);

    let corrected =
        mutate(&schema, "updateIncubation", json!({ "id": id, "version": 1, "sourceName": "光谷孵化器年报" })).await;
    assert_eq!(user_errors(&corrected), []);
    assert_eq!(corrected["incubation"]["version"], 2);
    let stale = mutate(&schema, "updateIncubation", json!({ "id": id, "version": 1, "sourceName": "旧" })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);

    // Ending needs to say how; then the firm graduated in 2018-06.
    let before = counts(&test.db).await;
    let unsaid = mutate(&schema, "endIncubation", json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&unsaid), [error("status", "REQUIRED")]);
    let backwards = mutate(
        &schema,
        "endIncubation",
        json!({ "id": id, "version": 2, "status": "GRADUATED", "graduatedOn": "2014" }),
    )
    .await;
    assert_eq!(user_errors(&backwards), [error("graduatedOn", "DATE_ORDER")]);
    assert_eq!(counts(&test.db).await, before);
    let ended = mutate(
        &schema,
        "endIncubation",
        json!({ "id": id, "version": 2, "status": "GRADUATED", "graduatedOn": "2018-06" }),
    )
    .await;
    assert_eq!(user_errors(&ended), []);
    let link = &ended["incubation"];
    assert_eq!((link["version"].as_i64(), link["status"].as_str()), (Some(3), Some("GRADUATED")));
    assert_eq!(link["graduatedDate"]["text"], "2018-06");
    assert!(link["endedAt"].is_string(), "{ended:#}");
    let row = incubation::Entity::find_by_id(uuid).one(&test.db).await.expect("read").expect("row");
    assert!(row.archived_at.is_some());
    let twice = mutate(&schema, "endIncubation", json!({ "id": id, "version": 3, "status": "EXITED" })).await;
    assert_eq!(user_errors(&twice), [error("id", "INCONSISTENT")]);
    let revived = mutate(
        &schema,
        "updateIncubation",
        json!({ "id": id, "version": 3, "status": "INCUBATING", "graduatedOn": null }),
    )
    .await;
    assert_eq!(user_errors(&revived), [error("status", "INCONSISTENT")]);

    // The feed: added, corrected, ended (a tombstone, no fields).
    let feed = write::changes(&test.db, start, 100, None).await.expect("feed");
    let seen: Vec<(EntityType, Uuid, i32, Operation, bool)> =
        feed.iter().map(|c| (c.entity_type, c.entity_id, c.version, c.operation, c.after.is_none())).collect();
    assert_eq!(
        seen,
        [
            (EntityType::Incubation, uuid, 1, Operation::AddLink, false),
            (EntityType::Incubation, uuid, 2, Operation::UpdateLink, false),
            (EntityType::Incubation, uuid, 3, Operation::EndLink, true),
        ]
    );
    // … and through GraphQL `changes`.
    let after = data_as_editor(
        &schema,
        "{ changes(types: [INCUBATION], first: 10) { nodes { entityId version operation tombstone after } } }",
        json!({}),
    )
    .await;
    let last = &after["changes"]["nodes"][2];
    assert_eq!(
        (&last["entityId"], &last["operation"], &last["tombstone"]),
        (&json!(id), &json!("END_LINK"), &json!(true))
    );
    assert_eq!(last["after"], Value::Null);
    // The revision of the end keeps the fields before and after.
    let revisions = write::revisions(&test.db, EntityType::Incubation, uuid, None, 10).await.expect("revisions");
    let end = revisions.last().expect("the end");
    assert_eq!(end.before.as_ref().map(|b| b["status"].clone()), Some(json!("INCUBATING")));
    assert_eq!(end.after.as_ref().map(|a| a["status"].clone()), Some(json!("GRADUATED")));

    // The incubator's edge shows the link's id, version, end and history.
    let edges = data_as_editor(
        &schema,
        "query($id: ID!) { node(id: $id) { ... on Incubator { incubatees { edges { linkId version endedAt status \
         history { nodes { version operation } } } } } } }",
        json!({ "id": incubator_id }),
    )
    .await;
    let edge = &edges["node"]["incubatees"]["edges"][0];
    assert_eq!((&edge["linkId"], &edge["version"], &edge["status"]), (&json!(id), &json!(3), &json!("GRADUATED")));
    assert!(edge["endedAt"].is_string());
    assert_eq!(steps(&edge["history"]), expect_steps(&[(1, "ADD_LINK"), (2, "UPDATE_LINK"), (3, "END_LINK")]));

    // Once ended, the pair can be linked again: a new incubation beside the ended one.
    let back = mutate(
        &schema,
        "addIncubation",
        json!({ "organizationId": douyu, "incubatorId": incubator_id, "status": "INCUBATING", "enteredOn": "2020" }),
    )
    .await;
    assert_eq!(user_errors(&back), []);
    assert_ne!(ids(&back, "incubation").1, uuid);
    assert_eq!(
        incubator::Entity::find_by_id(incubator_uuid).one(&test.db).await.expect("read").expect("row").version,
        1
    );
}

#[tokio::test]
async fn an_enterprise_location_is_added_corrected_and_ended_and_the_role_can_be_taken_again_afterwards() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let douyu = organization(&schema, "斗鱼").await;
    let hust = organization(&schema, "华中科技大学").await;
    let biolake = park(&schema, "光谷生物城").await;
    let software = park(&schema, "光谷软件园").await;
    let start = feed_end(&test.db).await;

    let added = mutate(
        &schema,
        "addEnterpriseLocation",
        json!({ "organizationId": douyu, "parkId": biolake, "role": "R_AND_D", "since": "2020-09" }),
    )
    .await;
    assert_eq!(user_errors(&added), []);
    let link = &added["enterpriseLocation"];
    assert_eq!((link["version"].as_i64(), link["role"].as_str()), (Some(1), Some("R_AND_D")));
    assert_eq!(
        (link["organization"]["nameZh"].as_str(), link["park"]["nameZh"].as_str()),
        (Some("斗鱼"), Some("光谷生物城"))
    );
    let (id, uuid) = ids(&added, "enterpriseLocation");
    let factory = mutate(
        &schema,
        "addEnterpriseLocation",
        json!({ "organizationId": douyu, "parkId": biolake, "role": "FACTORY" }),
    )
    .await;
    assert_eq!(user_errors(&factory), []);
    let factory_uuid = ids(&factory, "enterpriseLocation").1;

    let before = counts(&test.db).await;
    // 斗鱼 already operates in 光谷软件园 (the sample).
    let sample_duplicate = mutate(
        &schema,
        "addEnterpriseLocation",
        json!({ "organizationId": douyu, "parkId": software, "role": "OPERATING" }),
    )
    .await;
    assert_eq!(user_errors(&sample_duplicate), [error("role", "DUPLICATE")]);
    let university = mutate(
        &schema,
        "addEnterpriseLocation",
        json!({ "organizationId": hust, "parkId": douyu, "role": "OPERATING" }),
    )
    .await;
    assert_eq!(user_errors(&university), [error("organizationId", "WRONG_KIND"), error("parkId", "WRONG_KIND")]);
    let taken = mutate(&schema, "updateEnterpriseLocation", json!({ "id": id, "version": 1, "role": "FACTORY" })).await;
    assert_eq!(user_errors(&taken), [error("role", "DUPLICATE")]);
    let future = mutate(&schema, "updateEnterpriseLocation", json!({ "id": id, "version": 1, "since": "2999" })).await;
    assert_eq!(user_errors(&future), [error("since", "DATE_ORDER")]);
    let garbled =
        mutate(&schema, "updateEnterpriseLocation", json!({ "id": id, "version": 1, "since": "20-20" })).await;
    assert_eq!(user_errors(&garbled), [error("since", "INVALID_FORMAT")]);
    assert_eq!(counts(&test.db).await, before);

    let corrected = mutate(
        &schema,
        "updateEnterpriseLocation",
        json!({ "id": id, "version": 1, "role": "OPERATING", "since": "2021" }),
    )
    .await;
    assert_eq!(user_errors(&corrected), []);
    assert_eq!(
        (corrected["enterpriseLocation"]["version"].as_i64(), corrected["enterpriseLocation"]["role"].as_str()),
        (Some(2), Some("OPERATING"))
    );
    let stale = mutate(&schema, "endEnterpriseLocation", json!({ "id": id, "version": 1 })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    assert!(stale["userErrors"][0]["message"].as_str().expect("message").contains("version 2"), "{stale:#}");

    let ended = mutate(&schema, "endEnterpriseLocation", json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&ended), []);
    assert_eq!(ended["enterpriseLocation"]["version"], 3);
    assert!(ended["enterpriseLocation"]["endedAt"].is_string(), "{ended:#}");
    let again = mutate(&schema, "endEnterpriseLocation", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&again), [error("id", "INCONSISTENT")]);

    // The role is free again once the location ended (the unique rule holds among live links).
    let back = mutate(
        &schema,
        "addEnterpriseLocation",
        json!({ "organizationId": douyu, "parkId": biolake, "role": "OPERATING" }),
    )
    .await;
    assert_eq!(user_errors(&back), []);
    let back_uuid = ids(&back, "enterpriseLocation").1;

    assert_eq!(
        feed_after(&test.db, start).await,
        [
            (EntityType::EnterpriseLocation, uuid, 1, Operation::AddLink, false),
            (EntityType::EnterpriseLocation, factory_uuid, 1, Operation::AddLink, false),
            (EntityType::EnterpriseLocation, uuid, 2, Operation::UpdateLink, false),
            (EntityType::EnterpriseLocation, uuid, 3, Operation::EndLink, true),
            (EntityType::EnterpriseLocation, back_uuid, 1, Operation::AddLink, false),
        ]
    );
    // The park's edges carry the link's id, version and history, the ended one included.
    let edges = data_as_editor(
        &schema,
        "query($id: ID!) { node(id: $id) { ... on Park { enterprises(first: 50) { edges { linkId version endedAt role \
         history { nodes { version operation } } } } } } }",
        json!({ "id": biolake }),
    )
    .await;
    let all = edges["node"]["enterprises"]["edges"].as_array().expect("edges");
    let edge = all.iter().find(|e| e["linkId"] == json!(id)).unwrap_or_else(|| panic!("the ended link in {edges:#}"));
    assert_eq!((&edge["version"], &edge["role"]), (&json!(3), &json!("OPERATING")));
    assert!(edge["endedAt"].is_string());
    assert_eq!(steps(&edge["history"]), expect_steps(&[(1, "ADD_LINK"), (2, "UPDATE_LINK"), (3, "END_LINK")]));
}

#[tokio::test]
async fn a_link_to_an_archived_record_is_refused() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let biolake = park(&schema, "光谷生物城").await;
    let created = run_as(
        &schema,
        editor(),
        "mutation { createOrganization(input: { kind: ENTERPRISE, nameZh: \"歇业科技\", status: ACTIVE }) { organization { id } } }",
        json!({}),
    )
    .await;
    let firm = created["data"]["createOrganization"]["organization"]["id"].as_str().expect("firm").to_string();
    let archived = run_as(
        &schema,
        editor(),
        "mutation($id: ID!) { archiveOrganization(input: { id: $id, version: 1 }) { userErrors { code } } }",
        json!({ "id": firm }),
    )
    .await;
    assert_eq!(archived["data"]["archiveOrganization"]["userErrors"], json!([]), "{archived:#}");
    let (incubator_id, _) = an_incubator(&schema, "档案孵化器").await;

    let before = counts(&test.db).await;
    let location = mutate(
        &schema,
        "addEnterpriseLocation",
        json!({ "organizationId": firm, "parkId": biolake, "role": "OPERATING" }),
    )
    .await;
    assert_eq!(user_errors(&location), [error("organizationId", "NOT_FOUND")]);
    let incubation = mutate(
        &schema,
        "addIncubation",
        json!({ "organizationId": firm, "incubatorId": incubator_id, "status": "EXITED" }),
    )
    .await;
    assert_eq!(user_errors(&incubation), [error("organizationId", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before);
}

#[tokio::test]
async fn an_analyst_cannot_change_incubators_or_links_and_nothing_is_written() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let douyu = organization(&schema, "斗鱼").await;
    let biolake = park(&schema, "光谷生物城").await;
    let (incubator_id, _) = an_incubator(&schema, "分析孵化器").await;
    let before = counts(&test.db).await;
    let analyst = || caller(Role::Analyst, "analyst:li");
    for (name, input) in [
        ("createIncubator", json!({ "kind": "INCUBATOR", "nameZh": "分析" })),
        ("archiveIncubator", json!({ "id": incubator_id, "version": 1 })),
        ("addIncubation", json!({ "organizationId": douyu, "incubatorId": incubator_id, "status": "INCUBATING" })),
        ("addEnterpriseLocation", json!({ "organizationId": douyu, "parkId": biolake, "role": "FACTORY" })),
        ("endEnterpriseLocation", json!({ "id": Uuid::now_v7().to_string(), "version": 1 })),
    ] {
        let response = run_as(&schema, analyst(), &mutation(name, fields_of(name)), json!({ "input": input })).await;
        assert_eq!(codes(&response), ["FORBIDDEN"], "{name}: {response:#}");
    }
    assert_eq!(counts(&test.db).await, before);
}

/// Many editors at once add the same incubation: the commands are serialized (SQLite's
/// `BEGIN IMMEDIATE`, PostgreSQL's advisory lock), so exactly one is added and every other
/// is a `DUPLICATE`.
#[tokio::test]
async fn concurrent_adds_of_one_incubation_add_it_once() {
    use parkgraph_domain::validation::{ErrorCode, IncubationDraft, IncubatorDraft};
    use parkgraph_domain::{IncubationStatus, IncubatorKind, OrganizationKind, OrganizationStatus};
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
    let home = registry
        .create_incubator(&actor, IncubatorDraft::new(IncubatorKind::Incubator, "并发孵化器"))
        .await
        .expect("incubator");
    let draft = IncubationDraft::new(firm.id, home.id, IncubationStatus::Incubating);
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (registry, actor, draft) = (registry.clone(), actor.clone(), draft.clone());
        writers.spawn(async move { registry.add_incubation(&actor, draft).await });
    }
    let outcomes: Vec<_> = writers.join_all().await;
    assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 1, "exactly one add wins");
    for outcome in outcomes {
        match outcome {
            Ok(_) => {}
            Err(CommandError::Invalid(invalid)) => {
                let found: Vec<ErrorCode> = invalid.errors().iter().map(|e| e.code).collect();
                assert_eq!(found, [ErrorCode::Duplicate]);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(incubation::Entity::find().count(&test.db).await.expect("count"), 1);
}
