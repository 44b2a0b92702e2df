//! What instructors did in a class, in SQL: every watch of a student's terminal (who, whom,
//! when, how long) and every action on students' sandboxes.

use rusqlite::params;

use super::{Store, StoreError};

/// One watch of a student's terminal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredWatch {
    pub id: i64,
    pub instructor: String,
    pub student: String,
    pub student_name: String,
    pub session: String,
    pub lesson: Option<String>,
    pub started_at: i64,
    /// None while it lasts (or if the server stopped during it).
    pub ended_at: Option<i64>,
}

/// One action of an instructor: a reset, a restart, an extension, an announcement...
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredAction {
    pub instructor: String,
    pub action: String,
    /// The student acted on; none for an action on the whole class.
    pub student: Option<String>,
    pub student_name: Option<String>,
    pub detail: String,
    pub at: i64,
}

/// How much of a class's log one read returns, newest first.
const LOG_LIMIT: i64 = 500;

impl Store {
    /// Records the start of a watch; returns its id.
    pub fn start_watch(
        &self,
        class_id: &str,
        student_id: &str,
        instructor: &str,
        session_id: &str,
        lesson_id: Option<&str>,
        at: i64,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO watches (class_id, student_id, instructor, session_id, lesson_id,
                                  started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![class_id, student_id, instructor, session_id, lesson_id, at],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub fn end_watch(&self, id: i64, at: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE watches SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
            params![id, at],
        )?;
        Ok(())
    }

    /// A class's watches, newest first.
    pub fn watches(&self, class_id: &str) -> Result<Vec<StoredWatch>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT w.id, w.instructor, w.student_id, COALESCE(s.name, ''), w.session_id,
                    w.lesson_id, w.started_at, w.ended_at
             FROM watches w LEFT JOIN students s ON s.id = w.student_id
             WHERE w.class_id = ?1 ORDER BY w.started_at DESC, w.id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![class_id, LOG_LIMIT], |r| {
            Ok(StoredWatch {
                id: r.get(0)?,
                instructor: r.get(1)?,
                student: r.get(2)?,
                student_name: r.get(3)?,
                session: r.get(4)?,
                lesson: r.get(5)?,
                started_at: r.get(6)?,
                ended_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn record_action(
        &self,
        class_id: &str,
        instructor: &str,
        action: &str,
        student_id: Option<&str>,
        detail: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO class_actions (class_id, instructor, action, student_id, detail, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![class_id, instructor, action, student_id, detail, at],
        )?;
        Ok(())
    }

    /// A class's actions, newest first.
    pub fn actions(&self, class_id: &str) -> Result<Vec<StoredAction>, StoreError> {
        self.actions_named(class_id, None, LOG_LIMIT)
    }

    /// A class's latest action named `action`.
    pub fn latest_action(
        &self,
        class_id: &str,
        action: &str,
    ) -> Result<Option<StoredAction>, StoreError> {
        Ok(self.actions_named(class_id, Some(action), 1)?.pop())
    }

    fn actions_named(
        &self,
        class_id: &str,
        action: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredAction>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT a.instructor, a.action, a.student_id, s.name, a.detail, a.at
             FROM class_actions a LEFT JOIN students s ON s.id = a.student_id
             WHERE a.class_id = ?1 AND (?2 IS NULL OR a.action = ?2)
             ORDER BY a.at DESC, a.id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![class_id, action, limit], |r| {
            Ok(StoredAction {
                instructor: r.get(0)?,
                action: r.get(1)?,
                student: r.get(2)?,
                student_name: r.get(3)?,
                detail: r.get(4)?,
                at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_is_logged_with_its_length() {
        let store = Store::scratch();
        let id = store
            .start_watch("c1", "s1", "asha", "sess", Some("first-steps"), 100)
            .unwrap();
        store
            .start_watch("c2", "s2", "ravi", "x", None, 100)
            .unwrap();
        assert_eq!(store.watches("c1").unwrap()[0].ended_at, None);
        store.end_watch(id, 130).unwrap();
        // A second end (a duplicate drop) keeps the first.
        store.end_watch(id, 999).unwrap();
        let watches = store.watches("c1").unwrap();
        assert_eq!(watches.len(), 1);
        assert_eq!(watches[0].instructor, "asha");
        assert_eq!(watches[0].ended_at, Some(130));
    }

    #[test]
    fn actions_are_listed_newest_first() {
        let store = Store::scratch();
        store
            .record_action("c1", "asha", "extend", None, "30 minutes", 1)
            .unwrap();
        store
            .record_action("c1", "asha", "reset", Some("s1"), "first-steps", 2)
            .unwrap();
        let actions = store.actions("c1").unwrap();
        assert_eq!(actions[0].action, "reset");
        assert_eq!(actions[1].detail, "30 minutes");
        assert!(store.actions("c2").unwrap().is_empty());
        let latest = store.latest_action("c1", "extend").unwrap().unwrap();
        assert_eq!(latest.at, 1);
        assert_eq!(store.latest_action("c1", "announce").unwrap(), None);
    }
}
