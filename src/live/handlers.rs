//! The event stream of a scorecard: `GET /s/{token}/events` and `/v/{token}/events`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::LiveEvent;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::scorecard::repo;
use crate::web::access::Access;

fn to_sse(event: &LiveEvent) -> Event {
    let base = Event::default().id(event.revision().to_string());
    match event {
        LiveEvent::Changed { revision } => base.event("changed").data(revision.to_string()),
        LiveEvent::Walk { workflow_id, .. } => base.event("walk").data(workflow_id.to_string()),
    }
}

/// Greets with the current revision, then forwards every event until the page leaves or
/// the server shuts down.
pub async fn events(
    State(state): State<AppState>,
    access: Access,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let id = access.scorecard.id;
    // Subscribe before reading the revision, so no change falls between the two.
    let (receiver, closed) = state.hub.subscribe(id);
    let revision = repo::revision(state.db.reader(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let hello = Event::default()
        .event("hello")
        .id(revision.to_string())
        .data(revision.to_string());
    let updates = stream::unfold(
        (receiver, closed),
        |(mut receiver, mut closed)| async move {
            if *closed.borrow() {
                return None;
            }
            let event = tokio::select! {
                _ = closed.changed() => return None,
                received = receiver.recv() => match received {
                    Ok(event) => to_sse(&event),
                    // Fell behind: the page reloads its numbers rather than replaying.
                    Err(RecvError::Lagged(_)) => Event::default().event("changed").data("lagged"),
                    Err(RecvError::Closed) => return None,
                },
            };
            Some((Ok(event), (receiver, closed)))
        },
    );
    let stream = stream::once(async { Ok(hello) }).chain(updates);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The event stream under both kinds of link.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/s/{token}/events", axum::routing::get(events))
        .route("/v/{token}/events", axum::routing::get(events))
}
