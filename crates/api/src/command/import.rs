//! `importOrganizations`: a spreadsheet uploaded with the GraphQL multipart request
//! (`multipart/form-data`, which like every non-JSON POST needs the `X-ParkGraph-CSRF`
//! header), imported through the registry's import use-case exactly as
//! `parkgraph import` does it.

use std::io::Read;

use async_graphql::{Context, Enum, ID, SimpleObject, Upload};
use parkgraph_bulk::import::{ImportFailure, report_lines};
use parkgraph_registry::import::{Action, ImportReport, OnError, RowOutcome};

use super::service;
use crate::error::ApiError;
use crate::id::{NodeType, encode};

/// What to do with the good rows when some are refused.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum ImportOnError {
    /// Write nothing when any row is refused (all or nothing).
    #[default]
    Abort,
    /// Write the good rows; report the refused ones.
    Skip,
}

/// What the import does (or would do) with a row.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ImportAction {
    /// A new organization.
    Create,
    /// An existing organization corrected, or given new links.
    Update,
    /// Nothing to change.
    Unchanged,
    /// Not imported: see its errors.
    Refused,
}

impl From<Action> for ImportAction {
    fn from(action: Action) -> Self {
        match action {
            Action::Create => Self::Create,
            Action::Update => Self::Update,
            Action::Unchanged => Self::Unchanged,
            Action::Refused => Self::Refused,
        }
    }
}

/// A problem with a row: where (row and column as in the file), the value and why.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportRowError {
    /// The row's number as a spreadsheet shows it (the header is row 1).
    pub row: i32,
    /// The column's header as in the file (or the field's English name when the file
    /// has no such column).
    pub column: String,
    /// The value as found.
    pub value: String,
    /// Why the row is refused.
    pub reason: String,
}

/// A field a row changes: before (null for a new record or link) and after.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportFieldChange {
    /// The field (English column name: `industry`, `parks` …).
    pub field: String,
    /// The stored value.
    pub before: Option<String>,
    /// The value written.
    pub after: Option<String>,
}

/// What the import did (or would do) with one row.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportRowOutcome {
    /// The row's number.
    pub row: i32,
    /// Create, update, unchanged or refused.
    pub action: ImportAction,
    /// The organization's Chinese name.
    pub name: String,
    /// The organization's global id (of the new record for a creation; null when refused
    /// before it was matched).
    pub organization_id: Option<ID>,
    /// The fields and links it changes.
    pub changes: Vec<ImportFieldChange>,
    /// Why it is refused.
    pub errors: Vec<ImportRowError>,
}

/// The outcome of `importOrganizations`.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportOrganizationsPayload {
    /// True for a dry run: the report says what would happen; nothing was written.
    pub dry_run: bool,
    /// True when anything was written.
    pub written: bool,
    /// Rows read (the header not counted).
    pub rows: i32,
    /// New organizations.
    pub created: i32,
    /// Organizations corrected or given new links.
    pub updated: i32,
    /// Rows the registry already matches.
    pub unchanged: i32,
    /// Rows refused.
    pub refused: i32,
    /// Links added (park locations, designations, incubations).
    pub links_added: i32,
    /// Headers that are not part of the import format (their cells were not read).
    pub ignored_columns: Vec<String>,
    /// Every problem, row by row (the error report's lines).
    pub errors: Vec<ImportRowError>,
    /// Each row's outcome, in file order.
    pub outcomes: Vec<ImportRowOutcome>,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Reads the upload and runs the import as the caller.
pub async fn import(
    ctx: &Context<'_>,
    file: Upload,
    dry_run: bool,
    on_error: ImportOnError,
) -> async_graphql::Result<ImportOrganizationsPayload> {
    let (registry, actor) = service(ctx)?;
    let upload = file.value(ctx).map_err(|e| bad_input(format!("the upload cannot be read: {e}")))?;
    let name = upload.filename.clone();
    let mut bytes = Vec::new();
    upload.into_read().read_to_end(&mut bytes).map_err(|e| bad_input(format!("the upload cannot be read: {e}")))?;
    let on_error = match on_error {
        ImportOnError::Abort => OnError::Abort,
        ImportOnError::Skip => OnError::Skip,
    };
    let (file, report) =
        match parkgraph_bulk::import::run(registry, &actor, &bytes, Some(&name), dry_run, on_error, None).await {
            Ok(done) => done,
            Err(ImportFailure::Sheet(e)) => return Err(bad_input(format!("{name}: {e}"))),
            Err(ImportFailure::Format(e)) => return Err(bad_input(format!("{name}: {e}"))),
            Err(ImportFailure::Command(e)) => {
                return Err(match e {
                    parkgraph_registry::CommandError::Store(e) => ApiError::from(e).into_error(),
                    other => ApiError::Internal(format!("the import failed: {other}")).into_error(),
                });
            }
        };
    let errors = report_lines(&file, &report)
        .into_iter()
        .map(|(row, column, value, reason)| ImportRowError { row: count(row), column, value, reason })
        .collect();
    let outcomes = report.rows.iter().map(|row| outcome(&file, row)).collect();
    Ok(payload(&report, file.ignored, errors, outcomes))
}

fn payload(
    report: &ImportReport,
    ignored_columns: Vec<String>,
    errors: Vec<ImportRowError>,
    outcomes: Vec<ImportRowOutcome>,
) -> ImportOrganizationsPayload {
    ImportOrganizationsPayload {
        dry_run: report.dry_run,
        written: report.written,
        rows: count(report.rows.len()),
        created: count(report.count(Action::Create)),
        updated: count(report.count(Action::Update)),
        unchanged: count(report.count(Action::Unchanged)),
        refused: count(report.count(Action::Refused)),
        links_added: count(report.links_added),
        ignored_columns,
        errors,
        outcomes,
    }
}

fn outcome(file: &parkgraph_bulk::import::ImportFile, row: &RowOutcome) -> ImportRowOutcome {
    ImportRowOutcome {
        row: count(row.line),
        action: row.action.into(),
        name: row.name.clone(),
        organization_id: row.id.filter(|_| row.action != Action::Refused).map(|id| encode(NodeType::Organization, id)),
        changes: row
            .changes
            .iter()
            .map(|c| ImportFieldChange { field: c.field.clone(), before: c.before.clone(), after: c.after.clone() })
            .collect(),
        errors: row
            .problems
            .iter()
            .map(|p| ImportRowError {
                row: count(row.line),
                column: file.header_of(&p.field).to_string(),
                value: p.value.clone(),
                reason: p.reason.clone(),
            })
            .collect(),
    }
}

fn bad_input(message: String) -> async_graphql::Error {
    ApiError::BadUserInput(message).into_error()
}
