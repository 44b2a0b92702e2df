//! `GET /healthz`: is the server up, and does the Docker engine answer.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;

/// How long the health check waits for the engine before calling it down.
const DOCKER_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Always 200 while the server runs; the body says whether sandboxes can be made.
pub async fn show_health(State(state): State<AppState>) -> Json<Value> {
    let docker = tokio::time::timeout(DOCKER_PING_TIMEOUT, state.sandboxes.ping()).await;
    let (docker_ok, docker_error) = match docker {
        Ok(Ok(())) => (true, None),
        Ok(Err(e)) => (false, Some(e.to_string())),
        Err(_) => (false, Some("no answer within 3 seconds".to_string())),
    };
    let body = json!({
        "status": if docker_ok { "ok" } else { "degraded" },
        "docker": { "ok": docker_ok, "error": docker_error },
        "sessions": state.sessions.count(),
        "max_sandboxes": state.config.sandbox.max_sandboxes,
        "version": env!("CARGO_PKG_VERSION"),
    });
    Json(body)
}
