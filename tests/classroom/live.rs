//! The instructor's live view from outside: the event stream of a class (a snapshot, then a
//! student's check runs within two seconds, stuck and help flags raised and cleared), who
//! may open it, and the failure heatmap.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::classes::{logged_in, post_json};
use crate::instructors::add_instructor;
use crate::support::{TestApp, TestClient, test_config};

/// A server-sent event stream read as it arrives.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// The next event named `name` (others skipped) with its data as JSON, or a panic after
    /// `patience`.
    async fn next(&mut self, name: &str, patience: Duration) -> Value {
        let deadline = Instant::now() + patience;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = "message";
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event = value.trim();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if event == name {
                    return serde_json::from_str(&data).unwrap();
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(other) => panic!("the stream ended waiting for {name}: {other:?}"),
                Err(_) => panic!(
                    "no {name:?} event within {patience:?}; had {:?}",
                    self.buffer
                ),
            }
        }
    }
}

async fn open_stream(browser: &TestClient, class: &str) -> EventStream {
    let response = browser.get(&format!("/api/classes/{class}/live")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    EventStream {
        response,
        buffer: String::new(),
    }
}

const SOON: Duration = Duration::from_secs(2);

#[tokio::test]
async fn the_live_view_shows_checks_flags_and_help_as_they_happen() {
    let mut config = test_config();
    config.classroom.stuck_after_failures = 2;
    for name in ["asha", "bikash"] {
        add_instructor(&config.data_dir, name);
    }
    let app = TestApp::spawn_with(config).await;
    let mut asha = logged_in(&app, "asha").await;
    let (_, class) = post_json(
        &mut asha,
        "/api/classes",
        json!({"name": "Evening", "lessons": ["first-steps"]}),
    )
    .await;
    let id = class["id"].as_str().unwrap().to_string();
    let code = class["join_code"].as_str().unwrap().to_string();

    // Only the class's instructors may watch it.
    let live = format!("/api/classes/{id}/live");
    assert_eq!(app.client().get(&live).await.status(), 401);
    let mut bikash = logged_in(&app, "bikash").await;
    assert_eq!(bikash.get(&live).await.status(), 403);
    assert_eq!(
        bikash
            .get(&format!("/api/classes/{id}/heatmap"))
            .await
            .status(),
        403
    );

    let mut sita = app.client();
    let (status, joined) = post_json(
        &mut sita,
        "/api/join",
        json!({"code": code, "name": "Sita"}),
    )
    .await;
    assert_eq!(status, 201, "{joined}");
    let student = joined["student"]["id"].as_str().unwrap().to_string();
    let (status, session) =
        post_json(&mut sita, "/api/sessions", json!({"lesson": "first-steps"})).await;
    assert_eq!(status, 201, "{session}");
    let session = session["id"].as_str().unwrap().to_string();

    let mut stream = open_stream(&asha, &id).await;
    let snapshot = stream.next("snapshot", SOON).await;
    assert_eq!(snapshot["class"]["id"], id.as_str());
    let row = &snapshot["students"][0];
    assert_eq!(row["name"], "Sita");
    assert_eq!(row["presence"], "idle", "{row}");
    assert_eq!(row["lesson"], "first-steps");
    assert_eq!(row["step"], 0);
    assert_eq!(row["cells"]["first-steps"][0]["state"], "working");
    assert_eq!(row["sessions"], json!([session]));

    // A terminal opened shows as presence.
    let mut terminal = sita.terminal(&session).await;
    let row = stream.next("student", SOON).await;
    assert_eq!(row["presence"], "connected", "{row}");

    // A failed check reaches the stream within two seconds, with its message.
    let check = format!("/api/sessions/{session}/check");
    let started = Instant::now();
    let (_, verdict) = post_json(&mut sita, &check, json!({"step": 0})).await;
    assert_eq!(verdict["passed"], false);
    let seen = stream.next("check", SOON).await;
    assert!(started.elapsed() < SOON, "took {:?}", started.elapsed());
    assert_eq!(seen["student"], student.as_str());
    assert_eq!(seen["passed"], false);
    assert_eq!(seen["step"], 0);
    let message = seen["message"].as_str().unwrap().to_string();
    assert!(!message.is_empty(), "{seen}");
    let row = stream.next("student", SOON).await;
    assert_eq!(row["cells"]["first-steps"][0]["state"], "failed");
    assert_eq!(row["last_failure"]["message"], message.as_str());

    // The second failure in a row raises the stuck flag.
    post_json(&mut sita, &check, json!({"step": 0})).await;
    let flag = stream.next("flag", SOON).await;
    assert_eq!(
        (&flag["kind"], &flag["raised"], &flag["student"]),
        (&json!("stuck"), &json!(true), &json!(student))
    );
    assert!(
        flag["reason"].as_str().unwrap().contains("2 failed"),
        "{flag}"
    );

    // "I'm stuck" raises help; a guest outside every class cannot.
    let (status, help) = post_json(
        &mut sita,
        &format!("/api/sessions/{session}/help"),
        json!({}),
    )
    .await;
    assert_eq!(status, 202, "{help}");
    let flag = stream.next("flag", SOON).await;
    assert_eq!(
        (&flag["kind"], &flag["raised"]),
        (&json!("help"), &json!(true))
    );
    let mut guest = app.client();
    let (status, own) = post_json(
        &mut guest,
        "/api/sessions",
        json!({"lesson": "first-steps"}),
    )
    .await;
    assert_eq!(status, 201, "{own}");
    let guest_help = format!("/api/sessions/{}/help", own["id"].as_str().unwrap());
    assert_eq!(post_json(&mut guest, &guest_help, json!({})).await.0, 400);
    // Nobody else reaches a student's session to press it for them.
    assert_eq!(
        post_json(
            &mut guest,
            &format!("/api/sessions/{session}/help"),
            json!({})
        )
        .await
        .0,
        404
    );

    // The instructor dismisses both flags.
    let dismiss = format!("/api/classes/{id}/students/{student}/dismiss");
    assert_eq!(bikash.post(&dismiss, "{}").await.status(), 403);
    assert_eq!(asha.post(&dismiss, "{}").await.status(), 204);
    let mut cleared = Vec::new();
    for _ in 0..2 {
        let flag = stream.next("flag", SOON).await;
        assert_eq!(flag["raised"], false, "{flag}");
        cleared.push(flag["kind"].as_str().unwrap().to_string());
    }
    cleared.sort();
    assert_eq!(cleared, ["help", "stuck"]);

    // The student fixes it; the step passes.
    terminal
        .run(
            "sudo mkdir -p /srv/tuition && sudo chown learner: /srv/tuition && echo done-$((6*7))",
            "done-42",
        )
        .await;
    let (_, verdict) = post_json(&mut sita, &check, json!({"step": 0})).await;
    assert_eq!(verdict["passed"], true, "{verdict}");
    let seen = stream.next("check", SOON).await;
    assert_eq!(seen["passed"], true);
    let row = stream.next("student", SOON).await;
    assert_eq!(row["cells"]["first-steps"][0]["state"], "passed", "{row}");
    assert_eq!(row["step"], 1);

    // The heatmap counts one learner who tried and passed, and groups the two failures.
    let heatmap: Value = asha.get_json(&format!("/api/classes/{id}/heatmap")).await;
    let step = &heatmap["lessons"][0]["steps"][0];
    assert_eq!(
        (&step["attempted"], &step["passed"]),
        (&json!(1), &json!(1)),
        "{heatmap}"
    );
    assert!(step["median_seconds_to_pass"].as_i64().unwrap() >= 0);
    assert_eq!(
        step["top_failures"][0],
        json!({"message": message, "count": 2})
    );
    let checks = step["checks"].as_object().unwrap();
    assert!(!checks.is_empty(), "{heatmap}");
    for tally in checks.values() {
        assert_eq!(tally["attempted"], 1, "{heatmap}");
    }
    assert_eq!(heatmap["lessons"][0]["steps"][1]["attempted"], 0);

    // A student who joins while the view is open appears in it.
    let mut hari = app.client();
    post_json(
        &mut hari,
        "/api/join",
        json!({"code": code, "name": "Hari"}),
    )
    .await;
    let (status, _) = post_json(&mut hari, "/api/sessions", json!({"lesson": "first-steps"})).await;
    assert_eq!(status, 201);
    loop {
        let row = stream.next("student", SOON * 5).await;
        if row["name"] == "Hari" {
            assert_eq!(row["presence"], "idle");
            break;
        }
    }
    terminal.close().await;
    app.cleanup().await;
}
