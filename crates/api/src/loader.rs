//! Data loaders: every nested field is fetched in batches, one statement per batch and
//! per kind of link, so a page of 100 enterprises with their parks costs the same
//! number of statements as a page of 10.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{
    designation, enterprise_location, figure, incubation, incubator, innovation_center, innovation_center_membership,
    organization, park, park_designation, second_headquarters,
};
use parkgraph_persistence::query::{ParkTree, by_keys};
use sea_orm::{DatabaseConnection, EntityTrait, ModelTrait, sea_query::ValueType};
use uuid::Uuid;

use crate::error::ApiResult;

/// Loads the rows of `E` whose `column` holds one of the keys, grouped by key.
pub struct ByColumn<E: EntityTrait> {
    db: DatabaseConnection,
    column: E::Column,
    _entity: PhantomData<E>,
}

impl<E> Loader<Uuid> for ByColumn<E>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Sync,
    E::Column: Sync,
{
    type Value = Vec<E::Model>;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = by_keys::<E, _>(&self.db, self.column, keys).await.map_err(Arc::new)?;
        let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
        for row in rows {
            if let Ok(key) = <Uuid as ValueType>::try_from(row.get(self.column)) {
                grouped.entry(key).or_default().push(row);
            }
        }
        Ok(grouped)
    }
}

/// Loads the whole park tree (key `()`), once per batch.
pub struct TreeLoader {
    db: DatabaseConnection,
}

impl Loader<()> for TreeLoader {
    type Value = Arc<ParkTree>;
    type Error = Arc<StoreError>;

    async fn load(&self, _: &[()]) -> Result<HashMap<(), Self::Value>, Self::Error> {
        let tree = ParkTree::load(&self.db).await.map_err(Arc::new)?;
        Ok(HashMap::from([((), Arc::new(tree))]))
    }
}

/// One loader per (table, key column) the schema traverses.
pub struct Loaders {
    /// Parks by id.
    pub park: DataLoader<ByColumn<park::Entity>>,
    /// Parks by parent.
    pub park_children: DataLoader<ByColumn<park::Entity>>,
    /// Park designations by park.
    pub park_designations: DataLoader<ByColumn<park_designation::Entity>>,
    /// The park tree.
    pub tree: DataLoader<TreeLoader>,
    /// Organizations by id.
    pub organization: DataLoader<ByColumn<organization::Entity>>,
    /// Designations by id.
    pub designation: DataLoader<ByColumn<designation::Entity>>,
    /// Designations by organization.
    pub designations_of: DataLoader<ByColumn<designation::Entity>>,
    /// Locations by organization.
    pub locations_of: DataLoader<ByColumn<enterprise_location::Entity>>,
    /// Locations by park.
    pub locations_in: DataLoader<ByColumn<enterprise_location::Entity>>,
    /// Incubators by id.
    pub incubator: DataLoader<ByColumn<incubator::Entity>>,
    /// Incubators by park.
    pub incubators_in: DataLoader<ByColumn<incubator::Entity>>,
    /// Incubators by operator.
    pub incubators_operated_by: DataLoader<ByColumn<incubator::Entity>>,
    /// Incubations by enterprise.
    pub incubations_of: DataLoader<ByColumn<incubation::Entity>>,
    /// Incubations by incubator.
    pub incubations_at: DataLoader<ByColumn<incubation::Entity>>,
    /// Second headquarters by id.
    pub second_hq: DataLoader<ByColumn<second_headquarters::Entity>>,
    /// Second headquarters by parent group.
    pub second_hqs_of: DataLoader<ByColumn<second_headquarters::Entity>>,
    /// Second headquarters by local entity.
    pub second_hqs_local: DataLoader<ByColumn<second_headquarters::Entity>>,
    /// Second headquarters by park.
    pub second_hqs_in: DataLoader<ByColumn<second_headquarters::Entity>>,
    /// Innovation centers by id.
    pub center: DataLoader<ByColumn<innovation_center::Entity>>,
    /// Innovation centers by host park.
    pub centers_in: DataLoader<ByColumn<innovation_center::Entity>>,
    /// Memberships by center.
    pub members_of: DataLoader<ByColumn<innovation_center_membership::Entity>>,
    /// Memberships by organization.
    pub memberships_of: DataLoader<ByColumn<innovation_center_membership::Entity>>,
    /// Figures by park.
    pub figures_of: DataLoader<ByColumn<figure::Entity>>,
    /// Figures by the organization they are about.
    pub figures_about: DataLoader<ByColumn<figure::Entity>>,
}

