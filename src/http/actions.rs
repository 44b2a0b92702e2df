//! What an instructor does to students' sandboxes (reset, restart, end, extend; for the
//! whole class: extend, end all, announce), and the class's log of it: every watch
//! (`GET /api/classes/{id}/watches`) and every action (`GET /api/classes/{id}/actions`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Instructor;
use super::error::ApiError;
use super::sessions::json_or_default;
use crate::classroom::ANNOUNCE;
use crate::session::Session;
use crate::session::terminal::{Notice, unix_now};
use crate::store::StoredStudent;

pub async fn list_watches(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let watches = state.classroom.watches(&instructor, &id).await?;
    let now = unix_now();
    let watches: Vec<Value> = watches
        .into_iter()
        .map(|w| {
            let seconds = w.ended_at.unwrap_or(now) - w.started_at;
            let mut value = serde_json::to_value(&w).unwrap_or_default();
            value["seconds"] = json!(seconds.max(0));
            value["open"] = json!(w.ended_at.is_none());
            value
        })
        .collect();
    Ok(Json(json!({"class": id, "watches": watches})))
}

pub async fn list_actions(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let actions = state.classroom.actions(&instructor, &id).await?;
    Ok(Json(json!({"class": id, "actions": actions})))
}

/// The longest extension one request gives, in minutes.
const MAX_EXTEND_MINUTES: i64 = 8 * 60;
/// The longest announcement, in characters.
const MAX_ANNOUNCEMENT_CHARS: usize = 280;
/// An announcement is shown to students who open their page within this long of it.
pub const ANNOUNCEMENT_SHOWN_SECS: i64 = 60 * 60;

