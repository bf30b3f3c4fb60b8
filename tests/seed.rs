//! The Wuhan sample and the synthetic generator, and their history: every seeded record
//! has a creation revision and a change-feed entry.

mod common;

use std::collections::HashMap;

use common::{TestDb, data};
use parkgraph_domain::validation::OrganizationDraft;
use parkgraph_domain::{OrganizationKind, OrganizationStatus, PartialDate, Uscc};
use parkgraph_persistence::entity::revision;
use parkgraph_persistence::sea_orm::sea_query::{Expr, Query};
use parkgraph_persistence::sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use parkgraph_persistence::seed;
use parkgraph_persistence::write::{self, EntityType, Operation};
use parkgraph_registry::{Actor, Registry};
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn the_sample_loads_every_kind_of_record() {
    let test = TestDb::migrated().await;
    let report = seed::sample::load(&test.db).await.expect("loads");
    assert!(report.parks >= 10 && report.organizations >= 30, "{report}");
    assert!(report.innovation_centers >= 8 && report.second_headquarters >= 10 && report.incubators >= 5, "{report}");
    assert!(report.designations >= 11 && report.memberships >= 5 && report.locations >= 5, "{report}");
    assert!(report.city_designations >= 2 && report.figures >= 10, "{report}");
}

#[tokio::test]
async fn the_sample_invents_no_credit_codes() {
    let test = TestDb::sample().await;
    let d = data(&test.schema(), "{ organizations(first: 100) { nodes { uscc } } }", json!({})).await;
    assert!(d["organizations"]["nodes"].as_array().expect("list").iter().all(|n| n["uscc"].is_null()));
}

#[tokio::test]
async fn seeding_a_database_that_holds_data_is_refused_and_changes_nothing() {
    let test = TestDb::sample().await;
    let before = data(&test.schema(), "{ organizations { totalCount } }", json!({})).await;
    let err = seed::sample::load(&test.db).await.expect_err("second load refused");
    assert!(err.to_string().contains("empty database"), "{err}");
    let err = seed::synthetic::load(&test.db, 10).await.expect_err("synthetic refused too");
    assert!(err.to_string().contains("empty database"), "{err}");
    let after = data(&test.schema(), "{ organizations { totalCount } }", json!({})).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn synthetic_data_is_deterministic_and_its_credit_codes_are_valid() {
    let query = "{ enterprises(first: 50, orderBy: { field: CREATED_AT }) { totalCount nodes { databaseId uscc nameEn } } parks(first: 5) { nodes { databaseId } } }";
    let mut runs = Vec::new();
    for _ in 0..2 {
        let test = TestDb::migrated().await;
        let report = seed::synthetic::load(&test.db, 500).await.expect("loads");
        assert_eq!(report.organizations, 500 + seed::synthetic::Shape::for_enterprises(500).institutions);
        runs.push(data(&test.schema(), query, json!({})).await);
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0]["enterprises"]["totalCount"], 500);
    for node in runs[0]["enterprises"]["nodes"].as_array().expect("list") {
        let code = node["uscc"].as_str().expect("synthetic enterprises have a USCC");
        assert!(Uscc::parse(code).is_ok(), "{code}");
        assert!(node["nameEn"].as_str().is_some_and(|n| n.starts_with("Synthetic")));
    }
}

fn sample_json() -> Value {
    serde_json::from_str(seed::sample::WUHAN_JSON).expect("the sample is JSON")
}

