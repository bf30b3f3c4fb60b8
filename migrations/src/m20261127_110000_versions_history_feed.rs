//! Every record gets a version and can be archived; every change writes a revision and
//! a change-feed entry.
//!
//! - `version` (not null, 1 for every existing row) on each registry table, records and
//!   links alike: an update names the version it read and bumps it by one, so a stale
//!   write is refused (optimistic concurrency).
//! - `archived_at` (null: live) on the same tables: records are archived, not deleted,
//!   and links are ended the same way.
//! - `revision`: one row per version of a record (entity, id, version, operation, actor,
//!   time, the fields before and after), unique on `(entity_type, entity_id, version)`.
//! - `change`: the change feed, one row per change, keyed by `seq`, a number the writer
//!   assigns from `change_counter` (one row) as the last write of its transaction, so that
//!   the feed has no gaps and follows commit order (see `parkgraph_persistence::write`).
//!   `after` is null for tombstones (archives and link ends).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every registry table, records and links: each gets `version` and `archived_at`.
const TABLES: &[&str] = &[
    "park",
    "park_designation",
    "organization",
    "designation",
    "enterprise_location",
    "incubator",
    "incubation",
    "second_headquarters",
    "innovation_center",
    "innovation_center_membership",
    "figure",
    "city_designation",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for table in TABLES {
            manager
                .alter_table(Table::alter().table(*table).add_column(integer("version").default(1)).to_owned())
                .await?;
            manager
                .alter_table(
                    Table::alter().table(*table).add_column(timestamp_with_time_zone_null("archived_at")).to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("revision")
                    .col(pk_uuid("id"))
                    .col(string_len("entity_type", 40))
                    .col(uuid("entity_id"))
                    .col(integer("version"))
                    .col(string_len("operation", 20))
                    .col(text("actor"))
                    .col(timestamp_with_time_zone("at"))
                    .col(json_null("before"))
                    .col(json_null("after"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_revision_entity_type_entity_id_version")
                    .table("revision")
                    .col("entity_type")
                    .col("entity_id")
                    .col("version")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("change")
                    .col(big_integer("seq").primary_key())
                    .col(string_len("entity_type", 40))
                    .col(uuid("entity_id"))
                    .col(integer("version"))
                    .col(string_len("operation", 20))
                    .col(timestamp_with_time_zone("at"))
                    .col(text("actor"))
                    .col(json_null("after"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_change_entity_type_seq")
                    .table("change")
                    .col("entity_type")
                    .col("seq")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("change_counter")
                    .col(integer("id").primary_key())
                    .col(big_integer("value").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("change_counter")
                    .columns(["id", "value"])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("change_counter").to_owned()).await?;
        manager.drop_table(Table::drop().table("change").to_owned()).await?;
        manager.drop_table(Table::drop().table("revision").to_owned()).await?;
        for table in TABLES.iter().rev() {
            manager.alter_table(Table::alter().table(*table).drop_column("archived_at").to_owned()).await?;
            manager.alter_table(Table::alter().table(*table).drop_column("version").to_owned()).await?;
        }
        Ok(())
    }
}
