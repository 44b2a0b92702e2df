//! Class routes: instructors make and read their classes and rotate join codes; students
//! join with a code (or come back with their recovery code).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Instructor;
use super::error::ApiError;
use super::owner::{Owner, set_cookie};
use crate::classroom::{ClassView, NewClass, RosterEntry};
use crate::session::OwnerToken;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateClass {
    name: String,
    lessons: Vec<String>,
    opens_at: Option<i64>,
    closes_at: Option<i64>,
    max_students: Option<i64>,
    record_terminals: Option<bool>,
}

/// A class with the link students open to join it.
#[derive(Debug, Serialize)]
pub struct ClassAnswer {
    #[serde(flatten)]
    class: ClassView,
    join_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    roster: Option<Vec<RosterEntry>>,
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("expected {shape}: {e}")))
}

/// A lesson's step keys in order, from the catalog (or a lesson's last good version).
pub(super) fn step_keys(state: &AppState) -> impl Fn(&str) -> Vec<String> + Sync {
    let catalog = state.catalog();
    move |lesson: &str| {
        catalog
            .for_session(lesson)
            .map(|l| l.steps.iter().map(|s| s.key.clone()).collect())
            .unwrap_or_default()
    }
}

/// The address students open: the first public URL configured, else the one this request
/// came to.
pub(super) fn join_url(state: &AppState, headers: &HeaderMap, code: &str) -> String {
    let base = state
        .config
        .allowed_origins
        .first()
        .cloned()
        .unwrap_or_else(|| {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        });
    format!("{}/join?code={code}", base.trim_end_matches('/'))
}

fn answer(
    state: &AppState,
    headers: &HeaderMap,
    class: ClassView,
    roster: Option<Vec<RosterEntry>>,
) -> ClassAnswer {
    ClassAnswer {
        join_url: join_url(state, headers, &class.join_code),
        class,
        roster,
    }
}

pub async fn create_class(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateClass = parse(&body, "{\"name\", \"lessons\": [ids], ...}")?;
    let catalog = state.catalog();
    let new = NewClass {
        name: request.name,
        lessons: request.lessons,
        opens_at: request.opens_at,
        closes_at: request.closes_at,
        max_students: request.max_students,
        record_terminals: request.record_terminals.unwrap_or(true),
    };
    let class = state
        .classroom
        .create_class(&instructor, new, |id| catalog.get(id).is_some())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(answer(&state, &headers, class, None)),
    )
        .into_response())
}

pub async fn list_classes(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    headers: HeaderMap,
) -> Result<Json<Vec<ClassAnswer>>, ApiError> {
    let classes = state.classroom.classes(&instructor).await?;
    Ok(Json(
        classes
            .into_iter()
            .map(|c| answer(&state, &headers, c, None))
            .collect(),
    ))
}

pub async fn show_class(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ClassAnswer>, ApiError> {
    let (class, roster) = state
        .classroom
        .class_with_roster(&instructor, &id, step_keys(&state))
        .await?;
    Ok(Json(answer(&state, &headers, class, Some(roster))))
}

pub async fn rotate_join_code(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let code = state.classroom.rotate_code(&instructor, &id).await?;
    Ok(Json(serde_json::json!({ "join_code": code })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Invite {
    name: String,
}

pub async fn invite_instructor(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let invite: Invite = parse(&body, "{\"name\"}")?;
    state
        .classroom
        .invite(&instructor, &id, &invite.name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinRequest {
    code: String,
    name: Option<String>,
    recovery_code: Option<String>,
}

pub async fn join_class(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(client): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Owner(owner): Owner,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.join_limit.take(&client.ip())?;
    let request: JoinRequest = parse(
        &body,
        "{\"code\", \"name\"} or {\"code\", \"recovery_code\"}",
    )?;
    let fresh = owner.is_none();
    let token = owner.unwrap_or_else(OwnerToken::generate);
    let (status, joined) = match (request.name, request.recovery_code) {
        (_, Some(recovery)) => (
            StatusCode::OK,
            state
                .classroom
                .rejoin(&token, &request.code, &recovery)
                .await?,
        ),
        (Some(name), None) => (
            StatusCode::CREATED,
            state.classroom.join(&token, &request.code, &name).await?,
        ),
        (None, None) => {
            return Err(ApiError::BadRequest(
                "give your name (or your recovery code)".into(),
            ));
        }
    };
    let mut response = (status, Json(joined)).into_response();
    if fresh {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, set_cookie(&token));
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    kind: Option<String>,
}

/// The lessons of the catalog as the export needs them.
fn lesson_steps(state: &AppState) -> impl Fn(&str) -> crate::classroom::export::LessonSteps + Sync {
    let catalog = state.catalog();
    move |id: &str| crate::classroom::export::LessonSteps {
        id: id.to_string(),
        steps: catalog
            .for_session(id)
            .map(|l| {
                l.steps
                    .iter()
                    .map(|s| (s.key.clone(), s.title.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A name safe in a `Content-Disposition` file name.
fn file_name(class: &str, kind: &str) -> String {
    let stem: String = class
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{}-{kind}", stem.trim_matches('-'))
}

pub async fn export_csv(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<ExportQuery>,
) -> Result<Response, ApiError> {
    use crate::classroom::export;
    let kind = query.kind.as_deref().unwrap_or("steps");
    let class = state.classroom.class_of(&instructor, &id).await?;
    let (rows, book) = state
        .classroom
        .export(&instructor, &id, &lesson_steps(&state))
        .await?;
    let body = match kind {
        "steps" => export::steps_csv(&rows),
        "gradebook" => export::gradebook_csv(&class.lessons, &book),
        other => {
            return Err(ApiError::BadRequest(format!(
                "kind must be steps or gradebook, not {other:?}"
            )));
        }
    };
    // A byte-order mark, so spreadsheet programs read the names as UTF-8.
    let body = format!("\u{feff}{body}");
    let disposition = format!(
        "attachment; filename=\"{}.csv\"",
        file_name(&class.name, kind)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

pub async fn export_json(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (rows, book) = state
        .classroom
        .export(&instructor, &id, &lesson_steps(&state))
        .await?;
    let gradebook: Vec<serde_json::Value> = book
        .iter()
        .map(|row| {
            let lessons: serde_json::Map<String, serde_json::Value> = row
                .lessons
                .iter()
                .map(|(lesson, passed, total)| {
                    (
                        lesson.clone(),
                        serde_json::json!({"passed": passed, "total": total}),
                    )
                })
                .collect();
            serde_json::json!({
                "student": row.student,
                "student_id": row.student_id,
                "lessons": lessons,
                "last_activity": row.last_activity,
            })
        })
        .collect();
    Ok(Json(
        serde_json::json!({ "steps": rows, "gradebook": gradebook }),
    ))
}
