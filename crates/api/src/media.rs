//! Media types of GraphQL over HTTP: which one a client's `Accept` header asks for, and
//! the status codes each implies (see the GraphQL-over-HTTP draft,
//! <https://graphql.github.io/graphql-over-http/draft/>).
//!
//! - `application/graphql-response+json` when `Accept` names it (with a weight at least
//!   that of `application/json`): status codes follow the outcome, so a request that fails
//!   before execution (a document that does not parse or validate, an operation over a
//!   limit) is a `4xx` with no `data`, and one that executed is a `200`.
//! - `application/json` when `Accept` is absent, empty, or allows it (`*/*`,
//!   `application/*`): the legacy rule, `200` for every GraphQL error.
//! - Neither allowed: `406 Not Acceptable` (with a JSON body all the same).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

/// `application/graphql-response+json`.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The media type of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: status codes follow the outcome.
    GraphqlResponseJson,
    /// `application/json`: `200` for GraphQL errors (the legacy rule).
    Json,
}

impl MediaType {
    /// The `Content-Type` header of an answer in this media type.
    pub fn content_type(self) -> HeaderValue {
        match self {
            Self::GraphqlResponseJson => HeaderValue::from_static("application/graphql-response+json; charset=utf-8"),
            Self::Json => HeaderValue::from_static("application/json"),
        }
    }

    /// The status of an answer refused before execution with `code` (a document that
    /// does not validate, an operation over a limit, introspection not allowed): `200`
    /// under the legacy rule, else `403` for `FORBIDDEN` and `400` for the rest.
    pub fn before_execution(self, code: &str) -> StatusCode {
        match self {
            Self::Json => StatusCode::OK,
            Self::GraphqlResponseJson if code == crate::error::code::FORBIDDEN => StatusCode::FORBIDDEN,
            Self::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        }
    }
}

/// The `Accept` header allows neither media type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this server answers in application/graphql-response+json or application/json, and the Accept header allows neither"
)]
pub struct NotAcceptable;

/// One range of an `Accept` header, with its weight (`q`, 0 to 1000).
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    weight: u16,
}

fn ranges(headers: &HeaderMap) -> Vec<Range<'_>> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let (kind, subtype) = parts.next()?.trim().split_once('/')?;
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .map(weight)
                .next()
                .unwrap_or(1000);
            Some(Range { kind: kind.trim(), subtype: subtype.trim(), weight })
        })
        .collect()
}

/// A `q` value in thousandths; one that does not parse counts as 0 (not acceptable).
fn weight(q: &str) -> u16 {
    q.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)).map_or(0, |q| (q * 1000.0).round() as u16)
}

/// The weight `Accept` gives `kind/subtype` (from its most specific matching range),
/// and whether that range names it exactly; `None` when no range matches.
fn weight_of(ranges: &[Range<'_>], kind: &str, subtype: &str) -> Option<(u16, bool)> {
    let specificity = |r: &Range<'_>| match (r.kind, r.subtype) {
        (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) => Some(2),
        (k, "*") if k.eq_ignore_ascii_case(kind) => Some(1),
        ("*", "*") => Some(0),
        _ => None,
    };
    ranges
        .iter()
        .filter_map(|r| specificity(r).map(|s| (s, r.weight)))
        .max_by_key(|(s, _)| *s)
        .map(|(s, w)| (w, s == 2))
}

/// The media type to answer in, from the request's `Accept` header.
pub fn negotiate(headers: &HeaderMap) -> Result<MediaType, NotAcceptable> {
    let ranges = ranges(headers);
    if ranges.is_empty() {
        return Ok(MediaType::Json);
    }
    let graphql = weight_of(&ranges, "application", "graphql-response+json");
    let json = weight_of(&ranges, "application", "json").map_or(0, |(w, _)| w);
    match graphql {
        Some((w, true)) if w > 0 && w >= json => Ok(MediaType::GraphqlResponseJson),
        _ if json > 0 => Ok(MediaType::Json),
        Some((w, _)) if w > 0 => Ok(MediaType::GraphqlResponseJson),
        _ => Err(NotAcceptable),
    }
}

/// True when `Accept` allows `text/html` (a browser asking for a page).
pub fn accepts_html(headers: &HeaderMap) -> bool {
    let ranges = ranges(headers);
    ranges.iter().any(|r| r.kind.eq_ignore_ascii_case("text") && r.subtype.eq_ignore_ascii_case("html") && r.weight > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Result<MediaType, NotAcceptable> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).expect("header"));
        negotiate(&headers)
    }

    #[test]
    fn accept_picks_the_media_type_of_the_answer() {
        use MediaType::{GraphqlResponseJson as G, Json as J};
        assert_eq!(negotiate(&HeaderMap::new()), Ok(J), "no Accept: application/json");
        assert_eq!(accept("application/graphql-response+json"), Ok(G));
        assert_eq!(accept("application/graphql-response+json, application/json;q=0.9"), Ok(G));
        assert_eq!(accept("application/json, application/graphql-response+json"), Ok(G));
        assert_eq!(accept("application/json;q=1, application/graphql-response+json;q=0.5"), Ok(J));
        assert_eq!(accept("application/json"), Ok(J));
        assert_eq!(accept("*/*"), Ok(J), "a wildcard keeps the legacy type");
        assert_eq!(accept("text/html,application/xhtml+xml,*/*;q=0.8"), Ok(J));
        assert_eq!(accept("application/*"), Ok(J));
        assert_eq!(accept("application/json;q=0, */*"), Ok(G));
        assert_eq!(accept("text/html"), Err(NotAcceptable));
        assert_eq!(accept("application/json;q=0"), Err(NotAcceptable));
        assert_eq!(accept("application/json;q=bogus"), Err(NotAcceptable));
    }

    #[test]
    fn a_browser_asks_for_html() {
        let mut headers = HeaderMap::new();
        assert!(!accepts_html(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"));
        assert!(accepts_html(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html;q=0, */*"));
        assert!(!accepts_html(&headers));
    }
}
