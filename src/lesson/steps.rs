//! Steps and their checks, from the author's YAML: texts checked as templates and bounded,
//! titles, keys and check names unique, every check field validated as the probe will read
//! it with each sample draw of the vars.

use serde_saphyr::{Location, Spanned};

use super::convert::{Problems, check_template, text_field};
use super::raw::{RawCheck, RawStep};
use super::tolerant::Tolerant;
use super::{Step, fields, limits, render};
use crate::check::{Check, CheckSpec, DEFAULT_TIMEOUT_SECS};

/// The check kinds, as keys of a check.
const KINDS: [&str; 12] = [
    "file", "command", "http", "port", "process", "service", "package", "user", "group", "cron",
    "tls", "script",
];

/// Every step, then the problems only the whole list shows (repeated titles and keys).
pub(super) fn convert_all(
    problems: &mut Problems,
    raw: Vec<Spanned<Tolerant<RawStep>>>,
) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for step in raw {
        let at = step.referenced;
        let Some(value) = step.value.0 else {
            continue; // its shape error is reported
        };
        let converted = convert_step(problems, at, value);
        if steps.iter().any(|s| s.title == converted.title) {
            problems.at(
                &at,
                format!(
                    "two steps are titled {:?}; give each step its own title",
                    converted.title
                ),
            );
        } else if steps.iter().any(|s| s.key == converted.key) {
            problems.at(
                &at,
                format!(
                    "step {:?} has the key {:?} of an earlier step (keys come from titles); \
                     give one of them an `id`",
                    converted.title, converted.key
                ),
            );
        }
        steps.push(converted);
    }
    steps
}

fn convert_step(problems: &mut Problems, at: Location, raw: RawStep) -> Step {
    let title_text = raw.title.value.clone();
    let what = |part: &str| format!("{part} of step {title_text:?}");
    let texts = [
        (&raw.title, "a step's title", limits::MAX_TITLE_CHARS),
        (&raw.body, "the body", limits::MAX_TEXT_CHARS),
        (&raw.solution, "the solution", limits::MAX_TEXT_CHARS),
    ];
    for (text, part, max) in texts {
        let named = if part == "a step's title" {
            part.to_string()
        } else {
            what(part)
        };
        text_field(problems, &text.referenced, &named, &text.value, max);
        check_template(
            problems,
            &text.referenced,
            &what(part.trim_start_matches("a step's ")),
            &text.value,
        );
    }
    if raw.hints.len() > limits::MAX_HINTS {
        problems.at(
            &raw.hints[limits::MAX_HINTS].referenced,
            format!(
                "{} has more than {} hints",
                what("the hints"),
                limits::MAX_HINTS
            ),
        );
    }
    for (number, hint) in (1..).zip(&raw.hints) {
        let part = what(&format!("hint {number}"));
        text_field(
            problems,
            &hint.referenced,
            &part,
            &hint.value,
            limits::MAX_TEXT_CHARS,
        );
        check_template(problems, &hint.referenced, &part, &hint.value);
    }
    for port in &raw.preview {
        if let crate::check::PortNumber::Template(text) = port {
            check_template(problems, &at, &what("a preview port"), text);
        }
        let templated = matches!(port, crate::check::PortNumber::Template(_));
        let draws = match (problems.render, templated) {
            (true, _) => problems.draws.clone(),
            (false, false) => vec![Default::default()],
            (false, true) => Vec::new(),
        };
        for values in draws {
            let rendered = match port {
                crate::check::PortNumber::Template(t) => {
                    crate::check::PortNumber::Template(render::render(t, &values))
                }
                number => number.clone(),
            };
            if let Err(text) = fields::port_number(&rendered) {
                problems.at(
                    &at,
                    format!(
                        "{} is {text:?}, not a port number (1-65535)",
                        what("a preview port")
                    ),
                );
                break; // one draw is enough to show it
            }
        }
    }
    let key = match &raw.id {
        Some(id) => {
            let valid = !id.is_empty()
                && id.len() <= limits::MAX_TITLE_CHARS
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                problems.at(
                    &at,
                    format!("step id {id:?} may hold only lowercase letters, digits and -"),
                );
            }
            id.clone()
        }
        None => slug(&raw.title.value),
    };
    if raw.id.is_none() && key.is_empty() && !raw.title.value.trim().is_empty() {
        problems.at(
            &at,
            format!(
                "step {:?} needs an `id` (its title has no letters or digits to make one from)",
                raw.title.value
            ),
        );
    }
    let checks = convert_checks(problems, &at, &raw.title.value, raw.checks);
    Step {
        key,
        title: raw.title.value,
        body: raw.body.value,
        watch: raw.watch,
        hints: raw.hints.into_iter().map(|h| h.value).collect(),
        solution: Some(raw.solution.value),
        preview: raw.preview,
        checks,
    }
}

