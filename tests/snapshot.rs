//! Partner snapshots over HTTP with real tokens (`GET /bulk/{kind}.ndjson`): refusals
//! (unknown kind, no token, no `export`, no read scope), the rows a partner gets and the
//! last line, resuming with `?after=`, gzip, the export allowance, and the promise the
//! endpoint exists for: a snapshot taken while editors write, plus the change feed after
//! its cursor, equals the live registry. Runs on SQLite, and on PostgreSQL with
//! `TEST_DATABASE_URL`.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use parkgraph::config::{KeyConfig, Secret};
use parkgraph_api::auth::Caller;
use parkgraph_api::id::{NodeType, encode};
use parkgraph_api::policy::visible_fields;
use parkgraph_domain::{Role, Scope};
use parkgraph_persistence::entity::{enterprise_location, organization, park};
use parkgraph_persistence::query::Live;
use parkgraph_persistence::sea_orm::{EntityTrait, QueryFilter, QueryOrder};
use parkgraph_registry::token::{IssueRequest, issue};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use common::TestDb;

const PARTNER_SCOPES: &str = "read:parks,read:organizations,read:changes,export";

struct Api {
    test: TestDb,
    router: axum::Router,
    config: parkgraph::Config,
}

impl Api {
    /// A server over the sample, with `limits` adjusted by `tune`.
    async fn start(tune: impl FnOnce(&mut parkgraph::config::LimitsConfig)) -> Self {
        let test = TestDb::sample().await;
        let mut config = parkgraph::Config { database_url: test.url.clone(), ..parkgraph::Config::default() };
        config.auth.keys = vec![KeyConfig {
            kid: "k1".into(),
            algorithm: "HS256".into(),
            secret: Some(Secret("snapshot-secret-of-at-least-thirty-two-bytes".into())),
            secret_file: None,
            private_key_file: None,
            public_key_file: None,
        }];
        config.auth.signing_kid = Some("k1".into());
        config.auth.dev_keys = false;
        tune(&mut config.limits);
        let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
        Self { test, router, config }
    }

    async fn token(&self, role: Role, scopes: Option<&str>) -> String {
        let keys = parkgraph::keys::key_set(&self.config.auth, &self.config.database_url).expect("keys");
        let request = IssueRequest {
            partner: (role == Role::Partner).then(|| "Wuhan Data Institute".to_string()),
            role,
            scopes: scopes.map(|s| Scope::parse_list(s).expect("known scopes")),
            ttl: Duration::from_secs(3600),
            subject: Some(format!("test:{role}")),
            description: None,
            issued_by: None,
        };
        issue(&self.test.db, &keys, request).await.expect("a token").0
    }

    async fn get(&self, path: &str, token: Option<&str>, gzip: bool) -> axum::response::Response {
        let mut request = Request::get(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if gzip {
            request = request.header(header::ACCEPT_ENCODING, "gzip");
        }
        self.router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("response")
    }

    /// A refusal: its status and its JSON error.
    async fn refused(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let response = self.get(path, token, false).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("a JSON error: {bytes:?}")))
    }

    /// A whole snapshot: the cursor header, the rows and the last line.
    async fn snapshot(&self, path: &str, token: &str) -> Snapshot {
        let response = self.get(path, Some(token), false).await;
        assert_eq!(response.status(), StatusCode::OK);
        let cursor = cursor_header(&response);
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Snapshot::parse(cursor, &bytes)
    }

    async fn post(&self, token: &str, query: &str, variables: Value) -> Value {
        let payload = json!({ "query": query, "variables": variables }).to_string();
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(payload))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("response");
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        serde_json::from_slice(&bytes).expect("JSON")
    }

    /// Runs a mutation that must succeed and returns its payload.
    async fn mutate(&self, token: &str, name: &str, fields: &str, input: Value) -> Value {
        let kind = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
        let query = format!(
            "mutation($input: {kind}!) {{ {name}(input: $input) {{ {fields} userErrors {{ field code message }} }} }}"
        );
        let body = self.post(token, &query, json!({ "input": input })).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        assert_eq!(body["data"][name]["userErrors"], json!([]), "{body:#}");
        body["data"][name].clone()
    }

    /// Every feed entry of `types` after `after`, through `changes` as the partner.
    async fn feed(&self, token: &str, after: &str, types: &str) -> Vec<Value> {
        let query = format!(
            "query($after: String) {{ changes(after: $after, first: 100, types: [{types}]) {{
                nodes {{ seq databaseId version tombstone after }} pageInfo {{ hasNextPage endCursor }} }} }}"
        );
        let (mut all, mut after) = (Vec::new(), json!(after));
        loop {
            let body = self.post(token, &query, json!({ "after": after })).await;
            let page = &body["data"]["changes"];
            all.extend(page["nodes"].as_array().unwrap_or_else(|| panic!("a feed page: {body:#}")).iter().cloned());
            if page["pageInfo"]["hasNextPage"] != true {
                return all;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
    }
}

