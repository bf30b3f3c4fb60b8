//! Table `organization`: an organization: an enterprise, a university, a research institute …

use sea_orm::entity::prelude::*;

/// An organization: an enterprise, a university, a research institute …
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `OrganizationKind` code.
    pub kind: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Registered legal name (…有限公司), when known; `name_zh` is the
    /// name in common use, often a brand.
    pub legal_name: Option<String>,
    /// Unified Social Credit Code, validated.
    pub uscc: Option<String>,
    /// Why the USCC was accepted by override, if it was.
    pub uscc_warning: Option<String>,
    /// Founding date.
    pub founded_on: Option<Date>,
    /// How much of `founded_on` is known: `YEAR`, `MONTH` or `DAY` (null: `DAY`).
    pub founded_on_precision: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Registered capital in yuan.
    pub registered_capital_cny: Option<i64>,
    /// Employees.
    pub headcount: Option<i32>,
    /// Website.
    pub website: Option<String>,
    /// `OrganizationStatus` code.
    pub status: String,
    /// City of the registered seat.
    pub city: Option<String>,
    /// District.
    pub district: Option<String>,
    /// Contact person (internal).
    pub contact_name: Option<String>,
    /// Contact telephone (internal).
    pub contact_phone: Option<String>,
    /// Contact e-mail (internal).
    pub contact_email: Option<String>,
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
