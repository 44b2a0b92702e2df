//! Static files for the browser, compiled into the binary: our own scripts and styles, and
//! xterm.js with its fit add-on (installed from npm at build time).

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

/// Every asset: name, content type, bytes.
const ASSETS: [(&str, &str, &[u8]); 5] = [
    (
        "app.js",
        "text/javascript",
        include_bytes!("../../web/static/app.js"),
    ),
    (
        "app.css",
        "text/css",
        include_bytes!("../../web/static/app.css"),
    ),
    (
        "xterm.js",
        "text/javascript",
        vendor!("@xterm/xterm/lib/xterm.js"),
    ),
    (
        "xterm.css",
        "text/css",
        vendor!("@xterm/xterm/css/xterm.css"),
    ),
    (
        "addon-fit.js",
        "text/javascript",
        vendor!("@xterm/addon-fit/lib/addon-fit.js"),
    ),
];

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
