//! Checks: typed probes of a sandbox's state, all of a step's checks in one round trip, each
//! result saying what was expected and what was found.

mod kinds;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use kinds::*;

use crate::sandbox::{SandboxError, Sandboxes};

/// The program that runs the checks inside the sandbox. It travels with every run as an
/// argument to `python3 -I -S -c`, so the sandbox's own files cannot change it.
const PROBE: &str = include_str!("probe.py");
/// A check's time limit unless its author says otherwise.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// Extra time the whole run gets beyond the sum of its checks' limits (process start-up).
const RUN_OVERHEAD: Duration = Duration::from_secs(5);
/// No run of checks may take longer than this, whatever the checks say.
const MAX_RUN: Duration = Duration::from_secs(120);

/// A check as an author wrote it: the probe, a name for people, and what to say on failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckSpec {
    pub name: String,
    /// Message on failure, a minijinja template with `expected` and `actual`.
    pub fail: Option<String>,
    pub timeout_secs: u64,
    /// An invariant ("the database is still there"): lesson CI requires it to pass both
    /// before and after the step's solution; for learners it is one more check.
    #[serde(default)]
    pub guard: bool,
    pub check: Check,
}

impl CheckSpec {
    /// A check with a default name, no custom message and the default time limit.
    pub fn new(check: Check) -> Self {
        Self {
            name: check.kind().to_string(),
            fail: None,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            guard: false,
            check,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    pub expected: String,
    pub actual: String,
    pub message: String,
}

/// Why checks could not run at all (a failing check is a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("the sandbox has no python3, which checks need")]
    NoPython,
}

/// What the probe prints for each check.
#[derive(Debug, Deserialize)]
struct ProbeLine {
    passed: bool,
    expected: String,
    actual: String,
}

/// Runs every check in one exec and returns one result per check, in order.
pub async fn run(
    sandboxes: &Sandboxes,
    container_id: &str,
    checks: &[CheckSpec],
) -> Result<Vec<CheckResult>, CheckError> {
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let input = probe_input(checks);
    // Saturating: the loader bounds each timeout, but a sum must never panic a request.
    let budget = checks
        .iter()
        .fold(RUN_OVERHEAD, |sum, c| {
            sum.saturating_add(Duration::from_secs(c.timeout_secs))
        })
        .min(MAX_RUN);
    let argv = ["python3", "-I", "-S", "-c", PROBE];
    let finished = sandboxes
        .run(container_id, &argv, "root", &input, budget)
        .await?;
    if finished.exit_code == Some(127) || finished.exit_code == Some(126) {
        return Err(CheckError::NoPython);
    }
    let stderr = String::from_utf8_lossy(&finished.stderr);
    let mut lines = finished
        .stdout
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<ProbeLine>(line).ok());
    Ok(checks
        .iter()
        .map(|spec| match lines.next() {
            Some(line) => result(spec, line),
            // The probe died part-way (killed, out of memory): say so for the rest.
            None => result(
                spec,
                ProbeLine {
                    passed: false,
                    expected: "the check to run".into(),
                    actual: format!("the checker stopped early: {}", stderr.trim()),
                },
            ),
        })
        .collect())
}

/// The probe's stdin: the checks as JSON, each with its time limit.
fn probe_input(checks: &[CheckSpec]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = checks
        .iter()
        .map(|spec| {
            let mut value = serde_json::to_value(&spec.check).unwrap_or_default();
            value["timeout"] = spec.timeout_secs.into();
            value
        })
        .collect();
    serde_json::to_vec(&list).unwrap_or_default()
}

fn result(spec: &CheckSpec, line: ProbeLine) -> CheckResult {
    let message = if line.passed {
        line.actual.clone()
    } else {
        failure_message(spec, &line.expected, &line.actual)
    };
    CheckResult {
        name: spec.name.clone(),
        passed: line.passed,
        expected: line.expected,
        actual: line.actual,
        message,
    }
}

/// The author's `fail` template with `expected` and `actual`, or a plain sentence (for a
/// script, what it printed: a script's output is its message).
fn failure_message(spec: &CheckSpec, expected: &str, actual: &str) -> String {
    let default = || {
        if matches!(spec.check, Check::Script(_)) {
            return actual.to_string();
        }
        format!(
            "Expected {expected}, but found {}.",
            actual.trim_end_matches('.')
        )
    };
    let Some(template) = &spec.fail else {
        return default();
    };
    let env = minijinja::Environment::new();
    env.render_str(template, minijinja::context! { expected, actual })
        .unwrap_or_else(|_| default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_input_names_each_kind_and_its_time_limit() {
        let check: Check =
            serde_json::from_value(serde_json::json!({"kind": "port", "port": 80})).unwrap();
        let input: serde_json::Value =
            serde_json::from_slice(&probe_input(&[CheckSpec::new(check)])).unwrap();
        assert_eq!(
            input,
            serde_json::json!([{"kind": "port", "port": 80, "timeout": 10}])
        );
    }

    #[test]
    fn unknown_fields_in_a_check_are_refused() {
        let err = serde_json::from_value::<Check>(
            serde_json::json!({"kind": "file", "path": "/x", "mdoe": "0644"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("mdoe"), "{err}");
    }

    #[test]
    fn failure_messages_use_the_authors_template() {
        let mut spec = CheckSpec::new(Check::Port(PortCheck {
            port: 80.into(),
            listening: true,
        }));
        assert_eq!(
            failure_message(&spec, "a listener on 80", "nothing"),
            "Expected a listener on 80, but found nothing."
        );
        spec.fail = Some("Is nginx running? ({{ actual }})".into());
        assert_eq!(
            failure_message(&spec, "a listener on 80", "nothing"),
            "Is nginx running? (nothing)"
        );
    }
}
