//! Hot reload without surprises (`serve --dev`): a lesson broken mid-edit stays whole for
//! the sessions already running it, and progress follows a step's identity, not its
//! position, when the author inserts a step.

use serde_json::Value;

use crate::support::{TestApp, eventually, test_config};

#[tokio::test]
async fn a_running_session_keeps_its_lesson_through_a_broken_edit_and_progress_follows_steps() {
    let mut config = test_config();
    let lessons = config.data_dir.join("lessons");
    std::fs::create_dir_all(lessons.join("guarded")).unwrap();
    let file = lessons.join("guarded/lesson.yaml");
    let original = std::fs::read_to_string("tests/fixtures/trials/guarded/lesson.yaml").unwrap();
    std::fs::write(&file, &original).unwrap();
    config.lessons_dir = lessons;
    config.dev = true;
    let app = TestApp::spawn_with(config).await;
    let mut browser = app.client();
    let response = browser
        .post("/api/sessions", r#"{"lesson": "guarded"}"#)
        .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut terminal = browser.terminal(&id).await;
    terminal
        .run("touch /tmp/mark && echo made-$((40+2))", "made-42")
        .await;
    let check = format!("/api/sessions/{id}/check");
    let verdict: Value = browser
        .post(&check, r#"{"step": 0}"#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["passed"], true, "{verdict}");

    // The author saves a broken file: new learners cannot start the lesson, but this
    // learner's session keeps the last good version, steps, checks and all.
    std::fs::write(&file, original.replace("minutes: 5", "minutes: five")).unwrap();
    eventually(
        "the broken lesson is withdrawn from the catalog",
        || async { browser.get("/api/lessons/guarded").await.status() == 404 },
    )
    .await;
    let session: Value = browser.get_json(&format!("/api/sessions/{id}")).await;
    assert_eq!(
        session["lesson"]["steps"][1]["title"], "Leave a second mark",
        "{session}"
    );
    let verdict = browser.post(&check, r#"{"step": 1}"#).await;
    assert_eq!(
        verdict.status(),
        200,
        "checks still run on the last good version"
    );
    let mut stranger = app.client();
    let refused = stranger
        .post("/api/sessions", r#"{"lesson": "guarded"}"#)
        .await;
    assert_eq!(refused.status(), 404, "no new session for a broken lesson");

    // Fixed, with a new step inserted first: the passed step keeps its pass at its new
    // place, and the new step is not marked passed.
    let inserted = original.replacen(
        "steps:\n",
        "steps:\n  - title: Look around first\n    body: Run ls.\n    solution: ls\n    checks:\n      - file: { path: /tmp/looked }\n",
        1,
    );
    std::fs::write(&file, inserted).unwrap();
    eventually("the fixed lesson is back with three steps", || async {
        let lesson: Value = browser.get_json("/api/lessons/guarded").await;
        lesson["steps"] == 3
    })
    .await;
    let lesson: Value = browser.get_json("/api/lessons/guarded").await;
    assert_eq!(lesson["passed_steps"], serde_json::json!([1]), "{lesson}");
    app.cleanup().await;
}
