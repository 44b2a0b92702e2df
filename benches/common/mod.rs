//! What the benchmarks share: the real server in a process of its own, timing, percentiles
//! and the table they print.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// The real server binary, in its own process so its memory can be read.
pub struct Server {
    child: Child,
    pub addr: String,
    pub data_dir: std::path::PathBuf,
}

/// A fresh data folder and instance name for one benchmark server.
pub fn fresh_instance() -> (String, std::path::PathBuf) {
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let data_dir = std::env::temp_dir().join(format!("pathshala-bench-{tag}"));
    (format!("bench-{tag}"), data_dir)
}

impl Server {
    /// Starts `pathshala serve` on a free port with room for `sandboxes` sandboxes and the
    /// extra `PATHSHALA_*` settings in `env`.
    pub fn start(
        (instance, data_dir): (String, std::path::PathBuf),
        sandboxes: usize,
        env: &[(&str, String)],
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pathshala"));
        command
            .args(["serve", "--no-build", "--listen", "127.0.0.1:0"])
            .env("PATHSHALA_INSTANCE", instance)
            .env("PATHSHALA_DATA_DIR", &data_dir)
            .env("PATHSHALA_SANDBOX_MAX_SANDBOXES", sandboxes.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("server starts");
        let stdout = child.stdout.take().unwrap();
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("http://"))
            .expect("server prints its address");
        let addr = line
            .split("http://")
            .nth(1)
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        Self {
            child,
            addr,
            data_dir,
        }
    }

    pub fn rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Runs `true` in a container through the Engine API and waits for it: the floor of any
/// command the server runs in a sandbox. Returns milliseconds.
pub async fn exec_true(docker: &bollard::Docker, container: &str) -> f64 {
    use bollard::exec::{CreateExecOptions, StartExecResults};
    use futures_util::StreamExt;
    let t = Instant::now();
    let exec = docker
        .create_exec(
            container,
            CreateExecOptions {
                cmd: Some(vec!["true"]),
                attach_stdout: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    if let StartExecResults::Attached { mut output, .. } =
        docker.start_exec(&exec.id, None).await.unwrap()
    {
        while output.next().await.is_some() {}
    }
    ms(t)
}

pub fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

pub fn percentiles(samples: &[f64]) -> (f64, f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        if sorted.is_empty() {
            return f64::NAN;
        }
        sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
    };
    (at(0.50), at(0.95), at(0.99))
}

/// Prints figures in milliseconds as p50, p95 and p99.
pub fn print_table(rows: &[(&str, &Vec<f64>)]) {
    println!();
    println!(
        "{:<52}{:>10}{:>10}{:>10}",
        "figure (ms)", "p50", "p95", "p99"
    );
    for (name, samples) in rows {
        let (p50, p95, p99) = percentiles(samples);
        println!("{name:<52}{p50:>10.1}{p95:>10.1}{p99:>10.1}");
    }
}
