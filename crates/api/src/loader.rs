//! Data loaders: every nested field is fetched in batches, one statement per batch and
//! per kind of link, so a page of 100 enterprises with their parks costs the same
//! number of statements as a page of 10.
//!
//! The batch queries are the store's ([`parkgraph_persistence::batch`]); a loader here
//! only collects the keys. There are two sets: the live registry (for partners and
//! anonymous callers) and the registry with its archived records (for staff), and
//! [`crate::object::loaders`] picks the caller's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use parkgraph_persistence::batch::{Batch, By, CountKey, Counted, Histories, HistoryKey, PageKey, Paged, Picked};
use parkgraph_persistence::entity::{
    designation, enterprise_location, figure, incubation, incubator, innovation_center, innovation_center_membership,
    organization, park, park_designation, second_headquarters,
};
use parkgraph_persistence::query::{ParkTree, Visibility};
use parkgraph_persistence::{Store, StoreError};
use uuid::Uuid;

use crate::error::ApiResult;

/// A loader over one of the store's batch look-ups.
pub struct Batched<B>(B);

impl<B: Batch> Loader<B::Key> for Batched<B> {
    type Value = Vec<B::Record>;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[B::Key]) -> Result<HashMap<B::Key, Self::Value>, Self::Error> {
        self.0.load(keys).await.map_err(Arc::new)
    }
}

/// Loads the park tree (key `()`), once per batch.
pub struct TreeLoader {
    store: Store,
    visibility: Visibility,
}

impl Loader<()> for TreeLoader {
    type Value = Arc<ParkTree>;
    type Error = Arc<StoreError>;

    async fn load(&self, _: &[()]) -> Result<HashMap<(), Self::Value>, Self::Error> {
        let tree = self.store.park_tree(self.visibility).await.map_err(Arc::new)?;
        Ok(HashMap::from([((), Arc::new(tree))]))
    }
}

/// A loader of records of kind `E` by a key.
pub type ByKey<E> = DataLoader<Batched<By<E>>>;

/// A list of links read a page at a time in SQL (by keyset) and counted on demand: the
/// pages and counts of every parent a level of the response asks for, batched.
pub struct LinkList<P, C> {
    /// Pages of links by parent (see [`PageKey`]).
    pub pages: DataLoader<Batched<P>>,
    /// Counts of links by parent (see [`CountKey`]).
    pub counts: DataLoader<Batched<C>>,
}

/// The link list of records of kind `E` by a parent column.
pub type LinkListOf<E> = LinkList<Paged<E>, Counted<E>>;

impl<P, C> LinkList<P, C>
where
    P: Batch<Key = PageKey>,
    C: Batch<Key = CountKey, Record = u64>,
{
    fn new(pages: P, counts: C, delay: Duration) -> Self {
        Self {
            pages: DataLoader::new(Batched(pages), tokio::spawn).delay(delay),
            counts: DataLoader::new(Batched(counts), tokio::spawn).delay(delay),
        }
    }

    /// The rows of one page (one more than its size when the list goes on).
    pub async fn page(&self, key: PageKey) -> async_graphql::Result<Vec<P::Record>> {
        Ok(self.pages.load_one(key).await.api()?.unwrap_or_default())
    }

    /// The length of one list.
    pub async fn count(&self, key: CountKey) -> async_graphql::Result<u64> {
        Ok(self.counts.load_one(key).await.api()?.and_then(|n| n.first().copied()).unwrap_or(0))
    }
}

/// One loader per (table, key column) the schema traverses, as one audience sees the
/// registry.
pub struct Loaders {
    /// Parks by id.
    pub park: ByKey<park::Entity>,
    /// Parks by parent.
    pub park_children: ByKey<park::Entity>,
    /// Park designations by park.
    pub park_designations: ByKey<park_designation::Entity>,
    /// The park tree.
    pub tree: DataLoader<TreeLoader>,
    /// Organizations by id.
    pub organization: ByKey<organization::Entity>,
    /// Organizations by id, each read with only the columns its key names.
    pub organization_picked: DataLoader<Batched<Picked<organization::Entity>>>,
    /// Designations by id.
    pub designation: ByKey<designation::Entity>,
    /// Designations by organization.
    pub designations_of: ByKey<designation::Entity>,
    /// Incubators by id.
    pub incubator: ByKey<incubator::Entity>,
    /// Incubators by park.
    pub incubators_in: ByKey<incubator::Entity>,
    /// Incubators by operator.
    pub incubators_operated_by: ByKey<incubator::Entity>,
    /// Second headquarters by id.
    pub second_hq: ByKey<second_headquarters::Entity>,
    /// Second headquarters by parent group.
    pub second_hqs_of: ByKey<second_headquarters::Entity>,
    /// Second headquarters by local entity.
    pub second_hqs_local: ByKey<second_headquarters::Entity>,
    /// Second headquarters by park.
    pub second_hqs_in: ByKey<second_headquarters::Entity>,
    /// Innovation centers by id.
    pub center: ByKey<innovation_center::Entity>,
    /// Innovation centers by host park.
    pub centers_in: ByKey<innovation_center::Entity>,
    /// Figures by park.
    pub figures_of: ByKey<figure::Entity>,
    /// Figures by the organization they are about.
    pub figures_about: ByKey<figure::Entity>,
    /// Pages of records' history (read by staff only).
    pub history: DataLoader<Batched<Histories>>,
    /// Locations by park, paged in SQL.
    pub locations_in_pages: LinkListOf<enterprise_location::Entity>,
    /// Locations by organization, paged in SQL.
    pub locations_of_pages: LinkListOf<enterprise_location::Entity>,
    /// Incubations by enterprise, paged in SQL.
    pub incubations_of_pages: LinkListOf<incubation::Entity>,
    /// Incubations by incubator, paged in SQL.
    pub incubations_at_pages: LinkListOf<incubation::Entity>,
    /// Memberships by center, paged in SQL.
    pub members_of_pages: LinkListOf<innovation_center_membership::Entity>,
    /// Memberships by organization, paged in SQL.
    pub memberships_of_pages: LinkListOf<innovation_center_membership::Entity>,
    /// What this set sees.
    pub visibility: Visibility,
}

