//! Persistence in an embedded SQLite file: the only module that speaks SQL.

mod classes;
mod instructors;
mod log;
mod recordings;

pub use classes::{Added, StoredAttempt, StoredClass, StoredStudent, student_key};
pub use instructors::StoredInstructor;
pub use log::{StoredAction, StoredWatch};
pub use recordings::StoredRecording;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

/// Schema changes, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: [&str; 9] = [
    "CREATE TABLE sessions (
        id           TEXT PRIMARY KEY,
        owner_hash   TEXT NOT NULL,
        container_id TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        last_active  INTEGER NOT NULL
    ) STRICT;",
    "ALTER TABLE sessions ADD COLUMN lesson_id TEXT;
     ALTER TABLE sessions ADD COLUMN lesson_values TEXT;
     CREATE TABLE progress (
        owner_hash TEXT NOT NULL,
        lesson_id  TEXT NOT NULL,
        step       INTEGER NOT NULL,
        passed_at  INTEGER NOT NULL,
        PRIMARY KEY (owner_hash, lesson_id, step)
     ) STRICT;",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;",
    // Progress by a step's key, not its position: inserting a step must not mark it passed.
    // Rows of `progress` (by position) from before stay readable, see `passed_steps`.
    "CREATE TABLE step_passes (
        owner_hash TEXT NOT NULL,
        lesson_id  TEXT NOT NULL,
        step_key   TEXT NOT NULL,
        passed_at  INTEGER NOT NULL,
        PRIMARY KEY (owner_hash, lesson_id, step_key)
     ) STRICT;",
    "CREATE TABLE instructors (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE logins (
        token_hash TEXT PRIMARY KEY,
        instructor TEXT NOT NULL REFERENCES instructors (name) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
     ) STRICT;",
    "CREATE TABLE classes (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        lessons         TEXT NOT NULL,
        opens_at        INTEGER,
        closes_at       INTEGER,
        max_students    INTEGER,
        code_generation INTEGER NOT NULL,
        code_hash       TEXT NOT NULL UNIQUE,
        created_by      TEXT NOT NULL,
        created_at      INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE class_instructors (
        class_id   TEXT NOT NULL,
        instructor TEXT NOT NULL,
        PRIMARY KEY (class_id, instructor)
     ) STRICT;
     CREATE TABLE students (
        id            TEXT PRIMARY KEY,
        class_id      TEXT NOT NULL,
        name          TEXT NOT NULL,
        recovery_code TEXT NOT NULL,
        joined_at     INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        UNIQUE (class_id, recovery_code)
     ) STRICT;
     CREATE TABLE student_browsers (
        owner_hash TEXT PRIMARY KEY,
        student_id TEXT NOT NULL
     ) STRICT;
     CREATE TABLE attempts (
        learner   TEXT NOT NULL,
        class_id  TEXT,
        lesson_id TEXT NOT NULL,
        step_key  TEXT NOT NULL,
        at        INTEGER NOT NULL,
        passed    INTEGER NOT NULL,
        checks    TEXT NOT NULL
     ) STRICT;
     CREATE INDEX attempts_by_learner ON attempts (learner, lesson_id);",
    // The live view and heatmap read a class's check runs at once.
    "CREATE INDEX attempts_by_class ON attempts (class_id, at);",
    // The instructor's watches and actions, and the lifetime they add to a sandbox.
    "CREATE TABLE watches (
        id         INTEGER PRIMARY KEY,
        class_id   TEXT NOT NULL,
        student_id TEXT NOT NULL,
        instructor TEXT NOT NULL,
        session_id TEXT NOT NULL,
        lesson_id  TEXT,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER
     ) STRICT;
     CREATE INDEX watches_by_class ON watches (class_id, started_at);
     CREATE TABLE class_actions (
        id         INTEGER PRIMARY KEY,
        class_id   TEXT NOT NULL,
        instructor TEXT NOT NULL,
        action     TEXT NOT NULL,
        student_id TEXT,
        detail     TEXT NOT NULL,
        at         INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX class_actions_by_class ON class_actions (class_id, at);
     ALTER TABLE sessions ADD COLUMN extra_secs INTEGER NOT NULL DEFAULT 0;",
    // Terminal recordings of a class's sessions, and the class setting that turns them off.
    "ALTER TABLE classes ADD COLUMN record_terminals INTEGER NOT NULL DEFAULT 1;
     CREATE TABLE recordings (
        id         TEXT PRIMARY KEY,
        class_id   TEXT NOT NULL,
        student_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        lesson_id  TEXT,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER,
        bytes      INTEGER NOT NULL DEFAULT 0,
        truncated  INTEGER NOT NULL DEFAULT 0
     ) STRICT;
     CREATE INDEX recordings_by_student ON recordings (student_id, started_at);",
];

