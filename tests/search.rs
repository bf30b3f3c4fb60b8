//! Search over the Wuhan sample, on the backend under test: Chinese substrings, pinyin
//! (full and initials), English with a typo, type-ahead, exact USCC, facet counts checked
//! against SQL counts, scopes, a change searchable within a second of its commit (the
//! follower reading the feed), and an index directory that is corrupt, of another
//! schema, or ahead of the database, rebuilt on open.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TestDb, codes};
use parkgraph_api::auth::Caller;
use parkgraph_api::{Limits, ParkGraphSchema};
use parkgraph_domain::{Role, Scope};
use parkgraph_persistence::sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use parkgraph_search::{Opened, SearchIndex};
use serde_json::{Value, json};

fn index_dir() -> PathBuf {
    std::env::temp_dir().join("parkgraph-tests").join(format!("search-{}", uuid::Uuid::now_v7().simple()))
}

async fn open(db: &DatabaseConnection, dir: &Path) -> (Arc<SearchIndex>, Opened) {
    let (index, opened) = SearchIndex::open(dir, db, &|_| {}).await.expect("the index opens");
    (Arc::new(index), opened)
}

/// The sample, its index, and a schema answering search from it.
async fn sample() -> (TestDb, Arc<SearchIndex>, ParkGraphSchema) {
    let test = TestDb::sample().await;
    let (index, opened) = open(&test.db, &index_dir()).await;
    assert!(matches!(opened, Opened::Rebuilt { documents, .. } if documents > 50), "{opened:?}");
    let schema = parkgraph_api::schema_with_search(test.db.clone(), Limits::default(), index.clone());
    (test, index, schema)
}

fn caller(role: Role, scopes: &[Scope]) -> Caller {
    Caller {
        role,
        scopes: scopes.iter().copied().collect(),
        subject: format!("test:{role}"),
        jti: None,
        partner_id: None,
    }
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

const SEARCH: &str = r#"query($q: String!, $filter: SearchFilter, $facets: [SearchFacetField!], $first: Int, $after: String) {
  search(query: $q, filter: $filter, facets: $facets, first: $first, after: $after) {
    totalCount hasNextPage endCursor
    hits { id type score nameZh nameEn highlights { field html ranges { start end } }
           node { __typename ... on Organization { nameZh uscc } ... on Park { nameZh } } }
    facets { field values { value count } }
  }
}"#;

async fn search(schema: &ParkGraphSchema, q: &str, filter: Value) -> Value {
    let vars = json!({ "q": q, "filter": filter });
    data_as(schema, Caller::anonymous(), SEARCH, vars).await["search"].clone()
}

