//! The application's one error type and its error policy.
//!
//! Policy:
//! - A user's mistake in a form or an import is not an error here: the handler re-renders
//!   the page with the user's values and a message beside each field (422). `AppError` is
//!   for requests that cannot be served at all.
//! - Clients see a short page (or JSON, when they asked for JSON) that says what to do,
//!   never internal details: a database error is "something went wrong on our side".
//! - Each error is logged once, by `web::layers::errors`, inside the request's span, so
//!   the log line carries the route and request id. `IntoResponse` only attaches the
//!   detail to the response for that middleware to find.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// A view link used where only the edit link may act.
    #[error("this link can only view the scorecard")]
    ReadOnly,
    #[error("{0}")]
    BadRequest(String),
    #[error("the upload is too large: {0}")]
    TooLarge(String),
    /// A state-changing request sent from another site.
    #[error("cross-site request refused")]
    CrossSite,
    #[error("the request took too long")]
    Timeout,
    /// Too many failed link look-ups from one address.
    #[error("too many unknown links from this address")]
    TooManyLookups,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
    /// Stored data that breaks the schema's promises.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A failure inside the server that is none of the above.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn corrupt(detail: impl Into<String>) -> AppError {
        AppError::Corrupt(detail.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::ReadOnly => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::Timeout => StatusCode::REQUEST_TIMEOUT,
            AppError::TooManyLookups => StatusCode::TOO_MANY_REQUESTS,
            AppError::Database(_)
            | AppError::Migrate(_)
            | AppError::Template(_)
            | AppError::Corrupt(_)
            | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the person on the other end is told.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => {
                "There is nothing at this address. If it was a share link, it may have been \
                 rotated: ask the facilitator for the current one."
                    .into()
            }
            AppError::ReadOnly => {
                "This is a view link: it shows the scorecard but cannot change it. Ask the \
                 facilitator for the edit link."
                    .into()
            }
            AppError::BadRequest(m) | AppError::TooLarge(m) => m.clone(),
            AppError::CrossSite => "This change was sent from another website, so it was refused. \
                 Open the scorecard's link directly in your browser and make the change there."
                .into(),
            AppError::Timeout => {
                "The server took too long to answer and nothing was changed. Try again.".into()
            }
            AppError::TooManyLookups => {
                "Too many unknown links were tried from your network. Wait a \
                 minute, then check the link you were given."
                    .into()
            }
            _ => "Something went wrong on our side and nothing was changed. Try again; if it \
                  keeps happening, tell whoever runs this server."
                .into(),
        }
    }
}

/// Attached to error responses so the logging middleware can record the detail once and
/// answer in JSON where the client asked for it.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    pub detail: String,
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.public_message();
        let page = crate::web::pages::ErrorPage {
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            message: message.clone(),
        };
        let body = askama::Template::render(&page).unwrap_or_else(|_| message.clone());
        let mut response = (status, Html(body)).into_response();
        response.extensions_mut().insert(ErrorReport {
            detail: self.to_string(),
            message,
        });
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
