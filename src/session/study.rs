//! A learner on a lesson: the lesson's steps rendered with the learner's own values,
//! checking a step (the same call lesson CI makes) and recording its pass. HTTP handlers
//! extract, call one of these, and map the result.

use std::sync::Arc;

use serde::Serialize;

use super::{Session, SessionError, Sessions};
use crate::check::{CheckError, CheckResult, PortNumber};
use crate::event::Event;
use crate::lesson::{Catalog, Lesson, markdown, render};
use crate::session::terminal::unix_now;
use crate::store::LEGACY_STEP_PREFIX;

/// The answer to a check: every check's result, and whether the step passed.
#[derive(Debug, Clone, Serialize)]
pub struct StepVerdict {
    pub step: usize,
    pub passed: bool,
    pub checks: Vec<CheckResult>,
}

/// The session's lesson, its texts rendered with the learner's own values.
#[derive(Debug, Serialize)]
pub struct LessonView {
    pub id: String,
    pub title: String,
    pub steps: Vec<StepView>,
    pub passed_steps: Vec<usize>,
}

/// One step as the learner sees it.
#[derive(Debug, Serialize)]
pub struct StepView {
    pub title: String,
    /// Markdown.
    pub body: String,
    /// The body as HTML (raw HTML in the lesson is escaped).
    pub body_html: String,
    pub hints: Vec<String>,
    /// The hints as HTML.
    pub hints_html: Vec<String>,
    pub watch: bool,
    pub preview: Vec<u16>,
    pub checks: Vec<String>,
}

/// The step a learner is on: the first not yet passed, or the last once all have.
pub fn current_step(lesson: &Lesson, passed: &[usize]) -> usize {
    (0..lesson.steps.len())
        .find(|s| !passed.contains(s))
        .unwrap_or(lesson.steps.len().saturating_sub(1))
}

impl Sessions {
    /// The lesson `session` was started for: the catalog's current version, or, while an
    /// edit has broken it (`serve --dev`), the last version that loaded.
    pub fn lesson_of(
        &self,
        session: &Session,
        catalog: &Catalog,
    ) -> Result<Arc<Lesson>, SessionError> {
        let taken = session.lesson.as_ref().ok_or(SessionError::NotALesson)?;
        catalog
            .for_session(&taken.id)
            .ok_or_else(|| SessionError::NoLesson(taken.id.clone()))
    }

    /// Runs the checks of `step` (by default the first step not yet passed) in one round
    /// trip, records a pass, and reports both as events.
    pub async fn check_step(
        &self,
        session: &Session,
        catalog: &Catalog,
        step: Option<usize>,
    ) -> Result<StepVerdict, SessionError> {
        let lesson = self.lesson_of(session, catalog)?;
        let values = session.values();
        let passed = self.passed_steps(session.owner_hash(), &lesson).await?;
        let index = step.unwrap_or_else(|| current_step(&lesson, &passed));
        let Some(found) = lesson.steps.get(index) else {
            return Err(SessionError::NoSuchStep {
                step: index,
                steps: lesson.steps.len(),
            });
        };
        let checks = crate::lesson::run::check_step(
            &self.inner.sandboxes,
            &session.container_id,
            found,
            values,
        )
        .await
        .map_err(|e| match e {
            CheckError::Sandbox(e) => SessionError::Sandbox(e),
            other => SessionError::Unchecked(other.to_string()),
        })?;
        let verdict = StepVerdict {
            step: index,
            passed: checks.iter().all(|c| c.passed),
            checks,
        };
        // A marker in the terminal's recording: replay jumps to each check run.
        let label = match verdict.checks.iter().find(|c| !c.passed) {
            None => format!("step {}: passed", index + 1),
            Some(failed) => format!("step {}: failed: {}", index + 1, bounded(&failed.message)),
        };
        session.terminal.mark(&label);
        self.report_check(session, &lesson, &verdict).await?;
        Ok(verdict)
    }

