//! Access to a scorecard by its capability link.
//!
//! `/s/{token}` routes open a scorecard by its edit token; a view token there can read
//! but not act. `/v/{token}` routes are always read-only. An unknown token is a 404, and
//! any route that changes something refuses a view token with 403.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, Path};
use axum::http::request::Parts;

use crate::app::AppState;
use crate::error::AppError;
use crate::scorecard::model::Scorecard;
use crate::scorecard::repo::LinkKind;
use crate::scorecard::snapshot::Snapshot;
use crate::scorecard::token;
use crate::web::lookups::ClientAddr;

/// A scorecard opened by a link, and what the link may do.
#[derive(Debug, Clone)]
pub struct Access {
    pub scorecard: Scorecard,
    pub kind: LinkKind,
    /// The scorecard's stored state as of this request.
    pub snapshot: Arc<Snapshot>,
}

impl Access {
    pub fn can_edit(&self) -> bool {
        self.kind == LinkKind::Edit
    }

    /// The root of this link's pages: `/s/{edit}` or `/v/{view}`.
    pub fn base(&self) -> String {
        match self.kind {
            LinkKind::Edit => format!("/s/{}", self.scorecard.edit_token),
            LinkKind::View => format!("/v/{}", self.scorecard.view_token),
        }
    }
}

impl FromRequestParts<AppState> for Access {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let view_only = parts
            .extensions
            .get::<MatchedPath>()
            .is_some_and(|p| p.as_str().starts_with("/v/"));
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let token = params.get("token").ok_or(AppError::NotFound)?;
        // Anything that cannot be a token is not worth a database round trip.
        if !token::well_formed(token) {
            return Err(AppError::NotFound);
        }
        // Behind the rate limit only links nobody is using are checked.
        let ClientAddr(client) = ClientAddr::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientAddr(None));
        if let Some(ip) = client
            && state.lookups.blocked(ip)
            && !state.cache.knows(token)
        {
            return Err(AppError::TooManyLookups);
        }
        let Some((snapshot, kind)) = state.cache.open(&state.db, &state.catalog, token).await?
        else {
            if let Some(ip) = client {
                state.lookups.record_failure(ip);
            }
            return Err(AppError::NotFound);
        };
        let kind = if view_only { LinkKind::View } else { kind };
        Ok(Access {
            scorecard: snapshot.scorecard.clone(),
            kind,
            snapshot,
        })
    }
}

/// Access through an edit link; a view link is refused with 403.
#[derive(Debug, Clone)]
pub struct EditAccess(pub Access);

impl FromRequestParts<AppState> for EditAccess {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let access = Access::from_request_parts(parts, state).await?;
        if access.can_edit() {
            Ok(EditAccess(access))
        } else {
            Err(AppError::ReadOnly)
        }
    }
}
