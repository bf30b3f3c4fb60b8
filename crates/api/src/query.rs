//! The root `Query`: `node`/`nodes`, one look-up and one filtered list per type.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;
use parkgraph_domain as domain;
use parkgraph_persistence::Store;
use parkgraph_persistence::query::{
    self as q, DesignationFilter, IncubatorFilter, InnovationCenterFilter, List, OrganizationFilter, ParkFilter,
    SecondHqFilter, Sort, SortField,
};
use uuid::Uuid;

use crate::connection::{Connection, Edge, Listed, MAX_PAGE_SIZE, PageArgs, Total};
use crate::error::{ApiError, ApiResult};
use crate::id::{NodeType, decode, decode_as};
use crate::keyset::KeysetPage;
use crate::loader::{each, one, tree};
use crate::object::change::{Change, ChangeEntityType};
use crate::object::vocabulary::*;
use crate::object::{
    City, Designation, Figure, Incubator, InnovationCenter, Node, Organization, Park, SecondHeadquarters, loaders,
};

/// Fields a list can be ordered by; every order ends with the record's id, so pages are stable.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderField {
    /// Chinese name (the default).
    #[default]
    Name,
    /// The record's main date: founded (organizations, incubators), established (parks),
    /// approved (innovation centers), announced (second headquarters). Unknown dates last.
    Date,
    /// When the record was created.
    CreatedAt,
}

/// An order for a list.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct OrderBy {
    /// The field to order by.
    #[graphql(default)]
    pub field: OrderField,
    /// The direction.
    #[graphql(default)]
    pub direction: Direction,
}

impl OrderBy {
    fn sort(order: Option<OrderBy>) -> Sort {
        let order = order.unwrap_or_default();
        Sort {
            field: match order.field {
                OrderField::Name => SortField::Name,
                OrderField::Date => SortField::Date,
                OrderField::CreatedAt => SortField::CreatedAt,
            },
            direction: match order.direction {
                Direction::Asc => q::Direction::Asc,
                Direction::Desc => q::Direction::Desc,
            },
        }
    }
}

/// Restricts a list to a park, with or without the parks inside it.
#[derive(InputObject, Clone, Debug)]
pub struct ParkScope {
    /// The park's id.
    pub park_id: ID,
    /// Include all parks inside it (default true).
    #[graphql(default = true)]
    pub include_sub_parks: bool,
}

/// Filter of `parks`. All given conditions must hold.
#[derive(InputObject, Clone, Debug, Default)]
pub struct ParkFilterInput {
    /// Any of these kinds.
    pub kinds: Option<Vec<ParkKind>>,
    /// Only parks directly inside this park.
    pub parent_id: Option<ID>,
    /// Only top-level parks (zones), when true.
    pub top_level: Option<bool>,
    /// Only this park and the parks inside it.
    pub within: Option<ID>,
    /// City, exactly (e.g. "武汉").
    pub city: Option<String>,
    /// District, exactly.
    pub district: Option<String>,
    /// Chinese or English name contains this text (case-insensitive).
    pub name_contains: Option<String>,
    /// Archived records too (staff only; FORBIDDEN otherwise). Without it, only the live
    /// registry is listed.
    pub include_archived: Option<bool>,
}

/// Filter of `organizations` and `enterprises`. All given conditions must hold.
#[derive(InputObject, Clone, Debug, Default)]
pub struct OrganizationFilterInput {
    /// Any of these kinds (ignored by `enterprises`).
    pub kinds: Option<Vec<OrganizationKind>>,
    /// Industry, exactly as recorded (e.g. "optoelectronics"); fast, uses an index.
    pub industry: Option<String>,
    /// Industry contains this text (case-insensitive); slower on large registries.
    pub industry_contains: Option<String>,
    /// Holding a designation of any of these kinds …
    pub designations: Option<Vec<DesignationKind>>,
    /// … awarded in this year.
    pub designation_year: Option<i32>,
    /// Located in this park (by default including its sub-parks).
    pub park: Option<ParkScope>,
    /// Located there in this role.
    pub location_role: Option<LocationRole>,
    /// Member of this innovation center.
    pub innovation_center_id: Option<ID>,
    /// Incubated by this incubator.
    pub incubator_id: Option<ID>,
    /// City, exactly.
    pub city: Option<String>,
    /// Founded on or after this date.
    pub founded_from: Option<NaiveDate>,
    /// Founded on or before this date.
    pub founded_to: Option<NaiveDate>,
    /// Chinese or English name contains this text (case-insensitive).
    pub name_contains: Option<String>,
    /// Unified Social Credit Code, exactly.
    pub uscc: Option<String>,
    /// Archived records too (staff only; FORBIDDEN otherwise). Without it, only the live
    /// registry is listed.
    pub include_archived: Option<bool>,
}

