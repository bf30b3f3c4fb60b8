//! Table `change`: the change feed, one row per change, in commit order.

use sea_orm::entity::prelude::*;

/// One entry of the change feed.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "change")]
pub struct Model {
    /// Position in the feed: 1, 2, 3 … with no gaps, in commit order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// The record's table (`park`, `enterprise_location` …).
    pub entity_type: String,
    /// The record's id.
    pub entity_id: Uuid,
    /// The version the change produced.
    pub version: i32,
    /// `CREATE`, `UPDATE`, `ARCHIVE`, `RESTORE`, `ADD_LINK`, `UPDATE_LINK` or `END_LINK`.
    pub operation: String,
    /// When the change was made.
    pub at: DateTimeUtc,
    /// Who made the change: the token's subject.
    pub actor: String,
    /// The record after the change; null for a tombstone (an archive or a link's end).
    pub after: Option<Json>,
}

/// Feed entries name their record by type and id, not through sea-orm relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
