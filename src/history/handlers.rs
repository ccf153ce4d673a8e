//! History pages and restoring a deleted workflow.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::repo::{self, Change};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::scorecard::service::{self, RestoreRejection};
use crate::web::access::{Access, EditAccess};
use crate::web::participant::{Participant, ParticipantView};

/// The most entries a history page shows.
const PAGE_LIMIT: i64 = 500;

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for prefix in ["/s/{token}", "/v/{token}"] {
        router = router
            .route(&format!("{prefix}/history"), get(scorecard_history))
            .route(
                &format!("{prefix}/workflows/{{id}}/history"),
                get(workflow_history),
            )
            .route(
                &format!("{prefix}/history/{{change}}/restore"),
                post(restore),
            );
    }
    router
}

#[derive(Template)]
#[template(path = "history.html")]
pub struct HistoryPage {
    pub scorecard_name: String,
    pub participant: Option<ParticipantView>,
    pub base: String,
    pub can_edit: bool,
    pub title: String,
    pub changes: Vec<Change>,
    pub message: Option<String>,
}

impl HistoryPage {
    /// `2026-11-28T18:15:08.123Z` → `2026-11-28 18:15 UTC`.
    pub fn when(&self, at: &str) -> String {
        match (at.get(..10), at.get(11..16)) {
            (Some(day), Some(time)) => format!("{day} {time} UTC"),
            _ => at.to_string(),
        }
    }
}

async fn page(
    state: &AppState,
    access: &Access,
    participant: &Participant,
    workflow: Option<i64>,
    message: Option<String>,
) -> AppResult<HistoryPage> {
    let changes = repo::list(state.db.reader(), access.scorecard.id, workflow, PAGE_LIMIT).await?;
    let title = match (workflow, changes.first()) {
        (Some(_), Some(c)) => format!("History of {}", c.workflow_name),
        (Some(_), None) => return Err(AppError::NotFound),
        (None, _) => "History".to_string(),
    };
    let back = match workflow {
        Some(id) => format!("{}/workflows/{id}/history", access.base()),
        None => format!("{}/history", access.base()),
    };
    Ok(HistoryPage {
        scorecard_name: access.scorecard.name.clone(),
        participant: access
            .can_edit()
            .then(|| ParticipantView::new(participant, back)),
        base: access.base(),
        can_edit: access.can_edit(),
        title,
        changes,
        message,
    })
}

pub async fn scorecard_history(
    State(state): State<AppState>,
    access: Access,
    participant: Participant,
) -> AppResult<Response> {
    let page = page(&state, &access, &participant, None, None).await?;
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct WorkflowPath {
    id: String,
}

pub async fn workflow_history(
    State(state): State<AppState>,
    access: Access,
    participant: Participant,
    Path(path): Path<WorkflowPath>,
) -> AppResult<Response> {
    let id = crate::web::path_id(&path.id)?;
    let page = page(&state, &access, &participant, Some(id), None).await?;
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct ChangePath {
    change: String,
}

pub async fn restore(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<ChangePath>,
) -> AppResult<Response> {
    let change = crate::web::path_id(&path.change)?;
    let refusal = match service::restore_workflow(
        &state,
        &access.scorecard,
        change,
        participant.actor(),
    )
    .await?
    {
        Ok(id) => {
            return Ok(
                Redirect::to(&format!("{}/workflows/{id}/history", access.base())).into_response(),
            );
        }
        Err(RestoreRejection::NameTaken(name)) => format!(
            "{name:?} cannot be restored: a workflow with that name exists. Rename or delete it first."
        ),
        Err(RestoreRejection::Invalid(reasons)) => {
            format!("This workflow cannot be restored as it was: {reasons}. Add it again by hand.")
        }
    };
    let page = page(&state, &access, &participant, None, Some(refusal)).await?;
    Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
}
