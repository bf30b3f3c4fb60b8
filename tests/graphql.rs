//! GraphQL executed in-process against the Wuhan sample: every link in both directions,
//! filters, paging, ids and error codes.

mod common;

use common::{TestDb, codes, data, run};
use serde_json::{Value, json};

async fn park_id(schema: &parkgraph_api::ParkGraphSchema, name: &str) -> String {
    let d = data(
        schema,
        "query($n: String) { parks(filter: { nameContains: $n }) { nodes { id nameZh } } }",
        json!({ "n": name }),
    )
    .await;
    d["parks"]["nodes"][0]["id"].as_str().expect("park found").to_string()
}

fn names(nodes: &Value) -> Vec<String> {
    nodes.as_array().expect("list").iter().map(|n| n["nameZh"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn the_east_lake_zone_contains_its_parks_and_they_know_their_ancestors() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(
        &schema,
        r#"{ parks(filter: { topLevel: true, nameContains: "东湖新技术" }) {
              nodes { kind children(first: 50) { totalCount nodes { nameZh parent { nameZh } ancestors { nameZh } } } } } }"#,
        json!({}),
    )
    .await;
    let zone = &d["parks"]["nodes"][0];
    assert_eq!(zone["kind"], "NATIONAL_HIGH_TECH_ZONE");
    let children = &zone["children"]["nodes"];
    assert!(names(children).contains(&"光谷生物城".to_string()), "{children}");
    assert_eq!(zone["children"]["totalCount"].as_u64(), Some(children.as_array().map_or(0, Vec::len) as u64));
    for child in children.as_array().expect("list") {
        assert!(child["parent"]["nameZh"].as_str().unwrap_or_default().contains("东湖"));
        assert_eq!(child["ancestors"].as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn second_headquarters_at_the_financial_harbour_link_both_ways() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let harbour = park_id(&schema, "金融港").await;
    let d = data(
        &schema,
        r#"query($id: ID!) { park(id: $id) { nameZh secondHeadquarters { totalCount nodes { nameZh openedOn status functions
              parent { nameZh secondHeadquarters { nodes { park { nameZh } } } } } } } }"#,
        json!({ "id": harbour }),
    )
    .await;
    let hqs = &d["park"]["secondHeadquarters"];
    assert_eq!(hqs["totalCount"], 3, "{hqs}");
    for hq in hqs["nodes"].as_array().expect("list") {
        // 2017-11-18 is the day Xiaomi, Kingsoft and Shunwei moved into the Financial Harbour.
        assert_eq!(hq["openedOn"], "2017-11-18");
        let back = hq["parent"]["secondHeadquarters"]["nodes"].as_array().expect("list");
        assert!(back.iter().any(|b| b["park"]["nameZh"] == "光谷金融港"), "{hq}");
    }
}

#[tokio::test]
async fn second_headquarters_signed_since_2018_are_filtered_by_date() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let all = data(&schema, "{ secondHeadquarters { totalCount } }", json!({})).await;
    let since = data(
        &schema,
        r#"{ secondHeadquarters(filter: { announcedFrom: "2018-01-01" }) { totalCount nodes { announcedOn } } }"#,
        json!({}),
    )
    .await;
    let before =
        data(&schema, r#"{ secondHeadquarters(filter: { announcedTo: "2017-12-31" }) { totalCount } }"#, json!({}))
            .await;
    assert_eq!(before["secondHeadquarters"]["totalCount"], 3);
    assert!(since["secondHeadquarters"]["totalCount"].as_u64() < all["secondHeadquarters"]["totalCount"].as_u64());
    for hq in since["secondHeadquarters"]["nodes"].as_array().expect("list") {
        assert!(hq["announcedOn"].as_str().is_some_and(|d| d >= "2018-01-01"), "{hq}");
    }
}