/// Every object in the dataset (except the source table) that cites a source, with its path.
fn records(value: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("source") {
                out.push((path.to_string(), value.clone()));
            }
            for (k, v) in map {
                records(v, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                records(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Every date field of the dataset: `…On`, `asOf`, `since` and a source's `date`.
fn dates(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let is_date = k.ends_with("On") || k == "asOf" || k == "since" || k == "date";
                match v {
                    Value::String(text) if is_date => out.push((format!("{path}.{k}"), text.clone())),
                    _ => dates(v, &format!("{path}.{k}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                dates(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn is_web_address(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len() + 3
        && !url.contains(' ')
}

#[test]
fn every_sample_source_is_a_publication_with_a_web_address() {
    let json = sample_json();
    let sources = json["sources"].as_object().expect("sources");
    assert!(sources.len() >= 20);
    let mut print = Vec::new();
    for (key, source) in sources {
        for field in ["title", "publisher"] {
            assert!(source[field].as_str().is_some_and(|t| !t.trim().is_empty()), "source {key} has no {field}");
        }
        if source["medium"] == "PRINT" {
            // A print-only newspaper article: cited by publisher, day and title, no URL.
            let date = source["date"].as_str().unwrap_or_default();
            assert!(source["url"].is_null(), "source {key}: a print source has no URL");
            assert!(date.len() == 10, "source {key}: a print source is dated to the day, not {date:?}");
            print.push(key.as_str());
            continue;
        }
        let url = source["url"].as_str().unwrap_or_default();
        assert!(is_web_address(url), "source {key}: {url:?} is not an http(s) address");
    }
    // Only the seed article (Changjiang Daily, 2019-05-16) is known in print alone.
    assert_eq!(print, ["cjrb-innovation-2019"], "print-only sources");
    for banned in ["public-reporting", "second-hq-announcements", "unicorn-reporting-2023"] {
        assert!(!sources.contains_key(banned), "{banned} is not a citable publication");
    }
}

#[test]
fn every_sample_record_and_figure_cites_a_listed_source() {
    let json = sample_json();
    let sources = json["sources"].as_object().expect("sources");
    let mut all = Vec::new();
    for section in [
        "parks",
        "organizations",
        "incubators",
        "secondHeadquarters",
        "innovationCenters",
        "cityDesignations",
        "figures",
    ] {
        let before = all.len();
        records(&json[section], section, &mut all);
        let top = json[section].as_array().map_or(0, Vec::len);
        assert!(all.len() - before >= top, "{section}: every record cites a source");
    }
    assert!(json["figures"].as_array().is_some_and(|f| f.len() >= 10), "the sample has figures");
    for (path, record) in &all {
        let key = record["source"].as_str().unwrap_or_default();
        assert!(sources.contains_key(key), "{path} cites {key:?}, which is not in the source list");
    }
}

#[test]
fn sample_dates_are_written_at_their_real_precision_and_never_padded() {
    let mut found = Vec::new();
    dates(&sample_json(), "", &mut found);
    assert!(found.len() >= 50, "{}", found.len());
    let mut by_precision = std::collections::HashMap::new();
    for (path, text) in &found {
        let date: PartialDate = text.parse().unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(&date.to_string(), text, "{path} is not at its declared precision");
        if let Some(day) = date.exact_day() {
            let md = day.format("%m-%d").to_string();
            assert!(md != "12-31" && md != "01-01", "{path}: {text} looks like a padded year");
        }
        *by_precision.entry(date.precision()).or_insert(0) += 1;
    }
    // The sample really uses all three precisions: years and months are not padded to days.
    assert_eq!(by_precision.len(), 3, "{by_precision:?}");
}

#[tokio::test]
async fn the_api_shows_a_year_or_month_as_such_and_never_a_padded_day() {
    let test = TestDb::sample().await;
    let d = data(
        &test.schema(),
        r#"{ parks(filter: { topLevel: true, nameContains: "东湖" }) { nodes {
            establishedOn establishedDate { text precision year day start end }
            designations { nameZh designatedOn designatedDate { text precision } provenance { asOf asOfDate { text precision } } }
        } } }"#,
        json!({}),
    )
    .await;
    let zone = &d["parks"]["nodes"][0];
    assert_eq!(zone["establishedOn"], Value::Null, "1988 is not a day");
    assert_eq!(
        zone["establishedDate"],
        json!({ "text": "1988", "precision": "YEAR", "year": 1988, "day": null, "start": "1988-01-01", "end": "1988-12-31" })
    );
    let designations = zone["designations"].as_array().expect("designations");
    let high_tech = designations.iter().find(|x| x["nameZh"] == "国家级高新技术产业开发区").expect("1991 designation");
    assert_eq!(high_tech["designatedOn"], Value::Null);
    assert_eq!(high_tech["designatedDate"], json!({ "text": "1991", "precision": "YEAR" }));
    let memory = designations.iter().find(|x| x["nameZh"] == "国家存储器基地").expect("memory base");
    assert_eq!(memory["designatedDate"], json!({ "text": "2016-02", "precision": "MONTH" }));
    assert_eq!(memory["provenance"]["asOf"], "2018-01-05", "a day is still a Date");
    // No date the API shows as a day is a padded year or month.
    let hqs = data(
        &test.schema(),
        "{ secondHeadquarters(first: 100) { nodes { announcedOn announcedDate { precision } openedOn openedDate { text precision } } } }",
        json!({}),
    )
    .await;
    for hq in hqs["secondHeadquarters"]["nodes"].as_array().expect("list") {
        for (day, partial) in [("announcedOn", "announcedDate"), ("openedOn", "openedDate")] {
            let shown_as_day = !hq[day].is_null();
            let known_to_the_day = hq[partial]["precision"] == "DAY";
            assert_eq!(shown_as_day, known_to_the_day, "{hq}");
        }
    }
}

#[tokio::test]
async fn the_2018_list_names_five_unicorns_in_optics_valley_with_valuations() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let zone =
        data(&schema, r#"{ parks(filter: { topLevel: true, nameContains: "东湖" }) { nodes { id } } }"#, json!({}))
            .await;
    let id = zone["parks"]["nodes"][0]["id"].clone();
    let d = data(
        &schema,
        "query($id: ID!) { unicorns(filter: { year: 2018, park: { parkId: $id } }) { totalCount nodes { valuationUsd note enterprise { nameZh } provenance { sourceName sourceUrl } } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(d["unicorns"]["totalCount"], 5, "{d}");
    let nodes = d["unicorns"]["nodes"].as_array().expect("list");
    assert_eq!(nodes.iter().filter(|n| n["valuationUsd"].is_number()).count(), 4, "{d}");
    for n in nodes {
        assert!(n["note"].as_str().is_some_and(|t| t.contains("长城企业战略研究所")), "the 2018 list's issuer: {n}");
        assert!(n["provenance"]["sourceUrl"].as_str().is_some_and(is_web_address), "{n}");
    }
    let all = data(&schema, "{ unicorns(filter: { year: 2018 }) { totalCount } }", json!({})).await;
    assert_eq!(all["unicorns"]["totalCount"], 5);
}

#[tokio::test]
async fn the_citys_designations_and_headline_figures_are_queryable_with_sources() {
    let test = TestDb::sample().await;
    let schema = test.schema();
    let d = data(
        &schema,
        r#"{ city(name: "武汉") {
            name
            designations { nameZh issuer designatedDate { text precision } provenance { sourceUrl } }
            figures(first: 50) { totalCount nodes { indicator value unit qualifier text park { nameZh } asOf { text } provenance { sourceUrl } } }
            parks(first: 10) { totalCount }
        } }"#,
        json!({}),
    )
    .await;
    let city = &d["city"];
    let designations = city["designations"].as_array().expect("designations");
    assert!(designations.iter().any(|x| x["nameZh"].as_str().is_some_and(|n| n.contains("中国制造2025"))), "{city}");
    assert!(designations.iter().any(|x| x["designatedDate"]["text"] == "2015-09"), "{city}");
    let figures = city["figures"]["nodes"].as_array().expect("figures");
    assert!(figures.iter().all(|f| f["park"].is_null()), "city figures are about the city");
    assert!(figures.iter().any(|f| f["indicator"] == "fortune_global_500_investors" && f["value"] == 292.0), "{city}");
    assert!(city["parks"]["totalCount"].as_i64().is_some_and(|n| n >= 2));

    let zone = data(
        &schema,
        r#"{ parks(filter: { topLevel: true, nameContains: "东湖" }) { nodes {
            figures(indicator: "second_headquarters") { totalCount nodes { value qualifier text asOf { text precision } } }
        } } }"#,
        json!({}),
    )
    .await;
    let hq = &zone["parks"]["nodes"][0]["figures"];
    assert_eq!(hq["totalCount"], 1, "{zone}");
    assert_eq!(hq["nodes"][0]["qualifier"], "MORE_THAN");
    assert_eq!(hq["nodes"][0]["text"], "more than 60 enterprises");
    assert_eq!(hq["nodes"][0]["asOf"], json!({ "text": "2018-10", "precision": "MONTH" }));

    let all = data(
        &schema,
        r#"{ figures(filter: { city: "武汉" }, first: 100) { totalCount nodes { provenance { sourceName sourceUrl } } } }"#,
        json!({}),
    )
    .await;
    let nodes = all["figures"]["nodes"].as_array().expect("figures");
    assert_eq!(all["figures"]["totalCount"].as_u64(), Some(nodes.len() as u64));
    assert!(nodes.len() >= 10);
    assert!(nodes.iter().all(|f| is_cited(&f["provenance"])), "{all}");

    // The seed article's headline figures for Optics Valley and the city.
    let article = data(
        &schema,
        r#"{ parks(filter: { topLevel: true, nameContains: "东湖" }) { nodes {
               figures(indicator: "internet_enterprises") { nodes { text asOf { text } provenance { sourceName sourceUrl } } }
             } }
             city(name: "武汉") { figures(indicator: "fortune_global_500_projects") { nodes { value text asOf { text precision } } } } }"#,
        json!({}),
    )
    .await;
    let internet = &article["parks"]["nodes"][0]["figures"]["nodes"][0];
    assert_eq!(internet["text"], "more than 2100 enterprises", "{article}");
    assert_eq!(internet["asOf"]["text"], "2019-05-16");
    assert_eq!(
        internet["provenance"]["sourceName"],
        "长江日报 (Changjiang Daily), 2019-05-16:《武汉用创新创造打开城市未来》 (print edition)"
    );
    assert!(internet["provenance"]["sourceUrl"].is_null());
    let fortune = &article["city"]["figures"]["nodes"][0];
    assert_eq!(fortune["value"], 7.0, "{article}");
    assert_eq!(fortune["asOf"], json!({ "text": "2019-03", "precision": "MONTH" }));
}

