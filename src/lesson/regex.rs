//! Regular expressions in checks are Python's (`re`, as the in-sandbox probe runs them), so
//! the loader compiles them with Python too: one `python3 -I -S` for all of a lesson's
//! patterns. A pattern that would fail in front of a learner fails at load time instead.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_saphyr::Location;

use super::convert::Problems;

/// Reads patterns (a JSON list) on stdin; prints, per pattern, `null` or the error.
const COMPILE: &str = r#"
import json, re, sys
out = []
for p in json.load(sys.stdin):
    try:
        re.compile(p, re.M)
        out.append(None)
    except re.error as e:
        out.append("%s at position %s" % (e.msg, e.pos))
    except Exception as e:
        out.append(str(e))
print(json.dumps(out))
"#;

/// For each pattern, `None` if Python compiles it, or why not. `Err` when Python itself
/// cannot be run (then nothing can be said about the patterns).
pub fn compile_all(patterns: &[String]) -> Result<Vec<Option<String>>, String> {
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("python3")
        .args(["-I", "-S", "-c", COMPILE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot compile the checks' regular expressions: python3 could not be run \
                 ({e}); checks use Python's regular expressions, so install python3"
            )
        })?;
    let input = serde_json::to_vec(patterns).unwrap_or_default();
    if let Some(mut stdin) = child.stdin.take() {
        // A write error shows up as Python's failure below.
        let _ = stdin.write_all(&input);
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("python3 failed while compiling regular expressions: {e}"))?;
    let answers: Vec<Option<String>> = serde_json::from_slice(&output.stdout).map_err(|_| {
        format!(
            "python3 failed while compiling regular expressions: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })?;
    if answers.len() != patterns.len() {
        return Err("python3 answered for the wrong number of regular expressions".into());
    }
    Ok(answers)
}

/// Compiles every regular expression found, with Python, and reports those that fail.
pub(super) fn report(problems: &mut Problems) {
    let patterns: Vec<String> = problems
        .patterns
        .iter()
        .map(|(_, _, p)| p.clone())
        .collect();
    match compile_all(&patterns) {
        Ok(answers) => {
            let places = std::mem::take(&mut problems.patterns);
            let mut reported: Vec<(Location, String)> = Vec::new();
            for ((at, what, pattern), answer) in places.into_iter().zip(answers) {
                // One report per field, whichever draw of the vars broke it.
                let Some(why) = answer else { continue };
                if reported.contains(&(at, what.clone())) {
                    continue;
                }
                problems.at(
                    &at,
                    format!("{what} /{pattern}/ is not a valid regular expression: {why}"),
                );
                reported.push((at, what));
            }
        }
        Err(why) => problems.at(&Location::UNKNOWN, why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_says_which_patterns_do_not_compile() {
        let patterns = vec![
            "^PORT=\\d+$".to_string(),
            "(unclosed".to_string(),
            "(?<=a)b".to_string(),
        ];
        let answers = compile_all(&patterns).unwrap();
        assert_eq!(answers[0], None);
        assert!(
            answers[1]
                .as_deref()
                .unwrap()
                .contains("missing ), unterminated subpattern"),
            "{answers:?}"
        );
        assert_eq!(answers[2], None, "Python's look-behind is accepted");
    }
}
