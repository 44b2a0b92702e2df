//! The instructor's live view over HTTP: `GET /api/classes/{id}/live` (server-sent events:
//! a `snapshot` of the grid, then `student`, `check` and `flag` as they happen, from the
//! domain event stream), the heatmap, dismissing flags, and a student's "I'm stuck".

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::AppState;
use super::auth::Instructor;
use super::error::ApiError;
use super::owner::Owner;
use crate::classroom::live::{self, LessonKeys, LiveSession, Row};
use crate::event::{Event, Stamped};
use crate::session::terminal::unix_now;
use crate::store::StoredClass;

/// Rows are re-evaluated this often even without events (time on a step, idle minutes).
const REFRESH: Duration = Duration::from_secs(10);
/// Messages waiting for one slow instructor's browser before the stream is dropped (the
/// page reconnects and gets a fresh snapshot).
const STREAM_QUEUE: usize = 256;

/// One instructor's view of one class, following the event stream.
struct LiveClass {
    state: AppState,
    instructor: String,
    class: StoredClass,
    lessons: LessonKeys,
    /// The row last sent, per student.
    rows: HashMap<String, Row>,
    /// Each student's browsers, to find their sandboxes.
    browsers: HashMap<String, Vec<String>>,
}

fn sse(name: &str, data: &impl serde::Serialize) -> SseEvent {
    SseEvent::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_default())
}

impl LiveClass {
    async fn open(state: AppState, instructor: String, id: &str) -> Result<Self, ApiError> {
        let class = state.classroom.class_of(&instructor, id).await?;
        let lessons =
            crate::classroom::lesson_keys(&class.lessons, super::classes::step_keys(&state));
        Ok(Self {
            state,
            instructor,
            class,
            lessons,
            rows: HashMap::new(),
            browsers: HashMap::new(),
        })
    }

    /// The rows of every student (or just `only`), as they are now.
    async fn compute(&mut self, only: Option<&str>) -> Result<Vec<Row>, ApiError> {
        let students = self
            .state
            .classroom
            .live_students(&self.instructor, &self.class.id, only)
            .await?;
        let (rules, now) = (self.state.classroom.stuck_rules(), unix_now());
        let mut rows = Vec::new();
        for mut student in students {
            student.facts.sessions = self
                .state
                .sessions
                .owned_by(&student.browsers)
                .iter()
                .map(|s| LiveSession {
                    id: s.id.to_string(),
                    lesson: s.lesson.as_ref().map(|l| l.id.clone()),
                    attached: s.terminal.attached(),
                    created_at: s.created_at,
                    last_active: s.terminal.last_active(),
                })
                .collect();
            self.browsers
                .insert(student.facts.id.clone(), student.browsers.clone());
            rows.push(live::row(&student.facts, &self.lessons, rules, now));
        }
        Ok(rows)
    }

    async fn snapshot(&mut self) -> Result<SseEvent, ApiError> {
        let mut rows = self.compute(None).await?;
        live::sort_by_attention(&mut rows);
        self.rows = rows.iter().map(|r| (r.id.clone(), r.clone())).collect();
        let catalog = self.state.catalog();
        let lessons: Vec<Value> = self
            .class
            .lessons
            .iter()
            .map(|id| {
                let lesson = catalog.for_session(id);
                let steps: Vec<Value> = lesson
                    .iter()
                    .flat_map(|l| l.steps.iter())
                    .map(|s| json!({"key": s.key, "title": s.title}))
                    .collect();
                json!({"id": id, "title": lesson.map(|l| l.title.clone()), "steps": steps})
            })
            .collect();
        Ok(sse(
            "snapshot",
            &json!({
                "class": {"id": self.class.id, "name": self.class.name, "lessons": self.class.lessons},
                "lessons": lessons,
                "rules": self.state.classroom.stuck_rules(),
                "now": unix_now(),
                "students": rows,
            }),
        ))
    }

