//! Bulk import and export, end to end on the Wuhan sample: the checked-in sample
//! spreadsheet (dry run, all-or-nothing refusal, then the good rows), GBK CSV and XLSX
//! files with Chinese and English headers, every kind of row error in the error report,
//! files that are not spreadsheets, the registry changing between plan and write, exports
//! that re-import as a no-op, and the upload mutation over HTTP. Runs on SQLite, and on
//! PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use parkgraph::export::ExportOptions;
use parkgraph::import::ImportOptions;
use parkgraph_bulk::out::{Column, ColumnType, OutFormat, writer};
use parkgraph_bulk::sheet::Cell;
use parkgraph_domain::Role;
use parkgraph_domain::validation::OrganizationDraft;
use parkgraph_persistence::entity::{change, designation, enterprise_location, incubation, organization, revision};
use parkgraph_persistence::sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use parkgraph_registry::import::{Action, ImportReport, OnError};
use parkgraph_registry::{Actor, Registry};
use serde_json::{Value, json};
use tower::ServiceExt;

use common::TestDb;

/// The checked-in sample import.
const SAMPLE: &str = "samples/import-organizations.csv";

/// A directory of its own for one test's files.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parkgraph-import-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Counts of what an import writes: organizations, links, revisions, feed entries.
async fn counts(db: &DatabaseConnection) -> [u64; 6] {
    [
        organization::Entity::find().count(db).await.expect("count"),
        enterprise_location::Entity::find().count(db).await.expect("count"),
        designation::Entity::find().count(db).await.expect("count"),
        incubation::Entity::find().count(db).await.expect("count"),
        revision::Entity::find().count(db).await.expect("count"),
        change::Entity::find().count(db).await.expect("count"),
    ]
}

async fn cli_import(
    db: &DatabaseConnection,
    path: &Path,
    dry_run: bool,
    on_error: OnError,
) -> (Result<ImportReport, String>, String) {
    let mut out = Vec::new();
    let options = ImportOptions { dry_run, on_error, actor: "staff:importer".into(), details: false };
    let result = parkgraph::import::run(db.clone(), path, options, &mut out).await.map_err(|e| e.to_string());
    (result, String::from_utf8(out).expect("utf-8 output"))
}

/// The error report beside `input`, as (row, column, value, reason).
fn error_report(input: &Path) -> Vec<(usize, String, String, String)> {
    let path = parkgraph_bulk::out::error_report_path(input);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("error report {}: {e}", path.display()));
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "the report has a BOM so Excel reads it as UTF-8");
    let sheet = parkgraph_bulk::sheet::read(&bytes, Some("report.csv")).expect("the report reads back");
    sheet
        .rows
        .iter()
        .map(|row| {
            let text = |i: usize| row.get(i).as_text().map(|t| t.to_string()).unwrap_or_default();
            (text(0).parse().expect("a row number"), text(1), text(2), text(3))
        })
        .collect()
}

