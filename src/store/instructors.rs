//! Instructors and their login sessions, in SQL. Passwords arrive already hashed
//! (Argon2id, PHC strings) and login tokens as SHA-256 hashes: nothing here can log in.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// An instructor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInstructor {
    pub name: String,
    pub password_hash: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl Store {
    /// Adds an instructor; `false` if the name is taken.
    pub fn add_instructor(
        &self,
        name: &str,
        password_hash: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO instructors (name, password_hash, created_at) VALUES (?1, ?2, ?3)",
            params![name, password_hash, at],
        )?;
        Ok(added == 1)
    }

    pub fn instructor(&self, name: &str) -> Result<Option<StoredInstructor>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name, password_hash, created_at FROM instructors WHERE name = ?1",
                params![name],
                |r| {
                    Ok(StoredInstructor {
                        name: r.get(0)?,
                        password_hash: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Every instructor's name and when they were added, by name.
    pub fn instructors(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT name, created_at FROM instructors ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets a new password hash and ends every login of that instructor; `false` if there
    /// is no such instructor.
    pub fn set_instructor_password(
        &self,
        name: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE instructors SET password_hash = ?2 WHERE name = ?1",
            params![name, password_hash],
        )?;
        tx.execute("DELETE FROM logins WHERE instructor = ?1", params![name])?;
        tx.commit()?;
        Ok(changed == 1)
    }

    /// Removes an instructor and their logins; `false` if there was none.
    pub fn remove_instructor(&self, name: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM logins WHERE instructor = ?1", params![name])?;
        let removed = tx.execute("DELETE FROM instructors WHERE name = ?1", params![name])?;
        tx.commit()?;
        Ok(removed == 1)
    }

    /// Records a login: the token's hash, whose it is, until when.
    pub fn add_login(
        &self,
        token_hash: &str,
        instructor: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO logins (token_hash, instructor, expires_at) VALUES (?1, ?2, ?3)",
            params![token_hash, instructor, expires_at],
        )?;
        Ok(())
    }

    /// The instructor a login token belongs to, if it has not expired at `now`.
    pub fn login(&self, token_hash: &str, now: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT instructor FROM logins WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, now],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Ends one login, and forgets every login that has expired.
    pub fn remove_login(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM logins WHERE token_hash = ?1 OR expires_at <= ?2",
            params![token_hash, now],
        )?;
        Ok(())
    }
}
