//! Author tools, run as an author would: the `pathshala` binary against lesson folders and
//! the real Docker engine.

use std::process::Command;

fn validate(path: &str) -> (bool, String, String) {
    pathshala(&["lessons", "validate", path])
}

fn pathshala(args: &[&str]) -> (bool, String, String) {
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
