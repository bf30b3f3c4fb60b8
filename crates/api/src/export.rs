//! What `parkgraph export` needs of the API besides running queries: the organizations a
//! list's `filter` selects, walked by id.
//!
//! The root lists page by offset, so reading a whole list through them costs time growing
//! with the square of its length. An export instead walks the ids the filter selects in
//! id order (each page a seek on the primary key), then reads the records through the
//! schema's `nodes` field. The filter is the list's own: the same JSON, parsed as the same
//! input type and mapped by the same code as `organizations(filter:)`, read as an operator
//! (staff) would read it.

use std::collections::HashSet;

use async_graphql::registry::{MetaType, Registry};
use async_graphql::{InputType, Value};
use parkgraph_domain::OrganizationKind;
use parkgraph_persistence::Store;
use parkgraph_persistence::query::{OrganizationFilter, Visibility};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::error::ApiError;
use crate::id::{NodeType, decode_as};
use crate::query::{OrganizationFilterInput, organization_filter_of};

/// The organization filter an operator's export of `organizations` (or `enterprises`,
/// when `only_enterprises`) with this `filter` JSON reads: what `organizations(filter:)`
/// selects for a staff caller. Live records only unless the filter says
/// `"includeArchived": true`. `null` is no filter. An unknown field, or a value of the
/// wrong type, is a `BadUserInput` error naming the field.
pub async fn organization_export_filter(
    store: &Store,
    filter: Json,
    only_enterprises: bool,
) -> Result<OrganizationFilter, ApiError> {
    let input = parse_input::<OrganizationFilterInput>(filter)?;
    let visibility = if input.include_archived == Some(true) { Visibility::WithArchived } else { Visibility::Live };
    let park_ids = match &input.park {
        None => None,
        Some(scope) => {
            let id = decode_as(NodeType::Park, &scope.park_id)?;
            if scope.include_sub_parks {
                // The tree a staff caller's `organizations(filter:)` resolves sub-parks
                // with: the staff loaders see archived parks too, whatever the filter's
                // `includeArchived`.
                Some(store.park_tree(Visibility::WithArchived).await?.subtree(id))
            } else {
                Some(vec![id])
            }
        }
    };
    let only = only_enterprises.then_some(OrganizationKind::Enterprise);
    organization_filter_of(input, only, visibility, park_ids)
}

/// The ids of the organizations an operator's export with this `filter` JSON reads (see
/// [`organization_export_filter`]), in id order, after `after`, at most `limit`. Resolves
/// the filter on each call: a caller walking many pages resolves it once with
/// [`organization_export_filter`] and calls `Store::organization_ids` itself.
pub async fn organization_ids_for_export(
    store: &Store,
    filter: Json,
    only_enterprises: bool,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Uuid>, ApiError> {
    let filter = organization_export_filter(store, filter, only_enterprises).await?;
    Ok(store.organization_ids(&filter, after, limit).await?)
}

/// Parses a JSON value as the GraphQL input type `T`, as a variable of that type would
/// be: `null` is `T`'s default; unknown fields (which the type's own parser skips, the
/// document's validation being what refuses them) and bad values are errors naming the
/// field.
fn parse_input<T: InputType + Default>(json: Json) -> Result<T, ApiError> {
    if json.is_null() {
        return Ok(T::default());
    }
    let mut registry = Registry::default();
    T::create_type_info(&mut registry);
    unknown_fields(&registry, &T::type_name(), &json, "")?;
    let value = Value::from_json(json.clone())
        .map_err(|e| ApiError::BadUserInput(format!("the filter is not a GraphQL value: {e}")))?;
    T::parse(Some(value)).map_err(|error| {
        let message = error.into_server_error(Default::default()).message;
        // Name the field: the first one that fails to parse on its own.
        let field = json.as_object().and_then(|fields| {
            fields.iter().find_map(|(key, value)| {
                let alone = Value::from_json(serde_json::json!({ key.as_str(): value.clone() })).ok()?;
                T::parse(Some(alone)).is_err().then(|| key.clone())
            })
        });
        ApiError::BadUserInput(match field {
            Some(field) => format!("the filter's `{field}` is not valid: {message}"),
            None => format!("the filter is not a valid {}: {message}", T::type_name()),
        })
    })
}

/// Refuses fields `json` has that the input type `type_name` (or one nested in it) does
/// not declare. `path` is where `json` sits, for the message.
fn unknown_fields(registry: &Registry, type_name: &str, json: &Json, path: &str) -> Result<(), ApiError> {
    let name = type_name.trim_matches(|c| matches!(c, '[' | ']' | '!'));
    let Some(MetaType::InputObject { input_fields, .. }) = registry.types.get(name) else {
        return Ok(());
    };
    match json {
        Json::Array(items) => items.iter().try_for_each(|item| unknown_fields(registry, name, item, path)),
        Json::Object(fields) => {
            let known: HashSet<&str> = input_fields.keys().map(String::as_str).collect();
            for (key, value) in fields {
                let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let Some(field) = input_fields.get(key) else {
                    let mut names: Vec<&str> = known.iter().copied().collect();
                    names.sort_unstable();
                    return Err(ApiError::BadUserInput(format!(
                        "`{at}` is not a field of {name}: use one of {}",
                        names.join(", ")
                    )));
                };
                unknown_fields(registry, &field.ty, value, &at)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_is_refused_by_name() {
        let err = parse_input::<OrganizationFilterInput>(serde_json::json!({ "colour": 1 })).expect_err("unknown");
        assert!(err.to_string().contains("`colour` is not a field of OrganizationFilterInput"), "{err}");
        let err = parse_input::<OrganizationFilterInput>(serde_json::json!({ "park": { "parkId": "x", "depth": 2 } }))
            .expect_err("unknown nested");
        assert!(err.to_string().contains("`park.depth` is not a field of ParkScope"), "{err}");
    }

    #[test]
    fn a_bad_value_is_refused_naming_its_field() {
        let err = parse_input::<OrganizationFilterInput>(serde_json::json!({ "city": "武汉", "kinds": ["SPACESHIP"] }))
            .expect_err("bad enum");
        assert!(err.to_string().contains("`kinds`"), "{err}");
        let err = parse_input::<OrganizationFilterInput>(serde_json::json!(["武汉"])).expect_err("not an object");
        assert!(err.to_string().contains("OrganizationFilterInput"), "{err}");
    }

    #[test]
    fn null_is_no_filter_and_defaults_apply() {
        let none = parse_input::<OrganizationFilterInput>(Json::Null).expect("null");
        assert!(none.park.is_none() && none.city.is_none());
        let some = parse_input::<OrganizationFilterInput>(serde_json::json!({ "park": { "parkId": "x" } }))
            .expect("a park scope");
        assert!(some.park.is_some_and(|p| p.include_sub_parks), "sub-parks are included by default");
    }
}
