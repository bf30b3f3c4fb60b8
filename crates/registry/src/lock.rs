//! Transaction-scoped advisory locks that serialize one family of commands on PostgreSQL,
//! for rules that read other rows and must not race (no two live links between the same
//! pair, no incubator archived while an incubation is being added to it).
//!
//! SQLite needs nothing: every command opens with `BEGIN IMMEDIATE` and holds the write
//! lock. On PostgreSQL the lock is released at commit or rollback.

use parkgraph_persistence::StoreError;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::CommandError;

/// Incubation commands, and archiving or restoring an incubator ("INCB" in ASCII).
pub(crate) const INCUBATIONS: i64 = 0x494E_4342;
/// Enterprise-location commands ("ELOC" in ASCII).
pub(crate) const LOCATIONS: i64 = 0x454C_4F43;
/// Organization-designation commands ("DSGN" in ASCII).
pub(crate) const DESIGNATIONS: i64 = 0x4453_474E;

/// Takes the advisory lock `key` for the rest of the transaction (PostgreSQL only).
pub(crate) async fn serialize(conn: &impl ConnectionTrait, key: i64) -> Result<(), CommandError> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        let lock =
            Statement::from_sql_and_values(DatabaseBackend::Postgres, "SELECT pg_advisory_xact_lock($1)", [key.into()]);
        conn.execute_raw(lock).await.map_err(StoreError::from)?;
    }
    Ok(())
}
