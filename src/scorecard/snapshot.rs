//! A scorecard's stored state held in memory, and the cache of active scorecards.
//!
//! Pages are computed on every load, but not from the database: the stored rows of each
//! active scorecard stay in memory as a `Snapshot`. A snapshot holds what is stored plus
//! what follows from each row alone: its price from the bundled catalog, what the rules
//! make of it (its `Evaluation`, which depends on nothing but the row and the scorecard's
//! ratio) and the list order (by spend). Totals, the score and the level, which depend on
//! every row, are computed from it on every request.
//!
//! Consistency: every write bumps the scorecard's revision by one. After committing, the
//! writer hands the cache the rows it changed, read back inside its transaction; if the
//! cache holds the scorecard at the revision just before, it builds the next snapshot from
//! it without touching the database (the unchanged rows are shared, not copied).
//! Otherwise the slot is marked invalid *at that revision*: a reader that loaded older
//! rows concurrently may use them for its own request but cannot put them back in the
//! cache, so a stale snapshot never outlives the write that replaced it. Loads of one
//! scorecard are single-flight: requests that miss together wait for one load. Tokens map
//! to scorecard ids, and a token is only honoured if the snapshot it leads to still
//! carries it: a rotated link stops working at once.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use sqlx::SqliteConnection;

use super::model::{Scorecard, Workflow, name_key};
use super::repo::{self, LinkKind};
use super::rules::{self, Evaluation, Pricing};
use crate::catalog::Catalog;
use crate::db::Database;
use crate::error::{AppError, AppResult};

/// One stored workflow with what is derived from it alone, shared between snapshots.
#[derive(Debug)]
struct Entry {
    workflow: Workflow,
    pricing: Pricing,
    /// The name as compared for ordering and uniqueness.
    key: String,
    /// Lowercased name, team and owner, for the page's filter.
    search: String,
}

impl Entry {
    fn new(workflow: Workflow, catalog: &Catalog) -> Entry {
        let pricing = catalog.pricing(&workflow.fields);
        let key = name_key(&workflow.fields.name);
        let search = format!(
            "{key}\n{}\n{}",
            workflow.fields.team.to_lowercase(),
            workflow.fields.owner.to_lowercase()
        );
        Entry {
            workflow,
            pricing,
            key,
            search,
        }
    }

    /// List order: highest spend first, ties by name ignoring case, then by name.
    fn order(&self, other: &Entry) -> Ordering {
        other
            .pricing
            .spend
            .cmp(&self.pricing.spend)
            .then_with(|| self.key.cmp(&other.key))
            .then_with(|| self.workflow.fields.name.cmp(&other.workflow.fields.name))
    }
}

/// A scorecard and its workflows as stored, at one revision. Cloning shares the
/// workflows.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub scorecard: Scorecard,
    /// In list order.
    entries: Vec<Arc<Entry>>,
    /// Each workflow's id, by the same index: finding a workflow scans this compact list
    /// rather than following a pointer to every entry.
    ids: Vec<i64>,
    /// What the rules make of each workflow, by the same index.
    evals: Vec<Evaluation>,
}

impl Snapshot {
    pub fn new(scorecard: Scorecard, workflows: Vec<Workflow>, catalog: &Catalog) -> Snapshot {
        let mut entries: Vec<Arc<Entry>> = workflows
            .into_iter()
            .map(|w| Arc::new(Entry::new(w, catalog)))
            .collect();
        entries.sort_by(|a, b| a.order(b));
        let ids = entries.iter().map(|e| e.workflow.id).collect();
        let evals = evaluate_all(&entries, &scorecard);
        Snapshot {
            scorecard,
            entries,
            ids,
            evals,
        }
    }

