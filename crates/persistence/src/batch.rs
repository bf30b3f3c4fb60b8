//! Batch look-ups for the API's data loaders: each takes every key a level of a GraphQL
//! response asks for and answers with one statement, grouped by key, so a page of 100
//! records with their links costs the same number of statements as a page of 10.
//!
//! [`Lookups`] names every look-up the read side runs (records by id, links by either
//! end, dependent records by their parent), each filtered by the read's
//! [`Visibility`] through the record kind's [`Live`] condition; [`Histories`] loads the
//! revisions of many records at once.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;

use sea_orm::sea_query::ValueType;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Iterable, ModelTrait, PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::columns::Columns;
use crate::entity::{
    designation, enterprise_location, figure, incubation, incubator, innovation_center, innovation_center_membership,
    organization, park, park_designation, second_headquarters,
};
use crate::query::{Live, Visibility, visible};
use crate::write::{self, EntityType, Revision};
use crate::{Store, StoreError};

/// A batch look-up: the records for many keys, in one statement, grouped by key (a key
/// with no record is absent from the map).
pub trait Batch: Send + Sync + 'static {
    /// What the records are looked up by.
    type Key: Clone + Eq + Hash + Send + Sync + 'static;
    /// The records.
    type Record: Clone + Send + Sync + 'static;
    /// Loads the records of `keys`.
    fn load(
        &self,
        keys: &[Self::Key],
    ) -> impl Future<Output = Result<HashMap<Self::Key, Vec<Self::Record>>, StoreError>> + Send;
}

/// The records of kind `E` whose key column holds one of the keys, as one read sees them,
/// in primary-key order (ids are UUID v7, so links come in the order they were recorded).
pub struct By<E: EntityTrait> {
    store: Store,
    column: E::Column,
    visible: Condition,
}

impl<E: Live> By<E> {
    fn new(store: &Store, column: E::Column, visibility: Visibility) -> Self {
        Self { store: store.clone(), column, visible: visible::<E>(visibility) }
    }
}

impl<E> Batch for By<E>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Key = Uuid;
    type Record = E::Model;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<E::Model>>, StoreError> {
        self.read(keys, Columns::all()).await
    }
}

impl<E> By<E>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    /// The records of `keys`, grouped by key, read with `columns` (and the key column).
    async fn read(&self, keys: &[Uuid], columns: Columns<E>) -> Result<HashMap<Uuid, Vec<E::Model>>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let unique: Vec<Uuid> = keys.iter().copied().collect::<HashSet<_>>().into_iter().collect();
        let mut select = E::find().filter(self.visible.clone()).filter(self.column.is_in(unique));
        for key in E::PrimaryKey::iter() {
            select = select.order_by_asc(key.into_column());
        }
        let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
        for row in columns.with(self.column).project(select).all(self.store.conn()).await? {
            if let Ok(key) = <Uuid as ValueType>::try_from(row.get(self.column)) {
                grouped.entry(key).or_default().push(row);
            }
        }
        Ok(grouped)
    }
}

/// The records of kind `E` by a key column, like [`By`], each key naming the columns the
/// reader needs (see [`Columns`]): keys that name the same columns share one statement,
/// so concurrent requests asking the same fields still share their reads.
pub struct Picked<E: EntityTrait>(By<E>);

impl<E> Batch for Picked<E>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Key = (Uuid, Columns<E>);
    type Record = E::Model;

    async fn load(&self, keys: &[(Uuid, Columns<E>)]) -> Result<HashMap<Self::Key, Vec<E::Model>>, StoreError> {
        let mut sets: HashMap<Columns<E>, Vec<Uuid>> = HashMap::new();
        for (key, columns) in keys {
            sets.entry(*columns).or_default().push(*key);
        }
        let mut out = HashMap::new();
        for (columns, keys) in sets {
            for (key, rows) in self.0.read(&keys, columns).await? {
                out.insert((key, columns), rows);
            }
        }
        Ok(out)
    }
}

