//! The sandbox network: a bridge on which containers cannot talk to each other.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{Network, NetworkCreateRequest};
use bollard::query_parameters::ListNetworksOptionsBuilder;

use super::{INSTANCE_LABEL, SandboxError};

/// Docker's bridge option that, set to false, drops traffic between containers on the bridge.
const ICC_OPTION: &str = "com.docker.network.bridge.enable_icc";

/// Serializes network creation within this process (several servers in one test run).
static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Finds or creates the network `name` with inter-container traffic disabled and returns its
/// id. The engine allows two networks of one name; should two server processes create it at
/// the same moment, each uses the one with the lowest id it sees. A duplicate is never
/// removed here: another server may be putting sandboxes on it (both are isolated).
pub async fn ensure(docker: &Docker, name: &str, instance: &str) -> Result<String, SandboxError> {
    let _creating = CREATING.lock().await;
    let mut found = named(docker, name).await?;
    if found.is_empty() {
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            options: Some(HashMap::from([(ICC_OPTION.into(), "false".into())])),
            labels: Some(HashMap::from([(INSTANCE_LABEL.into(), instance.into())])),
            ..Default::default()
        };
        docker
            .create_network(request)
            .await
            .map_err(|e| SandboxError::Network(e.to_string()))?;
        found = named(docker, name).await?;
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let kept = found
        .into_iter()
        .next()
        .ok_or_else(|| SandboxError::Network(format!("network {name} vanished")))?;
    let icc = kept.options.unwrap_or_default().remove(ICC_OPTION);
    if icc.as_deref() != Some("false") {
        return Err(SandboxError::Network(format!(
            "network {name} exists but allows traffic between sandboxes; remove it \
             (docker network rm {name}) and Pathshala will recreate it safely"
        )));
    }
    kept.id
        .ok_or_else(|| SandboxError::Network(format!("network {name} has no id")))
}

/// Networks whose name is exactly `name` (the engine's filter matches substrings).
async fn named(docker: &Docker, name: &str) -> Result<Vec<Network>, SandboxError> {
    let filters = HashMap::from([("name".to_string(), vec![name.to_string()])]);
    let options = ListNetworksOptionsBuilder::default()
        .filters(&filters)
        .build();
    let networks = docker
        .list_networks(Some(options))
        .await
        .map_err(|e| SandboxError::Network(e.to_string()))?;
    Ok(networks
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .collect())
}
