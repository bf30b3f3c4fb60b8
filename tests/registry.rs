//! Changing the registry through GraphQL: an editor's token creates, corrects, archives
//! and restores organizations; every change leaves a revision and a feed entry, in order;
//! invalid input, stale versions and duplicate codes are user errors that change nothing;
//! an analyst is refused. Runs on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::{TestDb, codes};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::Role;
use parkgraph_persistence::entity::{organization, revision};
use parkgraph_persistence::sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use parkgraph_persistence::write::{self, EntityType, Operation};
use serde_json::{Value, json};

const DOUYU_USCC: &str = "91110108551385082Q";
/// An early pilot code: right length and alphabet, wrong check character.
const PILOT_USCC: &str = "91350203M0001FUE2P";

const FIELDS: &str = "organization { id databaseId version nameZh nameEn uscc usccWarning headcount \
                      foundedDate { text } } userErrors { field message code }";

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

/// Runs one organization mutation as `who` and returns its payload (no top-level errors).
async fn mutate(schema: &ParkGraphSchema, who: Caller, mutation: &str, input: Value) -> Value {
    let kind = format!("{}{}Input", mutation[..1].to_uppercase(), &mutation[1..]);
    let query = format!("mutation($input: {kind}!) {{ {mutation}(input: $input) {{ {FIELDS} }} }}");
    let response = run_as(schema, who, &query, json!({ "input": input })).await;
    assert!(response.get("errors").is_none(), "unexpected top-level errors: {response:#}");
    response["data"][mutation].clone()
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

fn douyu() -> Value {
    json!({
        "kind": "ENTERPRISE",
        "nameZh": " 斗鱼 ",
        "status": "ACTIVE",
        "uscc": DOUYU_USCC,
        "foundedOn": "2014",
        "headcount": 2000,
        "website": "https://www.douyu.com",
    })
}

async fn counts(db: &DatabaseConnection) -> (u64, u64, usize) {
    let rows = organization::Entity::find().count(db).await.expect("count organizations");
    let revisions = revision::Entity::find().count(db).await.expect("count revisions");
    let changes = write::changes(db, None, 1000, None).await.expect("read the feed").len();
    (rows, revisions, changes)
}

#[tokio::test]
async fn an_editor_creates_corrects_twice_and_archives_an_enterprise_leaving_history_and_feed_in_order() {
    let test = TestDb::migrated().await;
    let schema = test.schema();

    let created = mutate(&schema, editor(), "createOrganization", douyu()).await;
    assert_eq!(user_errors(&created), []);
    let org = &created["organization"];
    assert_eq!((org["version"].as_i64(), org["nameZh"].as_str()), (Some(1), Some("斗鱼")));
    assert_eq!(org["foundedDate"]["text"], "2014");
    let id = org["id"].as_str().expect("id").to_string();
    let uuid: uuid::Uuid = org["databaseId"].as_str().expect("databaseId").parse().expect("uuid");

    let first =
        mutate(&schema, editor(), "updateOrganization", json!({ "id": id, "version": 1, "headcount": 2500 })).await;
    assert_eq!(user_errors(&first), []);
    assert_eq!(
        (first["organization"]["version"].as_i64(), first["organization"]["headcount"].as_i64()),
        (Some(2), Some(2500))
    );

    let second = mutate(
        &schema,
        editor(),
        "updateOrganization",
        json!({ "id": id, "version": 2, "nameEn": "DouYu", "foundedOn": "2014-01", "headcount": null }),
    )
    .await;
    assert_eq!(user_errors(&second), []);
    let org = &second["organization"];
    assert_eq!(org["version"], 3);
    assert_eq!((org["nameEn"].as_str(), org["headcount"].as_i64()), (Some("DouYu"), None), "null clears a field");
    assert_eq!(org["foundedDate"]["text"], "2014-01");
    assert_eq!(org["nameZh"], "斗鱼", "absent fields stay as they were");

    // A writer that read version 1 is refused and changes nothing.
    let before = counts(&test.db).await;
    let stale =
        mutate(&schema, editor(), "updateOrganization", json!({ "id": id, "version": 1, "nameEn": "Stale" })).await;
    assert_eq!(user_errors(&stale), [("version".to_string(), "CONFLICT".to_string())]);
    assert!(stale["userErrors"][0]["message"].as_str().expect("message").contains("version 3"), "{stale:#}");
    assert_eq!(stale["organization"], Value::Null);
    assert_eq!(counts(&test.db).await, before, "a stale update writes nothing");
    let row = organization::Entity::find_by_id(uuid).one(&test.db).await.expect("read").expect("row");
    assert_eq!((row.version, row.name_en.as_deref()), (3, Some("DouYu")));

    let archived = mutate(&schema, editor(), "archiveOrganization", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&archived), []);
    assert_eq!(archived["organization"]["version"], 4);

    let history = write::revisions(&test.db, EntityType::Organization, uuid, None, 100).await.expect("history");
    let steps: Vec<(i32, Operation, &str)> =
        history.iter().map(|r| (r.version, r.operation, r.actor.as_str())).collect();
    assert_eq!(
        steps,
        [
            (1, Operation::Create, "editor:wang"),
            (2, Operation::Update, "editor:wang"),
            (3, Operation::Update, "editor:wang"),
            (4, Operation::Archive, "editor:wang"),
        ]
    );
    assert_eq!(history[0].before, None, "a creation has nothing before");
    assert_eq!(history[1].before.as_ref().map(|b| b["headcount"].clone()), Some(json!(2000)));
    assert_eq!(history[1].after.as_ref().map(|a| a["headcount"].clone()), Some(json!(2500)));
    assert_eq!(history[2].after.as_ref().map(|a| a["name_en"].clone()), Some(json!("DouYu")));
    assert!(history[3].after.as_ref().is_some_and(|a| !a["archived_at"].is_null()));

    let feed = write::changes(&test.db, None, 100, None).await.expect("feed");
    let entries: Vec<(i64, EntityType, uuid::Uuid, i32, Operation)> =
        feed.iter().map(|c| (c.seq, c.entity_type, c.entity_id, c.version, c.operation)).collect();
    assert_eq!(
        entries,
        [
            (1, EntityType::Organization, uuid, 1, Operation::Create),
            (2, EntityType::Organization, uuid, 2, Operation::Update),
            (3, EntityType::Organization, uuid, 3, Operation::Update),
            (4, EntityType::Organization, uuid, 4, Operation::Archive),
        ]
    );
    assert_eq!(feed[3].after, None, "an archive is a tombstone in the feed");
    assert_eq!(feed[2].after, history[2].after);

    // Archiving twice is a user error; restoring brings it back at version 5.
    let again = mutate(&schema, editor(), "archiveOrganization", json!({ "id": id, "version": 4 })).await;
    assert_eq!(user_errors(&again), [("id".to_string(), "INCONSISTENT".to_string())]);
    let restored = mutate(&schema, editor(), "restoreOrganization", json!({ "id": id, "version": 4 })).await;
    assert_eq!(user_errors(&restored), []);
    assert_eq!(restored["organization"]["version"], 5);
    assert_eq!(counts(&test.db).await, (1, 5, 5));
}

