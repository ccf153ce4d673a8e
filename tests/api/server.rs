//! The real server on a real socket.

use crate::helpers::TestServer;

#[tokio::test]
async fn the_server_answers_over_http_on_port_0_and_stops_on_shutdown() {
    let server = TestServer::spawn().await;
    let base = server.base.clone();
    let client = TestServer::client();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let created = client
        .post(format!("{base}/scorecards"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Over+HTTP&currency=USD")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let edit = created.headers()["location"].to_str().unwrap().to_string();
    let added = client
        .post(format!("{base}{edit}/workflows"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Summaries&current_tier=small&monthly_spend=250&business_case=yes&owner=Bo&metric=m&next_step=n&defended=yes")
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let json: serde_json::Value = client
        .get(format!("{base}{edit}/scorecard.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["total_spend"], "250.00");
    assert_eq!(json["earning"], "250.00");
    assert_eq!(json["score"], 100);

    server.stop().await.unwrap();
    assert!(client.get(format!("{base}/healthz")).send().await.is_err());
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_given_one_is_kept() {
    let server = TestServer::spawn().await;
    let client = TestServer::client();
    let url = format!("{}/healthz", server.base);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let response = client.get(&url).send().await.unwrap();
        ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "ids repeat: {ids:?}");
    assert!(ids.iter().all(|id| !id.is_empty()));

    // A proxy's id goes through, so its logs and ours line up.
    let given = client
        .get(&url)
        .header("x-request-id", "edge-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "edge-42");
}
