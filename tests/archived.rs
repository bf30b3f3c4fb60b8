//! Archived records leave the live registry: once an editor archives an organization,
//! anonymous callers and partners no longer see it in lists, by id, or in a park's
//! enterprises, while staff still read it (with `archivedAt`). Runs on SQLite, and on
//! PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::{TestDb, codes};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::Role;
use serde_json::{Value, json};

fn caller(role: Role, subject: &str) -> Caller {
    Caller { role, scopes: role.allowed_scopes(), subject: subject.into(), jti: None, partner_id: None }
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

/// What one caller sees of an organization `id` (named `name`) located in park `park`.
struct Seen {
    archived_at: bool,
    in_list: bool,
    by_node: bool,
    by_nodes: bool,
    in_park: bool,
    designations_listed: usize,
}

const LOOK: &str = r#"query($id: ID!, $park: ID!, $name: String!, $all: Boolean) {
  organizations(first: 100, filter: { nameContains: $name, includeArchived: $all }) { nodes { id } }
  node(id: $id) { id ... on Organization { archivedAt } }
  nodes(ids: [$id]) { id }
  park(id: $park) { enterprises(first: 100) { totalCount edges { node { id } } } }
  designations(first: 100, filter: { includeArchived: $all }) { nodes { enterprise { id } } }
}"#;

async fn look(schema: &ParkGraphSchema, who: Caller, id: &str, park: &str, name: &str, all: bool) -> Seen {
    let vars = json!({ "id": id, "park": park, "name": name, "all": all });
    let d = data_as(schema, who, LOOK, vars).await;
    let ids = |list: &Value| -> Vec<String> {
        list.as_array().expect("list").iter().filter_map(|n| n["id"].as_str().map(String::from)).collect()
    };
    let listed = ids(&d["organizations"]["nodes"]);
    let in_park: Vec<String> = d["park"]["enterprises"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["id"].as_str().map(String::from))
        .collect();
    let designations_listed = d["designations"]["nodes"]
        .as_array()
        .expect("designations")
        .iter()
        .filter(|n| n["enterprise"]["id"].as_str() == Some(id))
        .count();
    Seen {
        archived_at: !d["node"]["archivedAt"].is_null(),
        in_list: listed.iter().any(|i| i == id),
        by_node: !d["node"].is_null(),
        by_nodes: !d["nodes"][0].is_null(),
        in_park: in_park.iter().any(|i| i == id),
        designations_listed,
    }
}

#[tokio::test]
async fn an_archived_organization_is_hidden_from_anonymous_callers_and_partners_and_read_by_staff() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let editor = || caller(Role::Editor, "editor:wang");

    // An enterprise of the sample with a location in a park and designations.
    let d = data_as(
        &schema,
        editor(),
        r#"{ enterprises(first: 100) { nodes { id version nameZh designations { kind }
              parks(first: 5) { edges { node { id } } } } } }"#,
        json!({}),
    )
    .await;
    let chosen = d["enterprises"]["nodes"]
        .as_array()
        .expect("enterprises")
        .iter()
        .find(|n| {
            !n["parks"]["edges"].as_array().expect("parks").is_empty()
                && !n["designations"].as_array().expect("designations").is_empty()
        })
        .expect("the sample has an enterprise located in a park and holding a designation")
        .clone();
    let id = chosen["id"].as_str().expect("id").to_string();
    let name = chosen["nameZh"].as_str().expect("name").to_string();
    let park = chosen["parks"]["edges"][0]["node"]["id"].as_str().expect("park").to_string();
    let version = chosen["version"].as_i64().expect("version");

    // Before: everyone sees it everywhere.
    for who in [Caller::anonymous(), caller(Role::Partner, "partner:x"), editor()] {
        let seen = look(&schema, who, &id, &park, &name, false).await;
        assert!(seen.in_list && seen.by_node && seen.by_nodes && seen.in_park && seen.designations_listed > 0);
        assert!(!seen.archived_at);
    }

    let archive = r#"mutation($input: ArchiveOrganizationInput!) {
      archiveOrganization(input: $input) { organization { archivedAt } userErrors { code } }
    }"#;
    let archived = data_as(&schema, editor(), archive, json!({ "input": { "id": id, "version": version } })).await;
    assert_eq!(archived["archiveOrganization"]["userErrors"], json!([]));
    assert!(!archived["archiveOrganization"]["organization"]["archivedAt"].is_null());

    // After: anonymous callers and partners no longer see it, nor its designations.
    for who in [Caller::anonymous(), caller(Role::Partner, "partner:x")] {
        let seen = look(&schema, who.clone(), &id, &park, &name, false).await;
        assert!(!seen.in_list, "{:?} lists it", who.role);
        assert!(!seen.by_node && !seen.by_nodes, "{:?} reads it by id", who.role);
        assert!(!seen.in_park, "{:?} finds it in its park", who.role);
        assert_eq!(seen.designations_listed, 0, "{:?} lists its designations", who.role);
        let by_id = run_as(&schema, who, "query($id: ID!) { organization(id: $id) { id } }", json!({ "id": id })).await;
        assert_eq!(codes(&by_id), ["NOT_FOUND"]);
    }
    // … and may not ask for archived records.
    let refused = run_as(
        &schema,
        Caller::anonymous(),
        r#"{ organizations(filter: { includeArchived: true }) { nodes { id } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(codes(&refused), ["FORBIDDEN"]);

    // Staff still read it: by id, in its park, and in lists when they ask for archived records.
    for who in [editor(), caller(Role::Admin, "admin:li"), caller(Role::Analyst, "analyst:zhao")] {
        let seen = look(&schema, who.clone(), &id, &park, &name, true).await;
        assert!(seen.in_list && seen.by_node && seen.by_nodes && seen.in_park, "{:?}", who.role);
        assert!(seen.archived_at, "staff see when it was archived");
        assert!(seen.designations_listed > 0, "{:?} lists its designations", who.role);
        let live_only = look(&schema, who, &id, &park, &name, false).await;
        assert!(!live_only.in_list, "root lists show the live registry unless archived records are asked for");
    }
}