fn by<E>(db: &DatabaseConnection, delay: Duration, column: E::Column) -> DataLoader<ByColumn<E>>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Sync,
    E::Column: Sync,
{
    DataLoader::new(ByColumn { db: db.clone(), column, _entity: PhantomData }, tokio::spawn).delay(delay)
}

impl Loaders {
    /// Loaders over one connection pool. They cache nothing between batches, so one set
    /// can serve every request.
    pub fn new(db: &DatabaseConnection, delay: Duration) -> Self {
        Self {
            park: by(db, delay, park::Column::Id),
            park_children: by(db, delay, park::Column::ParentId),
            park_designations: by(db, delay, park_designation::Column::ParkId),
            tree: DataLoader::new(TreeLoader { db: db.clone() }, tokio::spawn).delay(delay),
            organization: by(db, delay, organization::Column::Id),
            designation: by(db, delay, designation::Column::Id),
            designations_of: by(db, delay, designation::Column::OrganizationId),
            locations_of: by(db, delay, enterprise_location::Column::OrganizationId),
            locations_in: by(db, delay, enterprise_location::Column::ParkId),
            incubator: by(db, delay, incubator::Column::Id),
            incubators_in: by(db, delay, incubator::Column::ParkId),
            incubators_operated_by: by(db, delay, incubator::Column::OperatorId),
            incubations_of: by(db, delay, incubation::Column::OrganizationId),
            incubations_at: by(db, delay, incubation::Column::IncubatorId),
            second_hq: by(db, delay, second_headquarters::Column::Id),
            second_hqs_of: by(db, delay, second_headquarters::Column::ParentId),
            second_hqs_local: by(db, delay, second_headquarters::Column::LocalEntityId),
            second_hqs_in: by(db, delay, second_headquarters::Column::ParkId),
            center: by(db, delay, innovation_center::Column::Id),
            centers_in: by(db, delay, innovation_center::Column::HostParkId),
            members_of: by(db, delay, innovation_center_membership::Column::InnovationCenterId),
            memberships_of: by(db, delay, innovation_center_membership::Column::OrganizationId),
            figures_of: by(db, delay, figure::Column::ParkId),
            figures_about: by(db, delay, figure::Column::OrganizationId),
        }
    }
}

/// The rows for one key (empty when none).
pub async fn many<E>(loader: &DataLoader<ByColumn<E>>, key: Uuid) -> async_graphql::Result<Vec<E::Model>>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Sync,
    E::Column: Sync,
{
    Ok(loader.load_one(key).await.api()?.unwrap_or_default())
}

/// The rows for several keys, concatenated in key order.
pub async fn many_of<E>(loader: &DataLoader<ByColumn<E>>, keys: &[Uuid]) -> async_graphql::Result<Vec<E::Model>>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Sync,
    E::Column: Sync,
{
    let mut found = loader.load_many(keys.iter().copied()).await.api()?;
    Ok(keys.iter().filter_map(|k| found.remove(k)).flatten().collect())
}

/// The row with this id, if any.
pub async fn one<E>(loader: &DataLoader<ByColumn<E>>, id: Uuid) -> async_graphql::Result<Option<E::Model>>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Sync,
    E::Column: Sync,
{
    Ok(loader.load_one(id).await.api()?.and_then(|rows| rows.into_iter().next()))
}

/// The rows with these ids, in the order of `ids`, skipping ids that do not exist.
pub async fn each<E>(loader: &DataLoader<ByColumn<E>>, ids: &[Uuid]) -> async_graphql::Result<Vec<Option<E::Model>>>
where
    E: EntityTrait + Sync,
    E::Model: Clone + Sync,
    E::Column: Sync,
{
    let found = loader.load_many(ids.iter().copied()).await.api()?;
    Ok(ids.iter().map(|id| found.get(id).and_then(|rows| rows.first().cloned())).collect())
}

/// The park tree.
pub async fn tree(loaders: &Loaders) -> async_graphql::Result<Arc<ParkTree>> {
    Ok(loaders.tree.load_one(()).await.api()?.unwrap_or_default())
}
