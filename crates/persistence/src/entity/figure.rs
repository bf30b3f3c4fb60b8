//! Table `figure`: a sourced, dated indicator about a park, a city or an organization.

use sea_orm::entity::prelude::*;

/// A sourced, dated indicator ("second headquarters in Optics Valley: more than 60, as of
/// 2018-10"). Its subject is an organization (`organization_id`), else a park (`park_id`),
/// else the city (`city`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "figure")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The park the figure is about; null when it is about the city as a whole.
    pub park_id: Option<Uuid>,
    /// The city the figure is about (or the city of its park).
    pub city: Option<String>,
    /// The organization the figure is about (its robots, its product's price); null for a
    /// figure about a park or a city.
    pub organization_id: Option<Uuid>,
    /// A stable key for what is counted (`second_headquarters`), so figures can be compared.
    pub indicator: String,
    /// What is counted, in Chinese.
    pub name_zh: String,
    /// What is counted, in English.
    pub name_en: Option<String>,
    /// The number as the source gives it.
    pub value: f64,
    /// Unit of the value (`enterprises`, `projects`, `CNY`, `percent`, …).
    pub unit: String,
    /// How the value relates to the true number (`EXACT`, `MORE_THAN`, …).
    pub qualifier: String,
    /// Name of the source the record comes from.
    pub source_name: Option<String>,
    /// Where the source can be read.
    pub source_url: Option<String>,
    /// The date the figure was true or reported.
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
