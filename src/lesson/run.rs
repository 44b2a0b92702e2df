//! A lesson in a sandbox: the one path that learners' sessions and lesson CI share. Both
//! prepare a sandbox with [`prepare`] (boot wait, files, setup as root) and check a step
//! with [`check_step`], so `pathshala lessons test` tests exactly what learners get.

use std::time::Duration;

use super::render::{self, Values};
use super::{Lesson, Step};
use crate::check::{self, CheckError, CheckResult};
use crate::sandbox::{SandboxError, Sandboxes};

/// How long a setup script (or, in lesson CI, a step's solution) may run.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);
/// The user setup scripts run as.
pub const SETUP_USER: &str = "root";

/// Why a lesson's sandbox could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("cannot read the lesson's files: {0}")]
    Files(std::io::Error),
    #[error("setup failed: {0}")]
    Setup(ScriptFailure),
}

/// A script that ran and did not exit 0.
#[derive(Debug, thiserror::Error)]
#[error("exit status {status}: {output}")]
pub struct ScriptFailure {
    pub status: i64,
    /// What it printed on stderr (trimmed).
    pub output: String,
}

/// Prepares `container` for `lesson` with the learner's `values`: waits for the sandbox's
/// services to boot (a setup that stops one must not race them), copies the lesson's files
/// in, and runs the setup as root in a plain (non-login) `bash -e`, in the image's working
/// directory (`/home/learner` in the lab image).
pub async fn prepare(
    sandboxes: &Sandboxes,
    container: &str,
    lesson: &Lesson,
    values: &Values,
) -> Result<(), PrepareError> {
    sandboxes.wait_for_boot(container).await?;
    let files = lesson.read_files().map_err(PrepareError::Files)?;
    sandboxes.put_files(container, &files).await?;
    if let Some(setup) = &lesson.setup {
        let setup = render::render(setup, values);
        run_script(sandboxes, container, SETUP_USER, Shell::Plain, &setup)
            .await?
            .map_err(PrepareError::Setup)?;
    }
    Ok(())
}

/// Runs the checks of `step` with the learner's values, in one round trip.
pub async fn check_step(
    sandboxes: &Sandboxes,
    container: &str,
    step: &Step,
    values: &Values,
) -> Result<Vec<CheckResult>, CheckError> {
    let checks = render::render_checks(&step.checks, values);
    check::run(sandboxes, container, &checks).await
}

/// How a script's bash starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// `bash -e`: no profile, as a provisioning script runs (setup).
    Plain,
    /// `bash -l -e`: a login shell with the user's profile, as the learner's terminal is
    /// (solutions, which stand for what a learner types).
    Login,
}

/// Runs `text` with bash as `user` in the image's working directory; `Ok(Err(..))` when it
/// ran and failed.
pub async fn run_script(
    sandboxes: &Sandboxes,
    container: &str,
    user: &str,
    shell: Shell,
    text: &str,
) -> Result<Result<(), ScriptFailure>, SandboxError> {
    let flags: &[&str] = match shell {
        Shell::Plain => &["bash", "-e", "-c"],
        Shell::Login => &["bash", "-l", "-e", "-c"],
    };
    let mut argv = flags.to_vec();
    argv.push(text);
    let done = sandboxes
        .run(container, &argv, user, b"", SCRIPT_TIMEOUT)
        .await?;
    if done.exit_code == Some(0) {
        return Ok(Ok(()));
    }
    Ok(Err(ScriptFailure {
        status: done.exit_code.unwrap_or(-1),
        output: String::from_utf8_lossy(&done.stderr).trim().to_string(),
    }))
}
