//! Instructors: added from the command line, logging in and out over HTTP, and the refusals:
//! a wrong name or password alike, a throttle that turns into 429 with Retry-After, a
//! removed instructor's login ending at once.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{TestApp, test_config};

/// Runs `pathshala instructors ARGS` against `data_dir`, with `stdin` as standard input.
pub fn instructors(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pathshala"))
        .arg("instructors")
        .args(args)
        .env("PATHSHALA_DATA_DIR", data_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The password every test instructor gets.
pub const PASSWORD: &str = "correct horse battery";

/// Adds instructor `name` with [`PASSWORD`], as an operator would.
pub fn add_instructor(data_dir: &std::path::Path, name: &str) {
    let (ok, said) = instructors(
        data_dir,
        &["add", name, "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{said}");
}

#[tokio::test]
async fn an_instructor_added_from_the_command_line_logs_in_and_out() {
    let config = test_config();
    let data = config.data_dir.clone();
    add_instructor(&data, "asha");
    let (ok, said) = instructors(&data, &["add", "bikash", "--password-stdin"], "short\n");
    assert!(!ok && said.contains("at least 10 characters"), "{said}");
    let (_, listed) = instructors(&data, &["list"], "");
    assert_eq!(listed.trim(), "asha");

    let app = TestApp::spawn_with(config).await;
    let mut browser = app.client();
    let me: Value = browser.get_json("/api/me").await;
    assert_eq!(me, json!({"role": "guest", "name": null, "class": null}));

    let body = json!({"name": "asha", "password": PASSWORD}).to_string();
    let response = browser.post("/api/auth/login", &body).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("pathshala_login="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"name": "asha"})
    );
    let me: Value = browser.get_json("/api/me").await;
    assert_eq!(
        me,
        json!({"role": "instructor", "name": "asha", "class": null})
    );

    // Only a hash of the login token is stored.
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let db = std::fs::read(data.join("pathshala.db")).unwrap();
    let wal = std::fs::read(data.join("pathshala.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token stored in clear"
        );
    }

    assert_eq!(browser.post("/api/auth/logout", "").await.status(), 204);
    let me: Value = browser.get_json("/api/me").await;
    assert_eq!(
        me["role"], "guest",
        "the old cookie no longer logs in: {me}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn wrong_logins_look_alike_are_slowed_then_refused_and_removal_ends_a_login() {
    let mut config = test_config();
    config.classroom.login_slow_after_failures = 100;
    config.classroom.login_lockout_after_failures = 3;
    config.classroom.login_lockout_secs = 120;
    let data = config.data_dir.clone();
    add_instructor(&data, "asha");
    let app = TestApp::spawn_with(config).await;

    let mut teacher = app.client();
    let good = json!({"name": "asha", "password": PASSWORD}).to_string();
    assert_eq!(teacher.post("/api/auth/login", &good).await.status(), 200);

    let mut stranger = app.client();
    let wrong_password = json!({"name": "asha", "password": "not her password"}).to_string();
    let wrong_name = json!({"name": "nobody", "password": PASSWORD}).to_string();
    let first = stranger.post("/api/auth/login", &wrong_password).await;
    assert_eq!(first.status(), 401);
    let first: Value = first.json().await.unwrap();
    let second = stranger.post("/api/auth/login", &wrong_name).await;
    assert_eq!(second.status(), 401);
    assert_eq!(
        first,
        second.json::<Value>().await.unwrap(),
        "the same answer for both"
    );
    assert_eq!(
        stranger
            .post("/api/auth/login", &wrong_password)
            .await
            .status(),
        401
    );
    // Three failures from this address: even the right password is refused for a while.
    let refused = stranger.post("/api/auth/login", &good).await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=120).contains(&retry), "{retry}");
    assert!(
        refused.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("too many failed logins")
    );

    let malformed = stranger.post("/api/auth/login", "{\"name\": 1}").await;
    assert_eq!(malformed.status(), 400);

    let (ok, said) = instructors(&data, &["remove", "asha"], "");
    assert!(ok, "{said}");
    let me: Value = teacher.get_json("/api/me").await;
    assert_eq!(
        me["role"], "guest",
        "a removed instructor's login ends: {me}"
    );
    app.cleanup().await;
}
