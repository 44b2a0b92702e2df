//! The instructor's live view of a class: one row per student (a cell per step, presence,
//! the current step and time on it, the last failure, stuck and help flags), built from the
//! recorded check runs and passes and the student's live sandboxes, sorted by who needs
//! attention first.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::store::StoredAttempt;

/// A class's lessons as the live view needs them: id and step keys in order.
pub type LessonKeys = Vec<(String, Vec<String>)>;

/// When a student counts as stuck.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StuckRules {
    pub after_secs: u64,
    pub after_failures: u32,
}

/// One live sandbox of a student.
#[derive(Debug, Clone, Serialize)]
pub struct LiveSession {
    pub id: String,
    pub lesson: Option<String>,
    /// Browsers with the terminal open (watchers not counted).
    pub attached: usize,
    pub created_at: i64,
    /// Unix seconds of the last keystroke, attach or detach.
    pub last_active: i64,
}

/// What is known of one student, the input of [`row`].
#[derive(Debug, Clone, Default)]
pub struct StudentFacts {
    pub id: String,
    pub name: String,
    /// Oldest first.
    pub attempts: Vec<StoredAttempt>,
    /// (lesson, step key, at).
    pub passes: Vec<(String, String, i64)>,
    pub sessions: Vec<LiveSession>,
    /// The "I'm stuck" button: (lesson, step key, at).
    pub help: Option<(String, String, i64)>,
    /// A stuck flag the instructor dismissed: (lesson, step key).
    pub dismissed: Option<(String, String)>,
}

/// A cell of the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// `not_started`, `working`, `failed` or `passed`.
    pub state: &'static str,
    /// Failed check runs of this step.
    pub failures: usize,
}

/// The last failed check of a student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastFailure {
    pub lesson: String,
    pub step: usize,
    pub check: String,
    pub message: String,
    pub at: i64,
}

/// A flag on a student: `stuck` (by the rules) or `help` (they asked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub kind: &'static str,
    pub lesson: String,
    pub step: usize,
    pub reason: String,
    pub at: i64,
}

/// One student's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub id: String,
    pub name: String,
    /// `connected` (a terminal open), `idle` (a sandbox, no terminal open) or `gone`.
    pub presence: &'static str,
    /// For `idle`: minutes since the last keystroke or attach.
    pub idle_minutes: Option<i64>,
    pub sessions: Vec<String>,
    /// The same sandboxes with their lesson, for the instructor to pick one to watch.
    pub sandboxes: Vec<RowSandbox>,
    pub lesson: Option<String>,
    pub step: Option<usize>,
    /// Unix seconds the current step began (the previous pass or the sandbox's start).
    pub since: Option<i64>,
    /// Failed checks of the current step in a row.
    pub failures_in_a_row: usize,
    pub cells: BTreeMap<String, Vec<Cell>>,
    pub last_failure: Option<LastFailure>,
    pub flags: Vec<Flag>,
    /// Higher needs the instructor first: help 3, stuck 2, failing 1.
    pub attention: u8,
}

/// A student's sandbox as a row shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowSandbox {
    pub id: String,
    pub lesson: Option<String>,
}

/// The first failed check of a run: (name, message).
fn first_failed(attempt: &StoredAttempt) -> Option<(String, String)> {
    let checks: Vec<serde_json::Value> = serde_json::from_str(&attempt.checks).ok()?;
    checks.iter().find(|c| c["passed"] == false).map(|c| {
        (
            c["name"].as_str().unwrap_or_default().to_string(),
            c["message"].as_str().unwrap_or_default().to_string(),
        )
    })
}

