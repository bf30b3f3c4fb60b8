//! Changing innovation centers, their memberships and second headquarters through GraphQL,
//! on the Wuhan sample: an editor creates, corrects, archives and restores a center and a
//! second headquarters, adds a membership, changes its role and ends it; each step writes
//! its row version, a revision and a feed entry (an ended membership is an `END_LINK`
//! tombstone); invalid input, a stale version, an endpoint of the wrong kind or archived,
//! and a second live membership of one pair are user errors that change nothing; an
//! analyst is refused. Runs on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::{TestDb, codes};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_api::id::{NodeType, encode};
use parkgraph_domain::Role;
use parkgraph_persistence::entity::{
    innovation_center, innovation_center_membership, organization, park, revision, second_headquarters,
};
use parkgraph_persistence::sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use parkgraph_persistence::write::{self, EntityType, Operation};
use parkgraph_registry::{Actor, Registry};
use serde_json::{Value, json};
use uuid::Uuid;

const CENTER_FIELDS: &str = "innovationCenter { id databaseId version nameZh kind ministry approvedDate { text } \
                             hostPark { nameZh } } userErrors { field message code }";
const MEMBERSHIP_FIELDS: &str = "membership { id databaseId version role joinedDate { text } endedAt \
                                 innovationCenter { nameZh } organization { nameZh } } \
                                 userErrors { field message code }";
const HQ_FIELDS: &str = "secondHeadquarters { id databaseId version nameZh functions status announcedDate { text } \
                         openedDate { text } plannedInvestmentCny plannedHeadcount parent { nameZh } \
                         park { nameZh } localEntity { nameZh } } userErrors { field message code }";

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

fn fields_of(name: &str) -> &'static str {
    if name.contains("Membership") {
        MEMBERSHIP_FIELDS
    } else if name.contains("SecondHeadquarters") {
        HQ_FIELDS
    } else {
        CENTER_FIELDS
    }
}

fn mutation(name: &str) -> String {
    let kind = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    format!("mutation($input: {kind}!) {{ {name}(input: $input) {{ {} }} }}", fields_of(name))
}

/// Runs one mutation as an editor and returns its payload (no top-level errors).
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

fn message(payload: &Value) -> String {
    payload["userErrors"][0]["message"].as_str().unwrap_or_default().to_string()
}

/// Rows of the three tables, revisions and feed entries stored.
async fn counts(db: &DatabaseConnection) -> [u64; 5] {
    [
        innovation_center::Entity::find().count(db).await.expect("count centers"),
        innovation_center_membership::Entity::find().count(db).await.expect("count memberships"),
        second_headquarters::Entity::find().count(db).await.expect("count second headquarters"),
        revision::Entity::find().count(db).await.expect("count revisions"),
        write::changes(db, None, 1_000_000, None).await.expect("read the feed").len() as u64,
    ]
}

async fn feed_end(db: &DatabaseConnection) -> Option<i64> {
    write::changes(db, None, 1_000_000, None).await.expect("feed").last().map(|c| c.seq)
}

/// The feed after `start`, as (type, id, version, operation, has `after`).
async fn feed_after(db: &DatabaseConnection, start: Option<i64>) -> Vec<(EntityType, Uuid, i32, Operation, bool)> {
    write::changes(db, start, 1000, None)
        .await
        .expect("feed")
        .into_iter()
        .map(|c| {
            assert_eq!(c.actor, "editor:wang");
            (c.entity_type, c.entity_id, c.version, c.operation, c.after.is_some())
        })
        .collect()
}

/// Each revision of a record as (version, operation, actor).
async fn revisions(db: &DatabaseConnection, entity: EntityType, id: Uuid) -> Vec<(i32, Operation, String)> {
    write::revisions(db, entity, id, None, 100)
        .await
        .expect("revisions")
        .into_iter()
        .map(|r| (r.version, r.operation, r.actor))
        .collect()
}

fn ed(version: i32, operation: Operation) -> (i32, Operation, String) {
    (version, operation, "editor:wang".to_string())
}

async fn organization_named(db: &DatabaseConnection, name: &str) -> Uuid {
    organization::Entity::find()
        .filter(organization::Column::NameZh.eq(name))
        .one(db)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("{name} is in the sample"))
        .id
}

async fn park_named(db: &DatabaseConnection, name: &str) -> Uuid {
    park::Entity::find()
        .filter(park::Column::NameZh.eq(name))
        .one(db)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("{name} is in the sample"))
        .id
}

