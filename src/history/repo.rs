//! Every SQL statement about the history.

use std::sync::LazyLock;

use serde::Serialize;
use sqlx::{FromRow, SqliteConnection, SqliteExecutor};

use super::model::FieldChange;
use crate::db::{CHUNKS, chunk_statements, execute_chunked};
use crate::error::AppError;

/// A change about to be recorded.
pub struct NewChange<'a> {
    pub scorecard_id: i64,
    pub workflow_id: Option<i64>,
    pub workflow_name: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub diff: &'a [FieldChange],
    pub snapshot: Option<String>,
    pub note: String,
}

impl<'a> NewChange<'a> {
    /// A change to one workflow.
    pub fn workflow(
        scorecard_id: i64,
        workflow_id: i64,
        workflow_name: &'a str,
        actor: &'a str,
        action: &'a str,
        diff: &'a [FieldChange],
    ) -> Self {
        NewChange {
            scorecard_id,
            workflow_id: Some(workflow_id),
            workflow_name,
            actor,
            action,
            diff,
            snapshot: None,
            note: String::new(),
        }
    }

    /// A change to the scorecard itself (settings, links).
    pub fn scorecard(
        scorecard_id: i64,
        actor: &'a str,
        action: &'a str,
        diff: &'a [FieldChange],
        note: String,
    ) -> Self {
        NewChange {
            scorecard_id,
            workflow_id: None,
            workflow_name: "",
            actor,
            action,
            diff,
            snapshot: None,
            note,
        }
    }
}

#[derive(Debug, Clone, FromRow)]
struct ChangeRow {
    id: i64,
    workflow_id: Option<i64>,
    workflow_name: String,
    actor: String,
    at: String,
    action: String,
    diff: String,
    snapshot: Option<String>,
    note: String,
}

/// A recorded change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: i64,
    pub workflow_id: Option<i64>,
    pub workflow_name: String,
    pub actor: String,
    pub at: String,
    pub action: String,
    pub diff: Vec<FieldChange>,
    #[serde(skip)]
    pub snapshot: Option<String>,
    pub note: String,
}

impl From<ChangeRow> for Change {
    fn from(r: ChangeRow) -> Change {
        Change {
            id: r.id,
            workflow_id: r.workflow_id,
            workflow_name: r.workflow_name,
            actor: r.actor,
            at: r.at,
            action: r.action,
            // Written by `record` from the same type: an unreadable diff shows as none.
            diff: serde_json::from_str(&r.diff).unwrap_or_default(),
            snapshot: r.snapshot,
            note: r.note,
        }
    }
}

/// Records one change.
pub async fn record(conn: &mut SqliteConnection, change: NewChange<'_>) -> Result<(), AppError> {
    record_all(conn, std::slice::from_ref(&change)).await?;
    Ok(())
}

/// Records changes in the order given, in as few statements as `CHUNKS` allows. Returns
/// how many it recorded.
pub async fn record_all(
    conn: &mut SqliteConnection,
    changes: &[NewChange<'_>],
) -> Result<u64, AppError> {
    let rows = changes
        .iter()
        .map(|c| Ok((c, serde_json::to_string(c.diff)?)))
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .map_err(|e| AppError::corrupt(e.to_string()))?;
    let written = execute_chunked(conn, &rows, &RECORD, |query, (c, diff)| {
        query
            .bind(c.scorecard_id)
            .bind(c.workflow_id)
            .bind(c.workflow_name)
            .bind(c.actor)
            .bind(c.action)
            .bind(diff.as_str())
            .bind(c.snapshot.as_deref())
            .bind(c.note.as_str())
    })
    .await?;
    Ok(written)
}

/// For each of `CHUNKS`, the statement that records that many changes.
static RECORD: LazyLock<[String; CHUNKS.len()]> = LazyLock::new(|| {
    chunk_statements(|size| {
        format!(
            "insert or rollback into changes
                (scorecard_id, workflow_id, workflow_name, actor, action, diff, snapshot, note)
             values {}",
            vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; size].join(", ")
        )
    })
});

const COLUMNS: &str = "id, workflow_id, workflow_name, actor, at, action, diff, snapshot, note";

/// The newest changes first; of one workflow when `workflow_id` is given.
pub async fn list(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    workflow_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Change>, AppError> {
    let rows: Vec<ChangeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from changes
         where scorecard_id = ?1 and (?2 is null or workflow_id = ?2)
         order by id desc limit ?3"
    )))
    .bind(scorecard_id)
    .bind(workflow_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Change::from).collect())
}

pub async fn get(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    id: i64,
) -> Result<Option<Change>, AppError> {
    let row: Option<ChangeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from changes where scorecard_id = ? and id = ?"
    )))
    .bind(scorecard_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Change::from))
}
