//! The read side of the change feed and of record history, on the backend under test:
//! `changes` pages by `seq` with cursors, filters by type, carries tombstones with a null
//! `after`, is refused without `read:changes`, hides internal fields from partners and is
//! charged like a connection; `history` is for staff only; `parkgraph changes` prints the
//! feed as NDJSON. Changes are written with the storage write path directly.

mod common;

use chrono::Utc;
use common::{TestDb, codes};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_api::cost::CostMeter;
use parkgraph_domain::{Role, Scope};
use parkgraph_persistence::entity::{enterprise_location, organization, park};
use parkgraph_persistence::sea_orm::sea_query::Expr;
use parkgraph_persistence::sea_orm::{ActiveModelTrait, DatabaseConnection, IntoActiveModel};
use parkgraph_persistence::write::{EntityType, Operation, Revision, archive, record, update_versioned};
use serde_json::{Value, json};
use uuid::Uuid;

fn caller(role: Role, scopes: &str) -> Caller {
    Caller {
        role,
        scopes: Scope::parse_list(scopes).expect("known scopes"),
        subject: format!("test:{role}"),
        jti: None,
        partner_id: None,
    }
}

fn analyst() -> Caller {
    caller(Role::Analyst, &Scope::join(&Role::Analyst.default_scopes()))
}

async fn run_as(schema: &ParkGraphSchema, who: Caller, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    let response = parkgraph_api::execute_as(schema, request, who).await;
    serde_json::to_value(&response).expect("response serializes")
}

async fn data_as(schema: &ParkGraphSchema, who: Caller, query: &str, variables: Value) -> Value {
    let response = run_as(schema, who, query, variables).await;
    assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
    response["data"].clone()
}

fn organization_fields(name: &str) -> Value {
    json!({ "kind": "ENTERPRISE", "name_zh": name, "status": "ACTIVE", "staff_notes": "internal note", "contact_email": "x@example.cn" })
}

