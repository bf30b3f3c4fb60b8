//! Issuing API tokens: the one path the CLI (`parkgraph token issue`) and the
//! `issueToken` mutation share.
//!
//! What a token grants is a business rule and lives here: tokens are for staff roles and
//! partners only, a partner token names its partner (created on first use), the scopes
//! stay under the role's ceiling, the lifetime is bounded, and every token is recorded
//! before it is handed out. Signing is not: a [`TokenSigner`] (the API's key set) turns
//! the grant into the bearer string, so this crate holds no key material.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parkgraph_domain::{Role, Scope, grant};
use parkgraph_persistence::entity::api_token;
use parkgraph_persistence::{StoreError, access};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::Registry;

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
    pub issued_by: Option<Uuid>,
}

/// The longest lifetime a token may have.
pub const MAX_TTL: Duration = Duration::from_secs(3 * 365 * 24 * 3600);

/// What a new token grants, decided and about to be recorded: the claims a signer puts
/// in the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant<'a> {
    /// The token's id (`jti`), the key of its record and of its revocation.
    pub jti: Uuid,
    /// Who the token speaks for.
    pub subject: &'a str,
    /// The role.
    pub role: Role,
    /// The scopes.
    pub scopes: &'a BTreeSet<Scope>,
    /// The partner it is issued to.
    pub partner_id: Option<Uuid>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// Turns a grant into a signed bearer token.
pub trait TokenSigner {
    /// Why signing failed (for example: no signing key configured).
    type Error: std::fmt::Display;
    /// The signed token.
    fn sign_grant(&self, grant: &TokenGrant<'_>) -> Result<String, Self::Error>;
}

impl<T: TokenSigner + ?Sized> TokenSigner for &T {
    type Error = T::Error;
    fn sign_grant(&self, grant: &TokenGrant<'_>) -> Result<String, Self::Error> {
        (**self).sign_grant(grant)
    }
}

impl<T: TokenSigner + ?Sized> TokenSigner for Arc<T> {
    type Error = T::Error;
    fn sign_grant(&self, grant: &TokenGrant<'_>) -> Result<String, Self::Error> {
        (**self).sign_grant(grant)
    }
}

/// Why no token was issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The request breaks a rule (role, partner, scopes, lifetime); the message says which.
    #[error("{0}")]
    Invalid(String),
    /// The token could not be signed.
    #[error("cannot sign: {0}")]
    Signing(String),
    /// The storage failed, or the partner's name is not valid.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Registry {
    /// Issues a token (see [`issue`]).
    pub async fn issue_token(
        &self,
        signer: &impl TokenSigner,
        request: IssueRequest,
    ) -> Result<(String, api_token::Model), IssueError> {
        issue(self.db(), signer, request).await
    }
}

/// Issues a token: checks the request, records the token, returns it signed (the only
/// time it is ever shown) with its record.
pub async fn issue(
    db: &DatabaseConnection,
    signer: &impl TokenSigner,
    request: IssueRequest,
) -> Result<(String, api_token::Model), IssueError> {
    if request.role == Role::Anonymous {
        return Err(IssueError::Invalid("tokens are issued for ADMIN, EDITOR, ANALYST or PARTNER".into()));
    }
    if request.role == Role::Partner && request.partner.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(IssueError::Invalid("a PARTNER token needs a partner name".into()));
    }
    if request.ttl.is_zero() || request.ttl > MAX_TTL {
        return Err(IssueError::Invalid("the lifetime must be between 1 second and 3 years".into()));
    }
    let scopes = grant(request.role, request.scopes).map_err(|e| IssueError::Invalid(e.to_string()))?;
    let now = Utc::now();
    let expires =
        now + chrono::Duration::from_std(request.ttl).map_err(|_| IssueError::Invalid("lifetime too long".into()))?;
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
    let partner_id = partner.map(|p| p.id);
    let jti = Uuid::now_v7();
    let grant = TokenGrant {
        jti,
        subject: &subject,
        role: request.role,
        scopes: &scopes,
        partner_id,
        issued_at: now,
        expires_at: expires,
    };
    let token = signer.sign_grant(&grant).map_err(|e| IssueError::Signing(e.to_string()))?;
    let record = api_token::Model {
        jti,
        partner_id,
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
