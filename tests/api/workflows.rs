use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use crate::helpers::{TestApp, assert_redirect_to};

#[tokio::test]
async fn adding_editing_and_deleting_a_workflow_changes_the_numbers_on_the_page_and_in_json() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Numbers", "USD").await;

    // Frontier spend where a small model suffices, funded: 10% earns, 90% leaks.
    let added = app
        .add_workflow(&edit, &[("monthly_spend", "12500.50")])
        .await;
    assert_redirect_to(&added, &edit);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["total_spend"], "12500.50");
    assert_eq!(json["earning"], "1250.05");
    assert_eq!(json["leakage"], "11250.45");
    assert_eq!(json["leakage_share"], "0.9000");
    assert_eq!(json["frontier_spend"], "12500.50");
    assert_eq!(json["frontier_value_zone_share"], "0.0000");
    assert_eq!(json["counts"]["fund"], 1);
    let wf = &json["workflows"][0];
    assert_eq!(wf["recommended_tier"], "small");
    assert_eq!(wf["verdict"], "fund");
    assert_eq!(wf["flags"], serde_json::json!(["over-tier"]));
    // ownership, measurement and gate met; routing fit not: 75.
    assert_eq!(json["score"], 75);
    assert_eq!(json["level"], "Portfolio-managed");
    let page = app.get(&edit).await;
    assert!(page.body.contains("USD 12,500.50"));
    assert!(page.body.contains("USD 11,250.45"));
    assert!(page.body.contains(">75<"));

    // Move it to the small tier: it fits, and all of it earns.
    let id = wf["id"].as_i64().unwrap();
    let version = wf["version"].as_i64().unwrap().to_string();
    let form = app.get(&format!("{edit}/workflows/{id}/edit")).await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains("value=\"12500.50\""));
    let saved = app
        .post_form(
            &format!("{edit}/workflows/{id}"),
            &[
                ("version", &version),
                ("name", "Ticket triage"),
                ("current_tier", "small"),
                ("monthly_spend", "12500.50"),
                ("business_case", "yes"),
                ("defended", "yes"),
                ("owner", "Ada Lovelace"),
                ("metric", "Tickets closed per hour"),
                ("next_step", "Review quarterly"),
            ],
        )
        .await;
    assert_redirect_to(&saved, &edit);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["earning"], "12500.50");
    assert_eq!(json["leakage"], "0.00");
    assert_eq!(json["score"], 100);
    assert_eq!(json["level"], "Owned outcomes");

    let deleted = app
        .post_form(&format!("{edit}/workflows/{id}/delete"), &[])
        .await;
    assert_redirect_to(&deleted, &edit);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"].as_array().unwrap().len(), 0);
    assert_eq!(json["score"], serde_json::Value::Null);
}

#[tokio::test]
async fn workflows_are_listed_by_spend_highest_first_then_by_name() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Order", "USD").await;
    for (name, spend) in [
        ("b small", "10"),
        ("Big", "900"),
        ("a small", "10"),
        ("Mid", "50"),
    ] {
        app.add_workflow(&edit, &[("name", name), ("monthly_spend", spend)])
            .await;
    }
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let names: Vec<&str> = json["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Big", "Mid", "a small", "b small"]);
    let page = app.get(&edit).await;
    let pos = |n: &str| page.body.find(&format!(">{n}<")).unwrap();
    assert!(
        pos("Big") < pos("Mid") && pos("Mid") < pos("a small") && pos("a small") < pos("b small")
    );
}

