//! Static files for the browser, compiled into the binary: our own scripts and styles,
//! xterm.js with its fit add-on, and asciinema-player (installed from npm at build time).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// How long browsers may cache assets; names change with the version, see `asset_url`.
const CACHE_CONTROL: &str = "public, max-age=86400";

macro_rules! vendor {
    ($path:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/node_modules/", $path))
    };
}

macro_rules! ours {
    ($name:literal) => {
        include_bytes!(concat!("../../web/static/", $name))
    };
}

const JS: &str = "text/javascript";
const CSS: &str = "text/css";

/// Every asset: name, content type, bytes.
const ASSETS: [(&str, &str, &[u8]); 13] = [
    ("terminal.js", JS, ours!("terminal.js")),
    ("classroom.js", JS, ours!("classroom.js")),
    ("playground.js", JS, ours!("playground.js")),
    ("lesson.js", JS, ours!("lesson.js")),
    ("instructor.js", JS, ours!("instructor.js")),
    ("app.css", CSS, ours!("app.css")),
    ("favicon.svg", "image/svg+xml", ours!("favicon.svg")),
    ("xterm.js", JS, vendor!("@xterm/xterm/lib/xterm.js")),
    ("xterm.css", CSS, vendor!("@xterm/xterm/css/xterm.css")),
    (
        "addon-fit.js",
        JS,
        vendor!("@xterm/addon-fit/lib/addon-fit.js"),
    ),
    // The replay of recorded terminals on the class page.
    (
        "asciinema-player.js",
        JS,
        vendor!("asciinema-player/dist/bundle/asciinema-player.min.js"),
    ),
    (
        "asciinema-player.css",
        CSS,
        vendor!("asciinema-player/dist/bundle/asciinema-player.css"),
    ),
    (
        "lesson.schema.json",
        "application/schema+json",
        include_bytes!("../../lessons/lesson.schema.json"),
    ),
];

/// `/favicon.ico`: browsers ask for it whatever the page links.
pub async fn serve_favicon() -> Response {
    serve_asset(Path("favicon.svg".to_string())).await
}

pub async fn serve_asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, CACHE_CONTROL),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