/// Every batch look-up the read side runs, as one read sees the registry.
pub struct Lookups {
    /// Parks by id.
    pub park: By<park::Entity>,
    /// Parks by parent.
    pub park_children: By<park::Entity>,
    /// Park designations by park.
    pub park_designations: By<park_designation::Entity>,
    /// Organizations by id.
    pub organization: By<organization::Entity>,
    /// Organizations by id, with only the columns asked for.
    pub organization_picked: Picked<organization::Entity>,
    /// Designations by id.
    pub designation: By<designation::Entity>,
    /// Designations by organization.
    pub designations_of: By<designation::Entity>,
    /// Incubators by id.
    pub incubator: By<incubator::Entity>,
    /// Incubators by park.
    pub incubators_in: By<incubator::Entity>,
    /// Incubators by operator.
    pub incubators_operated_by: By<incubator::Entity>,
    /// Second headquarters by id.
    pub second_hq: By<second_headquarters::Entity>,
    /// Second headquarters by parent group.
    pub second_hqs_of: By<second_headquarters::Entity>,
    /// Second headquarters by local entity.
    pub second_hqs_local: By<second_headquarters::Entity>,
    /// Second headquarters by park.
    pub second_hqs_in: By<second_headquarters::Entity>,
    /// Innovation centers by id.
    pub center: By<innovation_center::Entity>,
    /// Innovation centers by host park.
    pub centers_in: By<innovation_center::Entity>,
    /// Figures by park.
    pub figures_of: By<figure::Entity>,
    /// Figures by the organization they are about.
    pub figures_about: By<figure::Entity>,
}

impl Store {
    /// Every batch look-up, as `visibility` sees the registry.
    pub fn lookups(&self, visibility: Visibility) -> Lookups {
        let v = visibility;
        Lookups {
            park: By::new(self, park::Column::Id, v),
            park_children: By::new(self, park::Column::ParentId, v),
            park_designations: By::new(self, park_designation::Column::ParkId, v),
            organization: By::new(self, organization::Column::Id, v),
            organization_picked: Picked(By::new(self, organization::Column::Id, v)),
            designation: By::new(self, designation::Column::Id, v),
            designations_of: By::new(self, designation::Column::OrganizationId, v),
            incubator: By::new(self, incubator::Column::Id, v),
            incubators_in: By::new(self, incubator::Column::ParkId, v),
            incubators_operated_by: By::new(self, incubator::Column::OperatorId, v),
            second_hq: By::new(self, second_headquarters::Column::Id, v),
            second_hqs_of: By::new(self, second_headquarters::Column::ParentId, v),
            second_hqs_local: By::new(self, second_headquarters::Column::LocalEntityId, v),
            second_hqs_in: By::new(self, second_headquarters::Column::ParkId, v),
            center: By::new(self, innovation_center::Column::Id, v),
            centers_in: By::new(self, innovation_center::Column::HostParkId, v),
            figures_of: By::new(self, figure::Column::ParkId, v),
            figures_about: By::new(self, figure::Column::OrganizationId, v),
        }
    }

    /// The history look-up.
    pub fn histories(&self) -> Histories {
        Histories { store: self.clone() }
    }
}

/// One page of one record's history: its revisions after `after_version`, at most `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryKey {
    /// The record's kind.
    pub entity: EntityType,
    /// The record's id.
    pub id: Uuid,
    /// Revisions after this version (from the first when none).
    pub after_version: Option<i32>,
    /// At most this many.
    pub first: u64,
}

/// The history of many records: one statement per distinct page (`after_version`,
/// `first`) asked for, which for a list whose items all ask `history(first: n)` is one.
pub struct Histories {
    store: Store,
}

impl Batch for Histories {
    type Key = HistoryKey;
    type Record = Revision;

