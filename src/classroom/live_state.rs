//! What the live view reads and keeps: a class's students with their check runs, passes and
//! browsers (one trip to the store), and the flags kept in memory: "I'm stuck" presses and
//! the stuck flags an instructor dismissed.

use std::collections::HashMap;

use super::live::{LessonKeys, StuckRules, StudentFacts};
use super::{Classroom, ClassroomError};
use crate::session::terminal::unix_now;
use crate::store::{StoredAttempt, student_key};

/// Flags of students, by student id.
#[derive(Default)]
pub(super) struct FlagBook {
    help: HashMap<String, (String, String, i64)>,
    dismissed: HashMap<String, (String, String)>,
}

/// A student with their browsers, for the live view to find their sandboxes.
pub struct LiveStudent {
    pub facts: StudentFacts,
    /// Owner hashes of the student's browsers.
    pub browsers: Vec<String>,
}

impl Classroom {
    pub fn stuck_rules(&self) -> StuckRules {
        StuckRules {
            after_secs: self.inner.limits.stuck_after_secs,
            after_failures: self.inner.limits.stuck_after_failures,
        }
    }

    fn flags(&self) -> std::sync::MutexGuard<'_, FlagBook> {
        self.inner.flags.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The student `owner` (a browser) belongs to, from memory.
    pub fn student_id_of(&self, owner_hash: &str) -> Option<String> {
        self.inner.learners.student_of(owner_hash)
    }

    /// Raises the help flag of the student a browser belongs to, on `lesson`'s `step_key`;
    /// returns the student's id (none for a browser outside every class).
    pub fn ask_for_help(&self, owner_hash: &str, lesson: &str, step_key: &str) -> Option<String> {
        let student = self.student_id_of(owner_hash)?;
        self.flags().help.insert(
            student.clone(),
            (lesson.to_string(), step_key.to_string(), unix_now()),
        );
        Some(student)
    }

    /// Clears a student's flags on the step they are on: help goes, and stuck stays quiet
    /// for that step.
    pub fn dismiss_flags(&self, student: &str, lesson: &str, step_key: &str) {
        let mut flags = self.flags();
        flags.help.remove(student);
        flags.dismissed.insert(
            student.to_string(),
            (lesson.to_string(), step_key.to_string()),
        );
    }

    /// Every student of a class `instructor` teaches, with what the live view needs, in one
    /// trip to the store (`only`: just that student).
    pub async fn live_students(
        &self,
        instructor: &str,
        class_id: &str,
        only: Option<&str>,
    ) -> Result<Vec<LiveStudent>, ClassroomError> {
        self.class_of(instructor, class_id).await?;
        let (owned, only) = (class_id.to_string(), only.map(str::to_string));
        let found = self
            .store(move |s| {
                let mut found = Vec::new();
                for student in s.students(&owned)? {
                    if only.as_ref().is_some_and(|o| o != &student.id) {
                        continue;
                    }
                    let key = student_key(&student.id);
                    let passes = s.learner_passes_at(&key)?;
                    let attempts = s.learner_attempt_rows(&key)?;
                    let browsers = s.browsers_of(&student.id)?;
                    found.push((student, passes, attempts, browsers));
                }
                Ok(found)
            })
            .await?;
        let flags = self.flags();
        Ok(found
            .into_iter()
            .map(|(student, passes, attempts, browsers)| LiveStudent {
                facts: StudentFacts {
                    help: flags.help.get(&student.id).cloned(),
                    dismissed: flags.dismissed.get(&student.id).cloned(),
                    id: student.id,
                    name: student.name,
                    attempts,
                    passes,
                    sessions: Vec::new(),
                },
                browsers,
            })
            .collect())
    }

    /// A class's check runs with their learner keys, for the heatmap.
    pub async fn class_attempts(
        &self,
        instructor: &str,
        class_id: &str,
    ) -> Result<Vec<(String, StoredAttempt)>, ClassroomError> {
        self.class_of(instructor, class_id).await?;
        let owned = class_id.to_string();
        self.store(move |s| s.class_attempts(&owned)).await
    }
}

/// A class's lessons with their step keys, from `steps_of`.
pub fn lesson_keys(lessons: &[String], steps_of: impl Fn(&str) -> Vec<String>) -> LessonKeys {
    lessons.iter().map(|l| (l.clone(), steps_of(l))).collect()
}