#[tokio::test]
async fn invalid_input_is_reported_as_user_errors_and_writes_nothing() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let input = json!({
        "kind": "ENTERPRISE",
        "nameZh": "   ",
        "status": "ACTIVE",
        "uscc": PILOT_USCC,
        "foundedOn": "2999-05",
    });
    let payload = mutate(&schema, editor(), "createOrganization", input).await;
    assert_eq!(payload["organization"], Value::Null);
    let found = user_errors(&payload);
    for expected in [("nameZh", "REQUIRED"), ("uscc", "INVALID_CHECKSUM"), ("foundedOn", "DATE_ORDER")] {
        assert!(found.contains(&(expected.0.to_string(), expected.1.to_string())), "{expected:?} in {found:?}");
    }
    assert_eq!(found.len(), 3, "{found:?}");

    let unreadable = json!({ "kind": "ENTERPRISE", "nameZh": "斗鱼", "status": "ACTIVE", "foundedOn": "last year" });
    let payload = mutate(&schema, editor(), "createOrganization", unreadable).await;
    assert_eq!(user_errors(&payload), [("foundedOn".to_string(), "INVALID_FORMAT".to_string())]);

    assert_eq!(counts(&test.db).await, (0, 0, 0), "no row, no revision, no feed entry");
}

#[tokio::test]
async fn a_pilot_uscc_is_accepted_with_an_override_that_records_who_and_why() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let input = json!({
        "kind": "ENTERPRISE",
        "nameZh": "试点企业",
        "status": "ACTIVE",
        "uscc": PILOT_USCC,
        "usccOverride": { "reason": "Pilot code, confirmed with the Xiamen AMR" },
    });
    let payload = mutate(&schema, editor(), "createOrganization", input).await;
    assert_eq!(user_errors(&payload), []);
    let warning = payload["organization"]["usccWarning"].as_str().expect("a warning is stored");
    assert!(warning.contains("by editor:wang: Pilot code"), "{warning}");
}

