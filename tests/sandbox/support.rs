//! Test helpers: the real server on port 0 against the real Docker engine, an HTTP client
//! that keeps its own owner cookie, and a WebSocket terminal client that reads the screen.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptionsBuilder};
use futures_util::{SinkExt, StreamExt};
use pathshala::{Application, Config};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any wait in a test may take before it fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A running server and what a test needs to reach it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub config: Config,
    pub docker: Docker,
    /// The server's domain event stream.
    pub events: pathshala::event::Events,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    cleaned: bool,
}

impl Drop for TestApp {
    /// A test that failed before `cleanup` still leaves no containers behind.
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        let instance = self.config.instance.clone();
        let data_dir = self.config.data_dir.clone();
        // A runtime of its own: Drop cannot await, and the test's runtime may be unwinding.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async {
                if let Ok(docker) = pathshala::sandbox::connect_docker(None).await {
                    remove_instance(&docker, &instance, &data_dir).await;
                }
            });
        })
        .join();
    }
}

/// A config for one test: its own instance name (so tests never touch each other's
/// containers), its own data folder, port 0, small limits.
pub fn test_config() -> Config {
    let tag = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let mut config = Config {
        instance: format!("test-{tag}"),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: std::env::temp_dir().join(format!("pathshala-test-{tag}")),
        ..Config::default()
    };
    config.sandbox.memory_mb = 256;
    config.sandbox.pids = 128;
    config.sandbox.max_sandboxes = 4;
    config
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(test_config()).await
    }

    pub async fn spawn_with(config: Config) -> Self {
        ensure_images().await;
        let app = Application::build(config.clone())
            .await
            .expect("server builds (is dockerd running and `pathshala images build` done?)");
        let addr = app.local_addr();
        let events = app.events();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let docker = pathshala::sandbox::connect_docker(None).await.unwrap();
        Self {
            addr,
            config,
            docker,
            events,
            stop: Some(stop),
            task: Some(task),
            cleaned: false,
        }
    }

    /// Stops the server the way Ctrl-C does, and waits until it has stopped.
    pub async fn stop(mut self) -> Config {
        self.stop_in_place().await;
        // The sandboxes stay for the next server of this instance to re-adopt.
        self.cleaned = true;
        self.config.clone()
    }

    async fn stop_in_place(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A new browser with a new sandbox and its terminal open at the prompt.
    pub async fn open_sandbox(&self) -> (TestClient, String, TestTerminal) {
        let mut browser = self.client();
        let id = browser.create_session().await;
        let mut terminal = browser.terminal(&id).await;
        terminal.expect("learner@lab").await;
        (browser, id, terminal)
    }

    /// A new browser, with no cookie yet.
    pub fn client(&self) -> TestClient {
        self.client_with_cookie(None)
    }

    /// A browser that already holds `cookie`.
    pub fn client_with_cookie(&self, cookie: Option<String>) -> TestClient {
        TestClient {
            base: self.url(""),
            origin: format!("http://{}", self.addr),
            http: reqwest::Client::new(),
            cookie,
        }
    }

    /// Containers labelled with this server's instance name.
    pub async fn containers(&self) -> Vec<String> {
        containers_of(&self.docker, &self.config.instance).await
    }

    pub async fn inspect(&self, id: &str) -> bollard::models::ContainerInspectResponse {
        self.docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
            .unwrap()
    }

    /// The container of a session, found by its label.
    pub async fn container_of(&self, session_id: &str) -> String {
        labelled(&self.docker, &format!("pathshala.session={session_id}")).await[0].clone()
    }

    /// Removes everything this test's server made.
    pub async fn cleanup(mut self) {
        self.stop_in_place().await;
        remove_instance(&self.docker, &self.config.instance, &self.config.data_dir).await;
        self.cleaned = true;
    }
}