impl Loaders {
    /// Loaders over the store, seeing the registry as `visibility` does. They cache
    /// nothing between batches, so one set can serve every request of its audience.
    pub fn new(store: &Store, visibility: Visibility, delay: Duration) -> Self {
        fn by<B: Batch>(batch: B, delay: Duration) -> DataLoader<Batched<B>> {
            DataLoader::new(Batched(batch), tokio::spawn).delay(delay)
        }
        let l = store.lookups(visibility);
        let (pages, counts) = (store.link_pages(visibility), store.link_counts(visibility));
        Self {
            park: by(l.park, delay),
            park_children: by(l.park_children, delay),
            park_designations: by(l.park_designations, delay),
            tree: DataLoader::new(TreeLoader { store: store.clone(), visibility }, tokio::spawn).delay(delay),
            organization: by(l.organization, delay),
            organization_picked: by(l.organization_picked, delay),
            designation: by(l.designation, delay),
            designations_of: by(l.designations_of, delay),
            incubator: by(l.incubator, delay),
            incubators_in: by(l.incubators_in, delay),
            incubators_operated_by: by(l.incubators_operated_by, delay),
            second_hq: by(l.second_hq, delay),
            second_hqs_of: by(l.second_hqs_of, delay),
            second_hqs_local: by(l.second_hqs_local, delay),
            second_hqs_in: by(l.second_hqs_in, delay),
            center: by(l.center, delay),
            centers_in: by(l.centers_in, delay),
            figures_of: by(l.figures_of, delay),
            figures_about: by(l.figures_about, delay),
            history: by(store.histories(), delay),
            locations_in_pages: LinkList::new(pages.locations_in, counts.locations_in, delay),
            locations_of_pages: LinkList::new(pages.locations_of, counts.locations_of, delay),
            incubations_of_pages: LinkList::new(pages.incubations_of, counts.incubations_of, delay),
            incubations_at_pages: LinkList::new(pages.incubations_at, counts.incubations_at, delay),
            members_of_pages: LinkList::new(pages.members_of, counts.members_of, delay),
            memberships_of_pages: LinkList::new(pages.memberships_of, counts.memberships_of, delay),
            visibility,
        }
    }
}

/// The two loader sets of a schema: the live registry, and the registry with its
/// archived records (staff).
pub struct Audiences {
    /// For partners and anonymous callers.
    pub live: Loaders,
    /// For staff.
    pub staff: Loaders,
}

impl Audiences {
    /// Both sets over one store.
    pub fn new(store: &Store, delay: Duration) -> Self {
        Self {
            live: Loaders::new(store, Visibility::Live, delay),
            staff: Loaders::new(store, Visibility::WithArchived, delay),
        }
    }
}

/// The rows for one key (empty when none).
pub async fn many<B: Batch<Key = Uuid>>(
    loader: &DataLoader<Batched<B>>,
    key: Uuid,
) -> async_graphql::Result<Vec<B::Record>> {
    Ok(loader.load_one(key).await.api()?.unwrap_or_default())
}

/// The rows for several keys, concatenated in key order.
pub async fn many_of<B: Batch<Key = Uuid>>(
    loader: &DataLoader<Batched<B>>,
    keys: &[Uuid],
) -> async_graphql::Result<Vec<B::Record>> {
    let mut found = loader.load_many(keys.iter().copied()).await.api()?;
    Ok(keys.iter().filter_map(|k| found.remove(k)).flatten().collect())
}

/// The row with this id, if any (and if the loader's audience sees it).
pub async fn one<B: Batch<Key = Uuid>>(
    loader: &DataLoader<Batched<B>>,
    id: Uuid,
) -> async_graphql::Result<Option<B::Record>> {
    Ok(loader.load_one(id).await.api()?.and_then(|rows| rows.into_iter().next()))
}

/// The rows with these keys, in the order of `keys`, `None` for keys with no row.
pub async fn each<B: Batch>(
    loader: &DataLoader<Batched<B>>,
    keys: &[B::Key],
) -> async_graphql::Result<Vec<Option<B::Record>>> {
    let found = loader.load_many(keys.iter().cloned()).await.api()?;
    Ok(keys.iter().map(|key| found.get(key).and_then(|rows| rows.first().cloned())).collect())
}

/// One page of one record's history.
pub async fn history(
    loaders: &Loaders,
    key: HistoryKey,
) -> async_graphql::Result<Vec<parkgraph_persistence::write::Revision>> {
    Ok(loaders.history.load_one(key).await.api()?.unwrap_or_default())
}

/// The park tree.
pub async fn tree(loaders: &Loaders) -> async_graphql::Result<Arc<ParkTree>> {
    Ok(loaders.tree.load_one(()).await.api()?.unwrap_or_default())
}
