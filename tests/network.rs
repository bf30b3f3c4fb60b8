//! `neighborhood`, `connections` and `nearby` on the Wuhan sample: the neighbours of known
//! parks and firms, shortest paths on known small paths (a firm → its park → the
//! innovation center hosted there → a member), the caller's scopes, the bounds, a fixed
//! number of statements per hop, and parks and firms by distance. Runs on SQLite, and on
//! PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::{Counted, TestDb, codes, data, run};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::validation::{ParkPatch, Patch};
use parkgraph_domain::{Role, Scope};
use parkgraph_registry::{Actor, Registry};
use serde_json::{Value, json};

fn caller(role: Role, scopes: &[Scope]) -> Caller {
    Caller { role, scopes: scopes.iter().copied().collect(), subject: "test".into(), jti: None, partner_id: None }
}

async fn run_as(schema: &ParkGraphSchema, who: Caller, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    serde_json::to_value(parkgraph_api::execute_as(schema, request, who).await).expect("response serializes")
}

/// The global id of the record of `list` (a root list field) whose name contains `name`.
async fn id_of(schema: &ParkGraphSchema, list: &str, name: &str) -> String {
    let query =
        format!(r#"query($n: String!) {{ {list}(filter: {{ nameContains: $n }}) {{ nodes {{ id nameZh }} }} }}"#);
    let d = data(schema, &query, json!({ "n": name })).await;
    let nodes = d[list]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 1, "exactly one {list} named like {name}: {nodes:?}");
    nodes[0]["id"].as_str().expect("id").to_string()
}

const NEIGHBORHOOD: &str = r#"query($id: ID!, $hops: Int, $types: [EdgeType!]) {
  neighborhood(id: $id, hops: $hops, types: $types) {
    nodes { id type label hops node { id ... on Park { nameZh } ... on Organization { nameZh } } }
    edges { from to type role sinceDate { text } linkId }
    truncated
  }
}"#;

