//! Conditional GET: pages under a share link carry an `ETag` made of the scorecard's
//! revision and what else shapes the page (the link, the path and query, the person's
//! name cookie), so a reload with nothing changed is answered `304 Not Modified` before
//! anything is computed.

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::web::access::Access;

/// The validator for this request's view of the scorecard.
pub fn etag(access: &Access, parts: &RequestKey) -> HeaderValue {
    let mut hasher = DefaultHasher::new();
    access.kind.hash(&mut hasher);
    parts.path_and_query.hash(&mut hasher);
    parts.cookie.hash(&mut hasher);
    let value = format!(
        "W/\"{}-{:016x}\"",
        access.snapshot.revision(),
        hasher.finish()
    );
    // Digits, letters, quotes and a dash: always a valid header value.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""))
}

/// What, besides the revision, decides a page's bytes.
pub struct RequestKey {
    path_and_query: String,
    cookie: String,
}

impl RequestKey {
    pub fn of(uri: &axum::http::Uri, headers: &HeaderMap) -> RequestKey {
        RequestKey {
            path_and_query: uri.path_and_query().map_or("", |p| p.as_str()).to_string(),
            cookie: headers
                .get(header::COOKIE)
                .and_then(|c| c.to_str().ok())
                .unwrap_or_default()
                .to_string(),
        }
    }
}

/// `304 Not Modified` when the client already holds this version.
pub fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> Option<Response> {
    let held = headers.get(header::IF_NONE_MATCH)?.to_str().ok()?;
    let wanted = etag.to_str().ok()?;
    let matches = held
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == wanted.trim_start_matches("W/"));
    matches.then(|| (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone())]).into_response())
}

/// Adds the validator to a response, and forbids storing pages of edit links (the link
/// is a credential) while letting view pages be revalidated.
pub fn tag(mut response: Response, etag: HeaderValue, edit: bool) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    let policy = if edit {
        "no-store"
    } else {
        "private, no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}
