//! Classes, their instructors and students, and the browsers each student uses, in SQL.
//! A class's join code is kept only as a hash; a student's progress is kept under the
//! learner key `student:<id>`, which every browser of theirs resolves to.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A class as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClass {
    pub id: String,
    pub name: String,
    pub lessons: Vec<String>,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub max_students: Option<i64>,
    /// Which join code is current (see `classroom::code`).
    pub code_generation: i64,
    pub created_by: String,
    pub created_at: i64,
    /// Whether the terminals of the class's students are recorded.
    pub record_terminals: bool,
}

/// A student as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStudent {
    pub id: String,
    pub class_id: String,
    pub name: String,
    pub recovery_code: String,
    pub joined_at: i64,
    pub last_seen: i64,
}

/// What adding a student came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    Yes,
    /// The class has its `max_students` already.
    Full,
}

/// The learner key a student's progress is kept under.
pub fn student_key(student_id: &str) -> String {
    format!("student:{student_id}")
}

const CLASS_COLUMNS: &str = "id, name, lessons, opens_at, closes_at, max_students, \
                             code_generation, created_by, created_at, record_terminals";
const STUDENT_COLUMNS: &str = "id, class_id, name, recovery_code, joined_at, last_seen";

fn row_to_class(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredClass> {
    let lessons: String = r.get(2)?;
    Ok(StoredClass {
        id: r.get(0)?,
        name: r.get(1)?,
        // Written by `create_class` from a list of ids; a corrupt value reads as no lessons
        // rather than failing every page of the class.
        lessons: serde_json::from_str(&lessons).unwrap_or_default(),
        opens_at: r.get(3)?,
        closes_at: r.get(4)?,
        max_students: r.get(5)?,
        code_generation: r.get(6)?,
        created_by: r.get(7)?,
        created_at: r.get(8)?,
        record_terminals: r.get(9)?,
    })
}

fn row_to_student(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredStudent> {
    Ok(StoredStudent {
        id: r.get(0)?,
        class_id: r.get(1)?,
        name: r.get(2)?,
        recovery_code: r.get(3)?,
        joined_at: r.get(4)?,
        last_seen: r.get(5)?,
    })
}

impl Store {
    pub fn create_class(&self, class: &StoredClass, code_hash: &str) -> Result<(), StoreError> {
        let lessons = serde_json::to_string(&class.lessons).unwrap_or_else(|_| "[]".into());
        self.conn().execute(
            &format!(
                "INSERT INTO classes ({CLASS_COLUMNS}, code_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                class.id,
                class.name,
                lessons,
                class.opens_at,
                class.closes_at,
                class.max_students,
                class.code_generation,
                class.created_by,
                class.created_at,
                class.record_terminals,
                code_hash
            ],
        )?;
        Ok(())
    }

    pub fn class(&self, id: &str) -> Result<Option<StoredClass>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {CLASS_COLUMNS} FROM classes WHERE id = ?1"),
                params![id],
                row_to_class,
            )
            .optional()?)
    }

    /// The class whose current join code has this hash.
    pub fn class_by_code(&self, code_hash: &str) -> Result<Option<StoredClass>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {CLASS_COLUMNS} FROM classes WHERE code_hash = ?1"),
                params![code_hash],
                row_to_class,
            )
            .optional()?)
    }

    /// The classes `instructor` made or was invited to, newest first.
    pub fn classes_of(&self, instructor: &str) -> Result<Vec<StoredClass>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {CLASS_COLUMNS} FROM classes WHERE created_by = ?1 OR id IN \
             (SELECT class_id FROM class_instructors WHERE instructor = ?1) \
             ORDER BY created_at DESC, id"
        ))?;
        let rows = stmt.query_map(params![instructor], row_to_class)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether `instructor` made the class or was invited to it.
    pub fn teaches(&self, class_id: &str, instructor: &str) -> Result<bool, StoreError> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM classes WHERE id = ?1 AND created_by = ?2) OR \
             EXISTS (SELECT 1 FROM class_instructors WHERE class_id = ?1 AND instructor = ?2)",
            params![class_id, instructor],
            |r| r.get(0),
        )?)
    }

    /// Invites `instructor` to teach the class too; `false` if they already do.
    pub fn add_class_instructor(
        &self,
        class_id: &str,
        instructor: &str,
    ) -> Result<bool, StoreError> {
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO class_instructors (class_id, instructor) VALUES (?1, ?2)",
            params![class_id, instructor],
        )?;
        Ok(added == 1)
    }

    /// Every browser that joined a class: (owner hash, student id).
    pub fn browser_links(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT owner_hash, student_id FROM student_browsers")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The owner hashes of every browser a student uses.
    pub fn browsers_of(&self, student_id: &str) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT owner_hash FROM student_browsers WHERE student_id = ?1")?;
        let rows = stmt.query_map(params![student_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Turns the recording of a class's terminals on or off.
    pub fn set_recording(&self, class_id: &str, on: bool) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE classes SET record_terminals = ?2 WHERE id = ?1",
            params![class_id, on],
        )?;
        Ok(())
    }

    /// The browsers of every student of a class: (student id, owner hash).
    pub fn class_browsers(&self, class_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT b.student_id, b.owner_hash FROM student_browsers b
             JOIN students s ON s.id = b.student_id WHERE s.class_id = ?1",
        )?;
        let rows = stmt.query_map(params![class_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Makes generation `generation` (with its code's hash) the class's code.
    pub fn rotate_code(
        &self,
        class_id: &str,
        generation: i64,
        code_hash: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE classes SET code_generation = ?2, code_hash = ?3 WHERE id = ?1",
            params![class_id, generation, code_hash],
        )?;
        Ok(())
    }

    /// Adds a student unless the class is full, and ties `owner_hash` (their browser) to
    /// them, bringing that browser's progress along: one transaction.
    pub fn add_student(
        &self,
        student: &StoredStudent,
        owner_hash: &str,
    ) -> Result<Added, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (count, max): (i64, Option<i64>) = tx.query_row(
            "SELECT (SELECT COUNT(*) FROM students WHERE class_id = ?1), \
             (SELECT max_students FROM classes WHERE id = ?1)",
            params![student.class_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if max.is_some_and(|max| count >= max) {
            return Ok(Added::Full);
        }
        tx.execute(
            &format!("INSERT INTO students ({STUDENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![
                student.id,
                student.class_id,
                student.name,
                student.recovery_code,
                student.joined_at,
                student.last_seen
            ],
        )?;
        link(&tx, owner_hash, &student.id)?;
        tx.commit()?;
        Ok(Added::Yes)
    }

    /// Ties another browser to a student (a recovery code used on a new device).
    pub fn link_browser(&self, owner_hash: &str, student_id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        link(&tx, owner_hash, student_id)?;
        tx.commit()?;
        Ok(())
    }

    /// The student of class `class_id` with this recovery code.
    pub fn student_by_recovery(
        &self,
        class_id: &str,
        code: &str,
    ) -> Result<Option<StoredStudent>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {STUDENT_COLUMNS} FROM students WHERE class_id = ?1 AND recovery_code = ?2"
                ),
                params![class_id, code],
                row_to_student,
            )
            .optional()?)
    }

    /// The student a browser belongs to, if it joined a class.
    pub fn student_of_browser(
        &self,
        owner_hash: &str,
    ) -> Result<Option<StoredStudent>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {STUDENT_COLUMNS} FROM students WHERE id = \
                     (SELECT student_id FROM student_browsers WHERE owner_hash = ?1)"
                ),
                params![owner_hash],
                row_to_student,
            )
            .optional()?)
    }

    pub fn student(&self, id: &str) -> Result<Option<StoredStudent>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {STUDENT_COLUMNS} FROM students WHERE id = ?1"),
                params![id],
                row_to_student,
            )
            .optional()?)
    }

    /// The students of a class, in the order they joined.
    pub fn students(&self, class_id: &str) -> Result<Vec<StoredStudent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {STUDENT_COLUMNS} FROM students WHERE class_id = ?1 ORDER BY joined_at, name"
        ))?;
        let rows = stmt.query_map(params![class_id], row_to_student)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of students in a class.
    pub fn student_count(&self, class_id: &str) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM students WHERE class_id = ?1",
            params![class_id],
            |r| r.get(0),
        )?)
    }
}

