//! What keeps pages fast at scale, as a user sees it: the table is paged and filterable,
//! unchanged pages answer 304, and pages travel compressed.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::helpers::TestApp;

/// A scorecard of `n` workflows, imported in one file.
async fn scorecard_of(app: &TestApp, n: usize) -> String {
    let edit = app.create_scorecard("Large", "USD").await;
    let mut csv = String::from("name,team,owner,current_tier,monthly_spend,business_case\n");
    for i in 0..n {
        csv.push_str(&format!(
            "Workflow {i:05},Team {},Owner {i},small,{},yes\n",
            i % 7,
            1000 + i
        ));
    }
    app.post_csv(&format!("{edit}/import"), &csv, true)
        .await
        .assert_status(StatusCode::OK);
    edit
}

#[tokio::test]
async fn the_table_shows_100_rows_a_page_while_totals_cover_every_workflow() {
    let app = TestApp::spawn().await;
    let edit = scorecard_of(&app, 250).await;
    let page = app.get(&edit).await;
    assert_eq!(page.body.matches("<tr id=\"wf-").count(), 100);
    assert!(page.body.contains("Workflow 00249"), "highest spend first");
    assert!(page.body.contains("Page 1 of 3"));
    // 250 workflows of 1000 + i: 250 × 1000 + (0 + … + 249) = 281,125.00
    assert!(page.body.contains("USD 281,125.00"));
    let last = app.get(&format!("{edit}?page=3")).await;
    assert_eq!(last.body.matches("<tr id=\"wf-").count(), 50);
    assert!(last.body.contains("Workflow 00000") && last.body.contains("USD 281,125.00"));
    let beyond = app.get(&format!("{edit}?page=99")).await;
    assert!(beyond.body.contains("Page 3 of 3"));
    // The JSON keeps every workflow.
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"].as_array().unwrap().len(), 250);
}

#[tokio::test]
async fn the_filter_finds_workflows_by_name_team_or_owner() {
    let app = TestApp::spawn().await;
    let edit = scorecard_of(&app, 30).await;
    let page = app.get(&format!("{edit}?q=workflow+0001")).await;
    assert_eq!(
        page.body.matches("<tr id=\"wf-").count(),
        10,
        "00010 to 00019"
    );
    assert!(page.body.contains("10 matching"));
    let page = app.get(&format!("{edit}?q=OWNER+7")).await;
    assert_eq!(page.body.matches("<tr id=\"wf-").count(), 1);
    let page = app.get(&format!("{edit}?q=team+3")).await;
    assert_eq!(
        page.body.matches("<tr id=\"wf-").count(),
        4,
        "3, 10, 17, 24"
    );
}

#[tokio::test]
async fn an_unchanged_page_is_answered_304_and_a_change_gives_a_new_one() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Cached", "USD").await;
    app.add_workflow(&edit, &[]).await;
    let view = app.view_link(&edit).await;
    for path in [
        view.clone(),
        format!("{view}/scorecard.json"),
        format!("{edit}/export.csv"),
    ] {
        let first = app.get(&path).await;
        first.assert_status(StatusCode::OK);
        let etag = first.headers[header::ETAG].to_str().unwrap().to_string();
        let again = app
            .send(
                Request::get(&path)
                    .header(header::IF_NONE_MATCH, &etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        again.assert_status(StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());

        app.add_workflow(&edit, &[("name", format!("After {path}").as_str())])
            .await;
        let changed = app
            .send(
                Request::get(&path)
                    .header(header::IF_NONE_MATCH, &etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        changed.assert_status(StatusCode::OK);
        assert!(changed.body.contains("After"));
    }
    // Edit pages are never stored by the browser: the link is a credential.
    assert_eq!(
        app.get(&edit).await.headers[header::CACHE_CONTROL],
        "no-store"
    );
    assert_eq!(
        app.get(&view).await.headers[header::CACHE_CONTROL],
        "private, no-cache"
    );
}

#[tokio::test]
async fn pages_are_sent_gzip_compressed_to_clients_that_accept_it() {
    let app = TestApp::spawn().await;
    let edit = scorecard_of(&app, 50).await;
    let plain = app.get(&edit).await;
    let zipped = app
        .send(
            Request::get(&edit)
                .header(header::ACCEPT_ENCODING, "gzip")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    zipped.assert_status(StatusCode::OK);
    assert_eq!(zipped.headers[header::CONTENT_ENCODING], "gzip");
    let bytes = zipped.body.len();
    assert!(
        bytes * 4 < plain.body.len(),
        "{bytes} compressed vs {} plain",
        plain.body.len()
    );
}
