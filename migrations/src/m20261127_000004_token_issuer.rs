//! Which token issued each token: `api_token.issued_by` holds the `jti` of the token
//! whose holder called `issueToken` (null for tokens issued from the command line), so
//! the audit trail can follow a token back to whoever minted it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("api_token").add_column(uuid_null("issued_by")).to_owned()).await?;
        manager
            .create_index(Index::create().name("ix_api_token_issued_by").table("api_token").col("issued_by").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_api_token_issued_by").table("api_token").to_owned()).await?;
        manager.alter_table(Table::alter().table("api_token").drop_column("issued_by").to_owned()).await
    }
}
