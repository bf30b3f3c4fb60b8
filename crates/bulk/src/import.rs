//! The organization import format: which columns a spreadsheet may have (headers in
//! Chinese or English), how their values are written, and how a [`Sheet`] becomes the
//! [`ImportRow`]s of the registry's import use-case.
//!
//! Every column but the name is optional and may come in any order; unknown columns are
//! ignored (and listed in the report). Values are read the way people type them in
//! Chinese spreadsheets: dates as `2019`, `2019-05`, `2019-05-16`, `2019/5/16`,
//! `2019年5月16日` or a date cell; amounts as `1000000`, `1,000,000`, `100万` or
//! `1.5亿`; kinds and statuses by code (`ENTERPRISE`, `ACTIVE`) or Chinese label
//! (企业, 存续); lists (parks, designations, incubators) separated by `；`, `;`, `、` or
//! line breaks, each item optionally followed by its role or status in brackets:
//! `光谷生物城（研发）`, `独角兽 2019`, `光谷创业街孵化器（在孵）`.

use std::collections::HashMap;

use parkgraph_domain::validation::{OrganizationPatch, Patch};
use parkgraph_domain::{
    DesignationKind, IncubationStatus, LocationRole, OrganizationKind, OrganizationStatus, PartialDate,
};
use parkgraph_registry::import::{ImportRow, IncubatorItem, ParkItem, Problem};
use uuid::Uuid;

use crate::sheet::{Cell, Sheet};

/// The longest cell an import reads, in characters: far above any field's own limit (the
/// domain reports those), low enough to refuse a pasted document.
pub const MAX_CELL_CHARS: usize = 4_000;

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Text.
    Text,
    /// A date at any precision.
    Date,
    /// A whole number (an amount in yuan, a headcount).
    Number,
    /// A code or its Chinese label.
    Code,
    /// A list of items.
    List,
    /// A record id.
    Id,
}

/// A column of the import format.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The English header, also the field name in reports and NDJSON.
    pub key: &'static str,
    /// The Chinese header exports write.
    pub zh: &'static str,
    /// Other headers accepted for it (compared without case, spaces, `_` or brackets).
    pub aliases: &'static [&'static str],
    /// What it holds.
    pub value: Value,
    /// Staff-only (contacts, notes).
    pub internal: bool,
}

const fn col(key: &'static str, zh: &'static str, aliases: &'static [&'static str], value: Value) -> Column {
    Column { key, zh, aliases, value, internal: false }
}

const fn internal(key: &'static str, zh: &'static str, aliases: &'static [&'static str], value: Value) -> Column {
    Column { key, zh, aliases, value, internal: true }
}

/// The columns of an organization import (and export), in export order.
pub const COLUMNS: &[Column] = &[
    col("id", "编号", &["记录编号", "parkgraphid", "databaseid"], Value::Id),
    col("name", "企业名称", &["namezh", "名称", "企业名", "公司名称", "机构名称", "单位名称", "企业简称"], Value::Text),
    col("nameEn", "英文名称", &["englishname", "英文名"], Value::Text),
    col("legalName", "工商登记名称", &["法定名称", "登记名称", "企业全称", "公司全称"], Value::Text),
    col("uscc", "统一社会信用代码", &["信用代码", "社会信用代码", "统一代码", "creditcode"], Value::Text),
    col("kind", "机构类型", &["类型", "组织类型", "organizationkind"], Value::Code),
    col("status", "经营状态", &["状态", "登记状态", "企业状态"], Value::Code),
    col("founded", "成立日期", &["foundedon", "foundeddate", "成立时间", "成立年份", "注册日期"], Value::Date),
    col("industry", "行业", &["所属行业", "行业领域", "产业", "产业领域"], Value::Text),
    col("registeredCapitalCny", "注册资本（元）", &["registeredcapital", "注册资本"], Value::Number),
    col("headcount", "员工人数", &["人数", "从业人数", "员工数", "employees"], Value::Number),
    col("website", "网站", &["官网", "网址", "url"], Value::Text),
    col("city", "城市", &["所在城市", "所属城市", "注册城市"], Value::Text),
    col("district", "区", &["所在区", "区县", "所属区", "行政区"], Value::Text),
    col("parks", "所在园区", &["park", "园区", "所属园区", "入驻园区"], Value::List),
    col("designations", "资质认定", &["designation", "认定", "资质", "荣誉资质", "企业资质"], Value::List),
    col("incubators", "孵化器", &["incubator", "所在孵化器", "孵化载体", "孵化机构"], Value::List),
    col("incubationStatus", "孵化状态", &[], Value::Code),
    internal("contactName", "联系人", &["contact"], Value::Text),
    internal("contactPhone", "联系电话", &["phone", "电话", "手机", "联系方式"], Value::Text),
    internal("contactEmail", "电子邮箱", &["email", "邮箱", "联系邮箱"], Value::Text),
    internal("staffNotes", "备注", &["notes", "note"], Value::Text),
    col("sourceName", "来源", &["source", "数据来源", "信息来源"], Value::Text),
    col("sourceUrl", "来源链接", &["来源网址", "sourcelink"], Value::Text),
    col("asOf", "数据日期", &["截至日期", "统计日期", "数据截至"], Value::Date),
];

