//! Table `api_token`: every token issued, by its `jti`; revocation is a row update.

use sea_orm::entity::prelude::*;

/// An issued API token. The token itself is never stored, only what it grants.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    /// The token's `jti` claim.
    #[sea_orm(primary_key, auto_increment = false)]
    pub jti: Uuid,
    /// The partner the token was issued to, if any.
    pub partner_id: Option<Uuid>,
    /// The `sub` claim: who the token speaks for.
    pub subject: String,
    /// Role code (`ADMIN`, `EDITOR`, `ANALYST`, `PARTNER`).
    pub role: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Free-text description.
    pub description: Option<String>,
    /// When issued (`iat`).
    pub issued_at: DateTimeUtc,
    /// When it expires (`exp`).
    pub expires_at: DateTimeUtc,
    /// When revoked, if it was.
    pub revoked_at: Option<DateTimeUtc>,
    /// When last used (updated at most once a minute).
    pub last_used_at: Option<DateTimeUtc>,
    /// The `jti` of the token that issued this one (null when issued from the command line).
    pub issued_by: Option<Uuid>,
}

/// Links are resolved by queries, not through sea-orm relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
