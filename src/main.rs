//! `parkgraph`: serve the registry, migrate its database, print its schema, seed it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use parkgraph::anyhow_free::Failure;
use parkgraph::{Config, open};
use parkgraph_persistence::seed;
use tracing_subscriber::EnvFilter;

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
    /// Load data into an empty database (after migrating it).
    Seed {
        /// The Wuhan sample dataset.
        #[arg(long, conflicts_with = "synthetic", required_unless_present = "synthetic")]
        sample: bool,
        /// A deterministic synthetic registry of N enterprises, for benchmarks.
        #[arg(long, value_name = "N")]
        synthetic: Option<usize>,
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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    match run(cli.command.unwrap_or(Command::Serve { listen: None, no_migrate: false, no_seed: false }), config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("parkgraph: {err}");
            ExitCode::FAILURE
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
            match revert {
                Some(steps) => {
                    parkgraph_persistence::migrate_down(&db, Some(steps)).await?;
                    println!("reverted {steps} migration(s)");
                }
                None => {
                    parkgraph_persistence::migrate_up(&db).await?;
                    println!("migrations applied");
                }
            }
            Ok(())
        }
        Command::Schema => {
            print!("{}", parkgraph_api::sdl());
            Ok(())
        }
        Command::Seed { sample, synthetic } => {
            let db = open(&config).await?;
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