fn names(result: &Value) -> Vec<String> {
    result["hits"].as_array().expect("hits").iter().map(|h| h["nameZh"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test]
async fn chinese_substrings_find_names_that_contain_them() {
    let (_test, _index, schema) = sample().await;

    let found = search(&schema, "生物城", Value::Null).await;
    assert_eq!(names(&found).first().map(String::as_str), Some("光谷生物城"), "{found:#}");
    assert_eq!(found["hits"][0]["type"], "PARK");
    assert_eq!(found["hits"][0]["node"]["nameZh"], "光谷生物城", "the hit's node is the record");
    assert_eq!(found["hits"][0]["highlights"][0]["html"], "光谷<em>生物城</em>");

    let found = search(&schema, "禾元", Value::Null).await;
    assert_eq!(names(&found), ["禾元生物"], "{found:#}");
    assert_eq!(found["hits"][0]["node"]["__typename"], "Organization");

    let found = search(&schema, "光谷", Value::Null).await;
    let all = names(&found);
    for expected in
        ["光谷生物城", "光谷软件园", "光谷金融港", "武汉东湖新技术开发区（中国光谷）", "武汉光谷生物医药孵化器"]
    {
        assert!(all.iter().any(|n| n == expected), "光谷 finds {expected}: {all:?}");
    }
    // Names holding 光谷 rank above records that only sit in a 光谷 park (斗鱼, in 光谷软件园).
    let named = all.iter().take_while(|n| n.contains("光谷")).count();
    assert!(all[named..].iter().all(|n| !n.contains("光谷")), "names first: {all:?}");
    assert!(all[named..].contains(&"斗鱼".to_string()), "{all:?}");

    // Every unit must match: 光谷 and 生物 together, in the name or the park's name —
    // the biotech firms of Optics Valley.
    let found = search(&schema, "光谷 生物", Value::Null).await;
    let all = names(&found);
    for expected in ["光谷生物城", "武汉光谷生物医药孵化器", "安翰光电", "禾元生物"] {
        assert!(all.contains(&expected.to_string()), "光谷 生物 finds {expected}: {all:?}");
    }
    assert!(!all.contains(&"光谷软件园".to_string()) && !all.contains(&"斗鱼".to_string()), "{all:?}");

    // A unit nearly every record matches (武汉, the city) beside a rare one is read by
    // seeking: the same records as the rare unit alone, scored in the same order.
    let wuhan = count_of(&schema, "武汉").await;
    assert!(wuhan > 8 * count_of(&schema, "禾元").await, "武汉 is the dense unit: {wuhan}");
    assert_eq!(names(&search(&schema, "武汉 禾元", Value::Null).await), ["禾元生物"]);
    let (both, alone) = (count_of(&schema, "武汉 光谷").await, count_of(&schema, "光谷").await);
    assert!(both > 0 && both <= alone, "武汉 光谷: {both}, 光谷: {alone}");

    // A name that holds none of the characters is not found.
    assert_eq!(search(&schema, "鲲鹏", Value::Null).await["totalCount"], 0);
}

async fn count_of(schema: &ParkGraphSchema, q: &str) -> i64 {
    search(schema, q, Value::Null).await["totalCount"].as_i64().expect("a count")
}

#[tokio::test]
async fn pinyin_in_full_and_by_initials_finds_chinese_names() {
    let (_test, _index, schema) = sample().await;
    for (q, expected) in [("xiaomi", "小米"), ("xm", "小米"), ("douyu", "斗鱼"), ("ggswc", "光谷生物城")] {
        let found = search(&schema, q, Value::Null).await;
        let all = names(&found);
        assert!(all.iter().take(3).any(|n| n == expected), "{q} finds {expected} near the top: {all:?}");
    }
    // Pinyin by prefix, from the start or from any character of the name.
    let all = names(&search(&schema, "guanggu", Value::Null).await);
    assert!(all.contains(&"光谷生物城".to_string()) && all.contains(&"光谷软件园".to_string()), "{all:?}");
    let all = names(&search(&schema, "shengwucheng", Value::Null).await);
    assert_eq!(all.first().map(String::as_str), Some("光谷生物城"), "{all:?}");

    // Pinyin finds what the characters find, the firms of a park by its name included
    // (scored low): guanggu the records of Optics Valley, guanggu shengwu its biotech firms.
    let sorted = |mut names: Vec<String>| {
        names.sort();
        names
    };
    let every = |q: &'static str| {
        let schema = schema.clone();
        async move { data_as(&schema, Caller::anonymous(), SEARCH, json!({ "q": q, "first": 100 })).await["search"].clone() }
    };
    for (pinyin, chinese) in [("guanggu", "光谷"), ("guanggu shengwu", "光谷 生物"), ("wuhan", "武汉")] {
        let (by_pinyin, by_chinese) = (every(pinyin).await, every(chinese).await);
        assert!(by_chinese["totalCount"].as_i64() < Some(100), "{by_chinese:#}");
        assert_eq!(sorted(names(&by_pinyin)), sorted(names(&by_chinese)), "{pinyin} and {chinese}");
    }
    let all = names(&every("guanggu").await);
    assert!(all.contains(&"斗鱼".to_string()) && all.contains(&"安翰光电".to_string()), "{all:?}");
    let named = all.iter().take_while(|n| n.contains("光谷")).count();
    assert!(all[named..].iter().all(|n| !n.contains("光谷")), "names first: {all:?}");
}

#[tokio::test]
async fn english_names_match_by_word_by_prefix_and_with_a_typo() {
    let (_test, _index, schema) = sample().await;
    let found = search(&schema, "douyo", Value::Null).await;
    assert_eq!(names(&found).first().map(String::as_str), Some("斗鱼"), "douyo → DouYu: {found:#}");
    assert_eq!(found["hits"][0]["nameEn"], "DouYu");
    assert_eq!(found["hits"][0]["highlights"][0]["html"], "<em>DouYu</em>");

    let all = names(&search(&schema, "Optics Valley Biolake", Value::Null).await);
    assert_eq!(all.first().map(String::as_str), Some("光谷生物城"), "{all:?}");
    let all = names(&search(&schema, "Megvi", Value::Null).await);
    assert_eq!(all.first().map(String::as_str), Some("旷视科技"), "a prefix: {all:?}");
    let all = names(&search(&schema, "Huawie", Value::Null).await);
    assert_eq!(all.first().map(String::as_str), Some("华为"), "a transposition: {all:?}");
}

#[tokio::test]
async fn english_park_names_and_industry_terms_find_the_biotech_firms_of_optics_valley() {
    let (_test, _index, schema) = sample().await;
    let sorted = |mut names: Vec<String>| {
        names.sort();
        names
    };
    let chinese = sorted(names(&search(&schema, "光谷 生物", Value::Null).await));
    let found = search(&schema, "Optics Valley biotech", Value::Null).await;
    let english = sorted(names(&found));
    assert_eq!(english, chinese, "Optics Valley biotech finds what 光谷 生物 finds: {found:#}");
    for expected in ["光谷生物城", "武汉光谷生物医药孵化器", "安翰光电", "禾元生物"] {
        assert!(english.contains(&expected.to_string()), "{expected}: {english:?}");
    }
    // 莫纳生物科技 is a biotech firm in no Optics Valley park; 斗鱼 is in Optics Valley, not biotech.
    for absent in ["莫纳生物科技", "斗鱼", "光谷软件园"] {
        assert!(!english.contains(&absent.to_string()), "{absent}: {english:?}");
    }
    // The words may come in any case and order, and the industry term alone finds the
    // biotech records whatever their English names say (Ankon Technologies sits in the Biolake).
    let reordered = sorted(names(&search(&schema, "BIOTECH optics VALLEY", Value::Null).await));
    assert_eq!(reordered, english);
    let biotech = names(&search(&schema, "biotech", Value::Null).await);
    for expected in ["莫纳生物科技", "禾元生物", "安翰光电", "光谷生物城"] {
        assert!(biotech.contains(&expected.to_string()), "biotech finds {expected}: {biotech:?}");
    }
    // Other industries of the glossary: the firms of the Software Park by `software`.
    let software = names(&search(&schema, "Optics Valley software", Value::Null).await);
    for expected in ["光谷软件园", "斗鱼", "卷皮网"] {
        assert!(software.contains(&expected.to_string()), "{expected}: {software:?}");
    }
    assert!(!software.contains(&"安翰光电".to_string()), "{software:?}");
}

#[tokio::test]
async fn designation_words_find_their_holders_in_chinese_and_english() {
    let (_test, _index, schema) = sample().await;
    let sorted = |mut names: Vec<String>| {
        names.sort();
        names
    };
    let zone = search(&schema, "武汉东湖新技术开发区", json!({ "types": ["PARK"] })).await;
    let zone_id = zone["hits"][0]["id"].clone();
    let filter = json!({ "types": ["ORGANIZATION"], "designations": ["UNICORN"], "parkIds": [zone_id] });
    let unicorns = sorted(names(&search(&schema, "", filter).await));
    assert_eq!(unicorns.len(), 6, "{unicorns:?}");
    for q in ["光谷 独角兽", "Optics Valley unicorn", "optics valley unicorns"] {
        let found = sorted(names(&search(&schema, q, Value::Null).await));
        assert_eq!(found, unicorns, "{q} finds the unicorns of Optics Valley");
    }
    let all = search(&schema, "独角兽", json!({ "types": ["ORGANIZATION"] })).await;
    let held = search(&schema, "", json!({ "types": ["ORGANIZATION"], "designations": ["UNICORN"] })).await;
    assert_eq!(all["totalCount"], held["totalCount"], "every unicorn, wherever it is");
    let fortune = names(&search(&schema, "世界500强", Value::Null).await);
    assert!(fortune.contains(&"小米".to_string()), "{fortune:?}");
}

#[tokio::test]
async fn an_empty_range_or_a_bad_page_is_refused_clearly() {
    let (_test, _index, schema) = sample().await;
    for (filter, needle) in [
        (
            json!({ "foundedFrom": "2016-01-01", "foundedTo": "2015-12-31" }),
            "`foundedFrom` (2016-01-01) is above `foundedTo`",
        ),
        (json!({ "valuationUsdMin": 5e9, "valuationUsdMax": 1e9 }), "`valuationUsdMin`"),
        (json!({ "registeredCapitalCnyMin": 10, "registeredCapitalCnyMax": 1 }), "`registeredCapitalCnyMin`"),
        (json!({ "headcountMin": 100, "headcountMax": 10 }), "`headcountMin` (100) is above `headcountMax` (10)"),
    ] {
        let response = run_as(&schema, Caller::anonymous(), SEARCH, json!({ "q": "", "filter": filter })).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{filter}: {response:#}");
        let message = response["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(needle), "{needle}: {message}");
    }
    let same = json!({ "q": "", "filter": { "headcountMin": 10, "headcountMax": 10 } });
    assert!(run_as(&schema, Caller::anonymous(), SEARCH, same).await.get("errors").is_none(), "a one-value range");
    for (vars, needle) in [
        (json!({ "q": "x", "first": 101 }), "`first` must be between 0 and 100"),
        (json!({ "q": "x", "after": "garbage" }), "not a search cursor"),
    ] {
        let response = run_as(&schema, Caller::anonymous(), SEARCH, vars.clone()).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{vars}: {response:#}");
        assert!(response["errors"][0]["message"].as_str().is_some_and(|m| m.contains(needle)), "{response:#}");
    }
}

#[tokio::test]
async fn suggest_completes_names_pinyin_and_initials_as_typed() {
    let (_test, _index, schema) = sample().await;
    let query = r#"query($p: String!, $types: [SearchType!]) {
      suggest(prefix: $p, types: $types, first: 5) { nameZh type id }
    }"#;
    for (prefix, expected) in [("xiao", "小米"), ("Kingso", "金山"), ("光谷生", "光谷生物城"), ("hzk", "华中科技大学")]
    {
        let data = data_as(&schema, Caller::anonymous(), query, json!({ "p": prefix })).await;
        let all: Vec<&str> =
            data["suggest"].as_array().expect("list").iter().filter_map(|s| s["nameZh"].as_str()).collect();
        assert!(all.contains(&expected), "{prefix} suggests {expected}: {all:?}");
        assert!(all.len() <= 5);
    }
    let data = data_as(&schema, Caller::anonymous(), query, json!({ "p": "guang", "types": ["PARK"] })).await;
    let hits = data["suggest"].as_array().expect("list");
    assert!(!hits.is_empty() && hits.iter().all(|h| h["type"] == "PARK"), "{data:#}");

    // Pinyin completes names: the 光谷 parks for `guang`, not the firms inside them.
    let data = data_as(&schema, Caller::anonymous(), query, json!({ "p": "guang" })).await;
    let all: Vec<&str> =
        data["suggest"].as_array().expect("list").iter().filter_map(|s| s["nameZh"].as_str()).collect();
    assert!(all.len() == 5 && all.iter().all(|n| n.contains("光谷")), "guang: {all:?}");

    // Names that start with what was typed come first, even when its last word is one letter.
    for prefix in ["Optics Valley B", "optics valley bio", "Optics Valley Biol"] {
        let data = data_as(&schema, Caller::anonymous(), query, json!({ "p": prefix })).await;
        let all: Vec<&str> =
            data["suggest"].as_array().expect("list").iter().filter_map(|s| s["nameZh"].as_str()).collect();
        assert_eq!(all.first(), Some(&"光谷生物城"), "{prefix}: {all:?}");
    }
}

#[tokio::test]
async fn an_exact_uscc_finds_its_organization_and_a_new_record_is_searchable_within_a_second() {
    let (test, index, schema) = sample().await;
    let follower = parkgraph_search::follow::spawn(index.clone(), test.db.clone().into(), Duration::from_millis(200));
    let create = r#"mutation($input: CreateOrganizationInput!) {
      createOrganization(input: $input) { organization { id version } userErrors { code message } }
    }"#;
    let input = json!({ "kind": "ENTERPRISE", "nameZh": "星河量子", "nameEn": "Galaxy Quantum", "status": "ACTIVE",
                        "uscc": "91110108551385082Q", "industry": "quantum computing", "city": "武汉" });
    let created = data_as(&schema, Caller::system(), create, json!({ "input": input })).await;
    assert_eq!(created["createOrganization"]["userErrors"], json!([]), "{created:#}");
    let committed = Instant::now();
    let id = created["createOrganization"]["organization"]["id"].as_str().expect("id").to_string();
    loop {
        let found = search(&schema, "星河量子", Value::Null).await;
        if found["totalCount"] == 1 {
            assert_eq!(found["hits"][0]["id"], id);
            break;
        }
        assert!(committed.elapsed() < Duration::from_secs(1), "not searchable a second after its commit");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let found = search(&schema, "91110108551385082Q", Value::Null).await;
    assert_eq!(found["totalCount"], 1, "{found:#}");
    assert_eq!(found["hits"][0]["node"]["uscc"], "91110108551385082Q");
    assert_eq!(search(&schema, "91110108551385082A", Value::Null).await["totalCount"], 0, "exact, not fuzzy");
    assert_eq!(names(&search(&schema, "xhlz", Value::Null).await), ["星河量子"]);

    // Archived: gone from search once the feed is applied.
    let version = created["createOrganization"]["organization"]["version"].clone();
    let archive = r#"mutation($input: ArchiveOrganizationInput!) {
      archiveOrganization(input: $input) { userErrors { code } }
    }"#;
    let archived =
        data_as(&schema, Caller::system(), archive, json!({ "input": { "id": id, "version": version } })).await;
    assert_eq!(archived["archiveOrganization"]["userErrors"], json!([]));
    let archived_at = Instant::now();
    while search(&schema, "星河量子", Value::Null).await["totalCount"] != 0 {
        assert!(archived_at.elapsed() < Duration::from_secs(1), "still found a second after it was archived");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    follower.abort();
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_string()))
        .await
        .expect("query runs")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

fn facet(result: &Value, field: &str) -> Vec<(String, i64)> {
    result["facets"]
        .as_array()
        .expect("facets")
        .iter()
        .find(|f| f["field"] == field)
        .unwrap_or_else(|| panic!("no facet {field}: {result:#}"))["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| (v["value"].as_str().expect("value").to_string(), v["count"].as_i64().expect("count")))
        .collect()
}

#[tokio::test]
async fn facet_counts_equal_the_database_counts_for_the_same_filter() {
    let (test, _index, schema) = sample().await;
    let db = &test.db;
    let live_orgs = "SELECT COUNT(*) FROM organization WHERE archived_at IS NULL";
    let orgs = json!({ "types": ["ORGANIZATION"] });
    let all = search(&schema, "", orgs.clone()).await;
    assert_eq!(all["totalCount"].as_i64(), Some(count(db, live_orgs).await));

    // Per designation kind: organizations holding at least one live designation of it.
    let by_designation = facet(&all, "DESIGNATION");
    assert!(!by_designation.is_empty());
    for (kind, n) in &by_designation {
        let sql = format!(
            "SELECT COUNT(DISTINCT o.id) FROM organization o JOIN designation d ON d.organization_id = o.id \
             WHERE o.archived_at IS NULL AND d.archived_at IS NULL AND d.kind = '{kind}'"
        );
        assert_eq!(*n, count(db, &sql).await, "designation {kind}");
    }
    // Per industry and per status.
    for (industry, n) in facet(&all, "INDUSTRY") {
        let sql = format!(
            "SELECT COUNT(*) FROM organization WHERE archived_at IS NULL AND industry = '{}'",
            industry.replace('\'', "''")
        );
        assert_eq!(n, count(db, &sql).await, "industry {industry}");
    }
    for (status, n) in facet(&all, "STATUS") {
        let sql = format!("SELECT COUNT(*) FROM organization WHERE archived_at IS NULL AND status = '{status}'");
        assert_eq!(n, count(db, &sql).await, "status {status}");
    }

    // Unicorns in the East Lake zone, sub-parks included: the same count from SQL (the
    // park tree walked with a recursive query), and the park facet ignores the park filter.
    let east_lake_sql = "SELECT id FROM park WHERE name_zh = '武汉东湖新技术开发区（中国光谷）'";
    let east_lake: String = {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), east_lake_sql.to_string()))
            .await
            .expect("query")
            .expect("row");
        match row.try_get_by_index::<uuid::Uuid>(0) {
            Ok(id) => id.to_string(),
            Err(_) => row.try_get_by_index::<String>(0).expect("an id"),
        }
    };
    let east_lake_id = parkgraph_api::id::encode(parkgraph_api::id::NodeType::Park, east_lake.parse().expect("uuid"));
    let filter = json!({ "types": ["ORGANIZATION"], "designations": ["UNICORN"], "parkIds": [east_lake_id] });
    let found = search(&schema, "", filter).await;
    let in_zone = "WITH RECURSIVE zone(id) AS (SELECT id FROM park WHERE name_zh = '武汉东湖新技术开发区（中国光谷）' \
         UNION SELECT p.id FROM park p JOIN zone z ON p.parent_id = z.id WHERE p.archived_at IS NULL)";
    let sql = format!(
        "{in_zone} SELECT COUNT(DISTINCT o.id) FROM organization o \
         JOIN enterprise_location l ON l.organization_id = o.id AND l.archived_at IS NULL \
         JOIN designation d ON d.organization_id = o.id AND d.archived_at IS NULL AND d.kind = 'UNICORN' \
         WHERE o.archived_at IS NULL AND l.park_id IN (SELECT id FROM zone)"
    );
    let expected = count(db, &sql).await;
    assert!(expected >= 4, "the sample has unicorns in Optics Valley");
    assert_eq!(found["totalCount"].as_i64(), Some(expected), "{found:#}");
    let by_park = facet(&found, "PARK");
    let zone_count = by_park.iter().find(|(v, _)| *v == east_lake_id.to_string()).map(|(_, n)| *n);
    assert_eq!(zone_count, Some(expected), "the zone's own count includes its sub-parks");
    let unicorns_anywhere = "SELECT COUNT(DISTINCT o.id) FROM organization o JOIN designation d ON d.organization_id = o.id \
         WHERE o.archived_at IS NULL AND d.archived_at IS NULL AND d.kind = 'UNICORN'";
    let by_designation = facet(&found, "DESIGNATION");
    assert!(
        by_designation.iter().any(|(k, n)| k == "UNICORN" && *n == expected),
        "the designation facet keeps the park filter: {by_designation:?}"
    );
    assert!(count(db, unicorns_anywhere).await > expected, "the sample has unicorns outside the zone too");

    // Combined with a query, and paged.
    let found = search(&schema, "光谷", json!({ "types": ["PARK"] })).await;
    let parks_named =
        count(db, "SELECT COUNT(*) FROM park WHERE archived_at IS NULL AND (name_zh LIKE '%光谷%')").await;
    assert_eq!(found["totalCount"].as_i64(), Some(parks_named));
    let vars = json!({ "q": "光谷", "filter": { "types": ["PARK"] }, "first": 2 });
    let page1 = data_as(&schema, Caller::anonymous(), SEARCH, vars).await["search"].clone();
    assert_eq!(page1["hits"].as_array().map(Vec::len), Some(2));
    assert_eq!(page1["hasNextPage"], true);
    let vars = json!({ "q": "光谷", "filter": { "types": ["PARK"] }, "first": 100, "after": page1["endCursor"] });
    let page2 = data_as(&schema, Caller::anonymous(), SEARCH, vars).await["search"].clone();
    assert_eq!(page2["hits"].as_array().map(Vec::len), Some(parks_named as usize - 2));
    assert_eq!(page2["hasNextPage"], false);
    assert!(!names(&page2).contains(&names(&page1)[0]), "pages do not overlap");
}

