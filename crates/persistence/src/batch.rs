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
use sea_orm::{ColumnTrait, Condition, EntityTrait, Iterable, ModelTrait, PrimaryKeyToColumn, QueryFilter, QueryOrder};
use uuid::Uuid;

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
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let unique: Vec<Uuid> = keys.iter().copied().collect::<HashSet<_>>().into_iter().collect();
        let mut select = E::find().filter(self.visible.clone()).filter(self.column.is_in(unique));
        for key in E::PrimaryKey::iter() {
            select = select.order_by_asc(key.into_column());
        }
        let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
        for row in select.all(self.store.conn()).await? {
            if let Ok(key) = <Uuid as ValueType>::try_from(row.get(self.column)) {
                grouped.entry(key).or_default().push(row);
            }
        }
        Ok(grouped)
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
    /// Designations by id.
    pub designation: By<designation::Entity>,
    /// Designations by organization.
    pub designations_of: By<designation::Entity>,
    /// Locations by organization.
    pub locations_of: By<enterprise_location::Entity>,
    /// Locations by park.
    pub locations_in: By<enterprise_location::Entity>,
    /// Incubators by id.
    pub incubator: By<incubator::Entity>,
    /// Incubators by park.
    pub incubators_in: By<incubator::Entity>,
    /// Incubators by operator.
    pub incubators_operated_by: By<incubator::Entity>,
    /// Incubations by enterprise.
    pub incubations_of: By<incubation::Entity>,
    /// Incubations by incubator.
    pub incubations_at: By<incubation::Entity>,
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
    /// Memberships by center.
    pub members_of: By<innovation_center_membership::Entity>,
    /// Memberships by organization.
    pub memberships_of: By<innovation_center_membership::Entity>,
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
            designation: By::new(self, designation::Column::Id, v),
            designations_of: By::new(self, designation::Column::OrganizationId, v),
            locations_of: By::new(self, enterprise_location::Column::OrganizationId, v),
            locations_in: By::new(self, enterprise_location::Column::ParkId, v),
            incubator: By::new(self, incubator::Column::Id, v),
            incubators_in: By::new(self, incubator::Column::ParkId, v),
            incubators_operated_by: By::new(self, incubator::Column::OperatorId, v),
            incubations_of: By::new(self, incubation::Column::OrganizationId, v),
            incubations_at: By::new(self, incubation::Column::IncubatorId, v),
            second_hq: By::new(self, second_headquarters::Column::Id, v),
            second_hqs_of: By::new(self, second_headquarters::Column::ParentId, v),
            second_hqs_local: By::new(self, second_headquarters::Column::LocalEntityId, v),
            second_hqs_in: By::new(self, second_headquarters::Column::ParkId, v),
            center: By::new(self, innovation_center::Column::Id, v),
            centers_in: By::new(self, innovation_center::Column::HostParkId, v),
            members_of: By::new(self, innovation_center_membership::Column::InnovationCenterId, v),
            memberships_of: By::new(self, innovation_center_membership::Column::OrganizationId, v),
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
