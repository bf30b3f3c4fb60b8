//! Reading the documents of the index from the database: one [`SearchDoc`] per live
//! organization, park, incubator and innovation center, with the fields derived from its
//! links (the parks it is in, with their ancestors; its designations, incubators,
//! innovation centers and second-headquarters parents).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{
    designation, enterprise_location, incubation, incubator, innovation_center, innovation_center_membership,
    organization, park, second_headquarters,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// How many ids one `IN (…)` statement carries.
const CHUNK: usize = 1000;

/// The kind of record a document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    /// An organization (enterprise, university, institute …).
    Organization,
    /// A park.
    Park,
    /// An incubator.
    Incubator,
    /// An innovation center.
    InnovationCenter,
}

impl DocKind {
    /// Every kind.
    pub const ALL: [Self; 4] = [Self::Organization, Self::Park, Self::Incubator, Self::InnovationCenter];

    /// The code stored in the index.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Organization => "organization",
            Self::Park => "park",
            Self::Incubator => "incubator",
            Self::InnovationCenter => "innovation_center",
        }
    }

    /// The kind of a code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// One document of the index: what is searched, filtered and counted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchDoc {
    /// The record's id.
    pub id: Uuid,
    /// Its kind (`None` only in `Default`).
    pub kind: Option<DocKind>,
    /// The record's own kind code (`ENTERPRISE`, `NATIONAL_HIGH_TECH_ZONE` …).
    pub subkind: Option<String>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Registered legal name.
    pub legal_name: Option<String>,
    /// Unified Social Credit Code.
    pub uscc: Option<String>,
    /// Industry (for an innovation center: its field).
    pub industry: Option<String>,
    /// City.
    pub city: Option<String>,
    /// District.
    pub district: Option<String>,
    /// Status code (organizations).
    pub status: Option<String>,
    /// Designation kind codes held (organizations).
    pub designations: Vec<String>,
    /// The parks it is in, with every ancestor of each (a park: itself and its ancestors).
    pub park_ids: Vec<Uuid>,
    /// Incubators it is (or was) incubated by (live links).
    pub incubator_ids: Vec<Uuid>,
    /// Innovation centers it takes part in.
    pub center_ids: Vec<Uuid>,
    /// Parent groups whose second headquarters it is the local entity of.
    pub second_hq_parent_ids: Vec<Uuid>,
    /// Names (Chinese and English) of the parks in `park_ids`, for organizations,
    /// incubators and innovation centers: `光谷 生物` finds the firms of 光谷生物城.
    pub place_names: Vec<String>,
    /// Founded (organizations, incubators), established (parks), approved (centers).
    pub founded_on: Option<NaiveDate>,
    /// Highest valuation in US dollars among its designations.
    pub valuation_usd: Option<i64>,
    /// Registered capital in yuan.
    pub registered_capital_cny: Option<i64>,
    /// Employees.
    pub headcount: Option<i64>,
}

/// Records to (re)load, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Organizations.
    pub organizations: HashSet<Uuid>,
    /// Parks.
    pub parks: HashSet<Uuid>,
    /// Incubators.
    pub incubators: HashSet<Uuid>,
    /// Innovation centers.
    pub centers: HashSet<Uuid>,
}

impl Targets {
    /// True when nothing is to be loaded.
    pub fn is_empty(&self) -> bool {
        self.organizations.is_empty() && self.parks.is_empty() && self.incubators.is_empty() && self.centers.is_empty()
    }
}

/// Every live park's parent, to walk ancestors.
#[derive(Debug, Clone, Default)]
pub struct ParkTree {
    parent: HashMap<Uuid, Option<Uuid>>,
    names: HashMap<Uuid, (String, Option<String>)>,
}