/// Why a file cannot be imported at all (as opposed to a row that is refused).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    /// No column gives the organization's name (nor its id).
    #[error(
        "the file has no name column (企业名称 or name); its header row (row 1) has: {found}. Every import needs \
         the organizations' Chinese names"
    )]
    NoNameColumn {
        /// The headers found, comma-separated.
        found: String,
    },
    /// Two columns give the same field.
    #[error("columns `{first}` and `{second}` both give the field `{key}`; keep one of them")]
    DuplicateColumn {
        /// The field.
        key: &'static str,
        /// The first header.
        first: String,
        /// The second header.
        second: String,
    },
}

/// A sheet read as an import: its rows, and how its columns were understood.
#[derive(Debug)]
pub struct ImportFile {
    /// The rows, in file order.
    pub rows: Vec<ImportRow>,
    /// Each recognized column: its header as in the file and its field.
    pub columns: Vec<(String, &'static str)>,
    /// Headers not recognized (their cells are not imported).
    pub ignored: Vec<String>,
}

impl ImportFile {
    /// The header the file uses for a field (or the field's English name when the file
    /// has no such column), for the error report.
    pub fn header_of<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns.iter().find(|(_, key)| *key == field).map(|(header, _)| header.as_str()).unwrap_or(field)
    }
}

