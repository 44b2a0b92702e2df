//! From the author's YAML to a validated [`Lesson`], collecting every problem found.

use std::path::Path;

use serde_saphyr::{Location, Spanned};

use super::error::did_you_mean;
use super::raw::{RawCheck, RawLesson, RawStep, RawVar};
use super::{ImageRef, Lesson, LessonError, Level, Step, Var};
use crate::check::{Check, CheckSpec, DEFAULT_TIMEOUT_SECS};

/// The check kinds, as keys of a check.
const KINDS: [&str; 12] = [
    "file", "command", "http", "port", "process", "service", "package", "user", "group", "cron",
    "tls", "script",
];

/// Collects problems with their place in one file.
struct Problems<'a> {
    file: &'a Path,
    found: Vec<LessonError>,
    /// Names a template may use: the vars defined so far.
    known: Vec<String>,
}

impl Problems<'_> {
    fn at(&mut self, location: &Location, message: impl Into<String>) {
        self.found.push(LessonError {
            file: self.file.to_path_buf(),
            line: location.line(),
            column: location.column(),
            message: message.into(),
        });
    }
}

pub fn parse(id: &str, dir: &Path, file: &Path, text: &str) -> Result<Lesson, Vec<LessonError>> {
    let raw: RawLesson = serde_saphyr::from_str(text).map_err(|e| vec![yaml_error(file, &e)])?;
    let mut problems = Problems {
        file,
        found: Vec::new(),
        known: Vec::new(),
    };
    let level = Level::parse(&raw.level.value);
    if level.is_none() {
        problems.at(
            &raw.level.referenced,
            format!(
                "level must be one of {}, not {:?}",
                Level::NAMES.join(", "),
                raw.level.value
            ),
        );
    }
    if raw.steps.is_empty() {
        problems.at(&Location::UNKNOWN, "a lesson needs at least one step");
    }
    let files = raw
        .files
        .into_iter()
        .filter_map(|(target, source)| convert_file(&mut problems, dir, target, source))
        .collect();
    let mut vars = Vec::new();
    for (name, var) in raw.vars.0 {
        // Known even when broken, so that its uses are not reported too.
        let known = name.clone();
        if let Some(converted) = convert_var(&mut problems, name, var) {
            vars.push(converted);
        }
        problems.known.push(known);
    }
    let steps = raw
        .steps
        .into_iter()
        .map(|step| convert_step(&mut problems, step))
        .collect();
    if let Some(setup) = &raw.setup {
        if setup.value.trim().is_empty() {
            problems.at(
                &setup.referenced,
                "setup is empty; remove it or add a script",
            );
        }
        check_template(&mut problems, &setup.referenced, "the setup", &setup.value);
    }
    if !problems.found.is_empty() {
        return Err(problems.found);
    }
    Ok(Lesson {
        id: id.to_string(),
        dir: dir.to_path_buf(),
        title: raw.title,
        summary: raw.summary,
        track: raw.track,
        level: level.unwrap_or(Level::Beginner),
        minutes: raw.minutes,
        order: raw.order,
        image: raw.image.map(|i| ImageRef {
            name: i.value,
            line: i.referenced.line(),
            column: i.referenced.column(),
        }),
        vars,
        files,
        setup: raw.setup.map(|s| s.value),
        steps,
    })
}

/// A YAML or shape error, with a "did you mean" for misspelt keys.
fn yaml_error(file: &Path, error: &serde_saphyr::Error) -> LessonError {
    let (line, column) = error
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let message = match error.without_snippet() {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => match did_you_mean(field, expected) {
            Some(guess) => format!("unknown key `{field}`; did you mean `{guess}`?"),
            None => format!(
                "unknown key `{field}`; expected one of: {}",
                expected.join(", ")
            ),
        },
        other => strip_location(&other.to_string()),
    };
    LessonError {
        file: file.to_path_buf(),
        line,
        column,
        message,
    }
}

/// The library appends " at line L, column C"; we print the place first instead.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// A file to copy: an absolute target, and a source inside the lesson's folder that exists.
fn convert_file(
    problems: &mut Problems,
    dir: &Path,
    target: String,
    source: Spanned<String>,
) -> Option<(String, std::path::PathBuf)> {
    let at = source.referenced;
    if !target.starts_with('/') {
        problems.at(
            &at,
            format!("file target {target:?} must be an absolute path in the sandbox"),
        );
        return None;
    }
    let relative = Path::new(&source.value);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        problems.at(
            &at,
            format!("file {:?} must be inside the lesson's folder", source.value),
        );
        return None;
    }
    let path = dir.join(relative);
    if !path.is_file() {
        problems.at(
            &at,
            format!(
                "file {:?} (for {target}) does not exist in {}",
                source.value,
                dir.display()
            ),
        );
        return None;
    }
    Some((target, path))
}

