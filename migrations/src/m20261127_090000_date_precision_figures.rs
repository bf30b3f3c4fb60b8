//! Dates known only to the year or the month say so, and figures and city designations
//! get tables of their own.
//!
//! - Each date column that records can hold at less than a day's precision gets a
//!   `*_precision` column beside it (`YEAR`, `MONTH` or `DAY`). The date itself holds the
//!   first day of the period (`2017` → 2017-01-01), so ranges and ordering keep working;
//!   the precision says how much of it is known. A null precision (rows written before
//!   this migration) means `DAY`.
//! - `organization.legal_name`: the registered legal name when known, so that `name_zh`
//!   can be the name people use (a brand such as 斗鱼) without passing for the legal name.
//! - `figure`: a sourced, dated indicator about a park or a city ("second headquarters in
//!   Optics Valley: more than 60, as of 2018-10").
//! - `city_designation`: a designation whose subject is a city rather than a park
//!   ("Made in China 2025" pilot city).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, date column)`: each gets `<column>_precision`.
const PRECISION: &[(&str, &str)] = &[
    ("park", "established_on"),
    ("park", "as_of"),
    ("park_designation", "designated_on"),
    ("park_designation", "as_of"),
    ("organization", "founded_on"),
    ("organization", "as_of"),
    ("designation", "as_of"),
    ("enterprise_location", "since"),
    ("enterprise_location", "as_of"),
    ("incubator", "founded_on"),
    ("incubator", "as_of"),
    ("incubation", "entered_on"),
    ("incubation", "graduated_on"),
    ("incubation", "as_of"),
    ("second_headquarters", "announced_on"),
    ("second_headquarters", "opened_on"),
    ("second_headquarters", "as_of"),
    ("innovation_center", "approved_on"),
    ("innovation_center", "as_of"),
    ("innovation_center_membership", "joined_on"),
    ("innovation_center_membership", "as_of"),
];

/// A table with a UUID key, provenance (with the as-of date's precision) and timestamps.
fn record(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(pk_uuid("id"))
        .col(text_null("source_name"))
        .col(text_null("source_url"))
        .col(date_null("as_of"))
        .col(string_len_null("as_of_precision", 10))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for (table, column) in PRECISION {
            manager
                .alter_table(
                    Table::alter()
                        .table(*table)
                        .add_column(string_len_null(format!("{column}_precision"), 10))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(Table::alter().table("organization").add_column(text_null("legal_name")).to_owned())
            .await?;
        manager
            .create_table(
                record("figure")
                    .col(uuid_null("park_id"))
                    .col(text_null("city"))
                    .col(string_len("indicator", 80))
                    .col(text("name_zh"))
                    .col(text_null("name_en"))
                    .col(double("value"))
                    .col(text("unit"))
                    .col(string_len("qualifier", 20))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_figure_park_id")
                            .from("figure", "park_id")
                            .to("park", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_figure_park_id").table("figure").col("park_id").to_owned())
            .await?;
        manager.create_index(Index::create().name("ix_figure_city").table("figure").col("city").to_owned()).await?;
        manager
            .create_table(
                record("city_designation")
                    .col(text("city"))
                    .col(text("name_zh"))
                    .col(text_null("name_en"))
                    .col(text_null("issuer"))
                    .col(date_null("designated_on"))
                    .col(string_len_null("designated_on_precision", 10))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_city_designation_city").table("city_designation").col("city").to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("city_designation").to_owned()).await?;
        manager.drop_table(Table::drop().table("figure").to_owned()).await?;
        manager.alter_table(Table::alter().table("organization").drop_column("legal_name").to_owned()).await?;
        for (table, column) in PRECISION.iter().rev() {
            manager
                .alter_table(Table::alter().table(*table).drop_column(format!("{column}_precision")).to_owned())
                .await?;
        }
        Ok(())
    }
}