    /// Records a passed step and publishes what happened.
    async fn report_check(
        &self,
        session: &Session,
        lesson: &Lesson,
        verdict: &StepVerdict,
    ) -> Result<(), SessionError> {
        let step_key = lesson.steps[verdict.step].key.clone();
        let recorded: Vec<serde_json::Value> = verdict
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "passed": c.passed,
                    "message": bounded(&c.message),
                })
            })
            .collect();
        let (owner, lesson_id, key) = (
            session.owner_hash().to_string(),
            lesson.id.clone(),
            step_key.clone(),
        );
        let (passed, checks) = (
            verdict.passed,
            serde_json::Value::from(recorded).to_string(),
        );
        self.store(move |s| {
            s.record_attempt(&owner, &lesson_id, &key, passed, &checks, unix_now())?;
            if passed {
                s.record_pass(&owner, &lesson_id, &key, unix_now())?;
            }
            Ok(())
        })
        .await?;
        let (session_id, owner) = (session.id.to_string(), session.owner_hash().to_string());
        self.inner.events.emit(Event::CheckRun {
            session: session_id.clone(),
            owner: owner.clone(),
            lesson: lesson.id.clone(),
            step: verdict.step,
            step_key: step_key.clone(),
            passed: verdict.passed,
            checks: verdict.checks.clone(),
        });
        if verdict.passed {
            self.inner.events.emit(Event::StepPassed {
                session: session_id,
                owner,
                lesson: lesson.id.clone(),
                step: verdict.step,
                step_key,
            });
        }
        Ok(())
    }

    /// Everything the owner `owner_hash` has passed, in one store call (for pages that
    /// show every lesson).
    pub async fn progress(&self, owner_hash: &str) -> Result<Progress, SessionError> {
        let owner = owner_hash.to_string();
        Ok(Progress(self.store(move |s| s.passed_steps(&owner)).await?))
    }

    /// The steps of `lesson` (by position now) that the owner `owner_hash` has passed.
    pub async fn passed_steps(
        &self,
        owner_hash: &str,
        lesson: &Lesson,
    ) -> Result<Vec<usize>, SessionError> {
        Ok(self.progress(owner_hash).await?.passed(lesson))
    }

    /// The session's lesson with every text rendered with the learner's values.
    pub async fn lesson_view(&self, session: &Session, catalog: &Catalog) -> Option<LessonView> {
        let lesson = self.lesson_of(session, catalog).ok()?;
        let values = session.values();
        let text = |t: &str| render::render(t, values);
        let steps = lesson
            .steps
            .iter()
            .map(|step| {
                let body = text(&step.body);
                let hints: Vec<String> = step.hints.iter().map(|h| text(h)).collect();
                StepView {
                    title: text(&step.title),
                    body_html: markdown::to_html(&body),
                    hints_html: hints.iter().map(|h| markdown::to_html(h)).collect(),
                    body,
                    hints,
                    watch: step.watch,
                    preview: step
                        .preview
                        .iter()
                        .filter_map(|port| match port {
                            PortNumber::Number(n) => Some(*n),
                            PortNumber::Template(t) => text(t).trim().parse().ok(),
                        })
                        .collect(),
                    checks: render::render_checks(&step.checks, values)
                        .into_iter()
                        .map(|c| c.name)
                        .collect(),
                }
            })
            .collect();
        Some(LessonView {
            id: lesson.id.clone(),
            title: lesson.title.clone(),
            steps,
            passed_steps: self
                .passed_steps(session.owner_hash(), &lesson)
                .await
                .unwrap_or_default(),
        })
    }
}

/// A learner's passed steps: (lesson, step key).
pub struct Progress(Vec<(String, String)>);

impl Progress {
    /// The steps of `lesson`, by position now, that were passed. Progress belongs to a
    /// step's key, so inserting or moving steps keeps it right.
    pub fn passed(&self, lesson: &Lesson) -> Vec<usize> {
        let keys: Vec<&str> = self
            .0
            .iter()
            .filter(|(l, _)| *l == lesson.id)
            .map(|(_, k)| k.as_str())
            .collect();
        lesson
            .steps
            .iter()
            .enumerate()
            .filter(|(index, step)| {
                keys.contains(&step.key.as_str())
                    || keys.contains(&format!("{LEGACY_STEP_PREFIX}{index}").as_str())
            })
            .map(|(index, _)| index)
            .collect()
    }
}

/// Characters of a check's message kept in the record of attempts.
const RECORDED_MESSAGE_CHARS: usize = 500;

fn bounded(message: &str) -> String {
    match message.char_indices().nth(RECORDED_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}...", &message[..at]),
        None => message.to_string(),
    }
}
