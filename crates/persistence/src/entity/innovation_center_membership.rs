//! Table `innovation_center_membership`: an organization taking part in an innovation center.

use sea_orm::entity::prelude::*;

/// An organization taking part in an innovation center.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "innovation_center_membership")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The center.
    pub innovation_center_id: Uuid,
    /// The organization.
    pub organization_id: Uuid,
    /// `MembershipRole` code.
    pub role: String,
    /// Date joined.
    pub joined_on: Option<Date>,
    /// How much of `joined_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub joined_on_precision: Option<String>,
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
