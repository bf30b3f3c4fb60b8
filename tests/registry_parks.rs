//! Changing parks through GraphQL: an editor creates a park under the sample's top park
//! (东湖), moves it, and archives and restores it; a move under its own descendant is a
//! `CYCLE` user error, a stale version a `CONFLICT`, archiving a park that still contains
//! live parks is refused, and each refusal changes nothing; every change shows in
//! `history` and in the feed, in order; an analyst is refused. Runs on SQLite, and on
//! PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::{TestDb, codes, data};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::Role;
use parkgraph_persistence::entity::{park, revision};
use parkgraph_persistence::sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use parkgraph_persistence::write::{self, EntityType, Operation};
use serde_json::{Value, json};

const FIELDS: &str = "park { id databaseId version nameZh parent { id nameZh } } \
                      userErrors { field message code }";

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

fn mutation(name: &str) -> String {
    let kind = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    format!("mutation($input: {kind}!) {{ {name}(input: $input) {{ {FIELDS} }} }}")
}

/// Runs one park mutation as an editor and returns its payload (no top-level errors).
async fn mutate(schema: &ParkGraphSchema, name: &str, input: Value) -> Value {
    let response = run_as(schema, editor(), &mutation(name), json!({ "input": input })).await;
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

/// Parks, revisions and feed entries stored.
async fn counts(db: &DatabaseConnection) -> (u64, u64, usize) {
    let rows = park::Entity::find().count(db).await.expect("count parks");
    let revisions = revision::Entity::find().count(db).await.expect("count revisions");
    let changes = write::changes(db, None, 100_000, None).await.expect("read the feed").len();
    (rows, revisions, changes)
}

/// The global id of the sample's top park, 东湖.
async fn donghu(schema: &ParkGraphSchema) -> String {
    let d = data(
        schema,
        r#"{ parks(filter: { topLevel: true, nameContains: "东湖新技术" }) { nodes { id } } }"#,
        json!({}),
    )
    .await;
    d["parks"]["nodes"][0]["id"].as_str().expect("东湖 is in the sample").to_string()
}

fn id_of(payload: &Value) -> (String, uuid::Uuid) {
    let park = &payload["park"];
    let id = park["id"].as_str().expect("id").to_string();
    (id, park["databaseId"].as_str().expect("databaseId").parse().expect("uuid"))
}

#[tokio::test]
async fn an_editor_creates_moves_archives_and_restores_parks_under_donghu_with_history_and_feed_in_order() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = donghu(&schema).await;
    let feed_start = write::changes(&test.db, None, 100_000, None).await.expect("feed").last().map(|c| c.seq);

    let created = mutate(
        &schema,
        "createPark",
        json!({ "kind": "SCIENCE_PARK", "nameZh": " 光谷测试园 ", "parentId": zone, "establishedOn": "2020-05" }),
    )
    .await;
    assert_eq!(user_errors(&created), []);
    assert_eq!(
        (created["park"]["version"].as_i64(), created["park"]["nameZh"].as_str()),
        (Some(1), Some("光谷测试园"))
    );
    assert_eq!(created["park"]["parent"]["id"], zone.as_str());
    let (outer, outer_uuid) = id_of(&created);

    let inner =
        mutate(&schema, "createPark", json!({ "kind": "INDUSTRIAL_PARK", "nameZh": "测试分园", "parentId": outer }))
            .await;
    assert_eq!(user_errors(&inner), []);
    let (inner, inner_uuid) = id_of(&inner);

    // Move the inner park up under 东湖, then back under the outer park.
    let moved = mutate(&schema, "updatePark", json!({ "id": inner, "version": 1, "parentId": zone })).await;
    assert_eq!(user_errors(&moved), []);
    assert_eq!((moved["park"]["version"].as_i64(), &moved["park"]["parent"]["id"]), (Some(2), &json!(zone)));
    let back = mutate(&schema, "updatePark", json!({ "id": inner, "version": 2, "parentId": outer })).await;
    assert_eq!(user_errors(&back), []);
    assert_eq!((back["park"]["version"].as_i64(), &back["park"]["parent"]["id"]), (Some(3), &json!(outer)));

    // The outer park cannot move under its own descendant; nothing changes.
    let before = counts(&test.db).await;
    let cycle = mutate(&schema, "updatePark", json!({ "id": outer, "version": 1, "parentId": inner })).await;
    assert_eq!(user_errors(&cycle), [error("parentId", "CYCLE")], "{cycle:#}");
    assert_eq!(cycle["park"], Value::Null);
    let itself = mutate(&schema, "updatePark", json!({ "id": outer, "version": 1, "parentId": outer })).await;
    assert_eq!(user_errors(&itself), [error("parentId", "CYCLE")]);
    assert_eq!(counts(&test.db).await, before, "a refused move writes nothing");
    let row = park::Entity::find_by_id(outer_uuid).one(&test.db).await.expect("read").expect("row");
    assert_eq!(row.version, 1);

    // A writer that read an older version is refused and changes nothing.
    let stale = mutate(&schema, "updatePark", json!({ "id": inner, "version": 1, "nameEn": "Stale" })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    assert!(stale["userErrors"][0]["message"].as_str().expect("message").contains("version 3"), "{stale:#}");
    assert_eq!(counts(&test.db).await, before, "a stale update writes nothing");

    // A park that still contains a live park cannot be archived.
    let refused = mutate(&schema, "archivePark", json!({ "id": outer, "version": 1 })).await;
    assert_eq!(user_errors(&refused), [error("id", "INCONSISTENT")]);
    assert!(refused["userErrors"][0]["message"].as_str().expect("message").contains("测试分园"), "{refused:#}");
    assert_eq!(counts(&test.db).await, before, "a refused archive writes nothing");

    // Archive the child, then the parent; nothing can be created under an archived park,
    // and the child comes back only once its parent is live again.
    let archived_inner = mutate(&schema, "archivePark", json!({ "id": inner, "version": 3 })).await;
    assert_eq!(user_errors(&archived_inner), []);
    assert_eq!(archived_inner["park"]["version"], 4);
    let archived_outer = mutate(&schema, "archivePark", json!({ "id": outer, "version": 1 })).await;
    assert_eq!(user_errors(&archived_outer), []);
    let orphan =
        mutate(&schema, "createPark", json!({ "kind": "SCIENCE_PARK", "nameZh": "孤儿园", "parentId": outer })).await;
    assert_eq!(user_errors(&orphan), [error("parentId", "NOT_FOUND")]);
    let early = mutate(&schema, "restorePark", json!({ "id": inner, "version": 4 })).await;
    assert_eq!(user_errors(&early), [error("parentId", "NOT_FOUND")]);
    let restored_outer = mutate(&schema, "restorePark", json!({ "id": outer, "version": 2 })).await;
    assert_eq!(user_errors(&restored_outer), []);
    let restored_inner = mutate(&schema, "restorePark", json!({ "id": inner, "version": 4 })).await;
    assert_eq!(user_errors(&restored_inner), []);
    assert_eq!(restored_inner["park"]["version"], 5);
    let row = park::Entity::find_by_id(inner_uuid).one(&test.db).await.expect("read").expect("row");
    assert_eq!((row.archived_at, row.parent_id), (None, Some(outer_uuid)));

    // History, through GraphQL, oldest first.
    let history = run_as(
        &schema,
        editor(),
        "query($id: ID!) { node(id: $id) { ... on Park { history(first: 20) { nodes { version operation actor } } } } }",
        json!({ "id": inner }),
    )
    .await;
    assert!(history.get("errors").is_none(), "{history:#}");
    let steps: Vec<(i64, String)> = history["data"]["node"]["history"]["nodes"]
        .as_array()
        .expect("history")
        .iter()
        .map(|n| (n["version"].as_i64().unwrap_or_default(), n["operation"].as_str().unwrap_or_default().to_string()))
        .collect();
    let expected: Vec<(i64, String)> = [(1, "CREATE"), (2, "UPDATE"), (3, "UPDATE"), (4, "ARCHIVE"), (5, "RESTORE")]
        .into_iter()
        .map(|(v, o)| (v, o.to_string()))
        .collect();
    assert_eq!(steps, expected, "{history:#}");

    // The feed, after the sample: every park change, in order.
    let feed = write::changes(&test.db, feed_start, 1000, None).await.expect("feed");
    let seen: Vec<(EntityType, uuid::Uuid, i32, Operation)> =
        feed.iter().map(|c| (c.entity_type, c.entity_id, c.version, c.operation)).collect();
    assert_eq!(
        seen,
        [
            (EntityType::Park, outer_uuid, 1, Operation::Create),
            (EntityType::Park, inner_uuid, 1, Operation::Create),
            (EntityType::Park, inner_uuid, 2, Operation::Update),
            (EntityType::Park, inner_uuid, 3, Operation::Update),
            (EntityType::Park, inner_uuid, 4, Operation::Archive),
            (EntityType::Park, outer_uuid, 2, Operation::Archive),
            (EntityType::Park, outer_uuid, 3, Operation::Restore),
            (EntityType::Park, inner_uuid, 5, Operation::Restore),
        ]
    );
    assert!(feed.iter().all(|c| c.actor == "editor:wang"));
}

#[tokio::test]
async fn an_analyst_cannot_create_or_move_a_park_and_nothing_is_written() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = donghu(&schema).await;
    let before = counts(&test.db).await;
    let create = json!({ "input": { "kind": "SCIENCE_PARK", "nameZh": "分析园", "parentId": zone } });
    let response = run_as(&schema, caller(Role::Analyst, "analyst:li"), &mutation("createPark"), create).await;
    assert_eq!(codes(&response), ["FORBIDDEN"], "{response:#}");
    let archive = json!({ "input": { "id": zone, "version": 1 } });
    let response = run_as(&schema, caller(Role::Analyst, "analyst:li"), &mutation("archivePark"), archive).await;
    assert_eq!(codes(&response), ["FORBIDDEN"], "{response:#}");
    assert_eq!(counts(&test.db).await, before);
}