    /// Re-reads students' rows and sends those that changed, with their flags raised or
    /// cleared. A student not seen before (who just joined) brings a full re-read.
    async fn refresh(
        &mut self,
        only: Option<&str>,
        out: &mpsc::Sender<SseEvent>,
    ) -> Result<(), ApiError> {
        let only = only.filter(|s| self.rows.contains_key(*s));
        for row in self.compute(only).await? {
            let before = self.rows.get(&row.id);
            if before == Some(&row) {
                continue;
            }
            let old_flags = before.map(|r| r.flags.clone()).unwrap_or_default();
            let mut messages = vec![sse("student", &row)];
            for flag in &row.flags {
                if !old_flags.iter().any(|f| f.kind == flag.kind) {
                    messages.push(flag_event(&row, flag, true));
                }
            }
            for flag in &old_flags {
                if !row.flags.iter().any(|f| f.kind == flag.kind) {
                    messages.push(flag_event(&row, flag, false));
                }
            }
            self.rows.insert(row.id.clone(), row);
            for message in messages {
                send(out, message).await?;
            }
        }
        Ok(())
    }

    /// The student an event is about, if they are (or may be) in this class.
    fn student_of(&self, event: &Event) -> Option<String> {
        let owner = match event {
            Event::SessionStarted { owner, .. }
            | Event::CheckRun { owner, .. }
            | Event::StepPassed { owner, .. }
            | Event::HelpRequested { owner, .. }
            | Event::SessionEnded { owner, .. } => owner.clone(),
            Event::TerminalAttached { session, .. } | Event::TerminalDetached { session, .. } => {
                self.state.sessions.owner_of(session)?
            }
            Event::FlagsDismissed { student, .. } => return Some(student.clone()),
        };
        self.state.classroom.student_id_of(&owner)
    }

    async fn on_event(
        &mut self,
        stamped: &Stamped,
        out: &mpsc::Sender<SseEvent>,
    ) -> Result<(), ApiError> {
        let Some(student) = self.student_of(&stamped.event) else {
            return Ok(());
        };
        let known = self.rows.contains_key(&student);
        if let Event::CheckRun {
            lesson,
            step,
            passed,
            checks,
            ..
        } = &stamped.event
            && known
        {
            let failed = checks.iter().find(|c| !c.passed);
            let name = self.rows.get(&student).map(|r| r.name.clone());
            send(
                out,
                sse(
                    "check",
                    &json!({
                        "student": student, "name": name, "lesson": lesson, "step": step,
                        "passed": passed, "check": failed.map(|c| c.name.clone()),
                        "message": failed.map(|c| c.message.clone()), "at": stamped.at,
                    }),
                ),
            )
            .await?;
        }
        // A student not yet in the grid may have just joined this class.
        self.refresh(known.then_some(student.as_str()), out).await
    }

