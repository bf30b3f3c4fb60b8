//! ParkGraph's GraphQL API and HTTP router.
//!
//! This crate owns the schema clients see: the GraphQL types (`object`), the root
//! `Query`, Relay connections and global ids, the data loaders that keep nested queries
//! to a fixed number of statements, the error codes, and the axum router serving it all,
//! partner snapshots (`/bulk/{kind}.ndjson`, [`bulk`]) included.

pub mod auth;
pub mod bulk;
pub mod cache;
pub mod client_address;
pub mod command;
pub mod connection;
pub mod cost;
pub mod error;
pub mod export;
pub mod graphiql;
pub mod http;
pub mod id;
pub mod keyset;
pub mod limiter;
pub mod loader;
pub mod media;
pub mod metrics;
pub mod mutation;
pub mod object;
pub mod policy;
pub mod query;

use std::time::Duration;

use async_graphql::{EmptySubscription, Request, Response, Schema, ServerError};
use parkgraph_persistence::Store;

pub use began::Began;
pub use http::{AppState, HttpConfig, router};
pub use mutation::Mutation;
pub use query::Query;

/// The ParkGraph schema.
pub type ParkGraphSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits every operation is checked against before it runs, and loader tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of selections.
    pub max_depth: usize,
    /// Highest complexity: each field counts 1, a connection counts its page size times
    /// the cost of one item.
    pub max_complexity: usize,
    /// How long a data loader collects keys before it runs its batch. Keys that arrive
    /// later go into the next batch, so this must exceed the time the server takes to
    /// walk one level of a page (well under a millisecond in a release build).
    pub batch_delay: Duration,
    /// `totalCountEstimate` of a root list that the database expects to hold at least
    /// this many items is the planner's estimate rather than a count (PostgreSQL only).
    pub exact_count_below: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_depth: 12, max_complexity: 50_000, batch_delay: Duration::from_millis(1), exact_count_below: 10_000 }
    }
}

/// Builds the schema over a store (or a connection pool), with anonymous access and no
/// keys (so no token verifies): for in-process use and tests.
pub fn schema(store: impl Into<Store>, limits: Limits) -> ParkGraphSchema {
    let store = store.into();
    let keys = std::sync::Arc::new(auth::KeySet::new("parkgraph", "parkgraph-api", 30, None, Vec::new()));
    let authenticator = auth::Authenticator::new(keys, store.clone(), true, Duration::from_secs(5));
    schema_with(store, limits, std::sync::Arc::new(authenticator))
}

/// Builds the schema over a store (or a connection pool) with an authenticator (whose
/// keys also sign the tokens `issueToken` returns).
pub fn schema_with(
    store: impl Into<Store>,
    limits: Limits,
    authenticator: std::sync::Arc<auth::Authenticator>,
) -> ParkGraphSchema {
    build(store.into(), limits, authenticator, true, None)
}

/// Builds the schema over a store with anonymous access, as [`schema`] does, with `search`
/// and `suggest` answered from a search index.
pub fn schema_with_search(
    store: impl Into<Store>,
    limits: Limits,
    search: std::sync::Arc<parkgraph_search::SearchIndex>,
) -> ParkGraphSchema {
    let store = store.into();
    let keys = std::sync::Arc::new(auth::KeySet::new("parkgraph", "parkgraph-api", 30, None, Vec::new()));
    let authenticator = auth::Authenticator::new(keys, store.clone(), true, Duration::from_secs(5));
    build(store, limits, std::sync::Arc::new(authenticator), true, Some(search))
}

fn build(
    store: Store,
    limits: Limits,
    authenticator: std::sync::Arc<auth::Authenticator>,
    suggestions: bool,
    search: Option<std::sync::Arc<parkgraph_search::SearchIndex>>,
) -> ParkGraphSchema {
    let mut builder = Schema::build(Query, Mutation, EmptySubscription)
        .data(authenticator)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .extension(began::Watch)
        .data(loader::Audiences::new(&store, limits.batch_delay))
        .data(connection::ExactCountBelow(limits.exact_count_below))
        .data(parkgraph_registry::Registry::new(store.clone()))
        .data(store);
    if !suggestions {
        builder = builder.disable_suggestions();
    }
    if let Some(search) = search {
        builder = builder.data(search);
    }
    builder.finish()
}

