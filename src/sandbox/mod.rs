//! Sandboxes: one hardened Docker container per learner session. The only module that talks
//! to the Docker Engine API (through bollard).

mod error;
mod exec;
pub mod hardening;
pub mod images;
mod network;
mod shell;

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder,
};

use crate::config::SandboxConfig;

pub use error::SandboxError;
pub use exec::Finished;
pub use shell::{Shell, ShellOutput};

/// Label carrying the session a container belongs to.
pub const SESSION_LABEL: &str = "pathshala.session";
/// Label carrying the name of the server instance that owns a container.
pub const INSTANCE_LABEL: &str = "pathshala.instance";
/// Label carrying the id of the server (its database) that made a container.
pub const SERVER_LABEL: &str = "pathshala.server";
/// Seconds a restarting sandbox's processes get to stop before they are killed.
const RESTART_STOP_SECS: i32 = 3;
/// Hostname the learner sees in their prompt.
const HOSTNAME: &str = "lab";

/// A container this server created, as found on the engine.
#[derive(Debug, Clone)]
pub struct FoundSandbox {
    pub container_id: String,
    pub session_id: Option<String>,
    /// The server that made it (`None` for containers made before servers had ids).
    pub server_id: Option<String>,
    pub running: bool,
    /// The container's name, without Docker's leading `/`.
    pub name: String,
}

/// The sandbox runtime: a Docker client plus the limits every container gets.
#[derive(Clone)]
pub struct Sandboxes {
    docker: Docker,
    limits: SandboxConfig,
    instance: String,
    /// This server's id, labelled on every sandbox it makes (see [`Sandboxes::for_server`]).
    server_id: Option<String>,
    /// Id of the isolated network every sandbox joins.
    network_id: String,
}

impl Sandboxes {
    /// Connects to the local Docker engine (DOCKER_HOST or the default socket), agrees on an
    /// API version both sides speak, and prepares the isolated sandbox network.
    pub async fn connect(
        docker_host: Option<&str>,
        instance: &str,
        limits: SandboxConfig,
    ) -> Result<Self, SandboxError> {
        let docker = connect_docker(docker_host).await?;
        let network_id = network::ensure(&docker, &limits.network, instance).await?;
        Ok(Self {
            docker,
            limits,
            instance: instance.to_string(),
            server_id: None,
            network_id,
        })
    }

    /// Marks every sandbox made from now on as this server's (its database's id).
    pub fn for_server(mut self, server_id: String) -> Self {
        self.server_id = Some(server_id);
        self
    }

    /// The id given to [`Sandboxes::for_server`].
    pub fn server_id(&self) -> Option<&str> {
        self.server_id.as_deref()
    }

