//! `parkgraph-bench`: the figures in BENCHMARKS.md.
//!
//! For each backend it seeds a fresh database with the synthetic registry (timing the
//! seed, which writes every record's revision and feed entry), starts the release
//! `parkgraph` binary on it, and runs its suites:
//!
//! - **read**: three representative queries driven by concurrent HTTP clients for a fixed
//!   time each, then the per-request cost of a token;
//! - **write**: mutations by concurrent writers with an editor's token (creations, and
//!   updates of a small set of shared organizations that retry on `CONFLICT`), then the
//!   change feed's read rate, paging `changes(after:, first: 100)` over HTTP and through
//!   `parkgraph changes` (NDJSON);
//! - **peer** (see [`peer`]): the read queries against PostGraphile on the same PostgreSQL
//!   database, checked for the same rows, side by side with CPU per request and memory;
//! - **load** (see [`load`]): 256 clients for 60 s sending a mix of the read queries;
//! - **search** (see [`search`]): the search index's build rate and memory, then a fixed
//!   mix of Chinese, pinyin, English, type-ahead and faceted queries over HTTP against the
//!   same questions as naive SQL on the same database.
//!
//! It prints requests (or changes) per second, p50 and p99 latency, and the server's peak
//! resident memory. It is a program that reports numbers, not a test: nothing here
//! passes or fails on speed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};

mod load;
mod peer;
mod procs;
mod search;

use procs::{CpuWindow, Procs};

#[derive(Parser)]
#[command(about = "Benchmark ParkGraph's HTTP server on SQLite and PostgreSQL")]
struct Args {
    /// Synthetic enterprises to load (default: 1,000,000 when the only suite is search,
    /// else 100,000).
    #[arg(long = "enterprises")]
    enterprises_arg: Option<usize>,
    /// The enterprises loaded (resolved from `--enterprises`).
    #[arg(skip)]
    enterprises: usize,
    /// Seconds of measurement per query.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Backends to measure: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// PostgreSQL server URL; the database `--pg-database` is (re)created there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
    /// The PostgreSQL database the benchmark (re)creates and drops (one per concurrent run).
    #[arg(long, default_value = "parkgraph_bench")]
    pg_database: String,
    /// Keep the PostgreSQL database at the end (the SQLite file is always kept).
    #[arg(long)]
    keep_database: bool,
    /// Measure the database an earlier run kept instead of seeding a new one (the search
    /// suite does not change it); implies `--keep-database`.
    #[arg(long)]
    reuse_database: bool,
    /// The parkgraph binary (default: the one beside this program, that is, built in the
    /// same target directory).
    #[arg(long = "binary")]
    binary_arg: Option<PathBuf>,
    /// The parkgraph binary run (resolved from `--binary`).
    #[arg(skip)]
    binary: PathBuf,
    /// Port for the server under test.
    #[arg(long, default_value_t = 18080)]
    port: u16,
    /// Suites to run: read (queries and token overhead), peer (the read queries against
    /// PostGraphile on the same PostgreSQL database), load (many clients, a mix of the
    /// read queries), write (mutations and the change feed), bulk (import, export and
    /// snapshot rates), snapshot (the server's memory while it streams a snapshot of every
    /// organization), search (index build, search and type-ahead latency against naive SQL).
    #[arg(long, value_delimiter = ',', default_value = "read,peer,write,bulk,search")]
    suites: Vec<String>,
    /// An existing PostGraphile install for the peer suite (a directory with
    /// `node_modules/postgraphile`); without it the suite installs one with npm into a
    /// temporary directory.
    #[arg(long)]
    peer_dir: Option<PathBuf>,
    /// Port for PostGraphile in the peer suite.
    #[arg(long, default_value_t = 18082)]
    peer_port: u16,
    /// Concurrent clients of the load suite.
    #[arg(long, default_value_t = 256)]
    load_clients: usize,
    /// Seconds of the load suite, per backend.
    #[arg(long, default_value_t = 60)]
    load_seconds: u64,
    /// Times the search suite sends each of its queries.
    #[arg(long, default_value_t = 200)]
    search_runs: usize,
    /// Times the search suite runs each query's naive SQL.
    #[arg(long, default_value_t = 3)]
    sql_runs: usize,
    /// Rows of the bulk suite's import file.
    #[arg(long, default_value_t = 100_000)]
    import_rows: usize,
    /// Organizations the update benchmark's writers share (fewer: more conflicts).
    #[arg(long, default_value_t = 64)]
    hot_organizations: usize,
}

pub(crate) const PARK_PAGE: &str = "query ParkPage($id: ID!) { park(id: $id) { nameZh kind parent { nameZh } \
    enterprises(first: 50) { totalCount edges { role since node { nameZh industry \
    designations { kind year valuationUsd } } } } } }";