#[tokio::test]
async fn the_articles_figures_about_firms_hang_on_the_firms() {
    let test = TestDb::sample().await;
    let d = data(
        &test.schema(),
        r#"{ organizations(filter: { nameContains: "神龙" }) { nodes { legalName
               figures { nodes { indicator value unit text organization { nameZh } park { nameZh } city
                 provenance { sourceName sourceUrl } } } } } }"#,
        json!({}),
    )
    .await;
    let firm = &d["organizations"]["nodes"][0];
    assert_eq!(firm["legalName"], "神龙汽车有限公司", "{d}");
    let robots = &firm["figures"]["nodes"][0];
    assert_eq!(robots["indicator"], "welding_robots");
    assert_eq!(robots["value"], 442.0);
    assert_eq!(robots["organization"]["nameZh"], "神龙汽车");
    assert!(robots["park"].is_null() && robots["city"].is_null(), "{robots}");
    assert!(is_cited(&robots["provenance"]), "{robots}");

    // A firm's figures are not the city's.
    let city = data(
        &test.schema(),
        r#"{ city(name: "武汉") { figures(indicator: "welding_robots") { totalCount } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(city["city"]["figures"]["totalCount"], 0, "{city}");
}

/// A record's provenance cites a web page, or the seed article in print (the one source
/// whose public web copy is not known).
fn is_cited(provenance: &Value) -> bool {
    match provenance["sourceUrl"].as_str() {
        Some(url) => is_web_address(url),
        None => provenance["sourceName"].as_str().is_some_and(|name| {
            name.starts_with("长江日报 (Changjiang Daily), 2019-05-16:") && name.ends_with("(print edition)")
        }),
    }
}