/// Filter of `figures`. All given conditions must hold.
#[derive(InputObject, Clone, Debug, Default)]
pub struct FigureFilterInput {
    /// About this city (its parks' figures included unless `cityLevelOnly`), e.g. "武汉".
    pub city: Option<String>,
    /// Only figures about a city as a whole, not about one of its parks.
    #[graphql(default)]
    pub city_level_only: bool,
    /// About this park (by default including its sub-parks).
    pub park: Option<ParkScope>,
    /// Of this indicator (`high_tech_enterprises`, `unicorns`, `second_headquarters`, …).
    pub indicator: Option<String>,
    /// Archived records too (staff only; FORBIDDEN otherwise). Without it, only the live
    /// registry is listed.
    pub include_archived: Option<bool>,
}

/// Filter of `incubators`.
#[derive(InputObject, Clone, Debug, Default)]
pub struct IncubatorFilterInput {
    /// Any of these kinds.
    pub kinds: Option<Vec<IncubatorKind>>,
    /// Any of these levels.
    pub levels: Option<Vec<IncubatorLevel>>,
    /// In this park (by default including its sub-parks).
    pub park: Option<ParkScope>,
    /// Operated by this organization.
    pub operator_id: Option<ID>,
    /// Chinese or English name contains this text.
    pub name_contains: Option<String>,
    /// Archived records too (staff only; FORBIDDEN otherwise). Without it, only the live
    /// registry is listed.
    pub include_archived: Option<bool>,
}

/// Filter of `innovationCenters`.
#[derive(InputObject, Clone, Debug, Default)]
pub struct InnovationCenterFilterInput {
    /// Any of these kinds.
    pub kinds: Option<Vec<InnovationCenterKind>>,
    /// City, exactly.
    pub city: Option<String>,
    /// Hosted in this park (by default including its sub-parks).
    pub park: Option<ParkScope>,
    /// Field contains this text (case-insensitive).
    pub field_contains: Option<String>,
    /// Approved on or after this date.
    pub approved_from: Option<NaiveDate>,
    /// Approved on or before this date.
    pub approved_to: Option<NaiveDate>,
    /// Chinese or English name contains this text.
    pub name_contains: Option<String>,
    /// Archived records too (staff only; FORBIDDEN otherwise). Without it, only the live
    /// registry is listed.
    pub include_archived: Option<bool>,
}

/// Filter of `secondHeadquarters`.
#[derive(InputObject, Clone, Debug, Default)]
pub struct SecondHeadquartersFilterInput {
    /// Any of these statuses.
    pub statuses: Option<Vec<SecondHqStatus>>,
    /// Of this parent group.
    pub parent_id: Option<ID>,
    /// In this park (by default including its sub-parks).
    pub park: Option<ParkScope>,
    /// City, exactly.
    pub city: Option<String>,
    /// Announced on or after this date (e.g. "signed since 2018": `announcedFrom: "2018-01-01"`).
    pub announced_from: Option<NaiveDate>,
    /// Announced on or before this date.
    pub announced_to: Option<NaiveDate>,
    /// Chinese or English name contains this text.
    pub name_contains: Option<String>,
    /// Archived records too (staff only; FORBIDDEN otherwise). Without it, only the live
    /// registry is listed.
    pub include_archived: Option<bool>,
}

/// Filter of `unicorns` and `designations`.
#[derive(InputObject, Clone, Debug, Default)]
pub struct DesignationFilterInput {
    /// Any of these kinds (ignored by `unicorns`).
    pub kinds: Option<Vec<DesignationKind>>,
    /// Awarded in this year.
    pub year: Option<i32>,
    /// Held by an enterprise located in this park (by default including its sub-parks).
    pub park: Option<ParkScope>,
    /// Valuation at least this many US dollars.
    pub min_valuation_usd: Option<f64>,
    /// Archived records too (staff only; FORBIDDEN otherwise). Without it, only the live
    /// registry is listed.
    pub include_archived: Option<bool>,
}

/// The store the schema reads from.
pub(crate) fn store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>().map_err(|_| ApiError::Internal("store missing from schema data".into()).into_error())
}

/// What a root list shows: the live registry, unless staff ask for archived records too
/// (`includeArchived: true`, which is FORBIDDEN to anyone else).
fn listed(ctx: &Context<'_>, include_archived: Option<bool>) -> async_graphql::Result<q::Visibility> {
    if include_archived != Some(true) {
        return Ok(q::Visibility::Live);
    }
    let caller = crate::policy::caller(ctx)?;
    if caller.role.is_staff() {
        Ok(q::Visibility::WithArchived)
    } else {
        Err(crate::policy::forbidden(format!(
            "`includeArchived` is for staff: archived records are not readable by the {} caller",
            caller.role
        )))
    }
}

fn convert<A: Copy, B: From<A>>(values: &Option<Vec<A>>) -> Vec<B> {
    values.iter().flatten().map(|v| B::from(*v)).collect()
}

fn id_of(kind: NodeType, id: &Option<ID>) -> async_graphql::Result<Option<Uuid>> {
    id.as_ref().map(|id| decode_as(kind, id)).transpose().map_err(ApiError::into_error)
}

