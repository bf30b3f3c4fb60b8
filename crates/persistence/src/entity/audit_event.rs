//! Table `audit_event`: one row per authenticated request.

use sea_orm::entity::prelude::*;

/// What an authenticated request did and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    /// Primary key (UUID v7, so time-ordered).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// When the request arrived.
    pub at: DateTimeUtc,
    /// The token's `jti`.
    pub jti: Option<Uuid>,
    /// The token's subject.
    pub subject: String,
    /// The caller's role code.
    pub role: String,
    /// The GraphQL operation name, if given.
    pub operation_name: Option<String>,
    /// The cost charged.
    pub cost: i32,
    /// `OK`, `ERROR`, `THROTTLED`, `REJECTED` or `TIMEOUT`.
    pub status: String,
    /// Time to answer, in milliseconds.
    pub duration_ms: i32,
    /// The client's address.
    pub client_ip: Option<String>,
}

/// Links are resolved by queries, not through sea-orm relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
