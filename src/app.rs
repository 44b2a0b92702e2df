//! Start-up and shutdown: builds every part from the config, binds the listener (so callers,
//! tests included, know the port), and serves until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::sandbox::Sandboxes;
use crate::session::Sessions;
use crate::store::Store;

/// After a stop is requested, open connections get this long to close before the server exits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A built server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    state: crate::http::AppState,
    stopping: watch::Sender<bool>,
}

impl Application {
    /// Connects to Docker, prepares the sandbox network, opens the database, re-adopts or
    /// sweeps earlier sandboxes, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        validate_instance(&config.instance)?;
        config.validate()?;
        let store = Arc::new(Store::open(&config.data_dir)?);
        let sandboxes = Sandboxes::connect(
            config.docker_host.as_deref(),
            &config.instance,
            config.sandbox.clone(),
        )
        .await?
        .for_server(store.server_id()?);
        let learners = crate::session::Learners::new(store.browser_links()?);
        let classroom = crate::classroom::Classroom::open(
            store.clone(),
            config.classroom.clone(),
            &config.data_dir,
            learners.clone(),
        )?;
        let sessions = Sessions::start(
            sandboxes.clone(),
            store,
            crate::event::Events::default(),
            learners,
        )
        .await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let (lessons, _) = load_catalog(&config, &sandboxes).await;
        let lessons = crate::lesson::SharedCatalog::new(crate::lesson::Catalog::new(lessons));
        if config.dev {
            tokio::spawn(reload_lessons_forever(
                config.clone(),
                sandboxes.clone(),
                lessons.clone(),
            ));
        }
        let (stopping, stop_rx) = watch::channel(false);
        let state = crate::http::state(
            Arc::new(config),
            sandboxes,
            sessions,
            classroom,
            lessons,
            stop_rx,
        );
        Ok(Self {
            listener,
            state,
            stopping,
        })
    }

    /// The stream of what happens to this server's sessions (for tests and classroom views).
    pub fn events(&self) -> crate::event::Events {
        self.state.sessions.events().clone()
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then closes terminals (browsers reconnect by
    /// themselves) and records activity. Sandboxes keep running for the next start.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            stopping,
        } = self;
        let sessions = state.sessions.clone();
        let mut stop_rx = stopping.subscribe();
        tokio::spawn(async move {
            shutdown.await;
            stopping.send_replace(true);
        });
        let stop = async move {
            // An error means the sender is gone, which also means stop.
            let _ = stop_rx.wait_for(|stop| *stop).await;
        };
        let served = crate::http::serve(listener, state, stop, SHUTDOWN_GRACE).await;
        sessions.stop();
        served?;
        sessions.persist_activity().await?;
        Ok(())
    }
}

/// Loads the lessons; a broken lesson, or one whose image is missing, is skipped with a
/// logged reason and the rest are served. Returns the good ones and the ids of the broken.
async fn load_catalog(
    config: &Config,
    sandboxes: &Sandboxes,
) -> (Vec<crate::lesson::Lesson>, Vec<String>) {
    let (lessons, errors) = crate::lesson::load_all(&config.lessons_dir);
    for error in &errors {
        tracing::warn!("skipping a broken lesson: {error}");
    }
    let named: Vec<String> = lessons
        .iter()
        .filter_map(|l| l.image.as_ref().map(|i| i.name.clone()))
        .collect();
    let missing = crate::sandbox::images::missing(sandboxes.docker(), named)
        .await
        .unwrap_or_default();
    let unusable = crate::lesson::missing_images(&lessons, &missing);
    for error in &unusable {
        tracing::warn!("skipping a lesson: {error}");
    }
    let lessons: Vec<_> = lessons
        .into_iter()
        .filter(|l| l.image.as_ref().is_none_or(|i| !missing.contains(&i.name)))
        .collect();
    tracing::info!("serving {} lesson(s)", lessons.len());
    let mut broken: Vec<String> = errors
        .iter()
        .chain(&unusable)
        .map(|e| e.lesson_id())
        .collect();
    broken.dedup();
    (lessons, broken)
}

/// How often `--dev` looks for changed lesson files.
const LESSON_POLL: Duration = Duration::from_secs(1);

/// `--dev`: reloads the lessons whenever a file under the lessons folder changes.
async fn reload_lessons_forever(
    config: Config,
    sandboxes: Sandboxes,
    lessons: crate::lesson::SharedCatalog,
) {
    let mut seen = crate::lesson::fingerprint(&config.lessons_dir);
    loop {
        tokio::time::sleep(LESSON_POLL).await;
        let now = crate::lesson::fingerprint(&config.lessons_dir);
        if now != seen {
            seen = now;
            tracing::info!("lesson files changed; reloading");
            let (good, broken) = load_catalog(&config, &sandboxes).await;
            lessons.reload(good, &broken);
        }
    }
}

/// Instance names go into container names and labels.
fn validate_instance(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    anyhow::ensure!(
        ok,
        "instance name {name:?} must be 1-40 letters, digits, '-' or '_'"
    );
    Ok(())
}
