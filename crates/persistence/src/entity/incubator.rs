//! Table `incubator`: an incubator, makerspace or accelerator.

use sea_orm::entity::prelude::*;

/// An incubator, makerspace or accelerator.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "incubator")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// `IncubatorKind` code.
    pub kind: String,
    /// `IncubatorLevel` code.
    pub level: Option<String>,
    /// Park it is in.
    pub park_id: Option<Uuid>,
    /// Organization operating it.
    pub operator_id: Option<Uuid>,
    /// Founding date.
    pub founded_on: Option<Date>,
    /// How much of `founded_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub founded_on_precision: Option<String>,
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
