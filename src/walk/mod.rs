//! The gate walk: the facilitator steps through the workflows by spend, one per screen,
//! and the room decides each; everyone's walk page follows along live.

pub mod handlers;
pub mod views;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::live::LiveEvent;
use crate::scorecard::model::Scorecard;
use crate::scorecard::repo;
use crate::scorecard::write::{self, Touched};

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for prefix in ["/s/{token}", "/v/{token}"] {
        let at = |path: &str| format!("{prefix}{path}");
        router = router
            .route(&at("/walk"), get(handlers::start))
            .route(&at("/walk/{id}"), get(handlers::show))
            .route(&at("/walk/{id}/go"), post(handlers::go))
            .route(&at("/walk/{id}/answer"), post(handlers::answer))
            .route(&at("/walk/{id}/save"), post(handlers::save))
            .route(&at("/walk/{id}/decide"), post(handlers::decide))
            .route(&at("/walk/{id}/vote"), post(handlers::open_vote))
            .route(&at("/votes/{vote}/ballot"), post(handlers::ballot))
            .route(&at("/votes/{vote}/reveal"), post(handlers::reveal));
    }
    router
}

/// Moves everyone's walk to `workflow_id`, marking `decided` first when given.
pub async fn move_to(
    state: &AppState,
    scorecard: &Scorecard,
    workflow_id: i64,
    decided: Option<i64>,
) -> AppResult<()> {
    let mut w = write::begin(state, scorecard.id).await?;
    if let Some(id) = decided
        && !repo::set_decided(&mut *w.tx, scorecard.id, id, true).await?
    {
        return Err(AppError::NotFound);
    }
    w.workflow(workflow_id).await?.ok_or(AppError::NotFound)?;
    repo::set_walk_position(&mut *w.tx, scorecard.id, workflow_id).await?;
    w.row_changed();
    let touched: &[i64] = match &decided {
        Some(id) => std::slice::from_ref(id),
        None => &[],
    };
    w.finish_with(state, Touched::ReadBack(touched), |revision| {
        LiveEvent::Walk {
            revision,
            workflow_id,
        }
    })
    .await?;
    Ok(())
}