/// An organization row at version 1 and its creation in history and the feed.
async fn create_organization(db: &DatabaseConnection, name: &str) -> Uuid {
    let now = Utc::now();
    let row = organization::Model {
        id: Uuid::now_v7(),
        kind: "ENTERPRISE".into(),
        name_zh: name.into(),
        name_en: None,
        legal_name: None,
        uscc: None,
        uscc_warning: None,
        founded_on: None,
        founded_on_precision: None,
        industry: None,
        registered_capital_cny: None,
        headcount: None,
        website: None,
        status: "ACTIVE".into(),
        city: Some("武汉".into()),
        district: None,
        contact_name: None,
        contact_phone: None,
        contact_email: Some("x@example.cn".into()),
        staff_notes: Some("internal note".into()),
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
    row.into_active_model().insert(db).await.expect("insert an organization");
    let revision = Revision {
        entity_type: EntityType::Organization,
        entity_id: id,
        version: 1,
        operation: Operation::Create,
        actor: "staff:editor".into(),
        at: now,
        before: None,
        after: Some(organization_fields(name)),
    };
    record(db, &revision).await.expect("record the creation");
    id
}

/// A park row at version 1 and its creation in history and the feed.
async fn create_park(db: &DatabaseConnection, name: &str) -> Uuid {
    let now = Utc::now();
    let row = park::Model {
        id: Uuid::now_v7(),
        parent_id: None,
        name_zh: name.into(),
        name_en: None,
        kind: "SCIENCE_PARK".into(),
        city: Some("武汉".into()),
        district: None,
        address: None,
        latitude: None,
        longitude: None,
        area_km2: None,
        established_on: None,
        established_on_precision: None,
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
    row.into_active_model().insert(db).await.expect("insert a park");
    let revision = Revision {
        entity_type: EntityType::Park,
        entity_id: id,
        version: 1,
        operation: Operation::Create,
        actor: "staff:editor".into(),
        at: now,
        before: None,
        after: Some(json!({ "kind": "SCIENCE_PARK", "name_zh": name })),
    };
    record(db, &revision).await.expect("record the creation");
    id
}

/// Renames an organization from version `expected`, with its revision and feed entry.
async fn rename_organization(db: &DatabaseConnection, id: Uuid, expected: i32, from: &str, to: &str) {
    let at = Utc::now();
    let version = update_versioned(db, EntityType::Organization, id, expected, at, [("name_zh", Expr::val(to))])
        .await
        .expect("rename");
    let revision = Revision {
        entity_type: EntityType::Organization,
        entity_id: id,
        version,
        operation: Operation::Update,
        actor: "staff:editor".into(),
        at,
        before: Some(organization_fields(from)),
        after: Some(organization_fields(to)),
    };
    record(db, &revision).await.expect("record the rename");
}

/// Archives an organization from version `expected`: a tombstone in the feed.
async fn archive_organization(db: &DatabaseConnection, id: Uuid, expected: i32, name: &str) {
    let at = Utc::now();
    let version = archive(db, EntityType::Organization, id, expected, at).await.expect("archive");
    let mut after = organization_fields(name);
    after["archived_at"] = json!(at.to_rfc3339());
    let revision = Revision {
        entity_type: EntityType::Organization,
        entity_id: id,
        version,
        operation: Operation::Archive,
        actor: "staff:editor".into(),
        at,
        before: Some(organization_fields(name)),
        after: Some(after),
    };
    record(db, &revision).await.expect("record the archive");
}

/// Five changes: org A created (1), park created (2), org B created (3), A renamed (4),
/// B archived (5).
async fn five_changes(db: &DatabaseConnection) -> (Uuid, Uuid, Uuid) {
    let a = create_organization(db, "斗鱼").await;
    let p = create_park(db, "光谷软件园").await;
    let b = create_organization(db, "小米武汉").await;
    rename_organization(db, a, 1, "斗鱼", "斗鱼网络").await;
    archive_organization(db, b, 1, "小米武汉").await;
    (a, p, b)
}

const FEED: &str = "query($after: String, $first: Int, $types: [ChangeEntityType!]) {
  changes(after: $after, first: $first, types: $types) {
    edges { cursor node { seq entityType entityId databaseId version operation tombstone at actor after } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}";

fn seqs(page: &Value) -> Vec<i64> {
    page["changes"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["seq"].as_i64().expect("seq"))
        .collect()
}

#[tokio::test]
async fn the_feed_pages_in_seq_order_with_cursors_filters_by_type_and_carries_tombstones() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let (a, p, b) = five_changes(&test.db).await;

    // Page through two at a time.
    let mut after: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let page = data_as(&schema, analyst(), FEED, json!({ "after": after, "first": 2 })).await;
        pages.push(seqs(&page));
        let info = &page["changes"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], after.is_some(), "{page:#}");
        if info["hasNextPage"] == false {
            break;
        }
        after = Some(info["endCursor"].as_str().expect("endCursor").to_string());
    }
    assert_eq!(pages, vec![vec![1, 2], vec![3, 4], vec![5]]);

    let all = data_as(&schema, analyst(), FEED, json!({ "first": 100 })).await;
    let edges = all["changes"]["edges"].as_array().expect("edges").clone();
    let nodes: Vec<&Value> = edges.iter().map(|e| &e["node"]).collect();
    let expected = [
        (a, "ORGANIZATION", 1, "CREATE"),
        (p, "PARK", 1, "CREATE"),
        (b, "ORGANIZATION", 1, "CREATE"),
        (a, "ORGANIZATION", 2, "UPDATE"),
        (b, "ORGANIZATION", 2, "ARCHIVE"),
    ];
    for (node, (id, kind, version, operation)) in nodes.iter().zip(expected) {
        assert_eq!(node["databaseId"], id.to_string(), "{node}");
        assert_eq!(node["entityType"], kind, "{node}");
        assert_eq!(node["version"], version, "{node}");
        assert_eq!(node["operation"], operation, "{node}");
        assert_eq!(node["actor"], "staff:editor");
    }
    // The global id is the one `node(id:)` takes.
    let found = data_as(
        &schema,
        analyst(),
        "query($id: ID!) { node(id: $id) { ... on Organization { databaseId } } }",
        json!({ "id": nodes[0]["entityId"] }),
    )
    .await;
    assert_eq!(found["node"]["databaseId"], a.to_string());
    assert_eq!(nodes[3]["after"]["name_zh"], "斗鱼网络");
    assert_eq!(nodes[4]["tombstone"], true);
    assert_eq!(nodes[4]["after"], Value::Null, "a tombstone carries no fields");
    assert_eq!(nodes[3]["tombstone"], false);

    // Filtering by type keeps the feed's order and cursors.
    let parks = data_as(&schema, analyst(), FEED, json!({ "types": ["PARK"] })).await;
    assert_eq!(seqs(&parks), vec![2]);
    let orgs = data_as(&schema, analyst(), FEED, json!({ "types": ["ORGANIZATION"], "first": 2 })).await;
    assert_eq!(seqs(&orgs), vec![1, 3]);
    let rest = data_as(
        &schema,
        analyst(),
        FEED,
        json!({ "types": ["ORGANIZATION"], "after": orgs["changes"]["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(seqs(&rest), vec![4, 5]);

    // A reader at the end sees nothing, then exactly what was written after its cursor.
    let end = edges[4]["cursor"].clone();
    let nothing = data_as(&schema, analyst(), FEED, json!({ "after": end })).await;
    assert_eq!(seqs(&nothing), Vec::<i64>::new());
    assert_eq!(nothing["changes"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(nothing["changes"]["pageInfo"]["endCursor"], Value::Null, "keep the cursor you have");
    rename_organization(&test.db, a, 2, "斗鱼网络", "斗鱼").await;
    let next = data_as(&schema, analyst(), FEED, json!({ "after": end })).await;
    assert_eq!(seqs(&next), vec![6]);
}

#[tokio::test]
async fn cursors_of_other_lists_garbage_and_oversized_pages_are_bad_user_input() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    create_park(&test.db, "光谷软件园").await;
    let parks = data_as(&schema, analyst(), "{ parks(first: 1) { pageInfo { endCursor } } }", json!({})).await;
    let connection_cursor = parks["parks"]["pageInfo"]["endCursor"].clone();
    for variables in [
        json!({ "after": connection_cursor }),
        json!({ "after": "nope" }),
        json!({ "after": "1" }),
        json!({ "first": 101 }),
        json!({ "first": -1 }),
    ] {
        let response = run_as(&schema, analyst(), FEED, variables.clone()).await;
        assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{variables}: {response:#}");
    }
}

#[tokio::test]
async fn the_feed_needs_read_changes_and_shows_partners_only_their_families_without_internal_fields() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    five_changes(&test.db).await;

    let partner = caller(Role::Partner, &Scope::join(&Role::Partner.default_scopes()));
    assert!(!partner.has(Scope::ReadChanges), "a partner is not granted the feed by default");
    for who in [partner, Caller::anonymous()] {
        let response = run_as(&schema, who.clone(), FEED, json!({})).await;
        assert_eq!(codes(&response), vec!["FORBIDDEN"], "{}: {response:#}", who.role);
        assert_eq!(response["data"], Value::Null);
    }

    // A partner granted the feed and parks only: park changes, and organizations refused.
    let parks_only = caller(Role::Partner, "read:changes read:parks");
    let page = data_as(&schema, parks_only.clone(), FEED, json!({})).await;
    assert_eq!(seqs(&page), vec![2]);
    let response = run_as(&schema, parks_only, FEED, json!({ "types": ["ORGANIZATION"] })).await;
    assert_eq!(codes(&response), vec!["FORBIDDEN"], "{response:#}");

    // Internal fields: kept for staff with read:internal, removed for a partner.
    let syncing = caller(Role::Partner, "read:changes read:parks read:organizations");
    let page = data_as(&schema, syncing, FEED, json!({ "types": ["ORGANIZATION"] })).await;
    let after = &page["changes"]["edges"][0]["node"]["after"];
    assert_eq!(after["name_zh"], "斗鱼", "{after}");
    assert_eq!(page["changes"]["edges"][0]["node"]["actor"], Value::Null, "staff identities stay with staff");
    assert!(after.get("staff_notes").is_none() && after.get("contact_email").is_none(), "{after}");
    let page = data_as(&schema, analyst(), FEED, json!({ "types": ["ORGANIZATION"] })).await;
    assert_eq!(page["changes"]["edges"][0]["node"]["after"]["staff_notes"], "internal note");
}

#[tokio::test]
async fn the_feed_is_priced_by_first_and_charged_by_the_changes_returned() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    five_changes(&test.db).await;
    let query = "{ changes(first: 100) { edges { node { seq } } nodes { seq } pageInfo { endCursor } } }";
    let doc = async_graphql::parser::parse_query(query).expect("parses");
    let analysis = parkgraph_api::cost::analyze(&doc, None, &async_graphql::Variables::default(), 1_000);
    assert!(analysis.requested_cost > 100, "priced by first: {analysis:?}");

    let meter = CostMeter::new();
    let request = async_graphql::Request::new(query).data(meter.clone());
    let response = parkgraph_api::execute_as(&schema, request, analyst()).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(meter.actual_cost(), 1 + 5, "five changes returned, charged once");
}

const HISTORY: &str = "query($id: ID!, $after: String) { node(id: $id) {
  ... on Organization { history(first: 1, after: $after) { ...H } }
  ... on Park { history(first: 1, after: $after) { ...H } }
} }
fragment H on RevisionConnection {
  edges { cursor node { version operation actor at before after } }
  pageInfo { hasNextPage endCursor }
}";

#[tokio::test]
async fn history_lists_a_records_versions_oldest_first_for_staff_only() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let (a, p, _) = five_changes(&test.db).await;
    let org = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Organization, a);
    let editor = caller(Role::Editor, &Scope::join(&Role::Editor.default_scopes()));

    let first = data_as(&schema, editor.clone(), HISTORY, json!({ "id": org })).await;
    let history = &first["node"]["history"];
    assert_eq!(history["edges"][0]["node"]["version"], 1);
    assert_eq!(history["edges"][0]["node"]["operation"], "CREATE");
    assert_eq!(history["edges"][0]["node"]["before"], Value::Null);
    assert_eq!(history["pageInfo"]["hasNextPage"], true);
    let second =
        data_as(&schema, editor.clone(), HISTORY, json!({ "id": org, "after": history["pageInfo"]["endCursor"] }))
            .await;
    let revision = &second["node"]["history"]["edges"][0]["node"];
    assert_eq!(revision["version"], 2);
    assert_eq!(revision["operation"], "UPDATE");
    assert_eq!(revision["actor"], "staff:editor");
    assert_eq!(revision["before"]["name_zh"], "斗鱼");
    assert_eq!(revision["after"]["name_zh"], "斗鱼网络");
    assert_eq!(revision["after"]["staff_notes"], "internal note", "staff with read:internal see internal fields");
    assert_eq!(second["node"]["history"]["pageInfo"]["hasNextPage"], false);

    let park = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Park, p);
    let parks = data_as(&schema, editor, HISTORY, json!({ "id": park })).await;
    assert_eq!(parks["node"]["history"]["edges"][0]["node"]["after"]["name_zh"], "光谷软件园");

    // An analyst narrowed to no internal fields sees history without them.
    let narrowed = caller(Role::Analyst, "read:organizations");
    let page = data_as(&schema, narrowed, HISTORY, json!({ "id": org })).await;
    assert!(page["node"]["history"]["edges"][0]["node"]["after"].get("staff_notes").is_none(), "{page}");

    let partner = caller(Role::Partner, "read:organizations read:parks read:changes");
    for who in [partner, Caller::anonymous()] {
        let response = run_as(&schema, who.clone(), HISTORY, json!({ "id": org })).await;
        assert_eq!(codes(&response), vec!["FORBIDDEN"], "{}: {response:#}", who.role);
    }
}

