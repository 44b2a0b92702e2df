//! Lesson errors: where (file:line:column) and what, with a hint when one helps.

use std::fmt;
use std::path::PathBuf;

/// One problem in a lesson, pointing at the place to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is not at one place (a missing file).
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl LessonError {
    /// The lesson (folder name) this problem belongs to.
    pub fn lesson_id(&self) -> String {
        let folder = if self
            .file
            .file_name()
            .is_some_and(|n| n == super::LESSON_FILE)
        {
            self.file.parent()
        } else {
            Some(self.file.as_path())
        };
        folder
            .and_then(|f| f.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

impl fmt::Display for LessonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// The closest of `options` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, options: &[&'a str]) -> Option<&'a str> {
    options
        .iter()
        .map(|option| (edit_distance(word, option), *option))
        .filter(|(distance, option)| *distance <= option.len().max(word.len()) / 3 + 1)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, option)| option)
}

/// Edit distance between two short words, counting a swap of neighbours as one edit
/// (the commonest typo: `fiel` for `file`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_suggestion_and_nonsense_does_not() {
        let options = ["title", "summary", "steps", "minutes"];
        assert_eq!(did_you_mean("titel", &options), Some("title"));
        assert_eq!(did_you_mean("minuts", &options), Some("minutes"));
        assert_eq!(did_you_mean("zebra", &options), None);
        assert_eq!(did_you_mean("fiel", &["fail", "file"]), Some("file"));
    }
}