/// The industry and designation counts of every live organization, from SQL.
async fn sql_counts(db: &DatabaseConnection) -> (Vec<(String, i64)>, Vec<(String, i64)>) {
    let rows = |sql: &'static str| async move {
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string()))
            .await
            .expect("query runs")
            .into_iter()
            .map(|row| (row.try_get_by_index::<String>(0).expect("value"), row.try_get_by_index::<i64>(1).expect("n")))
            .collect::<Vec<_>>()
    };
    // Most frequent first, ties by the value's bytes (not the database's collation).
    let ranked = |mut v: Vec<(String, i64)>| {
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    };
    let industries = rows(
        "SELECT industry, COUNT(*) AS n FROM organization WHERE archived_at IS NULL AND industry IS NOT NULL \
         GROUP BY industry",
    )
    .await;
    let designations = rows(
        "SELECT d.kind, COUNT(DISTINCT o.id) AS n FROM organization o JOIN designation d ON d.organization_id = o.id \
         WHERE o.archived_at IS NULL AND d.archived_at IS NULL GROUP BY d.kind",
    )
    .await;
    (ranked(industries), ranked(designations))
}

#[tokio::test]
async fn facet_counts_hold_across_segments_and_a_limit_keeps_the_most_frequent_values() {
    let (test, index, schema) = sample().await;
    let request = |facet_values| parkgraph_search::SearchRequest {
        visible: vec![parkgraph_search::DocKind::Organization],
        facets: vec![parkgraph_search::Dim::Industry, parkgraph_search::Dim::Designation],
        facet_values,
        ..Default::default()
    };
    let counts = |limit| {
        let results = index.search(&request(limit)).expect("searches");
        results.facets.into_iter().map(|f| f.values).collect::<Vec<_>>()
    };
    let as_sql = |values: &[(String, u64)]| values.iter().map(|(v, n)| (v.clone(), *n as i64)).collect::<Vec<_>>();
    assert_eq!(index.segments(), 1, "a rebuild leaves one segment");
    let (industries, designations) = sql_counts(&test.db).await;
    assert!(industries.len() > 3, "the sample has several industries: {industries:?}");
    let all = counts(None);
    assert_eq!(as_sql(&all[0]), industries, "one segment: every industry, most frequent first, ties by name");
    assert_eq!(as_sql(&all[1]), designations);
    let top = counts(Some(3));
    assert_eq!(top[0], all[0][..3], "the limit keeps the most frequent values");
    assert_eq!(top[1].len(), designations.len().min(3));

    // New organizations and a designation, applied from the feed into segments of their own.
    let create =
        r#"mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { userErrors { code } } }"#;
    let industry = &industries.last().expect("an industry").0;
    for i in 0..4 {
        let input = json!({ "kind": "ENTERPRISE", "nameZh": format!("分段测试企业{i}"), "status": "ACTIVE", "industry": industry });
        let created = data_as(&schema, Caller::system(), create, json!({ "input": input })).await;
        assert_eq!(created["createOrganization"]["userErrors"], json!([]), "{created:#}");
        assert!(index.catch_up(&test.db).await.expect("catches up") > 0);
    }
    let (healthgen, _) = first_hit(&schema, "禾元生物", "ORGANIZATION").await;
    let add = r#"mutation($input: AddDesignationInput!) { addDesignation(input: $input) { userErrors { code } } }"#;
    let input = json!({ "organizationId": healthgen, "kind": "GAZELLE", "year": 2024 });
    let added = data_as(&schema, Caller::system(), add, json!({ "input": input })).await;
    assert_eq!(added["addDesignation"]["userErrors"], json!([]), "{added:#}");
    index.catch_up(&test.db).await.expect("catches up");
    assert!(index.segments() > 1, "the feed was applied in segments of its own");

    let (industries_now, designations_now) = sql_counts(&test.db).await;
    assert_ne!(industries_now, industries, "the new firms moved an industry's count");
    let all = counts(None);
    assert_eq!(as_sql(&all[0]), industries_now, "several segments: counts merged by value");
    assert_eq!(as_sql(&all[1]), designations_now);
    assert_eq!(counts(Some(2))[0], all[0][..2]);
}

