//! An index in the order of the enterprise list's most common page: live organizations of
//! one industry and kind, newest founding date first (unknown dates last), then id. The
//! page is then the first rows of an index scan instead of every matching row sorted,
//! and its `totalCount` an index-only scan (on PostgreSQL once the table is vacuumed,
//! which `seed` does). PostgreSQL needs `NULLS LAST` spelt out; SQLite sorts NULLs last
//! in a descending index already and takes no `NULLS` there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_organization_live_industry_date";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let nulls = match manager.get_database_backend() {
            DbBackend::Postgres => " NULLS LAST",
            _ => "",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {NAME} ON organization (industry, kind, founded_on DESC{nulls}, id DESC) \
                 WHERE archived_at IS NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("DROP INDEX {NAME}")).await?;
        Ok(())
    }
}
