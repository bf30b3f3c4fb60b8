//! The load suite: many concurrent clients (`--load-clients`, 256 by default) for a long
//! run (`--load-seconds`, 60 by default) on one backend, each sending the three read
//! queries in turn (park page and innovation center over rotating ids, and the filtered
//! enterprise list). It reports requests, errors (every distinct one is printed: a run
//! under load should have none), throughput, p50 and p99 latency, the server's CPU per
//! request beside PostgreSQL's, and the server's peak resident memory over the run.

use std::sync::Arc;

use serde_json::json;

use crate::procs::Procs;
use crate::{Args, CENTER_MEMBERS, ENTERPRISE_LIST, PARK_PAGE, Request, Server, drive_requests, read_variables};

/// The load suite on the server at `url` (see the module docs).
pub async fn load_suite(args: &Args, backend: &str, url: &str, server: &mut Server) {
    let (parks, centers) = read_variables(url).await;
    // Park i, the list, center i: every client goes round all three.
    let requests: Vec<Request> = (0..parks.len().max(centers.len()))
        .flat_map(|i| {
            [
                (PARK_PAGE, parks[i % parks.len()].clone()),
                (ENTERPRISE_LIST, json!({})),
                (CENTER_MEMBERS, centers[i % centers.len()].clone()),
            ]
        })
        .collect();
    let mut watch = vec![Procs::One(server.pid())];
    if backend == "postgres" {
        watch.push(Procs::Named("postgres"));
    }
    let peak_reset = server.reset_peak();
    eprintln!("  load: {} clients for {} s on {backend}", args.load_clients, args.load_seconds);
    let run = drive_requests(url, Arc::new(requests), None, args.load_clients, args.load_seconds, &watch).await;
    let f = &run.figures;
    let per_request =
        |ms: f64| if f.requests == 0 { "—".to_string() } else { format!("{:.2}", ms / f.requests as f64) };
    let server_cpu = per_request(run.cpu_ms[0]);
    let pg_cpu = run.cpu_ms.get(1).map_or("—".to_string(), |ms| per_request(*ms));
    let peak = crate::peak_rss_kib(server.pid()).map_or("—".to_string(), |kib| format!("{:.1}", kib as f64 / 1024.0));
    println!(
        "\nUnder load: {} concurrent clients for {} s, each sending the park page, the filtered enterprise list and the innovation center in turn (server CPU and PostgreSQL's CPU over the run, from /proc; peak RSS {}):\n",
        args.load_clients,
        args.load_seconds,
        if peak_reset { "over this run" } else { "since the server started" }
    );
    println!(
        "| backend | clients | requests | errors | req/s | p50 ms | p99 ms | server CPU ms/req | PostgreSQL CPU ms/req | server peak RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {backend} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {server_cpu} | {pg_cpu} | {peak} |",
        args.load_clients,
        f.requests,
        f.errors,
        f.per_second,
        f.p50.as_secs_f64() * 1000.0,
        f.p99.as_secs_f64() * 1000.0,
    );
    if !run.errors.is_empty() {
        println!("\nErrors under load ({} distinct):\n", run.errors.len());
        for (message, n) in &run.errors {
            println!("- {n} × {message}");
        }
    }
}
