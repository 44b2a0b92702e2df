//! The command line: `pathshala serve` and `pathshala images build`.

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
    /// Prove lessons work: in fresh sandboxes, every check of each step must fail before
    /// the step's solution runs and pass after it. Exits non-zero if any lesson fails.
    Test {
        #[arg(default_value = "lessons")]
        path: PathBuf,
        /// Lessons tried at the same time.
        #[arg(long, default_value_t = 2)]
        parallel: usize,
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
        } => validate_lessons(&config, &path).await,
        Command::Lessons {
            command: LessonsCommand::Test { path, parallel },
        } => test_lessons(&config, &path, parallel).await,
        Command::Lessons {
            command: LessonsCommand::Schema,
        } => {
            println!("{}", crate::lesson::schema());
            Ok(())
        }
    }
}

/// One lesson folder, or every lesson folder under `path`.
fn load_lessons(
    path: &std::path::Path,
) -> (Vec<crate::lesson::Lesson>, Vec<crate::lesson::LessonError>) {
    if path.join(crate::lesson::LESSON_FILE).is_file() {
        match crate::lesson::load(path) {
            Ok(lesson) => (vec![lesson], Vec::new()),
            Err(errors) => (Vec::new(), errors),
        }
    } else {
        crate::lesson::load_all(path)
    }
}

/// `pathshala lessons test`: tries every lesson in fresh sandboxes, a few at a time.
async fn test_lessons(
    config: &Config,
    path: &std::path::Path,
    parallel: usize,
) -> anyhow::Result<()> {
    let (lessons, errors) = load_lessons(path);
    for error in &errors {
        eprintln!("{error}");
    }
    anyhow::ensure!(
        errors.is_empty(),
        "fix the lessons' problems first (pathshala lessons validate)"
    );
    let instance = format!(
        "lesson-trials-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let sandboxes = sandbox::Sandboxes::connect(
        config.docker_host.as_deref(),
        &instance,
        config.sandbox.clone(),
    )
    .await?;
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let learner = config.sandbox.shell_user.clone();
    let trials = lessons.into_iter().map(|lesson| {
        let (sandboxes, permits, learner) = (sandboxes.clone(), permits.clone(), learner.clone());
        tokio::spawn(async move {
            let _permit = permits.acquire().await;
            let started = std::time::Instant::now();
            let report = crate::lesson::trial::run(&sandboxes, &lesson, &learner).await;
            (report, started.elapsed())
        })
    });
    let mut failed = 0;
    for trial in futures_util::future::join_all(trials).await {
        let (report, took) = trial?;
        let verdict = if report.passed() { "PASS" } else { "FAIL" };
        println!(
            "{verdict} {} ({} steps, {:.1} s)",
            report.id,
            report.steps.len(),
            took.as_secs_f64()
        );
        if let Some(reason) = &report.aborted {
            println!("  stopped: {reason}");
        }
        for step in &report.steps {
            let mark = if step.problems.is_empty() {
                "ok  "
            } else {
                "FAIL"
            };
            println!("  {mark} {}", step.title);
            for problem in &step.problems {
                println!("       {problem}");
            }
        }
        failed += usize::from(!report.passed());
    }
    anyhow::ensure!(failed == 0, "{failed} lesson(s) failed");
    Ok(())
}

/// `pathshala lessons validate`: prints every problem, returns an error if there were any.
async fn validate_lessons(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let (lessons, mut errors) = load_lessons(path);
    let named: Vec<String> = lessons
        .iter()
        .filter_map(|l| l.image.as_ref().map(|i| i.name.clone()))
        .collect();
    if !named.is_empty() {
        match sandbox::connect_docker(config.docker_host.as_deref()).await {
            Ok(docker) => {
                let missing = images::missing(&docker, named).await?;
                errors.extend(crate::lesson::missing_images(&lessons, &missing));
            }
            Err(e) => eprintln!("warning: images not checked: {e}"),
        }
    }
    for error in &errors {
        eprintln!("{error}");
    }
    let broken: std::collections::BTreeSet<_> = errors.iter().map(|e| &e.file).collect();
    let valid = lessons
        .iter()
        .filter(|l| !broken.contains(&l.dir.join(crate::lesson::LESSON_FILE)))
        .count();
    println!(
        "{valid} lesson(s) valid, {} with problems ({} problem(s))",
        broken.len(),
        errors.len()
    );
    anyhow::ensure!(errors.is_empty(), "some lessons have problems");
    Ok(())
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
    app.run_until(stop_signal()).await
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
    tracing::info!("stopping: sandboxes keep running and are re-adopted at the next start");
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
