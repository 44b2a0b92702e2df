//! Per-learner values: each learner gets their own ports, names and passwords, and the
//! lesson's text, checks, setup and solutions are rendered with them.

use std::collections::BTreeMap;

use super::{Lesson, Var};
use crate::check::CheckSpec;

/// A learner's values for a lesson's vars, by name.
pub type Values = BTreeMap<String, String>;

/// Letters and digits a generated password is made of (no look-alikes: 0/O, 1/l/I).
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Makes a fresh set of values for `lesson`; `value` vars see the ones defined before them.
pub fn generate(lesson: &Lesson) -> Values {
    generate_with(lesson, &mut random)
}

/// The values the draw numbered `seed` gives: the same seed, the same values (lesson CI's
/// `--seed`, to repeat a draw that found a problem).
pub fn generate_seeded(lesson: &Lesson, seed: u64) -> Values {
    let mut state = seed;
    generate_with(lesson, &mut || {
        let high = splitmix64(&mut state);
        (u128::from(high) << 64) | u128::from(splitmix64(&mut state))
    })
}

/// SplitMix64: a small, well-mixed generator; enough to repeat a draw (not for secrets a
/// learner gets, which come from the operating system).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn generate_with(lesson: &Lesson, random: &mut impl FnMut() -> u128) -> Values {
    let mut values = Values::new();
    for (name, var) in &lesson.vars {
        let value = match var {
            Var::RandomPort { low, high } => {
                let span = u128::from(*high - *low) + 1;
                (u128::from(*low) + random() % span).to_string()
            }
            Var::Pick(words) => words[(random() % words.len() as u128) as usize].clone(),
            Var::RandomPassword(length) => (0..*length)
                .map(|_| {
                    PASSWORD_ALPHABET[(random() % PASSWORD_ALPHABET.len() as u128) as usize] as char
                })
                .collect(),
            Var::Value(template) => render(template, &values),
        };
        values.insert(name.clone(), value);
    }
    values
}

/// Renders one text with the learner's values. Templates were checked when the lesson
/// loaded; should one still fail, the text is shown as written rather than lost.
pub fn render(template: &str, values: &Values) -> String {
    super::template::render(template, values, super::limits::MAX_RENDERED_CHARS)
        .unwrap_or_else(|_| template.to_string())
}

/// The checks with every text field rendered with the learner's values.
pub fn render_checks(checks: &[CheckSpec], values: &Values) -> Vec<CheckSpec> {
    checks
        .iter()
        .map(|spec| {
            let mut json = serde_json::to_value(spec).unwrap_or_default();
            render_strings(&mut json, values);
            let mut rendered: CheckSpec =
                serde_json::from_value(json).unwrap_or_else(|_| spec.clone());
            // The fail message is rendered again when the check fails, with what was expected
            // and found; keep those two placeholders for then.
            rendered.fail = spec.fail.as_ref().map(|fail| {
                let mut with_placeholders = values.clone();
                for key in ["expected", "actual"] {
                    with_placeholders.insert(key.into(), format!("{{{{ {key} }}}}"));
                }
                render(fail, &with_placeholders)
            });
            rendered
        })
        .collect()
}

/// The lesson as one learner would read it, as Markdown: its values, then each step's
/// text, hints, checks and solution (`pathshala lessons render`).
pub fn as_markdown(lesson: &Lesson, values: &Values, seed: u64) -> String {
    use std::fmt::Write;
    let mut out = format!("# {} ({})\n\n", lesson.title, lesson.id);
    let _ = writeln!(out, "Values drawn with --seed {seed}:");
    for (name, value) in values {
        let _ = writeln!(out, "- {name} = {value}");
    }
    for (number, step) in (1..).zip(&lesson.steps) {
        let _ = write!(
            out,
            "\n## {number}. {}\n\n{}\n",
            render(&step.title, values),
            render(&step.body, values).trim_end()
        );
        for (n, hint) in (1..).zip(&step.hints) {
            let _ = write!(out, "\n> Hint {n}: {}\n", render(hint, values).trim_end());
        }
        for port in &step.preview {
            let port = match port {
                crate::check::PortNumber::Number(n) => n.to_string(),
                crate::check::PortNumber::Template(t) => render(t, values),
            };
            let _ = writeln!(out, "\nPreview: port {port}");
        }
        let _ = writeln!(out, "\nChecks:");
        for check in render_checks(&step.checks, values) {
            let guard = if check.guard { " (guard)" } else { "" };
            let _ = writeln!(out, "- {}{guard}", check.name);
        }
        if let Some(solution) = &step.solution {
            let solution = render(solution, values);
            let _ = write!(out, "\nSolution:\n\n```sh\n{}\n```\n", solution.trim_end());
        }
    }
    out
}

fn render_strings(value: &mut serde_json::Value, values: &Values) {
    match value {
        serde_json::Value::String(text) if text.contains("{{") || text.contains("{%") => {
            *text = render(text, values);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| render_strings(v, values)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| render_strings(v, values)),
        _ => {}
    }
}

/// 128 random bits (from the operating system, through UUID v4 generation).
fn random() -> u128 {
    uuid::Uuid::new_v4().as_u128()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Check, PortCheck};

    fn lesson(vars: Vec<(&str, Var)>) -> Lesson {
        Lesson {
            id: "t".into(),
            dir: "t".into(),
            title: String::new(),
            summary: String::new(),
            track: String::new(),
            level: super::super::Level::Beginner,
            minutes: 1,
            order: None,
            image: None,
            vars: vars.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
            files: Vec::new(),
            setup: None,
            steps: Vec::new(),
        }
    }

    #[test]
    fn values_follow_their_generators() {
        let lesson = lesson(vec![
            (
                "port",
                Var::RandomPort {
                    low: 8000,
                    high: 8009,
                },
            ),
            ("who", Var::Pick(vec!["asha".into()])),
            ("secret", Var::RandomPassword(16)),
            ("site", Var::Value("{{ who }}-{{ port }}.test".into())),
        ]);
        let values = generate(&lesson);
        let port: u16 = values["port"].parse().unwrap();
        assert!((8000..=8009).contains(&port));
        assert_eq!(values["secret"].len(), 16);
        assert_eq!(values["site"], format!("asha-{port}.test"));
        // Two learners rarely share a password.
        assert_ne!(generate(&lesson)["secret"], values["secret"]);
    }

    #[test]
    fn checks_are_rendered_with_the_learners_values() {
        let values = Values::from([("port".to_string(), "8123".to_string())]);
        let mut spec = CheckSpec::new(Check::Port(PortCheck {
            port: 80.into(),
            listening: true,
        }));
        spec.name = "port {{ port }} is open".into();
        spec.fail = Some("Port {{ port }}: expected {{ expected }}, found {{ actual }}".into());
        let rendered = render_checks(&[spec], &values);
        assert_eq!(rendered[0].name, "port 8123 is open");
        assert_eq!(
            rendered[0].fail.as_deref(),
            Some("Port 8123: expected {{ expected }}, found {{ actual }}")
        );
    }
}
