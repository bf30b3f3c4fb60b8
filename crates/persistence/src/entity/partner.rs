//! Table `partner`: an organization outside the registry's staff that pulls data with tokens.

use sea_orm::entity::prelude::*;

/// A partner (a research institute, another government system, a data vendor).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner")]
pub struct Model {
    /// Primary key (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique name, as given to `token issue --partner`.
    pub name: String,
    /// Whom to contact about the partner's access.
    pub contact_email: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row was last changed.
    pub updated_at: DateTimeUtc,
}

/// Links are resolved by queries, not through sea-orm relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