#[tokio::test]
async fn the_sample_spreadsheet_imports_with_a_dry_run_first_then_for_real_and_each_record_has_its_history() {
    let test = TestDb::sample().await;
    let dir = scratch();
    let input = dir.join("企业名单.csv");
    std::fs::copy(SAMPLE, &input).expect("copy the sample");
    let before = counts(&test.db).await;

    // Dry run: what would happen, row by row; nothing written.
    let (report, out) = cli_import(&test.db, &input, true, OnError::Abort).await;
    let report = report.expect("a dry run reports");
    assert!(report.dry_run && !report.written);
    assert_eq!(
        [
            report.count(Action::Create),
            report.count(Action::Update),
            report.count(Action::Unchanged),
            report.count(Action::Refused)
        ],
        [4, 0, 0, 3],
        "{out}"
    );
    assert_eq!(report.links_added, 11, "{out}");
    assert!(out.contains("row 3") && out.contains("parks: — → 光谷生物城 (R_AND_D)"), "{out}");
    assert_eq!(counts(&test.db).await, before, "a dry run changes nothing");

    // The error report names every bad row, with the file's own headers.
    let problems = error_report(&input);
    let named: Vec<(usize, &str)> = problems.iter().map(|(row, column, _, _)| (*row, column.as_str())).collect();
    assert_eq!(
        named,
        [(6, "成立日期"), (6, "统一社会信用代码"), (6, "所在园区"), (7, "统一社会信用代码"), (8, "资质认定")],
        "{problems:#?}"
    );
    assert!(problems[3].3.contains("row 2"), "a duplicate names the row it repeats: {problems:#?}");

    // All or nothing: refused rows mean nothing is written.
    let (result, out) = cli_import(&test.db, &input, false, OnError::Abort).await;
    let err = result.expect_err("abort refuses the file");
    assert!(err.contains("3 row(s) refused") && err.contains("nothing was written"), "{err}");
    assert!(out.contains("refused, nothing written"), "{out}");
    assert_eq!(counts(&test.db).await, before, "abort writes nothing");

    // Skip: the four good rows, each with its revision and feed entry, by the importer.
    let (report, out) = cli_import(&test.db, &input, false, OnError::Skip).await;
    let report = report.expect("skip imports");
    assert!(report.written);
    assert_eq!([report.count(Action::Create), report.count(Action::Refused)], [4, 3], "{out}");
    let after = counts(&test.db).await;
    assert_eq!(after[0], before[0] + 4, "four organizations");
    assert_eq!(after[1] - before[1] + after[2] - before[2] + after[3] - before[3], 11, "eleven links");
    assert_eq!(after[4] - before[4], 15, "a revision per record and link");
    assert_eq!(after[5] - before[5], 15, "a feed entry per record and link");
    for row in report.rows.iter().filter(|r| r.action == Action::Create) {
        let id = row.id.expect("an id");
        let revisions =
            revision::Entity::find().filter(revision::Column::EntityId.eq(id)).all(&test.db).await.expect("revisions");
        assert_eq!(revisions.len(), 1);
        assert_eq!((revisions[0].operation.as_str(), revisions[0].actor.as_str()), ("CREATE", "staff:importer"));
        let entries = change::Entity::find().filter(change::Column::EntityId.eq(id)).all(&test.db).await.expect("feed");
        assert_eq!(entries.len(), 1, "{}", row.name);
    }
    let gene = organization::Entity::find()
        .filter(organization::Column::NameZh.eq("示例基因医学（武汉）有限公司"))
        .one(&test.db)
        .await
        .expect("query")
        .expect("imported");
    assert_eq!(gene.founded_on_precision.as_deref(), Some("MONTH"), "2019年7月 is a month");
    assert_eq!(gene.registered_capital_cny, Some(12_000_000), "1200 in a 万元 column");

    // The same file again: the good rows are already there.
    let (report, _) = cli_import(&test.db, &input, false, OnError::Skip).await;
    let report = report.expect("re-import");
    assert_eq!([report.count(Action::Unchanged), report.count(Action::Create), report.links_added], [4, 0, 0]);
    assert_eq!(counts(&test.db).await, after, "a re-import is a no-op");
}