pub(crate) const ENTERPRISE_LIST: &str = "query EnterpriseList { enterprises(filter: { industry: \"optoelectronics\", \
    foundedFrom: \"2005-01-01\" }, orderBy: { field: DATE, direction: DESC }, first: 50) { totalCount \
    nodes { nameZh foundedOn industry parks { edges { role node { nameZh } } } } } }";

const VIEWER: &str = "query Viewer { viewer { role } }";

pub(crate) const CENTER_MEMBERS: &str = "query CenterMembers($id: ID!) { innovationCenter(id: $id) { nameZh kind \
    members(first: 20) { edges { role node { nameZh incubations { edges { status enteredOn graduatedOn \
    node { nameZh level } } } } } } } }";

pub(crate) struct Server {
    child: Child,
    /// The peak RSS before the last reset (see [`Server::reset_peak`]).
    earlier_peak_kib: u64,
}

impl Server {
    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resets the server's peak RSS so that a run can report its own, remembering the
    /// peak so far for [`Server::overall_peak_kib`]; false when the kernel refuses.
    pub(crate) fn reset_peak(&mut self) -> bool {
        self.earlier_peak_kib = self.earlier_peak_kib.max(peak_rss_kib(self.pid()).unwrap_or(0));
        Procs::One(self.pid()).reset_peak()
    }

    /// Ends the server now (before a failure ends the benchmark).
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The peak RSS over the server's whole life.
    fn overall_peak_kib(&self) -> Option<u64> {
        peak_rss_kib(self.pid()).map(|kib| kib.max(self.earlier_peak_kib))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("parkgraph-bench: {message}");
    std::process::exit(1)
}

fn run(command: &mut Command) {
    match command.status() {
        Ok(status) if status.success() => {}
        Ok(status) => fail(format!("{command:?} exited with {status}")),
        Err(err) => fail(format!("{command:?}: {err}")),
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// An error and its causes, `outer: inner: …` (a transport error's own message names only
/// the URL, its cause says what happened: a reset, a refusal, a closed connection).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    message
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    query: &str,
    variables: &Value,
    token: Option<&str>,
) -> Result<Value, String> {
    let mut request = client.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| with_causes(&e))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| format!("{status}: {}", with_causes(&e)))?;
    if !status.is_success() {
        return Err(format!("{status}: {}", body.to_string().chars().take(300).collect::<String>()));
    }
    if body.get("errors").is_some() {
        return Err(body["errors"].to_string());
    }
    Ok(body)
}

