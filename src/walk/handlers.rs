//! Gate walk and vote handlers: thin, each mutation one service call then a redirect back
//! to the walk, so every page (and every follower) re-renders from the stored state.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::views::{VoteView, WalkPage};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::scorecard::input::{Column, FieldErrors, RawWorkflow};
use crate::scorecard::model::Verdict;
use crate::scorecard::report::Report;
use crate::scorecard::service::{self, SaveRejection};
use crate::scorecard::views::ConflictPage;
use crate::vote;
use crate::web::access::{Access, EditAccess};
use crate::web::participant::{Participant, ParticipantView};

#[derive(Deserialize)]
pub struct IdPath {
    id: String,
}

impl IdPath {
    fn id(&self) -> AppResult<i64> {
        crate::web::path_id(&self.id)
    }
}

fn walk_url(access: &Access, id: i64) -> String {
    format!("{}/walk/{id}", access.base())
}

/// `GET …/walk`: to where the room is, or to the top of the list.
pub async fn start(access: Access) -> AppResult<Response> {
    let at = access.scorecard.walk_workflow_id;
    let snapshot = &access.snapshot;
    let target = snapshot
        .workflows()
        .find(|w| Some(w.id) == at)
        .or(snapshot.workflow(0))
        .map(|w| w.id);
    Ok(match target {
        Some(id) => Redirect::to(&walk_url(&access, id)).into_response(),
        None => Redirect::to(&access.base()).into_response(),
    })
}

async fn render_walk(
    state: &AppState,
    access: &Access,
    participant: &Participant,
    id: i64,
    errors: &FieldErrors,
) -> AppResult<Response> {
    let report = Report::compute(access.snapshot.clone());
    let index = access.snapshot.position(id).ok_or(AppError::NotFound)?;
    let vote = match vote::repo::latest(state.db.reader(), id).await? {
        Some(v) => {
            let ballots = vote::repo::ballots(state.db.reader(), v.id).await?;
            Some(VoteView::new(
                v.id,
                v.revealed,
                v.opened_by,
                &ballots,
                participant.id.as_deref(),
            ))
        }
        None => None,
    };
    let view = access
        .can_edit()
        .then(|| ParticipantView::new(participant, walk_url(access, id)));
    let page = WalkPage::new(
        &report,
        index,
        access.base(),
        view,
        access.can_edit() && participant.id.is_some(),
        vote,
        errors,
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    access: Access,
    participant: Participant,
    Path(path): Path<IdPath>,
) -> AppResult<Response> {
    render_walk(
        &state,
        &access,
        &participant,
        path.id()?,
        &FieldErrors::default(),
    )
    .await
}

/// Moves the whole room to a workflow.
pub async fn go(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    Path(path): Path<IdPath>,
) -> AppResult<Response> {
    let id = path.id()?;
    super::move_to(&state, &access.scorecard, id, None).await?;
    Ok(Redirect::to(&walk_url(&access, id)).into_response())
}

/// Marks the workflow decided and moves the room to the next one.
pub async fn decide(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    Path(path): Path<IdPath>,
) -> AppResult<Response> {
    let id = path.id()?;
    let index = access.snapshot.position(id).ok_or(AppError::NotFound)?;
    let next = access.snapshot.workflow(index + 1).map_or(id, |w| w.id);
    super::move_to(&state, &access.scorecard, next, Some(id)).await?;
    Ok(Redirect::to(&walk_url(&access, next)).into_response())
}

/// The columns the walk page may change.
const WALK_COLUMNS: [Column; 13] = [
    Column::Stakes,
    Column::Ambiguity,
    Column::BusinessCase,
    Column::SensitiveData,
    Column::Defended,
    Column::Owner,
    Column::Metric,
    Column::NextStep,
    Column::KillCriteria,
    Column::TierOverride,
    Column::TierOverrideReason,
    Column::VerdictOverride,
    Column::VerdictOverrideReason,
];

/// Saves whichever walk columns the form carries, on the version the page showed.
async fn save_columns(
    state: &AppState,
    access: &Access,
    participant: &Participant,
    id: i64,
    form: &HashMap<String, String>,
) -> AppResult<Response> {
    let mut raw = RawWorkflow::default();
    for column in WALK_COLUMNS {
        if let Some(value) = form.get(column.as_str()) {
            raw.set(column, value.clone());
        }
    }
    let version = form.get("version").and_then(|v| v.parse().ok());
    match service::save_workflow(
        state,
        &access.scorecard,
        Some(id),
        version,
        &raw,
        participant.actor(),
    )
    .await?
    {
        Ok(_) => Ok(Redirect::to(&walk_url(access, id)).into_response()),
        Err(SaveRejection::Invalid(errors)) => {
            render_walk(state, access, participant, id, &errors).await
        }
        Err(SaveRejection::Stale(current)) => {
            // Show the stale values over the full form, so nothing typed is lost.
            let mut yours = service::form_values(&current.fields, access.scorecard.currency);
            for column in WALK_COLUMNS {
                if let Some(value) = raw.get(column) {
                    yours.set(column, value);
                }
            }
            let view = ParticipantView::new(participant, walk_url(access, id));
            let page = ConflictPage::new(access, Some(view), &current, &yours);
            Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
        }
    }
}

/// One routing answer from the big yes/no buttons.
pub async fn answer(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<IdPath>,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    save_columns(&state, &access, &participant, path.id()?, &form).await
}

/// Owner, metric, next step, kill criteria, defended and overrides.
pub async fn save(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<IdPath>,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    save_columns(&state, &access, &participant, path.id()?, &form).await
}

pub async fn open_vote(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<IdPath>,
) -> AppResult<Response> {
    let id = path.id()?;
    vote::open(&state, &access.scorecard, id, participant.actor()).await?;
    Ok(Redirect::to(&walk_url(&access, id)).into_response())
}

#[derive(Deserialize)]
pub struct VotePath {
    vote: String,
}

impl VotePath {
    fn id(&self) -> AppResult<i64> {
        crate::web::path_id(&self.vote)
    }
}

#[derive(Deserialize)]
pub struct BallotForm {
    #[serde(default)]
    verdict: String,
}

pub async fn ballot(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<VotePath>,
    Form(form): Form<BallotForm>,
) -> AppResult<Response> {
    let vote_id = path.id()?;
    let vote = vote::repo::get(state.db.reader(), access.scorecard.id, vote_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(me), Some(name)) = (participant.id.as_deref(), participant.name.as_deref()) else {
        return Err(AppError::BadRequest(
            "Enter your name at the top of the page first: each person votes once.".into(),
        ));
    };
    let verdict = Verdict::parse(&form.verdict).map_err(AppError::BadRequest)?;
    vote::cast(&state, &access.scorecard, vote_id, me, name, verdict).await?;
    Ok(Redirect::to(&walk_url(&access, vote.workflow_id)).into_response())
}

pub async fn reveal(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<VotePath>,
) -> AppResult<Response> {
    let vote_id = path.id()?;
    let vote = vote::repo::get(state.db.reader(), access.scorecard.id, vote_id)
        .await?
        .ok_or(AppError::NotFound)?;
    vote::reveal(&state, &access.scorecard, vote_id, participant.actor()).await?;
    Ok(Redirect::to(&walk_url(&access, vote.workflow_id)).into_response())
}
