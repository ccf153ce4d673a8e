use axum::http::StatusCode;

use crate::helpers::{TestApp, assert_redirect_to};

#[tokio::test]
async fn the_landing_page_offers_to_create_a_scorecard_or_open_the_demo() {
    let app = TestApp::spawn().await;
    let page = app.get("/").await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("action=\"/scorecards\""));
    assert!(page.body.contains("action=\"/demo\""));
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn creating_a_scorecard_redirects_to_its_edit_link_with_an_empty_scorecard() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Acme Q3 workshop", "eur").await;
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["name"], "Acme Q3 workshop");
    assert_eq!(json["currency"], "EUR");
    assert_eq!(json["total_spend"], "0.00");
    assert_eq!(json["score"], serde_json::Value::Null);
    assert_eq!(json["level"], serde_json::Value::Null);
    assert_eq!(json["frontier_value_zone_share"], serde_json::Value::Null);
    assert_eq!(json["workflows"].as_array().unwrap().len(), 0);
    let page = app.get(&edit).await;
    assert!(page.body.contains("No workflows yet"));
}

#[tokio::test]
async fn a_scorecard_without_a_currency_is_in_usd() {
    let app = TestApp::spawn().await;
    let response = app.post_form("/scorecards", &[("name", "Plain")]).await;
    assert_redirect_to(&response, "/s/");
    let json = app
        .get_json(&format!("{}/scorecard.json", response.location()))
        .await;
    assert_eq!(json["currency"], "USD");
}

#[tokio::test]
async fn a_bad_scorecard_form_keeps_the_input_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (vec![("name", ""), ("currency", "USD")], "enter a name"),
        (
            vec![("name", "Keep me"), ("currency", "DOLLARS")],
            "not an ISO 4217",
        ),
        (
            vec![("name", "Keep me"), ("currency", "XAU")],
            "minor units",
        ),
    ];
    for (fields, message) in cases {
        let page = app.post_form("/scorecards", &fields).await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains(message), "{message}: {}", page.body);
        if fields[0].1 == "Keep me" {
            assert!(page.body.contains("value=\"Keep me\""));
        }
    }
    let count: i64 = sqlx::query_scalar("select count(*) from scorecards")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn the_demo_exercises_every_verdict_flag_and_tier_and_each_click_is_a_fresh_copy() {
    let app = TestApp::spawn().await;
    let first = app.post_form("/demo", &[]).await;
    assert_redirect_to(&first, "/s/");
    let second = app.post_form("/demo", &[]).await;
    assert_ne!(first.location(), second.location());

    let json = app
        .get_json(&format!("{}/scorecard.json", first.location()))
        .await;
    let workflows = json["workflows"].as_array().unwrap();
    assert!(
        (12..=20).contains(&workflows.len()),
        "{} workflows",
        workflows.len()
    );
    let has = |field: &str, value: &str| workflows.iter().any(|w| w[field] == value);
    for verdict in ["fund", "pause", "kill"] {
        assert!(has("verdict", verdict), "{verdict}");
    }
    for tier in ["frontier", "small", "none"] {
        assert!(has("current_tier", tier), "current {tier}");
        assert!(has("recommended_tier", tier), "recommended {tier}");
    }
    for flag in [
        "no owner",
        "no metric",
        "no next step",
        "over-tier",
        "under-tier",
        "sensitive data on frontier API",
    ] {
        assert!(
            workflows
                .iter()
                .any(|w| w["flags"].as_array().unwrap().iter().any(|f| f == flag)),
            "{flag}"
        );
    }
    assert!(has("spend_kind", "estimated"));
    assert!(workflows.iter().any(|w| !w["tier_override"].is_null()));
    assert!(workflows.iter().any(|w| !w["verdict_override"].is_null()));
    assert!(json["score"].as_u64().is_some());

    // Changing one copy leaves the other alone.
    let wf = workflows[0]["id"].as_i64().unwrap();
    app.post_form(&format!("{}/workflows/{wf}/delete", first.location()), &[])
        .await;
    let other = app
        .get_json(&format!("{}/scorecard.json", second.location()))
        .await;
    assert_eq!(
        other["workflows"].as_array().unwrap().len(),
        workflows.len()
    );
}

#[tokio::test]
async fn settings_change_the_name_currency_and_small_model_ratio() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Before", "USD").await;
    app.add_workflow(&edit, &[("monthly_spend", "1000")]).await;
    // Frontier where small suffices, funded: earning is the small-model cost.
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["earning"], "100.00");

    let response = app
        .post_form(
            &format!("{edit}/settings"),
            &[
                ("name", "After"),
                ("currency", "GBP"),
                ("small_ratio", "0.25"),
            ],
        )
        .await;
    assert_redirect_to(&response, &format!("{edit}/settings"));
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["name"], "After");
    assert_eq!(json["currency"], "GBP");
    assert_eq!(json["total_spend"], "1000.00");
    assert_eq!(json["earning"], "250.00");
    assert_eq!(json["leakage"], "750.00");
}

#[tokio::test]
async fn bad_settings_are_refused_with_the_values_kept() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Keep", "USD").await;
    app.add_workflow(&edit, &[("monthly_spend", "10.50")]).await;
    let page = app
        .post_form(
            &format!("{edit}/settings"),
            &[
                ("name", "Keep"),
                ("currency", "USD"),
                ("small_ratio", "1.5"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("between 0 and 1"));
    assert!(page.body.contains("value=\"1.5\""));
    // 10.50 USD cannot be written in yen.
    let page = app
        .post_form(
            &format!("{edit}/settings"),
            &[
                ("name", "Keep"),
                ("currency", "JPY"),
                ("small_ratio", "0.1"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("JPY"));
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["currency"], "USD");
    assert_eq!(json["total_spend"], "10.50");
}
