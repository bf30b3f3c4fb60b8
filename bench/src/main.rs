//! `parkgraph-bench`: the figures in BENCHMARKS.md.
//!
//! For each backend it seeds a fresh database with the synthetic registry, starts the
//! release `parkgraph` binary on it, drives three representative queries with concurrent
//! HTTP clients for a fixed time each, and prints requests per second, p50 and p99
//! latency, and the server's peak resident memory. It is a program that reports numbers,
//! not a test: nothing here passes or fails on speed.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Benchmark ParkGraph's HTTP server on SQLite and PostgreSQL")]
struct Args {
    /// Synthetic enterprises to load.
    #[arg(long, default_value_t = 100_000)]
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
    /// PostgreSQL server URL; a database `parkgraph_bench` is (re)created there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
    /// The parkgraph binary.
    #[arg(long, default_value = "target/release/parkgraph")]
    binary: PathBuf,
    /// Port for the server under test.
    #[arg(long, default_value_t = 18080)]
    port: u16,
}

const PARK_PAGE: &str = "query ParkPage($id: ID!) { park(id: $id) { nameZh kind parent { nameZh } \
    enterprises(first: 50) { totalCount edges { role since node { nameZh industry \
    designations { kind year valuationUsd } } } } } }";

const ENTERPRISE_LIST: &str = "query EnterpriseList { enterprises(filter: { industry: \"optoelectronics\", \
    foundedFrom: \"2005-01-01\" }, orderBy: { field: DATE, direction: DESC }, first: 50) { totalCount \
    nodes { nameZh foundedOn industry parks { edges { role node { nameZh } } } } } }";

const VIEWER: &str = "query Viewer { viewer { role } }";

const CENTER_MEMBERS: &str = "query CenterMembers($id: ID!) { innovationCenter(id: $id) { nameZh kind \
    members(first: 20) { edges { role node { nameZh incubations { edges { status enteredOn graduatedOn \
    node { nameZh level } } } } } } } }";