/// The learner key of the browser whose owner hash is `?1`: its student's, once it joined
/// a class, else its own.
const LEARNER: &str = "COALESCE((SELECT 'student:' || student_id FROM student_browsers \
                       WHERE owner_hash = ?1), ?1)";

/// How a step passed before steps had keys (recorded by position) is named in
/// `passed_steps`: `#` and the position.
pub const LEGACY_STEP_PREFIX: &str = "#";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// A session as stored: enough to re-adopt its sandbox after a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id: String,
    pub owner_hash: String,
    pub container_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_active: i64,
    /// The lesson the session is for, if any.
    pub lesson_id: Option<String>,
    /// The learner's values for the lesson's vars, as JSON.
    pub lesson_values: Option<String>,
    /// Lifetime an instructor added, in seconds.
    pub extra_secs: i64,
}

/// The database. Queries are short, so one connection behind a mutex is enough.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// This database's server id, made on first use: it marks the sandboxes this server
    /// creates, so that another server on the same engine never takes them for its own.
    pub fn server_id(&self) -> Result<String, StoreError> {
        let conn = self.conn();
        let fresh = uuid::Uuid::new_v4().simple().to_string();
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('server_id', ?1)",
            params![fresh],
        )?;
        Ok(
            conn.query_row("SELECT value FROM meta WHERE key = 'server_id'", [], |r| {
                r.get(0)
            })?,
        )
    }

    /// Opens (creating if needed) `data_dir/pathshala.db` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join("pathshala.db");
        let mut conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent; keep going.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert_session(&self, s: &StoredSession) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO sessions (id, owner_hash, container_id, created_at, last_active,
                                   lesson_id, lesson_values, extra_secs)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                s.id,
                s.owner_hash,
                s.container_id,
                s.created_at,
                s.last_active,
                s.lesson_id,
                s.lesson_values,
                s.extra_secs
            ],
        )?;
        Ok(())
    }

    pub fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
        Ok(())
    }

    pub fn session(&self, id: &str) -> Result<Option<StoredSession>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, owner_hash, container_id, created_at, last_active, lesson_id,
                        lesson_values, extra_secs
                 FROM sessions WHERE id = ?1",
                params![id],
                row_to_session,
            )
            .optional()?)
    }

    pub fn sessions(&self) -> Result<Vec<StoredSession>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, owner_hash, container_id, created_at, last_active, lesson_id,
                    lesson_values, extra_secs
             FROM sessions",
        )?;
        let rows = stmt.query_map([], row_to_session)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets the lifetime an instructor added to a session.
    pub fn extend_session(&self, id: &str, extra_secs: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE sessions SET extra_secs = ?2 WHERE id = ?1",
            params![id, extra_secs],
        )?;
        Ok(())
    }

    /// Records when each session was last used, in one transaction.
    pub fn touch_sessions(&self, activity: &[(String, i64)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare("UPDATE sessions SET last_active = ?2 WHERE id = ?1")?;
            for (id, at) in activity {
                stmt.execute(params![id, at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl Store {
    /// Records that `owner` passed the step keyed `step_key` of `lesson` (the first time
    /// counts).
    pub fn record_pass(
        &self,
        owner_hash: &str,
        lesson: &str,
        step_key: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "INSERT OR IGNORE INTO step_passes (owner_hash, lesson_id, step_key, passed_at)
                 VALUES ({LEARNER}, ?2, ?3, ?4)"
            ),
            params![owner_hash, lesson, step_key, at],
        )?;
        Ok(())
    }

    /// Records a check run of the browser `owner_hash` (for its student, once it joined a
    /// class): the step, when, whether it passed, and each check's verdict as JSON.
    pub fn record_attempt(
        &self,
        owner_hash: &str,
        lesson: &str,
        step_key: &str,
        passed: bool,
        checks: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "INSERT INTO attempts (learner, class_id, lesson_id, step_key, at, passed, checks)
                 VALUES ({LEARNER}, (SELECT class_id FROM students WHERE id =
                     (SELECT student_id FROM student_browsers WHERE owner_hash = ?1)),
                     ?2, ?3, ?4, ?5, ?6)"
            ),
            params![owner_hash, lesson, step_key, at, passed, checks],
        )?;
        Ok(())
    }

    /// Every step a learner (by learner key) has passed: (lesson, step key).
    pub fn learner_passes(&self, learner: &str) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT lesson_id, step_key FROM step_passes WHERE owner_hash = ?1")?;
        let rows = stmt.query_map(params![learner], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many check runs a learner (by learner key) made, per lesson.
    pub fn learner_attempts(&self, learner: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT lesson_id, COUNT(*) FROM attempts WHERE learner = ?1 GROUP BY lesson_id",
        )?;
        let rows = stmt.query_map(params![learner], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every step the browser `owner_hash` (its student, once it joined a class) has
    /// passed: (lesson, step key), in one query; passes recorded by position before steps
    /// had keys come as `#N`.
    pub fn passed_steps(&self, owner_hash: &str) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT lesson_id, step_key FROM step_passes WHERE owner_hash = {LEARNER}
             UNION
             SELECT lesson_id, ?2 || step FROM progress WHERE owner_hash = ?1"
        ))?;
        let rows = stmt.query_map(params![owner_hash, LEGACY_STEP_PREFIX], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
impl Store {
    /// A fresh database in a folder of its own under the temporary directory.
    pub(crate) fn scratch() -> Self {
        let dir = std::env::temp_dir().join(format!("pathshala-store-{}", uuid::Uuid::new_v4()));
        Self::open(&dir).expect("a scratch database")
    }
}

fn row_to_session(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredSession> {
    Ok(StoredSession {
        id: row.get(0)?,
        owner_hash: row.get(1)?,
        container_id: row.get(2)?,
        created_at: row.get(3)?,
        last_active: row.get(4)?,
        lesson_id: row.get(5)?,
        lesson_values: row.get(6)?,
        extra_secs: row.get(7)?,
    })
}

/// Brings the schema up to date, each migration in a transaction with its version number,
/// so a crash mid-way leaves the database as it was before that migration.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let done: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in (0i64..).zip(MIGRATIONS).skip(done as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str) -> StoredSession {
        StoredSession {
            id: id.into(),
            owner_hash: "h".into(),
            container_id: "c".into(),
            created_at: 1,
            last_active: 2,
            lesson_id: Some("first-steps".into()),
            lesson_values: Some("{}".into()),
            extra_secs: 0,
        }
    }

    #[test]
    fn sessions_survive_reopening_the_file() {
        let dir = std::env::temp_dir().join(format!("pathshala-store-{}", uuid::Uuid::new_v4()));
        let store = Store::open(&dir).unwrap();
        store.insert_session(&session("a")).unwrap();
        store.insert_session(&session("b")).unwrap();
        store.touch_sessions(&[("a".into(), 99)]).unwrap();
        store.delete_session("b").unwrap();
        drop(store);
        let store = Store::open(&dir).unwrap();
        let all = store.sessions().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].last_active, 99);
        assert_eq!(store.session("b").unwrap(), None);
        assert_eq!(all[0].lesson_id.as_deref(), Some("first-steps"));
        store
            .record_pass("h", "first-steps", "look-around", 5)
            .unwrap();
        store
            .record_pass("h", "first-steps", "set-a-variable", 6)
            .unwrap();
        store
            .record_pass("h", "first-steps", "look-around", 7)
            .unwrap();
        drop(store);
        let store = Store::open(&dir).unwrap();
        let mut passed = store.passed_steps("h").unwrap();
        passed.sort();
        let lesson = |key: &str| ("first-steps".to_string(), key.to_string());
        assert_eq!(passed, [lesson("look-around"), lesson("set-a-variable")]);
        assert!(store.passed_steps("other").unwrap().is_empty());
    }
}
