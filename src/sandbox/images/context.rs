//! Image definitions (`containers/*/Dockerfile`): their build order, their build context
//! (with the extra CA certificates) and its content hash.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{BASE_REPOSITORY, ImageDefinition, ImageError};

/// Finds `containers/*/Dockerfile` and orders them so that an image comes after the local
/// images (`FROM pathshala/<name>`) it is built from.
pub(super) fn ordered_definitions(dir: &Path) -> Result<Vec<ImageDefinition>, ImageError> {
    let read_err = |source| ImageError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut pending = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        let dockerfile = path.join("Dockerfile");
        if !dockerfile.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&dockerfile).map_err(read_err)?;
        let parents = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("FROM "))
            .filter_map(|from| from.split_whitespace().next())
            .filter(|image| image.starts_with("pathshala/") && !image.starts_with(BASE_REPOSITORY))
            .map(str::to_string)
            .collect();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        pending.push(ImageDefinition {
            name,
            dir: path,
            parents,
        });
    }
    pending.sort_by(|a, b| a.name.cmp(&b.name));
    let mut ordered: Vec<ImageDefinition> = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|d| {
            d.parents
                .iter()
                .all(|p| ordered.iter().any(|o| &o.tag() == p))
        });
        match ready {
            Some(i) => ordered.push(pending.remove(i)),
            // A cycle or a parent with no definition: build the rest as they come and let
            // the engine report the missing image.
            None => ordered.append(&mut pending),
        }
    }
    Ok(ordered)
}

/// Hash of every file in the build context (names and contents), the extra CA
/// certificates, and the base image id.
pub(super) fn context_hash(
    dir: &Path,
    extra_ca: &[PathBuf],
    base_id: &str,
) -> Result<String, ImageError> {
    let mut hasher = Sha256::new();
    hasher.update(base_id.as_bytes());
    for path in files_under(dir)?
        .into_iter()
        .chain(extra_ca.iter().cloned())
    {
        hasher.update(
            path.strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .as_bytes(),
        );
        hasher.update([0]);
        hasher.update(std::fs::read(&path)?);
        hasher.update([0]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Folder of the build context that holds the extra CA certificates (always present, so a
/// Dockerfile can `COPY` it even when there are none).
const EXTRA_CA_DIR: &str = "extra-ca";

pub(super) fn tar_context(dir: &Path, extra_ca: &[PathBuf]) -> Result<Vec<u8>, ImageError> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir)?;
    builder.append_dir(EXTRA_CA_DIR, dir)?;
    for (i, cert) in extra_ca.iter().enumerate() {
        let name = cert.file_stem().unwrap_or_default().to_string_lossy();
        let mut file = std::fs::File::open(cert)?;
        builder.append_file(format!("{EXTRA_CA_DIR}/{i:02}-{name}.crt"), &mut file)?;
    }
    Ok(builder.into_inner()?)
}

/// The `.crt` files named by the config, folders expanded; missing folders are skipped.
pub(super) fn extra_ca_files(
    configured: &[PathBuf],
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Vec<PathBuf>, ImageError> {
    let mut files = Vec::new();
    for path in configured {
        if path.is_dir() {
            files.extend(
                files_under(path)?
                    .into_iter()
                    .filter(|f| f.extension().is_some_and(|e| e == "crt" || e == "pem")),
            );
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            progress(&format!(
                "extra CA certificates: {} not found, skipped",
                path.display()
            ));
        }
    }
    for file in &files {
        progress(&format!("trusting extra CA certificate {}", file.display()));
    }
    Ok(files)
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_come_after_the_local_images_they_are_built_from() {
        let dir = std::env::temp_dir().join(format!("pathshala-images-{}", uuid::Uuid::new_v4()));
        for (name, from) in [
            ("aaa", "FROM pathshala/lab:latest"),
            ("lab", "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}"),
        ] {
            std::fs::create_dir_all(dir.join(name)).unwrap();
            std::fs::write(dir.join(name).join("Dockerfile"), from).unwrap();
        }
        let order: Vec<_> = ordered_definitions(&dir)
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(order, vec!["lab", "aaa"]);
    }

    #[test]
    fn the_context_hash_changes_with_any_file() {
        let dir = std::env::temp_dir().join(format!("pathshala-hash-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Dockerfile"), "FROM x").unwrap();
        let before = context_hash(&dir, &[], "base").unwrap();
        std::fs::write(dir.join("motd"), "hello").unwrap();
        let after = context_hash(&dir, &[], "base").unwrap();
        assert_ne!(before, after);
        assert_ne!(after, context_hash(&dir, &[], "other-base").unwrap());
        let ca = dir.join("motd");
        assert_ne!(after, context_hash(&dir, &[ca], "base").unwrap());
    }
}
