//! `parkgraph export KIND`: one of the API's root lists, with the API's own filter, as a
//! CSV (UTF-8 with a byte-order mark and Chinese headers, for Excel), an XLSX workbook
//! (typed cells) or NDJSON (English keys, for programs).
//!
//! The rows are read through the GraphQL schema itself, as an operator with every scope:
//! the filter is exactly the list's `filter` argument (the same JSON a frontend sends as
//! the variable), and what is exported is what the API serves. An organizations export
//! has the import's columns, so it re-imports as a no-op.
//!
//! Organizations and enterprises, the long lists, are walked by id: the ids the filter
//! selects a thousand at a time in id order (a seek on the primary key,
//! [`parkgraph_api::export`]), then each hundred of them read with one `nodes` request.
//! So the export takes time in proportion to its rows, and its rows are in id order.
//! The other lists (hundreds of rows at most) are read page by page through the root
//! list, in its default order.

use std::io::Write;

use parkgraph_api::auth::Caller;
use parkgraph_api::error::ApiError;
use parkgraph_api::export::organization_export_filter;
use parkgraph_api::id::{NodeType, encode};
use parkgraph_api::{Limits, ParkGraphSchema};
use parkgraph_bulk::import::{COLUMNS, designation_label};
use parkgraph_bulk::out::{Column, ColumnType, OutFormat, writer};
use parkgraph_bulk::sheet::Cell;
use parkgraph_domain::{DesignationKind, Role};
use parkgraph_persistence::Store;
use parkgraph_persistence::sea_orm::DatabaseConnection;
use serde_json::{Value as Json, json};

use crate::anyhow_free::Failure;

/// Rows per GraphQL page, and ids per `nodes` request (the API's largest of each).
const PAGE: usize = 100;

/// Organization ids read per step of the walk by id.
const ID_PAGE: u64 = 1_000;

/// How the rows of a kind are read.
#[derive(Clone, Copy)]
enum Walk {
    /// Page by page through the root list (offset cursors: for short lists).
    List,
    /// By id: the organizations (only enterprises, when true) the filter selects, then
    /// their nodes.
    OrganizationIds { only_enterprises: bool },
}

