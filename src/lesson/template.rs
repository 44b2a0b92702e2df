//! Lesson templates (minijinja over the lesson's vars), bounded: a template runs with a fuel
//! budget, its output stops at a size limit, the filters that multiply text are replaced by
//! bounded ones, and the statements that keep values between expressions (`set`, `macro`,
//! ...) are refused, so no lesson can make the server render without end.

use minijinja::{Environment, Error, ErrorKind, Value};

use super::limits;
use super::render::Values;

/// Statements lesson text may use; every other `{% ... %}` is refused at load time.
const ALLOWED_STATEMENTS: [&str; 8] = [
    "if", "elif", "else", "endif", "for", "endfor", "raw", "endraw",
];

/// The environment every lesson text is parsed and rendered with.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(limits::TEMPLATE_FUEL));
    env.set_recursion_limit(limits::TEMPLATE_NESTING);
    env.add_filter("replace", bounded_replace);
    env.add_filter("indent", bounded_indent);
    env
}

/// Renders `template` with `values`, at most `max` characters of output.
pub fn render(template: &str, values: &Values, max: usize) -> Result<String, Error> {
    let env = environment();
    let parsed = env.template_from_str(template)?;
    let mut out = Limited {
        text: Vec::new(),
        max,
    };
    parsed
        .render_captured_to(Value::from_pairs(values.clone()), &mut out)
        .map_err(|e| match e.kind() {
            ErrorKind::WriteFailure => Error::new(
                ErrorKind::InvalidOperation,
                format!("the text grows past {max} characters"),
            ),
            _ => e,
        })?;
    Ok(String::from_utf8_lossy(&out.text).into_owned())
}

/// A statement `template` uses that lessons may not, if any.
pub fn refused_statement(template: &str) -> Option<String> {
    let mut rest = template;
    let mut in_raw = false;
    while let Some(at) = rest.find("{%") {
        rest = &rest[at + 2..];
        let word: String = rest
            .trim_start_matches(['-', '+'])
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        match word.as_str() {
            "raw" => in_raw = true,
            "endraw" => in_raw = false,
            _ if in_raw => {}
            w if !ALLOWED_STATEMENTS.contains(&w) => return Some(w.to_string()),
            _ => {}
        }
    }
    None
}

/// An output that refuses to grow past `max` bytes.
struct Limited {
    text: Vec<u8>,
    max: usize,
}

impl std::io::Write for Limited {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + bytes.len() > self.max {
            return Err(std::io::Error::other("too long"));
        }
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn too_large() -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "the result would be longer than {} characters",
            limits::MAX_RENDERED_CHARS
        ),
    )
}

/// `replace`, refusing results past the rendered-text limit (before building them).
fn bounded_replace(text: &str, from: &str, to: &str) -> Result<String, Error> {
    let hits = if from.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(from).count()
    };
    let grows_by = to.len().saturating_sub(from.len());
    if text.len().saturating_add(hits.saturating_mul(grows_by)) > limits::MAX_RENDERED_CHARS {
        return Err(too_large());
    }
    Ok(text.replace(from, to))
}

/// `indent(width)`, refusing results past the rendered-text limit.
fn bounded_indent(text: &str, width: Value) -> Result<String, Error> {
    let width = usize::try_from(width.clone()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "indent needs a number of spaces",
        )
    })?;
    let lines = text.lines().count();
    if text.len().saturating_add(lines.saturating_mul(width)) > limits::MAX_RENDERED_CHARS {
        return Err(too_large());
    }
    let pad = " ".repeat(width);
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 || line.is_empty() {
                line.to_string()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn output_stops_at_the_limit() {
        let err = render("{{ a }}{{ a }}", &values(&[("a", "xxxx")]), 6).unwrap_err();
        assert!(err.to_string().contains("past 6 characters"), "{err}");
        assert_eq!(
            render("{{ a }}", &values(&[("a", "xxxx")]), 6).unwrap(),
            "xxxx"
        );
    }

    #[test]
    fn loops_run_out_of_fuel() {
        let bomb =
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}";
        assert!(render(bomb, &Values::new(), 1000).is_err());
    }

    #[test]
    fn text_multiplying_filters_are_bounded() {
        let big = "x".repeat(1000);
        let err = render(
            "{{ a | replace('', a) | replace('', a) }}",
            &values(&[("a", &big)]),
            usize::MAX,
        )
        .unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
        assert_eq!(
            render("{{ a | replace('b', 'c') }}", &values(&[("a", "abc")]), 100).unwrap(),
            "acc"
        );
    }

    #[test]
    fn statements_that_keep_values_are_refused() {
        assert_eq!(refused_statement("{% set a = 1 %}").as_deref(), Some("set"));
        assert_eq!(
            refused_statement("{%- macro m() %}").as_deref(),
            Some("macro")
        );
        assert_eq!(refused_statement("{% if a %}b{% endif %}"), None);
        assert_eq!(refused_statement("{% raw %}{% set x %}{% endraw %}"), None);
    }
}
