//! A scorecard's stored state held in memory, and the cache of active scorecards.
//!
//! Pages are computed on every load, but not from the database: the stored rows of each
//! active scorecard stay in memory as a `Snapshot` until the next write to it. A snapshot
//! holds only what is stored plus what follows from it alone: each workflow's price from
//! the bundled catalog and the list order (by spend). The rules, totals and score are
//! computed from it on every request.
//!
//! Consistency: every write bumps the scorecard's revision and, after committing, marks
//! the slot invalid *at that revision*. A reader that loaded older rows concurrently may
//! use them for its own request but cannot put them back in the cache, so a stale
//! snapshot never outlives the write that replaced it. Tokens map to scorecard ids, and a
//! token is only honoured if the snapshot it leads to still carries it: a rotated link
//! stops working at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::model::{Scorecard, Workflow, name_key};
use super::repo::{self, LinkKind};
use super::rules::Pricing;
use crate::catalog::Catalog;
use crate::db::Database;
use crate::error::{AppError, AppResult};

/// A scorecard and its workflows as stored, at one revision.
#[derive(Debug)]
pub struct Snapshot {
    pub scorecard: Scorecard,
    /// In list order: highest spend first, ties by name ignoring case, then by name.
    pub workflows: Vec<Workflow>,
    /// Each workflow's resolved spend, by the same index.
    pub pricing: Vec<Pricing>,
    /// Lowercased name, team and owner of each workflow, for the page's filter.
    search: Vec<String>,
}

impl Snapshot {
    pub fn new(scorecard: Scorecard, workflows: Vec<Workflow>, catalog: &Catalog) -> Snapshot {
        let mut rows: Vec<(Workflow, Pricing, String)> = workflows
            .into_iter()
            .map(|w| {
                let pricing = catalog.pricing(&w.fields);
                let key = name_key(&w.fields.name);
                (w, pricing, key)
            })
            .collect();
        rows.sort_by(|a, b| {
            b.1.spend
                .cmp(&a.1.spend)
                .then_with(|| a.2.cmp(&b.2))
                .then_with(|| a.0.fields.name.cmp(&b.0.fields.name))
        });
        let search = rows
            .iter()
            .map(|(w, _, key)| {
                format!(
                    "{key}\n{}\n{}",
                    w.fields.team.to_lowercase(),
                    w.fields.owner.to_lowercase()
                )
            })
            .collect();
        let (workflows, pricing) = rows.into_iter().map(|(w, p, _)| (w, p)).unzip();
        Snapshot {
            scorecard,
            workflows,
            pricing,
            search,
        }
    }

    /// Positions of the workflows whose name, team or owner contains `needle` (lowercase).
    pub fn search<'a>(&'a self, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.search
            .iter()
            .enumerate()
            .filter(move |(_, text)| text.contains(needle))
            .map(|(i, _)| i)
    }

    pub fn revision(&self) -> i64 {
        self.scorecard.revision
    }

    /// The position of a workflow in list order.
    pub fn position(&self, workflow_id: i64) -> Option<usize> {
        self.workflows.iter().position(|w| w.id == workflow_id)
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

/// The most scorecards kept in memory; the least recently loaded goes first.
const CAPACITY: usize = 64;

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
}

#[derive(Default)]
struct Inner {
    slots: HashMap<i64, Slot>,
    tokens: HashMap<String, i64>,
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
        let since = match self.lock().slots.get(&id) {
            Some(Slot::Fresh { snapshot, .. }) => return Ok(snapshot.clone()),
            Some(Slot::Invalid { since }) => *since,
            None => i64::MIN,
        };
        let mut tx = db.reader().begin().await?;
        let scorecard = repo::get_scorecard(&mut *tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let workflows = repo::list_workflows(&mut *tx, id).await?;
        tx.commit().await?;
        let snapshot = Arc::new(Snapshot::new(scorecard, workflows, catalog));

        let mut inner = self.lock();
        let fills = match inner.slots.get(&id) {
            Some(Slot::Fresh { snapshot: held, .. }) => held.revision() < snapshot.revision(),
            Some(Slot::Invalid { since: now }) => snapshot.revision() >= (*now).max(since),
            None => snapshot.revision() >= since,
        };
        if fills {
            inner.slots.insert(
                id,
                Slot::Fresh {
                    snapshot: snapshot.clone(),
                    loaded: Instant::now(),
                },
            );
            evict(&mut inner);
        }
        Ok(snapshot)
    }

    /// Called after a write to the scorecard committed at `revision`.
    pub fn invalidate(&self, id: i64, revision: i64) {
        let mut inner = self.lock();
        inner.slots.insert(id, Slot::Invalid { since: revision });
        inner.tokens.retain(|_, scorecard| *scorecard != id);
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
