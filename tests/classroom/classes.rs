//! Classes from outside: an instructor makes a class, students join with its code (typed
//! any way), work, and show up in the roster; every refusal of the contract; a second
//! device with the recovery code; progress and attempts across a restart.

use serde_json::{Value, json};

use crate::instructors::{PASSWORD, add_instructor};
use crate::support::{TestApp, TestClient, test_config};

/// A browser logged in as instructor `name`.
pub(crate) async fn logged_in(app: &TestApp, name: &str) -> TestClient {
    let mut browser = app.client();
    let body = json!({"name": name, "password": PASSWORD}).to_string();
    assert_eq!(browser.post("/api/auth/login", &body).await.status(), 200);
    browser
}

pub(crate) async fn post_json(browser: &mut TestClient, path: &str, body: Value) -> (u16, Value) {
    let response = browser.post(path, &body.to_string()).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Does step 1 of first-steps in the student's own sandbox and checks it.
async fn pass_first_step(student: &mut TestClient) -> String {
    let (status, session) =
        post_json(student, "/api/sessions", json!({"lesson": "first-steps"})).await;
    assert_eq!(status, 201, "{session}");
    let id = session["id"].as_str().unwrap().to_string();
    let check = format!("/api/sessions/{id}/check");
    let (_, verdict) = post_json(student, &check, json!({"step": 0})).await;
    assert_eq!(verdict["passed"], false, "{verdict}");
    let mut terminal = student.terminal(&id).await;
    terminal
        .run(
            "sudo mkdir -p /srv/tuition && sudo chown learner: /srv/tuition && echo done-$((6*7))",
            "done-42",
        )
        .await;
    let (_, verdict) = post_json(student, &check, json!({"step": 0})).await;
    assert_eq!(verdict["passed"], true, "{verdict}");
    id
}

fn setup_instructors(config: &pathshala::Config) {
    for name in ["asha", "bikash"] {
        add_instructor(&config.data_dir, name);
    }
}

#[tokio::test]
async fn a_class_is_made_joined_worked_in_and_seen_in_its_roster_across_a_restart() {
    let config = test_config();
    setup_instructors(&config);
    let app = TestApp::spawn_with(config).await;
    let mut asha = logged_in(&app, "asha").await;

    let (status, refused) = post_json(
        &mut asha,
        "/api/classes",
        json!({"name": "x", "lessons": ["no-such-lesson"]}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    let (status, class) = post_json(
        &mut asha,
        "/api/classes",
        json!({"name": "Batch 7, \"evening\"", "lessons": ["first-steps", "linux-basics"]}),
    )
    .await;
    assert_eq!(status, 201, "{class}");
    let id = class["id"].as_str().unwrap().to_string();
    let code = class["join_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 9, "grouped: {code}");
    assert_eq!(&code[4..5], "-");
    assert!(
        class["join_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/join?code={code}")),
        "{class}"
    );
    assert_eq!(class["students"], 0);
    assert_eq!(class["lessons"], json!(["first-steps", "linux-basics"]));
    // The code is kept only as a hash: neither the database nor its log holds it.
    let plain = code.replace('-', "");
    for file in ["pathshala.db", "pathshala.db-wal"] {
        let bytes = std::fs::read(app.config.data_dir.join(file)).unwrap_or_default();
        let found = [&plain, &code]
            .iter()
            .any(|c| bytes.windows(c.len()).any(|w| w == c.as_bytes()));
        assert!(!found, "the join code is stored in clear in {file}");
    }

    // A guest does a step first, then joins with the code typed in lower case with spaces:
    // the progress comes along.
    let mut student = app.client();
    let session = pass_first_step(&mut student).await;
    let typed = code.to_lowercase().replace('-', " ");
    let (status, joined) = post_json(
        &mut student,
        "/api/join",
        json!({"code": format!(" {typed} "), "name": "Sita Rai"}),
    )
    .await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined["student"]["name"], "Sita Rai");
    assert_eq!(joined["class"]["id"], id.as_str());
    let recovery = joined["recovery_code"].as_str().unwrap().to_string();
    let me: Value = student.get_json("/api/me").await;
    assert_eq!(
        me,
        json!({"role": "student", "name": "Sita Rai", "class": {
            "id": id, "name": "Batch 7, \"evening\"", "records_terminals": true, "announcement": null,
        }})
    );

    // A failed check after joining is recorded too.
    let (_, verdict) = post_json(
        &mut student,
        &format!("/api/sessions/{session}/check"),
        json!({"step": 1}),
    )
    .await;
    assert_eq!(verdict["passed"], false);

    let roster = |class: &Value| class["roster"][0]["lessons"]["first-steps"].clone();
    let shown: Value = asha.get_json(&format!("/api/classes/{id}")).await;
    assert_eq!(shown["students"], 1, "{shown}");
    assert_eq!(shown["roster"][0]["name"], "Sita Rai");
    assert_eq!(shown["roster"][0]["recovery_code"], recovery.as_str());
    assert_eq!(
        roster(&shown),
        json!({"passed_steps": [0], "attempts": 3}),
        "{shown}"
    );
    assert_eq!(
        shown["roster"][0]["lessons"]["linux-basics"],
        json!({"passed_steps": [], "attempts": 0})
    );

    // The same student on a second device, with the recovery code typed loosely.
    let mut tablet = app.client();
    let (status, again) = post_json(
        &mut tablet,
        "/api/join",
        json!({"code": code, "recovery_code": recovery.to_lowercase()}),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["student"]["id"], joined["student"]["id"]);
    let catalog: Value = tablet.get_json("/api/lessons").await;
    let first = catalog
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "first-steps")
        .unwrap()
        .clone();
    assert_eq!(
        first["passed_steps"],
        json!([0]),
        "progress belongs to the student: {first}"
    );
    let on_tablet = tablet.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(
        on_tablet.status(),
        200,
        "the student's sandbox follows them to the tablet"
    );
    let stranger = app.client();
    assert_eq!(
        stranger
            .get(&format!("/api/sessions/{session}"))
            .await
            .status(),
        404
    );

    // Progress and attempts survive a restart.
    let config = app.stop().await;
    let app = TestApp::spawn_with(config).await;
    let asha = logged_in(&app, "asha").await;
    let shown: Value = asha.get_json(&format!("/api/classes/{id}")).await;
    assert_eq!(
        roster(&shown),
        json!({"passed_steps": [0], "attempts": 3}),
        "{shown}"
    );
    let listed: Value = asha.get_json("/api/classes").await;
    assert_eq!(listed[0]["id"], id.as_str());
    app.cleanup().await;
}

#[tokio::test]
async fn every_refusal_of_the_class_contract() {
    let config = test_config();
    setup_instructors(&config);
    let app = TestApp::spawn_with(config).await;
    let mut asha = logged_in(&app, "asha").await;
    let bikash = logged_in(&app, "bikash").await;
    let (_, class) = post_json(
        &mut asha,
        "/api/classes",
        json!({"name": "Full", "lessons": ["first-steps"], "max_students": 1}),
    )
    .await;
    let id = class["id"].as_str().unwrap().to_string();
    let code = class["join_code"].as_str().unwrap().to_string();

    // A student's (or a guest's) cookie gets 401 on every instructor route.
    let mut student = app.client();
    let (status, _) = post_json(
        &mut student,
        "/api/join",
        json!({"code": code, "name": "Hari"}),
    )
    .await;
    assert_eq!(status, 201);
    for (method, path) in [
        ("POST", "/api/classes".to_string()),
        ("GET", "/api/classes".to_string()),
        ("GET", format!("/api/classes/{id}")),
        ("POST", format!("/api/classes/{id}/join-code")),
    ] {
        let status = match method {
            "GET" => student.get(&path).await.status(),
            _ => student
                .post(&path, r#"{"name": "x", "lessons": ["first-steps"]}"#)
                .await
                .status(),
        };
        assert_eq!(status, 401, "{method} {path}");
    }
    // Another instructor's class: 403; no class at all: 404.
    assert_eq!(
        bikash.get(&format!("/api/classes/{id}")).await.status(),
        403
    );
    assert_eq!(
        bikash
            .post_empty(&format!("/api/classes/{id}/join-code"))
            .await
            .status(),
        403
    );
    assert_eq!(
        bikash
            .get("/api/classes/0123456789abcdef0123456789abcdef")
            .await
            .status(),
        404
    );
    assert_eq!(bikash.get_json("/api/classes").await, json!([]));

    // Full: 409. Unknown code: 404. Rotated: the old code 404 at once, the new one works.
    let mut late = app.client();
    let (status, full) = post_json(
        &mut late,
        "/api/join",
        json!({"code": code, "name": "Late"}),
    )
    .await;
    assert_eq!(status, 409, "{full}");
    let (status, _) = post_json(
        &mut late,
        "/api/join",
        json!({"code": "ZZZZ-ZZZZ", "name": "Late"}),
    )
    .await;
    assert_eq!(status, 404);
    let rotated: Value = asha
        .post_empty(&format!("/api/classes/{id}/join-code"))
        .await
        .json()
        .await
        .unwrap();
    let fresh = rotated["join_code"].as_str().unwrap();
    assert_ne!(fresh, code);
    let (status, _) = post_json(
        &mut late,
        "/api/join",
        json!({"code": code, "name": "Late"}),
    )
    .await;
    assert_eq!(status, 404, "the rotated code stops working");
    let (status, _) = post_json(
        &mut late,
        "/api/join",
        json!({"code": fresh, "name": "Late"}),
    )
    .await;
    assert_eq!(status, 409, "the new code reaches the (still full) class");
    let shown: Value = asha.get_json(&format!("/api/classes/{id}")).await;
    assert_eq!(
        shown["join_code"], fresh,
        "the class shows its current code"
    );

    // Closed: its code is refused.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (_, closed) = post_json(&mut asha, "/api/classes", json!({"name": "Over", "lessons": ["first-steps"], "opens_at": now - 100, "closes_at": now - 10})).await;
    let (status, _) = post_json(
        &mut late,
        "/api/join",
        json!({"code": closed["join_code"], "name": "Late"}),
    )
    .await;
    assert_eq!(status, 404, "a closed class's code");
    let (status, _) = post_json(
        &mut late,
        "/api/join",
        json!({"code": fresh, "recovery_code": "AAAA-AAAA"}),
    )
    .await;
    assert_eq!(status, 404, "an unknown recovery code");
    app.cleanup().await;
}

/// Rows of a CSV text as Python's csv module reads them (a reader that knows RFC 4180).
fn read_csv(text: &[u8]) -> Vec<std::collections::BTreeMap<String, String>> {
    let path = std::env::temp_dir().join(format!("pathshala-export-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&path, text).unwrap();
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import csv, json, sys\nwith open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n    print(json.dumps(list(csv.DictReader(f))))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn exports_survive_a_spreadsheet_round_trip_with_awkward_names() {
    let config = test_config();
    setup_instructors(&config);
    let app = TestApp::spawn_with(config).await;
    let mut asha = logged_in(&app, "asha").await;
    let (_, class) = post_json(
        &mut asha,
        "/api/classes",
        json!({"name": "Batch 7", "lessons": ["first-steps"]}),
    )
    .await;
    let id = class["id"].as_str().unwrap().to_string();
    let name = "Rai, Sita \"Didi\" सीता";
    let mut student = app.client();
    let (status, _) = post_json(
        &mut student,
        "/api/join",
        json!({"code": class["join_code"], "name": name}),
    )
    .await;
    assert_eq!(status, 201);
    pass_first_step(&mut student).await;
    let mut idle = app.client();
    post_json(
        &mut idle,
        "/api/join",
        json!({"code": class["join_code"], "name": "=HYPERLINK(\"x\")"}),
    )
    .await;

    let response = asha
        .get(&format!("/api/classes/{id}/export.csv?kind=steps"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("batch-7-steps.csv")
    );
    let rows = read_csv(&response.bytes().await.unwrap());
    assert_eq!(rows.len(), 4, "2 students x 2 steps: {rows:#?}");
    let first = &rows[0];
    assert_eq!(first["student"], name, "the name survives the round trip");
    assert_eq!(
        (first["lesson"].as_str(), first["step"].as_str()),
        ("first-steps", "1")
    );
    assert_eq!(first["status"], "passed");
    assert_eq!(first["attempts"], "2");
    assert!(first["first_pass_at"].ends_with('Z'), "{first:?}");
    assert!(first["seconds_to_pass"].parse::<i64>().unwrap() >= 0);
    assert!(
        first["last_message"].contains("/srv/tuition"),
        "the failure's message: {first:?}"
    );
    assert_eq!(rows[1]["status"], "not attempted");
    assert_eq!(
        rows[2]["student"], "'=HYPERLINK(\"x\")",
        "no formula reaches a spreadsheet"
    );

    let book = read_csv(
        &asha
            .get(&format!("/api/classes/{id}/export.csv?kind=gradebook"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(book.len(), 2);
    assert_eq!(book[0]["student"], name);
    assert_eq!(book[0]["first-steps"], "1/2");
    assert!(book[0]["last_activity"].ends_with('Z'));

    let data: Value = asha
        .get_json(&format!("/api/classes/{id}/export.json"))
        .await;
    assert_eq!(data["steps"][0]["student"], name);
    assert_eq!(data["steps"][0]["status"], "passed");
    assert_eq!(
        data["gradebook"][0]["lessons"]["first-steps"],
        json!({"passed": 1, "total": 2})
    );
    assert_eq!(
        asha.get(&format!("/api/classes/{id}/export.csv?kind=nonsense"))
            .await
            .status(),
        400
    );
    assert_eq!(
        student
            .get(&format!("/api/classes/{id}/export.csv"))
            .await
            .status(),
        401
    );
    app.cleanup().await;
}

#[tokio::test]
async fn joins_per_address_and_checks_per_session_are_rate_limited() {
    let mut config = test_config();
    config.classroom.joins_per_minute = 3;
    config.classroom.checks_per_minute = 2;
    setup_instructors(&config);
    let app = TestApp::spawn_with(config).await;
    let mut guesser = app.client();
    for _ in 0..3 {
        let (status, _) = post_json(
            &mut guesser,
            "/api/join",
            json!({"code": "ZZZZ-ZZZZ", "name": "x"}),
        )
        .await;
        assert_eq!(status, 404);
    }
    let refused = guesser
        .post(
            "/api/join",
            &json!({"code": "ZZZZ-ZZZZ", "name": "x"}).to_string(),
        )
        .await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");

    let mut student = app.client();
    let (_, session) = post_json(
        &mut student,
        "/api/sessions",
        json!({"lesson": "first-steps"}),
    )
    .await;
    let check = format!("/api/sessions/{}/check", session["id"].as_str().unwrap());
    for _ in 0..2 {
        assert_eq!(student.post(&check, "{}").await.status(), 200);
    }
    let refused = student.post(&check, "{}").await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    app.cleanup().await;
}

#[tokio::test]
async fn a_co_instructor_acts_on_that_class_only_and_a_student_has_a_sandbox_cap() {
    let mut config = test_config();
    config.classroom.sandboxes_per_student = 1;
    setup_instructors(&config);
    let app = TestApp::spawn_with(config).await;
    let mut asha = logged_in(&app, "asha").await;
    let mut bikash = logged_in(&app, "bikash").await;
    let (_, shared) = post_json(
        &mut asha,
        "/api/classes",
        json!({"name": "Shared", "lessons": ["first-steps"]}),
    )
    .await;
    let (_, private) = post_json(
        &mut asha,
        "/api/classes",
        json!({"name": "Private", "lessons": ["first-steps"]}),
    )
    .await;
    let shared_id = shared["id"].as_str().unwrap();
    let private_id = private["id"].as_str().unwrap();

    let invite = format!("/api/classes/{shared_id}/instructors");
    assert_eq!(
        bikash.post(&invite, r#"{"name": "bikash"}"#).await.status(),
        403,
        "not theirs to share"
    );
    assert_eq!(
        asha.post(&invite, r#"{"name": "nobody"}"#).await.status(),
        404
    );
    assert_eq!(
        asha.post(&invite, r#"{"name": "bikash"}"#).await.status(),
        204
    );
    assert_eq!(
        bikash
            .get(&format!("/api/classes/{shared_id}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        bikash
            .post_empty(&format!("/api/classes/{shared_id}/join-code"))
            .await
            .status(),
        200
    );
    assert_eq!(
        bikash
            .get(&format!("/api/classes/{private_id}"))
            .await
            .status(),
        403
    );
    let listed: Value = bikash.get_json("/api/classes").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    let shown: Value = asha.get_json(&format!("/api/classes/{shared_id}")).await;
    let mut student = app.client();
    let (_, joined) = post_json(
        &mut student,
        "/api/join",
        json!({"code": shown["join_code"], "name": "Hari"}),
    )
    .await;
    let (status, _) = post_json(
        &mut student,
        "/api/sessions",
        json!({"lesson": "first-steps"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, refused) = post_json(&mut student, "/api/sessions", json!({})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("end one"),
        "{refused}"
    );
    let mut tablet = app.client();
    post_json(
        &mut tablet,
        "/api/join",
        json!({"code": shown["join_code"], "recovery_code": joined["recovery_code"]}),
    )
    .await;
    let (status, _) = post_json(&mut tablet, "/api/sessions", json!({})).await;
    assert_eq!(status, 409, "the cap counts every browser of the student");
    app.cleanup().await;
}
