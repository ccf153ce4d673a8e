//! Edits of stored workflows, committed in groups.
//!
//! SQLite commits one transaction at a time, and a commit costs more than the few rows
//! an edit changes (the write-ahead log, its checkpoints, the lock), as does each round
//! trip to the connection's thread. When a room saves at once, those costs would queue
//! the room behind one another. So edits queue here, and one task commits whatever has
//! queued in one transaction: an edit in a quiet moment commits at once, alone; under a
//! burst, each commit carries the edits that arrived while the one before it ran.
//!
//! Within a group each edit is checked in turn against the stored state as the edits
//! before it leave it (the cached snapshot, copied and patched as they go), exactly as if
//! each had its own transaction: a stale version, a name already taken or an invalid
//! field refuses that edit alone. The group is then written in three statements and
//! committed, and the cache takes the patched snapshot. Replies go out after the commit;
//! if it fails, every edit of the group fails and nothing of it is stored or shown.
//!
//! An edit whose request has gone (the client left, or the request timed out) before
//! its group is checked is skipped: nothing is saved that nobody is waiting for.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::input::{self, Column, Context, FieldErrors, RawWorkflow};
use super::model::{Workflow, name_key};
use super::repo::{self, RevisionChange};
use super::service::{SaveRejection, name_taken};
use super::snapshot::{Cache, Snapshot};
use crate::catalog::Catalog;
use crate::db::{Database, WriteTx};
use crate::error::{AppError, AppResult};
use crate::history::model::{FieldChange, diff};
use crate::history::repo::{self as history, NewChange};
use crate::live::{Hub, LiveEvent};

/// A change to one stored workflow, as a form posted it.
#[derive(Debug)]
pub struct Edit {
    pub scorecard_id: i64,
    pub workflow_id: i64,
    /// The version the form was made from; `None` saves over whatever is stored.
    pub version: Option<i64>,
    pub raw: RawWorkflow,
    /// Who made it, for the history.
    pub actor: String,
}

/// What became of an edit: the workflow's id, or why it was refused.
pub type Outcome = AppResult<Result<i64, SaveRejection>>;

/// The most edits one commit carries.
const MAX_GROUP: usize = 512;

/// How long the committing thread waits for more edits while they keep coming, in
/// steps, and at most.
const LINGER_STEP: std::time::Duration = std::time::Duration::from_micros(150);
const LINGER_MAX: std::time::Duration = std::time::Duration::from_millis(2);

/// Edits that may wait for the commit under way; beyond them, requests wait to queue.
const QUEUE: usize = 4096;

struct Queued {
    edit: Edit,
    reply: oneshot::Sender<Outcome>,
}

/// The queue of edits; cheap to clone.
#[derive(Clone)]
pub struct Edits {
    queue: mpsc::Sender<Queued>,
}

impl Edits {
    /// Starts the task that commits edits. It ends when every `Edits` is dropped.
    pub fn start(committer: Committer) -> std::io::Result<Edits> {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("edits".into())
            .spawn(move || runtime.block_on(run(waiting, committer)))?;
        Ok(Edits { queue })
    }

    /// Saves an edit once it is committed, or says why it was refused.
    pub async fn save(&self, edit: Edit) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        self.queue
            .send(Queued { edit, reply })
            .await
            .map_err(|_| AppError::Internal("the edit queue has stopped".into()))?;
        outcome
            .await
            .map_err(|_| AppError::Internal("the edit was dropped before its commit".into()))?
    }
}

/// What the committing task works with.
pub struct Committer {
    pub db: Database,
    pub cache: Arc<Cache>,
    pub catalog: Arc<Catalog>,
    pub hub: Hub,
}

async fn run(mut waiting: mpsc::Receiver<Queued>, committer: Committer) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut busy = false;
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        if busy || group.len() > 1 {
            linger(&mut waiting, &mut group);
        }
        busy = group.len() > 1;
        // Skip what nobody waits for any more.
        group.retain(|queued| !queued.reply.is_closed());
        let (edits, replies): (Vec<Edit>, Vec<_>) =
            group.drain(..).map(|q| (q.edit, q.reply)).unzip();
        if edits.is_empty() {
            continue;
        }
        // A panic fails this group, not the edits that come after it.
        let committed = AssertUnwindSafe(committer.commit(&edits))
            .catch_unwind()
            .await;
        let failure = match committed {
            Ok(Ok(outcomes)) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The request may have gone meanwhile; its edit is saved all the same.
                    let _ = reply.send(outcome);
                }
                continue;
            }
            Ok(Err(error)) => format!("committing {} edits failed: {error}", edits.len()),
            Err(_) => format!("committing {} edits panicked", edits.len()),
        };
        for reply in replies {
            let _ = reply.send(Err(AppError::Internal(failure.clone())));
        }
    }
}