#[tokio::test]
async fn a_bad_field_re_renders_the_form_with_the_input_kept_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Validation", "USD").await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("name", "")], "enter a name"),
        (&[("monthly_spend", "12,500")], "plain amount"),
        (&[("monthly_spend", "12.345")], "at most 2 decimals"),
        (&[("monthly_spend", "-4")], "cannot be negative"),
        (&[("current_tier", "")], "choose the tier"),
        (&[("current_tier", "gigantic")], "not a tier"),
        (&[("stakes", "perhaps")], "answer yes or no"),
        (&[("tier_override", "small")], "give a reason"),
        (
            &[
                ("verdict_override", "fund"),
                ("verdict_override_reason", ""),
            ],
            "give a reason",
        ),
        (&[("model", "gpt-nonexistent")], "not in the price catalog"),
        (&[("monthly_input_tokens", "1000")], "choose the model"),
    ];
    for (fields, message) in cases {
        let mut with_marker = fields.to_vec();
        with_marker.push(("owner", "Kept Owner Value"));
        let page = app.add_workflow(&edit, &with_marker).await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.body.contains(message),
            "{fields:?}: expected {message:?}"
        );
        assert!(page.body.contains("class=\"field-error\""));
        assert!(
            page.body.contains("value=\"Kept Owner Value\""),
            "{fields:?}: input lost"
        );
    }
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn names_are_unique_within_a_scorecard_ignoring_case() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Unique", "USD").await;
    assert_redirect_to(
        &app.add_workflow(&edit, &[("name", "Ticket Triage")]).await,
        &edit,
    );
    let page = app.add_workflow(&edit, &[("name", "ticket TRIAGE")]).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("already a workflow"));
    // Another scorecard may use the same name.
    let other = app.create_scorecard("Other", "USD").await;
    assert_redirect_to(
        &app.add_workflow(&other, &[("name", "Ticket Triage")]).await,
        &other,
    );
}

#[tokio::test]
async fn spend_can_be_estimated_from_token_volumes_and_a_target_model() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Estimates", "USD").await;
    let response = app
        .add_workflow(
            &edit,
            &[
                ("monthly_spend", ""),
                ("model", "gpt-4o"),
                ("monthly_input_tokens", "10000000"),
                ("monthly_output_tokens", "2000000"),
                ("target_model", "gpt-4o-mini"),
            ],
        )
        .await;
    assert_redirect_to(&response, &edit);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let wf = &json["workflows"][0];
    // gpt-4o: 10M × 2.5e-6 + 2M × 1e-5 = 45 USD; gpt-4o-mini for the same: 2.70 USD.
    assert_eq!(wf["monthly_spend"], "45.00");
    assert_eq!(wf["spend_kind"], "estimated");
    assert_eq!(wf["earning"], "2.70");
    assert_eq!(wf["leakage"], "42.30");
    let page = app.get(&edit).await;
    assert!(page.body.contains("estimated"));
}

#[tokio::test]
async fn overrides_replace_the_computed_tier_and_verdict_and_are_counted() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Overrides", "USD").await;
    app.add_workflow(
        &edit,
        &[
            ("tier_override", "frontier"),
            ("tier_override_reason", "Small models failed the benchmark"),
            ("verdict_override", "pause"),
            ("verdict_override_reason", "Wait for the audit"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let wf = &json["workflows"][0];
    assert_eq!(wf["recommended_tier"], "frontier");
    assert_eq!(wf["verdict"], "pause");
    assert_eq!(wf["in_value_zone"], false);
    assert_eq!(wf["at_risk"], "1000.00");
    assert_eq!(json["overrides"], 1);
    assert_eq!(json["counts"]["pause"], 1);
}

#[tokio::test]
async fn a_save_on_a_stale_version_overwrites_nothing() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Stale", "USD").await;
    app.add_workflow(&edit, &[]).await;
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let id = json["workflows"][0]["id"].as_i64().unwrap();
    let path = format!("{edit}/workflows/{id}");
    let save = |owner: &'static str, version: &'static str| {
        let path = path.clone();
        let app = &app;
        async move {
            app.post_form(
                &path,
                &[
                    ("version", version),
                    ("name", "Ticket triage"),
                    ("current_tier", "frontier"),
                    ("monthly_spend", "1000"),
                    ("owner", owner),
                ],
            )
            .await
        }
    };
    assert_redirect_to(&save("First saver", "1").await, &edit);
    let conflict = save("Second saver", "1").await;
    conflict.assert_status(StatusCode::CONFLICT);
    assert!(conflict.body.contains("Someone else saved this workflow"));
    assert!(conflict.body.contains("value=\"Second saver\""));
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"][0]["owner"], "First saver");
}

#[tokio::test]
async fn text_typed_into_any_field_is_shown_escaped_on_every_page() {
    let app = TestApp::spawn().await;
    let attack = "<script>alert(1)</script>";
    let edit = app.create_scorecard(attack, "USD").await;
    let fields: Vec<(&str, &str)> = [
        "name",
        "team",
        "description",
        "owner",
        "metric",
        "next_step",
        "kill_criteria",
        "tier_override_reason",
    ]
    .into_iter()
    .map(|f| (f, attack))
    .chain([("tier_override", "small")])
    .collect();
    assert_redirect_to(&app.add_workflow(&edit, &fields).await, &edit);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let id = json["workflows"][0]["id"].as_i64().unwrap();
    let view = app.view_link(&edit).await;
    for path in [
        edit.clone(),
        view.clone(),
        format!("{edit}/workflows/{id}/edit"),
        format!("{edit}/settings"),
    ] {
        let page = app.get(&path).await;
        page.assert_status(StatusCode::OK);
        assert!(
            !page.body.contains(attack),
            "{path} shows the script unescaped"
        );
        assert!(
            page.body.contains("&#60;script&#62;") || page.body.contains("&lt;script&gt;"),
            "{path}"
        );
    }
    // A form re-rendered with an error escapes too.
    let page = app
        .add_workflow(&edit, &[("owner", attack), ("monthly_spend", "x")])
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.body.contains(attack));
    // The import error page escapes the cells it quotes.
    let page = app
        .post_csv(
            &format!("{edit}/import"),
            &format!("name,current_tier\nx,{attack}\n"),
            false,
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.body.contains(attack));
}