    async fn load(&self, keys: &[HistoryKey]) -> Result<HashMap<HistoryKey, Vec<Revision>>, StoreError> {
        // The records asked for, by page of history (`after_version`, `first`).
        type Page = (Option<i32>, u64);
        let mut pages: HashMap<Page, Vec<(EntityType, Uuid)>> = HashMap::new();
        for key in keys {
            pages.entry((key.after_version, key.first)).or_default().push((key.entity, key.id));
        }
        let mut out: HashMap<HistoryKey, Vec<Revision>> = HashMap::new();
        for ((after_version, first), records) in pages {
            for revision in write::revisions_of(self.store.conn(), &records, after_version, first).await? {
                let key = HistoryKey { entity: revision.entity_type, id: revision.entity_id, after_version, first };
                out.entry(key).or_default().push(revision);
            }
        }
        Ok(out)
    }
}

/// One page of the records of kind `E` under one parent (or under several parents at
/// once, for a park with its sub-parks), in the order they were recorded (primary-key
/// order: ids are UUID v7), read by keyset: the rows after `after` and before `before`,
/// `limit` of them from the start (or from the end when `backward`), plus one more
/// when it exists, so the caller knows whether the list goes on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The parent, or the parents whose records are read as one list.
    pub parents: Vec<Uuid>,
    /// Only records whose filter column (see [`Paged`]) holds this value.
    pub filter: Option<String>,
    /// Records after this id.
    pub after: Option<Uuid>,
    /// Records before this id.
    pub before: Option<Uuid>,
    /// Records returned at most (one more is read).
    pub limit: u64,
    /// Read from the end of the list (`last`), nearest to `before` first.
    pub backward: bool,
}

/// The records of one list counted: its parents and filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountKey {
    /// The parent, or the parents whose records are counted as one list.
    pub parents: Vec<Uuid>,
    /// Only records whose filter column holds this value.
    pub filter: Option<String>,
}

/// Pages of the records of kind `E` by their parent column: every key with one parent
/// and the same page shape (filter, cursors, size) in one statement, the rows numbered
/// per parent by a window function (`ROW_NUMBER() OVER (PARTITION BY parent ORDER BY
/// id)`) and cut at the page size, so a parent with 100,000 records costs what one with
/// 100 does. A key with several parents (sub-parks) is a statement of its own.
pub struct Paged<E: EntityTrait> {
    store: Store,
    parent: E::Column,
    filter: Option<E::Column>,
    visible: Condition,
}

/// Counts of the records of kind `E` by their parent column: keys with one parent and
/// the same filter in one `GROUP BY` statement.
pub struct Counted<E: EntityTrait> {
    store: Store,
    parent: E::Column,
    filter: Option<E::Column>,
    visible: Condition,
}

impl<E: Live> Paged<E> {
    fn new(store: &Store, parent: E::Column, filter: Option<E::Column>, visibility: Visibility) -> Self {
        Self { store: store.clone(), parent, filter, visible: visible::<E>(visibility) }
    }
}

impl<E: Live> Counted<E> {
    fn new(store: &Store, parent: E::Column, filter: Option<E::Column>, visibility: Visibility) -> Self {
        Self { store: store.clone(), parent, filter, visible: visible::<E>(visibility) }
    }
}

fn primary_column<E: EntityTrait>() -> E::Column {
    E::PrimaryKey::iter().next().map(PrimaryKeyToColumn::into_column).expect("every entity has a primary key")
}