    /// The same workflows under another version of the scorecard's row (settings, links,
    /// revision). Each workflow is evaluated again: a workflow's evaluation depends on the
    /// scorecard's ratio.
    pub fn with_scorecard(&self, scorecard: Scorecard) -> Snapshot {
        let entries = self.entries.clone();
        let evals = evaluate_all(&entries, &scorecard);
        Snapshot {
            scorecard,
            entries,
            ids: self.ids.clone(),
            evals,
        }
    }

    /// Brings the snapshot to the state after a write: `scorecard` is the row as committed
    /// and `changed` each workflow the write touched, as it now stands (`None`: deleted).
    /// Returns false, leaving the snapshot as it was, when the change cannot be followed
    /// in memory (the currency changed, so amounts were rescaled).
    fn patch(
        &mut self,
        scorecard: Scorecard,
        changed: Vec<(i64, Option<Workflow>)>,
        catalog: &Catalog,
    ) -> bool {
        if scorecard.currency != self.scorecard.currency {
            return false;
        }
        if scorecard.small_ratio == self.scorecard.small_ratio {
            self.scorecard = scorecard;
        } else {
            *self = self.with_scorecard(scorecard);
        }
        for (id, workflow) in changed {
            self.replace(id, workflow, catalog);
        }
        true
    }

    /// Brings the snapshot to the state after a write that saved `workflow`, found at
    /// position `at`, and nothing else: the next revision.
    pub(super) fn save(&mut self, at: usize, workflow: Workflow, catalog: &Catalog) {
        self.scorecard.revision += 1;
        self.put(Some(at), workflow.id, Some(workflow), catalog);
    }

    /// Puts a workflow in its place in list order (`None`: removes it).
    fn replace(&mut self, id: i64, workflow: Option<Workflow>, catalog: &Catalog) {
        self.put(self.position(id), id, workflow, catalog);
    }

    /// `replace`, with the workflow's present position (`old`) already found.
    fn put(&mut self, old: Option<usize>, id: i64, workflow: Option<Workflow>, catalog: &Catalog) {
        let Some(workflow) = workflow else {
            if let Some(at) = old {
                self.entries.remove(at);
                self.ids.remove(at);
                self.evals.remove(at);
            }
            return;
        };
        let entry = Arc::new(Entry::new(workflow, catalog));
        let eval = evaluate(&entry, &self.scorecard);
        let before = |e: &Arc<Entry>| e.order(&entry) == Ordering::Less;
        let Some(from) = old else {
            let at = self.entries.partition_point(before);
            self.ids.insert(at, id);
            self.evals.insert(at, eval);
            self.entries.insert(at, entry);
            return;
        };
        // The rows on either side of the old place are each in order: the new place is
        // found in one of them, and only the rows between the two places move.
        let head = self.entries[..from].partition_point(before);
        let to = if head < from {
            head
        } else {
            from + self.entries[from + 1..].partition_point(before)
        };
        move_to(&mut self.ids, from, to, id);
        move_to(&mut self.evals, from, to, eval);
        move_to(&mut self.entries, from, to, entry);
    }

    /// Reads a scorecard and its workflows; `None` when there is no such scorecard. Run it
    /// inside a transaction, so both reads see one state.
    pub async fn load(
        conn: &mut SqliteConnection,
        catalog: &Catalog,
        id: i64,
    ) -> AppResult<Option<Snapshot>> {
        let Some(scorecard) = repo::get_scorecard(&mut *conn, id).await? else {
            return Ok(None);
        };
        let workflows = repo::list_workflows(&mut *conn, id).await?;
        Ok(Some(Snapshot::new(scorecard, workflows, catalog)))
    }

