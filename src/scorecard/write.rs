//! One change to one scorecard, from `BEGIN IMMEDIATE` to the cache and the open pages.
//!
//! A write's first statement bumps the scorecard's revision, so the transaction knows the
//! revision it will commit. If the cache holds the scorecard at the revision just before,
//! that snapshot is exactly what the database held when this transaction took SQLite's
//! write lock, and it stays so until the commit: the writer reads the stored workflows
//! from it instead of asking the database. After committing, the writer hands the cache
//! what it changed, and the cache follows in memory (see `snapshot`).

use std::sync::Arc;

use super::model::{Scorecard, Workflow, name_key};
use super::repo;
use super::snapshot::Snapshot;
use crate::app::AppState;
use crate::db::WriteTx;
use crate::error::AppResult;
use crate::live::LiveEvent;

/// What a write changed of the state a `Snapshot` holds, so the cache can follow it.
#[derive(Debug)]
pub enum Touched<'a> {
    /// These workflows as committed (`None`: deleted). Empty when only the scorecard's row
    /// changed, or what no snapshot holds (votes).
    Known(Vec<(i64, Option<Workflow>)>),
    /// These workflows changed; read them back before committing.
    ReadBack(&'a [i64]),
    /// Too much to follow row by row (an import, a change of currency).
    Everything,
}

impl Touched<'_> {
    /// Nothing a snapshot holds besides the scorecard's revision.
    pub fn nothing() -> Touched<'static> {
        Touched::Known(Vec::new())
    }
}

/// A write transaction on one scorecard.
pub struct Write {
    pub tx: WriteTx,
    /// The scorecard's row as this transaction will commit it (at the new revision).
    pub scorecard: Scorecard,
    /// The stored state as of the transaction's start, when the cache holds it.
    known: Option<Arc<Snapshot>>,
    /// The scorecard's row was changed after the bump and must be read back.
    row_changed: bool,
}

/// Begins a change to the scorecard `scorecard_id`.
pub async fn begin(state: &AppState, scorecard_id: i64) -> AppResult<Write> {
    let mut tx = state.db.begin_write().await?;
    let scorecard = repo::bump_revision(&mut *tx, scorecard_id).await?;
    let known = state.cache.at(scorecard_id, scorecard.revision - 1);
    Ok(Write {
        tx,
        scorecard,
        known,
        row_changed: false,
    })
}

impl Write {
    /// A stored workflow of this scorecard.
    pub async fn workflow(&mut self, id: i64) -> AppResult<Option<Workflow>> {
        match &self.known {
            Some(known) => Ok(known
                .position(id)
                .and_then(|at| known.workflow(at).cloned())),
            None => repo::get_workflow(&mut *self.tx, self.scorecard.id, id).await,
        }
    }

    /// The id of the workflow with this name, ignoring case.
    pub async fn workflow_named(&mut self, name: &str) -> AppResult<Option<i64>> {
        match &self.known {
            Some(known) => Ok(known.find_key(&name_key(name))),
            None => repo::find_workflow_by_name(&mut *self.tx, self.scorecard.id, name).await,
        }
    }

    /// How many workflows the scorecard holds.
    pub async fn count(&mut self) -> AppResult<usize> {
        match &self.known {
            Some(known) => Ok(known.len()),
            None => Ok(repo::count_workflows(&mut *self.tx, self.scorecard.id).await? as usize),
        }
    }

    /// Notes that the scorecard's own row (settings, links, walk position) changed.
    pub fn row_changed(&mut self) {
        self.row_changed = true;
    }

    /// Commits, brings the cached scorecard up to date and tells every open page with a
    /// `changed` event. Returns the new revision.
    pub async fn finish(self, state: &AppState, touched: Touched<'_>) -> AppResult<i64> {
        self.finish_with(state, touched, |revision| LiveEvent::Changed { revision })
            .await
    }

    /// `finish`, publishing the event `event` makes of the new revision.
    pub async fn finish_with(
        mut self,
        state: &AppState,
        touched: Touched<'_>,
        event: impl FnOnce(i64) -> LiveEvent,
    ) -> AppResult<i64> {
        let id = self.scorecard.id;
        if self.row_changed {
            self.scorecard = repo::get_scorecard(&mut *self.tx, id)
                .await?
                .ok_or(crate::error::AppError::NotFound)?;
        }
        // Read back inside the transaction: exactly what commits.
        let changed = match touched {
            Touched::Known(rows) => Some(rows),
            Touched::ReadBack(ids) => {
                let mut rows = Vec::with_capacity(ids.len());
                for &workflow in ids {
                    rows.push((
                        workflow,
                        repo::get_workflow(&mut *self.tx, id, workflow).await?,
                    ));
                }
                Some(rows)
            }
            Touched::Everything => None,
        };
        self.tx.commit().await?;
        // Let go of the old snapshot first, so the cache can update it in place.
        drop(self.known);
        let revision = self.scorecard.revision;
        match changed {
            Some(rows) => state.cache.apply(&state.catalog, self.scorecard, rows),
            None => state.cache.invalidate(id, revision),
        }
        state.hub.publish(id, event(revision));
        Ok(revision)
    }
}
