pub use async_graphql;
