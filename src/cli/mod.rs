//! The command line: `pathshala serve`, `pathshala images build` and the lesson author's
//! tools (`lessons.rs`).

mod instructors;
mod lessons;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::sandbox::{self, images};

/// Pathshala: interactive DevOps lessons on real, disposable Linux machines.
///
/// Start with `pathshala serve` and open the address it prints. Settings come from
/// defaults, then the config file (pathshala.toml), then PATHSHALA_* environment variables
/// (PATHSHALA_LISTEN, PATHSHALA_SANDBOX_MEMORY_MB, ...), then flags.
#[derive(Debug, Parser)]
#[command(name = "pathshala", version, about, long_about)]
pub struct Cli {
    /// Config file to read [default: pathshala.toml, if it exists]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: learners open it in a browser and get a sandbox with a terminal.
    /// Builds the lab images first if they are missing.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080 [default: 127.0.0.1:8080]
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Do not build missing images; fail instead.
        #[arg(long)]
        no_build: bool,
        /// For lesson authors: reload lessons as soon as their files change.
        #[arg(long)]
        dev: bool,
    },
    /// Manage the lab images that sandboxes start from.
    Images {
        #[command(subcommand)]
        command: ImagesCommand,
    },
    /// Tools for lesson authors.
    Lessons {
        #[command(subcommand)]
        command: LessonsCommand,
    },
    /// Instructors: the accounts that make classes and watch their students.
    Instructors {
        #[command(subcommand)]
        command: InstructorsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum InstructorsCommand {
    /// Add an instructor; the password is asked for (or read from standard input).
    Add {
        name: String,
        /// Read the password from standard input (one line), for scripts.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the instructors.
    List,
    /// Remove an instructor (their logins end at once).
    Remove { name: String },
    /// Change an instructor's password (their other logins end).
    Passwd {
        name: String,
        /// Read the password from standard input (one line), for scripts.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn password_from(stdin: bool) -> instructors::PasswordFrom {
    if stdin {
        instructors::PasswordFrom::Stdin
    } else {
        instructors::PasswordFrom::Prompt
    }
}

#[derive(Debug, Subcommand)]
enum LessonsCommand {
    /// Check lessons for mistakes: every problem with file:line:column. Exits non-zero if
    /// any lesson is broken. PATH is a lesson folder or a folder of lessons.
    Validate {
        #[arg(default_value = "lessons")]
        path: PathBuf,
    },
    /// Print the JSON Schema of lesson.yaml (for editor autocompletion).
    Schema,
    /// Prove lessons work: in fresh sandboxes prepared as learners' are, every check of
    /// each step must fail before the step's solution runs and pass after it (guard checks
    /// pass both times). Exits non-zero if any lesson fails. Its sandboxes are removed when
    /// it ends, on Ctrl-C and on SIGTERM.
    Test {
        #[arg(default_value = "lessons")]
        path: PathBuf,
        /// Lessons tried at the same time.
        #[arg(long, default_value_t = 2)]
        parallel: usize,
        /// Try only step N (counting from 1); the solutions of the steps before it run
        /// first, unchecked.
        #[arg(long, value_name = "N")]
        step: Option<usize>,
        /// Keep a failed lesson's sandbox running and print how to open a shell in it.
        #[arg(long)]
        keep: bool,
        /// Draw the learners' values from this seed (printed by every run) to repeat it.
        #[arg(long, value_name = "SEED")]
        seed: Option<u64>,
    },
    /// Print a lesson's text as one learner would read it (their values, each step's
    /// text, hints, checks and solution), without a sandbox.
    Render {
        #[arg(default_value = "lessons")]
        path: PathBuf,
        /// Draw the values from this seed.
        #[arg(long, value_name = "SEED")]
        seed: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
enum ImagesCommand {
    /// Build the Debian base and every image in containers/, skipping up-to-date ones.
    Build {
        /// Never try a registry: make the Debian base with debootstrap.
        #[arg(long)]
        offline: bool,
        /// Rebuild even images that are up to date.
        #[arg(long)]
        force: bool,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve {
            listen,
            no_build,
            dev,
        } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            config.dev |= dev;
            serve(config, no_build).await
        }
        Command::Images {
            command: ImagesCommand::Build { offline, force },
        } => {
            let docker = sandbox::connect_docker(config.docker_host.as_deref()).await?;
            images::build_all(&docker, &config.images, offline, force, &mut print_progress).await?;
            println!("images ready");
            Ok(())
        }
        Command::Lessons {
            command: LessonsCommand::Validate { path },
        } => lessons::validate(&config, &path).await,
        Command::Lessons {
            command:
                LessonsCommand::Test {
                    path,
                    parallel,
                    step,
                    keep,
                    seed,
                },
        } => {
            let options = crate::lesson::trial::TrialOptions {
                step,
                keep_failed: keep,
                seed,
            };
            let request = lessons::TestRequest {
                path: &path,
                parallel,
                options,
            };
            lessons::test(&config, request, stop_signal()).await
        }
        Command::Lessons {
            command: LessonsCommand::Render { path, seed },
        } => lessons::render(&path, seed),
        Command::Instructors { command } => match command {
            InstructorsCommand::Add {
                name,
                password_stdin,
            } => instructors::add(&config, &name, password_from(password_stdin)).await,
            InstructorsCommand::List => instructors::list(&config).await,
            InstructorsCommand::Remove { name } => instructors::remove(&config, &name).await,
            InstructorsCommand::Passwd {
                name,
                password_stdin,
            } => instructors::passwd(&config, &name, password_from(password_stdin)).await,
        },
        Command::Lessons {
            command: LessonsCommand::Schema,
        } => {
            println!("{}", crate::lesson::schema());
            Ok(())
        }
    }
}

async fn serve(config: Config, no_build: bool) -> anyhow::Result<()> {
    if !no_build {
        let docker = sandbox::connect_docker(config.docker_host.as_deref()).await?;
        images::ensure(
            &docker,
            &config.images,
            &config.sandbox.image,
            &mut print_progress,
        )
        .await?;
    }
    let app = crate::Application::build(config).await?;
    println!("Pathshala is ready: http://{}/", app.local_addr());
    app.run_until(async {
        stop_signal().await;
        tracing::info!("stopping: sandboxes keep running and are re-adopted at the next start");
    })
    .await
}

fn print_progress(line: &str) {
    println!("{line}");
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,pathshala=info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
