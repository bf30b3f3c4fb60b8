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
    let peak_reset = server.reset_peak();
    eprintln!("  load: {} clients for {} s on {backend}", args.load_clients, args.load_seconds);
    let watch = crate::watch(Procs::One(server.pid()));
    let run = drive_requests(url, Arc::new(requests), None, args.load_clients, args.load_seconds, &watch).await;
    let f = &run.figures;
    let cpu = run.cpu_per_request(backend == "postgres");
    let ms = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2}"));
    let peak = crate::peak_rss_kib(server.pid()).map_or("—".to_string(), |kib| format!("{:.1}", kib as f64 / 1024.0));
    println!(
        "\nUnder load: {} concurrent clients for {} s, each sending the park page, the filtered enterprise list and the innovation center in turn. CPU per request over the run from /proc: the server, PostgreSQL (every `postgres` process), the load generator, and every other process on the machine; peak RSS {}:\n",
        args.load_clients,
        args.load_seconds,
        if peak_reset { "over this run" } else { "since the server started" }
    );
    println!(
        "| backend | clients | requests | errors | req/s | p50 ms | p99 ms | server CPU ms/req | PostgreSQL CPU ms/req | load generator ms/req | other processes ms/req | server peak RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {backend} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} | {peak} |",
        args.load_clients,
        f.requests,
        f.errors,
        f.per_second,
        f.p50.as_secs_f64() * 1000.0,
        f.p99.as_secs_f64() * 1000.0,
        ms(cpu.as_ref().map(|c| c.server)),
        ms(cpu.as_ref().and_then(|c| c.postgres)),
        ms(cpu.as_ref().map(|c| c.client)),
        ms(cpu.as_ref().map(|c| c.rest)),
    );
    let machine_ms = run.cpu_ms.get(3).copied().unwrap_or(0.0);
    println!("\nOther processes over the run, busiest first: {}.", crate::procs::busiest(&run.others, 4, machine_ms));
    if !run.errors.is_empty() {
        println!("\nErrors under load ({} distinct):\n", run.errors.len());
        for (message, n) in &run.errors {
            println!("- {n} × {message}");
        }
    }
}