#[tokio::test]
async fn search_returns_only_the_types_the_caller_may_read() {
    let (_test, _index, schema) = sample().await;
    let parks_only = caller(Role::Partner, &[Scope::ReadParks]);
    let data = data_as(&schema, parks_only, SEARCH, json!({ "q": "光谷" })).await;
    let hits = data["search"]["hits"].as_array().expect("hits");
    assert!(!hits.is_empty() && hits.iter().all(|h| h["type"] == "PARK"), "{data:#}");
    let types = facet(&data["search"], "TYPE");
    assert_eq!(types.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), ["park"], "not even counted");

    // The firms outnumber the rest: the other types are left out rather than the firms
    // looked up (both forms must hide the same documents).
    let orgs_only = caller(Role::Partner, &[Scope::ReadOrganizations]);
    let data = data_as(&schema, orgs_only.clone(), SEARCH, json!({ "q": "光谷" })).await;
    let hits = data["search"]["hits"].as_array().expect("hits");
    assert!(!hits.is_empty() && hits.iter().all(|h| h["type"] == "ORGANIZATION"), "{data:#}");
    let types = facet(&data["search"], "TYPE");
    assert_eq!(types.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), ["organization"], "{types:?}");
    let all_but_firms = caller(Role::Partner, &[Scope::ReadParks, Scope::ReadIncubators, Scope::ReadInnovationCenters]);
    let data = data_as(&schema, all_but_firms, SEARCH, json!({ "q": "光谷" })).await;
    let types = facet(&data["search"], "TYPE");
    assert!(!types.is_empty() && types.iter().all(|(t, _)| t != "organization"), "{types:?}");
    let data = data_as(&schema, orgs_only, SEARCH, json!({ "q": "光谷", "filter": { "types": ["PARK"] } })).await;
    assert_eq!(data["search"]["totalCount"], 0, "asking for parks does not widen the scopes");

    let nothing = caller(Role::Partner, &[Scope::ReadSecondHeadquarters]);
    let response = run_as(&schema, nothing, SEARCH, json!({ "q": "光谷" })).await;
    assert_eq!(codes(&response), ["FORBIDDEN"], "{response:#}");

    // A schema without an index says search is unavailable.
    let plain = parkgraph_api::schema(_test.db.clone(), Limits::default());
    let response = run_as(&plain, Caller::anonymous(), SEARCH, json!({ "q": "光谷" })).await;
    assert_eq!(codes(&response), ["UNAVAILABLE"], "{response:#}");
}