    /// The id of the workflow with this name key (see `name_key`).
    pub fn find_key(&self, key: &str) -> Option<i64> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.workflow.id)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The workflow at a position in list order.
    pub fn workflow(&self, index: usize) -> Option<&Workflow> {
        self.entries.get(index).map(|e| &e.workflow)
    }

    /// Every workflow in list order.
    pub fn workflows(&self) -> impl ExactSizeIterator<Item = &Workflow> + '_ {
        self.entries.iter().map(|e| &e.workflow)
    }

    /// Every workflow in list order with what the rules make of it.
    pub fn evaluated(&self) -> impl ExactSizeIterator<Item = (&Workflow, &Evaluation)> + '_ {
        self.entries.iter().map(|e| &e.workflow).zip(&self.evals)
    }

    /// What the rules make of each workflow, in list order.
    pub fn evaluations(&self) -> &[Evaluation] {
        &self.evals
    }

    /// The workflow at a position and its evaluation. Panics if out of range, like
    /// indexing.
    pub fn row(&self, index: usize) -> (&Workflow, &Evaluation) {
        (&self.entries[index].workflow, &self.evals[index])
    }

    /// Positions of the workflows whose name, team or owner contains `needle` (lowercase).
    pub fn search<'a>(&'a self, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.search.contains(needle))
            .map(|(i, _)| i)
    }

    pub fn revision(&self) -> i64 {
        self.scorecard.revision
    }

    /// The position of a workflow in list order.
    pub fn position(&self, workflow_id: i64) -> Option<usize> {
        self.ids.iter().position(|&id| id == workflow_id)
    }

    fn kind_of(&self, token: &str) -> Option<LinkKind> {
        if self.scorecard.edit_token == token {
            Some(LinkKind::Edit)
        } else if self.scorecard.view_token == token {
            Some(LinkKind::View)
        } else {
            None
        }
    }
}

/// Replaces the item at `from` with `value` at `to`, shifting the items between by one.
fn move_to<T>(items: &mut [T], from: usize, to: usize, value: T) {
    if to < from {
        items[to..=from].rotate_right(1);
    } else {
        items[from..=to].rotate_left(1);
    }
    items[to] = value;
}

fn evaluate(entry: &Entry, scorecard: &Scorecard) -> Evaluation {
    rules::evaluate(&entry.workflow.fields, entry.pricing, scorecard.small_ratio)
}

fn evaluate_all(entries: &[Arc<Entry>], scorecard: &Scorecard) -> Vec<Evaluation> {
    entries.iter().map(|e| evaluate(e, scorecard)).collect()
}

/// The most scorecards kept in memory; the least recently loaded goes first.
const CAPACITY: usize = 64;

/// Loads are serialised per scorecard through one of these locks (by id), so requests
/// that miss together share one load instead of each reading every row.
const LOAD_LOCKS: usize = 16;

enum Slot {
    Fresh {
        snapshot: Arc<Snapshot>,
        loaded: Instant,
    },
    /// Changed at this revision: only a snapshot at least this new may fill the slot.
    Invalid { since: i64 },
}

#[derive(Default)]
pub struct Cache {
    inner: Mutex<Inner>,
    loads: [tokio::sync::Mutex<()>; LOAD_LOCKS],
}

#[derive(Default)]
struct Inner {
    slots: HashMap<i64, Slot>,
    tokens: HashMap<String, i64>,
}

impl Inner {
    fn fresh(&self, id: i64) -> Option<Arc<Snapshot>> {
        match self.slots.get(&id) {
            Some(Slot::Fresh { snapshot, .. }) => Some(snapshot.clone()),
            _ => None,
        }
    }

    /// Puts `snapshot` in its slot unless the slot already knows of something newer.
    fn fill(&mut self, snapshot: &Arc<Snapshot>) {
        let id = snapshot.scorecard.id;
        let fills = match self.slots.get(&id) {
            Some(Slot::Fresh { snapshot: held, .. }) => held.revision() < snapshot.revision(),
            Some(Slot::Invalid { since }) => snapshot.revision() >= *since,
            None => true,
        };
        if fills {
            self.slots.insert(
                id,
                Slot::Fresh {
                    snapshot: snapshot.clone(),
                    loaded: Instant::now(),
                },
            );
            evict(self);
        }
    }