/// Builds the lab images once per test run if they are missing or out of date, so
/// `cargo test` works on a machine where only the Docker engine has been started.
async fn ensure_images() {
    static BUILT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            let docker = pathshala::sandbox::connect_docker(None)
                .await
                .expect("dockerd runs");
            let config = Config::default();
            pathshala::sandbox::images::build_all(
                &docker,
                &config.images,
                false,
                false,
                &mut |line| eprintln!("{line}"),
            )
            .await
            .expect("lab images build");
        })
        .await;
}

pub async fn containers_of(docker: &Docker, instance: &str) -> Vec<String> {
    labelled(docker, &format!("pathshala.instance={instance}")).await
}

/// Ids of every container, running or not, carrying `label` (`key=value`).
async fn labelled(docker: &Docker, label: &str) -> Vec<String> {
    let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(options))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.id)
        .collect()
}

pub async fn remove_instance(docker: &Docker, instance: &str, data_dir: &PathBuf) {
    for id in containers_of(docker, instance).await {
        let options = bollard::query_parameters::RemoveContainerOptionsBuilder::default()
            .force(true)
            .build();
        let _ = docker.remove_container(&id, Some(options)).await;
    }
    let _ = std::fs::remove_dir_all(data_dir);
}

/// Polls `check` until it holds or [`PATIENCE`] runs out.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// One browser: keeps the owner cookie the server gives it, and sends its own Origin.
pub struct TestClient {
    base: String,
    pub origin: String,
    http: reqwest::Client,
    pub cookie: Option<String>,
}

impl TestClient {
    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    pub async fn post(&mut self, path: &str, body: &str) -> reqwest::Response {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        let response = self.with_cookie(request).send().await.unwrap();
        if let Some(set) = response.headers().get("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            self.cookie = Some(pair);
        }
        response
    }

    /// A POST with no body (for action endpoints).
    pub async fn post_empty(&self, path: &str) -> reqwest::Response {
        let request = self.http.post(format!("{}{path}", self.base));
        self.with_cookie(request).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let request = self.http.get(format!("{}{path}", self.base));
        self.with_cookie(request).send().await.unwrap()
    }

    /// GETs `path` and parses the answer as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).await.json().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        let request = self.http.delete(format!("{}{path}", self.base));
        self.with_cookie(request).send().await.unwrap()
    }

    /// Creates a session and returns its id.
    pub async fn create_session(&mut self) -> String {
        let response = self.post("/api/sessions", "{}").await;
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        let body: serde_json::Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_string()
    }

    /// Opens the terminal of `session` as this browser would.
    pub async fn terminal(&self, session: &str) -> TestTerminal {
        self.try_terminal(session, Some(&self.origin.clone()))
            .await
            .expect("terminal opens")
    }

    /// Opens the terminal with a chosen Origin (or none); the error if refused.
    pub async fn try_terminal(
        &self,
        session: &str,
        origin: Option<&str>,
    ) -> Result<TestTerminal, tungstenite::Error> {
        self.open_socket(&format!("/api/sessions/{session}/terminal"), origin)
            .await
    }

    /// Watches `session`'s terminal read-only (`?watch=1`), as an instructor's page does.
    pub async fn watch(&self, session: &str) -> Result<TestTerminal, tungstenite::Error> {
        let path = format!("/api/sessions/{session}/terminal?watch=1");
        self.open_socket(&path, Some(&self.origin.clone())).await
    }

    async fn open_socket(
        &self,
        path: &str,
        origin: Option<&str>,
    ) -> Result<TestTerminal, tungstenite::Error> {
        let url = format!("{}{path}", self.base.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).unwrap());
        }
        if let Some(cookie) = &self.cookie {
            request
                .headers_mut()
                .insert("cookie", HeaderValue::from_str(cookie).unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(TestTerminal {
            socket,
            screen: vt100::Parser::new(nonzero(24), nonzero(80), 0),
            raw: Vec::new(),
            text_messages: Vec::new(),
            close_code: None,
        })
    }
}