#[tokio::test]
async fn a_corrupt_stale_or_foreign_index_directory_is_rebuilt_on_open() {
    let test = TestDb::sample().await;
    let dir = index_dir();
    let (index, opened) = open(&test.db, &dir).await;
    let documents = match opened {
        Opened::Rebuilt { documents, .. } => documents,
        other => panic!("a missing index is built: {other:?}"),
    };
    let cursor = index.cursor();
    assert!(cursor > 0, "the cursor is the feed's end");
    drop(index);

    // Reopened as it is: followed from its cursor.
    let (index, opened) = open(&test.db, &dir).await;
    assert_eq!(opened, Opened::Existing { seq: cursor });
    drop(index);

    // A segment file overwritten: the checksum catches it.
    let segment = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("a segment's term file");
    let mut bytes = std::fs::read(&segment).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&segment, bytes).expect("write");
    let (index, opened) = open(&test.db, &dir).await;
    assert!(
        matches!(&opened, Opened::Rebuilt { reason, documents: d } if reason.contains("corrupt") && *d == documents),
        "{opened:?}"
    );
    assert!(
        index
            .search(&parkgraph_search::SearchRequest {
                query: "禾元".into(),
                visible: parkgraph_search::DocKind::ALL.to_vec(),
                limit: 5,
                ..Default::default()
            })
            .expect("searches")
            .total
            == 1
    );
    drop(index);

    // Unreadable metadata.
    std::fs::write(dir.join("meta.json"), b"{ not json").expect("write");
    let (index, opened) = open(&test.db, &dir).await;
    assert!(matches!(&opened, Opened::Rebuilt { reason, .. } if reason.contains("does not open")), "{opened:?}");
    drop(index);

    // Ahead of the database (another database's index): rebuilt for this one.
    let other = TestDb::migrated().await;
    let (index, opened) = open(&other.db, &dir).await;
    assert!(matches!(&opened, Opened::Rebuilt { reason, documents: 0 } if reason.contains("ends at 0")), "{opened:?}");
    assert_eq!(index.count(&parkgraph_search::DocKind::ALL).expect("counts"), 0);
    drop(index);

    // A directory with other files in it is never emptied.
    let foreign = index_dir();
    std::fs::create_dir_all(&foreign).expect("dir");
    std::fs::write(foreign.join("notes.txt"), b"keep me").expect("write");
    let err = SearchIndex::open(&foreign, &test.db, &|_| {}).await.expect_err("refused");
    assert!(err.to_string().contains("not a ParkGraph search index"), "{err}");
    assert!(foreign.join("notes.txt").exists());
}

