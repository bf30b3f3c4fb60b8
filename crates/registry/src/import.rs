//! Bulk import: organizations with their park locations, designations and incubations,
//! from rows that a spreadsheet reader (`parkgraph-bulk`) has turned into typed values.
//!
//! An import is a use-case like any other command: every row is validated by the domain,
//! and every record it writes gets its row version, its revision and its feed entry, with
//! the importing user or token as the actor. It runs in two phases:
//!
//! 1. **Plan** ([`Registry::plan_import`]): parks and incubators named in the file are
//!    looked up (by id, Chinese name or English name), each row is matched with a live
//!    organization (by `id` when the file has one, else by USCC, else by Chinese name and
//!    city), validated, and compared field by field with what is stored. The plan says
//!    exactly what would be created, changed (each field before and after), left alone and
//!    refused (each problem with its field, value and reason). A dry run stops here and
//!    writes nothing.
//! 2. **Apply** ([`Registry::apply_import`]): the planned rows are written through the
//!    write path in batches ([`write::create_many`], the versioned update, revisions and
//!    feed entries). With [`OnError::Abort`] nothing is written when any row is refused,
//!    and everything is written in one transaction; with [`OnError::Skip`] the good rows
//!    are written, [`CHUNK_ROWS`] rows per transaction, so an import killed half-way
//!    leaves whole rows only (an organization with all its links, or nothing of it).
//!
//! An import adds and corrects; it never clears a value (an empty cell leaves the stored
//! value as it is), never ends a link and never archives a record: those are single
//! commands with their own reasons.
//!
//! Between plan and apply another writer may change the registry. Each batch re-checks
//! what it relies on in its transaction (the versions it read, the parks and incubators it
//! links to, the unique live USCC); a batch that fails that way is retried row by row, and
//! a row that still fails is reported refused with the reason (only with `Skip`; `Abort`
//! writes nothing).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parkgraph_domain::validation::{
    DesignationDraft, EnterpriseLocationDraft, FieldError, IncubationDraft, OrganizationDraft, OrganizationPatch,
    Patch, Valid,
};
use parkgraph_domain::{
    DesignationKind, IncubationStatus, LocationRole, OrganizationKind, OrganizationStatus, PartialDate,
};
use parkgraph_persistence::StoreError;
use parkgraph_persistence::entity::{designation, enterprise_location, incubation, incubator, organization, park};
use parkgraph_persistence::write::{self, EntityType, NewChange, Operation, Revision};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::organization::{draft_of, row_of};
use crate::{Actor, CommandError, Registry, lock, today};

/// Rows written per transaction with [`OnError::Skip`].
pub const CHUNK_ROWS: usize = 1_000;

/// Values per `IN (…)` list when looking rows up.
const LOOKUP_CHUNK: usize = 500;

/// The field names an import speaks of: the English column headers of the import format.
pub mod field {
    /// The organization's id (to update that record).
    pub const ID: &str = "id";
    /// The Chinese name.
    pub const NAME: &str = "name";
    /// The USCC.
    pub const USCC: &str = "uscc";
    /// The park locations.
    pub const PARKS: &str = "parks";
    /// The designations.
    pub const DESIGNATIONS: &str = "designations";
    /// The incubators.
    pub const INCUBATORS: &str = "incubators";
    /// The founding date.
    pub const FOUNDED: &str = "founded";
}

/// What to do with the good rows when some are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// Write nothing when any row is refused; otherwise write everything in one
    /// transaction (all or nothing).
    #[default]
    Abort,
    /// Write the good rows, report the refused ones.
    Skip,
}

impl std::str::FromStr for OnError {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "abort" => Ok(Self::Abort),
            "skip" => Ok(Self::Skip),
            other => Err(format!("`{other}` is not an error mode: use `abort` (all or nothing) or `skip`")),
        }
    }
}

/// A park (or incubator) location named in a row: the name or id as typed, and the role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParkItem {
    /// The park's id, Chinese name or English name.
    pub reference: String,
    /// What the firm does there (`REGISTERED` unless the cell says otherwise).
    pub role: LocationRole,
}

/// An incubator named in a row: the name or id as typed, and the incubation's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncubatorItem {
    /// The incubator's id, Chinese name or English name.
    pub reference: String,
    /// Where the firm stands with it.
    pub status: IncubationStatus,
    /// True when the cell gave the status itself (not taken from a default).
    pub explicit: bool,
}

/// One row of an import, as read from the file.
#[derive(Clone, Debug, Default)]
pub struct ImportRow {
    /// The row's number as a spreadsheet shows it (the header is row 1).
    pub line: usize,
    /// The organization to update, when the file has an `id` column.
    pub id: Option<Uuid>,
    /// The organization's fields: `Set` for every non-empty cell, `Unchanged` otherwise
    /// (an empty cell never clears a stored value). `kind` and `status` default to
    /// `ENTERPRISE` and `ACTIVE` for a new record.
    pub fields: OrganizationPatch,
    /// Parks the firm is located in.
    pub parks: Vec<ParkItem>,
    /// Designations (kind and year).
    pub designations: Vec<(DesignationKind, i32)>,
    /// Incubators that incubate (or incubated) the firm.
    pub incubators: Vec<IncubatorItem>,
    /// Problems the reader found in the row's cells (an unparsable date, a cell too long …).
    pub problems: Vec<Problem>,
}

/// A reason a row is refused: the field (English column name), the value and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field ([`field`] names, or the organization's field names in camelCase).
    pub field: String,
    /// The value as typed (empty when the problem is a missing value).
    pub value: String,
    /// Why, in words a spreadsheet user can act on.
    pub reason: String,
}

impl Problem {
    /// A problem with `field`'s `value`.
    pub fn new(field: impl Into<String>, value: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), value: value.into(), reason: reason.into() }
    }
}

/// What an import does (or would do) with a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A new organization.
    Create,
    /// An existing organization corrected, or given new links.
    Update,
    /// Nothing to change: the registry already says what the row says.
    Unchanged,
    /// Not imported: see the row's problems.
    Refused,
}

impl Action {
    /// The action's code: `CREATE`, `UPDATE`, `UNCHANGED`, `REFUSED`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Unchanged => "UNCHANGED",
            Self::Refused => "REFUSED",
        }
    }
}

/// One field a row changes: its value before (none for a new record or link) and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// The field (English column name).
    pub field: String,
    /// The stored value, if any.
    pub before: Option<String>,
    /// The value the row writes.
    pub after: Option<String>,
}

/// What an import did (or, in a dry run, would do) with one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowOutcome {
    /// The row's number in the file.
    pub line: usize,
    /// Create, update, unchanged or refused.
    pub action: Action,
    /// The organization's Chinese name as the row gives it (or as stored).
    pub name: String,
    /// The organization's id (a new one for a creation); none when refused before matching.
    pub id: Option<Uuid>,
    /// The fields and links the row changes.
    pub changes: Vec<FieldChange>,
    /// Why the row is refused (empty otherwise).
    pub problems: Vec<Problem>,
}

