//! Watching a student's terminal from outside: the instructor sees the screen and live
//! output, nothing they send reaches the shell (its history, its files and its size prove
//! it), the student is told, every watch is logged, only the class's instructors may watch,
//! and a watcher alone never keeps an idle sandbox alive.

use std::time::Duration;

use serde_json::{Value, json};

use crate::classes::{logged_in, post_json};
use crate::instructors::add_instructor;
use crate::support::{TestApp, TestClient, eventually, test_config};

/// A server whose instructors are `names`, each with the tests' password.
pub(crate) async fn app_with(config: pathshala::config::Config, names: &[&str]) -> TestApp {
    for name in names {
        add_instructor(&config.data_dir, name);
    }
    TestApp::spawn_with(config).await
}

/// A class of `instructor` with the lesson first-steps.
pub(crate) async fn class_of(instructor: &mut TestClient) -> (String, String) {
    let (status, class) = post_json(
        instructor,
        "/api/classes",
        json!({"name": "Evening", "lessons": ["first-steps"]}),
    )
    .await;
    assert_eq!(status, 201, "{class}");
    let id = class["id"].as_str().unwrap().to_string();
    (id, class["join_code"].as_str().unwrap().to_string())
}

/// A new browser that joined with `code` as `name`, with the join's answer.
pub(crate) async fn join(app: &TestApp, code: &str, name: &str) -> (TestClient, Value) {
    let mut browser = app.client();
    let (status, joined) = post_json(
        &mut browser,
        "/api/join",
        json!({"code": code, "name": name}),
    )
    .await;
    assert_eq!(status, 201, "{joined}");
    (browser, joined)
}

