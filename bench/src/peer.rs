//! The peer suite: the read queries against PostGraphile on the same PostgreSQL database.
//!
//! It installs PostGraphile 4.14.1 with the simplify-inflector and connection-filter
//! plugins into a temporary directory with npm (or uses `--peer-dir`), starts it with two
//! cluster workers on the database the benchmark seeded, checks that both servers answer
//! each query with the same rows, then drives ParkGraph and PostGraphile in turn, query by
//! query, with the same client and concurrency. It prints throughput and p99 side by side
//! with their ratios, the CPU per request of each server and of PostgreSQL, and the peak
//! resident memory of both servers. Without node and npm it says so and measures
//! ParkGraph alone.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::procs::Procs;
use crate::{Args, CENTER_MEMBERS, ENTERPRISE_LIST, PARK_PAGE, Request, Run, Server, drive_requests, fail, post};

/// The packages installed, at exact versions.
const PACKAGES: [&str; 3] = [
    "postgraphile@4.14.1",
    "@graphile-contrib/pg-simplify-inflector@6.1.0",
    "postgraphile-plugin-connection-filter@2.3.0",
];

/// The schema plugins appended to PostGraphile's.
const PLUGINS: &str = "@graphile-contrib/pg-simplify-inflector,postgraphile-plugin-connection-filter";

/// [`PARK_PAGE`] for PostGraphile: the park's live locations in the order recorded (UUID
/// v7 ids), 50 of them with the total, each enterprise's live designations by year.
const PEER_PARK_PAGE: &str = "query ParkPage($id: UUID!) { park(id: $id) { nameZh kind parent { nameZh } \
    enterpriseLocations(first: 50, orderBy: ID_ASC, filter: { archivedAt: { isNull: true } }) { totalCount \
    nodes { role since organization { nameZh industry \
    designations(orderBy: [YEAR_ASC, ID_ASC], filter: { archivedAt: { isNull: true } }) { nodes { kind year valuationUsd } } \
    } } } } }";

/// [`ENTERPRISE_LIST`] for PostGraphile: live enterprises of the industry founded since
/// 2005, newest first (then by id, descending), 50 with the total, each with its first 20
/// live locations.
const PEER_ENTERPRISE_LIST: &str = "query EnterpriseList { organizations(first: 50, orderBy: [FOUNDED_ON_DESC, ID_DESC], \
    filter: { kind: { equalTo: \"ENTERPRISE\" }, industry: { equalTo: \"optoelectronics\" }, \
    foundedOn: { greaterThanOrEqualTo: \"2005-01-01\" }, archivedAt: { isNull: true } }) { totalCount \
    nodes { nameZh foundedOn industry \
    enterpriseLocations(first: 20, orderBy: ID_ASC, filter: { archivedAt: { isNull: true } }) { nodes { role park { nameZh } } } \
    } } }";

/// [`CENTER_MEMBERS`] for PostGraphile: the center's first 20 live memberships in the
/// order recorded, each member's first 20 live incubations.
const PEER_CENTER_MEMBERS: &str = "query CenterMembers($id: UUID!) { innovationCenter(id: $id) { nameZh kind \
    innovationCenterMemberships(first: 20, orderBy: ID_ASC, filter: { archivedAt: { isNull: true } }) { \
    nodes { role organization { nameZh \
    incubations(first: 20, orderBy: ID_ASC, filter: { archivedAt: { isNull: true } }) { \
    nodes { status enteredOn graduatedOn incubator { nameZh level } } } } } } } }";

/// PostGraphile's cluster: the master and its workers, ended together.
struct Peer {
    child: Child,
    dir: PathBuf,
    /// The temporary install, removed at the end (none with `--peer-dir`).
    installed: Option<PathBuf>,
}

impl Peer {
    fn procs(&self) -> Procs {
        Procs::Tree(self.child.id())
    }

