//! What the scorecard does, each action one transaction over the repo's statements (see
//! `write` for how a change ends). The handlers (HTML and JSON) and the demo call these;
//! none of them writes SQL.

use super::csv::{self as contract, Change, RowError};
use super::edits::Edit;
use super::input::{self, Column, Context, FieldErrors, RawWorkflow};
use super::model::{MAX_WORKFLOWS, Scorecard, Workflow, WorkflowFields};
use super::money::{Currency, Ratio};
use super::repo::{self, LinkKind};
use super::token;
use super::write::{self, Touched};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::history::model::{FieldChange, diff, from_snapshot, snapshot};
use crate::history::repo::{self as history, NewChange};

/// The bundled example company, as an import file: it goes through the same contract.
const DEMO_CSV: &str = include_str!("demo.csv");

/// What a full scorecard says.
fn full_message() -> String {
    format!(
        "a scorecard holds at most {MAX_WORKFLOWS} workflows: delete some, or start another scorecard"
    )
}

pub async fn create_scorecard(
    state: &AppState,
    name: &str,
    currency: Currency,
) -> Result<Scorecard, AppError> {
    let mut tx = state.db.begin_write().await?;
    let id = repo::insert_scorecard(
        &mut *tx,
        name,
        currency,
        &token::generate(),
        &token::generate(),
    )
    .await?;
    let scorecard = repo::get_scorecard(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(scorecard)
}

/// A fresh copy of the demo scorecard, so every workshop can play with its own.
pub async fn create_demo(state: &AppState) -> Result<Scorecard, AppError> {
    let parsed = contract::parse(DEMO_CSV.as_bytes())
        .map_err(|e| AppError::corrupt(format!("demo data: {e:?}")))?;
    let ctx = Context {
        currency: Currency::USD,
        catalog: &state.catalog,
    };
    let changes = contract::plan(&parsed, &[], ctx)
        .map_err(|e| AppError::corrupt(format!("demo data: {e:?}")))?;
    let mut tx = state.db.begin_write().await?;
    let id = repo::insert_scorecard(
        &mut *tx,
        "Northwind Mutual (demo)",
        Currency::USD,
        &token::generate(),
        &token::generate(),
    )
    .await?;
    for change in &changes {
        if let Change::Add(fields) = change {
            repo::insert_workflow(&mut *tx, id, fields).await?;
        }
    }
    let scorecard = repo::get_scorecard(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(scorecard)
}

pub async fn get_workflow(
    state: &AppState,
    scorecard: &Scorecard,
    id: i64,
) -> Result<Workflow, AppError> {
    repo::get_workflow(state.db.reader(), scorecard.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Why a save was refused; nothing was saved.
#[derive(Debug)]
pub enum SaveRejection {
    /// The user's input has problems.
    Invalid(FieldErrors),
    /// Someone saved the workflow since this copy was loaded.
    Stale(Box<Workflow>),
}

/// Adds a workflow (`id` is `None`) or updates one, checking the name is free and, for
/// an update, that `version` is still the stored one. The outer error is a failure; the
/// inner one a refusal the user can act on. Updates are committed in groups (see
/// `edits`).
pub async fn save_workflow(
    state: &AppState,
    scorecard: &Scorecard,
    id: Option<i64>,
    version: Option<i64>,
    raw: &RawWorkflow,
    actor: &str,
) -> AppResult<Result<i64, SaveRejection>> {
    let Some(id) = id else {
        return add_workflow(state, scorecard, raw, actor).await;
    };
    let edit = Edit {
        scorecard_id: scorecard.id,
        workflow_id: id,
        version,
        raw: raw.clone(),
        actor: actor.to_owned(),
    };
    state.edits.save(edit).await
}

/// What the form says when a name is already used.
pub(super) fn name_taken(name: &str) -> String {
    format!("{name:?} is already a workflow on this scorecard: choose another name")
}

async fn add_workflow(
    state: &AppState,
    scorecard: &Scorecard,
    raw: &RawWorkflow,
    actor: &str,
) -> AppResult<Result<i64, SaveRejection>> {
    let ctx = Context {
        currency: scorecard.currency,
        catalog: &state.catalog,
    };
    let mut w = write::begin(state, scorecard.id).await?;
    let fields = match input::apply(raw, None, ctx) {
        Ok(fields) => fields,
        Err(errors) => return Ok(Err(SaveRejection::Invalid(errors))),
    };
    let mut errors = FieldErrors::default();
    if w.count().await? >= MAX_WORKFLOWS {
        errors.add(Column::Name, full_message());
    } else if w.workflow_named(&fields.name).await?.is_some() {
        errors.add(Column::Name, name_taken(&fields.name));
    }
    if !errors.is_empty() {
        return Ok(Err(SaveRejection::Invalid(errors)));
    }
    let changes = diff(None, Some(&fields), scorecard.currency);
    let saved = repo::insert_workflow(&mut *w.tx, scorecard.id, &fields).await?;
    let id = saved.id;
    history::record(
        &mut w.tx,
        NewChange::workflow(scorecard.id, id, &fields.name, actor, "added", &changes),
    )
    .await?;
    w.finish(state, Touched::Known(vec![(id, Some(saved))]))
        .await?;
    Ok(Ok(id))
}

/// Deletes a workflow, keeping a snapshot in the history to restore it from.
pub async fn delete_workflow(
    state: &AppState,
    scorecard: &Scorecard,
    id: i64,
    actor: &str,
) -> AppResult<()> {
    let mut w = write::begin(state, scorecard.id).await?;
    let workflow = w.workflow(id).await?.ok_or(AppError::NotFound)?;
    repo::delete_workflow(&mut *w.tx, scorecard.id, id).await?;
    let f = &workflow.fields;
    let changes = diff(Some(f), None, scorecard.currency);
    let kept = Some(snapshot(f, scorecard.currency));
    history::record(
        &mut w.tx,
        NewChange {
            snapshot: kept,
            ..NewChange::workflow(scorecard.id, id, &f.name, actor, "deleted", &changes)
        },
    )
    .await?;
    w.finish(state, Touched::Known(vec![(id, None)])).await?;
    Ok(())
}

/// Why a restore was refused.
#[derive(Debug)]
pub enum RestoreRejection {
    /// A workflow of that name exists again.
    NameTaken(String),
    /// The snapshot no longer passes validation (for example, a currency change since).
    Invalid(String),
}

/// Brings back a deleted workflow, whole, from the history entry of its deletion.
pub async fn restore_workflow(
    state: &AppState,
    scorecard: &Scorecard,
    change_id: i64,
    actor: &str,
) -> AppResult<Result<i64, RestoreRejection>> {
    let mut w = write::begin(state, scorecard.id).await?;
    let change = history::get(&mut *w.tx, scorecard.id, change_id)
        .await?
        .filter(|c| c.action == "deleted")
        .ok_or(AppError::NotFound)?;
    let raw = change
        .snapshot
        .as_deref()
        .and_then(from_snapshot)
        .ok_or_else(|| AppError::corrupt("a deletion without a snapshot"))?;
    if w.count().await? >= MAX_WORKFLOWS {
        return Ok(Err(RestoreRejection::Invalid(full_message())));
    }
    if w.workflow_named(&change.workflow_name).await?.is_some() {
        return Ok(Err(RestoreRejection::NameTaken(change.workflow_name)));
    }
    let ctx = Context {
        currency: scorecard.currency,
        catalog: &state.catalog,
    };
    let fields = match input::apply(&raw, None, ctx) {
        Ok(fields) => fields,
        Err(errors) => {
            let reasons: Vec<String> = errors
                .0
                .iter()
                .map(|(c, m)| format!("{}: {m}", c.as_str()))
                .collect();
            return Ok(Err(RestoreRejection::Invalid(reasons.join("; "))));
        }
    };
    let restored = repo::insert_workflow(&mut *w.tx, scorecard.id, &fields).await?;
    let id = restored.id;
    let changes = diff(None, Some(&fields), scorecard.currency);
    history::record(
        &mut w.tx,
        NewChange::workflow(scorecard.id, id, &fields.name, actor, "restored", &changes),
    )
    .await?;
    w.finish(state, Touched::Known(vec![(id, Some(restored))]))
        .await?;
    Ok(Ok(id))
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub added: u32,
    pub updated: u32,
}

/// Imports a CSV file all-or-nothing: any bad row and nothing is written.
pub async fn import_csv(
    state: &AppState,
    scorecard: &Scorecard,
    bytes: &[u8],
    actor: &str,
) -> AppResult<Result<ImportSummary, Vec<RowError>>> {
    let parsed = match contract::parse(bytes) {
        Ok(parsed) => parsed,
        Err(errors) => return Ok(Err(errors)),
    };
    let ctx = Context {
        currency: scorecard.currency,
        catalog: &state.catalog,
    };
    // Plan inside the write transaction, so the names matched are the names stored.
    let mut w = write::begin(state, scorecard.id).await?;
    let existing = repo::list_workflows(&mut *w.tx, scorecard.id).await?;
    let changes = match contract::plan(&parsed, &existing, ctx) {
        Ok(changes) => changes,
        Err(errors) => return Ok(Err(errors)),
    };
    let added = changes
        .iter()
        .filter(|c| matches!(c, Change::Add(_)))
        .count();
    if existing.len() + added > MAX_WORKFLOWS {
        return Ok(Err(vec![RowError {
            line: 1,
            column: None,
            message: format!(
                "this file adds {added} workflows to the {} there are: {}",
                existing.len(),
                full_message()
            ),
        }]));
    }
    let mut summary = ImportSummary::default();
    let c = scorecard.currency;
    for change in &changes {
        let (id, fields, changed) = match change {
            Change::Add(fields) => {
                summary.added += 1;
                let id = repo::insert_workflow(&mut *w.tx, scorecard.id, fields)
                    .await?
                    .id;
                (id, fields, diff(None, Some(fields), c))
            }
            Change::Update { id, fields } => {
                let before = existing.iter().find(|w| w.id == *id).map(|w| &w.fields);
                let changed = diff(before, Some(fields), c);
                if changed.is_empty() {
                    continue;
                }
                summary.updated += 1;
                repo::update_workflow(&mut *w.tx, scorecard.id, *id, fields).await?;
                (*id, fields, changed)
            }
        };
        history::record(
            &mut w.tx,
            NewChange::workflow(scorecard.id, id, &fields.name, actor, "imported", &changed),
        )
        .await?;
    }
    w.finish(state, Touched::Everything).await?;
    Ok(Ok(summary))
}

/// The settings form's fields, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub small_ratio: String,
}

impl SettingsForm {
    pub fn of(scorecard: &Scorecard) -> SettingsForm {
        SettingsForm {
            name: scorecard.name.clone(),
            currency: scorecard.currency.code.to_string(),
            small_ratio: scorecard.small_ratio.to_string(),
        }
    }
}

/// Problems in the settings form, by field name.
pub type SettingsErrors = Vec<(&'static str, String)>;

/// Saves name, currency and ratio. A change of currency keeps amounts as written, and is
/// refused if an amount cannot be written in the new currency's minor units.
pub async fn update_settings(
    state: &AppState,
    scorecard: &Scorecard,
    form: &SettingsForm,
    actor: &str,
) -> AppResult<Result<(), SettingsErrors>> {
    let mut errors = SettingsErrors::new();
    let name = super::model::parse_name(&form.name).map_err(|m| errors.push(("name", m)));
    let currency = Currency::parse(&form.currency).map_err(|m| errors.push(("currency", m)));
    let ratio = Ratio::parse(&form.small_ratio).map_err(|m| errors.push(("small_ratio", m)));
    let (Ok(name), Ok(currency), Ok(ratio)) = (name, currency, ratio) else {
        return Ok(Err(errors));
    };
    let mut w = write::begin(state, scorecard.id).await?;
    if currency != scorecard.currency {
        if !crate::catalog::Catalog::prices_in(currency)
            && repo::has_estimated_spend(&mut *w.tx, scorecard.id).await?
        {
            return Ok(Err(vec![(
                "currency",
                format!(
                    "some workflows estimate their spend from catalog prices in {}: enter their spend instead before changing the currency",
                    crate::catalog::CATALOG_CURRENCY
                ),
            )]));
        }
        let shift = currency.minor_units as i32 - scorecard.currency.minor_units as i32;
        if !repo::rescale_spend(&mut w.tx, scorecard.id, shift).await? {
            return Ok(Err(vec![(
                "currency",
                format!(
                    "some amounts cannot be written in {} ({} decimals): round them first",
                    currency.code, currency.minor_units
                ),
            )]));
        }
    }
    repo::update_settings(&mut *w.tx, scorecard.id, &name, currency, ratio).await?;
    w.row_changed();
    let before = SettingsForm::of(scorecard);
    let changes: Vec<FieldChange> = [
        ("name", before.name, name),
        ("currency", before.currency, currency.code.to_string()),
        ("small_ratio", before.small_ratio, ratio.to_string()),
    ]
    .into_iter()
    .filter(|(_, b, a)| b != a)
    .map(|(field, before, after)| FieldChange {
        field: field.into(),
        before,
        after,
    })
    .collect();
    if !changes.is_empty() {
        history::record(
            &mut w.tx,
            NewChange::scorecard(scorecard.id, actor, "settings", &changes, String::new()),
        )
        .await?;
    }
    let touched = if currency == scorecard.currency {
        Touched::nothing()
    } else {
        Touched::Everything
    };
    w.finish(state, touched).await?;
    Ok(Ok(()))
}

/// Replaces a share link with a fresh one; the old one stops working at once.
pub async fn rotate(
    state: &AppState,
    scorecard: &Scorecard,
    kind: LinkKind,
    actor: &str,
) -> AppResult<Scorecard> {
    let mut w = write::begin(state, scorecard.id).await?;
    repo::set_token(&mut *w.tx, scorecard.id, kind, &token::generate()).await?;
    w.row_changed();
    let updated = repo::get_scorecard(&mut *w.tx, scorecard.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let which = match kind {
        LinkKind::Edit => "edit link",
        LinkKind::View => "view link",
    };
    history::record(
        &mut w.tx,
        NewChange::scorecard(
            scorecard.id,
            actor,
            "link rotated",
            &[],
            format!("new {which}; the old one no longer works"),
        ),
    )
    .await?;
    w.finish(state, Touched::nothing()).await?;
    Ok(updated)
}

/// The stored fields as the edit form shows them: the same text as the CSV.
pub fn form_values(fields: &WorkflowFields, currency: Currency) -> RawWorkflow {
    let mut raw = RawWorkflow::default();
    for c in Column::ALL {
        raw.set(c, contract::cell(fields, c, currency));
    }
    raw
}