/// A header compared loosely: no case, no spaces, underscores, dashes or dots, no
/// bracketed unit (`注册资本（元）` reads as `注册资本`), full-width letters made ASCII.
fn loose(header: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in header.chars() {
        let c = fullwidth_to_ascii(c);
        match c {
            '(' | '[' | '【' => depth += 1,
            ')' | ']' | '】' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_whitespace() || matches!(c, '_' | '-' | '.' | '*' | '\u{3000}') => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Full-width ASCII forms (Ａ, １, （) as ASCII.
fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

/// The column a header names.
pub fn column_of(header: &str) -> Option<&'static Column> {
    let wanted = loose(header);
    if wanted.is_empty() {
        return None;
    }
    COLUMNS.iter().find(|c| {
        loose(c.key) == wanted || loose(c.zh) == wanted || c.aliases.iter().any(|alias| loose(alias) == wanted)
    })
}

/// Reads a sheet as an organization import.
pub fn rows_of(sheet: &Sheet) -> Result<ImportFile, FormatError> {
    let mut columns: Vec<(String, &'static str)> = Vec::new();
    let mut at: Vec<Option<&'static Column>> = Vec::new();
    let mut ignored = Vec::new();
    // A capital column in 万元 (ten thousands of yuan) scales its numbers.
    let mut capital_scale = 1i64;
    for header in &sheet.headers {
        match column_of(header) {
            Some(column) => {
                if let Some((first, _)) = columns.iter().find(|(_, key)| *key == column.key) {
                    return Err(FormatError::DuplicateColumn {
                        key: column.key,
                        first: first.clone(),
                        second: header.clone(),
                    });
                }
                if column.key == "registeredCapitalCny" && header.contains('万') {
                    capital_scale = 10_000;
                }
                columns.push((header.clone(), column.key));
                at.push(Some(column));
            }
            None => {
                if !header.trim().is_empty() {
                    ignored.push(header.clone());
                }
                at.push(None);
            }
        }
    }
    if !columns.iter().any(|(_, key)| *key == "name" || *key == "id") {
        return Err(FormatError::NoNameColumn { found: sheet.headers.join(", ") });
    }
    let rows = sheet
        .rows
        .iter()
        .map(|row| {
            let mut reader = RowReader { row: ImportRow { line: row.line, ..ImportRow::default() }, capital_scale };
            let mut default_status = None;
            for (cell, column) in row.cells.iter().zip(&at) {
                let Some(column) = column else { continue };
                if cell.is_empty() {
                    continue;
                }
                if let Some(text) = cell.as_text()
                    && text.chars().count() > MAX_CELL_CHARS
                {
                    let preview: String = text.chars().take(40).collect();
                    reader.problem(
                        column.key,
                        format!("{preview}…"),
                        format!(
                            "the cell holds {} characters; at most {MAX_CELL_CHARS} are read",
                            text.chars().count()
                        ),
                    );
                    continue;
                }
                if column.key == "incubationStatus" {
                    default_status = reader.code(column.key, cell, incubation_status);
                    continue;
                }
                reader.read(column, cell);
            }
            if let Some(status) = default_status {
                for item in &mut reader.row.incubators {
                    if !item.explicit {
                        item.status = status;
                    }
                }
            }
            reader.row
        })
        .collect();
    Ok(ImportFile { rows, columns, ignored })
}

struct RowReader {
    row: ImportRow,
    capital_scale: i64,
}

impl RowReader {
    fn problem(&mut self, field: &str, value: impl Into<String>, reason: impl Into<String>) {
        self.row.problems.push(Problem::new(field, value, reason));
    }

    fn text(&self, cell: &Cell) -> String {
        cell.as_text().map(|t| t.trim().to_string()).unwrap_or_default()
    }

    fn code<T>(&mut self, field: &str, cell: &Cell, parse: fn(&str) -> Result<T, String>) -> Option<T> {
        let text = self.text(cell);
        match parse(&text) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.problem(field, text, reason);
                None
            }
        }
    }

    fn read(&mut self, column: &Column, cell: &Cell) {
        let key = column.key;
        match key {
            "id" => {
                let text = self.text(cell);
                match Uuid::parse_str(&text) {
                    Ok(id) => self.row.id = Some(id),
                    Err(_) => self.problem(
                        key,
                        text,
                        "not a record id (a UUID such as 0190f1e2-…); leave it empty for a new record",
                    ),
                }
            }
            "kind" => {
                if let Some(v) = self.code(key, cell, organization_kind) {
                    self.row.fields.kind = Patch::Set(v);
                }
            }
            "status" => {
                if let Some(v) = self.code(key, cell, organization_status) {
                    self.row.fields.status = Patch::Set(v);
                }
            }
            "founded" | "asOf" => {
                let Some(date) = self.date(key, cell) else { return };
                if key == "founded" {
                    self.row.fields.founded_on = Patch::Set(date);
                } else {
                    self.row.fields.as_of = Patch::Set(date);
                }
            }
            "registeredCapitalCny" => {
                let scale = self.capital_scale;
                if let Some(v) = self.number(key, cell, scale) {
                    self.row.fields.registered_capital_cny = Patch::Set(v);
                }
            }
            "headcount" => {
                if let Some(v) = self.number(key, cell, 1) {
                    match i32::try_from(v) {
                        Ok(v) => self.row.fields.headcount = Patch::Set(v),
                        Err(_) => self.problem(key, v.to_string(), "too large for a headcount"),
                    }
                }
            }
            "parks" => {
                let text = self.text(cell);
                for (name, role) in items(&text) {
                    let role = match role.map(|r| location_role(&r)) {
                        None => LocationRole::Registered,
                        Some(Ok(role)) => role,
                        Some(Err(_)) => {
                            // Brackets that are not a role belong to the park's name.
                            self.row
                                .parks
                                .push(ParkItem { reference: full_item(&text, &name), role: LocationRole::Registered });
                            continue;
                        }
                    };
                    self.row.parks.push(ParkItem { reference: name, role });
                }
            }
            "incubators" => {
                let text = self.text(cell);
                for (name, status) in items(&text) {
                    match status.map(|s| incubation_status(&s)) {
                        None => self.row.incubators.push(IncubatorItem {
                            reference: name,
                            status: IncubationStatus::Incubating,
                            explicit: false,
                        }),
                        Some(Ok(status)) => {
                            self.row.incubators.push(IncubatorItem { reference: name, status, explicit: true })
                        }
                        Some(Err(_)) => self.row.incubators.push(IncubatorItem {
                            reference: full_item(&text, &name),
                            status: IncubationStatus::Incubating,
                            explicit: false,
                        }),
                    }
                }
            }
            "designations" => {
                let text = self.text(cell);
                for item in split_list(&text) {
                    match designation(&item) {
                        Ok(d) => self.row.designations.push(d),
                        Err(reason) => self.problem(key, item, reason),
                    }
                }
            }
            _ => {
                let text = self.text(cell);
                let f = &mut self.row.fields;
                let slot = match key {
                    "name" => {
                        f.name_zh = Patch::Set(text);
                        return;
                    }
                    "nameEn" => &mut f.name_en,
                    "legalName" => &mut f.legal_name,
                    "uscc" => &mut f.uscc,
                    "industry" => &mut f.industry,
                    "website" => &mut f.website,
                    "city" => &mut f.city,
                    "district" => &mut f.district,
                    "contactName" => &mut f.contact_name,
                    "contactPhone" => &mut f.contact_phone,
                    "contactEmail" => &mut f.contact_email,
                    "staffNotes" => &mut f.staff_notes,
                    "sourceName" => &mut f.source_name,
                    "sourceUrl" => &mut f.source_url,
                    _ => return,
                };
                *slot = Patch::Set(text);
            }
        }
    }

    fn date(&mut self, field: &str, cell: &Cell) -> Option<PartialDate> {
        let parsed = match cell {
            Cell::Date(d) => Ok(PartialDate::day(*d)),
            Cell::DateTime(dt) => Ok(PartialDate::day(dt.date())),
            Cell::Int(year) if (1000..=9999).contains(year) => parse_date(&year.to_string()),
            Cell::Float(year) if year.fract() == 0.0 && (1000.0..=9999.0).contains(year) => {
                parse_date(&format!("{year:.0}"))
            }
            other => parse_date(other.as_text().as_deref().unwrap_or_default()),
        };
        match parsed {
            Ok(date) => Some(date),
            Err(reason) => {
                let text = self.text(cell);
                self.problem(field, text, reason);
                None
            }
        }
    }

    fn number(&mut self, field: &str, cell: &Cell, scale: i64) -> Option<i64> {
        let parsed = match cell {
            Cell::Int(v) => v.checked_mul(scale).ok_or_else(|| "too large".to_string()),
            Cell::Float(v) => whole(*v * scale as f64),
            other => parse_amount(other.as_text().as_deref().unwrap_or_default(), scale),
        };
        match parsed {
            Ok(v) => Some(v),
            Err(reason) => {
                let text = self.text(cell);
                self.problem(field, text, reason);
                None
            }
        }
    }
}

/// An item of a list cell as typed (for names with brackets that are not a role).
fn full_item(text: &str, name: &str) -> String {
    split_list(text).into_iter().find(|item| item.starts_with(name)).unwrap_or_else(|| name.to_string())
}

/// The items of a list cell: separated by `；`, `;`, `、`, `|` or line breaks.
fn split_list(text: &str) -> Vec<String> {
    text.split(['；', ';', '、', '|', '\n', '\r'])
        .map(|item| item.trim().to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

/// The items of a list cell with the bracketed suffix of each: `光谷生物城（研发）` is
/// (`光谷生物城`, `研发`).
fn items(text: &str) -> Vec<(String, Option<String>)> {
    split_list(text)
        .into_iter()
        .map(|item| {
            let normalized: String = item.chars().map(fullwidth_to_ascii).collect();
            if let Some(body) = normalized.strip_suffix(')')
                && let Some(open) = body.rfind('(')
            {
                let name = body[..open].trim();
                let suffix = body[open + 1..].trim();
                if !name.is_empty() {
                    // The name as typed (full-width brackets inside it kept).
                    let chars = name.chars().count();
                    let original: String = item.chars().take(chars).collect();
                    return (original.trim().to_string(), Some(suffix.to_string()));
                }
            }
            (item, None)
        })
        .collect()
}

fn whole(v: f64) -> Result<i64, String> {
    if v.fract() != 0.0 || !v.is_finite() || v.abs() > 9.0e18 {
        return Err("not a whole number".into());
    }
    Ok(v as i64)
}

/// An amount as typed: `1000000`, `1,000,000`, `100万`, `1.5亿`, `100万元人民币`, `300人`.
pub fn parse_amount(text: &str, scale: i64) -> Result<i64, String> {
    let mut s: String = text.chars().map(fullwidth_to_ascii).filter(|c| !c.is_whitespace() && *c != ',').collect();
    if let Some(rest) = s.strip_suffix('人') {
        s = rest.to_string();
    }
    // A unit in the cell wins over the column's (`1.2亿` in a 万元 column is 1.2亿 yuan).
    let mut factor = scale as f64;
    let mut explicit_yuan = false;
    for suffix in ["人民币", "元", "RMB", "CNY"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.to_string();
            explicit_yuan = true;
        }
    }
    if let Some(rest) = s.strip_suffix('万') {
        s = rest.to_string();
        factor = 1e4;
    } else if let Some(rest) = s.strip_suffix('亿') {
        s = rest.to_string();
        factor = 1e8;
    } else if explicit_yuan {
        factor = 1.0;
    }
    if s.contains('-') && !s.starts_with('-') || s.contains('~') || s.contains('至') {
        return Err("a range; give one number".into());
    }
    let value: f64 =
        s.parse().map_err(|_| "not a number: write digits, optionally with 万 or 亿 (100万, 1.5亿)".to_string())?;
    whole((value * factor).round()).map_err(|_| "not a number".to_string())
}

/// A date at its precision as typed: `2019`, `2019-05`, `2019-05-16`, `2019/5/16`,
/// `2019.5.16`, `2019年5月16日`, `2019年5月`, `20190516`; a time after the date is
/// ignored.
pub fn parse_date(text: &str) -> Result<PartialDate, String> {
    let text: String = text.chars().map(fullwidth_to_ascii).collect();
    let text = text.trim();
    // A time part (`2019-05-16 00:00:00`) is dropped.
    let date_part = text.split([' ', 'T']).next().unwrap_or_default();
    let groups: Vec<&str> = date_part.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    let bad =
        || format!("not a date: write 2019, 2019-05 or 2019-05-16 (also 2019/5/16 or 2019年5月16日), not `{text}`");
    let only_date_chars = date_part.chars().all(|c| c.is_ascii_digit() || "-/.年月日".contains(c));
    if !only_date_chars {
        return Err(bad());
    }
    let (y, m, d) = match groups.as_slice() {
        [g] if g.len() == 8 => (&g[0..4], Some(&g[4..6]), Some(&g[6..8])),
        [y] => (*y, None, None),
        [y, m] => (*y, Some(*m), None),
        [y, m, d] => (*y, Some(*m), Some(*d)),
        _ => return Err(bad()),
    };
    if y.len() != 4 || m.is_some_and(|m| m.len() > 2) || d.is_some_and(|d| d.len() > 2) {
        return Err(bad());
    }
    let canonical = match (m, d) {
        (None, _) => y.to_string(),
        (Some(m), None) => format!("{y}-{m:0>2}"),
        (Some(m), Some(d)) => format!("{y}-{m:0>2}-{d:0>2}"),
    };
    canonical.parse::<PartialDate>().map_err(|_| format!("no such date: `{text}`"))
}

fn by_label<T: Copy + std::str::FromStr>(text: &str, labels: &[(&str, T)], what: &str) -> Result<T, String> {
    let wanted = text.trim();
    if let Ok(v) = wanted.parse::<T>() {
        return Ok(v);
    }
    let loose_wanted = loose(wanted);
    labels.iter().find(|(label, _)| loose(label) == loose_wanted).map(|(_, v)| *v).ok_or_else(|| {
        format!("not {what}: use one of {}", labels.iter().map(|(l, _)| *l).collect::<Vec<_>>().join(", "))
    })
}

fn organization_kind(text: &str) -> Result<OrganizationKind, String> {
    use OrganizationKind::*;
    by_label(
        text,
        &[
            ("企业", Enterprise),
            ("公司", Enterprise),
            ("高校", University),
            ("大学", University),
            ("高等院校", University),
            ("科研院所", ResearchInstitute),
            ("研究院", ResearchInstitute),
            ("研究所", ResearchInstitute),
            ("政府", Government),
            ("政府机构", Government),
            ("其他", Other),
            ("ENTERPRISE", Enterprise),
            ("UNIVERSITY", University),
            ("RESEARCH_INSTITUTE", ResearchInstitute),
            ("GOVERNMENT", Government),
            ("OTHER", Other),
        ],
        "an organization kind",
    )
}

fn organization_status(text: &str) -> Result<OrganizationStatus, String> {
    use OrganizationStatus::*;
    by_label(
        text,
        &[
            ("存续", Active),
            ("在业", Active),
            ("在营", Active),
            ("开业", Active),
            ("正常", Active),
            ("停业", Inactive),
            ("歇业", Inactive),
            ("注销", Dissolved),
            ("吊销", Dissolved),
            ("被收购", Acquired),
            ("已收购", Acquired),
            ("ACTIVE", Active),
            ("INACTIVE", Inactive),
            ("DISSOLVED", Dissolved),
            ("ACQUIRED", Acquired),
        ],
        "a status",
    )
}

fn location_role(text: &str) -> Result<LocationRole, String> {
    use LocationRole::*;
    by_label(
        text,
        &[
            ("注册地", Registered),
            ("注册", Registered),
            ("经营地", Operating),
            ("经营", Operating),
            ("办公", Operating),
            ("研发", RAndD),
            ("研发中心", RAndD),
            ("工厂", Factory),
            ("生产", Factory),
            ("生产基地", Factory),
            ("REGISTERED", Registered),
            ("OPERATING", Operating),
            ("R_AND_D", RAndD),
            ("FACTORY", Factory),
        ],
        "a location role",
    )
}

fn incubation_status(text: &str) -> Result<IncubationStatus, String> {
    use IncubationStatus::*;
    by_label(
        text,
        &[
            ("在孵", Incubating),
            ("孵化中", Incubating),
            ("毕业", Graduated),
            ("已毕业", Graduated),
            ("退出", Exited),
            ("迁出", Exited),
            ("INCUBATING", Incubating),
            ("GRADUATED", Graduated),
            ("EXITED", Exited),
        ],
        "an incubation status",
    )
}

/// Chinese labels of designation kinds, as exports write them.
pub const DESIGNATION_LABELS: &[(&str, DesignationKind)] = &[
    ("独角兽", DesignationKind::Unicorn),
    ("瞪羚", DesignationKind::Gazelle),
    ("高新技术企业", DesignationKind::HighTechEnterprise),
    ("世界500强", DesignationKind::FortuneGlobal500),
    ("中国500强", DesignationKind::ChinaTop500),
    ("专精特新小巨人", DesignationKind::SpecializedLittleGiant),
    ("其他", DesignationKind::Other),
];

/// The Chinese label of a designation kind.
pub fn designation_label(kind: DesignationKind) -> &'static str {
    DESIGNATION_LABELS.iter().find(|(_, k)| *k == kind).map(|(label, _)| *label).unwrap_or(kind.code())
}

/// A designation as typed: a kind (code or Chinese label) and a four-digit year, in
/// either order: `独角兽 2019`, `UNICORN:2019`, `2019年瞪羚企业`.
fn designation(item: &str) -> Result<(DesignationKind, i32), String> {
    let normalized: String = item.chars().map(fullwidth_to_ascii).collect();
    // The first run of four digits that is not part of "500".
    let mut year = None;
    let bytes = normalized.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 4 {
                year = Some((start, i));
                break;
            }
        } else {
            i += 1;
        }
    }
    let Some((start, end)) = year else {
        return Err("give the designation's year: 独角兽 2019 or UNICORN 2019".into());
    };
    let year: i32 = normalized[start..end].parse().map_err(|_| "not a year".to_string())?;
    let label: String = format!("{}{}", &normalized[..start], &normalized[end..])
        .trim_matches(|c: char| c.is_whitespace() || ":-()年/".contains(c))
        .trim_end_matches("企业")
        .trim_end_matches('"')
        .to_string();
    let label = label.trim_end_matches("年").trim();
    let mut labels: Vec<(&str, DesignationKind)> = DESIGNATION_LABELS.to_vec();
    labels.extend([
        ("独角兽企业", DesignationKind::Unicorn),
        ("瞪羚企业", DesignationKind::Gazelle),
        ("高企", DesignationKind::HighTechEnterprise),
        ("高新技术", DesignationKind::HighTechEnterprise),
        ("财富世界500强", DesignationKind::FortuneGlobal500),
        ("专精特新", DesignationKind::SpecializedLittleGiant),
        ("小巨人", DesignationKind::SpecializedLittleGiant),
        ("专精特新\"小巨人\"", DesignationKind::SpecializedLittleGiant),
    ]);
    let kind = by_label(label, &labels, "a designation kind")?;
    Ok((kind, year))
}