#[tokio::test]
async fn every_record_the_api_serves_from_the_sample_cites_a_web_address() {
    let test = TestDb::sample().await;
    let d = data(
        &test.schema(),
        "{ parks(first: 100) { nodes { provenance { sourceName sourceUrl } designations { provenance { sourceName sourceUrl } } } }
           organizations(first: 100) { nodes { provenance { sourceName sourceUrl } designations { provenance { sourceName sourceUrl } } } }
           incubators(first: 100) { nodes { provenance { sourceName sourceUrl } } }
           secondHeadquarters(first: 100) { nodes { provenance { sourceName sourceUrl } } }
           innovationCenters(first: 100) { nodes { provenance { sourceName sourceUrl } members { edges { provenance { sourceName sourceUrl } } } } } }",
        json!({}),
    )
    .await;
    let mut provenances = Vec::new();
    fn collect(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Object(map) => {
                if let Some(provenance) = map.get("provenance") {
                    out.push(provenance.clone());
                }
                map.values().for_each(|x| collect(x, out));
            }
            Value::Array(items) => items.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    collect(&d, &mut provenances);
    assert!(provenances.len() >= 80, "{}", provenances.len());
    for provenance in &provenances {
        assert!(is_cited(provenance), "{provenance}");
    }
    let print = provenances.iter().filter(|p| p["sourceUrl"].is_null()).count();
    assert!(print <= 2, "only the article's two firms cite it in print, not {print} records");
}

