//! An index on `enterprise_location.organization_id`. The firm-first unique index on
//! locations became a partial one over live rows (`m20261127_131000`), which serves the
//! public reads (they ask for live links only) but not staff reads, which also list ended
//! links: those scanned the whole table for every page of organizations' parks (an
//! export of 20,000 organizations as an operator took minutes).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_enterprise_location_organization_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(Index::create().name(NAME).table("enterprise_location").col("organization_id").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table("enterprise_location").to_owned()).await
    }
}
