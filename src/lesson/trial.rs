//! Lesson CI (`pathshala lessons test`): in a fresh sandbox, each step's checks must all
//! FAIL before its solution runs (no check passes by accident) and all PASS after.

use std::time::Duration;

use super::{Lesson, render};
use crate::check::{self, CheckResult};
use crate::sandbox::Sandboxes;

/// How long a setup script or a step's solution may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// What happened to one step.
#[derive(Debug)]
pub struct StepReport {
    pub title: String,
    pub problems: Vec<String>,
}

/// What happened to one lesson.
#[derive(Debug)]
pub struct LessonReport {
    pub id: String,
    pub steps: Vec<StepReport>,
    /// A problem that stopped the trial (no sandbox, setup failed).
    pub aborted: Option<String>,
}

impl LessonReport {
    pub fn passed(&self) -> bool {
        self.aborted.is_none() && self.steps.iter().all(|s| s.problems.is_empty())
    }
}

/// Tries `lesson` in a fresh sandbox as `learner` would, step by step.
pub async fn run(sandboxes: &Sandboxes, lesson: &Lesson, learner: &str) -> LessonReport {
    let mut report = LessonReport {
        id: lesson.id.clone(),
        steps: Vec::new(),
        aborted: None,
    };
    let session = uuid::Uuid::new_v4().simple().to_string();
    let image = lesson.image.as_ref().map(|i| i.name.as_str());
    let container = match sandboxes.create_from(&session, image).await {
        Ok(container) => container,
        Err(e) => {
            report.aborted = Some(e.to_string());
            return report;
        }
    };
    if let Err(problem) = steps(sandboxes, &container, lesson, learner, &mut report).await {
        report.aborted = Some(problem);
    }
    if let Err(e) = sandboxes.remove(&container).await {
        tracing::warn!("could not remove trial sandbox: {e}");
    }
    report
}

async fn steps(
    sandboxes: &Sandboxes,
    container: &str,
    lesson: &Lesson,
    learner: &str,
    report: &mut LessonReport,
) -> Result<(), String> {
    let values = render::generate(lesson);
    sandboxes
        .wait_for_boot(container)
        .await
        .map_err(|e| e.to_string())?;
    let files = lesson
        .read_files()
        .map_err(|e| format!("cannot read the lesson's files: {e}"))?;
    sandboxes
        .put_files(container, &files)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(setup) = &lesson.setup {
        script(
            sandboxes,
            container,
            "root",
            &render::render(setup, &values),
        )
        .await
        .map_err(|e| format!("setup failed: {e}"))?;
    }
    for step in &lesson.steps {
        let checks = render::render_checks(&step.checks, &values);
        let mut problems = Vec::new();
        let before = check::run(sandboxes, container, &checks)
            .await
            .map_err(|e| e.to_string())?;
        for result in before.iter().filter(|r| r.passed) {
            problems.push(format!(
                "check {:?} already passes before the solution ({}): it would pass by accident",
                result.name, result.actual
            ));
        }
        match &step.solution {
            None => problems.push("no solution to try; add one".into()),
            Some(solution) => {
                let solution = render::render(solution, &values);
                if let Err(e) = script(sandboxes, container, learner, &solution).await {
                    problems.push(format!("the solution failed: {e}"));
                }
                let after = check::run(sandboxes, container, &checks)
                    .await
                    .map_err(|e| e.to_string())?;
                problems.extend(after.iter().filter(|r| !r.passed).map(failed));
            }
        }
        report.steps.push(StepReport {
            title: step.title.clone(),
            problems,
        });
    }
    Ok(())
}

fn failed(result: &CheckResult) -> String {
    format!(
        "check {:?} fails after the solution: expected {}, found {}",
        result.name, result.expected, result.actual
    )
}

/// Runs a bash script as `user` (a login shell, as the learner would type it).
async fn script(
    sandboxes: &Sandboxes,
    container: &str,
    user: &str,
    text: &str,
) -> Result<(), String> {
    let argv = ["bash", "-l", "-e", "-c", text];
    let done = sandboxes
        .run(container, &argv, user, b"", SCRIPT_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    if done.exit_code == Some(0) {
        Ok(())
    } else {
        let output = String::from_utf8_lossy(&done.stderr).trim().to_string();
        Err(format!(
            "exit status {:?}: {output}",
            done.exit_code.unwrap_or(-1)
        ))
    }
}
