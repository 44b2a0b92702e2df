//! From the author's YAML to a validated [`Lesson`], collecting every problem found. Every
//! field that could fail later is checked here by the rules that will run it: templates are
//! parsed and rendered with sample draws of the vars, check fields are validated as the
//! probe reads them, and regular expressions are compiled by Python (see `regex.rs`).

use std::path::Path;

use serde_saphyr::{Location, Spanned};

use super::error::did_you_mean;
use super::raw::{RawLesson, RawVar};
use super::render::Values;
use super::tolerant::Tolerant;
use super::{ImageRef, Lesson, LessonError, Level, Var, limits, samples, template};

/// Collects problems with their place in one file.
pub(super) struct Problems<'a> {
    file: &'a Path,
    pub found: Vec<LessonError>,
    /// Names a template may use: the vars defined so far.
    pub known: Vec<String>,
    /// Sample draws of the vars' values; every template is rendered with each.
    pub draws: Vec<Values>,
    /// Regular expressions to compile: where, what, the pattern.
    pub patterns: Vec<(Location, String, String)>,
}

impl Problems<'_> {
    pub fn at(&mut self, location: &Location, message: impl Into<String>) {
        let error = LessonError {
            file: self.file.to_path_buf(),
            line: location.line(),
            column: location.column(),
            message: message.into(),
        };
        // The same problem found in several draws is reported once.
        if !self.found.contains(&error) {
            self.found.push(error);
        }
    }
}