    /// Marks the slot changed at `revision`, unless it already holds that revision or a
    /// newer one.
    fn invalidate(&mut self, id: i64, revision: i64) {
        let newer = match self.slots.get(&id) {
            Some(Slot::Fresh { snapshot, .. }) => snapshot.revision() >= revision,
            Some(Slot::Invalid { since }) => *since >= revision,
            None => false,
        };
        if !newer {
            self.slots.insert(id, Slot::Invalid { since: revision });
        }
    }
}

impl Cache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The maps stay consistent whatever panicked while holding the lock.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The scorecard a share token opens, and what the token may do; `None` for a token
    /// that opens nothing.
    pub async fn open(
        &self,
        db: &Database,
        catalog: &Catalog,
        token: &str,
    ) -> AppResult<Option<(Arc<Snapshot>, LinkKind)>> {
        let known = self.lock().tokens.get(token).copied();
        if let Some(id) = known {
            let snapshot = self.snapshot(db, catalog, id).await?;
            if let Some(kind) = snapshot.kind_of(token) {
                return Ok(Some((snapshot, kind)));
            }
            self.lock().tokens.remove(token);
        }
        let Some(id) = repo::find_id_by_token(db.reader(), token).await? else {
            return Ok(None);
        };
        let snapshot = self.snapshot(db, catalog, id).await?;
        let Some(kind) = snapshot.kind_of(token) else {
            // Rotated between the two reads.
            return Ok(None);
        };
        self.lock().tokens.insert(token.to_string(), id);
        Ok(Some((snapshot, kind)))
    }

    /// Whether a token is known to open a scorecard right now.
    pub fn knows(&self, token: &str) -> bool {
        self.lock().tokens.contains_key(token)
    }

    /// The scorecard's snapshot, from memory or loaded in one read transaction.
    pub async fn snapshot(
        &self,
        db: &Database,
        catalog: &Catalog,
        id: i64,
    ) -> AppResult<Arc<Snapshot>> {
        if let Some(snapshot) = self.lock().fresh(id) {
            return Ok(snapshot);
        }
        let _loading = self.loads[id.rem_euclid(LOAD_LOCKS as i64) as usize]
            .lock()
            .await;
        // Whoever held the lock before may have loaded it.
        if let Some(snapshot) = self.lock().fresh(id) {
            return Ok(snapshot);
        }
        let mut tx = db.reader().begin().await?;
        let snapshot = Snapshot::load(&mut tx, catalog, id)
            .await?
            .ok_or(AppError::NotFound)?;
        tx.commit().await?;
        let snapshot = Arc::new(snapshot);
        self.lock().fill(&snapshot);
        Ok(snapshot)
    }

    /// Puts a snapshot read or built under the write lock, unless the cache already
    /// knows of something newer.
    pub fn put(&self, snapshot: Arc<Snapshot>) {
        self.lock().fill(&snapshot);
    }

    /// The cached snapshot, whatever its revision, if the cache holds one.
    pub fn held(&self, id: i64) -> Option<Arc<Snapshot>> {
        self.lock().fresh(id)
    }

    /// The cached snapshot at exactly `revision`, if the cache holds it.
    pub fn at(&self, id: i64, revision: i64) -> Option<Arc<Snapshot>> {
        self.lock().fresh(id).filter(|s| s.revision() == revision)
    }

    /// Called after a write committed: `scorecard` is its row as committed (at the new
    /// revision) and `changed` every workflow the write added, updated or deleted, as
    /// committed. If the cache holds the revision just before, it is brought up to date in
    /// memory: in place when no request holds it, else on a copy sharing the unchanged
    /// workflows. Otherwise the next request loads it.
    pub fn apply(
        &self,
        catalog: &Catalog,
        scorecard: Scorecard,
        changed: Vec<(i64, Option<Workflow>)>,
    ) {
        let (id, revision) = (scorecard.id, scorecard.revision);
        let mut inner = self.lock();
        if let Some(Slot::Fresh { snapshot, .. }) = inner.slots.get_mut(&id)
            && snapshot.revision() == revision - 1
            && Arc::make_mut(snapshot).patch(scorecard, changed, catalog)
        {
            return;
        }
        inner.invalidate(id, revision);
    }

    /// Called after a write to the scorecard committed at `revision` that the cache cannot
    /// follow in memory (an import, a change of currency): the next request loads it.
    pub fn invalidate(&self, id: i64, revision: i64) {
        self.lock().invalidate(id, revision);
    }
}

