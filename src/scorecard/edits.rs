//! Edits of stored workflows, committed in groups.
//!
//! SQLite commits one transaction at a time, and a commit costs more than the few rows
//! an edit changes (the log writes, the lock, the round trips to the connection's
//! thread). When a room saves at once, those costs would queue everyone behind one
//! another. So edits queue here, and one thread commits whatever has queued in one
//! transaction: an edit in a quiet moment commits alone, after letting the threads that
//! read requests run once (the rest of a burst may be arriving); under a burst, each
//! commit carries the edits that arrived while the one before it ran. The thread is the
//! committer's own, so its round trips to the database do not wait behind every request
//! the server is busy parsing.
//!
//! Within a group each edit is checked in turn against the stored state as the edits
//! before it leave it (the cached snapshot, copied and patched as they go), exactly as if
//! each had its own transaction: a stale version, a name already taken or an invalid
//! field refuses that edit alone. The group is then written in a few round trips: each
//! accepted edit's workflow in edit order (so no name is ever held twice on the way),
//! then each scorecard's revision, if it is still the one the cache held, and the
//! history entries. If a revision had moved, the group is checked again against state
//! read inside the transaction. After the commit the cache takes the patched snapshot,
//! open pages get one `changed` event per scorecard, and the replies go out; if the
//! commit fails, every edit of the group fails and nothing of it is stored or shown.
//!
//! An edit whose request has gone (the client left, or the request timed out) before
//! its group is checked is skipped: nothing is saved that nobody is waiting for.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::input::{self, Column, Context, FieldErrors, RawWorkflow};
use super::model::{Workflow, name_key};
use super::repo::{self, RevisionChange, SavedRow};
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
    /// Starts the thread that commits edits. It ends when every `Edits` is dropped.
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

/// What the committing thread works with.
pub struct Committer {
    pub db: Database,
    pub cache: Arc<Cache>,
    pub catalog: Arc<Catalog>,
    pub hub: Hub,
}

async fn run(mut waiting: mpsc::Receiver<Queued>, committer: Committer) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        if group.len() == 1 {
            // Alone: most often the first of a room's saves, arriving while the others
            // are still being read. Let the threads reading them run once, and take
            // whatever they queued meanwhile into the same commit.
            std::thread::yield_now();
            while group.len() < MAX_GROUP
                && let Ok(queued) = waiting.try_recv()
            {
                group.push(queued);
            }
        }
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
    /// This edit changed its name.
    renamed: bool,
    changes: Vec<FieldChange>,
    actor: &'e str,
}

/// What a group writes.
#[derive(Default)]
struct Plan<'e> {
    /// In edit order.
    accepted: Vec<Accepted<'e>>,
}

/// Where a group takes the stored state of the scorecards it touches from.
#[derive(Clone, Copy)]
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
    let at = snapshot.position(id).ok_or(AppError::NotFound)?;
    let base = snapshot.workflow(at).ok_or(AppError::NotFound)?;
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
    // Names are unique, so a workflow that keeps its own cannot meet another's.
    let renamed = fields.name != base.fields.name;
    if renamed
        && let Some(other) = snapshot.find_key(&name_key(&fields.name))
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
    plan.accepted.push(Accepted {
        scorecard_id: snapshot.scorecard.id,
        workflow: saved.clone(),
        renamed,
        changes,
        actor: &edit.actor,
    });
    snapshot.save(at, saved, catalog);
    Ok(Ok(id))
}