fn text(value: &Option<String>) -> Option<String> {
    value.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

async fn scope(ctx: &Context<'_>, park: &Option<ParkScope>) -> async_graphql::Result<Option<Vec<Uuid>>> {
    let Some(park) = park else { return Ok(None) };
    let id = decode_as(NodeType::Park, &park.park_id).map_err(ApiError::into_error)?;
    if park.include_sub_parks { Ok(Some(tree(loaders(ctx)?).await?.subtree(id))) } else { Ok(Some(vec![id])) }
}

/// Runs a root list: reads one page by keyset in the list's order (its cursors hold the
/// row's order keys, so a page costs the same at any depth and does not shift when rows
/// are added or archived before it), counts only when asked.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn page<L, N>(
    list: L,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    wrap: fn(L::Record) -> N,
) -> async_graphql::Result<Connection<Edge<N>>>
where
    L: List,
    N: Listed,
{
    let args = PageArgs::new(first, after, last, before);
    let shape = crate::connection::Keyset::shape(&args)?;
    let position = |name: &str, cursor: &Option<String>| -> async_graphql::Result<Option<_>> {
        let Some(cursor) = cursor else { return Ok(None) };
        let text = crate::connection::list_cursor_text(name, cursor).map_err(ApiError::into_error)?;
        list.position(&text).map(Some).ok_or_else(|| {
            ApiError::BadUserInput(format!(
                "`{name}` is not a cursor of this list in this order: {cursor:?}; a cursor holds the order it was read in"
            ))
            .into_error()
        })
    };
    let after = position("after", &args.after)?;
    let before = position("before", &args.before)?;
    let rows = list.keyset(after.as_ref(), before.as_ref(), shape.limit, shape.backward).await.api()?;
    let (rows, more) = shape.trim(rows);
    let cursors: Vec<String> =
        rows.iter().map(|row| crate::connection::encode_list_cursor(&list.cursor(row))).collect();
    let total = Total::Query(std::sync::Arc::new(move |exact_below| {
        let list = list.clone();
        Box::pin(async move { list.estimate(exact_below).await })
    }));
    let bounds = crate::connection::Bounds { after: after.is_some(), before: before.is_some(), ..shape.bounds() };
    Ok(Connection::keyset(
        bounds,
        rows.into_iter().zip(cursors).collect(),
        more,
        |(_, cursor)| cursor.clone(),
        total,
        |cursor, (row, _)| Edge::new(cursor, wrap(row)),
    ))
}

/// The read scope of the records a global id can name.
fn family(kind: NodeType) -> parkgraph_domain::Scope {
    use parkgraph_domain::Scope;
    match kind {
        NodeType::Park => Scope::ReadParks,
        NodeType::Organization | NodeType::Designation => Scope::ReadOrganizations,
        NodeType::Incubator => Scope::ReadIncubators,
        NodeType::InnovationCenter => Scope::ReadInnovationCenters,
        NodeType::SecondHeadquarters => Scope::ReadSecondHeadquarters,
    }
}

/// Who the server takes the caller to be.
#[derive(async_graphql::SimpleObject)]
pub struct Viewer {
    /// Role: ADMIN, EDITOR, ANALYST, PARTNER or ANONYMOUS.
    pub role: String,
    /// Scopes held.
    pub scopes: Vec<String>,
    /// The token's subject, or `anonymous`.
    pub subject: String,
}

/// The root of every read.
pub struct Query;

