//! What instructors do in a class, checked and kept: who may watch or act on a student (an
//! instructor of that student's class, nobody else), and the log of watches and actions
//! every instructor of the class can read.

use super::{Classroom, ClassroomError};
use crate::session::terminal::unix_now;
use crate::store::{StoredAction, StoredClass, StoredStudent, StoredWatch};

/// The logged action of an announcement to the class.
pub const ANNOUNCE: &str = "announce";

impl Classroom {
    /// The student a browser belongs to, if `instructor` teaches their class. A browser of
    /// no class, or of someone else's class, is refused alike.
    pub async fn student_taught_by(
        &self,
        instructor: &str,
        owner_hash: &str,
    ) -> Result<StoredStudent, ClassroomError> {
        let student_id = self
            .student_id_of(owner_hash)
            .ok_or(ClassroomError::NotYourClass)?;
        let student = self
            .store(move |s| s.student(&student_id))
            .await?
            .ok_or(ClassroomError::NotYourClass)?;
        let (class_id, owned) = (student.class_id.clone(), instructor.to_string());
        if self.store(move |s| s.teaches(&class_id, &owned)).await? {
            Ok(student)
        } else {
            Err(ClassroomError::NotYourClass)
        }
    }

    /// Student `student_id` of class `class_id`, which `instructor` teaches.
    pub async fn student_in_class(
        &self,
        instructor: &str,
        class_id: &str,
        student_id: &str,
    ) -> Result<(StoredClass, StoredStudent), ClassroomError> {
        let class = self.class_of(instructor, class_id).await?;
        let owned = student_id.to_string();
        let student = self
            .store(move |s| s.student(&owned))
            .await?
            .filter(|s| s.class_id == class.id)
            .ok_or(ClassroomError::NoSuchStudent)?;
        Ok((class, student))
    }

    /// The owner hashes of a student's browsers.
    pub async fn browsers_of(&self, student_id: &str) -> Result<Vec<String>, ClassroomError> {
        let owned = student_id.to_string();
        self.store(move |s| s.browsers_of(&owned)).await
    }

    /// The owner hashes of the browsers of every student of a class `instructor` teaches.
    pub async fn class_browsers(
        &self,
        instructor: &str,
        class_id: &str,
    ) -> Result<Vec<String>, ClassroomError> {
        let class = self.class_of(instructor, class_id).await?;
        let links = self.store(move |s| s.class_browsers(&class.id)).await?;
        Ok(links.into_iter().map(|(_, browser)| browser).collect())
    }

    /// The class's latest announcement, if it was made within `recent_secs`:
    /// (text, by, at).
    pub async fn latest_announcement(
        &self,
        class_id: &str,
        recent_secs: i64,
    ) -> Result<Option<(String, String, i64)>, ClassroomError> {
        let owned = class_id.to_string();
        let latest = self
            .store(move |s| s.latest_action(&owned, ANNOUNCE))
            .await?;
        let since = unix_now() - recent_secs;
        Ok(latest
            .filter(|a| a.at >= since)
            .map(|a| (a.detail, a.instructor, a.at)))
    }

    /// Logs the start of `instructor` watching `student`'s session; returns the watch's id.
    pub async fn start_watch(
        &self,
        instructor: &str,
        student: &StoredStudent,
        session: &str,
        lesson: Option<&str>,
    ) -> Result<i64, ClassroomError> {
        let (class, who, by) = (
            student.class_id.clone(),
            student.id.clone(),
            instructor.to_string(),
        );
        let (session, lesson) = (session.to_string(), lesson.map(str::to_string));
        self.store(move |s| {
            s.start_watch(&class, &who, &by, &session, lesson.as_deref(), unix_now())
        })
        .await
    }

    pub async fn end_watch(&self, id: i64) -> Result<(), ClassroomError> {
        self.store(move |s| s.end_watch(id, unix_now())).await
    }

    /// The watches of a class `instructor` teaches, newest first.
    pub async fn watches(
        &self,
        instructor: &str,
        class_id: &str,
    ) -> Result<Vec<StoredWatch>, ClassroomError> {
        let class = self.class_of(instructor, class_id).await?;
        self.store(move |s| s.watches(&class.id)).await
    }

    /// Logs an action of `instructor` in a class (on one student, or on all).
    pub async fn log_action(
        &self,
        class_id: &str,
        instructor: &str,
        action: &str,
        student: Option<&str>,
        detail: &str,
    ) -> Result<(), ClassroomError> {
        let (class, by, action) = (
            class_id.to_string(),
            instructor.to_string(),
            action.to_string(),
        );
        let (student, detail) = (student.map(str::to_string), detail.to_string());
        self.store(move |s| {
            s.record_action(
                &class,
                &by,
                &action,
                student.as_deref(),
                &detail,
                unix_now(),
            )
        })
        .await
    }

    /// The actions taken in a class `instructor` teaches, newest first.
    pub async fn actions(
        &self,
        instructor: &str,
        class_id: &str,
    ) -> Result<Vec<StoredAction>, ClassroomError> {
        let class = self.class_of(instructor, class_id).await?;
        self.store(move |s| s.actions(&class.id)).await
    }
}