/// A table written with the export writers, for input files.
fn table(format: OutFormat, headers: &[&'static str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let path = scratch().join(format!("in.{}", format.extension()));
    let file = std::fs::File::create(&path).expect("file");
    let columns = headers.iter().map(|h| Column { header: h, ty: ColumnType::Text }).collect();
    let mut table = writer(format, columns, headers.to_vec(), Box::new(file)).expect("writer");
    for row in rows {
        table.row(row).expect("row");
    }
    table.finish().expect("finish");
    std::fs::read(path).expect("read back")
}

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

async fn import_bytes(
    db: &DatabaseConnection,
    bytes: &[u8],
    name: &str,
    dry_run: bool,
    on_error: OnError,
) -> ImportReport {
    let registry = Registry::new(db.clone());
    let actor = Actor::new("staff:importer");
    let (_, report) = parkgraph_bulk::import::run(&registry, &actor, bytes, Some(name), dry_run, on_error, None)
        .await
        .unwrap_or_else(|e| panic!("{name} imports: {e}"));
    report
}

#[tokio::test]
async fn a_gbk_csv_with_chinese_headers_and_an_xlsx_with_english_headers_import_and_update_field_by_field() {
    let test = TestDb::sample().await;
    // Excel on Chinese Windows saves CSV as GBK.
    let csv = "企业名称,统一社会信用代码,成立日期,所在园区,行业,员工人数\r\n\
               示例光电科技（武汉）有限公司,91420100MA4KE0017U,2016/3/18,光谷光电子信息产业园,光电子,320\r\n";
    let (gbk, _, lossy) = encoding_rs::GBK.encode(csv);
    assert!(!lossy);
    assert!(std::str::from_utf8(&gbk).is_err(), "the file is really GBK");
    let report = import_bytes(&test.db, &gbk, "企业.csv", false, OnError::Abort).await;
    assert_eq!(report.count(Action::Create), 1, "{report:#?}");
    let id = report.rows[0].id.expect("id");
    let stored = organization::Entity::find_by_id(id).one(&test.db).await.expect("query").expect("stored");
    assert_eq!(stored.name_zh, "示例光电科技（武汉）有限公司");
    assert_eq!(stored.founded_on.map(|d| d.to_string()).as_deref(), Some("2016-03-18"));

    // An XLSX with English headers, typed cells (a date cell, a number cell), matched by
    // USCC: only what differs changes.
    let date = chrono::NaiveDate::from_ymd_opt(2016, 3, 18).expect("date");
    let xlsx = table(
        OutFormat::Xlsx,
        &["name", "uscc", "founded", "industry", "headcount", "designations"],
        &[vec![
            text("示例光电科技（武汉）有限公司"),
            text("91420100MA4KE0017U"),
            Cell::Date(date),
            text("光电子信息"),
            Cell::Int(350),
            text("HIGH_TECH_ENTERPRISE 2021"),
        ]],
    );
    let dry = import_bytes(&test.db, &xlsx, "firms.xlsx", true, OnError::Abort).await;
    let row = &dry.rows[0];
    assert_eq!((row.action, row.id), (Action::Update, Some(id)));
    let changes: Vec<(&str, Option<&str>, Option<&str>)> =
        row.changes.iter().map(|c| (c.field.as_str(), c.before.as_deref(), c.after.as_deref())).collect();
    assert_eq!(
        changes,
        [
            ("industry", Some("光电子"), Some("光电子信息")),
            ("headcount", Some("320"), Some("350")),
            ("designations", None, Some("HIGH_TECH_ENTERPRISE 2021")),
        ]
    );
    let real = import_bytes(&test.db, &xlsx, "firms.xlsx", false, OnError::Abort).await;
    assert_eq!(real.count(Action::Update), 1);
    let stored = organization::Entity::find_by_id(id).one(&test.db).await.expect("query").expect("stored");
    assert_eq!((stored.version, stored.headcount, stored.industry.as_deref()), (2, Some(350), Some("光电子信息")));
    let history =
        revision::Entity::find().filter(revision::Column::EntityId.eq(id)).all(&test.db).await.expect("revisions");
    assert_eq!(history.iter().map(|r| r.operation.as_str()).collect::<Vec<_>>(), ["CREATE", "UPDATE"]);
    assert_eq!(history[1].before.as_ref().and_then(|b| b["headcount"].as_i64()), Some(320));
}

#[tokio::test]
async fn every_kind_of_row_error_is_reported_with_its_row_column_value_and_reason_and_nothing_is_written() {
    let test = TestDb::sample().await;
    let before = counts(&test.db).await;
    let long = "长".repeat(5_000);
    let csv = format!(
        "企业名称,统一社会信用代码,成立日期,所在园区,员工人数,资质认定,孵化器,机构类型,城市\n\
         示例甲,,2019,光谷软件园,10,,,,武汉\n\
         ,,2019,,,,,,武汉\n\
         示例乙,91420100MA4KE0068A,,,,,,,武汉\n\
         示例丙,,next spring,,,,,,武汉\n\
         示例丁,,,光谷数据港,,,,,武汉\n\
         示例甲,,2019,光谷软件园,10,,,,武汉\n\
         示例戊,,,,{long},,,,武汉\n\
         示例己,,,,about ten,,,,武汉\n\
         示例庚,,,,,独角兽,,,武汉\n\
         示例辛,,,,,,不存在的孵化器,,武汉\n\
         示例大学,,,光谷软件园,,,,高校,武汉\n\
         示例癸,,2999,,,,,,武汉\n"
    );
    let report = import_bytes(&test.db, csv.as_bytes(), "errors.csv", false, OnError::Abort).await;
    assert!(!report.written);
    assert_eq!(counts(&test.db).await, before, "abort with refused rows writes nothing");
    let problems: Vec<(usize, &str, &str)> =
        report.problems().map(|(row, p)| (row, p.field.as_str(), p.value.as_str())).collect();
    assert_eq!(
        problems,
        [
            (3, "name", ""),
            (4, "uscc", "91420100MA4KE0068A"),
            (5, "founded", "next spring"),
            (6, "parks", "光谷数据港"),
            (7, "name", "示例甲"),
            (8, "headcount", &format!("{}…", "长".repeat(40))),
            (9, "headcount", "about ten"),
            (10, "designations", "独角兽"),
            (11, "incubators", "不存在的孵化器"),
            (12, "kind", "UNIVERSITY"),
            (13, "founded", "2999"),
        ]
    );
    assert_eq!(report.count(Action::Create), 1, "row 2 alone is good");
    for (_, problem) in report.problems() {
        assert!(!problem.reason.is_empty() && !problem.reason.contains("Some("), "{problem:?}");
    }
}

/// An import of several batches: the plan hands the writer each batch as it goes, so the
/// first batches are written before the last row is planned.
#[tokio::test]
async fn a_refusal_after_the_first_batches_were_written_leaves_nothing_with_abort_and_only_that_row_with_skip() {
    let test = TestDb::sample().await;
    let before = counts(&test.db).await;
    let good = parkgraph_registry::import::CHUNK_ROWS * 2 + 500;
    let mut csv = String::from("企业名称,所在园区,城市\n");
    for i in 0..good {
        csv.push_str(&format!("批量示例{i:05},光谷软件园,武汉\n"));
    }
    csv.push_str("批量示例末行,不存在的园区,武汉\n");

    let report = import_bytes(&test.db, csv.as_bytes(), "batches.csv", false, OnError::Abort).await;
    assert!(!report.written);
    assert_eq!((report.count(Action::Create), report.count(Action::Refused)), (good, 1));
    assert_eq!(counts(&test.db).await, before, "abort rolls back the batches already written");

    let report = import_bytes(&test.db, csv.as_bytes(), "batches.csv", false, OnError::Skip).await;
    assert!(report.written);
    assert_eq!((report.count(Action::Create), report.count(Action::Refused)), (good, 1));
    let problems: Vec<(usize, &str, &str)> =
        report.problems().map(|(row, p)| (row, p.field.as_str(), p.value.as_str())).collect();
    assert_eq!(problems, [(good + 2, "parks", "不存在的园区")]);
    let after = counts(&test.db).await;
    let added: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let good = good as u64;
    // Organizations, locations, designations, incubations, revisions, feed entries.
    assert_eq!(added, [good, good, 0, 0, 2 * good, 2 * good]);

    let again = import_bytes(&test.db, csv.as_bytes(), "batches.csv", false, OnError::Skip).await;
    assert_eq!((again.count(Action::Unchanged), again.count(Action::Refused)), (good as usize, 1));
    assert_eq!(counts(&test.db).await, after, "the same file again changes nothing");
}

#[tokio::test]
async fn files_that_are_not_an_import_are_one_clear_error() {
    let test = TestDb::sample().await;
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("staff:importer");
    let run = |bytes: Vec<u8>, name: &'static str| {
        let registry = registry.clone();
        let actor = actor.clone();
        async move {
            parkgraph_bulk::import::run(&registry, &actor, &bytes, Some(name), true, OnError::Abort, None)
                .await
                .map(|_| ())
                .expect_err("refused")
                .to_string()
        }
    };
    let png = run(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "logo.png").await;
    assert!(png.to_lowercase().contains("png"), "{png}");
    let pdf = run(b"%PDF-1.7\n1 0 obj".to_vec(), "report.pdf").await;
    assert!(pdf.to_lowercase().contains("pdf"), "{pdf}");
    let no_name = run("城市,行业\n武汉,光电子\n".as_bytes().to_vec(), "firms.csv").await;
    assert!(no_name.contains("no name column") && no_name.contains("城市, 行业"), "{no_name}");
    let twice = run("企业名称,name\n甲,乙\n".as_bytes().to_vec(), "firms.csv").await;
    assert!(twice.contains("both give the field `name`"), "{twice}");
}

