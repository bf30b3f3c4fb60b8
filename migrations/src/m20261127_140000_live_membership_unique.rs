//! One *live* membership per organization and innovation center: the unique index on
//! `innovation_center_membership (innovation_center_id, organization_id)` becomes a
//! partial one over rows whose `archived_at` is null. Ending a membership archives its
//! row (the row stays, with its history), so an organization that joins the center again
//! gets a new membership; the registry service checks the same rule in its transaction and
//! this index backs it up under races.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "innovation_center_membership";
const OLD: &str = "ux_innovation_center_membership_innovation_center_id_organization_id";
const NEW: &str = "ux_innovation_center_membership_live";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(OLD).table(TABLE).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table(TABLE)
                    .col("innovation_center_id")
                    .col("organization_id")
                    .unique()
                    .and_where(Expr::col("archived_at").is_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NEW).table(TABLE).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(OLD)
                    .table(TABLE)
                    .col("innovation_center_id")
                    .col("organization_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