    /// The raw client, for image builds.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    pub fn limits(&self) -> &SandboxConfig {
        &self.limits
    }

    /// Whether the engine answers.
    pub async fn ping(&self) -> Result<(), SandboxError> {
        self.docker
            .ping()
            .await
            .map(|_| ())
            .map_err(SandboxError::Ping)
    }

    /// Creates and starts the container for `session_id`; on failure nothing is left behind.
    pub async fn create(&self, session_id: &str) -> Result<String, SandboxError> {
        self.create_from(session_id, None).await
    }

    /// Like [`Sandboxes::create`], from `image` instead of the configured one (a lesson's).
    pub async fn create_from(
        &self,
        session_id: &str,
        image: Option<&str>,
    ) -> Result<String, SandboxError> {
        let image = image.unwrap_or(&self.limits.image);
        let mut labels = HashMap::from([
            (SESSION_LABEL.to_string(), session_id.to_string()),
            (INSTANCE_LABEL.to_string(), self.instance.clone()),
        ]);
        if let Some(server) = &self.server_id {
            labels.insert(SERVER_LABEL.to_string(), server.clone());
        }
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            hostname: Some(HOSTNAME.into()),
            env: Some(vec!["LANG=C.UTF-8".into()]),
            labels: Some(labels),
            host_config: Some(hardening::host_config(&self.limits, &self.network_id)),
            ..Default::default()
        };
        let name = format!("pathshala-{}-{}", self.instance, session_id);
        let started = std::time::Instant::now();
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = match self.docker.create_container(Some(options), body).await {
            Ok(created) => created,
            // A 404 may mean a missing image or a missing network; say which.
            Err(e) if is_not_found(&e) && self.image_missing(image).await => {
                return Err(SandboxError::ImageMissing {
                    image: image.to_string(),
                });
            }
            Err(e) => return Err(SandboxError::Create(e)),
        };
        let create_time = started.elapsed();
        if let Err(e) = self.docker.start_container(&created.id, None).await {
            // Best effort: the start error is the one worth reporting.
            let _ = self.remove(&created.id).await;
            return Err(SandboxError::Start(e));
        }
        tracing::debug!(
            session = session_id,
            ?create_time,
            start_time = ?(started.elapsed() - create_time),
            "sandbox started"
        );
        Ok(created.id)
    }

    /// True only when the engine answers that the sandbox image does not exist.
    async fn image_missing(&self, image: &str) -> bool {
        matches!(self.docker.inspect_image(image).await, Err(e) if is_not_found(&e))
    }

    /// Restarts the container like a reboot: services get SIGTERM, then everything starts
    /// again from the image's command (enabled services come back), files are kept.
    pub async fn restart(&self, container_id: &str) -> Result<(), SandboxError> {
        let options = bollard::query_parameters::RestartContainerOptionsBuilder::default()
            .t(RESTART_STOP_SECS)
            .build();
        self.docker
            .restart_container(container_id, Some(options))
            .await
            .map_err(SandboxError::Restart)
    }

    /// Force-removes a container and its anonymous volumes; a container already gone is fine.
    pub async fn remove(&self, container_id: &str) -> Result<(), SandboxError> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self
            .docker
            .remove_container(container_id, Some(options))
            .await
        {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(source) => Err(SandboxError::Remove {
                id: container_id.to_string(),
                source,
            }),
        }
    }

    /// Gives the container a new name (a kept lesson-CI sandbox, named for its lesson).
    pub async fn rename(&self, container_id: &str, name: &str) -> Result<(), SandboxError> {
        let options = bollard::query_parameters::RenameContainerOptionsBuilder::default()
            .name(name)
            .build();
        self.docker
            .rename_container(container_id, options)
            .await
            .map_err(|source| SandboxError::Rename {
                id: container_id.to_string(),
                source,
            })
    }

    /// Every container labelled with this server's instance name, running or not.
    pub async fn list(&self) -> Result<Vec<FoundSandbox>, SandboxError> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{INSTANCE_LABEL}={}", self.instance)],
        )]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(SandboxError::List)?;
        Ok(containers
            .into_iter()
            .filter_map(|c| {
                let mut labels = c.labels.unwrap_or_default();
                Some(FoundSandbox {
                    container_id: c.id?,
                    session_id: labels.remove(SESSION_LABEL),
                    server_id: labels.remove(SERVER_LABEL),
                    running: c.state.map(|s| s.to_string()) == Some("running".into()),
                    name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .map(|n| n.trim_start_matches('/').to_string())
                        .unwrap_or_default(),
                })
            })
            .collect())
    }

    /// The container's address on the sandbox network (for previews of its ports).
    pub async fn address(
        &self,
        container_id: &str,
    ) -> Result<Option<std::net::IpAddr>, SandboxError> {
        let info = self
            .docker
            .inspect_container(container_id, None::<InspectContainerOptions>)
            .await
            .map_err(|source| SandboxError::Inspect {
                id: container_id.to_string(),
                source,
            })?;
        Ok(info
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|mut n| n.remove(&self.limits.network))
            .and_then(|endpoint| endpoint.ip_address)
            .and_then(|ip| ip.parse().ok()))
    }

    /// Whether the container exists and is running.
    pub async fn is_running(&self, container_id: &str) -> Result<bool, SandboxError> {
        match self
            .docker
            .inspect_container(container_id, None::<InspectContainerOptions>)
            .await
        {
            Ok(info) => Ok(info.state.and_then(|s| s.running).unwrap_or(false)),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(source) => Err(SandboxError::Inspect {
                id: container_id.to_string(),
                source,
            }),
        }
    }

    /// Starts the learner's login shell in the container, on a terminal of the given size.
    pub async fn start_shell(
        &self,
        container_id: &str,
        cols: u16,
        rows: u16,
    ) -> Result<Shell, SandboxError> {
        shell::start(
            &self.docker,
            container_id,
            &self.limits.shell_user,
            cols,
            rows,
        )
        .await
    }

    /// Runs `argv` (no shell involved) as `user` in the container, feeding it `stdin`, and
    /// waits for it to finish, at most `timeout`.
    pub async fn run(
        &self,
        container_id: &str,
        argv: &[&str],
        user: &str,
        stdin: &[u8],
        timeout: std::time::Duration,
    ) -> Result<Finished, SandboxError> {
        exec::run(&self.docker, container_id, argv, user, stdin, timeout).await
    }

    /// Copies files into the container: `(absolute path, contents)`, owned by root, mode
    /// 0644, parent folders made as needed.
    pub async fn put_files(
        &self,
        container_id: &str,
        files: &[(String, Vec<u8>)],
    ) -> Result<(), SandboxError> {
        if files.is_empty() {
            return Ok(());
        }
        let mut archive = tar::Builder::new(Vec::new());
        for (path, contents) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_cksum();
            archive
                .append_data(
                    &mut header,
                    path.trim_start_matches('/'),
                    contents.as_slice(),
                )
                .map_err(|e| SandboxError::Upload(e.to_string()))?;
        }
        let bytes = archive
            .into_inner()
            .map_err(|e| SandboxError::Upload(e.to_string()))?;
        let options = bollard::query_parameters::UploadToContainerOptionsBuilder::default()
            .path("/")
            .build();
        self.docker
            .upload_to_container(
                container_id,
                Some(options),
                bollard::body_full(bytes.into()),
            )
            .await
            .map_err(|e| SandboxError::Upload(e.to_string()))
    }

    /// Waits (at most 30 s) until the sandbox's service manager has started the enabled
    /// services; returns at once in images without one.
    pub async fn wait_for_boot(&self, container_id: &str) -> Result<(), SandboxError> {
        let script = "command -v systemctl >/dev/null || exit 0; \
            for i in $(seq 120); do systemctl is-system-running >/dev/null 2>&1 && exit 0; \
            sleep 0.25; done";
        let timeout = std::time::Duration::from_secs(40);
        self.run(container_id, &["sh", "-c", script], "root", b"", timeout)
            .await
            .map(|_| ())
    }

    /// Tells the shell's terminal its new size.
    pub async fn resize_shell(
        &self,
        exec_id: &str,
        cols: u16,
        rows: u16,
    ) -> Result<(), SandboxError> {
        shell::resize(&self.docker, exec_id, cols, rows).await
    }
}

fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Connects to `host` (or the engine named by DOCKER_HOST, or the local socket) and
/// negotiates the API version, so older engines (API 1.41) work.
pub async fn connect_docker(host: Option<&str>) -> Result<Docker, SandboxError> {
    let docker = match host {
        Some(host) => Docker::connect_with_host(host),
        None => Docker::connect_with_defaults(),
    }
    .map_err(SandboxError::Connect)?;
    docker
        .negotiate_version()
        .await
        .map_err(SandboxError::Connect)
}
