//! `statistics` and `secondHeadquartersStatistics` on the Wuhan sample: counts agree with
//! the lists' `totalCount` and with plain SQL for the same filter, two dimensions group
//! together (unicorns per year per park), years are read the same on both backends,
//! archived records and scopes are respected, and the bounds are refused clearly. Runs on
//! SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::{TestDb, codes, data, run};
use parkgraph_api::ParkGraphSchema;
use parkgraph_api::auth::Caller;
use parkgraph_domain::{Role, Scope};
use parkgraph_persistence::sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

fn caller(role: Role, scopes: &[Scope]) -> Caller {
    Caller { role, scopes: scopes.iter().copied().collect(), subject: "test".into(), jti: None, partner_id: None }
}

async fn run_as(schema: &ParkGraphSchema, who: Caller, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    serde_json::to_value(parkgraph_api::execute_as(schema, request, who).await).expect("response serializes")
}

/// The groups of one `statistics` call as (labels of the keys, count).
fn groups(data: &Value) -> Vec<(Vec<Value>, i64)> {
    data.as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let keys = g["keys"].as_array().expect("keys").iter().map(|k| k["label"].clone()).collect();
            (keys, g["count"].as_i64().expect("count"))
        })
        .collect()
}

const STATISTICS: &str = r#"query($by: [StatisticsDimension!]!, $filter: OrganizationFilterInput) {
  statistics(groupBy: $by, filter: $filter) {
    keys { dimension value label year park { nameZh } }
    count
    registeredCapitalCny { known sum }
    valuationUsd { known sum avg min max }
  }
}"#;

const TOTAL: &str = r#"query($filter: OrganizationFilterInput) {
  organizations(filter: $filter, first: 1) { totalCount }
}"#;

async fn scalar(test: &TestDb, sql: &str) -> i64 {
    let row = test
        .db
        .query_one_raw(Statement::from_string(test.db.get_database_backend(), sql.to_string()))
        .await
        .expect("query runs")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

#[tokio::test]
async fn counts_agree_with_the_list_total_and_with_sql_for_the_same_filter() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let filters = [
        json!({}),
        json!({ "kinds": ["ENTERPRISE"] }),
        json!({ "designations": ["UNICORN"] }),
        json!({ "designations": ["UNICORN"], "designationYear": 2018 }),
        json!({ "city": "武汉" }),
        json!({ "nameContains": "光" }),
        json!({ "park": { "parkId": park_id(&schema, "武汉东湖新技术开发区").await } }),
    ];
    for filter in filters {
        let total = data(&schema, TOTAL, json!({ "filter": filter })).await["organizations"]["totalCount"]
            .as_i64()
            .expect("total");
        // One group over everything, and one per status (each organization has one).
        let all = data(&schema, STATISTICS, json!({ "by": [], "filter": filter })).await;
        assert_eq!(groups(&all["statistics"]), vec![(vec![], total)], "{filter}");
        let by_status = data(&schema, STATISTICS, json!({ "by": ["STATUS"], "filter": filter })).await;
        let sum: i64 = groups(&by_status["statistics"]).iter().map(|(_, n)| n).sum();
        assert_eq!(sum, total, "{filter}");
    }
    // Against plain SQL.
    let live = scalar(&test, "SELECT COUNT(*) FROM organization WHERE archived_at IS NULL").await;
    let d = data(&schema, STATISTICS, json!({ "by": ["CITY"] })).await;
    let by_city = groups(&d["statistics"]);
    assert_eq!(by_city.iter().map(|(_, n)| n).sum::<i64>(), live);
    let in_wuhan = scalar(&test, "SELECT COUNT(*) FROM organization WHERE archived_at IS NULL AND city = '武汉'").await;
    let in_beijing =
        scalar(&test, "SELECT COUNT(*) FROM organization WHERE archived_at IS NULL AND city = '北京'").await;
    let no_city = scalar(&test, "SELECT COUNT(*) FROM organization WHERE archived_at IS NULL AND city IS NULL").await;
    assert_eq!(
        by_city,
        vec![(vec![json!("北京")], in_beijing), (vec![json!("武汉")], in_wuhan), (vec![Value::Null], no_city)],
        "ordered by key, the unknown city last"
    );
}

fn sorted(mut groups: Vec<(Vec<Value>, i64)>) -> Vec<(Vec<Value>, i64)> {
    groups.sort_by_key(|g| format!("{g:?}"));
    groups
}

async fn park_id(schema: &ParkGraphSchema, name: &str) -> String {
    let d = data(
        schema,
        r#"query($n: String!) { parks(filter: { nameContains: $n }) { nodes { id nameZh } } }"#,
        json!({ "n": name }),
    )
    .await;
    d["parks"]["nodes"][0]["id"].as_str().expect("park found").to_string()
}