/// A student who joined with `code` and started first-steps: (browser, student id, session).
pub(crate) async fn student_with_sandbox(
    app: &TestApp,
    code: &str,
    name: &str,
) -> (TestClient, String, String) {
    let (mut browser, joined) = join(app, code, name).await;
    let student = joined["student"]["id"].as_str().unwrap().to_string();
    let (status, session) = post_json(
        &mut browser,
        "/api/sessions",
        json!({"lesson": "first-steps"}),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    let session = session["id"].as_str().unwrap().to_string();
    (browser, student, session)
}

/// The HTTP status a refused WebSocket upgrade answered with.
fn refused_with(result: Result<crate::support::TestTerminal, impl std::fmt::Debug>) -> u16 {
    match result {
        Ok(_) => panic!("the watch was allowed"),
        Err(e) => {
            let text = format!("{e:?}");
            ["401", "403", "404"]
                .into_iter()
                .find(|code| text.contains(&format!("status: {code}")))
                .unwrap_or_else(|| panic!("not refused with a status: {text}"))
                .parse()
                .unwrap()
        }
    }
}

#[tokio::test]
async fn an_instructor_watches_read_only_and_the_student_is_told() {
    let app = app_with(test_config(), &["asha"]).await;
    let mut asha = logged_in(&app, "asha").await;
    let (class, code) = class_of(&mut asha).await;
    let (sita, student, session) = student_with_sandbox(&app, &code, "Sita").await;
    let mut own = sita.terminal(&session).await;
    own.run("echo before-$((2*3))", "before-6").await;

    // The current screen at once.
    let mut watch = asha
        .watch(&session)
        .await
        .expect("the instructor may watch");
    watch.expect("before-6").await;
    let notice: Value = serde_json::from_str(&own.expect_message(r#""watch""#).await).unwrap();
    assert_eq!(
        notice,
        json!({"type": "watch", "watching": true, "by": "asha"})
    );

    // Whatever the watcher sends is dropped on the server: keystrokes, a resize, garbage.
    watch
        .type_text("touch /tmp/typed-by-watcher; echo watcher-$((5*5))\r")
        .await;
    watch
        .send_text_frame(r#"{"type":"resize","cols":33,"rows":11}"#)
        .await;
    watch.send_text_frame("not json at all").await;
    // Live output reaches the watcher as the student types.
    own.run("echo live-$((3*4))", "live-12").await;
    watch.expect("live-12").await;
    // (The pattern matches the watcher's command, not itself.)
    own.run(
        "history | grep -c 'wat[c]her-'; echo count-$((6*6))",
        "count-36",
    )
    .await;
    own.run(
        "ls /tmp/typed-by-watcher; stty size; echo end-$((7*7))",
        "end-49",
    )
    .await;
    let screen = own.screen.screen().contents();
    assert!(
        screen.contains("No such file or directory"),
        "the watcher's command ran:\n{screen}"
    );
    assert!(!screen.contains("watcher-25"), "{screen}");
    assert!(screen.contains("\n0\n"), "history holds it:\n{screen}");
    assert!(
        screen.contains("24 80"),
        "the watcher resized it:\n{screen}"
    );
    // A watcher is told the student's size (its own resize changed nothing), nothing else.
    assert!(
        watch
            .text_messages
            .iter()
            .all(|m| m == r#"{"type":"size","cols":80,"rows":24}"#),
        "a watcher gets no replies or other notices: {:?}",
        watch.text_messages
    );
    assert!(
        !watch.text_messages.is_empty(),
        "the watcher was not told the size"
    );

    // The student is told when the watch ends; the log has who, whom, when and how long.
    watch.close().await;
    own.read_until(|t| t.text_messages.iter().any(|m| m.contains("false")))
        .await;
    assert!(
        own.text_messages
            .iter()
            .any(|m| m == r#"{"type":"watch","watching":false,"by":"asha"}"#),
        "{:?}",
        own.text_messages
    );
    let watches = format!("/api/classes/{class}/watches");
    eventually("the watch's end is logged", || {
        let asha = &asha;
        let watches = &watches;
        async move { asha.get_json(watches).await["watches"][0]["open"] == false }
    })
    .await;
    let log = asha.get_json(&watches).await;
    let entry = &log["watches"][0];
    assert_eq!(
        (
            &entry["instructor"],
            &entry["student"],
            &entry["student_name"]
        ),
        (&json!("asha"), &json!(student), &json!("Sita")),
        "{log}"
    );
    assert_eq!(entry["session"], session.as_str());
    assert_eq!(entry["lesson"], "first-steps");
    assert!(entry["seconds"].as_i64().unwrap() >= 0);

    // A student who opens the page while being watched is told at once.
    let mut again = asha.watch(&session).await.unwrap();
    again.expect("end-49").await;
    let mut second = sita.terminal(&session).await;
    second.expect_message(r#""watching":true"#).await;
    again.close().await;
    second.close().await;
    own.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn only_the_class_instructors_may_watch() {
    let app = app_with(test_config(), &["asha", "bikash"]).await;
    let mut asha = logged_in(&app, "asha").await;
    let (class, code) = class_of(&mut asha).await;
    let (sita, _, session) = student_with_sandbox(&app, &code, "Sita").await;
    let (hari, _, other) = student_with_sandbox(&app, &code, "Hari").await;

    // A student watches nobody: not a classmate, not even themselves.
    assert_eq!(refused_with(sita.watch(&other).await), 401);
    assert_eq!(refused_with(hari.watch(&session).await), 401);
    assert_eq!(refused_with(sita.watch(&session).await), 401);
    // An instructor of another class watches nobody here, nor reads the log.
    let mut bikash = logged_in(&app, "bikash").await;
    class_of(&mut bikash).await;
    assert_eq!(refused_with(bikash.watch(&session).await), 403);
    let watches = format!("/api/classes/{class}/watches");
    assert_eq!(bikash.get(&watches).await.status(), 403);
    assert_eq!(app.client().get(&watches).await.status(), 401);
    // Nor does the class's instructor watch a learner outside every class, or no session.
    let mut guest = app.client();
    let outsider = guest.create_session().await;
    assert_eq!(refused_with(asha.watch(&outsider).await), 403);
    assert_eq!(refused_with(asha.watch("not-a-session").await), 404);
    // Nothing refused was logged.
    assert_eq!(asha.get_json(&watches).await["watches"], json!([]));
    app.cleanup().await;
}

#[tokio::test]
async fn a_watcher_alone_lets_an_idle_sandbox_expire() {
    let mut config = test_config();
    config.sandbox.idle_timeout_secs = 3;
    let app = app_with(config, &["asha"]).await;
    let mut asha = logged_in(&app, "asha").await;
    let (_, code) = class_of(&mut asha).await;
    let (sita, _, session) = student_with_sandbox(&app, &code, "Sita").await;
    // The student leaves; the instructor keeps watching, and keeps sending keystrokes.
    let own = sita.terminal(&session).await;
    own.close().await;
    let mut watch = asha.watch(&session).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            watch.type_text("x").await;
            if watch
                .read_until(|t| t.text_messages.iter().any(|m| m.contains("ended")))
                .await
            {
                return;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the watched sandbox never expired");
    let message = watch.expect_message("ended").await;
    assert!(message.contains("idle timeout"), "{message}");
    assert_eq!(
        sita.get(&format!("/api/sessions/{session}")).await.status(),
        404
    );
    app.cleanup().await;
}
