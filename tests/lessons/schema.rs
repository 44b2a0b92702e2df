//! The JSON Schema editors check lessons with, and the loader, agree: every shipped lesson
//! and a set of broken ones get the same verdict from both. Each lesson is read as YAML
//! (the loader's parser), and validated against `lessons/lesson.schema.json` by Python's
//! `jsonschema`, an implementation of the standard that editors' validators follow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Broken lessons whose defect the schema can express (shape, bounds, required keys).
const BROKEN: [&str; 6] = [
    "tests/fixtures/broken/words-for-a-number",
    "tests/fixtures/broken/huge-timeout",
    "tests/fixtures/broken/no-solution",
    "tests/fixtures/broken/bad-file-type",
    "tests/fixtures/broken/empty-body",
    "tests/fixtures/lessons/typo",
];

/// Validates every document against the schema; `true` for each valid one.
const VALIDATE: &str = r#"
import json, sys
import jsonschema
schema, docs = json.load(sys.stdin)
validator = jsonschema.Draft202012Validator(schema)
print(json.dumps([validator.is_valid(doc) for doc in docs]))
"#;

fn lesson_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("lessons"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.extend(BROKEN.iter().map(|b| root.join(b)));
    dirs
}

#[test]
fn the_schema_and_the_loader_give_every_lesson_the_same_verdict() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("lessons/lesson.schema.json")).unwrap(),
    )
    .unwrap();
    let dirs = lesson_dirs();
    let docs: Vec<serde_json::Value> = dirs
        .iter()
        .map(|dir| {
            let text = std::fs::read_to_string(dir.join("lesson.yaml")).unwrap();
            serde_saphyr::from_str(&text).unwrap()
        })
        .collect();
    let mut python = Command::new("python3")
        .args(["-c", VALIDATE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let input = serde_json::to_vec(&(schema, docs)).unwrap();
    python.stdin.take().unwrap().write_all(&input).unwrap();
    let output = python.wait_with_output().unwrap();
    assert!(output.status.success(), "python3 with jsonschema is needed");
    let by_schema: Vec<bool> = serde_json::from_slice(&output.stdout).unwrap();
    let mut disagreements = Vec::new();
    for (dir, schema_ok) in dirs.iter().zip(by_schema) {
        let loader_ok = pathshala::lesson::load(dir).is_ok();
        if loader_ok != schema_ok {
            disagreements.push(format!(
                "{}: loader {}, schema {}",
                dir.display(),
                verdict(loader_ok),
                verdict(schema_ok)
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    let shipped = dirs.len() - BROKEN.len();
    assert!(shipped >= 15, "the shipped lessons are all there");
}

fn verdict(ok: bool) -> &'static str {
    if ok { "accepts" } else { "refuses" }
}