/// Releases the least recently loaded snapshots beyond the capacity. The slot stays as an
/// invalid marker at the snapshot's revision (a few bytes), so a slower reader cannot put
/// back anything older.
fn evict(inner: &mut Inner) {
    loop {
        let fresh: Vec<(i64, Instant, i64)> = inner
            .slots
            .iter()
            .filter_map(|(id, slot)| match slot {
                Slot::Fresh { snapshot, loaded } => Some((*id, *loaded, snapshot.revision())),
                Slot::Invalid { .. } => None,
            })
            .collect();
        if fresh.len() <= CAPACITY {
            return;
        }
        let Some(&(id, _, revision)) = fresh.iter().min_by_key(|(_, loaded, _)| *loaded) else {
            return;
        };
        inner.slots.insert(id, Slot::Invalid { since: revision });
        inner.tokens.retain(|_, scorecard| *scorecard != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::fixtures::{self, SCORECARD_ID, fields};
    use crate::scorecard::model::Tier;
    use crate::scorecard::money::{Currency, Ratio};

    fn scorecard(revision: i64) -> Scorecard {
        fixtures::scorecard("Test", revision)
    }

    fn workflow(id: i64, name: &str, spend: i64) -> Workflow {
        fixtures::workflow(id, fields(Tier::Frontier, name, spend))
    }

    fn names(snapshot: &Snapshot) -> Vec<&str> {
        snapshot
            .workflows()
            .map(|w| w.fields.name.as_str())
            .collect()
    }

    fn held(cache: &Cache) -> Option<i64> {
        cache.lock().fresh(SCORECARD_ID).map(|s| s.revision())
    }

    #[test]
    fn a_patched_snapshot_equals_one_loaded_afresh() {
        let catalog = Catalog::bundled();
        let start = Snapshot::new(
            scorecard(1),
            vec![
                workflow(1, "alpha", 300),
                workflow(2, "Beta", 200),
                workflow(3, "gamma", 100),
            ],
            &catalog,
        );
        let changed = vec![
            (3, Some(workflow(3, "gamma", 900))),
            (1, None),
            (4, Some(workflow(4, "beta two", 200))),
        ];
        let mut patched = start;
        assert!(
            patched.patch(scorecard(2), changed, &catalog),
            "same currency"
        );
        let loaded = Snapshot::new(
            scorecard(2),
            vec![
                workflow(2, "Beta", 200),
                workflow(3, "gamma", 900),
                workflow(4, "beta two", 200),
            ],
            &catalog,
        );
        assert_eq!(names(&patched), ["gamma", "Beta", "beta two"]);
        assert_eq!(names(&patched), names(&loaded));
        assert_eq!(patched.evals, loaded.evals);
        assert_eq!(patched.search("beta").count(), 2);
    }

    /// Every row's id, workflow and evaluation, in list order.
    fn rows(snapshot: &Snapshot) -> Vec<(i64, Workflow, Evaluation)> {
        (0..snapshot.len())
            .map(|i| {
                let (workflow, eval) = snapshot.row(i);
                (snapshot.ids[i], workflow.clone(), *eval)
            })
            .collect()
    }

    proptest::proptest! {
        /// Saves, additions and removals in any order leave the rows where a fresh load
        /// would put them, and every workflow found by its id.
        #[test]
        fn moving_rows_in_place_equals_sorting_afresh(
            steps in proptest::collection::vec((1..12_i64, 0..6_i64, proptest::bool::weighted(0.85)), 1..40)
        ) {
            let catalog = Catalog::bundled();
            let mut stored: std::collections::BTreeMap<i64, Workflow> = (1..=6)
                .map(|id| (id, workflow(id, &format!("w{id}"), id % 3)))
                .collect();
            let mut patched = Snapshot::new(scorecard(1), stored.values().cloned().collect(), &catalog);
            for (id, spend, keep) in steps {
                // Names tie on spend often, so the name order is exercised too.
                let next = keep.then(|| workflow(id, &format!("w{id}"), spend * 100));
                patched.replace(id, next.clone(), &catalog);
                match next {
                    Some(w) => stored.insert(id, w),
                    None => stored.remove(&id),
                };
                let loaded = Snapshot::new(scorecard(1), stored.values().cloned().collect(), &catalog);
                proptest::prop_assert_eq!(rows(&patched), rows(&loaded));
                for id in stored.keys() {
                    let at = patched.position(*id).unwrap();
                    proptest::prop_assert_eq!(patched.row(at).0.id, *id);
                }
            }
        }
    }

    #[test]
    fn a_new_ratio_evaluates_every_workflow_again_and_a_new_currency_is_not_patched() {
        let catalog = Catalog::bundled();
        let mut small = workflow(1, "alpha", 1000);
        small.fields.answers.business_case = true;
        let start = Snapshot::new(scorecard(1), vec![small.clone()], &catalog);
        let mut cheaper = scorecard(2);
        cheaper.small_ratio = Ratio::parse("0.5").unwrap();
        let mut patched = start.clone();
        assert!(patched.patch(cheaper.clone(), vec![], &catalog));
        let loaded = Snapshot::new(cheaper, vec![small], &catalog);
        assert_eq!(patched.evals, loaded.evals);
        assert_ne!(patched.evals, start.evals, "the ratio changes the leakage");

        let mut euros = scorecard(3);
        euros.currency = Currency::parse("EUR").unwrap();
        assert!(!patched.patch(euros, vec![], &catalog));
        assert_eq!(patched.revision(), 2, "left as it was");
    }

    #[test]
    fn the_cache_follows_writes_in_order_and_never_goes_back() {
        let catalog = Catalog::bundled();
        let cache = Cache::default();
        let at = |revision| Arc::new(Snapshot::new(scorecard(revision), vec![], &catalog));
        cache.lock().fill(&at(5));

        cache.apply(
            &catalog,
            scorecard(6),
            vec![(1, Some(workflow(1, "new", 5)))],
        );
        assert_eq!(held(&cache), Some(6), "followed in memory");
        let six = cache.lock().fresh(SCORECARD_ID).unwrap();
        assert_eq!(names(&six), ["new"]);

        // A write the cache missed (revision 7): it cannot patch 6 into 8.
        cache.apply(&catalog, scorecard(8), vec![]);
        assert_eq!(held(&cache), None);
        cache.lock().fill(&at(7));
        assert_eq!(
            held(&cache),
            None,
            "a load older than the last write is not kept"
        );
        cache.lock().fill(&at(8));
        assert_eq!(held(&cache), Some(8));

        // Writers finishing out of order: the later one wins, the earlier one is dropped.
        cache.apply(&catalog, scorecard(10), vec![]);
        cache.apply(&catalog, scorecard(9), vec![]);
        assert_eq!(held(&cache), None);
        cache.lock().fill(&at(9));
        assert_eq!(held(&cache), None);
        cache.lock().fill(&at(10));
        assert_eq!(held(&cache), Some(10));
        cache.invalidate(SCORECARD_ID, 10);
        assert_eq!(held(&cache), Some(10), "already at that revision");
    }
}