/// The two schemas a server runs: one for callers with a token, and the same without
/// "did you mean …" suggestions for anonymous callers.
pub struct Schemas {
    /// For callers with a token.
    pub authenticated: ParkGraphSchema,
    /// For anonymous callers.
    pub anonymous: ParkGraphSchema,
}

/// Builds both schemas over one store (or pool) and authenticator.
pub fn schemas(store: impl Into<Store>, limits: Limits, authenticator: std::sync::Arc<auth::Authenticator>) -> Schemas {
    schemas_with_search(store, limits, authenticator, None)
}

/// Builds both schemas over one store (or pool) and authenticator, with `search` and
/// `suggest` answered from `search` when given (and refused as unavailable otherwise).
pub fn schemas_with_search(
    store: impl Into<Store>,
    limits: Limits,
    authenticator: std::sync::Arc<auth::Authenticator>,
    search: Option<std::sync::Arc<parkgraph_search::SearchIndex>>,
) -> Schemas {
    let store = store.into();
    Schemas {
        authenticated: build(store.clone(), limits, authenticator.clone(), true, search.clone()),
        anonymous: build(store, limits, authenticator, false, search),
    }
}

/// The schema without a database: enough for SDL and introspection, nothing else.
pub fn detached_schema() -> ParkGraphSchema {
    Schema::build(Query, Mutation, EmptySubscription).finish()
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription).finish().sdl()
}

/// Executes a request as `caller`.
pub async fn execute_as(schema: &ParkGraphSchema, request: impl Into<Request>, caller: auth::Caller) -> Response {
    execute(schema, request.into().data(caller)).await
}

/// Executes a request, then makes sure every error carries `extensions.code` and that
/// no error without one leaks its text (see [`error`]).
pub async fn execute(schema: &ParkGraphSchema, request: impl Into<Request>) -> Response {
    let mut response = schema.execute(request).await;
    for err in &mut response.errors {
        ensure_code(err);
    }
    response
}

fn ensure_code(err: &mut ServerError) {
    let has_code = err.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    let code = if err.path.is_empty() {
        error::code::VALIDATION
    } else if err.message.starts_with("Failed to parse") || err.message.starts_with("Invalid value") {
        error::code::BAD_USER_INPUT
    } else {
        tracing::error!(message = %err.message, path = ?err.path, "resolver error without a code; reported as INTERNAL");
        err.message = "internal error".into();
        error::code::INTERNAL
    };
    err.extensions.get_or_insert_with(Default::default).set("code", code);
}

/// Whether an operation began to execute. A document that does not parse or validate
/// never reaches execution, and GraphQL over HTTP then answers without a `data` key;
/// async-graphql answers `"data": null` either way, so the HTTP layer puts a [`Began`]
/// in the request's data and the schema's [`began::Watch`] extension sets it when
/// execution starts.
pub mod began {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};

    /// Set once the operation of the request holding it starts to execute.
    #[derive(Clone, Debug, Default)]
    pub struct Began(Arc<AtomicBool>);

    impl Began {
        /// True once execution started.
        pub fn get(&self) -> bool {
            self.0.load(Ordering::Acquire)
        }
    }

    /// The extension that sets a request's [`Began`].
    pub struct Watch;

    impl ExtensionFactory for Watch {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(Watch)
        }
    }

    #[async_graphql::async_trait::async_trait]
    impl Extension for Watch {
        async fn execute(
            &self,
            ctx: &ExtensionContext<'_>,
            operation_name: Option<&str>,
            next: NextExecute<'_>,
        ) -> async_graphql::Response {
            if let Some(began) = ctx.data_opt::<Began>() {
                began.0.store(true, Ordering::Release);
            }
            next.run(ctx, operation_name).await
        }
    }
}