/// The row of `facts` at `now`.
pub fn row(facts: &StudentFacts, lessons: &LessonKeys, rules: StuckRules, now: i64) -> Row {
    let passed =
        |lesson: &str, key: &str| facts.passes.iter().any(|(l, k, _)| l == lesson && k == key);
    let position = |lesson: &str, key: &str| {
        lessons
            .iter()
            .find(|(l, _)| l == lesson)
            .and_then(|(_, keys)| keys.iter().position(|k| k == key))
    };
    // The lesson being worked on: the newest sandbox's, else that of the last check run.
    let newest = facts.sessions.iter().max_by_key(|s| s.created_at);
    let lesson = newest
        .and_then(|s| s.lesson.clone())
        .or_else(|| facts.attempts.last().map(|a| a.lesson.clone()))
        .filter(|l| lessons.iter().any(|(id, _)| id == l));
    let current = lesson.as_ref().and_then(|lesson| {
        let keys = &lessons.iter().find(|(l, _)| l == lesson)?.1;
        let step = keys.iter().position(|k| !passed(lesson, k))?;
        Some((lesson.clone(), step, keys[step].clone()))
    });
    let cells = lessons
        .iter()
        .map(|(id, keys)| {
            let cells = keys
                .iter()
                .enumerate()
                .map(|(i, key)| {
                    let failures = facts
                        .attempts
                        .iter()
                        .filter(|a| &a.lesson == id && &a.step_key == key && !a.passed)
                        .count();
                    let state = if passed(id, key) {
                        "passed"
                    } else if failures > 0 {
                        "failed"
                    } else if current.as_ref().is_some_and(|(l, s, _)| l == id && *s == i) {
                        "working"
                    } else {
                        "not_started"
                    };
                    Cell { state, failures }
                })
                .collect();
            (id.clone(), cells)
        })
        .collect();
    let last_failure = facts.attempts.iter().rev().find_map(|a| {
        let (check, message) = first_failed(a).filter(|_| !a.passed)?;
        Some(LastFailure {
            lesson: a.lesson.clone(),
            step: position(&a.lesson, &a.step_key)?,
            check,
            message,
            at: a.at,
        })
    });
    let since = current.as_ref().map(|(lesson, _, _)| {
        let last_pass = facts
            .passes
            .iter()
            .filter(|(l, _, _)| l == lesson)
            .map(|(_, _, at)| *at)
            .max();
        let started = facts
            .sessions
            .iter()
            .filter(|s| s.lesson.as_ref() == Some(lesson))
            .map(|s| s.created_at)
            .min();
        last_pass.into_iter().chain(started).max().unwrap_or(now)
    });
    let failures_in_a_row = current.as_ref().map_or(0, |(lesson, _, key)| {
        facts
            .attempts
            .iter()
            .filter(|a| &a.lesson == lesson && &a.step_key == key)
            .rev()
            .take_while(|a| !a.passed)
            .count()
    });
    let (presence, idle_minutes) = if facts.sessions.iter().any(|s| s.attached > 0) {
        ("connected", None)
    } else if let Some(last) = facts.sessions.iter().map(|s| s.last_active).max() {
        ("idle", Some((now - last).max(0) / 60))
    } else {
        ("gone", None)
    };
    let mut flags = Vec::new();
    if let Some((lesson, step, key)) = &current {
        if let Some((l, k, at)) = &facts.help
            && l == lesson
            && k == key
        {
            flags.push(Flag {
                kind: "help",
                lesson: lesson.clone(),
                step: *step,
                reason: "pressed \"I'm stuck\"".into(),
                at: *at,
            });
        }
        let dismissed = facts.dismissed.as_ref() == Some(&(lesson.clone(), key.clone()));
        let on_step = now - since.unwrap_or(now);
        let reason = if failures_in_a_row >= rules.after_failures as usize {
            Some(format!("{failures_in_a_row} failed checks in a row"))
        } else if presence != "gone" && on_step >= rules.after_secs as i64 {
            Some(format!("{} minutes on this step", on_step / 60))
        } else {
            None
        };
        if let Some(reason) = reason.filter(|_| !dismissed) {
            flags.push(Flag {
                kind: "stuck",
                lesson: lesson.clone(),
                step: *step,
                reason,
                at: now,
            });
        }
    }
    let attention = if flags.iter().any(|f| f.kind == "help") {
        3
    } else if !flags.is_empty() {
        2
    } else if failures_in_a_row > 0 {
        1
    } else {
        0
    };
    Row {
        id: facts.id.clone(),
        name: facts.name.clone(),
        presence,
        idle_minutes,
        sessions: facts.sessions.iter().map(|s| s.id.clone()).collect(),
        sandboxes: facts
            .sessions
            .iter()
            .map(|s| RowSandbox {
                id: s.id.clone(),
                lesson: s.lesson.clone(),
            })
            .collect(),
        lesson: current.as_ref().map(|(l, _, _)| l.clone()).or(lesson),
        step: current.as_ref().map(|(_, s, _)| *s),
        since,
        failures_in_a_row,
        cells,
        last_failure,
        flags,
        attention,
    }
}

/// Rows in "needs attention" order: help, stuck, failing, then by name.
pub fn sort_by_attention(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.attention
            .cmp(&a.attention)
            .then(b.failures_in_a_row.cmp(&a.failures_in_a_row))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
}