/// Two editors at once move two sibling parks each under the other: each move alone is
/// fine, together they would form a loop. Park commands are serialized (SQLite's
/// `BEGIN IMMEDIATE`, PostgreSQL's advisory lock), so the second sees the first and is a
/// `CYCLE`; no round leaves a loop.
#[tokio::test]
async fn two_concurrent_opposite_moves_never_form_a_loop() {
    use parkgraph_domain::ParkKind;
    use parkgraph_domain::validation::{ErrorCode, ParkDraft, ParkPatch, Patch};
    use parkgraph_registry::{Actor, CommandError, Registry};

    let test = TestDb::migrated().await;
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("editor:wang");
    let zone =
        registry.create_park(&actor, ParkDraft::new(ParkKind::NationalHighTechZone, "东湖")).await.expect("zone");
    for round in 0..10 {
        let under_zone =
            |name: String| ParkDraft { parent_id: Some(zone.id), ..ParkDraft::new(ParkKind::SciencePark, name) };
        let a = registry.create_park(&actor, under_zone(format!("甲{round}"))).await.expect("a");
        let b = registry.create_park(&actor, under_zone(format!("乙{round}"))).await.expect("b");
        let move_under = |parent: uuid::Uuid| ParkPatch { parent_id: Patch::Set(parent), ..Default::default() };
        let (first, second) = tokio::join!(
            registry.update_park(&actor, a.id, 1, move_under(b.id)),
            registry.update_park(&actor, b.id, 1, move_under(a.id)),
        );
        let outcomes = [first, second];
        assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 1, "round {round}: exactly one move wins");
        for outcome in outcomes {
            match outcome {
                Ok(_) => {}
                Err(CommandError::Invalid(invalid)) => {
                    let found: Vec<ErrorCode> = invalid.errors().iter().map(|e| e.code).collect();
                    assert_eq!(found, [ErrorCode::Cycle], "round {round}");
                }
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        let a = park::Entity::find_by_id(a.id).one(&test.db).await.expect("read").expect("a");
        let b = park::Entity::find_by_id(b.id).one(&test.db).await.expect("read").expect("b");
        assert!(!(a.parent_id == Some(b.id) && b.parent_id == Some(a.id)), "round {round}: a loop was stored");
    }
}