#[tokio::test]
async fn an_analyst_is_refused_and_nothing_is_written() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let query =
        format!("mutation($input: CreateOrganizationInput!) {{ createOrganization(input: $input) {{ {FIELDS} }} }}");
    for who in [caller(Role::Analyst, "analyst:li"), Caller::anonymous()] {
        let response = run_as(&schema, who, &query, json!({ "input": douyu() })).await;
        assert_eq!(codes(&response), ["FORBIDDEN"], "{response:#}");
    }
    let mut read_only_editor = editor();
    read_only_editor.scopes.remove(&parkgraph_domain::Scope::WriteRegistry);
    let response = run_as(&schema, read_only_editor, &query, json!({ "input": douyu() })).await;
    assert_eq!(codes(&response), ["FORBIDDEN"], "an editor's token without write:registry: {response:#}");
    assert_eq!(counts(&test.db).await, (0, 0, 0));
}

#[tokio::test]
async fn a_uscc_held_by_another_live_organization_is_a_duplicate() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let first = mutate(&schema, editor(), "createOrganization", douyu()).await;
    assert_eq!(user_errors(&first), []);
    let first_id = first["organization"]["id"].as_str().expect("id").to_string();

    let copy =
        json!({ "kind": "ENTERPRISE", "nameZh": "斗鱼网络", "status": "ACTIVE", "uscc": DOUYU_USCC.to_lowercase() });
    let duplicate = mutate(&schema, editor(), "createOrganization", copy.clone()).await;
    assert_eq!(user_errors(&duplicate), [("uscc".to_string(), "DUPLICATE".to_string())]);
    assert_eq!(counts(&test.db).await, (1, 1, 1), "the duplicate wrote nothing");

    // An update that takes another record's code is a duplicate too.
    let other = mutate(
        &schema,
        editor(),
        "createOrganization",
        json!({ "kind": "ENTERPRISE", "nameZh": "其他", "status": "ACTIVE" }),
    )
    .await;
    let other_id = other["organization"]["id"].as_str().expect("id").to_string();
    let taking =
        mutate(&schema, editor(), "updateOrganization", json!({ "id": other_id, "version": 1, "uscc": DOUYU_USCC }))
            .await;
    assert_eq!(user_errors(&taking), [("uscc".to_string(), "DUPLICATE".to_string())]);

    // Once the holder is archived, its code is free; restoring the holder is then refused.
    let archived = mutate(&schema, editor(), "archiveOrganization", json!({ "id": first_id, "version": 1 })).await;
    assert_eq!(user_errors(&archived), []);
    let replacement = mutate(&schema, editor(), "createOrganization", copy).await;
    assert_eq!(user_errors(&replacement), []);
    let restore = mutate(&schema, editor(), "restoreOrganization", json!({ "id": first_id, "version": 2 })).await;
    assert_eq!(user_errors(&restore), [("uscc".to_string(), "DUPLICATE".to_string())]);
}

