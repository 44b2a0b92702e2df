//! The HTTP contract, checked from outside.

use crate::support::TestApp;

#[tokio::test]
async fn health_says_docker_answers() {
    let app = TestApp::spawn().await;
    let response = app.client().get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["docker"]["ok"], true);
    app.cleanup().await;
}

#[tokio::test]
async fn a_created_session_is_shown_to_its_owner_only() {
    let app = TestApp::spawn().await;
    let mut owner = app.client();
    let response = owner.post("/api/sessions", "{}").await;
    assert_eq!(response.status(), 201);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let shown: serde_json::Value = owner
        .get(&format!("/api/sessions/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["state"], "running");

    // A stranger with a valid cookie of its own (it has a session too) still cannot.
    let mut stranger = app.client();
    stranger.create_session().await;
    assert!(stranger.cookie.is_some() && stranger.cookie != owner.cookie);
    assert_eq!(
        stranger.get(&format!("/api/sessions/{id}")).await.status(),
        404
    );
    assert_eq!(
        stranger
            .delete(&format!("/api/sessions/{id}"))
            .await
            .status(),
        404
    );
    let refused = stranger.try_terminal(&id, Some(&stranger.origin)).await;
    assert!(refused.is_err(), "a stranger opened the terminal");
    // The stranger's attempts changed nothing.
    assert_eq!(
        owner.get(&format!("/api/sessions/{id}")).await.status(),
        200
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_second_session_of_the_same_browser_keeps_its_cookie() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let first = browser.create_session().await;
    let cookie = browser.cookie.clone();
    let second = browser.create_session().await;
    assert_eq!(browser.cookie, cookie);
    for id in [first, second] {
        assert_eq!(
            browser.get(&format!("/api/sessions/{id}")).await.status(),
            200
        );
    }
    app.cleanup().await;
}

#[tokio::test]
async fn bad_requests_get_clear_json_errors() {
    let app = TestApp::spawn().await;
    let mut client = app.client();
    let response = client.post("/api/sessions", "{not json").await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");

    assert!(
        app.containers().await.is_empty(),
        "a bad request made a sandbox"
    );
    // With a valid cookie, an id that is not an id is still just "not found".
    client.create_session().await;
    let response = client.get("/api/sessions/..%2F..%2Fetc").await;
    assert_eq!(response.status(), 404);
    app.cleanup().await;
}

#[tokio::test]
async fn the_catalog_is_home_and_free_practice_loads_its_terminal_assets() {
    let app = TestApp::spawn().await;
    let client = app.client();
    // The catalog lists the shipped lessons with their time, and leads to free practice.
    let home = client.get("/").await.text().await.unwrap();
    assert!(home.contains("/lessons/first-steps"), "{home}");
    assert!(home.contains("15 min"), "{home}");
    assert!(home.contains("href=\"/practice\""), "{home}");
    let page = client.get("/practice").await.text().await.unwrap();
    assert!(page.contains("Start a sandbox"));
    // JSON goes gzipped to a browser that takes it; the favicon is there.
    let gzipped = reqwest::Client::new()
        .get(app.url("/api/lessons"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let icon = client.get("/favicon.ico").await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    for asset in [
        "xterm.js",
        "addon-fit.js",
        "terminal.js",
        "playground.js",
        "xterm.css",
        "app.css",
    ] {
        assert!(
            page.contains(&format!("/assets/{asset}")),
            "{asset} not linked"
        );
        let response = client.get(&format!("/assets/{asset}")).await;
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.headers().contains_key("cache-control"), "{asset}");
        assert!(
            response.bytes().await.unwrap().len() > 100,
            "{asset} is empty"
        );
    }
    app.cleanup().await;
}

#[tokio::test]
async fn other_websites_cannot_create_sessions_or_rebind_the_host() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let cross_site = client
        .post(app.url("/api/sessions"))
        .header("origin", "http://evil.example")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let rebound = client
        .get(app.url("/healthz"))
        .header("host", format!("rebound.evil.example:{}", app.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    assert!(app.containers().await.is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn assets_are_compressed_for_slow_connections() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .get(app.url("/assets/xterm.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let sent = response.bytes().await.unwrap().len();
    assert!(sent < 200_000, "xterm.js sent as {sent} bytes");
    app.cleanup().await;
}
