//! The scorecard domain: workflows, the rules, storage, the CSV contract and the pages.

pub mod csv;
pub mod edits;
#[cfg(test)]
mod fixtures;
pub mod handlers;
pub mod input;
pub mod model;
pub mod money;
pub mod repo;
pub mod report;
pub mod rules;
pub mod service;
pub mod snapshot;
pub mod table;
pub mod token;
pub mod views;
pub mod write;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::app::AppState;

/// Every scorecard route. Those under a share link exist under both `/s/{token}` (edit)
/// and `/v/{token}` (view), so a view link meets a clear 403 on every action rather than
/// a missing page.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(handlers::landing))
        .route("/scorecards", post(handlers::create))
        .route("/demo", post(handlers::demo));
    for prefix in ["/s/{token}", "/v/{token}"] {
        let at = |path: &str| format!("{prefix}{path}");
        router = router
            .route(&at(""), get(handlers::show))
            .route(&at("/scorecard.json"), get(handlers::json))
            .route(&at("/export.csv"), get(handlers::export))
            .route(
                &at("/import"),
                post(handlers::import)
                    .layer(DefaultBodyLimit::max(crate::web::layers::IMPORT_LIMIT)),
            )
            .route(&at("/workflows"), post(handlers::create_workflow))
            .route(&at("/workflows/new"), get(handlers::new_workflow))
            .route(&at("/workflows/{id}"), post(handlers::update_workflow))
            .route(&at("/workflows/{id}/edit"), get(handlers::edit_workflow))
            .route(
                &at("/workflows/{id}/delete"),
                post(handlers::delete_workflow),
            )
            .route(
                &at("/settings"),
                get(handlers::settings).post(handlers::save_settings),
            )
            .route(&at("/rotate/{link}"), post(handlers::rotate));
    }
    router
}
