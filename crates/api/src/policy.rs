//! The access policy, in one place: which scope each family of records needs, which
//! fields are internal, and the guards that enforce both. A field refused here is a
//! field error with `extensions.code = FORBIDDEN`; the rest of the response still returns.

use async_graphql::{Context, ErrorExtensions, Guard};
use parkgraph_domain::{Role, Scope};
use parkgraph_persistence::write::EntityType;

use crate::auth::Caller;

pub use crate::error::code::FORBIDDEN;

pub(crate) fn forbidden(message: String) -> async_graphql::Error {
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

/// Guard: the caller has a staff role (record history is for staff, never partners or
/// anonymous callers).
pub struct Staff;

impl Guard for Staff {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = caller(ctx)?;
        if caller.role.is_staff() {
            Ok(())
        } else {
            Err(forbidden(format!("staff only: history is not readable by the {} caller", caller.role)))
        }
    }
}

/// The read scopes a change to a record of `entity` needs, on top of `read:changes`: its
/// family's, and for a link both ends' families.
pub fn change_scopes(entity: EntityType) -> &'static [Scope] {
    match entity {
        EntityType::Park | EntityType::ParkDesignation | EntityType::Figure | EntityType::CityDesignation => {
            &[Scope::ReadParks]
        }
        EntityType::Organization | EntityType::Designation => &[Scope::ReadOrganizations],
        EntityType::EnterpriseLocation => &[Scope::ReadOrganizations, Scope::ReadParks],
        EntityType::Incubator => &[Scope::ReadIncubators],
        EntityType::Incubation => &[Scope::ReadIncubators, Scope::ReadOrganizations],
        EntityType::SecondHeadquarters => &[Scope::ReadSecondHeadquarters],
        EntityType::InnovationCenter => &[Scope::ReadInnovationCenters],
        EntityType::InnovationCenterMembership => &[Scope::ReadInnovationCenters, Scope::ReadOrganizations],
    }
}

/// True when the caller may read changes to records of `entity` (see [`change_scopes`]).
pub fn may_read_changes_of(caller: &Caller, entity: EntityType) -> bool {
    change_scopes(entity).iter().all(|scope| caller.has(*scope))
}

/// The internal columns, as they appear in a record's fields in revisions and the feed
/// (compared without `_` and case, so `staff_notes` and `staffNotes` both match).
pub const INTERNAL_COLUMNS: [&str; 4] = ["contact_name", "contact_phone", "contact_email", "staff_notes"];

fn is_internal_column(key: &str) -> bool {
    let plain: String = key.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect();
    INTERNAL_COLUMNS.iter().any(|column| column.replace('_', "") == plain)
}

/// A record's fields as the caller may see them: the internal columns are removed unless
/// the caller is staff with `read:internal` (the rule of [`Internal`]).
pub fn visible_fields(caller: &Caller, fields: Option<serde_json::Value>) -> Option<serde_json::Value> {
    if caller.role.is_staff() && caller.has(Scope::ReadInternal) {
        return fields;
    }
    fields.map(|value| match value {
        serde_json::Value::Object(mut map) => {
            map.retain(|key, _| !is_internal_column(key));
            serde_json::Value::Object(map)
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_columns_are_removed_for_partners_and_kept_for_staff_with_read_internal() {
        let fields =
            serde_json::json!({ "name_zh": "斗鱼", "staff_notes": "x", "contactEmail": "a@b", "contact_name": "c" });
        let mut partner = Caller::anonymous();
        partner.role = Role::Partner;
        assert_eq!(visible_fields(&partner, Some(fields.clone())), Some(serde_json::json!({ "name_zh": "斗鱼" })));
        assert_eq!(visible_fields(&Caller::system(), Some(fields.clone())), Some(fields));
        assert_eq!(visible_fields(&partner, None), None);
    }

    #[test]
    fn a_link_change_needs_both_ends_families() {
        let mut caller = Caller::anonymous();
        caller.scopes = [Scope::ReadParks].into_iter().collect();
        assert!(may_read_changes_of(&caller, EntityType::Park));
        assert!(!may_read_changes_of(&caller, EntityType::EnterpriseLocation));
        caller.scopes.insert(Scope::ReadOrganizations);
        assert!(may_read_changes_of(&caller, EntityType::EnterpriseLocation));
    }
}
