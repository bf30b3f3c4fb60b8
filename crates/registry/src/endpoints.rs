//! Link endpoints: what the ids a draft refers to name, looked up in the command's
//! transaction, and checked with [`check_references`].
//!
//! An id is looked up among the live records of every kind a reference can name
//! (organizations with their kind, parks, incubators, innovation centers, second
//! headquarters), so an id of the wrong kind is a `WRONG_KIND` user error that says what
//! it names, and an id that names nothing live (unknown or archived) is `NOT_FOUND`.
//!
//! On PostgreSQL the row found is read `FOR SHARE`: a command that archives it waits for
//! the referring command to commit (and then sees the new reference), and a referring
//! command waits for an archive under way (and then finds the record archived). SQLite's
//! `BEGIN IMMEDIATE` serializes the commands already.

use parkgraph_domain::OrganizationKind;
use parkgraph_domain::validation::{Endpoint, Reference, check_references};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{incubator, innovation_center, organization, park, second_headquarters};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::CommandError;

/// Fails with every problem of `references`: a reference that names no live record is
/// `NOT_FOUND`, one that names a record of the wrong kind `WRONG_KIND`.
pub(crate) async fn check_live(
    conn: &impl ConnectionTrait,
    references: impl IntoIterator<Item = Reference>,
) -> Result<(), CommandError> {
    let mut found = Vec::new();
    for reference in references {
        let endpoint = live_endpoint(conn, reference.id).await?;
        found.push((reference, endpoint));
    }
    Ok(check_references(found)?)
}

/// What live record `id` names, if any.
pub(crate) async fn live_endpoint(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Endpoint>, CommandError> {
    let kind: Option<String> = organization::Entity::find_by_id(id)
        .filter(organization::Column::ArchivedAt.is_null())
        .select_only()
        .column(organization::Column::Kind)
        .lock_shared()
        .into_tuple()
        .one(conn)
        .await?;
    if let Some(kind) = kind {
        let kind = kind
            .parse::<OrganizationKind>()
            .map_err(|e| CommandError::Store(StoreError::Invalid(format!("stored organization {id} kind: {e}"))))?;
        return Ok(Some(Endpoint::Organization(kind)));
    }
    if live::<park::Entity, _>(conn, id, park::Column::Id, park::Column::ArchivedAt).await? {
        return Ok(Some(Endpoint::Park));
    }
    if live::<innovation_center::Entity, _>(
        conn,
        id,
        innovation_center::Column::Id,
        innovation_center::Column::ArchivedAt,
    )
    .await?
    {
        return Ok(Some(Endpoint::InnovationCenter));
    }
    if live::<incubator::Entity, _>(conn, id, incubator::Column::Id, incubator::Column::ArchivedAt).await? {
        return Ok(Some(Endpoint::Incubator));
    }
    if live::<second_headquarters::Entity, _>(
        conn,
        id,
        second_headquarters::Column::Id,
        second_headquarters::Column::ArchivedAt,
    )
    .await?
    {
        return Ok(Some(Endpoint::SecondHeadquarters));
    }
    Ok(None)
}

/// True when the table of `E` holds a live row `id` (read `FOR SHARE` on PostgreSQL).
async fn live<E, C>(conn: &C, id: Uuid, key: E::Column, archived_at: E::Column) -> Result<bool, CommandError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let found: Option<Uuid> = E::find()
        .filter(key.eq(id))
        .filter(archived_at.is_null())
        .select_only()
        .column(key)
        .lock_shared()
        .into_tuple()
        .one(conn)
        .await?;
    Ok(found.is_some())
}
