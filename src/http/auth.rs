//! Instructor logins (`POST /api/auth/login`, `POST /api/auth/logout`) and who the caller
//! is (`GET /api/me`), with the login cookie and the extractor instructor routes use.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::owner::{Owner, read_cookie};
use crate::session::OwnerToken;

/// Name of the cookie holding an instructor's login token.
pub const LOGIN_COOKIE: &str = "pathshala_login";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    name: String,
    password: String,
}

#[derive(Debug, Serialize)]
struct LoggedIn {
    name: String,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: LoginRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("expected {{\"name\", \"password\"}}: {e}")))?;
    let login = state
        .classroom
        .login(client.ip(), &request.name, &request.password)
        .await?;
    let cookie = format!(
        "{LOGIN_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
        login.token.as_str(),
        login.max_age.as_secs()
    );
    let mut response = Json(LoggedIn { name: login.name }).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("hex token"),
    );
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = read_cookie::<OwnerToken>(&headers, LOGIN_COOKIE) {
        state.classroom.logout(&token).await?;
    }
    let expired = format!("{LOGIN_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&expired).expect("ascii"),
    );
    Ok(response)
}

/// Who is asking: `GET /api/me`.
#[derive(Debug, Serialize)]
pub struct Me {
    role: &'static str,
    name: Option<String>,
    class: Option<serde_json::Value>,
}

pub async fn show_me(
    State(state): State<AppState>,
    instructor: MaybeInstructor,
    Owner(owner): Owner,
) -> Result<Json<Me>, ApiError> {
    if let Some(name) = instructor.0 {
        return Ok(Json(Me {
            role: "instructor",
            name: Some(name),
            class: None,
        }));
    }
    let student = match &owner {
        Some(owner) => state.classroom.student_of(owner).await?,
        None => None,
    };
    Ok(Json(match student {
        Some((student, class)) => {
            // The class's latest announcement, for a page opened after it was made.
            let announcement = state
                .classroom
                .latest_announcement(&class.id, super::actions::ANNOUNCEMENT_SHOWN_SECS)
                .await?
                .map(|(text, by, at)| serde_json::json!({"text": text, "by": by, "at": at}));
            Me {
                role: "student",
                name: Some(student.name),
                class: Some(serde_json::json!({
                    "id": class.id, "name": class.name, "announcement": announcement,
                    "records_terminals": class.record_terminals,
                })),
            }
        }
        None => Me {
            role: "guest",
            name: None,
            class: None,
        },
    }))
}

/// The logged-in instructor, if the request carries a valid login cookie.
pub struct MaybeInstructor(pub Option<String>);

impl FromRequestParts<AppState> for MaybeInstructor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = read_cookie::<OwnerToken>(&parts.headers, LOGIN_COOKIE) else {
            return Ok(Self(None));
        };
        Ok(Self(state.classroom.instructor(&token).await?))
    }
}

/// A logged-in instructor: routes that take one answer 401 without a login.
pub struct Instructor(pub String);

impl FromRequestParts<AppState> for Instructor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match MaybeInstructor::from_request_parts(parts, state).await?.0 {
            Some(name) => Ok(Self(name)),
            None => Err(ApiError::Classroom(
                crate::classroom::ClassroomError::NotLoggedIn,
            )),
        }
    }
}
