//! Classes and students: an instructor makes a class (its lessons in order, an optional
//! window and student cap) with a join code; a student joins with the code and a display
//! name, or comes back on another device with their recovery code.

use serde::Serialize;

use super::{Classroom, ClassroomError, code};
use crate::session::OwnerToken;
use crate::session::terminal::unix_now;
use crate::store::{Added, StoredClass, StoredStudent, student_key};

/// What an instructor asks for when making a class.
#[derive(Debug, Clone)]
pub struct NewClass {
    pub name: String,
    pub lessons: Vec<String>,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub max_students: Option<i64>,
    /// Whether students' terminals are recorded (on unless turned off).
    pub record_terminals: bool,
}

/// A class as its instructors see it.
#[derive(Debug, Clone, Serialize)]
pub struct ClassView {
    pub id: String,
    pub name: String,
    pub lessons: Vec<String>,
    /// Grouped, as people read it (`K7QM-2XHD`).
    pub join_code: String,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub max_students: Option<i64>,
    pub students: i64,
    pub record_terminals: bool,
}

/// One student in a class's roster.
#[derive(Debug, Clone, Serialize)]
pub struct RosterEntry {
    pub id: String,
    pub name: String,
    pub joined_at: i64,
    pub last_seen: i64,
    pub recovery_code: String,
    /// Per lesson of the class: the steps passed (by position) and the check runs made.
    pub lessons: std::collections::BTreeMap<String, LessonProgress>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LessonProgress {
    pub passed_steps: Vec<usize>,
    pub attempts: i64,
}

/// A student who joined (or came back), as the join answer shows them.
#[derive(Debug, Clone, Serialize)]
pub struct Joined {
    pub student: StudentRef,
    pub class: ClassRef,
    /// Grouped, as people read it; shown once at joining, and to the instructor.
    pub recovery_code: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StudentRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassRef {
    pub id: String,
    pub name: String,
    pub lessons: Vec<String>,
    /// Whether the class records terminals: students are told so when they join.
    pub records_terminals: bool,
}

/// The longest class or student name.
const MAX_NAME_CHARS: usize = 80;

impl Classroom {
    /// Makes a class; `known` says whether a lesson id exists.
    pub async fn create_class(
        &self,
        instructor: &str,
        request: NewClass,
        known: impl Fn(&str) -> bool,
    ) -> Result<ClassView, ClassroomError> {
        let name = display_name(&request.name, "class")?;
        if request.lessons.is_empty() {
            return Err(ClassroomError::Invalid(
                "a class needs at least one lesson".into(),
            ));
        }
        if let Some(unknown) = request.lessons.iter().find(|l| !known(l)) {
            return Err(ClassroomError::Invalid(format!(
                "no lesson named {unknown:?}"
            )));
        }
        if let (Some(opens), Some(closes)) = (request.opens_at, request.closes_at)
            && closes <= opens
        {
            return Err(ClassroomError::Invalid(
                "closes_at must come after opens_at".into(),
            ));
        }
        if request.max_students.is_some_and(|m| m < 1) {
            return Err(ClassroomError::Invalid(
                "max_students must be at least 1".into(),
            ));
        }
        let class = StoredClass {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name,
            lessons: request.lessons,
            opens_at: request.opens_at,
            closes_at: request.closes_at,
            max_students: request.max_students,
            code_generation: 1,
            created_by: instructor.to_string(),
            created_at: unix_now(),
            record_terminals: request.record_terminals,
        };
        let hash = code::hash(&self.join_code(&class));
        let stored = class.clone();
        self.store(move |s| s.create_class(&stored, &hash)).await?;
        Ok(self.view(class, 0))
    }

    /// The classes `instructor` teaches.
    pub async fn classes(&self, instructor: &str) -> Result<Vec<ClassView>, ClassroomError> {
        let owned = instructor.to_string();
        let classes = self.store(move |s| s.classes_of(&owned)).await?;
        let mut views = Vec::new();
        for class in classes {
            let id = class.id.clone();
            let students = self.store(move |s| s.student_count(&id)).await?;
            views.push(self.view(class, students));
        }
        Ok(views)
    }

