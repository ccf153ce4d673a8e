//! Pages shared by every domain: errors and the not-found fallback.

use askama::Template;

use crate::error::AppError;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}
