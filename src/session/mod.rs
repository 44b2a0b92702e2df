//! Sessions: a learner's sandbox and terminal, who owns them, how long they live, and how
//! they are re-adopted after a server restart.

mod id;
mod learners;
mod lifecycle;
pub mod recording;
mod study;
pub mod terminal;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub use id::{OwnerToken, SessionId};
pub use learners::Learners;
pub use study::{LessonView, Progress, StepVerdict, StepView, current_step};
pub use terminal::{Attachment, Terminal, TerminalState};

use crate::config::SandboxConfig;
use crate::event::{Event, Events};
use crate::lesson::{Lesson, render};
use crate::sandbox::{SandboxError, Sandboxes};
use crate::store::{Store, StoreError, StoredSession};
use terminal::unix_now;

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("all {max} sandboxes are in use; try again in a few minutes")]
    Full { max: usize },
    #[error("no such session")]
    NotFound,
    #[error("creating the sandbox was interrupted: {0}")]
    Interrupted(String),
    #[error("the lesson's setup failed: {0}")]
    Setup(String),
    #[error("this session has no lesson to check")]
    NotALesson,
    #[error("no lesson named {0:?}")]
    NoLesson(String),
    #[error("step {step} does not exist; this lesson has {steps}")]
    NoSuchStep { step: usize, steps: usize },
    #[error("the checks could not run: {0}")]
    Unchecked(String),
    #[error("this sandbox is being reset already")]
    BeingReset,
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One learner's session.
pub struct Session {
    pub id: SessionId,
    owner_hash: String,
    pub container_id: String,
    /// Unix seconds.
    pub created_at: i64,
    pub terminal: Terminal,
    /// The lesson this sandbox is for, with the learner's own values.
    pub lesson: Option<SessionLesson>,
    /// Lifetime an instructor added, in seconds.
    extra_secs: std::sync::atomic::AtomicI64,
    /// Set while a reset replaces this session, so two resets never make two sandboxes.
    replacing: std::sync::atomic::AtomicBool,
}

/// A lesson a session was started for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLesson {
    pub id: String,
    /// The learner's values for the lesson's vars.
    pub values: BTreeMap<String, String>,
}

impl Session {
    /// The hash of the owner's token: the key of their progress.
    pub fn owner_hash(&self) -> &str {
        &self.owner_hash
    }

    /// The learner's values for the session's lesson (none for free practice).
    pub fn values(&self) -> &render::Values {
        static NONE: render::Values = render::Values::new();
        self.lesson.as_ref().map_or(&NONE, |l| &l.values)
    }

    /// Lifetime an instructor added, in seconds.
    pub fn extra_secs(&self) -> i64 {
        self.extra_secs.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// When the sandbox reaches its maximum lifetime (unix seconds).
    pub fn expires_at(&self, limits: &SandboxConfig) -> i64 {
        lifecycle::lifetime_end(limits, self.created_at, self.extra_secs())
    }

    pub fn state(&self) -> &'static str {
        match *self.terminal.state().borrow() {
            TerminalState::Running => "running",
            TerminalState::Ended(_) => "ended",
        }
    }
}

/// Every live session of this server.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    sandboxes: Sandboxes,
    store: Arc<Store>,
    events: Events,
    learners: Learners,
    live: Mutex<Live>,
    reaper: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A place under the cap, held while a sandbox is being created.
struct Slot(Sessions);

impl Slot {
    /// A place whether or not the cap is reached: for a sandbox that replaces another.
    fn take(sessions: &Sessions) -> Self {
        sessions.live().starting += 1;
        Self(sessions.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.live().starting -= 1;
    }
}

#[derive(Default)]
struct Live {
    sessions: HashMap<SessionId, Arc<Session>>,
    /// Sandboxes being created right now; they count against the cap.
    starting: usize,
}

impl Sessions {
    /// Re-adopts the sandboxes of stored sessions that are still valid, removes every other
    /// container labelled with this instance, and starts the reaper.
    pub async fn start(
        sandboxes: Sandboxes,
        store: Arc<Store>,
        events: Events,
        learners: Learners,
    ) -> Result<Self, SessionError> {
        let sessions = Self {
            inner: Arc::new(Inner {
                sandboxes,
                store,
                events,
                learners,
                live: Mutex::new(Live::default()),
                reaper: Mutex::new(None),
            }),
        };
        lifecycle::recover(&sessions).await?;
        let reaper = tokio::spawn(lifecycle::reap_forever(sessions.clone()));
        *sessions
            .inner
            .reaper
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(reaper);
        Ok(sessions)
    }

