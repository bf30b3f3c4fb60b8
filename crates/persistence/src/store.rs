//! [`Store`]: the handle the read side (the API) holds instead of a database connection.
//!
//! It is a cheap `Clone` over the connection pool. Every read the API runs is a method
//! here or in [`crate::query`] (filtered lists, batch look-ups for the loaders, the park
//! tree, a record's history, the change feed, tokens and the audit trail), so the API
//! crate never builds a statement or names an ORM type. The service layer and the tests
//! reach the pool itself with [`Store::conn`].

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::StoreError;
use crate::db::PoolStats;
use crate::entity::{api_token, audit_event};
use crate::write::{self, Change, EntityType, Revision};

/// The storage handle: a connection pool, cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

impl From<DatabaseConnection> for Store {
    fn from(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl From<&DatabaseConnection> for Store {
    fn from(db: &DatabaseConnection) -> Self {
        Self { db: db.clone() }
    }
}

impl From<Store> for DatabaseConnection {
    fn from(store: Store) -> Self {
        store.db
    }
}

impl Store {
    /// The store over a pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The pool, for the service layer (transactions) and tests.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Answers when the database does (a readiness probe).
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }

    /// How busy the pool is, for metrics; `None` for a connection that is not a pool.
    pub fn pool_stats(&self) -> Option<PoolStats> {
        crate::db::pool_stats(&self.db)
    }

    /// Up to `first` feed entries after `after`, oldest first, only of `types` when given.
    pub async fn changes(
        &self,
        after: Option<i64>,
        first: u64,
        types: Option<&[EntityType]>,
    ) -> Result<Vec<Change>, StoreError> {
        write::changes(&self.db, after, first, types).await
    }

    /// Up to `first` revisions of one record after version `after_version`, oldest first.
    pub async fn revisions(
        &self,
        entity: EntityType,
        id: Uuid,
        after_version: Option<i32>,
        first: u64,
    ) -> Result<Vec<Revision>, StoreError> {
        write::revisions(&self.db, entity, id, after_version, first).await
    }

    /// Opens a consistent, read-only view for a partner snapshot (see [`crate::snapshot`]).
    /// It holds one pooled connection until it is finished or dropped.
    pub async fn snapshot(&self) -> Result<crate::snapshot::Snapshot, StoreError> {
        crate::snapshot::Snapshot::begin(&self.db).await
    }

    /// A token by `jti`.
    pub async fn token(&self, jti: Uuid) -> Result<Option<api_token::Model>, StoreError> {
        crate::access::token(&self.db, jti).await
    }

    /// The feed's head: the `seq` of the last committed feed entry (0 for an empty feed).
    /// One read of a one-row table, for followers that only need to know whether the
    /// registry changed.
    pub async fn feed_head(&self) -> Result<i64, StoreError> {
        write::feed_head(&self.db).await
    }

    /// Tokens, newest first, optionally of one partner.
    pub async fn tokens(&self, partner: Option<Uuid>, limit: u64) -> Result<Vec<api_token::Model>, StoreError> {
        crate::access::tokens(&self.db, partner, limit).await
    }

    /// Revokes a token (keeping the first revocation time of a revoked one).
    pub async fn revoke_token(&self, jti: Uuid, now: DateTime<Utc>) -> Result<api_token::Model, StoreError> {
        crate::access::revoke(&self.db, jti, now).await
    }

    /// Notes that a token was used.
    pub async fn touch_token(&self, jti: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        crate::access::touch(&self.db, jti, now).await
    }

    /// Appends audit events.
    pub async fn record_audit_events(&self, events: Vec<audit_event::Model>) -> Result<(), StoreError> {
        crate::access::record_many(&self.db, events).await
    }

    /// Audit events, newest first, optionally of one token.
    pub async fn audit_events(&self, jti: Option<Uuid>, limit: u64) -> Result<Vec<audit_event::Model>, StoreError> {
        crate::access::audit_events(&self.db, jti, limit).await
    }
}
