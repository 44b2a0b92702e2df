//! Session routes: create, show and delete a learner's sandbox.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::owner::{Owner, set_cookie};
use crate::session::{LessonView, OwnerToken, Session};

/// Body of `POST /api/sessions`; may be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSession {
    lesson: Option<String>,
}

/// A session as the API shows it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    id: String,
    state: &'static str,
    created_at: i64,
    expires_at: i64,
    idle_timeout_secs: u64,
    terminal_url: String,
    attached_terminals: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    lesson: Option<LessonView>,
}

impl SessionView {
    async fn new(session: &Session, state: &AppState) -> Self {
        let limits = &state.config.sandbox;
        Self {
            id: session.id.to_string(),
            state: session.state(),
            created_at: session.created_at,
            expires_at: session.expires_at(limits),
            idle_timeout_secs: limits.idle_timeout_secs,
            terminal_url: format!("/api/sessions/{}/terminal", session.id),
            attached_terminals: session.terminal.attached(),
            lesson: state.sessions.lesson_view(session, &state.catalog()).await,
        }
    }
}

/// Parses a JSON body, treating an empty one as all defaults.
pub fn json_or_default<T: Default + serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

pub async fn create_session(
    State(state): State<AppState>,
    Owner(owner): Owner,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateSession = json_or_default(&body)?;
    let lesson = match request.lesson {
        Some(id) => Some(
            state
                .catalog()
                .get_shared(&id)
                .ok_or(ApiError::NoLesson(id))?,
        ),
        None => None,
    };
    if let Some(token) = &owner
        && let Some(browsers) = state.classroom.browsers_of_student(token).await?
    {
        let max = state.config.classroom.sandboxes_per_student;
        if state.sessions.count_owned_by(&browsers) >= max {
            return Err(ApiError::TooManySandboxes(max));
        }
    }
    let fresh = owner.is_none();
    let token = owner.unwrap_or_else(OwnerToken::generate);
    let session = state.sessions.create(&token, lesson).await?;
    let mut response = (
        StatusCode::CREATED,
        Json(SessionView::new(&session, &state).await),
    )
        .into_response();
    if fresh {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, set_cookie(&token));
    }
    Ok(response)
}

pub async fn show_session(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    let session = state.sessions.get(&id, owner.as_ref())?;
    Ok(Json(SessionView::new(&session, &state).await))
}

pub async fn delete_session(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.sessions.delete(&id, owner.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restart_session(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.sessions.restart(&id, owner.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
