//! `GET /api/sessions/{id}/terminal`: the WebSocket bridged to the session's shell.
//! Binary frames carry raw terminal bytes both ways; text frames carry JSON control messages.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::error::ApiError;
use super::owner::Owner;
use crate::session::{Session, TerminalState};

/// Largest message a browser may send (a big paste arrives in several).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Output chunks waiting for a browser are merged into frames of at most this size.
const MAX_FRAME_BYTES: usize = 32 * 1024;
/// The server pings this often, so dead connections are noticed and proxies keep them open.
const PING_INTERVAL: Duration = Duration::from_secs(20);
/// A connection silent for this long (no message, no pong) is closed.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// Terminal sizes outside these bounds are refused.
const MAX_COLS: u32 = 500;
const MAX_ROWS: u32 = 200;

/// Control messages a browser sends in text frames.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    Resize { cols: u32, rows: u32 },
    Ping,
}

/// Control messages the server sends in text frames.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage<'a> {
    Pong,
    Error { message: &'a str },
    Ended { reason: &'a str },
}

impl ServerMessage<'_> {
    fn frame(&self) -> Message {
        Message::Text(serde_json::to_string(self).unwrap_or_default().into())
    }
}

pub async fn open_terminal(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return Err(ApiError::ForeignOrigin);
    }
    let session = state.sessions.get(&id, owner.as_ref())?;
    let stopping = state.stopping.clone();
    Ok(upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            if let Err(e) = bridge(socket, &session, stopping).await {
                tracing::debug!(session = %session.id, "terminal connection closed: {e}");
            }
        }))
}

/// One browser connection: the current screen first, then live output one way and keystrokes
/// and control messages the other, until either side goes away.
async fn bridge(
    mut socket: WebSocket,
    session: &Session,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<(), axum::Error> {
    let terminal = &session.terminal;
    let mut attachment = terminal.attach();
    let mut state = terminal.state();
    socket
        .send(Message::Binary(attachment.snapshot.clone()))
        .await?;
    let mut ping = tokio::time::interval(PING_INTERVAL);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return Ok(()) };
                last_heard = tokio::time::Instant::now();
                match message {
                    Message::Binary(bytes) => terminal.send_input(bytes).await,
                    Message::Text(text) => {
                        if let Some(reply) = control(session, text.as_str()).await {
                            socket.send(reply).await?;
                        }
                    }
                    Message::Close(_) => return Ok(()),
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
            output = attachment.output.recv() => {
                let frame = match output {
                    Ok(first) => gather(first, &mut attachment.output),
                    // This browser fell behind: skip the backlog, redraw the screen.
                    Err(RecvError::Lagged(_)) => terminal.resync(&mut attachment),
                    Err(RecvError::Closed) => return Ok(()),
                };
                socket.send(Message::Binary(frame)).await?;
            }
            changed = state.changed() => {
                if changed.is_err() { return Ok(()) }
                let ended = ended_reason(&state.borrow_and_update());
                if let Some(reason) = ended {
                    socket.send(ServerMessage::Ended { reason: &reason }.frame()).await?;
                    return socket.send(Message::Close(None)).await;
                }
            }
            () = stop_requested(&mut stopping) => {
                let close = CloseFrame { code: close_code::RESTART, reason: "server restarting".into() };
                return socket.send(Message::Close(Some(close))).await;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    return Ok(());
                }
                socket.send(Message::Ping(Bytes::new())).await?;
            }
        }
    }
}

/// Completes once the server starts stopping.
async fn stop_requested(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = stopping.wait_for(|stop| *stop).await;
}

fn ended_reason(state: &TerminalState) -> Option<String> {
    match state {
        TerminalState::Ended(reason) => Some(reason.clone()),
        TerminalState::Running => None,
    }
}

/// Merges output chunks already waiting into one frame, so a slow link gets fewer, fuller frames.
fn gather(first: Bytes, output: &mut tokio::sync::broadcast::Receiver<Bytes>) -> Bytes {
    if !output.is_empty() {
        let mut frame = BytesMut::from(first.as_ref());
        while frame.len() < MAX_FRAME_BYTES {
            match output.try_recv() {
                Ok(more) => frame.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        return frame.freeze();
    }
    first
}

/// Handles one control message; returns the reply, if any. Garbage gets an error message,
/// never a dropped connection.
async fn control(session: &Session, text: &str) -> Option<Message> {
    match serde_json::from_str::<ClientMessage>(text) {
        Ok(ClientMessage::Resize { cols, rows }) => {
            if cols == 0 || rows == 0 || cols > MAX_COLS || rows > MAX_ROWS {
                let message =
                    format!("terminal size must be 1-{MAX_COLS} columns and 1-{MAX_ROWS} rows");
                return Some(ServerMessage::Error { message: &message }.frame());
            }
            session.terminal.resize(cols as u16, rows as u16).await;
            None
        }
        Ok(ClientMessage::Ping) => Some(ServerMessage::Pong.frame()),
        Err(e) => {
            let message = format!("unknown control message: {e}");
            Some(ServerMessage::Error { message: &message }.frame())
        }
    }
}

/// True when the upgrade comes from this server's own pages: no Origin (not a browser), an
/// Origin whose host matches the Host header, or one configured in `allowed_origins`.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static(host));
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_static(o));
        }
        h
    }

    #[test]
    fn same_origin_is_allowed_and_foreign_is_not() {
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &[]
        ));
        assert!(origin_allowed(&headers(None, "127.0.0.1:8080"), &[]));
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "127.0.0.1:8080"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("http://127.0.0.1:8081"), "127.0.0.1:8080"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("null"), "127.0.0.1:8080"),
            &[]
        ));
    }

    #[test]
    fn configured_origins_are_allowed() {
        let allowed = vec!["https://lab.example.edu".to_string()];
        assert!(origin_allowed(
            &headers(Some("https://lab.example.edu"), "10.0.0.5:8080"),
            &allowed
        ));
    }
}
