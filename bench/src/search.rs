//! The search suite: the index's build rate and memory (`parkgraph reindex` as a
//! process), then a fixed mix of queries — Chinese, pinyin in full and by initials,
//! English with a typo, type-ahead prefixes, and searches with filters and facet counts —
//! each sent many times, one at a time, over HTTP with a partner token to a server that
//! serves the index, against the same questions asked as naive SQL (`LIKE '%…%'`, and
//! `GROUP BY` for the facet counts) on the same database in the same run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use parkgraph_persistence::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::{Args, fail, peak_rss_kib, post, start_server, summarize, timed};

/// A search with the hits a result page shows (names, scores, highlights) and the total.
const SEARCH: &str = "query Search($q: String!, $filter: SearchFilter) { search(query: $q, filter: $filter, \
    first: 20) { totalCount hits { id type nameZh nameEn score highlights { field html } } } }";

/// A search with a filter and the sidebar's facet counts.
const FACETED: &str = "query Faceted($q: String!, $filter: SearchFilter, $facets: [SearchFacetField!]) { \
    search(query: $q, filter: $filter, facets: $facets, first: 20) { totalCount \
    hits { id type nameZh score highlights { field html } } facets { field values { value count } } } }";

/// Type-ahead, as a search box asks while the user types.
const SUGGEST: &str =
    "query Suggest($p: String!) { suggest(prefix: $p, first: 10) { id type nameZh nameEn highlights { html } } }";

/// The zone whose name the park filter and `光谷` refer to (the first 光谷 zone).
const ZONE: &str = "光谷合成园区0000";

/// The kinds of query, in the order reported.
const KINDS: [&str; 6] =
    ["Chinese", "pinyin, full", "pinyin, initials", "English with a typo", "type-ahead prefix", "faceted"];

/// One query of the mix: its kind, what is sent, and the naive SQL for the same question.
struct Case {
    kind: &'static str,
    label: String,
    query: &'static str,
    variables: Value,
    sql: Vec<String>,
}

/// `name LIKE '%a%' AND name LIKE '%b%'` over the Chinese name, one condition per unit.
fn zh_like(text: &str) -> String {
    text.split_whitespace().map(|u| format!("o.name_zh LIKE '%{u}%'")).collect::<Vec<_>>().join(" AND ")
}

/// The same over the English name, lowercased (ILIKE on both backends).
fn en_like(text: &str) -> String {
    text.split_whitespace()
        .map(|u| format!("lower(o.name_en) LIKE '%{}%'", u.to_lowercase()))
        .collect::<Vec<_>>()
        .join(" AND ")
}

const LIVE: &str = "o.archived_at IS NULL";

/// A result page and the total, as a list page would ask them without an index.
fn page_and_count(condition: &str) -> Vec<String> {
    vec![
        format!("SELECT count(*) FROM organization o WHERE {LIVE} AND {condition}"),
        format!("SELECT o.id, o.name_zh, o.name_en FROM organization o WHERE {LIVE} AND {condition} LIMIT 20"),
    ]
}

/// The filter conditions of a faceted case, each named by the facet it would not apply to.
struct Facets {
    text: String,
    industry: Option<String>,
    designation: Option<String>,
    zone: Option<String>,
}

impl Facets {
    fn condition(&self, skip: &str) -> String {
        let mut parts = vec![LIVE.to_string()];
        if !self.text.is_empty() {
            parts.push(self.text.clone());
        }
        if let Some(industry) = self.industry.as_ref().filter(|_| skip != "industry") {
            parts.push(format!("o.industry = '{industry}'"));
        }
        if let Some(kind) = self.designation.as_ref().filter(|_| skip != "designation") {
            parts.push(format!(
                "EXISTS (SELECT 1 FROM designation d WHERE d.organization_id = o.id AND d.archived_at IS NULL AND d.kind = '{kind}')"
            ));
        }
        if let Some(zone) = self.zone.as_ref().filter(|_| skip != "park") {
            parts.push(format!(
                "EXISTS (SELECT 1 FROM enterprise_location l JOIN park p ON p.id = l.park_id \
                 LEFT JOIN park z ON z.id = p.parent_id WHERE l.organization_id = o.id AND l.archived_at IS NULL \
                 AND (p.name_zh = '{zone}' OR z.name_zh = '{zone}'))"
            ));
        }
        parts.join(" AND ")
    }

