//! Organizations read with only the columns a query asks for (look-ahead): in a park's
//! enterprises, a center's members, an incubator's incubatees and the root lists, each
//! field of `Organization` answers what it answers when the whole record is read, and the
//! lists' cursors still page. Runs on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::TestDb;
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::Role;
use serde_json::{Value, json};

/// An early pilot code (wrong check character), accepted with an override: it leaves a
/// `usccWarning`.
const PILOT_USCC: &str = "91350203M0001FUE2P";

fn admin() -> Caller {
    Caller {
        role: Role::Admin,
        scopes: Role::Admin.allowed_scopes(),
        subject: "admin:look-ahead".into(),
        jti: None,
        partner_id: None,
    }
}

async fn run(schema: &ParkGraphSchema, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    let response = serde_json::to_value(parkgraph_api::execute_as(schema, request, admin()).await).expect("json");
    assert!(response.get("errors").is_none(), "{query}: {response:#}");
    response["data"].clone()
}

/// The named type of a field's introspected type (through NON_NULL and LIST).
fn named(ty: &Value) -> (&str, &str) {
    let mut ty = ty;
    while ty["name"].is_null() {
        ty = &ty["ofType"];
    }
    (ty["kind"].as_str().unwrap_or_default(), ty["name"].as_str().unwrap_or_default())
}

const TYPE: &str = "query($name: String!) { __type(name: $name) { fields { name args { name type { kind } } \
                    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";