#[tokio::test]
async fn unicorns_per_year_per_park_group_by_two_dimensions() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(
        &schema,
        STATISTICS,
        json!({ "by": ["DESIGNATION_YEAR", "PARK"], "filter": { "designations": ["UNICORN"] } }),
    )
    .await;
    let east_lake = json!("武汉东湖新技术开发区（中国光谷）");
    let biolake = json!("光谷生物城");
    let software = json!("光谷软件园");
    let wedz = json!("武汉经济技术开发区（中国车谷）");
    // Ordered by year, then by park id (firms without a park last in their year).
    let expected = vec![
        (vec![json!("2017"), east_lake.clone()], 2),
        (vec![json!("2017"), biolake.clone()], 1),
        (vec![json!("2017"), software.clone()], 2),
        (vec![json!("2018"), east_lake.clone()], 2),
        (vec![json!("2018"), biolake.clone()], 1),
        (vec![json!("2018"), software.clone()], 2),
        (vec![json!("2022"), wedz.clone()], 1),
        (vec![json!("2023"), wedz.clone()], 3),
        (vec![json!("2023"), Value::Null], 2),
    ];
    let found = groups(&d["statistics"]);
    let years: Vec<String> = found.iter().map(|(k, _)| k[0].to_string()).collect();
    assert!(years.windows(2).all(|w| w[0] <= w[1]), "ordered by year first: {years:?}");
    assert_eq!(found.last().map(|(k, _)| k[1].clone()), Some(Value::Null), "no park is last in 2023");
    assert_eq!(sorted(found), sorted(expected.clone()));
    let first = &d["statistics"][0];
    assert_eq!(first["keys"][0]["dimension"], "DESIGNATION_YEAR");
    assert_eq!(first["keys"][0]["year"], 2017);
    assert_eq!(first["keys"][1]["dimension"], "PARK");
    assert_eq!(first["keys"][1]["park"]["nameZh"], first["keys"][1]["label"]);
    let group = |year: &str, park: &Value| {
        d["statistics"]
            .as_array()
            .expect("groups")
            .iter()
            .find(|g| g["keys"][0]["label"] == json!(year) && g["keys"][1]["label"] == *park)
            .cloned()
            .expect("group present")
    };

    // Each year's groups add up to that year's unicorn list (every unicorn has at most one park).
    for year in [2017, 2018, 2022, 2023] {
        let listed =
            data(&schema, "query($y: Int) { unicorns(filter: { year: $y }) { totalCount } }", json!({ "y": year }))
                .await["unicorns"]["totalCount"]
                .as_i64()
                .expect("total");
        let grouped: i64 = expected.iter().filter(|(k, _)| k[0] == json!(year.to_string())).map(|(_, n)| n).sum();
        assert_eq!(grouped, listed, "{year}");
    }

    // Valuations of 2018 in the East Lake zone: 斑马快跑 US$1.1bn and 药帮忙 US$1bn.
    let zone = group("2018", &east_lake);
    assert_eq!(zone["valuationUsd"], json!({ "known": 2, "sum": 2.1e9, "avg": 1.05e9, "min": 1.0e9, "max": 1.1e9 }));
    // The software park of 2018: 卷皮网 US$1bn, 斗鱼's own valuation unknown.
    let park = group("2018", &software);
    assert_eq!(park["valuationUsd"]["known"], 1);
    assert_eq!(park["valuationUsd"]["sum"], 1.0e9);
    // No capital is recorded in the sample: nothing known, nothing summed.
    assert_eq!(zone["registeredCapitalCny"], json!({ "known": 0, "sum": null }));
}

#[tokio::test]
async fn founded_years_and_designation_kinds_are_grouped_on_both_backends() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d =
        data(&schema, STATISTICS, json!({ "by": ["FOUNDED_YEAR"], "filter": { "designations": ["UNICORN"] } })).await;
    assert_eq!(
        groups(&d["statistics"]),
        vec![
            (vec![json!("2009")], 1),
            (vec![json!("2012")], 1),
            (vec![json!("2014")], 1),
            (vec![json!("2015")], 1),
            (vec![Value::Null], 7),
        ]
    );
    // A firm counts once per designation kind it holds.
    let d = data(&schema, STATISTICS, json!({ "by": ["DESIGNATION_KIND"] })).await;
    let by_kind = groups(&d["statistics"]);
    assert!(by_kind.contains(&(vec![json!("UNICORN")], 11)), "{by_kind:?}");
    assert!(by_kind.contains(&(vec![json!("FORTUNE_GLOBAL_500")], 2)), "小米 and 华为: {by_kind:?}");
    let without = by_kind.iter().find(|(k, _)| k[0].is_null()).expect("firms without a designation");
    let total = data(&schema, TOTAL, json!({})).await["organizations"]["totalCount"].as_i64().expect("total");
    assert_eq!(without.1, total - 11 - 2, "小米, 华为 and the unicorns hold designations");
}