fn convert_var(
    problems: &mut Problems,
    name: String,
    var: Spanned<RawVar>,
) -> Option<(String, Var)> {
    let RawVar {
        random_port,
        pick,
        random_password,
        value,
    } = var.value;
    let given = [
        random_port.is_some(),
        pick.is_some(),
        random_password.is_some(),
        value.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        problems.at(
            &var.referenced,
            format!("var `{name}` needs exactly one of: random_port, pick, random_password, value"),
        );
        return None;
    }
    let converted = if let Some([low, high]) = random_port {
        if low == 0 || low > high {
            problems.at(
                &var.referenced,
                format!("var `{name}`: random_port needs [low, high] with 0 < low <= high"),
            );
            return None;
        }
        Var::RandomPort { low, high }
    } else if let Some(words) = pick {
        if words.is_empty() {
            problems.at(
                &var.referenced,
                format!("var `{name}`: pick needs at least one word"),
            );
            return None;
        }
        Var::Pick(words)
    } else if let Some(length) = random_password {
        if !(8..=64).contains(&length) {
            problems.at(
                &var.referenced,
                format!("var `{name}`: random_password length must be 8-64"),
            );
            return None;
        }
        Var::RandomPassword(length)
    } else {
        let template = value.unwrap_or_default();
        check_template(
            problems,
            &var.referenced,
            &format!("var `{name}`"),
            &template,
        );
        Var::Value(template)
    };
    Some((name, converted))
}

fn convert_step(problems: &mut Problems, step: Spanned<RawStep>) -> Step {
    let at = step.referenced;
    let raw = step.value;
    check_template(
        problems,
        &at,
        &format!("the body of step {:?}", raw.title),
        &raw.body,
    );
    for hint in &raw.hints {
        check_template(
            problems,
            &at,
            &format!("a hint of step {:?}", raw.title),
            hint,
        );
    }
    if let Some(solution) = &raw.solution {
        check_template(
            problems,
            &at,
            &format!("the solution of step {:?}", raw.title),
            solution,
        );
    }
    if raw.checks.is_empty() {
        problems.at(
            &at,
            format!("step {:?} has no checks; add at least one", raw.title),
        );
    }
    let checks = raw
        .checks
        .into_iter()
        .filter_map(|check| convert_check(problems, check))
        .collect();
    Step {
        key: raw.id.unwrap_or_else(|| slug(&raw.title)),
        title: raw.title,
        body: raw.body,
        watch: raw.watch,
        hints: raw.hints,
        solution: raw.solution,
        preview: raw.preview,
        checks,
    }
}

fn convert_check(problems: &mut Problems, check: Spanned<RawCheck>) -> Option<CheckSpec> {
    let at = check.referenced;
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
    } = check.value;
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
        check_template(problems, &at, "a check's name", name);
    }
    // The kind's texts are rendered when they hold `{{` or `{%` (see render::render_checks).
    let json = serde_json::to_value(&kind).unwrap_or_default();
    let mut texts = Vec::new();
    collect_strings(&json, &mut texts);
    for text in texts
        .iter()
        .filter(|t| t.contains("{{") || t.contains("{%"))
    {
        check_template(
            problems,
            &at,
            &format!("a text of this {} check", kind.kind()),
            text,
        );
    }
    if timeout == Some(0) {
        problems.at(&at, "a check's timeout must be at least 1 second");
    }
    Some(CheckSpec {
        name: name.unwrap_or_else(|| kind.kind().to_string()),
        fail,
        timeout_secs: timeout.unwrap_or(DEFAULT_TIMEOUT_SECS),
        guard,
        check: kind,
    })
}

/// Names minijinja provides itself.
const TEMPLATE_GLOBALS: [&str; 4] = ["range", "dict", "namespace", "loop"];

/// Reports a template that does not parse, or that uses a name no var defines (a typo, or
/// a var defined further down), at the YAML value that holds it.
fn check_template(problems: &mut Problems, at: &Location, what: &str, template: &str) {
    let env = minijinja::Environment::new();
    let parsed = env.template_from_str(template);
    if let Ok(parsed) = &parsed {
        let mut unknown: Vec<String> = parsed
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| {
                !problems.known.contains(name) && !TEMPLATE_GLOBALS.contains(&name.as_str())
            })
            .collect();
        unknown.sort();
        let known: Vec<&str> = problems.known.iter().map(String::as_str).collect();
        let mut found = Vec::new();
        for name in unknown {
            let hint = did_you_mean(&name, &known)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    " (vars are known below the line that defines them)".to_string()
                });
            found.push(format!(
                "{what} uses `{{{{ {name} }}}}`, but no var `{name}` is defined{hint}"
            ));
        }
        for message in found {
            problems.at(at, message);
        }
    }
    if let Err(e) = parsed {
        let line = e
            .line()
            .map(|l| format!(" (line {l} of the text)"))
            .unwrap_or_default();
        // Shell's `${#var}` (a length) reads as the start of a template comment.
        let advice = if template.contains("{#") {
            "; `{#` starts a template comment: for shell's ${#var} write \
             ${{ '{#' }}var} or put the script between {% raw %} and {% endraw %}"
        } else {
            ""
        };
        problems.at(
            at,
            format!(
                "{what} is not a valid template{line}: {}{advice}",
                e.detail().unwrap_or("syntax error")
            ),
        );
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
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, into)),
        _ => {}
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
