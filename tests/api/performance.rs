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
    // The JSON keeps every workflow (it is sent in chunks of 100).
    let response = app.get(&format!("{edit}/scorecard.json")).await;
    assert_eq!(response.headers[header::CONTENT_TYPE], "application/json");
    let json = response.json();
    assert_eq!(json["workflows"].as_array().unwrap().len(), 250);
    assert_eq!(json["workflows"][249]["name"], "Workflow 00000");
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

/// The scorecard JSON and page of a link, as this instance and a restarted one show them.
async fn assert_same_as_after_a_restart(app: &TestApp, link: &str, step: &str) {
    let restarted = app.reopened().await;
    let live = app.get_json(&format!("{link}/scorecard.json")).await;
    let fresh = restarted.get_json(&format!("{link}/scorecard.json")).await;
    assert_eq!(
        live, fresh,
        "after {step}: the JSON differs from a fresh load"
    );
    let live = app.get(link).await;
    let fresh = restarted.get(link).await;
    assert_eq!(live.status, fresh.status, "after {step}");
    assert_eq!(
        live.body, fresh.body,
        "after {step}: the page differs from a fresh load"
    );
}

#[tokio::test]
async fn the_scorecard_kept_in_memory_follows_every_kind_of_change_exactly() {
    let app = TestApp::spawn().await;
    let demo = app.post_form("/demo", &[]).await.location().to_string();
    let view = app.view_link(&demo).await;
    // Both links loaded into memory before any change.
    app.get(&demo).await.assert_status(StatusCode::OK);
    app.get(&view).await.assert_status(StatusCode::OK);
    let ids = |json: &serde_json::Value| -> Vec<i64> {
        json["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_i64().unwrap())
            .collect()
    };
    let json = app.get_json(&format!("{demo}/scorecard.json")).await;
    let order = ids(&json);
    let top = order[0];
    // A workflow at the bottom of the list becomes the dearest: it moves to the top.
    app.add_workflow(&demo, &[("name", "Mover"), ("monthly_spend", "1")])
        .await;
    let json = app.get_json(&format!("{demo}/scorecard.json")).await;
    let rows = json["workflows"].as_array().unwrap();
    let at = rows.iter().position(|w| w["name"] == "Mover").unwrap();
    assert!(at > rows.len() / 2, "a spend of 1 lists low");
    let last = rows[at]["id"].as_i64().unwrap();
    let mut fields = crate::helpers::WORKFLOW_FIELDS.to_vec();
    fields.retain(|(k, _)| *k != "name" && *k != "monthly_spend");
    fields.extend([("name", "Mover"), ("monthly_spend", "99999999")]);
    let edited = app
        .post_form(&format!("{demo}/workflows/{last}"), &fields)
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let json = app.get_json(&format!("{view}/scorecard.json")).await;
    assert_eq!(ids(&json)[0], last, "the edited workflow leads the list");
    assert_same_as_after_a_restart(&app, &view, "an edit that reorders").await;

    app.post_form(&format!("{demo}/workflows/{top}/delete"), &[])
        .await;
    let json = app.get_json(&format!("{view}/scorecard.json")).await;
    assert!(!ids(&json).contains(&top), "the deleted workflow is gone");
    assert_same_as_after_a_restart(&app, &view, "a delete").await;

    let history = app.get(&format!("{demo}/history")).await;
    let at = history.body.find("/restore\"").expect("a restore button");
    let start = history.body[..at].rfind("/history/").unwrap() + "/history/".len();
    let change = history.body[start..at].to_string();
    app.post_form(&format!("{demo}/history/{change}/restore"), &[])
        .await;
    assert_same_as_after_a_restart(&app, &view, "a restore").await;

    app.add_workflow(&demo, &[("name", "Brand new"), ("monthly_spend", "1234")])
        .await;
    assert_same_as_after_a_restart(&app, &view, "an add").await;

    let second = ids(&app.get_json(&format!("{demo}/scorecard.json")).await)[1];
    app.post_form(&format!("{demo}/walk/{second}/decide"), &[])
        .await;
    assert_same_as_after_a_restart(&app, &view, "a decision in the gate walk").await;

    app.post_form(&format!("{demo}/walk/{second}/vote"), &[])
        .await;
    assert_same_as_after_a_restart(&app, &view, "a vote opened").await;

    // A new ratio changes what the rules make of every workflow.
    let before = app.get_json(&format!("{view}/scorecard.json")).await;
    app.post_form(
        &format!("{demo}/settings"),
        &[
            ("name", "Renamed"),
            ("currency", "USD"),
            ("small_ratio", "0.5"),
        ],
    )
    .await;
    let after = app.get_json(&format!("{view}/scorecard.json")).await;
    assert_eq!(after["name"], "Renamed");
    assert_ne!(
        before["leakage"], after["leakage"],
        "leakage follows the ratio"
    );
    assert_same_as_after_a_restart(&app, &view, "a change of ratio").await;

    // An import adds and updates many rows at once.
    app.post_csv(
        &format!("{demo}/import"),
        "name,current_tier,monthly_spend\nMover,small,5\nImported,frontier,777\n",
        true,
    )
    .await
    .assert_status(StatusCode::OK);
    assert_same_as_after_a_restart(&app, &view, "an import").await;

    // A rotated link stops working at once; the new one shows the same scorecard.
    app.post_form(&format!("{demo}/rotate/view"), &[]).await;
    app.get(&view).await.assert_status(StatusCode::NOT_FOUND);
    let view = app.view_link(&demo).await;
    assert_same_as_after_a_restart(&app, &view, "a rotated link").await;
}