/// A selection of every field of `type_name` that needs no argument: scalars by name,
/// objects with their own scalar fields (one level down).
async fn fields_of(schema: &ParkGraphSchema, type_name: &str, depth: u32) -> Vec<(String, String)> {
    let data = run(schema, TYPE, json!({ "name": type_name })).await;
    let mut out = Vec::new();
    for field in data["__type"]["fields"].as_array().expect("fields") {
        let name = field["name"].as_str().expect("name").to_string();
        let required_args =
            field["args"].as_array().expect("args").iter().any(|a| a["type"]["kind"].as_str() == Some("NON_NULL"));
        if required_args {
            continue;
        }
        match named(&field["type"]) {
            ("SCALAR" | "ENUM", _) => out.push((name.clone(), name)),
            ("OBJECT", inner) if depth == 0 => {
                let inner = Box::pin(fields_of(schema, inner, depth + 1)).await;
                let scalars: Vec<String> = inner.into_iter().map(|(_, selection)| selection).collect();
                if !scalars.is_empty() {
                    out.push((name.clone(), format!("{name} {{ {} }}", scalars.join(" "))));
                }
            }
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn every_organization_field_read_alone_in_a_list_answers_as_from_the_whole_record() {
    let test = TestDb::sample().await;
    let schema = test.schema();

    // An organization with every column filled.
    let created = run(
        &schema,
        "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id } \
         userErrors { field code } } }",
        json!({ "input": {
            "kind": "ENTERPRISE", "nameZh": "全字段科技", "status": "ACTIVE", "nameEn": "Every Field Tech",
            "legalName": "武汉全字段科技有限公司", "uscc": PILOT_USCC,
            "usccOverride": { "reason": "Pilot code, checked by hand" }, "foundedOn": "2014-05-06",
            "industry": "optoelectronics", "registeredCapitalCny": 12_000_000.0, "headcount": 321,
            "website": "https://every-field.example", "city": "武汉", "district": "东湖新技术开发区",
            "contactName": "王工", "contactPhone": "027-00000000", "contactEmail": "wang@every-field.example",
            "staffNotes": "Visited 2026-11", "sourceName": "Park registry", "sourceUrl": "https://example.org/registry",
            "asOf": "2026-03",
        } }),
    )
    .await;
    assert_eq!(created["createOrganization"]["userErrors"], json!([]), "{created:#}");
    let organization = created["createOrganization"]["organization"]["id"].as_str().expect("id").to_string();
    let parks = run(&schema, "{ parks(first: 1) { nodes { id } } }", json!({})).await;
    let park = parks["parks"]["nodes"][0]["id"].as_str().expect("a park").to_string();
    let located = run(
        &schema,
        "mutation($input: AddEnterpriseLocationInput!) { addEnterpriseLocation(input: $input) { userErrors { code } } }",
        json!({ "input": { "organizationId": organization, "parkId": park, "role": "R_AND_D" } }),
    )
    .await;
    assert_eq!(located["addEnterpriseLocation"]["userErrors"], json!([]), "{located:#}");

    let fields = fields_of(&schema, "Organization", 0).await;
    for expected in ["nameEn", "usccWarning", "foundedOn", "industry", "staffNotes", "provenance", "contactEmail"] {
        assert!(fields.iter().any(|(name, _)| name == expected), "{expected} not among {fields:?}");
    }
    let mut filled = 0;
    for (name, selection) in &fields {
        // The whole record, read by id.
        let whole = run(
            &schema,
            &format!("query($id: ID!) {{ node(id: $id) {{ ... on Organization {{ {selection} }} }} }}"),
            json!({ "id": organization }),
        )
        .await;
        let expected = &whole["node"][name];
        if !expected.is_null() && expected != &json!([]) {
            filled += 1;
        }
        // The same field alone, in a park's enterprises and in the root list.
        let in_park = run(
            &schema,
            &format!(
                "query($id: ID!) {{ park(id: $id) {{ enterprises(first: 100) {{ edges {{ node {{ id {selection} }} }} \
                 nodes: edges {{ node {{ databaseId }} }} }} }} }}"
            ),
            json!({ "id": park }),
        )
        .await;
        let edges = in_park["park"]["enterprises"]["edges"].as_array().expect("edges");
        let node = edges.iter().map(|e| &e["node"]).find(|n| n["id"] == json!(organization)).expect("located");
        assert_eq!(&node[name], expected, "{name} in a park's enterprises");

        let listed = run(
            &schema,
            &format!(
                "{{ organizations(filter: {{ nameContains: \"全字段\" }}, first: 5) {{ nodes {{ id {selection} }} }} }}"
            ),
            json!({}),
        )
        .await;
        let node = &listed["organizations"]["nodes"][0];
        assert_eq!(node["id"], json!(organization));
        assert_eq!(&node[name], expected, "{name} in the organizations list");
    }
    // The comparison means something only where the record holds a value.
    assert!(filled >= 20, "only {filled} of {} fields hold a value", fields.len());
}

#[tokio::test]
async fn a_list_read_for_names_alone_still_pages_by_its_order() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let order = "orderBy: { field: DATE, direction: DESC }";
    let whole = run(
        &schema,
        &format!("{{ enterprises({order}, first: 6) {{ nodes {{ nameZh foundedDate {{ text }} }} }} }}"),
        json!({}),
    )
    .await;
    let first = run(
        &schema,
        &format!("{{ enterprises({order}, first: 3) {{ nodes {{ nameZh }} pageInfo {{ endCursor }} }} }}"),
        json!({}),
    )
    .await;
    let cursor = first["enterprises"]["pageInfo"]["endCursor"].as_str().expect("cursor");
    let next = run(
        &schema,
        &format!("query($after: String) {{ enterprises({order}, first: 3, after: $after) {{ nodes {{ nameZh }} }} }}"),
        json!({ "after": cursor }),
    )
    .await;
    let names = |v: &Value, list: &str| -> Vec<Value> {
        v[list]["nodes"].as_array().expect("nodes").iter().map(|n| n["nameZh"].clone()).collect()
    };
    let mut paged = names(&first, "enterprises");
    paged.extend(names(&next, "enterprises"));
    assert_eq!(paged, names(&whole, "enterprises"), "the second page follows the first");
    // The cut falls on a dated firm: its cursor holds the founding date it was never asked for.
    assert!(whole["enterprises"]["nodes"][2]["foundedDate"]["text"].is_string(), "{whole:#}");
}
