//! Safe on a network: cross-site requests, headers, limits, rate limits, probes, metrics.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::helpers::{TestApp, TestServer, assert_redirect_to};

fn form_post(path: &str) -> axum::http::request::Builder {
    Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
}

#[tokio::test]
async fn cross_site_state_changing_requests_are_refused_and_same_site_ones_pass() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Guarded", "USD").await;
    let body = "name=Sneaky&current_tier=small";
    let path = format!("{edit}/workflows");
    let cross_site = app
        .send(
            form_post(&path)
                .header("sec-fetch-site", "cross-site")
                .header(header::HOST, "scorecard.example")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    cross_site.assert_status(StatusCode::FORBIDDEN);
    assert!(cross_site.body.contains("sent from another website"));
    // The refusal is a page like any other: framed by no one, stored by no one.
    assert_eq!(cross_site.headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(cross_site.headers[header::CACHE_CONTROL], "no-store");
    let foreign_origin = app
        .send(
            form_post(&path)
                .header(header::ORIGIN, "https://evil.example")
                .header(header::HOST, "scorecard.example")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    foreign_origin.assert_status(StatusCode::FORBIDDEN);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(
        json["workflows"].as_array().unwrap().len(),
        0,
        "nothing was written"
    );

    let same_site = app
        .send(
            form_post(&path)
                .header("sec-fetch-site", "same-origin")
                .header(header::ORIGIN, "http://scorecard.example")
                .header(header::HOST, "scorecard.example")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_redirect_to(&same_site, &edit);
    // Reading across sites stays possible: a view link can be opened from a mail client.
    let read = app
        .send(
            Request::get(&edit)
                .header("sec-fetch-site", "cross-site")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    read.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn scorecard_pages_are_not_indexed_and_edit_pages_are_never_stored() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Headers", "USD").await;
    let view = app.view_link(&edit).await;
    for path in [
        edit.clone(),
        format!("{edit}/settings"),
        format!("{edit}/workflows/new"),
        format!("{edit}/history"),
    ] {
        let page = app.get(&path).await;
        assert_eq!(page.headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(page.headers["x-robots-tag"], "noindex, nofollow", "{path}");
        let csp = page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert!(
            !page.body.contains("<script>") && !page.body.contains(" style=\""),
            "{path}: inline code"
        );
    }
    assert_eq!(
        app.get(&view).await.headers["x-robots-tag"],
        "noindex, nofollow"
    );
}

#[tokio::test]
async fn oversized_forms_and_uploads_get_413_with_a_clear_page_and_change_nothing() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Limits", "USD").await;
    let huge = "x".repeat(70 * 1024);
    let response = app
        .add_workflow(&edit, &[("description", huge.as_str())])
        .await;
    response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        response.body.contains("forms up to 64 KB"),
        "{}",
        response.body
    );

    let mut csv = String::from("name,current_tier,description\n");
    let filler = "y".repeat(1000);
    for i in 0..5300 {
        csv.push_str(&format!("W{i},small,{filler}\n"));
    }
    let response = app.post_csv(&format!("{edit}/import"), &csv, false).await;
    response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.body.contains("5 MB"), "{}", response.body);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_scorecard_holds_at_most_20000_workflows() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Capped", "USD").await;
    let mut csv = String::from("name,current_tier\n");
    for i in 0..20_001 {
        csv.push_str(&format!("W{i},small\n"));
    }
    let response = app.post_csv(&format!("{edit}/import"), &csv, true).await;
    response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let message = response.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("at most 20000 workflows"), "{message}");
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn repeated_unknown_links_from_one_address_are_held_back_while_known_links_work() {
    let server = TestServer::spawn().await;
    let client = TestServer::client();
    let base = &server.base;
    let edit = server.create_scorecard(&client, "Rate").await;
    assert_eq!(
        client
            .get(format!("{base}{edit}"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let mut statuses = Vec::new();
    for i in 0..40 {
        let guess = format!("/s/{:0>43}", i);
        statuses.push(
            client
                .get(format!("{base}{guess}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert!(statuses[..30].iter().all(|s| *s == 404), "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
    // The room's own link keeps working, edits included.
    assert_eq!(
        client
            .get(format!("{base}{edit}"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let added = client
        .post(format!("{base}{edit}/workflows"))
        .form(&[("name", "Still fine"), ("current_tier", "small")])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn readiness_fails_while_draining_and_metrics_name_routes_not_tokens() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Ops", "USD").await;
    app.get(&edit).await.assert_status(StatusCode::OK);
    let metrics = app.get("/metrics").await;
    metrics.assert_status(StatusCode::OK);
    assert!(metrics.body.contains("http_requests_total"));
    assert!(
        metrics.body.contains("route=\"/s/{token}\""),
        "{}",
        metrics.body
    );
    assert!(
        !metrics.body.contains(&edit[3..]),
        "a token reached the metrics"
    );

    app.get("/readyz").await.assert_status(StatusCode::OK);
    app.state
        .draining
        .store(true, std::sync::atomic::Ordering::SeqCst);
    app.get("/readyz")
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    app.get("/healthz").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_locked_instance_asks_for_its_admin_password_to_create_scorecards() {
    let hash = scorecard::web::admin::hash("open sesame").unwrap();
    let app = TestApp::spawn_with(|c| c.admin_password_hash = Some(hash)).await;
    let landing = app.get("/").await;
    assert!(landing.body.contains("name=\"admin_password\""));

    for password in ["", "wrong"] {
        let refused = app
            .post_form(
                "/scorecards",
                &[
                    ("name", "Mine"),
                    ("currency", "USD"),
                    ("admin_password", password),
                ],
            )
            .await;
        refused.assert_status(StatusCode::FORBIDDEN);
        assert!(refused.body.contains("admin password"));
        assert!(refused.body.contains("value=\"Mine\""), "the name is kept");
        app.post_form("/demo", &[("admin_password", password)])
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    let count: i64 = sqlx::query_scalar("select count(*) from scorecards")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 0);

    let created = app
        .post_form(
            "/scorecards",
            &[
                ("name", "Mine"),
                ("currency", "USD"),
                ("admin_password", "open sesame"),
            ],
        )
        .await;
    assert_redirect_to(&created, "/s/");
    assert_redirect_to(
        &app.post_form("/demo", &[("admin_password", "open sesame")])
            .await,
        "/s/",
    );
    // Share links need no password: they are their own key.
    app.get(created.location())
        .await
        .assert_status(StatusCode::OK);
    app.add_workflow(created.location(), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[test]
fn a_malformed_admin_hash_stops_start_up_with_a_message() {
    let mut config = scorecard::config::Config::for_database("sqlite::memory:");
    config.admin_password_hash = Some("plaintext-password".into());
    let message = scorecard::web::admin::load(&config).unwrap_err();
    assert!(message.contains("scorecard hash-password"), "{message}");
}

#[tokio::test]
async fn a_request_that_cannot_finish_in_time_gets_408_while_live_streams_stay_open() {
    let app = TestApp::spawn_with(|c| c.request_timeout_secs = 1).await;
    let edit = app.create_scorecard("Slow", "USD").await;
    // A live stream opened before the stall, and kept past the timeout.
    let router = app.router.clone();
    let request = Request::get(format!("{edit}/events"))
        .body(Body::empty())
        .unwrap();
    let stream = tokio::spawn(async move {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let _ = response.into_body().collect().await;
        status
    });
    // Hold the single writer so the next save waits beyond the timeout.
    let held = app.state.db.begin_write().await.unwrap();
    let stalled = app.add_workflow(&edit, &[("name", "Waits")]).await;
    stalled.assert_status(StatusCode::REQUEST_TIMEOUT);
    assert!(stalled.body.contains("took too long"));
    drop(held);
    assert!(
        !stream.is_finished(),
        "the event stream outlived the request timeout"
    );
    stream.abort();
    // Nothing was half-written, and the next save goes through.
    assert_eq!(
        app.get_json(&format!("{edit}/scorecard.json")).await["workflows"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_redirect_to(&app.add_workflow(&edit, &[("name", "Now")]).await, &edit);
}