/// The outcome of an import: one entry per row, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Every row's outcome.
    pub rows: Vec<RowOutcome>,
    /// True when this is the plan of a dry run (nothing written).
    pub dry_run: bool,
    /// True when anything was written.
    pub written: bool,
    /// Links the import adds (locations, designations, incubations).
    pub links_added: usize,
}

impl ImportReport {
    /// How many rows have `action`.
    pub fn count(&self, action: Action) -> usize {
        self.rows.iter().filter(|row| row.action == action).count()
    }

    /// The refused rows' problems as (row, field, value, reason), in file order.
    pub fn problems(&self) -> impl Iterator<Item = (usize, &Problem)> {
        self.rows.iter().flat_map(|row| row.problems.iter().map(move |p| (row.line, p)))
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows: {} created, {} updated, {} unchanged, {} refused; {} links added",
            self.rows.len(),
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Unchanged),
            self.count(Action::Refused),
            self.links_added
        )
    }
}

/// Reports progress: the phase, how many rows it has done and of how many.
pub type Progress = Arc<dyn Fn(Phase, usize, usize) + Send + Sync>;

/// The phases of an import, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Looking rows up and validating them.
    Plan,
    /// Writing them.
    Write,
}

/// A planned import: the report, and the writes of each row that is not refused.
#[derive(Debug)]
pub struct ImportPlan {
    report: ImportReport,
    writes: Vec<RowWrite>,
    at: DateTime<Utc>,
}

impl ImportPlan {
    /// What the import would do.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// The dry run's report: the plan, nothing written.
    pub fn into_dry_run(self) -> ImportReport {
        ImportReport { dry_run: true, written: false, ..self.report }
    }
}

/// The writes of one row.
#[derive(Debug, Clone)]
struct RowWrite {
    /// Index of the row in the report.
    index: usize,
    organization: OrganizationWrite,
    locations: Vec<enterprise_location::Model>,
    designations: Vec<designation::Model>,
    incubations: Vec<incubation::Model>,
    /// Parks and incubators the links need live.
    parks: Vec<Uuid>,
    incubators: Vec<Uuid>,
}

#[derive(Debug, Clone)]
enum OrganizationWrite {
    Create(Box<organization::Model>),
    Update { id: Uuid, version: i32, draft: Box<Valid<OrganizationDraft>>, warning: Option<String> },
    Keep,
}

/// Live parks or incubators by id, Chinese name and English name (lower case).
#[derive(Default)]
struct Directory {
    by_id: HashMap<Uuid, String>,
    by_name: HashMap<String, Vec<Uuid>>,
}

