//! Sandbox benchmark: time to a learner's first prompt, keystroke echo, removal, and the
//! server's memory, each printed beside the raw Docker floor measured in the same run.
//!
//! `cargo bench --bench sandbox -- --sessions 20 --keystrokes 50`
//! Needs a running Docker engine and built images (`pathshala images build`).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::RemoveContainerOptionsBuilder;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use common::{Server, ms, percentiles, print_table};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Options {
    sessions: usize,
    keystrokes: usize,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Options {
        sessions: value("--sessions", 10),
        keystrokes: value("--keystrokes", 50),
    }
}

#[tokio::main]
async fn main() {
    let options = options();
    let docker = pathshala::sandbox::connect_docker(None)
        .await
        .expect("Docker engine");
    let image = pathshala::sandbox::images::LAB_IMAGE;
    let image_size = docker
        .inspect_image(image)
        .await
        .expect("run `pathshala images build` first")
        .size
        .unwrap_or(0);

    println!(
        "Pathshala sandbox benchmark: {} sessions, {} keystrokes each, image {image} ({} MB)",
        options.sessions,
        options.keystrokes,
        image_size / 1_000_000
    );
    let raw = raw_docker_floor(&docker, image, options.sessions).await;
    let checks = check_round_trips(options.sessions.max(10)).await;
    let server = Server::start(common::fresh_instance(), options.sessions + 1, &[]);
    let ours = pathshala_figures(&server, &options).await;
    let rss_idle = ours.rss_idle_kb;
    drop(server);

    print_table(&[
        ("raw docker create", &raw.create),
        ("raw docker start", &raw.start),
        ("raw docker exec (attach, run `true`)", &raw.exec),
        ("raw floor: create + start + exec", &raw.floor),
        ("raw docker remove", &raw.remove),
        ("POST /api/sessions (201)", &ours.post),
        (
            "POST -> first prompt byte on the WebSocket",
            &ours.first_prompt,
        ),
        ("POST -> services up (nginx active)", &ours.services_up),
        ("reconnect -> screen redrawn", &ours.reconnect),
        ("keystroke echo, all sessions typing", &ours.echo),
        ("DELETE /api/sessions/{id} (204)", &ours.delete),
        ("raw docker exec, on a booted sandbox", &checks.raw_exec),
        ("a step's checks: 1 check, one round trip", &checks.one),
        ("a step's checks: 10 checks, one round trip", &checks.ten),
    ]);
    let ratio = percentiles(&ours.first_prompt).0 / percentiles(&raw.floor).0;
    println!();
    println!("first prompt / raw floor (p50): {ratio:.2}x");
    let check_ratio = percentiles(&checks.ten).0 / percentiles(&checks.raw_exec).0;
    println!("10 checks / one raw exec (p50): {check_ratio:.2}x");
    println!(
        "server RSS with {} idle sandboxes: {:.1} MB",
        options.sessions,
        rss_idle as f64 / 1024.0
    );
}

struct CheckFigures {
    raw_exec: Vec<f64>,
    one: Vec<f64>,
    ten: Vec<f64>,
}

/// Check latency on one booted lab sandbox: 1 and 10 checks, beside a raw exec of `true`.
async fn check_round_trips(runs: usize) -> CheckFigures {
    use pathshala::check::{self, Check, CheckSpec};
    let instance = format!(
        "bench-checks-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let sandboxes = pathshala::sandbox::Sandboxes::connect(None, &instance, Default::default())
        .await
        .expect("sandboxes");
    let container = sandboxes
        .create(&uuid::Uuid::new_v4().simple().to_string())
        .await
        .unwrap();
    let boot = "for i in $(seq 80); do systemctl is-active -q nginx && break; sleep 0.25; done";
    let long = Duration::from_secs(60);
    sandboxes
        .run(&container, &["bash", "-c", boot], "root", b"", long)
        .await
        .unwrap();
    let kinds = [
        serde_json::json!({"kind": "port", "port": 80}),
        serde_json::json!({"kind": "file", "path": "/etc/nginx/nginx.conf", "content": {"contains": ["http"]}}),
        serde_json::json!({"kind": "service", "name": "nginx", "active": true}),
        serde_json::json!({"kind": "http", "url": "http://localhost/"}),
        serde_json::json!({"kind": "process", "name": "nginx"}),
        serde_json::json!({"kind": "package", "name": "nginx"}),
        serde_json::json!({"kind": "user", "name": "learner"}),
        serde_json::json!({"kind": "group", "name": "www-data"}),
        serde_json::json!({"kind": "command", "run": "true", "exit": 0}),
        serde_json::json!({"kind": "cron", "user": "root", "matches": "run-parts"}),
    ];
    let specs: Vec<CheckSpec> = kinds
        .iter()
        .map(|k| CheckSpec::new(serde_json::from_value::<Check>(k.clone()).unwrap()))
        .collect();
    let mut figures = CheckFigures {
        raw_exec: vec![],
        one: vec![],
        ten: vec![],
    };
    for _ in 0..runs {
        let t = Instant::now();
        sandboxes
            .run(&container, &["true"], "root", b"", long)
            .await
            .unwrap();
        figures.raw_exec.push(ms(t));
        let t = Instant::now();
        check::run(&sandboxes, &container, &specs[..1])
            .await
            .unwrap();
        figures.one.push(ms(t));
        let t = Instant::now();
        let results = check::run(&sandboxes, &container, &specs).await.unwrap();
        figures.ten.push(ms(t));
        assert!(
            results.iter().all(|r| r.passed),
            "benchmark checks must pass: {results:?}"
        );
    }
    sandboxes.remove(&container).await.unwrap();
    figures
}

struct RawFigures {
    create: Vec<f64>,
    start: Vec<f64>,
    exec: Vec<f64>,
    floor: Vec<f64>,
    remove: Vec<f64>,
}

/// Plain create, start, exec and remove through the Engine API: the floor we compare with.
async fn raw_docker_floor(docker: &Docker, image: &str, runs: usize) -> RawFigures {
    let mut figures = RawFigures {
        create: vec![],
        start: vec![],
        exec: vec![],
        floor: vec![],
        remove: vec![],
    };
    for _ in 0..runs {
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: Some(vec!["sleep".into(), "infinity".into()]),
            labels: Some(HashMap::from([("pathshala.bench".into(), "raw".into())])),
            ..Default::default()
        };
        let t = Instant::now();
        let id = docker.create_container(None, body).await.unwrap().id;
        let create = ms(t);
        let t = Instant::now();
        docker.start_container(&id, None).await.unwrap();
        let start = ms(t);
        let exec = common::exec_true(docker, &id).await;
        let t = Instant::now();
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        docker.remove_container(&id, Some(options)).await.unwrap();
        figures.remove.push(ms(t));
        figures.create.push(create);
        figures.start.push(start);
        figures.exec.push(exec);
        figures.floor.push(create + start + exec);
    }
    figures
}

