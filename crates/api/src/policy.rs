//! The access policy, in one place: which scope each family of records needs, which
//! fields are internal, and the guards that enforce both. A field refused here is a
//! field error with `extensions.code = FORBIDDEN`; the rest of the response still returns.

use async_graphql::{Context, ErrorExtensions, Guard};
use parkgraph_domain::{Role, Scope};

use crate::auth::Caller;

pub use crate::error::code::FORBIDDEN;

fn forbidden(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", FORBIDDEN))
}

/// The caller of the current request. A request that reaches a resolver without an
/// authenticated caller attached is refused, never served as anonymous: a transport that
/// forgets to authenticate fails closed.
pub fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data_opt::<Caller>().ok_or_else(|| {
        tracing::error!("a GraphQL request reached a resolver without an authenticated caller; refused");
        async_graphql::Error::new("this request was not authenticated")
            .extend_with(|_, e| e.set("code", crate::error::code::UNAUTHENTICATED))
    })
}

/// Fails unless the caller holds `scope`.
pub fn require(ctx: &Context<'_>, scope: Scope) -> async_graphql::Result<()> {
    let caller = caller(ctx)?;
    if caller.has(scope) {
        Ok(())
    } else {
        Err(forbidden(format!(
            "this needs the `{}` scope, which the {} caller does not hold",
            scope.code(),
            caller.role
        )))
    }
}

/// Guard: the caller holds this scope (the read scope of a family of records, an
/// admin scope …).
pub struct Needs(pub Scope);

impl Guard for Needs {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require(ctx, self.0)
    }
}

/// Guard of internal fields (contacts, staff notes): a staff role with `read:internal`.
pub struct Internal;

impl Guard for Internal {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = caller(ctx)?;
        if caller.role.is_staff() && caller.has(Scope::ReadInternal) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "internal field: readable by staff with the `read:internal` scope, not by the {} caller",
                caller.role
            )))
        }
    }
}

/// Guard: the caller is an administrator holding `scope`.
pub struct Admin(pub Scope);

impl Guard for Admin {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = caller(ctx)?;
        if caller.role == Role::Admin && caller.has(self.0) {
            Ok(())
        } else {
            Err(forbidden(format!("administrators with the `{}` scope only", self.0.code())))
        }
    }
}

/// Guard of registry changes: an editor or administrator holding `write:registry`.
pub struct Writer;

impl Guard for Writer {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = caller(ctx)?;
        if matches!(caller.role, Role::Editor | Role::Admin) && caller.has(Scope::WriteRegistry) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "changing the registry needs an editor or administrator with the `{}` scope, not the {} caller",
                Scope::WriteRegistry.code(),
                caller.role
            )))
        }
    }
}