/// Writes a group's plan inside its transaction: each accepted edit's workflow, in edit
/// order (every step was checked to be valid, so no name is ever held twice), each
/// scorecard's new revision, and a history entry per edit. Returns false, having written
/// nothing that will commit, if the stored state is not the one the plan started from.
async fn write(tx: &mut WriteTx, touched: &[Touched], plan: &Plan<'_>) -> AppResult<bool> {
    let rows: Vec<SavedRow> = plan
        .accepted
        .iter()
        .map(|a| SavedRow {
            scorecard_id: a.scorecard_id,
            workflow: &a.workflow,
            renamed: a.renamed,
        })
        .collect();
    if repo::update_workflows(tx, &rows).await? != rows.len() as u64 {
        return Ok(false);
    }
    let revisions: Vec<RevisionChange> = touched
        .iter()
        .filter(|t| t.snapshot.revision() != t.start)
        .map(|t| RevisionChange {
            id: t.snapshot.scorecard.id,
            from: t.start,
            to: t.snapshot.revision(),
        })
        .collect();
    if repo::move_revisions(tx, &revisions).await? != revisions.len() as u64 {
        return Ok(false);
    }
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
    history::record_all(tx, &entries).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use tempfile::TempDir;

    use super::*;
    use crate::app::AppState;
    use crate::config::Config;
    use crate::scorecard::model::Scorecard;
    use crate::scorecard::money::Currency;
    use crate::scorecard::service;

    /// A scorecard with one workflow per name, held in the cache.
    struct Room {
        state: AppState,
        scorecard: Scorecard,
        ids: Vec<i64>,
        _dir: TempDir,
    }

    async fn room(names: &[&str]) -> Room {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("edits.db").display());
        let state = AppState::open(Config::for_database(url)).await.unwrap();
        let currency = Currency::parse("USD").unwrap();
        let scorecard = service::create_scorecard(&state, "Room", currency)
            .await
            .unwrap();
        let mut ids = Vec::new();
        for name in names {
            let mut raw = RawWorkflow::default();
            raw.set(Column::Name, *name);
            raw.set(Column::CurrentTier, "frontier");
            let saved = service::save_workflow(&state, &scorecard, None, None, &raw, "setup");
            ids.push(saved.await.unwrap().unwrap());
        }
        state
            .cache
            .snapshot(&state.db, &state.catalog, scorecard.id)
            .await
            .unwrap();
        Room {
            state,
            scorecard,
            ids,
            _dir: dir,
        }
    }

    impl Room {
        fn committer(&self) -> Committer {
            Committer {
                db: self.state.db.clone(),
                cache: self.state.cache.clone(),
                catalog: self.state.catalog.clone(),
                hub: self.state.hub.clone(),
            }
        }

        fn edit(&self, workflow_id: i64, version: Option<i64>, cells: &[(Column, &str)]) -> Edit {
            let mut raw = RawWorkflow::default();
            for (column, value) in cells {
                raw.set(*column, *value);
            }
            Edit {
                scorecard_id: self.scorecard.id,
                workflow_id,
                version,
                raw,
                actor: "Ada".into(),
            }
        }

        /// The scorecard as a fresh read of the database finds it.
        async fn stored(&self) -> Snapshot {
            let mut tx = self.state.db.reader().begin().await.unwrap();
            Snapshot::load(&mut tx, &self.state.catalog, self.scorecard.id)
                .await
                .unwrap()
                .unwrap()
        }

        async fn workflow(&self, id: i64) -> Workflow {
            let stored = self.stored().await;
            stored
                .workflow(stored.position(id).unwrap())
                .unwrap()
                .clone()
        }

        /// Asserts that the cache holds exactly what is stored.
        async fn assert_cache_is_current(&self) {
            let stored = self.stored().await;
            let cached = self.state.cache.held(self.scorecard.id).unwrap();
            assert_eq!(cached.scorecard, stored.scorecard);
            let cached: Vec<&Workflow> = cached.workflows().collect();
            let stored: Vec<&Workflow> = stored.workflows().collect();
            assert_eq!(cached, stored);
        }

        async fn history_len(&self) -> usize {
            history::list(self.state.db.reader(), self.scorecard.id, None, 100)
                .await
                .unwrap()
                .len()
        }
    }

    fn saved(outcome: &Outcome) -> bool {
        matches!(outcome, Ok(Ok(_)))
    }

    #[tokio::test]
    async fn each_edit_of_a_group_is_checked_against_the_edits_before_it() {
        let room = room(&["Alpha", "Beta", "Gamma"]).await;
        let [a, b, c] = room.ids[..] else { panic!() };
        let start = room.stored().await.revision();
        let before = room.history_len().await;
        let edits = [
            room.edit(a, Some(1), &[(Column::Metric, "first")]),
            // Made from version 1, which the edit before replaced.
            room.edit(a, Some(1), &[(Column::Metric, "lost")]),
            room.edit(a, Some(2), &[(Column::Metric, "second")]),
            // Alpha is taken, whatever the case.
            room.edit(b, None, &[(Column::Name, "alpha")]),
            room.edit(9_999, None, &[(Column::Metric, "nowhere")]),
            room.edit(c, None, &[(Column::Name, "Delta")]),
            // The same values again: nothing to save.
            room.edit(c, None, &[(Column::Name, "Delta")]),
        ];
        let outcomes = room.committer().commit(&edits).await.unwrap();

        assert!(saved(&outcomes[0]));
        assert!(
            matches!(&outcomes[1], Ok(Err(SaveRejection::Stale(w))) if w.version == 2 && w.fields.metric == "first")
        );
        assert!(saved(&outcomes[2]));
        assert!(matches!(&outcomes[3], Ok(Err(SaveRejection::Invalid(_)))));
        assert!(matches!(&outcomes[4], Err(AppError::NotFound)));
        assert!(saved(&outcomes[5]));
        assert!(saved(&outcomes[6]));

        let alpha = room.workflow(a).await;
        assert_eq!((alpha.version, alpha.fields.metric.as_str()), (3, "second"));
        assert_eq!(room.workflow(b).await.fields.name, "Beta");
        assert_eq!(room.workflow(c).await.fields.name, "Delta");
        // One revision and one history entry per edit that changed something.
        assert_eq!(room.stored().await.revision(), start + 3);
        assert_eq!(room.history_len().await, before + 3);
        room.assert_cache_is_current().await;
    }

    #[tokio::test]
    async fn names_handed_on_within_a_group_are_saved() {
        let room = room(&["Alpha", "Beta"]).await;
        let [a, b] = room.ids[..] else { panic!() };
        // A swap: every step is valid, but writing only where each workflow ends would
        // meet a name the other one still holds.
        let edits = [
            room.edit(a, None, &[(Column::Name, "Gamma")]),
            room.edit(b, None, &[(Column::Name, "Alpha")]),
            room.edit(a, None, &[(Column::Name, "Beta")]),
        ];
        let outcomes = room.committer().commit(&edits).await.unwrap();

        assert!(outcomes.iter().all(saved), "{outcomes:?}");
        assert_eq!(room.workflow(a).await.fields.name, "Beta");
        assert_eq!(room.workflow(b).await.fields.name, "Alpha");
        assert_eq!(room.workflow(a).await.version, 3);
        room.assert_cache_is_current().await;
    }

    #[tokio::test]
    async fn renames_and_edits_that_keep_the_name_are_stored_in_order() {
        let room = room(&["Alpha", "Beta", "Gamma"]).await;
        let [a, b, c] = room.ids[..] else { panic!() };
        let edits = [
            room.edit(a, None, &[(Column::Metric, "kept")]),
            // Only the case changes: the same key, a new name.
            room.edit(b, None, &[(Column::Name, "BETA")]),
            room.edit(c, None, &[(Column::Owner, "Grace")]),
            room.edit(a, None, &[(Column::Name, "Alef")]),
            room.edit(a, None, &[(Column::Metric, "after the rename")]),
        ];
        let outcomes = room.committer().commit(&edits).await.unwrap();

        assert!(outcomes.iter().all(saved), "{outcomes:?}");
        let alpha = room.workflow(a).await;
        assert_eq!(
            (alpha.fields.name.as_str(), alpha.fields.metric.as_str()),
            ("Alef", "after the rename")
        );
        assert_eq!(room.workflow(b).await.fields.name, "BETA");
        assert_eq!(room.workflow(c).await.fields.owner, "Grace");
        // The old name is free again, under the index as well.
        let taken = room.edit(c, None, &[(Column::Name, "alpha")]);
        let outcomes = room.committer().commit(&[taken]).await.unwrap();
        assert!(saved(&outcomes[0]), "{outcomes:?}");
        room.assert_cache_is_current().await;
    }

    #[tokio::test]
    async fn a_cache_behind_the_database_is_noticed_and_the_group_checked_again() {
        let room = room(&["Alpha", "Beta"]).await;
        let [a, b] = room.ids[..] else { panic!() };
        // Another writer (another instance, a script) changes Alpha and the revision
        // without this cache knowing.
        let mut tx = room.state.db.begin_write().await.unwrap();
        sqlx::query(
            "update workflows set metric = 'elsewhere', version = version + 1 where id = ?",
        )
        .bind(a)
        .execute(&mut *tx)
        .await
        .unwrap();
        repo::bump_revision(&mut *tx, room.scorecard.id)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let revision = room.stored().await.revision();

        let edits = [
            // The cache still says version 1; the database says 2.
            room.edit(a, Some(1), &[(Column::Owner, "Grace")]),
            room.edit(b, None, &[(Column::Owner, "Grace")]),
        ];
        let outcomes = room.committer().commit(&edits).await.unwrap();

        assert!(
            matches!(&outcomes[0], Ok(Err(SaveRejection::Stale(w))) if w.fields.metric == "elsewhere")
        );
        assert!(saved(&outcomes[1]));
        assert_eq!(room.stored().await.revision(), revision + 1);
        assert_eq!(room.workflow(a).await.fields.metric, "elsewhere");
        assert_eq!(room.workflow(b).await.fields.owner, "Grace");
        room.assert_cache_is_current().await;
    }

    #[tokio::test]
    async fn open_pages_hear_once_per_group() {
        let room = room(&["Alpha", "Beta"]).await;
        let [a, b] = room.ids[..] else { panic!() };
        let start = room.stored().await.revision();
        let (mut events, _closed) = room.state.hub.subscribe(room.scorecard.id);
        let edits = [
            room.edit(a, None, &[(Column::Owner, "Grace")]),
            room.edit(b, None, &[(Column::Owner, "Grace")]),
        ];
        room.committer().commit(&edits).await.unwrap();

        let event = events.try_recv().unwrap();
        assert_eq!(event.revision(), start + 2);
        assert!(events.try_recv().is_err(), "one event for the group");
    }

    #[tokio::test]
    async fn a_group_that_cannot_commit_stores_nothing() {
        let room = room(&["Alpha", "Beta"]).await;
        let [a, b] = room.ids[..] else { panic!() };
        let before = room.stored().await;
        // Something the checks cannot see makes the write fail: a trigger refusing any
        // change of Beta's owner.
        let mut tx = room.state.db.begin_write().await.unwrap();
        sqlx::query(
            "create trigger refuse before update of owner on workflows
             when new.name = 'Beta' begin select raise(abort, 'refused'); end",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let edits = [
            room.edit(a, None, &[(Column::Owner, "Grace")]),
            room.edit(b, None, &[(Column::Owner, "Grace")]),
        ];
        assert!(room.committer().commit(&edits).await.is_err());

        let after = room.stored().await;
        assert_eq!(after.scorecard, before.scorecard);
        assert_eq!(room.workflow(a).await.fields.owner, "");
        room.assert_cache_is_current().await;
    }
}
