//! The sandbox network: a bridge on which containers cannot talk to each other.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::InspectNetworkOptions;

use super::{INSTANCE_LABEL, SandboxError};

/// Docker's bridge option that, set to false, drops traffic between containers on the bridge.
const ICC_OPTION: &str = "com.docker.network.bridge.enable_icc";

/// Creates `name` with inter-container traffic disabled, or checks that the existing network
/// has it disabled (a network made by hand with it enabled would let learners reach each other).
pub async fn ensure(docker: &Docker, name: &str, instance: &str) -> Result<(), SandboxError> {
    match docker
        .inspect_network(name, None::<InspectNetworkOptions>)
        .await
    {
        Ok(existing) => {
            let icc = existing.options.unwrap_or_default().remove(ICC_OPTION);
            if icc.as_deref() == Some("false") {
                Ok(())
            } else {
                Err(SandboxError::Network(format!(
                    "network {name} exists but allows traffic between sandboxes; remove it \
                     (docker network rm {name}) and Pathshala will recreate it safely"
                )))
            }
        }
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {
            let request = NetworkCreateRequest {
                name: name.to_string(),
                driver: Some("bridge".into()),
                options: Some(HashMap::from([(ICC_OPTION.into(), "false".into())])),
                labels: Some(HashMap::from([(INSTANCE_LABEL.into(), instance.into())])),
                ..Default::default()
            };
            match docker.create_network(request).await {
                Ok(_) => Ok(()),
                // Another server instance created it at the same moment.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                }) => Ok(()),
                Err(e) => Err(SandboxError::Network(e.to_string())),
            }
        }
        Err(e) => Err(SandboxError::Network(e.to_string())),
    }
}
