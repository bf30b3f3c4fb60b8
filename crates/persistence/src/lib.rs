//! ParkGraph's storage: sea-orm entities, the queries the API runs, seed data, and the
//! storage half of the write path ([`write`](mod@write): optimistic versions, revisions and the
//! gap-free change feed), and its mirror image, [`replay`]: applying a feed to another store;
//! [`snapshot`] reads every live record of a kind in one consistent view, with the feed
//! position it matches, for partner snapshots.
//!
//! The read side holds a [`Store`] and reads through its repositories: filtered lists
//! ([`query`], one filter type per record kind), batch look-ups for data loaders
//! ([`batch`]), history, the feed and tokens; it never builds a statement itself.
//! [`stats`] answers group-by statistics, [`graph`] walks the links between records, and
//! [`geo`] finds what lies near a point.
//!
//! Everything here takes `&impl ConnectionTrait`, so it works on a pooled connection or
//! inside a transaction, and runs unchanged on SQLite (the embedded default) and
//! PostgreSQL (production). Schema changes live in the `parkgraph-migrations` crate.

pub mod access;
pub mod batch;
pub mod columns;
pub mod db;
pub mod entity;
pub mod error;
pub mod geo;
pub mod graph;
pub mod query;
pub mod replay;
pub mod seed;
pub mod snapshot;
pub mod stats;
pub mod store;
pub mod write;

pub use db::{
    Backend, DEFAULT_SQLITE_CACHE_MIB, PlanCacheMode, PoolOptions, connect, connect_with, migrate_down, migrate_up,
};
pub use error::StoreError;
pub use sea_orm;
pub use store::Store;
