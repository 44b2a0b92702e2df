//! The top-level keys of a lesson file, read before the rest: every misspelt key and every
//! missing one is reported at once, and the rest of the file is still read past a misspelt
//! key (the typed reading ignores unknown top-level keys; this reading reports them).

use std::path::Path;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::LessonError;
use super::error::did_you_mean;

/// Every key a lesson file may have at its top (the fields of `raw::RawLesson`).
pub const KNOWN: [&str; 11] = [
    "title", "summary", "track", "level", "minutes", "order", "image", "vars", "files", "setup",
    "steps",
];
/// The keys it must have.
const REQUIRED: [&str; 6] = ["title", "summary", "track", "level", "minutes", "steps"];

/// The top-level keys as written, with their places.
struct TopKeys(Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for TopKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = TopKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("keys and values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, IgnoredAny)) =
                    map.next_entry::<Spanned<String>, IgnoredAny>()?
                {
                    keys.push(key);
                }
                Ok(TopKeys(keys))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// Misspelt and missing top-level keys; `None` when the file is not a mapping of keys at
/// all (the typed reading says why).
pub fn problems(file: &Path, text: &str) -> Option<Vec<LessonError>> {
    let TopKeys(keys) = serde_saphyr::from_str::<TopKeys>(text).ok()?;
    let error = |line, column, message| LessonError {
        file: file.to_path_buf(),
        line,
        column,
        message,
    };
    let mut found = Vec::new();
    let mut suggested = Vec::new();
    for key in &keys {
        if KNOWN.contains(&key.value.as_str()) {
            continue;
        }
        let message = match did_you_mean(&key.value, &KNOWN) {
            Some(guess) => {
                suggested.push(guess);
                format!("unknown key `{}`; did you mean `{guess}`?", key.value)
            }
            None => format!(
                "unknown key `{}`; expected one of: {}",
                key.value,
                KNOWN.join(", ")
            ),
        };
        found.push(error(
            key.referenced.line(),
            key.referenced.column(),
            message,
        ));
    }
    for required in REQUIRED {
        // A misspelling of it has already been pointed out.
        if !keys.iter().any(|k| k.value == required) && !suggested.contains(&required) {
            found.push(error(
                0,
                0,
                format!("the lesson has no `{required}`; add it"),
            ));
        }
    }
    Some(found)
}

/// The text to read for the rest of the problems: with a stand-in for every required key
/// that is missing or misspelt (already reported), appended after the author's lines so
/// their line numbers stay. The stand-ins themselves are valid and report nothing.
pub fn with_stand_ins<'a>(text: &'a str, problems: &[LessonError]) -> std::borrow::Cow<'a, str> {
    let absent: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|r| {
            problems.iter().any(|p| {
                p.message == format!("the lesson has no `{r}`; add it")
                    || p.message.ends_with(&format!("did you mean `{r}`?"))
            })
        })
        .collect();
    if absent.is_empty() {
        return text.into();
    }
    let mut patched = format!("{}\n", text.trim_end());
    for key in absent {
        patched.push_str(match key {
            "level" => "level: beginner\n",
            "minutes" => "minutes: 1\n",
            "steps" => "steps: [{title: stand-in, body: stand-in, solution: 'true', checks: [{file: {path: /}}]}]\n",
            "title" => "title: stand-in\n",
            "summary" => "summary: stand-in\n",
            _ => "track: stand-in\n",
        });
    }
    patched.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_keys_are_the_schemas() {
        let schema: serde_json::Value = serde_json::from_str(&super::super::schema()).unwrap();
        let mut properties: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        properties.sort();
        let mut known = KNOWN.to_vec();
        known.sort();
        assert_eq!(properties, known);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(required.len(), REQUIRED.len(), "{required:?}");
        assert!(REQUIRED.iter().all(|r| required.contains(r)));
    }

    #[test]
    fn every_misspelt_and_missing_key_is_found() {
        let found = problems(Path::new("l.yaml"), "titel: x\nsumary: y\ntrack: t\n").unwrap();
        let messages: Vec<&str> = found.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages[0].contains("`titel`; did you mean `title`?"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("`sumary`; did you mean `summary`?"),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"the lesson has no `steps`; add it"),
            "{messages:?}"
        );
        assert_eq!(found[0].line, 1);
        let patched = with_stand_ins("titel: x\nsumary: y\ntrack: t\n", &found);
        assert!(patched.contains("title: stand-in") && patched.contains("summary: stand-in"));
        assert!(patched.contains("steps:") && !patched.contains("track: stand-in"));
    }
}
