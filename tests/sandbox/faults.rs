//! Fault injection: the Docker engine goes away while learners work, then comes back.

use std::path::PathBuf;
use std::time::Duration;

use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinSet;

use crate::support::{TestApp, test_config};

/// The engine's socket, as the server sees it through [`EngineLink`].
const ENGINE_SOCKET: &str = "/var/run/docker.sock";

/// A Unix-socket relay between the server and the engine that the test can cut and restore,
/// like a daemon that crashes and is restarted.
struct EngineLink {
    path: PathBuf,
    relays: JoinSet<()>,
}

impl EngineLink {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "pathshala-engine-{}.sock",
            uuid::Uuid::new_v4().simple()
        ));
        let mut link = Self {
            path,
            relays: JoinSet::new(),
        };
        link.restore();
        link
    }

    fn url(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// Accepts connections again.
    fn restore(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let listener = UnixListener::bind(&self.path).unwrap();
        self.relays.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut engine) = UnixStream::connect(ENGINE_SOCKET).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
                    }
                });
            }
        });
    }

    /// Drops every connection and refuses new ones.
    fn cut(&mut self) {
        self.relays.abort_all();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[tokio::test]
async fn losing_the_engine_gives_clear_errors_and_loses_nothing() {
    let mut link = EngineLink::new();
    let mut config = test_config();
    config.docker_host = Some(link.url());
    let app = TestApp::spawn_with(config).await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut terminal = browser.terminal(&id).await;
    terminal
        .run(
            "echo fee-records > work.txt && echo saved-$((6+6))",
            "saved-12",
        )
        .await;

    link.cut();
    let health: serde_json::Value = browser.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["docker"]["ok"], false, "{health}");
    let mut newcomer = app.client();
    let refused = tokio::time::timeout(
        Duration::from_secs(15),
        newcomer.post("/api/sessions", "{}"),
    )
    .await
    .expect("POST hung while the engine was away");
    assert_eq!(refused.status(), 503);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("not answering"),
        "{body}"
    );
    // The learner's session is still there.
    assert_eq!(
        browser.get(&format!("/api/sessions/{id}")).await.status(),
        200
    );

    link.restore();
    // The same browser connection gets a new shell in the same sandbox, files intact.
    terminal.expect("starting a new one").await;
    terminal
        .run("cat work.txt | tr a-z A-Z", "FEE-RECORDS")
        .await;
    let health: serde_json::Value = browser.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["docker"]["ok"], true);
    terminal.close().await;
    link.cut();
    app.cleanup().await;
}
