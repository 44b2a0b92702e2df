//! Browser tests: the real server, driven through a real headless Chromium (via
//! chromedriver's WebDriver protocol). Needs `chromium` and `chromium-driver` installed.

mod classroom;
mod link;
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
    browser.click("#practice").await;
    eventually("free practice has a page of its own", || async {
        browser.eval("return location.pathname;").await == "/practice"
    })
    .await;
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
    browser.goto(&app.url("/practice")).await;
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

    // The catalog stays at home, and points back to the sandbox still running.
    browser.goto(&app.url("/")).await;
    eventually("the catalog offers the way back", || async {
        browser
            .eval("return !document.getElementById('resume-practice').hidden;")
            .await
            == true
    })
    .await;
    assert!(
        browser.terminal_text().await.is_empty(),
        "no terminal at home"
    );
    browser.click("#resume-practice a").await;
    eventually("back in the same shell", || async {
        browser.terminal_text().await.contains("resumed-10")
    })
    .await;

    // Ending the sandbox asks first, then removes it.
    browser.click("#end").await;
    let question = browser.accept_dialog().await;
    assert!(question.contains("End this sandbox?"), "{question}");
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
    // The completion panel says what was done and leads on, across tracks.
    eventually("the completion panel offers the next lesson", || async {
        browser
            .eval("return !document.getElementById('complete').hidden;")
            .await
            == true
            && browser
                .text("#done-steps")
                .await
                .contains("✓ Make a home for the app")
    })
    .await;
    let next = browser
        .eval("return document.getElementById('next-lesson').getAttribute('href');")
        .await;
    assert_eq!(next, "/lessons/linux-basics");
    browser.screenshot("lesson-complete.png").await;
    browser.quit().await;
    app.cleanup().await;
}

/// Whether `css` is inside the viewport, whole, and not hidden.
async fn in_view(browser: &Browser, css: &str) -> serde_json::Value {
    let script = format!(
        "const e = document.querySelector('{css}'); if (!e || e.offsetParent === null) return 'hidden'; \
         const r = e.getBoundingClientRect(); \
         return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth \
           ? true : `at ${{Math.round(r.left)}},${{Math.round(r.top)}} of ${{innerWidth}}x${{innerHeight}}`;"
    );
    browser.eval(&script).await
}

#[tokio::test]
async fn check_is_in_view_on_every_shipped_step_on_a_laptop_and_a_phone() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    let catalog = app.client().get_json("/api/lessons").await;
    let mut copied = false;
    for lesson in catalog.as_array().unwrap() {
        let id = lesson["id"].as_str().unwrap();
        let steps = lesson["steps"].as_u64().unwrap();
        browser.goto(&app.url(&format!("/lessons/{id}"))).await;
        // Some lessons' setups take a while, more so beside the other browser tests.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        while browser
            .eval("return !document.getElementById('check').disabled;")
            .await
            != true
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{id}'s sandbox never got ready: {}",
                browser.text("#status").await
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        for (width, height) in [(1366, 768), (390, 844)] {
            browser.set_size(width, height).await;
            for step in 0..steps {
                browser
                    .eval(&format!(
                        "document.querySelectorAll('#steps button')[{step}].click();"
                    ))
                    .await;
                // Every code block has its button: Run for commands, Copy for a file's text.
                let blocks = browser
                    .eval(
                        "return [document.querySelectorAll('#step-body pre > code').length, \
                         document.querySelectorAll('#step-body pre > button').length];",
                    )
                    .await;
                assert_eq!(blocks[0], blocks[1], "{id} step {}", step + 1);
                if !copied
                    && browser
                        .eval("return !!document.querySelector('#step-body button.copy');")
                        .await
                        == true
                {
                    browser
                        .eval(
                            "const b = document.querySelector('#step-body button.copy'); \
                             b.scrollIntoView({block: 'center'});",
                        )
                        .await;
                    browser.click("#step-body button.copy").await;
                    eventually("the Copy button copies", || async {
                        browser.text("#step-body button.copy").await == "Copied ✓"
                    })
                    .await;
                    copied = true;
                }
                for button in ["#check", "#hint"] {
                    let seen = in_view(&browser, button).await;
                    let shown = button == "#hint" && seen == "hidden";
                    assert!(
                        seen == true || shown,
                        "{button} of {id} step {} at {width}x{height}: {seen}",
                        step + 1
                    );
                }
            }
        }
        browser
            .eval(&format!(
                "const id = localStorage.getItem('pathshala.lesson.{id}'); \
                 if (id) fetch(`/api/sessions/${{id}}`, {{method: 'DELETE'}});"
            ))
            .await;
        eventually("the lesson's sandbox is gone", || async {
            app.containers().await.is_empty()
        })
        .await;
    }
    assert!(copied, "no shipped step has a file block to copy");
    browser.quit().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_failed_checks_message_reads_as_text_with_code_and_a_long_value_cut_short() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    browser.goto(&app.url("/lessons/linux-basics")).await;
    eventually("the lesson's sandbox is ready", || async {
        browser
            .eval("return !document.getElementById('check').disabled;")
            .await
            == true
    })
    .await;
    // A wrong answer with a long value: thirty lines where one path belongs.
    browser
        .type_into_terminal("seq 1 30 > ~/note-folder.txt; echo wrote-$((4*4))\n")
        .await;
    eventually("the command has run", || async {
        browser.terminal_text().await.contains("wrote-16")
    })
    .await;
    browser.click("#check").await;
    eventually("the failure is shown", || async {
        browser
            .text("#results")
            .await
            .contains("note-folder.txt should hold")
    })
    .await;
    let shown = browser.text("#results li.fail").await;
    assert!(!shown.contains('`'), "Markdown shown raw: {shown}");
    assert_eq!(
        browser.text("#results li.fail code").await,
        "pwd",
        "inline code is drawn as code"
    );
    let more = browser.text("#results li.fail details summary").await;
    assert!(
        more.contains("more line"),
        "the long value is not cut: {shown}"
    );
    assert!(!shown.contains("\n30"), "the hidden lines show: {shown}");
    browser.screenshot("lesson-message.png").await;
    browser.quit().await;
    app.cleanup().await;
}
