//! Group-by statistics over filtered sets: one SQL statement per request, the same on
//! SQLite and PostgreSQL (only the year of a date is spelled per backend).
//!
//! # Organizations
//!
//! [`Store::organization_statistics`] groups the organizations an [`OrganizationFilter`]
//! selects (exactly as the organization list applies it, visibility included) by up to
//! [`MAX_DIMENSIONS`] [`OrganizationDimension`]s. Grouping by a park or a designation
//! joins the organization's live locations or designations (as the read's [`Visibility`]
//! sees them), so:
//! - a firm counts once in **each** park it is located in, and once in a "no park" group
//!   (key null) when it is located nowhere;
//! - a firm counts once in each designation kind and year it holds (a unicorn of 2017 and
//!   2018 counts in both years);
//! - when the filter names parks (and a role) or designation kinds (and a year), only the
//!   matching locations and designations form groups: "unicorns per year" groups by the
//!   unicorn designations' years, not by every designation the unicorns hold.
//!
//! Every aggregate is over organizations: a group's `count` counts each organization once,
//! however many of its locations or designations fall in the group, and the registered
//! capital and headcount aggregates take each organization's value once. The valuation of
//! an organization in a group is the highest valuation among its designations in that
//! group (there when a designation dimension or a designation filter is given).
//!
//! Statement shape: an inner `GROUP BY` (keys, organization id) makes one row per
//! organization and group; the outer `GROUP BY` keys aggregates them.
//!
//! # Second headquarters
//!
//! [`Store::second_hq_statistics`] groups the second headquarters a [`SecondHqFilter`]
//! selects by [`SecondHqDimension`]s (one row each, no joins).
//!
//! Both answer at most [`MAX_GROUPS`] groups, ordered by the keys (unknown keys last); more
//! is [`StoreError::Invalid`], which the API reports as `BAD_USER_INPUT`.

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, NullOrdering, Order, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, JoinType, QueryResult, QueryTrait};
use uuid::Uuid;

use crate::entity::{designation, enterprise_location, organization, second_headquarters};
use crate::query::{OrganizationFilter, SecondHqFilter, Sort, Visibility, visible};
use crate::{Store, StoreError};

/// The most groups one request answers.
pub const MAX_GROUPS: u64 = 1_000;

/// The most dimensions one request groups by.
pub const MAX_DIMENSIONS: usize = 3;

/// What organizations can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrganizationDimension {
    /// Each park the organization is located in (its live locations).
    Park,
    /// Industry, as recorded.
    Industry,
    /// Year founded.
    FoundedYear,
    /// Kind of each designation held.
    DesignationKind,
    /// Year of each designation held.
    DesignationYear,
    /// City.
    City,
    /// District.
    District,
    /// Status (`ACTIVE`, `DISSOLVED` …).
    Status,
}

/// What second headquarters can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecondHqDimension {
    /// Year announced (signed).
    AnnouncedYear,
    /// Year opened.
    OpenedYear,
    /// Status (`ANNOUNCED`, `OPERATING` …).
    Status,
    /// The park it is in.
    Park,
    /// Its parent group.
    Parent,
    /// City.
    City,
}

/// One key of a group, of the dimension at the same position in the request. `None` when
/// the records of the group have no value there (no park, unknown year …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupKey {
    /// A record's id (park, parent group).
    Id(Option<Uuid>),
    /// A text or code (industry, city, kind, status).
    Text(Option<String>),
    /// A year.
    Year(Option<i32>),
}

/// Aggregates of one amount over a group's records that have it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Aggregate {
    /// Records with a value (the others are left out of every aggregate).
    pub known: i64,
    /// Sum.
    pub sum: Option<f64>,
    /// Average.
    pub avg: Option<f64>,
    /// Smallest value.
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
}

/// One group of organizations.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationGroup {
    /// The keys, one per dimension, in the order asked.
    pub keys: Vec<GroupKey>,
    /// Organizations in the group (each once).
    pub count: i64,
    /// Registered capital, CNY.
    pub registered_capital_cny: Aggregate,
    /// Headcount.
    pub headcount: Aggregate,
    /// Valuation, US dollars: present when designations were joined (a designation
    /// dimension or a designation filter).
    pub valuation_usd: Option<Aggregate>,
}