#[tokio::test]
async fn the_readme_example_queries_run_on_the_sample_without_errors() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let blocks: Vec<&str> = readme.split("```graphql\n").skip(1).filter_map(|rest| rest.split("```").next()).collect();
    assert!(blocks.len() >= 6, "{}", blocks.len());
    let test = TestDb::sample().await;
    // The search examples need the index the server keeps.
    let dir = std::env::temp_dir().join(format!("parkgraph-readme-index-{}", Uuid::now_v7().simple()));
    let (index, _) = parkgraph_search::SearchIndex::open(&dir, &test.db, &|_| {}).await.expect("the index opens");
    let schema = parkgraph_api::schema_with_search(
        test.db.clone(),
        parkgraph_api::Limits::default(),
        std::sync::Arc::new(index),
    );
    for block in blocks {
        let d = data(&schema, block, json!({})).await;
        assert!(d.as_object().is_some_and(|m| !m.is_empty()), "{block}");
    }
}

/// Rows in a table.
async fn rows_in(db: &DatabaseConnection, table: &'static str) -> usize {
    let count = Query::select().expr_as(Expr::cust("COUNT(*)"), "n").from(table).to_owned();
    let row = db.query_one(&count).await.expect("count").expect("a count");
    usize::try_from(row.try_get::<i64>("", "n").expect("n")).expect("a count")
}

/// Every seeded record has exactly one revision (version 1, `CREATE` or `ADD_LINK` for a
/// link, by the seed, holding the stored row) and one feed entry, and the feed is
/// 1, 2, 3 … with no gaps. Returns the number of records.
async fn assert_seeded_with_history(db: &DatabaseConnection) -> usize {
    let feed = write::changes(db, None, 10_000_000, None).await.expect("the feed");
    assert_eq!(feed.iter().map(|c| c.seq).collect::<Vec<_>>(), (1..=feed.len() as i64).collect::<Vec<_>>());
    let revisions: HashMap<(String, Uuid), Vec<revision::Model>> =
        revision::Entity::find().all(db).await.expect("revisions").into_iter().fold(HashMap::new(), |mut map, r| {
            map.entry((r.entity_type.clone(), r.entity_id)).or_default().push(r);
            map
        });
    let mut records = 0;
    for entity in EntityType::ALL {
        let rows = rows_in(db, entity.table()).await;
        let entries: Vec<_> = feed.iter().filter(|c| c.entity_type == entity).collect();
        assert_eq!(entries.len(), rows, "{}: one feed entry per row", entity.table());
        for change in &entries {
            assert_eq!((change.version, change.operation), (1, entity.creation()), "{}", entity.table());
            assert_eq!(change.actor, seed::SEED_ACTOR);
            let history = &revisions[&(entity.table().to_string(), change.entity_id)];
            assert_eq!(history.len(), 1, "{} {}: one revision", entity.table(), change.entity_id);
            assert_eq!((history[0].version, history[0].operation.as_str()), (1, entity.creation().code()));
            assert_eq!((history[0].actor.as_str(), history[0].before.as_ref()), (seed::SEED_ACTOR, None));
            assert_eq!(history[0].after, change.after, "the feed entry carries the revision's state");
        }
        records += rows;
    }
    assert_eq!(revisions.len(), records, "no other revisions");
    records
}

#[tokio::test]
async fn every_sample_record_is_seeded_with_a_creation_revision_and_a_feed_entry() {
    let test = TestDb::migrated().await;
    let report = seed::sample::load(&test.db).await.expect("loads");
    let records = assert_seeded_with_history(&test.db).await;
    assert!(records > report.parks + report.organizations, "{records} records for {report}");
    let links = write::changes(&test.db, None, 10_000, None).await.expect("feed");
    assert!(links.iter().any(|c| c.operation == Operation::AddLink), "the sample's links are added as links");

    // The next change, through the registry, takes the next number: the batch and the
    // single append share the counter (and, on PostgreSQL, a prepared statement).
    let registry = Registry::new(test.db.clone());
    let draft = OrganizationDraft::new(OrganizationKind::Enterprise, "斗鱼", OrganizationStatus::Active);
    registry.create_organization(&Actor::new("editor:wang"), draft).await.expect("create");
    let feed = write::changes(&test.db, Some(records as i64), 10, None).await.expect("feed");
    assert_eq!(
        feed.iter().map(|c| (c.seq, c.actor.as_str())).collect::<Vec<_>>(),
        [(records as i64 + 1, "editor:wang")]
    );
}

#[tokio::test]
async fn every_synthetic_record_is_seeded_with_a_creation_revision_and_a_feed_entry() {
    let test = TestDb::migrated().await;
    let report = seed::synthetic::load(&test.db, 600).await.expect("loads");
    let records = assert_seeded_with_history(&test.db).await;
    assert!(records > 600 + report.locations, "{records} records for {report}");
}
