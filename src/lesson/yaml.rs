//! YAML and shape errors from the parser, in a lesson author's words: the place first, a
//! "did you mean" for misspelt keys, and no Rust or library jargon.

use std::path::Path;

use super::LessonError;
use super::error::did_you_mean;

/// A YAML or shape error, located.
pub fn error(file: &Path, error: &serde_saphyr::Error) -> LessonError {
    let (line, column) = error
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let message = message(error.without_snippet());
    LessonError {
        file: file.to_path_buf(),
        line,
        column,
        message,
    }
}

/// The problem in an author's words.
fn message(error: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error as E;
    match error {
        E::SerdeUnknownField {
            field, expected, ..
        } => match did_you_mean(field, expected) {
            Some(guess) => format!("unknown key `{field}`; did you mean `{guess}`?"),
            None => format!(
                "unknown key `{field}`; expected one of: {}",
                expected.join(", ")
            ),
        },
        E::SerdeMissingField { field, .. } => match *field {
            "solution" => "this step has no `solution`; add the commands that complete it, so \
                 lesson CI (pathshala lessons test) can prove the step can be done"
                .into(),
            "checks" => "this step has no `checks`; add at least one".into(),
            other => format!("`{other}` is missing here; add it"),
        },
        E::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!("`{key}` is written twice here; keep one"),
            None => "a key is written twice here; keep one".into(),
        },
        E::NullIntoString { .. } => "a value is missing here (the key has nothing after it)".into(),
        E::InvalidScalar { ty, .. } => format!("expected {} here", kind(ty)),
        E::InvalidBooleanStrict { .. } => "expected true or false here".into(),
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => format!("found {unexpected}, but expected {}", kind(expected)),
        E::SerdeInvalidLength { len, expected, .. } => {
            format!("found {len} item(s), but expected {}", kind(expected))
        }
        E::Unexpected {
            expected: "string scalar",
            ..
        } => "expected text here; text holding `: `, or starting with `{`, `[`, `*`, `&`, `!` \
              or `- `, must be put in quotes"
            .into(),
        E::Unexpected { expected, .. } => format!("expected {} here", kind(expected)),
        E::MultipleDocuments { .. } => "the file holds more than one YAML document (a `---` \
             line in the middle); a lesson is one document"
            .into(),
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => {
            "the YAML is too large or its aliases (`*name`) expand too far".into()
        }
        other => syntax(&strip_location(&other.to_string())),
    }
}

/// The YAML parser's own words for broken syntax, said for authors.
fn syntax(message: &str) -> String {
    if message.contains("tabs disallowed") || message.contains("found a tab") {
        return "a tab is used for indentation here; YAML needs spaces (set the editor to \
                insert spaces for tabs)"
            .into();
    }
    if message.contains("mapping values are not allowed") {
        return "a `key: value` cannot start here: either the indentation does not line up \
                with the lines above (the keys of one mapping, and the `- ` items of one \
                list, start in the same column), or a text holds `: ` and needs quotes"
            .into();
    }
    if message.contains("did not find expected") {
        return "the indentation here does not line up: the keys of one mapping, and the `- ` \
                items of one list, start in the same column (with spaces)"
            .into();
    }
    message.to_string()
}

/// The parser appends " at line L, column C"; the place is printed first instead.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// What the parser expected, named as an author would.
fn kind(expected: &str) -> String {
    let words = match expected {
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number",
        "u32" | "u64" | "usize" => "a whole number (digits only)",
        "i32" | "i64" | "isize" => "a whole number",
        "bool" | "boolean" | "a boolean" => "true or false",
        "string scalar" | "a string" | "string" => "text",
        "sequence start" | "a sequence" => "a list (lines starting with `- `, or [a, b])",
        "mapping start" | "a map" => "keys and values (`key: value` lines, or { key: value })",
        "an array of length 2" => "a list of two numbers, like [8000, 8999]",
        "untagged enum PortNumber" => "a port number, or a {{ var }} giving one",
        other => return other.strip_prefix("struct ").unwrap_or(other).to_string(),
    };
    words.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programmer_words_become_author_words() {
        for (yaml, expected) in [
            (
                "minutes: five",
                "expected a whole number (digits only) here",
            ),
            ("title:", "a value is missing here"),
            (
                "minutes: 1\nminutes: 2",
                "`minutes` is written twice here; keep one",
            ),
            (
                "steps: nope",
                "expected a list (lines starting with `- `, or [a, b]) here",
            ),
            ("watch: maybe", "expected true or false here"),
            ("a: 1\n---\na: 2", "more than one YAML document"),
        ] {
            let error = serde_saphyr::from_str::<Probe>(yaml).unwrap_err();
            let said = message(error.without_snippet());
            assert!(said.contains(expected), "{yaml:?}: {said}");
            for jargon in [
                "u32",
                "Option<",
                "DuplicateKeyPolicy",
                "from_str_multiple",
                "budget",
            ] {
                assert!(!said.contains(jargon), "{yaml:?}: {said}");
            }
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        minutes: Option<u32>,
        #[serde(default)]
        title: String,
        steps: Option<Vec<String>>,
        watch: Option<bool>,
        a: Option<u32>,
    }
}