/// The root of every read: records by id, and a filtered list of each type.
#[Object]
impl Query {
    /// Any record by its global id; null when no record has that id.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        let (kind, uuid) = decode(&id).map_err(ApiError::into_error)?;
        crate::policy::require(ctx, family(kind))?;
        let l = loaders(ctx)?;
        Ok(match kind {
            NodeType::Park => one(&l.park, uuid).await?.map(|m| Node::Park(Park(m))),
            NodeType::Organization => one(&l.organization, uuid).await?.map(|m| Node::Organization(Organization(m))),
            NodeType::Incubator => one(&l.incubator, uuid).await?.map(|m| Node::Incubator(Incubator(m))),
            NodeType::InnovationCenter => {
                one(&l.center, uuid).await?.map(|m| Node::InnovationCenter(InnovationCenter(m)))
            }
            NodeType::SecondHeadquarters => {
                one(&l.second_hq, uuid).await?.map(|m| Node::SecondHeadquarters(SecondHeadquarters(m)))
            }
            NodeType::Designation => one(&l.designation, uuid).await?.map(|m| Node::Designation(Designation(m))),
        })
    }

    /// Several records by global id, in the order given; null for ids with no record.
    /// At most 100 ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_PAGE_SIZE as usize {
            return Err(ApiError::BadUserInput(format!(
                "`ids` has {} ids, more than the maximum of {MAX_PAGE_SIZE}",
                ids.len()
            ))
            .into_error());
        }
        let decoded = ids.iter().map(|id| decode(id)).collect::<Result<Vec<_>, _>>().map_err(ApiError::into_error)?;
        for (kind, _) in &decoded {
            crate::policy::require(ctx, family(*kind))?;
        }
        crate::cost::CostMeter::charge(ctx, decoded.len());
        let l = loaders(ctx)?;
        let of = |kind: NodeType| decoded.iter().filter(|(k, _)| *k == kind).map(|(_, u)| *u).collect::<Vec<_>>();
        // One batch per type; then answer in the order asked.
        let (parks, orgs, incubators, centers, hqs, designations) = futures_join(
            each(&l.park, &of(NodeType::Park)),
            each(&l.organization, &of(NodeType::Organization)),
            each(&l.incubator, &of(NodeType::Incubator)),
            each(&l.center, &of(NodeType::InnovationCenter)),
            each(&l.second_hq, &of(NodeType::SecondHeadquarters)),
            each(&l.designation, &of(NodeType::Designation)),
        )
        .await;
        let (mut parks, mut orgs, mut incubators, mut centers, mut hqs, mut designations) = (
            parks?.into_iter(),
            orgs?.into_iter(),
            incubators?.into_iter(),
            centers?.into_iter(),
            hqs?.into_iter(),
            designations?.into_iter(),
        );
        Ok(decoded
            .iter()
            .map(|(kind, _)| match kind {
                NodeType::Park => parks.next().flatten().map(|m| Node::Park(Park(m))),
                NodeType::Organization => orgs.next().flatten().map(|m| Node::Organization(Organization(m))),
                NodeType::Incubator => incubators.next().flatten().map(|m| Node::Incubator(Incubator(m))),
                NodeType::InnovationCenter => {
                    centers.next().flatten().map(|m| Node::InnovationCenter(InnovationCenter(m)))
                }
                NodeType::SecondHeadquarters => {
                    hqs.next().flatten().map(|m| Node::SecondHeadquarters(SecondHeadquarters(m)))
                }
                NodeType::Designation => designations.next().flatten().map(|m| Node::Designation(Designation(m))),
            })
            .collect())
    }

    /// The caller as the server sees it: role, scopes, subject.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let caller = crate::policy::caller(ctx)?;
        Ok(Viewer {
            role: caller.role.code().into(),
            scopes: caller.scopes.iter().map(|s| s.code().to_string()).collect(),
            subject: caller.subject.clone(),
        })
    }

    /// Issued tokens, newest first (administrators with `admin:tokens`).
    #[graphql(guard = "crate::policy::Admin(parkgraph_domain::Scope::AdminTokens)")]
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this partner's tokens.")] partner_id: Option<Uuid>,
        #[graphql(desc = "How many (at most 100, default 20).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<crate::object::access::ApiToken>> {
        let limit =
            crate::connection::plan(&PageArgs::new(first, None, None, None), async { Ok(0) }).await?.window.limit;
        let rows = store(ctx)?.tokens(partner_id, limit).await.api()?;
        crate::cost::CostMeter::charge(ctx, rows.len());
        Ok(rows.into_iter().map(crate::object::access::ApiToken).collect())
    }

    /// The audit trail of authenticated requests, newest first (administrators with `admin:audit`).
    #[graphql(guard = "crate::policy::Admin(parkgraph_domain::Scope::AdminAudit)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this token's requests.")] jti: Option<Uuid>,
        #[graphql(desc = "How many (at most 100, default 20).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<crate::object::access::AuditEvent>> {
        let limit =
            crate::connection::plan(&PageArgs::new(first, None, None, None), async { Ok(0) }).await?.window.limit;
        let rows = store(ctx)?.audit_events(jti, limit).await.api()?;
        crate::cost::CostMeter::charge(ctx, rows.len());
        Ok(rows.into_iter().map(crate::object::access::AuditEvent).collect())
    }

    /// A park by global id; a `NOT_FOUND` error when there is none.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)")]
    async fn park(&self, ctx: &Context<'_>, #[graphql(desc = "The global id.")] id: ID) -> async_graphql::Result<Park> {
        let uuid = decode_as(NodeType::Park, &id).map_err(ApiError::into_error)?;
        one(&loaders(ctx)?.park, uuid)
            .await?
            .map(Park)
            .ok_or_else(|| ApiError::NotFound(format!("no park has id {:?}", id.as_str())).into_error())
    }

    /// An organization by global id; a `NOT_FOUND` error when there is none.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global id.")] id: ID,
    ) -> async_graphql::Result<Organization> {
        let uuid = decode_as(NodeType::Organization, &id).map_err(ApiError::into_error)?;
        one(&loaders(ctx)?.organization, uuid)
            .await?
            .map(Organization)
            .ok_or_else(|| ApiError::NotFound(format!("no organization has id {:?}", id.as_str())).into_error())
    }

    /// An innovation center by global id; a `NOT_FOUND` error when there is none.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadInnovationCenters)")]
    async fn innovation_center(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global id.")] id: ID,
    ) -> async_graphql::Result<InnovationCenter> {
        let uuid = decode_as(NodeType::InnovationCenter, &id).map_err(ApiError::into_error)?;
        one(&loaders(ctx)?.center, uuid)
            .await?
            .map(InnovationCenter)
            .ok_or_else(|| ApiError::NotFound(format!("no innovation center has id {:?}", id.as_str())).into_error())
    }

    /// Parks, filtered and ordered.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn parks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<ParkFilterInput>,
        #[graphql(desc = "Order of the items (default: by Chinese name, ascending).")] order_by: Option<OrderBy>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Park>>> {
        let f = filter.unwrap_or_default();
        let parent = match (id_of(NodeType::Park, &f.parent_id)?, f.top_level) {
            (Some(parent), _) => Some(Some(parent)),
            (None, Some(true)) => Some(None),
            _ => None,
        };
        let ids = match id_of(NodeType::Park, &f.within)? {
            Some(root) => Some(tree(loaders(ctx)?).await?.subtree(root)),
            None => None,
        };
        let filter = ParkFilter {
            visibility: listed(ctx, f.include_archived)?,
            kinds: convert::<_, domain::ParkKind>(&f.kinds),
            ids,
            parent,
            city: text(&f.city),
            district: text(&f.district),
            name_contains: text(&f.name_contains),
        };
        page(store(ctx)?.parks(&filter, OrderBy::sort(order_by)), first, after, last, before, Park).await
    }

    /// Organizations of every kind (enterprises, universities, institutes …), filtered and ordered.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<OrganizationFilterInput>,
        #[graphql(desc = "Order of the items (default: by Chinese name, ascending).")] order_by: Option<OrderBy>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Organization>>> {
        let filter = organization_filter(ctx, filter.unwrap_or_default(), None).await?;
        let list = store(ctx)?.organizations(&filter, OrderBy::sort(order_by)).picking(Organization::node_columns(ctx));
        page(list, first, after, last, before, Organization).await
    }

    /// Enterprises (organizations of kind `ENTERPRISE`), filtered and ordered.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn enterprises(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<OrganizationFilterInput>,
        #[graphql(desc = "Order of the items (default: by Chinese name, ascending).")] order_by: Option<OrderBy>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Organization>>> {
        let filter =
            organization_filter(ctx, filter.unwrap_or_default(), Some(domain::OrganizationKind::Enterprise)).await?;
        let list = store(ctx)?.organizations(&filter, OrderBy::sort(order_by)).picking(Organization::node_columns(ctx));
        page(list, first, after, last, before, Organization).await
    }

    /// Incubators, makerspaces and accelerators, filtered and ordered.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadIncubators)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn incubators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<IncubatorFilterInput>,
        #[graphql(desc = "Order of the items (default: by Chinese name, ascending).")] order_by: Option<OrderBy>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Incubator>>> {
        let f = filter.unwrap_or_default();
        let filter = IncubatorFilter {
            visibility: listed(ctx, f.include_archived)?,
            kinds: convert::<_, domain::IncubatorKind>(&f.kinds),
            levels: convert::<_, domain::IncubatorLevel>(&f.levels),
            park_ids: scope(ctx, &f.park).await?,
            operator: id_of(NodeType::Organization, &f.operator_id)?,
            name_contains: text(&f.name_contains),
        };
        page(store(ctx)?.incubators(&filter, OrderBy::sort(order_by)), first, after, last, before, Incubator).await
    }

    /// National innovation centers, filtered and ordered.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadInnovationCenters)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn innovation_centers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<InnovationCenterFilterInput>,
        #[graphql(desc = "Order of the items (default: by Chinese name, ascending).")] order_by: Option<OrderBy>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<InnovationCenter>>> {
        let f = filter.unwrap_or_default();
        let filter = InnovationCenterFilter {
            visibility: listed(ctx, f.include_archived)?,
            kinds: convert::<_, domain::InnovationCenterKind>(&f.kinds),
            city: text(&f.city),
            park_ids: scope(ctx, &f.park).await?,
            field_contains: text(&f.field_contains),
            approved_from: f.approved_from,
            approved_to: f.approved_to,
            name_contains: text(&f.name_contains),
        };
        page(
            store(ctx)?.innovation_centers(&filter, OrderBy::sort(order_by)),
            first,
            after,
            last,
            before,
            InnovationCenter,
        )
        .await
    }

    /// Second headquarters, filtered and ordered.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadSecondHeadquarters)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn second_headquarters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<SecondHeadquartersFilterInput>,
        #[graphql(desc = "Order of the items (default: by Chinese name, ascending).")] order_by: Option<OrderBy>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<SecondHeadquarters>>> {
        let filter = second_hq_filter(ctx, filter.unwrap_or_default()).await?;
        page(
            store(ctx)?.second_headquarters(&filter, OrderBy::sort(order_by)),
            first,
            after,
            last,
            before,
            SecondHeadquarters,
        )
        .await
    }

    /// Unicorn designations (one per enterprise and list year), newest year first;
    /// each has the enterprise and its reported valuation.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn unicorns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<DesignationFilterInput>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Designation>>> {
        let filter =
            designation_filter(ctx, filter.unwrap_or_default(), Some(domain::DesignationKind::Unicorn)).await?;
        page(store(ctx)?.designations(&filter, q::Direction::Desc), first, after, last, before, Designation).await
    }

    /// Sourced, dated figures about parks and cities, by indicator and then newest first.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<FigureFilterInput>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Figure>>> {
        let f = filter.unwrap_or_default();
        let filter = q::FigureFilter {
            visibility: listed(ctx, f.include_archived)?,
            park_ids: scope(ctx, &f.park).await?,
            city: text(&f.city),
            city_level_only: f.city_level_only,
            indicator: text(&f.indicator),
        };
        page(store(ctx)?.figures(&filter), first, after, last, before, Figure).await
    }

    /// A city as a whole: its own designations, the figures about it and its zones. Any
    /// name is accepted; a city the registry knows nothing about has empty lists.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)")]
    async fn city(
        &self,
        #[graphql(desc = "The city's name as recorded, e.g. \"武汉\".")] name: String,
    ) -> async_graphql::Result<City> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(ApiError::BadUserInput("`name` must not be empty".into()).into_error());
        }
        Ok(City { name })
    }

    /// Designations of every kind, newest year first.
    #[graphql(
        complexity = "crate::connection::complexity(first, last, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn designations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the items must meet.")] filter: Option<DesignationFilterInput>,
        #[graphql(
            desc = "The first N items after `after` (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last N items before `before` (at most 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Edge<Designation>>> {
        let filter = designation_filter(ctx, filter.unwrap_or_default(), None).await?;
        page(store(ctx)?.designations(&filter, q::Direction::Desc), first, after, last, before, Designation).await
    }

    /// The change feed: every change to the registry, oldest first, in the gap-free order
    /// of `seq` (records created, updated, archived and restored, links added, updated and
    /// ended), for callers with `read:changes`. Page on with `after: pageInfo.endCursor`
    /// until `hasNextPage` is false; later, ask again from the last cursor you stored to
    /// get what changed since. A tombstone (`tombstone: true`, `after: null`) means the
    /// record left the live registry. Without `types`, the feed holds the types of records
    /// the caller may read (a link needs both ends' read scopes); asking for a type the
    /// caller may not read is FORBIDDEN.
    #[graphql(
        complexity = "crate::connection::complexity(first, None, child_complexity)",
        guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadChanges)"
    )]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start after this cursor (an `endCursor` or edge `cursor` of this feed); from the \
                          first change when omitted.")]
        after: Option<String>,
        #[graphql(desc = "The first N changes after `after` (at most 100; 20 when omitted).")] first: Option<i32>,
        #[graphql(desc = "Only changes to records of these types (default: every type the caller may read).")]
        types: Option<Vec<ChangeEntityType>>,
    ) -> async_graphql::Result<KeysetPage<Change>> {
        crate::object::change::feed(ctx, after, first, types).await
    }

    // Statistics, network queries and nearby.

    /// Group-by statistics of organizations: the organizations `filter` selects (exactly
    /// as `organizations(filter:)` does, archived records only for staff who ask) grouped
    /// by up to three dimensions, each group with its `count` and the sum, average,
    /// minimum and maximum of registered capital, headcount and (with designations)
    /// valuation. A firm counts in each park it is located in and in each designation
    /// year it holds (see `StatisticsDimension`); every aggregate counts a firm once per
    /// group. Groups are ordered by their keys (unknown keys last); more than 1,000 groups
    /// is a `BAD_USER_INPUT` error. Example: unicorns per year per park is `groupBy:
    /// [DESIGNATION_YEAR, PARK], filter: { designations: [UNICORN] }`.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dimensions to group by, at most three, in the order of the keys.")] group_by: Vec<
            crate::object::statistics::StatisticsDimension,
        >,
        #[graphql(desc = "Conditions the organizations must meet (as in `organizations`).")] filter: Option<
            OrganizationFilterInput,
        >,
    ) -> async_graphql::Result<Vec<crate::object::statistics::StatisticsGroup>> {
        let filter = organization_filter(ctx, filter.unwrap_or_default(), None).await?;
        crate::object::statistics::organizations(ctx, filter, group_by).await
    }

    /// Group-by statistics of second headquarters (e.g. signed per year and park:
    /// `groupBy: [ANNOUNCED_YEAR, PARK]`): the second headquarters `filter` selects (as in
    /// `secondHeadquarters`), grouped by up to three dimensions, each group with its
    /// `count` and aggregates of planned investment and headcount. Ordered by the keys
    /// (unknown keys last); at most 1,000 groups.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadSecondHeadquarters)")]
    async fn second_headquarters_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dimensions to group by, at most three, in the order of the keys.")] group_by: Vec<
            crate::object::statistics::SecondHeadquartersDimension,
        >,
        #[graphql(desc = "Conditions the second headquarters must meet (as in `secondHeadquarters`).")] filter: Option<
            SecondHeadquartersFilterInput,
        >,
    ) -> async_graphql::Result<Vec<crate::object::statistics::SecondHeadquartersGroup>> {
        let filter = second_hq_filter(ctx, filter.unwrap_or_default()).await?;
        crate::object::statistics::second_headquarters(ctx, filter, group_by).await
    }

    /// The records around one record and the typed edges between them, for drawing a
    /// network: every record within `hops` edges (at most 3) of the one with `id`,
    /// following `types` (every type but `DESIGNATED` by default) through live links
    /// (staff also see archived ones) and the kinds of records the caller may read. At
    /// most 2,000 records: beyond that `truncated` is true.
    async fn neighborhood(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global id of the record to start from.")] id: ID,
        #[graphql(desc = "How many edges out to go, 1 to 3.", default = 1)] hops: Option<i32>,
        #[graphql(desc = "The edge types to follow (default: every type but `DESIGNATED`).")] types: Option<
            Vec<crate::object::network::EdgeType>,
        >,
    ) -> async_graphql::Result<crate::object::network::Neighborhood> {
        crate::object::network::neighborhood(ctx, id, hops.unwrap_or(1), types).await
    }

    /// How two records are linked: the shortest paths from `from` to `to` of at most
    /// `maxHops` edges (at most 6), up to `first` of them (at most 20), following `types`
    /// (every type but `DESIGNATED` by default) through live links and the kinds of
    /// records the caller may read. The search reaches at most 2,000 records; when it
    /// stops there without a path, `truncated` is true.
    async fn connections(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global id of the record the paths start from.")] from: ID,
        #[graphql(desc = "The global id of the record the paths lead to.")] to: ID,
        #[graphql(desc = "The most edges a path may have, 1 to 6.", default = 4)] max_hops: Option<i32>,
        #[graphql(desc = "The most paths returned, 1 to 20.", default = 5)] first: Option<i32>,
        #[graphql(desc = "The edge types to follow (default: every type but `DESIGNATED`).")] types: Option<
            Vec<crate::object::network::EdgeType>,
        >,
    ) -> async_graphql::Result<crate::object::network::ShortestPaths> {
        use crate::object::network::{DEFAULT_PATH_HOPS, DEFAULT_PATHS};
        let (max_hops, first) = (max_hops.unwrap_or(DEFAULT_PATH_HOPS), first.unwrap_or(DEFAULT_PATHS));
        crate::object::network::connections(ctx, from, to, max_hops, first, types).await
    }

    /// Parks within `radiusKm` (at most 100) of a point (`latitude` and `longitude`) or of
    /// a park (`parkId`; the park itself comes first, at distance 0), and the
    /// organizations located in them, nearest first, up to `first` of each (at most 100).
    /// Distances are great-circle kilometres; parks without recorded coordinates are
    /// never found.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadParks)")]
    async fn nearby(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Latitude of the center, degrees (with `longitude`).")] latitude: Option<f64>,
        #[graphql(desc = "Longitude of the center, degrees (with `latitude`).")] longitude: Option<f64>,
        #[graphql(desc = "A park with coordinates as the center (instead of a point).")] park_id: Option<ID>,
        #[graphql(desc = "The radius, km: more than 0, at most 100.")] radius_km: f64,
        #[graphql(desc = "The most parks, and the most organizations, returned (1 to 100).", default = 20)]
        first: Option<i32>,
    ) -> async_graphql::Result<crate::object::nearby::Nearby> {
        let first = first.unwrap_or(crate::object::nearby::DEFAULT_FIRST);
        crate::object::nearby::nearby(ctx, latitude, longitude, park_id, radius_km, first).await
    }

    // --- Search (parkgraph-search): full-text search with facets, and type-ahead. ---

    /// Search organizations, parks, incubators and innovation centers by name in Chinese
    /// (any substring: 光谷, 生物城), pinyin (full or initials, by prefix: xiaomi, xm,
    /// guanggu), English (words, prefixes, typos: douyo finds DouYu) or exact USCC, ranked
    /// by relevance with highlights, filtered, and counted per facet. Scored lower, a record
    /// is also found by the names of the parks it is in (Chinese, pinyin, English), the
    /// English terms of its industry (Optics Valley biotech) and its designations (光谷
    /// 独角兽, unicorn). An empty query lists every record that passes the filter. Only
    /// types the caller may read are searched.
    #[graphql(complexity = "crate::connection::complexity(first, None, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What was typed (at most 200 characters); every word must match.")] query: String,
        #[graphql(desc = "Conditions the results must meet.")] filter: Option<crate::object::search::SearchFilter>,
        #[graphql(
            desc = "Dimensions to count (default: type, industry, designation, park, founded year, city, status)."
        )]
        facets: Option<Vec<crate::object::search::SearchFacetField>>,
        #[graphql(desc = "Hits per page (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Start after this cursor (`endCursor` of the previous page).")] after: Option<String>,
    ) -> async_graphql::Result<crate::object::search::SearchResult> {
        crate::object::search::search(ctx, query, filter, facets, first, after).await
    }

    /// Type-ahead for search boxes: records whose names, pinyin or initials start with
    /// (or contain) what was typed, best first.
    #[graphql(complexity = "(first as usize).saturating_mul(child_complexity).saturating_add(1)")]
    async fn suggest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What was typed so far.")] prefix: String,
        #[graphql(desc = "Only these record types (default: every type the caller may read).")] types: Option<
            Vec<crate::object::search::SearchType>,
        >,
        #[graphql(desc = "How many (1 to 50).", default = 10)] first: i32,
    ) -> async_graphql::Result<Vec<crate::object::search::SearchHit>> {
        crate::object::search::suggest(ctx, prefix, types, first).await
    }
}