    /// A class `instructor` teaches: 404 if there is none, 403 if it is someone else's.
    pub async fn class_of(
        &self,
        instructor: &str,
        id: &str,
    ) -> Result<StoredClass, ClassroomError> {
        let (owned_id, owned_name) = (id.to_string(), instructor.to_string());
        let class = self
            .store(move |s| s.class(&owned_id))
            .await?
            .ok_or(ClassroomError::NoClass)?;
        let owned_id = id.to_string();
        if self
            .store(move |s| s.teaches(&owned_id, &owned_name))
            .await?
        {
            Ok(class)
        } else {
            Err(ClassroomError::NotYourClass)
        }
    }

    /// A class with its roster; `steps_of` gives a lesson's step keys in order.
    pub async fn class_with_roster(
        &self,
        instructor: &str,
        id: &str,
        steps_of: impl Fn(&str) -> Vec<String>,
    ) -> Result<(ClassView, Vec<RosterEntry>), ClassroomError> {
        let class = self.class_of(instructor, id).await?;
        let owned = id.to_string();
        // Every student with their passes and attempts, in one trip to the store.
        let students = self
            .store(move |s| {
                let mut found = Vec::new();
                for student in s.students(&owned)? {
                    let key = student_key(&student.id);
                    let (passes, attempts) = (s.learner_passes(&key)?, s.learner_attempts(&key)?);
                    found.push((student, passes, attempts));
                }
                Ok(found)
            })
            .await?;
        let steps: Vec<(String, Vec<String>)> = class
            .lessons
            .iter()
            .map(|lesson| (lesson.clone(), steps_of(lesson)))
            .collect();
        let mut roster = Vec::new();
        for (student, passes, attempts) in students {
            let lessons = steps
                .iter()
                .map(|(lesson, keys)| {
                    let passed_steps = keys
                        .iter()
                        .enumerate()
                        .filter(|(_, key)| passes.iter().any(|(l, k)| l == lesson && k == *key))
                        .map(|(i, _)| i)
                        .collect();
                    let attempts = attempts
                        .iter()
                        .find(|(l, _)| l == lesson)
                        .map_or(0, |(_, n)| *n);
                    (
                        lesson.clone(),
                        LessonProgress {
                            passed_steps,
                            attempts,
                        },
                    )
                })
                .collect();
            roster.push(RosterEntry {
                id: student.id,
                name: student.name,
                joined_at: student.joined_at,
                last_seen: student.last_seen,
                recovery_code: code::grouped(&student.recovery_code),
                lessons,
            });
        }
        let count = roster.len() as i64;
        Ok((self.view(class, count), roster))
    }

    /// Invites another instructor to see and act on this class (and no other of ours).
    pub async fn invite(
        &self,
        instructor: &str,
        id: &str,
        invited: &str,
    ) -> Result<(), ClassroomError> {
        self.class_of(instructor, id).await?;
        let name = invited.to_string();
        if self.store(move |s| s.instructor(&name)).await?.is_none() {
            return Err(ClassroomError::NoInstructor(invited.to_string()));
        }
        let (owned, name) = (id.to_string(), invited.to_string());
        self.store(move |s| s.add_class_instructor(&owned, &name))
            .await?;
        Ok(())
    }

    /// The owner hashes of every browser of the student `owner` belongs to; `None` when
    /// it has not joined a class.
    pub async fn browsers_of_student(
        &self,
        owner: &OwnerToken,
    ) -> Result<Option<Vec<String>>, ClassroomError> {
        match self.student_of(owner).await? {
            Some((student, _)) => Ok(Some(self.store(move |s| s.browsers_of(&student.id)).await?)),
            None => Ok(None),
        }
    }

    /// A new join code for the class; the old one stops working at once.
    pub async fn rotate_code(&self, instructor: &str, id: &str) -> Result<String, ClassroomError> {
        let mut class = self.class_of(instructor, id).await?;
        class.code_generation += 1;
        let fresh = self.join_code(&class);
        let (owned, generation, hash) = (id.to_string(), class.code_generation, code::hash(&fresh));
        self.store(move |s| s.rotate_code(&owned, generation, &hash))
            .await?;
        Ok(code::grouped(&fresh))
    }