async fn center_named(db: &DatabaseConnection, name: &str) -> Uuid {
    innovation_center::Entity::find()
        .filter(innovation_center::Column::NameZh.eq(name))
        .one(db)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("{name} is in the sample"))
        .id
}

fn gid(kind: NodeType, id: Uuid) -> String {
    encode(kind, id).0
}

fn uuid_of(payload: &Value, record: &str) -> Uuid {
    payload[record]["databaseId"].as_str().expect("databaseId").parse().expect("uuid")
}

/// An organization created and archived through the service: not live.
async fn archived_organization(registry: &Registry, name: &str) -> Uuid {
    use parkgraph_domain::validation::OrganizationDraft;
    use parkgraph_domain::{OrganizationKind, OrganizationStatus};
    let actor = Actor::new("editor:wang");
    let draft = OrganizationDraft::new(OrganizationKind::Enterprise, name, OrganizationStatus::Active);
    let row = registry.create_organization(&actor, draft).await.expect("create");
    registry.archive_organization(&actor, row.id, 1).await.expect("archive").id
}

#[tokio::test]
async fn an_editor_creates_corrects_archives_and_restores_an_innovation_center_with_revisions_and_feed() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let future_city = gid(NodeType::Park, park_named(&test.db, "武汉未来科技城").await);
    let hust = gid(NodeType::Organization, organization_named(&test.db, "华中科技大学").await);
    let start = feed_end(&test.db).await;

    let created = mutate(
        &schema,
        "createInnovationCenter",
        json!({ "kind": "MANUFACTURING", "nameZh": " 国家测试创新中心 ", "hostParkId": future_city,
                "approvedOn": "2019-04", "sourceUrl": "https://www.miit.gov.cn/" }),
    )
    .await;
    assert_eq!(user_errors(&created), [], "{created:#}");
    let center = &created["innovationCenter"];
    assert_eq!(
        (center["version"].as_i64(), center["nameZh"].as_str(), center["ministry"].as_str()),
        (Some(1), Some("国家测试创新中心"), Some("MIIT"))
    );
    assert_eq!(
        (center["approvedDate"]["text"].as_str(), center["hostPark"]["nameZh"].as_str()),
        (Some("2019-04"), Some("武汉未来科技城"))
    );
    let id = center["id"].as_str().expect("id").to_string();
    let uuid = uuid_of(&created, "innovationCenter");

    // Invalid input, wrong-kind and archived host parks: user errors, nothing written.
    let before = counts(&test.db).await;
    let invalid = mutate(
        &schema,
        "createInnovationCenter",
        json!({ "kind": "TECHNOLOGY", "nameZh": "  ", "approvedOn": "2019-13", "sourceUrl": "ftp://x" }),
    )
    .await;
    assert_eq!(
        user_errors(&invalid),
        [error("approvedOn", "INVALID_FORMAT")],
        "a date that does not parse is reported before the draft is checked: {invalid:#}"
    );
    let invalid = mutate(
        &schema,
        "createInnovationCenter",
        json!({ "kind": "TECHNOLOGY", "nameZh": "  ", "approvedOn": "2099", "sourceUrl": "ftp://x" }),
    )
    .await;
    let found = user_errors(&invalid);
    assert!(found.contains(&error("nameZh", "REQUIRED")), "{invalid:#}");
    assert!(found.contains(&error("approvedOn", "DATE_ORDER")), "{invalid:#}");
    assert_eq!(invalid["innovationCenter"], Value::Null);
    let wrong = mutate(
        &schema,
        "createInnovationCenter",
        json!({ "kind": "TECHNOLOGY", "nameZh": "错园", "hostParkId": hust }),
    )
    .await;
    assert_eq!(user_errors(&wrong), [error("hostParkId", "WRONG_KIND")], "{wrong:#}");
    assert!(message(&wrong).contains("a park"), "{wrong:#}");
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("editor:wang");
    let closed = registry
        .create_park(
            &actor,
            parkgraph_domain::validation::ParkDraft::new(parkgraph_domain::ParkKind::SciencePark, "关闭园"),
        )
        .await
        .expect("park");
    registry.archive_park(&actor, closed.id, 1).await.expect("archive park");
    let after_park = counts(&test.db).await;
    let gone = mutate(
        &schema,
        "createInnovationCenter",
        json!({ "kind": "TECHNOLOGY", "nameZh": "无园", "hostParkId": gid(NodeType::Park, closed.id) }),
    )
    .await;
    assert_eq!(user_errors(&gone), [error("hostParkId", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, after_park, "refused creations write nothing");
    assert_eq!(before[..3], after_park[..3]);

    // A correction: the ministry follows the kind.
    let updated = mutate(
        &schema,
        "updateInnovationCenter",
        json!({ "id": id, "version": 1, "kind": "TECHNOLOGY", "field": "光电子", "sourceUrl": null }),
    )
    .await;
    assert_eq!(user_errors(&updated), []);
    assert_eq!(
        (updated["innovationCenter"]["version"].as_i64(), updated["innovationCenter"]["ministry"].as_str()),
        (Some(2), Some("MOST"))
    );

    // Stale, invalid, and moved to an archived park: nothing changes.
    let before = counts(&test.db).await;
    let stale = mutate(&schema, "updateInnovationCenter", json!({ "id": id, "version": 1, "nameEn": "Stale" })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    assert!(message(&stale).contains("version 2"), "{stale:#}");
    let cleared = mutate(&schema, "updateInnovationCenter", json!({ "id": id, "version": 2, "nameZh": null })).await;
    assert_eq!(user_errors(&cleared), [error("nameZh", "REQUIRED")]);
    let moved = mutate(
        &schema,
        "updateInnovationCenter",
        json!({ "id": id, "version": 2, "hostParkId": gid(NodeType::Park, closed.id) }),
    )
    .await;
    assert_eq!(user_errors(&moved), [error("hostParkId", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before, "refused updates write nothing");
    let row = innovation_center::Entity::find_by_id(uuid).one(&test.db).await.expect("read").expect("row");
    assert_eq!((row.version, row.ministry.as_str(), row.source_url), (2, "MOST", None));

    // Archive, archive again (refused), restore.
    let archived = mutate(&schema, "archiveInnovationCenter", json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&archived), []);
    assert_eq!(archived["innovationCenter"]["version"], 3);
    let again = mutate(&schema, "archiveInnovationCenter", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&again), [error("id", "INCONSISTENT")]);
    let restored = mutate(&schema, "restoreInnovationCenter", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&restored), []);
    assert_eq!(restored["innovationCenter"]["version"], 4);

    assert_eq!(
        revisions(&test.db, EntityType::InnovationCenter, uuid).await,
        [ed(1, Operation::Create), ed(2, Operation::Update), ed(3, Operation::Archive), ed(4, Operation::Restore)]
    );
    let t = EntityType::InnovationCenter;
    let mut feed = feed_after(&test.db, start).await;
    feed.retain(|c| c.0 == t);
    assert_eq!(
        feed,
        [
            (t, uuid, 1, Operation::Create, true),
            (t, uuid, 2, Operation::Update, true),
            (t, uuid, 3, Operation::Archive, false),
            (t, uuid, 4, Operation::Restore, true),
        ]
    );
}

#[tokio::test]
async fn memberships_are_added_corrected_and_ended_with_a_tombstone_and_a_live_pair_is_never_doubled() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let registry = Registry::new(test.db.clone());
    let battery = center_named(&test.db, "国家动力电池创新中心").await;
    let center = gid(NodeType::InnovationCenter, battery);
    let hust_uuid = organization_named(&test.db, "华中科技大学").await;
    let hust = gid(NodeType::Organization, hust_uuid);
    let east_lake = gid(NodeType::Park, park_named(&test.db, "武汉东湖新技术开发区（中国光谷）").await);
    let start = feed_end(&test.db).await;

    // A university may lead a center.
    let added = mutate(
        &schema,
        "addInnovationCenterMembership",
        json!({ "innovationCenterId": center, "organizationId": hust, "role": "LEAD", "joinedOn": "2021" }),
    )
    .await;
    assert_eq!(user_errors(&added), [], "{added:#}");
    let m = &added["membership"];
    assert_eq!(
        (m["version"].as_i64(), m["role"].as_str(), m["joinedDate"]["text"].as_str(), &m["endedAt"]),
        (Some(1), Some("LEAD"), Some("2021"), &Value::Null)
    );
    assert_eq!(
        (m["innovationCenter"]["nameZh"].as_str(), m["organization"]["nameZh"].as_str()),
        (Some("国家动力电池创新中心"), Some("华中科技大学"))
    );
    let id = m["id"].as_str().expect("id").to_string();
    let uuid = uuid_of(&added, "membership");
    assert_eq!(id, uuid.to_string(), "a link's id is its UUID");

    // Refused: the same live pair again, endpoints of the wrong kind, archived or missing
    // endpoints, a joining date in the future. Nothing is written.
    let before = counts(&test.db).await;
    let twice = mutate(
        &schema,
        "addInnovationCenterMembership",
        json!({ "innovationCenterId": center, "organizationId": hust, "role": "MEMBER" }),
    )
    .await;
    assert_eq!(user_errors(&twice), [error("organizationId", "DUPLICATE")], "{twice:#}");
    assert!(message(&twice).contains(&uuid.to_string()), "the error names the membership that exists: {twice:#}");
    let swapped = mutate(
        &schema,
        "addInnovationCenterMembership",
        json!({ "innovationCenterId": hust, "organizationId": east_lake, "role": "MEMBER" }),
    )
    .await;
    assert_eq!(
        user_errors(&swapped),
        [error("innovationCenterId", "WRONG_KIND"), error("organizationId", "WRONG_KIND")],
        "{swapped:#}"
    );
    let gone = archived_organization(&registry, "已注销企业").await;
    let after_setup = counts(&test.db).await;
    let archived = mutate(
        &schema,
        "addInnovationCenterMembership",
        json!({ "innovationCenterId": center, "organizationId": gid(NodeType::Organization, gone), "role": "MEMBER",
                "joinedOn": "2099-01" }),
    )
    .await;
    assert_eq!(user_errors(&archived), [error("joinedOn", "DATE_ORDER")], "domain problems come first: {archived:#}");
    let archived = mutate(
        &schema,
        "addInnovationCenterMembership",
        json!({ "innovationCenterId": gid(NodeType::InnovationCenter, Uuid::now_v7()),
                "organizationId": gid(NodeType::Organization, gone), "role": "MEMBER" }),
    )
    .await;
    assert_eq!(
        user_errors(&archived),
        [error("innovationCenterId", "NOT_FOUND"), error("organizationId", "NOT_FOUND")],
        "{archived:#}"
    );
    assert_eq!(counts(&test.db).await[..3], before[..3]);
    assert_eq!(counts(&test.db).await, after_setup, "refused additions write nothing");

    // A correction, then a stale one.
    let updated = mutate(
        &schema,
        "updateInnovationCenterMembership",
        json!({ "id": id, "version": 1, "role": "FOUNDING_SHAREHOLDER", "joinedOn": null }),
    )
    .await;
    assert_eq!(user_errors(&updated), []);
    assert_eq!(
        (
            updated["membership"]["version"].as_i64(),
            updated["membership"]["role"].as_str(),
            &updated["membership"]["joinedDate"]
        ),
        (Some(2), Some("FOUNDING_SHAREHOLDER"), &Value::Null)
    );
    let before = counts(&test.db).await;
    let stale =
        mutate(&schema, "updateInnovationCenterMembership", json!({ "id": id, "version": 1, "role": "MEMBER" })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    assert!(message(&stale).contains("version 2"), "{stale:#}");
    let cleared =
        mutate(&schema, "updateInnovationCenterMembership", json!({ "id": id, "version": 2, "role": null })).await;
    assert_eq!(user_errors(&cleared), [error("role", "REQUIRED")]);
    assert_eq!(counts(&test.db).await, before, "refused updates write nothing");

    // A center with a live member cannot be archived; the edge shows the link's id and version.
    let center_version =
        innovation_center::Entity::find_by_id(battery).one(&test.db).await.expect("read").expect("row").version;
    let refused = mutate(&schema, "archiveInnovationCenter", json!({ "id": center, "version": center_version })).await;
    assert_eq!(user_errors(&refused), [error("id", "INCONSISTENT")], "{refused:#}");
    assert_eq!(counts(&test.db).await, before, "a refused archive writes nothing");
    let edges = run_as(
        &schema,
        editor(),
        "query($id: ID!) { node(id: $id) { ... on InnovationCenter { members { edges { membershipId version endedAt role node { nameZh } } } } } }",
        json!({ "id": center }),
    )
    .await;
    assert!(edges.get("errors").is_none(), "{edges:#}");
    assert_eq!(
        edges["data"]["node"]["members"]["edges"],
        json!([{ "membershipId": id, "version": 2, "endedAt": null, "role": "FOUNDING_SHAREHOLDER", "node": { "nameZh": "华中科技大学" } }])
    );

    // End it: a tombstone in the feed; ending again is refused.
    let stale_end = mutate(&schema, "endInnovationCenterMembership", json!({ "id": id, "version": 1 })).await;
    assert_eq!(user_errors(&stale_end), [error("version", "CONFLICT")]);
    let ended = mutate(&schema, "endInnovationCenterMembership", json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&ended), []);
    assert_eq!(ended["membership"]["version"], 3);
    assert!(ended["membership"]["endedAt"].is_string(), "{ended:#}");
    let again = mutate(&schema, "endInnovationCenterMembership", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&again), [error("id", "INCONSISTENT")]);
    assert!(message(&again).contains("already ended"), "{again:#}");
    let row = innovation_center_membership::Entity::find_by_id(uuid).one(&test.db).await.expect("read").expect("row");
    assert!(row.archived_at.is_some());

    // The end, as a partner-facing `changes` reader sees it.
    let changes = run_as(
        &schema,
        editor(),
        "{ changes(first: 100, types: [INNOVATION_CENTER_MEMBERSHIP]) { nodes { databaseId version operation tombstone after } } }",
        json!({}),
    )
    .await;
    assert!(changes.get("errors").is_none(), "{changes:#}");
    let nodes = changes["data"]["changes"]["nodes"].as_array().expect("nodes");
    let last = nodes.last().expect("the membership's changes");
    assert_eq!(
        (
            last["databaseId"].as_str(),
            last["version"].as_i64(),
            last["operation"].as_str(),
            last["tombstone"].as_bool(),
            &last["after"]
        ),
        (Some(uuid.to_string().as_str()), Some(3), Some("END_LINK"), Some(true), &Value::Null)
    );

    // Once the membership has ended, the organization may join again (a new link), and the
    // center, once its members have left, can be archived.
    let rejoined = mutate(
        &schema,
        "addInnovationCenterMembership",
        json!({ "innovationCenterId": center, "organizationId": hust, "role": "MEMBER" }),
    )
    .await;
    assert_eq!(user_errors(&rejoined), [], "{rejoined:#}");
    let second = uuid_of(&rejoined, "membership");
    assert_ne!(second, uuid);
    let ended_again =
        mutate(&schema, "endInnovationCenterMembership", json!({ "id": second.to_string(), "version": 1 })).await;
    assert_eq!(user_errors(&ended_again), []);
    let archived_center =
        mutate(&schema, "archiveInnovationCenter", json!({ "id": center, "version": center_version })).await;
    assert_eq!(user_errors(&archived_center), []);
    let orphan = mutate(
        &schema,
        "addInnovationCenterMembership",
        json!({ "innovationCenterId": center, "organizationId": hust, "role": "MEMBER" }),
    )
    .await;
    assert_eq!(user_errors(&orphan), [error("innovationCenterId", "NOT_FOUND")], "an archived center takes no members");

    assert_eq!(
        revisions(&test.db, EntityType::InnovationCenterMembership, uuid).await,
        [ed(1, Operation::AddLink), ed(2, Operation::UpdateLink), ed(3, Operation::EndLink)]
    );
    let t = EntityType::InnovationCenterMembership;
    assert_eq!(
        feed_after(&test.db, start).await,
        [
            (t, uuid, 1, Operation::AddLink, true),
            (EntityType::Organization, gone, 1, Operation::Create, true),
            (EntityType::Organization, gone, 2, Operation::Archive, false),
            (t, uuid, 2, Operation::UpdateLink, true),
            (t, uuid, 3, Operation::EndLink, false),
            (t, second, 1, Operation::AddLink, true),
            (t, second, 2, Operation::EndLink, false),
            (EntityType::InnovationCenter, battery, center_version + 1, Operation::Archive, false),
        ]
    );
}

