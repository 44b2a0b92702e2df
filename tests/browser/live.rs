//! The instructor's live view in a real browser, with three students at work: one stuck on
//! purpose comes first in the grid with the failure's message, the heatmap counts the
//! failures, the watch panel shows a student's typing as it happens while the student's page
//! says they are watched, an announcement (confirmed first) reaches the student's page, and
//! the student's recorded terminal replays in the page.

use serde_json::{Value, json};

use crate::classroom::{add_instructor, log_in};
use crate::support::{TestApp, TestClient, eventually, test_config};
use crate::webdriver::Browser;

/// A student working through the API (the browser test watches the instructor's page).
async fn student(app: &TestApp, code: &str, name: &str) -> (TestClient, String) {
    let mut browser = app.client();
    let body = json!({"code": code, "name": name}).to_string();
    assert_eq!(browser.post("/api/join", &body).await.status(), 201);
    let response = browser
        .post("/api/sessions", r#"{"lesson": "first-steps"}"#)
        .await;
    assert_eq!(response.status(), 201);
    let session: Value = response.json().await.unwrap();
    (browser, session["id"].as_str().unwrap().to_string())
}

async fn check(browser: &mut TestClient, session: &str) -> Value {
    let path = format!("/api/sessions/{session}/check");
    browser
        .post(&path, r#"{"step": 0}"#)
        .await
        .json()
        .await
        .unwrap()
}

async fn truthy(browser: &Browser, script: &str) -> bool {
    browser.eval(script).await == json!(true)
}

#[tokio::test]
async fn the_instructor_sees_who_is_stuck_watches_a_terminal_and_replays_it() {
    let mut config = test_config();
    config.classroom.stuck_after_failures = 2;
    add_instructor(&config.data_dir, "asha");
    let app = TestApp::spawn_with(config).await;

    let teacher = Browser::launch().await;
    log_in(&teacher, &app, "asha").await;
    let made = teacher
        .eval_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/api/classes', {method: 'POST', headers: {'content-type': 'application/json'}, \
               body: JSON.stringify({name: 'Evening batch', lessons: ['first-steps']})}) \
               .then(r => r.json()).then(done);",
        )
        .await;
    let class = made["id"].as_str().unwrap().to_string();
    let code = made["join_code"].as_str().unwrap().to_string();
    teacher.goto(&app.url(&format!("/classes/{class}"))).await;
    eventually("the live grid is connected", || async {
        teacher.text("#live-status").await == "live"
    })
    .await;

    // Sita works in her own browser; Hari and Mina through the API.
    let sita = Browser::launch().await;
    sita.goto(&app.url(&format!("/join?code={code}"))).await;
    sita.type_into("#student-name", "Sita").await;
    sita.click("#join button[type=submit]").await;
    // (innerText reads hidden elements too, so visibility is asked for first.)
    eventually("Sita is told the class records terminals", || async {
        truthy(
            &sita,
            "return !document.getElementById('joined').hidden && !document.getElementById('records-note').hidden;",
        )
        .await
            && sita.text("#records-note").await.contains("records your terminal")
    })
    .await;
    sita.click("#first-lesson").await;
    eventually("Sita's sandbox is ready", || async {
        sita.terminal_text().await.contains("learner@lab")
    })
    .await;
    let (mut hari, hari_session) = student(&app, &code, "Hari").await;
    let mut hari_terminal = hari.terminal(&hari_session).await;
    hari_terminal
        .run(
            "sudo mkdir -p /srv/tuition && sudo chown learner: /srv/tuition && echo ok-$((6*7))",
            "ok-42",
        )
        .await;
    assert_eq!(check(&mut hari, &hari_session).await["passed"], true);
    // Mina is stuck on purpose: the same failure twice in a row.
    let (mut mina, mina_session) = student(&app, &code, "Mina").await;
    let mut message = String::new();
    for _ in 0..2 {
        let verdict = check(&mut mina, &mina_session).await;
        assert_eq!(verdict["passed"], false);
        message = verdict["checks"][0]["message"]
            .as_str()
            .unwrap()
            .to_string();
    }

    eventually(
        "the stuck student comes first, with the failure's message",
        || async {
            let first = teacher.text("#live tr:first-child").await;
            first.contains("Mina")
                && first.contains("stuck")
                && teacher.text("#live tr:first-child td.last-failure").await == message
        },
    )
    .await;
    eventually("the heatmap counts the failures", || async {
        let step = teacher.text("#heatmap tr[data-step='0']").await;
        teacher
            .text("#heatmap tr[data-step='0'] td.attempted")
            .await
            == "2"
            && teacher
                .text("#heatmap tr[data-step='0'] td.passed-count")
                .await
                == "1"
            && step.contains(&format!("×2 {message}"))
    })
    .await;
    teacher.screenshot("live-grid-stuck.png").await;

    // Watching Sita: her page says so, and her typing shows in the panel as it happens.
    teacher
        .eval(
            "const row = [...document.querySelectorAll('#live tr')].find(r => r.textContent.includes('Sita')); \
             [...row.querySelectorAll('button')].find(b => b.textContent === 'Watch').click();",
        )
        .await;
    eventually("the watch panel shows Sita's screen", || async {
        teacher.terminal_text().await.contains("learner@lab")
    })
    .await;
    eventually("Sita's page says she is watched", || async {
        sita.text("#watched").await.contains("asha is watching")
    })
    .await;
    sita.type_into_terminal("echo typed-live-$((6*7))\n").await;
    eventually("the watcher sees the typing", || async {
        teacher.terminal_text().await.contains("typed-live-42")
    })
    .await;
    teacher.screenshot("live-watch.png").await;
    teacher.click("#watch-close").await;
    eventually("Sita's notice goes when the watch ends", || async {
        truthy(&sita, "return document.getElementById('watched').hidden;").await
    })
    .await;

    // An announcement asks first, then shows on Sita's lesson page.
    teacher
        .type_into("#announce-text", "Break for ten minutes")
        .await;
    teacher.click("#announce button[type=submit]").await;
    let question = teacher.accept_dialog().await;
    assert!(question.contains("Break for ten minutes"), "{question}");
    eventually("Sita sees the announcement", || async {
        sita.text("#announcement-text").await == "Break for ten minutes"
            && sita.text("#announcement-by").await == "asha:"
    })
    .await;

    // Sita's recorded terminal replays in the page.
    teacher
        .eval(
            "const row = [...document.querySelectorAll('#live tr')].find(r => r.textContent.includes('Sita')); \
             [...row.querySelectorAll('button')].find(b => b.textContent === 'Replay').click();",
        )
        .await;
    eventually("Sita's recording is listed", || async {
        teacher.text("#replay-list").await.contains("first-steps")
    })
    .await;
    teacher.click("#replay-list button").await;
    // It plays in (sped-up) time, so this can take longer than other waits.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !teacher
        .text("#replay-player")
        .await
        .contains("typed-live-42")
    {
        if std::time::Instant::now() > deadline {
            teacher.screenshot("live-replay-failed.png").await;
            panic!(
                "the player never replayed what Sita typed: {:?} {:?}",
                teacher.text("#replay-list").await,
                teacher.eval_async("const done = arguments[arguments.length - 1]; const p = PathshalaInstructor.replaying(); Promise.all([p.getCurrentTime(), p.getDuration()]).then(done);").await
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    teacher.screenshot("live-replay.png").await;

    // A reset, confirmed first, moves Sita's open page to a fresh sandbox by itself.
    let saved = "return localStorage.getItem('pathshala.lesson.first-steps');";
    let before = sita.eval(saved).await;
    teacher
        .eval(
            "const row = [...document.querySelectorAll('#live tr')].find(r => r.textContent.includes('Sita')); \
             [...row.querySelectorAll('button')].find(b => b.textContent === 'Reset').click();",
        )
        .await;
    let question = teacher.accept_dialog().await;
    assert!(question.contains("fresh sandbox"), "{question}");
    eventually("Sita's page is on the fresh sandbox", || async {
        let now = sita.eval(saved).await;
        now.is_string()
            && now != before
            && sita.terminal_text().await.contains("learner@lab")
            && !sita.terminal_text().await.contains("typed-live-42")
    })
    .await;
    assert_eq!(app.containers().await.len(), 3, "one sandbox per student");

    hari_terminal.close().await;
    sita.quit().await;
    teacher.quit().await;
    app.cleanup().await;
}