/// One group of second headquarters.
#[derive(Debug, Clone, PartialEq)]
pub struct SecondHqGroup {
    /// The keys, one per dimension, in the order asked.
    pub keys: Vec<GroupKey>,
    /// Second headquarters in the group.
    pub count: i64,
    /// Planned investment, CNY.
    pub planned_investment_cny: Aggregate,
    /// Planned headcount.
    pub planned_headcount: Aggregate,
}

/// A custom expression over one argument, written with `$1` for it (sea-query's
/// placeholder is `$1` on PostgreSQL and `?` on SQLite).
fn custom(backend: DbBackend, template: &'static str, argument: SimpleExpr) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_exprs(template, [argument]),
        _ => Expr::cust_with_exprs(template.replace("$1", "?"), [argument]),
    }
}

/// The year of a date column, as an integer, on either backend.
fn year_of(backend: DbBackend, column: impl ColumnTrait) -> SimpleExpr {
    let col = Expr::col(column.as_column_ref());
    match backend {
        DbBackend::Postgres => custom(backend, "CAST(EXTRACT(YEAR FROM $1) AS INTEGER)", col),
        _ => custom(backend, "CAST(strftime('%Y', $1) AS INTEGER)", col),
    }
}

/// `CAST(expr AS DOUBLE PRECISION)`: PostgreSQL sums and averages integers as `numeric`;
/// both backends read a double the same way.
fn double(backend: DbBackend, expr: impl Into<SimpleExpr>) -> SimpleExpr {
    custom(backend, "CAST($1 AS DOUBLE PRECISION)", expr.into())
}