#[tokio::test]
async fn an_editor_creates_corrects_archives_and_restores_a_second_headquarters_with_live_endpoints_of_the_right_kind()
{
    let test = TestDb::sample().await;
    let schema = test.schema();
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("editor:wang");
    let xiaomi = gid(NodeType::Organization, organization_named(&test.db, "小米").await);
    let hust = gid(NodeType::Organization, organization_named(&test.db, "华中科技大学").await);
    let harbour = gid(NodeType::Park, park_named(&test.db, "光谷金融港").await);
    let local = registry
        .create_organization(
            &actor,
            parkgraph_domain::validation::OrganizationDraft::new(
                parkgraph_domain::OrganizationKind::Enterprise,
                "小米科技（武汉）有限公司",
                parkgraph_domain::OrganizationStatus::Active,
            ),
        )
        .await
        .expect("local entity");
    let local_id = gid(NodeType::Organization, local.id);
    let start = feed_end(&test.db).await;

    let created = mutate(
        &schema,
        "createSecondHeadquarters",
        json!({ "parentId": xiaomi, "nameZh": "小米武汉第二园区", "status": "SIGNED", "parkId": harbour,
                "localEntityId": local_id, "functions": ["R_AND_D", "INVESTMENT"], "announcedOn": "2017",
                "openedOn": "2017-11-18", "plannedInvestmentCny": 4000000000.0, "plannedHeadcount": 2000 }),
    )
    .await;
    assert_eq!(user_errors(&created), [], "{created:#}");
    let hq = &created["secondHeadquarters"];
    assert_eq!(
        (hq["version"].as_i64(), hq["status"].as_str(), &hq["functions"], hq["openedDate"]["text"].as_str()),
        (Some(1), Some("SIGNED"), &json!(["R_AND_D", "INVESTMENT"]), Some("2017-11-18"))
    );
    assert_eq!(
        (hq["parent"]["nameZh"].as_str(), hq["park"]["nameZh"].as_str(), hq["localEntity"]["nameZh"].as_str()),
        (Some("小米"), Some("光谷金融港"), Some("小米科技（武汉）有限公司"))
    );
    assert_eq!(hq["plannedInvestmentCny"].as_f64(), Some(4.0e9));
    let id = hq["id"].as_str().expect("id").to_string();
    let uuid = uuid_of(&created, "secondHeadquarters");

    // Refused, writing nothing: dates out of order, a repeated function, the parent as its
    // own local entity; endpoints of the wrong kind; an archived parent.
    let gone = archived_organization(&registry, "已注销集团").await;
    let before = counts(&test.db).await;
    let invalid = mutate(
        &schema,
        "createSecondHeadquarters",
        json!({ "parentId": xiaomi, "nameZh": "乱序总部", "status": "OPERATING", "localEntityId": xiaomi,
                "functions": ["R_AND_D", "R_AND_D"], "announcedOn": "2017-06", "openedOn": "2017-05",
                "plannedHeadcount": -1 }),
    )
    .await;
    assert_eq!(
        user_errors(&invalid),
        [
            error("functions[1]", "DUPLICATE"),
            error("localEntityId", "INCONSISTENT"),
            error("openedOn", "DATE_ORDER"),
            error("plannedHeadcount", "OUT_OF_RANGE"),
        ],
        "{invalid:#}"
    );
    let wrong = mutate(
        &schema,
        "createSecondHeadquarters",
        json!({ "parentId": harbour, "nameZh": "错类总部", "status": "ANNOUNCED", "parkId": xiaomi, "localEntityId": hust }),
    )
    .await;
    assert_eq!(
        user_errors(&wrong),
        [error("parentId", "WRONG_KIND"), error("parkId", "WRONG_KIND"), error("localEntityId", "WRONG_KIND")],
        "{wrong:#}"
    );
    assert!(wrong["userErrors"][2]["message"].as_str().unwrap_or_default().contains("UNIVERSITY"), "{wrong:#}");
    let orphan = mutate(
        &schema,
        "createSecondHeadquarters",
        json!({ "parentId": gid(NodeType::Organization, gone), "nameZh": "孤儿总部", "status": "ANNOUNCED" }),
    )
    .await;
    assert_eq!(user_errors(&orphan), [error("parentId", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before, "refused creations write nothing");

    // Corrections: an opening before the stored announcement is refused; a stale version
    // is a conflict; a valid correction bumps the version.
    let early =
        mutate(&schema, "updateSecondHeadquarters", json!({ "id": id, "version": 1, "openedOn": "2016-12" })).await;
    assert_eq!(user_errors(&early), [error("openedOn", "DATE_ORDER")]);
    let updated = mutate(
        &schema,
        "updateSecondHeadquarters",
        json!({ "id": id, "version": 1, "status": "OPERATING", "plannedHeadcount": 2500, "functions": ["R_AND_D"] }),
    )
    .await;
    assert_eq!(user_errors(&updated), []);
    let hq = &updated["secondHeadquarters"];
    assert_eq!(
        (hq["version"].as_i64(), hq["status"].as_str(), hq["plannedHeadcount"].as_i64(), &hq["functions"]),
        (Some(2), Some("OPERATING"), Some(2500), &json!(["R_AND_D"]))
    );
    let before = counts(&test.db).await;
    let stale = mutate(&schema, "updateSecondHeadquarters", json!({ "id": id, "version": 1, "nameEn": "Stale" })).await;
    assert_eq!(user_errors(&stale), [error("version", "CONFLICT")]);
    assert!(message(&stale).contains("version 2"), "{stale:#}");
    let moved = mutate(
        &schema,
        "updateSecondHeadquarters",
        json!({ "id": id, "version": 2, "localEntityId": gid(NodeType::Organization, gone) }),
    )
    .await;
    assert_eq!(user_errors(&moved), [error("localEntityId", "NOT_FOUND")]);
    assert_eq!(counts(&test.db).await, before, "refused updates write nothing");

    // Archive; while archived its local entity is archived too, so a restore is refused
    // until the entity is live again.
    let archived = mutate(&schema, "archiveSecondHeadquarters", json!({ "id": id, "version": 2 })).await;
    assert_eq!(user_errors(&archived), []);
    registry.archive_organization(&actor, local.id, 1).await.expect("archive the local entity");
    let refused = mutate(&schema, "restoreSecondHeadquarters", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&refused), [error("localEntityId", "NOT_FOUND")]);
    registry.restore_organization(&actor, local.id, 2).await.expect("restore the local entity");
    let restored = mutate(&schema, "restoreSecondHeadquarters", json!({ "id": id, "version": 3 })).await;
    assert_eq!(user_errors(&restored), []);
    assert_eq!(restored["secondHeadquarters"]["version"], 4);
    let row = second_headquarters::Entity::find_by_id(uuid).one(&test.db).await.expect("read").expect("row");
    assert_eq!(
        (row.archived_at, row.functions.as_str(), row.planned_investment_cny),
        (None, "R_AND_D", Some(4_000_000_000))
    );

    assert_eq!(
        revisions(&test.db, EntityType::SecondHeadquarters, uuid).await,
        [ed(1, Operation::Create), ed(2, Operation::Update), ed(3, Operation::Archive), ed(4, Operation::Restore)]
    );
    let t = EntityType::SecondHeadquarters;
    let mut feed = feed_after(&test.db, start).await;
    feed.retain(|c| c.0 == t);
    assert_eq!(
        feed,
        [
            (t, uuid, 1, Operation::Create, true),
            (t, uuid, 2, Operation::Update, true),
            (t, uuid, 3, Operation::Archive, false),
            (t, uuid, 4, Operation::Restore, true),
        ]
    );
}

#[tokio::test]
async fn an_analyst_cannot_change_centers_memberships_or_second_headquarters_and_nothing_is_written() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let center = gid(NodeType::InnovationCenter, center_named(&test.db, "国家信息光电子创新中心").await);
    let xiaomi = gid(NodeType::Organization, organization_named(&test.db, "小米").await);
    let membership = innovation_center_membership::Entity::find().one(&test.db).await.expect("read").expect("one");
    let link = json!({ "id": membership.id.to_string(), "version": 1 });
    let before = counts(&test.db).await;
    let attempts = [
        ("createInnovationCenter", json!({ "kind": "MANUFACTURING", "nameZh": "分析中心" })),
        ("updateInnovationCenter", json!({ "id": center, "version": 1, "nameEn": "x" })),
        ("archiveInnovationCenter", json!({ "id": center, "version": 1 })),
        ("restoreInnovationCenter", json!({ "id": center, "version": 1 })),
        (
            "addInnovationCenterMembership",
            json!({ "innovationCenterId": center, "organizationId": xiaomi, "role": "MEMBER" }),
        ),
        (
            "updateInnovationCenterMembership",
            json!({ "id": membership.id.to_string(), "version": 1, "role": "MEMBER" }),
        ),
        ("endInnovationCenterMembership", link),
        ("createSecondHeadquarters", json!({ "parentId": xiaomi, "nameZh": "分析总部", "status": "ANNOUNCED" })),
        ("updateSecondHeadquarters", json!({ "id": center, "version": 1 })),
        ("archiveSecondHeadquarters", json!({ "id": center, "version": 1 })),
        ("restoreSecondHeadquarters", json!({ "id": center, "version": 1 })),
    ];
    for (name, input) in attempts {
        let response =
            run_as(&schema, caller(Role::Analyst, "analyst:li"), &mutation(name), json!({ "input": input })).await;
        assert_eq!(codes(&response), ["FORBIDDEN"], "{name}: {response:#}");
        assert_eq!(response["data"], Value::Null, "{name}");
    }
    assert_eq!(counts(&test.db).await, before);
}

