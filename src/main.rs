//! `parkgraph`: serve the registry, migrate its database, print its schema, seed it, print
//! its change feed, rebuild its search index.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use parkgraph::anyhow_free::Failure;
use parkgraph::config::LogFormat;
use parkgraph::{Config, open};
use parkgraph_persistence::seed;
use tracing_subscriber::EnvFilter;

/// The process's allocator. Profiles of a bulk import and of the server under read load
/// both showed a large share of their samples in the system allocator (`malloc`,
/// `free`, `malloc_consolidate`): requests and batches allocate and free many small
/// values across threads, which mimalloc's thread-local free lists serve cheaply.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ParkGraph: a registry of a city's innovation economy, served over GraphQL.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (TOML). Default: ./parkgraph.toml when present.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL (overrides the configuration): sqlite://FILE?mode=rwc or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the GraphQL API (the default command).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Do not run pending migrations at start.
        #[arg(long)]
        no_migrate: bool,
        /// Do not load the sample into an empty embedded database.
        #[arg(long)]
        no_seed: bool,
    },
    /// Apply pending migrations, or revert some.
    Migrate {
        /// Revert this many migrations instead of applying.
        #[arg(long, value_name = "N")]
        revert: Option<u32>,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Issue, list and revoke API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Load data into an empty database (after migrating it).
    Seed {
        /// The Wuhan sample dataset.
        #[arg(long, conflicts_with = "synthetic", required_unless_present = "synthetic")]
        sample: bool,
        /// A deterministic synthetic registry of N enterprises, for benchmarks.
        #[arg(long, value_name = "N")]
        synthetic: Option<usize>,
    },
    /// Import organizations (with their parks, designations and incubators) from a CSV or
    /// XLSX file, headers in Chinese or English. Rows are matched by id, USCC, or name and
    /// city; refused rows go to FILE.errors.csv beside the input.
    Import {
        /// The spreadsheet (CSV in UTF-8 or GBK/GB18030, or XLSX).
        file: PathBuf,
        /// Report what would be created, changed (field by field) and refused; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// `abort`: write nothing when any row is refused (all or nothing); `skip`: write
        /// the good rows.
        #[arg(long, value_name = "abort|skip", default_value = "abort")]
        on_error: parkgraph_registry::import::OnError,
        /// Who the revisions and feed entries name (default cli:$USER).
        #[arg(long)]
        actor: Option<String>,
        /// Print every row's outcome (a dry run always does).
        #[arg(long)]
        details: bool,
    },
    /// Export a list (organizations, enterprises, parks, incubators, innovationCenters,
    /// secondHeadquarters, figures) as CSV for Excel, XLSX or NDJSON, filtered with the
    /// API's filter for that list.
    Export {
        /// The list, named as the API's root field.
        kind: String,
        /// csv (UTF-8 with BOM, Chinese headers), xlsx (typed cells) or ndjson.
        #[arg(long, default_value = "csv")]
        format: parkgraph_bulk::out::OutFormat,
        /// The list's `filter` argument as JSON, e.g. '{"city": "武汉"}'.
        #[arg(long)]
        filter: Option<String>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Leave out staff-only columns (contacts, notes).
        #[arg(long)]
        public: bool,
    },
    /// Rebuild the search index (`search.index_dir`) from the database, with a progress
    /// bar on a terminal. A running server rebuilds its own index when it finds it
    /// missing, corrupt or out of date; this does it by hand (stop the server first: one
    /// process writes an index at a time).
    Reindex,
    /// Print the change feed as NDJSON (one JSON object per line, each with its `seq` and
    /// `cursor`), paging to the end of the feed or `--limit` lines.
    Changes {
        /// Start after this feed cursor or `seq` (from the first change when omitted).
        #[arg(long, value_name = "CURSOR_OR_SEQ")]
        after: Option<String>,
        /// Print at most N changes.
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        /// Only these entity types, comma-separated (e.g. organization,park).
        #[arg(long)]
        types: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token and print it (shown this once only).
    Issue {
        /// Partner name (required for the partner role; created on first use).
        #[arg(long)]
        partner: Option<String>,
        /// admin, editor, analyst or partner (any case).
        #[arg(long)]
        role: String,
        /// Comma-separated scopes, e.g. read:parks,read:organizations (default: all the role allows, except read:changes for a partner).
        #[arg(long)]
        scopes: Option<String>,
        /// Lifetime, e.g. 90d, 12h, 30m.
        #[arg(long, default_value = "90d")]
        ttl: String,
        /// Subject (default partner:<name> or staff:<role>).
        #[arg(long)]
        subject: Option<String>,
        /// Free-text description.
        #[arg(long)]
        description: Option<String>,
    },
    /// List tokens, newest first.
    List {
        /// Only this partner's tokens.
        #[arg(long)]
        partner: Option<String>,
    },
    /// Revoke a token by its jti.
    Revoke {
        /// The token's jti (a UUID).
        jti: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("parkgraph: configuration: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    let log_format = config.log_format;
    logging(&config.log, log_format);

    match run(cli.command.unwrap_or(Command::Serve { listen: None, no_migrate: false, no_seed: false }), config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match log_format {
                LogFormat::Json => tracing::error!(error = %err, "parkgraph failed"),
                LogFormat::Text => eprintln!("parkgraph: {err}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// Log lines go to stderr, one per event: readable text (coloured only on a terminal,
/// and never when `NO_COLOR` is set), or JSON objects. The filter is `RUST_LOG` when set,
/// else `log`; the migrator's own progress lines are left out unless the filter names
/// `sea_orm_migration`, since ParkGraph reports what was migrated in one line of its own.
fn logging(log: &str, format: LogFormat) {
    let directives = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| log.to_string());
    let directives = if directives.contains("sea_orm_migration") {
        directives
    } else {
        format!("{directives},sea_orm_migration=warn")
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|err| {
        eprintln!("parkgraph: the log filter {directives:?} does not parse ({err}); logging at info");
        EnvFilter::new("info,sea_orm_migration=warn")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            builder.with_ansi(colour).init();
        }
    }
}

async fn run(command: Command, mut config: Config) -> Result<(), Failure> {
    match command {
        Command::Serve { listen, no_migrate, no_seed } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            config.migrate_on_start &= !no_migrate;
            config.seed_sample_if_empty &= !no_seed;
            parkgraph::serve(&config).await
        }
        Command::Migrate { revert } => {
            let db = open(&config).await?;
            // One line on stdout says what changed; the migrator's own log lines are
            // filtered out (see `logging`).
            match revert {
                Some(steps) => {
                    let reverted = parkgraph_persistence::migrate_down(&db, Some(steps)).await?;
                    match reverted.as_slice() {
                        [] => println!("no migration to revert"),
                        names => println!("reverted {} migration(s): {}", names.len(), names.join(", ")),
                    }
                }
                None => match parkgraph_persistence::migrate_up(&db).await?.as_slice() {
                    [] => println!("the database schema is up to date"),
                    names => println!("applied {} migration(s): {}", names.len(), names.join(", ")),
                },
            }
            Ok(())
        }
        Command::Token { command } => token(command, &config).await,
        Command::Changes { after, limit, types } => {
            let types = types.map(|t| parkgraph::changes::entity_types(&t)).transpose()?;
            let db = open(&config).await?;
            parkgraph::changes::print(db, after, limit, types, &mut std::io::stdout().lock()).await?;
            Ok(())
        }
        Command::Import { file, dry_run, on_error, actor, details } => {
            let db = parkgraph::open_for_bulk(&config).await?;
            parkgraph_persistence::migrate_up(&db).await?;
            let actor = actor.unwrap_or_else(parkgraph::import::default_actor);
            let options = parkgraph::import::ImportOptions { dry_run, on_error, actor, details };
            // Buffered: a dry run of a large file prints a line per row and field.
            let mut out = std::io::BufWriter::new(std::io::stdout());
            let result = parkgraph::import::run(db, &file, options, &mut out).await;
            std::io::Write::flush(&mut out)?;
            result?;
            Ok(())
        }
        Command::Export { kind, format, filter, output, public } => {
            let db = open(&config).await?;
            let out: Box<dyn std::io::Write + Send> = match &output {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?,
                ),
                None => Box::new(std::io::stdout()),
            };
            let options = parkgraph::export::ExportOptions { kind, format, filter, public };
            let rows = parkgraph::export::run(db, options, out).await?;
            if let Some(path) = output {
                eprintln!("exported {rows} rows to {}", path.display());
            }
            Ok(())
        }
        Command::Reindex => {
            // A rebuild only reads, in order: the operating system's file cache serves it,
            // and a bulk-sized page cache per pooled connection only holds memory (about
            // 1 GiB for a million firms).
            let db = parkgraph::open(&config).await?;
            let started = std::time::Instant::now();
            let (documents, dir) = parkgraph::search::reindex(&config, &db).await?;
            println!("indexed {documents} records into {} in {:.1}s", dir.display(), started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Schema => {
            print!("{}", parkgraph_api::sdl());
            Ok(())
        }
        Command::Seed { sample, synthetic } => {
            let db = parkgraph::open_for_bulk(&config).await?;
            parkgraph_persistence::migrate_up(&db).await?;
            let started = std::time::Instant::now();
            let report = match (sample, synthetic) {
                (_, Some(n)) => seed::synthetic::load(&db, n).await?,
                _ => seed::sample::load(&db).await?,
            };
            println!("loaded {report} in {:.1}s", started.elapsed().as_secs_f64());
            Ok(())
        }
    }
}

async fn token(command: TokenCommand, config: &Config) -> Result<(), Failure> {
    use parkgraph_domain::{Role, Scope};
    use parkgraph_persistence::access;
    use parkgraph_registry::token::{IssueRequest, issue};

    let db = open(config).await?;
    parkgraph_persistence::migrate_up(&db).await?;
    match command {
        TokenCommand::Issue { partner, role, scopes, ttl, subject, description } => {
            let role: Role = role.parse().map_err(|e| Failure(format!("--role: {e}")))?;
            let scopes =
                scopes.map(|s| Scope::parse_list(&s)).transpose().map_err(|e| Failure(format!("--scopes: {e}")))?;
            let ttl = parkgraph_api::mutation::humantime_like(&ttl).map_err(|e| Failure(format!("--ttl: {e}")))?;
            let auth = parkgraph::authenticator(config, &db)?;
            let request = IssueRequest { partner, role, scopes, ttl, subject, description, issued_by: None };
            let (token, record) = issue(&db, auth.keys(), request).await.map_err(|e| Failure(e.to_string()))?;
            eprintln!(
                "issued {} token {} for {} (scopes: {}), expires {}; it is shown once, below:",
                record.role, record.jti, record.subject, record.scopes, record.expires_at
            );
            println!("{token}");
        }
        TokenCommand::List { partner } => {
            let partner_id = match partner {
                Some(name) => Some(access::partner_named(&db, &name, chrono::Utc::now()).await?.id),
                None => None,
            };
            println!("{:<36}  {:<8}  {:<26}  {:<20}  {:<20}  scopes", "jti", "role", "subject", "expires", "revoked");
            for t in access::tokens(&db, partner_id, 1000).await? {
                println!(
                    "{:<36}  {:<8}  {:<26}  {:<20}  {:<20}  {}",
                    t.jti,
                    t.role,
                    t.subject,
                    t.expires_at.format("%Y-%m-%d %H:%M"),
                    t.revoked_at.map(|r| r.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into()),
                    t.scopes
                );
            }
        }
        TokenCommand::Revoke { jti } => {
            let jti = uuid::Uuid::parse_str(jti.trim())
                .map_err(|_| Failure(format!("{jti:?} is not a token id (a UUID)")))?;
            let record = access::revoke(&db, jti, chrono::Utc::now()).await?;
            println!(
                "revoked {} ({}); replicas refuse it within {} s",
                record.jti, record.subject, config.auth.revocation_cache_seconds
            );
        }
    }
    Ok(())
}