/// While edits keep arriving, waits for them a little (at most `LINGER_MAX`), so that a
/// room saving at once commits together instead of in a string of small commits each
/// paying the full price of one.
fn linger(waiting: &mut mpsc::Receiver<Queued>, group: &mut Vec<Queued>) {
    let until = std::time::Instant::now() + LINGER_MAX;
    while group.len() < MAX_GROUP && std::time::Instant::now() < until {
        std::thread::sleep(LINGER_STEP);
        let before = group.len();
        while group.len() < MAX_GROUP {
            match waiting.try_recv() {
                Ok(queued) => group.push(queued),
                Err(_) => break,
            }
        }
        if group.len() == before {
            return;
        }
    }
}

/// A scorecard the group touches: its state as stored when the group began, then as the
/// group's edits leave it.
struct Touched {
    start: i64,
    snapshot: Arc<Snapshot>,
}

/// An edit that changes something, as the group writes it.
struct Accepted<'e> {
    scorecard_id: i64,
    /// The workflow as this edit leaves it.
    workflow: Workflow,
    changes: Vec<FieldChange>,
    actor: &'e str,
}

/// What a group writes.
#[derive(Default)]
struct Plan<'e> {
    /// In edit order.
    accepted: Vec<Accepted<'e>>,
    /// The name key each edited workflow had when the group began, by workflow id.
    start_keys: HashMap<i64, String>,
}

/// Where a group takes the stored state of the scorecards it touches from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The cache, as it is; the write checks each revision is still the one stored.
    Cache,
    /// Reads inside the transaction; used when the cache turned out to be behind.
    Transaction,
}

impl Committer {
    /// Checks and commits a group of edits in one transaction; returns what became of
    /// each, in order. An error fails the whole group, and nothing of it is stored.
    async fn commit(&self, edits: &[Edit]) -> AppResult<Vec<Outcome>> {
        if let Some(outcomes) = self.attempt(edits, Source::Cache).await? {
            return Ok(outcomes);
        }
        self.attempt(edits, Source::Transaction)
            .await?
            .ok_or_else(|| {
                AppError::Internal("the stored state changed under the write lock".into())
            })
    }

    /// One try at `commit`: `None` when a scorecard's revision was not the one the
    /// cache held (nothing is written then).
    async fn attempt(&self, edits: &[Edit], source: Source) -> AppResult<Option<Vec<Outcome>>> {
        let mut tx = self.db.begin_write().await?;
        let mut touched: Vec<Touched> = Vec::new();
        let mut plan = Plan::default();
        let mut outcomes = Vec::with_capacity(edits.len());
        for edit in edits {
            let Some(at) = self
                .touch(&mut tx, &mut touched, edit.scorecard_id, source)
                .await?
            else {
                outcomes.push(Err(AppError::NotFound));
                continue;
            };
            let snapshot = Arc::make_mut(&mut touched[at].snapshot);
            outcomes.push(check(snapshot, edit, &self.catalog, &mut plan));
        }
        if plan.accepted.is_empty() {
            // Nothing to write: refusals and edits that changed nothing.
            return Ok(Some(outcomes));
        }
        if !write(&mut tx, &touched, &plan).await? {
            return Ok(None);
        }
        tx.commit().await?;
        for t in touched {
            let revision = t.snapshot.revision();
            if revision != t.start {
                let id = t.snapshot.scorecard.id;
                self.cache.put(t.snapshot);
                self.hub.publish(id, LiveEvent::Changed { revision });
            }
        }
        Ok(Some(outcomes))
    }

    /// The index in `touched` of the scorecard `id`, adding it if it is not there yet;
    /// `None` if there is no such scorecard.
    async fn touch(
        &self,
        tx: &mut WriteTx,
        touched: &mut Vec<Touched>,
        id: i64,
        source: Source,
    ) -> AppResult<Option<usize>> {
        if let Some(at) = touched.iter().position(|t| t.snapshot.scorecard.id == id) {
            return Ok(Some(at));
        }
        let cached = match source {
            Source::Cache => self.cache.held(id),
            Source::Transaction => None,
        };
        let snapshot = match cached {
            Some(snapshot) => snapshot,
            None => match Snapshot::load(tx, &self.catalog, id).await? {
                Some(snapshot) => Arc::new(snapshot),
                None => return Ok(None),
            },
        };
        touched.push(Touched {
            start: snapshot.revision(),
            snapshot,
        });
        Ok(Some(touched.len() - 1))
    }
}