struct OurFigures {
    post: Vec<f64>,
    first_prompt: Vec<f64>,
    services_up: Vec<f64>,
    reconnect: Vec<f64>,
    echo: Vec<f64>,
    delete: Vec<f64>,
    rss_idle_kb: u64,
}

async fn pathshala_figures(server: &Server, options: &Options) -> OurFigures {
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.addr);
    let mut figures = OurFigures {
        post: vec![],
        first_prompt: vec![],
        services_up: vec![],
        reconnect: vec![],
        echo: vec![],
        delete: vec![],
        rss_idle_kb: 0,
    };
    let mut sessions = Vec::new();
    for _ in 0..options.sessions {
        let t = Instant::now();
        let response = http
            .post(format!("{base}/api/sessions"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "session not created");
        figures.post.push(ms(t));
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let id = response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut socket = connect(&server.addr, &id, &cookie).await;
        read_until(&mut socket, "$ ").await;
        figures.first_prompt.push(ms(t));
        // Cold start until the sandbox's services (nginx, enabled at boot) answer.
        let wait = "until systemctl is-active -q nginx; do sleep 0.05; done; echo up-$((6*7))\r";
        socket
            .send(Message::Binary(wait.as_bytes().to_vec().into()))
            .await
            .unwrap();
        read_until(&mut socket, "up-42").await;
        figures.services_up.push(ms(t));
        sessions.push((id, cookie, socket));
    }

    // Everyone types at once, one keystroke at a time, waiting for each echo.
    let typing = sessions.into_iter().map(|(id, cookie, mut socket)| {
        let keystrokes = options.keystrokes;
        tokio::spawn(async move {
            let mut echoes = Vec::with_capacity(keystrokes);
            for _ in 0..keystrokes {
                let t = Instant::now();
                socket
                    .send(Message::Binary(b"x".to_vec().into()))
                    .await
                    .unwrap();
                read_until(&mut socket, "x").await;
                echoes.push(ms(t));
            }
            // Ctrl-U clears the typed line.
            socket
                .send(Message::Binary(vec![0x15].into()))
                .await
                .unwrap();
            let _ = socket.close(None).await;
            (id, cookie, echoes)
        })
    });
    let mut sessions = Vec::new();
    for task in futures_util::future::join_all(typing).await {
        let (id, cookie, echoes) = task.unwrap();
        figures.echo.extend(echoes);
        sessions.push((id, cookie));
    }

    for (id, cookie) in &sessions {
        let t = Instant::now();
        let mut socket = connect(&server.addr, id, cookie).await;
        read_until(&mut socket, "$ ").await;
        figures.reconnect.push(ms(t));
        let _ = socket.close(None).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    figures.rss_idle_kb = server.rss_kb();

    for (id, cookie) in &sessions {
        let t = Instant::now();
        let response = http
            .delete(format!("{base}/api/sessions/{id}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        figures.delete.push(ms(t));
    }
    figures
}

async fn connect(addr: &str, id: &str, cookie: &str) -> Socket {
    let mut request = format!("ws://{addr}/api/sessions/{id}/terminal")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", HeaderValue::from_str(cookie).unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// Reads frames until the bytes received since the call contain `needle`.
async fn read_until(socket: &mut Socket, needle: &str) {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Binary(bytes)))) => seen.extend_from_slice(&bytes),
            Ok(Some(Ok(_))) => {}
            other => panic!("terminal closed or silent waiting for {needle:?}: {other:?}"),
        }
    }
}
