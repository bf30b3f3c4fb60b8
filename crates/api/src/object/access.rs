//! Token and audit records, as administrators see them.

use async_graphql::{Object, SimpleObject};
use chrono::{DateTime, Utc};
use parkgraph_persistence::entity::{api_token, audit_event};
use uuid::Uuid;

/// An issued API token (the token string itself is shown only once, when issued).
pub struct ApiToken(pub api_token::Model);

/// An issued API token (the token string itself is shown only once, when issued).
#[Object]
impl ApiToken {
    /// The token's `jti`, used to revoke it.
    async fn jti(&self) -> Uuid {
        self.0.jti
    }

    /// The partner's database id, for partner tokens.
    async fn partner_id(&self) -> Option<Uuid> {
        self.0.partner_id
    }

    /// Who the token speaks for (`sub`).
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// Role code.
    async fn role(&self) -> &str {
        &self.0.role
    }

    /// Scopes granted.
    async fn scopes(&self) -> Vec<&str> {
        self.0.scopes.split_whitespace().collect()
    }

    /// Free-text description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// When issued.
    async fn issued_at(&self) -> DateTime<Utc> {
        self.0.issued_at
    }

    /// When it expires.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }

    /// When revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// When last used (recorded at most once a minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    /// The `jti` of the token whose holder issued this one through `issueToken`; null
    /// for tokens issued from the command line.
    async fn issued_by(&self) -> Option<Uuid> {
        self.0.issued_by
    }
}

/// A new token and its record.
#[derive(SimpleObject)]
pub struct IssueTokenPayload {
    /// The token, to send as `Authorization: Bearer <token>`. Shown this once only.
    pub token: String,
    /// Its record.
    pub api_token: ApiToken,
}

/// One authenticated request.
pub struct AuditEvent(pub audit_event::Model);

/// One authenticated request.
#[Object]
impl AuditEvent {
    /// When it arrived.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The token's `jti`.
    async fn jti(&self) -> Option<Uuid> {
        self.0.jti
    }

    /// The token's subject.
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The caller's role.
    async fn role(&self) -> &str {
        &self.0.role
    }

    /// The GraphQL operation name, if given.
    async fn operation_name(&self) -> Option<&str> {
        self.0.operation_name.as_deref()
    }

    /// Cost charged.
    async fn cost(&self) -> i32 {
        self.0.cost
    }

    /// `OK`, `ERROR`, `THROTTLED`, `REJECTED` or `TIMEOUT`.
    async fn status(&self) -> &str {
        &self.0.status
    }

    /// Time to answer in milliseconds.
    async fn duration_ms(&self) -> i32 {
        self.0.duration_ms
    }

    /// The client's address.
    async fn client_ip(&self) -> Option<&str> {
        self.0.client_ip.as_deref()
    }
}
