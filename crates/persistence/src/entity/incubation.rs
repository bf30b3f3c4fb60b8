//! Table `incubation`: an enterprise incubated by an incubator.

use sea_orm::entity::prelude::*;

/// An enterprise incubated by an incubator.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "incubation")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The enterprise.
    pub organization_id: Uuid,
    /// The incubator.
    pub incubator_id: Uuid,
    /// Date entered.
    pub entered_on: Option<Date>,
    /// How much of `entered_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub entered_on_precision: Option<String>,
    /// Date graduated.
    pub graduated_on: Option<Date>,
    /// How much of `graduated_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub graduated_on_precision: Option<String>,
    /// `IncubationStatus` code.
    pub status: String,
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
