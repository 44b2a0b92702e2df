//! The secure defaults every sandbox container gets, in one place.

use std::collections::HashMap;

use bollard::models::{HostConfig, HostConfigLogConfig, ResourcesUlimits};

use crate::config::SandboxConfig;

/// Capabilities added back after dropping them all, each with the reason a lesson needs it.
/// Anything not listed (NET_RAW, NET_ADMIN, SYS_ADMIN, MKNOD, SYS_PTRACE, ...) stays dropped.
pub const ADDED_CAPABILITIES: [(&str, &str); 9] = [
    (
        "CHOWN",
        "apt/dpkg set file owners when unpacking; `chown` in lessons",
    ),
    (
        "DAC_OVERRIDE",
        "root reads and writes files whatever their mode, as apt and editors expect",
    ),
    (
        "FOWNER",
        "root changes mode and times of files it does not own (dpkg, tar, chmod)",
    ),
    (
        "FSETID",
        "setuid/setgid bits survive when root writes a file (dpkg installing sudo)",
    ),
    (
        "SETUID",
        "sudo and su; services dropping to their own user (nginx workers, cron)",
    ),
    ("SETGID", "the same for groups"),
    (
        "KILL",
        "root stops other users' processes (kill, systemctl stop)",
    ),
    (
        "NET_BIND_SERVICE",
        "nginx and other servers listen on ports 80 and 443",
    ),
    (
        "AUDIT_WRITE",
        "sudo and su write a PAM audit record and fail without it",
    ),
];

/// Lets unprivileged `ping` use ICMP datagram sockets, so NET_RAW (which would allow
/// spoofing packets at neighbours) is not needed.
const PING_GROUP_RANGE: (&str, &str) = ("net.ipv4.ping_group_range", "0 2147483647");

/// A sandbox's processes are the kernel's first choice when memory runs out, not the server's.
const OOM_SCORE_ADJ: i64 = 500;

const MIB: i64 = 1024 * 1024;

/// The host configuration of every sandbox: never privileged, no mounts of any kind (so no
/// Docker socket), all capabilities dropped but [`ADDED_CAPABILITIES`], and limits on memory,
/// swap, CPU, processes, open files and file size.
pub fn host_config(limits: &SandboxConfig, network_id: &str) -> HostConfig {
    let memory = limits.memory_mb as i64 * MIB;
    HostConfig {
        privileged: Some(false),
        binds: Some(Vec::new()),
        mounts: Some(Vec::new()),
        devices: Some(Vec::new()),
        cap_drop: Some(vec!["ALL".into()]),
        cap_add: Some(
            ADDED_CAPABILITIES
                .iter()
                .map(|(c, _)| c.to_string())
                .collect(),
        ),
        memory: Some(memory),
        memory_swap: Some(memory),
        nano_cpus: Some((limits.cpus * 1e9) as i64),
        pids_limit: Some(limits.pids),
        ulimits: Some(vec![
            ulimit("nofile", 4096),
            ulimit("fsize", limits.max_file_mb as i64 * MIB),
        ]),
        oom_score_adj: Some(OOM_SCORE_ADJ),
        init: Some(true),
        network_mode: Some(network_id.to_string()),
        publish_all_ports: Some(false),
        sysctls: Some(HashMap::from([(
            PING_GROUP_RANGE.0.to_string(),
            PING_GROUP_RANGE.1.to_string(),
        )])),
        log_config: Some(HostConfigLogConfig {
            typ: Some("json-file".into()),
            config: Some(HashMap::from([("max-size".into(), "1m".into())])),
        }),
        ..Default::default()
    }
}

fn ulimit(name: &str, value: i64) -> ResourcesUlimits {
    ResourcesUlimits {
        name: Some(name.into()),
        soft: Some(value),
        hard: Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_dangerous_is_added_back() {
        let config = host_config(&SandboxConfig::default(), "net");
        let added = config.cap_add.unwrap();
        for dangerous in [
            "SYS_ADMIN",
            "NET_ADMIN",
            "NET_RAW",
            "SYS_PTRACE",
            "MKNOD",
            "SYS_MODULE",
        ] {
            assert!(
                !added.iter().any(|c| c == dangerous),
                "{dangerous} must stay dropped"
            );
        }
        assert_eq!(config.cap_drop.unwrap(), vec!["ALL".to_string()]);
        assert_eq!(config.privileged, Some(false));
    }

    #[test]
    fn limits_follow_the_config() {
        let limits = SandboxConfig {
            memory_mb: 256,
            cpus: 0.5,
            pids: 64,
            ..SandboxConfig::default()
        };
        let config = host_config(&limits, "net");
        assert_eq!(config.memory, Some(256 * MIB));
        assert_eq!(config.memory_swap, Some(256 * MIB));
        assert_eq!(config.nano_cpus, Some(500_000_000));
        assert_eq!(config.pids_limit, Some(64));
    }
}