/// How a step or a check fared across the class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    pub attempted: usize,
    pub passed: usize,
    pub median_seconds_to_pass: Option<i64>,
    pub top_failures: Vec<FailureCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureCount {
    pub message: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeatmapStep {
    pub key: String,
    pub step: usize,
    #[serde(flatten)]
    pub tally: Tally,
    pub checks: BTreeMap<String, Tally>,
}

/// Failure messages shown per step or check.
const TOP_FAILURES: usize = 5;

/// Tallies runs of one thing (a step, or one check of it): per learner, whether and when it
/// was first tried and passed; failure messages grouped.
#[derive(Default)]
struct Counter {
    first_tried: HashMap<String, i64>,
    first_passed: HashMap<String, i64>,
    failures: HashMap<String, usize>,
}

impl Counter {
    fn run(&mut self, learner: &str, at: i64, passed: bool, failure: Option<&str>) {
        self.first_tried.entry(learner.to_string()).or_insert(at);
        if passed {
            self.first_passed.entry(learner.to_string()).or_insert(at);
        }
        if let Some(message) = failure {
            *self.failures.entry(message.to_string()).or_default() += 1;
        }
    }

    fn tally(&self) -> Tally {
        let mut times: Vec<i64> = self
            .first_passed
            .iter()
            .map(|(learner, passed)| passed - self.first_tried.get(learner).unwrap_or(passed))
            .collect();
        times.sort_unstable();
        let median = match times.len() {
            0 => None,
            n if n % 2 == 1 => Some(times[n / 2]),
            n => Some((times[n / 2 - 1] + times[n / 2]) / 2),
        };
        let mut top: Vec<FailureCount> = self
            .failures
            .iter()
            .map(|(message, count)| FailureCount {
                message: message.clone(),
                count: *count,
            })
            .collect();
        top.sort_by(|a, b| b.count.cmp(&a.count).then(a.message.cmp(&b.message)));
        top.truncate(TOP_FAILURES);
        Tally {
            attempted: self.first_tried.len(),
            passed: self.first_passed.len(),
            median_seconds_to_pass: median,
            top_failures: top,
        }
    }
}

/// Per lesson and step (and each check of it): who attempted, who passed, the median time
/// from first attempt to pass, and the commonest failure messages. `attempts` are a class's
/// check runs with their learner keys, oldest first.
pub fn heatmap(
    attempts: &[(String, StoredAttempt)],
    lessons: &LessonKeys,
) -> BTreeMap<String, Vec<HeatmapStep>> {
    let mut steps: HashMap<(&str, &str), Counter> = HashMap::new();
    let mut checks: HashMap<(&str, &str, String), Counter> = HashMap::new();
    for (learner, attempt) in attempts {
        let failure = first_failed(attempt).map(|(_, message)| message);
        steps
            .entry((&attempt.lesson, &attempt.step_key))
            .or_default()
            .run(learner, attempt.at, attempt.passed, failure.as_deref());
        let results: Vec<serde_json::Value> =
            serde_json::from_str(&attempt.checks).unwrap_or_default();
        for check in results {
            let name = check["name"].as_str().unwrap_or_default().to_string();
            let passed = check["passed"] == true;
            let message = check["message"].as_str().filter(|_| !passed);
            checks
                .entry((&attempt.lesson, &attempt.step_key, name))
                .or_default()
                .run(learner, attempt.at, passed, message);
        }
    }
    lessons
        .iter()
        .map(|(lesson, keys)| {
            let rows = keys
                .iter()
                .enumerate()
                .map(|(i, key)| HeatmapStep {
                    key: key.clone(),
                    step: i,
                    tally: steps
                        .get(&(lesson.as_str(), key.as_str()))
                        .map(Counter::tally)
                        .unwrap_or_default(),
                    checks: checks
                        .iter()
                        .filter(|((l, k, _), _)| l == lesson && k == key)
                        .map(|((_, _, name), counter)| (name.clone(), counter.tally()))
                        .collect(),
                })
                .collect();
            (lesson.clone(), rows)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lesson: &str, key: &str, at: i64, failed: Option<&str>) -> StoredAttempt {
        let checks = match failed {
            Some(message) => {
                serde_json::json!([{"name": "nginx runs", "passed": false, "message": message}])
            }
            None => serde_json::json!([{"name": "nginx runs", "passed": true, "message": ""}]),
        };
        StoredAttempt {
            lesson: lesson.into(),
            step_key: key.into(),
            at,
            passed: failed.is_none(),
            checks: checks.to_string(),
        }
    }

    fn lessons() -> LessonKeys {
        vec![("nginx".into(), vec!["install".into(), "start".into()])]
    }

    const RULES: StuckRules = StuckRules {
        after_secs: 600,
        after_failures: 3,
    };

    #[test]
    fn three_failures_in_a_row_flag_a_student_stuck_with_the_message() {
        let facts = StudentFacts {
            id: "s".into(),
            name: "Asha".into(),
            attempts: vec![
                run("nginx", "install", 100, None),
                run("nginx", "start", 110, Some("nginx is not running")),
                run("nginx", "start", 120, Some("nginx is not running")),
                run("nginx", "start", 130, Some("port 80 is closed")),
            ],
            passes: vec![("nginx".into(), "install".into(), 100)],
            ..StudentFacts::default()
        };
        let row = row(&facts, &lessons(), RULES, 140);
        assert_eq!((row.lesson.as_deref(), row.step), (Some("nginx"), Some(1)));
        assert_eq!(row.failures_in_a_row, 3);
        assert_eq!(row.cells["nginx"][0].state, "passed");
        assert_eq!(
            row.cells["nginx"][1],
            Cell {
                state: "failed",
                failures: 3
            }
        );
        assert_eq!(row.last_failure.unwrap().message, "port 80 is closed");
        assert_eq!(row.flags.len(), 1);
        assert_eq!(row.flags[0].kind, "stuck");
        assert_eq!(row.attention, 2);
        assert_eq!(row.presence, "gone");
    }

    #[test]
    fn a_long_time_on_one_step_flags_stuck_until_dismissed_and_help_outranks_it() {
        let mut facts = StudentFacts {
            id: "s".into(),
            name: "Bikash".into(),
            sessions: vec![LiveSession {
                id: "x".into(),
                lesson: Some("nginx".into()),
                attached: 1,
                created_at: 0,
                last_active: 0,
            }],
            ..StudentFacts::default()
        };
        assert!(row(&facts, &lessons(), RULES, 599).flags.is_empty());
        let late = row(&facts, &lessons(), RULES, 660);
        assert_eq!(late.flags[0].reason, "11 minutes on this step");
        assert_eq!(late.cells["nginx"][0].state, "working");
        facts.dismissed = Some(("nginx".into(), "install".into()));
        assert!(row(&facts, &lessons(), RULES, 660).flags.is_empty());
        facts.help = Some(("nginx".into(), "install".into(), 650));
        let helped = row(&facts, &lessons(), RULES, 660);
        assert_eq!(helped.flags[0].kind, "help");
        assert_eq!(helped.attention, 3);
        // Passing the step clears the help flag.
        facts.passes.push(("nginx".into(), "install".into(), 670));
        assert!(
            row(&facts, &lessons(), RULES, 680)
                .flags
                .iter()
                .all(|f| f.kind != "help")
        );
    }

    #[test]
    fn attention_order_puts_help_then_stuck_then_failing_first() {
        let base = row(&StudentFacts::default(), &lessons(), RULES, 0);
        let mut rows: Vec<Row> = [(0, "Anil"), (2, "Bina"), (3, "Chetan"), (1, "Dipa")]
            .into_iter()
            .map(|(attention, name)| Row {
                attention,
                name: name.into(),
                ..base.clone()
            })
            .collect();
        sort_by_attention(&mut rows);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Chetan", "Bina", "Dipa", "Anil"]);
    }

    #[test]
    fn the_heatmap_counts_learners_medians_and_groups_failures() {
        let attempts = vec![
            (
                "a".to_string(),
                run("nginx", "start", 0, Some("not running")),
            ),
            ("a".to_string(), run("nginx", "start", 30, None)),
            (
                "b".to_string(),
                run("nginx", "start", 0, Some("not running")),
            ),
            (
                "b".to_string(),
                run("nginx", "start", 10, Some("port closed")),
            ),
            ("b".to_string(), run("nginx", "start", 90, None)),
            (
                "c".to_string(),
                run("nginx", "start", 5, Some("not running")),
            ),
        ];
        let map = heatmap(&attempts, &lessons());
        let start = &map["nginx"][1];
        assert_eq!((start.tally.attempted, start.tally.passed), (3, 2));
        assert_eq!(start.tally.median_seconds_to_pass, Some(60));
        assert_eq!(
            start.tally.top_failures[0],
            FailureCount {
                message: "not running".into(),
                count: 3
            }
        );
        assert_eq!(start.checks["nginx runs"].attempted, 3);
        assert_eq!(map["nginx"][0].tally, Tally::default());
    }
}
