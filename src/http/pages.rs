//! Server-rendered pages (minijinja templates compiled into the binary).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, context};

use super::AppState;

/// Loads every page template.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("../../web/templates/base.html")),
        (
            "playground.html",
            include_str!("../../web/templates/playground.html"),
        ),
    ] {
        env.add_template(name, source)
            .expect("templates are checked by the test suite");
    }
    env
}

/// `/`: the playground, a sandbox and a terminal one click away.
pub async fn show_playground(State(state): State<AppState>) -> Response {
    let rendered = state
        .templates
        .get_template("playground.html")
        .and_then(|t| {
            t.render(context! {
                version => env!("CARGO_PKG_VERSION"),
                idle_minutes => state.config.sandbox.idle_timeout_secs / 60,
            })
        });
    match rendered {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering the playground failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "page error").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::templates();
        assert!(env.get_template("playground.html").is_ok());
    }
}