impl<E> Paged<E>
where
    E: EntityTrait + Sync,
    E::Model: sea_orm::FromQueryResult + Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    /// The condition every row of a page meets, beside its parents.
    fn bounds(&self, key: &PageKey) -> Condition {
        let id = primary_column::<E>();
        let mut condition = self.visible.clone();
        if let Some(after) = key.after {
            condition = condition.add(id.gt(after));
        }
        if let Some(before) = key.before {
            condition = condition.add(id.lt(before));
        }
        if let (Some(column), Some(value)) = (self.filter, &key.filter) {
            condition = condition.add(column.eq(value.clone()));
        }
        condition
    }

    /// The page of `key` by one ordered, limited read (for a key of several parents, or
    /// a batch of one).
    async fn plain(&self, key: &PageKey) -> Result<Vec<E::Model>, StoreError> {
        let id = primary_column::<E>();
        let order = if key.backward { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
        Ok(E::find()
            .filter(self.bounds(key).add(self.parent.is_in(key.parents.iter().copied())))
            .order_by(id, order)
            .limit(Some(key.limit + 1))
            .all(self.store.conn())
            .await?)
    }

    async fn numbered(&self, parents: &[Uuid], shape: &PageKey) -> Result<Vec<E::Model>, StoreError> {
        use sea_orm::sea_query::{Alias, ExprTrait, OverStatement, Query, WindowStatement};
        use sea_orm::{ConnectionTrait, FromQueryResult, Order};
        let id = primary_column::<E>();
        let order = if shape.backward { Order::Desc } else { Order::Asc };
        let mut window = WindowStatement::new();
        window.partition_by(self.parent).order_by(id, order.clone());
        let mut numbered = Query::select();
        numbered
            .columns(E::Column::iter())
            .expr_window_as(sea_orm::sea_query::Expr::cust("ROW_NUMBER()"), window, Alias::new("rn"))
            .from(E::default())
            .cond_where(self.bounds(shape).add(self.parent.is_in(parents.iter().copied())));
        let select = Query::select()
            .columns(E::Column::iter())
            .from_subquery(numbered.to_owned(), Alias::new("numbered"))
            .and_where(sea_orm::sea_query::Expr::col(Alias::new("rn")).lte(shape.limit + 1))
            .order_by(self.parent, Order::Asc)
            .order_by(id, order)
            .to_owned();
        let rows = self.store.conn().query_all(&select).await?;
        rows.iter().map(|row| Ok(E::Model::from_query_result(row, "")?)).collect()
    }
}

impl<E> Batch for Paged<E>
where
    E: EntityTrait + Sync,
    E::Model: sea_orm::FromQueryResult + Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Key = PageKey;
    type Record = E::Model;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, Vec<E::Model>>, StoreError> {
        let mut out: HashMap<PageKey, Vec<E::Model>> = HashMap::new();
        // Keys of one parent, by page shape (the key with its parent cleared).
        let mut shapes: HashMap<PageKey, Vec<Uuid>> = HashMap::new();
        for key in keys {
            if let [parent] = key.parents.as_slice() {
                shapes.entry(PageKey { parents: Vec::new(), ..key.clone() }).or_default().push(*parent);
            } else if !key.parents.is_empty() {
                out.insert(key.clone(), self.plain(key).await?);
            }
        }
        for (shape, mut parents) in shapes {
            parents.sort_unstable();
            parents.dedup();
            if let [parent] = parents.as_slice() {
                // One parent: a plain ordered read, which an index on (parent, id) ends
                // after the page's rows.
                let key = PageKey { parents: vec![*parent], ..shape };
                let rows = self.plain(&key).await?;
                out.insert(key, rows);
                continue;
            }
            for row in self.numbered(&parents, &shape).await? {
                if let Ok(parent) = <Uuid as ValueType>::try_from(row.get(self.parent)) {
                    out.entry(PageKey { parents: vec![parent], ..shape.clone() }).or_default().push(row);
                }
            }
        }
        Ok(out)
    }
}

