//! Lab images: the Debian base (pulled, or made offline with debootstrap) and every image
//! defined under `containers/`, built in dependency order and skipped when up to date.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{BuildImageOptionsBuilder, CreateImageOptionsBuilder};
use futures_util::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::config::ImagesConfig;

/// Repository of the base image every lab image starts `FROM`.
pub const BASE_REPOSITORY: &str = "pathshala/base";
/// The image a sandbox starts from unless configured otherwise.
pub const LAB_IMAGE: &str = "pathshala/lab:latest";
/// Label holding the hash of the build context an image was built from.
const CONTEXT_HASH_LABEL: &str = "pathshala.context-hash";
/// How long to wait for a registry before falling back to debootstrap.
const PULL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read image definitions in {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no registry answered and debootstrap is not available to build the Debian base \
         offline; install it (apt-get install debootstrap) and run as root"
    )]
    NoBaseSource,
    #[error("debootstrap failed ({status}); its output above says why")]
    Debootstrap { status: String },
    #[error("importing the base image failed: {0}")]
    Import(String),
    #[error("building image {image} failed: {message}")]
    Build { image: String, message: String },
    #[error("the Docker engine refused: {0}")]
    Docker(#[from] bollard::errors::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One image defined by a folder `containers/<name>/` holding a Dockerfile.
#[derive(Debug, Clone)]
struct ImageDefinition {
    name: String,
    dir: PathBuf,
    /// Local images (by tag) this one is built `FROM`.
    parents: Vec<String>,
}

impl ImageDefinition {
    fn tag(&self) -> String {
        format!("pathshala/{}:latest", self.name)
    }
}

/// Builds what is missing or out of date: the base first, then each `containers/*/Dockerfile`
/// after the images it is built from. `force` rebuilds even up-to-date images.
pub async fn build_all(
    docker: &Docker,
    config: &ImagesConfig,
    offline: bool,
    force: bool,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), ImageError> {
    let base = base_tag(config);
    if force || !exists(docker, &base).await? {
        build_base(docker, config, offline, progress).await?;
    } else {
        progress(&format!("{base}: up to date"));
    }
    let extra_ca = extra_ca_files(&config.extra_ca_certificates, progress)?;
    for definition in ordered_definitions(&config.dir)? {
        let tag = definition.tag();
        let hash = context_hash(&definition.dir, &extra_ca, &image_id(docker, &base).await?)?;
        if !force && label(docker, &tag, CONTEXT_HASH_LABEL).await?.as_deref() == Some(&hash) {
            progress(&format!("{tag}: up to date"));
            continue;
        }
        progress(&format!(
            "{tag}: building from {}",
            definition.dir.display()
        ));
        build_one(docker, config, &definition, &extra_ca, &hash, progress).await?;
        progress(&format!("{tag}: built"));
    }
    Ok(())
}

/// Builds the images if `image` is missing; used by `pathshala serve` on first start.
pub async fn ensure(
    docker: &Docker,
    config: &ImagesConfig,
    image: &str,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), ImageError> {
    if exists(docker, image).await? {
        return Ok(());
    }
    progress(&format!(
        "{image} is missing: building images (first run only, a few minutes)"
    ));
    build_all(docker, config, false, false, progress).await
}

/// Which of `images` the engine does not have.
pub async fn missing(
    docker: &Docker,
    images: impl IntoIterator<Item = String>,
) -> Result<std::collections::BTreeSet<String>, ImageError> {
    let mut missing = std::collections::BTreeSet::new();
    for image in images {
        if !exists(docker, &image).await? {
            missing.insert(image);
        }
    }
    Ok(missing)
}

/// The tag of the Debian base, e.g. `pathshala/base:bookworm`.
pub fn base_tag(config: &ImagesConfig) -> String {
    format!("{BASE_REPOSITORY}:{}", config.suite)
}

async fn exists(docker: &Docker, image: &str) -> Result<bool, ImageError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn image_id(docker: &Docker, image: &str) -> Result<String, ImageError> {
    Ok(docker.inspect_image(image).await?.id.unwrap_or_default())
}

async fn label(docker: &Docker, image: &str, key: &str) -> Result<Option<String>, ImageError> {
    match docker.inspect_image(image).await {
        Ok(info) => Ok(info
            .config
            .and_then(|c| c.labels)
            .and_then(|mut l| l.remove(key))),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn build_base(
    docker: &Docker,
    config: &ImagesConfig,
    offline: bool,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), ImageError> {
    let tag = base_tag(config);
    if !offline {
        progress(&format!(
            "{tag}: trying to pull debian:{}-slim",
            config.suite
        ));
        match tokio::time::timeout(PULL_TIMEOUT, pull_base(docker, config)).await {
            Ok(Ok(())) => {
                progress(&format!("{tag}: pulled"));
                return Ok(());
            }
            Ok(Err(e)) => progress(&format!("{tag}: no registry ({e}); building offline")),
            Err(_) => progress(&format!("{tag}: registry timed out; building offline")),
        }
    }
    debootstrap_base(docker, config, progress).await
}

async fn pull_base(docker: &Docker, config: &ImagesConfig) -> Result<(), ImageError> {
    let options = CreateImageOptionsBuilder::default()
        .from_image("debian")
        .tag(&format!("{}-slim", config.suite))
        .build();
    docker
        .create_image(Some(options), None, None)
        .try_collect::<Vec<_>>()
        .await?;
    let tag_options = bollard::query_parameters::TagImageOptionsBuilder::default()
        .repo(BASE_REPOSITORY)
        .tag(&config.suite)
        .build();
    docker
        .tag_image(&format!("debian:{}-slim", config.suite), Some(tag_options))
        .await?;
    Ok(())
}

/// Makes a minimal Debian root filesystem with debootstrap and imports it as the base image.
async fn debootstrap_base(
    docker: &Docker,
    config: &ImagesConfig,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), ImageError> {
    let debootstrap = which("debootstrap").ok_or(ImageError::NoBaseSource)?;
    let rootfs = std::env::temp_dir().join(format!("pathshala-rootfs-{}", uuid::Uuid::new_v4()));
    let result = async {
        progress(&format!(
            "debootstrap {} from {} (about a minute)",
            config.suite, config.debian_mirror
        ));
        let mut child = tokio::process::Command::new(debootstrap)
            .args(["--variant=minbase", &config.suite])
            .arg(&rootfs)
            .arg(&config.debian_mirror)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines =
            futures_util::stream::select(lines_of(stdout).boxed(), lines_of(stderr).boxed());
        while let Some(line) = lines.next().await {
            progress(&format!("  {line}"));
        }
        let status = child.wait().await?;
        if !status.success() {
            return Err(ImageError::Debootstrap {
                status: status.to_string(),
            });
        }
        progress(&format!(
            "importing root filesystem as {}",
            base_tag(config)
        ));
        import_rootfs(docker, config, &rootfs).await
    }
    .await;
    // Cleanup failure only wastes temp space; the build result is what matters.
    let _ = tokio::fs::remove_dir_all(&rootfs).await;
    result
}

/// Streams `tar -c` of the root filesystem straight into the engine's image import.
async fn import_rootfs(
    docker: &Docker,
    config: &ImagesConfig,
    rootfs: &Path,
) -> Result<(), ImageError> {
    let mut tar = tokio::process::Command::new("tar")
        .args(["--numeric-owner", "-C"])
        .arg(rootfs)
        .args(["-cf", "-", "."])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = tar.stdout.take().expect("stdout is piped");
    let body = chunks_of(stdout);
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(BASE_REPOSITORY)
        .tag(&config.suite)
        .changes(vec![
            "ENV LANG=C.UTF-8".to_string(),
            "CMD [\"/bin/bash\"]".to_string(),
        ])
        .build();
    docker
        .create_image(Some(options), Some(bollard::body_try_stream(body)), None)
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| ImageError::Import(e.to_string()))?;
    let status = tar.wait().await?;
    if !status.success() {
        return Err(ImageError::Import(format!("tar {status}")));
    }
    Ok(())
}

async fn build_one(
    docker: &Docker,
    config: &ImagesConfig,
    definition: &ImageDefinition,
    extra_ca: &[PathBuf],
    hash: &str,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), ImageError> {
    let tag = definition.tag();
    let context = tar_context(&definition.dir, extra_ca)?;
    let labels = HashMap::from([(CONTEXT_HASH_LABEL.to_string(), hash.to_string())]);
    let args = HashMap::from([
        ("BASE_IMAGE".to_string(), base_tag(config)),
        ("DEBIAN_MIRROR".to_string(), config.debian_mirror.clone()),
        ("SUITE".to_string(), config.suite.clone()),
    ]);
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&tag)
        .rm(true)
        .forcerm(true)
        .labels(&labels)
        .buildargs(&args)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| ImageError::Build {
            image: tag.clone(),
            message: e.to_string(),
        })?;
        if let Some(detail) = info.error_detail {
            return Err(ImageError::Build {
                image: tag,
                message: detail.message.unwrap_or_default(),
            });
        }
        if let Some(text) = info.stream {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                progress(&format!("  {line}"));
            }
        }
    }
    Ok(())
}