#[tokio::test]
async fn unicorns_of_2017_are_the_five_optics_valley_firms() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(&schema, "{ unicorns(filter: { year: 2017 }) { totalCount nodes { year kind enterprise { nameZh designations { kind year } } } } }", json!({})).await;
    assert_eq!(d["unicorns"]["totalCount"], 5);
    let firms: Vec<String> = d["unicorns"]["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .map(|n| n["enterprise"]["nameZh"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(firms.contains(&"斗鱼".to_string()), "{firms:?}");
    for node in d["unicorns"]["nodes"].as_array().expect("list") {
        assert_eq!(node["kind"], "UNICORN");
        assert!(node["enterprise"]["designations"].as_array().expect("list").iter().any(|x| x["year"] == 2017));
    }
}

#[tokio::test]
async fn unicorns_located_in_the_zone_include_its_sub_parks() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone = park_id(&schema, "东湖新技术").await;
    let q = r#"query($id: ID!, $sub: Boolean!) { enterprises(filter: { designations: [UNICORN], park: { parkId: $id, includeSubParks: $sub } }) { totalCount } }"#;
    let with = data(&schema, q, json!({ "id": zone, "sub": true })).await;
    let without = data(&schema, q, json!({ "id": zone, "sub": false })).await;
    assert!(with["enterprises"]["totalCount"].as_u64() >= without["enterprises"]["totalCount"].as_u64());
    assert!(with["enterprises"]["totalCount"].as_u64() > Some(0));

    let d = data(
        &schema,
        r#"query($id: ID!) { park(id: $id) { all: enterprises(includeSubParks: true, first: 100) { totalCount edges { role node { nameZh parks { edges { role node { id } } } } } }
                              direct: enterprises { totalCount } } }"#,
        json!({ "id": zone }),
    )
    .await;
    let all = &d["park"]["all"];
    assert!(all["totalCount"].as_u64() >= d["park"]["direct"]["totalCount"].as_u64());
    for edge in all["edges"].as_array().expect("list") {
        assert!(edge["role"].is_string());
        assert!(!edge["node"]["parks"]["edges"].as_array().expect("list").is_empty());
    }
}

#[tokio::test]
async fn innovation_center_members_carry_their_roles_both_ways() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(
        &schema,
        r#"{ innovationCenters(filter: { city: "武汉" }) { totalCount nodes { nameZh kind ministry hostPark { nameZh }
              members { edges { role node { nameZh kind innovationCenters { edges { role node { nameZh } } } } } }
              leads: members(role: LEAD) { nodes { nameZh } } } } }"#,
        json!({}),
    )
    .await;
    let centers = d["innovationCenters"]["nodes"].as_array().expect("list");
    assert_eq!(centers.len(), 2, "{centers:?}");
    let digital = centers
        .iter()
        .find(|c| c["nameZh"].as_str().is_some_and(|n| n.contains("数字化设计")))
        .expect("digital center");
    assert_eq!(digital["leads"]["nodes"][0]["nameZh"], "华中科技大学");
    assert_eq!(digital["hostPark"]["nameZh"], "武汉未来科技城");
    for center in centers {
        assert_eq!(center["kind"], "MANUFACTURING");
        assert_eq!(center["ministry"], "MIIT");
        for edge in center["members"]["edges"].as_array().expect("list") {
            let back = edge["node"]["innovationCenters"]["edges"].as_array().expect("list");
            assert!(back.iter().any(|b| b["node"]["nameZh"] == center["nameZh"] && b["role"] == edge["role"]));
        }
    }
}

#[tokio::test]
async fn universities_are_organizations_that_lead_centers_and_incubators_have_their_operators() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(
        &schema,
        r#"{ organizations(filter: { kinds: [UNIVERSITY] }) { nodes { nameZh kind innovationCenters { edges { role node { nameZh } } } } }
             incubators(filter: { levels: [NATIONAL] }) { totalCount nodes { nameZh operator { nameZh legalName kind } } } }"#,
        json!({}),
    )
    .await;
    let universities = d["organizations"]["nodes"].as_array().expect("list");
    let hust = universities.iter().find(|u| u["nameZh"] == "华中科技大学").expect("HUST is a university");
    assert_eq!(hust["innovationCenters"]["edges"][0]["role"], "LEAD");
    let incubators = d["incubators"]["nodes"].as_array().expect("list");
    let ccnu = incubators.iter().find(|i| i["nameZh"] == "华中师大科技园").expect("national-level since the 2015 list");
    // The park is run by its development company, not by the university.
    assert_eq!(ccnu["operator"]["legalName"], "武汉华中师大科技园发展有限公司");
    assert_eq!(ccnu["operator"]["kind"], "ENTERPRISE");
    let enterprises =
        data(&schema, r#"{ enterprises(filter: { nameContains: "华中科技大学" }) { totalCount } }"#, json!({})).await;
    assert_eq!(enterprises["enterprises"]["totalCount"], 0, "a university is not an enterprise");
}

