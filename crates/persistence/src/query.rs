//! The read queries behind the API: one filter type per record kind, the filtered,
//! ordered lists the [`Store`] runs a window at a time ([`Listing`]), and the park tree.
//! Batch look-ups for the API's data loaders are in [`crate::batch`].
//!
//! # Archived records
//!
//! Records and links carry `archived_at`. Which of them a read sees is its
//! [`Visibility`]: the live registry (the default; what partners and anonymous callers
//! get) or archived records too (staff). The live condition of each record kind is
//! written once, in its [`Live`] implementation, and every list, look-up by id and batch
//! applies it: a live link needs both its ends live, and a designation or a second
//! headquarters needs its organization live, so a live record never leads to a hidden one
//! it cannot do without.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use chrono::NaiveDate;
use parkgraph_domain::{
    DesignationKind, IncubatorKind, IncubatorLevel, InnovationCenterKind, LocationRole, OrganizationKind, ParkKind,
    SecondHqStatus,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, NullOrdering, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement,
};
use sea_orm::{IdenStatic, ModelTrait, Value};
use uuid::Uuid;

use crate::columns::Columns;
use crate::entity::{
    city_designation, designation, enterprise_location, figure, incubation, incubator, innovation_center,
    innovation_center_membership, organization, park, park_designation, second_headquarters,
};
use crate::{Store, StoreError};

/// Which records a read sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Visibility {
    /// The live registry only: no archived record, no ended link, nothing that needs an
    /// archived record (the default, and all partners and anonymous callers see).
    #[default]
    Live,
    /// Archived records and ended links too (staff).
    WithArchived,
}

/// A record kind's condition for being in the live registry, written once per kind.
pub trait Live: EntityTrait {
    /// The condition a live row meets.
    fn live() -> Condition;
}

/// True when `end`, a column of the row of `O` being read, names a live row of `E` (a
/// link's or a dependent record's other end). A correlated `EXISTS` that finds the row by
/// its key: one index probe per row read. (`end IN (SELECT id FROM e WHERE live)` makes
/// SQLite build the set of every live id of `E` for each statement: 100,000 organizations
/// on every page that lists links.)
fn live_end<O: EntityTrait, E: Live>(end: O::Column, id: E::Column) -> SimpleExpr {
    let mut sub = Query::select();
    sub.expr(Expr::val(1))
        .from(E::default())
        .and_where(Expr::col((E::default(), id)).equals((O::default(), end)))
        .cond_where(E::live());
    Expr::exists(sub.to_owned())
}

macro_rules! live_when_not_archived {
    ($($entity:ident),*) => {$(
        impl Live for $entity::Entity {
            fn live() -> Condition {
                Condition::all().add($entity::Column::ArchivedAt.is_null())
            }
        }
    )*};
}

live_when_not_archived!(park, organization, incubator, innovation_center, park_designation, figure, city_designation);

impl Live for designation::Entity {
    /// Not archived, and held by a live organization.
    fn live() -> Condition {
        Condition::all()
            .add(designation::Column::ArchivedAt.is_null())
            .add(live_end::<Self, organization::Entity>(designation::Column::OrganizationId, organization::Column::Id))
    }
}

impl Live for second_headquarters::Entity {
    /// Not archived, and of a live parent group.
    fn live() -> Condition {
        use second_headquarters::Column as C;
        Condition::all()
            .add(C::ArchivedAt.is_null())
            .add(live_end::<Self, organization::Entity>(C::ParentId, organization::Column::Id))
    }
}

impl Live for enterprise_location::Entity {
    /// Not ended, between a live organization and a live park.
    fn live() -> Condition {
        use enterprise_location::Column as C;
        Condition::all()
            .add(C::ArchivedAt.is_null())
            .add(live_end::<Self, organization::Entity>(C::OrganizationId, organization::Column::Id))
            .add(live_end::<Self, park::Entity>(C::ParkId, park::Column::Id))
    }
}

impl Live for incubation::Entity {
    /// Not ended, between a live organization and a live incubator.
    fn live() -> Condition {
        use incubation::Column as C;
        Condition::all()
            .add(C::ArchivedAt.is_null())
            .add(live_end::<Self, organization::Entity>(C::OrganizationId, organization::Column::Id))
            .add(live_end::<Self, incubator::Entity>(C::IncubatorId, incubator::Column::Id))
    }
}

impl Live for innovation_center_membership::Entity {
    /// Not ended, between a live organization and a live innovation center.
    fn live() -> Condition {
        use innovation_center_membership::Column as C;
        Condition::all()
            .add(C::ArchivedAt.is_null())
            .add(live_end::<Self, organization::Entity>(C::OrganizationId, organization::Column::Id))
            .add(live_end::<Self, innovation_center::Entity>(C::InnovationCenterId, innovation_center::Column::Id))
    }
}

