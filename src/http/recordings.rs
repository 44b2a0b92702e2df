//! Terminal recordings over HTTP, for a class's instructors: a student's recordings
//! (`GET /api/classes/{id}/students/{student}/recordings`), one as an asciicast file
//! (`.../recordings/{rec}.cast`), and the class setting that turns recording off.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Instructor;
use super::error::ApiError;
use super::sessions::json_or_default;
use crate::classroom::ClassroomError;

/// The media type of asciicast files.
const ASCIICAST: &str = "application/x-asciicast";

pub async fn list_recordings(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path((class, student)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let recordings = state
        .classroom
        .recordings(&instructor, &class, &student)
        .await?;
    let recordings: Vec<Value> = recordings
        .into_iter()
        .map(|r| {
            let url = format!(
                "/api/classes/{class}/students/{student}/recordings/{}.cast",
                r.id
            );
            let mut value = serde_json::to_value(&r).unwrap_or_default();
            value["url"] = json!(url);
            value
        })
        .collect();
    Ok(Json(
        json!({"class": class, "student": student, "recordings": recordings}),
    ))
}

pub async fn show_recording(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path((class, student, file)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let id = file
        .strip_suffix(".cast")
        .ok_or(ApiError::Classroom(ClassroomError::NoRecording))?;
    let (recording, path) = state
        .classroom
        .recording_file(&instructor, &class, &student, id)
        .await?;
    let mut cast = tokio::fs::read(&path).await.map_err(|e| {
        tracing::warn!(path = %path.display(), "recording unreadable: {e}");
        ApiError::Classroom(ClassroomError::NoRecording)
    })?;
    // A recording still going on may end in a half-written line; serve whole events only.
    let whole = cast.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    cast.truncate(whole);
    let name = format!(
        "attachment; filename=\"{}-{}.cast\"",
        recording.lesson.as_deref().unwrap_or("practice"),
        recording.started_at
    );
    let mut response = cast.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ASCIICAST));
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordingSetting {
    on: Option<bool>,
}

/// `POST /api/classes/{id}/recording` `{"on"}`: turning it off stops the recordings going
/// on now; turning it on records each student's terminal from its next opening.
pub async fn set_recording(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: RecordingSetting = json_or_default(&body)?;
    let on = request
        .on
        .ok_or_else(|| ApiError::BadRequest("expected {\"on\": true|false}".into()))?;
    let class = state.classroom.set_recording(&instructor, &id, on).await?;
    if !on {
        let browsers = state.classroom.class_browsers(&instructor, &class).await?;
        for session in state.sessions.owned_by(&browsers) {
            session.terminal.stop_recording();
            session.terminal.release_recording();
        }
    }
    let detail = if on { "on" } else { "off" };
    state
        .classroom
        .log_action(&class, &instructor, "recording", None, detail)
        .await?;
    Ok(Json(json!({"class": class, "record_terminals": on})))
}
