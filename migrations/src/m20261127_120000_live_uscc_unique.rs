//! One USCC per *live* organization: the unique index on `organization.uscc` becomes a
//! partial one over rows whose `archived_at` is null, so an archived organization no
//! longer holds its code and a record that replaces it can take the code. The registry
//! service checks the same rule in its transaction; this index backs it up under races.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "ux_organization_uscc";
const NEW: &str = "ux_organization_uscc_live";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(OLD).table("organization").to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table("organization")
                    .col("uscc")
                    .unique()
                    .and_where(Expr::col("archived_at").is_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NEW).table("organization").to_owned()).await?;
        manager.create_index(Index::create().name(OLD).table("organization").col("uscc").unique().to_owned()).await
    }
}
