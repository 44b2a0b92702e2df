//! Lesson routes: the catalog, one lesson, and checking a step of a session's lesson.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::owner::Owner;
use crate::lesson::{Lesson, Level};
use crate::session::{OwnerToken, Progress, StepVerdict};

/// A lesson in the catalog, with the asking learner's progress.
#[derive(Debug, Serialize)]
pub struct LessonSummary {
    id: String,
    title: String,
    summary: String,
    track: String,
    level: &'static str,
    minutes: u32,
    steps: usize,
    passed_steps: Vec<usize>,
}

/// One lesson's outline (step texts come rendered with the session, see the session view).
#[derive(Debug, Serialize)]
pub struct LessonOutline {
    #[serde(flatten)]
    summary: LessonSummary,
    step_titles: Vec<String>,
    /// The next lesson in the same track, if any.
    next: Option<String>,
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Beginner => "beginner",
        Level::Intermediate => "intermediate",
        Level::Advanced => "advanced",
    }
}

/// What the owner has passed; nothing for a visitor without a cookie (or if it cannot be
/// read: the catalog is still worth showing).
async fn progress(state: &AppState, owner: Option<&OwnerToken>) -> Option<Progress> {
    state.sessions.progress(&owner?.hash()).await.ok()
}

fn summarize(lesson: &Lesson, progress: Option<&Progress>) -> LessonSummary {
    let passed_steps = progress.map(|p| p.passed(lesson)).unwrap_or_default();
    LessonSummary {
        id: lesson.id.clone(),
        title: lesson.title.clone(),
        summary: lesson.summary.clone(),
        track: lesson.track.clone(),
        level: level_name(lesson.level),
        minutes: lesson.minutes,
        steps: lesson.steps.len(),
        passed_steps,
    }
}

pub async fn list_lessons(
    State(state): State<AppState>,
    Owner(owner): Owner,
) -> Json<Vec<LessonSummary>> {
    let catalog = state.catalog();
    let progress = progress(&state, owner.as_ref()).await;
    Json(
        catalog
            .in_order()
            .into_iter()
            .map(|l| summarize(l, progress.as_ref()))
            .collect(),
    )
}

pub async fn show_lesson(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Json<LessonOutline>, ApiError> {
    let catalog = state.catalog();
    let lesson = catalog
        .get(&id)
        .ok_or_else(|| ApiError::NoLesson(id.clone()))?;
    Ok(Json(LessonOutline {
        summary: summarize(lesson, progress(&state, owner.as_ref()).await.as_ref()),
        step_titles: lesson.steps.iter().map(|s| s.title.clone()).collect(),
        next: catalog.next_in_track(&id).map(|n| n.id.clone()),
    }))
}

/// Body of `POST /api/sessions/{id}/check`; may be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    step: Option<usize>,
}

pub async fn check_step(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<StepVerdict>, ApiError> {
    let request: CheckRequest = super::sessions::json_or_default(&body)?;
    let session = state.sessions.get(&id, owner.as_ref())?;
    state.check_limit.take(&session.id.to_string())?;
    let verdict = state
        .sessions
        .check_step(&session, &state.catalog(), request.step)
        .await?;
    Ok(Json(verdict))
}
