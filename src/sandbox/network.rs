//! The sandbox network: a bridge on which containers cannot talk to each other.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{Network, NetworkCreateRequest};
use bollard::query_parameters::ListNetworksOptionsBuilder;

use super::{INSTANCE_LABEL, SandboxError};

/// Docker's bridge option that, set to false, drops traffic between containers on the bridge.
const ICC_OPTION: &str = "com.docker.network.bridge.enable_icc";

/// Finds or creates the network `name` with inter-container traffic disabled and returns its
/// id. The engine allows two networks of one name, so when servers starting together both
/// create it, every one of them keeps the lowest id and removes the others.
pub async fn ensure(docker: &Docker, name: &str, instance: &str) -> Result<String, SandboxError> {
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
    let mut found = found.into_iter();
    let kept = found
        .next()
        .ok_or_else(|| SandboxError::Network(format!("network {name} vanished")))?;
    for duplicate in found {
        if let Some(id) = duplicate.id {
            // Another server may already have removed it, or be using it for a moment.
            let _ = docker.remove_network(&id).await;
        }
    }
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
