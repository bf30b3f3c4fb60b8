//! The binary's logs, read as an operator reads them: no colour codes when stderr is not
//! a terminal, one JSON object per line with `log_format = "json"`, and `migrate` saying
//! what it did once.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A temporary directory with a SQLite database URL in it, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("parkgraph-logging-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.join("parkgraph.db").display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// `parkgraph ARGS` in `dir` with stdout and stderr piped, no inherited log settings,
/// and `env` set.
fn parkgraph(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parkgraph"));
    command.current_dir(dir).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for name in ["RUST_LOG", "NO_COLOR", "PARKGRAPH_LOG", "PARKGRAPH_LOG_FORMAT", "DATABASE_URL"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    parkgraph(dir, args, env).output().expect("parkgraph runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_json_lines(stderr: &str) {
    for line in stderr.lines() {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("a stderr line is not JSON ({e}): {line:?}"));
        assert!(parsed["level"].is_string() && parsed["timestamp"].is_string(), "{line}");
    }
}

#[test]
fn migrate_says_once_what_it_applied_and_logs_no_colour_codes_into_a_pipe() {
    let scratch = Scratch::new();
    let url = scratch.database_url();
    let output = run(&scratch.0, &["--database-url", &url, "migrate"], &[]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}{stderr}");
    assert_eq!(stdout.lines().count(), 1, "one line says what was applied: {stdout}");
    assert!(stdout.starts_with("applied ") && stdout.contains("m20261127_000001_registry"), "{stdout}");
    assert!(!stderr.contains("Applying migration"), "the migrator does not say it again: {stderr}");

    let again = run(&scratch.0, &["--database-url", &url, "migrate"], &[]);
    assert_eq!(text(&again.stdout).trim(), "the database schema is up to date");

    // Whatever is logged into a pipe has no ANSI escape codes, even when asked for the
    // migrator's lines too.
    let verbose = run(
        &scratch.0,
        &["--database-url", &url, "migrate", "--revert", "1"],
        &[("RUST_LOG", "debug,sea_orm_migration=info")],
    );
    let stderr = text(&verbose.stderr);
    assert!(verbose.status.success(), "{stderr}");
    assert!(stderr.contains("Rolling back"), "the migrator's lines, asked for: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no escape codes in a pipe: {stderr:?}");
    assert!(text(&verbose.stdout).starts_with("reverted 1 migration(s): "), "{}", text(&verbose.stdout));
}

#[test]
fn json_logs_are_one_object_per_line_even_for_failures() {
    let scratch = Scratch::new();
    let url = scratch.database_url();
    let json = [("PARKGRAPH_LOG_FORMAT", "json"), ("RUST_LOG", "info,sea_orm_migration=info")];
    let output = run(&scratch.0, &["--database-url", &url, "migrate"], &json);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.lines().count() >= 4, "the migrator's lines, asked for: {stderr}");
    assert_json_lines(&stderr);
    assert!(!stderr.contains('\u{1b}'));

    let failed = run(&scratch.0, &["--database-url", "mysql://nowhere/db", "migrate"], &json);
    let stderr = text(&failed.stderr);
    assert!(!failed.status.success());
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    assert_json_lines(&stderr);
}

/// Reads `child`'s stdout until a line contains `needle`, for at most `limit`.
fn wait_for_line(child: &mut Child, needle: &str, limit: Duration) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + limit;
    let mut seen = String::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match receiver.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push_str(&line),
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?} within {limit:?}; stdout so far: {seen}");
}

#[test]
fn serve_logs_json_lines_from_start_to_shutdown() {
    let scratch = Scratch::new();
    let url = scratch.database_url();
    let mut child = parkgraph(
        &scratch.0,
        &["--database-url", &url, "serve", "--listen", "127.0.0.1:0", "--no-seed"],
        &[("PARKGRAPH_LOG_FORMAT", "json"), ("PARKGRAPH_METRICS_LISTEN", "127.0.0.1:0")],
    )
    .spawn()
    .expect("parkgraph serve starts");
    let line = wait_for_line(&mut child, "serving GraphQL at", Duration::from_secs(60));
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    let stopped = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(stopped.success());
    let status = child.wait().expect("parkgraph exits");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr piped").read_to_string(&mut stderr).expect("stderr");
    assert!(status.success(), "{stderr}");
    assert_json_lines(&stderr);
    for said in ["migrations applied", "listening on", "metrics are served on", "shutdown signal received", "stopped"] {
        assert!(stderr.contains(said), "{said:?} is logged: {stderr}");
    }
    assert!(!stderr.contains("Applying migration"), "{stderr}");
}
