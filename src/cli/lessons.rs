//! The lesson author's commands: `validate`, `test` (lesson CI, with its sandboxes removed
//! however the run ends) and `render` (a lesson's text as a learner would read it).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::lesson::trial::{LessonReport, TrialOptions};
use crate::lesson::{self, Lesson, LessonError, render};
use crate::sandbox::{self, Sandboxes, images};

/// The instance name lesson CI's sandboxes carry; each run marks its own with its process id
/// and start time (as their server id), so a run sweeps what dead runs left without
/// touching live ones, whatever the binary is called.
const TRIAL_INSTANCE: &str = "lesson-trials";
/// What marks a run's sandboxes: this prefix, the process id and its start time.
const RUN_PREFIX: &str = "trial-run-";
/// Kept sandboxes (`--keep`) are renamed with this prefix and the lesson's id; sweeps leave
/// them alone, and the next kept sandbox of the same lesson replaces the old one.
const KEPT_PREFIX: &str = "pathshala-kept-";

/// One lesson folder, or every lesson folder under `path`. A `lesson.yaml` given itself
/// stands for its folder; a folder holding files but no folders is taken for one lesson
/// (so a misnamed `lesson.yml` in it is named as the mistake).
pub fn load(path: &Path) -> (Vec<Lesson>, Vec<LessonError>) {
    let problem = |message: String| {
        let error = LessonError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message,
        };
        (Vec::new(), vec![error])
    };
    if !path.exists() {
        return problem("no such folder".into());
    }
    let is_lesson_file = path.file_name().is_some_and(|n| n == lesson::LESSON_FILE);
    let folder = match (path.is_file(), is_lesson_file, path.parent()) {
        (true, true, Some(parent)) if parent.as_os_str().is_empty() => Path::new("."),
        (true, true, Some(parent)) => parent,
        (true, _, _) => {
            return problem(format!(
                "this is a file; give the lesson's folder (the one holding {}) or a folder \
                 of lessons",
                lesson::LESSON_FILE
            ));
        }
        (false, _, _) => path,
    };
    let holds_folders = std::fs::read_dir(folder)
        .map(|entries| entries.filter_map(Result::ok).any(|e| e.path().is_dir()))
        .unwrap_or(false);
    if folder.join(lesson::LESSON_FILE).exists() || !holds_folders {
        match lesson::load(folder) {
            Ok(lesson) => (vec![lesson], Vec::new()),
            Err(errors) => (Vec::new(), errors),
        }
    } else {
        lesson::load_all(folder)
    }
}

/// `pathshala lessons validate`: prints every problem, returns an error if there were any.
pub async fn validate(config: &Config, path: &Path) -> anyhow::Result<()> {
    let (lessons, mut errors) = load(path);
    let named: Vec<String> = lessons
        .iter()
        .filter_map(|l| l.image.as_ref().map(|i| i.name.clone()))
        .collect();
    if !named.is_empty() {
        match sandbox::connect_docker(config.docker_host.as_deref()).await {
            Ok(docker) => {
                let missing = images::missing(&docker, named).await?;
                errors.extend(lesson::missing_images(&lessons, &missing));
            }
            Err(e) => eprintln!("warning: images not checked: {e}"),
        }
    }
    for error in &errors {
        eprintln!("{error}");
    }
    let broken: std::collections::BTreeSet<String> =
        errors.iter().map(LessonError::lesson_id).collect();
    let valid = lessons.iter().filter(|l| !broken.contains(&l.id)).count();
    println!(
        "{valid} lesson(s) valid, {} with problems ({} problem(s))",
        broken.len(),
        errors.len()
    );
    anyhow::ensure!(errors.is_empty(), "some lessons have problems");
    anyhow::ensure!(
        valid > 0,
        "no lesson found in {}: a lesson is a folder holding {}",
        path.display(),
        lesson::LESSON_FILE
    );
    Ok(())
}

/// What `pathshala lessons test` was asked.
pub struct TestRequest<'a> {
    pub path: &'a Path,
    pub parallel: usize,
    pub options: TrialOptions,
}