    async fn follow(
        mut self,
        mut events: broadcast::Receiver<std::sync::Arc<Stamped>>,
        out: mpsc::Sender<SseEvent>,
    ) {
        let mut tick = tokio::time::interval(REFRESH);
        tick.tick().await;
        // The server stopping ends the stream (the page reconnects), or shutdown would wait
        // for it forever.
        let mut stopping = self.state.stopping.clone();
        loop {
            let result = tokio::select! {
                received = events.recv() => match received {
                    Ok(stamped) => self.on_event(&stamped, &out).await,
                    // Fell behind the event stream: start again from a fresh snapshot.
                    Err(broadcast::error::RecvError::Lagged(_)) => match self.snapshot().await {
                        Ok(snapshot) => send(&out, snapshot).await,
                        Err(e) => Err(e),
                    },
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick() => self.refresh(None, &out).await,
                () = out.closed() => return,
                () = super::terminal::stop_requested(&mut stopping) => return,
            };
            match result {
                Ok(()) => {}
                Err(_) if out.is_closed() => return,
                Err(e) => tracing::warn!(class = %self.class.id, "live view: {e}"),
            }
        }
    }
}

fn flag_event(row: &Row, flag: &live::Flag, raised: bool) -> SseEvent {
    sse(
        "flag",
        &json!({
            "student": row.id, "name": row.name, "kind": flag.kind, "lesson": flag.lesson,
            "step": flag.step, "reason": flag.reason, "at": flag.at, "raised": raised,
        }),
    )
}

/// Sends to the browser's queue; an error means the browser is gone.
async fn send(out: &mpsc::Sender<SseEvent>, event: SseEvent) -> Result<(), ApiError> {
    out.send(event).await.map_err(|_| gone())
}

/// The browser closed the stream.
fn gone() -> ApiError {
    ApiError::Session(crate::session::SessionError::Interrupted(
        "the browser left".into(),
    ))
}

pub async fn live_stream(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // Subscribed before the snapshot is read, so nothing falls between the two.
    let events = state.sessions.events().subscribe();
    let mut view = LiveClass::open(state, instructor, &id).await?;
    let snapshot = view.snapshot().await?;
    let (out, queue) = mpsc::channel(STREAM_QUEUE);
    out.try_send(snapshot).map_err(|_| gone())?;
    tokio::spawn(view.follow(events, out));
    let stream = futures_util::stream::unfold(queue, |mut queue| async move {
        queue
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), queue))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

pub async fn show_heatmap(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let class = state.classroom.class_of(&instructor, &id).await?;
    let attempts = state.classroom.class_attempts(&instructor, &id).await?;
    let keys = crate::classroom::lesson_keys(&class.lessons, super::classes::step_keys(&state));
    let mut map = live::heatmap(&attempts, &keys);
    let catalog = state.catalog();
    let lessons: Vec<Value> = class
        .lessons
        .iter()
        .map(|id| {
            let lesson = catalog.for_session(id);
            let steps: Vec<Value> = map
                .remove(id)
                .unwrap_or_default()
                .into_iter()
                .map(|step| {
                    let title = lesson
                        .as_ref()
                        .and_then(|l| l.steps.get(step.step))
                        .map(|s| s.title.clone());
                    let mut value = serde_json::to_value(step).unwrap_or_default();
                    value["title"] = json!(title);
                    value
                })
                .collect();
            json!({"id": id, "title": lesson.map(|l| l.title.clone()), "steps": steps})
        })
        .collect();
    Ok(Json(json!({"class": id, "lessons": lessons})))
}

pub async fn dismiss_flags(
    State(state): State<AppState>,
    Instructor(instructor): Instructor,
    Path((id, student)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let mut view = LiveClass::open(state.clone(), instructor.clone(), &id).await?;
    let row = view
        .compute(Some(&student))
        .await?
        .pop()
        .ok_or(ApiError::Classroom(
            crate::classroom::ClassroomError::NoSuchStudent,
        ))?;
    if let (Some(lesson), Some(step)) = (row.lesson, row.step) {
        let key = view
            .lessons
            .iter()
            .find(|(l, _)| *l == lesson)
            .and_then(|(_, keys)| keys.get(step).cloned())
            .unwrap_or_default();
        state.classroom.dismiss_flags(&student, &lesson, &key);
    }
    state.sessions.events().emit(Event::FlagsDismissed {
        student,
        by: instructor,
    });
    Ok(StatusCode::NO_CONTENT)
}

pub async fn ask_for_help(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let session = state.sessions.get(&id, owner.as_ref())?;
    let lesson = state.sessions.lesson_of(&session, &state.catalog())?;
    let passed = state
        .sessions
        .passed_steps(session.owner_hash(), &lesson)
        .await?;
    let step = crate::session::current_step(&lesson, &passed);
    let key = lesson.steps[step].key.clone();
    if state
        .classroom
        .ask_for_help(session.owner_hash(), &lesson.id, &key)
        .is_none()
    {
        return Err(ApiError::BadRequest(
            "asking for help reaches your instructor once you have joined a class".into(),
        ));
    }
    state.sessions.events().emit(Event::HelpRequested {
        session: session.id.to_string(),
        owner: session.owner_hash().to_string(),
        lesson: lesson.id.clone(),
        step,
        step_key: key,
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"lesson": lesson.id, "step": step})),
    )
        .into_response())
}
