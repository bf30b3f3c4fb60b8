//! Table `second_headquarters`: a second headquarters of a parent group in the city.

use sea_orm::entity::prelude::*;

/// A second headquarters of a parent group in the city.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "second_headquarters")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The parent group.
    pub parent_id: Uuid,
    /// Park it is in.
    pub park_id: Option<Uuid>,
    /// The local legal entity.
    pub local_entity_id: Option<Uuid>,
    /// City.
    pub city: Option<String>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Date announced or signed.
    pub announced_on: Option<Date>,
    /// How much of `announced_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub announced_on_precision: Option<String>,
    /// Date opened.
    pub opened_on: Option<Date>,
    /// How much of `opened_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub opened_on_precision: Option<String>,
    /// Planned investment in yuan.
    pub planned_investment_cny: Option<i64>,
    /// Planned headcount.
    pub planned_headcount: Option<i32>,
    /// Planned floor area in square metres.
    pub planned_floor_area_m2: Option<f64>,
    /// Comma-separated `SecondHqFunction` codes.
    pub functions: String,
    /// `SecondHqStatus` code.
    pub status: String,
    /// Notes by staff (internal).
    pub staff_notes: Option<String>,
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
