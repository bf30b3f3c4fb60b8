//! A revision is keyed by what names it, `(entity_type, entity_id, version)`, and loses
//! its own `id`, which nothing read. Every change writes one revision; the surrogate key
//! cost each of them a 36-character id and one more B-tree entry (on SQLite, where a
//! non-integer primary key is an index beside the table). The unique index on the three
//! columns becomes the primary key.
//!
//! SQLite cannot change a table's primary key in place: the table is rebuilt, its rows
//! copied in their order. Going down gives every revision a new random id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns every version of the table has, in order.
const COLUMNS: &str = r#""entity_type", "entity_id", "version", "operation", "actor", "at", "before", "after""#;

/// The column definitions every version of the table has (SQLite's names of the types
/// sea-orm's schema builder gave them).
const DEFINITIONS: &str = r#""entity_type" varchar(40) NOT NULL, "entity_id" uuid_text NOT NULL, "version" integer NOT NULL, "operation" varchar(20) NOT NULL, "actor" text NOT NULL, "at" timestamp_with_timezone_text NOT NULL, "before" json_text NULL, "after" json_text NULL"#;

const UNIQUE: &str = "ux_revision_entity_type_entity_id_version";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                db.execute_unprepared(&format!(
                    r#"CREATE TABLE "revision_keyed" ({DEFINITIONS}, PRIMARY KEY ("entity_type", "entity_id", "version"));
                    INSERT INTO "revision_keyed" ({COLUMNS}) SELECT {COLUMNS} FROM "revision" ORDER BY rowid;
                    DROP TABLE "revision";
                    ALTER TABLE "revision_keyed" RENAME TO "revision";"#
                ))
                .await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE revision DROP COLUMN id;
                     ALTER TABLE revision ADD CONSTRAINT revision_pkey PRIMARY KEY USING INDEX {UNIQUE};"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                // A random (version 4) UUID in SQL.
                let id = "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) \
                          || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' \
                          || hex(randomblob(6)))";
                db.execute_unprepared(&format!(
                    r#"CREATE TABLE "revision_with_id" ("id" uuid_text NOT NULL PRIMARY KEY, {DEFINITIONS});
                    INSERT INTO "revision_with_id" ("id", {COLUMNS}) SELECT {id}, {COLUMNS} FROM "revision" ORDER BY rowid;
                    DROP TABLE "revision";
                    ALTER TABLE "revision_with_id" RENAME TO "revision";
                    CREATE UNIQUE INDEX "{UNIQUE}" ON "revision" ("entity_type", "entity_id", "version");"#
                ))
                .await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE revision ADD COLUMN id uuid;
                     UPDATE revision SET id = gen_random_uuid();
                     ALTER TABLE revision ALTER COLUMN id SET NOT NULL;
                     ALTER TABLE revision DROP CONSTRAINT revision_pkey;
                     ALTER TABLE revision ADD PRIMARY KEY (id);
                     CREATE UNIQUE INDEX {UNIQUE} ON revision (entity_type, entity_id, version);"
                ))
                .await?;
            }
        }
        Ok(())
    }
}
