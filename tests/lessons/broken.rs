//! The corpus of broken lessons (`tests/fixtures/broken`): each one fails `validate` at its
//! place with a message that says what to fix, with no panic, in bounded time and memory;
//! and a server given good lessons mixed with the corpus serves the good ones and logs one
//! located reason per broken one.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Each broken lesson and what `validate` must say about it (a located line's ending).
const CORPUS: [(&str, &str); 23] = [
    (
        "bad-file-type/lesson.yaml:16:9:",
        "file.type \"dir\" is not one the check knows",
    ),
    (
        "bad-mode/lesson.yaml:16:9:",
        "file.mode \"rw-r--r--\" is not an octal mode",
    ),
    (
        "bad-regex/lesson.yaml:16:9:",
        "is not a valid regular expression: missing ), unterminated subpattern",
    ),
    (
        "bad-url/lesson.yaml:16:9:",
        "is not a full http:// or https:// address",
    ),
    (
        "dangling-link/lesson.yaml:",
        "lesson.yaml is a link to lesson-draft.yaml, which does not exist",
    ),
    (
        "duplicate-check-name/lesson.yaml:18:9:",
        "two checks of step \"Write the settings\" are named",
    ),
    (
        "duplicate-step-title/lesson.yaml:18:5:",
        "two steps are titled \"Write the settings\"",
    ),
    (
        "empty-body/lesson.yaml:12:11:",
        "the body of step \"Write the settings\" is empty",
    ),
    ("files-dotdot/lesson.yaml:11:27:", "must not contain `..`"),
    (
        "files-template/lesson.yaml:11:26:",
        "is a template; file targets are copied as written",
    ),
    (
        "folder-not-file/lesson.yaml:",
        "lesson.yaml is a folder; it must be a file",
    ),
    (
        "huge-timeout/lesson.yaml:16:9:",
        "timeout must be from 1 to 120 seconds, not 18446744073709551615",
    ),
    (
        "misnamed/lesson.yaml:",
        "has lesson.yml; rename it to lesson.yaml",
    ),
    (
        "no-solution/lesson.yaml:14:5:",
        "this step has no `solution`; add the commands that complete it",
    ),
    (
        "preview-not-a-number/lesson.yaml:11:5:",
        "is \"web\", not a port number",
    ),
    (
        "render-error/lesson.yaml:13:7:",
        "cannot be rendered: tried to use + operator",
    ),
    (
        "set-statement/lesson.yaml:13:7:",
        "uses `{% set %}`; lesson texts may use only",
    ),
    (
        "stray-file.yaml:",
        "not a lesson: a lesson is a folder holding a lesson.yaml",
    ),
    (
        "symlink-out/lesson.yaml:11:16:",
        "is a link to /etc/passwd, outside the lesson's folder",
    ),
    (
        "tls-without-host/lesson.yaml:16:9:",
        "a tls check needs `host`",
    ),
    (
        "unknown-filter/lesson.yaml:13:7:",
        "cannot be rendered: filter shout is unknown",
    ),
    (
        "var-bomb/lesson.yaml:18:7:",
        "var `v8` cannot be made: the text grows past 1024 characters",
    ),
    (
        "words-for-a-number/lesson.yaml:6:10:",
        "expected a whole number (digits only) here",
    ),
];

#[test]
fn every_broken_lesson_fails_validate_at_its_place_in_bounded_time_and_memory() {
    let started = Instant::now();
    // 1 GiB of address space at most: a resource bomb aborts instead of passing.
    let output = Command::new("bash")
        .args([
            "-c",
            "ulimit -v 1048576 && exec timeout 60 \"$0\" lessons validate tests/fixtures/broken",
        ])
        .arg(env!("CARGO_BIN_EXE_pathshala"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a clean refusal: {stdout}{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    for (place, message) in CORPUS {
        let located = format!("tests/fixtures/broken/{place}");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&located) && l.contains(message)),
            "expected `{located} ... {message}` in:\n{stderr}"
        );
    }
    assert!(
        stdout.contains("0 lesson(s) valid, 23 with problems"),
        "{stdout}"
    );
}

#[test]
fn the_server_serves_good_lessons_and_logs_one_located_reason_per_broken_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mixed = std::env::temp_dir().join(format!("pathshala-mixed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&mixed);
    std::fs::create_dir_all(&mixed).unwrap();
    std::os::unix::fs::symlink(root.join("lessons/first-steps"), mixed.join("first-steps"))
        .unwrap();
    for entry in std::fs::read_dir(root.join("tests/fixtures/broken")).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), mixed.join(entry.file_name())).unwrap();
    }
    let data = mixed.with_extension("data");
    let mut server = Command::new(env!("CARGO_BIN_EXE_pathshala"))
        .args(["serve", "--no-build", "--listen", "127.0.0.1:0"])
        .env("PATHSHALA_LESSONS_DIR", &mixed)
        .env("PATHSHALA_DATA_DIR", &data)
        .env(
            "PATHSHALA_INSTANCE",
            format!("mixed-{}", std::process::id()),
        )
        .env("RUST_LOG", "warn,pathshala=info")
        .env("NO_COLOR", "1")
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut log = Vec::new();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server starts").unwrap();
        if let Some(address) = line.strip_prefix("Pathshala is ready: ") {
            break address.trim_end_matches('/').to_string();
        }
        log.push(line);
    };
    let catalog = http_get(&address, "/api/lessons");
    let _ = server.kill();
    let _ = server.wait();
    let catalog: serde_json::Value = serde_json::from_str(&catalog).unwrap();
    let ids: Vec<&str> = catalog
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert_eq!(ids, ["first-steps"]);
    let reasons: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("skipping a broken lesson"))
        .collect();
    for (place, message) in CORPUS {
        let lesson = place.split(['/', ':']).next().unwrap();
        let found: Vec<_> = reasons
            .iter()
            .filter(|l| l.contains(&format!("/{lesson}")) && l.contains(message))
            .collect();
        assert!(
            !found.is_empty(),
            "no reason logged for {lesson}:\n{}",
            log.join("\n")
        );
    }
    assert!(
        log.iter().any(|l| l.contains("serving 1 lesson(s)")),
        "{}",
        log.join("\n")
    );
    let _ = std::fs::remove_dir_all(&mixed);
    let _ = std::fs::remove_dir_all(&data);
}

/// The body of a plain HTTP/1.0 GET (the server closes the connection after answering).
fn http_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let host = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}
