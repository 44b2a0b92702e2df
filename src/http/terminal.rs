//! `GET /api/sessions/{id}/terminal`: the WebSocket bridged to the session's shell.
//! Binary frames carry raw terminal bytes both ways; text frames carry JSON control messages
//! and notices (an instructor watching, an announcement). With `?watch=1`, an instructor of
//! the owner's class watches read-only: output out, and whatever comes in dropped here.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::auth::MaybeInstructor;
use super::error::ApiError;
use super::owner::Owner;
use crate::classroom::ClassroomError;
use crate::session::terminal::Notice;
use crate::session::{Attachment, Session, TerminalState};

/// Largest message a browser may send (a big paste arrives in several).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Output chunks waiting for a browser are merged into frames of at most this size.
const MAX_FRAME_BYTES: usize = 32 * 1024;
/// The server pings this often, so dead connections are noticed and proxies keep them open.
const PING_INTERVAL: Duration = Duration::from_secs(20);
/// A browser that does not take a message within this long is disconnected.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Keystrokes the shell does not accept within this long are dropped (with a message).
const INPUT_TIMEOUT: Duration = Duration::from_secs(5);
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

/// `?watch=1` asks to watch read-only.
#[derive(Debug, Deserialize)]
pub struct TerminalQuery {
    watch: Option<String>,
}

impl TerminalQuery {
    fn watching(&self) -> bool {
        matches!(self.watch.as_deref(), Some("1" | "true" | "yes"))
    }
}

pub async fn open_terminal(
    State(state): State<AppState>,
    Owner(owner): Owner,
    instructor: MaybeInstructor,
    Path(id): Path<String>,
    Query(query): Query<TerminalQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !super::guard::origin_allowed(&headers, &state.config.allowed_origins) {
        return Err(ApiError::ForeignOrigin);
    }
    if query.watching() {
        let instructor = instructor
            .0
            .ok_or(ApiError::Classroom(ClassroomError::NotLoggedIn))?;
        return open_watch(state, instructor, &id, upgrade).await;
    }
    let session = state.sessions.get(&id, owner.as_ref())?;
    // A class's terminals are recorded from the moment their student first opens them.
    state.classroom.record_if_needed(&session).await;
    let stopping = state.stopping.clone();
    let sessions = state.sessions.clone();
    let open = OpenConnection::new(&state.connections);
    Ok(upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let _open = open;
            // Subscribed before the watchers are read, so no watch falls between the two.
            let notices = session.terminal.notices();
            let watching = session.terminal.watchers();
            let attachment = sessions.attach(&session);
            let role = Role::Learner { notices, watching };
            if let Err(e) = bridge(socket, &session, attachment, role, stopping).await {
                tracing::debug!(session = %session.id, "terminal connection closed: {e}");
            }
        }))
}

/// An instructor watching a student's terminal: allowed for the instructors of the
/// student's class only, and logged from start to end.
async fn open_watch(
    state: AppState,
    instructor: String,
    id: &str,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let session = state.sessions.find(id)?;
    let student = state
        .classroom
        .student_taught_by(&instructor, session.owner_hash())
        .await?;
    let stopping = state.stopping.clone();
    let classroom = state.classroom.clone();
    let open = OpenConnection::new(&state.connections);
    Ok(upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let _open = open;
            let lesson = session.lesson.as_ref().map(|l| l.id.as_str());
            let logged = classroom
                .start_watch(&instructor, &student, &session.id.to_string(), lesson)
                .await;
            let notices = session.terminal.notices();
            let attachment = session.terminal.watch(&instructor);
            let role = Role::Watcher { notices };
            if let Err(e) = bridge(socket, &session, attachment, role, stopping).await {
                tracing::debug!(session = %session.id, "watch closed: {e}");
            }
            match logged {
                Ok(watch) => {
                    if let Err(e) = classroom.end_watch(watch).await {
                        tracing::warn!(session = %session.id, "could not log a watch's end: {e}");
                    }
                }
                Err(e) => tracing::warn!(session = %session.id, "could not log a watch: {e}"),
            }
        }))
}

/// Counts an open terminal connection until dropped, so shutdown can wait for the goodbyes.
struct OpenConnection(tokio::sync::watch::Sender<usize>);

