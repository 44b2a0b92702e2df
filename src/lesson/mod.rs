//! Lessons: folders under `lessons/` holding a `lesson.yaml`, loaded into validated types.
//! Every problem is reported with file:line:column; a broken lesson never stops the others.

mod catalog;
mod convert;
mod error;
mod fields;
mod files;
mod keys;
pub mod limits;
pub mod markdown;
mod raw;
mod regex;
pub mod render;
pub mod run;
mod samples;
mod steps;
pub mod template;
mod tolerant;
pub mod trial;
mod yaml;

use std::path::{Path, PathBuf};

pub use catalog::{Catalog, SharedCatalog};
pub use error::LessonError;

use crate::check::CheckSpec;

/// The file every lesson folder holds.
pub const LESSON_FILE: &str = "lesson.yaml";

/// A validated lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// The folder name.
    pub id: String,
    pub dir: PathBuf,
    pub title: String,
    pub summary: String,
    pub track: String,
    pub level: Level,
    pub minutes: u32,
    /// Position in its track (`None`: after the numbered ones).
    pub order: Option<u32>,
    /// The image its sandboxes start from; `None` means the server's default.
    pub image: Option<ImageRef>,
    /// Per-learner values, in the order they are defined (later ones may use earlier ones).
    pub vars: Vec<(String, Var)>,
    /// Files copied into the sandbox before setup: (absolute path there, file here).
    pub files: Vec<(String, PathBuf)>,
    /// Script run as root before the learner gets the shell.
    pub setup: Option<String>,
    pub steps: Vec<Step>,
}

/// An image name and where the lesson file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub name: String,
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    pub const NAMES: [&'static str; 3] = ["beginner", "intermediate", "advanced"];

    fn parse(text: &str) -> Option<Self> {
        match text {
            "beginner" => Some(Self::Beginner),
            "intermediate" => Some(Self::Intermediate),
            "advanced" => Some(Self::Advanced),
            _ => None,
        }
    }
}

/// How a per-learner value is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    RandomPort { low: u16, high: u16 },
    Pick(Vec<String>),
    RandomPassword(usize),
    Value(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The step's identity, which progress is recorded under: its `id`, or its title made
    /// into a slug. Moving or inserting steps keeps learners' progress where it belongs.
    pub key: String,
    pub title: String,
    /// Markdown, a template over the lesson's vars.
    pub body: String,
    /// Checks re-run by themselves every few seconds.
    pub watch: bool,
    pub hints: Vec<String>,
    pub solution: Option<String>,
    /// Ports inside the sandbox to open in the browser (numbers or templates).
    pub preview: Vec<crate::check::PortNumber>,
    pub checks: Vec<CheckSpec>,
}

/// Loads the lesson in `dir` (its id is the folder name).
pub fn load(dir: &Path) -> Result<Lesson, Vec<LessonError>> {
    let file = dir.join(LESSON_FILE);
    let text = read_lesson_file(dir, &file).map_err(|message| {
        vec![LessonError {
            file: file.clone(),
            line: 0,
            column: 0,
            message,
        }]
    })?;
    let id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    convert::parse(&id, dir, &file, &text)
}

/// The text of a lesson file, or what keeps it from being one (a folder, a dangling
/// link, a misnamed file, too large, not UTF-8, unreadable).
fn read_lesson_file(dir: &Path, file: &Path) -> Result<String, String> {
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(_) if file.is_symlink() => {
            let target = std::fs::read_link(file).unwrap_or_default();
            return Err(format!(
                "{LESSON_FILE} is a link to {}, which does not exist",
                target.display()
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(missing_lesson_file(dir));
        }
        Err(e) => return Err(format!("cannot read the lesson: {e}")),
    };
    if meta.is_dir() {
        return Err(format!("{LESSON_FILE} is a folder; it must be a file"));
    }
    if meta.len() > limits::MAX_LESSON_FILE_BYTES {
        return Err(format!(
            "{LESSON_FILE} has {} bytes; a lesson file may have at most {}",
            meta.len(),
            limits::MAX_LESSON_FILE_BYTES
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read the lesson: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{LESSON_FILE} is not UTF-8 text (byte {} is not); save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Why a folder has no lesson file, naming a look-alike when there is one.
fn missing_lesson_file(dir: &Path) -> String {
    let look_alike = std::fs::read_dir(dir).ok().and_then(|entries| {
        entries.filter_map(Result::ok).find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let lower = name.to_lowercase();
            (lower.ends_with(".yaml") || lower.ends_with(".yml")).then_some(name)
        })
    });
    match look_alike {
        Some(name) => format!(
            "this folder has no {LESSON_FILE}, but it has {name}; rename it to {LESSON_FILE}"
        ),
        None => format!("this folder is not a lesson: a lesson folder holds a {LESSON_FILE}"),
    }
}

/// Files a lessons folder may hold beside its lesson folders.
const NOT_LESSONS: [&str; 2] = ["lesson.schema.json", "README.md"];

/// Loads every lesson folder under `root`, in id order: the good ones, and every problem
/// of the broken ones. Every entry that is not a loadable lesson is reported.
pub fn load_all(root: &Path) -> (Vec<Lesson>, Vec<LessonError>) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(root) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => {
            let error = LessonError {
                file: root.to_path_buf(),
                line: 0,
                column: 0,
                message: format!("cannot read the lessons folder: {e}"),
            };
            return (Vec::new(), vec![error]);
        }
    };
    entries.sort();
    let mut lessons = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || NOT_LESSONS.contains(&name.as_str()) {
            continue;
        }
        if !entry.is_dir() {
            errors.push(LessonError {
                file: entry.clone(),
                line: 0,
                column: 0,
                message: "not a lesson: a lesson is a folder holding a lesson.yaml".into(),
            });
            continue;
        }
        match load(&entry) {
            Ok(lesson) => lessons.push(lesson),
            Err(mut found) => errors.append(&mut found),
        }
    }
    (lessons, errors)
}

impl Lesson {
    /// The lesson's files with their contents, ready to copy into a sandbox.
    pub fn read_files(&self) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        self.files
            .iter()
            .map(|(target, source)| Ok((target.clone(), std::fs::read(source)?)))
            .collect()
    }
}

/// The JSON Schema of `lesson.yaml`, for editors' autocompletion and checking.
pub fn schema() -> String {
    let mut schema = schemars::schema_for!(raw::RawLesson);
    schema.insert("title".into(), "Pathshala lesson (lesson.yaml)".into());
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// A fingerprint of every file under `root` (names, sizes, modification times): it
/// changes when an author saves a lesson.
pub fn fingerprint(root: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut stack = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) => files.push((path, m.len(), m.modified().ok())),
                Err(_) => {}
            }
        }
    }
    files.sort();
    files.hash(&mut hasher);
    hasher.finish()
}

/// Errors for lessons naming an image in `missing` (images the engine does not have).
pub fn missing_images(
    lessons: &[Lesson],
    missing: &std::collections::BTreeSet<String>,
) -> Vec<LessonError> {
    lessons
        .iter()
        .filter_map(|lesson| {
            let image = lesson.image.as_ref()?;
            missing.contains(&image.name).then(|| LessonError {
                file: lesson.dir.join(LESSON_FILE),
                line: image.line,
                column: image.column,
                message: format!(
                    "image {:?} does not exist on this Docker engine; build it \
                     (pathshala images build) or fix the name",
                    image.name
                ),
            })
        })
        .collect()
}