/// The labels of a graph's nodes, sorted, and its edges as (from label, type, to label), sorted.
fn shape(graph: &Value) -> (Vec<String>, Vec<(String, String, String)>) {
    let nodes = graph["nodes"].as_array().expect("nodes");
    let label = |id: &Value| -> String {
        nodes.iter().find(|n| n["id"] == *id).map(|n| n["label"].as_str().unwrap_or("").to_string()).expect("end")
    };
    let mut labels: Vec<String> = nodes.iter().map(|n| n["label"].as_str().expect("label").to_string()).collect();
    labels.sort();
    let mut edges: Vec<(String, String, String)> = graph["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| (label(&e["from"]), e["type"].as_str().expect("type").to_string(), label(&e["to"])))
        .collect();
    edges.sort();
    (labels, edges)
}

fn strings(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn edge(from: &str, kind: &str, to: &str) -> (String, String, String) {
    (from.into(), kind.into(), to.into())
}

#[tokio::test]
async fn the_neighborhood_of_a_park_holds_its_parent_its_firms_and_the_center_it_hosts() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let future_city = id_of(&schema, "parks", "武汉未来科技城").await;
    let d = data(&schema, NEIGHBORHOOD, json!({ "id": future_city })).await;
    let graph = &d["neighborhood"];
    assert_eq!(graph["truncated"], false);
    assert_eq!(graph["nodes"][0]["id"], json!(future_city), "the record asked about comes first");
    assert_eq!(graph["nodes"][0]["hops"], 0);
    assert_eq!(graph["nodes"][0]["node"]["nameZh"], "武汉未来科技城");
    let (nodes, edges) = shape(graph);
    assert_eq!(
        nodes,
        strings(&["武汉未来科技城", "武汉东湖新技术开发区（中国光谷）", "尚赛光电", "国家数字化设计与制造创新中心"])
    );
    let mut expected = vec![
        edge("武汉未来科技城", "PARK_PARENT", "武汉东湖新技术开发区（中国光谷）"),
        edge("尚赛光电", "LOCATED_IN", "武汉未来科技城"),
        edge("国家数字化设计与制造创新中心", "HOSTED_IN", "武汉未来科技城"),
    ];
    expected.sort();
    assert_eq!(edges, expected);
    let located = graph["edges"].as_array().expect("edges").iter().find(|e| e["type"] == "LOCATED_IN").expect("edge");
    assert_eq!(located["role"], "OPERATING");
    assert!(located["linkId"].is_string(), "a location is a link: {located}");
    assert!(graph["nodes"].as_array().expect("nodes").iter().skip(1).all(|n| n["hops"] == 1));
}

#[tokio::test]
async fn the_neighborhood_of_a_firm_follows_the_edge_types_asked_for() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let xiaomi = id_of(&schema, "organizations", "小米").await;
    let d = data(&schema, NEIGHBORHOOD, json!({ "id": xiaomi })).await;
    let (nodes, edges) = shape(&d["neighborhood"]);
    assert_eq!(nodes, strings(&["小米", "光谷中心城", "小米武汉总部（光谷金融港）", "小米武汉总部（小米武汉科技园）"]));
    assert!(edges.contains(&edge("小米", "LOCATED_IN", "光谷中心城")), "{edges:?}");
    assert!(edges.contains(&edge("小米武汉总部（光谷金融港）", "SECOND_HQ_OF", "小米")), "{edges:?}");
    let r_and_d = d["neighborhood"]["edges"].as_array().expect("edges").iter().find(|e| e["type"] == "LOCATED_IN");
    assert_eq!(r_and_d.map(|e| e["role"].clone()), Some(json!("R_AND_D")));

    // Designations only when asked for.
    let d = data(&schema, NEIGHBORHOOD, json!({ "id": xiaomi, "types": ["DESIGNATED"] })).await;
    let (nodes, _) = shape(&d["neighborhood"]);
    assert_eq!(nodes, strings(&["小米", "FORTUNE_GLOBAL_500 2019", "FORTUNE_GLOBAL_500 2020"]));
    assert!(
        d["neighborhood"]["nodes"].as_array().expect("nodes").iter().skip(1).all(|n| n["type"] == "DESIGNATION"),
        "{d}"
    );

    // Two hops reach the parks of its second headquarters and the zone.
    let d = data(&schema, NEIGHBORHOOD, json!({ "id": xiaomi, "hops": 2 })).await;
    let graph = &d["neighborhood"];
    let (nodes, edges) = shape(graph);
    for name in ["光谷金融港", "武汉东湖新技术开发区（中国光谷）"] {
        assert!(nodes.contains(&name.to_string()), "{name} in {nodes:?}");
    }
    assert!(edges.contains(&edge("小米武汉总部（光谷金融港）", "SECOND_HQ_IN", "光谷金融港")), "{edges:?}");
    let hops: Vec<i64> =
        graph["nodes"].as_array().expect("nodes").iter().map(|n| n["hops"].as_i64().expect("hops")).collect();
    assert!(hops.windows(2).all(|w| w[0] <= w[1]) && hops.contains(&2), "by hops: {hops:?}");
    // Every edge joins two nodes of the graph.
    let ids: Vec<&Value> = graph["nodes"].as_array().expect("nodes").iter().map(|n| &n["id"]).collect();
    for e in graph["edges"].as_array().expect("edges") {
        assert!(ids.contains(&&e["from"]) && ids.contains(&&e["to"]), "{e}");
    }
}

const CONNECTIONS: &str = r#"query($from: ID!, $to: ID!, $maxHops: Int, $first: Int) {
  connections(from: $from, to: $to, maxHops: $maxHops, first: $first) {
    truncated visited
    paths { length nodes { id label type } edges { from to type } }
  }
}"#;

fn path_labels(path: &Value) -> Vec<String> {
    path["nodes"].as_array().expect("nodes").iter().map(|n| n["label"].as_str().expect("label").to_string()).collect()
}

fn path_types(path: &Value) -> Vec<String> {
    path["edges"].as_array().expect("edges").iter().map(|e| e["type"].as_str().expect("type").to_string()).collect()
}

