//! The terminal WebSocket: typing, resizing, resuming, and bad input.

use crate::support::TestApp;

#[tokio::test]
async fn typed_commands_run_in_the_sandbox_and_echo_back() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut terminal = browser.terminal(&id).await;
    terminal.expect("learner@lab").await;
    terminal.run("echo hello-$((6*7))", "hello-42").await;
    terminal.run("echo I am $(whoami)", "I am learner").await;
    terminal.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn resize_changes_the_shells_terminal_size() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut terminal = browser.terminal(&id).await;
    terminal.expect("learner@lab").await;
    terminal.resize(100, 40).await;
    terminal.run("stty size | tr ' ' x", "40x100").await;
    terminal.resize(57, 19).await;
    terminal.run("stty size | tr ' ' x", "19x57").await;
    terminal.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn reconnecting_reattaches_to_the_same_shell_and_screen() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut first = browser.terminal(&id).await;
    first
        .run("MARK=kept-$((40+2)); echo set-$MARK", "set-kept-42")
        .await;
    first.close().await;

    let mut second = browser.terminal(&id).await;
    // The redrawn screen shows what was there before the disconnect...
    second.expect("set-kept-42").await;
    // ...and the shell is the same one: its variable survived.
    second.run("echo still-$MARK", "still-kept-42").await;
    second.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_full_screen_program_keeps_running_while_disconnected() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut first = browser.terminal(&id).await;
    first.expect("learner@lab").await;
    first.type_text("top -d 1\r").await;
    first.expect("load average").await;
    first.close().await;

    let mut second = browser.terminal(&id).await;
    let redrawn = second
        .read_until(|t| t.screen.screen().contents().contains("load average"))
        .await;
    assert!(
        redrawn,
        "top was not redrawn: {}",
        second.screen.screen().contents()
    );
    // top is still running: its clock on the first line moves on.
    let first_line = |t: &crate::support::TestTerminal| {
        t.screen
            .screen()
            .contents()
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    };
    let clock = first_line(&second);
    let ticked = second
        .read_until(|t| first_line(t) != clock && first_line(t).starts_with("top - "))
        .await;
    assert!(ticked, "top stopped updating: {clock}");
    // Quitting top brings back the shell that started it.
    second.type_text("q").await;
    second.expect("learner@lab").await;
    second.run("echo back-$((1+1))", "back-2").await;
    second.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn two_tabs_see_the_same_terminal() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut left = browser.terminal(&id).await;
    let mut right = browser.terminal(&id).await;
    left.run("echo from-left-$((3*3))", "from-left-9").await;
    right.expect("from-left-9").await;
    left.close().await;
    right.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn garbage_control_messages_get_an_error_and_the_terminal_keeps_working() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut terminal = browser.terminal(&id).await;
    terminal.send_text_frame("this is not json").await;
    terminal.expect_message("unknown control message").await;
    terminal
        .send_text_frame(r#"{"type":"resize","cols":0,"rows":40}"#)
        .await;
    terminal.expect_message("terminal size").await;
    terminal.send_text_frame(r#"{"type":"ping"}"#).await;
    terminal.expect_message("pong").await;
    terminal.run("echo alive-$((2*5))", "alive-10").await;
    terminal.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn exiting_the_shell_starts_a_new_one() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut terminal = browser.terminal(&id).await;
    terminal.expect("learner@lab").await;
    terminal.type_text("exit\r").await;
    terminal.expect("starting a new one").await;
    terminal
        .run("echo new-shell-$((5+5))", "new-shell-10")
        .await;
    terminal.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_foreign_origin_cannot_open_a_terminal() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let refused = browser.try_terminal(&id, Some("http://evil.example")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("foreign origin was not refused: {:?}", other.map(|_| ())),
    }
    // The same browser from the server's own origin gets in.
    browser.terminal(&id).await.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_resize_sent_while_the_shell_starts_still_applies() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut terminal = browser.terminal(&id).await;
    terminal.resize(100, 40).await;
    terminal.run("stty size | tr ' ' x", "40x100").await;
    terminal.close().await;
    app.cleanup().await;
}
