//! Recording the terminals of a class's students: a recording starts when a student's
//! terminal is first opened (and again after a server restart), unless their class turned
//! recording off; each is an asciicast file under `recordings/<class>/`, listed and served
//! to the class's instructors only.

use std::path::PathBuf;

use super::{Classroom, ClassroomError};
use crate::session::Session;
use crate::session::recording::{Recorder, RecordingFile};
use crate::session::terminal::unix_now;
use crate::store::StoredRecording;

impl Classroom {
    /// Starts recording `session`'s terminal if it belongs to a student whose class records
    /// terminals and it is not recorded yet. A recording that cannot start is logged and
    /// left out: the learner's terminal matters more.
    pub async fn record_if_needed(&self, session: &Session) {
        let terminal = &session.terminal;
        // Held while a recording goes on (or stopped at its limit): one per terminal at most.
        if !terminal.claim_recording() {
            return;
        }
        match self.start_recording(session).await {
            Ok(true) => {}
            Ok(false) => terminal.release_recording(),
            Err(e) => {
                tracing::warn!(session = %session.id, "terminal recording did not start: {e}");
                terminal.release_recording();
            }
        }
    }

    async fn start_recording(&self, session: &Session) -> Result<bool, ClassroomError> {
        let Some(student_id) = self.student_id_of(session.owner_hash()) else {
            return Ok(false);
        };
        let Some(student) = self.store(move |s| s.student(&student_id)).await? else {
            return Ok(false);
        };
        let class_id = student.class_id.clone();
        let Some(class) = self.store(move |s| s.class(&class_id)).await? else {
            return Ok(false);
        };
        if !class.record_terminals {
            return Ok(false);
        }
        let owned = student.id.clone();
        let recorded = self.store(move |s| s.recorded_bytes_of(&owned)).await?;
        if recorded as u64 >= self.inner.limits.recording_student_max_bytes {
            tracing::info!(student = %student.id, "not recording: the student's recordings are full");
            return Ok(false);
        }
        let lesson = session.lesson.as_ref().map(|l| l.id.clone());
        let recording = StoredRecording {
            id: uuid::Uuid::new_v4().simple().to_string(),
            class_id: class.id.clone(),
            student: student.id.clone(),
            session: session.id.to_string(),
            lesson: lesson.clone(),
            started_at: unix_now(),
            ended_at: None,
            bytes: 0,
            truncated: false,
        };
        let path = self.recording_path(&recording);
        let stored = recording.clone();
        self.store(move |s| s.insert_recording(&stored)).await?;
        let (store, id) = (self.inner.store.clone(), recording.id.clone());
        let file = RecordingFile {
            path,
            title: format!(
                "{} · {}",
                student.name,
                lesson.as_deref().unwrap_or("practice")
            ),
            max_bytes: self.inner.limits.recording_max_bytes,
            on_end: Box::new(move |end| {
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = store.end_recording(&id, unix_now(), end.bytes, end.truncated) {
                        tracing::warn!("could not note a recording's end: {e}");
                    }
                });
            }),
        };
        let recorder = Recorder::start(file, session.terminal.size())
            .await
            .map_err(ClassroomError::Recording)?;
        session.terminal.record(recorder);
        Ok(true)
    }

    fn recording_path(&self, recording: &StoredRecording) -> PathBuf {
        // Both ids are made here (hex), never taken from a request.
        self.inner
            .recordings_dir
            .join(&recording.class_id)
            .join(format!("{}.cast", recording.id))
    }

    /// The recordings of a student of a class `instructor` teaches, newest first.
    pub async fn recordings(
        &self,
        instructor: &str,
        class_id: &str,
        student_id: &str,
    ) -> Result<Vec<StoredRecording>, ClassroomError> {
        let (_, student) = self
            .student_in_class(instructor, class_id, student_id)
            .await?;
        self.store(move |s| s.recordings_of(&student.id)).await
    }

    /// The file of one recording of such a student; `NoRecording` for any other.
    pub async fn recording_file(
        &self,
        instructor: &str,
        class_id: &str,
        student_id: &str,
        recording_id: &str,
    ) -> Result<(StoredRecording, PathBuf), ClassroomError> {
        let (_, student) = self
            .student_in_class(instructor, class_id, student_id)
            .await?;
        let owned = recording_id.to_string();
        let recording = self
            .store(move |s| s.recording(&owned))
            .await?
            .filter(|r| r.student == student.id)
            .ok_or(ClassroomError::NoRecording)?;
        let path = self.recording_path(&recording);
        Ok((recording, path))
    }

    /// Turns recording of a class's terminals on or off; returns the class's id.
    pub async fn set_recording(
        &self,
        instructor: &str,
        class_id: &str,
        on: bool,
    ) -> Result<String, ClassroomError> {
        let class = self.class_of(instructor, class_id).await?;
        let id = class.id.clone();
        self.store(move |s| s.set_recording(&id, on)).await?;
        Ok(class.id)
    }
}
