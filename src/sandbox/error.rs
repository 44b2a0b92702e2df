//! What can go wrong with a sandbox, named after the Docker operation that failed.

/// Something the Docker engine refused or could not do, named after the operation.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot connect to the Docker engine: {0}")]
    Connect(#[source] bollard::errors::Error),
    #[error("the Docker engine does not answer: {0}")]
    Ping(#[source] bollard::errors::Error),
    #[error("image {image} is missing: run `pathshala images build`")]
    ImageMissing { image: String },
    #[error("creating the sandbox container failed: {0}")]
    Create(#[source] bollard::errors::Error),
    #[error("starting the sandbox container failed: {0}")]
    Start(#[source] bollard::errors::Error),
    #[error("restarting the sandbox container failed: {0}")]
    Restart(#[source] bollard::errors::Error),
    #[error("removing sandbox container {id} failed: {source}")]
    Remove {
        id: String,
        source: bollard::errors::Error,
    },
    #[error("renaming sandbox container {id} failed: {source}")]
    Rename {
        id: String,
        source: bollard::errors::Error,
    },
    #[error("listing sandbox containers failed: {0}")]
    List(#[source] bollard::errors::Error),
    #[error("inspecting sandbox container {id} failed: {source}")]
    Inspect {
        id: String,
        source: bollard::errors::Error,
    },
    #[error("starting a shell in the sandbox failed: {0}")]
    Exec(#[source] bollard::errors::Error),
    #[error("the engine started the program detached from its input and output")]
    ExecDetached,
    #[error("the program in the sandbox did not finish within {0:?}")]
    ExecTimeout(std::time::Duration),
    #[error("resizing the terminal failed: {0}")]
    Resize(#[source] bollard::errors::Error),
    #[error("copying files into the sandbox failed: {0}")]
    Upload(String),
    #[error("setting up the sandbox network failed: {0}")]
    Network(String),
}