/// Two editors add the same organization to the same center at once: exactly one
/// membership is added; the other gets the `DUPLICATE` user error (the in-transaction
/// check, or the partial unique index when both pass it), never a storage error.
#[tokio::test]
async fn two_concurrent_additions_of_one_pair_add_one_membership() {
    use parkgraph_domain::validation::{ErrorCode, InnovationCenterMembershipDraft};
    use parkgraph_domain::{MembershipRole, OrganizationKind, OrganizationStatus};
    use parkgraph_registry::CommandError;

    let test = TestDb::migrated().await;
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("editor:wang");
    let center = registry
        .create_innovation_center(
            &actor,
            parkgraph_domain::validation::InnovationCenterDraft::new(
                parkgraph_domain::InnovationCenterKind::Manufacturing,
                "国家并发创新中心",
            ),
        )
        .await
        .expect("center");
    for round in 0..8 {
        let org = registry
            .create_organization(
                &actor,
                parkgraph_domain::validation::OrganizationDraft::new(
                    OrganizationKind::Enterprise,
                    format!("并发企业{round}"),
                    OrganizationStatus::Active,
                ),
            )
            .await
            .expect("organization");
        let draft = || InnovationCenterMembershipDraft::new(center.id, org.id, MembershipRole::Member);
        let (first, second) = tokio::join!(
            registry.add_innovation_center_membership(&actor, draft()),
            registry.add_innovation_center_membership(&actor, draft()),
        );
        let outcomes = [first, second];
        assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 1, "round {round}: exactly one addition wins");
        for outcome in outcomes {
            match outcome {
                Ok(_) => {}
                Err(CommandError::Invalid(invalid)) => {
                    let found: Vec<(&str, ErrorCode)> =
                        invalid.errors().iter().map(|e| (e.field.as_str(), e.code)).collect();
                    assert_eq!(found, [("organizationId", ErrorCode::Duplicate)], "round {round}");
                }
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        let live = innovation_center_membership::Entity::find()
            .filter(innovation_center_membership::Column::OrganizationId.eq(org.id))
            .count(&test.db)
            .await
            .expect("count");
        assert_eq!(live, 1, "round {round}");
    }
}

/// The README's membership example, step by step, on the sample (the same documents).
#[tokio::test]
async fn the_readme_membership_example_works_on_the_sample() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let ids = run_as(
        &schema,
        editor(),
        r#"{ innovationCenters(filter: { nameContains: "动力电池" }) { nodes { id } } organizations(filter: { nameContains: "华中科技大学" }) { nodes { id } } }"#,
        json!({}),
    )
    .await;
    assert!(ids.get("errors").is_none(), "{ids:#}");
    let center = ids["data"]["innovationCenters"]["nodes"][0]["id"].clone();
    let organization = ids["data"]["organizations"]["nodes"][0]["id"].clone();
    let add = r#"mutation($c: ID!, $o: ID!) { addInnovationCenterMembership(input: { innovationCenterId: $c, organizationId: $o, role: LEAD, joinedOn: "2021" }) { membership { id version role } userErrors { field message code } } }"#;
    let added = run_as(&schema, editor(), add, json!({ "c": center, "o": organization })).await;
    let payload = &added["data"]["addInnovationCenterMembership"];
    assert_eq!(
        (payload["membership"]["version"].as_i64(), payload["membership"]["role"].as_str()),
        (Some(1), Some("LEAD"))
    );
    let again = run_as(&schema, editor(), add, json!({ "c": center, "o": organization })).await;
    let payload_again = &again["data"]["addInnovationCenterMembership"];
    assert_eq!(
        (&payload_again["membership"], user_errors(payload_again)),
        (&Value::Null, vec![error("organizationId", "DUPLICATE")])
    );
    let end = r#"mutation($id: ID!) { endInnovationCenterMembership(input: { id: $id, version: 1 }) { membership { version endedAt } userErrors { field message code } } }"#;
    let ended = run_as(&schema, editor(), end, json!({ "id": payload["membership"]["id"] })).await;
    let payload = &ended["data"]["endInnovationCenterMembership"];
    assert_eq!((payload["membership"]["version"].as_i64(), user_errors(payload)), (Some(2), vec![]), "{ended:#}");
    assert!(payload["membership"]["endedAt"].is_string());
}