#[tokio::test]
async fn a_change_between_plan_and_write_refuses_only_its_row_with_skip_and_everything_with_abort() {
    let test = TestDb::sample().await;
    let registry = Registry::new(test.db.clone());
    let actor = Actor::new("staff:importer");
    let csv = "企业名称,统一社会信用代码,城市\n示例甲,91420100MA4KE0017U,武汉\n示例乙,91420100MA4KE0025N,武汉\n";
    let rows = || {
        let sheet = parkgraph_bulk::sheet::read(csv.as_bytes(), Some("in.csv")).expect("sheet");
        parkgraph_bulk::import::rows_of(&sheet).expect("rows").rows
    };
    // Someone else registers a row's USCC after the plan was made.
    let take_code = |name: &str, code: &str| {
        let mut draft = OrganizationDraft::new(
            parkgraph_domain::OrganizationKind::Enterprise,
            name,
            parkgraph_domain::OrganizationStatus::Active,
        );
        draft.uscc = Some(code.into());
        draft
    };

    // The second row's code: the batch's insert fails after writing the first row, and
    // nothing of it stays.
    let plan = registry.plan_import(rows(), None).await.expect("plan");
    assert_eq!(plan.report().count(Action::Create), 2);
    let other = registry
        .create_organization(&Actor::new("editor:wang"), take_code("别家", "91420100MA4KE0025N"))
        .await
        .expect("created");
    let before = counts(&test.db).await;
    let err = registry.apply_import(&actor, plan, OnError::Abort, None).await.expect_err("abort fails");
    assert!(matches!(err, parkgraph_registry::CommandError::Store(_)), "{err:?}");
    assert_eq!(counts(&test.db).await, before, "abort leaves nothing of the import");

    // The same with skip: 示例乙 goes in, 示例甲 is refused with the reason.
    registry.archive_organization(&Actor::new("editor:wang"), other.id, other.version).await.expect("archived");
    let plan = registry.plan_import(rows(), None).await.expect("plan");
    registry
        .create_organization(&Actor::new("editor:wang"), take_code("又一家", "91420100MA4KE0017U"))
        .await
        .expect("created");
    let report = registry.apply_import(&actor, plan, OnError::Skip, None).await.expect("skip goes on");
    let outcome: Vec<(&str, Action)> = report.rows.iter().map(|r| (r.name.as_str(), r.action)).collect();
    assert_eq!(outcome, [("示例甲", Action::Refused), ("示例乙", Action::Create)]);
    assert!(report.rows[0].problems[0].reason.contains("run the import again"), "{report:#?}");
    let written = organization::Entity::find()
        .filter(organization::Column::NameZh.eq("示例乙"))
        .count(&test.db)
        .await
        .expect("count");
    assert_eq!(written, 1);
    let refused = organization::Entity::find()
        .filter(organization::Column::NameZh.eq("示例甲"))
        .count(&test.db)
        .await
        .expect("count");
    assert_eq!(refused, 0);
}

