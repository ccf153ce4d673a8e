//! The layers every response passes through: request ids, the request span, security
//! headers, and the one place errors are logged.

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::csrf::CsrfLayer;
use tower_http::timeout::TimeoutLayer;

use crate::app::AppState;
use crate::config::Config;
use crate::error::{AppError, ErrorReport};

/// Extractor rejections are plain text; our own pages are HTML.
fn is_plain_text(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"))
}

/// Scripts and styles come only from our own `/static`: no inline code, no CDN.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The largest form post: far above any real form, far below what could hurt.
pub const FORM_LIMIT: usize = 64 * 1024;

/// The largest CSV upload.
pub const IMPORT_LIMIT: usize = 5 * 1024 * 1024;

pub fn apply(router: Router<AppState>, config: &Config) -> Router<AppState> {
    let mut csrf = CsrfLayer::new();
    if let Some(origin) = config.public_base() {
        // Behind a proxy that rewrites Host, the public origin is still trusted.
        csrf = match csrf.clone().add_trusted_origin(origin) {
            Ok(with) => with,
            Err(_) => csrf,
        };
    }
    // One `layer` call for the whole stack: each `Router::layer` wraps every route in a
    // boxed service of its own, and each request would clone every level of them.
    // Listed from the outside in.
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(RequestIds))
            .layer(PropagateRequestIdLayer::x_request_id())
            // `observe` logs failures, with their route and id.
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_failure(()),
            )
            // Event streams are left uncompressed by the default predicate, so they flow.
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn(protect))
            .layer(middleware::from_fn(observe))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(config.request_timeout_secs.max(1)),
            ))
            .layer(csrf.with_rejection_response(cross_site_refusal))
            .layer(DefaultBodyLimit::max(FORM_LIMIT)),
    )
}

/// Request ids: a prefix drawn at random once per process, so ids from two runs or two
/// instances differ, then a counter (`3f9a0c12-0000000041`). A random id per request
/// would cost a system call each.
#[derive(Clone, Copy)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        static PREFIX: LazyLock<u32> = LazyLock::new(|| {
            let mut bytes = [0; 4];
            if getrandom::fill(&mut bytes).is_ok() {
                u32::from_le_bytes(bytes)
            } else {
                // Without a random source: the start time and the process id still tell
                // runs apart.
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                now.subsec_nanos() ^ std::process::id()
            }
        });
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:08x}-{n:010x}", *PREFIX);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// What every response carries unless it set its own: scripts and styles only from our
/// own `/static`, no framing, no sniffing; no referrer, since share links live in the
/// path and no page may leak them to another site; no search engine listing, since
/// scorecards are private to their link holders.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ),
    (
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
];

/// Adds `SECURITY_HEADERS` to every response, and keeps pages under an edit link out of
/// browser and proxy caches: the link in them is a credential. (View pages set their own
/// revalidation policy.)
async fn protect(req: Request, next: Next) -> Response {
    let edit = req.uri().path().starts_with("/s/");
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    // Room for these and the request id at once, rather than growing one by one.
    headers.reserve(SECURITY_HEADERS.len() + 2);
    for (name, value) in SECURITY_HEADERS.iter() {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    if edit && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A state-changing request from another site: refused with a page that says why.
fn cross_site_refusal(_: tower_http::csrf::ProtectionError) -> Response {
    AppError::CrossSite.into_response()
}

/// The request's span, for `RUST_LOG=debug`: it names the matched route (`/s/{token}`),
/// never the URI, so share tokens stay out of the logs. At the default level no span is
/// made: a request's error line names its route and id itself (see `observe`).
fn request_span(req: &Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %req.method(),
        route = route_of(req),
        request_id = id_of(req)
    )
}

fn route_of(req: &Request) -> &str {
    req.extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str)
}

fn id_of(req: &Request) -> &str {
    req.extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
}

/// Counts and times each request (see `metrics`), logs each error response once with its
/// route and request id, and answers errors in JSON where the client asked for JSON.
async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("(unmatched)", MatchedPath::as_str);
    let request_id = req.extensions().get::<RequestId>().cloned();
    let json = crate::web::wants_json(req.headers()) || req.uri().path().ends_with(".json");
    let mut response = next.run(req).await;
    let mut report = response.extensions_mut().remove::<ErrorReport>();
    let status = response.status();
    if report.is_none() {
        // Rejections by extractors and layers come as bare text: give them our page.
        let refusal = match status {
            StatusCode::PAYLOAD_TOO_LARGE => Some(AppError::TooLarge(format!(
                "Imports take files up to {} MB and forms up to {} KB. Split the file, or shorten the text, and send it again.",
                IMPORT_LIMIT / (1024 * 1024),
                FORM_LIMIT / 1024
            ))),
            StatusCode::REQUEST_TIMEOUT => Some(AppError::Timeout),
            StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY
                if is_plain_text(&response) =>
            {
                Some(AppError::BadRequest(
                    "The request could not be read: send the form from the page, or check the upload.".into(),
                ))
            }
            _ => None,
        };
        if let Some(error) = refusal {
            let mut replaced = error.into_response();
            report = replaced.extensions_mut().remove::<ErrorReport>();
            response = replaced;
        }
    }
    crate::web::metrics::record(&method, route, status, started);
    let Some(report) = report else {
        return response;
    };
    let request_id = request_id
        .as_ref()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    if status.is_server_error() {
        tracing::error!(route, request_id, status = status.as_u16(), error = %report.detail, "request failed");
    } else {
        tracing::debug!(route, request_id, status = status.as_u16(), error = %report.detail, "request refused");
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