    /// Runs a store call on a blocking thread, never on the async workers.
    async fn store<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, SessionError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || call(&store))
            .await
            .map_err(|e| SessionError::Interrupted(e.to_string()))?
            .map_err(SessionError::from)
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.inner.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn limits(&self) -> &SandboxConfig {
        self.inner.sandboxes.limits()
    }

    /// The stream of what happens to this server's sessions.
    pub fn events(&self) -> &Events {
        &self.inner.events
    }

    /// Creates a sandbox for `owner`, for `lesson` (with fresh values for its vars, its
    /// image, files and setup) or for free practice; or says the server is full. The work
    /// runs in its own task, so a client that hangs up half-way cannot leave a container
    /// unrecorded, and the slot it reserved is released however the creation ends.
    pub async fn create(
        &self,
        owner: &OwnerToken,
        lesson: Option<Arc<Lesson>>,
    ) -> Result<Arc<Session>, SessionError> {
        let slot = self.reserve_slot()?;
        let sessions = self.clone();
        let owner = owner.hash();
        tokio::spawn(async move {
            let _slot = slot;
            sessions.create_reserved(owner, lesson, None).await
        })
        .await
        .unwrap_or_else(|e| Err(SessionError::Interrupted(e.to_string())))
    }

    /// Replaces a session with a fresh sandbox of the same lesson (its files and setup
    /// again, the learner's values kept) for the same owner, then ends the old one, whose
    /// open pages are sent to the new one. Progress, kept per learner, stays.
    pub async fn replace(
        &self,
        old: &Arc<Session>,
        lesson: Arc<Lesson>,
        by: &str,
    ) -> Result<Arc<Session>, SessionError> {
        use std::sync::atomic::Ordering;
        if old.replacing.swap(true, Ordering::SeqCst) {
            return Err(SessionError::BeingReset);
        }
        // The old sandbox makes room for the new one under the cap, whoever else waits.
        let slot = Slot::take(self);
        let sessions = self.clone();
        let owner = old.owner_hash.clone();
        let values = old
            .lesson
            .as_ref()
            .filter(|l| l.id == lesson.id)
            .map(|l| l.values.clone());
        let fresh = tokio::spawn(async move {
            let _slot = slot;
            sessions.create_reserved(owner, Some(lesson), values).await
        })
        .await
        .unwrap_or_else(|e| Err(SessionError::Interrupted(e.to_string())))
        .inspect_err(|_| old.replacing.store(false, Ordering::SeqCst))?;
        old.terminal.notify(terminal::Notice::Replaced {
            session: fresh.id.to_string(),
            by: by.to_string(),
        });
        self.remove(&old.id, &format!("{by} reset this sandbox"))
            .await?;
        Ok(fresh)
    }

    /// Ends a session whoever owns it (an instructor's action), telling its pages why.
    pub async fn end(&self, session: &Session, reason: &str) -> Result<(), SessionError> {
        self.remove(&session.id, reason).await
    }

    /// Restarts a session's sandbox like a reboot, whoever owns it (an instructor's action).
    pub async fn reboot(&self, session: &Session) -> Result<(), SessionError> {
        Ok(self.inner.sandboxes.restart(&session.container_id).await?)
    }

