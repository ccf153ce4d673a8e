use axum::http::StatusCode;

use crate::helpers::{TestApp, assert_redirect_to, token_of};

/// Every route that changes something, as (path under the link, form fields).
fn mutating_routes(id: i64) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "/workflows".into(),
            vec![("name", "Sneaky"), ("current_tier", "small")],
        ),
        (
            format!("/workflows/{id}"),
            vec![("name", "Renamed"), ("current_tier", "small")],
        ),
        (format!("/workflows/{id}/delete"), vec![]),
        (
            "/settings".into(),
            vec![
                ("name", "Taken over"),
                ("currency", "USD"),
                ("small_ratio", "0.5"),
            ],
        ),
        ("/rotate/edit".into(), vec![]),
        ("/rotate/view".into(), vec![]),
    ]
}

async fn scorecard_with_one_workflow(app: &TestApp) -> (String, String, i64) {
    let edit = app.create_scorecard("Shared", "USD").await;
    app.add_workflow(&edit, &[]).await;
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let id = json["workflows"][0]["id"].as_i64().unwrap();
    let view = app.view_link(&edit).await;
    (edit, view, id)
}

#[tokio::test]
async fn the_view_link_shows_the_scorecard_with_nothing_to_change() {
    let app = TestApp::spawn().await;
    let (edit, view, _) = scorecard_with_one_workflow(&app).await;
    let page = app.get(&view).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("Ticket triage"));
    assert!(page.body.contains("View only"));
    assert!(
        !page.body.contains(token_of(&edit)),
        "the view page reveals the edit token"
    );
    assert!(!page.body.contains("method=\"post\""));
    assert!(!page.body.contains("/workflows/new"));
    let json = app.get_json(&format!("{view}/scorecard.json")).await;
    assert_eq!(json["total_spend"], "1000.00");
    assert!(!json.to_string().contains(token_of(&edit)));
    let csv = app.get(&format!("{view}/export.csv")).await;
    csv.assert_status(StatusCode::OK);
    assert!(csv.body.contains("Ticket triage"));
}

#[tokio::test]
async fn every_mutating_route_refuses_the_view_token_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (edit, view, id) = scorecard_with_one_workflow(&app).await;
    let before = app.get(&format!("{edit}/export.csv")).await.body;
    let view_token = token_of(&view);
    for prefix in [format!("/v/{view_token}"), format!("/s/{view_token}")] {
        for (path, fields) in mutating_routes(id) {
            let response = app.post_form(&format!("{prefix}{path}"), &fields).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{prefix}{path}");
            assert!(response.body.contains("view link"), "{path}");
        }
        let response = app
            .post_csv(
                &format!("{prefix}/import"),
                "name,current_tier\nSneaky,small\n",
                false,
            )
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{prefix}/import");
        for page in [
            "/workflows/new",
            &format!("/workflows/{id}/edit"),
            "/settings",
        ] {
            let response = app.get(&format!("{prefix}{page}")).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{prefix}{page}");
        }
    }
    assert_eq!(app.get(&format!("{edit}/export.csv")).await.body, before);
    // The view link still works: nothing was rotated.
    app.get(&view).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn unknown_tokens_are_not_found_on_every_route() {
    let app = TestApp::spawn().await;
    let (_, _, id) = scorecard_with_one_workflow(&app).await;
    let unknown = "A".repeat(43);
    for prefix in [
        format!("/s/{unknown}"),
        format!("/v/{unknown}"),
        "/s/short".into(),
    ] {
        for page in [
            "",
            "/scorecard.json",
            "/export.csv",
            "/settings",
            "/workflows/new",
        ] {
            let response = app.get(&format!("{prefix}{page}")).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{prefix}{page}");
        }
        for (path, fields) in mutating_routes(id) {
            let response = app.post_form(&format!("{prefix}{path}"), &fields).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{prefix}{path}");
        }
    }
    let json = app.get(&format!("/s/{unknown}/scorecard.json")).await;
    assert!(json.json()["error"].is_string());
}

#[tokio::test]
async fn rotating_a_link_revokes_the_old_one_at_once() {
    let app = TestApp::spawn().await;
    let (edit, view, _) = scorecard_with_one_workflow(&app).await;

    let response = app.post_form(&format!("{edit}/rotate/view"), &[]).await;
    assert_redirect_to(&response, &format!("{edit}/settings"));
    app.get(&view).await.assert_status(StatusCode::NOT_FOUND);
    let new_view = app.view_link(&edit).await;
    assert_ne!(new_view, view);
    app.get(&new_view).await.assert_status(StatusCode::OK);

    let response = app.post_form(&format!("{edit}/rotate/edit"), &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let new_edit = response
        .location()
        .trim_end_matches("/settings?rotated=edit")
        .to_string();
    assert_ne!(new_edit, edit);
    app.get(&edit).await.assert_status(StatusCode::NOT_FOUND);
    app.add_workflow(&edit, &[("name", "Too late")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_redirect_to(
        &app.add_workflow(&new_edit, &[("name", "In time")]).await,
        &new_edit,
    );
    // Rotating the edit link leaves the view link alone.
    app.get(&new_view).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let (edit, view, _) = scorecard_with_one_workflow(&app).await;
    for path in [
        "/".to_string(),
        edit.clone(),
        view,
        format!("{edit}/settings"),
        "/nowhere".into(),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(
            response.headers["x-content-type-options"], "nosniff",
            "{path}"
        );
        assert!(
            response.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
    }
}

#[tokio::test]
async fn health_probes_answer() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await.assert_status(StatusCode::OK);
    app.get("/readyz").await.assert_status(StatusCode::OK);
    let css = app.get("/static/style.css").await;
    css.assert_status(StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    app.get("/static/missing.js")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
