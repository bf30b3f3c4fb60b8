//! A figure may be about an organization: `figure.organization_id` (nullable, a foreign key
//! to `organization`), for the numbers a source gives about one firm (its welding robots,
//! the price of its product) beside those about a park or a city.
//!
//! SQLite cannot add a foreign key to an existing table with `ALTER TABLE … ADD
//! CONSTRAINT`, but it accepts a new column that carries its own `REFERENCES` clause; the
//! column is written that way there, and with a named constraint on PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::uuid_null;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_figure_organization_id";
const FOREIGN_KEY: &str = "fk_figure_organization_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                manager
                    .get_connection()
                    .execute_unprepared(
                        "ALTER TABLE figure ADD COLUMN organization_id uuid_text NULL \
                         REFERENCES organization (id) ON DELETE CASCADE",
                    )
                    .await?;
            }
            _ => {
                manager
                    .alter_table(
                        Table::alter()
                            .table("figure")
                            .add_column(uuid_null("organization_id"))
                            .add_foreign_key(
                                TableForeignKey::new()
                                    .name(FOREIGN_KEY)
                                    .from_tbl("figure")
                                    .from_col("organization_id")
                                    .to_tbl("organization")
                                    .to_col("id")
                                    .on_delete(ForeignKeyAction::Cascade),
                            )
                            .to_owned(),
                    )
                    .await?;
            }
        }
        manager.create_index(Index::create().name(INDEX).table("figure").col("organization_id").to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table("figure").to_owned()).await?;
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            manager.alter_table(Table::alter().table("figure").drop_foreign_key(FOREIGN_KEY).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table("figure").drop_column("organization_id").to_owned()).await
    }
}
