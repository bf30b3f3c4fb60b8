//! The root `Mutation`: token administration and changes to the registry (thin resolvers
//! over [`crate::command`], which calls the service).

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object};
use parkgraph_domain::{Role, Scope};
use parkgraph_registry::token::{IssueError, IssueRequest};
use uuid::Uuid;

use crate::auth::Authenticator;
use crate::command::organization::{
    self as organization, ArchiveOrganizationInput, ArchiveOrganizationPayload, CreateOrganizationInput,
    CreateOrganizationPayload, RestoreOrganizationInput, RestoreOrganizationPayload, UpdateOrganizationInput,
    UpdateOrganizationPayload,
};
use crate::command::park::{
    self as park, ArchiveParkInput, ArchiveParkPayload, CreateParkInput, CreateParkPayload, RestoreParkInput,
    RestoreParkPayload, UpdateParkInput, UpdateParkPayload,
};
use crate::error::{ApiError, ApiResult};
use crate::object::access::{ApiToken, IssueTokenPayload};
use crate::policy::{Admin, Writer};

/// What token to issue.
#[derive(InputObject)]
pub struct IssueTokenInput {
    /// Partner name (required for PARTNER tokens; created on first use).
    pub partner: Option<String>,
    /// Role: ADMIN, EDITOR, ANALYST or PARTNER (any case).
    pub role: String,
    /// Scopes (e.g. `read:parks`); when omitted, all the role allows except `read:changes`
    /// for a partner, which must be asked for.
    pub scopes: Option<Vec<String>>,
    /// Lifetime, e.g. `90d`, `12h` (default 90 days).
    pub ttl: Option<String>,
    /// Subject; defaults to `partner:<name>` or `staff:<role>`.
    pub subject: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
}

fn bad(message: impl std::fmt::Display) -> async_graphql::Error {
    ApiError::BadUserInput(message.to_string()).into_error()
}

/// The root of every change.
pub struct Mutation;

/// The root of every change.
#[Object]
impl Mutation {
    /// Issues a token (administrators with `admin:tokens`). The token is in the payload,
    /// shown this once only.
    #[graphql(guard = "Admin(Scope::AdminTokens)")]
    async fn issue_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to issue.")] input: IssueTokenInput,
    ) -> async_graphql::Result<IssueTokenPayload> {
        let role: Role = input.role.parse().map_err(bad)?;
        let scopes = match &input.scopes {
            Some(list) => Some(Scope::parse_list(&list.join(" ")).map_err(bad)?),
            None => None,
        };
        let ttl = humantime_like(input.ttl.as_deref().unwrap_or("90d")).map_err(bad)?;
        let (registry, _) = crate::command::service(ctx)?;
        let auth = ctx.data::<Arc<Authenticator>>()?;
        let request = IssueRequest {
            partner: input.partner,
            role,
            scopes,
            ttl,
            subject: input.subject,
            description: input.description,
            issued_by: crate::policy::caller(ctx)?.jti,
        };
        let (token, record) = registry.issue_token(auth.keys(), request).await.map_err(|e| match e {
            IssueError::Invalid(_) | IssueError::Signing(_) => bad(e),
            IssueError::Store(e) => ApiError::from(e).into_error(),
        })?;
        Ok(IssueTokenPayload { token, api_token: ApiToken(record) })
    }

    /// Revokes a token (administrators with `admin:tokens`); every replica refuses it
    /// within the revocation cache's lifetime (5 s by default).
    #[graphql(guard = "Admin(Scope::AdminTokens)")]
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's jti.")] jti: Uuid,
    ) -> async_graphql::Result<ApiToken> {
        let record = crate::query::store(ctx)?.revoke_token(jti, chrono::Utc::now()).await.api()?;
        if let Ok(auth) = ctx.data::<Arc<Authenticator>>() {
            auth.forget(jti);
        }
        Ok(ApiToken(record))
    }

    /// Creates an organization at version 1 (editors and administrators with
    /// `write:registry`). Invalid input is reported in `userErrors` and creates nothing.
    #[graphql(guard = "Writer")]
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new organization.")] input: CreateOrganizationInput,
    ) -> async_graphql::Result<CreateOrganizationPayload> {
        organization::create(ctx, input).await
    }

    /// Corrects an organization at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears. A stale version or invalid
    /// input is reported in `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization, the version read, and the fields to change.")]
        input: UpdateOrganizationInput,
    ) -> async_graphql::Result<UpdateOrganizationPayload> {
        organization::update(ctx, input).await
    }

    /// Archives an organization at the version read (editors and administrators with
    /// `write:registry`): it leaves the live registry and frees its USCC; staff still read it.
    #[graphql(guard = "Writer")]
    async fn archive_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization and the version read.")] input: ArchiveOrganizationInput,
    ) -> async_graphql::Result<ArchiveOrganizationPayload> {
        organization::archive(ctx, input).await
    }

    /// Restores an archived organization at the version read (editors and administrators
    /// with `write:registry`), unless another live organization has taken its USCC.
    #[graphql(guard = "Writer")]
    async fn restore_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization and the version read.")] input: RestoreOrganizationInput,
    ) -> async_graphql::Result<RestoreOrganizationPayload> {
        organization::restore(ctx, input).await
    }

    /// Creates a park at version 1 (editors and administrators with `write:registry`),
    /// under a live parent when one is given. Invalid input is reported in `userErrors`
    /// and creates nothing.
    #[graphql(guard = "Writer")]
    async fn create_park(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new park.")] input: CreateParkInput,
    ) -> async_graphql::Result<CreateParkPayload> {
        park::create(ctx, input).await
    }

    /// Corrects or moves a park at the version read (editors and administrators with
    /// `write:registry`): fields left out stay, `null` clears. A new parent must be live and
    /// outside the park (`CYCLE`); a stale version or invalid input is reported in
    /// `userErrors` and changes nothing.
    #[graphql(guard = "Writer")]
    async fn update_park(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The park, the version read, and the fields to change.")] input: UpdateParkInput,
    ) -> async_graphql::Result<UpdateParkPayload> {
        park::update(ctx, input).await
    }

    /// Archives a park at the version read (editors and administrators with
    /// `write:registry`), unless it still contains live parks: it leaves the live registry;
    /// staff still read it.
    #[graphql(guard = "Writer")]
    async fn archive_park(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The park and the version read.")] input: ArchiveParkInput,
    ) -> async_graphql::Result<ArchiveParkPayload> {
        park::archive(ctx, input).await
    }

    /// Restores an archived park at the version read (editors and administrators with
    /// `write:registry`), unless its parent is no longer live.
    #[graphql(guard = "Writer")]
    async fn restore_park(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The park and the version read.")] input: RestoreParkInput,
    ) -> async_graphql::Result<RestoreParkPayload> {
        park::restore(ctx, input).await
    }
}

/// Parses a lifetime such as `90d`, `12h`, `30m` or `3600s` (also `90days`).
pub fn humantime_like(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a lifetime such as 90d, 12h or 30m"))?;
    let seconds = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return Err(format!("{text:?} is not a lifetime such as 90d, 12h or 30m")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(seconds)))
}

#[cfg(test)]
mod tests {
    use super::humantime_like;

    #[test]
    fn lifetimes_parse_with_units() {
        assert_eq!(humantime_like("90d").map(|d| d.as_secs()), Ok(90 * 86_400));
        assert_eq!(humantime_like("12h").map(|d| d.as_secs()), Ok(12 * 3600));
        assert!(humantime_like("ninety").is_err());
        assert!(humantime_like("5y").is_err());
    }
}
