//! The benchmark's yardstick: serves whatever bytes were last uploaded to it, straight
//! from memory, through the same server, layers and sockets as real pages. Comparing a
//! page with the same bytes served from here isolates what computing the page costs.
//!
//! Mounted only when the server starts with `--bench-mirror` (`SCORECARD_BENCH_MIRROR`);
//! never on by default.

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Extension;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::app::AppState;

/// The most bytes the mirror holds: more than any page of this product.
const LIMIT: usize = 64 * 1024 * 1024;

type Store = Arc<RwLock<Bytes>>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_bench/mirror", get(serve).put(store))
        .layer(axum::extract::DefaultBodyLimit::max(LIMIT))
        .layer(Extension(Store::default()))
}

async fn store(Extension(store): Extension<Store>, body: Bytes) -> &'static str {
    *store.write().unwrap_or_else(|p| p.into_inner()) = body;
    "stored"
}

async fn serve(Extension(store): Extension<Store>) -> impl IntoResponse {
    let bytes = store.read().unwrap_or_else(|p| p.into_inner()).clone();
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], bytes)
}