/// A terminal over the WebSocket, with the screen it has drawn so far.
pub struct TestTerminal {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub screen: vt100::Parser,
    /// Every output byte received, for matching text that scrolled away.
    pub raw: Vec<u8>,
    /// Control messages (JSON) the server sent.
    pub text_messages: Vec<String>,
    /// The code of the server's close frame, once [`TestTerminal::closed`] saw one.
    pub close_code: Option<u16>,
}

impl TestTerminal {
    pub async fn type_text(&mut self, text: &str) {
        self.socket
            .send(Message::Binary(text.as_bytes().to_vec().into()))
            .await
            .unwrap();
    }

    pub async fn send_text_frame(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn resize(&mut self, cols: u16, rows: u16) {
        self.screen
            .screen_mut()
            .set_size(nonzero(rows), nonzero(cols));
        let message = format!(r#"{{"type":"resize","cols":{cols},"rows":{rows}}}"#);
        self.send_text_frame(&message).await;
    }

    /// Reads until the output received so far contains `needle`.
    pub async fn expect(&mut self, needle: &str) {
        self.expect_within(needle, PATIENCE).await;
    }

    /// Like [`TestTerminal::expect`], for things that take longer (a cron minute).
    pub async fn expect_within(&mut self, needle: &str, patience: Duration) {
        let found = self
            .read_until_within(patience, |t| {
                String::from_utf8_lossy(&t.raw).contains(needle)
            })
            .await;
        assert!(
            found,
            "terminal never showed {needle:?}; screen:\n{}\nraw: {:?}",
            self.screen.screen().contents(),
            String::from_utf8_lossy(&self.raw)
        );
    }

    /// Reads until a control message containing `needle` arrives.
    pub async fn expect_message(&mut self, needle: &str) -> String {
        let found = self
            .read_until(|t| t.text_messages.iter().any(|m| m.contains(needle)))
            .await;
        assert!(
            found,
            "no control message with {needle:?}: {:?}",
            self.text_messages
        );
        self.text_messages
            .iter()
            .find(|m| m.contains(needle))
            .unwrap()
            .clone()
    }

    /// Reads frames until `done` holds, the socket closes, or [`PATIENCE`] runs out.
    pub async fn read_until(&mut self, done: impl Fn(&Self) -> bool) -> bool {
        self.read_until_within(PATIENCE, done).await
    }

    async fn read_until_within(
        &mut self,
        patience: Duration,
        done: impl Fn(&Self) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + patience;
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Ok(Some(Ok(Message::Binary(bytes)))) => {
                    self.screen.process(&bytes);
                    self.raw.extend_from_slice(&bytes);
                }
                Ok(Some(Ok(Message::Text(text)))) => self.text_messages.push(text.to_string()),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_))) | Ok(None) | Err(_) => return done(self),
            }
        }
        true
    }

    /// Runs `command` and waits for `marker` (printed by the command, not echoed as typed).
    pub async fn run(&mut self, command: &str, marker: &str) {
        self.type_text(&format!("{command}\r")).await;
        self.expect(marker).await;
    }

    /// Writes `content` to `path` as root (base64 on the wire, so nothing is mangled by the
    /// shell or the terminal).
    pub async fn write_file(&mut self, path: &str, content: &str) {
        let encoded = base64(content.as_bytes());
        let marker = format!("wrote-{}", path.len() * 7 + 1);
        let command = format!(
            "echo {encoded} | base64 -d | sudo tee {path} >/dev/null && echo wrote-$(({} * 7 + 1))",
            path.len()
        );
        self.run(&command, &marker).await;
    }

    /// Whether the server closed the connection within [`PATIENCE`].
    pub async fn closed(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => self.text_messages.push(text.to_string()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    self.close_code = frame.map(|f| u16::from(f.code));
                    return true;
                }
                Ok(Some(Err(_))) | Ok(None) => return true,
                Ok(Some(Ok(_))) => {}
                Err(_) => return false,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}

/// Standard base64, for writing files through the terminal.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