impl<E> Batch for Counted<E>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Key = CountKey;
    type Record = u64;

    async fn load(&self, keys: &[CountKey]) -> Result<HashMap<CountKey, Vec<u64>>, StoreError> {
        use sea_orm::sea_query::{Alias, Expr, Query};
        use sea_orm::{ConnectionTrait, Order, PaginatorTrait};
        let mut out: HashMap<CountKey, Vec<u64>> = HashMap::new();
        let condition = |key: &CountKey| {
            let mut condition = self.visible.clone();
            if let (Some(column), Some(value)) = (self.filter, &key.filter) {
                condition = condition.add(column.eq(value.clone()));
            }
            condition
        };
        let mut by_filter: HashMap<Option<String>, Vec<Uuid>> = HashMap::new();
        for key in keys {
            if let [parent] = key.parents.as_slice() {
                by_filter.entry(key.filter.clone()).or_default().push(*parent);
            } else {
                let count = E::find()
                    .filter(condition(key).add(self.parent.is_in(key.parents.iter().copied())))
                    .count(self.store.conn())
                    .await?;
                out.insert(key.clone(), vec![count]);
            }
        }
        for (filter, mut parents) in by_filter {
            parents.sort_unstable();
            parents.dedup();
            let shape = CountKey { parents: Vec::new(), filter };
            let select = Query::select()
                .column(self.parent)
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
                .from(E::default())
                .cond_where(condition(&shape).add(self.parent.is_in(parents.iter().copied())))
                .group_by_col(self.parent)
                .order_by(self.parent, Order::Asc)
                .to_owned();
            for row in self.store.conn().query_all(&select).await? {
                let parent: Uuid = row.try_get_by_index(0)?;
                let n: i64 = row.try_get_by_index(1)?;
                out.insert(CountKey { parents: vec![parent], filter: shape.filter.clone() }, vec![n.max(0) as u64]);
            }
            // Parents with no records count zero.
            for parent in parents {
                out.entry(CountKey { parents: vec![parent], filter: shape.filter.clone() }).or_insert_with(|| vec![0]);
            }
        }
        Ok(out)
    }
}

/// The links read by keyset page, and counted, by either end.
pub struct LinkPages {
    /// Locations by park, filtered by role.
    pub locations_in: Paged<enterprise_location::Entity>,
    /// Locations by organization, filtered by role.
    pub locations_of: Paged<enterprise_location::Entity>,
    /// Incubations by enterprise, filtered by status.
    pub incubations_of: Paged<incubation::Entity>,
    /// Incubations by incubator, filtered by status.
    pub incubations_at: Paged<incubation::Entity>,
    /// Memberships by center, filtered by role.
    pub members_of: Paged<innovation_center_membership::Entity>,
    /// Memberships by organization, filtered by role.
    pub memberships_of: Paged<innovation_center_membership::Entity>,
}

/// The counts of the lists of [`LinkPages`].
pub struct LinkCounts {
    /// Locations by park, filtered by role.
    pub locations_in: Counted<enterprise_location::Entity>,
    /// Locations by organization, filtered by role.
    pub locations_of: Counted<enterprise_location::Entity>,
    /// Incubations by enterprise, filtered by status.
    pub incubations_of: Counted<incubation::Entity>,
    /// Incubations by incubator, filtered by status.
    pub incubations_at: Counted<incubation::Entity>,
    /// Memberships by center, filtered by role.
    pub members_of: Counted<innovation_center_membership::Entity>,
    /// Memberships by organization, filtered by role.
    pub memberships_of: Counted<innovation_center_membership::Entity>,
}

macro_rules! link_lists {
    ($list:ident, $each:ident, $store:expr, $v:expr) => {{
        use enterprise_location::Column as L;
        use incubation::Column as I;
        use innovation_center_membership::Column as M;
        $list {
            locations_in: $each::new($store, L::ParkId, Some(L::Role), $v),
            locations_of: $each::new($store, L::OrganizationId, Some(L::Role), $v),
            incubations_of: $each::new($store, I::OrganizationId, Some(I::Status), $v),
            incubations_at: $each::new($store, I::IncubatorId, Some(I::Status), $v),
            members_of: $each::new($store, M::InnovationCenterId, Some(M::Role), $v),
            memberships_of: $each::new($store, M::OrganizationId, Some(M::Role), $v),
        }
    }};
}

impl Store {
    /// The keyset pages of every link list, as `visibility` sees the registry.
    pub fn link_pages(&self, visibility: Visibility) -> LinkPages {
        link_lists!(LinkPages, Paged, self, visibility)
    }

    /// The counts of every link list, as `visibility` sees the registry.
    pub fn link_counts(&self, visibility: Visibility) -> LinkCounts {
        link_lists!(LinkCounts, Counted, self, visibility)
    }
}