/// Body of the per-student actions: which lesson's sandbox (all of them when absent).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonChoice {
    lesson: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Extension {
    minutes: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Announcement {
    text: Option<String>,
}

/// A student of a class `instructor` teaches, with their live sandboxes. Found before a
/// request's body is read, so a class that is not yours answers 403 whatever was sent.
struct Target {
    class: String,
    student: StoredStudent,
    sessions: Vec<Arc<Session>>,
}

impl Target {
    async fn find(
        state: &AppState,
        instructor: &str,
        (class, student): &(String, String),
    ) -> Result<Self, ApiError> {
        let (class, student) = state
            .classroom
            .student_in_class(instructor, class, student)
            .await?;
        let browsers = state.classroom.browsers_of(&student.id).await?;
        let sessions = state.sessions.owned_by(&browsers);
        Ok(Self {
            class: class.id,
            student,
            sessions,
        })
    }

    /// The sandboxes (of `lesson`, when given), or a 404 that says whose and which were
    /// looked for.
    fn running(&self, lesson: Option<&str>) -> Result<Vec<Arc<Session>>, ApiError> {
        let sessions: Vec<Arc<Session>> = self
            .sessions
            .iter()
            .filter(|s| lesson.is_none() || s.lesson.as_ref().map(|l| l.id.as_str()) == lesson)
            .cloned()
            .collect();
        if sessions.is_empty() {
            let which = lesson.map_or(String::new(), |l| format!(" of {l}"));
            return Err(ApiError::NothingRunning(format!(
                "{} has no sandbox{which} running",
                self.student.name
            )));
        }
        Ok(sessions)
    }

    async fn log(
        &self,
        state: &AppState,
        instructor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), ApiError> {
        Ok(state
            .classroom
            .log_action(
                &self.class,
                instructor,
                action,
                Some(&self.student.id),
                detail,
            )
            .await?)
    }
}

fn ids(sessions: &[Arc<Session>]) -> Vec<String> {
    sessions.iter().map(|s| s.id.to_string()).collect()
}

fn minutes_of(body: &[u8]) -> Result<i64, ApiError> {
    let request: Extension = json_or_default(body)?;
    match request.minutes {
        Some(m) if (1..=MAX_EXTEND_MINUTES).contains(&m) => Ok(m),
        _ => Err(ApiError::BadRequest(format!(
            "expected {{\"minutes\": 1-{MAX_EXTEND_MINUTES}}}"
        ))),
    }
}

/// `POST /api/classes/{id}/students/{student}/reset` `{"lesson"}`: a fresh sandbox of that
/// lesson (its files and setup again), the student's progress kept; their open page moves
/// to it by itself.
pub async fn reset_student(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(ids_in_path): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let target = Target::find(&state, &instructor, &ids_in_path).await?;
    let request: LessonChoice = json_or_default(&body)?;
    let lesson_id = request
        .lesson
        .ok_or_else(|| ApiError::BadRequest("expected {\"lesson\": \"<lesson id>\"}".into()))?;
    let lesson = state
        .catalog()
        .get_shared(&lesson_id)
        .ok_or_else(|| ApiError::NoLesson(lesson_id.clone()))?;
    let replaced = target.running(Some(&lesson_id))?;
    let mut fresh = Vec::new();
    for old in &replaced {
        let new = state
            .sessions
            .replace(old, lesson.clone(), &instructor)
            .await?;
        fresh.push(new.id.to_string());
    }
    target.log(&state, &instructor, "reset", &lesson_id).await?;
    Ok(Json(json!({
        "student": target.student.id, "lesson": lesson_id,
        "replaced": ids(&replaced), "sessions": fresh,
    })))
}

/// What `restart` and `end` do to each of a student's sandboxes.
#[derive(Clone, Copy)]
enum Each {
    Restart,
    End,
}

/// `POST .../restart` `{"lesson"?}`: reboots the student's sandboxes; files stay.
pub async fn restart_student(
    state: State<AppState>,
    instructor: Instructor,
    ids_in_path: Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    each_sandbox(state, instructor, ids_in_path, body, Each::Restart).await
}

/// `POST .../end` `{"lesson"?}`: ends the student's sandboxes; progress stays.
pub async fn end_student(
    state: State<AppState>,
    instructor: Instructor,
    ids_in_path: Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    each_sandbox(state, instructor, ids_in_path, body, Each::End).await
}

async fn each_sandbox(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(ids_in_path): Path<(String, String)>,
    body: Bytes,
    each: Each,
) -> Result<Json<Value>, ApiError> {
    let target = Target::find(&state, &instructor, &ids_in_path).await?;
    let request: LessonChoice = json_or_default(&body)?;
    let lesson = request.lesson.as_deref();
    let reason = format!("{instructor} ended this sandbox");
    let sessions = target.running(lesson)?;
    for session in &sessions {
        match each {
            Each::Restart => state.sessions.reboot(session).await?,
            Each::End => state.sessions.end(session, &reason).await?,
        }
    }
    let action = match each {
        Each::Restart => "restart",
        Each::End => "end",
    };
    target
        .log(&state, &instructor, action, lesson.unwrap_or("all"))
        .await?;
    Ok(Json(
        json!({"student": target.student.id, "sessions": ids(&sessions)}),
    ))
}

/// `POST .../extend` `{"minutes"}`: adds to the lifetime of the student's sandboxes.
pub async fn extend_student(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(ids_in_path): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let target = Target::find(&state, &instructor, &ids_in_path).await?;
    let minutes = minutes_of(&body)?;
    let extended = extend_all(&state, &target.running(None)?, minutes).await?;
    target
        .log(&state, &instructor, "extend", &format!("{minutes} minutes"))
        .await?;
    Ok(Json(
        json!({"student": target.student.id, "minutes": minutes, "sessions": extended}),
    ))
}

async fn extend_all(
    state: &AppState,
    sessions: &[Arc<Session>],
    minutes: i64,
) -> Result<Vec<Value>, ApiError> {
    let mut extended = Vec::new();
    for session in sessions {
        let expires_at = state.sessions.extend(session, minutes * 60).await?;
        extended.push(json!({"id": session.id.to_string(), "expires_at": expires_at}));
    }
    Ok(extended)
}

/// Every live sandbox of the students of a class `instructor` teaches.
async fn class_sessions(
    state: &AppState,
    instructor: &str,
    class: &str,
) -> Result<Vec<Arc<Session>>, ApiError> {
    let browsers = state.classroom.class_browsers(instructor, class).await?;
    Ok(state.sessions.owned_by(&browsers))
}

/// `POST /api/classes/{id}/extend` `{"minutes"}`: every student's sandboxes live longer.
pub async fn extend_class(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let sessions = class_sessions(&state, &instructor, &id).await?;
    let minutes = minutes_of(&body)?;
    let extended = extend_all(&state, &sessions, minutes).await?;
    let detail = format!("{minutes} minutes, {} sandbox(es)", sessions.len());
    state
        .classroom
        .log_action(&id, &instructor, "extend-all", None, &detail)
        .await?;
    Ok(Json(
        json!({"class": id, "minutes": minutes, "sessions": extended}),
    ))
}

/// `POST /api/classes/{id}/end-all`: the class is over; every student's sandbox ends
/// (progress stays).
pub async fn end_class(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let sessions = class_sessions(&state, &instructor, &id).await?;
    let reason = format!("{instructor} ended the class's sandboxes");
    // All at once: a class of fifty should not wait for fifty removals in a row.
    let results =
        futures_util::future::join_all(sessions.iter().map(|s| state.sessions.end(s, &reason)))
            .await;
    let mut ended = Vec::new();
    let mut failure = None;
    for (session, result) in sessions.iter().zip(results) {
        match result {
            Ok(()) => ended.push(session.id.to_string()),
            Err(e) => {
                tracing::warn!(session = %session.id, "end-all: {e}");
                failure.get_or_insert(e);
            }
        }
    }
    let failed = sessions.len() - ended.len();
    let detail = format!("{} sandbox(es), {failed} could not be ended", ended.len());
    state
        .classroom
        .log_action(&id, &instructor, "end-all", None, &detail)
        .await?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(Json(json!({"class": id, "sessions": ended})))
}

/// `POST /api/classes/{id}/announce` `{"text"}`: shown on every student's open lesson page
/// now, and on pages opened within the hour.
pub async fn announce(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let sessions = class_sessions(&state, &instructor, &id).await?;
    let request: Announcement = json_or_default(&body)?;
    let text = request.text.unwrap_or_default().trim().to_string();
    let length = text.chars().count();
    if length == 0 || length > MAX_ANNOUNCEMENT_CHARS || text.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "expected {{\"text\"}}: one line of 1-{MAX_ANNOUNCEMENT_CHARS} characters"
        )));
    }
    state
        .classroom
        .log_action(&id, &instructor, ANNOUNCE, None, &text)
        .await?;
    let at = unix_now();
    for session in &sessions {
        session.terminal.notify(Notice::Announcement {
            text: text.clone(),
            by: instructor.clone(),
            at,
        });
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"class": id, "text": text, "at": at, "sessions": sessions.len()})),
    ))
}
