//! Table `revision`: one row per version of a registry record or link.

use sea_orm::entity::prelude::*;

/// One version of a record: who changed it, when, how, and its fields before and after.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "revision")]
pub struct Model {
    /// The record's table (`park`, `enterprise_location` …); with the record's id and the
    /// version, the primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub entity_type: String,
    /// The record's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub entity_id: Uuid,
    /// The version this change produced.
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    /// `CREATE`, `UPDATE`, `ARCHIVE`, `RESTORE`, `ADD_LINK`, `UPDATE_LINK` or `END_LINK`.
    pub operation: String,
    /// Who made the change: the token's subject.
    pub actor: String,
    /// When the change was made.
    pub at: DateTimeUtc,
    /// The record's fields before the change (null for a creation).
    pub before: Option<Json>,
    /// The record's fields after the change.
    pub after: Option<Json>,
}

/// Revisions name their record by type and id, not through sea-orm relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