    /// The total, a page, and one `GROUP BY` per facet (industry, designation, park with
    /// its zone, founded year), each without its own condition.
    fn sql(&self) -> Vec<String> {
        let all = self.condition("");
        vec![
            format!("SELECT count(*) FROM organization o WHERE {all}"),
            format!("SELECT o.id, o.name_zh FROM organization o WHERE {all} LIMIT 20"),
            format!(
                "SELECT o.industry, count(*) FROM organization o WHERE {} GROUP BY o.industry",
                self.condition("industry")
            ),
            format!(
                "SELECT d.kind, count(DISTINCT o.id) FROM organization o JOIN designation d \
                 ON d.organization_id = o.id AND d.archived_at IS NULL WHERE {} GROUP BY d.kind",
                self.condition("designation")
            ),
            format!(
                "SELECT park, count(DISTINCT org) FROM (SELECT l.park_id AS park, o.id AS org FROM organization o \
                 JOIN enterprise_location l ON l.organization_id = o.id AND l.archived_at IS NULL WHERE {c} \
                 UNION ALL SELECT p.parent_id AS park, o.id AS org FROM organization o \
                 JOIN enterprise_location l ON l.organization_id = o.id AND l.archived_at IS NULL \
                 JOIN park p ON p.id = l.park_id WHERE p.parent_id IS NOT NULL AND {c}) x GROUP BY park",
                c = self.condition("park")
            ),
            format!(
                "SELECT substr(CAST(o.founded_on AS TEXT), 1, 4), count(*) FROM organization o WHERE {} GROUP BY 1",
                all
            ),
        ]
    }
}

const FACET_DIMS: [&str; 4] = ["INDUSTRY", "DESIGNATION", "PARK", "FOUNDED_YEAR"];

fn cases(zone_id: &str) -> Vec<Case> {
    let mut out = Vec::new();
    let mut search = |kind: &'static str, q: &str, sql_condition: String| {
        out.push(Case {
            kind,
            label: q.to_string(),
            query: SEARCH,
            variables: json!({ "q": q }),
            sql: page_and_count(&sql_condition),
        });
    };
    // Chinese: two units, two-character substrings, a longer run.
    for q in ["光谷 生物", "芯片", "华芯", "武汉 光电", "医疗器械"] {
        search("Chinese", q, zh_like(q));
    }
    // Pinyin has no column to LIKE: the nearest naive question is the English name
    // (which spells the brand in pinyin), a scan of the same cost.
    for q in ["huaxin", "shengwu", "guanggu", "xinpian"] {
        search("pinyin, full", q, en_like(q));
    }
    for q in ["hx", "swyy", "ggsw", "whhx"] {
        search("pinyin, initials", q, en_like(q));
    }
    // English with a typo: LIKE cannot forgive it, so its SQL finds nothing, at full cost.
    for q in ["Photnics", "Semiconducter", "Biotehc", "Huaxn Lazer"] {
        search("English with a typo", q, en_like(q));
    }
    for p in ["光谷", "武汉华", "hua", "swy", "Semi"] {
        out.push(Case {
            kind: "type-ahead prefix",
            label: p.to_string(),
            query: SUGGEST,
            variables: json!({ "p": p }),
            sql: vec![format!(
                "SELECT o.id, o.name_zh FROM organization o WHERE {LIVE} AND (o.name_zh LIKE '%{p}%' \
                 OR lower(o.name_en) LIKE '%{}%') LIMIT 10",
                p.to_lowercase()
            )],
        });
    }
    let faceted = [
        ("生物 + unicorns", "生物", json!({ "designations": ["UNICORN"] }), None, Some("UNICORN"), false),
        (
            "biomedicine in 光谷合成园区0000 (no text)",
            "",
            json!({ "industries": ["biomedicine"], "parkIds": [zone_id] }),
            Some("biomedicine"),
            None,
            true,
        ),
        (
            "光电 + high-tech enterprises",
            "光电",
            json!({ "designations": ["HIGH_TECH_ENTERPRISE"] }),
            None,
            Some("HIGH_TECH_ENTERPRISE"),
            false,
        ),
        (
            "huaxin + optoelectronics",
            "huaxin",
            json!({ "industries": ["optoelectronics"] }),
            Some("optoelectronics"),
            None,
            false,
        ),
    ];
    for (label, q, filter, industry, designation, in_zone) in faceted {
        let text = if q.is_empty() {
            String::new()
        } else if q.is_ascii() {
            en_like(q)
        } else {
            zh_like(q)
        };
        let facets = Facets {
            text,
            industry: industry.map(str::to_string),
            designation: designation.map(str::to_string),
            zone: in_zone.then(|| ZONE.to_string()),
        };
        out.push(Case {
            kind: "faceted",
            label: label.to_string(),
            query: FACETED,
            variables: json!({ "q": q, "filter": filter, "facets": FACET_DIMS }),
            sql: facets.sql(),
        });
    }
    out
}

