//! Every size a lesson may have, in one place (the README lists them). A lesson past one of
//! them does not load: a lesson must never be able to hurt the server or its learners.

/// Bytes of `lesson.yaml`.
pub const MAX_LESSON_FILE_BYTES: u64 = 512 * 1024;
/// Characters of a lesson's or a step's title, and of a check's name.
pub const MAX_TITLE_CHARS: usize = 120;
/// Characters of a lesson's summary.
pub const MAX_SUMMARY_CHARS: usize = 600;
/// Characters of a step's body, a hint, a setup script or a solution.
pub const MAX_TEXT_CHARS: usize = 30_000;
/// Steps in a lesson.
pub const MAX_STEPS: usize = 40;
/// Checks in a step.
pub const MAX_CHECKS: usize = 30;
/// Hints in a step.
pub const MAX_HINTS: usize = 10;
/// Vars in a lesson.
pub const MAX_VARS: usize = 50;
/// Words a `pick` var chooses from.
pub const MAX_PICK_WORDS: usize = 50;
/// Characters a var's value may render to.
pub const MAX_VAR_CHARS: usize = 1024;
/// Characters any rendered text may have.
pub const MAX_RENDERED_CHARS: usize = 100_000;
/// Bytes of one file in `files:`.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Bytes of all of a lesson's files together.
pub const MAX_FILES_BYTES: u64 = 16 * 1024 * 1024;
/// Seconds a check may be given (`timeout`); a step's checks together get at most
/// `check::MAX_RUN`.
pub const MAX_CHECK_TIMEOUT_SECS: u64 = 120;
/// Minutes a lesson may say it takes.
pub const MAX_MINUTES: u32 = 600;
/// Template instructions one text may execute (loops included).
pub const TEMPLATE_FUEL: u64 = 50_000;
/// How deeply template blocks may nest.
pub const TEMPLATE_NESTING: usize = 30;
