//! The classroom's pages: instructor login, their classes, a class (its code large enough to
//! read from the back of a room, the join link as a QR code, the roster), and joining.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::AppState;
use super::auth::MaybeInstructor;
use super::error::ApiError;
use super::pages::page;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where a page that needs a login sends a visitor without one.
fn to_login(path: &str) -> Response {
    Redirect::to(&format!("/login?next={path}")).into_response()
}

pub async fn show_login(State(state): State<AppState>) -> Response {
    page(&state, "login.html", context! { version => VERSION })
}

pub async fn show_join(State(state): State<AppState>, Query(query): Query<JoinQuery>) -> Response {
    let code = query.code.unwrap_or_default();
    page(&state, "join.html", context! { version => VERSION, code })
}

#[derive(Debug, Deserialize)]
pub struct JoinQuery {
    code: Option<String>,
}

pub async fn show_classes(
    State(state): State<AppState>,
    MaybeInstructor(instructor): MaybeInstructor,
) -> Result<Response, ApiError> {
    let Some(instructor) = instructor else {
        return Ok(to_login("/classes"));
    };
    let classes = state.classroom.classes(&instructor).await?;
    let catalog = state.catalog();
    let lessons: Vec<Value> = catalog
        .in_order()
        .into_iter()
        .map(|l| context! { id => l.id.clone(), title => l.title.clone() })
        .collect();
    Ok(page(
        &state,
        "classes.html",
        context! {
            version => VERSION,
            instructor,
            lessons,
            classes => Value::from(minijinja::value::Serde(&classes)),
        },
    ))
}

pub async fn show_class(
    State(state): State<AppState>,
    MaybeInstructor(instructor): MaybeInstructor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(instructor) = instructor else {
        return Ok(to_login(&format!("/classes/{id}")));
    };
    let catalog = state.catalog();
    let (class, _) = state
        .classroom
        .class_with_roster(&instructor, &id, super::classes::step_keys(&state))
        .await?;
    let join_url = super::classes::join_url(&state, &headers, &class.join_code);
    let lessons: Vec<serde_json::Value> = class
        .lessons
        .iter()
        .map(|id| {
            let lesson = catalog.for_session(id);
            serde_json::json!({
                "id": id,
                "title": lesson.as_ref().map_or(id.clone(), |l| l.title.clone()),
                "steps": lesson.as_ref().map_or(0, |l| l.steps.len()),
            })
        })
        .collect();
    // `</` cannot appear in the JSON (titles are escaped), so it is safe inside <script>.
    let lessons_json = serde_json::to_string(&lessons)
        .unwrap_or_else(|_| "[]".into())
        .replace("</", "<\\/");
    Ok(page(
        &state,
        "class.html",
        context! {
            version => VERSION,
            class => Value::from(minijinja::value::Serde(&class)),
            lessons => Value::from(minijinja::value::Serde(&lessons)),
            lessons_json,
            join_url => join_url.clone(),
            qr => qr_svg(&join_url),
        },
    ))
}

/// The join link as an SVG QR code (empty if it cannot be encoded).
fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .build(),
        Err(e) => {
            tracing::warn!("no QR code for {url}: {e}");
            String::new()
        }
    }
}