#[tokio::test]
async fn an_unknown_organization_is_a_not_found_user_error() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let id = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Organization, uuid::Uuid::now_v7());
    let payload =
        mutate(&schema, editor(), "updateOrganization", json!({ "id": id.0, "version": 1, "nameEn": "X" })).await;
    assert_eq!(user_errors(&payload), [("id".to_string(), "NOT_FOUND".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_editors_updating_one_version_make_one_change_and_the_rest_conflict() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let created = mutate(&schema, editor(), "createOrganization", douyu()).await;
    let id = created["organization"]["id"].as_str().expect("id").to_string();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (schema, id) = (schema.clone(), id.clone());
            tokio::spawn(async move {
                let input = json!({ "id": id, "version": 1, "headcount": 3000 + i });
                mutate(&schema, caller(Role::Editor, &format!("editor:{i}")), "updateOrganization", input).await
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        let payload = task.await.expect("the task ends");
        match user_errors(&payload).as_slice() {
            [] => wins += 1,
            [(field, code)] => assert_eq!((field.as_str(), code.as_str()), ("version", "CONFLICT"), "{payload:#}"),
            other => panic!("unexpected user errors {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one editor wins from one read version");
    assert_eq!(counts(&test.db).await, (1, 2, 2), "one creation and one update, nothing else");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creations_with_one_uscc_make_one_record_and_the_rest_are_duplicates() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let schema = schema.clone();
            tokio::spawn(async move {
                let input = json!({ "kind": "ENTERPRISE", "nameZh": format!("斗鱼{i}"), "status": "ACTIVE", "uscc": DOUYU_USCC });
                mutate(&schema, editor(), "createOrganization", input).await
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        let payload = task.await.expect("the task ends");
        match user_errors(&payload).as_slice() {
            [] => wins += 1,
            [(field, code)] => assert_eq!((field.as_str(), code.as_str()), ("uscc", "DUPLICATE"), "{payload:#}"),
            other => panic!("unexpected user errors {other:?}"),
        }
    }
    assert_eq!(wins, 1, "one live organization per USCC, even when writers race");
    assert_eq!(counts(&test.db).await, (1, 1, 1));
}

/// End to end through the HTTP router with real tokens: the editor's token subject is the
/// actor of the revision and the feed entry; an analyst's token is refused.
#[tokio::test]
async fn over_http_an_editors_token_writes_as_its_subject_and_an_analysts_is_refused() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use http_body_util::BodyExt;
    use parkgraph::config::{KeyConfig, Secret};
    use parkgraph_registry::token::{IssueRequest, issue};
    use tower::ServiceExt;

    let test = TestDb::migrated().await;
    let mut config = parkgraph::Config { database_url: test.url.clone(), ..parkgraph::Config::default() };
    config.auth.keys = vec![KeyConfig {
        kid: "k1".into(),
        algorithm: "HS256".into(),
        secret: Some(Secret("test-secret-of-at-least-thirty-two-bytes!".into())),
        secret_file: None,
        private_key_file: None,
        public_key_file: None,
    }];
    config.auth.signing_kid = Some("k1".into());
    config.auth.dev_keys = false;
    let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
    let keys = std::sync::Arc::new(parkgraph::keys::key_set(&config.auth, &config.database_url).expect("keys"));
    let token = |role: Role| {
        let request = IssueRequest {
            partner: None,
            role,
            scopes: None,
            ttl: std::time::Duration::from_secs(3600),
            subject: Some(format!("{}:zhang", role.code().to_lowercase())),
            description: None,
            issued_by: None,
        };
        let (db, keys) = (test.db.clone(), keys.clone());
        async move { issue(&db, &keys, request).await.expect("issues").0 }
    };
    let post = |token: String| {
        let router = router.clone();
        async move {
            let body = json!({
                "query": format!("mutation($input: CreateOrganizationInput!) {{ createOrganization(input: $input) {{ {FIELDS} }} }}"),
                "variables": { "input": douyu() },
            })
            .to_string();
            let request = Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(body))
                .expect("request");
            let response = router.oneshot(request).await.expect("response");
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            serde_json::from_slice::<Value>(&bytes).expect("JSON")
        }
    };

    let refused = post(token(Role::Analyst).await).await;
    assert_eq!(codes(&refused), ["FORBIDDEN"], "{refused:#}");
    assert_eq!(counts(&test.db).await, (0, 0, 0));

    let created = post(token(Role::Editor).await).await;
    assert!(created.get("errors").is_none(), "{created:#}");
    assert_eq!(user_errors(&created["data"]["createOrganization"]), []);
    let feed = write::changes(&test.db, None, 10, None).await.expect("feed");
    assert_eq!(feed.iter().map(|c| c.actor.as_str()).collect::<Vec<_>>(), ["editor:zhang"]);
}