    /// The open class a typed code belongs to (404 for an unknown, rotated or closed code,
    /// or a class not open yet).
    async fn open_class(&self, typed: &str) -> Result<StoredClass, ClassroomError> {
        let code = code::normalize(typed).ok_or(ClassroomError::NoSuchCode)?;
        let hash = code::hash(&code);
        let class = self
            .store(move |s| s.class_by_code(&hash))
            .await?
            .ok_or(ClassroomError::NoSuchCode)?;
        // Found by hash; compared again in constant time.
        if !code::same(&self.join_code(&class), &code) {
            return Err(ClassroomError::NoSuchCode);
        }
        let now = unix_now();
        let open =
            class.opens_at.is_none_or(|t| now >= t) && class.closes_at.is_none_or(|t| now < t);
        if open {
            Ok(class)
        } else {
            Err(ClassroomError::NoSuchCode)
        }
    }

    /// A student joins with a code and a display name; `owner` (their browser) now belongs to
    /// them, with the progress it had.
    pub async fn join(
        &self,
        owner: &OwnerToken,
        typed_code: &str,
        name: &str,
    ) -> Result<Joined, ClassroomError> {
        let class = self.open_class(typed_code).await?;
        let name = display_name(name, "student")?;
        let now = unix_now();
        let student = StoredStudent {
            id: uuid::Uuid::new_v4().simple().to_string(),
            class_id: class.id.clone(),
            name,
            recovery_code: code::random(),
            joined_at: now,
            last_seen: now,
        };
        let (stored, owner_hash) = (student.clone(), owner.hash());
        match self
            .store(move |s| s.add_student(&stored, &owner_hash))
            .await?
        {
            Added::Yes => {
                self.inner.learners.link(&owner.hash(), &student.id);
                Ok(joined(&student, &class))
            }
            Added::Full => Err(ClassroomError::ClassFull),
        }
    }

    /// A student comes back on another browser with their recovery code.
    pub async fn rejoin(
        &self,
        owner: &OwnerToken,
        typed_code: &str,
        recovery: &str,
    ) -> Result<Joined, ClassroomError> {
        let class = self.open_class(typed_code).await?;
        let recovery = code::normalize(recovery).ok_or(ClassroomError::NoSuchStudent)?;
        let id = class.id.clone();
        let student = self
            .store(move |s| s.student_by_recovery(&id, &recovery))
            .await?
            .ok_or(ClassroomError::NoSuchStudent)?;
        let (student_id, owner_hash) = (student.id.clone(), owner.hash());
        self.store(move |s| s.link_browser(&owner_hash, &student_id))
            .await?;
        self.inner.learners.link(&owner.hash(), &student.id);
        Ok(joined(&student, &class))
    }

    /// The student a browser belongs to, with their class.
    pub async fn student_of(
        &self,
        owner: &OwnerToken,
    ) -> Result<Option<(StoredStudent, StoredClass)>, ClassroomError> {
        let owner_hash = owner.hash();
        let Some(student) = self
            .store(move |s| s.student_of_browser(&owner_hash))
            .await?
        else {
            return Ok(None);
        };
        let class_id = student.class_id.clone();
        let class = self.store(move |s| s.class(&class_id)).await?;
        Ok(class.map(|class| (student, class)))
    }

    fn join_code(&self, class: &StoredClass) -> String {
        code::join_code(&self.inner.code_key, &class.id, class.code_generation)
    }

    fn view(&self, class: StoredClass, students: i64) -> ClassView {
        ClassView {
            join_code: code::grouped(&self.join_code(&class)),
            id: class.id,
            name: class.name,
            lessons: class.lessons,
            opens_at: class.opens_at,
            closes_at: class.closes_at,
            max_students: class.max_students,
            students,
            record_terminals: class.record_terminals,
        }
    }
}

fn joined(student: &StoredStudent, class: &StoredClass) -> Joined {
    Joined {
        student: StudentRef {
            id: student.id.clone(),
            name: student.name.clone(),
        },
        class: ClassRef {
            id: class.id.clone(),
            name: class.name.clone(),
            lessons: class.lessons.clone(),
            records_terminals: class.record_terminals,
        },
        recovery_code: code::grouped(&student.recovery_code),
    }
}

/// A name people will read: trimmed, not empty, not too long, no control characters.
fn display_name(name: &str, what: &str) -> Result<String, ClassroomError> {
    let name = name.trim();
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ClassroomError::Invalid(format!(
            "a {what}'s name is 1-{MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_string())
}
