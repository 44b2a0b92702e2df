//! Lifecycle: removal, the cap, timeouts, the start-up sweep and re-adoption after a restart.

use std::collections::HashMap;

use bollard::models::ContainerCreateBody;

use crate::support::{TestApp, eventually, test_config};

#[tokio::test]
async fn delete_removes_the_container() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let container = app.container_of(&id).await;
    let mut terminal = browser.terminal(&id).await;
    terminal.expect("learner@lab").await;

    let started = std::time::Instant::now();
    assert_eq!(
        browser
            .delete(&format!("/api/sessions/{id}"))
            .await
            .status(),
        204
    );
    eventually("the container is gone", || async {
        app.containers().await.is_empty()
    })
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(!app.containers().await.contains(&container));
    assert!(
        terminal.closed().await,
        "the terminal stayed open after DELETE"
    );
    assert_eq!(
        browser.get(&format!("/api/sessions/{id}")).await.status(),
        404
    );
    app.cleanup().await;
}

#[tokio::test]
async fn the_cap_answers_503_instead_of_hanging() {
    let mut config = test_config();
    config.sandbox.max_sandboxes = 1;
    let app = TestApp::spawn_with(config).await;
    let mut first = app.client();
    first.create_session().await;
    let mut second = app.client();
    let response = second.post("/api/sessions", "{}").await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("try again"),
        "{body}"
    );
    assert_eq!(app.containers().await.len(), 1);
    app.cleanup().await;
}

#[tokio::test]
async fn an_idle_sandbox_is_removed_but_an_attached_one_is_not() {
    let mut config = test_config();
    config.sandbox.idle_timeout_secs = 1;
    let app = TestApp::spawn_with(config).await;
    let mut idle = app.client();
    let idle_id = idle.create_session().await;
    let mut busy = app.client();
    let busy_id = busy.create_session().await;
    let mut busy_term = busy.terminal(&busy_id).await;

    eventually("the idle session ends", || async {
        idle.get(&format!("/api/sessions/{idle_id}")).await.status() == 404
    })
    .await;
    eventually("the idle container is gone", || async {
        app.containers().await.len() == 1
    })
    .await;
    busy_term.run("echo attached-$((3+4))", "attached-7").await;
    assert_eq!(
        busy.get(&format!("/api/sessions/{busy_id}")).await.status(),
        200
    );
    busy_term.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_sandbox_past_its_lifetime_is_removed_even_when_attached() {
    let mut config = test_config();
    config.sandbox.max_lifetime_secs = 2;
    let app = TestApp::spawn_with(config).await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut terminal = browser.terminal(&id).await;
    terminal.expect("learner@lab").await;
    eventually("the session ends", || async {
        browser.get(&format!("/api/sessions/{id}")).await.status() == 404
    })
    .await;
    assert!(terminal.closed().await);
    eventually("the container is gone", || async {
        app.containers().await.is_empty()
    })
    .await;
    app.cleanup().await;
}

#[tokio::test]
async fn start_up_removes_leftover_containers_of_this_instance_only() {
    let config = test_config();
    let docker = pathshala::sandbox::connect_docker(None).await.unwrap();
    let leftover = make_container(&docker, &config.instance).await;
    let other_instance = format!("{}-other", config.instance);
    let foreign = make_container(&docker, &other_instance).await;

    let app = TestApp::spawn_with(config).await;
    assert!(
        !app.containers().await.contains(&leftover),
        "leftover survived the sweep"
    );
    let other = crate::support::containers_of(&docker, &other_instance).await;
    assert_eq!(
        other,
        vec![foreign],
        "another instance's container was touched"
    );
    crate::support::remove_instance(&docker, &other_instance, &std::env::temp_dir().join("none"))
        .await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_second_server_with_the_same_instance_leaves_the_first_ones_sandboxes_alone() {
    let first = TestApp::spawn().await;
    let mut browser = first.client();
    let id = browser.create_session().await;
    let before = first.containers().await;
    assert_eq!(before.len(), 1);

    // Same instance name and engine, its own database: an operator's mistake, not a restart.
    let mut config = first.config.clone();
    config.data_dir = std::env::temp_dir().join(format!("{}-second", config.instance));
    let second = TestApp::spawn_with(config).await;
    assert_eq!(
        first.containers().await,
        before,
        "the second server removed a live sandbox"
    );
    let mut terminal = browser.terminal(&id).await;
    terminal.run("echo still-$((6*7))", "still-42").await;
    terminal.close().await;
    second.cleanup().await;
    first.cleanup().await;
}

#[tokio::test]
async fn a_restart_keeps_the_learners_sandbox_and_files() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut terminal = browser.terminal(&id).await;
    terminal
        .run(
            "echo exam-notes > notes.txt && echo saved-$((2+2))",
            "saved-4",
        )
        .await;
    let config = app.stop().await;
    assert!(
        terminal.closed().await,
        "the terminal was not closed at shutdown"
    );
    let message = terminal.text_messages.join(" ");
    assert!(
        !message.contains("ended"),
        "shutdown must not end the session: {message}"
    );

    let app = TestApp::spawn_with(config).await;
    // The same browser (same cookie) comes back to the restarted server.
    let browser = app.client_with_cookie(browser.cookie.clone());
    let response = browser.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(response.status(), 200);
    let mut terminal = browser.terminal(&id).await;
    terminal
        .run("cat notes.txt | tr a-z A-Z", "EXAM-NOTES")
        .await;
    terminal.close().await;
    app.cleanup().await;
}

/// A container labelled as if an earlier server had made it.
async fn make_container(docker: &bollard::Docker, instance: &str) -> String {
    let body = ContainerCreateBody {
        image: Some(pathshala::sandbox::images::LAB_IMAGE.into()),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        labels: Some(HashMap::from([
            ("pathshala.instance".to_string(), instance.to_string()),
            (
                "pathshala.session".to_string(),
                "0123456789abcdef0123456789abcdef".to_string(),
            ),
        ])),
        ..Default::default()
    };
    let created = docker.create_container(None, body).await.unwrap();
    docker.start_container(&created.id, None).await.unwrap();
    created.id
}
