//! Lesson CI (`pathshala lessons test`): in a fresh sandbox prepared exactly as a learner's
//! is ([`super::run`]), each step's checks must all FAIL before its solution runs (no check
//! passes by accident) and all PASS after; guard checks must pass both times.

use std::time::{Duration, Instant};

use super::render::{self, Values};
use super::run::{self, Shell};
use super::{Lesson, Step};
use crate::check::CheckResult;
use crate::sandbox::Sandboxes;

/// How a trial is run.
#[derive(Debug, Clone, Default)]
pub struct TrialOptions {
    /// Try only this step (1-based); the steps before it are brought about by their
    /// solutions first, unchecked.
    pub step: Option<usize>,
    /// Leave the sandbox running when the trial fails, to look inside.
    pub keep_failed: bool,
    /// Draw the learner's values from this seed (the same seed, the same values).
    pub seed: Option<u64>,
}

/// What happened to one step.
#[derive(Debug)]
pub struct StepReport {
    /// 1-based, as authors count.
    pub number: usize,
    pub title: String,
    pub problems: Vec<String>,
    pub took: Duration,
}

/// What happened to one lesson.
#[derive(Debug)]
pub struct LessonReport {
    pub id: String,
    /// The seed the values were drawn from.
    pub seed: u64,
    /// The values the trial's learner got.
    pub values: Values,
    pub steps: Vec<StepReport>,
    /// A problem that stopped the trial (no sandbox, setup failed).
    pub aborted: Option<String>,
    /// The sandbox left running for the author (with `keep_failed`).
    pub kept: Option<String>,
    pub setup_took: Duration,
}

impl LessonReport {
    pub fn passed(&self) -> bool {
        self.aborted.is_none() && self.steps.iter().all(|s| s.problems.is_empty())
    }
}

/// Tries `lesson` in a fresh sandbox as `learner` would, step by step.
pub async fn run(
    sandboxes: &Sandboxes,
    lesson: &Lesson,
    learner: &str,
    options: &TrialOptions,
) -> LessonReport {
    let seed = options.seed.unwrap_or_default();
    let mut report = LessonReport {
        id: lesson.id.clone(),
        seed,
        values: render::generate_seeded(lesson, seed),
        steps: Vec::new(),
        aborted: None,
        kept: None,
        setup_took: Duration::ZERO,
    };
    if let Some(step) = options.step
        && !(1..=lesson.steps.len()).contains(&step)
    {
        report.aborted = Some(format!(
            "there is no step {step}; this lesson has {} (counting from 1)",
            lesson.steps.len()
        ));
        return report;
    }
    let session = uuid::Uuid::new_v4().simple().to_string();
    let image = lesson.image.as_ref().map(|i| i.name.as_str());
    let container = match sandboxes.create_from(&session, image).await {
        Ok(container) => container,
        Err(e) => {
            report.aborted = Some(e.to_string());
            return report;
        }
    };
    if let Err(problem) = steps(sandboxes, &container, lesson, learner, options, &mut report).await
    {
        report.aborted = Some(problem);
    }
    if options.keep_failed && !report.passed() {
        report.kept = Some(container);
    } else if let Err(e) = sandboxes.remove(&container).await {
        tracing::warn!("could not remove trial sandbox: {e}");
    }
    report
}

async fn steps(
    sandboxes: &Sandboxes,
    container: &str,
    lesson: &Lesson,
    learner: &str,
    options: &TrialOptions,
    report: &mut LessonReport,
) -> Result<(), String> {
    let started = Instant::now();
    let prepared = run::prepare(sandboxes, container, lesson, &report.values).await;
    report.setup_took = started.elapsed();
    prepared.map_err(|e| e.to_string())?;
    for (index, step) in lesson.steps.iter().enumerate() {
        let number = index + 1;
        if options.step.is_some_and(|only| number < only) {
            // Bring about the state the chosen step starts from.
            if let Some(solution) = &step.solution {
                solve(sandboxes, container, learner, solution, &report.values)
                    .await
                    .map_err(|e| format!("the solution of step {number} failed: {e}"))?;
            }
            continue;
        }
        if options.step.is_some_and(|only| number > only) {
            break;
        }
        let started = Instant::now();
        let problems = try_step(sandboxes, container, step, learner, &report.values).await?;
        report.steps.push(StepReport {
            number,
            title: render::render(&step.title, &report.values),
            problems,
            took: started.elapsed(),
        });
    }
    Ok(())
}

/// A step's checks before and after its solution; the problems found.
async fn try_step(
    sandboxes: &Sandboxes,
    container: &str,
    step: &Step,
    learner: &str,
    values: &Values,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let before = run::check_step(sandboxes, container, step, values)
        .await
        .map_err(|e| e.to_string())?;
    for (spec, result) in step.checks.iter().zip(&before) {
        match (spec.guard, result.passed) {
            (false, true) => problems.push(format!(
                "check {:?} already passes before the solution ({}): it would pass by \
                 accident (if it is an invariant that should hold throughout, mark it \
                 `guard: true`)",
                result.name, result.actual
            )),
            (true, false) => problems.push(format!(
                "guard {:?} fails before the solution: expected {}, found {}",
                result.name, result.expected, result.actual
            )),
            _ => {}
        }
    }
    let Some(solution) = &step.solution else {
        problems.push("no solution to try; add one".into());
        return Ok(problems);
    };
    if let Err(e) = solve(sandboxes, container, learner, solution, values).await {
        problems.push(format!("the solution failed: {e}"));
    }
    let after = run::check_step(sandboxes, container, step, values)
        .await
        .map_err(|e| e.to_string())?;
    for (spec, result) in step.checks.iter().zip(&after) {
        if !result.passed {
            problems.push(failed(spec.guard, result));
        }
    }
    Ok(problems)
}

/// Runs a step's solution as the learner types it: their user, a login shell.
async fn solve(
    sandboxes: &Sandboxes,
    container: &str,
    learner: &str,
    solution: &str,
    values: &Values,
) -> Result<(), String> {
    let text = render::render(solution, values);
    run::run_script(sandboxes, container, learner, Shell::Login, &text)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

fn failed(guard: bool, result: &CheckResult) -> String {
    let what = if guard { "guard" } else { "check" };
    format!(
        "{what} {:?} fails after the solution: expected {}, found {}",
        result.name, result.expected, result.actual
    )
}
