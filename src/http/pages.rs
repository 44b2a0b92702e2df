//! Server-rendered pages (minijinja templates compiled into the binary).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::AppState;
use super::owner::Owner;

/// Loads every page template.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("../../web/templates/base.html")),
        (
            "catalog.html",
            include_str!("../../web/templates/catalog.html"),
        ),
        (
            "practice.html",
            include_str!("../../web/templates/practice.html"),
        ),
        (
            "lesson.html",
            include_str!("../../web/templates/lesson.html"),
        ),
        ("login.html", include_str!("../../web/templates/login.html")),
        (
            "classes.html",
            include_str!("../../web/templates/classes.html"),
        ),
        ("class.html", include_str!("../../web/templates/class.html")),
        ("join.html", include_str!("../../web/templates/join.html")),
    ] {
        env.add_template(name, source)
            .expect("templates are checked by the test suite");
    }
    env
}

pub(super) fn page(state: &AppState, name: &str, values: Value) -> Response {
    match state
        .templates
        .get_template(name)
        .and_then(|t| t.render(values))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering {name} failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "page error").into_response()
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Track {
    name: String,
    lessons: Vec<CatalogEntry>,
    /// The estimated time of the whole track.
    minutes: u32,
    /// Lessons with every step passed.
    done: usize,
    /// `minutes` for people: "45 min", "6 h 10 min".
    duration: String,
}

fn duration(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[derive(Debug, Clone, Serialize)]
struct CatalogEntry {
    id: String,
    title: String,
    summary: String,
    level: String,
    minutes: u32,
    steps: usize,
    passed: usize,
}

/// `/`: the lessons by track with the visitor's progress, where to continue, and the way to
/// free practice.
pub async fn show_catalog(State(state): State<AppState>, Owner(owner): Owner) -> Response {
    let mut tracks: Vec<Track> = Vec::new();
    let catalog = state.catalog();
    let progress = match &owner {
        Some(o) => state.sessions.progress(&o.hash()).await.ok(),
        None => None,
    };
    for lesson in catalog.in_order() {
        let passed = progress.as_ref().map_or(0, |p| p.passed(lesson).len());
        let entry = CatalogEntry {
            id: lesson.id.clone(),
            title: lesson.title.clone(),
            summary: lesson.summary.clone(),
            level: format!("{:?}", lesson.level).to_lowercase(),
            minutes: lesson.minutes,
            steps: lesson.steps.len(),
            passed,
        };
        let at = tracks
            .iter()
            .position(|t| t.name == lesson.track)
            .unwrap_or_else(|| {
                tracks.push(Track {
                    name: lesson.track.clone(),
                    lessons: Vec::new(),
                    minutes: 0,
                    done: 0,
                    duration: String::new(),
                });
                tracks.len() - 1
            });
        let track = &mut tracks[at];
        track.minutes += entry.minutes;
        track.done += usize::from(entry.steps > 0 && entry.passed == entry.steps);
        track.lessons.push(entry);
    }
    for track in &mut tracks {
        track.duration = duration(track.minutes);
    }
    // The first lesson begun and not finished, in catalog order.
    let resume = tracks
        .iter()
        .flat_map(|t| &t.lessons)
        .find(|l| l.passed > 0 && l.passed < l.steps)
        .cloned();
    page(
        &state,
        "catalog.html",
        context! {
            version => env!("CARGO_PKG_VERSION"),
            idle_minutes => state.config.sandbox.idle_timeout_secs / 60,
            tracks => Value::from(minijinja::value::Serde(&tracks)),
            resume => resume.map(|r| Value::from(minijinja::value::Serde(r))),
        },
    )
}

/// `/practice`: a free sandbox with no lesson.
pub async fn show_practice(State(state): State<AppState>) -> Response {
    page(
        &state,
        "practice.html",
        context! {
            version => env!("CARGO_PKG_VERSION"),
            idle_minutes => state.config.sandbox.idle_timeout_secs / 60,
        },
    )
}

/// `/lessons/{id}`: the lesson beside its sandbox's terminal.
pub async fn show_lesson_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let catalog = state.catalog();
    let Some(lesson) = catalog.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Html("<h1>No such lesson</h1><p><a href=\"/\">All lessons</a></p>"),
        )
            .into_response();
    };
    page(
        &state,
        "lesson.html",
        context! {
            version => env!("CARGO_PKG_VERSION"),
            lesson => context! { id => lesson.id.clone(), title => lesson.title.clone(), summary => lesson.summary.clone() },
            next => catalog.next_after(&id).map(|n| context! { id => n.id.clone(), title => n.title.clone() }),
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(super::duration(45), "45 min");
        assert_eq!(super::duration(120), "2 h");
        assert_eq!(super::duration(370), "6 h 10 min");
    }

    #[test]
    fn every_template_parses() {
        let env = super::templates();
        for name in [
            "catalog.html",
            "practice.html",
            "lesson.html",
            "login.html",
            "classes.html",
            "class.html",
            "join.html",
        ] {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
