//! Silent votes on a workflow's verdict: each participant votes privately, the facilitator
//! reveals, and the distribution, the result and every dissent go into the history.

pub mod model;
pub mod repo;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::history::model::FieldChange;
use crate::history::repo::{self as history, NewChange};
use crate::scorecard::model::{Scorecard, Verdict};
use crate::scorecard::repo as scorecards;
use crate::scorecard::write::{self, Touched, Write};
use model::Tally;

/// Ends a change to votes: they are not part of the cached scorecard, so no workflow is
/// touched.
async fn finish(state: &AppState, w: Write) -> AppResult<()> {
    w.finish(state, Touched::nothing()).await.map(|_| ())
}

/// Opens a vote on a workflow, unless one is already open there.
pub async fn open(
    state: &AppState,
    scorecard: &Scorecard,
    workflow_id: i64,
    actor: &str,
) -> AppResult<()> {
    let mut w = write::begin(state, scorecard.id).await?;
    scorecards::get_workflow(&mut *w.tx, scorecard.id, workflow_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if repo::open_vote(&mut *w.tx, workflow_id).await?.is_none() {
        repo::insert(&mut *w.tx, scorecard.id, workflow_id, actor).await?;
    }
    finish(state, w).await
}

/// Casts or changes a participant's ballot in an open vote. Returns false when the vote
/// is no longer open.
pub async fn cast(
    state: &AppState,
    scorecard: &Scorecard,
    vote_id: i64,
    participant: &str,
    voter_name: &str,
    verdict: Verdict,
) -> AppResult<bool> {
    let mut w = write::begin(state, scorecard.id).await?;
    let vote = repo::get(&mut *w.tx, scorecard.id, vote_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if vote.revealed {
        return Ok(false);
    }
    repo::cast(&mut *w.tx, vote_id, participant, voter_name, verdict).await?;
    finish(state, w).await?;
    Ok(true)
}

/// Reveals a vote and records its result and dissents in the workflow's history.
pub async fn reveal(
    state: &AppState,
    scorecard: &Scorecard,
    vote_id: i64,
    actor: &str,
) -> AppResult<()> {
    let mut w = write::begin(state, scorecard.id).await?;
    let vote = repo::get(&mut *w.tx, scorecard.id, vote_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if vote.revealed {
        return Ok(());
    }
    let workflow = scorecards::get_workflow(&mut *w.tx, scorecard.id, vote.workflow_id)
        .await?
        .ok_or(AppError::NotFound)?;
    repo::reveal(&mut *w.tx, vote_id).await?;
    let ballots = repo::ballots(&mut *w.tx, vote_id).await?;
    let tally = Tally::of(&ballots);
    let votes: Vec<FieldChange> = ballots
        .iter()
        .map(|b| FieldChange {
            field: format!("vote of {}", b.voter_name),
            before: String::new(),
            after: b.verdict.as_str().to_string(),
        })
        .collect();
    history::record(
        &mut w.tx,
        NewChange {
            note: tally.summary(),
            ..NewChange::workflow(
                scorecard.id,
                workflow.id,
                &workflow.fields.name,
                actor,
                "vote",
                &votes,
            )
        },
    )
    .await?;
    finish(state, w).await
}