#[tokio::test]
async fn second_headquarters_are_grouped_by_year_status_and_park() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let q = r#"query($by: [SecondHeadquartersDimension!]!) {
      secondHeadquartersStatistics(groupBy: $by) {
        keys { value label year park { nameZh } organization { nameZh } } count plannedHeadcount { known sum }
      }
    }"#;
    let d = data(&schema, q, json!({ "by": ["OPENED_YEAR"] })).await;
    assert_eq!(
        groups(&d["secondHeadquartersStatistics"]),
        vec![
            (vec![json!("2017")], 3),
            (vec![json!("2018")], 1),
            (vec![json!("2019")], 1),
            (vec![json!("2025")], 1),
            (vec![Value::Null], 6),
        ]
    );
    let d = data(&schema, q, json!({ "by": ["ANNOUNCED_YEAR", "STATUS"] })).await;
    assert_eq!(
        groups(&d["secondHeadquartersStatistics"]),
        vec![(vec![json!("2017"), json!("OPERATING")], 3), (vec![Value::Null, json!("OPERATING")], 9)]
    );
    let d = data(&schema, q, json!({ "by": ["PARK"] })).await;
    let by_park = &d["secondHeadquartersStatistics"];
    assert_eq!(
        sorted(groups(by_park)),
        sorted(vec![(vec![json!("武汉东湖新技术开发区（中国光谷）")], 9), (vec![json!("光谷金融港")], 3)])
    );
    // 小米's campus plans 10,000 people and 金山's 9,000.
    let zone = by_park
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["keys"][0]["park"]["nameZh"] == json!("武汉东湖新技术开发区（中国光谷）"))
        .expect("the zone's group");
    assert_eq!(zone["plannedHeadcount"], json!({ "known": 2, "sum": 19000.0 }));
    let total = data(&schema, "{ secondHeadquarters(first: 1) { totalCount } }", json!({})).await["secondHeadquarters"]
        ["totalCount"]
        .as_i64()
        .expect("total");
    assert_eq!(total, 12);
    let d = data(&schema, q, json!({ "by": ["PARENT"] })).await;
    let by_parent = groups(&d["secondHeadquartersStatistics"]);
    assert!(by_parent.contains(&(vec![json!("小米")], 2)), "{by_parent:?}");
    assert_eq!(by_parent.iter().map(|(_, n)| n).sum::<i64>(), total);
}

#[tokio::test]
async fn archived_organizations_are_counted_for_staff_only() {
    use parkgraph_registry::{Actor, Registry};
    let test = TestDb::sample().await;
    let schema = test.schema();
    let by_kind = json!({ "by": [], "filter": { "kinds": ["ENTERPRISE"] } });
    let before = data(&schema, STATISTICS, by_kind.clone()).await["statistics"][0]["count"].as_i64().expect("n");
    let d = data(&schema, r#"{ organizations(filter: { nameContains: "斗鱼" }) { nodes { id } } }"#, json!({})).await;
    let id = parkgraph_api::id::decode(d["organizations"]["nodes"][0]["id"].as_str().expect("id")).expect("id").1;
    Registry::new(test.db.clone()).archive_organization(&Actor::new("editor:test"), id, 1).await.expect("archived");

    let after = data(&schema, STATISTICS, by_kind.clone()).await["statistics"][0]["count"].as_i64().expect("n");
    assert_eq!(after, before - 1, "the archived firm leaves the live count");
    let staff = caller(Role::Editor, &Role::Editor.allowed_scopes().into_iter().collect::<Vec<_>>());
    let with_archived = json!({ "by": [], "filter": { "kinds": ["ENTERPRISE"], "includeArchived": true } });
    let d = run_as(&schema, staff, STATISTICS, with_archived.clone()).await;
    assert_eq!(d["data"]["statistics"][0]["count"].as_i64(), Some(before), "{d}");
    // Its 2017 and 2018 unicorn designations leave the software park's groups too.
    let d = data(
        &schema,
        STATISTICS,
        json!({ "by": ["DESIGNATION_YEAR", "PARK"], "filter": { "designations": ["UNICORN"], "designationYear": 2017 } }),
    )
    .await;
    assert!(groups(&d["statistics"]).contains(&(vec![json!("2017"), json!("光谷软件园")], 1)), "{d}");
    let anonymous = run(&schema, STATISTICS, with_archived).await;
    assert_eq!(codes(&anonymous), ["FORBIDDEN"]);
}

#[tokio::test]
async fn scopes_and_bounds_are_refused_clearly() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    // A partner reading organizations but not parks may not group by park.
    let partner = caller(Role::Partner, &[Scope::ReadOrganizations]);
    let r = run_as(&schema, partner.clone(), STATISTICS, json!({ "by": ["PARK"] })).await;
    assert_eq!(codes(&r), ["FORBIDDEN"], "{r}");
    assert!(r["errors"][0]["message"].as_str().is_some_and(|m| m.contains("read:parks")), "{r}");
    let r = run_as(&schema, partner, STATISTICS, json!({ "by": ["INDUSTRY"] })).await;
    assert!(r.get("errors").is_none(), "{r}");
    let no_orgs = caller(Role::Partner, &[Scope::ReadParks]);
    let r = run_as(&schema, no_orgs, STATISTICS, json!({ "by": ["CITY"] })).await;
    assert_eq!(codes(&r), ["FORBIDDEN"], "{r}");

    let r = run(&schema, STATISTICS, json!({ "by": ["CITY", "STATUS", "INDUSTRY", "DISTRICT"] })).await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert!(r["errors"][0]["message"].as_str().is_some_and(|m| m.contains("maximum of 3")), "{r}");
    let r = run(&schema, STATISTICS, json!({ "by": ["CITY", "CITY"] })).await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
}

