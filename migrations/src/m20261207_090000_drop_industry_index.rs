//! Drops `ix_organization_industry`: its one column is the first of
//! `ix_organization_industry_founded_on`, which serves every look-up it served. Each
//! index is one more B-tree entry per organization written; a bulk import writes
//! 26 entries per row, and this one bought nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_organization_industry").table("organization").to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create().name("ix_organization_industry").table("organization").col("industry").to_owned(),
            )
            .await
    }
}