impl OpenConnection {
    fn new(count: &tokio::sync::watch::Sender<usize>) -> Self {
        count.send_modify(|n| *n += 1);
        Self(count.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// Why a connection ends early.
#[derive(Debug, thiserror::Error)]
enum BridgeError {
    #[error("the browser stopped reading for {SEND_TIMEOUT:?}")]
    SlowReader,
    #[error(transparent)]
    Socket(#[from] axum::Error),
}

/// Sends one message, giving up on a browser that has stopped reading (its connection task
/// would otherwise hold its place, and keep the session from ever being idle, forever).
async fn send(socket: &mut WebSocket, message: Message) -> Result<(), BridgeError> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(BridgeError::SlowReader),
    }
}

/// Who is on the other end of a connection.
enum Role {
    /// The learner: keystrokes and control messages in, notices out (starting with who is
    /// watching already).
    Learner {
        notices: tokio::sync::broadcast::Receiver<Notice>,
        watching: Vec<String>,
    },
    /// An instructor watching: output, and the learner's terminal size, only; whatever
    /// they send is dropped.
    Watcher {
        notices: tokio::sync::broadcast::Receiver<Notice>,
    },
}

/// One browser connection: the current screen first, then live output one way and keystrokes
/// and control messages the other, until either side goes away.
async fn bridge(
    mut socket: WebSocket,
    session: &Session,
    mut attachment: Attachment,
    mut role: Role,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<(), BridgeError> {
    let terminal = &session.terminal;
    let mut state = terminal.state();
    send(&mut socket, Message::Binary(attachment.snapshot.clone())).await?;
    // A terminal that ended before this browser came says so at once.
    let ended = ended_reason(&state.borrow_and_update());
    if let Some(reason) = ended {
        return say_ended(&mut socket, &reason).await;
    }
    match &mut role {
        Role::Learner { watching, .. } => {
            for by in std::mem::take(watching) {
                let notice = Notice::Watch { watching: true, by };
                send(&mut socket, notice_frame(&notice)).await?;
            }
        }
        // A watcher's view takes the learner's size, so full-screen programs draw right.
        Role::Watcher { .. } => {
            let (cols, rows) = terminal.size();
            send(&mut socket, notice_frame(&Notice::Size { cols, rows })).await?;
        }
    }
    let read_only = matches!(role, Role::Watcher { .. });
    let mut ping = tokio::time::interval(PING_INTERVAL);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return Ok(()) };
                last_heard = tokio::time::Instant::now();
                match message {
                    Message::Close(_) => return Ok(()),
                    // A watcher's keystrokes and resizes stop here: they never reach the shell.
                    _ if read_only => {}
                    Message::Binary(bytes) => {
                        if tokio::time::timeout(INPUT_TIMEOUT, terminal.send_input(bytes)).await.is_err() {
                            let message = "the shell is not reading input; keystrokes were dropped";
                            send(&mut socket, ServerMessage::Error { message }.frame()).await?;
                        }
                    }
                    Message::Text(text) => {
                        if let Some(reply) = control(session, text.as_str()).await {
                            send(&mut socket, reply).await?;
                        }
                    }
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
                send(&mut socket, Message::Binary(frame)).await?;
            }
            notice = next_notice(&mut role) => {
                if let Some(notice) = notice {
                    send(&mut socket, notice_frame(&notice)).await?;
                }
            }
            changed = state.changed() => {
                if changed.is_err() { return Ok(()) }
                let ended = ended_reason(&state.borrow_and_update());
                if let Some(reason) = ended {
                    // Notices sent just before the end (where a reset moved the page) go first.
                    if let Role::Learner { notices, .. } = &mut role {
                        while let Ok(notice) = notices.try_recv() {
                            send(&mut socket, notice_frame(&notice)).await?;
                        }
                    }
                    return say_ended(&mut socket, &reason).await;
                }
            }
            () = stop_requested(&mut stopping) => {
                let close = CloseFrame { code: close_code::RESTART, reason: "server restarting".into() };
                return send(&mut socket, Message::Close(Some(close))).await;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    return Ok(());
                }
                send(&mut socket, Message::Ping(Bytes::new())).await?;
            }
        }
    }
}

/// The next notice for this connection: a learner gets all but sizes (their own page sets
/// the size), a watcher only sizes. A connection that fell behind skips the ones missed.
async fn next_notice(role: &mut Role) -> Option<Notice> {
    let (notices, for_watcher) = match role {
        Role::Learner { notices, .. } => (notices, false),
        Role::Watcher { notices } => (notices, true),
    };
    match notices.recv().await {
        Ok(notice) if matches!(notice, Notice::Size { .. }) == for_watcher => Some(notice),
        Ok(_) | Err(RecvError::Lagged(_)) => None,
        Err(RecvError::Closed) => std::future::pending().await,
    }
}

fn notice_frame(notice: &Notice) -> Message {
    Message::Text(serde_json::to_string(notice).unwrap_or_default().into())
}

async fn say_ended(socket: &mut WebSocket, reason: &str) -> Result<(), BridgeError> {
    send(socket, ServerMessage::Ended { reason }.frame()).await?;
    send(socket, Message::Close(None)).await
}

/// Completes once the server starts stopping.
pub(super) async fn stop_requested(stopping: &mut tokio::sync::watch::Receiver<bool>) {
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