struct Figures {
    requests: usize,
    errors: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// One request of a run: a document and its variables.
pub(crate) type Request = (&'static str, Value);

/// What a run measured: its figures, every distinct error with how often it occurred,
/// and the CPU ms each watched set of processes spent over the measured window.
pub(crate) struct Run {
    pub(crate) figures: Figures,
    pub(crate) errors: BTreeMap<String, usize>,
    pub(crate) cpu_ms: Vec<f64>,
    /// The CPU ms of every process outside the watched sets, by name.
    pub(crate) others: Vec<(String, f64)>,
}

/// The sets of processes a run against `server` watches, in the order
/// [`Run::cpu_per_request`] reads them: the server, PostgreSQL, this load generator, and
/// the whole machine.
pub(crate) fn watch(server: Procs) -> [Procs; 4] {
    [server, Procs::Named("postgres"), Procs::One(std::process::id()), Procs::Machine]
}

/// CPU ms per request of a run watching [`watch`]'s sets.
pub(crate) struct CpuPerRequest {
    pub(crate) server: f64,
    /// PostgreSQL's (when it is the backend).
    pub(crate) postgres: Option<f64>,
    /// The load generator's (this process).
    pub(crate) client: f64,
    /// Every other process's: what a busy machine adds (0 when the machine was quiet).
    pub(crate) rest: f64,
}

impl Run {
    /// The run's CPU per request, PostgreSQL's counted apart when `postgres` is the
    /// backend (else it is part of the rest); `None` without requests or watched sets.
    pub(crate) fn cpu_per_request(&self, postgres: bool) -> Option<CpuPerRequest> {
        let n = self.figures.requests as f64;
        let [server, pg, client, machine] = self.cpu_ms.as_slice() else {
            return None;
        };
        if n == 0.0 {
            return None;
        }
        let pg_own = if postgres { *pg } else { 0.0 };
        Some(CpuPerRequest {
            server: server / n,
            postgres: postgres.then_some(pg / n),
            client: client / n,
            rest: (machine - server - pg_own - client).max(0.0) / n,
        })
    }
}

/// Drives `url` with `concurrency` clients for `seconds` after a one-second warm-up: client
/// `w` sends `requests[w]`, `requests[w + 1]` … in turn, each waiting for its answer
/// before the next. A transport error, a status other than 200 or an answer with
/// `errors` counts as an error.
pub(crate) async fn drive_requests(
    url: &str,
    requests: Arc<Vec<Request>>,
    token: Option<Arc<String>>,
    concurrency: usize,
    seconds: u64,
    watch: &[Procs],
) -> Run {
    if requests.is_empty() {
        fail("a run without requests");
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap_or_else(|e| fail(e));
    // Warm up: one second, not counted.
    let warm_until = Instant::now() + Duration::from_secs(1);
    let mut i = 0;
    while Instant::now() < warm_until {
        let (query, variables) = &requests[i % requests.len()];
        i += 1;
        if let Err(e) = post(&client, url, query, variables, token.as_deref().map(String::as_str)).await {
            fail(format!("warm-up request to {url} failed: {e}"));
        }
    }
    let cpu = CpuWindow::start(watch);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (client, url, requests, token) = (client.clone(), url.to_string(), requests.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors: BTreeMap<String, usize> = BTreeMap::new();
            let mut i = worker;
            while Instant::now() < until {
                let (query, variables) = &requests[i % requests.len()];
                i += 1;
                let t = Instant::now();
                match post(&client, &url, query, variables, token.as_deref().map(String::as_str)).await {
                    Ok(_) => latencies.push(t.elapsed()),
                    Err(e) => *errors.entry(e).or_default() += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        let (l, e) = task.await.unwrap_or_else(|e| fail(e));
        latencies.extend(l);
        for (message, n) in e {
            *errors.entry(message).or_default() += n;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let spent = cpu.stop();
    let figures = summarize(latencies, errors.values().sum(), elapsed);
    Run { figures, errors, cpu_ms: spent.sets, others: spent.others }
}

/// One query with rotating variables, `args.concurrency` clients for `args.seconds`.
async fn drive(
    args: &Args,
    url: &str,
    query: &'static str,
    variables: Arc<Vec<Value>>,
    token: Option<Arc<String>>,
) -> Figures {
    let requests = Arc::new(variables.iter().map(|v| (query, v.clone())).collect());
    drive_requests(url, requests, token, args.concurrency, args.seconds, &[]).await.figures
}

/// Whether `listen` (`host:port`) is free, and if not why: a server that cannot listen
/// would leave the benchmark measuring whatever answers there (another benchmark's server).
pub(crate) fn port_free(listen: &str, flag: &str) -> Result<(), String> {
    std::net::TcpListener::bind(listen)
        .map(drop)
        .map_err(|e| format!("{listen} is not free ({e}): another benchmark may be running; choose a port with {flag}"))
}

/// Starts `parkgraph serve` on `listen` (`host:port`) over `database_url`, with a pool of
/// 16 connections and the extra environment given, and waits until it is ready.
pub(crate) async fn start_server(
    args: &Args,
    config: &str,
    database_url: &str,
    listen: &str,
    env: &[(&str, &str)],
) -> Server {
    port_free(listen, "--port").unwrap_or_else(|e| fail(e));
    let child = Command::new(&args.binary)
        .args(["--config", config, "--database-url", database_url, "serve", "--listen", listen, "--no-seed"])
        .env("PARKGRAPH_LOG", "warn")
        .env("PARKGRAPH_MAX_CONNECTIONS", "16")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(format!("starting {}: {e}", args.binary.display())));
    let mut server = Server { child, earlier_peak_kib: 0 };
    wait_ready(&format!("http://{listen}"), &mut server).await;
    server
}

async fn wait_ready(base: &str, server: &mut Server) {
    let client = reqwest::Client::new();
    // Long enough for a server to open (and check) a large search index.
    for _ in 0..3000 {
        if let Ok(Some(status)) = server.child.try_wait() {
            fail(format!("the server exited early with {status}"));
        }
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fail("the server did not become ready in 300 s");
}

async fn bench_backend(args: &Args, backend: &str) {
    let database_url = match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join("parkgraph-bench");
            if !args.reuse_database {
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(e));
            }
            format!("sqlite://{}?mode=rwc", dir.join("bench.db").display())
        }
        "postgres" => {
            if !args.reuse_database {
                run(Command::new("psql").args([
                    &args.pg_url,
                    "-q",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS \"{}\"", args.pg_database),
                ]));
                run(Command::new("psql").args([
                    &args.pg_url,
                    "-q",
                    "-c",
                    &format!("CREATE DATABASE \"{}\"", args.pg_database),
                ]));
            }
            let base = args.pg_url.rsplit_once('/').map_or(args.pg_url.as_str(), |(b, _)| b);
            format!("{base}/{}", args.pg_database)
        }
        other => fail(format!("unknown backend {other:?}")),
    };
    // Limits high enough that the load generator measures the server, not the throttle,
    // and a key so the token runs can authenticate.
    let config_path = std::env::temp_dir().join(format!("parkgraph-bench-{backend}.toml"));
    std::fs::write(
        &config_path,
        "[limits]\ntoken_bucket = 1000000000\ntoken_restore_per_second = 1000000000\n\
         anonymous_bucket = 1000000000\nanonymous_restore_per_second = 1000000000\n\
         export_rows_per_minute = 1000000000\nexport_burst_rows = 1000000000\n\n\
         [[auth.keys]]\nkid = \"bench\"\nalgorithm = \"HS256\"\nsecret = \"bench-secret-bench-secret-bench-secret!\"\n",
    )
    .unwrap_or_else(|e| fail(e));
    let config_arg = config_path.display().to_string();
    let seeded = Instant::now();
    let mut seed = Command::new(&args.binary);
    seed.args([
        "--config",
        &config_arg,
        "--database-url",
        &database_url,
        "seed",
        "--synthetic",
        &args.enterprises.to_string(),
    ])
    .env("PARKGRAPH_LOG", "warn")
    .stdout(Stdio::null());
    if !args.reuse_database {
        run(&mut seed);
    }
    let seed_seconds = seeded.elapsed().as_secs_f64();

    let listen = format!("127.0.0.1:{}", args.port);
    let token = issue_token(args, &config_arg, &database_url, &["--role", "partner", "--partner", "bench"]);
    let editor_token =
        issue_token(args, &config_arg, &database_url, &["--role", "editor", "--subject", "editor:bench"]);
    let snapshot_token =
        issue_token(args, &config_arg, &database_url, &["--role", "partner", "--partner", "bench-snapshot"]);
    let seeded = if args.reuse_database {
        "the database of an earlier run".to_string()
    } else {
        format!("seeded in {seed_seconds:.1} s")
    };
    println!("\n### {backend} — {} synthetic enterprises ({seeded})", args.enterprises);
    if args.suites.iter().any(|s| s == "search") {
        search::search_suite(args, backend, &config_arg, &database_url, &token).await;
    }
    if args.suites.iter().all(|s| s == "search") {
        if backend == "postgres" {
            drop_pg_database(args);
        }
        return;
    }
    // The search index (built at start, then following the feed) is measured on its own;
    // here it would add its build to the start and its follower to every write.
    // The response cache is off too: the read, load, write and bulk figures measure the
    // work of answering; the peer suite measures the cache with a second server.
    let mut server = start_server(
        args,
        &config_arg,
        &database_url,
        &listen,
        &[("PARKGRAPH_SEARCH__ENABLED", "false"), ("PARKGRAPH_CACHE__ENABLED", "false")],
    )
    .await;
    let base = format!("http://{listen}");
    let url = format!("{base}/graphql");

    if args.suites.iter().any(|s| s == "read") {
        read_suite(args, &url, token.clone()).await;
    }
    if args.suites.iter().any(|s| s == "peer") {
        if backend == "postgres" {
            peer::peer_suite(args, &url, &config_arg, &database_url, &mut server).await;
        } else {
            println!("\nThe peer suite (PostGraphile) runs on PostgreSQL only.");
        }
    }
    if args.suites.iter().any(|s| s == "load") {
        load::load_suite(args, backend, &url, &mut server).await;
    }
    if args.suites.iter().any(|s| s == "write") {
        write_suite(args, &url, &editor_token, &config_arg, &database_url).await;
    }
    if args.suites.iter().any(|s| s == "bulk") {
        bulk_suite(args, &base, &snapshot_token, &config_arg, &database_url).await;
    }
    if args.suites.iter().any(|s| s == "snapshot") {
        snapshot_memory(&base, &snapshot_token, &mut server).await;
    }
    match server.overall_peak_kib() {
        Some(kib) => println!("\nServer peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("\nServer peak RSS: not available"),
    }
    if backend == "postgres" {
        drop(server);
        drop_pg_database(args);
    }
}

fn drop_pg_database(args: &Args) {
    if args.keep_database || args.reuse_database {
        return;
    }
    run(Command::new("psql").args([
        &args.pg_url,
        "-q",
        "-c",
        &format!("DROP DATABASE IF EXISTS \"{}\"", args.pg_database),
    ]));
}

/// Issues a token with `parkgraph token issue` and the given arguments.
fn issue_token(args: &Args, config: &str, database_url: &str, role: &[&str]) -> String {
    let issued = Command::new(&args.binary)
        .args(["--config", config, "--database-url", database_url, "token", "issue"])
        .args(role)
        .env("PARKGRAPH_LOG", "warn")
        .stderr(Stdio::null())
        .output()
        .unwrap_or_else(|e| fail(e));
    let token = String::from_utf8_lossy(&issued.stdout).trim().to_string();
    if !issued.status.success() || token.split('.').count() != 3 {
        fail(format!("could not issue a benchmark token ({role:?})"));
    }
    token
}

fn print_row(name: &str, f: &Figures) {
    println!(
        "| {name} | {} | {} | {:.0} | {:.2} | {:.2} |",
        f.requests,
        f.errors,
        f.per_second,
        f.p50.as_secs_f64() * 1000.0,
        f.p99.as_secs_f64() * 1000.0
    );
}

/// The variables the park page and the innovation center rotate over: `{ "id": … }` of
/// the first 100 parks (not zones) and of the first 100 innovation centers.
pub(crate) async fn read_variables(url: &str) -> (Arc<Vec<Value>>, Arc<Vec<Value>>) {
    let client = reqwest::Client::new();
    let parks =
        post(&client, url, "{ parks(filter: { topLevel: false }, first: 100) { nodes { id } } }", &json!({}), None)
            .await
            .unwrap_or_else(|e| fail(e));
    let centers = post(&client, url, "{ innovationCenters(first: 100) { nodes { id } } }", &json!({}), None)
        .await
        .unwrap_or_else(|e| fail(e));
    let ids = |v: &Value, list: &str| -> Arc<Vec<Value>> {
        Arc::new(v["data"][list]["nodes"].as_array().into_iter().flatten().map(|n| json!({ "id": n["id"] })).collect())
    };
    let park_ids = ids(&parks, "parks");
    let center_ids = ids(&centers, "innovationCenters");
    if park_ids.is_empty() || center_ids.is_empty() {
        fail("the synthetic data has no parks or centers");
    }
    (park_ids, center_ids)
}

async fn read_suite(args: &Args, url: &str, token: String) {
    let (park_ids, center_ids) = read_variables(url).await;

    println!("\n| query | requests | errors | req/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, query, variables) in [
        ("park page: a park, its 50 first enterprises and their designations", PARK_PAGE, park_ids.clone()),
        (
            "filtered enterprise list (industry, founded since 2005, by date) with parks",
            ENTERPRISE_LIST,
            Arc::new(vec![json!({})]),
        ),
        ("innovation center: 20 members and their incubations", CENTER_MEMBERS, center_ids),
    ] {
        let f = drive(args, url, query, variables, None).await;
        print_row(name, &f);
    }
    println!(
        "\nPer-request overhead of authentication and cost analysis (the same query, anonymous and with a partner token):\n"
    );
    println!("| query | caller | req/s | p50 ms | p99 ms |");
    println!("|---|---|---:|---:|---:|");
    let token = Arc::new(token);
    for (name, query, variables) in
        [("minimal: `{ viewer { role } }`", VIEWER, Arc::new(vec![json!({})])), ("park page", PARK_PAGE, park_ids)]
    {
        for (caller, token) in [("anonymous", None), ("partner token", Some(token.clone()))] {
            let f = drive(args, url, query, variables.clone(), token).await;
            println!(
                "| {name} | {caller} | {:.0} | {:.2} | {:.2} |",
                f.per_second,
                f.p50.as_secs_f64() * 1000.0,
                f.p99.as_secs_f64() * 1000.0
            );
        }
    }
}

const CREATE_ORGANIZATION: &str = "mutation Create($input: CreateOrganizationInput!) { \
    createOrganization(input: $input) { organization { id version } userErrors { field message code } } }";

const UPDATE_ORGANIZATION: &str = "mutation Update($input: UpdateOrganizationInput!) { \
    updateOrganization(input: $input) { organization { version } userErrors { field message code } } }";

const ORGANIZATION_VERSION: &str = "query Version($id: ID!) { node(id: $id) { ... on Organization { version } } }";

const FEED_PAGE: &str = "query Feed($after: String) { changes(after: $after, first: 100) { \
    edges { node { seq entityType entityId version operation at after } } pageInfo { hasNextPage endCursor } } }";

/// One mutation as a writer sees it: the time until it took effect, and how many times
/// it had to re-read a version and retry.
enum Outcome {
    Done { latency: Duration, retries: usize },
    Failed,
}

/// The `code`s of a payload's `userErrors`.
fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["code"].as_str().map(String::from))
        .collect()
}

async fn create_one(client: &reqwest::Client, url: &str, token: &str, n: usize) -> Outcome {
    let input = json!({ "input": {
        "kind": "ENTERPRISE",
        "nameZh": format!("基准企业{n:07}"),
        "nameEn": format!("Benchmark Enterprise {n:07}"),
        "status": "ACTIVE",
        "industry": "software",
        "headcount": 10 + n % 1000,
    } });
    let started = Instant::now();
    match post(client, url, CREATE_ORGANIZATION, &input, Some(token)).await {
        Ok(body) if user_error_codes(&body["data"]["createOrganization"]).is_empty() => {
            Outcome::Done { latency: started.elapsed(), retries: 0 }
        }
        _ => Outcome::Failed,
    }
}

/// Updates one organization's headcount from the version the writer last saw; on
/// `CONFLICT` it re-reads the version and tries again (up to 100 times).
async fn update_one(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    id: &Value,
    versions: &mut i64,
    n: usize,
) -> Outcome {
    let started = Instant::now();
    for retries in 0..100 {
        let input = json!({ "input": { "id": id, "version": *versions, "headcount": 10 + n % 1000 } });
        let Ok(body) = post(client, url, UPDATE_ORGANIZATION, &input, Some(token)).await else {
            return Outcome::Failed;
        };
        let payload = &body["data"]["updateOrganization"];
        let codes = user_error_codes(payload);
        if codes.is_empty() {
            *versions = payload["organization"]["version"].as_i64().unwrap_or(*versions + 1);
            return Outcome::Done { latency: started.elapsed(), retries };
        }
        if codes.iter().any(|c| c != "CONFLICT") {
            return Outcome::Failed;
        }
        match post(client, url, ORGANIZATION_VERSION, &json!({ "id": id }), Some(token)).await {
            Ok(body) => *versions = body["data"]["node"]["version"].as_i64().unwrap_or(*versions),
            Err(_) => return Outcome::Failed,
        }
    }
    Outcome::Failed
}

/// Figures of a write run, with the retries its updates needed.
struct WriteFigures {
    figures: Figures,
    retries: usize,
}

/// `args.concurrency` writers for `args.seconds`: creations when `hot` is empty, else
/// updates of the `hot` organizations (writer `w` starts at organization `w` and moves on
/// by one each time, so writers collide on the same organizations).
async fn drive_writes(args: &Args, url: &str, token: &str, hot: Arc<Vec<Value>>) -> WriteFigures {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().unwrap_or_else(|e| fail(e));
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for writer in 0..args.concurrency {
        let (client, url, token, hot) = (client.clone(), url.to_string(), token.to_string(), hot.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors, mut retries) = (Vec::new(), 0usize, 0usize);
            let mut versions = vec![1i64; hot.len()];
            let mut i = writer;
            while Instant::now() < until {
                let n = writer * 1_000_000 + i;
                let outcome = if hot.is_empty() {
                    create_one(&client, &url, &token, n).await
                } else {
                    let k = i % hot.len();
                    update_one(&client, &url, &token, &hot[k], &mut versions[k], n).await
                };
                i += 1;
                match outcome {
                    Outcome::Done { latency, retries: r } => {
                        latencies.push(latency);
                        retries += r;
                    }
                    Outcome::Failed => errors += 1,
                }
            }
            (latencies, errors, retries)
        }));
    }
    let (mut latencies, mut errors, mut retries) = (Vec::new(), 0, 0);
    for task in tasks {
        let (l, e, r) = task.await.unwrap_or_else(|e| fail(e));
        latencies.extend(l);
        errors += e;
        retries += r;
    }
    let elapsed = started.elapsed().as_secs_f64();
    WriteFigures { figures: summarize(latencies, errors, elapsed), retries }
}