/// How a column's value is taken from a node.
#[derive(Clone, Copy)]
enum Take {
    /// A scalar at a dotted path (`nameZh`, `provenance.sourceName`, `park.nameZh`).
    Path(&'static str),
    /// An organization's parks, `name (ROLE)` for roles other than `REGISTERED`.
    Parks,
    /// An organization's designations, `独角兽 2019`.
    Designations,
    /// An organization's incubators, `name (STATUS)` for statuses other than
    /// `INCUBATING`.
    Incubators,
    /// A list of codes joined with `；`.
    Join(&'static str),
}

struct ExportColumn {
    key: &'static str,
    zh: &'static str,
    ty: ColumnType,
    take: Take,
    internal: bool,
}

/// A kind of export: the root list, its filter type, what to select and the columns.
struct Kind {
    name: &'static str,
    root: &'static str,
    filter: &'static str,
    selection: &'static str,
    columns: Vec<ExportColumn>,
    walk: Walk,
}

fn c(key: &'static str, zh: &'static str, ty: ColumnType, take: Take) -> ExportColumn {
    ExportColumn { key, zh, ty, take, internal: false }
}

fn provenance_columns() -> Vec<ExportColumn> {
    vec![
        c("sourceName", "来源", ColumnType::Text, Take::Path("provenance.sourceName")),
        c("sourceUrl", "来源链接", ColumnType::Text, Take::Path("provenance.sourceUrl")),
        c("asOf", "数据日期", ColumnType::Date, Take::Path("provenance.asOfDate.text")),
    ]
}

/// The organization columns: the import format's, in its order.
fn organization_columns() -> Vec<ExportColumn> {
    COLUMNS
        .iter()
        .filter(|column| column.key != "incubationStatus")
        .map(|column| {
            let (ty, take) = match column.key {
                "id" => (ColumnType::Text, Take::Path("databaseId")),
                "name" => (ColumnType::Text, Take::Path("nameZh")),
                "founded" => (ColumnType::Date, Take::Path("foundedDate.text")),
                "registeredCapitalCny" => (ColumnType::Int, Take::Path("registeredCapitalCny")),
                "headcount" => (ColumnType::Int, Take::Path("headcount")),
                "parks" => (ColumnType::Text, Take::Parks),
                "designations" => (ColumnType::Text, Take::Designations),
                "incubators" => (ColumnType::Text, Take::Incubators),
                "sourceName" => (ColumnType::Text, Take::Path("provenance.sourceName")),
                "sourceUrl" => (ColumnType::Text, Take::Path("provenance.sourceUrl")),
                "asOf" => (ColumnType::Date, Take::Path("provenance.asOfDate.text")),
                key => (ColumnType::Text, Take::Path(key)),
            };
            ExportColumn { key: column.key, zh: column.zh, ty, take, internal: column.internal }
        })
        .collect()
}

const ORGANIZATION_SELECTION: &str = "databaseId nameZh nameEn legalName uscc kind status foundedDate { text } industry \
     registeredCapitalCny headcount website city district contactName contactPhone contactEmail staffNotes \
     provenance { sourceName sourceUrl asOfDate { text } } designations { kind year } \
     parks(first: 100) { edges { role node { nameZh } } } \
     incubations(first: 100) { edges { status node { nameZh } } }";

fn kinds() -> Vec<Kind> {
    use ColumnType::{Date, Float, Int, Text};
    let with_provenance = |mut columns: Vec<ExportColumn>| {
        columns.extend(provenance_columns());
        columns
    };
    vec![
        Kind {
            name: "organizations",
            root: "organizations",
            filter: "OrganizationFilterInput",
            selection: ORGANIZATION_SELECTION,
            columns: organization_columns(),
            walk: Walk::OrganizationIds { only_enterprises: false },
        },
        Kind {
            name: "enterprises",
            root: "enterprises",
            filter: "OrganizationFilterInput",
            selection: ORGANIZATION_SELECTION,
            columns: organization_columns(),
            walk: Walk::OrganizationIds { only_enterprises: true },
        },
        Kind {
            name: "parks",
            root: "parks",
            filter: "ParkFilterInput",
            selection: "databaseId nameZh nameEn kind parent { nameZh } city district address \
                        coordinates { latitude longitude } establishedDate { text }",
            columns: with_provenance(vec![
                c("id", "编号", Text, Take::Path("databaseId")),
                c("name", "园区名称", Text, Take::Path("nameZh")),
                c("nameEn", "英文名称", Text, Take::Path("nameEn")),
                c("kind", "园区类型", Text, Take::Path("kind")),
                c("parent", "上级园区", Text, Take::Path("parent.nameZh")),
                c("city", "城市", Text, Take::Path("city")),
                c("district", "区", Text, Take::Path("district")),
                c("address", "地址", Text, Take::Path("address")),
                c("latitude", "纬度", Float, Take::Path("coordinates.latitude")),
                c("longitude", "经度", Float, Take::Path("coordinates.longitude")),
                c("established", "设立日期", Date, Take::Path("establishedDate.text")),
            ]),
            walk: Walk::List,
        },
        Kind {
            name: "incubators",
            root: "incubators",
            filter: "IncubatorFilterInput",
            selection: "databaseId nameZh nameEn kind level park { nameZh } operator { nameZh } foundedDate { text }",
            columns: with_provenance(vec![
                c("id", "编号", Text, Take::Path("databaseId")),
                c("name", "孵化器名称", Text, Take::Path("nameZh")),
                c("nameEn", "英文名称", Text, Take::Path("nameEn")),
                c("kind", "类型", Text, Take::Path("kind")),
                c("level", "级别", Text, Take::Path("level")),
                c("park", "所在园区", Text, Take::Path("park.nameZh")),
                c("operator", "运营机构", Text, Take::Path("operator.nameZh")),
                c("founded", "成立日期", Date, Take::Path("foundedDate.text")),
            ]),
            walk: Walk::List,
        },
        Kind {
            name: "innovationCenters",
            root: "innovationCenters",
            filter: "InnovationCenterFilterInput",
            selection: "databaseId nameZh nameEn kind field ministry approvedDate { text } city hostPark { nameZh }",
            columns: with_provenance(vec![
                c("id", "编号", Text, Take::Path("databaseId")),
                c("name", "创新中心名称", Text, Take::Path("nameZh")),
                c("nameEn", "英文名称", Text, Take::Path("nameEn")),
                c("kind", "类型", Text, Take::Path("kind")),
                c("field", "领域", Text, Take::Path("field")),
                c("ministry", "批准部门", Text, Take::Path("ministry")),
                c("approved", "批准日期", Date, Take::Path("approvedDate.text")),
                c("city", "城市", Text, Take::Path("city")),
                c("hostPark", "所在园区", Text, Take::Path("hostPark.nameZh")),
            ]),
            walk: Walk::List,
        },
        Kind {
            name: "secondHeadquarters",
            root: "secondHeadquarters",
            filter: "SecondHeadquartersFilterInput",
            selection: "databaseId nameZh nameEn parent { nameZh } park { nameZh } localEntity { nameZh } city \
                        announcedDate { text } openedDate { text } plannedInvestmentCny plannedHeadcount functions status staffNotes",
            columns: with_provenance(vec![
                c("id", "编号", Text, Take::Path("databaseId")),
                c("name", "第二总部名称", Text, Take::Path("nameZh")),
                c("nameEn", "英文名称", Text, Take::Path("nameEn")),
                c("parent", "母公司", Text, Take::Path("parent.nameZh")),
                c("park", "所在园区", Text, Take::Path("park.nameZh")),
                c("localEntity", "本地法人", Text, Take::Path("localEntity.nameZh")),
                c("city", "城市", Text, Take::Path("city")),
                c("announced", "宣布日期", Date, Take::Path("announcedDate.text")),
                c("opened", "启用日期", Date, Take::Path("openedDate.text")),
                c("plannedInvestmentCny", "计划投资（元）", Int, Take::Path("plannedInvestmentCny")),
                c("plannedHeadcount", "计划人数", Int, Take::Path("plannedHeadcount")),
                c("functions", "职能", Text, Take::Join("functions")),
                c("status", "状态", Text, Take::Path("status")),
                ExportColumn {
                    key: "staffNotes",
                    zh: "备注",
                    ty: Text,
                    take: Take::Path("staffNotes"),
                    internal: true,
                },
            ]),
            walk: Walk::List,
        },
        Kind {
            name: "figures",
            root: "figures",
            filter: "FigureFilterInput",
            selection: "databaseId indicator nameZh nameEn value unit qualifier text asOf { text } park { nameZh } \
                        organization { nameZh } city",
            columns: with_provenance(vec![
                c("id", "编号", Text, Take::Path("databaseId")),
                c("indicator", "指标代码", Text, Take::Path("indicator")),
                c("name", "指标名称", Text, Take::Path("nameZh")),
                c("nameEn", "英文名称", Text, Take::Path("nameEn")),
                c("value", "数值", Float, Take::Path("value")),
                c("unit", "单位", Text, Take::Path("unit")),
                c("qualifier", "限定", Text, Take::Path("qualifier")),
                c("text", "原文", Text, Take::Path("text")),
                c("date", "日期", Date, Take::Path("asOf.text")),
                c("park", "园区", Text, Take::Path("park.nameZh")),
                c("organization", "企业", Text, Take::Path("organization.nameZh")),
                c("city", "城市", Text, Take::Path("city")),
            ])
            .into_iter()
            // A figure's own date is its `asOf`; the provenance's is the same day.
            .filter(|column| column.key != "asOf")
            .collect(),
            walk: Walk::List,
        },
    ]
}

/// The kinds `parkgraph export` knows, for its help and errors.
pub fn kind_names() -> Vec<&'static str> {
    kinds().iter().map(|k| k.name).collect()
}

/// What `parkgraph export` was asked.
pub struct ExportOptions {
    /// The root list (`organizations`, `parks`, …).
    pub kind: String,
    /// CSV, XLSX or NDJSON.
    pub format: OutFormat,
    /// The list's `filter` argument as JSON.
    pub filter: Option<String>,
    /// Leave out staff-only columns (contacts, notes).
    pub public: bool,
}

/// Writes the export to `out`; returns the number of rows.
pub async fn run(db: DatabaseConnection, options: ExportOptions, out: Box<dyn Write + Send>) -> Result<usize, Failure> {
    let kinds = kinds();
    let kind = kinds.iter().find(|k| k.name.eq_ignore_ascii_case(options.kind.trim())).ok_or_else(|| {
        Failure(format!("`{}` is not an export kind: use one of {}", options.kind, kind_names().join(", ")))
    })?;
    let filter: Json = match &options.filter {
        Some(text) => serde_json::from_str(text).map_err(|e| {
            Failure(format!("--filter is not JSON ({e}): give the list's filter, e.g. '{{\"city\": \"武汉\"}}'"))
        })?,
        None => Json::Null,
    };
    let columns: Vec<&ExportColumn> = kind.columns.iter().filter(|c| !(options.public && c.internal)).collect();
    let mut table = writer(
        options.format,
        columns.iter().map(|c| Column { header: c.zh, ty: c.ty }).collect(),
        columns.iter().map(|c| c.key).collect(),
        out,
    )
    .map_err(|e| Failure(e.to_string()))?;

    // No cost limit: an operator's export pages through everything, nested lists included.
    let limits = Limits { max_complexity: usize::MAX / 4, max_depth: 16, ..Limits::default() };
    let store = Store::from(db);
    let schema = parkgraph_api::schema(store.clone(), limits);
    let mut rows = 0usize;
    let mut write = |nodes: &[Json]| -> Result<(), Failure> {
        for node in nodes {
            let cells: Vec<Cell> = columns.iter().map(|column| cell(node, column)).collect();
            table.row(&cells).map_err(|e| Failure(e.to_string()))?;
            rows += 1;
        }
        Ok(())
    };
    match kind.walk {
        Walk::List => by_list(&schema, kind, &filter, &mut write).await?,
        Walk::OrganizationIds { only_enterprises } => {
            by_id(&schema, &store, kind, filter, only_enterprises, &mut write).await?
        }
    }
    table.finish().map_err(|e| Failure(e.to_string()))?;
    Ok(rows)
}

/// Reads a root list page by page (its cursors are offsets: for short lists).
async fn by_list(
    schema: &ParkGraphSchema,
    kind: &Kind,
    filter: &Json,
    write: &mut impl FnMut(&[Json]) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let query = format!(
        "query Export($filter: {filter_type}, $after: String) {{ list: {root}(filter: $filter, first: {PAGE}, after: $after) \
         {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}",
        filter_type = kind.filter,
        root = kind.root,
        selection = kind.selection,
    );
    let mut after: Option<String> = None;
    loop {
        let data = request(schema, &query, json!({ "filter": filter, "after": after })).await?;
        let page = &data["list"];
        write(page["nodes"].as_array().map(Vec::as_slice).unwrap_or_default())?;
        match (page["pageInfo"]["hasNextPage"].as_bool(), page["pageInfo"]["endCursor"].as_str()) {
            (Some(true), Some(cursor)) => after = Some(cursor.to_string()),
            _ => return Ok(()),
        }
    }
}

/// Walks the ids of the organizations the filter selects, in id order, and reads each
/// hundred with one `nodes` request: every step costs the same, wherever it is in the list.
async fn by_id(
    schema: &ParkGraphSchema,
    store: &Store,
    kind: &Kind,
    filter: Json,
    only_enterprises: bool,
    write: &mut impl FnMut(&[Json]) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let filter = organization_export_filter(store, filter, only_enterprises).await.map_err(|e| {
        Failure(format!(
            "the export's filter was refused: {}",
            match e {
                ApiError::Internal(cause) | ApiError::Unavailable(cause) => cause,
                other => other.to_string(),
            }
        ))
    })?;
    let query = format!(
        "query Export($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Organization {{ {selection} }} }} }}",
        selection = kind.selection,
    );
    let mut after = None;
    loop {
        let ids = store.organization_ids(&filter, after, ID_PAGE).await?;
        for batch in ids.chunks(PAGE) {
            let global: Vec<String> = batch.iter().map(|id| encode(NodeType::Organization, *id).0).collect();
            let data = request(schema, &query, json!({ "ids": global })).await?;
            // A record deleted since its id was read is `null`: left out.
            let nodes: Vec<Json> = data["nodes"]
                .as_array()
                .map(|nodes| nodes.iter().filter(|node| !node.is_null()).cloned().collect())
                .unwrap_or_default();
            write(&nodes)?;
        }
        match ids.last() {
            Some(last) if ids.len() as u64 == ID_PAGE => after = Some(*last),
            _ => return Ok(()),
        }
    }
}

/// Runs one request as an operator; its `data`.
async fn request(schema: &ParkGraphSchema, query: &str, variables: Json) -> Result<Json, Failure> {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    let operator = Caller {
        role: Role::Admin,
        scopes: Role::Admin.allowed_scopes(),
        subject: "cli:export".into(),
        jti: None,
        partner_id: None,
    };
    let response = parkgraph_api::execute_as(schema, request, operator).await;
    if let Some(error) = response.errors.first() {
        return Err(Failure(format!("the export's query was refused: {}", error.message)));
    }
    response.data.into_json().map_err(|e| Failure(format!("the export's page as JSON: {e}")))
}

/// A node's value for a column.
fn cell(node: &Json, column: &ExportColumn) -> Cell {
    match column.take {
        Take::Path(path) => {
            let value = path.split('.').fold(node, |value, key| &value[key]);
            typed(value, column.ty)
        }
        Take::Join(path) => {
            let items: Vec<&str> =
                node[path].as_array().map(|a| a.iter().filter_map(Json::as_str).collect()).unwrap_or_default();
            text(items.join("；"))
        }
        Take::Parks => links(node, "parks", "role", "REGISTERED"),
        Take::Incubators => links(node, "incubations", "status", "INCUBATING"),
        Take::Designations => {
            let items: Vec<String> = node["designations"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|d| {
                            let kind: DesignationKind = d["kind"].as_str()?.parse().ok()?;
                            Some(format!("{} {}", designation_label(kind), d["year"].as_i64()?))
                        })
                        .collect()
                })
                .unwrap_or_default();
            text(items.join("；"))
        }
    }
}

