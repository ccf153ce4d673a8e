//! Prometheus metrics at `/metrics`: requests and latency by route pattern (never by URI,
//! so no share token appears), open event streams, and scorecards held in memory.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;

/// Latency buckets in seconds, from a cached page to a slow import.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The process-wide recorder, installed on first use (once, however many apps a test
/// process builds).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Counts a request by method, route pattern and status, and records how long it took.
pub fn record(method: &Method, route: &str, status: StatusCode, started: Instant) {
    let method = method.as_str().to_string();
    let route = route.to_string();
    let status = status.as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render(State(state): State<AppState>) -> Response {
    metrics::gauge!("scorecard_event_streams").set(state.hub.listeners() as f64);
    let text = handle().map_or_else(String::new, PrometheusHandle::render);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