async fn organization_filter(
    ctx: &Context<'_>,
    f: OrganizationFilterInput,
    only: Option<domain::OrganizationKind>,
) -> async_graphql::Result<OrganizationFilter> {
    let visibility = listed(ctx, f.include_archived)?;
    let park_ids = scope(ctx, &f.park).await?;
    organization_filter_of(f, only, visibility, park_ids).map_err(ApiError::into_error)
}

/// The organization filter `f` describes, once the caller's visibility and the park scope
/// (the parks `f.park` names, sub-parks resolved) are known: the part of
/// `organizations(filter:)` that needs no request, shared with [`crate::export`].
pub(crate) fn organization_filter_of(
    f: OrganizationFilterInput,
    only: Option<domain::OrganizationKind>,
    visibility: q::Visibility,
    park_ids: Option<Vec<Uuid>>,
) -> Result<OrganizationFilter, ApiError> {
    let id = |kind: NodeType, id: &Option<ID>| id.as_ref().map(|id| decode_as(kind, id)).transpose();
    Ok(OrganizationFilter {
        visibility,
        kinds: match only {
            Some(kind) => vec![kind],
            None => convert::<_, domain::OrganizationKind>(&f.kinds),
        },
        industry: text(&f.industry),
        industry_contains: text(&f.industry_contains),
        designations: convert::<_, domain::DesignationKind>(&f.designations),
        designation_year: f.designation_year,
        park_ids,
        location_role: f.location_role.map(Into::into),
        innovation_center: id(NodeType::InnovationCenter, &f.innovation_center_id)?,
        incubator: id(NodeType::Incubator, &f.incubator_id)?,
        city: text(&f.city),
        founded_from: f.founded_from,
        founded_to: f.founded_to,
        name_contains: text(&f.name_contains),
        uscc: text(&f.uscc),
    })
}

