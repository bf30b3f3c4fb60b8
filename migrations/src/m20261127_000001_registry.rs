//! The registry: parks, organizations, designations, incubators, second headquarters,
//! national innovation centers and the links between them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables in creation order; dropped in reverse.
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
];

/// A table with a UUID key, provenance and timestamps; the caller adds the rest.
fn record(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(pk_uuid("id"))
        .col(text_null("source_name"))
        .col(text_null("source_url"))
        .col(date_null("as_of"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .to_owned()
}

fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(on_delete)
        .to_owned()
}

fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(format!("ix_{table}_{}", columns.join("_"))).table(table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

fn unique(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = index(table, columns);
    index.name(format!("ux_{table}_{}", columns.join("_"))).unique();
    index
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        manager
            .create_table(
                record("park")
                    .col(uuid_null("parent_id"))
                    .col(text("name_zh"))
                    .col(text_null("name_en"))
                    .col(string_len("kind", 40))
                    .col(text_null("city"))
                    .col(text_null("district"))
                    .col(text_null("address"))
                    .col(double_null("latitude"))
                    .col(double_null("longitude"))
                    .col(double_null("area_km2"))
                    .col(date_null("established_on"))
                    .foreign_key(&mut fk("park", "parent_id", "park", Restrict))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("park_designation")
                    .col(uuid("park_id"))
                    .col(text("name_zh"))
                    .col(text_null("name_en"))
                    .col(date_null("designated_on"))
                    .foreign_key(&mut fk("park_designation", "park_id", "park", Cascade))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("organization")
                    .col(string_len("kind", 40))
                    .col(text("name_zh"))
                    .col(text_null("name_en"))
                    .col(string_len_null("uscc", 18))
                    .col(text_null("uscc_warning"))
                    .col(date_null("founded_on"))
                    .col(text_null("industry"))
                    .col(big_integer_null("registered_capital_cny"))
                    .col(integer_null("headcount"))
                    .col(text_null("website"))
                    .col(string_len("status", 40))
                    .col(text_null("city"))
                    .col(text_null("district"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("designation")
                    .col(uuid("organization_id"))
                    .col(string_len("kind", 40))
                    .col(integer("year"))
                    .col(big_integer_null("valuation_usd"))
                    .col(text_null("note"))
                    .foreign_key(&mut fk("designation", "organization_id", "organization", Cascade))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("enterprise_location")
                    .col(uuid("organization_id"))
                    .col(uuid("park_id"))
                    .col(string_len("role", 40))
                    .col(date_null("since"))
                    .foreign_key(&mut fk("enterprise_location", "organization_id", "organization", Cascade))
                    .foreign_key(&mut fk("enterprise_location", "park_id", "park", Cascade))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("incubator")
                    .col(text("name_zh"))
                    .col(text_null("name_en"))
                    .col(string_len("kind", 40))
                    .col(string_len_null("level", 40))
                    .col(uuid_null("park_id"))
                    .col(uuid_null("operator_id"))
                    .col(date_null("founded_on"))
                    .foreign_key(&mut fk("incubator", "park_id", "park", SetNull))
                    .foreign_key(&mut fk("incubator", "operator_id", "organization", SetNull))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("incubation")
                    .col(uuid("organization_id"))
                    .col(uuid("incubator_id"))
                    .col(date_null("entered_on"))
                    .col(date_null("graduated_on"))
                    .col(string_len("status", 40))
                    .foreign_key(&mut fk("incubation", "organization_id", "organization", Cascade))
                    .foreign_key(&mut fk("incubation", "incubator_id", "incubator", Cascade))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("second_headquarters")
                    .col(uuid("parent_id"))
                    .col(uuid_null("park_id"))
                    .col(uuid_null("local_entity_id"))
                    .col(text_null("city"))
                    .col(text("name_zh"))
                    .col(text_null("name_en"))
                    .col(date_null("announced_on"))
                    .col(date_null("opened_on"))
                    .col(big_integer_null("planned_investment_cny"))
                    .col(integer_null("planned_headcount"))
                    .col(double_null("planned_floor_area_m2"))
                    .col(text("functions"))
                    .col(string_len("status", 40))
                    .foreign_key(&mut fk("second_headquarters", "parent_id", "organization", Cascade))
                    .foreign_key(&mut fk("second_headquarters", "park_id", "park", SetNull))
                    .foreign_key(&mut fk("second_headquarters", "local_entity_id", "organization", SetNull))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("innovation_center")
                    .col(text("name_zh"))
                    .col(text_null("name_en"))
                    .col(string_len("kind", 40))
                    .col(text_null("field"))
                    .col(string_len("ministry", 40))
                    .col(date_null("approved_on"))
                    .col(text_null("city"))
                    .col(uuid_null("host_park_id"))
                    .foreign_key(&mut fk("innovation_center", "host_park_id", "park", SetNull))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record("innovation_center_membership")
                    .col(uuid("innovation_center_id"))
                    .col(uuid("organization_id"))
                    .col(string_len("role", 40))
                    .col(date_null("joined_on"))
                    .foreign_key(&mut fk(
                        "innovation_center_membership",
                        "innovation_center_id",
                        "innovation_center",
                        Cascade,
                    ))
                    .foreign_key(&mut fk("innovation_center_membership", "organization_id", "organization", Cascade))
                    .to_owned(),
            )
            .await?;

        for statement in [
            index("park", &["parent_id"]),
            index("park", &["kind"]),
            index("park", &["name_zh"]),
            index("park_designation", &["park_id"]),
            unique("organization", &["uscc"]),
            index("organization", &["kind"]),
            index("organization", &["name_zh"]),
            index("organization", &["founded_on"]),
            index("organization", &["industry"]),
            index("designation", &["organization_id"]),
            index("designation", &["kind", "year"]),
            unique("enterprise_location", &["organization_id", "park_id", "role"]),
            index("enterprise_location", &["park_id"]),
            index("incubator", &["park_id"]),
            index("incubator", &["operator_id"]),
            index("incubation", &["organization_id"]),
            index("incubation", &["incubator_id"]),
            index("second_headquarters", &["parent_id"]),
            index("second_headquarters", &["park_id"]),
            index("second_headquarters", &["local_entity_id"]),
            index("innovation_center", &["host_park_id"]),
            unique("innovation_center_membership", &["innovation_center_id", "organization_id"]),
            index("innovation_center_membership", &["organization_id"]),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
