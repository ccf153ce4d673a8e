//! The live workshop: event streams, history, restore, the gate walk and silent votes.

use std::time::Duration;

use axum::http::StatusCode;

use crate::helpers::{TestApp, TestServer, assert_redirect_to};

/// Reads an event stream until an event of `kind` arrives; gives up after 10 s.
async fn next_event(stream: &mut reqwest::Response, seen: &mut String, kind: &str) -> String {
    let wanted = format!("event: {kind}\n");
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(at) = seen.find(&wanted) {
                let rest = seen[at + wanted.len()..].to_string();
                if let Some(end) = rest.find("\n\n") {
                    let event = rest[..end].to_string();
                    *seen = rest[end..].to_string();
                    return event;
                }
            }
            let chunk = stream
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} event within 10 s; got {seen:?}"))
}

#[tokio::test]
async fn an_edit_by_one_client_arrives_on_another_clients_event_stream() {
    let server = TestServer::spawn().await;
    let client = TestServer::client();
    let base = &server.base;
    let edit = server.create_scorecard(&client, "Live").await;
    let view_page = client
        .get(format!("{base}{edit}/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = view_page.find("/v/").unwrap();
    let view = view_page[at..at + 46].to_string();

    // Client B watches through the view link; client A edits through the edit link.
    let mut stream = client
        .get(format!("{base}{view}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    let hello = next_event(&mut stream, &mut seen, "hello").await;
    assert!(hello.contains("data: 0"), "{hello}");
    assert_eq!(server.state.hub.listeners(), 1);

    let added = client
        .post(format!("{base}{edit}/workflows"))
        .form(&[
            ("name", "Summaries"),
            ("current_tier", "small"),
            ("monthly_spend", "99"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let changed = next_event(&mut stream, &mut seen, "changed").await;
    assert!(changed.contains("data: 1"), "{changed}");
    // The page B re-fetches on that event carries the new numbers and revision.
    let page = client
        .get(format!("{base}{view}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("USD 99.00") && page.contains("data-revision=\"1\""));

    // An open stream does not hold up a graceful shutdown.
    server.stop().await.unwrap();
    let rest = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the stream ended with the server");
}

#[tokio::test]
async fn unknown_tokens_get_no_event_stream() {
    let app = TestApp::spawn().await;
    let unknown = "Z".repeat(43);
    app.get(&format!("/s/{unknown}/events"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v/{unknown}/events"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_change_is_recorded_with_who_when_and_each_field_before_and_after() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("History", "USD").await;
    let ada = app.join("Ada").await;
    app.post_form_as(
        &format!("{edit}/workflows"),
        &[
            ("name", "Triage"),
            ("current_tier", "frontier"),
            ("monthly_spend", "100"),
        ],
        &ada,
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let id = json["workflows"][0]["id"].as_i64().unwrap();
    let bo = app.join("Bo").await;
    app.post_form_as(
        &format!("{edit}/workflows/{id}"),
        &[
            ("version", "1"),
            ("name", "Triage"),
            ("current_tier", "small"),
            ("monthly_spend", "100"),
            ("owner", "Cy"),
        ],
        &bo,
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    app.post_form(
        &format!("{edit}/settings"),
        &[
            ("name", "Renamed"),
            ("currency", "USD"),
            ("small_ratio", "0.2"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    let page = app.get(&format!("{edit}/workflows/{id}/history")).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("History of Triage"));
    assert!(page.body.contains("<strong>Ada</strong> added"));
    assert!(page.body.contains("<strong>Bo</strong> edited"));
    // Bo's edit: current tier frontier → small and owner empty → Cy.
    assert!(page.body.contains(
        "<td>current_tier</td><td class=\"before\">frontier</td><td class=\"after\">small</td>"
    ));
    assert!(
        page.body
            .contains("<td>owner</td><td class=\"before\"></td><td class=\"after\">Cy</td>")
    );
    assert!(page.body.contains(" UTC"));
    let all = app.get(&format!("{edit}/history")).await;
    assert!(all.body.contains("<strong>someone</strong> settings"));
    assert!(all.body.contains(
        "<td>small_ratio</td><td class=\"before\">0.10</td><td class=\"after\">0.20</td>"
    ));
    // The view link can read the history too, without the restore buttons.
    let view = app.view_link(&edit).await;
    let page = app.get(&format!("{view}/history")).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("Bo"));
}

#[tokio::test]
async fn a_deleted_workflow_is_restored_whole_from_the_history() {
    let app = TestApp::spawn().await;
    let demo = app.post_form("/demo", &[]).await.location().to_string();
    let before = app.get_json(&format!("{demo}/scorecard.json")).await;
    let victim = before["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| !w["tier_override"].is_null())
        .unwrap()
        .clone();
    let id = victim["id"].as_i64().unwrap();
    app.post_form(&format!("{demo}/workflows/{id}/delete"), &[])
        .await;
    let history = app.get(&format!("{demo}/history")).await;
    let at = history.body.find("/restore\"").expect("a restore button");
    let start = history.body[..at].rfind("/history/").unwrap() + "/history/".len();
    let change = &history.body[start..at];
    // The view link cannot restore.
    let view = app.view_link(&demo).await;
    app.post_form(&format!("{view}/history/{change}/restore"), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let restored = app
        .post_form(&format!("{demo}/history/{change}/restore"), &[])
        .await;
    assert_redirect_to(&restored, &format!("{demo}/workflows/"));
    let after = app.get_json(&format!("{demo}/scorecard.json")).await;
    let strip = |mut w: serde_json::Value| {
        let o = w.as_object_mut().unwrap();
        o.remove("id");
        o.remove("version");
        w
    };
    let back = after["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == victim["name"])
        .unwrap()
        .clone();
    assert_eq!(strip(back), strip(victim));
    assert_eq!(after["total_spend"], before["total_spend"]);
    // Restoring twice would duplicate the name: refused, nothing added.
    let again = app
        .post_form(&format!("{demo}/history/{change}/restore"), &[])
        .await;
    again.assert_status(StatusCode::CONFLICT);
    assert!(again.body.contains("cannot be restored"));
    let count = app.get_json(&format!("{demo}/scorecard.json")).await["workflows"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(count, before["workflows"].as_array().unwrap().len());
}

#[tokio::test]
async fn a_stale_save_shows_both_versions_side_by_side_and_can_be_reapplied() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Conflicts", "USD").await;
    app.add_workflow(&edit, &[("owner", "Original")]).await;
    let id = app.get_json(&format!("{edit}/scorecard.json")).await["workflows"][0]["id"]
        .as_i64()
        .unwrap();
    let save = |owner: &'static str, version: &'static str| {
        let path = format!("{edit}/workflows/{id}");
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
    assert_redirect_to(&save("Alice", "1").await, &edit);
    let conflict = save("Bob", "1").await;
    conflict.assert_status(StatusCode::CONFLICT);
    assert!(
        conflict.body.contains("<td>Bob</td><td>Alice</td>"),
        "side by side: {}",
        conflict.body
    );
    assert!(conflict.body.contains("name=\"version\" value=\"2\""));
    // Re-applying Bob's values on top of the current version works.
    assert_redirect_to(&save("Bob", "2").await, &edit);
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"][0]["owner"], "Bob");
    assert_eq!(json["workflows"][0]["version"], 3);
}

#[tokio::test]
async fn the_gate_walk_goes_by_spend_and_the_room_follows_and_decides() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Walk", "USD").await;
    for (name, spend) in [("Small one", "10"), ("Big one", "900"), ("Mid one", "50")] {
        app.add_workflow(&edit, &[("name", name), ("monthly_spend", spend)])
            .await;
    }
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let ids: Vec<i64> = json["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect();

    let start = app.get(&format!("{edit}/walk")).await;
    assert_redirect_to(&start, &format!("{edit}/walk/{}", ids[0]));
    let page = app.get(start.location()).await;
    assert!(page.body.contains("Big one") && page.body.contains("Workflow 1 of 3 by spend"));
    assert!(page.body.contains("0 of 3 decided"));
    assert!(page.body.contains("data-walk=\"next\""));

    // Answer a routing question with the big buttons: the verdict follows.
    let answered = app
        .post_form(
            &format!("{edit}/walk/{}/answer", ids[0]),
            &[("version", "1"), ("business_case", "no")],
        )
        .await;
    assert_redirect_to(&answered, &format!("{edit}/walk/{}", ids[0]));
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    assert_eq!(json["workflows"][0]["verdict"], "kill");
    assert_eq!(json["workflows"][0]["recommended_tier"], "none");
    assert_eq!(
        json["workflows"][0]["owner"], "Ada Lovelace",
        "other fields unchanged"
    );
    // A stale answer is a conflict, not an overwrite.
    app.post_form(
        &format!("{edit}/walk/{}/answer", ids[0]),
        &[("version", "1"), ("business_case", "yes")],
    )
    .await
    .assert_status(StatusCode::CONFLICT);

    // Deciding moves everyone to the next workflow.
    let decided = app
        .post_form(&format!("{edit}/walk/{}/decide", ids[0]), &[])
        .await;
    assert_redirect_to(&decided, &format!("{edit}/walk/{}", ids[1]));
    let view = app.view_link(&edit).await;
    let follower = app.get(&format!("{view}/walk")).await;
    assert_redirect_to(&follower, &format!("{view}/walk/{}", ids[1]));
    let page = app.get(follower.location()).await;
    assert!(page.body.contains("1 of 3 decided"));
    assert!(
        page.body
            .contains(&format!("data-walk-follow=\"{view}/walk/{{id}}\""))
    );
    assert!(
        !page.body.contains("method=\"post\""),
        "the view link walks along without controls"
    );
    // The view link cannot move the walk or answer.
    app.post_form(&format!("{view}/walk/{}/go", ids[2]), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post_form(
        &format!("{view}/walk/{}/answer", ids[2]),
        &[("stakes", "yes")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    // Going to a workflow moves the shared position.
    app.post_form(&format!("{edit}/walk/{}/go", ids[2]), &[])
        .await;
    assert_redirect_to(
        &app.get(&format!("{view}/walk")).await,
        &format!("{view}/walk/{}", ids[2]),
    );
}

#[tokio::test]
async fn a_silent_vote_is_cast_privately_revealed_and_kept_in_the_history() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Votes", "USD").await;
    app.add_workflow(&edit, &[("name", "Letters")]).await;
    let id = app.get_json(&format!("{edit}/scorecard.json")).await["workflows"][0]["id"]
        .as_i64()
        .unwrap();
    let walk = format!("{edit}/walk/{id}");
    let (ada, bo, cy) = (
        app.join("Ada").await,
        app.join("Bo").await,
        app.join("Cy").await,
    );

    app.post_form_as(&format!("{walk}/vote"), &[], &ada)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = app.get_as(&walk, &ada).await;
    let at = page.body.find("/ballot\"").expect("ballot form");
    let start = page.body[..at].rfind("/votes/").unwrap();
    let ballot = format!("{edit}{}", &page.body[start..at + "/ballot".len()]);
    let reveal = ballot.replace("/ballot", "/reveal");

    for (who, verdict) in [(&ada, "fund"), (&bo, "fund"), (&cy, "kill"), (&cy, "pause")] {
        app.post_form_as(&ballot, &[("verdict", verdict)], who)
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    // Before the reveal: who voted, not what.
    let page = app.get_as(&walk, &bo).await;
    assert!(page.body.contains("3 votes cast"), "{}", page.body);
    assert!(!page.body.contains("result:"));
    assert!(page.body.contains("Your vote: fund"));
    // Someone without a name cannot vote.
    app.post_form(&ballot, &[("verdict", "kill")])
        .await
        .assert_status(StatusCode::BAD_REQUEST);

    app.post_form_as(&reveal, &[], &ada)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = app.get(&walk).await;
    assert!(
        page.body
            .contains("fund 2, pause 1, kill 0; result: fund; dissent: Cy (pause)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Disagreement"));
    // A ballot after the reveal changes nothing.
    app.post_form_as(&ballot, &[("verdict", "kill")], &bo).await;
    let history = app.get(&format!("{edit}/workflows/{id}/history")).await;
    assert!(history.body.contains("<strong>Ada</strong> vote"));
    assert!(history.body.contains("dissent: Cy (pause)"));
    assert!(
        history
            .body
            .contains("<td>vote of Bo</td><td class=\"before\"></td><td class=\"after\">fund</td>")
    );
}

#[tokio::test]
async fn participants_name_themselves_once_and_can_change_it() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Names", "USD").await;
    let page = app.get(&edit).await;
    assert!(
        page.body
            .contains("Your name, so everyone sees who changed what")
    );
    let cookie = app.join("Priya <Claims>").await;
    let page = app.get_as(&edit, &cookie).await;
    assert!(
        page.body
            .contains("You are <strong>Priya &#60;Claims&#62;</strong>")
            || page
                .body
                .contains("You are <strong>Priya &lt;Claims&gt;</strong>")
    );
    // The view link never asks.
    let view = app.view_link(&edit).await;
    assert!(!app.get(&view).await.body.contains("Your name, so everyone"));
    // No open redirect through the name form.
    let response = app
        .post_form(
            "/participant",
            &[("display_name", "X"), ("back", "//evil.example")],
        )
        .await;
    assert_redirect_to(&response, "/");
    assert_eq!(response.location(), "/");
}

#[tokio::test]
async fn people_editing_different_workflows_never_conflict() {
    let app = TestApp::spawn().await;
    let edit = app.create_scorecard("Parallel", "USD").await;
    app.add_workflow(&edit, &[("name", "One")]).await;
    app.add_workflow(&edit, &[("name", "Two")]).await;
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let id = |name: &str| {
        json["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    // Both loaded their forms at version 1, then both save.
    for (name, owner) in [("One", "Ada"), ("Two", "Bo")] {
        let response = app
            .post_form(
                &format!("{edit}/workflows/{}", id(name)),
                &[
                    ("version", "1"),
                    ("name", name),
                    ("current_tier", "small"),
                    ("owner", owner),
                ],
            )
            .await;
        assert_redirect_to(&response, &edit);
    }
    let json = app.get_json(&format!("{edit}/scorecard.json")).await;
    let owners: Vec<&str> = json["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["owner"].as_str().unwrap())
        .collect();
    assert!(owners.contains(&"Ada") && owners.contains(&"Bo"));
}