async fn export(db: &DatabaseConnection, kind: &str, format: OutFormat, filter: Option<&str>) -> (PathBuf, usize) {
    let path = scratch().join(format!("{kind}.{}", format.extension()));
    let file = std::fs::File::create(&path).expect("file");
    let options = ExportOptions { kind: kind.into(), format, filter: filter.map(str::to_string), public: false };
    let rows = parkgraph::export::run(db.clone(), options, Box::new(file)).await.expect("export");
    (path, rows)
}

#[tokio::test]
async fn an_export_opens_in_excel_form_and_re_imports_as_a_no_op() {
    let test = TestDb::sample().await;
    // Links of every kind the import knows, so the round trip covers them.
    let input = scratch().join("firms.csv");
    std::fs::copy(SAMPLE, &input).expect("copy");
    cli_import(&test.db, &input, false, OnError::Skip).await.0.expect("sample imported");
    let organizations = organization::Entity::find()
        .filter(organization::Column::ArchivedAt.is_null())
        .count(&test.db)
        .await
        .expect("count");
    let before = counts(&test.db).await;

    for format in [OutFormat::Csv, OutFormat::Xlsx] {
        let (path, rows) = export(&test.db, "organizations", format, None).await;
        assert_eq!(rows as u64, organizations);
        let bytes = std::fs::read(&path).expect("export");
        if format == OutFormat::Csv {
            assert!(bytes.starts_with(b"\xef\xbb\xbf\xe7\xbc\x96\xe5\x8f\xb7,"), "BOM, then the Chinese header 编号");
        }
        let sheet = parkgraph_bulk::sheet::read(&bytes, path.file_name().and_then(|n| n.to_str())).expect("reads back");
        assert!(sheet.headers.iter().any(|h| h == "企业名称") && sheet.headers.iter().any(|h| h == "统一社会信用代码"));
        if format == OutFormat::Xlsx {
            let founded = sheet.headers.iter().position(|h| h == "成立日期").expect("a founded column");
            assert!(
                sheet.rows.iter().any(|r| matches!(r.get(founded), Cell::Date(_))),
                "full dates are date cells in XLSX"
            );
        }
        let report = import_bytes(
            &test.db,
            &bytes,
            path.file_name().and_then(|n| n.to_str()).unwrap_or("x"),
            false,
            OnError::Abort,
        )
        .await;
        assert_eq!(
            (report.count(Action::Unchanged) as u64, report.count(Action::Refused), report.links_added),
            (organizations, 0, 0),
            "{format}: {:#?}",
            report.rows.iter().filter(|r| r.action != Action::Unchanged).collect::<Vec<_>>()
        );
        assert_eq!(counts(&test.db).await, before, "{format}: re-importing an export writes nothing");
    }

    // NDJSON for programs, with the API's filter.
    let (path, rows) =
        export(&test.db, "organizations", OutFormat::Ndjson, Some(r#"{"designations": ["HIGH_TECH_ENTERPRISE"]}"#))
            .await;
    let lines: Vec<Value> = std::fs::read_to_string(path)
        .expect("ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), rows);
    assert!(lines.iter().any(|l| l["name"] == "示例光电科技（武汉）有限公司"), "{lines:#?}");
    assert!(lines.iter().all(|l| l["designations"].as_str().is_some_and(|d| d.contains("高新技术企业"))), "{lines:#?}");
    assert!(lines.iter().all(|l| l.get("headcount").is_some() && l.get("uscc").is_some()));

    // Every list exports; a bad filter is a clear error.
    for kind in parkgraph::export::kind_names() {
        let (_, rows) = export(&test.db, kind, OutFormat::Csv, None).await;
        assert!(rows > 0, "{kind}");
    }
    let options = ExportOptions {
        kind: "organizations".into(),
        format: OutFormat::Csv,
        filter: Some("{\"colour\": 1}".into()),
        public: false,
    };
    let err = parkgraph::export::run(test.db.clone(), options, Box::new(std::io::sink())).await.expect_err("refused");
    assert!(err.to_string().contains("colour"), "{err}");
}

/// Runs a query in-process as an administrator (as the export reads) and returns `data`.
async fn as_admin(schema: &parkgraph_api::ParkGraphSchema, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    let admin = parkgraph_api::auth::Caller {
        role: Role::Admin,
        scopes: Role::Admin.allowed_scopes(),
        subject: "test:admin".into(),
        jti: None,
        partner_id: None,
    };
    let response = parkgraph_api::execute_as(schema, request, admin).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    response.data.into_json().expect("data")
}

/// The `databaseId`s of every item of a root list with `filter`, paged through as an
/// administrator.
async fn listed_ids(schema: &parkgraph_api::ParkGraphSchema, root: &str, filter: &Value) -> Vec<String> {
    let query = format!(
        "query($filter: OrganizationFilterInput, $after: String) {{ {root}(filter: $filter, first: 100, after: $after) \
         {{ pageInfo {{ hasNextPage endCursor }} nodes {{ databaseId }} }} }}"
    );
    let (mut ids, mut after) = (Vec::new(), Value::Null);
    loop {
        let data = as_admin(schema, &query, json!({ "filter": filter, "after": after })).await;
        let page = &data[root];
        ids.extend(
            page["nodes"].as_array().expect("nodes").iter().map(|n| n["databaseId"].as_str().expect("id").to_string()),
        );
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// The `id` column of an NDJSON export.
fn exported_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("ndjson")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line")["id"].as_str().expect("an id").to_string())
        .collect()
}

#[tokio::test]
async fn an_export_by_park_with_its_sub_parks_holds_exactly_what_the_list_with_that_filter_holds() {
    let test = TestDb::sample().await;
    let input = scratch().join("firms.csv");
    std::fs::copy(SAMPLE, &input).expect("copy");
    cli_import(&test.db, &input, false, OnError::Skip).await.0.expect("sample imported");
    let schema = test.schema();
    let zone = as_admin(
        &schema,
        r#"{ parks(filter: { nameContains: "中国光谷", topLevel: true }) { nodes { id } } }"#,
        json!({}),
    )
    .await["parks"]["nodes"][0]["id"]
        .as_str()
        .expect("the 光谷 zone")
        .to_string();

    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    for (kind, filter) in [
        ("organizations", json!({ "park": { "parkId": zone } })),
        ("enterprises", json!({ "park": { "parkId": zone } })),
        ("organizations", json!({ "park": { "parkId": zone, "includeSubParks": false } })),
        ("organizations", json!({ "park": { "parkId": zone }, "designations": ["HIGH_TECH_ENTERPRISE"] })),
    ] {
        let listed = sorted(listed_ids(&schema, kind, &filter).await);
        let (path, rows) = export(&test.db, kind, OutFormat::Ndjson, Some(&filter.to_string())).await;
        let exported = exported_ids(&path);
        assert_eq!(exported.len(), rows);
        let mut in_id_order = exported.clone();
        in_id_order.sort_by_key(|id| uuid::Uuid::parse_str(id).expect("a uuid"));
        assert_eq!(exported, in_id_order, "{kind} {filter}: rows come in id order");
        assert_eq!(sorted(exported), listed, "{kind} {filter}");
    }
    // The zone's sub-parks hold firms the zone itself does not, so the scope is resolved.
    let with_sub_parks = listed_ids(&schema, "organizations", &json!({ "park": { "parkId": zone } })).await;
    let zone_only =
        listed_ids(&schema, "organizations", &json!({ "park": { "parkId": zone, "includeSubParks": false } })).await;
    assert!(
        with_sub_parks.len() > zone_only.len() && !zone_only.is_empty(),
        "{} vs {}",
        with_sub_parks.len(),
        zone_only.len()
    );

    // Walked a few ids at a time, the ids are the same.
    let store = parkgraph_persistence::Store::from(test.db.clone());
    let filter = json!({ "park": { "parkId": zone } });
    let (mut walked, mut after) = (Vec::new(), None);
    loop {
        let ids = parkgraph_api::export::organization_ids_for_export(&store, filter.clone(), false, after, 3)
            .await
            .expect("a page of ids");
        walked.extend(ids.iter().map(ToString::to_string));
        match ids.last() {
            Some(last) if ids.len() == 3 => after = Some(*last),
            _ => break,
        }
    }
    assert_eq!(sorted(walked), sorted(with_sub_parks));
}

fn multipart(boundary: &str, query: &str, variables: Value, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let operations = json!({ "query": query, "variables": variables }).to_string();
    let mut body = Vec::new();
    let part = |body: &mut Vec<u8>, head: &str, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{head}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(&mut body, "Content-Disposition: form-data; name=\"operations\"", operations.as_bytes());
    part(&mut body, "Content-Disposition: form-data; name=\"map\"", br#"{"0": ["variables.file"]}"#);
    part(
        &mut body,
        &format!("Content-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\nContent-Type: text/csv"),
        bytes,
    );
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

const IMPORT: &str = "mutation($file: Upload!, $dryRun: Boolean!, $onError: ImportOnError!) {
  importOrganizations(file: $file, dryRun: $dryRun, onError: $onError) {
    dryRun written rows created updated unchanged refused linksAdded
    errors { row column value reason }
    outcomes { row action name organizationId changes { field before after } }
  }
}";

#[tokio::test]
async fn administrators_upload_a_spreadsheet_to_import_organizations_over_http() {
    let test = TestDb::sample().await;
    let (mut config, tokens) =
        common::config_with_tokens(&test, &[(Role::Admin, "admin:zhao"), (Role::Editor, "editor:wang")]).await;
    config.max_body_bytes = 4_096;
    let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
    // A file larger than max_body_bytes: uploads have their own, larger limit.
    let mut sample = std::fs::read(SAMPLE).expect("sample");
    let padding = "\r\n".repeat(3_000);
    sample.extend_from_slice(padding.as_bytes());
    let post = |token: String, variables: Value, csrf: bool| {
        let router = router.clone();
        let body = multipart("XbOuNdArY", IMPORT, variables, "企业名单.csv", &sample);
        async move {
            let mut request = Request::post("/graphql")
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XbOuNdArY")
                .header(header::AUTHORIZATION, format!("Bearer {token}"));
            if csrf {
                request = request.header("x-parkgraph-csrf", "1");
            }
            let response = router.oneshot(request.body(Body::from(body)).expect("request")).await.expect("response");
            let status = response.status();
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
        }
    };
    let (admin, editor) = (tokens[0].clone(), tokens[1].clone());
    let before = counts(&test.db).await;

    let (status, body) = post(admin.clone(), json!({ "file": null, "dryRun": true, "onError": "ABORT" }), false).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "a multipart POST needs the CSRF header: {body:#}");

    let (status, body) = post(editor, json!({ "file": null, "dryRun": true, "onError": "ABORT" }), true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body:#}");

    let (status, body) = post(admin.clone(), json!({ "file": null, "dryRun": true, "onError": "ABORT" }), true).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let payload = &body["data"]["importOrganizations"];
    assert_eq!(
        [&payload["dryRun"], &payload["written"], &payload["created"], &payload["refused"], &payload["linksAdded"]],
        [&json!(true), &json!(false), &json!(4), &json!(3), &json!(11)],
        "{body:#}"
    );
    assert_eq!(
        payload["errors"][0],
        json!({ "row": 6, "column": "成立日期", "value": "2020-02-30", "reason": "no such date: `2020-02-30`" })
    );
    assert_eq!(counts(&test.db).await, before, "the dry run wrote nothing");

    let (_, body) = post(admin, json!({ "file": null, "dryRun": false, "onError": "SKIP" }), true).await;
    let payload = &body["data"]["importOrganizations"];
    assert_eq!([&payload["written"], &payload["created"]], [&json!(true), &json!(4)], "{body:#}");
    let created: Vec<&Value> =
        payload["outcomes"].as_array().expect("outcomes").iter().filter(|o| o["action"] == "CREATE").collect();
    assert!(created.iter().all(|o| o["organizationId"].is_string()));
    let revisions =
        revision::Entity::find().filter(revision::Column::Actor.eq("admin:zhao")).count(&test.db).await.expect("count");
    assert_eq!(revisions, 15, "the token's subject is the actor of every record and link");
}