#[tokio::test]
async fn more_than_a_thousand_groups_is_a_bad_user_input() {
    let test = TestDb::migrated().await;
    parkgraph_persistence::seed::synthetic::load(&test.db, 3_000).await.expect("synthetic data loads");
    let schema = test.schema();
    let r = run(&schema, STATISTICS, json!({ "by": ["FOUNDED_YEAR", "INDUSTRY", "PARK"] })).await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert!(r["errors"][0]["message"].as_str().is_some_and(|m| m.contains("more than 1000 groups")), "{r}");
    // Fewer dimensions answer, and every enterprise is counted once per founded year.
    let d = data(&schema, STATISTICS, json!({ "by": ["FOUNDED_YEAR"], "filter": { "kinds": ["ENTERPRISE"] } })).await;
    let sum: i64 = groups(&d["statistics"]).iter().map(|(_, n)| n).sum();
    assert_eq!(sum, 3_000);
}

#[tokio::test]
async fn a_firm_located_in_two_parks_counts_once_in_each_and_once_overall() {
    use parkgraph_domain::LocationRole;
    use parkgraph_domain::validation::EnterpriseLocationDraft;
    use parkgraph_registry::{Actor, Registry};
    let test = TestDb::sample().await;
    let schema = test.schema();
    let uuid = |id: &str| parkgraph_api::id::decode(id).expect("id").1;
    let d = data(&schema, r#"{ organizations(filter: { nameContains: "斗鱼" }) { nodes { id } } }"#, json!({})).await;
    let douyu = uuid(d["organizations"]["nodes"][0]["id"].as_str().expect("id"));
    let biolake = uuid(&park_id(&schema, "光谷生物城").await);
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("editor:test");
    // 斗鱼 also runs R&D in 光谷生物城, and registers there too: two links to one park.
    for role in [LocationRole::RAndD, LocationRole::Registered] {
        registry
            .add_enterprise_location(&actor, EnterpriseLocationDraft::new(douyu, biolake, role))
            .await
            .expect("location added");
    }
    let filter = json!({ "nameContains": "斗鱼" });
    let d = data(&schema, STATISTICS, json!({ "by": ["PARK"], "filter": filter })).await;
    assert_eq!(
        sorted(groups(&d["statistics"])),
        sorted(vec![(vec![json!("光谷生物城")], 1), (vec![json!("光谷软件园")], 1)]),
        "once in each park, however many roles"
    );
    let d = data(&schema, STATISTICS, json!({ "by": [], "filter": filter })).await;
    assert_eq!(groups(&d["statistics"]), vec![(vec![], 1)]);
    // A role filter keeps only the matching locations as groups.
    let filter = json!({ "nameContains": "斗鱼", "park": { "parkId": park_id(&schema, "光谷生物城").await }, "locationRole": "R_AND_D" });
    let d = data(&schema, STATISTICS, json!({ "by": ["PARK"], "filter": filter })).await;
    assert_eq!(groups(&d["statistics"]), vec![(vec![json!("光谷生物城")], 1)]);
}
