//! The Wuhan sample dataset (`wuhan.json`): real names from public reporting, each record
//! with its source and as-of date, and no invented identifiers (USCCs are left empty).
//!
//! Records refer to each other by key; ids are UUID v7 derived from the keys, so the
//! sample has the same ids on every machine.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain::{
    DatePrecision, DesignationKind, FigureQualifier, IncubationStatus, IncubatorKind, IncubatorLevel,
    InnovationCenterKind, LocationRole, MembershipRole, OrganizationKind, OrganizationStatus, ParkKind, PartialDate,
    SecondHqFunction, SecondHqStatus, Uscc, check_date_order,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde::Deserialize;
use uuid::Uuid;

use super::{SeedReport, create, key_bytes, v7};
use crate::StoreError;
use crate::entity::{
    city_designation, designation, enterprise_location, figure, incubation, incubator, innovation_center,
    innovation_center_membership, organization, park, park_designation, second_headquarters,
};

/// The dataset, compiled into the binary.
pub const WUHAN_JSON: &str = include_str!("wuhan.json");

/// 2019-01-01T00:00:00Z: the time part of the sample's v7 ids.
const EPOCH_MILLIS: u64 = 1_546_300_800_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Dataset {
    sources: HashMap<String, Source>,
    parks: Vec<Park>,
    organizations: Vec<Organization>,
    incubators: Vec<Incubator>,
    second_headquarters: Vec<SecondHq>,
    innovation_centers: Vec<Center>,
    #[serde(default)]
    city_designations: Vec<CityDesignation>,
    #[serde(default)]
    figures: Vec<Figure>,
}

/// A citable publication: every source has a title, a publisher, a date and a URL, except a
/// newspaper article known only in print, which is cited by publisher, day and title.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    /// Title as published.
    pub title: String,
    /// Who published it (a newspaper, an agency, a company).
    pub publisher: String,
    /// Date of publication, at the precision known; null only for an organization's own
    /// undated pages and reference works.
    pub date: Option<PartialDate>,
    /// Where it can be read; null only for a print-only article (`medium: PRINT`).
    pub url: Option<String>,
    /// `WEB` (the default) or `PRINT`: an article whose public web copy is not known.
    #[serde(default)]
    pub medium: Medium,
    /// Where the page is a copy, who first published it.
    #[serde(default)]
    pub original: Option<String>,
}

/// Where a source is read.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Medium {
    /// A web page, at its URL.
    #[default]
    Web,
    /// A newspaper's print edition, cited by publisher, day and title.
    Print,
}

impl Source {
    /// The source's name as records cite it: publisher, date and title.
    pub fn citation(&self) -> String {
        let date = self.date.map(|d| format!(", {d}")).unwrap_or_default();
        let edition = if self.medium == Medium::Print { " (print edition)" } else { "" };
        match &self.original {
            Some(original) => {
                format!("{}{date}:《{}》{edition} (first published by {original})", self.publisher, self.title)
            }
            None => format!("{}{date}:《{}》{edition}", self.publisher, self.title),
        }
    }