/// The global id and version of the first hit of a query.
async fn first_hit(schema: &ParkGraphSchema, q: &str, types: &str) -> (String, i64) {
    let query = r#"query($q: String!, $filter: SearchFilter) {
      search(query: $q, filter: $filter, first: 1) { hits { id node { ... on Park { version } ... on Organization { version } } } }
    }"#;
    let vars = json!({ "q": q, "filter": { "types": [types] } });
    let data = data_as(schema, Caller::system(), query, vars).await;
    let hit = &data["search"]["hits"][0];
    (hit["id"].as_str().expect("a hit").to_string(), hit["node"]["version"].as_i64().expect("a version"))
}

#[tokio::test]
async fn new_links_and_a_moved_park_change_what_the_filters_find() {
    let (test, index, schema) = sample().await;
    let (healthgen, _) = first_hit(&schema, "禾元生物", "ORGANIZATION").await;
    let unicorns = json!({ "designations": ["UNICORN"], "valuationUsdMin": 1.5e9 });
    assert!(!names(&search(&schema, "", unicorns.clone()).await).contains(&"禾元生物".to_string()));

    let add =
        r#"mutation($input: AddDesignationInput!) { addDesignation(input: $input) { userErrors { code message } } }"#;
    let input = json!({ "organizationId": healthgen, "kind": "UNICORN", "year": 2024, "valuationUsd": 2.0e9 });
    let added = data_as(&schema, Caller::system(), add, json!({ "input": input })).await;
    assert_eq!(added["addDesignation"]["userErrors"], json!([]), "{added:#}");
    assert!(index.catch_up(&test.db).await.expect("catches up") > 0);
    assert!(names(&search(&schema, "", unicorns.clone()).await).contains(&"禾元生物".to_string()));
    let capped = json!({ "designations": ["UNICORN"], "valuationUsdMin": 1.5e9, "valuationUsdMax": 1.9e9 });
    assert!(!names(&search(&schema, "", capped).await).contains(&"禾元生物".to_string()), "the range's top holds");

    // 斗鱼 sits in 光谷软件园, inside the East Lake zone; moving the park to the Auto Valley
    // zone moves 斗鱼 with it, without a change to 斗鱼 itself.
    let (software_park, version) = first_hit(&schema, "光谷软件园", "PARK").await;
    let (east_lake, _) = first_hit(&schema, "武汉东湖新技术开发区", "PARK").await;
    let (auto_valley, _) = first_hit(&schema, "中国车谷", "PARK").await;
    let in_park = |park: &str| json!({ "types": ["ORGANIZATION"], "parkIds": [park] });
    assert_eq!(search(&schema, "斗鱼", in_park(&east_lake)).await["totalCount"], 1);
    assert_eq!(search(&schema, "斗鱼", in_park(&auto_valley)).await["totalCount"], 0);

    let update = r#"mutation($input: UpdateParkInput!) { updatePark(input: $input) { userErrors { code message } } }"#;
    let input = json!({ "id": software_park, "version": version, "parentId": auto_valley });
    let moved = data_as(&schema, Caller::system(), update, json!({ "input": input })).await;
    assert_eq!(moved["updatePark"]["userErrors"], json!([]), "{moved:#}");
    index.catch_up(&test.db).await.expect("catches up");
    assert_eq!(search(&schema, "斗鱼", in_park(&east_lake)).await["totalCount"], 0);
    assert_eq!(search(&schema, "斗鱼", in_park(&auto_valley)).await["totalCount"], 1);
    assert_eq!(search(&schema, "卷皮", in_park(&auto_valley)).await["totalCount"], 1, "every firm in the park moves");

    // Renamed: its firms are found by the new name of the place they are in.
    let orgs = json!({ "types": ["ORGANIZATION"] });
    assert_eq!(search(&schema, "车谷软件园", orgs.clone()).await["totalCount"], 0);
    let input = json!({ "id": software_park, "version": version + 1, "nameZh": "车谷软件园" });
    let renamed = data_as(&schema, Caller::system(), update, json!({ "input": input })).await;
    assert_eq!(renamed["updatePark"]["userErrors"], json!([]), "{renamed:#}");
    index.catch_up(&test.db).await.expect("catches up");
    let mut firms = names(&search(&schema, "车谷软件园", orgs).await);
    firms.sort();
    assert_eq!(firms, ["卷皮网", "斗鱼"]);
}

