//! A class's record for spreadsheets and scripts: one row per student x lesson x step (the
//! long table), one row per student (the gradebook), as RFC 4180 CSV or as JSON.

use serde::Serialize;

use super::{Classroom, ClassroomError};
use crate::store::{StoredAttempt, student_key};

/// A lesson as the export needs it: id and its steps' keys and titles, in order.
pub struct LessonSteps {
    pub id: String,
    pub steps: Vec<(String, String)>,
}

/// One student x lesson x step.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub student: String,
    pub lesson: String,
    /// 1-based.
    pub step: usize,
    /// `passed`, `attempted` or `not attempted`.
    pub status: &'static str,
    pub attempts: usize,
    /// Unix seconds.
    pub first_pass_at: Option<i64>,
    pub seconds_to_pass: Option<i64>,
    /// The last failed check's message, if the step was ever failed.
    pub last_message: Option<String>,
    pub student_id: String,
    pub step_title: String,
}

/// One student: steps passed per lesson, and when they last did anything.
#[derive(Debug, Clone, Serialize)]
pub struct GradebookRow {
    pub student: String,
    pub student_id: String,
    /// Per lesson of the class, in order: (lesson, passed, total).
    pub lessons: Vec<(String, usize, usize)>,
    /// Unix seconds.
    pub last_activity: i64,
}

impl Classroom {
    /// The long table and the gradebook of a class `instructor` teaches.
    pub async fn export(
        &self,
        instructor: &str,
        class_id: &str,
        lessons: &(dyn Fn(&str) -> LessonSteps + Sync),
    ) -> Result<(Vec<StepRow>, Vec<GradebookRow>), ClassroomError> {
        let class = self.class_of(instructor, class_id).await?;
        let id = class_id.to_string();
        let students = self.store(move |s| s.students(&id)).await?;
        let lessons: Vec<LessonSteps> = class.lessons.iter().map(|l| lessons(l)).collect();
        let (mut rows, mut book) = (Vec::new(), Vec::new());
        for student in students {
            let key = student_key(&student.id);
            let (passes, attempts) = self
                .store(move |s| Ok((s.learner_passes_at(&key)?, s.learner_attempt_rows(&key)?)))
                .await?;
            let mut last_activity = student.joined_at;
            let mut totals = Vec::new();
            for lesson in &lessons {
                let mut passed_here = 0;
                for (number, (step_key, title)) in (1..).zip(&lesson.steps) {
                    let tries: Vec<&StoredAttempt> = attempts
                        .iter()
                        .filter(|a| a.lesson == lesson.id && a.step_key == *step_key)
                        .collect();
                    let first_pass = passes
                        .iter()
                        .find(|(l, k, _)| *l == lesson.id && k == step_key)
                        .map(|(_, _, at)| *at);
                    let first_try = tries.iter().map(|a| a.at).min();
                    last_activity = tries.iter().map(|a| a.at).fold(last_activity, i64::max);
                    passed_here += usize::from(first_pass.is_some());
                    rows.push(StepRow {
                        student: student.name.clone(),
                        lesson: lesson.id.clone(),
                        step: number,
                        status: match (first_pass, tries.is_empty()) {
                            (Some(_), _) => "passed",
                            (None, false) => "attempted",
                            (None, true) => "not attempted",
                        },
                        attempts: tries.len(),
                        first_pass_at: first_pass,
                        seconds_to_pass: first_pass.zip(first_try).map(|(p, t)| (p - t).max(0)),
                        last_message: tries
                            .iter()
                            .filter(|a| !a.passed)
                            .max_by_key(|a| a.at)
                            .and_then(|a| a.first_failure()),
                        student_id: student.id.clone(),
                        step_title: title.clone(),
                    });
                }
                totals.push((lesson.id.clone(), passed_here, lesson.steps.len()));
            }
            book.push(GradebookRow {
                student: student.name.clone(),
                student_id: student.id.clone(),
                lessons: totals,
                last_activity,
            });
        }
        Ok((rows, book))
    }
}

/// The long table as CSV.
pub fn steps_csv(rows: &[StepRow]) -> String {
    let mut out = csv_line(&[
        "student",
        "lesson",
        "step",
        "status",
        "attempts",
        "first_pass_at",
        "seconds_to_pass",
        "last_message",
        "student_id",
        "step_title",
    ]);
    for row in rows {
        out.push_str(&csv_line(&[
            &row.student,
            &row.lesson,
            &row.step.to_string(),
            row.status,
            &row.attempts.to_string(),
            &row.first_pass_at.map(iso8601).unwrap_or_default(),
            &row.seconds_to_pass
                .map(|s| s.to_string())
                .unwrap_or_default(),
            row.last_message.as_deref().unwrap_or(""),
            &row.student_id,
            &row.step_title,
        ]));
    }
    out
}

/// The gradebook as CSV: a column per lesson (`passed/total`), then the last activity.
pub fn gradebook_csv(lessons: &[String], rows: &[GradebookRow]) -> String {
    let mut header = vec!["student".to_string()];
    header.extend(lessons.iter().cloned());
    header.extend(["last_activity".to_string(), "student_id".to_string()]);
    let mut out = csv_line(&header.iter().map(String::as_str).collect::<Vec<_>>());
    for row in rows {
        let mut cells = vec![row.student.clone()];
        cells.extend(row.lessons.iter().map(|(_, p, t)| format!("{p}/{t}")));
        cells.extend([iso8601(row.last_activity), row.student_id.clone()]);
        out.push_str(&csv_line(
            &cells.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
    }
    out
}

/// One CSV record (RFC 4180): fields with a comma, quote or line break are quoted, quotes
/// doubled; lines end in CRLF. A field a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@` first) gets a leading `'`, so a student's name cannot be a formula.
fn csv_line(fields: &[&str]) -> String {
    let cells: Vec<String> = fields
        .iter()
        .map(|field| {
            let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{field}")
            } else {
                field.to_string()
            };
            if field.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field
            }
        })
        .collect();
    format!("{}\r\n", cells.join(","))
}

/// Unix seconds as `2026-12-02T17:03:10Z`.
pub fn iso8601(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_line(&["a", "b c"]), "a,b c\r\n");
        assert_eq!(
            csv_line(&["Rai, Sita", "say \"hi\"", "two\nlines"]),
            "\"Rai, Sita\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(csv_line(&["=1+1"]), "'=1+1\r\n");
    }

    #[test]
    fn dates_are_utc_iso_8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_796_232_190), "2026-12-02T17:23:10Z");
    }
}
