//! The layers every response passes through: request ids, the request span, security
//! headers, and the one place errors are logged.

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::error::ErrorReport;

/// Scripts and styles come only from our own `/static`: no inline code, no CDN.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub fn apply(router: Router<AppState>) -> Router<AppState> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        // Event streams are left uncompressed by the default predicate, so they flow.
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(log_errors))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Share links live in the path: no page may leak them to another site.
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
}

/// The request's span names the matched route (`/s/{token}`), never the URI, so share
/// tokens stay out of the logs.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str);
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), route, request_id)
}

/// Logs each error response once, inside the request span, and answers in JSON where the
/// client asked for JSON.
async fn log_errors(req: Request, next: Next) -> Response {
    let json = crate::web::wants_json(req.headers()) || req.uri().path().ends_with(".json");
    let mut response = next.run(req).await;
    let Some(report) = response.extensions_mut().remove::<ErrorReport>() else {
        return response;
    };
    let status = response.status();
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), error = %report.detail, "request failed");
    } else {
        tracing::debug!(status = status.as_u16(), error = %report.detail, "request refused");
    }
    if json {
        response = (
            status,
            axum::Json(serde_json::json!({ "error": report.message })),
        )
            .into_response();
    }
    response
}