#[tokio::test]
async fn parkgraph_reindex_rebuilds_the_configured_index_which_a_server_then_opens_as_it_is() {
    let test = TestDb::sample().await;
    let dir = index_dir();
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("meta.json"), b"garbage").expect("a broken index");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_parkgraph"))
        .args(["--database-url", &test.url, "reindex"])
        .env("PARKGRAPH_SEARCH__INDEX_DIR", &dir)
        .env("PARKGRAPH_LOG", "warn")
        .output()
        .expect("runs parkgraph");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let live = parkgraph_search::source::count_live(&test.db).await.expect("counts");
    assert!(stdout.starts_with(&format!("indexed {live} records into {}", dir.display())), "{stdout}");
    let (index, opened) = open(&test.db, &dir).await;
    assert!(matches!(opened, Opened::Existing { seq } if seq > 0), "{opened:?}");
    assert_eq!(index.count(&parkgraph_search::DocKind::ALL).expect("counts") as u64, live);

    // While a server holds the index, reindex refuses to remove it from under it.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_parkgraph"))
        .args(["--database-url", &test.url, "reindex"])
        .env("PARKGRAPH_SEARCH__INDEX_DIR", &dir)
        .env("PARKGRAPH_LOG", "warn")
        .output()
        .expect("runs parkgraph");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("another process is writing the index"), "{stderr}");
    assert_eq!(index.count(&parkgraph_search::DocKind::ALL).expect("still reads") as u64, live);
}

