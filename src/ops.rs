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
    config.create_data_dir()?;
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
    config.create_data_dir()?;
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

/// The whole instance as JSON: every scorecard with its settings, share links and
/// workflows (each workflow under the CSV's column names). History and votes are not
/// included: this moves scorecards between servers; a backup keeps everything.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct InstanceExport {
    pub format: String,
    pub version: u32,
    pub scorecards: Vec<ScorecardExport>,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ScorecardExport {
    pub name: String,
    pub currency: String,
    pub small_ratio: String,
    pub edit_token: String,
    pub view_token: String,
    pub workflows: Vec<std::collections::BTreeMap<String, String>>,
}

const FORMAT: &str = "scorecard-instance";

/// `scorecard export [FILE]`: to FILE, or to standard output.
pub async fn export(config: &Config, file: Option<&Path>) -> Result<String, String> {
    use crate::scorecard::{csv::cell, input::Column, repo};
    let db = open(config).await?;
    let fail = |e: crate::error::AppError| format!("cannot read the database: {e}");
    let mut scorecards = Vec::new();
    for s in repo::all_scorecards(db.reader()).await.map_err(fail)? {
        let workflows = repo::list_workflows(db.reader(), s.id)
            .await
            .map_err(fail)?;
        scorecards.push(ScorecardExport {
            name: s.name.clone(),
            currency: s.currency.code.to_string(),
            small_ratio: s.small_ratio.to_string(),
            edit_token: s.edit_token.clone(),
            view_token: s.view_token.clone(),
            workflows: workflows
                .iter()
                .map(|w| {
                    Column::ALL
                        .into_iter()
                        .map(|c| (c.as_str().to_string(), cell(&w.fields, c, s.currency)))
                        .collect()
                })
                .collect(),
        });
    }
    db.close().await;
    let export = InstanceExport {
        format: FORMAT.into(),
        version: 1,
        scorecards,
    };
    let json = serde_json::to_string_pretty(&export).map_err(|e| e.to_string())?;
    let summary = format!(
        "exported {} scorecards and {} workflows",
        export.scorecards.len(),
        export
            .scorecards
            .iter()
            .map(|s| s.workflows.len())
            .sum::<usize>()
    );
    match file {
        Some(path) => {
            if path.exists() {
                return Err(format!(
                    "{} already exists: choose a new file name",
                    path.display()
                ));
            }
            std::fs::write(path, json)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(format!("{summary} to {}", path.display()))
        }
        None => {
            println!("{json}");
            Ok(summary)
        }
    }
}

/// `scorecard import FILE`: adds every scorecard of an export, keeping its share links.
/// All or nothing: any problem and nothing is imported.
pub async fn import(config: &Config, file: &Path) -> Result<String, String> {
    use crate::catalog::Catalog;
    use crate::scorecard::input::{self, Column, Context, RawWorkflow};
    use crate::scorecard::model::parse_name;
    use crate::scorecard::money::{Currency, Ratio};
    use crate::scorecard::{repo, token};

    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let export: InstanceExport = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a scorecard export: {e}", file.display()))?;
    if export.format != FORMAT || export.version != 1 {
        return Err(format!(
            "{} is not a version 1 scorecard export (format {:?}, version {})",
            file.display(),
            export.format,
            export.version
        ));
    }
    let catalog = Catalog::bundled();
    let db = open(config).await?;
    let fail = |e: crate::error::AppError| format!("cannot write the database: {e}");
    let mut tx = db
        .begin_write()
        .await
        .map_err(|e| format!("cannot write the database: {e}"))?;
    let mut problems = Vec::new();
    let mut added = (0, 0);
    for (n, s) in export.scorecards.iter().enumerate() {
        let at = format!("scorecard {} ({:?})", n + 1, s.name);
        let (name, currency, ratio) = match (
            parse_name(&s.name),
            Currency::parse(&s.currency),
            Ratio::parse(&s.small_ratio),
        ) {
            (Ok(name), Ok(currency), Ok(ratio)) => (name, currency, ratio),
            (name, currency, ratio) => {
                for e in [
                    name.err(),
                    currency.err().map(|e| e.to_string()),
                    ratio.err(),
                ]
                .into_iter()
                .flatten()
                {
                    problems.push(format!("{at}: {e}"));
                }
                continue;
            }
        };
        let mut tokens_ok = true;
        for t in [&s.edit_token, &s.view_token] {
            if !token::well_formed(t) {
                problems.push(format!("{at}: {t:?} is not a share token"));
                tokens_ok = false;
            } else if repo::token_in_use(&mut *tx, t).await.map_err(fail)? {
                problems.push(format!(
                    "{at}: its share links are already on this server (imported before?)"
                ));
                tokens_ok = false;
            }
        }
        if !tokens_ok {
            continue;
        }
        let id = repo::insert_scorecard(&mut *tx, &name, currency, &s.edit_token, &s.view_token)
            .await
            .map_err(fail)?;
        repo::set_ratio(&mut *tx, id, ratio).await.map_err(fail)?;
        let ctx = Context {
            currency,
            catalog: &catalog,
        };
        let mut seen = std::collections::HashSet::new();
        for (i, cells) in s.workflows.iter().enumerate() {
            let mut raw = RawWorkflow::default();
            for (key, value) in cells {
                match Column::parse(key) {
                    Some(c) => raw.set(c, value.as_str()),
                    None => {
                        problems.push(format!("{at}, workflow {}: unknown field {key:?}", i + 1))
                    }
                }
            }
            match input::apply(&raw, None, ctx) {
                Ok(fields) if seen.insert(crate::scorecard::model::name_key(&fields.name)) => {
                    repo::insert_workflow(&mut *tx, id, &fields)
                        .await
                        .map_err(fail)?;
                    added.1 += 1;
                }
                Ok(fields) => {
                    problems.push(format!("{at}: workflow {:?} appears twice", fields.name))
                }
                Err(errors) => {
                    for (c, m) in errors.0 {
                        problems.push(format!("{at}, workflow {}: {}: {m}", i + 1, c.as_str()));
                    }
                }
            }
        }
        added.0 += 1;
    }
    if !problems.is_empty() {
        drop(tx);
        db.close().await;
        return Err(format!("nothing was imported: {}", problems.join("; ")));
    }
    tx.commit()
        .await
        .map_err(|e| format!("cannot write the database: {e}"))?;
    db.close().await;
    Ok(format!(
        "imported {} scorecards and {} workflows from {}",
        added.0,
        added.1,
        file.display()
    ))
}
