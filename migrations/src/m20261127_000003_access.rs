//! Access: partners, their API tokens, the audit trail of authenticated requests, and
//! the internal fields (contacts, staff notes) that only staff may read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("partner")
                    .col(pk_uuid("id"))
                    .col(text_uniq("name"))
                    .col(text_null("contact_email"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("api_token")
                    .col(pk_uuid("jti"))
                    .col(uuid_null("partner_id"))
                    .col(text("subject"))
                    .col(string_len("role", 20))
                    .col(text("scopes"))
                    .col(text_null("description"))
                    .col(timestamp_with_time_zone("issued_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_token_partner_id")
                            .from("api_token", "partner_id")
                            .to("partner", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_api_token_partner_id").table("api_token").col("partner_id").to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("audit_event")
                    .col(pk_uuid("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(uuid_null("jti"))
                    .col(text("subject"))
                    .col(string_len("role", 20))
                    .col(text_null("operation_name"))
                    .col(integer("cost"))
                    .col(string_len("status", 20))
                    .col(integer("duration_ms"))
                    .col(text_null("client_ip"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_audit_event_at").table("audit_event").col("at").to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ix_audit_event_jti").table("audit_event").col("jti").to_owned())
            .await?;
        for column in ["contact_name", "contact_phone", "contact_email", "staff_notes"] {
            manager.alter_table(Table::alter().table("organization").add_column(text_null(column)).to_owned()).await?;
        }
        manager
            .alter_table(Table::alter().table("second_headquarters").add_column(text_null("staff_notes")).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("second_headquarters").drop_column("staff_notes").to_owned()).await?;
        for column in ["contact_name", "contact_phone", "contact_email", "staff_notes"] {
            manager.alter_table(Table::alter().table("organization").drop_column(column).to_owned()).await?;
        }
        for table in ["audit_event", "api_token", "partner"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
