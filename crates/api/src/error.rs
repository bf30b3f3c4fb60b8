//! Errors the API reports.
//!
//! Policy: resolvers return `async_graphql::Result`, and every error they raise is built
//! here, so it carries `extensions.code`:
//! - `NOT_FOUND`: an id or record that does not exist;
//! - `BAD_USER_INPUT`: arguments the caller can fix (page size, cursor, id, filter);
//! - `CONFLICT`: a uniqueness rule;
//! - `BAD_REQUEST`: the HTTP request is not a GraphQL request at all (a body that is not
//!   JSON or has no string `query`, a wrong method, a mutation over `GET`, a media type
//!   the server cannot read or write); raised by [`crate::http`] before anything runs;
//! - `UNAVAILABLE`: the database cannot be reached for now (a connection-level storage
//!   error); the HTTP response becomes `503` with `Retry-After` (see
//!   [`crate::http`]), and the same request may succeed when retried. The cause is logged;
//! - `INTERNAL`: anything else. The cause is logged with `tracing`, never sent.
//!
//! [`crate::execute`] is the safety net: a resolver error that somehow lacks a code is
//! logged and replaced by a plain `INTERNAL`, and errors from parsing and validating the
//! document are marked `GRAPHQL_VALIDATION_FAILED`.

use std::sync::Arc;

use async_graphql::{Error, ErrorExtensions};
use parkgraph_persistence::StoreError;

/// Error codes sent in `extensions.code`.
pub mod code {
    /// The record does not exist.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// The caller's input is wrong.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// The HTTP request is not a GraphQL request this server can run: an unreadable or
    /// invalid body, no `query`, a wrong method, a mutation over `GET`, a media type it
    /// cannot read or answer in.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// A uniqueness rule was broken.
    pub const CONFLICT: &str = "CONFLICT";
    /// Something failed on our side.
    pub const INTERNAL: &str = "INTERNAL";
    /// The document could not be parsed or validated.
    pub const VALIDATION: &str = "GRAPHQL_VALIDATION_FAILED";
    /// No valid credentials: a refused token, or no token where one is required.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The caller may not read or do this.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// The caller's rate limit has no points left for this operation.
    pub const THROTTLED: &str = "THROTTLED";
    /// The database cannot be reached for now; the HTTP answer is `503` with
    /// `Retry-After`, and the same request may succeed when retried.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    /// The request took too long: the operation ran longer than the request time limit,
    /// or its body did not arrive in time (`408`).
    pub const TIMEOUT: &str = "TIMEOUT";
}

/// An error with a code and a message safe to show.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// See [`code::NOT_FOUND`].
    #[error("{0}")]
    NotFound(String),
    /// See [`code::BAD_USER_INPUT`].
    #[error("{0}")]
    BadUserInput(String),
    /// See [`code::CONFLICT`].
    #[error("{0}")]
    Conflict(String),
    /// See [`code::UNAVAILABLE`]; the text is logged, never sent.
    #[error("the database is unavailable; try again shortly")]
    Unavailable(String),
    /// See [`code::INTERNAL`]; the text is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The GraphQL error, with `extensions.code`; internal causes are logged here.
    pub fn into_error(self) -> Error {
        let code = match &self {
            Self::NotFound(_) => code::NOT_FOUND,
            Self::BadUserInput(_) => code::BAD_USER_INPUT,
            Self::Conflict(_) => code::CONFLICT,
            Self::Unavailable(cause) => {
                tracing::warn!(%cause, "the database is unavailable");
                code::UNAVAILABLE
            }
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error while resolving a GraphQL request");
                code::INTERNAL
            }
        };
        Error::new(self.to_string()).extend_with(|_, e| e.set("code", code))
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(message) => Self::Conflict(message),
            stale @ StoreError::StaleVersion { .. } => Self::Conflict(stale.to_string()),
            StoreError::NotFound(message) => Self::NotFound(message),
            StoreError::Invalid(message) => Self::BadUserInput(message),
            StoreError::Unavailable(e) => Self::Unavailable(e.to_string()),
            StoreError::Database(e) => Self::Internal(e.to_string()),
        }
    }
}

impl From<Arc<StoreError>> for ApiError {
    fn from(err: Arc<StoreError>) -> Self {
        match &*err {
            StoreError::Conflict(message) => Self::Conflict(message.clone()),
            stale @ StoreError::StaleVersion { .. } => Self::Conflict(stale.to_string()),
            StoreError::NotFound(message) => Self::NotFound(message.clone()),
            StoreError::Invalid(message) => Self::BadUserInput(message.clone()),
            StoreError::Unavailable(e) => Self::Unavailable(e.to_string()),
            StoreError::Database(e) => Self::Internal(e.to_string()),
        }
    }
}

/// Turns storage results into GraphQL results with codes: use `.api()?`, never a bare `?`
/// on a storage error (which would send its text).
pub trait ApiResult<T> {
    /// Converts the error, logging internal causes.
    fn api(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> ApiResult<T> for Result<T, E> {
    fn api(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.into().into_error())
    }
}

/// A stored code that no longer parses: the data is wrong, not the caller.
pub fn stored<T>(table: &str, field: &str, value: &str) -> async_graphql::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| ApiError::Internal(format!("stored {table}.{field} {value:?}: {e}")).into_error())
}
