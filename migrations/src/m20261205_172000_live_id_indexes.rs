//! Partial indexes on the ids of live organizations and parks. Every link a partner or an
//! anonymous caller reads is checked to lead to a live record at both ends (`EXISTS
//! (SELECT 1 FROM organization WHERE id = … AND archived_at IS NULL)`); with these the
//! check is an index-only look-up instead of a visit to the record's heap page, which on
//! a registry larger than PostgreSQL's buffer cache is most of a nested page's cost.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["organization", "park"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!(
                "CREATE INDEX ix_{table}_live_id ON {table} (id) WHERE archived_at IS NULL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!("DROP INDEX ix_{table}_live_id")).await?;
        }
        Ok(())
    }
}