async fn designation_filter(
    ctx: &Context<'_>,
    f: DesignationFilterInput,
    only: Option<domain::DesignationKind>,
) -> async_graphql::Result<DesignationFilter> {
    let min_valuation_usd = match f.min_valuation_usd {
        None => None,
        Some(v) if (0.0..9.0e18).contains(&v) => Some(v as i64),
        Some(v) => {
            return Err(ApiError::BadUserInput(format!("`minValuationUsd` must be a non-negative amount, got {v}"))
                .into_error());
        }
    };
    Ok(DesignationFilter {
        visibility: listed(ctx, f.include_archived)?,
        kinds: match only {
            Some(kind) => vec![kind],
            None => convert::<_, domain::DesignationKind>(&f.kinds),
        },
        year: f.year,
        park_ids: scope(ctx, &f.park).await?,
        min_valuation_usd,
    })
}

/// Awaits six futures concurrently, so their loads land in the same batches.
async fn futures_join<A, B, C, D, E, F>(
    a: impl std::future::Future<Output = A>,
    b: impl std::future::Future<Output = B>,
    c: impl std::future::Future<Output = C>,
    d: impl std::future::Future<Output = D>,
    e: impl std::future::Future<Output = E>,
    f: impl std::future::Future<Output = F>,
) -> (A, B, C, D, E, F) {
    tokio::join!(a, b, c, d, e, f)
}

async fn second_hq_filter(
    ctx: &Context<'_>,
    f: SecondHeadquartersFilterInput,
) -> async_graphql::Result<SecondHqFilter> {
    Ok(SecondHqFilter {
        visibility: listed(ctx, f.include_archived)?,
        statuses: convert::<_, domain::SecondHqStatus>(&f.statuses),
        parent: id_of(NodeType::Organization, &f.parent_id)?,
        park_ids: scope(ctx, &f.park).await?,
        city: text(&f.city),
        announced_from: f.announced_from,
        announced_to: f.announced_to,
        name_contains: text(&f.name_contains),
    })
}
