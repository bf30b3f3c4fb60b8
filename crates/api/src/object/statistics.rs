//! `statistics` and `secondHeadquartersStatistics`: group-by aggregates over the same
//! filtered sets the lists show, one SQL statement per request (see
//! [`parkgraph_persistence::stats`] for how parks and designations count).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use parkgraph_domain::Scope;
use parkgraph_persistence::stats::{
    Aggregate as StoredAggregate, GroupKey as StoredKey, OrganizationDimension, SecondHqDimension,
};

use super::{Organization, Park, loaders};
use crate::error::ApiResult;
use crate::id::{NodeType, encode};
use crate::loader::one;

/// What `statistics` groups organizations by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum StatisticsDimension {
    /// Each park the organization is located in: a firm located in several parks counts
    /// once in each; a firm located nowhere is in a group with a null key. With a `park`
    /// filter (or `locationRole`), only the matching locations form groups. Needs
    /// `read:parks`.
    Park,
    /// Industry, as recorded.
    Industry,
    /// Year founded (null when unknown).
    FoundedYear,
    /// Kind of each designation held (a firm counts once per kind). With a `designations`
    /// filter, only those kinds form groups.
    DesignationKind,
    /// Year of each designation held (a unicorn of 2017 and 2018 counts in both years).
    /// With a `designations` or `designationYear` filter, only the matching designations
    /// form groups.
    DesignationYear,
    /// City.
    City,
    /// District.
    District,
    /// Status (`ACTIVE`, `DISSOLVED` …).
    Status,
}

impl StatisticsDimension {
    fn stored(self) -> OrganizationDimension {
        match self {
            Self::Park => OrganizationDimension::Park,
            Self::Industry => OrganizationDimension::Industry,
            Self::FoundedYear => OrganizationDimension::FoundedYear,
            Self::DesignationKind => OrganizationDimension::DesignationKind,
            Self::DesignationYear => OrganizationDimension::DesignationYear,
            Self::City => OrganizationDimension::City,
            Self::District => OrganizationDimension::District,
            Self::Status => OrganizationDimension::Status,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Park => "PARK",
            Self::Industry => "INDUSTRY",
            Self::FoundedYear => "FOUNDED_YEAR",
            Self::DesignationKind => "DESIGNATION_KIND",
            Self::DesignationYear => "DESIGNATION_YEAR",
            Self::City => "CITY",
            Self::District => "DISTRICT",
            Self::Status => "STATUS",
        }
    }
}

/// What `secondHeadquartersStatistics` groups second headquarters by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SecondHeadquartersDimension {
    /// Year announced or signed (null when unknown).
    AnnouncedYear,
    /// Year opened (null when unknown or not yet open).
    OpenedYear,
    /// Status (`ANNOUNCED`, `OPERATING` …).
    Status,
    /// The park it is in (null when none is recorded). Needs `read:parks`.
    Park,
    /// Its parent group. Needs `read:organizations`.
    Parent,
    /// City.
    City,
}

impl SecondHeadquartersDimension {
    fn stored(self) -> SecondHqDimension {
        match self {
            Self::AnnouncedYear => SecondHqDimension::AnnouncedYear,
            Self::OpenedYear => SecondHqDimension::OpenedYear,
            Self::Status => SecondHqDimension::Status,
            Self::Park => SecondHqDimension::Park,
            Self::Parent => SecondHqDimension::Parent,
            Self::City => SecondHqDimension::City,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::AnnouncedYear => "ANNOUNCED_YEAR",
            Self::OpenedYear => "OPENED_YEAR",
            Self::Status => "STATUS",
            Self::Park => "PARK",
            Self::Parent => "PARENT",
            Self::City => "CITY",
        }
    }
}

/// What an id key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Names {
    Park,
    Organization,
}

/// One key of a group: the group's value for one dimension, in the order of `groupBy`.
#[derive(Clone, Debug)]
pub struct GroupKey {
    dimension: &'static str,
    key: StoredKey,
    names: Option<Names>,
}

/// One key of a group: the group's value for one dimension of `groupBy` (keys come in
/// the order of `groupBy`).
#[Object]
impl GroupKey {
    /// The dimension, as named in `groupBy` (`PARK`, `DESIGNATION_YEAR` …).
    async fn dimension(&self) -> &str {
        self.dimension
    }

    /// The value, for machines: a park's or organization's global id, a code (`UNICORN`,
    /// `ACTIVE`), a text (industry, city) or a year; null when the records of the group
    /// have none (no park, unknown year …).
    async fn value(&self) -> Option<ID> {
        match (&self.key, self.names) {
            (StoredKey::Id(id), Some(Names::Park)) => id.map(|id| encode(NodeType::Park, id)),
            (StoredKey::Id(id), _) => id.map(|id| encode(NodeType::Organization, id)),
            (StoredKey::Text(text), _) => text.clone().map(ID),
            (StoredKey::Year(year), _) => year.map(|y| ID(y.to_string())),
        }
    }

    /// The value, for people: a park's or organization's Chinese name, the code, text or
    /// year; null when the records of the group have none.
    async fn label(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(match (&self.key, self.names) {
            (StoredKey::Id(Some(id)), Some(Names::Park)) => one(&loaders(ctx)?.park, *id).await?.map(|p| p.name_zh),
            (StoredKey::Id(Some(id)), _) => one(&loaders(ctx)?.organization, *id).await?.map(|o| o.name_zh),
            (StoredKey::Id(None), _) => None,
            (StoredKey::Text(text), _) => text.clone(),
            (StoredKey::Year(year), _) => year.map(|y| y.to_string()),
        })
    }