#[tokio::test]
async fn names_match_in_chinese_and_english_case_insensitively() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zh =
        data(&schema, r#"{ enterprises(filter: { nameContains: "斗鱼" }) { nodes { nameEn } } }"#, json!({})).await;
    let en = zh["enterprises"]["nodes"][0]["nameEn"].as_str().expect("Douyu has an English name").to_lowercase();
    let by_en = data(
        &schema,
        "query($n: String) { enterprises(filter: { nameContains: $n }) { nodes { nameZh } } }",
        json!({ "n": en.to_uppercase() }),
    )
    .await;
    assert_eq!(by_en["enterprises"]["nodes"][0]["nameZh"], "斗鱼");
    let wildcard = data(&schema, r#"{ enterprises(filter: { nameContains: "%" }) { totalCount } }"#, json!({})).await;
    assert_eq!(wildcard["enterprises"]["totalCount"], 0, "% is matched literally");
}

#[tokio::test]
async fn pages_walk_forward_and_backward_without_gaps_or_repeats() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let everything = data(&schema, "{ organizations(first: 100) { totalCount nodes { id } } }", json!({})).await;
    let all: Vec<Value> = everything["organizations"]["nodes"].as_array().expect("list").clone();
    assert_eq!(everything["organizations"]["totalCount"].as_u64(), Some(all.len() as u64));

    let q = "query($after: String) { organizations(first: 7, after: $after) { pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = data(&schema, q, json!({ "after": after })).await;
        let page = &d["organizations"];
        seen.extend(page["nodes"].as_array().expect("list").iter().cloned());
        assert_eq!(page["pageInfo"]["hasPreviousPage"], json!(!after.is_null()));
        if page["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, all);

    let q = "query($before: String) { organizations(last: 7, before: $before) { pageInfo { hasPreviousPage startCursor } nodes { id } } }";
    let mut back = Vec::new();
    let mut before = Value::Null;
    loop {
        let d = data(&schema, q, json!({ "before": before })).await;
        let page = &d["organizations"];
        let mut nodes = page["nodes"].as_array().expect("list").clone();
        nodes.extend(back);
        back = nodes;
        if page["pageInfo"]["hasPreviousPage"] == json!(false) {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(back, all);
}

#[tokio::test]
async fn ordering_by_date_descending_puts_unknown_dates_last() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(
        &schema,
        "{ organizations(first: 100, orderBy: { field: DATE, direction: DESC }) { nodes { foundedOn } } }",
        json!({}),
    )
    .await;
    let dates: Vec<Option<String>> = d["organizations"]["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .map(|n| n["foundedOn"].as_str().map(String::from))
        .collect();
    let known: Vec<&String> = dates.iter().flatten().collect();
    assert!(known.windows(2).all(|w| w[0] >= w[1]), "{known:?}");
    let first_unknown = dates.iter().position(Option::is_none).unwrap_or(dates.len());
    assert!(dates[first_unknown..].iter().all(Option::is_none), "unknown dates come last: {dates:?}");
}

#[tokio::test]
async fn page_size_over_100_is_a_bad_user_input_error() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    for query in [
        "{ parks(first: 101) { totalCount } }",
        "{ parks(last: 500) { totalCount } }",
        "{ parks(first: -1) { totalCount } }",
        "{ parks(first: 1, last: 1) { totalCount } }",
        r#"{ parks(after: "not-a-cursor") { totalCount } }"#,
        r#"{ parks(first: 1) { nodes { children(first: 1000) { totalCount } } } }"#,
    ] {
        let response = run(&schema, query, json!({})).await;
        assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{query}: {response}");
    }
    let response = run(&schema, "{ parks(first: 101) { totalCount } }", json!({})).await;
    assert!(response["errors"][0]["message"].as_str().is_some_and(|m| m.contains("maximum page size of 100")));
}

#[tokio::test]
async fn nodes_are_fetched_by_global_id_and_typed_lookups_check_the_type() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(
        &schema,
        "{ parks(first: 2) { nodes { id nameZh } } organizations(first: 1) { nodes { id nameZh } } }",
        json!({}),
    )
    .await;
    let park = d["parks"]["nodes"][0].clone();
    let org = d["organizations"]["nodes"][0].clone();
    let d = data(
        &schema,
        "query($p: ID!, $o: ID!) { node(id: $p) { id ... on Park { nameZh } } nodes(ids: [$o, $p]) { id ... on Organization { nameZh } ... on Park { nameZh } } }",
        json!({ "p": park["id"], "o": org["id"] }),
    )
    .await;
    assert_eq!(d["node"], park);
    assert_eq!(d["nodes"], json!([org, park]));

    let wrong = run(&schema, "query($o: ID!) { park(id: $o) { nameZh } }", json!({ "o": org["id"] })).await;
    assert_eq!(codes(&wrong), vec!["BAD_USER_INPUT"]);
    let garbage = run(&schema, r#"{ node(id: "garbage") { id } }"#, json!({})).await;
    assert_eq!(codes(&garbage), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_missing_record_is_null_for_node_and_not_found_for_a_typed_lookup() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let missing = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Park, uuid::Uuid::now_v7());
    let d =
        data(&schema, "query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }", json!({ "id": missing }))
            .await;
    assert_eq!(d, json!({ "node": null, "nodes": [null] }));
    let response = run(&schema, "query($id: ID!) { park(id: $id) { id } }", json!({ "id": missing })).await;
    assert_eq!(codes(&response), vec!["NOT_FOUND"]);
}

#[tokio::test]
async fn documents_that_do_not_validate_or_nest_too_deep_are_refused_with_a_code() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let unknown = run(&schema, "{ parks { nodes { castle } } }", json!({})).await;
    assert_eq!(codes(&unknown), vec!["GRAPHQL_VALIDATION_FAILED"]);
    let deep = "{ parks { nodes { children { nodes { children { nodes { children { nodes { children { nodes { children { nodes { nameZh } } } } } } } } } } } }";
    let response = run(&schema, deep, json!({})).await;
    assert_eq!(codes(&response), vec!["GRAPHQL_VALIDATION_FAILED"], "{response}");
    let bad_date =
        run(&schema, r#"{ secondHeadquarters(filter: { announcedFrom: "yesterday" }) { totalCount } }"#, json!({}))
            .await;
    assert!(!codes(&bad_date).is_empty() && !codes(&bad_date).contains(&"INTERNAL".to_string()), "{bad_date}");
}

#[tokio::test]
async fn every_record_carries_its_source() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(&schema, "{ organizations(first: 100) { nodes { nameZh provenance { sourceName asOf } } } parks(first: 100) { nodes { provenance { sourceName } } } }", json!({})).await;
    for node in d["organizations"]["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .chain(d["parks"]["nodes"].as_array().expect("list"))
    {
        assert!(node["provenance"]["sourceName"].as_str().is_some_and(|s| !s.is_empty()), "{node}");
    }
}

#[tokio::test]
async fn industry_matches_exactly_or_by_substring() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d =
        data(&schema, r#"{ enterprises(filter: { nameContains: "斗鱼" }) { nodes { industry } } }"#, json!({})).await;
    let industry = d["enterprises"]["nodes"][0]["industry"].as_str().expect("Douyu has an industry").to_string();
    let exact = data(
        &schema,
        "query($i: String) { enterprises(filter: { industry: $i }) { nodes { nameZh industry } } }",
        json!({ "i": industry }),
    )
    .await;
    assert!(names(&exact["enterprises"]["nodes"]).contains(&"斗鱼".to_string()));
    assert!(exact["enterprises"]["nodes"].as_array().expect("list").iter().all(|n| n["industry"] == json!(industry)));
    let fragment: String = industry.chars().skip(1).take(4).collect::<String>().to_uppercase();
    let partial = data(
        &schema,
        "query($i: String) { enterprises(filter: { industryContains: $i }) { totalCount } }",
        json!({ "i": fragment }),
    )
    .await;
    assert!(partial["enterprises"]["totalCount"].as_u64() >= Some(1));
    let none = data(
        &schema,
        "query($i: String) { enterprises(filter: { industry: $i }) { totalCount } }",
        json!({ "i": fragment }),
    )
    .await;
    assert_eq!(none["enterprises"]["totalCount"], 0, "industry is an exact match");
}

/// Every page of `field` (a root list, with `args` such as an order) read `size` at a
/// time from the front, then from the back; both must equal the whole list read at once.
async fn walk(schema: &parkgraph_api::ParkGraphSchema, field: &str, args: &str, size: i32) -> (Vec<Value>, Vec<Value>) {
    let q = format!(
        "query($after: String, $before: String, $first: Int, $last: Int) {{ {field}({args} first: $first, after: $after, \
         last: $last, before: $before) {{ pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} nodes {{ databaseId }} }} }}"
    );
    let (mut forward, mut after) = (Vec::new(), Value::Null);
    loop {
        let d = data(schema, &q, json!({ "after": after, "first": size })).await;
        let page = &d[field];
        forward.extend(page["nodes"].as_array().expect("list").iter().cloned());
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let (mut backward, mut before) = (Vec::new(), Value::Null);
    loop {
        let d = data(schema, &q, json!({ "before": before, "last": size })).await;
        let page = &d[field];
        let mut nodes = page["nodes"].as_array().expect("list").clone();
        nodes.extend(backward);
        backward = nodes;
        if page["pageInfo"]["hasPreviousPage"] != json!(true) {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    (forward, backward)
}

#[tokio::test]
async fn root_lists_page_by_key_in_every_order_and_refuse_cursors_of_another_order_or_position() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    for (field, args) in [
        ("organizations", ""),
        ("organizations", "orderBy: { field: DATE, direction: DESC },"),
        ("organizations", "orderBy: { field: DATE },"),
        ("organizations", "orderBy: { field: CREATED_AT, direction: DESC },"),
        ("parks", "orderBy: { field: DATE },"),
        ("figures", ""),
        ("designations", ""),
    ] {
        let whole = data(
            &schema,
            &format!("{{ {field}({args} first: 100) {{ totalCount nodes {{ databaseId }} }} }}"),
            json!({}),
        )
        .await;
        let all = whole[field]["nodes"].as_array().expect("list").clone();
        assert!(all.len() > 5 && whole[field]["totalCount"] == json!(all.len()), "{field} {args}: {whole:#}");
        let (forward, backward) = walk(&schema, field, args, 4).await;
        assert_eq!(forward, all, "{field} {args} forward");
        assert_eq!(backward, all, "{field} {args} backward");
    }

    // A cursor holds the order it was read in.
    let by_name = data(&schema, "{ organizations(first: 3) { pageInfo { endCursor } } }", json!({})).await;
    let cursor = by_name["organizations"]["pageInfo"]["endCursor"].clone();
    let other = run(
        &schema,
        "query($c: String) { organizations(first: 3, after: $c, orderBy: { field: DATE }) { nodes { id } } }",
        json!({ "c": cursor }),
    )
    .await;
    assert_eq!(codes(&other), vec!["BAD_USER_INPUT".to_string()]);
    // A position cursor from before keyset paging.
    use base64::Engine;
    let old = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("cursor:4");
    let refused =
        run(&schema, "query($c: String) { organizations(first: 3, after: $c) { nodes { id } } }", json!({ "c": old }))
            .await;
    assert_eq!(codes(&refused), vec!["BAD_USER_INPUT".to_string()]);
    assert!(refused["errors"][0]["message"].as_str().unwrap_or_default().contains("position cursor"), "{refused:#}");
}
