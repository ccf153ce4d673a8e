//! Operations commands: `scorecard backup FILE` and `scorecard restore FILE`.
//!
//! A backup is a consistent copy taken while the server runs (`VACUUM INTO`), checked
//! with SQLite's integrity check before it is reported done. A restore replaces the
//! database file with a checked backup; it refuses while a server answers on the
//! configured address, because a running server would keep writing to the old file.

use std::path::Path;

use crate::config::Config;
use crate::db::{self, Database};

/// `scorecard backup FILE`.
pub async fn backup(config: &Config, file: &Path) -> Result<String, String> {
    if file.exists() {
        return Err(format!(
            "{} already exists: choose a new file name, so no backup is overwritten",
            file.display()
        ));
    }
    let db = open(config).await?;
    let counts = counts(&db).await?;
    db.backup_to(file)
        .await
        .map_err(|e| format!("cannot write the backup to {}: {e}", file.display()))?;
    db.close().await;
    if let Some(problem) = db::integrity_of(file)
        .await
        .map_err(|e| format!("cannot read back {}: {e}", file.display()))?
    {
        let _ = std::fs::remove_file(file);
        return Err(format!(
            "the backup failed its integrity check ({problem}) and was removed"
        ));
    }
    Ok(format!(
        "backed up {counts} to {} (integrity check: ok)",
        file.display()
    ))
}

/// `scorecard restore FILE`.
pub async fn restore(config: &Config, file: &Path) -> Result<String, String> {
    if !file.is_file() {
        return Err(format!(
            "{} is not a file: give the path of a backup",
            file.display()
        ));
    }
    if let Some(problem) = db::integrity_of(file)
        .await
        .map_err(|e| format!("{} is not a SQLite database: {e}", file.display()))?
    {
        return Err(format!(
            "{} failed its integrity check ({problem}): nothing was restored",
            file.display()
        ));
    }
    if crate::app::healthcheck(config).await.is_ok() {
        return Err(format!(
            "a server is running on {}: stop it first, then restore",
            config.bind
        ));
    }
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            format!(
                "cannot create the data folder {}: {e}",
                config.data_dir.display()
            )
        })?;
    }
    let url = config.database_url();
    let target = db::file_of(&url)
        .map_err(|e| format!("{url} is not a database URL: {e}"))?
        .ok_or_else(|| {
            format!("{url} is an in-memory database: there is nothing to restore into")
        })?;
    // Copy beside the target, then rename over it: the old database stays whole until the
    // new one is complete.
    let staging = target.with_extension("restoring");
    std::fs::copy(file, &staging)
        .map_err(|e| format!("cannot copy to {}: {e}", staging.display()))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot flush {}: {e}", staging.display()))?;
    for stale in ["-wal", "-shm"] {
        let path = format!("{}{stale}", target.display());
        let _ = std::fs::remove_file(path);
    }
    std::fs::rename(&staging, &target)
        .map_err(|e| format!("cannot replace {}: {e}", target.display()))?;
    // Opening applies any migrations a backup from an older version lacks.
    let db = open(config).await?;
    let counts = counts(&db).await?;
    db.close().await;
    Ok(format!(
        "restored {counts} from {} into {}",
        file.display(),
        target.display()
    ))
}

async fn open(config: &Config) -> Result<Database, String> {
    let url = config.database_url();
    Database::connect(&url, config.sqlite_synchronous)
        .await
        .map_err(|e| format!("cannot open the database at {url}: {e}"))
}

async fn counts(db: &Database) -> Result<String, String> {
    let (scorecards, workflows): (i64, i64) = sqlx::query_as(
        "select (select count(*) from scorecards), (select count(*) from workflows)",
    )
    .fetch_one(db.reader())
    .await
    .map_err(|e| format!("cannot read the database: {e}"))?;
    Ok(format!("{scorecards} scorecards and {workflows} workflows"))
}
