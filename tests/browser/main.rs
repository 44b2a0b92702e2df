//! Browser tests: the real server, driven through a real headless Chromium (via
//! chromedriver's WebDriver protocol). Needs `chromium` and `chromium-driver` installed.

mod classroom;
mod live;
#[path = "../sandbox/support.rs"]
#[allow(dead_code)]
mod support;
mod webdriver;

use support::{TestApp, eventually};
use webdriver::Browser;

#[tokio::test]
async fn a_visitor_starts_a_sandbox_types_a_command_and_resumes_after_reload() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    browser.goto(&app.url("/")).await;
    browser.click("#start").await;
    eventually("the prompt appears in the page", || async {
        browser.terminal_text().await.contains("learner@lab")
    })
    .await;

    browser.type_into_terminal("echo browser-$((6*7))\n").await;
    eventually("the command's output appears", || async {
        browser.terminal_text().await.contains("browser-42")
    })
    .await;

    browser.screenshot("playground-terminal.png").await;

    // A reload comes back to the same shell and screen, without pressing Start again.
    browser.goto(&app.url("/")).await;
    eventually("the earlier output is redrawn after reload", || async {
        browser.terminal_text().await.contains("browser-42")
    })
    .await;
    assert_eq!(
        app.containers().await.len(),
        1,
        "reload made a second sandbox"
    );
    browser.type_into_terminal("echo resumed-$((5+5))\n").await;
    eventually("the resumed shell answers", || async {
        browser.terminal_text().await.contains("resumed-10")
    })
    .await;

    // Ending the sandbox removes it.
    browser.click("#end").await;
    eventually("the container is removed", || async {
        app.containers().await.is_empty()
    })
    .await;
    browser.quit().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_learner_opens_a_lesson_types_the_answer_clicks_check_and_the_step_passes() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    browser.goto(&app.url("/")).await;
    browser.click("a[href='/lessons/first-steps']").await;
    eventually("the lesson's sandbox and its first step appear", || async {
        browser.terminal_text().await.contains("learner@lab")
            && browser
                .text("#step-title")
                .await
                .contains("Make a home for the app")
    })
    .await;

    // Checking before doing anything explains what is missing.
    browser.click("#check").await;
    eventually("the failure says what was found", || async {
        browser
            .text("#results")
            .await
            .contains("no such file or directory")
    })
    .await;

    browser
        .type_into_terminal("sudo mkdir -p /srv/tuition && sudo chown learner: /srv/tuition\n")
        .await;
    eventually("the command has run", || async {
        browser.terminal_text().await.matches("learner@lab").count() >= 2
    })
    .await;
    browser.click("#check").await;
    eventually("the step passes", || async {
        browser
            .text("#results")
            .await
            .contains("✓ /srv/tuition exists and belongs to learner")
            && browser.text("#steps").await.contains("✓")
    })
    .await;
    browser.screenshot("lesson-step-passed.png").await;

    // Every hint of step one, then step two: its hints are offered afresh.
    let hint_disabled = "return document.getElementById('hint').disabled;";
    browser.click("#hint").await;
    browser.click("#hint").await;
    assert_eq!(browser.eval(hint_disabled).await, true, "no hints left");
    browser.click("#next").await;
    eventually("step two is shown", || async {
        browser
            .text("#step-title")
            .await
            .contains("Write the app's settings")
    })
    .await;
    assert_eq!(browser.eval(hint_disabled).await, false, "step two's hints");

    // The learner's own port is in the instructions; the last step done ends the lesson.
    let body = browser.text("#step-body").await;
    let port: String = body
        .split("PORT=")
        .nth(1)
        .expect("the step names the port")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    browser
        .type_into_terminal(&format!(
            "echo PORT={port} > /srv/tuition/app.env && chmod 600 /srv/tuition/app.env\n"
        ))
        .await;
    eventually("the command has run", || async {
        browser.terminal_text().await.matches("learner@lab").count() >= 3
    })
    .await;
    browser.click("#check").await;
    eventually("the lesson is complete", || async {
        browser.text("#progress").await.contains("lesson complete")
    })
    .await;
    browser.quit().await;
    app.cleanup().await;
}
