//! The one place where domain errors become HTTP answers with a safe JSON message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::classroom::ClassroomError;
use crate::sandbox::SandboxError;
use crate::session::SessionError;

/// Seconds a client is told to wait before asking again when the server is full.
const RETRY_AFTER_FULL_SECS: u32 = 30;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Classroom(#[from] ClassroomError),
    #[error("{0}")]
    BadRequest(String),
    #[error("no lesson named {0:?}")]
    NoLesson(String),
    #[error("requests from other websites are refused")]
    ForeignOrigin,
    #[error(
        "you have {0} sandboxes running already; end one (or let it time out) before \
         starting another"
    )]
    TooManySandboxes(usize),
    #[error("too many requests; try again in {} seconds", retry_after.as_secs().max(1))]
    RateLimited { retry_after: std::time::Duration },
    /// An instructor's action found no sandbox to act on.
    #[error("{0}")]
    NothingRunning(String),
    #[error(
        "this server does not answer to that name; its operator can add the public URL \
         to allowed_origins"
    )]
    UnknownHost,
}

impl From<SandboxError> for ApiError {
    fn from(e: SandboxError) -> Self {
        Self::Session(SessionError::Sandbox(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut retry_after = RETRY_AFTER_FULL_SECS;
        let (status, message) = match &self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            ApiError::TooManySandboxes(_) => (StatusCode::CONFLICT, self.to_string()),
            ApiError::RateLimited { retry_after: wait } => {
                retry_after = wait.as_secs().max(1) as u32;
                (StatusCode::TOO_MANY_REQUESTS, self.to_string())
            }
            ApiError::Classroom(e) => {
                let status = classroom_status(e);
                if let ClassroomError::Throttled { retry_after: wait } = e {
                    retry_after = wait.as_secs().max(1) as u32;
                }
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!("{self}");
                    let safe = "the server could not do that; try again".to_string();
                    (status, safe)
                } else {
                    (status, self.to_string())
                }
            }
            ApiError::Session(SessionError::NotALesson | SessionError::NoSuchStep { .. }) => {
                (StatusCode::BAD_REQUEST, self.to_string())
            }
            ApiError::Session(SessionError::NoLesson(_)) => {
                (StatusCode::NOT_FOUND, self.to_string())
            }
            ApiError::Session(SessionError::BeingReset) => (StatusCode::CONFLICT, self.to_string()),
            ApiError::Session(SessionError::Unchecked(_)) => {
                tracing::error!("{self}");
                (StatusCode::INTERNAL_SERVER_ERROR, self.to_string())
            }
            ApiError::ForeignOrigin | ApiError::UnknownHost => {
                (StatusCode::FORBIDDEN, self.to_string())
            }
            ApiError::Session(SessionError::NotFound)
            | ApiError::NoLesson(_)
            | ApiError::NothingRunning(_) => (StatusCode::NOT_FOUND, self.to_string()),
            ApiError::Session(SessionError::Full { .. }) => {
                (StatusCode::SERVICE_UNAVAILABLE, self.to_string())
            }
            ApiError::Session(SessionError::Sandbox(SandboxError::ImageMissing { .. })) => {
                tracing::error!("{self}");
                (StatusCode::SERVICE_UNAVAILABLE, self.to_string())
            }
            ApiError::Session(SessionError::Sandbox(_)) => {
                tracing::error!("{self}");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the sandbox engine is not answering; try again shortly".to_string(),
                )
            }
            ApiError::Session(SessionError::Setup(_)) => {
                tracing::error!("{self}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "this lesson's sandbox could not be prepared; tell your instructor".to_string(),
                )
            }
            ApiError::Session(SessionError::Store(_) | SessionError::Interrupted(_)) => {
                tracing::error!("{self}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server could not save your session; try again".to_string(),
                )
            }
        };
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        if matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

fn classroom_status(error: &ClassroomError) -> StatusCode {
    match error {
        ClassroomError::BadName | ClassroomError::WeakPassword => StatusCode::BAD_REQUEST,
        ClassroomError::NameTaken(_) => StatusCode::CONFLICT,
        ClassroomError::NoInstructor(_)
        | ClassroomError::NoClass
        | ClassroomError::NoSuchCode
        | ClassroomError::NoSuchStudent
        | ClassroomError::NoRecording => StatusCode::NOT_FOUND,
        ClassroomError::Invalid(_) => StatusCode::BAD_REQUEST,
        ClassroomError::NotYourClass => StatusCode::FORBIDDEN,
        ClassroomError::ClassFull => StatusCode::CONFLICT,
        ClassroomError::WrongLogin | ClassroomError::NotLoggedIn => StatusCode::UNAUTHORIZED,
        ClassroomError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        ClassroomError::Hashing(_)
        | ClassroomError::Store(_)
        | ClassroomError::Interrupted(_)
        | ClassroomError::Recording(_)
        | ClassroomError::Key { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(error: ApiError) -> (StatusCode, bool) {
        let response = error.into_response();
        let retry = response.headers().contains_key(header::RETRY_AFTER);
        (response.status(), retry)
    }

    #[test]
    fn domain_errors_map_to_the_statuses_the_contract_names() {
        let cases = [
            (SessionError::NotALesson, StatusCode::BAD_REQUEST),
            (
                SessionError::NoSuchStep { step: 9, steps: 2 },
                StatusCode::BAD_REQUEST,
            ),
            (SessionError::NoLesson("x".into()), StatusCode::NOT_FOUND),
            (SessionError::NotFound, StatusCode::NOT_FOUND),
            (
                SessionError::Full { max: 1 },
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                SessionError::Unchecked("no python3".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                SessionError::Setup("exit 1".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, expected) in cases {
            let shown = error.to_string();
            let (got, retry) = status(ApiError::Session(error));
            assert_eq!(got, expected, "{shown}");
            assert_eq!(retry, got == StatusCode::SERVICE_UNAVAILABLE, "{shown}");
        }
        assert_eq!(
            status(ApiError::BadRequest("x".into())).0,
            StatusCode::BAD_REQUEST
        );
    }
}
