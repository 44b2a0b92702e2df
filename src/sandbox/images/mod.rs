//! Lab images: the Debian base (pulled, or made offline with debootstrap) and every image
//! defined under `containers/`, built in dependency order and skipped when up to date.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use crate::config::ImagesConfig;

mod base;
mod context;

use base::build_base;
use context::{context_hash, extra_ca_files, ordered_definitions, tar_context};

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
