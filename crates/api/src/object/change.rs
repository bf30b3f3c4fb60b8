//! The change feed (`changes`) and record history (`history`): what changed, in order.
//!
//! Both are keyset lists ([`crate::keyset`]): the feed by its gap-free `seq`, a record's
//! history by `version`, oldest first. A record's fields in them (`after`, `before`) hide
//! the internal columns from callers who may not read internal fields.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use parkgraph_persistence::batch::HistoryKey;
use parkgraph_persistence::write::{self, EntityType};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::auth::Caller;
use crate::connection::Listed;
use crate::error::{ApiError, ApiResult};
use crate::id::{NodeType, encode};
use crate::keyset::{self, KeysetPage};
use crate::policy::{caller, may_read_changes_of, visible_fields};
use crate::query::store;

/// The list name in feed cursors.
pub const FEED: &str = "change";
/// The list name in history cursors.
const HISTORY: &str = "revision";

/// The kind of record a change or revision is about.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "parkgraph_persistence::write::EntityType")]
pub enum ChangeEntityType {
    /// A park.
    Park,
    /// A park's designation.
    ParkDesignation,
    /// An organization (enterprise, university, institute …).
    Organization,
    /// An organization's designation (unicorn, gazelle …).
    Designation,
    /// A link: an enterprise's location in a park.
    EnterpriseLocation,
    /// An incubator.
    Incubator,
    /// A link: a firm's stay in an incubator.
    Incubation,
    /// A second headquarters.
    SecondHeadquarters,
    /// A national innovation center.
    InnovationCenter,
    /// A link: an organization's membership of an innovation center.
    InnovationCenterMembership,
    /// A sourced figure about a park or a city.
    Figure,
    /// A designation of a city.
    CityDesignation,
}

/// What a change did to its record.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "parkgraph_persistence::write::Operation")]
pub enum ChangeOperation {
    /// The record was created (version 1).
    Create,
    /// The record's fields changed.
    Update,
    /// The record was archived: it left the live registry (a tombstone in the feed).
    Archive,
    /// An archived record was restored to the live registry.
    Restore,
    /// A link was added (version 1).
    AddLink,
    /// A link's fields changed.
    UpdateLink,
    /// A link was ended: it left the live registry (a tombstone in the feed).
    EndLink,
}

/// The global id of a record whose type has one (see `Query.node`).
fn node_type(entity: EntityType) -> Option<NodeType> {
    match entity {
        EntityType::Park => Some(NodeType::Park),
        EntityType::Organization => Some(NodeType::Organization),
        EntityType::Designation => Some(NodeType::Designation),
        EntityType::Incubator => Some(NodeType::Incubator),
        EntityType::SecondHeadquarters => Some(NodeType::SecondHeadquarters),
        EntityType::InnovationCenter => Some(NodeType::InnovationCenter),
        _ => None,
    }
}

/// One entry of the change feed, with the record's fields as the caller may see them.
pub struct Change {
    entry: write::Change,
}

impl Listed for Change {
    const EDGE: &'static str = "ChangeEdge";
    const CONNECTION: &'static str = "ChangeConnection";
}

/// One change to the registry, as the feed carries it: which record, which version, what
/// was done, by whom, when, and the record's fields after it (null for a tombstone).
#[Object]
impl Change {
    /// Position in the feed: 1, 2, 3 … in commit order, with no gaps; an entry never
    /// appears behind one already readable.
    async fn seq(&self) -> i64 {
        self.entry.seq
    }

    /// The kind of record changed.
    async fn entity_type(&self) -> ChangeEntityType {
        self.entry.entity_type.into()
    }

    /// The record's global id (for `node(id:)`) when its type has one (parks,
    /// organizations, designations, incubators, innovation centers, second headquarters);
    /// for the other types (links, figures, park and city designations) its UUID, as in
    /// `databaseId`.
    async fn entity_id(&self) -> ID {
        match node_type(self.entry.entity_type) {
            Some(kind) => encode(kind, self.entry.entity_id),
            None => ID(self.entry.entity_id.to_string()),
        }
    }

    /// The record's UUID, whatever its type: with `entityType`, the key to keep a copy by.
    async fn database_id(&self) -> Uuid {
        self.entry.entity_id
    }

    /// The record's version after the change (1 when created).
    async fn version(&self) -> i32 {
        self.entry.version
    }

    /// What the change did.
    async fn operation(&self) -> ChangeOperation {
        self.entry.operation.into()
    }

    /// True when the record left the live registry (archived, or a link ended): delete
    /// it from a copy. `after` is then null.
    async fn tombstone(&self) -> bool {
        self.entry.operation.is_tombstone()
    }

    /// When the change was made.
    async fn at(&self) -> DateTime<Utc> {
        self.entry.at
    }