/// How many times slower the SQL was, with a decimal when it is close.
fn ratio(sql: Duration, search: Duration) -> String {
    let r = sql.as_secs_f64() / search.as_secs_f64().max(1e-9);
    if r < 10.0 { format!("{r:.1}×") } else { format!("{r:.0}×") }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn current_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
        })
        .unwrap_or(0)
}

/// Runs one statement list once; its wall time.
async fn run_sql(db: &DatabaseConnection, statements: &[String]) -> Duration {
    let started = Instant::now();
    for sql in statements {
        if let Err(e) = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.clone())).await {
            fail(format!("naive SQL failed: {e}\n{sql}"));
        }
    }
    started.elapsed()
}

/// The search suite on one seeded database (see the module docs).
pub async fn search_suite(args: &Args, backend: &str, config: &str, database_url: &str, token: &str) {
    let dir = std::env::temp_dir().join(format!("parkgraph-bench-search-{backend}"));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.display().to_string();

    // 1. The index, built by `parkgraph reindex` as a process.
    let (seconds, peak, stdout) = timed(
        Command::new(&args.binary)
            .args(["--config", config, "--database-url", database_url, "reindex"])
            .env("PARKGRAPH_SEARCH__INDEX_DIR", &dir_arg),
    );
    let out = String::from_utf8_lossy(&stdout);
    let documents: u64 = out
        .split_whitespace()
        .skip_while(|w| *w != "indexed")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| fail(format!("`parkgraph reindex` printed {out:?}")));
    println!("\nSearch index build (`parkgraph reindex` as a process, start-up and reading the database included):\n");
    println!("| documents | seconds | docs/s | peak RSS MiB | index on disk MiB |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {documents} | {seconds:.1} | {:.0} | {} | {:.0} |",
        documents as f64 / seconds,
        crate::mib(peak),
        dir_bytes(&dir) as f64 / 1048576.0
    );

    // 2. A server on that index.
    let listen = format!("127.0.0.1:{}", args.port + 1);
    let server = start_server(args, config, database_url, &listen, &[("PARKGRAPH_SEARCH__INDEX_DIR", &dir_arg)]).await;
    let url = format!("http://{listen}/graphql");
    let pid = server.pid();
    let rss_ready = current_rss_kib(pid).unwrap_or(0);

    let client = reqwest::Client::new();
    let zone = post(
        &client,
        &url,
        "query Zone($name: String) { parks(filter: { nameContains: $name }, first: 1) { nodes { id nameZh } } }",
        &json!({ "name": ZONE }),
        Some(token),
    )
    .await
    .unwrap_or_else(|e| fail(e));
    let zone_id = zone["data"]["parks"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_else(|| fail(format!("no park named {ZONE}: the synthetic data is older than the search suite")))
        .to_string();
    let cases = cases(&zone_id);

    // 3. Each query `search_runs` times, one request at a time, after three unmeasured.
    let mut per_kind: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut per_case = Vec::new();
    for case in &cases {
        let mut total = None;
        for _ in 0..3 {
            let body = post(&client, &url, case.query, &case.variables, Some(token))
                .await
                .unwrap_or_else(|e| fail(format!("search {:?}: {e}", case.label)));
            total = body["data"]["search"]["totalCount"]
                .as_u64()
                .or_else(|| body["data"]["suggest"].as_array().map(|a| a.len() as u64));
        }
        let mut latencies = Vec::with_capacity(args.search_runs);
        let started = Instant::now();
        for _ in 0..args.search_runs {
            let t = Instant::now();
            if let Err(e) = post(&client, &url, case.query, &case.variables, Some(token)).await {
                fail(format!("search {:?}: {e}", case.label));
            }
            latencies.push(t.elapsed());
        }
        per_kind.entry(case.kind).or_default().extend(&latencies);
        let f = summarize(latencies, 0, started.elapsed().as_secs_f64());
        eprintln!("  search {} `{}`: p50 {:.2} ms, p99 {:.2} ms", case.kind, case.label, ms(f.p50), ms(f.p99));
        per_case.push((case, total.unwrap_or(0), f.p50, f.p99));
    }
    let rss_after = current_rss_kib(pid).unwrap_or(0);
    let server_peak = peak_rss_kib(pid).unwrap_or(0);
    drop(server);

    // 4. The same questions as naive SQL, on the same database.
    let db = Database::connect(database_url).await.unwrap_or_else(|e| fail(format!("connecting for SQL: {e}")));
    let mut sql_per_kind: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut sql_per_case = Vec::new();
    for case in &cases {
        run_sql(&db, &case.sql).await; // warm the cache
        let mut runs: Vec<Duration> = Vec::with_capacity(args.sql_runs);
        for _ in 0..args.sql_runs {
            runs.push(run_sql(&db, &case.sql).await);
        }
        sql_per_kind.entry(case.kind).or_default().extend(&runs);
        let p50 = summarize(runs, 0, 1.0).p50;
        eprintln!("  SQL {} `{}`: p50 {:.1} ms", case.kind, case.label, ms(p50));
        sql_per_case.push(p50);
    }
    db.close().await.unwrap_or_else(|e| fail(e));

    // 5. The figures.
    println!(
        "\nQueries over HTTP (GraphQL, partner token, one request at a time, {} runs each after 3 unmeasured), against naive SQL on the same database ({} runs each after one unmeasured; `LIKE '%…%'`, `count(*)`, a 20-row page, and `GROUP BY` per facet):\n",
        args.search_runs, args.sql_runs
    );
    println!("| kind | query | hits | p50 ms | p99 ms | SQL p50 ms | SQL ÷ search |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for ((case, total, p50, p99), sql) in per_case.iter().zip(&sql_per_case) {
        println!(
            "| {} | `{}` | {total} | {:.2} | {:.2} | {:.1} | {} |",
            case.kind,
            case.label,
            ms(*p50),
            ms(*p99),
            ms(*sql),
            ratio(*sql, *p50)
        );
    }
    println!("\n| kind | requests | p50 ms | p99 ms | SQL p50 ms | SQL ÷ search (p50) |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut all = Vec::new();
    let mut all_sql = Vec::new();
    for kind in KINDS {
        let latencies = per_kind.remove(kind).unwrap_or_default();
        let sql = sql_per_kind.remove(kind).unwrap_or_default();
        all.extend(&latencies);
        all_sql.extend(&sql);
        let f = summarize(latencies, 0, 1.0);
        let s = summarize(sql, 0, 1.0);
        println!(
            "| {kind} | {} | {:.2} | {:.2} | {:.1} | {} |",
            f.requests,
            ms(f.p50),
            ms(f.p99),
            ms(s.p50),
            ratio(s.p50, f.p50)
        );
    }
    let f = summarize(all, 0, 1.0);
    let s = summarize(all_sql, 0, 1.0);
    println!(
        "| **overall** | {} | **{:.2}** | **{:.2}** | {:.1} | **{}** |",
        f.requests,
        ms(f.p50),
        ms(f.p99),
        ms(s.p50),
        ratio(s.p50, f.p50)
    );
    println!(
        "\nSearch server memory: {:.1} MiB when ready, {:.1} MiB after the queries, peak {:.1} MiB (VmHWM, index opening included)",
        rss_ready as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        server_peak as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
