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
use crate::check::PortNumber;
use crate::lesson::render;
use crate::session::{LessonStart, OwnerToken, Session, SessionLesson};

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

/// The session's lesson, its texts rendered with the learner's own values.
#[derive(Debug, Serialize)]
pub struct LessonView {
    id: String,
    title: String,
    steps: Vec<StepView>,
    passed_steps: Vec<usize>,
}

#[derive(Debug, Serialize)]
pub struct StepView {
    title: String,
    /// Markdown.
    body: String,
    /// The body as HTML (raw HTML in the lesson is escaped).
    body_html: String,
    hints: Vec<String>,
    /// The hints as HTML.
    hints_html: Vec<String>,
    watch: bool,
    preview: Vec<u16>,
    checks: Vec<String>,
}

fn lesson_view(session: &Session, state: &AppState) -> Option<LessonView> {
    let taken = session.lesson.as_ref()?;
    let catalog = state.catalog();
    let lesson = catalog.get(&taken.id)?;
    let values = &taken.values;
    let steps = lesson
        .steps
        .iter()
        .map(|step| {
            let body = render::render(&step.body, values);
            StepView {
                title: render::render(&step.title, values),
                body_html: crate::lesson::markdown::to_html(&body),
                hints_html: step
                    .hints
                    .iter()
                    .map(|h| crate::lesson::markdown::to_html(&render::render(h, values)))
                    .collect(),
                body,
                hints: step
                    .hints
                    .iter()
                    .map(|h| render::render(h, values))
                    .collect(),
                watch: step.watch,
                preview: step
                    .preview
                    .iter()
                    .filter_map(|port| match port {
                        PortNumber::Number(n) => Some(*n),
                        PortNumber::Template(t) => render::render(t, values).trim().parse().ok(),
                    })
                    .collect(),
                checks: render::render_checks(&step.checks, values)
                    .into_iter()
                    .map(|c| c.name)
                    .collect(),
            }
        })
        .collect();
    Some(LessonView {
        id: lesson.id.clone(),
        title: lesson.title.clone(),
        steps,
        passed_steps: state
            .sessions
            .passed_steps_of(session, &lesson.id)
            .unwrap_or_default(),
    })
}

impl SessionView {
    fn new(session: &Session, state: &AppState) -> Self {
        let limits = &state.config.sandbox;
        Self {
            id: session.id.to_string(),
            state: session.state(),
            created_at: session.created_at,
            expires_at: session.created_at + limits.max_lifetime_secs as i64,
            idle_timeout_secs: limits.idle_timeout_secs,
            terminal_url: format!("/api/sessions/{}/terminal", session.id),
            attached_terminals: session.terminal.attached(),
            lesson: lesson_view(session, state),
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

/// What a session for `lesson_id` needs: the learner's own values, and the image and setup.
fn lesson_start(state: &AppState, lesson_id: &str) -> Result<LessonStart, ApiError> {
    let catalog = state.catalog();
    let lesson = catalog
        .get(lesson_id)
        .ok_or_else(|| ApiError::NoLesson(lesson_id.to_string()))?;
    let values = render::generate(lesson);
    let files = lesson.read_files().map_err(|e| {
        ApiError::Session(crate::session::SessionError::Setup(format!(
            "cannot read the lesson's files: {e}"
        )))
    })?;
    Ok(LessonStart {
        files,
        setup: lesson.setup.as_ref().map(|s| render::render(s, &values)),
        image: lesson.image.as_ref().map(|i| i.name.clone()),
        lesson: SessionLesson {
            id: lesson.id.clone(),
            values,
        },
    })
}

pub async fn create_session(
    State(state): State<AppState>,
    Owner(owner): Owner,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateSession = json_or_default(&body)?;
    let lesson = request
        .lesson
        .map(|id| lesson_start(&state, &id))
        .transpose()?;
    let fresh = owner.is_none();
    let token = owner.unwrap_or_else(OwnerToken::generate);
    let session = state.sessions.create(&token, lesson).await?;
    let mut response = (
        StatusCode::CREATED,
        Json(SessionView::new(&session, &state)),
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
    Ok(Json(SessionView::new(&session, &state)))
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