fn summarize(mut latencies: Vec<Duration>, errors: usize, elapsed: f64) -> Figures {
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        requests: latencies.len(),
        errors,
        per_second: latencies.len() as f64 / elapsed,
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

/// Pages the feed from the start over HTTP for `args.seconds` (or to its end) with one
/// client; returns (changes read, changes per second, p99 page latency).
async fn read_feed_over_http(args: &Args, url: &str, token: &str) -> (usize, f64, Duration) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let (mut read, mut after, mut pages) = (0usize, Value::Null, Vec::new());
    while Instant::now() < until {
        let t = Instant::now();
        let body = post(&client, url, FEED_PAGE, &json!({ "after": after }), Some(token))
            .await
            .unwrap_or_else(|e| fail(format!("reading the feed: {e}")));
        pages.push(t.elapsed());
        let page = &body["data"]["changes"];
        read += page["edges"].as_array().map_or(0, Vec::len);
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let p99 = summarize(pages, 0, elapsed).p99;
    (read, read as f64 / elapsed, p99)
}

async fn write_suite(args: &Args, url: &str, token: &str, config: &str, database_url: &str) {
    let client = reqwest::Client::new();
    let hot = post(
        &client,
        url,
        "query Hot($first: Int) { organizations(first: $first) { nodes { id } } }",
        &json!({ "first": args.hot_organizations.clamp(1, 100) }),
        Some(token),
    )
    .await
    .unwrap_or_else(|e| fail(e));
    let hot: Arc<Vec<Value>> = Arc::new(
        hot["data"]["organizations"]["nodes"].as_array().into_iter().flatten().map(|n| n["id"].clone()).collect(),
    );
    if hot.is_empty() {
        fail("the synthetic data has no organizations");
    }

    println!(
        "\nMutations with an editor's token ({} writers; an update that meets `CONFLICT` re-reads the version and retries, and its latency includes the retries):\n",
        args.concurrency
    );
    println!("| mutation | done | errors | retries | per s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, targets) in [
        ("createOrganization".to_string(), Arc::new(Vec::new())),
        (format!("updateOrganization on {} shared organizations", hot.len()), hot.clone()),
    ] {
        let w = drive_writes(args, url, token, targets).await;
        let f = &w.figures;
        println!(
            "| {name} | {} | {} | {} | {:.0} | {:.2} | {:.2} |",
            f.requests,
            f.errors,
            w.retries,
            f.per_second,
            f.p50.as_secs_f64() * 1000.0,
            f.p99.as_secs_f64() * 1000.0
        );
    }

    println!("\nReading the change feed from the start, 100 entries a page, one reader:\n");
    println!("| reader | changes read | changes/s | p99 page ms |");
    println!("|---|---:|---:|---:|");
    let (read, per_second, p99) = read_feed_over_http(args, url, token).await;
    println!(
        "| HTTP `changes(after:, first: 100)`, editor token | {read} | {per_second:.0} | {:.2} |",
        p99.as_secs_f64() * 1000.0
    );
    let limit = ((per_second * args.seconds as f64) as u64).max(1000);
    let started = Instant::now();
    let output = Command::new(&args.binary)
        .args(["--config", config, "--database-url", database_url, "changes", "--limit", &limit.to_string()])
        .env("PARKGRAPH_LOG", "warn")
        .stderr(Stdio::null())
        .output()
        .unwrap_or_else(|e| fail(e));
    let elapsed = started.elapsed().as_secs_f64();
    if !output.status.success() {
        fail("parkgraph changes failed");
    }
    let lines = output.stdout.iter().filter(|&&b| b == b'\n').count();
    println!(
        "| CLI `parkgraph changes --limit {limit}` (NDJSON, process start included) | {lines} | {:.0} | — |",
        lines as f64 / elapsed
    );
}

#[tokio::main]
async fn main() {
    let mut args = Args::parse();
    args.enterprises = args.enterprises_arg.unwrap_or(if args.suites == ["search"] { 1_000_000 } else { 100_000 });
    args.binary = match args.binary_arg.clone() {
        Some(binary) => binary,
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("parkgraph")))
            .unwrap_or_else(|| PathBuf::from("target/release/parkgraph")),
    };
    if !args.binary.exists() {
        fail(format!(
            "{} not found: build it in the same target directory (`cargo build --release -p parkgraph -p parkgraph-bench`)",
            args.binary.display()
        ));
    }
    // Checked before any server starts: a failure later exits without stopping them.
    if let Some(dir) = args.peer_dir.as_deref().filter(|_| args.suites.iter().any(|s| s == "peer")) {
        peer::check_peer_dir(dir).unwrap_or_else(|e| fail(e));
    }
    println!(
        "ParkGraph benchmark: {} concurrent clients, {} s per query, {} cores",
        args.concurrency,
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for backend in &args.backends {
        bench_backend(&args, backend).await;
    }
}

