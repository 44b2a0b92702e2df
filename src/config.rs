//! Server configuration: named defaults, then a TOML file, then `PATHSHALA_*` environment variables.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "pathshala.toml";
/// Prefix of environment variables that override the file.
pub const ENV_PREFIX: &str = "PATHSHALA_";

/// Everything a Pathshala server needs to know at start-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Where the SQLite database and other state live.
    pub data_dir: PathBuf,
    /// Folder of lessons, one sub-folder with a `lesson.yaml` each.
    pub lessons_dir: PathBuf,
    /// For authors: reload lessons when their files change.
    pub dev: bool,
    /// Name of this server; its containers are labelled with it so that two servers on one
    /// Docker engine never touch each other's sandboxes.
    pub instance: String,
    /// Docker engine to use, e.g. `unix:///var/run/docker.sock` or `tcp://10.0.0.2:2375`
    /// [default: DOCKER_HOST, else the local socket].
    pub docker_host: Option<String>,
    /// Public URLs (e.g. `https://lab.example.edu`) the server is reached at by name. IP
    /// addresses and `localhost` always work; a domain name must be listed (this stops DNS
    /// rebinding), and so must an origin a reverse proxy presents.
    pub allowed_origins: Vec<String>,
    /// Limits and lifecycle of learner sandboxes.
    pub sandbox: SandboxConfig,
    /// Where and how lab images are built.
    pub images: ImagesConfig,
    /// Instructors' logins and classes.
    pub classroom: ClassroomConfig,
}

/// Instructors' logins and the limits that protect them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassroomConfig {
    /// An instructor stays logged in this long (seconds).
    pub login_session_secs: u64,
    /// After this many failed logins from one address, each further attempt waits a
    /// second more (at most 5).
    pub login_slow_after_failures: u32,
    /// After this many failed logins from one address, logins from it are refused...
    pub login_lockout_after_failures: u32,
    /// ...for this many seconds (429 with Retry-After).
    pub login_lockout_secs: u64,
    /// Join attempts one client address may make per minute (a class behind one NAT
    /// address shares it).
    pub joins_per_minute: u32,
    /// Check runs one session may make per minute (a watch step re-checks every few
    /// seconds).
    pub checks_per_minute: u32,
    /// Sandboxes one student may have at once, across their browsers (409 past it).
    pub sandboxes_per_student: usize,
    /// The live view flags a student as stuck after this long on one step (seconds)...
    pub stuck_after_secs: u64,
    /// ...or after this many failed checks of one step in a row.
    pub stuck_after_failures: u32,
    /// A recording of one session's terminal stops at this many bytes (its file says so).
    pub recording_max_bytes: u64,
    /// A student's recordings together stop growing past this many bytes: no new recording
    /// starts for them (so one student cannot fill the disk).
    pub recording_student_max_bytes: u64,
}

impl Default for ClassroomConfig {
    fn default() -> Self {
        Self {
            login_session_secs: 12 * 60 * 60,
            login_slow_after_failures: 3,
            login_lockout_after_failures: 10,
            login_lockout_secs: 15 * 60,
            joins_per_minute: 120,
            checks_per_minute: 60,
            sandboxes_per_student: 2,
            stuck_after_secs: 10 * 60,
            stuck_after_failures: 3,
            recording_max_bytes: 8 * 1024 * 1024,
            recording_student_max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Limits and lifecycle rules for sandboxes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Image a new sandbox starts from.
    pub image: String,
    /// Memory limit per sandbox, in MiB (swap is not allowed on top).
    pub memory_mb: u64,
    /// CPU limit per sandbox, in cores (0.5 = half a core).
    pub cpus: f64,
    /// Maximum number of processes and threads per sandbox (stops fork bombs).
    pub pids: i64,
    /// Largest file a learner may write, in MiB (the overlay filesystem has no quota here).
    pub max_file_mb: u64,
    /// Sandboxes running at once on this server; one more answers 503.
    pub max_sandboxes: usize,
    /// A sandbox with no terminal attached and no input for this long is removed.
    pub idle_timeout_secs: u64,
    /// A sandbox is removed this long after creation, whatever it is doing.
    pub max_lifetime_secs: u64,
    /// Docker network the sandboxes join (created with inter-container traffic disabled).
    pub network: String,
    /// Account the learner's shell runs as inside the sandbox.
    pub shell_user: String,
}

/// How `pathshala images build` makes images.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagesConfig {
    /// Folder holding the image definitions (one sub-folder per image).
    pub dir: PathBuf,
    /// Debian mirror used by debootstrap and apt inside the build.
    pub debian_mirror: String,
    /// Debian release the base image is made from.
    pub suite: String,
    /// CA certificates to trust inside images and sandboxes, for networks whose HTTPS is
    /// intercepted (corporate or campus proxies): `.crt` files, or folders of them. A folder
    /// that does not exist is skipped.
    pub extra_ca_certificates: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            lessons_dir: PathBuf::from("lessons"),
            dev: false,
            instance: "default".into(),
            docker_host: None,
            allowed_origins: Vec::new(),
            sandbox: SandboxConfig::default(),
            images: ImagesConfig::default(),
            classroom: ClassroomConfig::default(),
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            image: crate::sandbox::images::LAB_IMAGE.into(),
            memory_mb: 512,
            cpus: 1.0,
            pids: 256,
            max_file_mb: 1024,
            max_sandboxes: 50,
            idle_timeout_secs: 30 * 60,
            max_lifetime_secs: 4 * 60 * 60,
            network: "pathshala-sandboxes".into(),
            shell_user: "learner".into(),
        }
    }
}

