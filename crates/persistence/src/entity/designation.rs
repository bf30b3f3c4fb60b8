//! Table `designation`: a designation of an enterprise in a year (unicorn, gazelle …).

use sea_orm::entity::prelude::*;

/// A designation of an enterprise in a year (unicorn, gazelle …).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "designation")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The enterprise.
    pub organization_id: Uuid,
    /// `DesignationKind` code.
    pub kind: String,
    /// Year of the designation.
    pub year: i32,
    /// Valuation in US dollars, for unicorns.
    pub valuation_usd: Option<i64>,
    /// Free-text note.
    pub note: Option<String>,
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
