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
        other => plain(&strip_location(&other.to_string())),
    };
    LessonError {
        file: file.to_path_buf(),
        line,
        column,
        message,
    }
}

/// The parser appends " at line L, column C"; the place is printed first instead.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Type names and parser advice meant for programmers, said for authors.
const PLAIN: [(&str, &str); 16] = [
    ("expected u8", "expected a whole number (0-255)"),
    ("expected u16", "expected a whole number (0-65535)"),
    ("expected u32", "expected a whole number"),
    ("expected u64", "expected a whole number"),
    ("expected usize", "expected a whole number"),
    ("expected i32", "expected a whole number"),
    ("expected i64", "expected a whole number"),
    ("expected a string", "expected text"),
    ("expected a boolean", "expected true or false"),
    (
        "expected a sequence",
        "expected a list (lines starting with `- `)",
    ),
    (
        "expected a map",
        "expected keys and values (`key: value` lines)",
    ),
    (
        "an array of length 2",
        "a list of two numbers, like [8000, 8999]",
    ),
    ("invalid type: ", ""),
    ("invalid value: ", ""),
    (
        "untagged enum PortNumber",
        "a port number or a {{ var }} giving one",
    ),
    ("struct ", ""),
];

/// `, not X` for the value a message quotes, if it quotes one.
fn found_text(message: &str) -> String {
    message
        .rsplit_once(": ")
        .map(|(_, value)| format!(", not {}", value.trim()))
        .unwrap_or_default()
}

fn plain(message: &str) -> String {
    if message.contains("duplicate") && message.contains("key") {
        let key = message.split('`').nth(1).unwrap_or("a key");
        return format!("`{key}` is written twice here; keep one");
    }
    if message.contains("multiple documents") || message.contains("from_str_multiple") {
        return "the file holds more than one YAML document (a line `---` in the middle); \
                a lesson is one document"
            .into();
    }
    if message.contains("budget") {
        return "the YAML is too large or too deeply nested (aliases expanding too far?)".into();
    }
    if message.contains("invalid u") || message.contains("invalid i") {
        return format!(
            "expected a whole number here (digits only, not too large){}",
            found_text(message)
        );
    }
    if message.contains("Option<") || message.contains("null") {
        return "a value is missing here (the key has nothing after it)".into();
    }
    let mut text = message.to_string();
    for (jargon, words) in PLAIN {
        text = text.replace(jargon, words);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programmer_words_become_author_words() {
        assert_eq!(
            plain("invalid type: string \"ten\", expected u32"),
            "string \"ten\", expected a whole number"
        );
        assert!(plain("duplicate mapping key `title`").contains("`title` is written twice"));
        assert!(!plain("invalid value: integer `-1`, expected usize").contains("usize"));
    }
}