pub fn parse(id: &str, dir: &Path, file: &Path, text: &str) -> Result<Lesson, Vec<LessonError>> {
    let mut shape_errors = super::keys::problems(file, text).unwrap_or_default();
    let text = super::keys::with_stand_ins(text, &shape_errors);
    let (raw, errors) = super::tolerant::parse::<RawLesson>(&text);
    shape_errors.extend(errors.iter().map(|e| super::yaml::error(file, e)));
    let Some(raw) = raw else {
        return Err(shape_errors);
    };
    let mut problems = Problems {
        file,
        found: shape_errors,
        known: Vec::new(),
        draws: Vec::new(),
        patterns: Vec::new(),
    };
    let top = Location::UNKNOWN;
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
    text_field(
        &mut problems,
        &top,
        "the title",
        &raw.title,
        limits::MAX_TITLE_CHARS,
    );
    text_field(
        &mut problems,
        &top,
        "the summary",
        &raw.summary,
        limits::MAX_SUMMARY_CHARS,
    );
    text_field(
        &mut problems,
        &top,
        "the track",
        &raw.track,
        limits::MAX_TITLE_CHARS,
    );
    let minutes = raw.minutes.0.unwrap_or(1);
    if !(1..=limits::MAX_MINUTES).contains(&minutes) {
        problems.at(
            &top,
            format!(
                "minutes must be from 1 to {}, not {minutes}",
                limits::MAX_MINUTES
            ),
        );
    }
    let files = super::files::convert(&mut problems, dir, raw.files);
    let vars = convert_vars(&mut problems, raw.vars.0);
    if raw.steps.is_empty() {
        problems.at(&top, "a lesson needs at least one step");
    }
    if raw.steps.len() > limits::MAX_STEPS {
        problems.at(
            &raw.steps[limits::MAX_STEPS].referenced,
            format!(
                "a lesson has at most {} steps; split it in two",
                limits::MAX_STEPS
            ),
        );
    }
    let steps = super::steps::convert_all(&mut problems, raw.steps);
    if let Some(setup) = &raw.setup {
        if setup.value.trim().is_empty() {
            problems.at(
                &setup.referenced,
                "setup is empty; remove it or add a script",
            );
        }
        text_field(
            &mut problems,
            &setup.referenced,
            "the setup",
            &setup.value,
            limits::MAX_TEXT_CHARS,
        );
        check_template(&mut problems, &setup.referenced, "the setup", &setup.value);
    }
    super::regex::report(&mut problems);
    if !problems.found.is_empty() {
        // In the order of the file, as an author fixes them.
        problems.found.sort_by_key(|e| (e.line, e.column));
        return Err(problems.found);
    }
    Ok(Lesson {
        id: id.to_string(),
        dir: dir.to_path_buf(),
        title: raw.title,
        summary: raw.summary,
        track: raw.track,
        level: level.unwrap_or(Level::Beginner),
        minutes,
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

/// A text that must not be empty and has a size limit.
pub(super) fn text_field(
    problems: &mut Problems,
    at: &Location,
    what: &str,
    text: &str,
    max: usize,
) {
    if text.trim().is_empty() {
        problems.at(at, format!("{what} is empty"));
    }
    let length = text.chars().count();
    if length > max {
        problems.at(
            at,
            format!("{what} has {length} characters; at most {max} are allowed"),
        );
    }
}

/// The vars in file order, then sample draws of their values (a var that cannot be made,
/// or grows too long, is reported at its line).
fn convert_vars(
    problems: &mut Problems,
    raw: Vec<(String, Spanned<Tolerant<RawVar>>)>,
) -> Vec<(String, Var)> {
    if raw.len() > limits::MAX_VARS {
        problems.at(
            &raw[limits::MAX_VARS].1.referenced,
            format!("a lesson has at most {} vars", limits::MAX_VARS),
        );
    }
    let mut vars = Vec::new();
    let mut places = Vec::new();
    for (name, var) in raw {
        // Known even when broken, so that its uses are not reported too.
        let known = name.clone();
        let at = var.referenced;
        let Some(value) = var.value.0 else {
            problems.known.push(known);
            continue; // its shape error is reported
        };
        if let Some(converted) = convert_var(problems, name, at, value) {
            vars.push(converted);
            places.push(at);
        }
        problems.known.push(known);
    }
    let (draws, failures) = samples::draws(&vars);
    for (index, why) in failures {
        let message = format!("var `{}` cannot be made: {why}", vars[index].0);
        problems.at(&places[index], message);
    }
    problems.draws = draws;
    vars
}

fn convert_var(
    problems: &mut Problems,
    name: String,
    at: Location,
    var: RawVar,
) -> Option<(String, Var)> {
    let RawVar {
        random_port,
        pick,
        random_password,
        value,
    } = var;
    let given = [
        random_port.is_some(),
        pick.is_some(),
        random_password.is_some(),
        value.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        problems.at(
            &at,
            format!("var `{name}` needs exactly one of: random_port, pick, random_password, value"),
        );
        return None;
    }
    let converted = if let Some([low, high]) = random_port {
        if low == 0 || low > high {
            problems.at(
                &at,
                format!("var `{name}`: random_port needs [low, high] with 0 < low <= high"),
            );
            return None;
        }
        Var::RandomPort { low, high }
    } else if let Some(words) = pick {
        if words.is_empty() || words.len() > limits::MAX_PICK_WORDS {
            problems.at(
                &at,
                format!(
                    "var `{name}`: pick needs from 1 to {} words",
                    limits::MAX_PICK_WORDS
                ),
            );
            return None;
        }
        if let Some(long) = words
            .iter()
            .find(|w| w.chars().count() > limits::MAX_VAR_CHARS)
        {
            problems.at(
                &at,
                format!(
                    "var `{name}`: the word starting {:?} is longer than {} characters",
                    long.chars().take(20).collect::<String>(),
                    limits::MAX_VAR_CHARS
                ),
            );
            return None;
        }
        Var::Pick(words)
    } else if let Some(length) = random_password {
        if !(8..=64).contains(&length) {
            problems.at(
                &at,
                format!("var `{name}`: random_password length must be 8-64, not {length}"),
            );
            return None;
        }
        Var::RandomPassword(length)
    } else {
        let template = value.unwrap_or_default();
        check_template(problems, &at, &format!("var `{name}`"), &template);
        Var::Value(template)
    };
    Some((name, converted))
}

/// Names minijinja provides itself.
const TEMPLATE_GLOBALS: [&str; 4] = ["range", "dict", "namespace", "loop"];

/// Reports a template that does not parse, uses a name no var defines (a typo, or a var
/// defined further down), uses a statement lessons may not, or fails to render with any
/// sample draw (an unknown filter, a type error, a loop without end), at the YAML value
/// that holds it.
pub(super) fn check_template(problems: &mut Problems, at: &Location, what: &str, template: &str) {
    if !template.contains("{{") && !template.contains("{%") && !template.contains("{#") {
        return;
    }
    let env = template::environment();
    let parsed = match env.template_from_str(template) {
        Ok(parsed) => parsed,
        Err(e) => {
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
            return;
        }
    };
    let mut unknown: Vec<String> = parsed
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !problems.known.contains(name) && !TEMPLATE_GLOBALS.contains(&name.as_str()))
        .collect();
    unknown.sort();
    let known: Vec<&str> = problems.known.iter().map(String::as_str).collect();
    let mut found = Vec::new();
    for name in &unknown {
        let hint = did_you_mean(name, &known)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| " (vars are known below the line that defines them)".to_string());
        found.push(format!(
            "{what} uses `{{{{ {name} }}}}`, but no var `{name}` is defined{hint}"
        ));
    }
    if let Some(statement) = template::refused_statement(template) {
        found.push(format!(
            "{what} uses `{{% {statement} %}}`; lesson texts may use only {{{{ ... }}}}, \
             if, for and raw"
        ));
    }
    if found.is_empty() {
        let mut draws = problems.draws.clone();
        if draws.is_empty() {
            draws.push(Values::new());
        }
        for mut values in draws {
            for key in ["expected", "actual"] {
                values.entry(key.into()).or_insert_with(|| key.into());
            }
            if let Err(e) = template::render(template, &values, limits::MAX_RENDERED_CHARS) {
                found.push(format!(
                    "{what} cannot be rendered: {}",
                    samples::describe(&e)
                ));
                break;
            }
        }
    }
    for message in found {
        problems.at(at, message);
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