/// `name (QUALIFIER)` items of a nested connection, the qualifier left out when it is the
/// import's default.
fn links(node: &Json, field: &str, qualifier: &str, default: &str) -> Cell {
    let items: Vec<String> = node[field]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|edge| {
                    let name = edge["node"]["nameZh"].as_str()?;
                    Some(match edge[qualifier].as_str() {
                        Some(q) if q != default => format!("{name}（{q}）"),
                        _ => name.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    text(items.join("；"))
}

fn text(s: String) -> Cell {
    if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
}

/// A JSON value as a cell of a column's type: whole numbers as integers, full dates as
/// dates (a year or a month stays text, as the import reads it back).
fn typed(value: &Json, ty: ColumnType) -> Cell {
    match (value, ty) {
        (Json::Null, _) => Cell::Empty,
        (Json::Number(n), ColumnType::Int) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => n
                .as_f64()
                .map(|f| if f.fract() == 0.0 { Cell::Int(f as i64) } else { Cell::Float(f) })
                .unwrap_or(Cell::Empty),
        },
        (Json::Number(n), _) => n.as_f64().map(Cell::Float).unwrap_or(Cell::Empty),
        (Json::String(s), ColumnType::Date) => match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(date) => Cell::Date(date),
            Err(_) => text(s.clone()),
        },
        (Json::String(s), _) => text(s.clone()),
        (Json::Bool(b), _) => Cell::Bool(*b),
        (other, _) => text(other.to_string()),
    }
}