struct Server {
    child: Child,
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
    let response = request.send().await.map_err(|e| e.to_string())?;
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
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

async fn drive(
    args: &Args,
    url: &str,
    query: &'static str,
    variables: Arc<Vec<Value>>,
    token: Option<Arc<String>>,
) -> Figures {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().unwrap_or_else(|e| fail(e));
    // Warm up: one second, not counted.
    let warm_until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < warm_until {
        if let Err(e) = post(&client, url, query, &variables[0], token.as_deref().map(String::as_str)).await {
            fail(format!("warm-up request failed: {e}"));
        }
    }
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for worker in 0..args.concurrency {
        let (client, url, variables, token) = (client.clone(), url.to_string(), variables.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = worker;
            while Instant::now() < until {
                let vars = &variables[i % variables.len()];
                i += 1;
                let t = Instant::now();
                match post(&client, &url, query, vars, token.as_deref().map(String::as_str)).await {
                    Ok(_) => latencies.push(t.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.unwrap_or_else(|e| fail(e));
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
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

async fn wait_ready(base: &str, server: &mut Server) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
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
    fail("the server did not become ready in 60 s");
}

async fn bench_backend(args: &Args, backend: &str) {
    let database_url = match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join("parkgraph-bench");
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(e));
            format!("sqlite://{}?mode=rwc", dir.join("bench.db").display())
        }
        "postgres" => {
            run(Command::new("psql").args([&args.pg_url, "-q", "-c", "DROP DATABASE IF EXISTS parkgraph_bench"]));
            run(Command::new("psql").args([&args.pg_url, "-q", "-c", "CREATE DATABASE parkgraph_bench"]));
            let base = args.pg_url.rsplit_once('/').map_or(args.pg_url.as_str(), |(b, _)| b);
            format!("{base}/parkgraph_bench")
        }
        other => fail(format!("unknown backend {other:?}")),
    };
    // Limits high enough that the load generator measures the server, not the throttle,
    // and a key so the token runs can authenticate.
    let config_path = std::env::temp_dir().join(format!("parkgraph-bench-{backend}.toml"));
    std::fs::write(
        &config_path,
        "[limits]\ntoken_bucket = 1000000000\ntoken_restore_per_second = 1000000000\n\
         anonymous_bucket = 1000000000\nanonymous_restore_per_second = 1000000000\n\n\
         [[auth.keys]]\nkid = \"bench\"\nalgorithm = \"HS256\"\nsecret = \"bench-secret-bench-secret-bench-secret!\"\n",
    )
    .unwrap_or_else(|e| fail(e));
    let config_arg = config_path.display().to_string();
    let seeded = Instant::now();
    run(Command::new(&args.binary)
        .args([
            "--config",
            &config_arg,
            "--database-url",
            &database_url,
            "seed",
            "--synthetic",
            &args.enterprises.to_string(),
        ])
        .env("PARKGRAPH_LOG", "warn")
        .stdout(Stdio::null()));
    let seed_seconds = seeded.elapsed().as_secs_f64();

    let listen = format!("127.0.0.1:{}", args.port);
    let issued = Command::new(&args.binary)
        .args([
            "--config",
            &config_arg,
            "--database-url",
            &database_url,
            "token",
            "issue",
            "--role",
            "partner",
            "--partner",
            "bench",
        ])
        .env("PARKGRAPH_LOG", "warn")
        .stderr(Stdio::null())
        .output()
        .unwrap_or_else(|e| fail(e));
    let token = String::from_utf8_lossy(&issued.stdout).trim().to_string();
    if !issued.status.success() || token.split('.').count() != 3 {
        fail("could not issue a benchmark token");
    }
    let child = Command::new(&args.binary)
        .args(["--config", &config_arg, "--database-url", &database_url, "serve", "--listen", &listen, "--no-seed"])
        .env("PARKGRAPH_LOG", "warn")
        .env("PARKGRAPH_MAX_CONNECTIONS", "16")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(format!("starting {}: {e}", args.binary.display())));
    let mut server = Server { child };
    let base = format!("http://{listen}");
    wait_ready(&base, &mut server).await;
    let url = format!("{base}/graphql");

    let client = reqwest::Client::new();
    let parks =
        post(&client, &url, "{ parks(filter: { topLevel: false }, first: 100) { nodes { id } } }", &json!({}), None)
            .await
            .unwrap_or_else(|e| fail(e));
    let centers = post(&client, &url, "{ innovationCenters(first: 100) { nodes { id } } }", &json!({}), None)
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

    println!("\n### {backend} — {} synthetic enterprises (seeded in {seed_seconds:.1} s)\n", args.enterprises);
    println!("| query | requests | errors | req/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, query, variables) in [
        ("park page: a park, its 50 first enterprises and their designations", PARK_PAGE, park_ids),
        (
            "filtered enterprise list (industry, founded since 2005, by date) with parks",
            ENTERPRISE_LIST,
            Arc::new(vec![json!({})]),
        ),
        ("innovation center: 20 members and their incubations", CENTER_MEMBERS, center_ids),
    ] {
        let f = drive(args, &url, query, variables, None).await;
        println!(
            "| {name} | {} | {} | {:.0} | {:.2} | {:.2} |",
            f.requests,
            f.errors,
            f.per_second,
            f.p50.as_secs_f64() * 1000.0,
            f.p99.as_secs_f64() * 1000.0
        );
    }
    println!(
        "\nPer-request overhead of authentication and cost analysis (the same query, anonymous and with a partner token):\n"
    );
    println!("| query | caller | req/s | p50 ms | p99 ms |");
    println!("|---|---|---:|---:|---:|");
    let token = Arc::new(token);
    for (name, query, variables) in [
        ("minimal: `{ viewer { role } }`", VIEWER, Arc::new(vec![json!({})])),
        ("park page", PARK_PAGE, ids(&parks, "parks")),
    ] {
        for (caller, token) in [("anonymous", None), ("partner token", Some(token.clone()))] {
            let f = drive(args, &url, query, variables.clone(), token).await;
            println!(
                "| {name} | {caller} | {:.0} | {:.2} | {:.2} |",
                f.per_second,
                f.p50.as_secs_f64() * 1000.0,
                f.p99.as_secs_f64() * 1000.0
            );
        }
    }
    match peak_rss_kib(server.child.id()) {
        Some(kib) => println!("\nServer peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("\nServer peak RSS: not available"),
    }
    if backend == "postgres" {
        drop(server);
        run(Command::new("psql").args([&args.pg_url, "-q", "-c", "DROP DATABASE IF EXISTS parkgraph_bench"]));
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if !args.binary.exists() {
        fail(format!("{} not found: build it with `cargo build --release`", args.binary.display()));
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
