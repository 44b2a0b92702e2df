//! Which browsers belong to one learner: a student who joined a class from several browsers
//! is one learner, and each of their browsers reaches their sandboxes. Kept in memory
//! (loaded from the database at start, updated when a browser joins), so the check on every
//! request never waits for the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Browser (owner hash) -> student id, for browsers that joined a class.
#[derive(Clone, Default)]
pub struct Learners {
    students: Arc<RwLock<HashMap<String, String>>>,
}

impl Learners {
    pub fn new(links: Vec<(String, String)>) -> Self {
        Self {
            students: Arc::new(RwLock::new(links.into_iter().collect())),
        }
    }

    /// Records that the browser `owner_hash` now belongs to `student_id`.
    pub fn link(&self, owner_hash: &str, student_id: &str) {
        self.students
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(owner_hash.to_string(), student_id.to_string());
    }

    /// The student the browser `owner_hash` belongs to, if it joined a class.
    pub fn student_of(&self, owner_hash: &str) -> Option<String> {
        self.students
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(owner_hash)
            .cloned()
    }

    /// Whether two browsers are the same learner: the same browser, or two browsers of one
    /// student.
    pub fn same(&self, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        let students = self.students.read().unwrap_or_else(|e| e.into_inner());
        matches!((students.get(a), students.get(b)), (Some(x), Some(y)) if x == y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_browsers_of_one_student_are_one_learner() {
        let learners = Learners::new(vec![("laptop".into(), "sita".into())]);
        assert!(learners.same("laptop", "laptop"));
        assert!(!learners.same("laptop", "tablet"));
        learners.link("tablet", "sita");
        assert!(learners.same("laptop", "tablet"));
        learners.link("phone", "hari");
        assert!(!learners.same("phone", "tablet"));
        assert!(!learners.same("guest", "stranger"));
    }
}
