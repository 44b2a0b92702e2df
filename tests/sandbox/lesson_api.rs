//! The lesson API from outside: catalog, a session for a lesson, checking steps, progress
//! that survives a server restart.

use serde_json::Value;

use crate::support::{TestApp, TestClient};

/// The catalog's entry for lesson `id`, as `browser` sees it (with its progress).
async fn catalog_entry(browser: &TestClient, id: &str) -> Value {
    let catalog: Value = browser.get_json("/api/lessons").await;
    let entries = catalog.as_array().expect("the catalog is a list");
    entries
        .iter()
        .find(|l| l["id"] == id)
        .expect("the lesson is listed")
        .clone()
}

/// Asks the server to check a step of the session's lesson.
async fn check_step(browser: &mut TestClient, id: &str, body: &str) -> Value {
    let response = browser
        .post(&format!("/api/sessions/{id}/check"), body)
        .await;
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_learner_works_through_a_lesson_and_keeps_their_progress_across_a_restart() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();

    let first = catalog_entry(&browser, "first-steps").await;
    assert_eq!(first["steps"], 2);
    assert_eq!(first["passed_steps"], serde_json::json!([]));
    assert_eq!(browser.get("/api/lessons/first-steps").await.status(), 200);
    assert_eq!(
        browser.get("/api/lessons/no-such-lesson").await.status(),
        404
    );
    let missing = browser
        .post("/api/sessions", r#"{"lesson": "no-such-lesson"}"#)
        .await;
    assert_eq!(missing.status(), 404);

    let created = browser
        .post("/api/sessions", r#"{"lesson": "first-steps"}"#)
        .await;
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let session: Value = browser.get_json(&format!("/api/sessions/{id}")).await;
    let body = session["lesson"]["steps"][1]["body"].as_str().unwrap();
    let port: String = body
        .split("PORT=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(
        port.parse::<u16>().is_ok(),
        "the learner's port is rendered: {body}"
    );

    // Nothing done yet: the first step fails, saying why.
    let verdict: Value = check_step(&mut browser, &id, "").await;
    assert_eq!(verdict["step"], 0);
    assert_eq!(verdict["passed"], false);
    let check = &verdict["checks"][0];
    assert_eq!(check["name"], "/srv/tuition exists and belongs to learner");
    assert_eq!(check["actual"], "no such file or directory");
    assert_eq!(
        check["message"], "Not yet: expected /srv/tuition exists, found no such file or directory.",
        "{check}"
    );

    let mut terminal = browser.terminal(&id).await;
    terminal
        .run(
            "sudo mkdir -p /srv/tuition && sudo chown learner: /srv/tuition && echo step-$((0+1))",
            "step-1",
        )
        .await;
    let verdict: Value = check_step(&mut browser, &id, "{}").await;
    assert_eq!(
        (verdict["step"].clone(), verdict["passed"].clone()),
        (0.into(), true.into()),
        "{verdict}"
    );

    // The next check is for the next step; a world-readable file fails the second check.
    terminal
        .run(
            &format!("echo PORT={port} > /srv/tuition/app.env && echo step-$((1+1))"),
            "step-2",
        )
        .await;
    let verdict: Value = check_step(&mut browser, &id, "").await;
    assert_eq!(verdict["step"], 1);
    assert_eq!(verdict["passed"], false);
    assert_eq!(verdict["checks"][0]["passed"], true, "{verdict}");
    assert_eq!(verdict["checks"][1]["actual"], "mode 0644", "{verdict}");
    terminal
        .run(
            "chmod 600 /srv/tuition/app.env && echo step-$((1+2))",
            "step-3",
        )
        .await;
    let verdict: Value = check_step(&mut browser, &id, r#"{"step": 1}"#).await;
    assert_eq!(verdict["passed"], true, "{verdict}");
    terminal.close().await;

    // A restart of the real server keeps the progress.
    let config = app.stop().await;
    let app = TestApp::spawn_with(config).await;
    let browser = app.client_with_cookie(browser.cookie.clone());
    let first = catalog_entry(&browser, "first-steps").await;
    assert_eq!(first["passed_steps"], serde_json::json!([0, 1]));
    // The re-adopted session is still checked, with the learner's own values.
    let again = browser
        .post_empty(&format!("/api/sessions/{id}/check"))
        .await;
    let status = again.status();
    let verdict: Value = again.json().await.unwrap();
    assert_eq!(status, 200, "{verdict}");
    assert_eq!(verdict["passed"], true, "{verdict}");
    app.cleanup().await;
}

#[tokio::test]
async fn with_dev_the_server_reloads_a_lesson_when_its_file_changes() {
    let mut config = crate::support::test_config();
    let lessons = config.data_dir.join("lessons");
    std::fs::create_dir_all(lessons.join("first-steps")).unwrap();
    let file = lessons.join("first-steps/lesson.yaml");
    let original = std::fs::read_to_string("lessons/first-steps/lesson.yaml").unwrap();
    std::fs::write(&file, &original).unwrap();
    config.lessons_dir = lessons;
    config.dev = true;
    let app = TestApp::spawn_with(config).await;
    let browser = app.client();
    let title = |lesson: Value| lesson["title"].as_str().unwrap_or_default().to_string();
    let shown: Value = browser.get_json("/api/lessons/first-steps").await;
    assert_eq!(title(shown), "First steps on a server");

    std::fs::write(
        &file,
        original.replace("title: First steps on a server", "title: Day one"),
    )
    .unwrap();
    crate::support::eventually("the new title is served", || async {
        let shown: Value = browser.get_json("/api/lessons/first-steps").await;
        title(shown) == "Day one"
    })
    .await;

    // A broken save takes the lesson out (with a logged reason) until it is fixed.
    std::fs::write(&file, original.replace("minutes:", "minuts:")).unwrap();
    crate::support::eventually("the broken lesson is withdrawn", || async {
        browser.get("/api/lessons/first-steps").await.status() == 404
    })
    .await;
    std::fs::write(&file, &original).unwrap();
    crate::support::eventually("the fixed lesson is back", || async {
        browser.get("/api/lessons/first-steps").await.status() == 200
    })
    .await;
    app.cleanup().await;
}

/// The curriculum in the order a learner takes it.
const TRACK: [&str; 14] = [
    "linux-basics",
    "env-and-secrets",
    "app-as-a-service",
    "docker-basics",
    "nginx-reverse-proxy",
    "https-and-domains",
    "reading-logs",
    "database-backups",
    "ci-cd-pipeline",
    "monitoring",
    "fix-site-down",
    "fix-app-crash",
    "fix-expired-cert",
    "capstone-exam-season",
];

#[tokio::test]
async fn the_catalog_lists_the_track_in_order_and_each_lesson_names_the_next() {
    let app = TestApp::spawn().await;
    let browser = app.client();
    let catalog: Value = browser.get_json("/api/lessons").await;
    let listed: Vec<(&str, &str)> = catalog
        .as_array()
        .expect("the catalog is a list")
        .iter()
        .map(|l| (l["track"].as_str().unwrap(), l["id"].as_str().unwrap()))
        .collect();
    assert_eq!(listed[0], ("Start here", "first-steps"), "{listed:?}");
    let track: Vec<&str> = listed
        .iter()
        .filter(|(t, _)| *t == "From a bare server to production")
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(track, TRACK);
    for entry in catalog.as_array().unwrap() {
        let minutes = entry["minutes"].as_u64().unwrap();
        assert!((5..=45).contains(&minutes), "{entry}");
    }

    for pair in TRACK.windows(2) {
        let outline: Value = browser.get_json(&format!("/api/lessons/{}", pair[0])).await;
        assert_eq!(outline["next"], pair[1], "after {}", pair[0]);
    }
    let last: Value = browser.get_json("/api/lessons/capstone-exam-season").await;
    assert_eq!(last["next"], Value::Null);

    // The pages say it too: the track's size and time, and the way on from a lesson.
    let home = browser.get("/").await.text().await.unwrap();
    assert!(home.contains("14 lessons · about"), "{home}");
    let page = browser
        .get("/lessons/linux-basics")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("href=\"/lessons/env-and-secrets\">Next lesson:"),
        "{page}"
    );
    app.cleanup().await;
}
