//! The search index of a server: where it lives (`search.index_dir`), opening it (or
//! rebuilding it from the database when it is missing, corrupt, of another schema version
//! or out of step with the feed), the follower that keeps it in sync, and `parkgraph
//! reindex`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parkgraph_persistence::sea_orm::DatabaseConnection;
use parkgraph_search::{Opened, Progress, SearchIndex};

use crate::Config;
use crate::anyhow_free::Failure;

/// The index directory of a configuration: `search.index_dir` when set; else beside an
/// SQLite file (`parkgraph.db` → `parkgraph.search/`); else a directory under the system's
/// temporary directory named after the database URL and the listen address, so replicas
/// on one machine do not share one.
pub fn index_dir(config: &Config) -> PathBuf {
    if let Some(dir) = &config.search.index_dir {
        return dir.clone();
    }
    if let Some(path) = crate::keys::dev_key_path(&config.database_url) {
        let name = path.file_name().map(|n| n.to_string_lossy().replace(".keys.json", ".search"));
        if let Some(name) = name {
            return path.with_file_name(name);
        }
    }
    // FNV-1a: a stable name, not a secret (the URL itself is never written out).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in config.database_url.bytes().chain([0]).chain(config.listen.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    std::env::temp_dir().join(format!("parkgraph-search-{hash:016x}"))
}

fn bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("indexing [{bar:40}] {pos}/{len} records, {per_sec}, {eta} left")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

fn reporter(bar: &Option<ProgressBar>) -> impl Fn(Progress) + '_ {
    move |p| {
        if let Some(bar) = bar {
            match p {
                Progress::Total(n) => bar.set_length(n),
                Progress::Written(n) => bar.inc(n),
            }
        }
    }
}

/// Opens the configured index (rebuilding it when needed, with a progress bar on a
/// terminal), catches it up with the feed, and starts its follower.
pub async fn start(config: &Config, db: &DatabaseConnection) -> Result<Arc<SearchIndex>, Failure> {
    let dir = index_dir(config);
    let bar = bar();
    let (index, opened) = SearchIndex::open(&dir, db, &reporter(&bar))
        .await
        .map_err(|e| Failure(format!("cannot open the search index in {}: {e}", dir.display())))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match opened {
        Opened::Existing { seq } => tracing::info!(dir = %dir.display(), seq, "search index opened"),
        Opened::Rebuilt { reason, documents } => {
            tracing::info!(dir = %dir.display(), documents, %reason, "search index rebuilt");
        }
    }
    let index = Arc::new(index);
    index.catch_up(db).await.map_err(|e| Failure(format!("the search index cannot follow the feed: {e}")))?;
    parkgraph_search::follow::spawn(
        index.clone(),
        db.clone().into(),
        Duration::from_millis(config.search.poll_ms.max(10)),
    );
    Ok(index)
}

/// `parkgraph reindex`: rebuilds the configured index from the database. Returns the
/// documents written and the directory.
pub async fn reindex(config: &Config, db: &DatabaseConnection) -> Result<(u64, PathBuf), Failure> {
    let dir = index_dir(config);
    let bar = bar();
    let (_, documents) = SearchIndex::rebuild_in(&dir, db, &reporter(&bar))
        .await
        .map_err(|e| Failure(format!("cannot rebuild the search index in {}: {e}", dir.display())))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok((documents, dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_sits_beside_an_sqlite_file_and_elsewhere_in_a_temporary_directory() {
        let mut config = Config { database_url: "sqlite:///var/lib/pg/x.db?mode=rwc".into(), ..Config::default() };
        assert_eq!(index_dir(&config), PathBuf::from("/var/lib/pg/x.search"));
        config.database_url = "postgres://u:p@db/parkgraph".into();
        let a = index_dir(&config);
        assert!(a.starts_with(std::env::temp_dir()), "{}", a.display());
        assert!(!a.to_string_lossy().contains("u:p"), "the URL is not written out");
        config.listen = "127.0.0.1:8081".into();
        assert_ne!(index_dir(&config), a, "two replicas on one machine get two directories");
        config.search.index_dir = Some(PathBuf::from("/srv/index"));
        assert_eq!(index_dir(&config), PathBuf::from("/srv/index"));
    }
}