/// A problem row of the error report: row, column header as in the file, value, reason.
pub type ReportLine = (usize, String, String, String);

/// The error report's lines for a report's refused rows, with the file's own headers.
pub fn report_lines(file: &ImportFile, report: &parkgraph_registry::import::ImportReport) -> Vec<ReportLine> {
    report
        .problems()
        .map(|(line, p)| (line, file.header_of(&p.field).to_string(), p.value.clone(), p.reason.clone()))
        .collect()
}

/// Fields of [`COLUMNS`] by key.
pub fn column(key: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.key == key)
}

/// A map from English key to Chinese header (for exports).
pub fn headers_zh() -> HashMap<&'static str, &'static str> {
    COLUMNS.iter().map(|c| (c.key, c.zh)).collect()
}

/// The patch type rows carry, for tests that build rows by hand.
pub type Fields = OrganizationPatch;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_chinese_or_english_with_units_and_full_width_forms() {
        assert_eq!(column_of("企业名称").map(|c| c.key), Some("name"));
        assert_eq!(column_of(" Name ").map(|c| c.key), Some("name"));
        assert_eq!(column_of("注册资本（万元）").map(|c| c.key), Some("registeredCapitalCny"));
        assert_eq!(column_of("registered_capital_cny").map(|c| c.key), Some("registeredCapitalCny"));
        assert_eq!(column_of("ＵＳＣＣ").map(|c| c.key), Some("uscc"));
        assert_eq!(column_of("所在园区").map(|c| c.key), Some("parks"));
        assert!(column_of("favourite colour").is_none());
    }

    #[test]
    fn dates_as_people_type_them() {
        assert_eq!(parse_date("2019").map(|d| d.to_string()), Ok("2019".into()));
        assert_eq!(parse_date("2019-5").map(|d| d.to_string()), Ok("2019-05".into()));
        assert_eq!(parse_date("2019/5/16").map(|d| d.to_string()), Ok("2019-05-16".into()));
        assert_eq!(parse_date("2019年5月16日").map(|d| d.to_string()), Ok("2019-05-16".into()));
        assert_eq!(parse_date("2019年5月").map(|d| d.to_string()), Ok("2019-05".into()));
        assert_eq!(parse_date("20190516").map(|d| d.to_string()), Ok("2019-05-16".into()));
        assert_eq!(parse_date("2019-05-16 00:00:00").map(|d| d.to_string()), Ok("2019-05-16".into()));
        assert!(parse_date("2019-02-30").is_err());
        assert!(parse_date("next spring").is_err());
        assert!(parse_date("16/05/19").is_err());
    }

    #[test]
    fn amounts_with_chinese_units() {
        assert_eq!(parse_amount("1,000,000", 1), Ok(1_000_000));
        assert_eq!(parse_amount("100万", 1), Ok(1_000_000));
        assert_eq!(parse_amount("1.5亿元", 1), Ok(150_000_000));
        assert_eq!(parse_amount("100万元人民币", 1), Ok(1_000_000));
        assert_eq!(parse_amount("250", 10_000), Ok(2_500_000));
        assert_eq!(parse_amount("1.2亿", 10_000), Ok(120_000_000));
        assert_eq!(parse_amount("5000元", 10_000), Ok(5_000));
        assert_eq!(parse_amount("300人", 1), Ok(300));
        assert!(parse_amount("100-499人", 1).is_err());
        assert!(parse_amount("lots", 1).is_err());
    }

    #[test]
    fn lists_with_roles_and_designations() {
        assert_eq!(
            items("光谷生物城（研发）；武汉东湖新技术开发区"),
            vec![("光谷生物城".to_string(), Some("研发".to_string())), ("武汉东湖新技术开发区".to_string(), None)]
        );
        assert_eq!(designation("独角兽 2019"), Ok((DesignationKind::Unicorn, 2019)));
        assert_eq!(designation("UNICORN:2019"), Ok((DesignationKind::Unicorn, 2019)));
        assert_eq!(designation("2020年瞪羚企业"), Ok((DesignationKind::Gazelle, 2020)));
        assert_eq!(designation("世界500强 2018"), Ok((DesignationKind::FortuneGlobal500, 2018)));
        assert!(designation("独角兽").is_err());
        assert!(designation("rising star 2019").is_err());
    }
}

/// Why a file was not imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// Not a spreadsheet.
    #[error(transparent)]
    Sheet(#[from] crate::sheet::SheetError),
    /// A spreadsheet, but not an organization import.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The registry refused or failed.
    #[error(transparent)]
    Command(#[from] parkgraph_registry::CommandError),
}

/// Reads a file and imports it (or, with `dry_run`, plans it): the CLI's and the API's
/// import. Returns how the file was read and the report.
pub async fn run(
    registry: &parkgraph_registry::Registry,
    actor: &parkgraph_registry::Actor,
    bytes: &[u8],
    file_name: Option<&str>,
    dry_run: bool,
    on_error: parkgraph_registry::import::OnError,
    progress: Option<parkgraph_registry::import::Progress>,
) -> Result<(ImportFile, parkgraph_registry::import::ImportReport), ImportFailure> {
    let sheet = crate::sheet::read(bytes, file_name)?;
    let mut file = rows_of(&sheet)?;
    drop(sheet);
    let rows = std::mem::take(&mut file.rows);
    let report = registry.import(actor, rows, dry_run, on_error, progress).await?;
    Ok((file, report))
}