    /// The year, for year dimensions.
    async fn year(&self) -> Option<i32> {
        match self.key {
            StoredKey::Year(year) => year,
            _ => None,
        }
    }

    /// The park, for `PARK`.
    async fn park(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Park>> {
        match (&self.key, self.names) {
            (StoredKey::Id(Some(id)), Some(Names::Park)) => Ok(one(&loaders(ctx)?.park, *id).await?.map(Park)),
            _ => Ok(None),
        }
    }

    /// The organization, for `PARENT`.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        match (&self.key, self.names) {
            (StoredKey::Id(Some(id)), Some(Names::Organization)) => {
                Ok(one(&loaders(ctx)?.organization, *id).await?.map(Organization))
            }
            _ => Ok(None),
        }
    }
}

/// Aggregates of one amount over the records of a group that have it (records without a
/// value are left out; `known` says how many had one).
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct Aggregate {
    /// Records of the group with a value.
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

impl From<StoredAggregate> for Aggregate {
    fn from(a: StoredAggregate) -> Self {
        Self { known: a.known, sum: a.sum, avg: a.avg, min: a.min, max: a.max }
    }
}

/// A group of organizations and its aggregates. Every aggregate counts each organization
/// once.
#[derive(SimpleObject, Clone, Debug)]
pub struct StatisticsGroup {
    /// The group's keys, one per dimension of `groupBy`, in that order.
    pub keys: Vec<GroupKey>,
    /// Organizations in the group.
    pub count: i64,
    /// Registered capital (CNY) of the group's organizations.
    pub registered_capital_cny: Aggregate,
    /// Headcount of the group's organizations.
    pub headcount: Aggregate,
    /// Valuation (US dollars): each organization's highest valuation among its
    /// designations in the group. Null unless a designation dimension or a `designations`
    /// / `designationYear` filter is given.
    pub valuation_usd: Option<Aggregate>,
}

/// A group of second headquarters and its aggregates.
#[derive(SimpleObject, Clone, Debug)]
pub struct SecondHeadquartersGroup {
    /// The group's keys, one per dimension of `groupBy`, in that order.
    pub keys: Vec<GroupKey>,
    /// Second headquarters in the group.
    pub count: i64,
    /// Planned investment (CNY).
    pub planned_investment_cny: Aggregate,
    /// Planned headcount.
    pub planned_headcount: Aggregate,
}

fn keys<D: Copy>(
    stored: Vec<StoredKey>,
    dimensions: &[D],
    name: impl Fn(D) -> &'static str,
    names: impl Fn(D) -> Option<Names>,
) -> Vec<GroupKey> {
    stored.into_iter().zip(dimensions).map(|(key, d)| GroupKey { dimension: name(*d), key, names: names(*d) }).collect()
}

/// Organizations of `filter` grouped by `group_by`.
pub(crate) async fn organizations(
    ctx: &Context<'_>,
    filter: parkgraph_persistence::query::OrganizationFilter,
    group_by: Vec<StatisticsDimension>,
) -> async_graphql::Result<Vec<StatisticsGroup>> {
    if group_by.contains(&StatisticsDimension::Park) {
        crate::policy::require(ctx, Scope::ReadParks)?;
    }
    let dimensions: Vec<OrganizationDimension> = group_by.iter().map(|d| d.stored()).collect();
    let groups = crate::query::store(ctx)?.organization_statistics(&filter, &dimensions).await.api()?;
    crate::cost::CostMeter::charge(ctx, groups.len());
    let park = |d: StatisticsDimension| (d == StatisticsDimension::Park).then_some(Names::Park);
    Ok(groups
        .into_iter()
        .map(|g| StatisticsGroup {
            keys: keys(g.keys, &group_by, StatisticsDimension::name, park),
            count: g.count,
            registered_capital_cny: g.registered_capital_cny.into(),
            headcount: g.headcount.into(),
            valuation_usd: g.valuation_usd.map(Into::into),
        })
        .collect())
}

/// Second headquarters of `filter` grouped by `group_by`.
pub(crate) async fn second_headquarters(
    ctx: &Context<'_>,
    filter: parkgraph_persistence::query::SecondHqFilter,
    group_by: Vec<SecondHeadquartersDimension>,
) -> async_graphql::Result<Vec<SecondHeadquartersGroup>> {
    if group_by.contains(&SecondHeadquartersDimension::Park) {
        crate::policy::require(ctx, Scope::ReadParks)?;
    }
    if group_by.contains(&SecondHeadquartersDimension::Parent) {
        crate::policy::require(ctx, Scope::ReadOrganizations)?;
    }
    let dimensions: Vec<SecondHqDimension> = group_by.iter().map(|d| d.stored()).collect();
    let groups = crate::query::store(ctx)?.second_hq_statistics(&filter, &dimensions).await.api()?;
    crate::cost::CostMeter::charge(ctx, groups.len());
    let names = |d: SecondHeadquartersDimension| match d {
        SecondHeadquartersDimension::Park => Some(Names::Park),
        SecondHeadquartersDimension::Parent => Some(Names::Organization),
        _ => None,
    };
    Ok(groups
        .into_iter()
        .map(|g| SecondHeadquartersGroup {
            keys: keys(g.keys, &group_by, SecondHeadquartersDimension::name, names),
            count: g.count,
            planned_investment_cny: g.planned_investment_cny.into(),
            planned_headcount: g.planned_headcount.into(),
        })
        .collect())
}
