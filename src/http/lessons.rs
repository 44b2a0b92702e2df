//! Lesson routes: the catalog, one lesson, and checking a step of a session's lesson.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::owner::Owner;
use crate::lesson::{Lesson, Level};
use crate::session::{OwnerToken, StepVerdict};

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

async fn summarize(state: &AppState, lesson: &Lesson, owner: Option<&OwnerToken>) -> LessonSummary {
    let passed_steps = match owner {
        Some(o) => state
            .sessions
            .passed_steps(&o.hash(), lesson)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
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
    let mut lessons = Vec::new();
    for lesson in catalog.in_order() {
        lessons.push(summarize(&state, lesson, owner.as_ref()).await);
    }
    Json(lessons)
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
        summary: summarize(&state, lesson, owner.as_ref()).await,
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
