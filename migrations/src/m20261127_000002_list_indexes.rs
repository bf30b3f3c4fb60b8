//! Indexes for the enterprise list's most common filter and order: industry with a
//! founding-date range, ordered by founding date. The filter and its count then read the
//! index alone instead of every matching row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_organization_industry_founded_on")
                    .table("organization")
                    .col("industry")
                    .col("founded_on")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_organization_industry_founded_on").table("organization").to_owned())
            .await
    }
}
