//! Terminal recordings from outside: a class session's terminal is recorded as asciicast v2
//! from its first opening, the file replays to the screen the student saw (resizes, UTF-8,
//! a marker at each check run), only the class's instructors reach it, students are told on
//! joining, and the class setting turns recording off.

use serde_json::{Value, json};

use crate::classes::{logged_in, post_json};
use crate::support::{eventually, test_config};
use crate::watch::{app_with, class_of, join};

/// Replays an asciicast file's output and resizes into a screen.
fn replay(cast: &str) -> (vt100::Parser, Vec<Value>) {
    let mut lines = cast.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2, "{header}");
    let size = |v: &Value| std::num::NonZeroU16::new(v.as_u64().unwrap() as u16).unwrap();
    let mut screen = vt100::Parser::new(size(&header["height"]), size(&header["width"]), 0);
    let mut events = Vec::new();
    for line in lines {
        let event: Value = serde_json::from_str(line).unwrap();
        match event[1].as_str().unwrap() {
            "o" => screen.process(event[2].as_str().unwrap().as_bytes()),
            "r" => {
                let (cols, rows) = event[2].as_str().unwrap().split_once('x').unwrap();
                let (cols, rows): (u16, u16) = (cols.parse().unwrap(), rows.parse().unwrap());
                let nonzero = |n| std::num::NonZeroU16::new(n).unwrap();
                screen.screen_mut().set_size(nonzero(rows), nonzero(cols));
            }
            _ => {}
        }
        events.push(event);
    }
    (screen, events)
}

