//! The HTTP edge: the route table, shared state, and the only module that imports axum.

mod actions;
mod assets;
mod auth;
mod class_pages;
mod classes;
mod error;
mod guard;
mod health;
mod lessons;
mod live;
mod owner;
mod pages;
mod preview;
mod rate;
mod recordings;
mod sessions;
mod terminal;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use error::ApiError;
pub use owner::OWNER_COOKIE;

use crate::config::Config;
use crate::sandbox::Sandboxes;
use crate::session::Sessions;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub sandboxes: Sandboxes,
    pub sessions: Sessions,
    /// Instructors, classes and students.
    pub classroom: crate::classroom::Classroom,
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Becomes true when the server is stopping; open terminals close themselves.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Joins per client address, per minute.
    pub join_limit: Arc<rate::RateLimit<std::net::IpAddr>>,
    /// Check runs per session, per minute.
    pub check_limit: Arc<rate::RateLimit<String>>,
    /// Terminal connections open now.
    pub connections: tokio::sync::watch::Sender<usize>,
    /// The lessons on offer (replaced whole when `--dev` sees a lesson file change).
    pub lessons: crate::lesson::SharedCatalog,
}

impl AppState {
    /// The lessons on offer now.
    pub fn catalog(&self) -> Arc<crate::lesson::Catalog> {
        self.lessons.current()
    }
}

/// Every route of the server, in one table.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::show_catalog))
        .route("/practice", get(pages::show_practice))
        .route("/lessons/{id}", get(pages::show_lesson_page))
        .route("/login", get(class_pages::show_login))
        .route("/join", get(class_pages::show_join))
        .route("/classes", get(class_pages::show_classes))
        .route("/classes/{id}", get(class_pages::show_class))
        .route("/assets/{name}", get(assets::serve_asset))
        .route("/favicon.ico", get(assets::serve_favicon))
        .route("/healthz", get(health::show_health))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(auth::show_me))
        .route(
            "/api/classes",
            get(classes::list_classes).post(classes::create_class),
        )
        .route("/api/classes/{id}", get(classes::show_class))
        .route(
            "/api/classes/{id}/join-code",
            post(classes::rotate_join_code),
        )
        .route(
            "/api/classes/{id}/instructors",
            post(classes::invite_instructor),
        )
        .route("/api/classes/{id}/live", get(live::live_stream))
        .route("/api/classes/{id}/heatmap", get(live::show_heatmap))
        .route(
            "/api/classes/{id}/students/{student}/dismiss",
            post(live::dismiss_flags),
        )
        .route("/api/sessions/{id}/help", post(live::ask_for_help))
        .route("/api/classes/{id}/watches", get(actions::list_watches))
        .route("/api/classes/{id}/actions", get(actions::list_actions))
        .route(
            "/api/classes/{id}/students/{student}/reset",
            post(actions::reset_student),
        )
        .route(
            "/api/classes/{id}/students/{student}/restart",
            post(actions::restart_student),
        )
        .route(
            "/api/classes/{id}/students/{student}/end",
            post(actions::end_student),
        )
        .route(
            "/api/classes/{id}/students/{student}/extend",
            post(actions::extend_student),
        )
        .route("/api/classes/{id}/extend", post(actions::extend_class))
        .route("/api/classes/{id}/end-all", post(actions::end_class))
        .route("/api/classes/{id}/announce", post(actions::announce))
        .route(
            "/api/classes/{id}/recording",
            post(recordings::set_recording),
        )
        .route(
            "/api/classes/{id}/students/{student}/recordings",
            get(recordings::list_recordings),
        )
        .route(
            "/api/classes/{id}/students/{student}/recordings/{file}",
            get(recordings::show_recording),
        )
        .route("/api/classes/{id}/export.csv", get(classes::export_csv))
        .route("/api/classes/{id}/export.json", get(classes::export_json))
        .route("/api/join", post(classes::join_class))
        .route("/api/lessons", get(lessons::list_lessons))
        .route("/api/lessons/{id}", get(lessons::show_lesson))
        .route("/api/sessions/{id}/check", post(lessons::check_step))
        .route("/api/sessions", post(sessions::create_session))
        .route(
            "/api/sessions/{id}",
            get(sessions::show_session).delete(sessions::delete_session),
        )
        .route(
            "/api/sessions/{id}/restart",
            post(sessions::restart_session),
        )
        // Pages, assets and JSON are gzipped for learners on slow links (xterm.js: 480 KB to
        // about 120 KB); event streams are not (tower-http leaves text/event-stream alone).
        // The terminal socket and a learner's own server (preview) are left as they are.
        .layer(tower_http::compression::CompressionLayer::new())
        .route("/api/sessions/{id}/terminal", get(terminal::open_terminal))
        .route(
            "/preview/{id}/{port}/",
            axum::routing::any(preview::preview_root),
        )
        .route(
            "/preview/{id}/{port}/{*rest}",
            axum::routing::any(preview::preview_path),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard_requests,
        ))
        .with_state(state)
}

/// Builds the state from its parts.
pub fn state(
    config: Arc<Config>,
    sandboxes: Sandboxes,
    sessions: Sessions,
    classroom: crate::classroom::Classroom,
    lessons: crate::lesson::SharedCatalog,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> AppState {
    let join_limit = Arc::new(rate::RateLimit::new(config.classroom.joins_per_minute));
    let check_limit = Arc::new(rate::RateLimit::new(config.classroom.checks_per_minute));
    AppState {
        config,
        sandboxes,
        sessions,
        classroom,
        join_limit,
        check_limit,
        templates: Arc::new(pages::templates()),
        stopping,
        connections: tokio::sync::watch::Sender::new(0),
        lessons,
    }
}

/// Serves `state` on `listener` until `stop` completes, then waits (at most `grace`) for open
/// terminals to say goodbye.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> std::io::Result<()> {
    let mut connections = state.connections.subscribe();
    let mut stopping = state.stopping.clone();
    // Client addresses let logins and joins be limited per client.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    let goodbyes = async {
        // Errors mean the count is gone, which also means nobody is left.
        let _ = stopping.wait_for(|stop| *stop).await;
        let _ = connections.wait_for(|open| *open == 0).await;
    };
    if tokio::time::timeout(grace, goodbyes).await.is_err() {
        tracing::warn!("terminals still open after {grace:?}; exiting anyway");
    }
    Ok(())
}