/// Runs a command to completion, sampling its resident memory; returns its wall time in
/// seconds, its peak RSS in MiB (when readable) and its standard output.
fn timed(command: &mut Command) -> (f64, Option<f64>, Vec<u8>) {
    let out_path = std::env::temp_dir().join(format!("parkgraph-bench-out-{}", std::process::id()));
    let out = std::fs::File::create(&out_path).unwrap_or_else(|e| fail(e));
    let started = Instant::now();
    let mut child =
        command.env("PARKGRAPH_LOG", "warn").stdout(out).stderr(Stdio::null()).spawn().unwrap_or_else(|e| fail(e));
    let mut peak: Option<u64> = None;
    let status = loop {
        if let Some(kib) = peak_rss_kib(child.id()) {
            peak = Some(peak.map_or(kib, |p| p.max(kib)));
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => fail(e),
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let stdout = std::fs::read(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    if !status.success() {
        fail(format!("{command:?} exited with {status}: {}", String::from_utf8_lossy(&stdout)));
    }
    (elapsed, peak.map(|kib| kib as f64 / 1024.0), stdout)
}

fn mib(peak: Option<f64>) -> String {
    peak.map_or("—".into(), |m| format!("{m:.0}"))
}

/// The spreadsheet of the import benchmark: `rows` new enterprises with Chinese headers,
/// each in one of the registry's parks, every tenth with a designation.
fn import_file(rows: usize, parks: &[String]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("parkgraph-bench-import-{rows}.csv"));
    let mut csv = String::from("\u{feff}企业名称,统一社会信用代码,成立日期,所在园区,行业,员工人数,资质认定,城市\r\n");
    for i in 0..rows {
        let code = parkgraph_domain::Uscc::complete(&format!("91420100{:08}0", 50_000_000 + i))
            .unwrap_or_else(|e| fail(format!("a benchmark USCC: {e}")));
        let designation = if i % 10 == 0 { "高新技术企业 2021" } else { "" };
        csv.push_str(&format!(
            "导入企业{i:07},{},{}-{:02}-{:02},{},{},{},{designation},武汉\r\n",
            code.as_str(),
            2000 + i % 24,
            1 + i % 12,
            1 + i % 28,
            parks[i % parks.len()],
            ["光电子", "生物医药", "软件和信息服务", "智能制造"][i % 4],
            10 + i % 490,
        ));
    }
    std::fs::write(&path, csv).unwrap_or_else(|e| fail(e));
    path
}

/// Import, export and snapshot rates.
async fn bulk_suite(args: &Args, base: &str, partner_token: &str, config: &str, database_url: &str) {
    let cli = |extra: &[&str]| {
        let mut command = Command::new(&args.binary);
        command.args(["--config", config, "--database-url", database_url]).args(extra);
        command
    };
    let (_, _, parks) = timed(&mut cli(&["export", "parks", "--format", "ndjson"]));
    let parks: Vec<String> = String::from_utf8_lossy(&parks)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["name"].as_str().map(str::to_string))
        .filter(|name| name.starts_with("合成产业园"))
        .collect();
    if parks.is_empty() {
        fail("the synthetic registry has no parks to import into");
    }
    let rows = args.import_rows;
    let file = import_file(rows, &parks);
    let file_arg = file.display().to_string();

    println!(
        "\nBulk import of {rows} new enterprises (CSV, Chinese headers; each row an organization, its park location, every tenth a designation; revisions and feed entries included; `parkgraph import`, process start included):\n"
    );
    println!("| run | rows | seconds | rows/s | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|");
    for (name, extra) in [
        ("dry run (plan, nothing written)", &["--dry-run"][..]),
        ("import (all or nothing, one transaction)", &[][..]),
        ("the same file again (all unchanged, no-op)", &[][..]),
    ] {
        let mut command = cli(&["import", &file_arg]);
        command.args(extra);
        let (seconds, peak, _) = timed(&mut command);
        println!("| {name} | {rows} | {seconds:.1} | {:.0} | {} |", rows as f64 / seconds, mib(peak));
    }
    let _ = std::fs::remove_file(&file);

    // The 10,000 imported firms 导入企业0000000 … 导入企业0009999, found with the list's own filter.
    let filter = r#"{"nameContains": "导入企业000"}"#;
    println!(
        "\nExport of 10,000 organizations (`parkgraph export organizations --filter '{filter}'`: ids by keyset, records through `nodes(ids:)` 100 at a time):\n"
    );
    println!("| format | rows | seconds | rows/s | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|");
    for format in ["csv", "xlsx", "ndjson"] {
        let out = std::env::temp_dir().join(format!("parkgraph-bench-export.{format}"));
        let out_arg = out.display().to_string();
        let (seconds, peak, _) =
            timed(&mut cli(&["export", "organizations", "--format", format, "--filter", filter, "--output", &out_arg]));
        let rows = match format {
            "xlsx" => None,
            _ => std::fs::read(&out)
                .ok()
                .map(|b| b.iter().filter(|&&c| c == b'\n').count() - usize::from(format == "csv")),
        };
        let _ = std::fs::remove_file(&out);
        match rows {
            Some(rows) => {
                println!("| {format} | {rows} | {seconds:.1} | {:.0} | {} |", rows as f64 / seconds, mib(peak))
            }
            None => println!("| {format} | — | {seconds:.1} | — | {} |", mib(peak)),
        }
    }
    snapshot_rate(base, partner_token).await;
}

/// Streams `/bulk/organizations.ndjson` once with a partner token and reports its rate.
async fn snapshot_rate(base: &str, partner_token: &str) -> usize {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut response = client
        .get(format!("{base}/bulk/organizations.ndjson"))
        .bearer_auth(partner_token)
        .send()
        .await
        .unwrap_or_else(|e| fail(format!("the snapshot: {e}")));
    if !response.status().is_success() {
        fail(format!("the snapshot answered {}", response.status()));
    }
    let (mut lines, mut bytes) = (0usize, 0usize);
    while let Some(chunk) = response.chunk().await.unwrap_or_else(|e| fail(format!("the snapshot stream: {e}"))) {
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
        bytes += chunk.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    let lines = lines.saturating_sub(1); // the `@snapshot` trailer
    println!("\nPartner snapshot `GET /bulk/organizations.ndjson` (partner token, uncompressed):\n");
    println!("| lines | MiB | seconds | rows/s |");
    println!("|---:|---:|---:|---:|");
    println!("| {lines} | {:.1} | {seconds:.1} | {:.0} |", bytes as f64 / 1048576.0, lines as f64 / seconds);
    lines
}

/// The server's resident memory while it streams a snapshot of every organization to a
/// slow-ish reader: sampled every 100 ms; the figure is the peak over the stream against
/// the memory before it.
async fn snapshot_memory(base: &str, partner_token: &str, server: &mut Server) {
    let pid = server.child.id();
    let current = move || -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
    };
    let before = current().unwrap_or(0);
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kib) = current() {
                    samples.push(kib);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            samples
        })
    };
    let lines = snapshot_rate(base, partner_token).await;
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let samples = sampler.await.unwrap_or_default();
    let peak = samples.iter().copied().max().unwrap_or(0);
    let quartiles: Vec<String> = (1..=4)
        .filter_map(|q| samples.get((samples.len() * q / 4).saturating_sub(1)))
        .map(|kib| format!("{:.1}", *kib as f64 / 1024.0))
        .collect();
    println!(
        "\nServer memory while streaming {lines} rows: {:.1} MiB before, peak {:.1} MiB during ({} samples; at 25/50/75/100 %: {} MiB)",
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        samples.len(),
        quartiles.join(" / ")
    );
}