    fn log(&self) -> PathBuf {
        self.dir.join("postgraphile.log")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let pids: Vec<String> = self.procs().pids().iter().map(u32::to_string).collect();
        let _ = Command::new("kill").arg("-KILL").args(&pids).stderr(Stdio::null()).status();
        let _ = self.child.wait();
        if let Some(dir) = &self.installed {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `dir` (`--peer-dir`) holds a PostGraphile install.
pub fn check_peer_dir(dir: &std::path::Path) -> Result<(), String> {
    if dir.join("node_modules/postgraphile/cli.js").exists() {
        Ok(())
    } else {
        Err(format!("--peer-dir {}: no node_modules/postgraphile/cli.js there", dir.display()))
    }
}

/// The PostGraphile install to run: `--peer-dir`, or a new one in a temporary directory;
/// `None` (after saying why) when node or npm is missing.
fn install(args: &Args) -> Option<(PathBuf, Option<PathBuf>)> {
    if !available("node") {
        println!("\nnode is not on PATH: the peer suite runs ParkGraph alone (no PostGraphile).");
        return None;
    }
    if let Some(dir) = &args.peer_dir {
        check_peer_dir(dir).unwrap_or_else(|e| fail(e));
        return Some((dir.clone(), None));
    }
    if !available("npm") {
        println!("\nnpm is not on PATH: the peer suite runs ParkGraph alone (no PostGraphile).");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("parkgraph-bench-peer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(e));
    std::fs::write(dir.join("package.json"), "{ \"name\": \"parkgraph-bench-peer\", \"private\": true }\n")
        .unwrap_or_else(|e| fail(e));
    let started = Instant::now();
    let output = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--save-exact"])
        .args(PACKAGES)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| fail(format!("npm install: {e}")));
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        fail(format!("npm install {} failed: {}", PACKAGES.join(" "), String::from_utf8_lossy(&output.stderr).trim()));
    }
    eprintln!("  peer: installed {} in {:.1} s", PACKAGES.join(", "), started.elapsed().as_secs_f64());
    Some((dir.clone(), Some(dir)))
}

/// Starts PostGraphile on `database_url` with two cluster workers and waits until it
/// answers a query.
async fn start(args: &Args, dir: PathBuf, installed: Option<PathBuf>, database_url: &str) -> (Peer, String) {
    let log_dir = installed.clone().unwrap_or_else(std::env::temp_dir);
    let log_path = log_dir.join("postgraphile.log");
    let log = std::fs::File::create(&log_path).unwrap_or_else(|e| fail(e));
    let log_err = log.try_clone().unwrap_or_else(|e| fail(e));
    let port = args.peer_port.to_string();
    let child = Command::new("node")
        .arg(dir.join("node_modules/postgraphile/cli.js"))
        .args(["--connection", database_url, "--schema", "public", "--host", "127.0.0.1", "--port", &port])
        .args(["--cluster-workers", "2", "--append-plugins", PLUGINS, "--disable-query-log"])
        .current_dir(&dir)
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .unwrap_or_else(|e| fail(format!("starting PostGraphile: {e}")));
    let mut peer = Peer { child, dir: log_dir, installed };
    let url = format!("http://127.0.0.1:{port}/graphql");
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(Some(status)) = peer.child.try_wait() {
            let log = std::fs::read_to_string(peer.log()).unwrap_or_default();
            drop(peer);
            fail(format!("PostGraphile exited with {status}:\n{log}"));
        }
        // Every worker must be up: ask as many times as there are workers and more.
        let mut answered = 0;
        for _ in 0..4 {
            if post(&client, &url, "{ __typename }", &json!({}), None).await.is_ok() {
                answered += 1;
            }
        }
        if answered == 4 {
            return (peer, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(peer.log()).unwrap_or_default();
    drop(peer);
    fail(format!("PostGraphile did not answer in 60 s:\n{log}"))
}

/// The UUID inside a ParkGraph global id (`base64url("Type:uuid")`, unpadded).
fn uuid_of(global_id: &Value) -> String {
    let text = global_id.as_str().unwrap_or_else(|| fail(format!("{global_id} is not a ParkGraph id")));
    let mut bits = 0u32;
    let mut n = 0;
    let mut bytes = Vec::new();
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => fail(format!("{text:?} is not a ParkGraph id")),
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    let decoded = String::from_utf8(bytes).unwrap_or_else(|_| fail(format!("{text:?} is not a ParkGraph id")));
    match decoded.split_once(':') {
        Some((_, uuid)) => uuid.to_string(),
        None => fail(format!("{text:?} is not a ParkGraph id")),
    }
}

/// A value as the comparison sees it: strings as they are, numbers as numbers (a
/// PostgreSQL `numeric` arrives as a string), nothing as `-`.
fn plain(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.parse::<f64>().map_or_else(|_| s.clone(), |n| format!("{n}")),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |n| format!("{n}")),
        other => other.to_string(),
    }
}

/// A date as the comparison sees it: the year (ParkGraph writes a date at its recorded
/// precision, `"2016"` or `"2016-02"`, PostgreSQL's column is a full date).
fn year(v: &Value) -> String {
    match v.as_str() {
        Some(s) => s.chars().take(4).collect(),
        None => plain(v),
    }
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v[key].as_array().into_iter().flatten()
}

/// The rows of a park page, one line each: the park, the total, then each location's
/// role, year, enterprise, industry and designations.
fn park_rows(park: &Value, locations: &Value, nodes: &str, node: &str) -> Vec<String> {
    let mut rows = vec![
        format!("park {} {} parent {}", plain(&park["nameZh"]), plain(&park["kind"]), plain(&park["parent"]["nameZh"])),
        format!("total {}", plain(&locations["totalCount"])),
    ];
    for edge in list(locations, nodes) {
        let org = &edge[node];
        let designations = if org["designations"].is_array() {
            list(org, "designations").collect::<Vec<_>>()
        } else {
            list(&org["designations"], "nodes").collect()
        };
        let designations: Vec<String> = designations
            .iter()
            .map(|d| format!("{}/{}/{}", plain(&d["kind"]), plain(&d["year"]), plain(&d["valuationUsd"])))
            .collect();
        rows.push(format!(
            "{} {} {} {} [{}]",
            plain(&edge["role"]),
            year(&edge["since"]),
            plain(&org["nameZh"]),
            plain(&org["industry"]),
            designations.join(", ")
        ));
    }
    rows
}

/// The rows of the enterprise list: the total, then each enterprise with its parks.
fn list_rows(page: &Value, parks: impl Fn(&Value) -> Vec<String>) -> Vec<String> {
    let mut rows = vec![format!("total {}", plain(&page["totalCount"]))];
    for org in list(page, "nodes") {
        rows.push(format!(
            "{} {} {} [{}]",
            plain(&org["nameZh"]),
            plain(&org["foundedOn"]),
            plain(&org["industry"]),
            parks(org).join(", ")
        ));
    }
    rows
}

/// The rows of an innovation center: the center, then each member with its incubations.
fn center_rows(center: &Value, members: Vec<&Value>, incubations: impl Fn(&Value) -> Vec<&Value>) -> Vec<String> {
    let mut rows = vec![format!("center {} {}", plain(&center["nameZh"]), plain(&center["kind"]))];
    for member in members {
        let org = if member["node"].is_object() { &member["node"] } else { &member["organization"] };
        let incubations: Vec<String> = incubations(org)
            .into_iter()
            .map(|i| {
                let incubator = if i["node"].is_object() { &i["node"] } else { &i["incubator"] };
                format!(
                    "{} {} {} {} {}",
                    plain(&i["status"]),
                    year(&i["enteredOn"]),
                    year(&i["graduatedOn"]),
                    plain(&incubator["nameZh"]),
                    plain(&incubator["level"])
                )
            })
            .collect();
        rows.push(format!("{} {} [{}]", plain(&member["role"]), plain(&org["nameZh"]), incubations.join(", ")));
    }
    rows
}

/// The rows ParkGraph's answer to `query` holds, in the comparison's form.
fn parkgraph_rows(query: &str, body: &Value) -> Vec<String> {
    let data = &body["data"];
    if query == PARK_PAGE {
        park_rows(&data["park"], &data["park"]["enterprises"], "edges", "node")
    } else if query == ENTERPRISE_LIST {
        list_rows(&data["enterprises"], |org| {
            list(&org["parks"], "edges")
                .map(|e| format!("{} {}", plain(&e["role"]), plain(&e["node"]["nameZh"])))
                .collect()
        })
    } else {
        let center = &data["innovationCenter"];
        center_rows(center, list(&center["members"], "edges").collect(), |org| {
            list(&org["incubations"], "edges").collect()
        })
    }
}

/// The rows PostGraphile's answer to the peer of `query` holds, in the comparison's form.
fn peer_rows(query: &str, body: &Value) -> Vec<String> {
    let data = &body["data"];
    if query == PARK_PAGE {
        park_rows(&data["park"], &data["park"]["enterpriseLocations"], "nodes", "organization")
    } else if query == ENTERPRISE_LIST {
        list_rows(&data["organizations"], |org| {
            list(&org["enterpriseLocations"], "nodes")
                .map(|l| format!("{} {}", plain(&l["role"]), plain(&l["park"]["nameZh"])))
                .collect()
        })
    } else {
        let center = &data["innovationCenter"];
        center_rows(center, list(&center["innovationCenterMemberships"], "nodes").collect(), |org| {
            list(&org["incubations"], "nodes").collect()
        })
    }
}

/// The first of the rotating parks with a full page of enterprises (some of them are
/// zones, whose enterprises are located in their parks): the repeated query's park.
async fn full_park(url: &str, parks: &[Value]) -> Value {
    let client = reqwest::Client::new();
    for variables in parks {
        let body = post(
            &client,
            url,
            "query($id: ID!) { park(id: $id) { enterprises(first: 1) { totalCount } } }",
            variables,
            None,
        )
        .await
        .unwrap_or_else(|e| fail(e));
        if body["data"]["park"]["enterprises"]["totalCount"].as_u64().unwrap_or(0) >= 50 {
            return variables.clone();
        }
    }
    parks[0].clone()
}

/// One measured query: ParkGraph's document and variables, and PostGraphile's.
struct Case {
    name: &'static str,
    /// Served by the ParkGraph server with its response cache on (the others by the one
    /// with it off).
    cached: bool,
    query: &'static str,
    variables: Vec<Value>,
    peer_query: &'static str,
    peer_variables: Vec<Value>,
}

/// PostGraphile's variables for ParkGraph's: the same record by its UUID.
fn peer_variables(variables: &[Value]) -> Vec<Value> {
    variables.iter().map(|v| if v["id"].is_null() { json!({}) } else { json!({ "id": uuid_of(&v["id"]) }) }).collect()
}

/// Fails unless both servers answer each query with the same rows, for a few of the ids
/// each rotates over.
async fn check_same_rows(parkgraph: &str, peer: &str, cases: &[Case]) -> Result<(), String> {
    let client = reqwest::Client::new();
    for case in cases {
        let n = case.variables.len();
        let mut picks: Vec<usize> = [0, 1, n / 2, n.saturating_sub(1)].into_iter().filter(|&i| i < n).collect();
        picks.dedup();
        let (ids, mut compared) = (picks.len(), 0);
        for i in picks {
            let ours = post(&client, parkgraph, case.query, &case.variables[i], None)
                .await
                .map_err(|e| format!("ParkGraph, {}: {e}", case.name))?;
            let theirs = post(&client, peer, case.peer_query, &case.peer_variables[i], None)
                .await
                .map_err(|e| format!("PostGraphile, {}: {e}", case.name))?;
            let (a, b) = (parkgraph_rows(case.query, &ours), peer_rows(case.query, &theirs));
            if a.len() < 2 {
                return Err(format!(
                    "ParkGraph answered {} ({}) with nothing to compare: {ours}",
                    case.name, case.variables[i]
                ));
            }
            if a != b {
                let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
                return Err(format!(
                    "ParkGraph and PostGraphile disagree on {} ({}): {} rows against {}; first difference at row {at}:\n  ParkGraph:    {}\n  PostGraphile: {}",
                    case.name,
                    case.variables[i],
                    a.len(),
                    b.len(),
                    a.get(at).map_or("(none)", String::as_str),
                    b.get(at).map_or("(none)", String::as_str)
                ));
            }
            compared += a.len();
        }
        eprintln!("  peer: {}: both servers return the same {compared} rows ({ids} variables)", case.name);
    }
    Ok(())
}

/// A run's requests: the document with each of the variables in turn.
fn requests(query: &'static str, variables: &[Value]) -> Arc<Vec<Request>> {
    Arc::new(variables.iter().map(|v| (query, v.clone())).collect())
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn report_errors(server: &str, case: &str, run: &Run) {
    for (message, n) in &run.errors {
        println!("- {server}, {case}: {n} × {message}");
    }
}

/// The peer suite (see the module docs); `url` is ParkGraph's `/graphql` on the
/// benchmark's PostgreSQL database `database_url`.
pub async fn peer_suite(args: &Args, url: &str, config: &str, database_url: &str, server: &mut Server) {
    let (parks, centers) = crate::read_variables(url).await;
    let repeated = full_park(url, &parks).await;
    let cases = [
        ("park page", false, PARK_PAGE, parks.to_vec(), PEER_PARK_PAGE),
        ("filtered enterprise list", false, ENTERPRISE_LIST, vec![json!({})], PEER_ENTERPRISE_LIST),
        ("innovation center", false, CENTER_MEMBERS, centers.to_vec(), PEER_CENTER_MEMBERS),
        // The same park every time.
        ("park page, repeated", false, PARK_PAGE, vec![repeated.clone()], PEER_PARK_PAGE),
        // The same queries with ParkGraph's response cache on (PostGraphile has none).
        ("park page, response cache", true, PARK_PAGE, parks.to_vec(), PEER_PARK_PAGE),
        ("filtered enterprise list, response cache", true, ENTERPRISE_LIST, vec![json!({})], PEER_ENTERPRISE_LIST),
        ("park page, repeated, response cache", true, PARK_PAGE, vec![repeated], PEER_PARK_PAGE),
    ]
    .map(|(name, cached, query, variables, peer_query)| {
        let peer_variables = peer_variables(&variables);
        Case { name, cached, query, variables, peer_query, peer_variables }
    });
    // The second ParkGraph server, with the response cache on, over the same database.
    let cached_listen = format!("127.0.0.1:{}", args.port + 4);
    let mut cached_server = crate::start_server(
        args,
        config,
        database_url,
        &cached_listen,
        &[("PARKGRAPH_SEARCH__ENABLED", "false"), ("PARKGRAPH_CACHE__ENABLED", "true")],
    )
    .await;
    let cached_url = format!("http://{cached_listen}/graphql");

    if let Err(e) = crate::port_free(&format!("127.0.0.1:{}", args.peer_port), "--peer-port") {
        server.kill();
        fail(e);
    }
    let peer = match install(args) {
        Some((dir, installed)) => Some(start(args, dir, installed, database_url).await),
        None => None,
    };
    if let Some((_, peer_url)) = &peer
        && let Err(e) = check_same_rows(url, peer_url, &cases).await
    {
        drop(peer);
        server.kill();
        fail(e);
    }

    let ours = Procs::One(server.pid());
    let ours_cached = Procs::One(cached_server.pid());
    let peak_reset = server.reset_peak();
    cached_server.reset_peak();
    if let Some((p, _)) = &peer {
        p.procs().reset_peak();
    }
    let mut rows = Vec::new();
    for case in &cases {
        eprintln!("  peer: {}: ParkGraph", case.name);
        let (our_url, procs) = if case.cached { (cached_url.as_str(), ours_cached) } else { (url, ours) };
        let a = drive_requests(
            our_url,
            requests(case.query, &case.variables),
            None,
            args.concurrency,
            args.seconds,
            &crate::watch(procs),
        )
        .await;
        let b = match &peer {
            Some((p, peer_url)) => {
                eprintln!("  peer: {}: PostGraphile", case.name);
                Some(
                    drive_requests(
                        peer_url,
                        requests(case.peer_query, &case.peer_variables),
                        None,
                        args.concurrency,
                        args.seconds,
                        &crate::watch(p.procs()),
                    )
                    .await,
                )
            }
            None => None,
        };
        rows.push((case.name, a, b));
    }

    if peer.is_none() {
        println!("\nParkGraph alone (PostGraphile could not be run: see above):");
    }
    println!(
        "\nParkGraph against PostGraphile 4.14.1 (2 cluster workers, simplify-inflector and connection-filter) on the same PostgreSQL database: the same rows, {} clients, {} s per query and server, alternately; ratio = ParkGraph ÷ PostGraphile:\n",
        args.concurrency, args.seconds
    );
    println!(
        "| query | ParkGraph req/s | PostGraphile req/s | ratio | ParkGraph p99 ms | PostGraphile p99 ms | p99 ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, a, b) in &rows {
        let (fa, fb) = (&a.figures, b.as_ref().map(|b| &b.figures));
        println!(
            "| {name} | {:.0} | {} | {} | {} | {} | {} |",
            fa.per_second,
            fb.map_or("—".into(), |f| format!("{:.0}", f.per_second)),
            fb.map_or("—".into(), |f| format!("{:.2}×", fa.per_second / f.per_second.max(1e-9))),
            ms(fa.p99),
            fb.map_or("—".into(), |f| ms(f.p99)),
            fb.map_or("—".into(), |f| format!("{:.2}", fa.p99.as_secs_f64() / f.p99.as_secs_f64().max(1e-9))),
        );
    }
    println!(
        "\nCPU per request over each run, from /proc: the server, PostgreSQL (every `postgres` process), the load generator, and every other process on the machine:\n"
    );
    println!("| query | server | server ms | PostgreSQL ms | load generator ms | other processes ms |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, a, b) in &rows {
        for (server, run) in [("ParkGraph", Some(a)), ("PostGraphile", b.as_ref())] {
            let Some(cpu) = run.and_then(|r| r.cpu_per_request(true)) else {
                continue;
            };
            println!(
                "| {name} | {server} | {:.2} | {:.2} | {:.2} | {:.2} |",
                cpu.server,
                cpu.postgres.unwrap_or(0.0),
                cpu.client,
                cpu.rest
            );
        }
    }
    let runs: Vec<&Run> = rows.iter().flat_map(|(_, a, b)| std::iter::once(a).chain(b.as_ref())).collect();
    let others: Vec<(String, f64)> = runs.iter().flat_map(|r| r.others.iter().cloned()).collect();
    let machine_ms: f64 = runs.iter().filter_map(|r| r.cpu_ms.get(3)).sum();
    println!("\nOther processes over these runs, busiest first: {}.", crate::procs::busiest(&others, 4, machine_ms));
    let since = if peak_reset { "over these runs" } else { "since start" };
    let ours_peak = Procs::One(server.pid()).peak_rss_mib().map_or("—".into(), |m| format!("{m:.1} MiB"));
    let cached_peak = Procs::One(cached_server.pid()).peak_rss_mib().map_or("—".into(), |m| format!("{m:.1} MiB"));
    let theirs_peak = peer
        .as_ref()
        .and_then(|(p, _)| p.procs().peak_rss_mib())
        .map_or("—".into(), |m| format!("{m:.1} MiB (master and workers)"));
    println!(
        "\nPeak RSS {since}: ParkGraph {ours_peak} (response cache off), {cached_peak} (response cache on); PostGraphile {theirs_peak}."
    );
    let failed: usize =
        rows.iter().map(|(_, a, b)| a.figures.errors + b.as_ref().map_or(0, |b| b.figures.errors)).sum();
    if failed > 0 {
        println!("\nErrors:\n");
        for (name, a, b) in &rows {
            report_errors("ParkGraph", name, a);
            if let Some(b) = b {
                report_errors("PostGraphile", name, b);
            }
        }
    }
    drop(peer);
}
