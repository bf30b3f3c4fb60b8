//! JSON Web Tokens: a key set with `kid`s (one signing key, several verification keys,
//! so keys rotate without downtime), and strict verification.
//!
//! Verification accepts a token only when its header names a known `kid`, its `alg` is
//! the algorithm configured for that key (no `none`, no algorithm confusion), its
//! signature holds, and `iss`, `aud`, `exp`, `nbf`, `iat`, `sub` and `jti` are present and
//! valid (with a small leeway for clock skew). Every failure says why in words a
//! developer can act on, and never includes key material.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
pub use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use jsonwebtoken::{Header, Validation, decode, decode_header, encode};
use parkgraph_domain::{Role, Scope};
use parkgraph_registry::token::{TokenGrant, TokenSigner};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims ParkGraph tokens carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Subject: who the token speaks for.
    pub sub: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Token id, used for revocation.
    pub jti: Uuid,
    /// Role code.
    pub role: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The partner the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<Uuid>,
}

/// What a verified token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The claims.
    pub claims: Claims,
    /// The role.
    pub role: Role,
    /// The scopes.
    pub scopes: BTreeSet<Scope>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// `alg` is `none` or not one ParkGraph accepts.
    #[error("the token's algorithm is not accepted (use one of the configured algorithms; `none` never is)")]
    UnsupportedAlgorithm,
    /// No `kid` in the header.
    #[error("the token header has no `kid`; tokens must name the key that signed them")]
    MissingKid,
    /// `kid` names no configured key (for example a key that was rotated out).
    #[error("the token was signed with key {0:?}, which this server does not accept")]
    UnknownKid(String),
    /// `alg` differs from the algorithm configured for the key.
    #[error("the token's algorithm {found} does not match key {kid:?}, which uses {expected}")]
    AlgorithmMismatch {
        /// The key.
        kid: String,
        /// Its algorithm.
        expected: String,
        /// The header's.
        found: String,
    },
    /// The signature does not verify: tampered with, or signed by another key.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// Past `exp`.
    #[error("the token has expired")]
    Expired,
    /// Before `nbf`.
    #[error("the token is not valid yet (nbf is in the future)")]
    NotYetValid,
    /// Wrong `iss`.
    #[error("the token was issued by another issuer (expected {0:?})")]
    WrongIssuer(String),
    /// Wrong `aud`.
    #[error("the token is for another audience (expected {0:?})")]
    WrongAudience(String),
    /// A required claim is missing or has the wrong type.
    #[error("the token lacks a required claim or has one of the wrong type: {0}")]
    BadClaims(String),
    /// `jti` names a revoked token.
    #[error("the token was revoked")]
    Revoked,
    /// The token's claims differ from the record of the token that was issued under its
    /// `jti`: it was re-signed with other claims.
    #[error("the token's claims ({0}) differ from what was issued under its jti: it was altered and is refused")]
    Tampered(String),
    /// `jti` names no token ParkGraph issued.
    #[error("the token is not registered with this server")]
    Unregistered,
    /// No signing key is configured.
    #[error("no signing key is configured")]
    NoSigningKey,
}

/// One key of the set.
pub struct Key {
    /// Its id.
    pub kid: String,
    /// The one algorithm it is used with.
    pub algorithm: Algorithm,
    /// For signing (the signing key only).
    pub encoding: Option<EncodingKey>,
    /// For verifying.
    pub decoding: DecodingKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("kid", &self.kid).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

impl Key {
    /// A shared-secret (HMAC) key.
    pub fn hmac(kid: &str, algorithm: Algorithm, secret: &[u8]) -> Self {
        Self {
            kid: kid.into(),
            algorithm,
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// Issuer, audience, leeway and keys.
#[derive(Debug)]
pub struct KeySet {
    issuer: String,
    audience: String,
    leeway_seconds: u64,
    signing: Option<String>,
    keys: HashMap<String, Key>,
}

impl KeySet {
    /// A key set; `signing` names the key new tokens are signed with.
    pub fn new(issuer: &str, audience: &str, leeway_seconds: u64, signing: Option<&str>, keys: Vec<Key>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_seconds,
            signing: signing.map(String::from),
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
        }
    }

    /// The issuer tokens must name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience tokens must name.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Signs claims with the signing key.
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let kid = self.signing.as_ref().ok_or(TokenError::NoSigningKey)?;
        let key = self.keys.get(kid).ok_or(TokenError::NoSigningKey)?;
        let encoding = key.encoding.as_ref().ok_or(TokenError::NoSigningKey)?;
        let mut header = Header::new(key.algorithm);
        header.kid = Some(kid.clone());
        encode(&header, claims, encoding).map_err(|_| TokenError::NoSigningKey)
    }

    /// Claims for a new token.
    pub fn claims(
        &self,
        subject: &str,
        role: Role,
        scopes: &BTreeSet<Scope>,
        partner_id: Option<Uuid>,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.into(),
            exp: expires.timestamp(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: Uuid::now_v7(),
            role: role.code().into(),
            scope: Scope::join(scopes),
            partner_id,
        }
    }

    /// The claims of a token the registry granted (see
    /// [`parkgraph_registry::token::issue`]).
    pub fn claims_of(&self, grant: &TokenGrant<'_>) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: grant.subject.into(),
            exp: grant.expires_at.timestamp(),
            iat: grant.issued_at.timestamp(),
            nbf: grant.issued_at.timestamp(),
            jti: grant.jti,
            role: grant.role.code().into(),
            scope: Scope::join(grant.scopes),
            partner_id: grant.partner_id,
        }
    }

