//! Data to start with: the Wuhan sample dataset and the synthetic benchmark generator.
//!
//! Seeds go through the write path like any other change: every seeded record is written
//! at version 1 with a revision (`CREATE`, or `ADD_LINK` for a link, by [`SEED_ACTOR`])
//! and a change-feed entry, in the same transaction as the rows ([`create`], the batch
//! form of the write path in [`crate::write`]). A partner syncing from the start of the
//! feed therefore receives the seeded registry, and each seeded record's `history` starts
//! with its creation.

pub mod sample;
pub mod synthetic;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{organization, park};
use crate::write::{self, VersionedRow};

/// The actor of seeded records' revisions and feed entries.
pub const SEED_ACTOR: &str = "system:seed";

/// Rows of each kind written by a seed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Parks.
    pub parks: usize,
    /// Park designations.
    pub park_designations: usize,
    /// Organizations.
    pub organizations: usize,
    /// Enterprise designations.
    pub designations: usize,
    /// Enterprise locations.
    pub locations: usize,
    /// Incubators.
    pub incubators: usize,
    /// Incubations.
    pub incubations: usize,
    /// Second headquarters.
    pub second_headquarters: usize,
    /// Innovation centers.
    pub innovation_centers: usize,
    /// Innovation-center memberships.
    pub memberships: usize,
    /// Designations of cities.
    pub city_designations: usize,
    /// Figures about parks and cities.
    pub figures: usize,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} parks ({} designations), {} organizations ({} designations, {} park locations), \
             {} incubators ({} incubations), {} second headquarters, {} innovation centers ({} memberships), \
             {} city designations, {} figures",
            self.parks,
            self.park_designations,
            self.organizations,
            self.designations,
            self.locations,
            self.incubators,
            self.incubations,
            self.second_headquarters,
            self.innovation_centers,
            self.memberships,
            self.city_designations,
            self.figures
        )
    }
}

/// True when the registry holds no park and no organization.
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, StoreError> {
    Ok(park::Entity::find().count(db).await? == 0 && organization::Entity::find().count(db).await? == 0)
}

/// Fails unless the registry is empty: seeds never mix with existing data.
pub async fn require_empty(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    if is_empty(db).await? {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "the database already holds registry data; seed data is loaded into an empty database only".into(),
        ))
    }
}

/// A UUID v7 made from a time and 10 bytes of the caller's choosing, so seeds give the
/// same ids on every run.
pub fn v7(millis: u64, bytes: [u8; 10]) -> Uuid {
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

/// Ten bytes from a string key (FNV-1a, twice), for stable seed ids.
pub fn key_bytes(namespace: &str, key: &str) -> [u8; 10] {
    let hash = |salt: u64| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
        for b in namespace.bytes().chain([0u8]).chain(key.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let (a, b) = (hash(1).to_be_bytes(), hash(2).to_be_bytes());
    [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], b[0], b[1]]
}

/// Inserts rows in chunks small enough for SQLite's bound-parameter limit.
pub async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<usize, StoreError>
where
    A: ActiveModelTrait + Send,
{
    let total = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(400).collect();
        A::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(total)
}

/// Writes seed records of one kind at version 1 with their revisions and feed entries,
/// created by [`SEED_ACTOR`] at `at`, in the order given (records referred to first).
pub async fn create<R: VersionedRow>(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    rows: Vec<R>,
) -> Result<usize, StoreError>
where
    <R::Entity as EntityTrait>::ActiveModel: Send,
{
    write::create_many::<R, R>(db, SEED_ACTOR, at, &rows).await
}

/// Refreshes the planner's statistics after a bulk load, so the first queries on the
/// new data pick the right indexes (`ANALYZE` means the same on SQLite and PostgreSQL).
/// On PostgreSQL it vacuums too, which marks the new pages all-visible: counts (a list's
/// `totalCount`) are then index-only scans rather than a visit to every matching row.
pub async fn analyze(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    let statement = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(statement).await?;
    Ok(())
}

/// The creation time stamped on seed rows, to the microsecond (what both backends
/// store), so a seeded record's revision holds exactly its stored row.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