#[tokio::test]
async fn a_link_has_history_and_its_end_is_a_tombstone_in_the_feed() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let organization = create_organization(&test.db, "斗鱼").await;
    let park = create_park(&test.db, "光谷软件园").await;
    let now = Utc::now();
    let link = enterprise_location::Model {
        id: Uuid::now_v7(),
        organization_id: organization,
        park_id: park,
        role: "HQ".into(),
        since: None,
        since_precision: None,
        source_name: None,
        source_url: None,
        as_of: None,
        as_of_precision: None,
        created_at: now,
        updated_at: now,
        version: 1,
        archived_at: None,
    };
    let id = link.id;
    link.into_active_model().insert(&test.db).await.expect("insert a location");
    let added = Revision {
        entity_type: EntityType::EnterpriseLocation,
        entity_id: id,
        version: 1,
        operation: Operation::AddLink,
        actor: "staff:editor".into(),
        at: now,
        before: None,
        after: Some(json!({ "organization_id": organization, "park_id": park, "role": "HQ" })),
    };
    record(&test.db, &added).await.expect("record the link");

    let editor = caller(Role::Editor, &Scope::join(&Role::Editor.default_scopes()));
    let query = "query($id: ID!) { node(id: $id) { ... on Park { enterprises { edges {
        history { edges { node { version operation after } } } } } } } }";
    let park_id = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Park, park);
    let found = data_as(&schema, editor, query, json!({ "id": park_id })).await;
    let revision = &found["node"]["enterprises"]["edges"][0]["history"]["edges"][0]["node"];
    assert_eq!(revision["operation"], "ADD_LINK", "{found:#}");
    assert_eq!(revision["after"]["role"], "HQ");

    let at = Utc::now();
    let version = archive(&test.db, EntityType::EnterpriseLocation, id, 1, at).await.expect("end the link");
    let ended = Revision { version, operation: Operation::EndLink, at, before: added.after.clone(), ..added };
    record(&test.db, &ended).await.expect("record the end");
    let page = data_as(&schema, analyst(), FEED, json!({ "types": ["ENTERPRISE_LOCATION"] })).await;
    let nodes: Vec<&Value> = page["changes"]["edges"].as_array().expect("edges").iter().map(|e| &e["node"]).collect();
    assert_eq!(nodes.iter().map(|n| n["operation"].clone()).collect::<Vec<_>>(), vec!["ADD_LINK", "END_LINK"]);
    assert_eq!(nodes[1]["tombstone"], true);
    assert_eq!(nodes[1]["after"], Value::Null);
    assert_eq!(nodes[1]["entityId"], id.to_string(), "a link has no global id: its UUID");
    // A partner must hold both ends' read scopes to see a link's changes.
    let parks_only = caller(Role::Partner, "read:changes read:parks");
    let response = run_as(&schema, parks_only, FEED, json!({ "types": ["ENTERPRISE_LOCATION"] })).await;
    assert_eq!(codes(&response), vec!["FORBIDDEN"]);
}

