//! The registry kept true, end to end over HTTP with real tokens, on the Wuhan sample: an
//! editor's token creates an enterprise, places it in 光谷生物城, corrects it twice and
//! archives it; every step shows in the record's `history` and in `changes`, in order,
//! after the seeds' own entries. An analyst's token is refused the same mutation, and
//! invalid input comes back as `userErrors` and changes nothing. Runs on SQLite, and on
//! PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use parkgraph_domain::Role;
use serde_json::{Value, json};
use tower::ServiceExt;

use common::{TestDb, codes};

const FEED: &str = "query($after: String) {
  changes(after: $after, first: 100) {
    edges { node { seq entityType entityId version operation tombstone actor } }
    pageInfo { hasNextPage endCursor }
  }
}";

struct Api {
    router: axum::Router,
}

impl Api {
    async fn post(&self, token: &str, query: &str, variables: Value) -> (StatusCode, Value) {
        let payload = json!({ "query": query, "variables": variables }).to_string();
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, payload.len())
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(payload))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Runs a mutation and returns its payload, which must have no user errors.
    async fn mutate(&self, token: &str, name: &str, fields: &str, input: Value) -> Value {
        let kind = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
        let query = format!(
            "mutation($input: {kind}!) {{ {name}(input: $input) {{ {fields} userErrors {{ field code message }} }} }}"
        );
        let (status, body) = self.post(token, &query, json!({ "input": input })).await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        assert!(body.get("errors").is_none(), "{body:#}");
        assert_eq!(body["data"][name]["userErrors"], json!([]), "{body:#}");
        body["data"][name].clone()
    }

    /// Every feed entry, from the first.
    async fn feed(&self, token: &str) -> Vec<Value> {
        let (mut all, mut after) = (Vec::new(), Value::Null);
        loop {
            let (_, body) = self.post(token, FEED, json!({ "after": after })).await;
            let page = &body["data"]["changes"];
            let edges = page["edges"].as_array().unwrap_or_else(|| panic!("a feed page: {body:#}"));
            all.extend(edges.iter().map(|e| e["node"].clone()));
            if page["pageInfo"]["hasNextPage"] != true {
                return all;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
    }
}

#[tokio::test]
async fn an_editor_keeps_a_firm_true_and_every_step_shows_in_history_and_in_the_feed() {
    let test = TestDb::sample().await;
    let (config, tokens) =
        common::config_with_tokens(&test, &[(Role::Editor, "editor:wang"), (Role::Analyst, "analyst:li")]).await;
    let api = Api { router: parkgraph::app(&config, test.db.clone()).expect("app builds") };
    let (editor, analyst) = (tokens[0].as_str(), tokens[1].as_str());

    let seeded = api.feed(editor).await.len();
    assert!(seeded > 100, "the sample's records are in the feed: {seeded}");

    // Create, place in a park, correct twice, archive.
    const ORGANIZATION: &str = "organization { id version headcount nameEn }";
    let created = api
        .mutate(
            editor,
            "createOrganization",
            ORGANIZATION,
            json!({ "kind": "ENTERPRISE", "nameZh": "光谷示例生物", "status": "ACTIVE", "foundedOn": "2021-06" }),
        )
        .await;
    let id = created["organization"]["id"].clone();
    assert_eq!(created["organization"]["version"], 1);
    let (_, parks) =
        api.post(editor, r#"{ parks(filter: { nameContains: "光谷生物城" }) { nodes { id } } }"#, json!({})).await;
    let biolake = parks["data"]["parks"]["nodes"][0]["id"].clone();
    let location = api
        .mutate(
            editor,
            "addEnterpriseLocation",
            "enterpriseLocation { id version park { nameZh } }",
            json!({ "organizationId": id, "parkId": biolake, "role": "OPERATING", "since": "2021-07" }),
        )
        .await;
    assert_eq!(location["enterpriseLocation"]["park"]["nameZh"], "光谷生物城");
    let location_id = location["enterpriseLocation"]["id"].clone();
    let fix = api
        .mutate(editor, "updateOrganization", ORGANIZATION, json!({ "id": id, "version": 1, "headcount": 120 }))
        .await;
    assert_eq!(fix["organization"]["version"], 2);
    let fix = api
        .mutate(
            editor,
            "updateOrganization",
            ORGANIZATION,
            json!({ "id": id, "version": 2, "nameEn": "Optics Valley Sample Bio" }),
        )
        .await;
    assert_eq!(
        (fix["organization"]["version"].clone(), fix["organization"]["headcount"].clone()),
        (json!(3), json!(120))
    );
    let archived = api.mutate(editor, "archiveOrganization", ORGANIZATION, json!({ "id": id, "version": 3 })).await;
    assert_eq!(archived["organization"]["version"], 4);

    // The analyst is refused, and a bad USCC is a user error: neither changes anything.
    let (status, refused) = api
        .post(
            analyst,
            "mutation { createOrganization(input: { kind: ENTERPRISE, nameZh: \"不该出现\", status: ACTIVE }) { organization { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(codes(&refused), vec!["FORBIDDEN"], "{refused:#}");
    let (_, invalid) = api
        .post(
            editor,
            "mutation { createOrganization(input: { kind: ENTERPRISE, nameZh: \"校验码错误\", status: ACTIVE, uscc: \"914403001922038217\" }) { organization { id } userErrors { field code } } }",
            json!({}),
        )
        .await;
    assert!(invalid["data"]["createOrganization"]["organization"].is_null(), "{invalid:#}");
    assert_eq!(
        invalid["data"]["createOrganization"]["userErrors"],
        json!([{ "field": ["uscc"], "code": "INVALID_CHECKSUM" }]),
        "{invalid:#}"
    );

    // The feed: the seeds, then exactly the story's five changes, in order, by the editor.
    let feed = api.feed(editor).await;
    let seqs: Vec<i64> = feed.iter().map(|n| n["seq"].as_i64().expect("seq")).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "gap-free from 1");
    let story: Vec<(String, String, i64, bool)> = feed[seeded..]
        .iter()
        .map(|n| {
            assert_eq!(n["actor"], "editor:wang");
            (
                n["entityType"].as_str().unwrap_or_default().to_string(),
                n["operation"].as_str().unwrap_or_default().to_string(),
                n["version"].as_i64().unwrap_or_default(),
                n["tombstone"] == true,
            )
        })
        .collect();
    let expected = [
        ("ORGANIZATION", "CREATE", 1, false),
        ("ENTERPRISE_LOCATION", "ADD_LINK", 1, false),
        ("ORGANIZATION", "UPDATE", 2, false),
        ("ORGANIZATION", "UPDATE", 3, false),
        ("ORGANIZATION", "ARCHIVE", 4, true),
    ]
    .map(|(t, o, v, d)| (t.to_string(), o.to_string(), v, d));
    assert_eq!(story, expected, "{:#}", json!(feed[seeded..]));
    assert_eq!(feed[seeded + 1]["entityId"], location_id);
    assert!([0, 2, 3, 4].iter().all(|&i| feed[seeded + i]["entityId"] == id), "{:#}", json!(feed[seeded..]));

    // History: the record's four versions, oldest first, for staff.
    let (_, history) = api
        .post(
            editor,
            "query($id: ID!) { node(id: $id) { ... on Organization { archivedAt history { nodes { version operation actor } } } } }",
            json!({ "id": id }),
        )
        .await;
    let versions: Vec<(i64, String)> = history["data"]["node"]["history"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("history: {history:#}"))
        .iter()
        .map(|r| (r["version"].as_i64().unwrap_or_default(), r["operation"].as_str().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(
        versions,
        [(1, "CREATE"), (2, "UPDATE"), (3, "UPDATE"), (4, "ARCHIVE")].map(|(v, o)| (v, o.to_string())),
        "{history:#}"
    );
    assert!(history["data"]["node"]["archivedAt"].is_string(), "{history:#}");
}