    /// A web source has an `http(s)` URL; a print source has none and is dated to the day.
    fn check(&self, key: &str) -> Result<(), StoreError> {
        match (self.medium, &self.url) {
            (Medium::Web, Some(url)) if url.starts_with("https://") || url.starts_with("http://") => Ok(()),
            (Medium::Web, _) => Err(invalid(key, "url", "a web source needs an http(s) address")),
            (Medium::Print, Some(_)) => Err(invalid(key, "url", "a print source has no URL; make it a web source")),
            (Medium::Print, None) if self.date.is_some_and(|d| d.precision() == DatePrecision::Day) => Ok(()),
            (Medium::Print, None) => Err(invalid(key, "date", "a print source is cited by its day of publication")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CityDesignation {
    key: String,
    city: String,
    name_zh: String,
    name_en: Option<String>,
    issuer: Option<String>,
    designated_on: Option<PartialDate>,
    source: String,
    as_of: Option<PartialDate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Figure {
    key: String,
    park: Option<String>,
    city: Option<String>,
    #[serde(default)]
    organization: Option<String>,
    indicator: String,
    name_zh: String,
    name_en: Option<String>,
    value: f64,
    unit: String,
    qualifier: String,
    source: String,
    as_of: Option<PartialDate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Park {
    key: String,
    parent: Option<String>,
    name_zh: String,
    name_en: Option<String>,
    kind: String,
    city: Option<String>,
    district: Option<String>,
    address: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    /// Where the coordinates come from (a key of `sources`); required with coordinates.
    #[serde(default)]
    coordinates_source: Option<String>,
    area_km2: Option<f64>,
    established_on: Option<PartialDate>,
    source: String,
    as_of: Option<PartialDate>,
    #[serde(default)]
    designations: Vec<ParkDesignation>,
}

impl Park {
    /// Coordinates come as a pair on the Earth, with the source they are taken from; or
    /// not at all.
    fn check_coordinates(&self, r: &Resolver<'_>) -> Result<(), StoreError> {
        let k = &self.key;
        match (self.latitude, self.longitude, &self.coordinates_source) {
            (None, None, None) => Ok(()),
            (Some(lat), Some(lon), Some(source)) => {
                r.source(k, source)?;
                if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) {
                    Ok(())
                } else {
                    Err(invalid(k, "latitude", format!("({lat}, {lon}) is not a point on the Earth")))
                }
            }
            (Some(_), Some(_), None) => {
                Err(invalid(k, "coordinatesSource", "coordinates need the source they come from"))
            }
            _ => Err(invalid(k, "latitude", "give both latitude and longitude (and their source), or neither")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ParkDesignation {
    name_zh: String,
    name_en: Option<String>,
    designated_on: Option<PartialDate>,
    source: String,
    as_of: Option<PartialDate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Organization {
    key: String,
    kind: String,
    name_zh: String,
    name_en: Option<String>,
    #[serde(default)]
    legal_name: Option<String>,
    uscc: Option<String>,
    founded_on: Option<PartialDate>,
    industry: Option<String>,
    registered_capital_cny: Option<i64>,
    headcount: Option<i32>,
    website: Option<String>,
    status: String,
    city: Option<String>,
    district: Option<String>,
    source: String,
    as_of: Option<PartialDate>,
    #[serde(default)]
    designations: Vec<Designation>,
    #[serde(default)]
    locations: Vec<Location>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Designation {
    kind: String,
    year: i32,
    valuation_usd: Option<f64>,
    #[serde(default)]
    note: Option<String>,
    source: String,
    as_of: Option<PartialDate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Location {
    park: String,
    role: String,
    since: Option<PartialDate>,
    source: String,
    as_of: Option<PartialDate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Incubator {
    key: String,
    name_zh: String,
    name_en: Option<String>,
    kind: String,
    level: Option<String>,
    park: Option<String>,
    operator: Option<String>,
    founded_on: Option<PartialDate>,
    source: String,
    as_of: Option<PartialDate>,
    #[serde(default)]
    incubatees: Vec<Incubatee>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Incubatee {
    organization: String,
    entered_on: Option<PartialDate>,
    graduated_on: Option<PartialDate>,
    status: String,
    source: String,
    as_of: Option<PartialDate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SecondHq {
    key: String,
    parent: String,
    park: Option<String>,
    city: Option<String>,
    local_entity: Option<String>,
    name_zh: String,
    name_en: Option<String>,
    announced_on: Option<PartialDate>,
    opened_on: Option<PartialDate>,
    planned_investment_cny: Option<f64>,
    planned_headcount: Option<i32>,
    planned_floor_area_m2: Option<f64>,
    #[serde(default)]
    functions: Vec<String>,
    status: String,
    source: String,
    as_of: Option<PartialDate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Center {
    key: String,
    name_zh: String,
    name_en: Option<String>,
    kind: String,
    field: Option<String>,
    ministry: String,
    approved_on: Option<PartialDate>,
    city: Option<String>,
    host_park: Option<String>,
    source: String,
    as_of: Option<PartialDate>,
    #[serde(default)]
    members: Vec<Member>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Member {
    organization: String,
    role: String,
    source: String,
    as_of: Option<PartialDate>,
}

/// Resolves keys to ids and vocabularies to codes, naming the record and field on error.
struct Resolver<'a> {
    sources: &'a HashMap<String, Source>,
    parks: HashMap<&'a str, Uuid>,
    organizations: HashMap<&'a str, Uuid>,
}

impl Resolver<'_> {
    fn source(&self, record: &str, key: &str) -> Result<(Option<String>, Option<String>), StoreError> {
        self.sources
            .get(key)
            .map(|s| (Some(s.citation()), s.url.clone()))
            .ok_or_else(|| invalid(record, "source", format!("no source with key {key:?}")))
    }

    fn park(&self, record: &str, field: &str, key: &str) -> Result<Uuid, StoreError> {
        self.parks.get(key).copied().ok_or_else(|| invalid(record, field, format!("no park with key {key:?}")))
    }

    fn organization(&self, record: &str, field: &str, key: &str) -> Result<Uuid, StoreError> {
        self.organizations
            .get(key)
            .copied()
            .ok_or_else(|| invalid(record, field, format!("no organization with key {key:?}")))
    }
}

fn invalid(record: &str, field: &str, message: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("sample dataset, record {record:?}, field {field}: {message}"))
}

fn code<T>(record: &str, field: &str, value: &str) -> Result<String, StoreError>
where
    T: FromStr + std::fmt::Display,
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map(|v| v.to_string()).map_err(|e| invalid(record, field, e))
}

/// The stored date of a partial date: the first day of its period.
fn first_day(date: Option<PartialDate>) -> Option<NaiveDate> {
    date.map(PartialDate::first_day)
}

/// The stored precision code of a partial date.
fn precision(date: Option<PartialDate>) -> Option<String> {
    date.map(|d| d.precision().code().to_string())
}

fn id(namespace: &str, key: &str) -> Uuid {
    v7(EPOCH_MILLIS, key_bytes(namespace, key))
}

fn dollars(record: &str, field: &str, value: Option<f64>) -> Result<Option<i64>, StoreError> {
    match value {
        None => Ok(None),
        Some(v) if (0.0..9.0e18).contains(&v) => Ok(Some(v.round() as i64)),
        Some(v) => Err(invalid(record, field, format!("{v} is not a valid amount"))),
    }
}

/// Loads the Wuhan sample into an empty database, in one transaction.
pub async fn load(db: &DatabaseConnection) -> Result<SeedReport, StoreError> {
    let dataset: Dataset = serde_json::from_str(WUHAN_JSON)
        .map_err(|e| StoreError::Invalid(format!("sample dataset is not valid: {e}")))?;
    let txn = db.begin().await?;
    super::require_empty(&txn).await?;
    let report = write(&txn, &dataset, super::now()).await?;
    txn.commit().await?;
    super::analyze(db).await?;
    Ok(report)
}

async fn write(db: &impl ConnectionTrait, data: &Dataset, now: DateTime<Utc>) -> Result<SeedReport, StoreError> {
    for (key, source) in &data.sources {
        source.check(key)?;
    }
    let r = Resolver {
        sources: &data.sources,
        parks: data.parks.iter().map(|p| (p.key.as_str(), id("park", &p.key))).collect(),
        organizations: data.organizations.iter().map(|o| (o.key.as_str(), id("organization", &o.key))).collect(),
    };
    let mut report = SeedReport::default();

    // Parks, parents first so the foreign key on parent_id holds at every insert.
    let mut parks = Vec::new();
    let mut park_designations = Vec::new();
    for p in &data.parks {
        let k = &p.key;
        let (source_name, source_url) = r.source(k, &p.source)?;
        p.check_coordinates(&r)?;
        parks.push(park::Model {
            id: r.park(k, "key", k)?,
            parent_id: p.parent.as_deref().map(|parent| r.park(k, "parent", parent)).transpose()?,
            name_zh: p.name_zh.clone(),
            name_en: p.name_en.clone(),
            kind: code::<ParkKind>(k, "kind", &p.kind)?,
            city: p.city.clone(),
            district: p.district.clone(),
            address: p.address.clone(),
            latitude: p.latitude,
            longitude: p.longitude,
            area_km2: p.area_km2,
            established_on: first_day(p.established_on),
            established_on_precision: precision(p.established_on),
            source_name,
            source_url,
            as_of: first_day(p.as_of),
            as_of_precision: precision(p.as_of),
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
        for (i, d) in p.designations.iter().enumerate() {
            let (source_name, source_url) = r.source(k, &d.source)?;
            park_designations.push(park_designation::Model {
                id: id("park_designation", &format!("{k}/{i}")),
                park_id: r.park(k, "key", k)?,
                name_zh: d.name_zh.clone(),
                name_en: d.name_en.clone(),
                designated_on: first_day(d.designated_on),
                designated_on_precision: precision(d.designated_on),
                source_name,
                source_url,
                as_of: first_day(d.as_of),
                as_of_precision: precision(d.as_of),
                created_at: now,
                updated_at: now,
                version: 1,
                archived_at: None,
            });
        }
    }
    let depth = |m: &park::Model| {
        let mut depth = 0;
        let mut current = m.parent_id;
        while let Some(parent) = current {
            depth += 1;
            current = parks.iter().find(|q| q.id == parent).and_then(|q| q.parent_id);
            if depth > parks.len() {
                break;
            }
        }
        depth
    };
    let mut ordered: Vec<(usize, park::Model)> = parks.iter().map(|m| (depth(m), m.clone())).collect();
    ordered.sort_by_key(|(d, _)| *d);
    report.parks = create(db, now, ordered.into_iter().map(|(_, m)| m).collect()).await?;
    report.park_designations = create(db, now, park_designations).await?;

    let mut organizations = Vec::new();
    let mut designations = Vec::new();
    let mut locations = Vec::new();
    for o in &data.organizations {
        let k = &o.key;
        let (source_name, source_url) = r.source(k, &o.source)?;
        let uscc = o
            .uscc
            .as_deref()
            .map(|u| Uscc::parse(u).map(|u| u.to_string()).map_err(|e| invalid(k, "uscc", e)))
            .transpose()?;
        let org_id = r.organization(k, "key", k)?;
        organizations.push(organization::Model {
            id: org_id,
            kind: code::<OrganizationKind>(k, "kind", &o.kind)?,
            name_zh: o.name_zh.clone(),
            name_en: o.name_en.clone(),
            legal_name: o.legal_name.clone(),
            uscc,
            uscc_warning: None,
            founded_on: first_day(o.founded_on),
            founded_on_precision: precision(o.founded_on),
            industry: o.industry.clone(),
            registered_capital_cny: o.registered_capital_cny,
            headcount: o.headcount,
            website: o.website.clone(),
            status: code::<OrganizationStatus>(k, "status", &o.status)?,
            contact_name: None,
            contact_phone: None,
            contact_email: None,
            staff_notes: None,
            city: o.city.clone(),
            district: o.district.clone(),
            source_name,
            source_url,
            as_of: first_day(o.as_of),
            as_of_precision: precision(o.as_of),
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
        for (i, d) in o.designations.iter().enumerate() {
            let (source_name, source_url) = r.source(k, &d.source)?;
            designations.push(designation::Model {
                id: id("designation", &format!("{k}/{i}")),
                organization_id: org_id,
                kind: code::<DesignationKind>(k, "designations.kind", &d.kind)?,
                year: d.year,
                valuation_usd: dollars(k, "designations.valuationUsd", d.valuation_usd)?,
                note: d.note.clone(),
                source_name,
                source_url,
                as_of: first_day(d.as_of),
                as_of_precision: precision(d.as_of),
                created_at: now,
                updated_at: now,
                version: 1,
                archived_at: None,
            });
        }
        for (i, l) in o.locations.iter().enumerate() {
            let (source_name, source_url) = r.source(k, &l.source)?;
            locations.push(enterprise_location::Model {
                id: id("enterprise_location", &format!("{k}/{i}")),
                organization_id: org_id,
                park_id: r.park(k, "locations.park", &l.park)?,
                role: code::<LocationRole>(k, "locations.role", &l.role)?,
                since: first_day(l.since),
                since_precision: precision(l.since),
                source_name,
                source_url,
                as_of: first_day(l.as_of),
                as_of_precision: precision(l.as_of),
                created_at: now,
                updated_at: now,
                version: 1,
                archived_at: None,
            });
        }
    }
    report.organizations = create(db, now, organizations).await?;
    report.designations = create(db, now, designations).await?;
    report.locations = create(db, now, locations).await?;

    let mut incubators = Vec::new();
    let mut incubations = Vec::new();
    for b in &data.incubators {
        let k = &b.key;
        let (source_name, source_url) = r.source(k, &b.source)?;
        let incubator_id = id("incubator", k);
        incubators.push(incubator::Model {
            id: incubator_id,
            name_zh: b.name_zh.clone(),
            name_en: b.name_en.clone(),
            kind: code::<IncubatorKind>(k, "kind", &b.kind)?,
            level: b.level.as_deref().map(|l| code::<IncubatorLevel>(k, "level", l)).transpose()?,
            park_id: b.park.as_deref().map(|p| r.park(k, "park", p)).transpose()?,
            operator_id: b.operator.as_deref().map(|o| r.organization(k, "operator", o)).transpose()?,
            founded_on: first_day(b.founded_on),
            founded_on_precision: precision(b.founded_on),
            source_name,
            source_url,
            as_of: first_day(b.as_of),
            as_of_precision: precision(b.as_of),
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
        for (i, e) in b.incubatees.iter().enumerate() {
            let (source_name, source_url) = r.source(k, &e.source)?;
            check_date_order("enteredOn", first_day(e.entered_on), "graduatedOn", first_day(e.graduated_on))
                .map_err(|err| invalid(k, "incubatees", err))?;
            incubations.push(incubation::Model {
                id: id("incubation", &format!("{k}/{i}")),
                organization_id: r.organization(k, "incubatees.organization", &e.organization)?,
                incubator_id,
                entered_on: first_day(e.entered_on),
                entered_on_precision: precision(e.entered_on),
                graduated_on: first_day(e.graduated_on),
                graduated_on_precision: precision(e.graduated_on),
                status: code::<IncubationStatus>(k, "incubatees.status", &e.status)?,
                source_name,
                source_url,
                as_of: first_day(e.as_of),
                as_of_precision: precision(e.as_of),
                created_at: now,
                updated_at: now,
                version: 1,
                archived_at: None,
            });
        }
    }
    report.incubators = create(db, now, incubators).await?;
    report.incubations = create(db, now, incubations).await?;

    let mut hqs = Vec::new();
    for h in &data.second_headquarters {
        let k = &h.key;
        let (source_name, source_url) = r.source(k, &h.source)?;
        check_date_order("announcedOn", first_day(h.announced_on), "openedOn", first_day(h.opened_on))
            .map_err(|err| invalid(k, "openedOn", err))?;
        let functions = h
            .functions
            .iter()
            .map(|f| code::<SecondHqFunction>(k, "functions", f))
            .collect::<Result<Vec<_>, _>>()?
            .join(",");
        hqs.push(second_headquarters::Model {
            id: id("second_headquarters", k),
            parent_id: r.organization(k, "parent", &h.parent)?,
            park_id: h.park.as_deref().map(|p| r.park(k, "park", p)).transpose()?,
            local_entity_id: h.local_entity.as_deref().map(|o| r.organization(k, "localEntity", o)).transpose()?,
            city: h.city.clone(),
            name_zh: h.name_zh.clone(),
            name_en: h.name_en.clone(),
            announced_on: first_day(h.announced_on),
            announced_on_precision: precision(h.announced_on),
            opened_on: first_day(h.opened_on),
            opened_on_precision: precision(h.opened_on),
            planned_investment_cny: dollars(k, "plannedInvestmentCny", h.planned_investment_cny)?,
            planned_headcount: h.planned_headcount,
            planned_floor_area_m2: h.planned_floor_area_m2,
            functions,
            status: code::<SecondHqStatus>(k, "status", &h.status)?,
            staff_notes: None,
            source_name,
            source_url,
            as_of: first_day(h.as_of),
            as_of_precision: precision(h.as_of),
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
    }
    report.second_headquarters = create(db, now, hqs).await?;

    let mut centers = Vec::new();
    let mut members = Vec::new();
    for c in &data.innovation_centers {
        let k = &c.key;
        let (source_name, source_url) = r.source(k, &c.source)?;
        let center_id = id("innovation_center", k);
        centers.push(innovation_center::Model {
            id: center_id,
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
            kind: code::<InnovationCenterKind>(k, "kind", &c.kind)?,
            field: c.field.clone(),
            ministry: c.ministry.clone(),
            approved_on: first_day(c.approved_on),
            approved_on_precision: precision(c.approved_on),
            city: c.city.clone(),
            host_park_id: c.host_park.as_deref().map(|p| r.park(k, "hostPark", p)).transpose()?,
            source_name,
            source_url,
            as_of: first_day(c.as_of),
            as_of_precision: precision(c.as_of),
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
        for (i, m) in c.members.iter().enumerate() {
            let (source_name, source_url) = r.source(k, &m.source)?;
            members.push(innovation_center_membership::Model {
                id: id("innovation_center_membership", &format!("{k}/{i}")),
                innovation_center_id: center_id,
                organization_id: r.organization(k, "members.organization", &m.organization)?,
                role: code::<MembershipRole>(k, "members.role", &m.role)?,
                joined_on: None,
                joined_on_precision: None,
                source_name,
                source_url,
                as_of: first_day(m.as_of),
                as_of_precision: precision(m.as_of),
                created_at: now,
                updated_at: now,
                version: 1,
                archived_at: None,
            });
        }
    }
    report.innovation_centers = create(db, now, centers).await?;
    report.memberships = create(db, now, members).await?;

    let mut city_designations = Vec::new();
    for d in &data.city_designations {
        let k = &d.key;
        let (source_name, source_url) = r.source(k, &d.source)?;
        city_designations.push(city_designation::Model {
            id: id("city_designation", k),
            city: d.city.clone(),
            name_zh: d.name_zh.clone(),
            name_en: d.name_en.clone(),
            issuer: d.issuer.clone(),
            designated_on: first_day(d.designated_on),
            designated_on_precision: precision(d.designated_on),
            source_name,
            source_url,
            as_of: first_day(d.as_of),
            as_of_precision: precision(d.as_of),
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
    }
    report.city_designations = create(db, now, city_designations).await?;

    let mut figures = Vec::new();
    for f in &data.figures {
        let k = &f.key;
        let (source_name, source_url) = r.source(k, &f.source)?;
        if f.park.is_none() && f.city.is_none() && f.organization.is_none() {
            return Err(invalid(k, "park", "a figure is about a park, a city or an organization"));
        }
        if !f.value.is_finite() {
            return Err(invalid(k, "value", format!("{} is not a number", f.value)));
        }
        figures.push(figure::Model {
            id: id("figure", k),
            park_id: f.park.as_deref().map(|p| r.park(k, "park", p)).transpose()?,
            city: f.city.clone(),
            organization_id: f.organization.as_deref().map(|o| r.organization(k, "organization", o)).transpose()?,
            indicator: f.indicator.clone(),
            name_zh: f.name_zh.clone(),
            name_en: f.name_en.clone(),
            value: f.value,
            unit: f.unit.clone(),
            qualifier: code::<FigureQualifier>(k, "qualifier", &f.qualifier)?,
            source_name,
            source_url,
            as_of: first_day(f.as_of),
            as_of_precision: precision(f.as_of),
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
    }
    report.figures = create(db, now, figures).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(json: serde_json::Value) -> Source {
        serde_json::from_value(json).expect("a source")
    }

    #[test]
    fn a_web_source_needs_an_address_and_a_print_source_a_day_and_no_address() {
        let web =
            serde_json::json!({ "title": "t", "publisher": "p", "date": "2019-05", "url": "https://example.org/a" });
        assert!(source(web.clone()).check("web").is_ok());
        let mut no_url = web.clone();
        no_url["url"] = serde_json::Value::Null;
        assert!(source(no_url).check("web").is_err(), "a web source without an address");
        let mut ftp = web;
        ftp["url"] = "ftp://example.org/a".into();
        assert!(source(ftp).check("web").is_err());

        let print =
            serde_json::json!({ "title": "t", "publisher": "p", "date": "2019-05-16", "url": null, "medium": "PRINT" });
        let cited = source(print.clone());
        assert!(cited.check("print").is_ok());
        assert_eq!(cited.citation(), "p, 2019-05-16:《t》 (print edition)");
        let mut month = print.clone();
        month["date"] = "2019-05".into();
        assert!(source(month).check("print").is_err(), "a print source is dated to the day");
        let mut with_url = print;
        with_url["url"] = "https://example.org/a".into();
        assert!(source(with_url).check("print").is_err(), "a source with an address is a web source");
    }

    #[test]
    fn coordinates_come_in_pairs_on_the_earth_with_their_source() {
        let sources = HashMap::from([(
            "map".to_string(),
            source(serde_json::json!({ "title": "t", "publisher": "p", "date": null, "url": "https://example.org/" })),
        )]);
        let r = Resolver { sources: &sources, parks: HashMap::new(), organizations: HashMap::new() };
        let park = |lat: serde_json::Value, lon: serde_json::Value, src: serde_json::Value| -> Park {
            serde_json::from_value(serde_json::json!({
                "key": "p", "parent": null, "nameZh": "园", "nameEn": null, "kind": "OTHER", "city": null,
                "district": null, "address": null, "latitude": lat, "longitude": lon, "coordinatesSource": src,
                "areaKm2": null, "establishedOn": null, "source": "map", "asOf": null
            }))
            .expect("a park")
        };
        use serde_json::Value::Null;
        let message = |p: Park| p.check_coordinates(&r).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(park(Null, Null, Null).check_coordinates(&r).is_ok());
        assert!(park(30.5.into(), 114.4.into(), "map".into()).check_coordinates(&r).is_ok());
        assert!(message(park(30.5.into(), 114.4.into(), Null)).contains("need the source"));
        assert!(message(park(30.5.into(), Null, "map".into())).contains("both latitude and longitude"));
        assert!(message(park(30.5.into(), 214.4.into(), "map".into())).contains("not a point on the Earth"));
        assert!(message(park(30.5.into(), 114.4.into(), "atlas".into())).contains("no source with key"));
    }
}
