//! Classroom benchmark: how soon the instructor's live grid hears of a check run when a
//! whole class checks at once, beside a single check's round trip and the raw Docker exec
//! floor, all measured in the same run against the real server.
//!
//! `cargo bench --bench classroom -- --students 50 --rounds 5`
//! Needs a running Docker engine and built images (`pathshala images build`).

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use common::{Server, ms, percentiles, print_table};

const PASSWORD: &str = "benchmark password";

fn option(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A student of the class with a sandbox of first-steps.
struct Student {
    id: String,
    cookie: String,
    session: String,
}

fn cookie_of(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn post(http: &reqwest::Client, url: String, cookie: &str, body: Value) -> reqwest::Response {
    http.post(url)
        .header("content-type", "application/json")
        .header("cookie", cookie)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn join(http: reqwest::Client, base: String, code: String, n: usize) -> Student {
    let response = post(
        &http,
        format!("{base}/api/join"),
        "",
        json!({"code": code, "name": format!("Student {n}")}),
    )
    .await;
    assert_eq!(response.status(), 201, "join");
    let cookie = cookie_of(&response);
    let id = response.json::<Value>().await.unwrap()["student"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = post(
        &http,
        format!("{base}/api/sessions"),
        &cookie,
        json!({"lesson": "first-steps"}),
    )
    .await;
    assert_eq!(response.status(), 201, "session");
    let session = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Student {
        id,
        cookie,
        session,
    }
}

/// Reads the class's live stream and reports each `check` event's student as it arrives.
async fn follow(mut response: reqwest::Response, heard: mpsc::UnboundedSender<(String, Instant)>) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.lines().any(|l| l == "event: check") {
                continue;
            }
            let data = block.lines().find_map(|l| l.strip_prefix("data: "));
            if let Some(event) = data.and_then(|d| serde_json::from_str::<Value>(d).ok()) {
                let student = event["student"].as_str().unwrap_or_default().to_string();
                let _ = heard.send((student, Instant::now()));
            }
        }
    }
}

/// What one burst of checks measured, in milliseconds per check.
#[derive(Default)]
struct Burst {
    round_trips: Vec<f64>,
    /// From sending the check to its event on the live stream.
    to_event: Vec<f64>,
    /// From the check's answer to its event: what the live view adds.
    after_answer: Vec<f64>,
}

impl Burst {
    fn extend(&mut self, other: Burst) {
        self.round_trips.extend(other.round_trips);
        self.to_event.extend(other.to_event);
        self.after_answer.extend(other.after_answer);
    }
}

/// `students` check at once.
async fn burst(
    http: &reqwest::Client,
    base: &str,
    students: &[&Student],
    heard: &mut mpsc::UnboundedReceiver<(String, Instant)>,
) -> Burst {
    let sent: HashMap<String, Instant> = students
        .iter()
        .map(|s| (s.id.clone(), Instant::now()))
        .collect();
    let checks = students.iter().map(|s| {
        let (http, url, cookie) = (
            http.clone(),
            format!("{base}/api/sessions/{}/check", s.session),
            s.cookie.clone(),
        );
        let id = s.id.clone();
        async move {
            let t = Instant::now();
            let response = post(&http, url, &cookie, json!({"step": 0})).await;
            assert_eq!(response.status(), 200, "check");
            (id, ms(t), Instant::now())
        }
    });
    let answered = futures_util::future::join_all(checks).await;
    let answers: HashMap<String, Instant> = answered
        .iter()
        .map(|(id, _, at)| (id.clone(), *at))
        .collect();
    let mut figures = Burst {
        round_trips: answered.iter().map(|(_, trip, _)| *trip).collect(),
        ..Burst::default()
    };
    let millis = |d: Duration| d.as_secs_f64() * 1000.0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while figures.to_event.len() < students.len() {
        let (student, at) = tokio::time::timeout_at(deadline, heard.recv())
            .await
            .expect("every check reaches the live stream")
            .unwrap();
        if let (Some(start), Some(answer)) = (sent.get(&student), answers.get(&student)) {
            figures.to_event.push(millis(at.duration_since(*start)));
            // The event may come before the HTTP answer is read: that counts as 0.
            figures
                .after_answer
                .push(millis(at.saturating_duration_since(*answer)));
        }
    }
    figures
}

/// Raw `docker exec true` in students' sandboxes: `parallel` at once.
async fn raw_execs(docker: &bollard::Docker, containers: &[String], parallel: usize) -> Vec<f64> {
    let runs = containers
        .iter()
        .take(parallel)
        .map(|id| common::exec_true(docker, id));
    futures_util::future::join_all(runs).await
}

#[tokio::main]
async fn main() {
    let count = option("--students", 50);
    let rounds = option("--rounds", 5);
    println!(
        "Pathshala classroom benchmark: {count} students, {rounds} rounds of all checking at once"
    );
    let docker = pathshala::sandbox::connect_docker(None)
        .await
        .expect("Docker engine");
    let instance = common::fresh_instance();
    let mut add = Command::new(env!("CARGO_BIN_EXE_pathshala"))
        .args(["instructors", "add", "bench", "--password-stdin"])
        .env("PATHSHALA_DATA_DIR", &instance.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success());
    let server = Server::start(
        instance,
        count + 1,
        &[
            ("PATHSHALA_CLASSROOM_SANDBOXES_PER_STUDENT", "2".into()),
            (
                "PATHSHALA_CLASSROOM_JOINS_PER_MINUTE",
                (count * 2).to_string(),
            ),
            ("PATHSHALA_SANDBOX_MEMORY_MB", "256".into()),
        ],
    );
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();

    let response = post(
        &http,
        format!("{base}/api/auth/login"),
        "",
        json!({"name": "bench", "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), 200, "login");
    let login = cookie_of(&response);
    let class: Value = post(
        &http,
        format!("{base}/api/classes"),
        &login,
        json!({"name": "Benchmark batch", "lessons": ["first-steps"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let (class_id, code) = (
        class["id"].as_str().unwrap().to_string(),
        class["join_code"].as_str().unwrap().to_string(),
    );

    let t = Instant::now();
    let students: Vec<Student> = futures_util::stream::iter(0..count)
        .map(|n| join(http.clone(), base.clone(), code.clone(), n))
        .buffer_unordered(8)
        .collect()
        .await;
    println!(
        "{count} students joined with a sandbox each in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let live = http
        .get(format!("{base}/api/classes/{class_id}/live"))
        .header("cookie", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200, "live stream");
    let (tell, mut heard) = mpsc::unbounded_channel();
    tokio::spawn(follow(live, tell));
    // Let the snapshot go by.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut one = Burst::default();
    let mut all = Burst::default();
    for _ in 0..rounds {
        for student in students.iter().take(5) {
            one.extend(burst(&http, &base, &[student], &mut heard).await);
        }
        let everyone: Vec<&Student> = students.iter().collect();
        all.extend(burst(&http, &base, &everyone, &mut heard).await);
    }

    let mut containers = Vec::new();
    for student in &students {
        let label = format!("pathshala.session={}", student.session);
        let filters = HashMap::from([("label".to_string(), vec![label])]);
        let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
            .filters(&filters)
            .build();
        let found = docker.list_containers(Some(options)).await.unwrap();
        containers.extend(found.into_iter().filter_map(|c| c.id));
    }
    let mut raw_one = Vec::new();
    let mut raw_all = Vec::new();
    for _ in 0..rounds {
        raw_one.extend(raw_execs(&docker, &containers, 1).await);
        raw_all.extend(raw_execs(&docker, &containers, count).await);
    }
    let rss = server.rss_kb();

    let at_once = format!("  ... {count} at once");
    print_table(&[
        ("raw docker exec `true` in a sandbox, one", &raw_one),
        (&at_once, &raw_all),
        ("one check: POST /check round trip", &one.round_trips),
        ("one check: run -> `check` event on /live", &one.to_event),
        ("one check: answer -> event", &one.after_answer),
        (
            &format!("{count} at once: POST /check round trip"),
            &all.round_trips,
        ),
        (
            &format!("{count} at once: run -> `check` event on /live"),
            &all.to_event,
        ),
        (
            &format!("{count} at once: answer -> event"),
            &all.after_answer,
        ),
    ]);
    println!();
    println!(
        "grid update at {count} at once / one check's round trip (p50): {:.2}x",
        percentiles(&all.to_event).0 / percentiles(&one.round_trips).0
    );
    println!(
        "grid update at {count} at once / raw exec {count} at once (p50): {:.2}x",
        percentiles(&all.to_event).0 / percentiles(&raw_all).0
    );
    println!(
        "one check's round trip / raw exec (p50): {:.2}x",
        percentiles(&one.round_trips).0 / percentiles(&raw_one).0
    );
    println!(
        "server RSS with {count} sandboxes and a live view: {:.1} MB",
        rss as f64 / 1024.0
    );

    for student in &students {
        let _ = http
            .delete(format!("{base}/api/sessions/{}", student.session))
            .header("cookie", &student.cookie)
            .send()
            .await;
    }
}
