//! Table `park`: a park: a zone, a park within it, an innovation valley …

use sea_orm::entity::prelude::*;

/// A park: a zone, a park within it, an innovation valley …
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "park")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The park containing this one.
    pub parent_id: Option<Uuid>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// `ParkKind` code.
    pub kind: String,
    /// City.
    pub city: Option<String>,
    /// District.
    pub district: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// WGS-84 latitude.
    pub latitude: Option<f64>,
    /// WGS-84 longitude.
    pub longitude: Option<f64>,
    /// Area in square kilometres.
    pub area_km2: Option<f64>,
    /// Date established.
    pub established_on: Option<Date>,
    /// How much of `established_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub established_on_precision: Option<String>,
    /// Name of the source the record comes from.
    pub source_name: Option<String>,
    /// Where the source can be read.
    pub source_url: Option<String>,
    /// The date the facts were true or reported.
    pub as_of: Option<Date>,
    /// How much of `as_of` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub as_of_precision: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row was last changed.
    pub updated_at: DateTimeUtc,
    /// Optimistic-concurrency version: 1 when created, bumped by one on every change.
    pub version: i32,
    /// When the record was archived (for a link: ended); null while it is live.
    pub archived_at: Option<DateTimeUtc>,
}

/// Links are resolved by the loaders in the API, not through sea-orm relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