impl Directory {
    fn add(&mut self, id: Uuid, name_zh: String, name_en: Option<String>) {
        self.by_name.entry(name_zh.trim().to_string()).or_default().push(id);
        if let Some(en) = name_en {
            let key = en.trim().to_lowercase();
            if !key.is_empty() {
                let ids = self.by_name.entry(key).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        self.by_id.insert(id, name_zh);
    }

    /// The record `reference` names: an id, a Chinese name or an English name.
    fn find(&self, reference: &str, noun: &str) -> Result<Uuid, String> {
        let reference = reference.trim();
        if let Ok(id) = Uuid::parse_str(reference) {
            return if self.by_id.contains_key(&id) { Ok(id) } else { Err(format!("no live {noun} has this id")) };
        }
        let ids = self.by_name.get(reference).or_else(|| self.by_name.get(&reference.to_lowercase()));
        match ids.map(Vec::as_slice) {
            Some([id]) => Ok(*id),
            Some(ids) if ids.len() > 1 => Err(format!(
                "{} live {noun}s have this name ({}); give the id instead",
                ids.len(),
                ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ")
            )),
            _ => {
                Err(format!("no live {noun} has this name; give its Chinese name as the registry spells it, or its id"))
            }
        }
    }

    fn name(&self, id: Uuid) -> &str {
        self.by_id.get(&id).map(String::as_str).unwrap_or("")
    }
}

/// The links a matched organization already has (live), to add only what is missing.
#[derive(Default)]
struct Links {
    locations: HashSet<(Uuid, Uuid, String)>,
    designations: HashSet<(Uuid, String, i32)>,
    incubations: HashSet<(Uuid, Uuid)>,
}

impl Links {
    /// The live links of the organizations `ids`.
    async fn fetch(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Self, CommandError> {
        let mut links = Self::default();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let rows: Vec<(Uuid, Uuid, String)> = enterprise_location::Entity::find()
                .filter(enterprise_location::Column::OrganizationId.is_in(chunk.iter().copied()))
                .filter(enterprise_location::Column::ArchivedAt.is_null())
                .select_only()
                .columns([
                    enterprise_location::Column::OrganizationId,
                    enterprise_location::Column::ParkId,
                    enterprise_location::Column::Role,
                ])
                .into_tuple()
                .all(conn)
                .await?;
            links.locations.extend(rows);
            let rows: Vec<(Uuid, String, i32)> = designation::Entity::find()
                .filter(designation::Column::OrganizationId.is_in(chunk.iter().copied()))
                .filter(designation::Column::ArchivedAt.is_null())
                .select_only()
                .columns([designation::Column::OrganizationId, designation::Column::Kind, designation::Column::Year])
                .into_tuple()
                .all(conn)
                .await?;
            links.designations.extend(rows);
            let rows: Vec<(Uuid, Uuid)> = incubation::Entity::find()
                .filter(incubation::Column::OrganizationId.is_in(chunk.iter().copied()))
                .filter(incubation::Column::ArchivedAt.is_null())
                .select_only()
                .columns([incubation::Column::OrganizationId, incubation::Column::IncubatorId])
                .into_tuple()
                .all(conn)
                .await?;
            links.incubations.extend(rows);
        }
        Ok(links)
    }

    /// Adds links found, but those of the organizations in `skip`.
    fn extend(&mut self, other: Self, skip: &HashSet<Uuid>) {
        self.locations.extend(other.locations.into_iter().filter(|(org, ..)| !skip.contains(org)));
        self.designations.extend(other.designations.into_iter().filter(|(org, ..)| !skip.contains(org)));
        self.incubations.extend(other.incubations.into_iter().filter(|(org, _)| !skip.contains(org)));
    }
}

/// What planning an import looks at: the live parks and incubators (read before the
/// first row is planned), the organizations the rows may name and their links (read a
/// chunk of rows at a time, while the chunk before is planned).
struct Context {
    parks: Directory,
    incubators: Directory,
    existing: Existing,
    links: Links,
    today: chrono::NaiveDate,
    at: DateTime<Utc>,
}

/// A chunk of rows with what planning them needs that the planner has not seen yet.
struct Loaded {
    rows: Vec<ImportRow>,
    found: Vec<organization::Model>,
    links: Links,
}

/// Plans rows one at a time, in file order, into a report.
struct Planner {
    context: Context,
    /// The first row that claimed a record, or a new record's key, for duplicates.
    claimed: HashMap<Claim, usize>,
    /// The organizations this import creates.
    created: HashSet<Uuid>,
    report: ImportReport,
}

impl Planner {
    fn new(context: Context) -> Self {
        Self { context, claimed: HashMap::new(), created: HashSet::new(), report: ImportReport::default() }
    }

    /// Takes in what a chunk's look-ups found. Organizations this import created are left
    /// out: with [`OnError::Skip`] the chunks before may be committed by the time a later
    /// chunk is looked up, and a row naming one of them again is the same record twice in
    /// one file (the claims say so), not a correction of a stored one.
    fn learn(&mut self, found: Vec<organization::Model>, links: Links) {
        let created = &self.created;
        self.context.existing.add(found.into_iter().filter(|o| !created.contains(&o.id)));
        self.context.links.extend(links, created);
    }

    /// Plans the row at `index` (its outcome goes to the report) and returns its writes,
    /// if it has any.
    fn plan(&mut self, index: usize, row: ImportRow) -> Option<RowWrite> {
        let Context { parks, incubators, existing, links, today, at } = &self.context;
        let line = row.line;
        let name = match &row.fields.name_zh {
            Patch::Set(name) => name.trim().to_string(),
            _ => String::new(),
        };
        let mut outcome =
            RowOutcome { line, action: Action::Refused, name, id: None, changes: Vec::new(), problems: Vec::new() };
        let mut write = None;
        match plan_row(row, existing, links, parks, incubators, &mut self.claimed, *today, *at) {
            Ok(planned) => {
                outcome.action = planned.action;
                outcome.id = Some(planned.id);
                outcome.changes = planned.changes;
                if outcome.name.is_empty() {
                    outcome.name = planned.name;
                }
                if planned.action != Action::Unchanged {
                    self.report.links_added += planned.write.locations.len()
                        + planned.write.designations.len()
                        + planned.write.incubations.len();
                    if let OrganizationWrite::Create(model) = &planned.write.organization {
                        self.created.insert(model.id);
                    }
                    write = Some(RowWrite { index, ..planned.write });
                }
            }
            Err(problems) => outcome.problems = problems,
        }
        self.report.rows.push(outcome);
        write
    }
}

/// The writes of [`CHUNK_ROWS`] planned rows, passed from the planner to the writer.
struct Batch {
    writes: Vec<RowWrite>,
    /// Rows planned so far, for progress.
    planned: usize,
}

/// A failure of the planning thread itself.
fn planner_failed(error: &tokio::task::JoinError) -> CommandError {
    CommandError::Store(StoreError::Invalid(format!("the import's planning stopped: {error}")))
}

/// An import being planned: the look-ups run on a task of their own (a connection of the
/// pool), the plan on a thread of its own, and the batches of writes come out here.
struct Planning {
    batches: tokio::sync::mpsc::Receiver<Batch>,
    looking_up: tokio::task::JoinHandle<Result<(), CommandError>>,
    planning: tokio::task::JoinHandle<ImportReport>,
    at: DateTime<Utc>,
}

/// Waits for an import's look-ups and plan to end: the report, or why the look-ups failed
/// (the plan then stopped early, and nothing of it may be committed).
async fn planned(
    looking_up: tokio::task::JoinHandle<Result<(), CommandError>>,
    planning: tokio::task::JoinHandle<ImportReport>,
) -> Result<ImportReport, CommandError> {
    let looked_up = looking_up.await.map_err(|e| planner_failed(&e))?;
    let report = planning.await.map_err(|e| planner_failed(&e))?;
    looked_up?;
    Ok(report)
}

/// Looks `rows` up [`CHUNK_ROWS`] at a time (the organizations they may name, and their
/// links) and hands each chunk to the planner with what was found. Stops early, without
/// error, when the planner stopped.
async fn look_up(
    db: sea_orm::DatabaseConnection,
    rows: Vec<ImportRow>,
    chunks: tokio::sync::mpsc::Sender<Loaded>,
) -> Result<(), CommandError> {
    let mut rows = rows.into_iter();
    while rows.len() > 0 {
        let chunk: Vec<ImportRow> = rows.by_ref().take(CHUNK_ROWS).collect();
        let found = Existing::fetch(&db, &chunk).await?;
        let ids: Vec<Uuid> = found.iter().map(|o| o.id).collect();
        let links = Links::fetch(&db, &ids).await?;
        if chunks.send(Loaded { rows: chunk, found, links }).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Plans the chunks as they come, in file order, and hands the writer the writes of each.
/// With `abort`, one refused row means nothing is written: the plan goes on for the
/// report, and hands over no more writes. Stops early when the writer stopped.
fn plan_chunks(
    context: Context,
    abort: bool,
    mut chunks: tokio::sync::mpsc::Receiver<Loaded>,
    batches: tokio::sync::mpsc::Sender<Batch>,
) -> ImportReport {
    let mut planner = Planner::new(context);
    let mut refused = false;
    let mut index = 0usize;
    while let Some(Loaded { rows, found, links }) = chunks.blocking_recv() {
        planner.learn(found, links);
        let mut writes = Vec::new();
        for row in rows {
            let write = planner.plan(index, row);
            index += 1;
            refused |= planner.report.rows.last().is_some_and(|r| r.action == Action::Refused);
            if !(abort && refused) {
                writes.extend(write);
            }
        }
        if batches.blocking_send(Batch { writes, planned: index }).is_err() {
            break;
        }
    }
    planner.report
}

impl Registry {
    /// Starts planning `rows`: reads the live parks and incubators, then looks the rows up
    /// a chunk at a time on a connection of the pool while the chunk before is planned
    /// (and, in a real run, the one before that written). A read connection of its own:
    /// the rows are compared with the registry as committed, never with this import's
    /// own uncommitted writes.
    async fn start_planning(&self, rows: Vec<ImportRow>, abort: bool) -> Result<Planning, CommandError> {
        let parks = directory_of::<park::Entity>(&self.db).await?;
        let incubators = directory_of::<incubator::Entity>(&self.db).await?;
        let context = Context {
            parks,
            incubators,
            existing: Existing::default(),
            links: Links::default(),
            today: today(),
            at: Utc::now(),
        };
        let at = context.at;
        let (loaded, to_plan) = tokio::sync::mpsc::channel(2);
        let (planned, batches) = tokio::sync::mpsc::channel(2);
        let looking_up = tokio::spawn(look_up(self.db.clone(), rows, loaded));
        let planning = tokio::task::spawn_blocking(move || plan_chunks(context, abort, to_plan, planned));
        Ok(Planning { batches, looking_up, planning, at })
    }

    /// Plans an import: looks every row up, validates it and compares it with the
    /// registry. Writes nothing.
    pub async fn plan_import(
        &self,
        rows: Vec<ImportRow>,
        progress: Option<Progress>,
    ) -> Result<ImportPlan, CommandError> {
        let total = rows.len();
        let Planning { mut batches, looking_up, planning, at } = self.start_planning(rows, false).await?;
        let mut writes = Vec::new();
        while let Some(batch) = batches.recv().await {
            writes.extend(batch.writes);
            if let Some(progress) = &progress {
                progress(Phase::Plan, batch.planned, total);
            }
        }
        let report = planned(looking_up, planning).await?;
        Ok(ImportPlan { report, writes, at })
    }

    /// Writes a plan through the write path, as `actor`. With [`OnError::Abort`] nothing
    /// is written when the plan refuses any row, or when any write fails.
    pub async fn apply_import(
        &self,
        actor: &Actor,
        plan: ImportPlan,
        on_error: OnError,
        progress: Option<Progress>,
    ) -> Result<ImportReport, CommandError> {
        let ImportPlan { mut report, writes, at } = plan;
        report.dry_run = false;
        if on_error == OnError::Abort && report.count(Action::Refused) > 0 {
            report.written = false;
            return Ok(report);
        }
        let mut done = 0usize;
        let chunk_rows = match on_error {
            OnError::Abort => writes.len().max(1),
            OnError::Skip => CHUNK_ROWS,
        };
        for chunk in writes.chunks(chunk_rows) {
            let refused = match on_error {
                OnError::Abort => {
                    self.write_rows(actor, chunk, at).await?;
                    Vec::new()
                }
                OnError::Skip => self.write_or_refuse(actor, chunk, at).await?,
            };
            report.written |= chunk.len() > refused.len();
            for (write, error) in refused {
                refuse_after_plan(&mut report, &write, &error);
            }
            done += chunk.len();
            if let Some(progress) = &progress {
                progress(Phase::Write, done, writes.len());
            }
        }
        Ok(report)
    }

    /// Plans and, unless `dry_run`, applies an import.
    ///
    /// A real run looks up, plans and writes at once: the look-ups of a chunk of
    /// [`CHUNK_ROWS`] rows run on a connection of their own, the plan on a thread of its
    /// own, and the writer gets the writes of each chunk as it is planned, so the three
    /// overlap. With [`OnError::Abort`] the writer writes into one transaction and rolls it
    /// back when the plan refuses any row (or a write or look-up fails); with
    /// [`OnError::Skip`] each batch is its own transaction. The report is the same as
    /// [`Self::plan_import`] followed by [`Self::apply_import`] would give.
    pub async fn import(
        &self,
        actor: &Actor,
        rows: Vec<ImportRow>,
        dry_run: bool,
        on_error: OnError,
        progress: Option<Progress>,
    ) -> Result<ImportReport, CommandError> {
        if dry_run {
            return Ok(self.plan_import(rows, progress).await?.into_dry_run());
        }
        let total = rows.len();
        let abort = on_error == OnError::Abort;
        let Planning { batches: mut receiver, looking_up, planning, at } = self.start_planning(rows, abort).await?;

        let txn = if abort { Some(self.begin().await?) } else { None };
        let mut written = false;
        let mut refused_after_plan = Vec::new();
        while let Some(batch) = receiver.recv().await {
            if !batch.writes.is_empty() {
                let refused = match &txn {
                    Some(txn) => {
                        if let Err(error) = self.write_rows_in(txn, actor, &batch.writes, at).await {
                            drop(receiver);
                            let _ = planned(looking_up, planning).await;
                            return Err(error);
                        }
                        Vec::new()
                    }
                    None => match self.write_or_refuse(actor, &batch.writes, at).await {
                        Ok(refused) => refused,
                        Err(error) => {
                            drop(receiver);
                            let _ = planned(looking_up, planning).await;
                            return Err(error);
                        }
                    },
                };
                written |= batch.writes.len() > refused.len();
                refused_after_plan.extend(refused);
            }
            if let Some(progress) = &progress {
                progress(Phase::Write, batch.planned, total);
            }
        }
        // A failed look-up ends the plan early: return its error before anything commits
        // (dropping the transaction rolls it back).
        let mut report = planned(looking_up, planning).await?;
        report.dry_run = false;
        if let Some(txn) = txn {
            if report.count(Action::Refused) > 0 {
                txn.rollback().await?;
                written = false;
            } else {
                txn.commit().await?;
            }
        }
        for (write, error) in refused_after_plan {
            refuse_after_plan(&mut report, &write, &error);
        }
        report.written = written;
        Ok(report)
    }

    /// Writes some rows in one transaction; when the batch fails for a reason a row can
    /// cause (something changed under the plan), writes its rows one transaction each and
    /// returns those refused with their errors. Fails when the storage itself fails.
    async fn write_or_refuse(
        &self,
        actor: &Actor,
        rows: &[RowWrite],
        at: DateTime<Utc>,
    ) -> Result<Vec<(RowWrite, CommandError)>, CommandError> {
        match self.write_rows(actor, rows, at).await {
            Ok(()) => Ok(Vec::new()),
            Err(CommandError::Store(error)) if !error.is_row_level() => Err(CommandError::Store(error)),
            Err(_) => {
                let mut refused = Vec::new();
                for write in rows {
                    match self.write_rows(actor, std::slice::from_ref(write), at).await {
                        Ok(()) => {}
                        Err(CommandError::Store(error)) if !error.is_row_level() => {
                            return Err(CommandError::Store(error));
                        }
                        Err(error) => refused.push((write.clone(), error)),
                    }
                }
                Ok(refused)
            }
        }
    }

    /// Writes some rows in a transaction of their own.
    async fn write_rows(&self, actor: &Actor, rows: &[RowWrite], at: DateTime<Utc>) -> Result<(), CommandError> {
        let txn = self.begin().await?;
        self.write_rows_in(&txn, actor, rows, at).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Writes some rows in `txn`: new organizations, corrections, then links, each with
    /// revisions and feed entries.
    async fn write_rows_in(
        &self,
        txn: &impl ConnectionTrait,
        actor: &Actor,
        rows: &[RowWrite],
        at: DateTime<Utc>,
    ) -> Result<(), CommandError> {
        let locations: Vec<&enterprise_location::Model> = rows.iter().flat_map(|r| &r.locations).collect();
        let designations: Vec<&designation::Model> = rows.iter().flat_map(|r| &r.designations).collect();
        let incubations: Vec<&incubation::Model> = rows.iter().flat_map(|r| &r.incubations).collect();
        // The same locks the single link commands take, in the same order.
        if !incubations.is_empty() {
            lock::serialize(txn, lock::INCUBATIONS).await?;
        }
        if !locations.is_empty() {
            lock::serialize(txn, lock::LOCATIONS).await?;
        }
        if !designations.is_empty() {
            lock::serialize(txn, lock::DESIGNATIONS).await?;
        }
        ensure_live::<park::Entity, _>(txn, rows.iter().flat_map(|r| r.parks.iter().copied()), "park").await?;
        ensure_live::<incubator::Entity, _>(txn, rows.iter().flat_map(|r| r.incubators.iter().copied()), "incubator")
            .await?;

        let created: Vec<&organization::Model> = rows
            .iter()
            .filter_map(|r| match &r.organization {
                OrganizationWrite::Create(model) => Some(&**model),
                _ => None,
            })
            .collect();
        write::create_many::<organization::Model, _>(txn, &actor.subject, at, &created).await?;

        let mut updated = Vec::new();
        for row in rows {
            if let OrganizationWrite::Update { id, version, draft, warning } = &row.organization {
                let before = organization::Entity::find_by_id(*id).one(txn).await?.ok_or(CommandError::NotFound)?;
                write::update_versioned(
                    txn,
                    EntityType::Organization,
                    *id,
                    *version,
                    at,
                    crate::organization::columns(draft, warning.clone()),
                )
                .await?;
                updated.push(before);
            }
        }
        if !updated.is_empty() {
            let ids: Vec<Uuid> = updated.iter().map(|b| b.id).collect();
            let mut after: HashMap<Uuid, organization::Model> = HashMap::new();
            for chunk in ids.chunks(LOOKUP_CHUNK) {
                for row in organization::Entity::find()
                    .filter(organization::Column::Id.is_in(chunk.iter().copied()))
                    .all(txn)
                    .await?
                {
                    after.insert(row.id, row);
                }
            }
            let mut revisions = Vec::with_capacity(updated.len());
            for before in &updated {
                let after = after.get(&before.id).ok_or(CommandError::NotFound)?;
                revisions.push(Revision {
                    entity_type: EntityType::Organization,
                    entity_id: before.id,
                    version: after.version,
                    operation: Operation::Update,
                    actor: actor.subject.clone(),
                    at,
                    before: Some(json(before)?),
                    after: Some(json(after)?),
                });
            }
            write::record_revisions(txn, &revisions).await?;
            let changes: Vec<NewChange> = revisions.into_iter().map(NewChange::from_revision).collect();
            write::append_changes(txn, &changes).await?;
        }
        write::create_many::<enterprise_location::Model, _>(txn, &actor.subject, at, &locations).await?;
        write::create_many::<designation::Model, _>(txn, &actor.subject, at, &designations).await?;
        write::create_many::<incubation::Model, _>(txn, &actor.subject, at, &incubations).await?;
        Ok(())
    }
}

fn json<T: serde::Serialize>(row: &T) -> Result<serde_json::Value, CommandError> {
    serde_json::to_value(row).map_err(|e| CommandError::Store(StoreError::Invalid(format!("a row as JSON: {e}"))))
}

/// A row the plan accepted but its write refused (something changed in between).
fn refuse_after_plan(report: &mut ImportReport, write: &RowWrite, error: &CommandError) {
    let reason = match error {
        CommandError::Stale { current_version } => format!(
            "the organization was changed by someone else during the import (now version {current_version}); \
             run the import again"
        ),
        CommandError::NotFound => "a record this row refers to was removed during the import".to_string(),
        CommandError::Invalid(invalid) => {
            invalid.errors().iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ")
        }
        CommandError::Store(StoreError::Conflict(_)) => {
            "another live organization took this USCC, or one of these links was added, during the import; \
             run the import again"
                .to_string()
        }
        CommandError::Store(other) => other.to_string(),
    };
    if let Some(row) = report.rows.get_mut(write.index) {
        let links = write.locations.len() + write.designations.len() + write.incubations.len();
        report.links_added = report.links_added.saturating_sub(links);
        row.action = Action::Refused;
        row.changes.clear();
        row.problems.push(Problem::new(field::NAME, row.name.clone(), reason));
    }
}

impl RowWrite {
    fn is_empty_write(&self) -> bool {
        matches!(self.organization, OrganizationWrite::Keep)
            && self.locations.is_empty()
            && self.designations.is_empty()
            && self.incubations.is_empty()
    }
}

trait RowLevel {
    /// True for a failure one row can cause (a conflict, a stale version, a reference gone);
    /// false for the storage itself failing, which stops the import.
    fn is_row_level(&self) -> bool;
}

impl RowLevel for StoreError {
    fn is_row_level(&self) -> bool {
        matches!(self, StoreError::Conflict(_) | StoreError::StaleVersion { .. } | StoreError::NotFound(_))
    }
}

/// Fails with `NotFound` when one of `ids` is not a live record of `E` (read `FOR SHARE`
/// on PostgreSQL, so it cannot be archived before this transaction commits).
async fn ensure_live<E, I>(conn: &impl ConnectionTrait, ids: I, noun: &str) -> Result<(), CommandError>
where
    E: EntityTrait,
    I: IntoIterator<Item = Uuid>,
{
    let wanted: HashSet<Uuid> = ids.into_iter().collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let list: Vec<Uuid> = wanted.iter().copied().collect();
    let mut found = 0usize;
    for chunk in list.chunks(LOOKUP_CHUNK) {
        let rows: Vec<Uuid> = E::find()
            .filter(Expr::col("id").is_in(chunk.iter().copied()))
            .filter(Expr::col("archived_at").is_null())
            .select_only()
            .expr(Expr::col("id"))
            .lock_shared()
            .into_tuple()
            .all(conn)
            .await?;
        found += rows.len();
    }
    if found == wanted.len() {
        Ok(())
    } else {
        Err(CommandError::Store(StoreError::NotFound(format!("a {noun} the import links to was archived meanwhile"))))
    }
}

/// Live parks (or incubators: any table with `id`, `name_zh`, `name_en` and
/// `archived_at`) by id and name.
async fn directory_of<E: EntityTrait>(conn: &impl ConnectionTrait) -> Result<Directory, CommandError> {
    let rows: Vec<(Uuid, String, Option<String>)> = E::find()
        .filter(Expr::col("archived_at").is_null())
        .select_only()
        .expr(Expr::col("id"))
        .expr(Expr::col("name_zh"))
        .expr(Expr::col("name_en"))
        .into_tuple()
        .all(conn)
        .await?;
    let mut directory = Directory::default();
    for (id, zh, en) in rows {
        directory.add(id, zh, en);
    }
    Ok(directory)
}

/// The organizations the file's rows may refer to: by id, by USCC (live), by Chinese name
/// (live).
#[derive(Default)]
struct Existing {
    by_id: HashMap<Uuid, organization::Model>,
    by_uscc: HashMap<String, Uuid>,
    by_name: HashMap<String, Vec<Uuid>>,
}

/// A USCC as the registry stores it: trimmed, upper case, full-width letters and digits
/// made ASCII.
fn normal_uscc(code: &str) -> String {
    code.trim()
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            c => c,
        })
        .collect::<String>()
        .to_ascii_uppercase()
}

impl Existing {
    /// The organizations `rows` may name, as stored: by id, by USCC (live), by Chinese
    /// name (live), each once.
    async fn fetch(conn: &impl ConnectionTrait, rows: &[ImportRow]) -> Result<Vec<organization::Model>, CommandError> {
        let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.id).collect::<HashSet<_>>().into_iter().collect();
        let codes: Vec<String> = rows
            .iter()
            .filter_map(|r| match &r.fields.uscc {
                Patch::Set(code) => Some(normal_uscc(code)),
                _ => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let names: Vec<String> = rows
            .iter()
            .filter_map(|r| match &r.fields.name_zh {
                Patch::Set(name) => Some(name.trim().to_string()),
                _ => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut keep = |rows: Vec<organization::Model>| {
            found.extend(rows.into_iter().filter(|row| seen.insert(row.id)));
        };
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            keep(
                organization::Entity::find()
                    .filter(organization::Column::Id.is_in(chunk.iter().copied()))
                    .all(conn)
                    .await?,
            );
        }
        for (column, values) in [(organization::Column::Uscc, &codes), (organization::Column::NameZh, &names)] {
            for chunk in values.chunks(LOOKUP_CHUNK) {
                keep(
                    organization::Entity::find()
                        .filter(column.is_in(chunk.iter().cloned()))
                        .filter(organization::Column::ArchivedAt.is_null())
                        .all(conn)
                        .await?,
                );
            }
        }
        Ok(found)
    }

    /// Adds organizations found, keeping the first copy of each.
    fn add(&mut self, found: impl IntoIterator<Item = organization::Model>) {
        for row in found {
            if self.by_id.contains_key(&row.id) {
                continue;
            }
            if row.archived_at.is_none() {
                if let Some(code) = &row.uscc {
                    self.by_uscc.insert(code.clone(), row.id);
                }
                self.by_name.entry(row.name_zh.trim().to_string()).or_default().push(row.id);
            }
            self.by_id.insert(row.id, row);
        }
    }

    /// The live organization a row names: by id, else by USCC, else by Chinese name and
    /// city (a stored record with another USCC is another organization).
    fn find(&self, row: &ImportRow, uscc: Option<&str>) -> Result<Option<&organization::Model>, Problem> {
        if let Some(id) = row.id {
            return match self.by_id.get(&id) {
                Some(found) if found.archived_at.is_some() => Err(Problem::new(
                    field::ID,
                    id.to_string(),
                    "this organization is archived; restore it before importing changes to it",
                )),
                Some(found) => Ok(Some(found)),
                None => Err(Problem::new(field::ID, id.to_string(), "no organization has this id")),
            };
        }
        if let Some(code) = uscc
            && let Some(id) = self.by_uscc.get(code)
        {
            return Ok(self.by_id.get(id));
        }
        let (Patch::Set(name), city) = (&row.fields.name_zh, &row.fields.city) else { return Ok(None) };
        let city = match city {
            Patch::Set(city) => Some(city.trim()),
            _ => None,
        };
        let candidates = self.by_name.get(name.trim()).map(Vec::as_slice).unwrap_or_default();
        let matching: Vec<&organization::Model> = candidates
            .iter()
            .filter_map(|id| self.by_id.get(id))
            .filter(|o| o.city.as_deref().map(str::trim) == city)
            .filter(|o| match (uscc, o.uscc.as_deref()) {
                (Some(file), Some(stored)) => file == stored,
                _ => true,
            })
            .collect();
        match matching.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => Err(Problem::new(
                field::NAME,
                name.clone(),
                format!(
                    "{} live organizations have this name and city ({}); add their USCC or id to the row",
                    many.len(),
                    many.iter().map(|o| o.id.to_string()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
}

/// What makes two rows the same record: a stored record, or a new record's USCC, or its
/// name and city.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Claim {
    Stored(Uuid),
    Uscc(String),
    NameCity(String, String),
}

struct PlannedRow {
    action: Action,
    id: Uuid,
    name: String,
    changes: Vec<FieldChange>,
    write: RowWrite,
}

/// The organization's fields of a draft as (field, value shown), for comparing.
fn shown(d: &OrganizationDraft) -> Vec<(&'static str, Option<String>)> {
    let text = |v: &Option<String>| v.clone();
    let date = |v: &Option<PartialDate>| v.map(|d| d.to_string());
    vec![
        ("name", Some(d.name_zh.clone())),
        ("kind", Some(d.kind.code().to_string())),
        ("status", Some(d.status.code().to_string())),
        ("nameEn", text(&d.name_en)),
        ("legalName", text(&d.legal_name)),
        ("uscc", text(&d.uscc)),
        ("founded", date(&d.founded_on)),
        ("industry", text(&d.industry)),
        ("registeredCapitalCny", d.registered_capital_cny.map(|v| v.to_string())),
        ("headcount", d.headcount.map(|v| v.to_string())),
        ("website", text(&d.website)),
        ("city", text(&d.city)),
        ("district", text(&d.district)),
        ("contactName", text(&d.contact_name)),
        ("contactPhone", text(&d.contact_phone)),
        ("contactEmail", text(&d.contact_email)),
        ("staffNotes", text(&d.staff_notes)),
        ("sourceName", text(&d.source_name)),
        ("sourceUrl", text(&d.source_url)),
        ("asOf", date(&d.as_of)),
    ]
}

/// The import's name for a domain field (`nameZh` → `name`, `foundedOn` → `founded`).
pub fn import_field(domain_field: &str) -> &str {
    match domain_field {
        "nameZh" => field::NAME,
        "foundedOn" => field::FOUNDED,
        f if f.starts_with("usccOverride") => field::USCC,
        f => f,
    }
}

/// The value a row gives for a domain field, for the error report.
fn value_of(row: &ImportRow, field: &str) -> String {
    let draft = OrganizationDraft::new(OrganizationKind::Other, String::new(), OrganizationStatus::Active);
    let merged = merged(&row.fields, draft);
    shown(&merged).into_iter().find(|(f, _)| *f == field).and_then(|(_, v)| v).unwrap_or_default()
}

/// The domain's errors as problems, leaving out fields `known` already has a problem with
/// (a missing name is said once, in the import's words).
fn problems_of(row: &ImportRow, known: &[Problem], errors: Vec<FieldError>) -> Vec<Problem> {
    errors
        .into_iter()
        .filter(|e| !known.iter().any(|p| p.field == import_field(&e.field)))
        .map(|e| {
            let field = import_field(&e.field).to_string();
            let value = value_of(row, &field);
            Problem { field, value, reason: e.message }
        })
        .collect()
}

/// `draft` with every `Set` field of `patch` (no clearing: an import never clears).
fn merged(patch: &OrganizationPatch, mut d: OrganizationDraft) -> OrganizationDraft {
    fn set<T: Clone>(p: &Patch<T>, slot: &mut Option<T>) {
        if let Patch::Set(v) = p {
            *slot = Some(v.clone());
        }
    }
    if let Patch::Set(v) = &patch.kind {
        d.kind = *v;
    }
    if let Patch::Set(v) = &patch.name_zh {
        d.name_zh = v.clone();
    }
    if let Patch::Set(v) = &patch.status {
        d.status = *v;
    }
    set(&patch.name_en, &mut d.name_en);
    set(&patch.legal_name, &mut d.legal_name);
    set(&patch.uscc, &mut d.uscc);
    set(&patch.founded_on, &mut d.founded_on);
    set(&patch.industry, &mut d.industry);
    set(&patch.registered_capital_cny, &mut d.registered_capital_cny);
    set(&patch.headcount, &mut d.headcount);
    set(&patch.website, &mut d.website);
    set(&patch.city, &mut d.city);
    set(&patch.district, &mut d.district);
    set(&patch.contact_name, &mut d.contact_name);
    set(&patch.contact_phone, &mut d.contact_phone);
    set(&patch.contact_email, &mut d.contact_email);
    set(&patch.staff_notes, &mut d.staff_notes);
    set(&patch.source_name, &mut d.source_name);
    set(&patch.source_url, &mut d.source_url);
    set(&patch.as_of, &mut d.as_of);
    d
}

#[allow(clippy::too_many_arguments)]
fn plan_row(
    row: ImportRow,
    existing: &Existing,
    links: &Links,
    parks: &Directory,
    incubators: &Directory,
    claimed: &mut HashMap<Claim, usize>,
    today: chrono::NaiveDate,
    at: DateTime<Utc>,
) -> Result<PlannedRow, Vec<Problem>> {
    let mut problems = row.problems.clone();
    if !matches!(row.fields.name_zh, Patch::Set(ref n) if !n.trim().is_empty()) && row.id.is_none() {
        problems.push(Problem::new(field::NAME, "", "every row needs the organization's Chinese name (企业名称)"));
    }
    let uscc = match &row.fields.uscc {
        Patch::Set(code) => Some(normal_uscc(code)),
        _ => None,
    };
    let found = match existing.find(&row, uscc.as_deref()) {
        Ok(found) => found,
        Err(problem) => {
            problems.push(problem);
            None
        }
    };

    // The organization: a new draft, or the stored one with the row's values.
    let mut fields = row.fields.clone();
    if let Some(code) = &uscc {
        fields.uscc = Patch::Set(code.clone());
    }
    let (id, current, valid) = match found {
        Some(stored) => {
            let current =
                draft_of(stored).map_err(|e| vec![Problem::new(field::ID, stored.id.to_string(), e.to_string())])?;
            let patch = OrganizationPatch { uscc_override: Patch::Unchanged, ..only_set(fields) };
            match patch.apply(&current, today) {
                Ok(valid) => (stored.id, Some((stored, current)), Some(valid)),
                Err(invalid) => {
                    let found = problems_of(&row, &problems, invalid.into_errors());
                    problems.extend(found);
                    (stored.id, Some((stored, current)), None)
                }
            }
        }
        None => {
            let draft = merged(
                &fields,
                OrganizationDraft::new(OrganizationKind::Enterprise, String::new(), OrganizationStatus::Active),
            );
            match draft.validate(today) {
                Ok(valid) => (Uuid::now_v7(), None, Some(valid)),
                Err(invalid) => {
                    let found = problems_of(&row, &problems, invalid.into_errors());
                    problems.extend(found);
                    (Uuid::now_v7(), None, None)
                }
            }
        }
    };

    // The same record twice in one file.
    let claim = match (&current, &valid) {
        (Some((stored, _)), _) => Some(Claim::Stored(stored.id)),
        (None, Some(valid)) => match valid.uscc() {
            Some(code) => Some(Claim::Uscc(code.as_str().to_string())),
            None => Some(Claim::NameCity(valid.name_zh.clone(), valid.city.clone().unwrap_or_default())),
        },
        (None, None) => None,
    };
    if let Some(claim) = claim {
        if let Some(first) = claimed.get(&claim) {
            problems.push(Problem::new(
                match claim {
                    Claim::Stored(_) | Claim::NameCity(..) => field::NAME,
                    Claim::Uscc(_) => field::USCC,
                },
                match &claim {
                    Claim::Stored(id) => id.to_string(),
                    Claim::Uscc(code) => code.clone(),
                    Claim::NameCity(name, _) => name.clone(),
                },
                format!("the same organization as row {first}; merge the two rows"),
            ));
        } else if problems.is_empty() {
            claimed.insert(claim, row.line);
        }
    }

    // Links.
    let kind = valid.as_ref().map(|v| v.kind).or(current.as_ref().map(|(_, c)| c.kind));
    let has_links = !row.parks.is_empty() || !row.designations.is_empty() || !row.incubators.is_empty();
    if has_links && kind.is_some_and(|k| k != OrganizationKind::Enterprise) {
        problems.push(Problem::new(
            "kind",
            kind.map(|k| k.code().to_string()).unwrap_or_default(),
            "only an enterprise (ENTERPRISE) has park locations, designations and incubations; clear those cells \
             or change the kind",
        ));
    }
    let mut write = RowWrite {
        index: 0,
        organization: OrganizationWrite::Keep,
        locations: Vec::new(),
        designations: Vec::new(),
        incubations: Vec::new(),
        parks: Vec::new(),
        incubators: Vec::new(),
    };
    let mut changes = Vec::new();
    let mut seen_locations = HashSet::new();
    for item in &row.parks {
        match parks.find(&item.reference, "park") {
            Ok(park_id) => {
                let key = (id, park_id, item.role.code().to_string());
                if links.locations.contains(&key) || !seen_locations.insert(key) {
                    continue;
                }
                if let Err(invalid) = EnterpriseLocationDraft::new(id, park_id, item.role).validate(today) {
                    problems.extend(
                        invalid
                            .into_errors()
                            .into_iter()
                            .map(|e| Problem::new(field::PARKS, &item.reference, e.message)),
                    );
                    continue;
                }
                changes.push(FieldChange {
                    field: field::PARKS.to_string(),
                    before: None,
                    after: Some(format!("{} ({})", parks.name(park_id), item.role.code())),
                });
                write.parks.push(park_id);
                write.locations.push(enterprise_location::Model {
                    id: Uuid::now_v7(),
                    organization_id: id,
                    park_id,
                    role: item.role.code().to_string(),
                    since: None,
                    since_precision: None,
                    source_name: None,
                    source_url: None,
                    as_of: None,
                    as_of_precision: None,
                    created_at: at,
                    updated_at: at,
                    version: 1,
                    archived_at: None,
                });
            }
            Err(reason) => problems.push(Problem::new(field::PARKS, &item.reference, reason)),
        }
    }
    let mut seen_designations = HashSet::new();
    for (kind, year) in &row.designations {
        let key = (id, kind.code().to_string(), *year);
        if links.designations.contains(&key) || !seen_designations.insert(key) {
            continue;
        }
        if let Err(invalid) = DesignationDraft::new(id, *kind, *year).validate(today) {
            problems.extend(
                invalid
                    .into_errors()
                    .into_iter()
                    .map(|e| Problem::new(field::DESIGNATIONS, format!("{} {year}", kind.code()), e.message)),
            );
            continue;
        }
        changes.push(FieldChange {
            field: field::DESIGNATIONS.to_string(),
            before: None,
            after: Some(format!("{} {year}", kind.code())),
        });
        write.designations.push(designation::Model {
            id: Uuid::now_v7(),
            organization_id: id,
            kind: kind.code().to_string(),
            year: *year,
            valuation_usd: None,
            note: None,
            source_name: None,
            source_url: None,
            as_of: None,
            as_of_precision: None,
            created_at: at,
            updated_at: at,
            version: 1,
            archived_at: None,
        });
    }
    let mut seen_incubations = HashSet::new();
    for item in &row.incubators {
        let reference = &item.reference;
        let incubator_id = match incubators.find(reference, "incubator") {
            Ok(incubator_id) => incubator_id,
            Err(reason) => {
                problems.push(Problem::new(field::INCUBATORS, reference, reason));
                continue;
            }
        };
        if links.incubations.contains(&(id, incubator_id)) || !seen_incubations.insert(incubator_id) {
            continue;
        }
        let status = item.status;
        if let Err(invalid) = IncubationDraft::new(id, incubator_id, status).validate(today) {
            problems.extend(
                invalid.into_errors().into_iter().map(|e| Problem::new(field::INCUBATORS, reference, e.message)),
            );
            continue;
        }
        changes.push(FieldChange {
            field: field::INCUBATORS.to_string(),
            before: None,
            after: Some(format!("{} ({})", incubators.name(incubator_id), status.code())),
        });
        write.incubators.push(incubator_id);
        write.incubations.push(incubation::Model {
            id: Uuid::now_v7(),
            organization_id: id,
            incubator_id,
            entered_on: None,
            entered_on_precision: None,
            graduated_on: None,
            graduated_on_precision: None,
            status: status.code().to_string(),
            source_name: None,
            source_url: None,
            as_of: None,
            as_of_precision: None,
            created_at: at,
            updated_at: at,
            version: 1,
            archived_at: None,
        });
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(valid) = valid else { return Err(problems) };
    let name = valid.name_zh.clone();
    let mut field_changes = Vec::new();
    let action = match current {
        None => {
            field_changes.extend(shown(&valid).into_iter().filter(|(_, v)| v.is_some()).map(|(f, v)| FieldChange {
                field: f.to_string(),
                before: None,
                after: v,
            }));
            let warning = valid.uscc_warning().map(|w| w.to_string());
            write.organization = OrganizationWrite::Create(Box::new(row_of(id, at, &valid, warning)));
            Action::Create
        }
        Some((stored, current)) => {
            for ((f, before), (_, after)) in shown(&current).into_iter().zip(shown(&valid)) {
                if before != after {
                    field_changes.push(FieldChange { field: f.to_string(), before, after });
                }
            }
            if !field_changes.is_empty() {
                let warning = if valid.uscc == current.uscc { stored.uscc_warning.clone() } else { None };
                write.organization = OrganizationWrite::Update {
                    id: stored.id,
                    version: stored.version,
                    draft: Box::new(valid),
                    warning,
                };
            }
            if write.is_empty_write() { Action::Unchanged } else { Action::Update }
        }
    };
    field_changes.extend(changes);
    Ok(PlannedRow { action, id, name, changes: field_changes, write })
}

/// The patch with only its `Set` fields (an import never clears a value).
fn only_set(patch: OrganizationPatch) -> OrganizationPatch {
    fn keep<T>(p: Patch<T>) -> Patch<T> {
        match p {
            Patch::Set(v) => Patch::Set(v),
            _ => Patch::Unchanged,
        }
    }
    OrganizationPatch {
        kind: keep(patch.kind),
        name_zh: keep(patch.name_zh),
        status: keep(patch.status),
        name_en: keep(patch.name_en),
        legal_name: keep(patch.legal_name),
        uscc: keep(patch.uscc),
        uscc_override: keep(patch.uscc_override),
        founded_on: keep(patch.founded_on),
        industry: keep(patch.industry),
        registered_capital_cny: keep(patch.registered_capital_cny),
        headcount: keep(patch.headcount),
        website: keep(patch.website),
        city: keep(patch.city),
        district: keep(patch.district),
        contact_name: keep(patch.contact_name),
        contact_phone: keep(patch.contact_phone),
        contact_email: keep(patch.contact_email),
        staff_notes: keep(patch.staff_notes),
        source_name: keep(patch.source_name),
        source_url: keep(patch.source_url),
        as_of: keep(patch.as_of),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: usize, name: &str, uscc: &str) -> ImportRow {
        ImportRow {
            line,
            fields: OrganizationPatch {
                name_zh: Patch::Set(name.to_string()),
                uscc: Patch::Set(uscc.to_string()),
                city: Patch::Set("武汉".to_string()),
                ..OrganizationPatch::default()
            },
            ..ImportRow::default()
        }
    }

    fn planner() -> Planner {
        Planner::new(Context {
            parks: Directory::default(),
            incubators: Directory::default(),
            existing: Existing::default(),
            links: Links::default(),
            today: today(),
            at: Utc::now(),
        })
    }

    fn created(write: Option<RowWrite>) -> organization::Model {
        match write.map(|w| w.organization) {
            Some(OrganizationWrite::Create(model)) => *model,
            other => panic!("a creation, not {other:?}"),
        }
    }

    /// With `skip`, a later chunk is looked up after the chunks before it were committed:
    /// the look-up then finds records this import created. A row naming one of them again
    /// is still the same record twice in one file, as in a dry run.
    #[test]
    fn a_record_this_import_created_and_a_later_look_up_found_stored_is_still_named_twice() {
        let mut planner = planner();
        let model = created(planner.plan(0, row(2, "分块企业", "914201005000000155")));
        planner.learn(vec![model], Links::default());
        assert!(planner.plan(1, row(3, "分块企业", "914201005000000155")).is_none());
        let outcome = &planner.report.rows[1];
        assert_eq!(outcome.action, Action::Refused);
        assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
        assert_eq!(outcome.problems[0].reason, "the same organization as row 2; merge the two rows");
    }

    /// A stored record a later chunk's look-up found is matched like one found first.
    #[test]
    fn a_stored_record_found_by_a_later_look_up_is_matched() {
        let mut stored_by = planner();
        let stored = created(stored_by.plan(0, row(2, "存量企业", "91420100500000007A")));
        let mut planner = planner();
        planner.plan(0, row(2, "另一企业", "914201005000000155"));
        planner.learn(vec![stored.clone()], Links::default());
        planner.plan(1, row(3, "存量企业", "91420100500000007A"));
        let outcome = &planner.report.rows[1];
        assert_eq!((outcome.action, outcome.id), (Action::Unchanged, Some(stored.id)), "{outcome:?}");
    }
}
