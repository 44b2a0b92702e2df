//! The domain event stream, observed from a real server: what a learner does (start a
//! lesson, open and close the terminal, check a step, end the session) arrives as typed
//! events; and a learner's sandbox is prepared exactly as lesson CI prepares it.

use pathshala::event::{Event, Stamped};
use tokio::sync::broadcast::Receiver;

use crate::support::{PATIENCE, TestApp, test_config};

/// The next event of `kind` (skipping others), within the patience of a test.
async fn next_of(events: &mut Receiver<std::sync::Arc<Stamped>>, kind: &str) -> Event {
    let wait = async {
        loop {
            let stamped = events.recv().await.expect("the stream stays open");
            let json = serde_json::to_value(&*stamped).unwrap();
            if json["type"] == kind {
                return stamped.event.clone();
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("no {kind} event"))
}

#[tokio::test]
async fn a_learners_work_arrives_as_events_in_order() {
    let mut config = test_config();
    config.lessons_dir = "tests/fixtures/trials".into();
    let app = TestApp::spawn_with(config).await;
    let mut events = app.events.subscribe();
    let mut browser = app.client();
    let response = browser
        .post("/api/sessions", r#"{"lesson": "guarded"}"#)
        .await;
    assert_eq!(response.status(), 201);
    let session: serde_json::Value = response.json().await.unwrap();
    let id = session["id"].as_str().unwrap().to_string();

    let Event::SessionStarted {
        session, lesson, ..
    } = next_of(&mut events, "session_started").await
    else {
        unreachable!()
    };
    assert_eq!(
        (session.as_str(), lesson.as_deref()),
        (id.as_str(), Some("guarded"))
    );

    let mut terminal = browser.terminal(&id).await;
    let attached = next_of(&mut events, "terminal_attached").await;
    assert_eq!(
        attached,
        Event::TerminalAttached {
            session: id.clone(),
            attached: 1
        }
    );

    // Before the solution: the guard holds (setup ran in a plain shell, as in lesson CI),
    // the step's own check does not.
    let verdict: serde_json::Value = browser
        .post(&format!("/api/sessions/{id}/check"), r#"{"step": 0}"#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["checks"][0]["passed"], true, "{verdict}");
    assert_eq!(verdict["checks"][1]["passed"], false, "{verdict}");
    let Event::CheckRun {
        step,
        step_key,
        passed,
        checks,
        ..
    } = next_of(&mut events, "check_run").await
    else {
        unreachable!()
    };
    assert_eq!(
        (step, step_key.as_str(), passed),
        (0, "leave-a-mark", false)
    );
    assert_eq!(checks.len(), 2);

    terminal
        .run("touch /tmp/mark && echo made-$((20+22))", "made-42")
        .await;
    let verdict: serde_json::Value = browser
        .post(&format!("/api/sessions/{id}/check"), "{}")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["passed"], true, "{verdict}");
    let passed = next_of(&mut events, "step_passed").await;
    assert!(
        matches!(passed, Event::StepPassed { step: 0, ref step_key, .. } if step_key == "leave-a-mark")
    );

    terminal.close().await;
    let detached = next_of(&mut events, "terminal_detached").await;
    assert_eq!(
        detached,
        Event::TerminalDetached {
            session: id.clone(),
            attached: 0
        }
    );

    assert_eq!(
        browser
            .delete(&format!("/api/sessions/{id}"))
            .await
            .status(),
        204
    );
    let Event::SessionEnded {
        session, reason, ..
    } = next_of(&mut events, "session_ended").await
    else {
        unreachable!()
    };
    assert_eq!(
        (session.as_str(), reason.as_str()),
        (id.as_str(), "the sandbox was deleted")
    );
    app.cleanup().await;
}
