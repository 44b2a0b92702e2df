//! The learner's shell: a `docker exec` with a TTY, its byte streams and its size.

use std::pin::Pin;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use futures_util::Stream;
use tokio::io::AsyncWrite;

use super::SandboxError;

/// Output of the shell's terminal, as the engine delivers it.
pub type ShellOutput =
    Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;

/// A running shell: its exec id (for resizing), its output and its input.
pub struct Shell {
    pub exec_id: String,
    pub output: ShellOutput,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

pub async fn start(
    docker: &Docker,
    container_id: &str,
    user: &str,
    cols: u16,
    rows: u16,
) -> Result<Shell, SandboxError> {
    let home = format!("/home/{user}");
    let options = CreateExecOptions {
        cmd: Some(vec!["/bin/bash", "-l"]),
        user: Some(user),
        working_dir: Some(home.as_str()),
        env: Some(vec!["TERM=xterm-256color", "LANG=C.UTF-8"]),
        tty: Some(true),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let exec = docker
        .create_exec(container_id, options)
        .await
        .map_err(SandboxError::Exec)?;
    let started = docker
        .start_exec(
            &exec.id,
            Some(StartExecOptions {
                tty: true,
                ..Default::default()
            }),
        )
        .await
        .map_err(SandboxError::Exec)?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(SandboxError::ExecDetached);
    };
    // The size can only be set once the exec runs; a failure here leaves 80x24, still usable.
    let _ = resize(docker, &exec.id, cols, rows).await;
    Ok(Shell {
        exec_id: exec.id,
        output,
        input,
    })
}

pub async fn resize(
    docker: &Docker,
    exec_id: &str,
    cols: u16,
    rows: u16,
) -> Result<(), SandboxError> {
    docker
        .resize_exec(
            exec_id,
            ResizeExecOptions {
                width: cols,
                height: rows,
            },
        )
        .await
        .map_err(SandboxError::Resize)
}