/// `pathshala lessons test`: tries every lesson in fresh sandboxes, a few at a time. Its
/// sandboxes are removed when it ends, on Ctrl-C or SIGTERM, and after a panic; a run that
/// was killed outright is swept by the next one.
pub async fn test(
    config: &Config,
    request: TestRequest<'_>,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let (lessons, errors) = load(request.path);
    for error in &errors {
        eprintln!("{error}");
    }
    anyhow::ensure!(
        errors.is_empty(),
        "fix the lessons' problems first (pathshala lessons validate)"
    );
    anyhow::ensure!(
        !lessons.is_empty(),
        "no lesson found in {}",
        request.path.display()
    );
    let sandboxes = Sandboxes::connect(
        config.docker_host.as_deref(),
        TRIAL_INSTANCE,
        config.sandbox.clone(),
    )
    .await?;
    sweep_dead_runs(&sandboxes).await;
    let sandboxes = sandboxes.for_server(run_id(std::process::id()).unwrap_or_else(|| {
        // Without /proc the start time is unknown; the pid alone still marks the run.
        format!("{RUN_PREFIX}{}-0", std::process::id())
    }));
    let mut cleanup = Cleanup::new(sandboxes.clone());
    let trials = spawn_trials(&sandboxes, lessons, &config.sandbox.shell_user, &request);
    let aborts: Vec<_> = trials.iter().map(|(_, t)| t.abort_handle()).collect();
    let reports = tokio::select! {
        reports = collect(trials) => reports,
        () = stop => {
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
            cleanup.now(&[]).await;
            // A create the engine was still working on when its trial stopped may finish
            // just after the first pass.
            tokio::time::sleep(LATE_CREATE).await;
            remove_run(&sandboxes, &[]).await;
            anyhow::bail!("interrupted; this run's sandboxes were removed");
        }
    };
    let kept: Vec<String> = reports.iter().filter_map(|r| r.kept.clone()).collect();
    cleanup.now(&kept).await;
    let mut failed = 0;
    for report in &reports {
        print_report(report);
        failed += usize::from(!report.passed());
    }
    anyhow::ensure!(failed == 0, "{failed} lesson(s) failed");
    Ok(())
}

/// How long an interrupted run waits for creates the engine had under way.
const LATE_CREATE: Duration = Duration::from_millis(500);

type Trial = (String, tokio::task::JoinHandle<LessonReport>);

/// Starts every trial, `parallel` of them at a time.
fn spawn_trials(
    sandboxes: &Sandboxes,
    lessons: Vec<Lesson>,
    learner: &str,
    request: &TestRequest<'_>,
) -> Vec<Trial> {
    let permits = Arc::new(tokio::sync::Semaphore::new(request.parallel.max(1)));
    let seed = request.options.seed.unwrap_or_else(random_seed);
    lessons
        .into_iter()
        .map(|lesson| {
            let (sandboxes, permits) = (sandboxes.clone(), permits.clone());
            let (learner, mut options) = (learner.to_string(), request.options.clone());
            // Every lesson draws from the run's seed, so `--seed` repeats the whole run.
            options.seed = Some(seed);
            let id = lesson.id.clone();
            let task = tokio::spawn(async move {
                let _permit = permits.acquire().await;
                let mut report =
                    crate::lesson::trial::run(&sandboxes, &lesson, &learner, &options).await;
                if let Some(container) = &report.kept {
                    report.kept = keep(&sandboxes, container, &lesson.id).await;
                }
                report
            });
            (id, task)
        })
        .collect()
}

/// Waits for every trial; one that panicked is reported as a failure.
async fn collect(trials: Vec<Trial>) -> Vec<LessonReport> {
    let mut reports = Vec::new();
    for (id, task) in trials {
        reports.push(task.await.unwrap_or_else(|e| LessonReport {
            id,
            seed: 0,
            values: Default::default(),
            steps: Vec::new(),
            aborted: Some(format!("the trial stopped unexpectedly: {e}")),
            kept: None,
            setup_took: Duration::ZERO,
        }));
    }
    reports
}

fn random_seed() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0 >> 16
}

/// Renames a failed trial's sandbox after its lesson (replacing the one kept last time).
async fn keep(sandboxes: &Sandboxes, container: &str, lesson: &str) -> Option<String> {
    let name = format!("{KEPT_PREFIX}{lesson}");
    if let Ok(found) = sandboxes.list().await {
        for old in found.iter().filter(|f| f.name == name) {
            let _ = sandboxes.remove(&old.container_id).await;
        }
    }
    match sandboxes.rename(container, &name).await {
        Ok(()) => Some(name),
        Err(e) => {
            eprintln!("warning: {e}; the sandbox is kept as {container}");
            Some(container.to_string())
        }
    }
}