/// Finds `containers/*/Dockerfile` and orders them so that an image comes after the local
/// images (`FROM pathshala/<name>`) it is built from.
fn ordered_definitions(dir: &Path) -> Result<Vec<ImageDefinition>, ImageError> {
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
fn context_hash(dir: &Path, extra_ca: &[PathBuf], base_id: &str) -> Result<String, ImageError> {
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

fn tar_context(dir: &Path, extra_ca: &[PathBuf]) -> Result<Vec<u8>, ImageError> {
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
fn extra_ca_files(
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

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn lines_of(
    reader: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> impl futures_util::Stream<Item = String> + Send {
    futures_util::stream::unfold(BufReader::new(reader).lines(), |mut lines| async move {
        match lines.next_line().await {
            Ok(Some(line)) => Some((line, lines)),
            _ => None,
        }
    })
}

/// Reads `reader` as a stream of 64 KiB chunks.
fn chunks_of(
    reader: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(reader, |mut reader| async move {
        let mut chunk = vec![0; 64 * 1024];
        match reader.read(&mut chunk).await {
            Ok(0) => None,
            Ok(n) => {
                chunk.truncate(n);
                Some((Ok(bytes::Bytes::from(chunk)), reader))
            }
            Err(e) => Some((Err(e), reader)),
        }
    })
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
