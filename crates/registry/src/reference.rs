//! Looking up what a draft refers to, inside the command's transaction: the service half of
//! "link endpoints of the right kind" ([`parkgraph_domain::validation::check_references`]).
//!
//! An id is looked up among the *live* records of every kind that can be an endpoint, the
//! expected kind first: an id of an archived record is `NOT_FOUND`, an id of a live record
//! of another kind (a park given as an operator, a university given as an incubatee) is
//! `WRONG_KIND`, and the message names what was found.

use parkgraph_domain::OrganizationKind;
use parkgraph_domain::validation::{Endpoint, Expected, Reference, check_references};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{incubator, innovation_center, organization, park, second_headquarters};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::CommandError;

/// The kinds of record an endpoint can be, in the order they are tried.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Organization,
    Park,
    Incubator,
    InnovationCenter,
    SecondHeadquarters,
}

const TABLES: [Table; 5] =
    [Table::Organization, Table::Park, Table::Incubator, Table::InnovationCenter, Table::SecondHeadquarters];

/// The table a reference expects its id in.
fn expected_table(expected: Expected) -> Table {
    match expected {
        Expected::Organization(_) => Table::Organization,
        Expected::Park => Table::Park,
        Expected::Incubator => Table::Incubator,
        Expected::InnovationCenter => Table::InnovationCenter,
    }
}

/// The live record `id` in `table`, as an endpoint.
async fn live_in(conn: &impl ConnectionTrait, table: Table, id: Uuid) -> Result<Option<Endpoint>, CommandError> {
    Ok(match table {
        Table::Organization => {
            match organization::Entity::find_by_id(id)
                .filter(organization::Column::ArchivedAt.is_null())
                .one(conn)
                .await?
            {
                Some(row) => Some(Endpoint::Organization(row.kind.parse::<OrganizationKind>().map_err(|e| {
                    CommandError::Store(StoreError::Invalid(format!("stored organization {id} kind: {e}")))
                })?)),
                None => None,
            }
        }
        Table::Park => park::Entity::find_by_id(id)
            .filter(park::Column::ArchivedAt.is_null())
            .one(conn)
            .await?
            .map(|_| Endpoint::Park),
        Table::Incubator => incubator::Entity::find_by_id(id)
            .filter(incubator::Column::ArchivedAt.is_null())
            .one(conn)
            .await?
            .map(|_| Endpoint::Incubator),
        Table::InnovationCenter => innovation_center::Entity::find_by_id(id)
            .filter(innovation_center::Column::ArchivedAt.is_null())
            .one(conn)
            .await?
            .map(|_| Endpoint::InnovationCenter),
        Table::SecondHeadquarters => second_headquarters::Entity::find_by_id(id)
            .filter(second_headquarters::Column::ArchivedAt.is_null())
            .one(conn)
            .await?
            .map(|_| Endpoint::SecondHeadquarters),
    })
}

/// What `reference` names among the live records: the expected kind is tried first, then
/// the others (to say `WRONG_KIND` rather than `NOT_FOUND`).
async fn resolve(conn: &impl ConnectionTrait, reference: &Reference) -> Result<Option<Endpoint>, CommandError> {
    let first = expected_table(reference.expected);
    if let Some(found) = live_in(conn, first, reference.id).await? {
        return Ok(Some(found));
    }
    for table in TABLES.into_iter().filter(|t| *t != first) {
        if let Some(found) = live_in(conn, table, reference.id).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Looks up every reference among the live records and checks each is of the right kind;
/// every problem at once (`NOT_FOUND`, `WRONG_KIND` on the reference's field).
pub(crate) async fn check_live(
    conn: &impl ConnectionTrait,
    references: impl IntoIterator<Item = Reference>,
) -> Result<(), CommandError> {
    let mut found = Vec::new();
    for reference in references {
        let endpoint = resolve(conn, &reference).await?;
        found.push((reference, endpoint));
    }
    Ok(check_references(found)?)
}