    /// Verifies a token's header, signature and claims (not revocation: see the caller).
    pub fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        if let Some(alg) = peek_alg(token)
            && alg.parse::<Algorithm>().is_err()
        {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        let header = decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::InvalidAlgorithmName | ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                TokenError::UnsupportedAlgorithm
            }
            _ => TokenError::Malformed,
        })?;
        let kid = header.kid.ok_or(TokenError::MissingKid)?;
        let key = self.keys.get(&kid).ok_or_else(|| TokenError::UnknownKid(kid.clone()))?;
        if header.alg != key.algorithm {
            return Err(TokenError::AlgorithmMismatch {
                kid,
                expected: format!("{:?}", key.algorithm),
                found: format!("{:?}", header.alg),
            });
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let data = decode::<Claims>(token, &key.decoding, &validation).map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer(self.issuer.clone()),
            ErrorKind::InvalidAudience => TokenError::WrongAudience(self.audience.clone()),
            ErrorKind::MissingRequiredClaim(claim) => TokenError::BadClaims(format!("missing `{claim}`")),
            ErrorKind::Json(err) => TokenError::BadClaims(err.to_string()),
            ErrorKind::InvalidAlgorithm => TokenError::UnsupportedAlgorithm,
            _ => TokenError::Malformed,
        })?;
        let claims = data.claims;
        let role: Role =
            claims.role.parse().map_err(|_| TokenError::BadClaims(format!("unknown role {:?}", claims.role)))?;
        if role == Role::Anonymous {
            return Err(TokenError::BadClaims("a token cannot carry the anonymous role".into()));
        }
        let scopes = Scope::parse_list(&claims.scope).map_err(|e| TokenError::BadClaims(e.to_string()))?;
        Ok(Verified { claims, role, scopes })
    }
}

/// The key set signs the tokens the registry issues.
impl TokenSigner for KeySet {
    type Error = TokenError;

    fn sign_grant(&self, grant: &TokenGrant<'_>) -> Result<String, TokenError> {
        self.sign(&self.claims_of(grant))
    }
}

/// The header's `alg`, read before anything else so `none` and unknown algorithms get
/// their own answer.
fn peek_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    json.get("alg")?.as_str().map(String::from)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn set(keys: Vec<Key>, signing: &str) -> KeySet {
        KeySet::new("parkgraph", "parkgraph-api", 30, Some(signing), keys)
    }

    fn token(keys: &KeySet, now: DateTime<Utc>, ttl: i64) -> String {
        let scopes = Scope::parse_list("read:parks").expect("scopes");
        let claims =
            keys.claims("partner:test", Role::Partner, &scopes, None, now, now + chrono::Duration::seconds(ttl));
        keys.sign(&claims).expect("signs")
    }

    #[test]
    fn a_signed_token_verifies_with_its_role_and_scopes() {
        let keys = set(vec![Key::hmac("k1", Algorithm::HS256, b"0123456789abcdef0123456789abcdef")], "k1");
        let verified = keys.verify(&token(&keys, Utc::now(), 60)).expect("valid");
        assert_eq!(verified.role, Role::Partner);
        assert!(verified.scopes.contains(&Scope::ReadParks));
    }

    #[test]
    fn alg_none_and_tampering_are_rejected() {
        let keys = set(vec![Key::hmac("k1", Algorithm::HS256, b"0123456789abcdef0123456789abcdef")], "k1");
        let good = token(&keys, Utc::now(), 60);
        let parts: Vec<&str> = good.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        assert_eq!(keys.verify(&format!("{none_header}.{}.", parts[1])), Err(TokenError::UnsupportedAlgorithm));
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("utf8");
        let forged = URL_SAFE_NO_PAD.encode(payload.replace("PARTNER", "ADMIN"));
        assert_eq!(keys.verify(&format!("{}.{forged}.{}", parts[0], parts[2])), Err(TokenError::BadSignature));
        assert_eq!(keys.verify("not.a.jwt"), Err(TokenError::Malformed));
    }
}