#[tokio::test]
async fn markup_typed_into_a_workflow_shows_as_text_in_its_row() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Markup", "USD").await;
    let fields = [
        ("name", "<b>Triage</b> & \"co\""),
        ("team", "<i>Ops</i> & 'sons'"),
        ("owner", "<u>Ada</u> \"A\""),
        ("metric", "Minutes < 5 & > 2"),
    ];
    assert_redirect_to(&app.add_workflow(&edit, &fields).await, &edit);
    let view = app.view_link(&edit).await;
    for link in [&edit, &view] {
        let page = app.get(link).await;
        page.assert_status(StatusCode::OK);
        for cell in [
            "<strong class=\"wf-name\">&#60;b&#62;Triage&#60;/b&#62; &#38; &#34;co&#34;</strong>",
            "<span class=\"muted\">&#60;i&#62;Ops&#60;/i&#62; &#38; &#39;sons&#39;</span>",
            "<td data-label=\"Owner\">&#60;u&#62;Ada&#60;/u&#62; &#34;A&#34;</td>",
            "<td data-label=\"Metric\">Minutes &#60; 5 &#38; &#62; 2</td>",
        ] {
            assert!(page.body.contains(cell), "{link} lacks {cell}");
        }
        for (_, typed) in fields {
            assert!(!page.body.contains(typed), "{link} shows {typed} as markup");
        }
    }
    let page = app.get(&edit).await;
    assert!(
        page.body.contains(
            "aria-label=\"Edit &#60;b&#62;Triage&#60;/b&#62; &#38; &#34;co&#34;\">Edit</a>"
        )
    );
}

#[tokio::test]
async fn unknown_workflow_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Ids", "USD").await;
    let other = app.create_scorecard("Other", "USD").await;
    app.add_workflow(&other, &[]).await;
    let json = app.get_json(&format!("{other}/scorecard.json")).await;
    let foreign = json["workflows"][0]["id"].as_i64().unwrap();
    for path in [
        format!("{edit}/workflows/999/edit"),
        format!("{edit}/workflows/abc/edit"),
        format!("{edit}/workflows/{foreign}/edit"),
    ] {
        app.get(&path).await.assert_status(StatusCode::NOT_FOUND);
    }
    app.post_form(&format!("{edit}/workflows/{foreign}/delete"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // The other scorecard's workflow is untouched.
    let json = app.get_json(&format!("{other}/scorecard.json")).await;
    assert_eq!(json["workflows"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_concurrent_form_posts_all_succeed() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Burst", "USD").await;
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..50 {
        let router = app.router.clone();
        let body =
            format!("name=Workflow+{i}&current_tier=small&monthly_spend={i}&business_case=yes");
        let request = Request::post(format!("{edit}/workflows"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        posts.spawn(async move { router.oneshot(request).await.unwrap().status() });
    }
    while let Some(status) = posts.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::SEE_OTHER);
    }
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"].as_array().unwrap().len(), 50);
    assert_eq!(json["total_spend"], "1225.00");
}
