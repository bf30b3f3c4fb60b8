//! `parkgraph import FILE`: a spreadsheet of organizations into the registry, through the
//! registry's import use-case, with a progress bar on a terminal and an error report
//! beside the input.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parkgraph_bulk::import::{ImportFailure, report_lines};
use parkgraph_bulk::out::{error_report_csv, error_report_path};
use parkgraph_persistence::sea_orm::DatabaseConnection;
use parkgraph_registry::import::{Action, ImportReport, OnError, Phase, Progress};
use parkgraph_registry::{Actor, Registry};

use crate::anyhow_free::Failure;

/// What `parkgraph import` was asked.
#[derive(Debug)]
pub struct ImportOptions {
    /// Plan only: report what would change, write nothing.
    pub dry_run: bool,
    /// All or nothing, or skip refused rows.
    pub on_error: OnError,
    /// Who the revisions and feed entries name.
    pub actor: String,
    /// Print every row's outcome (always on for a dry run).
    pub details: bool,
}

/// The importing user as an actor: `cli:<login>` (from `$USER`), or `cli` when unknown.
pub fn default_actor() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("USERNAME")) {
        Ok(user) if !user.trim().is_empty() => format!("cli:{}", user.trim()),
        _ => "cli".to_string(),
    }
}

/// Imports `path`, prints the outcome to `out`, writes the error report beside the input
/// when rows are refused. Fails (exit status 1) when the file cannot be read as an import,
/// or when `abort` refused it.
pub async fn run(
    db: DatabaseConnection,
    path: &Path,
    options: ImportOptions,
    out: &mut (impl Write + Send),
) -> Result<ImportReport, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
    let registry = Registry::new(db);
    let actor = Actor::new(options.actor.clone());
    let started = Instant::now();
    let bar = progress_bar();
    let progress: Option<Progress> = bar.clone().map(|bar| {
        Arc::new(move |phase: Phase, done: usize, total: usize| {
            bar.set_length(total as u64);
            bar.set_message(match phase {
                Phase::Plan => "checking",
                Phase::Write => "writing",
            });
            bar.set_position(done as u64);
        }) as Progress
    });
    let name = path.file_name().and_then(|n| n.to_str());
    let result =
        parkgraph_bulk::import::run(&registry, &actor, &bytes, name, options.dry_run, options.on_error, progress).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let (file, report) = result.map_err(|e| match e {
        ImportFailure::Sheet(e) => Failure(format!("{}: {e}", path.display())),
        ImportFailure::Format(e) => Failure(format!("{}: {e}", path.display())),
        ImportFailure::Command(e) => {
            Failure(format!("{}: the import failed, nothing was written: {e}", path.display()))
        }
    })?;
    let elapsed = started.elapsed().as_secs_f64();

    if !file.ignored.is_empty() {
        writeln!(out, "ignored columns (not part of the import format): {}", file.ignored.join(", "))?;
    }
    if options.dry_run || options.details {
        print_rows(&report, out)?;
    }
    let refused = report.count(Action::Refused);
    let report_path = error_report_path(path);
    if refused > 0 {
        error_report_csv(&report_path, report_lines(&file, &report).into_iter())
            .map_err(|e| Failure(format!("cannot write the error report {}: {e}", report_path.display())))?;
    } else if report_path.exists() {
        // A report from an earlier run would describe problems this file no longer has.
        std::fs::remove_file(&report_path)?;
    }
    let rate = report.rows.len() as f64 / elapsed.max(1e-9);
    let verb = if options.dry_run {
        "dry run, nothing written"
    } else if report.written || refused == 0 {
        "imported"
    } else {
        "refused, nothing written"
    };
    writeln!(out, "{verb}: {report} ({:.1} s, {rate:.0} rows/s)", elapsed)?;
    if refused > 0 {
        writeln!(out, "error report (row, column, value, reason): {}", report_path.display())?;
    }
    if !options.dry_run && options.on_error == OnError::Abort && refused > 0 {
        return Err(Failure(format!(
            "{refused} row(s) refused, so nothing was written (--on-error abort); fix them (see {}) or use \
             --on-error skip",
            report_path.display()
        )));
    }
    Ok(report)
}

/// Each row's outcome: the action, the name, and the fields it changes or its problems.
fn print_rows(report: &ImportReport, out: &mut impl Write) -> std::io::Result<()> {
    for row in &report.rows {
        let id = row.id.map(|id| id.to_string()).unwrap_or_default();
        writeln!(out, "row {:<6} {:<9} {}  {}", row.line, row.action.code(), row.name, id)?;
        for change in &row.changes {
            writeln!(
                out,
                "           {}: {} → {}",
                change.field,
                change.before.as_deref().unwrap_or("—"),
                change.after.as_deref().unwrap_or("—")
            )?;
        }
        for problem in &row.problems {
            writeln!(out, "           {} {:?}: {}", problem.field, problem.value, problem.reason)?;
        }
    }
    Ok(())
}

/// A bar on stderr when it is a terminal (rows per second and time left); none otherwise,
/// where the summary line says the same once.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len} rows, {per_sec}, {eta} left")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
