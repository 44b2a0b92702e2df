//! Port preview: `/preview/{session}/{port}/...` relays HTTP, and WebSocket upgrades, to
//! that port inside the session's own sandbox, for its owner only (nobody else can reach a
//! learner's server).

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::AppState;
use super::error::ApiError;
use super::owner::Owner;

/// How long a learner's server may take to answer a previewed request.
const PREVIEW_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn preview_root(
    state: State<AppState>,
    owner: Owner,
    Path((id, port)): Path<(String, u16)>,
    request: Request,
) -> Result<Response, ApiError> {
    relay(state, owner, id, port, String::new(), request).await
}

pub async fn preview_path(
    state: State<AppState>,
    owner: Owner,
    Path((id, port, rest)): Path<(String, u16, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    relay(state, owner, id, port, rest, request).await
}

async fn relay(
    State(state): State<AppState>,
    Owner(owner): Owner,
    id: String,
    port: u16,
    rest: String,
    mut request: Request,
) -> Result<Response, ApiError> {
    let session = state.sessions.get(&id, owner.as_ref())?;
    let upgrading = request.headers().contains_key(header::UPGRADE);
    if upgrading && !super::guard::origin_allowed(request.headers(), &state.config.allowed_origins)
    {
        return Err(ApiError::ForeignOrigin);
    }
    // Taken before the request is relayed: the browser's side of an upgraded connection.
    let browser_side = upgrading.then(|| hyper::upgrade::on(&mut request));
    let address = state
        .sessions
        .sandboxes()
        .address(&session.container_id)
        .await?
        .ok_or_else(|| ApiError::BadRequest("the sandbox has no network address".into()))?;
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let target: Uri = format!("http://{address}:{port}/{rest}{query}")
        .parse()
        .map_err(|_| ApiError::BadRequest("that path cannot be previewed".into()))?;
    *request.uri_mut() = target;
    // The learner's server sees its own address, and never the learner's cookies.
    request.headers_mut().remove(header::COOKIE);
    if let Ok(host) = format!("localhost:{port}").parse() {
        request.headers_mut().insert(header::HOST, host);
    }
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    match tokio::time::timeout(PREVIEW_TIMEOUT, client.request(request)).await {
        Ok(Ok(mut response)) => {
            if response.status() == StatusCode::SWITCHING_PROTOCOLS
                && let Some(browser_side) = browser_side
            {
                let sandbox_side = hyper::upgrade::on(&mut response);
                tokio::spawn(splice(browser_side, sandbox_side));
            }
            Ok(response.map(Body::new))
        }
        Ok(Err(e)) => Ok(unreachable(port, &e.to_string())),
        Err(_) => Ok(unreachable(port, "no answer in 30 seconds")),
    }
}

/// Relays the bytes of an upgraded connection (a WebSocket) both ways until either side
/// closes.
async fn splice(browser: hyper::upgrade::OnUpgrade, sandbox: hyper::upgrade::OnUpgrade) {
    let (Ok(browser), Ok(sandbox)) = (browser.await, sandbox.await) else {
        return;
    };
    let mut browser = hyper_util::rt::TokioIo::new(browser);
    let mut sandbox = hyper_util::rt::TokioIo::new(sandbox);
    // Either side closing ends the relay; how it ended does not matter to anyone.
    let _ = tokio::io::copy_bidirectional(&mut browser, &mut sandbox).await;
}

/// A page saying nothing answers on the port, which is what a learner needs to know.
fn unreachable(port: u16, why: &str) -> Response {
    tracing::debug!("preview of port {port} failed: {why}");
    (
        StatusCode::BAD_GATEWAY,
        format!(
            "Nothing in your sandbox answered on port {port}. Is your server running and \
             listening on 0.0.0.0:{port} (not only 127.0.0.1)?"
        ),
    )
        .into_response()
}
