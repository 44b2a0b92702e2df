//! A lesson's `files:`: sources inside the lesson's folder (a link out of it is refused, so
//! no host file can reach a learner's sandbox), plain absolute destinations, bounded sizes.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_saphyr::Spanned;

use super::convert::Problems;
use super::limits;

/// The files to copy, `(destination in the sandbox, source here)`, each one checked.
pub(super) fn convert(
    problems: &mut Problems,
    dir: &Path,
    raw: BTreeMap<String, Spanned<String>>,
) -> Vec<(String, PathBuf)> {
    let mut total = 0;
    let mut files = Vec::new();
    for (target, source) in raw {
        let at = source.referenced;
        match convert_file(dir, &target, &source.value) {
            Ok((path, size)) => {
                total += size;
                files.push((target, path));
            }
            Err(message) => problems.at(&at, message),
        }
    }
    if total > limits::MAX_FILES_BYTES {
        problems.at(
            &serde_saphyr::Location::UNKNOWN,
            format!(
                "the lesson's files add up to {total} bytes; at most {} are allowed",
                limits::MAX_FILES_BYTES
            ),
        );
    }
    files
}

/// One file: its real path inside the lesson's folder and its size, or what is wrong.
fn convert_file(dir: &Path, target: &str, source: &str) -> Result<(PathBuf, u64), String> {
    if !target.starts_with('/') || target.ends_with('/') {
        return Err(format!(
            "file target {target:?} must be an absolute path to a file in the sandbox, like \
             /srv/app/config.ini"
        ));
    }
    if Path::new(target)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(format!("file target {target:?} must not contain `..`"));
    }
    if target.contains("{{") || target.contains("{%") {
        return Err(format!(
            "file target {target:?} is a template; file targets are copied as written, \
             so write the path out"
        ));
    }
    let relative = Path::new(source);
    if relative.is_absolute() || relative.components().any(|c| c == Component::ParentDir) {
        return Err(format!(
            "file {source:?} must be inside the lesson's folder"
        ));
    }
    let path = dir.join(relative);
    let missing = || {
        format!(
            "file {source:?} (for {target}) does not exist in {}",
            dir.display()
        )
    };
    let real = path.canonicalize().map_err(|_| missing())?;
    let folder = dir.canonicalize().map_err(|_| missing())?;
    if !real.starts_with(&folder) {
        return Err(format!(
            "file {source:?} (for {target}) is a link to {}, outside the lesson's folder; \
             copy the file into the folder instead",
            real.display()
        ));
    }
    let meta = std::fs::metadata(&real).map_err(|e| format!("cannot read file {source:?}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "file {source:?} (for {target}) is a folder, not a file"
        ));
    }
    if meta.len() > limits::MAX_FILE_BYTES {
        return Err(format!(
            "file {source:?} has {} bytes; a lesson's file may have at most {}",
            meta.len(),
            limits::MAX_FILE_BYTES
        ));
    }
    Ok((real, meta.len()))
}
