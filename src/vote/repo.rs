//! Every SQL statement about votes.

use sqlx::{FromRow, SqliteExecutor};

use super::model::Ballot;
use crate::error::AppError;
use crate::scorecard::model::Verdict;

#[derive(Debug, Clone)]
pub struct Vote {
    pub id: i64,
    pub workflow_id: i64,
    pub opened_by: String,
    pub revealed: bool,
}

#[derive(FromRow)]
struct VoteRow {
    id: i64,
    workflow_id: i64,
    opened_by: String,
    revealed: bool,
}

impl From<VoteRow> for Vote {
    fn from(r: VoteRow) -> Vote {
        Vote {
            id: r.id,
            workflow_id: r.workflow_id,
            opened_by: r.opened_by,
            revealed: r.revealed,
        }
    }
}

const COLUMNS: &str = "id, workflow_id, opened_by, revealed_at is not null as revealed";

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    workflow_id: i64,
    opened_by: &str,
) -> Result<i64, AppError> {
    Ok(
        sqlx::query("insert into votes (scorecard_id, workflow_id, opened_by) values (?, ?, ?)")
            .bind(scorecard_id)
            .bind(workflow_id)
            .bind(opened_by)
            .execute(db)
            .await?
            .last_insert_rowid(),
    )
}

pub async fn get(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    id: i64,
) -> Result<Option<Vote>, AppError> {
    let row: Option<VoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from votes where scorecard_id = ? and id = ?"
    )))
    .bind(scorecard_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Vote::from))
}

/// The workflow's most recent vote, open or revealed.
pub async fn latest(
    db: impl SqliteExecutor<'_>,
    workflow_id: i64,
) -> Result<Option<Vote>, AppError> {
    let row: Option<VoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from votes where workflow_id = ? order by id desc limit 1"
    )))
    .bind(workflow_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Vote::from))
}

/// The workflow's open (unrevealed) vote, if any.
pub async fn open_vote(
    db: impl SqliteExecutor<'_>,
    workflow_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar(
        "select id from votes where workflow_id = ? and revealed_at is null order by id desc limit 1",
    )
    .bind(workflow_id)
    .fetch_optional(db)
    .await?)
}

pub async fn cast(
    db: impl SqliteExecutor<'_>,
    vote_id: i64,
    participant: &str,
    voter_name: &str,
    verdict: Verdict,
) -> Result<(), AppError> {
    sqlx::query(
        "insert into ballots (vote_id, participant, voter_name, verdict) values (?, ?, ?, ?)
         on conflict (vote_id, participant) do update
         set verdict = excluded.verdict, voter_name = excluded.voter_name,
             cast_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(vote_id)
    .bind(participant)
    .bind(voter_name)
    .bind(verdict.as_str())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn reveal(db: impl SqliteExecutor<'_>, vote_id: i64) -> Result<(), AppError> {
    sqlx::query(
        "update votes set revealed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ?",
    )
    .bind(vote_id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn ballots(db: impl SqliteExecutor<'_>, vote_id: i64) -> Result<Vec<Ballot>, AppError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "select participant, voter_name, verdict from ballots where vote_id = ? order by cast_at, participant",
    )
    .bind(vote_id)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(participant, voter_name, verdict)| {
            Ok(Ballot {
                participant,
                voter_name,
                verdict: Verdict::parse(&verdict).map_err(AppError::corrupt)?,
            })
        })
        .collect()
}