#[tokio::test]
async fn a_recording_replays_what_the_student_saw() {
    let app = app_with(test_config(), &["asha", "bikash"]).await;
    let mut asha = logged_in(&app, "asha").await;
    let (class, code) = class_of(&mut asha).await;
    let (mut sita, joined) = join(&app, &code, "Sita").await;
    assert_eq!(joined["class"]["records_terminals"], true, "{joined}");
    assert_eq!(
        sita.get_json("/api/me").await["class"]["records_terminals"],
        true
    );
    let student = joined["student"]["id"].as_str().unwrap().to_string();
    let (_, session) =
        post_json(&mut sita, "/api/sessions", json!({"lesson": "first-steps"})).await;
    let session = session["id"].as_str().unwrap().to_string();

    // The student works: output, a wider terminal, text beyond ASCII, a failed check.
    let mut terminal = sita.terminal(&session).await;
    terminal.run("echo first-$((2*3))", "first-6").await;
    terminal.resize(100, 30).await;
    terminal.run("echo नमस्ते-$((2*2)); ls /", "नमस्ते-4").await;
    let (_, verdict) = post_json(
        &mut sita,
        &format!("/api/sessions/{session}/check"),
        json!({"step": 0}),
    )
    .await;
    assert_eq!(verdict["passed"], false);
    terminal
        .run("seq 1 40; echo last-$((9*9))", "last-81")
        .await;
    // The screen once the shell is back at its prompt, when nothing more is coming.
    terminal
        .read_until(|t| t.screen.screen().contents().ends_with("$ "))
        .await;
    let seen = terminal.screen.screen().contents();

    // The class's instructor lists it and downloads it; it replays to the same screen.
    let list = format!("/api/classes/{class}/students/{student}/recordings");
    let recordings = asha.get_json(&list).await;
    let recording = &recordings["recordings"][0];
    assert_eq!(recording["session"], session.as_str(), "{recordings}");
    assert_eq!(recording["lesson"], "first-steps");
    let url = recording["url"].as_str().unwrap().to_string();
    // The file is written a second behind at most.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let cast = loop {
        let response = asha.get(&url).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/x-asciicast"
        );
        let cast = response.text().await.unwrap();
        if replay(&cast).0.screen().contents() == seen || std::time::Instant::now() > deadline {
            break cast;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let (replayed, events) = replay(&cast);
    let (rows, cols) = replayed.screen().size();
    assert_eq!((rows.get(), cols.get()), (30, 100));
    assert_eq!(replayed.screen().contents(), seen);
    let markers: Vec<_> = events.iter().filter(|e| e[1] == "m").collect();
    assert_eq!(markers.len(), 1, "{markers:?}");
    assert!(
        markers[0][2]
            .as_str()
            .unwrap()
            .starts_with("step 1: failed: "),
        "{markers:?}"
    );
    let times: Vec<f64> = events.iter().map(|e| e[0].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // Nobody else reaches it.
    let mut bikash = logged_in(&app, "bikash").await;
    class_of(&mut bikash).await;
    assert_eq!(bikash.get(&list).await.status(), 403);
    assert_eq!(bikash.get(&url).await.status(), 403);
    assert_eq!(sita.get(&url).await.status(), 401);
    let (hari, joined) = join(&app, &code, "Hari").await;
    let hari_id = joined["student"]["id"].as_str().unwrap();
    let elsewhere = url.replace(&student, hari_id);
    assert_eq!(asha.get(&elsewhere).await.status(), 404);
    let no_suffix = url.trim_end_matches(".cast");
    assert_eq!(asha.get(no_suffix).await.status(), 404);

    // Recording off: the recording going on ends, and nothing new is recorded.
    let setting = format!("/api/classes/{class}/recording");
    let (status, answer) = post_json(&mut asha, &setting, json!({"on": false})).await;
    assert_eq!(status, 200, "{answer}");
    eventually("the recording is complete", || {
        let (asha, list) = (&asha, &list);
        async move { asha.get_json(list).await["recordings"][0]["ended_at"].is_i64() }
    })
    .await;
    terminal.close().await;
    let mut terminal = sita.terminal(&session).await;
    terminal.run("echo after-$((3*3))", "after-9").await;
    let (mut ravi, joined) = join(&app, &code, "Ravi").await;
    assert_eq!(joined["class"]["records_terminals"], false, "{joined}");
    let (_, own) = post_json(&mut ravi, "/api/sessions", json!({"lesson": "first-steps"})).await;
    let mut other = ravi.terminal(own["id"].as_str().unwrap()).await;
    other.expect("learner@lab").await;
    let ravi_id = joined["student"]["id"].as_str().unwrap();
    let ravis = format!("/api/classes/{class}/students/{ravi_id}/recordings");
    assert_eq!(asha.get_json(&ravis).await["recordings"], json!([]));
    assert_eq!(
        asha.get_json(&list).await["recordings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    drop(hari);
    other.close().await;
    terminal.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_student_whose_recordings_are_full_is_not_recorded_again() {
    let mut config = test_config();
    // Smaller than any one recording: the first fills the student's share.
    config.classroom.recording_student_max_bytes = 100;
    let app = app_with(config, &["asha"]).await;
    let mut asha = logged_in(&app, "asha").await;
    let (class, code) = class_of(&mut asha).await;
    let (mut sita, joined) = join(&app, &code, "Sita").await;
    let student = joined["student"]["id"].as_str().unwrap().to_string();
    let list = format!("/api/classes/{class}/students/{student}/recordings");

    // The first sandbox is recorded; ending it completes the recording.
    let (_, first) = post_json(&mut sita, "/api/sessions", json!({"lesson": "first-steps"})).await;
    let first = first["id"].as_str().unwrap().to_string();
    let mut terminal = sita.terminal(&first).await;
    terminal.run("seq 1 50; echo one-$((3*5))", "one-15").await;
    terminal.close().await;
    assert_eq!(
        sita.delete(&format!("/api/sessions/{first}"))
            .await
            .status(),
        204
    );
    eventually("the first recording is complete", || {
        let (asha, list) = (&asha, &list);
        async move { asha.get_json(list).await["recordings"][0]["bytes"].as_i64() > Some(100) }
    })
    .await;

    // The next one is not: the student's share is used up.
    let (_, second) = post_json(&mut sita, "/api/sessions", json!({"lesson": "first-steps"})).await;
    let mut terminal = sita.terminal(second["id"].as_str().unwrap()).await;
    terminal.run("echo two-$((4*5))", "two-20").await;
    let recordings = asha.get_json(&list).await;
    assert_eq!(
        recordings["recordings"].as_array().unwrap().len(),
        1,
        "{recordings}"
    );
    terminal.close().await;
    app.cleanup().await;
}
