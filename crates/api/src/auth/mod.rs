//! Who is calling: bearer tokens verified against the key set and the token registry,
//! or an anonymous caller when anonymous access is on.

pub mod jwt;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use parkgraph_domain::{Role, Scope};
use parkgraph_persistence::Store;
use parkgraph_persistence::entity::api_token;
use uuid::Uuid;

pub use jwt::{Claims, Key, KeySet, TokenError};

/// The identity a request runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The role.
    pub role: Role,
    /// The scopes.
    pub scopes: BTreeSet<Scope>,
    /// `sub` of the token, or `anonymous`.
    pub subject: String,
    /// `jti` of the token.
    pub jti: Option<Uuid>,
    /// The partner the token belongs to.
    pub partner_id: Option<Uuid>,
}

impl Caller {
    /// A caller without a token: public reads only.
    pub fn anonymous() -> Self {
        Self {
            role: Role::Anonymous,
            scopes: Role::Anonymous.allowed_scopes(),
            subject: "anonymous".into(),
            jti: None,
            partner_id: None,
        }
    }

    /// A caller with every scope, for in-process use (CLI, tests).
    pub fn system() -> Self {
        Self {
            role: Role::Admin,
            scopes: Role::Admin.allowed_scopes(),
            subject: "system".into(),
            jti: None,
            partner_id: None,
        }
    }

    /// True when the caller holds the scope.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// Anonymous access is turned off.
    #[error("this server requires a token: send `Authorization: Bearer <token>`")]
    TokenRequired,
    /// The header is present but unreadable (non-ASCII bytes, or sent twice).
    #[error("{0}")]
    MalformedHeader(&'static str),
    /// The header is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <token>`")]
    BadScheme,
    /// The token was refused.
    #[error("{0}")]
    Token(#[from] TokenError),
    /// The registry could not be asked.
    #[error("the token registry is unavailable")]
    Unavailable,
}

/// What a stored token grants, read from its row.
struct Grant {
    role: Role,
    scopes: BTreeSet<Scope>,
}

impl Grant {
    fn of(record: &api_token::Model) -> Result<Self, AuthFailure> {
        let corrupt = |what: String| {
            tracing::error!(jti = %record.jti, %what, "a stored token no longer parses; refusing it");
            AuthFailure::Token(TokenError::Unregistered)
        };
        let role: Role = record.role.parse().map_err(|e| corrupt(format!("role: {e}")))?;
        let scopes = Scope::parse_list(&record.scopes).map_err(|e| corrupt(format!("scopes: {e}")))?;
        Ok(Self { role, scopes })
    }
}

/// Verifies bearer tokens, checking revocation against the database through a short
/// cache, so a revocation reaches every replica within the cache's lifetime.
pub struct Authenticator {
    keys: Arc<KeySet>,
    store: Store,
    allow_anonymous: bool,
    cache_ttl: Duration,
    cache: Mutex<HashMap<Uuid, (Instant, Option<api_token::Model>)>>,
    touched: Mutex<HashMap<Uuid, Instant>>,
}

impl Authenticator {
    /// An authenticator.
    pub fn new(keys: Arc<KeySet>, store: impl Into<Store>, allow_anonymous: bool, cache_ttl: Duration) -> Self {
        Self {
            keys,
            store: store.into(),
            allow_anonymous,
            cache_ttl,
            cache: Mutex::new(HashMap::new()),
            touched: Mutex::new(HashMap::new()),
        }
    }

    /// The key set.
    pub fn keys(&self) -> &Arc<KeySet> {
        &self.keys
    }

    /// The caller of a request with this `Authorization` header (if any).
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, AuthFailure> {
        let Some(header) = authorization.map(str::trim).filter(|h| !h.is_empty()) else {
            return if self.allow_anonymous { Ok(Caller::anonymous()) } else { Err(AuthFailure::TokenRequired) };
        };
        let token = match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => token.trim(),
            _ => return Err(AuthFailure::BadScheme),
        };
        let verified = self.keys.verify(token)?;
        let jti = verified.claims.jti;
        let Some(record) = self.registered(jti).await? else {
            return Err(TokenError::Unregistered.into());
        };
        if record.revoked_at.is_some() {
            return Err(TokenError::Revoked.into());
        }
        if record.expires_at <= Utc::now() {
            return Err(TokenError::Expired.into());
        }
        let granted = Grant::of(&record)?;
        // The stored row is the authority: a token whose claims say anything else than
        // what was issued was re-signed by someone holding the key, and is refused.
        let mut differs = Vec::new();
        if verified.role != granted.role {
            differs.push("role");
        }
        if verified.scopes != granted.scopes {
            differs.push("scopes");
        }
        if verified.claims.exp != record.expires_at.timestamp() {
            differs.push("expiry");
        }
        if verified.claims.sub != record.subject {
            differs.push("subject");
        }
        if verified.claims.partner_id != record.partner_id {
            differs.push("partner");
        }
        if !differs.is_empty() {
            tracing::warn!(%jti, claims = ?differs, "refused a token whose claims differ from its issued record");
            return Err(TokenError::Tampered(differs.join(", ")).into());
        }
        self.touch(jti);
        Ok(Caller {
            role: granted.role,
            scopes: granted.scopes,
            subject: record.subject,
            jti: Some(jti),
            partner_id: record.partner_id,
        })
    }

    async fn registered(&self, jti: Uuid) -> Result<Option<api_token::Model>, AuthFailure> {
        if let Some((at, record)) = self.lock_cache().get(&jti)
            && at.elapsed() < self.cache_ttl
        {
            return Ok(record.clone());
        }
        let record = self.store.token(jti).await.map_err(|err| {
            tracing::error!(%err, "cannot read the token registry");
            AuthFailure::Unavailable
        })?;
        self.lock_cache().insert(jti, (Instant::now(), record.clone()));
        Ok(record)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Instant, Option<api_token::Model>)>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets a token's cached state (after a revocation on this replica).
    pub fn forget(&self, jti: Uuid) {
        self.lock_cache().remove(&jti);
    }

    /// Records `lastUsedAt`, at most once a minute per token, off the request path.
    fn touch(&self, jti: Uuid) {
        {
            let mut touched = self.touched.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if touched.get(&jti).is_some_and(|at| at.elapsed() < Duration::from_secs(60)) {
                return;
            }
            touched.insert(jti, Instant::now());
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(err) = store.touch_token(jti, Utc::now()).await {
                tracing::warn!(%err, %jti, "cannot record the token's last use");
            }
        });
    }
}
