//! Lesson CI leaves nothing behind: SIGTERM removes the run's sandboxes, and the sandboxes
//! of a run killed outright (SIGKILL, no chance to clean up) are swept by the next run.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::ListContainersOptionsBuilder;

/// How long a wait in these tests may take.
const PATIENCE: Duration = Duration::from_secs(60);

/// Containers of the lesson CI run with process id `pid`.
async fn run_containers(docker: &Docker, pid: u32) -> Vec<String> {
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec!["pathshala.instance=lesson-trials".to_string()],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let run = format!("trial-run-{pid}-");
    docker
        .list_containers(Some(options))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .and_then(|l| l.get("pathshala.server"))
                .is_some_and(|s| s.starts_with(&run))
        })
        .filter_map(|c| c.id)
        .collect()
}

/// `lessons test` of the lesson whose setup sleeps for minutes.
fn start_slow_trial() -> Child {
    Command::new(env!("CARGO_BIN_EXE_pathshala"))
        .args(["lessons", "test", "tests/fixtures/trials/slow"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the run has made its sandbox; returns its id.
async fn its_sandbox(docker: &Docker, pid: u32) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(id) = run_containers(docker, pid).await.into_iter().next() {
            return id;
        }
        assert!(Instant::now() < deadline, "the trial never made a sandbox");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn signal(child: &Child, name: &str) {
    // bash's own `kill`, so no separate package is needed.
    let status = Command::new("bash")
        .args(["-c", &format!("kill -{name} {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_removes_the_runs_sandboxes_and_a_killed_runs_are_swept_next_time() {
    let docker = pathshala::sandbox::connect_docker(None).await.unwrap();

    let trial = start_slow_trial();
    let pid = trial.id();
    its_sandbox(&docker, pid).await;
    signal(&trial, "TERM");
    let output = tokio::task::spawn_blocking(move || trial.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("interrupted; this run's sandboxes were removed"),
        "{stderr}"
    );
    assert!(
        run_containers(&docker, pid).await.is_empty(),
        "SIGTERM left a sandbox"
    );

    let killed = start_slow_trial();
    let killed_pid = killed.id();
    let left = its_sandbox(&docker, killed_pid).await;
    signal(&killed, "KILL");
    let _ = tokio::task::spawn_blocking(move || killed.wait_with_output()).await;
    // (Another lesson CI run of the suite may sweep it first: any next run may.)
    let _ = left;
    let (ok, stdout, stderr) = tokio::task::spawn_blocking(|| {
        crate::pathshala(&["lessons", "test", "tests/fixtures/trials/guarded"])
    })
    .await
    .unwrap();
    assert!(ok, "{stdout}{stderr}");
    assert!(
        run_containers(&docker, killed_pid).await.is_empty(),
        "the next run sweeps it"
    );
}

/// The container named `name`, if it exists: (id, running).
async fn named(docker: &Docker, name: &str) -> Option<(String, bool)> {
    let inspect = docker.inspect_container(name, None).await.ok()?;
    let running = inspect.state.and_then(|s| s.running).unwrap_or(false);
    Some((inspect.id?, running))
}

#[tokio::test]
async fn keep_leaves_a_failed_lessons_sandbox_open_and_the_next_keep_replaces_it() {
    let docker = pathshala::sandbox::connect_docker(None).await.unwrap();
    let name = "pathshala-kept-accidental";
    let args = [
        "lessons",
        "test",
        "tests/fixtures/trials/accidental",
        "--keep",
    ];
    let (ok, stdout, _) = tokio::task::spawn_blocking(move || crate::pathshala(&args))
        .await
        .unwrap();
    assert!(!ok);
    assert!(
        stdout.contains(&format!(
            "the sandbox is kept: docker exec -it --user learner {name} bash -l"
        )),
        "{stdout}"
    );
    let (first, running) = named(&docker, name).await.expect("the sandbox is kept");
    assert!(running);
    let (_, stdout, _) = tokio::task::spawn_blocking(move || crate::pathshala(&args))
        .await
        .unwrap();
    assert!(stdout.contains("the sandbox is kept"), "{stdout}");
    let (second, _) = named(&docker, name).await.expect("a sandbox is kept");
    assert_ne!(first, second, "the new kept sandbox replaces the old one");
    assert!(
        docker.inspect_container(&first, None).await.is_err(),
        "the old kept sandbox is gone"
    );
    let options = bollard::query_parameters::RemoveContainerOptionsBuilder::default()
        .force(true)
        .build();
    docker.remove_container(name, Some(options)).await.unwrap();
}
