//! Link lists are paged by key in the order links were recorded (`id`, UUID v7) under
//! their parent: a park's enterprises, a center's members, an incubator's incubatees, a
//! firm's parks, incubations and centers. An index on `(parent, id)` hands a page over in
//! that order, so the database reads the page's rows and stops, instead of reading and
//! sorting every link of the parent. Each replaces the index on the parent alone, which
//! it covers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Table, parent column, and the name of the parent-only index it replaces.
const LISTS: [(&str, &str, &str); 6] = [
    ("enterprise_location", "park_id", "ix_enterprise_location_park_id"),
    ("enterprise_location", "organization_id", "ix_enterprise_location_organization_id"),
    ("incubation", "incubator_id", "ix_incubation_incubator_id"),
    ("incubation", "organization_id", "ix_incubation_organization_id"),
    ("innovation_center_membership", "innovation_center_id", ""),
    ("innovation_center_membership", "organization_id", "ix_innovation_center_membership_organization_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, parent, old) in LISTS {
            db.execute_unprepared(&format!("CREATE INDEX ix_{table}_{parent}_id ON {table} ({parent}, id)")).await?;
            if !old.is_empty() {
                db.execute_unprepared(&format!("DROP INDEX IF EXISTS {old}")).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, parent, old) in LISTS {
            if !old.is_empty() {
                db.execute_unprepared(&format!("CREATE INDEX {old} ON {table} ({parent})")).await?;
            }
            db.execute_unprepared(&format!("DROP INDEX ix_{table}_{parent}_id")).await?;
        }
        Ok(())
    }
}