#[tokio::test]
async fn connections_find_the_shortest_paths_on_known_small_paths() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    // 尚赛光电 is in 武汉未来科技城, which hosts the digital design center that 华中科技大学 leads.
    let shangsai = id_of(&schema, "organizations", "尚赛光电").await;
    let hust = id_of(&schema, "organizations", "华中科技大学").await;
    let d = data(&schema, CONNECTIONS, json!({ "from": shangsai, "to": hust })).await;
    let found = &d["connections"];
    assert_eq!(found["paths"].as_array().map(Vec::len), Some(1), "{found}");
    let path = &found["paths"][0];
    assert_eq!(path["length"], 3);
    assert_eq!(path_labels(path), ["尚赛光电", "武汉未来科技城", "国家数字化设计与制造创新中心", "华中科技大学"]);
    assert_eq!(path_types(path), ["LOCATED_IN", "HOSTED_IN", "MEMBER_OF"]);
    // Edges keep their own direction: the member's edge runs from 华中科技大学 to the center.
    assert_eq!(path["edges"][2]["from"], json!(hust));
    assert_eq!(found["truncated"], false);

    // 小米 and 顺为资本 meet at the Financial Harbour, through their second headquarters.
    let xiaomi = id_of(&schema, "organizations", "小米").await;
    let shunwei = id_of(&schema, "organizations", "顺为资本").await;
    let d = data(&schema, CONNECTIONS, json!({ "from": xiaomi, "to": shunwei })).await;
    let paths = d["connections"]["paths"].as_array().expect("paths");
    assert_eq!(paths.len(), 1, "{d}");
    assert_eq!(
        path_labels(&paths[0]),
        ["小米", "小米武汉总部（光谷金融港）", "光谷金融港", "顺为资本武汉总部", "顺为资本"]
    );
    assert_eq!(path_types(&paths[0]), ["SECOND_HQ_OF", "SECOND_HQ_IN", "SECOND_HQ_IN", "SECOND_HQ_OF"]);
    // Out of reach within three hops: no path, and not truncated.
    let d = data(&schema, CONNECTIONS, json!({ "from": xiaomi, "to": shunwei, "maxHops": 3 })).await;
    assert_eq!(d["connections"]["paths"], json!([]));
    assert_eq!(d["connections"]["truncated"], false);

    // Two shortest paths from 小米 to the zone: through 光谷中心城, and through its campus.
    let zone = id_of(&schema, "parks", "武汉东湖新技术开发区").await;
    let d = data(&schema, CONNECTIONS, json!({ "from": xiaomi, "to": zone })).await;
    let mut routes: Vec<Vec<String>> =
        d["connections"]["paths"].as_array().expect("paths").iter().map(path_types).collect();
    routes.sort();
    assert_eq!(routes, [vec!["LOCATED_IN", "PARK_PARENT"], vec!["SECOND_HQ_OF", "SECOND_HQ_IN"]]);
    let d = data(&schema, CONNECTIONS, json!({ "from": xiaomi, "to": zone, "first": 1 })).await;
    assert_eq!(d["connections"]["paths"].as_array().map(Vec::len), Some(1));

    // Two firms of one park.
    let douyu = id_of(&schema, "organizations", "斗鱼").await;
    let juanpi = id_of(&schema, "organizations", "卷皮网").await;
    let d = data(&schema, CONNECTIONS, json!({ "from": douyu, "to": juanpi })).await;
    assert_eq!(path_labels(&d["connections"]["paths"][0]), ["斗鱼", "光谷软件园", "卷皮网"]);
    // A record is linked to itself by the empty path.
    let d = data(&schema, CONNECTIONS, json!({ "from": douyu, "to": douyu })).await;
    assert_eq!(d["connections"]["paths"][0]["length"], 0);
}

#[tokio::test]
async fn a_caller_sees_only_the_kinds_of_records_its_scopes_read() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let hust = id_of(&schema, "organizations", "华中科技大学").await;
    let future_city = id_of(&schema, "parks", "武汉未来科技城").await;
    let shangsai = id_of(&schema, "organizations", "尚赛光电").await;
    let partner = caller(Role::Partner, &[Scope::ReadOrganizations, Scope::ReadInnovationCenters]);
    let r = run_as(&schema, partner.clone(), NEIGHBORHOOD, json!({ "id": hust, "hops": 3 })).await;
    let graph = &r["data"]["neighborhood"];
    let types: Vec<&str> =
        graph["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["type"].as_str()).collect();
    assert!(!types.contains(&"PARK"), "no park without read:parks: {r}");
    let (nodes, _) = shape(graph);
    assert_eq!(nodes, strings(&["华中科技大学", "国家数字化设计与制造创新中心", "武汉智能装备工业技术研究院"]));
    // Without parks, 尚赛光电 is not linked to 华中科技大学.
    let r = run_as(&schema, partner.clone(), CONNECTIONS, json!({ "from": shangsai, "to": hust })).await;
    assert_eq!(r["data"]["connections"]["paths"], json!([]), "{r}");
    // A park itself is refused.
    let r = run_as(&schema, partner, NEIGHBORHOOD, json!({ "id": future_city })).await;
    assert_eq!(codes(&r), ["FORBIDDEN"], "{r}");
}

