//! The HTTP surface: `POST /graphql`, GraphiQL on `GET /graphql`, `/healthz`, `/readyz`,
//! with CORS for configured origins, response compression, a body-size limit and
//! request tracing.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::ParkGraphSchema;

/// HTTP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Origins allowed to call the API from a browser; `*` allows any; empty allows none.
    pub cors_origins: Vec<String>,
    /// Serve GraphiQL on `GET /graphql`.
    pub graphiql: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self { cors_origins: Vec::new(), graphiql: true, max_body_bytes: 1 << 20 }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The schema, with its loaders and pool.
    pub schema: ParkGraphSchema,
    /// The pool, for readiness checks.
    pub db: DatabaseConnection,
}

async fn graphql(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    crate::execute(&state.schema, request.into_inner()).await.into()
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").title("ParkGraph GraphiQL").finish())
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))),
        Ok(Err(err)) => {
            tracing::warn!(%err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database unavailable" })))
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database timed out" }))),
    }
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| match HeaderValue::from_str(o) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring a CORS origin that is not a valid header value");
                None
            }
        }))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .max_age(Duration::from_secs(3600)),
    )
}

/// The router.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let graphql_route = if config.graphiql { get(graphiql).post(graphql) } else { axum::routing::post(graphql) };
    let mut router = Router::new()
        .route("/graphql", graphql_route)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http());
    if let Some(cors) = cors(&config.cors_origins) {
        router = router.layer(cors);
    }
    router
}