fn cursor_header(response: &axum::response::Response) -> String {
    response
        .headers()
        .get("parkgraph-feed-cursor")
        .and_then(|v| v.to_str().ok())
        .expect("a ParkGraph-Feed-Cursor header")
        .to_string()
}

/// A snapshot as a partner reads it.
#[derive(Debug)]
struct Snapshot {
    cursor: String,
    rows: Vec<Value>,
    last: Value,
}

impl Snapshot {
    fn parse(cursor: String, bytes: &[u8]) -> Self {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        assert!(text.ends_with('\n'), "every line ends with a newline");
        let mut lines: Vec<Value> =
            text.lines().map(|line| serde_json::from_str(line).expect("each line is JSON")).collect();
        let last = lines.pop().expect("a last line");
        assert!(last.get("@snapshot").is_some(), "the last line describes the snapshot: {last}");
        assert!(lines.iter().all(|row| row.get("@snapshot").is_none()));
        Self { cursor, rows: lines, last: last["@snapshot"].clone() }
    }

    fn ids(&self) -> Vec<String> {
        self.rows.iter().map(|row| row["id"].as_str().expect("an id").to_string()).collect()
    }
}

fn partner() -> Caller {
    Caller {
        role: Role::Partner,
        scopes: Scope::parse_list(PARTNER_SCOPES).expect("scopes"),
        subject: "test".into(),
        jti: None,
        partner_id: None,
    }
}

/// The live organizations as stored now, as a partner may see them, by id.
async fn live_organizations(test: &TestDb) -> BTreeMap<String, Value> {
    organization::Entity::find()
        .filter(organization::Entity::live())
        .all(&test.db)
        .await
        .expect("organizations")
        .into_iter()
        .map(|row| {
            let fields = visible_fields(&partner(), Some(serde_json::to_value(&row).expect("JSON"))).expect("fields");
            (row.id.to_string(), fields)
        })
        .collect()
}

/// The live enterprise locations as stored now, by id.
async fn live_locations(test: &TestDb) -> BTreeMap<String, Value> {
    enterprise_location::Entity::find()
        .filter(enterprise_location::Entity::live())
        .all(&test.db)
        .await
        .expect("locations")
        .into_iter()
        .map(|row| (row.id.to_string(), serde_json::to_value(&row).expect("JSON")))
        .collect()
}

