use axum::http::StatusCode;

use crate::helpers::{TestApp, assert_redirect_to};

const HEADER: &str = "name,team,description,monthly_spend,current_tier,owner,metric,next_step,kill_criteria,stakes,ambiguity,business_case,sensitive_data,defended";

#[tokio::test]
async fn an_import_adds_and_updates_by_name_changing_only_the_columns_given() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Imports", "USD").await;
    let file = format!(
        "{HEADER}\nTriage,Support,,1000,frontier,Ada,Tickets/hour,Go small,,no,no,yes,no,yes\nLetters,Compliance,,500.25,small,Grace,First-time pass,Pilot,,yes,yes,yes,yes,yes\n"
    );
    let response = app.post_csv(&format!("{edit}/import"), &file, false).await;
    assert_redirect_to(&response, &format!("{edit}?added=2&updated=0"));
    let page = app.get(response.location()).await;
    assert!(page.body.contains("Imported: 2 added, 0 updated."));

    // Next month's spend: only names and amounts, names in another case.
    let response = app
        .post_csv(
            &format!("{edit}/import"),
            "monthly_spend,name\n2000,TRIAGE\n",
            true,
        )
        .await;
    response.assert_status(StatusCode::OK);
    assert_eq!(
        response.json(),
        serde_json::json!({"added": 0, "updated": 1})
    );
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let triage = &json["workflows"][0];
    assert_eq!(triage["name"], "Triage");
    assert_eq!(triage["monthly_spend"], "2000.00");
    assert_eq!(triage["owner"], "Ada");
    assert_eq!(triage["team"], "Support");
    assert_eq!(json["total_spend"], "2500.25");
}

#[tokio::test]
async fn a_file_with_any_bad_row_imports_nothing_and_reports_every_bad_row_by_line() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("All or nothing", "USD").await;
    app.add_workflow(&edit, &[("name", "Existing"), ("monthly_spend", "100")])
        .await;
    let file = "name,current_tier,monthly_spend,stakes\n\
                Good one,small,10,no\n\
                Bad tier,gigantic,10,no\n\
                Existing,,5,no\n\
                Bad spend,small,12.345,no\n\
                Bad answer,small,1,perhaps\n\
                New without tier,,1,no\n";
    let response = app.post_csv(&format!("{edit}/import"), file, true).await;
    response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let errors = response.json()["errors"].as_array().unwrap().clone();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7], "{errors:?}");
    assert_eq!(errors[0]["column"], "current_tier");
    assert_eq!(errors[2]["column"], "monthly_spend");
    assert_eq!(errors[3]["column"], "stakes");

    // The same file from a browser: a page listing the lines.
    let page = app.post_csv(&format!("{edit}/import"), file, false).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Nothing was imported"));
    assert!(page.body.contains("<td>7</td>"));

    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let workflows = json["workflows"].as_array().unwrap();
    assert_eq!(workflows.len(), 1);
    assert_eq!(workflows[0]["monthly_spend"], "100.00");
}

#[tokio::test]
async fn unknown_columns_are_rejected_by_name() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Columns", "USD").await;
    let response = app
        .post_csv(
            &format!("{edit}/import"),
            "name,current_tier,budget,Colour\nx,small,1,red\n",
            true,
        )
        .await;
    response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let message = response.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("\"budget\"") && message.contains("\"colour\""),
        "{message}"
    );
    for bad in ["", "team\nx\n", "name,current_tier\n\"unclosed,small\n"] {
        let response = app.post_csv(&format!("{edit}/import"), bad, true).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
    let response = app.post_form(&format!("{edit}/import"), &[]).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn export_then_import_into_an_empty_scorecard_gives_back_the_same_scorecard() {
    let app = TestApp::spawn().await;
    let demo = app.post_form("/demo", &[]).await.location().to_string();
    // Text that a spreadsheet would run as a formula, and text with quotes and commas.
    app.add_workflow(
        &demo,
        &[
            ("name", "=HYPERLINK(\"http://evil\",\"x\")"),
            ("team", "+44 team"),
            ("description", "-minus, \"quoted\"\nand a second line"),
            ("owner", "@owner"),
            ("metric", "'=already quoted"),
            ("next_step", "\tTabbed"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let export = app.get(&format!("{demo}/export.csv")).await;
    export.assert_status(StatusCode::OK);
    assert!(
        export.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(export.body.contains("\"'=HYPERLINK("));
    assert!(export.body.contains(",'+44 team,"));
    assert!(!export.body.contains(",=") && !export.body.contains(",@"));

    let copy = app.create_scorecard("Copy", "USD").await;
    let response = app
        .post_csv(&format!("{copy}/import"), &export.body, true)
        .await;
    response.assert_status(StatusCode::OK);

    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("name");
        for w in v["workflows"].as_array_mut().unwrap() {
            w.as_object_mut().unwrap().remove("id");
        }
        v
    };
    let original = strip(app.get_json(&format!("{demo}/scorecard.json")).await);
    let copied = strip(app.get_json(&format!("{copy}/scorecard.json")).await);
    assert_eq!(original, copied);
    assert_eq!(
        app.get(&format!("{copy}/export.csv")).await.body,
        export.body
    );
    let names: Vec<String> = copied["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"=HYPERLINK(\"http://evil\",\"x\")".to_string()));
}

#[tokio::test]
async fn the_exported_header_is_the_contract() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Header", "JPY").await;
    app.add_workflow(&edit, &[("monthly_spend", "12500")]).await;
    let export = app.get(&format!("{edit}/export.csv")).await;
    let header = export.body.lines().next().unwrap();
    assert_eq!(
        header,
        format!(
            "{HEADER},tier_override,tier_override_reason,verdict_override,verdict_override_reason,model,monthly_input_tokens,monthly_output_tokens,target_model"
        )
    );
    assert!(
        export.body.contains(",12500,"),
        "JPY has no minor units: {}",
        export.body
    );
}