/// Checks one edit against `snapshot`; if it changes anything, adds it to the plan and
/// brings the snapshot to the state after it.
fn check<'e>(
    snapshot: &mut Snapshot,
    edit: &'e Edit,
    catalog: &Catalog,
    plan: &mut Plan<'e>,
) -> Outcome {
    let id = edit.workflow_id;
    let base = snapshot
        .position(id)
        .and_then(|at| snapshot.workflow(at))
        .ok_or(AppError::NotFound)?;
    if let Some(version) = edit.version
        && base.version != version
    {
        return Ok(Err(SaveRejection::Stale(Box::new(base.clone()))));
    }
    let currency = snapshot.scorecard.currency;
    let ctx = Context { currency, catalog };
    let fields = match input::apply(&edit.raw, Some(&base.fields), ctx) {
        Ok(fields) => fields,
        Err(errors) => return Ok(Err(SaveRejection::Invalid(errors))),
    };
    if let Some(other) = snapshot.find_key(&name_key(&fields.name))
        && other != id
    {
        let mut errors = FieldErrors::default();
        errors.add(Column::Name, name_taken(&fields.name));
        return Ok(Err(SaveRejection::Invalid(errors)));
    }
    let changes = diff(Some(&base.fields), Some(&fields), currency);
    if changes.is_empty() {
        // Nothing changed: no new version, no history entry, no event.
        return Ok(Ok(id));
    }
    let saved = Workflow {
        id,
        version: base.version + 1,
        decided: base.decided,
        fields,
    };
    plan.start_keys
        .entry(id)
        .or_insert_with(|| name_key(&base.fields.name));
    plan.accepted.push(Accepted {
        scorecard_id: snapshot.scorecard.id,
        workflow: saved.clone(),
        changes,
        actor: &edit.actor,
    });
    snapshot.save(saved, catalog);
    Ok(Ok(id))
}

/// Writes a group's plan inside its transaction: the workflows as they end, each
/// scorecard's new revision, and a history entry per edit. Returns false, having written
/// nothing that will commit, if a scorecard's revision is not the one the plan started
/// from.
async fn write(tx: &mut WriteTx, touched: &[Touched], plan: &Plan<'_>) -> AppResult<bool> {
    let revisions: Vec<RevisionChange> = touched
        .iter()
        .filter(|t| t.snapshot.revision() != t.start)
        .map(|t| RevisionChange {
            id: t.snapshot.scorecard.id,
            from: t.start,
            to: t.snapshot.revision(),
        })
        .collect();
    let entries: Vec<NewChange> = plan
        .accepted
        .iter()
        .map(|a| {
            NewChange::workflow(
                a.scorecard_id,
                a.workflow.id,
                &a.workflow.fields.name,
                a.actor,
                "edited",
                &a.changes,
            )
        })
        .collect();
    let changes = history::changes_json(&entries)?;
    let expected = revisions.len() + entries.len();
    let written = if renames_into_a_freed_name(plan) {
        // One edit at a time, in order: each step was checked to be valid, while the
        // rows of one statement are written in no particular order.
        for a in &plan.accepted {
            let row = std::iter::once((a.scorecard_id, &a.workflow));
            if repo::update_workflows(&mut **tx, row).await? != 1 {
                return Ok(false);
            }
        }
        repo::save_edits(&mut **tx, std::iter::empty(), &revisions, changes).await?
            == expected as u64
    } else {
        // A workflow edited twice in the group is written once, as it ends.
        let mut last: HashMap<i64, &Accepted> = HashMap::new();
        for a in &plan.accepted {
            last.insert(a.workflow.id, a);
        }
        let rows = last.values().map(|a| (a.scorecard_id, &a.workflow));
        repo::save_edits(&mut **tx, rows, &revisions, changes).await?
            == (expected + last.len()) as u64
    };
    Ok(written)
}

/// Whether a workflow of the group ends with a name another one of them had when the
/// group began (a swap, or a name handed on): written in one statement, the second could
/// meet the first's old name still in place.
fn renames_into_a_freed_name(plan: &Plan<'_>) -> bool {
    let freed: HashMap<(i64, &str), i64> = plan
        .accepted
        .iter()
        .filter_map(|a| {
            let key = plan.start_keys.get(&a.workflow.id)?;
            Some(((a.scorecard_id, key.as_str()), a.workflow.id))
        })
        .collect();
    plan.accepted.iter().any(|a| {
        let key = name_key(&a.workflow.fields.name);
        freed
            .get(&(a.scorecard_id, key.as_str()))
            .is_some_and(|&holder| holder != a.workflow.id)
    })
}
