//! The Debian base image: pulled from a registry, or made offline with debootstrap and
//! imported.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::{StreamExt, TryStreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{BASE_REPOSITORY, ImageError, PULL_TIMEOUT, base_tag};
use crate::config::ImagesConfig;

pub(super) async fn build_base(
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
