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
    /// Whether templates are rendered with the draws: not when a var is broken (its uses
    /// would only report that again, as strange values elsewhere).
    pub render: bool,
}

impl Problems<'_> {
    pub fn at(&mut self, location: &Location, message: impl Into<String>) {
        self.at_place(location.line(), location.column(), message.into());
    }

    /// At line `line` (from 1) of a text whose value starts at `start`: the text's own lines
    /// follow the file's (a block scalar's content starts at `start`).
    pub fn at_text_line(&mut self, start: &Location, line: Option<usize>, message: String) {
        match line {
            Some(n) if n > 1 && start.line() > 0 => {
                self.at_place(start.line() + n as u64 - 1, start.column(), message)
            }
            _ => self.at(start, message),
        }
    }

    fn at_place(&mut self, line: u64, column: u64, message: String) {
        let error = LessonError {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
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
        render: true,
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
    let texts = [
        (&raw.title, "the title", limits::MAX_TITLE_CHARS),
        (&raw.summary, "the summary", limits::MAX_SUMMARY_CHARS),
        (&raw.track, "the track", limits::MAX_TITLE_CHARS),
    ];
    for (text, what, max) in texts {
        text_field(&mut problems, &text.referenced, what, &text.value, max);
    }
    let minutes = raw.minutes.value.0.unwrap_or(1);
    if !(1..=limits::MAX_MINUTES).contains(&minutes) {
        problems.at(
            &raw.minutes.referenced,
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
        title: raw.title.value,
        summary: raw.summary.value,
        track: raw.track.value,
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
        let converted = var
            .value
            .0
            .and_then(|value| convert_var(problems, name, at, value));
        match converted {
            Some(converted) => {
                vars.push(converted);
                places.push(at);
            }
            // Its problem is reported; without its values, rendering would only report
            // strange values elsewhere.
            None => problems.render = false,
        }
        problems.known.push(known);
    }
    let (draws, failures) = samples::draws(&vars);
    for (index, why) in failures {
        let message = format!("var `{}` cannot be made: {why}", vars[index].0);
        problems.at(&places[index], message);
        problems.render = false;
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
            // Shell's `${#var}` (a length) reads as the start of a template comment.
            let advice = if template.contains("{#") {
                "; `{#` starts a template comment: for shell's ${#var} write \
                 ${{ '{#' }}var} or put the script between {% raw %} and {% endraw %}"
            } else {
                ""
            };
            let message = format!(
                "{what} is not a valid template: {}{advice}",
                e.detail().unwrap_or("syntax error")
            );
            problems.at_text_line(at, e.line(), message);
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
        let message =
            format!("{what} uses `{{{{ {name} }}}}`, but no var `{name}` is defined{hint}");
        found.push((line_of(template, name), message));
    }
    if let Some(statement) = template::refused_statement(template) {
        let message = format!(
            "{what} uses `{{% {statement} %}}`; lesson texts may use only {{{{ ... }}}}, \
             if, for and raw"
        );
        found.push((line_of(template, &statement), message));
    }
    if found.is_empty() && problems.render {
        let mut draws = problems.draws.clone();
        if draws.is_empty() {
            draws.push(Values::new());
        }
        for mut values in draws {
            for key in ["expected", "actual"] {
                values.entry(key.into()).or_insert_with(|| key.into());
            }
            if let Err(e) = template::render(template, &values, limits::MAX_RENDERED_CHARS) {
                let message = format!("{what} cannot be rendered: {}", samples::describe(&e));
                found.push((e.line(), message));
                break;
            }
        }
    }
    for (line, message) in found {
        problems.at_text_line(at, line, message);
    }
}

/// The line (from 1) of `template` where `word` first appears inside a tag.
fn line_of(template: &str, word: &str) -> Option<usize> {
    template
        .lines()
        .position(|line| line.contains(word) && (line.contains("{{") || line.contains("{%")))
        .map(|i| i + 1)
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
