//! The read queries behind the API: filtered, ordered, paged lists, and batch look-ups
//! by key for the API's data loaders (one statement per batch, never one per row).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use parkgraph_domain::{
    DesignationKind, IncubatorKind, IncubatorLevel, InnovationCenterKind, LocationRole, OrganizationKind, ParkKind,
    SecondHqStatus,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, NullOrdering, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Iterable, Order, PaginatorTrait, PrimaryKeyToColumn,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{
    city_designation, designation, enterprise_location, figure, incubation, incubator, innovation_center,
    innovation_center_membership, organization, park, second_headquarters,
};

/// A window of a list: skip `offset` rows, return at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Rows skipped.
    pub offset: u64,
    /// Rows returned at most.
    pub limit: u64,
}

/// Rows of one window, and whether more rows follow it.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    /// The rows.
    pub rows: Vec<T>,
    /// True when rows exist after the window.
    pub has_more: bool,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Ascending.
    #[default]
    Asc,
    /// Descending.
    Desc,
}

impl Direction {
    fn order(self) -> Order {
        match self {
            Self::Asc => Order::Asc,
            Self::Desc => Order::Desc,
        }
    }
}

/// Fields a list can be ordered by. Every order ends with the id, so pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// Chinese name (the default).
    #[default]
    Name,
    /// The record's main date: founded, established, approved or announced.
    Date,
    /// When the record was created.
    CreatedAt,
}

/// An order: a field and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    /// The field.
    pub field: SortField,
    /// The direction.
    pub direction: Direction,
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern and wraps it in `%…%`.
fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `LOWER(col) LIKE '%needle%' ESCAPE '\'`, the same on SQLite and PostgreSQL.
fn like_ci(column: impl ColumnTrait, needle: &str) -> SimpleExpr {
    let pattern = contains_pattern(needle);
    Expr::expr(Func::lower(Expr::col(column.as_column_ref())))
        .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\'))
}

fn names_contain(zh: impl ColumnTrait, en: impl ColumnTrait, needle: &str) -> Condition {
    Condition::any().add(like_ci(zh, needle)).add(like_ci(en, needle))
}

fn codes<T: Copy>(values: &[T], code: impl Fn(T) -> &'static str) -> Vec<String> {
    values.iter().map(|v| code(*v).to_string()).collect()
}

fn ordered<E: EntityTrait>(
    select: Select<E>,
    sort: Sort,
    name: E::Column,
    date: E::Column,
    created: E::Column,
    id: E::Column,
) -> Select<E> {
    let order = sort.direction.order();
    let select = match sort.field {
        SortField::Name => select.order_by(name, order.clone()),
        SortField::Date => select.order_by_with_nulls(date, order.clone(), NullOrdering::Last),
        SortField::CreatedAt => select.order_by(created, order.clone()),
    };
    select.order_by(id, order)
}

async fn window<E, C>(db: &C, select: Select<E>, window: Window) -> Result<Rows<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut rows = select.offset(window.offset).limit(window.limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > window.limit;
    rows.truncate(window.limit as usize);
    Ok(Rows { rows, has_more })
}

/// Counts the rows a filtered select would return.
pub async fn count<E, C>(db: &C, select: Select<E>) -> Result<u64, StoreError>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    Ok(select.count(db).await?)
}

/// Loads the rows whose `column` is one of `keys`, in one statement.
pub async fn by_keys<E, C>(db: &C, column: E::Column, keys: &[Uuid]) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let unique: Vec<Uuid> = keys.iter().copied().collect::<HashSet<_>>().into_iter().collect();
    let mut select = E::find().filter(column.is_in(unique));
    // In primary-key order: ids are UUID v7, so links come in the order they were recorded.
    for key in E::PrimaryKey::iter() {
        select = select.order_by_asc(key.into_column());
    }
    Ok(select.all(db).await?)
}

/// The park tree: every park's parent, loaded in one statement (parks number in the
/// thousands at most, so sub-park questions are answered in memory).
#[derive(Debug, Clone, Default)]
pub struct ParkTree {
    children: HashMap<Uuid, Vec<Uuid>>,
    parent: HashMap<Uuid, Uuid>,
}