impl ParkTree {
    /// Loads the live parks' tree.
    pub async fn load(conn: &impl ConnectionTrait) -> Result<Self, StoreError> {
        let rows: Vec<(Uuid, Option<Uuid>, String, Option<String>)> = park::Entity::find()
            .select_only()
            .column(park::Column::Id)
            .column(park::Column::ParentId)
            .column(park::Column::NameZh)
            .column(park::Column::NameEn)
            .filter(park::Column::ArchivedAt.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        let mut tree = Self::default();
        for (id, parent, name_zh, name_en) in rows {
            tree.parent.insert(id, parent);
            tree.names.insert(id, (name_zh, name_en));
        }
        Ok(tree)
    }

    /// The Chinese and English names of these parks.
    pub fn names_of(&self, parks: &[Uuid]) -> Vec<String> {
        let mut out = Vec::new();
        for park in parks {
            if let Some((zh, en)) = self.names.get(park) {
                out.push(zh.clone());
                out.extend(en.clone());
            }
        }
        out
    }

    /// The park and its ancestors (only live parks; bounded against cycles).
    pub fn with_ancestors(&self, id: Uuid, out: &mut Vec<Uuid>) {
        let mut current = Some(id);
        let mut steps = 0;
        while let Some(park) = current {
            let Some(parent) = self.parent.get(&park) else { break };
            if !out.contains(&park) {
                out.push(park);
            }
            current = *parent;
            steps += 1;
            if steps > 64 {
                break;
            }
        }
    }

    /// The park and every park inside it.
    pub fn subtree(&self, root: Uuid) -> HashSet<Uuid> {
        let mut out = HashSet::from([root]);
        loop {
            let before = out.len();
            for (child, parent) in &self.parent {
                if parent.is_some_and(|p| out.contains(&p)) {
                    out.insert(*child);
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }
}

fn dedup(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Loads the documents of `targets`: `(id, Some(doc))` for a live record, `(id, None)` for
/// one that is archived or gone (its document is to be deleted).
pub async fn load(
    conn: &impl ConnectionTrait,
    tree: &ParkTree,
    targets: &Targets,
) -> Result<Vec<(Uuid, Option<SearchDoc>)>, StoreError> {
    let mut out = Vec::new();
    let ids: Vec<Uuid> = targets.organizations.iter().copied().collect();
    for chunk in ids.chunks(CHUNK) {
        let rows =
            organization::Entity::find().filter(organization::Column::Id.is_in(chunk.to_vec())).all(conn).await?;
        let docs = organizations(conn, tree, rows).await?;
        push_results(&mut out, chunk, docs);
    }
    let ids: Vec<Uuid> = targets.parks.iter().copied().collect();
    for chunk in ids.chunks(CHUNK) {
        let rows = park::Entity::find().filter(park::Column::Id.is_in(chunk.to_vec())).all(conn).await?;
        push_results(&mut out, chunk, parks(tree, rows));
    }
    let ids: Vec<Uuid> = targets.incubators.iter().copied().collect();
    for chunk in ids.chunks(CHUNK) {
        let rows = incubator::Entity::find().filter(incubator::Column::Id.is_in(chunk.to_vec())).all(conn).await?;
        push_results(&mut out, chunk, incubators(tree, rows));
    }
    let ids: Vec<Uuid> = targets.centers.iter().copied().collect();
    for chunk in ids.chunks(CHUNK) {
        let rows = innovation_center::Entity::find()
            .filter(innovation_center::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?;
        push_results(&mut out, chunk, centers(tree, rows));
    }
    Ok(out)
}

fn push_results(out: &mut Vec<(Uuid, Option<SearchDoc>)>, ids: &[Uuid], docs: Vec<SearchDoc>) {
    let mut by_id: HashMap<Uuid, SearchDoc> = docs.into_iter().map(|d| (d.id, d)).collect();
    for id in ids {
        out.push((*id, by_id.remove(id)));
    }
}

/// Calls `sink` with every live record's document, a page at a time (for a rebuild).
pub async fn load_all<F>(conn: &impl ConnectionTrait, page: u64, mut sink: F) -> Result<(), StoreError>
where
    F: FnMut(Vec<SearchDoc>) -> Result<(), StoreError>,
{
    let tree = ParkTree::load(conn).await?;
    let parks_rows = park::Entity::find().filter(park::Column::ArchivedAt.is_null()).all(conn).await?;
    sink(parks(&tree, parks_rows))?;
    let rows = incubator::Entity::find().filter(incubator::Column::ArchivedAt.is_null()).all(conn).await?;
    sink(incubators(&tree, rows))?;
    let rows =
        innovation_center::Entity::find().filter(innovation_center::Column::ArchivedAt.is_null()).all(conn).await?;
    sink(centers(&tree, rows))?;
    let mut after: Option<Uuid> = None;
    loop {
        let mut select = organization::Entity::find()
            .filter(organization::Column::ArchivedAt.is_null())
            .order_by_asc(organization::Column::Id)
            .limit(page.max(1));
        if let Some(after) = after {
            select = select.filter(organization::Column::Id.gt(after));
        }
        let rows = select.all(conn).await?;
        let Some(last) = rows.last().map(|r| r.id) else { break };
        sink(organizations(conn, &tree, rows).await?)?;
        after = Some(last);
    }
    Ok(())
}

/// How many live records a rebuild indexes (for a progress bar).
pub async fn count_live(conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    let organizations =
        organization::Entity::find().filter(organization::Column::ArchivedAt.is_null()).count(conn).await?;
    let parks = park::Entity::find().filter(park::Column::ArchivedAt.is_null()).count(conn).await?;
    let incubators = incubator::Entity::find().filter(incubator::Column::ArchivedAt.is_null()).count(conn).await?;
    let centers =
        innovation_center::Entity::find().filter(innovation_center::Column::ArchivedAt.is_null()).count(conn).await?;
    Ok(organizations + parks + incubators + centers)
}

async fn organizations(
    conn: &impl ConnectionTrait,
    tree: &ParkTree,
    rows: Vec<organization::Model>,
) -> Result<Vec<SearchDoc>, StoreError> {
    let rows: Vec<organization::Model> = rows.into_iter().filter(|r| r.archived_at.is_none()).collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let locations = enterprise_location::Entity::find()
        .filter(enterprise_location::Column::OrganizationId.is_in(ids.clone()))
        .filter(enterprise_location::Column::ArchivedAt.is_null())
        .all(conn)
        .await?;
    let designations = designation::Entity::find()
        .filter(designation::Column::OrganizationId.is_in(ids.clone()))
        .filter(designation::Column::ArchivedAt.is_null())
        .all(conn)
        .await?;
    let incubations = incubation::Entity::find()
        .filter(incubation::Column::OrganizationId.is_in(ids.clone()))
        .filter(incubation::Column::ArchivedAt.is_null())
        .all(conn)
        .await?;
    let memberships = innovation_center_membership::Entity::find()
        .filter(innovation_center_membership::Column::OrganizationId.is_in(ids.clone()))
        .filter(innovation_center_membership::Column::ArchivedAt.is_null())
        .all(conn)
        .await?;
    let second_hqs = second_headquarters::Entity::find()
        .filter(second_headquarters::Column::LocalEntityId.is_in(ids))
        .filter(second_headquarters::Column::ArchivedAt.is_null())
        .all(conn)
        .await?;
    let mut docs: HashMap<Uuid, SearchDoc> = rows
        .into_iter()
        .map(|r| {
            let doc = SearchDoc {
                id: r.id,
                kind: Some(DocKind::Organization),
                subkind: Some(r.kind),
                name_zh: r.name_zh,
                name_en: r.name_en,
                legal_name: r.legal_name,
                uscc: r.uscc,
                industry: r.industry,
                city: r.city,
                district: r.district,
                status: Some(r.status),
                founded_on: r.founded_on,
                registered_capital_cny: r.registered_capital_cny,
                headcount: r.headcount.map(i64::from),
                ..SearchDoc::default()
            };
            (r.id, doc)
        })
        .collect();
    for l in locations {
        if let Some(doc) = docs.get_mut(&l.organization_id) {
            tree.with_ancestors(l.park_id, &mut doc.park_ids);
        }
    }
    for d in designations {
        if let Some(doc) = docs.get_mut(&d.organization_id) {
            if !doc.designations.contains(&d.kind) {
                doc.designations.push(d.kind);
            }
            if let Some(v) = d.valuation_usd {
                doc.valuation_usd = Some(doc.valuation_usd.map_or(v, |old| old.max(v)));
            }
        }
    }
    for i in incubations {
        if let Some(doc) = docs.get_mut(&i.organization_id) {
            doc.incubator_ids.push(i.incubator_id);
        }
    }
    for m in memberships {
        if let Some(doc) = docs.get_mut(&m.organization_id) {
            doc.center_ids.push(m.innovation_center_id);
        }
    }
    for s in second_hqs {
        if let Some(doc) = s.local_entity_id.and_then(|id| docs.get_mut(&id)) {
            doc.second_hq_parent_ids.push(s.parent_id);
        }
    }
    Ok(docs
        .into_values()
        .map(|mut d| {
            d.incubator_ids = dedup(d.incubator_ids);
            d.center_ids = dedup(d.center_ids);
            d.second_hq_parent_ids = dedup(d.second_hq_parent_ids);
            d.designations.sort();
            d.place_names = tree.names_of(&d.park_ids);
            d
        })
        .collect())
}

fn parks(tree: &ParkTree, rows: Vec<park::Model>) -> Vec<SearchDoc> {
    rows.into_iter()
        .filter(|r| r.archived_at.is_none())
        .map(|r| {
            let mut park_ids = Vec::new();
            tree.with_ancestors(r.id, &mut park_ids);
            SearchDoc {
                id: r.id,
                kind: Some(DocKind::Park),
                subkind: Some(r.kind),
                name_zh: r.name_zh,
                name_en: r.name_en,
                city: r.city,
                district: r.district,
                park_ids,
                founded_on: r.established_on,
                ..SearchDoc::default()
            }
        })
        .collect()
}

fn incubators(tree: &ParkTree, rows: Vec<incubator::Model>) -> Vec<SearchDoc> {
    rows.into_iter()
        .filter(|r| r.archived_at.is_none())
        .map(|r| {
            let mut park_ids = Vec::new();
            if let Some(park) = r.park_id {
                tree.with_ancestors(park, &mut park_ids);
            }
            SearchDoc {
                id: r.id,
                kind: Some(DocKind::Incubator),
                subkind: Some(r.kind),
                name_zh: r.name_zh,
                name_en: r.name_en,
                place_names: tree.names_of(&park_ids),
                park_ids,
                founded_on: r.founded_on,
                ..SearchDoc::default()
            }
        })
        .collect()
}

fn centers(tree: &ParkTree, rows: Vec<innovation_center::Model>) -> Vec<SearchDoc> {
    rows.into_iter()
        .filter(|r| r.archived_at.is_none())
        .map(|r| {
            let mut park_ids = Vec::new();
            if let Some(park) = r.host_park_id {
                tree.with_ancestors(park, &mut park_ids);
            }
            SearchDoc {
                id: r.id,
                kind: Some(DocKind::InnovationCenter),
                subkind: Some(r.kind),
                name_zh: r.name_zh,
                name_en: r.name_en,
                industry: r.field,
                city: r.city,
                founded_on: r.approved_on,
                ..SearchDoc::default()
            }
            .with_parks(tree, park_ids)
        })
        .collect()
}

impl SearchDoc {
    fn with_parks(mut self, tree: &ParkTree, park_ids: Vec<Uuid>) -> Self {
        self.place_names = tree.names_of(&park_ids);
        self.park_ids = park_ids;
        self
    }
}

/// Organizations located in any of `parks` (live locations).
pub async fn organizations_in_parks(
    conn: &impl ConnectionTrait,
    parks: &HashSet<Uuid>,
) -> Result<HashSet<Uuid>, StoreError> {
    let mut out = HashSet::new();
    let parks: Vec<Uuid> = parks.iter().copied().collect();
    for chunk in parks.chunks(CHUNK) {
        let rows: Vec<Uuid> = enterprise_location::Entity::find()
            .select_only()
            .column(enterprise_location::Column::OrganizationId)
            .filter(enterprise_location::Column::ParkId.is_in(chunk.to_vec()))
            .filter(enterprise_location::Column::ArchivedAt.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Incubators and innovation centers in any of `parks`.
pub async fn hosted_in_parks(
    conn: &impl ConnectionTrait,
    parks: &HashSet<Uuid>,
) -> Result<(HashSet<Uuid>, HashSet<Uuid>), StoreError> {
    let parks: Vec<Uuid> = parks.iter().copied().collect();
    let mut incubators = HashSet::new();
    let mut centers = HashSet::new();
    for chunk in parks.chunks(CHUNK) {
        let rows: Vec<Uuid> = incubator::Entity::find()
            .select_only()
            .column(incubator::Column::Id)
            .filter(incubator::Column::ParkId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        incubators.extend(rows);
        let rows: Vec<Uuid> = innovation_center::Entity::find()
            .select_only()
            .column(innovation_center::Column::Id)
            .filter(innovation_center::Column::HostParkId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        centers.extend(rows);
    }
    Ok((incubators, centers))
}