/// A check run as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttempt {
    pub lesson: String,
    pub step_key: String,
    pub at: i64,
    pub passed: bool,
    /// `[{"name", "passed", "message"}]`.
    pub checks: String,
}

/// A check run from `lesson_id, step_key, at, passed, checks` starting at column `first`.
fn row_to_attempt(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<StoredAttempt> {
    Ok(StoredAttempt {
        lesson: r.get(first)?,
        step_key: r.get(first + 1)?,
        at: r.get(first + 2)?,
        passed: r.get(first + 3)?,
        checks: r.get(first + 4)?,
    })
}

impl StoredAttempt {
    /// The message of the first check that failed in this run.
    pub fn first_failure(&self) -> Option<String> {
        let checks: Vec<serde_json::Value> = serde_json::from_str(&self.checks).ok()?;
        checks
            .iter()
            .find(|c| c["passed"] == false)
            .and_then(|c| c["message"].as_str().map(str::to_string))
    }
}

impl Store {
    /// Every step a learner (by learner key) passed, with when: (lesson, step key, at).
    pub fn learner_passes_at(
        &self,
        learner: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT lesson_id, step_key, passed_at FROM step_passes WHERE owner_hash = ?1",
        )?;
        let rows = stmt.query_map(params![learner], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every check run of a learner (by learner key), oldest first.
    pub fn learner_attempt_rows(&self, learner: &str) -> Result<Vec<StoredAttempt>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT lesson_id, step_key, at, passed, checks FROM attempts WHERE learner = ?1 \
             ORDER BY at, rowid",
        )?;
        let rows = stmt.query_map(params![learner], |r| row_to_attempt(r, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Ties a browser to a student and moves the browser's own progress to the student.
fn link(
    tx: &rusqlite::Transaction<'_>,
    owner_hash: &str,
    student_id: &str,
) -> Result<(), StoreError> {
    let key = student_key(student_id);
    tx.execute(
        "INSERT INTO student_browsers (owner_hash, student_id) VALUES (?1, ?2) \
         ON CONFLICT (owner_hash) DO UPDATE SET student_id = excluded.student_id",
        params![owner_hash, student_id],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO step_passes (owner_hash, lesson_id, step_key, passed_at) \
         SELECT ?2, lesson_id, step_key, passed_at FROM step_passes WHERE owner_hash = ?1",
        params![owner_hash, key],
    )?;
    tx.execute(
        "DELETE FROM step_passes WHERE owner_hash = ?1",
        params![owner_hash],
    )?;
    tx.execute(
        "UPDATE attempts SET learner = ?2 WHERE learner = ?1",
        params![owner_hash, key],
    )?;
    Ok(())
}

impl Store {
    /// Every check run made in a class, with its learner key, oldest first.
    pub fn class_attempts(
        &self,
        class_id: &str,
    ) -> Result<Vec<(String, StoredAttempt)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT learner, lesson_id, step_key, at, passed, checks FROM attempts \
             WHERE class_id = ?1 ORDER BY at, rowid",
        )?;
        let rows = stmt.query_map(params![class_id], |r| {
            Ok((r.get(0)?, row_to_attempt(r, 1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