    /// Who made it: the subject of the token that wrote it. Staff identities are shown
    /// to staff only; for other callers this is null.
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        let caller = crate::policy::caller(ctx)?;
        Ok(caller.role.is_staff().then_some(self.entry.actor.as_str()))
    }

    /// The record's fields after the change, by column name (internal fields only for
    /// staff with `read:internal`); null for a tombstone.
    async fn after(&self) -> Option<&Json> {
        self.entry.after.as_ref()
    }
}

/// The types a feed request reads: those asked for (each must be readable by the
/// caller: FORBIDDEN otherwise), or every type the caller may read.
fn feed_types(caller: &Caller, asked: Option<Vec<ChangeEntityType>>) -> async_graphql::Result<Vec<EntityType>> {
    match asked {
        Some(asked) => {
            let mut unique: Vec<EntityType> = Vec::new();
            for t in asked.into_iter().map(EntityType::from) {
                if !unique.contains(&t) {
                    unique.push(t);
                }
            }
            let asked = unique;
            if let Some(refused) = asked.iter().find(|t| !may_read_changes_of(caller, **t)) {
                let needs = crate::policy::change_scopes(*refused).iter().map(|s| s.code()).collect::<Vec<_>>();
                return Err(crate::policy::forbidden(format!(
                    "changes to {} records need the {} scope(s), which the {} caller does not hold",
                    refused.table(),
                    needs.join(", "),
                    caller.role
                )));
            }
            Ok(asked)
        }
        None => Ok(EntityType::ALL.into_iter().filter(|t| may_read_changes_of(caller, *t)).collect()),
    }
}

/// Resolves `Query.changes`: a page of the feed after `after`.
pub async fn feed(
    ctx: &Context<'_>,
    after: Option<String>,
    first: Option<i32>,
    types: Option<Vec<ChangeEntityType>>,
) -> async_graphql::Result<KeysetPage<Change>> {
    let caller = caller(ctx)?;
    let size = keyset::page_size(first).map_err(ApiError::into_error)?;
    let after = after.map(|c| keyset::decode(FEED, "after", &c)).transpose().map_err(ApiError::into_error)?;
    let types = feed_types(caller, types)?;
    // Every type: no filter at all (the plain keyset scan of the primary key).
    let filter = (types.len() < EntityType::ALL.len()).then_some(types.as_slice());
    let rows = if types.is_empty() { Vec::new() } else { store(ctx)?.changes(after, size + 1, filter).await.api()? };
    Ok(KeysetPage::build(
        FEED,
        after,
        size,
        rows,
        |row| row.seq,
        |mut entry| {
            entry.after = visible_fields(caller, entry.after.take());
            Change { entry }
        },
    ))
}

/// One version of a record: what a change did to it, with its fields before and after.
pub struct Revision(write::Revision);

impl Listed for Revision {
    const EDGE: &'static str = "RevisionEdge";
    const CONNECTION: &'static str = "RevisionConnection";
}

/// One version of a record: who changed it, when, how, and its fields before and after.
#[Object]
impl Revision {
    /// The version this change produced (1 when created).
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// What the change did.
    async fn operation(&self) -> ChangeOperation {
        self.0.operation.into()
    }

    /// Who made it: the subject of the token that wrote it.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// When the change was made.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The record's fields before the change, by column name (internal fields only for
    /// staff with `read:internal`); null for a creation.
    async fn before(&self) -> Option<&Json> {
        self.0.before.as_ref()
    }

    /// The record's fields after the change, by column name (internal fields only for
    /// staff with `read:internal`).
    async fn after(&self) -> Option<&Json> {
        self.0.after.as_ref()
    }
}

/// Resolves a record's `history`: its revisions after the cursor, oldest first. The
/// histories of every record on a page are read together (one statement per distinct
/// page of history asked for), never one record at a time.
pub async fn history(
    ctx: &Context<'_>,
    entity: EntityType,
    id: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<KeysetPage<Revision>> {
    let caller = caller(ctx)?;
    let size = keyset::page_size(first).map_err(ApiError::into_error)?;
    let after = after.map(|c| keyset::decode(HISTORY, "after", &c)).transpose().map_err(ApiError::into_error)?;
    let after_version = after
        .map(|v| i32::try_from(v).map_err(|_| ApiError::BadUserInput("`after` is not a cursor of this list".into())))
        .transpose()
        .map_err(ApiError::into_error)?;
    let key = HistoryKey { entity, id, after_version, first: size + 1 };
    let rows = crate::loader::history(super::loaders(ctx)?, key).await?;
    Ok(KeysetPage::build(
        HISTORY,
        after,
        size,
        rows,
        |row| i64::from(row.version),
        |mut revision| {
            revision.before = visible_fields(caller, revision.before.take());
            revision.after = visible_fields(caller, revision.after.take());
            Revision(revision)
        },
    ))
}