/// `E`'s live condition when the read sees the live registry only; nothing otherwise.
pub(crate) fn visible<E: Live>(visibility: Visibility) -> Condition {
    match visibility {
        Visibility::Live => E::live(),
        Visibility::WithArchived => Condition::all(),
    }
}

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

/// The park tree: every park's parent, loaded in one statement (parks number in the
/// thousands at most, so sub-park questions are answered in memory).
#[derive(Debug, Clone, Default)]
pub struct ParkTree {
    children: HashMap<Uuid, Vec<Uuid>>,
    parent: HashMap<Uuid, Uuid>,
}

impl ParkTree {
    /// Loads the tree of the parks `visibility` sees.
    pub async fn load(db: &impl ConnectionTrait, visibility: Visibility) -> Result<Self, StoreError> {
        let pairs: Vec<(Uuid, Option<Uuid>)> = park::Entity::find()
            .filter(visible::<park::Entity>(visibility))
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
    /// Live records only, or archived ones too.
    pub visibility: Visibility,
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
fn parks(filter: &ParkFilter, sort: Sort) -> Select<park::Entity> {
    use park::Column as C;
    let mut cond = visible::<park::Entity>(filter.visibility);
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
    /// Live records only, or archived ones too.
    pub visibility: Visibility,
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
pub(crate) fn organizations(filter: &OrganizationFilter, sort: Sort) -> Select<organization::Entity> {
    use organization::Column as C;
    let mut cond = visible::<organization::Entity>(filter.visibility);
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
    /// Live records only, or archived ones too.
    pub visibility: Visibility,
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
fn incubators(filter: &IncubatorFilter, sort: Sort) -> Select<incubator::Entity> {
    use incubator::Column as C;
    let mut cond = visible::<incubator::Entity>(filter.visibility);
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
    /// Live records only, or archived ones too.
    pub visibility: Visibility,
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
fn innovation_centers(filter: &InnovationCenterFilter, sort: Sort) -> Select<innovation_center::Entity> {
    use innovation_center::Column as C;
    let mut cond = visible::<innovation_center::Entity>(filter.visibility);
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
    /// Live records only, or archived ones too.
    pub visibility: Visibility,
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
pub(crate) fn second_headquarters(filter: &SecondHqFilter, sort: Sort) -> Select<second_headquarters::Entity> {
    use second_headquarters::Column as C;
    let mut cond = visible::<second_headquarters::Entity>(filter.visibility);
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
    /// Live records only, or archived ones too.
    pub visibility: Visibility,
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
fn designations(filter: &DesignationFilter, direction: Direction) -> Select<designation::Entity> {
    use designation::Column as C;
    let mut cond = visible::<designation::Entity>(filter.visibility);
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

/// Conditions on `figure` rows. All given conditions must hold.
#[derive(Debug, Clone, Default)]
pub struct FigureFilter {
    /// Live records only, or archived ones too.
    pub visibility: Visibility,
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
fn figures(filter: &FigureFilter) -> Select<figure::Entity> {
    use figure::Column as C;
    let mut cond = visible::<figure::Entity>(filter.visibility);
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

/// One key of a list's order: a column, its direction, and whether its NULLs sort last
/// (the date keys; the other keys are never NULL).
#[derive(Debug, Clone, Copy)]
struct Key<C> {
    column: C,
    descending: bool,
    nulls_last: bool,
}

impl<C: ColumnTrait> Key<C> {
    fn asc(column: C) -> Self {
        Self { column, descending: false, nulls_last: false }
    }

    fn sorted(column: C, direction: Direction) -> Self {
        Self { column, descending: direction == Direction::Desc, nulls_last: false }
    }

    fn nulls_last(self) -> Self {
        Self { nulls_last: true, ..self }
    }

    /// Rows with `value` in this key that come later in the list's order (`later`), or
    /// earlier; `None` when no row can.
    fn beyond(&self, value: &Value, later: bool) -> Option<Condition> {
        let col = Expr::col((self.column.entity_name(), self.column));
        if !value.is_some() {
            // NULLs sort last: nothing comes after them but other NULLs, every value before.
            return if later { None } else { Some(Condition::all().add(col.is_not_null())) };
        }
        let greater = later != self.descending;
        let compare = if greater { col.clone().gt(value.clone()) } else { col.clone().lt(value.clone()) };
        let mut condition = Condition::any().add(compare);
        if later && self.nulls_last {
            condition = condition.add(col.is_null());
        }
        Some(condition)
    }

    fn equal(&self, value: &Value) -> SimpleExpr {
        let col = Expr::col((self.column.entity_name(), self.column));
        if value.is_some() { col.eq(value.clone()) } else { col.is_null() }
    }

    /// The key's part of the list's order, reversed when reading from the end.
    fn order<E: EntityTrait<Column = C>>(&self, select: Select<E>, backward: bool) -> Select<E> {
        let order = if self.descending != backward { Order::Desc } else { Order::Asc };
        if self.nulls_last {
            let nulls = if backward { NullOrdering::First } else { NullOrdering::Last };
            select.order_by_with_nulls(self.column, order, nulls)
        } else {
            select.order_by(self.column, order)
        }
    }
}

/// The keys of [`ordered`]'s order.
fn sort_keys<C: ColumnTrait>(sort: Sort, name: C, date: C, created: C, id: C) -> Vec<Key<C>> {
    let first = match sort.field {
        SortField::Name => Key::sorted(name, sort.direction),
        SortField::Date => Key::sorted(date, sort.direction).nulls_last(),
        SortField::CreatedAt => Key::sorted(created, sort.direction),
    };
    vec![first, Key::sorted(id, sort.direction)]
}

/// A place in a list: the order keys of one of its rows, as a keyset cursor holds them.
#[derive(Debug, Clone)]
pub struct Position(Vec<Value>);

/// One key value in a cursor: a type tag and the value as text (`n` for NULL).
fn encode_value(value: &Value) -> Option<String> {
    Some(match value {
        v if !v.is_some() => "n".to_owned(),
        Value::String(Some(s)) => format!("s{s}"),
        Value::ChronoDate(Some(d)) => format!("d{d}"),
        Value::ChronoDateTimeUtc(Some(t)) => format!("t{}", t.to_rfc3339()),
        Value::Uuid(Some(u)) => format!("u{u}"),
        Value::Int(Some(n)) => format!("i{n}"),
        Value::BigInt(Some(n)) => format!("l{n}"),
        Value::SmallInt(Some(n)) => format!("h{n}"),
        _ => return None,
    })
}

fn decode_value(text: &str) -> Option<Value> {
    let (tag, rest) = text.split_at_checked(1)?;
    Some(match tag {
        "n" => Value::String(None),
        "s" => Value::String(Some(rest.to_owned())),
        "d" => Value::ChronoDate(Some(rest.parse().ok()?)),
        "t" => {
            Value::ChronoDateTimeUtc(Some(chrono::DateTime::parse_from_rfc3339(rest).ok()?.with_timezone(&chrono::Utc)))
        }
        "u" => Value::Uuid(Some(rest.parse().ok()?)),
        "i" => Value::Int(Some(rest.parse().ok()?)),
        "l" => Value::BigInt(Some(rest.parse().ok()?)),
        "h" => Value::SmallInt(Some(rest.parse().ok()?)),
        _ => return None,
    })
}

/// A filtered, ordered list, read a page at a time by keyset; counted only when asked.
#[derive(Clone)]
pub struct Listing<E: EntityTrait> {
    store: Store,
    select: Select<E>,
    keys: Vec<Key<E::Column>>,
    columns: Columns<E>,
}

impl<E: EntityTrait> Listing<E> {
    /// The list with its pages read with only `columns` (and the columns of its order,
    /// which its cursors hold); see [`Columns`].
    #[must_use]
    pub fn picking(self, columns: Columns<E>) -> Self {
        let columns = self.keys.iter().fold(columns, |columns, key| columns.with(key.column));
        Self { columns, ..self }
    }

    /// What a cursor of this list must name: its keys' columns and directions.
    fn signature(&self) -> String {
        self.keys
            .iter()
            .map(|k| format!("{}{}", k.column.as_str(), if k.descending { '-' } else { '+' }))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Rows strictly after (`later`) or before `position` in the list's order.
    fn beyond(&self, position: &Position, later: bool) -> Condition {
        let mut any = Condition::any();
        let mut terms = 0;
        for (i, key) in self.keys.iter().enumerate() {
            let Some(step) = key.beyond(&position.0[i], later) else { continue };
            let mut all = Condition::all();
            for (earlier, value) in self.keys[..i].iter().zip(&position.0) {
                all = all.add(earlier.equal(value));
            }
            any = any.add(all.add(step));
            terms += 1;
        }
        if terms == 0 { Condition::all().add(Expr::cust("1 = 0")) } else { any }
    }
}

/// What the API pages through: a [`Listing`] of some record kind.
pub trait List: Clone + Send + Sync + 'static {
    /// The records listed.
    type Record: Send + Sync + 'static;
    /// Up to `limit` rows after `after` and before `before` in the list's order (from the
    /// end when `backward`, nearest to `before` first), and one more when it exists.
    fn keyset(
        &self,
        after: Option<&Position>,
        before: Option<&Position>,
        limit: u64,
        backward: bool,
    ) -> impl Future<Output = Result<Vec<Self::Record>, StoreError>> + Send;
    /// A row's place in the list, as cursor text ([`List::position`] reads it back).
    fn cursor(&self, row: &Self::Record) -> String;
    /// The place a cursor's text names; `None` when it is not a cursor of this list (of
    /// another list, or of this one in another order).
    fn position(&self, cursor: &str) -> Option<Position>;
    /// The length of the whole list.
    fn count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The length of the whole list, or the database's estimate of it when that is at
    /// least `exact_below` (see [`CountEstimate`]).
    fn estimate(&self, exact_below: u64) -> impl Future<Output = Result<CountEstimate, StoreError>> + Send;
}

/// A list's length: counted, or the query planner's estimate.
///
/// On PostgreSQL the estimate is the planner's row count for the list's query (`EXPLAIN`,
/// from the statistics `ANALYZE` keeps; nothing is read), and a list estimated at fewer
/// than the threshold is counted exactly, so short lists, whose counts users check by
/// eye, are never approximate. SQLite keeps no such statistics for an arbitrary filter:
/// there the count is always exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountEstimate {
    /// The count or its estimate.
    pub count: u64,
    /// Whether `count` was counted.
    pub exact: bool,
}

/// The planner's estimate of the rows `statement` returns: the top plan node's `Plan Rows`.
async fn planned_rows(conn: &impl ConnectionTrait, statement: Statement) -> Result<u64, StoreError> {
    let explain = Statement { sql: format!("EXPLAIN (FORMAT JSON) {}", statement.sql), ..statement };
    let row =
        conn.query_one_raw(explain).await?.ok_or_else(|| StoreError::Invalid("EXPLAIN returned no plan".into()))?;
    let plan: serde_json::Value = row.try_get_by_index(0)?;
    let rows = plan
        .pointer("/0/Plan/Plan Rows")
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| StoreError::Invalid(format!("EXPLAIN's plan has no row estimate: {plan}")))?;
    Ok(rows.max(0.0).round() as u64)
}

impl<E> List for Listing<E>
where
    E: EntityTrait + Sync,
    E::Model: Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Record = E::Model;

    async fn keyset(
        &self,
        after: Option<&Position>,
        before: Option<&Position>,
        limit: u64,
        backward: bool,
    ) -> Result<Vec<E::Model>, StoreError> {
        let mut select = self.select.clone();
        QueryTrait::query(&mut select).clear_order_by();
        if let Some(after) = after {
            select = select.filter(self.beyond(after, true));
        }
        if let Some(before) = before {
            select = select.filter(self.beyond(before, false));
        }
        for key in &self.keys {
            select = key.order(select, backward);
        }
        Ok(self.columns.project(select).limit(limit + 1).all(self.store.conn()).await?)
    }

    fn cursor(&self, row: &E::Model) -> String {
        let mut parts = vec![serde_json::Value::String(self.signature())];
        for key in &self.keys {
            let text = encode_value(&row.get(key.column)).unwrap_or_else(|| "n".to_owned());
            parts.push(serde_json::Value::String(text));
        }
        serde_json::Value::Array(parts).to_string()
    }

    fn position(&self, cursor: &str) -> Option<Position> {
        let parts: Vec<String> = serde_json::from_str(cursor).ok()?;
        let (signature, values) = parts.split_first()?;
        if *signature != self.signature() || values.len() != self.keys.len() {
            return None;
        }
        values.iter().map(|v| decode_value(v)).collect::<Option<Vec<_>>>().map(Position)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        Ok(self.select.clone().count(self.store.conn()).await?)
    }

    async fn estimate(&self, exact_below: u64) -> Result<CountEstimate, StoreError> {
        let conn = self.store.conn();
        if conn.get_database_backend() == DbBackend::Postgres {
            let mut select = self.select.clone();
            QueryTrait::query(&mut select).clear_order_by();
            let planned = planned_rows(conn, select.build(DbBackend::Postgres)).await?;
            if planned >= exact_below {
                return Ok(CountEstimate { count: planned, exact: false });
            }
        }
        Ok(CountEstimate { count: self.count().await?, exact: true })
    }
}

/// The lists of the read side: one per record kind, each with its filter.
impl Store {
    fn listing<E: EntityTrait>(&self, select: Select<E>, keys: Vec<Key<E::Column>>) -> Listing<E> {
        Listing { store: self.clone(), select, keys, columns: Columns::all() }
    }

    /// Parks, filtered and ordered.
    pub fn parks(&self, filter: &ParkFilter, sort: Sort) -> Listing<park::Entity> {
        self.listing(
            parks(filter, sort),
            sort_keys(
                sort,
                park::Column::NameZh,
                park::Column::EstablishedOn,
                park::Column::CreatedAt,
                park::Column::Id,
            ),
        )
    }

    /// Organizations, filtered and ordered.
    pub fn organizations(&self, filter: &OrganizationFilter, sort: Sort) -> Listing<organization::Entity> {
        {
            use organization::Column as C;
            self.listing(organizations(filter, sort), sort_keys(sort, C::NameZh, C::FoundedOn, C::CreatedAt, C::Id))
        }
    }

    /// The ids of the organizations `filter` selects, in id order, after `after` (from the
    /// first when `None`), at most `limit` of them: a keyset walk over the whole filtered
    /// list (for exports). Each call seeks on the primary key, so a page costs the same
    /// wherever it is in the list, unlike an offset window.
    pub async fn organization_ids(
        &self,
        filter: &OrganizationFilter,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Uuid>, StoreError> {
        use organization::Column as C;
        let mut select = organizations(filter, Sort::default());
        QueryTrait::query(&mut select).clear_order_by();
        if let Some(after) = after {
            select = select.filter(C::Id.gt(after));
        }
        Ok(select
            .order_by(C::Id, Order::Asc)
            .limit(limit)
            .select_only()
            .column(C::Id)
            .into_tuple()
            .all(self.conn())
            .await?)
    }

    /// Incubators, filtered and ordered.
    pub fn incubators(&self, filter: &IncubatorFilter, sort: Sort) -> Listing<incubator::Entity> {
        {
            use incubator::Column as C;
            self.listing(incubators(filter, sort), sort_keys(sort, C::NameZh, C::FoundedOn, C::CreatedAt, C::Id))
        }
    }

    /// Innovation centers, filtered and ordered.
    pub fn innovation_centers(
        &self,
        filter: &InnovationCenterFilter,
        sort: Sort,
    ) -> Listing<innovation_center::Entity> {
        {
            use innovation_center::Column as C;
            self.listing(
                innovation_centers(filter, sort),
                sort_keys(sort, C::NameZh, C::ApprovedOn, C::CreatedAt, C::Id),
            )
        }
    }

    /// Second headquarters, filtered and ordered.
    pub fn second_headquarters(&self, filter: &SecondHqFilter, sort: Sort) -> Listing<second_headquarters::Entity> {
        {
            use second_headquarters::Column as C;
            self.listing(
                second_headquarters(filter, sort),
                sort_keys(sort, C::NameZh, C::AnnouncedOn, C::CreatedAt, C::Id),
            )
        }
    }

    /// Designations, filtered, by year in `direction`, then id.
    pub fn designations(&self, filter: &DesignationFilter, direction: Direction) -> Listing<designation::Entity> {
        {
            use designation::Column as C;
            self.listing(
                designations(filter, direction),
                vec![Key::sorted(C::Year, direction), Key::sorted(C::Id, direction)],
            )
        }
    }

    /// Figures, filtered: by indicator, then newest first (unknown dates last), then id.
    pub fn figures(&self, filter: &FigureFilter) -> Listing<figure::Entity> {
        {
            use figure::Column as C;
            self.listing(
                figures(filter),
                vec![Key::asc(C::Indicator), Key::sorted(C::AsOf, Direction::Desc).nulls_last(), Key::asc(C::Id)],
            )
        }
    }

    /// Designations of a city as a whole, oldest first (unknown dates last).
    pub async fn city_designations(
        &self,
        city: &str,
        visibility: Visibility,
    ) -> Result<Vec<city_designation::Model>, StoreError> {
        use city_designation::Column as C;
        Ok(city_designation::Entity::find()
            .filter(visible::<city_designation::Entity>(visibility))
            .filter(C::City.eq(city))
            .order_by_with_nulls(C::DesignatedOn, Order::Asc, NullOrdering::Last)
            .order_by(C::Id, Order::Asc)
            .all(self.conn())
            .await?)
    }

    /// The tree of the parks `visibility` sees.
    pub async fn park_tree(&self, visibility: Visibility) -> Result<ParkTree, StoreError> {
        ParkTree::load(self.conn(), visibility).await
    }
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
