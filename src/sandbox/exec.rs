//! Running a program in a sandbox to completion: stdin in, stdout, stderr and exit status out.

use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::SandboxError;

/// Output kept per stream; anything beyond is dropped (a runaway program cannot exhaust the
/// server's memory).
const MAX_OUTPUT: usize = 1 << 20;

/// What a finished program left behind.
#[derive(Debug, Clone)]
pub struct Finished {
    pub exit_code: Option<i64>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `argv` (no shell) as `user`, feeding it `stdin`, for at most `timeout`.
pub async fn run(
    docker: &Docker,
    container_id: &str,
    argv: &[&str],
    user: &str,
    stdin: &[u8],
    timeout: Duration,
) -> Result<Finished, SandboxError> {
    let options = CreateExecOptions {
        cmd: Some(argv.to_vec()),
        user: Some(user),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        ..Default::default()
    };
    let exec = docker
        .create_exec(container_id, options)
        .await
        .map_err(SandboxError::Exec)?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = docker
        .start_exec(&exec.id, None)
        .await
        .map_err(SandboxError::Exec)?
    else {
        return Err(SandboxError::ExecDetached);
    };
    let collect = async {
        // The input is small (a step's checks), so writing it all first cannot deadlock.
        let _ = input.write_all(stdin).await;
        let _ = input.shutdown().await;
        drop(input);
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        while let Some(Ok(chunk)) = output.next().await {
            let (target, bytes) = match chunk {
                LogOutput::StdErr { message } => (&mut stderr, message),
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    (&mut stdout, message)
                }
                LogOutput::StdIn { .. } => continue,
            };
            let room = MAX_OUTPUT.saturating_sub(target.len());
            target.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
        (stdout, stderr)
    };
    let (stdout, stderr) = tokio::time::timeout(timeout, collect)
        .await
        .map_err(|_| SandboxError::ExecTimeout(timeout))?;
    let exit_code = docker
        .inspect_exec(&exec.id)
        .await
        .map_err(SandboxError::Exec)?
        .exit_code;
    Ok(Finished {
        exit_code,
        stdout,
        stderr,
    })
}
