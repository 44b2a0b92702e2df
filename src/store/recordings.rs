//! Terminal recordings of class sessions, in SQL: which student, session and lesson, when,
//! and how big. The recordings themselves are asciicast files beside the database.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A recording as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredRecording {
    pub id: String,
    #[serde(skip)]
    pub class_id: String,
    pub student: String,
    pub session: String,
    pub lesson: Option<String>,
    pub started_at: i64,
    /// None while it goes on (or if the server stopped during it).
    pub ended_at: Option<i64>,
    pub bytes: i64,
    /// Whether it stopped at its size limit.
    pub truncated: bool,
}

const COLUMNS: &str =
    "id, class_id, student_id, session_id, lesson_id, started_at, ended_at, bytes, truncated";

fn row_to_recording(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRecording> {
    Ok(StoredRecording {
        id: r.get(0)?,
        class_id: r.get(1)?,
        student: r.get(2)?,
        session: r.get(3)?,
        lesson: r.get(4)?,
        started_at: r.get(5)?,
        ended_at: r.get(6)?,
        bytes: r.get(7)?,
        truncated: r.get(8)?,
    })
}

impl Store {
    pub fn insert_recording(&self, r: &StoredRecording) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "INSERT INTO recordings ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                r.id,
                r.class_id,
                r.student,
                r.session,
                r.lesson,
                r.started_at,
                r.ended_at,
                r.bytes,
                r.truncated
            ],
        )?;
        Ok(())
    }

    pub fn end_recording(
        &self,
        id: &str,
        at: i64,
        bytes: u64,
        truncated: bool,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE recordings SET ended_at = ?2, bytes = ?3, truncated = ?4 WHERE id = ?1",
            params![id, at, bytes as i64, truncated],
        )?;
        Ok(())
    }

    /// A student's recordings, newest first.
    pub fn recordings_of(&self, student_id: &str) -> Result<Vec<StoredRecording>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM recordings WHERE student_id = ?1 ORDER BY started_at DESC, id"
        ))?;
        let rows = stmt.query_map(params![student_id], row_to_recording)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many bytes a student's finished recordings hold together.
    pub fn recorded_bytes_of(&self, student_id: &str) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(SUM(bytes), 0) FROM recordings WHERE student_id = ?1",
            params![student_id],
            |r| r.get(0),
        )?)
    }

    pub fn recording(&self, id: &str) -> Result<Option<StoredRecording>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM recordings WHERE id = ?1"),
                params![id],
                row_to_recording,
            )
            .optional()?)
    }
}
