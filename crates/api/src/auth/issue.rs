//! Issuing tokens: the one path the CLI and the admin mutation share.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use parkgraph_domain::{Role, Scope, grant};
use parkgraph_persistence::access;
use parkgraph_persistence::entity::api_token;
use sea_orm::DatabaseConnection;

use super::KeySet;
use crate::error::ApiError;

/// What to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// The partner's name (required for `PARTNER` tokens; created on first use).
    pub partner: Option<String>,
    /// The role.
    pub role: Role,
    /// Scopes; the role's defaults when `None` (all it allows, except `read:changes` for a partner).
    pub scopes: Option<BTreeSet<Scope>>,
    /// Lifetime.
    pub ttl: Duration,
    /// Subject; defaults to `partner:<name>` or `staff:<role>`.
    pub subject: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// The `jti` of the token whose holder asked for this one (`None` from the command line).
    pub issued_by: Option<uuid::Uuid>,
}

/// The longest lifetime a token may have.
pub const MAX_TTL: Duration = Duration::from_secs(3 * 365 * 24 * 3600);

/// Issues a token: checks the request, records the token, returns it signed (the only
/// time it is ever shown) with its record.
pub async fn issue(
    db: &DatabaseConnection,
    keys: &KeySet,
    request: IssueRequest,
) -> Result<(String, api_token::Model), ApiError> {
    if request.role == Role::Anonymous {
        return Err(ApiError::BadUserInput("tokens are issued for ADMIN, EDITOR, ANALYST or PARTNER".into()));
    }
    if request.role == Role::Partner && request.partner.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(ApiError::BadUserInput("a PARTNER token needs a partner name".into()));
    }
    if request.ttl.is_zero() || request.ttl > MAX_TTL {
        return Err(ApiError::BadUserInput("the lifetime must be between 1 second and 3 years".into()));
    }
    let scopes = grant(request.role, request.scopes).map_err(|e| ApiError::BadUserInput(e.to_string()))?;
    let now = Utc::now();
    let expires = now
        + chrono::Duration::from_std(request.ttl).map_err(|_| ApiError::BadUserInput("lifetime too long".into()))?;
    // No explicit transaction: on SQLite a read-then-write transaction cannot wait for
    // another writer (its lock upgrade fails at once), and nothing here needs one: the
    // partner row is found or created on its own, then the token row is written.
    let partner = match request.partner.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(name) => Some(access::partner_named(db, name, now).await?),
        None => None,
    };
    let subject = request.subject.unwrap_or_else(|| match &partner {
        Some(p) => format!("partner:{}", p.name),
        None => format!("staff:{}", request.role.code().to_lowercase()),
    });
    let claims = keys.claims(&subject, request.role, &scopes, partner.as_ref().map(|p| p.id), now, expires);
    let token = keys.sign(&claims).map_err(|e| ApiError::BadUserInput(format!("cannot sign: {e}")))?;
    let record = api_token::Model {
        jti: claims.jti,
        partner_id: partner.map(|p| p.id),
        subject,
        role: request.role.code().into(),
        scopes: Scope::join(&scopes),
        description: request.description,
        issued_at: now,
        expires_at: expires,
        revoked_at: None,
        last_used_at: None,
        issued_by: request.issued_by,
    };
    access::insert_token(db, record.clone()).await?;
    Ok((token, record))
}