#[tokio::test]
async fn the_cli_prints_the_feed_as_ndjson_with_increasing_seqs_and_cursors() {
    let dir = std::env::temp_dir().join(format!("parkgraph-changes-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("registry.db").display());
    let db = parkgraph_persistence::connect(&url, 2).await.expect("connect");
    parkgraph_persistence::migrate_up(&db).await.expect("migrate");
    five_changes(&db).await;
    db.close().await.ok();

    let cli = |args: &[&str]| -> Vec<Value> {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_parkgraph"))
            .args(["--database-url", &url, "changes"])
            .args(args)
            .env("PARKGRAPH_LOG", "warn")
            .output()
            .expect("runs parkgraph");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?} is not JSON: {e}")))
            .collect()
    };
    let seq = |lines: &[Value]| lines.iter().map(|l| l["seq"].as_i64().expect("seq")).collect::<Vec<_>>();

    let all = cli(&[]);
    assert_eq!(seq(&all), vec![1, 2, 3, 4, 5]);
    assert!(all.iter().all(|l| l["cursor"].is_string() && l["entityType"].is_string()), "{all:?}");
    assert_eq!(all[4]["after"], Value::Null);
    assert_eq!(seq(&cli(&["--after", "2", "--limit", "2"])), vec![3, 4]);
    let cursor = all[2]["cursor"].as_str().expect("cursor").to_string();
    assert_eq!(seq(&cli(&["--after", &cursor])), vec![4, 5]);
    assert_eq!(seq(&cli(&["--types", "park"])), vec![2]);

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_parkgraph"))
        .args(["--database-url", &url, "changes", "--types", "castle"])
        .output()
        .expect("runs parkgraph");
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("castle"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Through the HTTP router with real tokens: a partner token issued without `read:changes`
/// (the default) is refused the feed, one issued with it reads it.
#[tokio::test]
async fn over_http_a_partner_token_reads_the_feed_only_when_granted_read_changes() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use http_body_util::BodyExt;
    use parkgraph::config::{KeyConfig, Secret};
    use parkgraph_registry::token::{IssueRequest, issue};
    use tower::ServiceExt;

    let test = TestDb::migrated().await;
    five_changes(&test.db).await;
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
    let token = |scopes: Option<&str>| {
        let request = IssueRequest {
            partner: Some("Wuhan Data Institute".into()),
            role: Role::Partner,
            scopes: scopes.map(|s| Scope::parse_list(s).expect("scopes")),
            ttl: std::time::Duration::from_secs(3600),
            subject: None,
            description: None,
            issued_by: None,
        };
        let (db, keys) = (test.db.clone(), std::sync::Arc::clone(&keys));
        async move { issue(&db, &keys, request).await.expect("issues").0 }
    };
    let call = |token: String| {
        let router = router.clone();
        async move {
            let payload =
                json!({ "query": "{ changes(first: 3) { edges { node { seq } } pageInfo { hasNextPage } } }" })
                    .to_string();
            let request = Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, payload.len())
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(payload))
                .expect("request");
            let response = router.oneshot(request).await.expect("response");
            let status = response.status();
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
        }
    };

    let (status, body) = call(token(None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(codes(&body), vec!["FORBIDDEN"], "{body}");
    let (status, body) = call(token(Some("read:parks,read:organizations,read:changes")).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(seqs(&body["data"]), vec![1, 2, 3], "{body}");
    assert_eq!(body["data"]["changes"]["pageInfo"]["hasNextPage"], true);
}

/// The registry's own write path (organization mutations) feeds `changes` and `history`:
/// an editor creates, corrects twice and archives an enterprise; every step shows, in order.
#[tokio::test]
async fn mutations_show_in_the_feed_and_in_history_in_order() {
    let test = TestDb::migrated().await;
    let schema = test.schema();
    let editor = Caller {
        role: Role::Editor,
        scopes: Role::Editor.default_scopes(),
        subject: "editor:wang".into(),
        jti: None,
        partner_id: None,
    };
    let mutate = |mutation: &'static str, input: Value| {
        let (schema, editor) = (schema.clone(), editor.clone());
        async move {
            let kind = format!("{}{}Input", mutation[..1].to_uppercase(), &mutation[1..]);
            let query = format!(
                "mutation($input: {kind}!) {{ {mutation}(input: $input) {{ organization {{ id version }} userErrors {{ message }} }} }}"
            );
            let data = data_as(&schema, editor, &query, json!({ "input": input })).await;
            assert_eq!(data[mutation]["userErrors"], json!([]), "{data:#}");
            data[mutation]["organization"].clone()
        }
    };
    let created =
        mutate("createOrganization", json!({ "kind": "ENTERPRISE", "nameZh": "斗鱼", "status": "ACTIVE" })).await;
    let id = created["id"].clone();
    mutate("updateOrganization", json!({ "id": id, "version": 1, "headcount": 2500 })).await;
    mutate("updateOrganization", json!({ "id": id, "version": 2, "nameEn": "DouYu" })).await;
    mutate("archiveOrganization", json!({ "id": id, "version": 3 })).await;

    let page = data_as(&schema, analyst(), FEED, json!({ "types": ["ORGANIZATION"] })).await;
    let nodes: Vec<&Value> = page["changes"]["edges"].as_array().expect("edges").iter().map(|e| &e["node"]).collect();
    let steps: Vec<(Value, Value)> = nodes.iter().map(|n| (n["operation"].clone(), n["version"].clone())).collect();
    assert_eq!(
        steps,
        vec![
            (json!("CREATE"), json!(1)),
            (json!("UPDATE"), json!(2)),
            (json!("UPDATE"), json!(3)),
            (json!("ARCHIVE"), json!(4))
        ],
        "{page:#}"
    );
    assert!(nodes.iter().all(|n| n["entityId"] == id && n["actor"] == "editor:wang"), "{page:#}");
    assert_eq!(nodes[3]["after"], Value::Null);
    assert_eq!(nodes[3]["tombstone"], true);
    let seqs: Vec<i64> = nodes.iter().map(|n| n["seq"].as_i64().expect("seq")).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    let query = "query($id: ID!) { node(id: $id) { ... on Organization { history(first: 10) { nodes { version operation actor } } } } }";
    let history = data_as(&schema, editor.clone(), query, json!({ "id": id })).await;
    let versions: Vec<(Value, Value)> = history["node"]["history"]["nodes"]
        .as_array()
        .expect("history")
        .iter()
        .map(|r| (r["operation"].clone(), r["version"].clone()))
        .collect();
    assert_eq!(versions, steps, "{history:#}");
}
