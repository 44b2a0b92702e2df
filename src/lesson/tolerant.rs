//! Reading past a shape error, so that one run reports every problem of a lesson. The YAML
//! parser reads straight into typed values and stops at the first value of the wrong
//! shape; a [`Tolerant`] value (a step, a check, a var, `minutes`) that fails records where
//! it is, and [`parse`] reads the file again with that value skipped, until it reads to the
//! end. Each error is the parser's own, at its own line and column.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde::de::{Deserialize, DeserializeOwned, Deserializer, IgnoredAny};

/// At most this many shape errors are collected from one file (then the first ones are
/// reported with a note to fix them first).
const MAX_SHAPE_ERRORS: usize = 30;

/// A value that may have failed to read: `None` when it did (its error is reported).
#[derive(Debug)]
pub struct Tolerant<T>(pub Option<T>);

impl<T> Default for Tolerant<T> {
    fn default() -> Self {
        Self(None)
    }
}

/// A tolerant value's place in the document: its index among its siblings at each level
/// of tolerant values above it (stable from one reading to the next, since a skipped value's
/// own children are never counted).
type Path = Vec<usize>;

#[derive(Default)]
struct Reading {
    /// The path of the tolerant value being read, and each level's next child index.
    open: Vec<usize>,
    next: Vec<usize>,
    skip: BTreeSet<Path>,
    /// The innermost tolerant value that failed in this reading.
    failed: Option<Path>,
    active: bool,
}

thread_local! {
    static READING: RefCell<Reading> = RefCell::new(Reading::default());
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tolerant<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (path, skip) = READING.with(|r| {
            let mut r = r.borrow_mut();
            if !r.active {
                return (None, false);
            }
            if r.next.is_empty() {
                r.next.push(0);
            }
            let depth = r.open.len();
            let index = r.next[depth];
            r.next[depth] += 1;
            let mut path = r.open.clone();
            path.push(index);
            let skip = r.skip.contains(&path);
            if !skip {
                r.open.push(index);
                r.next.push(0);
            }
            (Some(path), skip)
        });
        let Some(path) = path else {
            return T::deserialize(deserializer).map(|v| Self(Some(v)));
        };
        if skip {
            IgnoredAny::deserialize(deserializer)?;
            return Ok(Self(None));
        }
        let read = T::deserialize(deserializer);
        READING.with(|r| {
            let mut r = r.borrow_mut();
            r.open.pop();
            r.next.pop();
            if read.is_err() && r.failed.is_none() {
                r.failed = Some(path);
            }
        });
        read.map(|v| Self(Some(v)))
    }
}

/// Reads `text` as `T`, skipping each tolerant value that fails; returns what was read
/// (if the rest could be) and every error, in the order found.
pub fn parse<T: DeserializeOwned>(text: &str) -> (Option<T>, Vec<serde_saphyr::Error>) {
    let mut errors = Vec::new();
    let mut skip = BTreeSet::new();
    loop {
        READING.with(|r| {
            *r.borrow_mut() = Reading {
                skip: skip.clone(),
                active: true,
                ..Reading::default()
            }
        });
        let read = serde_saphyr::from_str::<T>(text);
        let failed = READING.with(|r| {
            let mut r = r.borrow_mut();
            r.active = false;
            r.failed.take()
        });
        match (read, failed) {
            (Ok(value), _) => return (Some(value), errors),
            // The same error again: the YAML itself is broken there, and skipping values
            // cannot get past it.
            (Err(e), _) if errors.iter().any(|seen| seen.to_string() == e.to_string()) => {
                return (None, errors);
            }
            (Err(e), Some(path))
                if errors.len() < MAX_SHAPE_ERRORS && skip.insert(path.clone()) =>
            {
                errors.push(e);
            }
            // An error outside any tolerant value (the YAML itself, a top-level key).
            (Err(e), _) => {
                errors.push(e);
                return (None, errors);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Doc {
        items: Vec<Tolerant<Item>>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        n: u32,
        #[serde(default)]
        parts: Vec<Tolerant<u8>>,
    }

    #[test]
    fn every_bad_value_is_reported_and_the_good_ones_are_read() {
        let text = "items:\n  - n: 1\n  - n: one\n  - n: 3\n    parts: [1, 300, 2]\n  - m: 4\n";
        let (doc, errors) = parse::<Doc>(text);
        let lines: Vec<u64> = errors
            .iter()
            .map(|e| e.location().map(|l| l.line()).unwrap_or(0))
            .collect();
        assert_eq!(lines, [3, 5, 6], "{errors:?}");
        let doc = doc.expect("the rest is read");
        let ns: Vec<Option<u32>> = doc
            .items
            .iter()
            .map(|i| i.0.as_ref().map(|i| i.n))
            .collect();
        assert_eq!(ns, [Some(1), None, Some(3), None]);
        let parts: Vec<Option<u8>> = doc.items[2]
            .0
            .as_ref()
            .unwrap()
            .parts
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(parts, [Some(1), None, Some(2)]);
    }

    #[test]
    fn an_error_outside_tolerant_values_ends_the_reading() {
        let (doc, errors) = parse::<Doc>("items: [\n");
        assert!(doc.is_none());
        assert_eq!(errors.len(), 1);
    }
}