impl ParkTree {
    /// Loads the tree.
    pub async fn load(db: &impl ConnectionTrait) -> Result<Self, StoreError> {
        let pairs: Vec<(Uuid, Option<Uuid>)> = park::Entity::find()
            .select_only()
            .column(park::Column::Id)
            .column(park::Column::ParentId)
            .into_tuple()
            .all(db)
            .await?;
        let mut tree = Self::default();
        for (id, parent) in pairs {
            if let Some(parent) = parent {
                tree.children.entry(parent).or_default().push(id);
                tree.parent.insert(id, parent);
            }
        }
        Ok(tree)
    }

    /// The park and all its descendants (each once, even if the data had a cycle).
    pub fn subtree(&self, root: Uuid) -> Vec<Uuid> {
        let mut seen = HashSet::from([root]);
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            if let Some(children) = self.children.get(&out[i]) {
                for child in children {
                    if seen.insert(*child) {
                        out.push(*child);
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// The park's ancestors, nearest first.
    pub fn ancestors(&self, id: Uuid) -> Vec<Uuid> {
        let mut out = Vec::new();
        let mut seen = HashSet::from([id]);
        let mut current = id;
        while let Some(parent) = self.parent.get(&current) {
            if !seen.insert(*parent) {
                break;
            }
            out.push(*parent);
            current = *parent;
        }
        out
    }
}

/// Filter of the park list.
#[derive(Debug, Clone, Default)]
pub struct ParkFilter {
    /// Any of these kinds.
    pub kinds: Vec<ParkKind>,
    /// Only these parks (for example a subtree).
    pub ids: Option<Vec<Uuid>>,
    /// Direct children of this park; `Some(None)` for top-level parks.
    pub parent: Option<Option<Uuid>>,
    /// City, exactly.
    pub city: Option<String>,
    /// District, exactly.
    pub district: Option<String>,
    /// Chinese or English name contains (case-insensitive).
    pub name_contains: Option<String>,
}

/// The filtered, ordered park select.
pub fn parks(filter: &ParkFilter, sort: Sort) -> Select<park::Entity> {
    use park::Column as C;
    let mut cond = Condition::all();
    if !filter.kinds.is_empty() {
        cond = cond.add(C::Kind.is_in(codes(&filter.kinds, ParkKind::code)));
    }
    if let Some(ids) = &filter.ids {
        cond = cond.add(C::Id.is_in(ids.clone()));
    }
    match filter.parent {
        Some(Some(parent)) => cond = cond.add(C::ParentId.eq(parent)),
        Some(None) => cond = cond.add(C::ParentId.is_null()),
        None => {}
    }
    if let Some(city) = &filter.city {
        cond = cond.add(C::City.eq(city.clone()));
    }
    if let Some(district) = &filter.district {
        cond = cond.add(C::District.eq(district.clone()));
    }
    if let Some(needle) = &filter.name_contains {
        cond = cond.add(names_contain(C::NameZh, C::NameEn, needle));
    }
    ordered(park::Entity::find().filter(cond), sort, C::NameZh, C::EstablishedOn, C::CreatedAt, C::Id)
}

/// Filter of the organization list.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    /// Any of these kinds.
    pub kinds: Vec<OrganizationKind>,
    /// Industry, exactly (uses the index).
    pub industry: Option<String>,
    /// Industry contains this text, case-insensitive (scans).
    pub industry_contains: Option<String>,
    /// Holding a designation of any of these kinds …
    pub designations: Vec<DesignationKind>,
    /// … awarded in this year.
    pub designation_year: Option<i32>,
    /// Located in any of these parks …
    pub park_ids: Option<Vec<Uuid>>,
    /// … in this role.
    pub location_role: Option<LocationRole>,
    /// Member of this innovation center.
    pub innovation_center: Option<Uuid>,
    /// Incubated by this incubator.
    pub incubator: Option<Uuid>,
    /// City, exactly.
    pub city: Option<String>,
    /// Founded on or after.
    pub founded_from: Option<NaiveDate>,
    /// Founded on or before.
    pub founded_to: Option<NaiveDate>,
    /// Chinese or English name contains (case-insensitive).
    pub name_contains: Option<String>,
    /// Unified Social Credit Code, exactly.
    pub uscc: Option<String>,
}

/// The filtered, ordered organization select.
pub fn organizations(filter: &OrganizationFilter, sort: Sort) -> Select<organization::Entity> {
    use organization::Column as C;
    let mut cond = Condition::all();
    if !filter.kinds.is_empty() {
        cond = cond.add(C::Kind.is_in(codes(&filter.kinds, OrganizationKind::code)));
    }
    if let Some(industry) = &filter.industry {
        cond = cond.add(C::Industry.eq(industry.clone()));
    }
    if let Some(industry) = &filter.industry_contains {
        cond = cond.add(like_ci(C::Industry, industry));
    }
    if !filter.designations.is_empty() || filter.designation_year.is_some() {
        let mut sub = Query::select();
        sub.column(designation::Column::OrganizationId).from(designation::Entity);
        if !filter.designations.is_empty() {
            sub.and_where(designation::Column::Kind.is_in(codes(&filter.designations, DesignationKind::code)));
        }
        if let Some(year) = filter.designation_year {
            sub.and_where(designation::Column::Year.eq(year));
        }
        cond = cond.add(C::Id.in_subquery(sub.to_owned()));
    }
    if let Some(parks) = &filter.park_ids {
        let mut sub = Query::select();
        sub.column(enterprise_location::Column::OrganizationId)
            .from(enterprise_location::Entity)
            .and_where(enterprise_location::Column::ParkId.is_in(parks.clone()));
        if let Some(role) = filter.location_role {
            sub.and_where(enterprise_location::Column::Role.eq(role.code()));
        }
        cond = cond.add(C::Id.in_subquery(sub.to_owned()));
    }
    if let Some(center) = filter.innovation_center {
        let sub = Query::select()
            .column(innovation_center_membership::Column::OrganizationId)
            .from(innovation_center_membership::Entity)
            .and_where(innovation_center_membership::Column::InnovationCenterId.eq(center))
            .to_owned();
        cond = cond.add(C::Id.in_subquery(sub));
    }
    if let Some(incubator) = filter.incubator {
        let sub = Query::select()
            .column(incubation::Column::OrganizationId)
            .from(incubation::Entity)
            .and_where(incubation::Column::IncubatorId.eq(incubator))
            .to_owned();
        cond = cond.add(C::Id.in_subquery(sub));
    }
    if let Some(city) = &filter.city {
        cond = cond.add(C::City.eq(city.clone()));
    }
    if let Some(from) = filter.founded_from {
        cond = cond.add(C::FoundedOn.gte(from));
    }
    if let Some(to) = filter.founded_to {
        cond = cond.add(C::FoundedOn.lte(to));
    }
    if let Some(needle) = &filter.name_contains {
        cond = cond.add(names_contain(C::NameZh, C::NameEn, needle));
    }
    if let Some(uscc) = &filter.uscc {
        cond = cond.add(C::Uscc.eq(uscc.trim().to_uppercase()));
    }
    ordered(organization::Entity::find().filter(cond), sort, C::NameZh, C::FoundedOn, C::CreatedAt, C::Id)
}

/// Filter of the incubator list.
#[derive(Debug, Clone, Default)]
pub struct IncubatorFilter {
    /// Any of these kinds.
    pub kinds: Vec<IncubatorKind>,
    /// Any of these levels.
    pub levels: Vec<IncubatorLevel>,
    /// In any of these parks.
    pub park_ids: Option<Vec<Uuid>>,
    /// Operated by this organization.
    pub operator: Option<Uuid>,
    /// Chinese or English name contains.
    pub name_contains: Option<String>,
}

/// The filtered, ordered incubator select.
pub fn incubators(filter: &IncubatorFilter, sort: Sort) -> Select<incubator::Entity> {
    use incubator::Column as C;
    let mut cond = Condition::all();
    if !filter.kinds.is_empty() {
        cond = cond.add(C::Kind.is_in(codes(&filter.kinds, IncubatorKind::code)));
    }
    if !filter.levels.is_empty() {
        cond = cond.add(C::Level.is_in(codes(&filter.levels, IncubatorLevel::code)));
    }
    if let Some(parks) = &filter.park_ids {
        cond = cond.add(C::ParkId.is_in(parks.clone()));
    }
    if let Some(operator) = filter.operator {
        cond = cond.add(C::OperatorId.eq(operator));
    }
    if let Some(needle) = &filter.name_contains {
        cond = cond.add(names_contain(C::NameZh, C::NameEn, needle));
    }
    ordered(incubator::Entity::find().filter(cond), sort, C::NameZh, C::FoundedOn, C::CreatedAt, C::Id)
}

/// Filter of the innovation-center list.
#[derive(Debug, Clone, Default)]
pub struct InnovationCenterFilter {
    /// Any of these kinds.
    pub kinds: Vec<InnovationCenterKind>,
    /// City, exactly.
    pub city: Option<String>,
    /// Hosted in any of these parks.
    pub park_ids: Option<Vec<Uuid>>,
    /// Field contains (case-insensitive).
    pub field_contains: Option<String>,
    /// Approved on or after.
    pub approved_from: Option<NaiveDate>,
    /// Approved on or before.
    pub approved_to: Option<NaiveDate>,
    /// Chinese or English name contains.
    pub name_contains: Option<String>,
}

/// The filtered, ordered innovation-center select.
pub fn innovation_centers(filter: &InnovationCenterFilter, sort: Sort) -> Select<innovation_center::Entity> {
    use innovation_center::Column as C;
    let mut cond = Condition::all();
    if !filter.kinds.is_empty() {
        cond = cond.add(C::Kind.is_in(codes(&filter.kinds, InnovationCenterKind::code)));
    }
    if let Some(city) = &filter.city {
        cond = cond.add(C::City.eq(city.clone()));
    }
    if let Some(parks) = &filter.park_ids {
        cond = cond.add(C::HostParkId.is_in(parks.clone()));
    }
    if let Some(field) = &filter.field_contains {
        cond = cond.add(like_ci(C::Field, field));
    }
    if let Some(from) = filter.approved_from {
        cond = cond.add(C::ApprovedOn.gte(from));
    }
    if let Some(to) = filter.approved_to {
        cond = cond.add(C::ApprovedOn.lte(to));
    }
    if let Some(needle) = &filter.name_contains {
        cond = cond.add(names_contain(C::NameZh, C::NameEn, needle));
    }
    ordered(innovation_center::Entity::find().filter(cond), sort, C::NameZh, C::ApprovedOn, C::CreatedAt, C::Id)
}

/// Filter of the second-headquarters list.
#[derive(Debug, Clone, Default)]
pub struct SecondHqFilter {
    /// Any of these statuses.
    pub statuses: Vec<SecondHqStatus>,
    /// Of this parent group.
    pub parent: Option<Uuid>,
    /// In any of these parks.
    pub park_ids: Option<Vec<Uuid>>,
    /// City, exactly.
    pub city: Option<String>,
    /// Announced on or after.
    pub announced_from: Option<NaiveDate>,
    /// Announced on or before.
    pub announced_to: Option<NaiveDate>,
    /// Chinese or English name contains.
    pub name_contains: Option<String>,
}

/// The filtered, ordered second-headquarters select.
pub fn second_headquarters(filter: &SecondHqFilter, sort: Sort) -> Select<second_headquarters::Entity> {
    use second_headquarters::Column as C;
    let mut cond = Condition::all();
    if !filter.statuses.is_empty() {
        cond = cond.add(C::Status.is_in(codes(&filter.statuses, SecondHqStatus::code)));
    }
    if let Some(parent) = filter.parent {
        cond = cond.add(C::ParentId.eq(parent));
    }
    if let Some(parks) = &filter.park_ids {
        cond = cond.add(C::ParkId.is_in(parks.clone()));
    }
    if let Some(city) = &filter.city {
        cond = cond.add(C::City.eq(city.clone()));
    }
    if let Some(from) = filter.announced_from {
        cond = cond.add(C::AnnouncedOn.gte(from));
    }
    if let Some(to) = filter.announced_to {
        cond = cond.add(C::AnnouncedOn.lte(to));
    }
    if let Some(needle) = &filter.name_contains {
        cond = cond.add(names_contain(C::NameZh, C::NameEn, needle));
    }
    ordered(second_headquarters::Entity::find().filter(cond), sort, C::NameZh, C::AnnouncedOn, C::CreatedAt, C::Id)
}

/// Filter of designation lists (the `unicorns` list is this with kind `UNICORN`).
#[derive(Debug, Clone, Default)]
pub struct DesignationFilter {
    /// Any of these kinds.
    pub kinds: Vec<DesignationKind>,
    /// Awarded in this year.
    pub year: Option<i32>,
    /// Held by an enterprise located in any of these parks.
    pub park_ids: Option<Vec<Uuid>>,
    /// Valuation at least, in US dollars.
    pub min_valuation_usd: Option<i64>,
}

/// The filtered designation select, newest year first unless told otherwise.
pub fn designations(filter: &DesignationFilter, direction: Direction) -> Select<designation::Entity> {
    use designation::Column as C;
    let mut cond = Condition::all();
    if !filter.kinds.is_empty() {
        cond = cond.add(C::Kind.is_in(codes(&filter.kinds, DesignationKind::code)));
    }
    if let Some(year) = filter.year {
        cond = cond.add(C::Year.eq(year));
    }
    if let Some(parks) = &filter.park_ids {
        let sub = Query::select()
            .column(enterprise_location::Column::OrganizationId)
            .from(enterprise_location::Entity)
            .and_where(enterprise_location::Column::ParkId.is_in(parks.clone()))
            .to_owned();
        cond = cond.add(C::OrganizationId.in_subquery(sub));
    }
    if let Some(min) = filter.min_valuation_usd {
        cond = cond.add(C::ValuationUsd.gte(min));
    }
    designation::Entity::find().filter(cond).order_by(C::Year, direction.order()).order_by(C::Id, direction.order())
}

/// Runs a select for one window of rows.
/// Conditions on `figure` rows. All given conditions must hold.
#[derive(Debug, Clone, Default)]
pub struct FigureFilter {
    /// About any of these parks.
    pub park_ids: Option<Vec<Uuid>>,
    /// About this city (its parks included unless `city_level_only`).
    pub city: Option<String>,
    /// Only figures about a city as a whole, not about one of its parks.
    pub city_level_only: bool,
    /// Of this indicator.
    pub indicator: Option<String>,
}

/// Figures: by indicator, then newest first (unknown dates last), then id.
pub fn figures(filter: &FigureFilter) -> Select<figure::Entity> {
    use figure::Column as C;
    let mut cond = Condition::all();
    if let Some(parks) = &filter.park_ids {
        cond = cond.add(C::ParkId.is_in(parks.clone()));
    }
    if let Some(city) = &filter.city {
        cond = cond.add(C::City.eq(city.clone()));
    }
    if filter.city_level_only {
        cond = cond.add(C::ParkId.is_null()).add(C::OrganizationId.is_null());
    }
    if let Some(indicator) = &filter.indicator {
        cond = cond.add(C::Indicator.eq(indicator.clone()));
    }
    figure::Entity::find()
        .filter(cond)
        .order_by(C::Indicator, Order::Asc)
        .order_by_with_nulls(C::AsOf, Order::Desc, NullOrdering::Last)
        .order_by(C::Id, Order::Asc)
}

/// Designations of a city, oldest first (unknown dates last).
pub fn city_designations(city: &str) -> Select<city_designation::Entity> {
    use city_designation::Column as C;
    city_designation::Entity::find()
        .filter(C::City.eq(city))
        .order_by_with_nulls(C::DesignatedOn, Order::Asc, NullOrdering::Last)
        .order_by(C::Id, Order::Asc)
}

/// Every row a select returns (for short lists such as a city's designations).
pub async fn all<E, C>(db: &C, select: Select<E>) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    Ok(select.all(db).await?)
}

pub async fn list<E, C>(db: &C, select: Select<E>, win: Window) -> Result<Rows<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    window(db, select, win).await
}

/// Link rows keyed by a parent, grouped by that parent, in the order given.
pub fn group_by<T, K: std::hash::Hash + Eq>(rows: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut out: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern(" Optics "), "%optics%");
    }
}