fn code(error: &Value) -> &str {
    error["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn an_unknown_kind_is_a_404_that_names_the_known_ones() {
    let api = Api::start(|_| {}).await;
    let token = api.token(Role::Partner, Some(PARTNER_SCOPES)).await;
    for path in ["/bulk/partners.ndjson", "/bulk/organizations.csv", "/bulk/organizations"] {
        let (status, body) = api.refused(path, Some(&token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body:#}");
        assert_eq!(code(&body), "NOT_FOUND");
        let kinds = body["errors"][0]["extensions"]["kinds"].as_array().expect("the known kinds");
        assert_eq!(kinds.len(), 12);
        let message = body["errors"][0]["message"].as_str().expect("message");
        assert!(message.contains("organizations.ndjson") && message.contains("enterpriseLocations.ndjson"));
    }
}

#[tokio::test]
async fn anonymous_callers_get_401_and_tokens_without_export_or_the_family_403() {
    let api = Api::start(|_| {}).await;
    let (status, body) = api.refused("/bulk/organizations.ndjson", None).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"), "{body:#}");
    let (status, body) = api.refused("/bulk/organizations.ndjson", Some("not-a-token")).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"), "{body:#}");

    let no_export = api.token(Role::Partner, Some("read:parks,read:organizations")).await;
    let (status, body) = api.refused("/bulk/organizations.ndjson", Some(&no_export)).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"), "{body:#}");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("`export`"));

    // A link needs both ends' families, as in the feed.
    let organizations_only = api.token(Role::Partner, Some("read:organizations,export")).await;
    let (status, body) = api.refused("/bulk/enterpriseLocations.ndjson", Some(&organizations_only)).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"), "{body:#}");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("read:parks"));
    let response = api.get("/bulk/organizations.ndjson", Some(&organizations_only), false).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_partner_gets_every_live_organization_without_internal_fields_and_a_last_line_with_the_cursor() {
    let api = Api::start(|limits| limits.export_page_rows = 7).await;
    let editor = api.token(Role::Editor, None).await;
    let token = api.token(Role::Partner, Some(PARTNER_SCOPES)).await;
    // One organization leaves the live registry first.
    let first = organization::Entity::find()
        .order_by_asc(organization::Column::Id)
        .one(&api.test.db)
        .await
        .expect("read")
        .expect("the sample has organizations");
    let id = encode(NodeType::Organization, first.id);
    api.mutate(
        &editor,
        "archiveOrganization",
        "organization { version }",
        json!({ "id": id, "version": first.version }),
    )
    .await;

    let response = api.get("/bulk/organizations.ndjson", Some(&token), false).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/x-ndjson");
    let cursor = cursor_header(&response);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let snapshot = Snapshot::parse(cursor, &bytes);

    let live = live_organizations(&api.test).await;
    let rows: BTreeMap<String, Value> =
        snapshot.rows.iter().map(|row| (row["id"].as_str().expect("id").to_string(), row.clone())).collect();
    assert_eq!(rows, live, "every live organization, as the feed gives it to a partner");
    assert!(!rows.contains_key(&first.id.to_string()), "the archived one is not there");
    for row in &snapshot.rows {
        for internal in ["staff_notes", "contact_name", "contact_phone", "contact_email"] {
            assert!(row.get(internal).is_none(), "{internal} is internal: {row}");
        }
    }
    let mut sorted = snapshot.ids();
    sorted.sort_by_key(|id| Uuid::parse_str(id).expect("uuid"));
    assert_eq!(snapshot.ids(), sorted, "ordered by id");

    let entries: Vec<Value> = api.feed(&token, &encode_cursor(0), "ORGANIZATION, PARK").await;
    let total = parkgraph_persistence::write::changes(&api.test.db, None, 1_000_000, None).await.expect("feed").len();
    assert_eq!(
        snapshot.last,
        json!({ "kind": "organizations", "rows": live.len(), "feedCursor": snapshot.cursor, "seq": total, "complete": true })
    );
    assert_eq!(snapshot.cursor, encode_cursor(total as i64), "the cursor `changes(after:)` takes");
    assert!(!entries.is_empty());

    // Staff with `read:internal` get the internal fields, as in their feed.
    let staff = api.snapshot("/bulk/organizations.ndjson", &editor).await;
    assert!(staff.rows.iter().all(|row| row.get("staff_notes").is_some()));
    assert_eq!(staff.rows.len(), live.len());

    // The rows are counted in /metrics.
    let metrics = api.get("/metrics", None, false).await;
    let text = String::from_utf8(metrics.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("text");
    let counted = format!("parkgraph_snapshot_rows_total{{kind=\"organizations\"}} {}", 2 * live.len());
    assert!(text.contains(&counted), "{counted} in {text}");
}

/// The feed cursor of `seq`, as the API encodes it.
fn encode_cursor(seq: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("change:{seq}"))
}

#[tokio::test]
async fn after_resumes_exactly_after_the_given_id_and_a_bad_one_is_a_400() {
    let api = Api::start(|limits| limits.export_page_rows = 5).await;
    let token = api.token(Role::Partner, Some(PARTNER_SCOPES)).await;
    let whole = api.snapshot("/bulk/parks.ndjson", &token).await;
    assert!(whole.rows.len() > 6, "the sample has parks: {}", whole.rows.len());
    let ids = whole.ids();
    for k in [0, 4, 5, ids.len() - 1] {
        let resumed = api.snapshot(&format!("/bulk/parks.ndjson?after={}", ids[k]), &token).await;
        assert_eq!(resumed.rows, whole.rows[k + 1..], "after row {k}");
        assert_eq!(resumed.last["rows"], json!(ids.len() - k - 1));
        assert_eq!(resumed.cursor, whole.cursor, "nothing was written in between");
    }
    for bad in ["42", "not-a-uuid", ""] {
        let (status, body) = api.refused(&format!("/bulk/parks.ndjson?after={bad}"), Some(&token)).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"), "{bad}: {body:#}");
    }
    let (status, body) = api.refused("/bulk/parks.ndjson?since=3", Some(&token)).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"), "{body:#}");
}

#[tokio::test]
async fn a_gzip_snapshot_decodes_to_the_same_lines() {
    let api = Api::start(|limits| limits.export_page_rows = 3).await;
    let token = api.token(Role::Partner, Some(PARTNER_SCOPES)).await;
    let plain = api.get("/bulk/organizations.ndjson", Some(&token), false).await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let plain = plain.into_body().collect().await.expect("body").to_bytes();
    let zipped = api.get("/bulk/organizations.ndjson", Some(&token), true).await;
    assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
    let cursor = cursor_header(&zipped);
    let zipped = zipped.into_body().collect().await.expect("body").to_bytes();
    assert!(zipped.len() < plain.len(), "{} compressed vs {} plain", zipped.len(), plain.len());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..]).read_to_end(&mut decoded).expect("valid gzip");
    assert_eq!(decoded, plain.to_vec());
    let snapshot = Snapshot::parse(cursor, &decoded);
    assert_eq!(snapshot.last["feedCursor"], json!(snapshot.cursor));
}

#[tokio::test]
async fn the_export_allowance_paces_a_stream_and_refuses_a_start_when_spent_apart_from_queries() {
    // Three rows at once, then one a second.
    let api = Api::start(|limits| {
        limits.export_burst_rows = 3;
        limits.export_rows_per_minute = 60;
        limits.export_page_rows = 2;
    })
    .await;
    let token = api.token(Role::Partner, Some(PARTNER_SCOPES)).await;
    let ids = {
        let parks = park::Entity::find().filter(park::Entity::live()).order_by_asc(park::Column::Id);
        parks.all(&api.test.db).await.expect("parks").into_iter().map(|p| p.id.to_string()).collect::<Vec<_>>()
    };
    let tail = format!("/bulk/parks.ndjson?after={}", ids[ids.len() - 3]);
    // Two rows: the row paid at the start and one more; one left.
    let first = api.snapshot(&tail, &token).await;
    assert_eq!(first.rows.len(), 2);
    // Two rows again: one left to start with, the second waits about a second.
    let started = Instant::now();
    let second = api.snapshot(&tail, &token).await;
    assert_eq!(second.rows, first.rows);
    assert!(started.elapsed() >= Duration::from_millis(500), "the stream waited for its allowance");
    // Nothing left: the start is refused, with when to come back.
    let (status, body) = api.refused(&tail, Some(&token)).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "THROTTLED"), "{body:#}");
    assert!(body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().is_some_and(|s| s >= 1), "{body:#}");
    // The token's queries draw on their own bucket.
    let answer = api.post(&token, "{ parks(first: 1) { totalCount } }", json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
}

#[tokio::test]
async fn a_replica_streams_a_bounded_number_of_snapshots_at_once() {
    let api = Api::start(|limits| {
        limits.export_concurrent = 1;
        limits.export_page_rows = 1;
    })
    .await;
    let token = api.token(Role::Partner, Some(PARTNER_SCOPES)).await;
    // The first stream is not read: it holds its place (and its connection).
    let held = api.get("/bulk/organizations.ndjson", Some(&token), false).await;
    assert_eq!(held.status(), StatusCode::OK);
    let (status, body) = api.refused("/bulk/parks.ndjson", Some(&token)).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "THROTTLED"), "{body:#}");
    // Once the client leaves, the place is free again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = api.get("/bulk/parks.ndjson", Some(&token), false).await;
        if response.status() == StatusCode::OK {
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            assert!(Snapshot::parse(String::new(), &bytes).last["complete"] == true);
            break;
        }
        assert!(Instant::now() < deadline, "the place was never given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_taken_during_writes_plus_the_feed_after_its_cursor_equals_the_live_registry() {
    let api = Api::start(|limits| limits.export_page_rows = 4).await;
    let editor = api.token(Role::Editor, None).await;
    let token = api.token(Role::Partner, Some(PARTNER_SCOPES)).await;
    const ORGANIZATION: &str = "organization { id version }";
    let parks: Vec<Uuid> = park::Entity::find()
        .filter(park::Entity::live())
        .all(&api.test.db)
        .await
        .expect("parks")
        .into_iter()
        .map(|p| p.id)
        .collect();
    // Enough organizations that the stream cannot read ahead of the writes below.
    for n in 0..24 {
        api.mutate(
            &editor,
            "createOrganization",
            ORGANIZATION,
            json!({ "kind": "ENTERPRISE", "nameZh": format!("快照前企业{n}"), "status": "ACTIVE" }),
        )
        .await;
    }
    let before: Vec<organization::Model> = organization::Entity::find()
        .filter(organization::Entity::live())
        .order_by_asc(organization::Column::Id)
        .all(&api.test.db)
        .await
        .expect("organizations");
    let n = before.len();
    assert!(n > 40, "{n} organizations");
    let located: Vec<Uuid> = live_locations(&api.test)
        .await
        .values()
        .map(|l| Uuid::parse_str(l["organization_id"].as_str().expect("organization_id")).expect("uuid"))
        .collect();

    // Both snapshots start: their views are fixed when their headers arrive.
    let organizations = api.get("/bulk/organizations.ndjson", Some(&token), false).await;
    let locations = api.get("/bulk/enterpriseLocations.ndjson", Some(&token), false).await;
    let (organizations_cursor, locations_cursor) = (cursor_header(&organizations), cursor_header(&locations));
    let mut organizations = organizations.into_body();
    let mut locations = locations.into_body();
    let mut organization_bytes = Vec::new();
    let first = organizations.frame().await.expect("a first page").expect("no error");
    organization_bytes.extend_from_slice(first.data_ref().expect("data"));

    // Writes while the stream is open: updates at both ends of the id order, archives
    // (one organization with a location, whose link then leaves the live registry), new
    // organizations (whose ids sort last) with new locations.
    let gid = |row: &organization::Model| encode(NodeType::Organization, row.id);
    let late = &before[n - 1];
    let updated = api
        .mutate(
            &editor,
            "updateOrganization",
            ORGANIZATION,
            json!({ "id": gid(late), "version": late.version, "headcount": 4321 }),
        )
        .await;
    assert_eq!(updated["organization"]["version"], json!(late.version + 1));
    let early = &before[0];
    api.mutate(
        &editor,
        "updateOrganization",
        ORGANIZATION,
        json!({ "id": gid(early), "version": early.version, "headcount": 1234 }),
    )
    .await;
    let archived_late = &before[n - 2];
    api.mutate(
        &editor,
        "archiveOrganization",
        ORGANIZATION,
        json!({ "id": gid(archived_late), "version": archived_late.version }),
    )
    .await;
    let with_location = before
        .iter()
        .find(|o| located.contains(&o.id) && o.id != early.id && o.id != late.id && o.id != archived_late.id)
        .expect("an organization with a location");
    api.mutate(
        &editor,
        "archiveOrganization",
        ORGANIZATION,
        json!({ "id": gid(with_location), "version": with_location.version }),
    )
    .await;
    let mut created = Vec::new();
    for k in 0..3 {
        let new = api
            .mutate(
                &editor,
                "createOrganization",
                ORGANIZATION,
                json!({ "kind": "ENTERPRISE", "nameZh": format!("快照中企业{k}"), "status": "ACTIVE" }),
            )
            .await;
        created.push(new["organization"]["id"].clone());
    }

    // More writes while the partner reads the rest slowly.
    let writes = async {
        for (k, id) in created.iter().enumerate() {
            api.mutate(
                &editor,
                "addEnterpriseLocation",
                "enterpriseLocation { id }",
                json!({ "organizationId": id, "parkId": encode(NodeType::Park, parks[k % parks.len()]), "role": "OPERATING" }),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let middle = &before[n / 2];
        api.mutate(
            &editor,
            "updateOrganization",
            ORGANIZATION,
            json!({ "id": gid(middle), "version": middle.version, "nameEn": "Mid-stream Co." }),
        )
        .await;
        api.mutate(&editor, "archiveOrganization", ORGANIZATION, json!({ "id": created[0], "version": 1 })).await;
    };
    let read_rest = async {
        let mut location_bytes = Vec::new();
        while let Some(frame) = organizations.frame().await {
            organization_bytes.extend_from_slice(frame.expect("no error").data_ref().expect("data"));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        while let Some(frame) = locations.frame().await {
            location_bytes.extend_from_slice(frame.expect("no error").data_ref().expect("data"));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        location_bytes
    };
    let ((), location_bytes) = tokio::join!(writes, read_rest);
    let organizations = Snapshot::parse(organizations_cursor, &organization_bytes);
    let locations = Snapshot::parse(locations_cursor, &location_bytes);
    assert_eq!(organizations.last["complete"], true);

    // The snapshot is the registry as it was when it began, not a mix.
    let seen: BTreeMap<String, Value> =
        organizations.rows.iter().map(|r| (r["id"].as_str().expect("id").to_string(), r.clone())).collect();
    assert_eq!(seen.len(), n);
    assert_eq!(seen[&late.id.to_string()]["version"], json!(late.version), "the late update is not in the snapshot");
    assert!(seen.contains_key(&archived_late.id.to_string()), "nor the late archive");
    assert!(created.iter().all(|id| {
        let (_, uuid) = parkgraph_api::id::decode(id.as_str().expect("id")).expect("a global id");
        !seen.contains_key(&uuid.to_string())
    }));

    // The partner applies the feed after each cursor on top of its snapshot.
    let apply = |copy: &mut BTreeMap<String, Value>, entries: Vec<Value>| {
        for entry in entries {
            let id = entry["databaseId"].as_str().expect("databaseId").to_string();
            if entry["tombstone"] == true {
                copy.remove(&id);
            } else if copy.get(&id).is_none_or(|held| held["version"].as_i64() < entry["version"].as_i64()) {
                copy.insert(id, entry["after"].clone());
            }
        }
    };
    let mut organization_copy = seen;
    apply(&mut organization_copy, api.feed(&token, &organizations.cursor, "ORGANIZATION").await);
    let mut location_copy: BTreeMap<String, Value> =
        locations.rows.iter().map(|r| (r["id"].as_str().expect("id").to_string(), r.clone())).collect();
    apply(&mut location_copy, api.feed(&token, &locations.cursor, "ENTERPRISE_LOCATION").await);
    // A link is live while both its ends are (parks were not touched).
    location_copy
        .retain(|_, l| organization_copy.contains_key(l["organization_id"].as_str().expect("organization_id")));

    assert_eq!(organization_copy, live_organizations(&api.test).await, "organizations: snapshot + feed = registry");
    let live_locations = live_locations(&api.test).await;
    assert_eq!(location_copy, live_locations, "locations: snapshot + feed = registry");
    assert!(!live_locations.values().any(|l| l["organization_id"] == json!(with_location.id.to_string())));
    assert_eq!(organization_copy[&late.id.to_string()]["headcount"], json!(4321));
}