fn convert_checks(
    problems: &mut Problems,
    at: &Location,
    title: &str,
    raw: Vec<Spanned<Tolerant<RawCheck>>>,
) -> Vec<CheckSpec> {
    if raw.is_empty() {
        problems.at(
            at,
            format!("step {title:?} has no checks; add at least one"),
        );
    }
    if raw.len() > limits::MAX_CHECKS {
        problems.at(
            at,
            format!("step {title:?} has more than {} checks", limits::MAX_CHECKS),
        );
    }
    let mut checks: Vec<CheckSpec> = Vec::new();
    for check in raw {
        let place = check.referenced;
        let Some(value) = check.value.0 else {
            continue; // its shape error is reported
        };
        let Some(converted) = convert_check(problems, place, value) else {
            continue;
        };
        if checks.iter().any(|c| c.name == converted.name) {
            problems.at(
                &place,
                format!(
                    "two checks of step {title:?} are named {:?}; name each check (`name:`) \
                     so learners can tell them apart",
                    converted.name
                ),
            );
        }
        checks.push(converted);
    }
    checks
}

fn convert_check(problems: &mut Problems, at: Location, check: RawCheck) -> Option<CheckSpec> {
    let RawCheck {
        name,
        fail,
        timeout,
        guard,
        file,
        command,
        http,
        port,
        process,
        service,
        package,
        user,
        group,
        cron,
        tls,
        script,
    } = check;
    let kinds: Vec<Check> = [
        file.map(Check::File),
        command.map(Check::Command),
        http.map(Check::Http),
        port.map(Check::Port),
        process.map(Check::Process),
        service.map(Check::Service),
        package.map(Check::Package),
        user.map(Check::User),
        group.map(Check::Group),
        cron.map(Check::Cron),
        tls.map(Check::Tls),
        script.map(Check::Script),
    ]
    .into_iter()
    .flatten()
    .collect();
    let [kind] = <[Check; 1]>::try_from(kinds)
        .map_err(|kinds| {
            let names: Vec<&str> = kinds.iter().map(Check::kind).collect();
            let message = if names.is_empty() {
                format!("a check needs one kind: {}", KINDS.join(", "))
            } else {
                format!("a check has one kind, this one has {}", names.join(" and "))
            };
            problems.at(&at, message);
        })
        .ok()?;
    if let Some(fail) = &fail {
        problems
            .known
            .extend(["expected".to_string(), "actual".to_string()]);
        check_template(problems, &at, "a check's fail message", fail);
        problems.known.truncate(problems.known.len() - 2);
    }
    if let Some(name) = &name {
        text_field(
            problems,
            &at,
            "a check's name",
            name,
            limits::MAX_TITLE_CHARS,
        );
        check_template(problems, &at, "a check's name", name);
    }
    let timeout_secs = timeout.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if !(1..=limits::MAX_CHECK_TIMEOUT_SECS).contains(&timeout_secs) {
        problems.at(
            &at,
            format!(
                "a check's timeout must be from 1 to {} seconds, not {timeout_secs}",
                limits::MAX_CHECK_TIMEOUT_SECS
            ),
        );
    }
    let spec = CheckSpec {
        name: name.unwrap_or_else(|| kind.kind().to_string()),
        fail,
        timeout_secs,
        guard,
        check: kind,
    };
    check_fields(problems, &at, &spec);
    Some(spec)
}

/// The kind's texts as templates, then its fields as the probe reads them, with each draw.
fn check_fields(problems: &mut Problems, at: &Location, spec: &CheckSpec) {
    let what = format!("a text of this {} check", spec.check.kind());
    let json = serde_json::to_value(&spec.check).unwrap_or_default();
    let mut texts = Vec::new();
    collect_strings(&json, &mut texts);
    let templated = texts.iter().any(|t| t.contains("{{") || t.contains("{%"));
    let before = problems.found.len();
    for text in texts {
        check_template(problems, at, &what, text);
    }
    let draws = match (problems.render, templated) {
        // Rendering would only repeat the template's problem.
        _ if problems.found.len() > before => return,
        (true, _) => problems.draws.clone(),
        (false, false) => vec![Default::default()],
        // A broken var: its values are unknown, so its uses cannot be judged.
        (false, true) => return,
    };
    for values in draws {
        let rendered = render::render_checks(std::slice::from_ref(spec), &values);
        let Some(rendered) = rendered.into_iter().next() else {
            continue;
        };
        let found = fields::validate(&rendered.check);
        let broken = !found.problems.is_empty();
        for problem in found.problems {
            problems.at(
                at,
                format!("in this {} check, {problem}", spec.check.kind()),
            );
        }
        if broken {
            break; // the other draws would say the same with other values
        }
        for (field, pattern) in found.patterns {
            let entry = (*at, field, pattern);
            if !problems.patterns.contains(&entry) {
                problems.patterns.push(entry);
            }
        }
    }
}

/// A title as a step key: lowercase letters and digits, other runs of characters as `-`.
pub fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

fn collect_strings<'a>(value: &'a serde_json::Value, into: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(text) => into.push(text),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, into)),
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                // Header names are texts too.
                into.push(key);
                collect_strings(v, into);
            }
        }
        _ => {}
    }
}