    /// Adds `secs` to a session's lifetime, up to the configured lifetime again (an
    /// instructor can at most double it); returns when it now expires.
    pub async fn extend(&self, session: &Session, secs: i64) -> Result<i64, SessionError> {
        let most = self.limits().max_lifetime_secs as i64;
        let previous = session
            .extra_secs
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |extra| Some((extra + secs).min(most)),
            )
            .unwrap_or_default();
        let extra = (previous + secs).min(most);
        let id = session.id.to_string();
        self.store(move |s| s.extend_session(&id, extra)).await?;
        Ok(session.expires_at(self.limits()))
    }

    fn reserve_slot(&self) -> Result<Slot, SessionError> {
        let max = self.limits().max_sandboxes;
        let mut live = self.live();
        if live.sessions.len() + live.starting >= max {
            return Err(SessionError::Full { max });
        }
        live.starting += 1;
        Ok(Slot(self.clone()))
    }

    /// Creates a sandbox in a reserved slot; `values` keeps a learner's values for the
    /// lesson's vars (a reset), where they still fit the lesson.
    async fn create_reserved(
        &self,
        owner_hash: String,
        lesson: Option<Arc<Lesson>>,
        values: Option<render::Values>,
    ) -> Result<Arc<Session>, SessionError> {
        let id = SessionId::new();
        let sandboxes = &self.inner.sandboxes;
        let image = lesson
            .as_ref()
            .and_then(|l| l.image.as_ref().map(|i| i.name.as_str()));
        let container_id = sandboxes.create_from(id.as_str(), image).await?;
        let lesson = lesson.map(|l| {
            let fresh = render::generate(&l);
            let values = values
                .filter(|v| v.keys().eq(fresh.keys()))
                .unwrap_or(fresh);
            (l, values)
        });
        if let Some((lesson, values)) = &lesson
            && let Err(e) =
                crate::lesson::run::prepare(sandboxes, &container_id, lesson, values).await
        {
            // Best effort: the preparation failure is the one worth reporting.
            let _ = sandboxes.remove(&container_id).await;
            return Err(match e {
                crate::lesson::run::PrepareError::Sandbox(e) => SessionError::Sandbox(e),
                other => SessionError::Setup(other.to_string()),
            });
        }
        let now = unix_now();
        let lesson = lesson.map(|(lesson, values)| SessionLesson {
            id: lesson.id.clone(),
            values,
        });
        let stored = StoredSession {
            id: id.to_string(),
            owner_hash,
            container_id: container_id.clone(),
            created_at: now,
            last_active: now,
            lesson_id: lesson.as_ref().map(|l| l.id.clone()),
            lesson_values: lesson
                .as_ref()
                .map(|l| serde_json::to_string(&l.values).unwrap_or_default()),
            extra_secs: 0,
        };
        let record = stored.clone();
        if let Err(e) = self.store(move |s| s.insert_session(&record)).await {
            // Without a record the sandbox could not be re-adopted or cleaned up later.
            let _ = sandboxes.remove(&container_id).await;
            return Err(e);
        }
        let session = self.adopt(stored);
        self.inner.events.emit(Event::SessionStarted {
            session: session.id.to_string(),
            owner: session.owner_hash.clone(),
            lesson: session.lesson.as_ref().map(|l| l.id.clone()),
        });
        Ok(session)
    }

    /// Puts a stored session with a running container into service.
    fn adopt(&self, stored: StoredSession) -> Arc<Session> {
        let id = SessionId::parse(&stored.id).unwrap_or_default();
        let terminal = Terminal::spawn(
            self.inner.sandboxes.clone(),
            stored.container_id.clone(),
            stored.last_active,
        );
        let lesson = stored.lesson_id.map(|id| SessionLesson {
            id,
            values: stored
                .lesson_values
                .and_then(|v| serde_json::from_str(&v).ok())
                .unwrap_or_default(),
        });
        let session = Arc::new(Session {
            id: id.clone(),
            owner_hash: stored.owner_hash,
            container_id: stored.container_id,
            created_at: stored.created_at,
            terminal,
            lesson,
            extra_secs: std::sync::atomic::AtomicI64::new(stored.extra_secs),
            replacing: std::sync::atomic::AtomicBool::new(false),
        });
        self.live().sessions.insert(id, session.clone());
        session
    }

    /// The session, if it exists and belongs to `owner`; someone else's looks like no session.
    pub fn get(&self, id: &str, owner: Option<&OwnerToken>) -> Result<Arc<Session>, SessionError> {
        let owner = owner.ok_or(SessionError::NotFound)?;
        let session = self.find(id)?;
        // The browser that made it, or another browser of the same student.
        if !self.inner.learners.same(&session.owner_hash, &owner.hash()) {
            return Err(SessionError::NotFound);
        }
        Ok(session)
    }

    /// The session whoever owns it: for callers that check who may see it themselves (an
    /// instructor of the owner's class).
    pub fn find(&self, id: &str) -> Result<Arc<Session>, SessionError> {
        let id = SessionId::parse(id).ok_or(SessionError::NotFound)?;
        self.live()
            .sessions
            .get(&id)
            .cloned()
            .ok_or(SessionError::NotFound)
    }

    /// Ends `owner`'s session and removes its container before returning.
    pub async fn delete(&self, id: &str, owner: Option<&OwnerToken>) -> Result<(), SessionError> {
        let session = self.get(id, owner)?;
        self.remove(&session.id, "the sandbox was deleted").await
    }

    /// Restarts `owner`'s sandbox like a reboot; its terminal comes back with a new shell.
    pub async fn restart(&self, id: &str, owner: Option<&OwnerToken>) -> Result<(), SessionError> {
        let session = self.get(id, owner)?;
        self.inner.sandboxes.restart(&session.container_id).await?;
        Ok(())
    }

    /// Removes a session whoever owns it (lifecycle limits, a dead sandbox), telling its
    /// browsers `reason`. The container goes first: if the engine refuses, the session stays
    /// as it was (still counted, still usable) and the error is returned.
    async fn remove(&self, id: &SessionId, reason: &str) -> Result<(), SessionError> {
        let Some(session) = self.live().sessions.get(id).cloned() else {
            return Ok(());
        };
        self.inner.sandboxes.remove(&session.container_id).await?;
        self.live().sessions.remove(id);
        session.terminal.close(reason);
        let owned = id.to_string();
        self.store(move |s| s.delete_session(&owned)).await?;
        self.inner.events.emit(Event::SessionEnded {
            session: id.to_string(),
            owner: session.owner_hash.clone(),
            reason: reason.to_string(),
        });
        Ok(())
    }

    /// Attaches a browser to the session's terminal; the attachment and its end are
    /// published as events.
    pub fn attach(&self, session: &Session) -> Attachment {
        let (events, id) = (self.inner.events.clone(), session.id.to_string());
        let attachment = session.terminal.attach(Box::new(move |attached| {
            events.emit(Event::TerminalDetached {
                session: id,
                attached,
            });
        }));
        self.inner.events.emit(Event::TerminalAttached {
            session: session.id.to_string(),
            attached: session.terminal.attached(),
        });
        attachment
    }

    /// The sandboxes this server runs sessions in (for checks).
    pub fn sandboxes(&self) -> &Sandboxes {
        &self.inner.sandboxes
    }

    /// Live sessions owned by any of these browsers (a student's browsers).
    pub fn count_owned_by(&self, owner_hashes: &[String]) -> usize {
        self.live()
            .sessions
            .values()
            .filter(|s| owner_hashes.contains(&s.owner_hash))
            .count()
    }

    /// The live sessions owned by any of these browsers (a student's browsers).
    pub fn owned_by(&self, owner_hashes: &[String]) -> Vec<Arc<Session>> {
        self.live()
            .sessions
            .values()
            .filter(|s| owner_hashes.contains(&s.owner_hash))
            .cloned()
            .collect()
    }

    /// The owner hash of a live session.
    pub fn owner_of(&self, id: &str) -> Option<String> {
        let id = SessionId::parse(id)?;
        self.live().sessions.get(&id).map(|s| s.owner_hash.clone())
    }

    /// Number of live sessions.
    pub fn count(&self) -> usize {
        self.live().sessions.len()
    }

    fn snapshot(&self) -> Vec<Arc<Session>> {
        self.live().sessions.values().cloned().collect()
    }

    /// Stops the background work of this server's sessions (reaper, shell drivers) without
    /// ending the sessions: their sandboxes keep running for the next start to re-adopt.
    pub fn stop(&self) {
        if let Some(reaper) = self
            .inner
            .reaper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            reaper.abort();
        }
        for session in self.snapshot() {
            session.terminal.stop();
        }
    }

    /// Records activity so that limits keep counting across a restart; sandboxes are left
    /// running for the next start to re-adopt.
    pub async fn persist_activity(&self) -> Result<(), SessionError> {
        let activity: Vec<_> = self
            .snapshot()
            .iter()
            .map(|s| {
                // A browser attached right now is activity, even without keystrokes.
                let at = if s.terminal.attached() > 0 {
                    unix_now()
                } else {
                    s.terminal.last_active()
                };
                (s.id.to_string(), at)
            })
            .collect();
        self.store(move |s| s.touch_sessions(&activity)).await
    }
}
