//! The classroom: instructors and their logins (this module), and the classes, join codes
//! and students built on them. Store calls run on blocking threads, never on the async
//! workers; passwords are hashed there too (`password.rs`); failed logins are throttled per
//! client address (`throttle.rs`).

mod classes;
pub mod code;
pub mod export;
pub mod live;
mod live_state;
mod log;
mod password;
mod recordings;
mod throttle;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use classes::{ClassView, Joined, NewClass, RosterEntry};
pub use live_state::{LiveStudent, lesson_keys};
pub use log::ANNOUNCE;
pub use password::MIN_PASSWORD_CHARS;
use throttle::{Throttle, Verdict};

use crate::config::ClassroomConfig;
use crate::session::OwnerToken;
use crate::session::terminal::unix_now;
use crate::store::{Store, StoreError};

/// Why a classroom operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClassroomError {
    #[error("an instructor's name is 1-40 letters, digits, '.', '_' or '-'")]
    BadName,
    #[error("an instructor named {0:?} exists already")]
    NameTaken(String),
    #[error("no instructor named {0:?}")]
    NoInstructor(String),
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("wrong name or password")]
    WrongLogin,
    #[error("too many failed logins from this address; try again in {} minute(s)", retry_after.as_secs().div_ceil(60))]
    Throttled { retry_after: Duration },
    #[error("log in as an instructor first")]
    NotLoggedIn,
    #[error("{0}")]
    Invalid(String),
    #[error("no such class")]
    NoClass,
    #[error("this class is not yours")]
    NotYourClass,
    #[error("no open class has that code; check it with your instructor")]
    NoSuchCode,
    #[error("that recovery code does not belong to a student of this class")]
    NoSuchStudent,
    #[error("no such recording")]
    NoRecording,
    #[error("cannot write the terminal recording: {0}")]
    Recording(std::io::Error),
    #[error("this class is full; ask your instructor")]
    ClassFull,
    #[error("cannot read or write the join-code key {path}: {source}")]
    Key {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database call was interrupted: {0}")]
    Interrupted(String),
}

/// Instructors, classes and students of this server.
#[derive(Clone)]
pub struct Classroom {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    /// The secret join codes are derived from (see `code.rs`).
    code_key: Vec<u8>,
    /// Told of every browser that joins, so the student's sandboxes follow them.
    learners: crate::session::Learners,
    limits: ClassroomConfig,
    throttle: Mutex<Throttle>,
    /// Help and dismissed stuck flags of the live view.
    flags: Mutex<live_state::FlagBook>,
    /// Where terminal recordings are kept, a folder per class.
    recordings_dir: std::path::PathBuf,
}

/// A logged-in instructor's secret (the cookie's value); only its hash is stored.
pub struct Login {
    pub token: OwnerToken,
    pub name: String,
    pub max_age: Duration,
}

impl Classroom {
    /// The classroom of the database `store` in `data_dir`, whose join-code key is kept in
    /// `data_dir/join-codes.key` (made on first use, readable by this user only).
    pub fn open(
        store: Arc<Store>,
        limits: ClassroomConfig,
        data_dir: &std::path::Path,
        learners: crate::session::Learners,
    ) -> Result<Self, ClassroomError> {
        let code_key = code_key(&data_dir.join(CODE_KEY_FILE))?;
        Ok(Self {
            inner: Arc::new(Inner {
                throttle: Mutex::new(Throttle::new(limits.clone())),
                flags: Mutex::default(),
                recordings_dir: data_dir.join("recordings"),
                store,
                code_key,
                learners,
                limits,
            }),
        })
    }

