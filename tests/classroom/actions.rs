//! An instructor acting on students' sandboxes from outside: reset (a fresh sandbox with the
//! lesson's setup, progress and the learner's values kept, the open page moved to it),
//! restart, end, extend, and for the whole class extend, end all and announce; who may; and
//! the log of it.

use serde_json::{Value, json};

use crate::classes::{logged_in, post_json};
use crate::support::{TestClient, test_config};
use crate::watch::{app_with, student_with_sandbox};

async fn class_with(instructor: &mut TestClient, lessons: &[&str]) -> (String, String) {
    let (status, class) = post_json(
        instructor,
        "/api/classes",
        json!({"name": "Saturday batch", "lessons": lessons}),
    )
    .await;
    assert_eq!(status, 201, "{class}");
    let id = class["id"].as_str().unwrap().to_string();
    (id, class["join_code"].as_str().unwrap().to_string())
}

async fn session_of(browser: &TestClient, id: &str) -> Value {
    browser.get_json(&format!("/api/sessions/{id}")).await
}

#[tokio::test]
async fn reset_gives_a_fresh_sandbox_with_the_setup_and_keeps_progress() {
    let app = app_with(test_config(), &["asha", "bikash"]).await;
    let mut asha = logged_in(&app, "asha").await;
    let (class, code) = class_with(&mut asha, &["first-steps", "env-and-secrets"]).await;
    let (mut sita, student, first) = student_with_sandbox(&app, &code, "Sita").await;

    // Sita passes step 1 of first-steps and leaves traces of her own.
    let mut terminal = sita.terminal(&first).await;
    terminal
        .run(
            "sudo mkdir -p /srv/tuition && sudo chown learner: /srv/tuition && touch /tmp/mine && echo ok-$((6*7))",
            "ok-42",
        )
        .await;
    let (_, verdict) = post_json(
        &mut sita,
        &format!("/api/sessions/{first}/check"),
        json!({"step": 0}),
    )
    .await;
    assert_eq!(verdict["passed"], true, "{verdict}");
    let before = session_of(&sita, &first).await;

    // Who may not: another class's instructor, a student, nobody at all; and bad requests.
    let reset = format!("/api/classes/{class}/students/{student}/reset");
    let body = json!({"lesson": "first-steps"}).to_string();
    let mut bikash = logged_in(&app, "bikash").await;
    assert_eq!(bikash.post(&reset, &body).await.status(), 403);
    assert_eq!(sita.post(&reset, &body).await.status(), 401);
    assert_eq!(app.client().post(&reset, &body).await.status(), 401);
    assert_eq!(asha.post(&reset, "{}").await.status(), 400);
    let nobody = format!("/api/classes/{class}/students/no-such-student/reset");
    assert_eq!(asha.post(&nobody, &body).await.status(), 404);
    let (status, error) = post_json(&mut asha, &reset, json!({"lesson": "env-and-secrets"})).await;
    assert_eq!(status, 404, "{error}");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("Sita has no sandbox"),
        "{error}"
    );

    // The reset: a fresh sandbox; the open page is told where to go, the old one ends.
    let (status, answer) = post_json(&mut asha, &reset, json!({"lesson": "first-steps"})).await;
    assert_eq!(status, 200, "{answer}");
    let fresh = answer["sessions"][0].as_str().unwrap().to_string();
    assert_ne!(fresh, first);
    let moved: Value = serde_json::from_str(&terminal.expect_message("replaced").await).unwrap();
    assert_eq!(
        moved,
        json!({"type": "replaced", "session": fresh, "by": "asha"})
    );
    terminal.expect_message("asha reset this sandbox").await;
    assert_eq!(
        sita.get(&format!("/api/sessions/{first}")).await.status(),
        404
    );
    // Progress and the learner's own values are kept; the files are not.
    let after = session_of(&sita, &fresh).await;
    assert_eq!(after["lesson"]["passed_steps"], json!([0]), "{after}");
    assert_eq!(
        after["lesson"]["steps"][1]["body_html"], before["lesson"]["steps"][1]["body_html"],
        "the learner's port changed"
    );
    let mut terminal = sita.terminal(&fresh).await;
    terminal
        .run("ls -d /srv/tuition /tmp/mine; echo ls-$((8*8))", "ls-64")
        .await;
    let screen = terminal.screen.screen().contents();
    assert_eq!(
        screen.matches("No such file or directory").count(),
        2,
        "{screen}"
    );
    terminal.close().await;

    // A lesson with a setup gets it again: Akash's checkout, deleted by the student, is back.
    let (status, second) = post_json(
        &mut sita,
        "/api/sessions",
        json!({"lesson": "env-and-secrets"}),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    let second = second["id"].as_str().unwrap().to_string();
    let mut terminal = sita.terminal(&second).await;
    terminal
        .run("rm -rf ~/tuition && echo gone-$((9*9))", "gone-81")
        .await;
    let (status, answer) = post_json(&mut asha, &reset, json!({"lesson": "env-and-secrets"})).await;
    assert_eq!(status, 200, "{answer}");
    let renewed = answer["sessions"][0].as_str().unwrap().to_string();
    terminal.close().await;
    let mut terminal = sita.terminal(&renewed).await;
    terminal
        .run("test -f ~/tuition/.env && echo setup-$((5*11))", "setup-55")
        .await;
    terminal.close().await;

    // Both resets are in the class's log, newest first.
    let log = asha
        .get_json(&format!("/api/classes/{class}/actions"))
        .await;
    let actions: Vec<_> = log["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].clone(),
                a["detail"].clone(),
                a["student_name"].clone(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            (json!("reset"), json!("env-and-secrets"), json!("Sita")),
            (json!("reset"), json!("first-steps"), json!("Sita")),
        ]
    );
    assert_eq!(
        bikash
            .get(&format!("/api/classes/{class}/actions"))
            .await
            .status(),
        403
    );
    // A bad body to a class that is not yours is still 403, not 400.
    assert_eq!(bikash.post(&reset, "{}").await.status(), 403);

    // Two resets at once (two tabs, a double click): one goes ahead, the other is told.
    let mut other_tab = logged_in(&app, "asha").await;
    let body = json!({"lesson": "first-steps"});
    let (one, two) = tokio::join!(
        post_json(&mut asha, &reset, body.clone()),
        post_json(&mut other_tab, &reset, body.clone())
    );
    let mut statuses = [one.0, two.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{one:?} {two:?}");
    assert_eq!(app.containers().await.len(), 2, "one sandbox per lesson");
    app.cleanup().await;
}

#[tokio::test]
async fn extend_restart_announce_and_end_the_class() {
    let app = app_with(test_config(), &["asha"]).await;
    let mut asha = logged_in(&app, "asha").await;
    let (class, code) = class_with(&mut asha, &["first-steps"]).await;
    let (sita, student, session) = student_with_sandbox(&app, &code, "Sita").await;
    let (hari, _, other) = student_with_sandbox(&app, &code, "Hari").await;
    let students = format!("/api/classes/{class}/students/{student}");

    // Extend one student, then the whole class.
    let expires = |v: &Value| v["expires_at"].as_i64().unwrap();
    let start = expires(&session_of(&sita, &session).await);
    let (status, _) = post_json(
        &mut asha,
        &format!("{students}/extend"),
        json!({"minutes": 0}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, answer) = post_json(
        &mut asha,
        &format!("{students}/extend"),
        json!({"minutes": 30}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(expires(&session_of(&sita, &session).await), start + 30 * 60);
    let hari_start = expires(&session_of(&hari, &other).await);
    let (status, answer) = post_json(
        &mut asha,
        &format!("/api/classes/{class}/extend"),
        json!({"minutes": 15}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["sessions"].as_array().unwrap().len(), 2, "{answer}");
    assert_eq!(expires(&session_of(&sita, &session).await), start + 45 * 60);
    assert_eq!(
        expires(&session_of(&hari, &other).await),
        hari_start + 15 * 60
    );
    // Extensions add up to one more lifetime at most, however often they are asked for.
    let lifetime = app.config.sandbox.max_lifetime_secs as i64;
    for _ in 0..2 {
        let (status, _) = post_json(
            &mut asha,
            &format!("{students}/extend"),
            json!({"minutes": 480}),
        )
        .await;
        assert_eq!(status, 200);
    }
    assert_eq!(
        expires(&session_of(&sita, &session).await),
        start + lifetime
    );

    // An announcement reaches every open lesson page, and pages opened later.
    let mut terminal = sita.terminal(&session).await;
    terminal.expect("learner@lab").await;
    let announce = format!("/api/classes/{class}/announce");
    assert_eq!(
        post_json(&mut asha, &announce, json!({"text": "  "}))
            .await
            .0,
        400
    );
    let (status, answer) = post_json(
        &mut asha,
        &announce,
        json!({"text": "Break for ten minutes; back at 4"}),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let notice: Value =
        serde_json::from_str(&terminal.expect_message("announcement").await).unwrap();
    assert_eq!(
        (&notice["text"], &notice["by"]),
        (&json!("Break for ten minutes; back at 4"), &json!("asha"))
    );
    let me = hari.get_json("/api/me").await;
    assert_eq!(
        me["class"]["announcement"]["text"], "Break for ten minutes; back at 4",
        "{me}"
    );

    // A restart reboots the sandbox, in the same session.
    let container = app.container_of(&session).await;
    let started = app.inspect(&container).await.state.unwrap().started_at;
    let (status, answer) = post_json(&mut asha, &format!("{students}/restart"), json!({})).await;
    assert_eq!(status, 200, "{answer}");
    let restarted = app.inspect(&container).await.state.unwrap().started_at;
    assert_ne!(started, restarted);
    assert_eq!(
        sita.get(&format!("/api/sessions/{session}")).await.status(),
        200
    );

    // End all: every student's sandbox ends, and their pages are told who ended it.
    let (status, answer) = post_json(
        &mut asha,
        &format!("/api/classes/{class}/end-all"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["sessions"].as_array().unwrap().len(), 2, "{answer}");
    terminal.expect_message("asha ended the class").await;
    for (browser, id) in [(&sita, &session), (&hari, &other)] {
        assert_eq!(
            browser.get(&format!("/api/sessions/{id}")).await.status(),
            404
        );
    }
    assert!(app.containers().await.is_empty());
    // Nothing left to end says so.
    let (status, error) = post_json(&mut asha, &format!("{students}/end"), json!({})).await;
    assert_eq!(status, 404, "{error}");

    let log = asha
        .get_json(&format!("/api/classes/{class}/actions"))
        .await;
    let names: Vec<_> = log["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "end-all",
            "restart",
            "announce",
            "extend",
            "extend",
            "extend-all",
            "extend"
        ]
    );
    app.cleanup().await;
}