#[tokio::test]
async fn bounds_are_refused_clearly() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let douyu = id_of(&schema, "organizations", "斗鱼").await;
    for (query, vars, needle) in [
        (NEIGHBORHOOD, json!({ "id": douyu, "hops": 4 }), "`hops` must be between 1 and 3"),
        (NEIGHBORHOOD, json!({ "id": douyu, "hops": 0 }), "`hops` must be between 1 and 3"),
        (CONNECTIONS, json!({ "from": douyu, "to": douyu, "maxHops": 7 }), "`maxHops` must be between 1 and 6"),
        (CONNECTIONS, json!({ "from": douyu, "to": douyu, "first": 21 }), "`first` must be between 1 and 20"),
        (NEIGHBORHOOD, json!({ "id": "not-an-id" }), "is not a ParkGraph id"),
    ] {
        let r = run(&schema, query, vars).await;
        assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
        assert!(r["errors"][0]["message"].as_str().is_some_and(|m| m.contains(needle)), "{needle}: {r}");
    }
    // An id of no record.
    let nobody = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Organization, uuid::Uuid::now_v7());
    let r = run(&schema, NEIGHBORHOOD, json!({ "id": nobody })).await;
    assert_eq!(codes(&r), ["NOT_FOUND"], "{r}");
}

#[tokio::test]
async fn a_large_neighborhood_is_truncated_at_two_thousand_records() {
    let test = TestDb::migrated().await;
    parkgraph_persistence::seed::synthetic::load(&test.db, 3_000).await.expect("synthetic data loads");
    let schema = test.schema();
    let d = data(&schema, "{ parks(filter: { topLevel: true }) { nodes { id } } }", json!({})).await;
    let zone = d["parks"]["nodes"][0]["id"].as_str().expect("a zone").to_string();
    let d = data(&schema, NEIGHBORHOOD, json!({ "id": zone, "hops": 3 })).await;
    let graph = &d["neighborhood"];
    assert_eq!(graph["truncated"], true);
    let nodes = graph["nodes"].as_array().expect("nodes").len();
    assert!((1_000..=2_000).contains(&nodes), "{nodes} nodes");
}

#[tokio::test]
async fn each_hop_costs_a_fixed_number_of_statements() {
    let test = TestDb::sample().await;
    let counted = Counted::open(&test.url).await;
    let zone = id_of(&counted.schema, "parks", "武汉东湖新技术开发区").await;
    let one = counted.statements(NEIGHBORHOOD, json!({ "id": zone, "hops": 1 })).await;
    let three = counted.statements(NEIGHBORHOOD, json!({ "id": zone, "hops": 3 })).await;
    // A hop reads at most 7 edge tables and 5 node tables; the full records of the
    // `node` field come in one batch per type. Never a statement per node.
    assert!(three <= 1 + 3 * 12 + 6, "{three} statements for three hops");
    assert!(one <= 1 + 12 + 6, "{one} statements for one hop");
    let d = data(&counted.schema, NEIGHBORHOOD, json!({ "id": zone, "hops": 3 })).await;
    let nodes = d["neighborhood"]["nodes"].as_array().expect("nodes").len();
    assert!(nodes > three, "{nodes} nodes from {three} statements");
}

const NEARBY: &str = r#"query($lat: Float, $lon: Float, $park: ID, $r: Float!, $first: Int) {
  nearby(latitude: $lat, longitude: $lon, parkId: $park, radiusKm: $r, first: $first) {
    latitude longitude radiusKm
    parks { distanceKm park { id nameZh } }
    hasMoreParks
    organizations { distanceKm organization { nameZh } park { nameZh } }
    hasMoreOrganizations
  }
}"#;

/// Gives parks coordinates (as an editor would), version 1 being the sample's.
async fn place(test: &TestDb, schema: &ParkGraphSchema, parks: &[(&str, f64, f64)]) {
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("editor:test");
    for (name, lat, lon) in parks {
        let id = id_of(schema, "parks", name).await;
        let uuid = parkgraph_api::id::decode(&id).expect("id").1;
        let patch = ParkPatch { latitude: Patch::Set(*lat), longitude: Patch::Set(*lon), ..Default::default() };
        registry.update_park(&actor, uuid, 1, patch).await.expect("coordinates recorded");
    }
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array().expect("list").iter().map(|i| i[field]["nameZh"].as_str().expect("name").to_string()).collect()
}

