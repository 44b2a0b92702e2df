//! The classroom in a real browser: an instructor logs in and makes a class; a student
//! joins with the code typed in lower case with spaces, finishes a step, and the
//! instructor's class page shows it; the export downloads.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{TestApp, eventually, test_config};
use crate::webdriver::Browser;

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) fn add_instructor(data_dir: &std::path::Path, name: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pathshala"))
        .args(["instructors", "add", name, "--password-stdin"])
        .env("PATHSHALA_DATA_DIR", data_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success());
}

/// Logs `name` in through the login page, as an instructor would.
pub(crate) async fn log_in(browser: &Browser, app: &TestApp, name: &str) {
    browser.goto(&app.url("/classes")).await;
    eventually("a visitor is sent to the login page", || async {
        path_of(browser).await == "/login"
    })
    .await;
    browser.type_into("#name", name).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login button[type=submit]").await;
    eventually("the instructor reaches their classes", || async {
        path_of(browser).await == "/classes"
    })
    .await;
}

pub(crate) async fn path_of(browser: &Browser) -> String {
    browser
        .eval("return location.pathname;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_instructor_makes_a_class_a_student_joins_and_works_and_the_roster_shows_it() {
    let config = test_config();
    add_instructor(&config.data_dir, "asha");
    let app = TestApp::spawn_with(config).await;

    let teacher = Browser::launch().await;
    log_in(&teacher, &app, "asha").await;
    teacher.type_into("#class-name", "Batch 7").await;
    teacher
        .click("input[name=lessons][value=first-steps]")
        .await;
    teacher.click("#new-class button[type=submit]").await;
    eventually("the class page opens", || async {
        path_of(&teacher).await.starts_with("/classes/")
    })
    .await;
    let code = teacher.text("#join-code").await;
    assert_eq!(code.len(), 9, "the code, grouped: {code:?}");
    assert!(
        teacher
            .eval("return !!document.querySelector('.qr svg');")
            .await
            .as_bool()
            .unwrap()
    );
    teacher.screenshot("class-page.png").await;

    let student = Browser::launch().await;
    student.goto(&app.url("/join")).await;
    let typed = format!(" {} ", code.to_lowercase().replace('-', "  "));
    student.type_into("#code", &typed).await;
    student.type_into("#student-name", "Sita Rai").await;
    student.click("#join button[type=submit]").await;
    eventually("the student is in, with a recovery code", || async {
        student.text("#recovery-code").await.len() == 9
    })
    .await;
    student.click("#first-lesson").await;
    eventually("the first lesson's sandbox is ready", || async {
        student.terminal_text().await.contains("learner@lab")
    })
    .await;
    // "I'm stuck" puts a help flag on the instructor's grid.
    eventually("the student sees the I'm stuck button", || async {
        student
            .eval("return !document.getElementById('help').hidden;")
            .await
            == serde_json::json!(true)
    })
    .await;
    student.click("#help").await;
    eventually("the student is told the instructor knows", || async {
        student.text("#help-sent").await.contains("has been told")
    })
    .await;
    eventually("the live grid shows the help request", || async {
        teacher.text("#live").await.contains("asked for help")
    })
    .await;
    // A check that fails shows on the instructor's live grid by itself, with its message.
    student.click("#check").await;
    eventually("the live grid shows the failed check", || async {
        teacher
            .eval("const r = document.querySelector('#live tr'); return !!r && r.textContent.includes('Sita Rai') && !!r.querySelector('td.failed') && r.querySelector('td.last-failure').textContent.length > 0;")
            .await
            == serde_json::json!(true)
    })
    .await;
    student
        .type_into_terminal("sudo mkdir -p /srv/tuition && sudo chown learner: /srv/tuition\n")
        .await;
    eventually("the command has run", || async {
        student.terminal_text().await.matches("learner@lab").count() >= 2
    })
    .await;
    student.click("#check").await;
    eventually("the step passes", || async {
        student.text("#steps").await.contains("✓")
    })
    .await;

    eventually("the instructor's page shows the student's step", || async {
        let roster = teacher.text("#roster").await;
        roster.contains("Sita Rai") && roster.contains("1/2 steps")
    })
    .await;
    eventually("the live grid shows the passed step", || async {
        teacher
            .eval("return !!document.querySelector('#live tr td.passed');")
            .await
            == serde_json::json!(true)
    })
    .await;
    teacher.screenshot("class-roster.png").await;

    let script = "const done = arguments[arguments.length - 1]; \
                  fetch(document.getElementById('export-steps').href, {credentials: 'same-origin'}) \
                    .then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition'), t]))) \
                    .catch(e => done([0, '', String(e)]));";
    let export = teacher.eval_async(script).await;
    assert_eq!(export[0], 200, "{export}");
    assert!(
        export[1].as_str().unwrap().contains("attachment"),
        "{export}"
    );
    let csv = export[2].as_str().unwrap();
    assert!(csv.contains("Sita Rai,first-steps,1,passed"), "{csv}");

    student.quit().await;
    teacher.quit().await;
    app.cleanup().await;
}
