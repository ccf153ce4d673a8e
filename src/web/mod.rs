//! Cross-cutting HTTP: access to a scorecard by its link, layers, health probes, static
//! assets and the pages every domain shares.

pub mod access;
pub mod admin;
pub mod assets;
pub mod conditional;
pub mod escape;
pub mod health;
pub mod layers;
pub mod lookups;
pub mod metrics;
pub mod mirror;
pub mod page;
pub mod pages;
pub mod participant;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

/// Routes that belong to no domain: probes and static files.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .route("/static/{file}", get(assets::asset))
        .route("/participant", axum::routing::post(participant::set_name))
        .fallback(pages::not_found)
}

/// Whether the client prefers JSON to HTML (an API client rather than a browser).
pub fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"))
}

/// A numeric id from the path (a workflow, a vote, a history entry); anything else names
/// nothing, so it is a 404 rather than a 400.
pub fn path_id(text: &str) -> crate::error::AppResult<i64> {
    text.parse().map_err(|_| crate::error::AppError::NotFound)
}
