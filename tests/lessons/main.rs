//! Author tools, run as an author would: the `pathshala` binary against lesson folders and
//! the real Docker engine.

mod broken;
mod interrupt;
mod schema;

use std::process::Command;

fn validate(path: &str) -> (bool, String, String) {
    pathshala(&["lessons", "validate", path])
}

pub fn pathshala(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pathshala"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("pathshala runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_shipped_lessons_are_valid() {
    let (ok, stdout, stderr) = validate("lessons");
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("with problems (0 problem(s))"), "{stdout}");
}

#[test]
fn a_lesson_naming_a_missing_image_is_a_located_load_error() {
    let (ok, _, stderr) = validate("tests/fixtures/lessons/missing-image");
    assert!(!ok);
    assert!(
        stderr.contains(
            "tests/fixtures/lessons/missing-image/lesson.yaml:7:8: image \"pathshala/no-such-image:latest\" does not exist"
        ),
        "{stderr}"
    );
}

#[test]
fn every_broken_lesson_is_reported_and_the_good_one_still_counts() {
    let (ok, stdout, stderr) = validate("tests/fixtures/lessons");
    assert!(!ok);
    assert!(
        stdout.contains("1 lesson(s) valid, 3 with problems"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "missing-file/lesson.yaml:8:24: file \"app.py\" (for /srv/tuition/app.py) does not exist"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("typo/lesson.yaml:3:1: unknown key `sumary`; did you mean `summary`?"),
        "{stderr}"
    );
}

#[test]
fn lesson_ci_passes_the_shipped_lessons_in_real_sandboxes() {
    let (ok, stdout, stderr) = pathshala(&["lessons", "test", "lessons"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("PASS first-steps"), "{stdout}");
}

#[test]
fn lesson_ci_catches_accidental_passes_and_solutions_that_do_not_work() {
    let (ok, stdout, _) = pathshala(&["lessons", "test", "tests/fixtures/trials/accidental"]);
    assert!(!ok);
    assert!(stdout.contains("FAIL accidental"), "{stdout}");
    assert!(
        stdout.contains("check \"/etc exists\" already passes before the solution"),
        "{stdout}"
    );
    assert!(
        stdout.contains("check \"/tmp/done exists\" fails after the solution: expected /tmp/done exists, found no such file or directory"),
        "{stdout}"
    );
}

#[test]
fn the_shipped_schema_is_the_one_the_binary_prints() {
    let (ok, printed, _) = pathshala(&["lessons", "schema"]);
    assert!(ok);
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons/lesson.schema.json"),
    )
    .unwrap();
    assert_eq!(
        printed.trim(),
        shipped.trim(),
        "regenerate it: pathshala lessons schema > lessons/lesson.schema.json"
    );
}

#[test]
fn a_guard_must_hold_before_and_after_and_setup_runs_as_for_learners() {
    let (ok, stdout, stderr) = pathshala(&["lessons", "test", "tests/fixtures/trials/guarded"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("PASS guarded (2 steps"), "{stdout}");
    let (ok, stdout, _) = pathshala(&["lessons", "test", "tests/fixtures/trials/guard-fails"]);
    assert!(!ok);
    assert!(
        stdout.contains("guard \"the database is still there\" fails before the solution"),
        "{stdout}"
    );
}

#[test]
fn one_step_can_be_tried_alone_with_a_repeatable_draw() {
    let args = [
        "lessons",
        "test",
        "lessons/first-steps",
        "--step",
        "2",
        "--seed",
        "7",
    ];
    let (ok, first, stderr) = pathshala(&args);
    assert!(ok, "{first}{stderr}");
    assert!(first.contains("PASS first-steps (1 step,"), "{first}");
    assert!(
        first.contains("ok   2. Write the app's settings"),
        "{first}"
    );
    assert!(
        !first.contains("1. Make a home"),
        "step 1 is not reported: {first}"
    );
    assert!(first.contains("seed: 7"), "{first}");
    let values = |out: &str| {
        out.lines()
            .find(|l| l.contains("values:"))
            .map(str::to_string)
    };
    assert!(
        values(&first).is_some_and(|v| v.contains("app_port=")),
        "{first}"
    );
    let (_, again, _) = pathshala(&args);
    assert_eq!(
        values(&first),
        values(&again),
        "the same seed draws the same values"
    );
    let (ok, _, stderr) = pathshala(&["lessons", "test", "lessons/first-steps", "--step", "9"]);
    assert!(!ok);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_lesson_renders_without_a_sandbox() {
    let (ok, stdout, stderr) =
        pathshala(&["lessons", "render", "lessons/first-steps", "--seed", "3"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("# First steps on a server (first-steps)"),
        "{stdout}"
    );
    let port = stdout
        .lines()
        .find_map(|l| l.strip_prefix("- app_port = "))
        .expect("the drawn port is listed");
    assert!(
        stdout.contains(&format!("PORT={port}")),
        "texts use the drawn value: {stdout}"
    );
    assert!(!stdout.contains("{{"), "{stdout}");
}