fn distances(list: &Value) -> Vec<f64> {
    list.as_array().expect("list").iter().map(|i| i["distanceKm"].as_f64().expect("km")).collect()
}

/// The sample's coordinates (`wuhan.json`, source `park-positions`).
const FUTURE_CITY: (f64, f64) = (30.490, 114.553);
const BIOLAKE: (f64, f64) = (30.479, 114.497);
const OPTICS_VALLEY_SQUARE: (f64, f64) = (30.505, 114.399);

#[tokio::test]
async fn nearby_finds_the_sample_parks_and_their_firms_by_distance() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let future_city = id_of(&schema, "parks", "武汉未来科技城").await;
    let d = data(&schema, NEARBY, json!({ "park": future_city, "r": 8.0 })).await;
    let near = &d["nearby"];
    assert_eq!(names(&near["parks"], "park"), ["武汉未来科技城", "光谷生物城"], "the zone's center (15 km) is out");
    assert_eq!(near["parks"][0]["distanceKm"], 0.0, "the park itself first, at distance 0");
    let to_biolake = parkgraph_persistence::geo::haversine_km(FUTURE_CITY.0, FUTURE_CITY.1, BIOLAKE.0, BIOLAKE.1);
    let found = near["parks"][1]["distanceKm"].as_f64().expect("distance");
    assert!((found - to_biolake).abs() < 1e-9 && (5.0..6.0).contains(&found), "{found}");
    assert_eq!(names(&near["organizations"], "organization"), ["尚赛光电", "安翰光电"]);
    assert_eq!(names(&near["organizations"], "park"), ["武汉未来科技城", "光谷生物城"]);
    assert_eq!((near["latitude"].as_f64(), near["radiusKm"].as_f64()), (Some(FUTURE_CITY.0), Some(8.0)));
    assert_eq!((near["hasMoreParks"].as_bool(), near["hasMoreOrganizations"].as_bool()), (Some(false), Some(false)));

    // Around Optics Valley Square (the zone's point): the zone, 光谷软件园 and 光谷金融港 within
    // 6 km; the zone's own firms first, then those of the Software Park.
    let (lat, lon) = OPTICS_VALLEY_SQUARE;
    let d = data(&schema, NEARBY, json!({ "lat": lat, "lon": lon, "r": 6.0 })).await;
    let near = &d["nearby"];
    assert_eq!(names(&near["parks"], "park"), ["武汉东湖新技术开发区（中国光谷）", "光谷软件园", "光谷金融港"]);
    let firms = names(&near["organizations"], "organization");
    let mut zone_firms = firms[..4].to_vec();
    zone_firms.sort();
    assert_eq!(zone_firms, ["斑马快跑", "直播优选（尚德机构）", "禾元生物", "药帮忙（小药药）"], "{firms:?}");
    let mut software_park = firms[4..].to_vec();
    software_park.sort();
    assert_eq!(software_park, ["卷皮网", "斗鱼"], "{firms:?}");
    let km = distances(&near["organizations"]);
    assert!(km.windows(2).all(|w| w[0] <= w[1]) && km[..4].iter().all(|k| *k == 0.0), "{km:?}");
    assert!((2.0..3.5).contains(&km[4]), "光谷软件园 is about 2.8 km away: {km:?}");

    // `first` bounds each list and says that more lie within the radius.
    let d = data(&schema, NEARBY, json!({ "lat": lat, "lon": lon, "r": 6.0, "first": 2 })).await;
    let near = &d["nearby"];
    assert_eq!(names(&near["parks"], "park"), ["武汉东湖新技术开发区（中国光谷）", "光谷软件园"]);
    assert_eq!((near["hasMoreParks"].as_bool(), near["hasMoreOrganizations"].as_bool()), (Some(true), Some(true)));
    assert_eq!(near["organizations"].as_array().map(Vec::len), Some(2));

    // A park without coordinates is not found until an editor records them; then its firms are.
    let d = data(&schema, NEARBY, json!({ "lat": lat, "lon": lon, "r": 10.0, "first": 100 })).await;
    assert!(!names(&d["nearby"]["organizations"], "organization").contains(&"小米".to_string()), "{d}");
    place(&test, &schema, &[("光谷中心城", 30.475, 114.43)]).await;
    let d = data(&schema, NEARBY, json!({ "lat": lat, "lon": lon, "r": 10.0, "first": 100 })).await;
    let parks = names(&d["nearby"]["parks"], "park");
    assert!(parks.contains(&"光谷中心城".to_string()), "{parks:?}");
    let firms = names(&d["nearby"]["organizations"], "organization");
    assert!(firms.contains(&"小米".to_string()), "{firms:?}");
    assert!(distances(&d["nearby"]["organizations"]).windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn nearby_refuses_bad_centers_and_radii_clearly() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let central_city = id_of(&schema, "parks", "光谷中心城").await;
    for (vars, needle) in [
        (json!({ "lat": 30.5, "lon": 114.4, "r": 101.0 }), "at most 100"),
        (json!({ "lat": 30.5, "lon": 114.4, "r": 0.0 }), "more than 0"),
        (json!({ "lat": 91.0, "lon": 114.4, "r": 5.0 }), "not a point"),
        (json!({ "lat": 30.5, "r": 5.0 }), "either `latitude` and `longitude`, or `parkId`"),
        (json!({ "lat": 30.5, "lon": 114.4, "park": central_city, "r": 5.0 }), "either"),
        (json!({ "park": central_city, "r": 5.0 }), "no recorded coordinates"),
        (json!({ "lat": 30.5, "lon": 114.4, "r": 5.0, "first": 101 }), "`first` must be between 1 and 100"),
    ] {
        let r = run(&schema, NEARBY, vars.clone()).await;
        assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{vars}: {r}");
        assert!(r["errors"][0]["message"].as_str().is_some_and(|m| m.contains(needle)), "{needle}: {r}");
    }
    // Without read:parks, nothing; without read:organizations, parks but no firms.
    let r = run_as(
        &schema,
        caller(Role::Partner, &[Scope::ReadOrganizations]),
        NEARBY,
        json!({ "lat": 30.5, "lon": 114.4, "r": 5.0 }),
    )
    .await;
    assert_eq!(codes(&r), ["FORBIDDEN"], "{r}");
    let r = run_as(
        &schema,
        caller(Role::Partner, &[Scope::ReadParks]),
        "{ nearby(latitude: 30.5, longitude: 114.4, radiusKm: 5) { parks { distanceKm } } }",
        json!({}),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let r = run_as(
        &schema,
        caller(Role::Partner, &[Scope::ReadParks]),
        "{ nearby(latitude: 30.5, longitude: 114.4, radiusKm: 5) { organizations { distanceKm } } }",
        json!({}),
    )
    .await;
    assert_eq!(codes(&r), ["FORBIDDEN"], "{r}");
}

#[tokio::test]
async fn an_archived_firm_leaves_the_graph_of_partners_and_stays_in_the_graph_of_staff() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let future_city = id_of(&schema, "parks", "武汉未来科技城").await;
    let shangsai = id_of(&schema, "organizations", "尚赛光电").await;
    let uuid = parkgraph_api::id::decode(&shangsai).expect("id").1;
    Registry::new(test.db.clone()).archive_organization(&Actor::new("editor:test"), uuid, 1).await.expect("archived");

    let d = data(&schema, NEIGHBORHOOD, json!({ "id": future_city })).await;
    let (nodes, edges) = shape(&d["neighborhood"]);
    assert!(!nodes.contains(&"尚赛光电".to_string()), "{nodes:?}");
    assert!(edges.iter().all(|(_, kind, _)| kind != "LOCATED_IN"), "{edges:?}");
    let r = run(&schema, NEIGHBORHOOD, json!({ "id": shangsai })).await;
    assert_eq!(codes(&r), ["NOT_FOUND"], "{r}");

    let staff = caller(Role::Editor, &Role::Editor.allowed_scopes().into_iter().collect::<Vec<_>>());
    let r = run_as(&schema, staff, NEIGHBORHOOD, json!({ "id": future_city })).await;
    let (nodes, _) = shape(&r["data"]["neighborhood"]);
    assert!(nodes.contains(&"尚赛光电".to_string()), "staff still see it: {r}");
}
