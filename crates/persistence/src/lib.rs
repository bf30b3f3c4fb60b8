//! ParkGraph's storage: sea-orm entities, the queries the API runs, seed data, and the
//! storage half of the write path ([`write`](mod@write): optimistic versions, revisions and the
//! gap-free change feed), and its mirror image, [`replay`]: applying a feed to another store.
//!
//! Everything here takes `&impl ConnectionTrait`, so it works on a pooled connection or
//! inside a transaction, and runs unchanged on SQLite (the embedded default) and
//! PostgreSQL (production). Schema changes live in the `parkgraph-migrations` crate.

pub mod access;
pub mod db;
pub mod entity;
pub mod error;
pub mod query;
pub mod replay;
pub mod seed;
pub mod write;

pub use db::{Backend, connect, migrate_down, migrate_up};
pub use error::StoreError;
pub use sea_orm;