fn print_report(report: &LessonReport) {
    let verdict = if report.passed() { "PASS" } else { "FAIL" };
    let took: Duration = report.steps.iter().map(|s| s.took).sum::<Duration>() + report.setup_took;
    let steps = match report.steps.len() {
        1 => "1 step".to_string(),
        n => format!("{n} steps"),
    };
    println!(
        "{verdict} {} ({steps}, {:.1} s)",
        report.id,
        took.as_secs_f64()
    );
    println!(
        "  seed: {} (repeat this draw with --seed {})",
        report.seed, report.seed
    );
    if !report.values.is_empty() {
        let values: Vec<String> = report
            .values
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        println!("  values: {}", values.join(" "));
    }
    let setup_failed = report.steps.is_empty() && report.aborted.is_some();
    let setup = if setup_failed {
        "setup (stopped)"
    } else {
        "setup"
    };
    println!("  {setup}: {:.1} s", report.setup_took.as_secs_f64());
    if let Some(reason) = &report.aborted {
        println!("  stopped: {reason}");
    }
    for step in &report.steps {
        let mark = if step.problems.is_empty() {
            "ok  "
        } else {
            "FAIL"
        };
        println!(
            "  {mark} {}. {} ({:.1} s)",
            step.number,
            step.title,
            step.took.as_secs_f64()
        );
        for problem in &step.problems {
            println!("       {problem}");
        }
    }
    if let Some(kept) = &report.kept {
        println!("  the sandbox is kept: docker exec -it --user learner {kept} bash -l");
        println!("  remove it with: docker rm -f {kept}");
    }
}

/// Removes this run's sandboxes: at the end, on a signal, or (from `Drop`) after a panic.
struct Cleanup {
    sandboxes: Option<Sandboxes>,
}

impl Cleanup {
    fn new(sandboxes: Sandboxes) -> Self {
        Self {
            sandboxes: Some(sandboxes),
        }
    }

    async fn now(&mut self, keep: &[String]) {
        if let Some(sandboxes) = self.sandboxes.take() {
            remove_run(&sandboxes, keep).await;
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(sandboxes) = self.sandboxes.take() else {
            return;
        };
        // A runtime of its own: Drop cannot await, and this one may be unwinding.
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Runtime::new() {
                runtime.block_on(remove_run(&sandboxes, &[]));
            }
        })
        .join();
    }
}

/// Removes every sandbox of this run except the kept ones.
async fn remove_run(sandboxes: &Sandboxes, keep: &[String]) {
    let Ok(found) = sandboxes.list().await else {
        return;
    };
    for sandbox in found {
        let mine = sandbox.server_id.as_deref() == sandboxes.server_id();
        let kept = keep.contains(&sandbox.name) || keep.contains(&sandbox.container_id);
        if mine && !kept && !sandbox.name.starts_with(KEPT_PREFIX) {
            let _ = sandboxes.remove(&sandbox.container_id).await;
        }
    }
}

/// Removes the sandboxes of runs whose process is gone (killed before it could clean up).
async fn sweep_dead_runs(sandboxes: &Sandboxes) {
    let Ok(found) = sandboxes.list().await else {
        return;
    };
    for sandbox in found {
        let Some(run) = sandbox
            .server_id
            .as_deref()
            .filter(|s| s.starts_with(RUN_PREFIX))
        else {
            continue;
        };
        if !sandbox.name.starts_with(KEPT_PREFIX) && !run_alive(run) {
            eprintln!("removing a sandbox left by an earlier lesson test run ({run})");
            let _ = sandboxes.remove(&sandbox.container_id).await;
        }
    }
}

/// The id of the run in process `pid`: the pid and the process's start time, which
/// together name one process (a pid can be reused, a pid with its start time cannot).
fn run_id(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses): the start
    // time is the 22nd field of the line, the 20th after the name.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let started = after_name.split_whitespace().nth(19)?;
    Some(format!("{RUN_PREFIX}{pid}-{started}"))
}

/// Whether the run named `run` is still going: its process exists and started when it did.
fn run_alive(run: &str) -> bool {
    let Some(pid) = run
        .strip_prefix(RUN_PREFIX)
        .and_then(|rest| rest.split('-').next())
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return false;
    };
    run_id(pid).is_some_and(|now| now == run)
}

/// `pathshala lessons render`: the lesson's text with one learner's values, no sandbox.
pub fn render(path: &Path, seed: Option<u64>) -> anyhow::Result<()> {
    let (lessons, errors) = load(path);
    for error in &errors {
        eprintln!("{error}");
    }
    anyhow::ensure!(errors.is_empty(), "fix the lessons' problems first");
    for lesson in &lessons {
        let seed = seed.unwrap_or_else(random_seed);
        let values = render::generate_seeded(lesson, seed);
        print!("{}", render::as_markdown(lesson, &values, seed));
    }
    Ok(())
}
