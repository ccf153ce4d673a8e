//! Fifty participants editing one scorecard at once: every edit is applied or reported as
//! a conflict, none is lost, and nothing fails.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::helpers::TestApp;

const PARTICIPANTS: usize = 50;
const EDITS_EACH: usize = 20;
const WORKFLOWS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_participants_making_twenty_edits_each_lose_nothing() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Busy room", "USD").await;
    for w in 0..WORKFLOWS {
        let name = format!("W{w}");
        app.add_workflow(&edit, &[("name", name.as_str())])
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let ids: Arc<HashMap<String, i64>> = Arc::new(
        json["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["name"].as_str().unwrap().to_string(),
                    w["id"].as_i64().unwrap(),
                )
            })
            .collect(),
    );

    let mut participants = tokio::task::JoinSet::new();
    for p in 0..PARTICIPANTS {
        let router = app.router.clone();
        let edit = edit.clone();
        let ids = ids.clone();
        participants.spawn(async move {
            // The version each workflow had when this participant last saw it.
            let mut seen = [1_i64; WORKFLOWS];
            let mut applied = [0_u32; WORKFLOWS];
            let mut conflicts = 0_u32;
            for e in 0..EDITS_EACH {
                // Neighbours overlap: participants p and p+10 edit the same workflows.
                let w = (p + e) % WORKFLOWS;
                let id = ids[&format!("W{w}")];
                let body = serde_urlencoded::to_string([
                    ("version", seen[w].to_string()),
                    ("name", format!("W{w}")),
                    ("current_tier", "frontier".into()),
                    ("monthly_spend", "1000".into()),
                    ("metric", format!("edit {e} by participant {p}")),
                ])
                .unwrap();
                let request = Request::post(format!("{edit}/workflows/{id}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap();
                let response = router.clone().oneshot(request).await.unwrap();
                let status = response.status();
                let page = String::from_utf8_lossy(
                    &response.into_body().collect().await.unwrap().to_bytes(),
                )
                .into_owned();
                match status {
                    StatusCode::SEE_OTHER => {
                        applied[w] += 1;
                        seen[w] += 1;
                    }
                    StatusCode::CONFLICT => {
                        conflicts += 1;
                        // Take the current version from the conflict page, as a person would.
                        let at = page.find("name=\"version\" value=\"").unwrap() + 22;
                        seen[w] = page[at..at + page[at..].find('"').unwrap()]
                            .parse()
                            .unwrap();
                    }
                    other => panic!("participant {p}, edit {e}: {other}\n{page}"),
                }
            }
            (applied, conflicts)
        });
    }
    let mut applied = [0_u32; WORKFLOWS];
    let mut conflicts = 0;
    while let Some(result) = participants.join_next().await {
        let (mine, theirs) = result.unwrap();
        for (total, n) in applied.iter_mut().zip(mine) {
            *total += n;
        }
        conflicts += theirs;
    }
    let total_applied: u32 = applied.iter().sum();
    assert_eq!(
        total_applied + conflicts,
        (PARTICIPANTS * EDITS_EACH) as u32
    );
    assert!(total_applied > 0);

    // Every applied edit left exactly one new version and one history entry: none lost,
    // none silently overwritten.
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    for w in json["workflows"].as_array().unwrap() {
        let index: usize = w["name"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(
            w["version"].as_i64().unwrap(),
            1 + i64::from(applied[index]),
            "{}",
            w["name"]
        );
    }
    let edited: i64 = sqlx::query_scalar("select count(*) from changes where action = 'edited'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(edited, i64::from(total_applied));
}

/// With nothing of the scorecard in memory (as when a save races a load), a save checks
/// names, versions and the workflow cap against the database itself.
#[tokio::test]
async fn saves_check_names_and_versions_against_the_database_when_memory_lags() {
    use scorecard::scorecard::input::{Column, RawWorkflow};
    use scorecard::scorecard::service::{self, SaveRejection};

    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Cold", "USD").await;
    for name in ["Alpha", "Beta"] {
        app.add_workflow(&edit, &[("name", name)])
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    let token = crate::helpers::token_of(&edit);
    let (snapshot, _) = app
        .state
        .cache
        .open(&app.state.db, &app.state.catalog, token)
        .await
        .unwrap()
        .unwrap();
    let scorecard = snapshot.scorecard.clone();
    let alpha = snapshot
        .workflows()
        .find(|w| w.fields.name == "Alpha")
        .unwrap()
        .clone();
    drop(snapshot);
    // No snapshot may be kept from now on: every write reads the database.
    app.state.cache.invalidate(scorecard.id, i64::MAX);

    let mut raw = RawWorkflow::default();
    raw.set(Column::Name, "BETA");
    let taken = service::save_workflow(&app.state, &scorecard, Some(alpha.id), Some(1), &raw, "t")
        .await
        .unwrap();
    assert!(
        matches!(&taken, Err(SaveRejection::Invalid(e)) if format!("{e:?}").contains("already a workflow")),
        "{taken:?}"
    );

    let mut raw = RawWorkflow::default();
    raw.set(Column::Owner, "Grace Hopper");
    let saved = service::save_workflow(&app.state, &scorecard, Some(alpha.id), Some(1), &raw, "t")
        .await
        .unwrap();
    assert!(matches!(saved, Ok(id) if id == alpha.id), "{saved:?}");
    let stale = service::save_workflow(&app.state, &scorecard, Some(alpha.id), Some(1), &raw, "t")
        .await
        .unwrap();
    assert!(matches!(stale, Err(SaveRejection::Stale(w)) if w.version == 2));

    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let row = json["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "Alpha")
        .unwrap()
        .clone();
    assert_eq!(row["owner"], "Grace Hopper");
    assert_eq!(row["version"], 2);
}