#[tokio::test]
async fn two_replicas_each_follow_the_feed_into_their_own_index() {
    let test = TestDb::sample().await;
    let (a, _) = open(&test.db, &index_dir()).await;
    let (b, _) = open(&test.db, &index_dir()).await;
    assert_ne!(a.dir(), b.dir());
    let followers = [a.clone(), b.clone()]
        .map(|index| parkgraph_search::follow::spawn(index, test.db.clone().into(), Duration::from_millis(200)));
    let schema = parkgraph_api::schema_with_search(test.db.clone(), Limits::default(), a.clone());
    let create =
        r#"mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { userErrors { code } } }"#;
    let input = json!({ "kind": "ENTERPRISE", "nameZh": "珞珈光子", "nameEn": "Luojia Photonics", "status": "ACTIVE" });
    let created = data_as(&schema, Caller::system(), create, json!({ "input": input })).await;
    assert_eq!(created["createOrganization"]["userErrors"], json!([]));
    let committed = Instant::now();
    let request = parkgraph_search::SearchRequest {
        query: "luojia photonics".into(),
        visible: parkgraph_search::DocKind::ALL.to_vec(),
        limit: 5,
        ..Default::default()
    };
    for replica in [&a, &b] {
        while replica.search(&request).expect("searches").total != 1 {
            assert!(committed.elapsed() < Duration::from_secs(1), "{} lags", replica.dir().display());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    assert_eq!(a.cursor(), b.cursor(), "both applied the same feed");
    followers.iter().for_each(tokio::task::JoinHandle::abort);
}