impl SandboxConfig {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn max_lifetime(&self) -> Duration {
        Duration::from_secs(self.max_lifetime_secs)
    }
}

impl Default for ImagesConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("containers"),
            debian_mirror: "http://deb.debian.org/debian".into(),
            suite: "bookworm".into(),
            extra_ca_certificates: vec![PathBuf::from("/usr/local/share/ca-certificates")],
        }
    }
}

/// A configuration that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config in {origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Config {
    /// Loads defaults, then `file` (or `pathshala.toml` if present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    /// Like [`Config::load`], with the environment given explicitly (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let (path, required) = match file {
            Some(path) => (path.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
        };
        let mut table = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .parse::<toml::Table>()
                .map_err(|e| ConfigError::Invalid {
                    origin: path.display().to_string(),
                    message: e.to_string(),
                })?,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        apply_env(&mut table, env);
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                origin: format!("{} and {ENV_PREFIX}* variables", path.display()),
                message: e.message().to_string(),
            })
    }
}

impl Config {
    /// Rejects values the engine would silently treat as "no limit", and other nonsense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.sandbox;
        let problems: Vec<&str> = [
            (s.memory_mb < 32, "sandbox.memory_mb must be at least 32"),
            (
                !(s.cpus > 0.0 && s.cpus <= 64.0),
                "sandbox.cpus must be above 0 and at most 64",
            ),
            (s.pids < 16, "sandbox.pids must be at least 16"),
            (s.max_file_mb == 0, "sandbox.max_file_mb must be above 0"),
            (
                s.max_sandboxes == 0,
                "sandbox.max_sandboxes must be above 0",
            ),
            (
                s.idle_timeout_secs == 0,
                "sandbox.idle_timeout_secs must be above 0",
            ),
            (
                s.max_lifetime_secs == 0,
                "sandbox.max_lifetime_secs must be above 0",
            ),
        ]
        .into_iter()
        .filter_map(|(bad, message)| bad.then_some(message))
        .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid {
                origin: "the configuration".into(),
                message: problems.join("; "),
            })
        }
    }
}

/// Sections whose keys may be set as `PATHSHALA_<SECTION>_<KEY>`.
const SECTIONS: [&str; 3] = ["sandbox", "images", "classroom"];

/// Merges `PATHSHALA_LISTEN=...`, `PATHSHALA_SANDBOX_MEMORY_MB=...` and so on into `table`.
fn apply_env(table: &mut toml::Table, env: &BTreeMap<String, String>) {
    for (name, raw) in env {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        let value = parse_env_value(raw);
        let section = SECTIONS.iter().find(|s| key.starts_with(&format!("{s}_")));
        match section {
            Some(section) => {
                let inner = table
                    .entry(section.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(inner) = inner {
                    inner.insert(key[section.len() + 1..].to_string(), value);
                }
            }
            None => {
                table.insert(key, value);
            }
        }
    }
}

/// Reads `512`, `true`, `["a"]` as TOML values and anything else as a plain string.
fn parse_env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_apply_without_a_file() {
        let config = Config::load_from(None, &env(&[])).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.sandbox.pids, 256);
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = std::env::temp_dir().join(format!("pathshala-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("p.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\n[sandbox]\nmemory_mb = 256\npids = 100\n",
        )
        .unwrap();
        let config = Config::load_from(
            Some(&file),
            &env(&[
                ("PATHSHALA_SANDBOX_PIDS", "64"),
                ("PATHSHALA_INSTANCE", "class-a"),
            ]),
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.sandbox.memory_mb, 256);
        assert_eq!(config.sandbox.pids, 64);
        assert_eq!(config.instance, "class-a");
    }

    #[test]
    fn unknown_keys_are_reported() {
        let err = Config::load_from(None, &env(&[("PATHSHALA_SANDBOX_MEMORY", "1")])).unwrap_err();
        assert!(err.to_string().contains("memory"), "{err}");
    }

    #[test]
    fn the_example_file_lists_the_defaults() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("pathshala.example.toml");
        let loaded = Config::load_from(Some(&example), &env(&[])).unwrap();
        let as_toml = |c: &Config| toml::to_string(c).unwrap();
        assert_eq!(as_toml(&loaded), as_toml(&Config::default()));
    }

    #[test]
    fn limits_that_would_mean_no_limit_are_refused() {
        let mut config = Config::default();
        assert!(config.validate().is_ok());
        config.sandbox.pids = 0;
        config.sandbox.memory_mb = 0;
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("pids") && err.contains("memory_mb"), "{err}");
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let err = Config::load_from(Some(Path::new("/nonexistent/p.toml")), &env(&[])).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
    }
}
