//! ParkGraph's schema migrations.
//!
//! One file per migration, named `mYYYYMMDD_HHMMSS_name.rs`, written with the schema
//! builder only so that each runs unchanged on SQLite and PostgreSQL. A migration is never
//! edited once it has landed on `main`: change the schema with a new one.

pub use sea_orm_migration;
use sea_orm_migration::prelude::*;

mod m20261127_000001_registry;
mod m20261127_000002_list_indexes;
mod m20261127_000003_access;
mod m20261127_000004_token_issuer;
mod m20261127_090000_date_precision_figures;
mod m20261127_110000_versions_history_feed;
mod m20261127_120000_live_uscc_unique;
mod m20261127_130000_figure_organization;
mod m20261127_131000_live_location_incubation_unique;
mod m20261127_140000_live_membership_unique;
mod m20261205_100000_location_organization_index;
mod m20261205_170000_live_industry_date_index;
mod m20261205_171000_link_parent_id_indexes;
mod m20261205_172000_live_id_indexes;
mod m20261207_090000_drop_industry_index;
mod m20261207_091000_revision_key;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_registry::Migration),
            Box::new(m20261127_000002_list_indexes::Migration),
            Box::new(m20261127_000003_access::Migration),
            Box::new(m20261127_000004_token_issuer::Migration),
            Box::new(m20261127_090000_date_precision_figures::Migration),
            Box::new(m20261127_110000_versions_history_feed::Migration),
            Box::new(m20261127_120000_live_uscc_unique::Migration),
            Box::new(m20261127_130000_figure_organization::Migration),
            Box::new(m20261127_131000_live_location_incubation_unique::Migration),
            Box::new(m20261127_140000_live_membership_unique::Migration),
            Box::new(m20261205_100000_location_organization_index::Migration),
            Box::new(m20261205_170000_live_industry_date_index::Migration),
            Box::new(m20261205_171000_link_parent_id_indexes::Migration),
            Box::new(m20261205_172000_live_id_indexes::Migration),
            Box::new(m20261207_090000_drop_industry_index::Migration),
            Box::new(m20261207_091000_revision_key::Migration),
        ]
    }
}
