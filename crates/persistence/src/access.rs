//! Partners, API tokens and the audit trail.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{api_token, audit_event, partner};

/// The partner with this name, created if it does not exist yet.
pub async fn partner_named(
    db: &impl ConnectionTrait,
    name: &str,
    now: DateTime<Utc>,
) -> Result<partner::Model, StoreError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("a partner needs a name".into()));
    }
    if let Some(found) = partner::Entity::find().filter(partner::Column::Name.eq(name)).one(db).await? {
        return Ok(found);
    }
    let model =
        partner::Model { id: Uuid::now_v7(), name: name.into(), contact_email: None, created_at: now, updated_at: now };
    partner::Entity::insert(model.clone().into_active_model()).exec_without_returning(db).await?;
    Ok(model)
}

/// A partner by id.
pub async fn partner(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<partner::Model>, StoreError> {
    Ok(partner::Entity::find_by_id(id).one(db).await?)
}

/// Records an issued token.
pub async fn insert_token(db: &impl ConnectionTrait, token: api_token::Model) -> Result<(), StoreError> {
    api_token::Entity::insert(token.into_active_model()).exec_without_returning(db).await?;
    Ok(())
}

/// A token by `jti`.
pub async fn token(db: &impl ConnectionTrait, jti: Uuid) -> Result<Option<api_token::Model>, StoreError> {
    Ok(api_token::Entity::find_by_id(jti).one(db).await?)
}

/// Tokens, newest first, optionally of one partner.
pub async fn tokens(
    db: &impl ConnectionTrait,
    partner: Option<Uuid>,
    limit: u64,
) -> Result<Vec<api_token::Model>, StoreError> {
    let mut select = api_token::Entity::find();
    if let Some(partner) = partner {
        select = select.filter(api_token::Column::PartnerId.eq(partner));
    }
    Ok(select
        .order_by_desc(api_token::Column::IssuedAt)
        .order_by_desc(api_token::Column::Jti)
        .limit(limit)
        .all(db)
        .await?)
}

/// Revokes a token; revoking a revoked token keeps its first revocation time.
pub async fn revoke(db: &impl ConnectionTrait, jti: Uuid, now: DateTime<Utc>) -> Result<api_token::Model, StoreError> {
    let Some(found) = token(db, jti).await? else {
        return Err(StoreError::NotFound(format!("no token has jti {jti}")));
    };
    if found.revoked_at.is_some() {
        return Ok(found);
    }
    let mut active = found.into_active_model();
    active.revoked_at = Set(Some(now));
    Ok(active.update(db).await?)
}

/// Notes that a token was used.
pub async fn touch(db: &impl ConnectionTrait, jti: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(api_token::Column::Jti.eq(jti))
        .exec(db)
        .await?;
    Ok(())
}

/// Appends an audit event.
pub async fn record(db: &impl ConnectionTrait, event: audit_event::Model) -> Result<(), StoreError> {
    audit_event::Entity::insert(event.into_active_model()).exec_without_returning(db).await?;
    Ok(())
}

/// Appends audit events in one statement per few hundred rows.
pub async fn record_many(db: &impl ConnectionTrait, events: Vec<audit_event::Model>) -> Result<(), StoreError> {
    crate::seed::insert_all(db, events.into_iter().map(IntoActiveModel::into_active_model).collect()).await?;
    Ok(())
}

/// Audit events, newest first, optionally of one token.
pub async fn audit_events(
    db: &impl ConnectionTrait,
    jti: Option<Uuid>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, StoreError> {
    let mut select = audit_event::Entity::find();
    if let Some(jti) = jti {
        select = select.filter(audit_event::Column::Jti.eq(jti));
    }
    Ok(select.order_by_desc(audit_event::Column::Id).limit(limit).all(db).await?)
}