fn check_dimensions<D: Eq + std::hash::Hash + std::fmt::Debug>(dimensions: &[D]) -> Result<(), StoreError> {
    if dimensions.len() > MAX_DIMENSIONS {
        return Err(StoreError::Invalid(format!(
            "`groupBy` has {} dimensions, more than the maximum of {MAX_DIMENSIONS}",
            dimensions.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for dimension in dimensions {
        if !seen.insert(dimension) {
            return Err(StoreError::Invalid(format!("`groupBy` names {dimension:?} twice")));
        }
    }
    Ok(())
}

/// What kind of key a dimension has, to read it back.
#[derive(Clone, Copy)]
enum KeyKind {
    Id,
    Text,
    Year,
}

fn key_name(i: usize) -> Alias {
    Alias::new(format!("k{i}"))
}

/// Adds the outer aggregates of one amount (`name` is the inner column) to `outer`.
fn aggregate_columns(backend: DbBackend, outer: &mut SelectStatement, name: &str) {
    let col = || Expr::col(Alias::new(name));
    outer.expr_as(Func::count(col()), Alias::new(format!("{name}_known")));
    outer.expr_as(double(backend, Func::sum(col())), Alias::new(format!("{name}_sum")));
    outer.expr_as(double(backend, Func::avg(col())), Alias::new(format!("{name}_avg")));
    outer.expr_as(double(backend, Func::min(col())), Alias::new(format!("{name}_min")));
    outer.expr_as(double(backend, Func::max(col())), Alias::new(format!("{name}_max")));
}

fn read_aggregate(row: &QueryResult, name: &str) -> Result<Aggregate, StoreError> {
    Ok(Aggregate {
        known: row.try_get("", &format!("{name}_known"))?,
        sum: row.try_get("", &format!("{name}_sum"))?,
        avg: row.try_get("", &format!("{name}_avg"))?,
        min: row.try_get("", &format!("{name}_min"))?,
        max: row.try_get("", &format!("{name}_max"))?,
    })
}

fn read_keys(row: &QueryResult, kinds: &[KeyKind]) -> Result<Vec<GroupKey>, StoreError> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let name = format!("k{i}");
            Ok(match kind {
                KeyKind::Id => GroupKey::Id(row.try_get("", &name)?),
                KeyKind::Text => GroupKey::Text(row.try_get("", &name)?),
                KeyKind::Year => GroupKey::Year(row.try_get("", &name)?),
            })
        })
        .collect()
}

/// Wraps `inner` (one row per record and group, keys `k0…`) in the outer `GROUP BY` keys,
/// ordered by the keys, limited to one more than [`MAX_GROUPS`].
fn outer_select(backend: DbBackend, inner: SelectStatement, dimensions: usize, amounts: &[&str]) -> SelectStatement {
    let mut outer = SelectStatement::new();
    outer.from_subquery(inner, Alias::new("g"));
    for i in 0..dimensions {
        outer.column(key_name(i));
        outer.group_by_col(key_name(i));
        outer.order_by_with_nulls(key_name(i), Order::Asc, NullOrdering::Last);
    }
    outer.expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"));
    for amount in amounts {
        aggregate_columns(backend, &mut outer, amount);
    }
    outer.limit(MAX_GROUPS + 1);
    outer
}

fn too_many_groups() -> StoreError {
    StoreError::Invalid(format!(
        "the statistics have more than {MAX_GROUPS} groups: narrow the filter or group by fewer dimensions"
    ))
}

impl Store {
    /// Organizations selected by `filter`, grouped by `dimensions` (see the module
    /// documentation for how parks and designations count).
    pub async fn organization_statistics(
        &self,
        filter: &OrganizationFilter,
        dimensions: &[OrganizationDimension],
    ) -> Result<Vec<OrganizationGroup>, StoreError> {
        use OrganizationDimension as D;
        check_dimensions(dimensions)?;
        let backend = self.conn().get_database_backend();
        let visibility: Visibility = filter.visibility;
        let mut inner: SelectStatement = crate::query::organizations(filter, Sort::default()).into_query();
        inner.clear_selects();
        inner.clear_order_by();

        let by_park = dimensions.contains(&D::Park);
        if by_park {
            use enterprise_location::Column as L;
            let mut on = Condition::all()
                .add(Expr::col(L::OrganizationId.as_column_ref()).equals(organization::Column::Id.as_column_ref()))
                .add(visible::<enterprise_location::Entity>(visibility));
            if let Some(parks) = &filter.park_ids {
                on = on.add(L::ParkId.is_in(parks.clone()));
            }
            if let Some(role) = filter.location_role {
                on = on.add(L::Role.eq(role.code()));
            }
            inner.join(JoinType::LeftJoin, enterprise_location::Entity, on);
        }
        let with_designations = dimensions.iter().any(|d| matches!(d, D::DesignationKind | D::DesignationYear))
            || !filter.designations.is_empty()
            || filter.designation_year.is_some();
        if with_designations {
            use designation::Column as G;
            let mut on = Condition::all()
                .add(Expr::col(G::OrganizationId.as_column_ref()).equals(organization::Column::Id.as_column_ref()))
                .add(visible::<designation::Entity>(visibility));
            if !filter.designations.is_empty() {
                let kinds: Vec<String> = filter.designations.iter().map(|k| k.code().to_string()).collect();
                on = on.add(G::Kind.is_in(kinds));
            }
            if let Some(year) = filter.designation_year {
                on = on.add(G::Year.eq(year));
            }
            inner.join(JoinType::LeftJoin, designation::Entity, on);
        }

        let mut kinds = Vec::with_capacity(dimensions.len());
        let mut group = Vec::with_capacity(dimensions.len() + 1);
        for (i, dimension) in dimensions.iter().enumerate() {
            use organization::Column as O;
            let (expr, kind) = match dimension {
                D::Park => (Expr::col(enterprise_location::Column::ParkId.as_column_ref()), KeyKind::Id),
                D::Industry => (Expr::col(O::Industry.as_column_ref()), KeyKind::Text),
                D::FoundedYear => (year_of(backend, O::FoundedOn), KeyKind::Year),
                D::DesignationKind => (Expr::col(designation::Column::Kind.as_column_ref()), KeyKind::Text),
                D::DesignationYear => (Expr::col(designation::Column::Year.as_column_ref()), KeyKind::Year),
                D::City => (Expr::col(O::City.as_column_ref()), KeyKind::Text),
                D::District => (Expr::col(O::District.as_column_ref()), KeyKind::Text),
                D::Status => (Expr::col(O::Status.as_column_ref()), KeyKind::Text),
            };
            inner.expr_as(expr.clone(), key_name(i));
            group.push(expr);
            kinds.push(kind);
        }
        group.push(Expr::col(organization::Column::Id.as_column_ref()));
        inner.add_group_by(group);
        inner.expr_as(Func::max(Expr::col(organization::Column::RegisteredCapitalCny.as_column_ref())), "capital");
        inner.expr_as(Func::max(Expr::col(organization::Column::Headcount.as_column_ref())), "headcount");
        let mut amounts = vec!["capital", "headcount"];
        if with_designations {
            inner.expr_as(Func::max(Expr::col(designation::Column::ValuationUsd.as_column_ref())), "valuation");
            amounts.push("valuation");
        }

        let outer = outer_select(backend, inner, dimensions.len(), &amounts);
        let rows = self.conn().query_all(&outer).await?;
        if rows.len() as u64 > MAX_GROUPS {
            return Err(too_many_groups());
        }
        rows.iter()
            .map(|row| {
                Ok(OrganizationGroup {
                    keys: read_keys(row, &kinds)?,
                    count: row.try_get("", "n")?,
                    registered_capital_cny: read_aggregate(row, "capital")?,
                    headcount: read_aggregate(row, "headcount")?,
                    valuation_usd: if with_designations { Some(read_aggregate(row, "valuation")?) } else { None },
                })
            })
            .collect()
    }

    /// Second headquarters selected by `filter`, grouped by `dimensions`.
    pub async fn second_hq_statistics(
        &self,
        filter: &SecondHqFilter,
        dimensions: &[SecondHqDimension],
    ) -> Result<Vec<SecondHqGroup>, StoreError> {
        use SecondHqDimension as D;
        use second_headquarters::Column as C;
        check_dimensions(dimensions)?;
        let backend = self.conn().get_database_backend();
        let mut inner: SelectStatement = crate::query::second_headquarters(filter, Sort::default()).into_query();
        inner.clear_selects();
        inner.clear_order_by();
        let mut kinds = Vec::with_capacity(dimensions.len());
        for (i, dimension) in dimensions.iter().enumerate() {
            let (expr, kind) = match dimension {
                D::AnnouncedYear => (year_of(backend, C::AnnouncedOn), KeyKind::Year),
                D::OpenedYear => (year_of(backend, C::OpenedOn), KeyKind::Year),
                D::Status => (Expr::col(C::Status.as_column_ref()), KeyKind::Text),
                D::Park => (Expr::col(C::ParkId.as_column_ref()), KeyKind::Id),
                D::Parent => (Expr::col(C::ParentId.as_column_ref()), KeyKind::Id),
                D::City => (Expr::col(C::City.as_column_ref()), KeyKind::Text),
            };
            inner.expr_as(expr, key_name(i));
            kinds.push(kind);
        }
        inner.expr_as(Expr::col(C::PlannedInvestmentCny.as_column_ref()), "investment");
        inner.expr_as(Expr::col(C::PlannedHeadcount.as_column_ref()), "headcount");
        let outer = outer_select(backend, inner, dimensions.len(), &["investment", "headcount"]);
        let rows = self.conn().query_all(&outer).await?;
        if rows.len() as u64 > MAX_GROUPS {
            return Err(too_many_groups());
        }
        rows.iter()
            .map(|row| {
                Ok(SecondHqGroup {
                    keys: read_keys(row, &kinds)?,
                    count: row.try_get("", "n")?,
                    planned_investment_cny: read_aggregate(row, "investment")?,
                    planned_headcount: read_aggregate(row, "headcount")?,
                })
            })
            .collect()
    }
}
