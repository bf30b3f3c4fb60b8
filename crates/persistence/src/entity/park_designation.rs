//! Table `park_designation`: a national or provincial designation of a park.

use sea_orm::entity::prelude::*;

/// A national or provincial designation of a park.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "park_designation")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The park.
    pub park_id: Uuid,
    /// Chinese name of the designation.
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Date designated.
    pub designated_on: Option<Date>,
    /// How much of `designated_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub designated_on_precision: Option<String>,
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
