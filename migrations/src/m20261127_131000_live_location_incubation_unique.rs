//! One *live* link per pair: an enterprise location is unique per firm, park and role, and
//! an incubation per firm and incubator, among rows whose `archived_at` is null (links that
//! have not ended). The full unique index on locations becomes a partial one, so a firm
//! that left a park and came back gets a new location beside the ended one; incubations
//! get the same rule. The registry service checks it in its transaction; these indexes
//! back it up under races.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_LOCATION: &str = "ux_enterprise_location_organization_id_park_id_role";
const LIVE_LOCATION: &str = "ux_enterprise_location_live";
const LIVE_INCUBATION: &str = "ux_incubation_live";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(OLD_LOCATION).table("enterprise_location").to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(LIVE_LOCATION)
                    .table("enterprise_location")
                    .col("organization_id")
                    .col("park_id")
                    .col("role")
                    .unique()
                    .and_where(Expr::col("archived_at").is_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(LIVE_INCUBATION)
                    .table("incubation")
                    .col("organization_id")
                    .col("incubator_id")
                    .unique()
                    .and_where(Expr::col("archived_at").is_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(LIVE_INCUBATION).table("incubation").to_owned()).await?;
        manager.drop_index(Index::drop().name(LIVE_LOCATION).table("enterprise_location").to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(OLD_LOCATION)
                    .table("enterprise_location")
                    .col("organization_id")
                    .col("park_id")
                    .col("role")
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