    /// Runs a store call on a blocking thread.
    async fn store<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ClassroomError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || call(&store))
            .await
            .map_err(|e| ClassroomError::Interrupted(e.to_string()))?
            .map_err(ClassroomError::from)
    }

    /// Adds an instructor with `password` (hashed with Argon2id).
    pub async fn add_instructor(&self, name: &str, password: &str) -> Result<(), ClassroomError> {
        let name = valid_name(name)?;
        let hash = hash_new(password).await?;
        let taken = name.clone();
        let added = self
            .store(move |s| s.add_instructor(&name, &hash, unix_now()))
            .await?;
        if added {
            Ok(())
        } else {
            Err(ClassroomError::NameTaken(taken))
        }
    }

    /// Every instructor and when they were added (unix seconds).
    pub async fn instructors(&self) -> Result<Vec<(String, i64)>, ClassroomError> {
        self.store(|s| s.instructors()).await
    }

    /// Removes an instructor and ends their logins.
    pub async fn remove_instructor(&self, name: &str) -> Result<(), ClassroomError> {
        let owned = name.to_string();
        if self.store(move |s| s.remove_instructor(&owned)).await? {
            Ok(())
        } else {
            Err(ClassroomError::NoInstructor(name.to_string()))
        }
    }

    /// Sets a new password and ends the instructor's logins.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), ClassroomError> {
        let hash = hash_new(password).await?;
        let owned = name.to_string();
        if self
            .store(move |s| s.set_instructor_password(&owned, &hash))
            .await?
        {
            Ok(())
        } else {
            Err(ClassroomError::NoInstructor(name.to_string()))
        }
    }

    /// Logs an instructor in from `client`: slowed after a few failures from that address,
    /// refused after more. A wrong name and a wrong password get the same answer.
    pub async fn login(
        &self,
        client: IpAddr,
        name: &str,
        password: &str,
    ) -> Result<Login, ClassroomError> {
        let verdict = self.throttle().check(client, Instant::now());
        match verdict {
            Verdict::Refused(retry_after) => return Err(ClassroomError::Throttled { retry_after }),
            Verdict::Proceed(pause) => tokio::time::sleep(pause).await,
        }
        let owned = name.to_string();
        let stored = self.store(move |s| s.instructor(&owned)).await?;
        let ok = password::verify(password.to_string(), stored.map(|i| i.password_hash)).await;
        if !ok {
            self.throttle().failed(client, Instant::now());
            return Err(ClassroomError::WrongLogin);
        }
        self.throttle().succeeded(client);
        let token = OwnerToken::generate();
        let max_age = Duration::from_secs(self.inner.limits.login_session_secs);
        let (hash, owned) = (token.hash(), name.to_string());
        let expires = unix_now() + max_age.as_secs() as i64;
        self.store(move |s| s.add_login(&hash, &owned, expires))
            .await?;
        Ok(Login {
            token,
            name: name.to_string(),
            max_age,
        })
    }

    /// The instructor a login token belongs to, while it lasts.
    pub async fn instructor(&self, token: &OwnerToken) -> Result<Option<String>, ClassroomError> {
        let hash = token.hash();
        self.store(move |s| s.login(&hash, unix_now())).await
    }

    /// Ends a login (and forgets expired ones).
    pub async fn logout(&self, token: &OwnerToken) -> Result<(), ClassroomError> {
        let hash = token.hash();
        self.store(move |s| s.remove_login(&hash, unix_now())).await
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.inner
            .throttle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The file beside the database that holds the join-code key.
const CODE_KEY_FILE: &str = "join-codes.key";

/// Reads the join-code key, making a random one (mode 0600) if there is none.
fn code_key(path: &std::path::Path) -> Result<Vec<u8>, ClassroomError> {
    let failed = |source| ClassroomError::Key {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(path) {
        Ok(key) if key.len() >= 32 => return Ok(key),
        Ok(_) => {
            return Err(failed(std::io::Error::other(
                "the key is too short; delete the file to make a new one (every join code changes)",
            )));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(failed(e)),
        Err(_) => {}
    }
    let key: Vec<u8> = (0..2)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .collect();
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    file.write_all(&key).map_err(failed)?;
    Ok(key)
}

fn valid_name(name: &str) -> Result<String, ClassroomError> {
    let ok = (1..=40).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then(|| name.to_string()).ok_or(ClassroomError::BadName)
}

async fn hash_new(password: &str) -> Result<String, ClassroomError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ClassroomError::WeakPassword);
    }
    password::hash(password.to_string())
        .await
        .map_err(ClassroomError::Hashing)
}
