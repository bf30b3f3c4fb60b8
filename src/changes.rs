//! `parkgraph changes`: the change feed as NDJSON, for scripts.
//!
//! The command reads the feed through the GraphQL schema in process (as the system
//! caller), so every line is exactly a `Change` node of `Query.changes` plus its `cursor`:
//! what a partner's client sees, without a server or a token.

use std::io::Write;

use parkgraph_api::{Limits, auth::Caller, keyset, object::change::FEED};
use parkgraph_persistence::sea_orm::DatabaseConnection;
use parkgraph_persistence::write::EntityType;
use serde_json::{Value, json};

use crate::anyhow_free::Failure;

const PAGE: &str = "query Changes($after: String, $first: Int, $types: [ChangeEntityType!]) {
  changes(after: $after, first: $first, types: $types) {
    edges { cursor node { seq entityType entityId databaseId version operation tombstone at actor after } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// The largest page the command asks for (the API's maximum).
const PAGE_SIZE: u64 = 100;

/// `--after`: a feed cursor, or a plain `seq` (the entries after it).
pub fn after_cursor(text: &str) -> String {
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(seq) => keyset::encode(FEED, seq),
        Err(_) => text.to_string(),
    }
}

/// `--types`: a comma-separated list of entity types, as table names in any case
/// (`organization,park`, `enterprise_location`), as the GraphQL enum's values.
pub fn entity_types(list: &str) -> Result<Vec<String>, Failure> {
    list.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            let code = t.to_ascii_lowercase().replace('-', "_");
            EntityType::parse(&code).map(|e| e.table().to_ascii_uppercase()).map_err(|_| {
                let known = EntityType::ALL.iter().map(|e| e.table()).collect::<Vec<_>>().join(", ");
                Failure(format!("--types: {t:?} is not an entity type (one of {known})"))
            })
        })
        .collect()
}

/// Writes the feed after `after` to `out`, one JSON object per line, paging until the end
/// of the feed or `limit` lines. Returns the number of lines written.
pub async fn print(
    db: DatabaseConnection,
    after: Option<String>,
    limit: Option<u64>,
    types: Option<Vec<String>>,
    out: &mut impl Write,
) -> Result<u64, Failure> {
    let schema = parkgraph_api::schema(db, Limits::default());
    let mut after = after.map(|a| after_cursor(&a));
    let mut written: u64 = 0;
    loop {
        let first = match limit {
            Some(limit) if written >= limit => break,
            Some(limit) => (limit - written).min(PAGE_SIZE),
            None => PAGE_SIZE,
        };
        let variables = json!({ "after": after, "first": first, "types": types });
        let request = async_graphql::Request::new(PAGE).variables(async_graphql::Variables::from_json(variables));
        let response = parkgraph_api::execute_as(&schema, request, Caller::system()).await;
        if let Some(err) = response.errors.first() {
            return Err(Failure(format!("reading the change feed: {}", err.message)));
        }
        let data = response.data.into_json().map_err(|e| Failure(format!("reading the change feed: {e}")))?;
        let page = &data["changes"];
        let edges = page["edges"].as_array().cloned().unwrap_or_default();
        for edge in edges {
            let mut line = match edge["node"].clone() {
                Value::Object(node) => node,
                _ => return Err(Failure("reading the change feed: an edge without a node".into())),
            };
            line.insert("cursor".into(), edge["cursor"].clone());
            let text = serde_json::to_string(&line).map_err(|e| Failure(e.to_string()))?;
            if let Err(err) = writeln!(out, "{text}") {
                // A reader that stopped early (`| head`) is not an error.
                if err.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(written);
                }
                return Err(err.into());
            }
            written += 1;
        }
        out.flush()?;
        match page["pageInfo"]["endCursor"].as_str() {
            Some(end) if page["pageInfo"]["hasNextPage"] == true => after = Some(end.to_string()),
            _ => break,
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_seq_is_a_cursor_and_types_are_table_names_in_any_case() {
        assert_eq!(after_cursor(" 12 "), keyset::encode(FEED, 12));
        assert_eq!(after_cursor("Y2hhbmdlOjEy"), "Y2hhbmdlOjEy");
        assert_eq!(
            entity_types("organization, Park,enterprise-location").ok(),
            Some(vec!["ORGANIZATION".to_string(), "PARK".to_string(), "ENTERPRISE_LOCATION".to_string()])
        );
        assert!(entity_types("castle").is_err());
    }
}
