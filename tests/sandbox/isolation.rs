//! Hardening, proven by attacks: every test here tries something a learner must not be able
//! to do, and checks that it fails while the rest of the system carries on.

use pathshala::sandbox::hardening::ADDED_CAPABILITIES;

use crate::support::TestApp;

#[tokio::test]
async fn the_container_is_created_hardened() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let container = app.container_of(&id).await;
    let info = app.inspect(&container).await;
    let host = info.host_config.unwrap();
    assert_eq!(host.privileged, Some(false));
    assert_eq!(host.cap_drop.unwrap(), vec!["ALL".to_string()]);
    let mut added = host.cap_add.unwrap();
    added.sort();
    let mut expected: Vec<String> = ADDED_CAPABILITIES
        .iter()
        .map(|(c, _)| c.to_string())
        .collect();
    expected.sort();
    assert_eq!(added, expected);
    assert_eq!(host.pids_limit, Some(128));
    assert_eq!(host.memory, Some(256 * 1024 * 1024));
    assert_eq!(
        host.memory_swap, host.memory,
        "swap must not extend the memory limit"
    );
    assert!(host.nano_cpus.unwrap_or(0) > 0, "no CPU limit");
    assert!(host.binds.unwrap_or_default().is_empty());
    assert!(
        info.mounts.unwrap_or_default().is_empty(),
        "the sandbox has mounts"
    );
    let labels = info.config.unwrap().labels.unwrap();
    assert_eq!(labels["pathshala.session"], id);
    assert_eq!(labels["pathshala.instance"], app.config.instance);
    app.cleanup().await;
}

#[tokio::test]
async fn root_in_the_sandbox_cannot_escape_its_limits() {
    let app = TestApp::spawn().await;
    let mut browser = app.client();
    let id = browser.create_session().await;
    let mut t = browser.terminal(&id).await;
    // Root works, but only with the bounded capability set (hex mask of the nine added).
    t.run(
        "sudo grep CapBnd /proc/self/status | tr '\\t' ' '",
        "CapBnd: 00000000200004fb",
    )
    .await;
    t.run(
        "for s in /var/run/docker.sock /run/docker.sock; do test -e $s && echo FOUND-$s; done; echo sock-check-$((1+1))",
        "sock-check-2",
    )
    .await;
    // "FOUND-$s" is in the echoed command; "FOUND-/" only in output.
    assert!(
        !String::from_utf8_lossy(&t.raw).contains("FOUND-/"),
        "a Docker socket is inside"
    );
    t.run(
        "sudo mount -t tmpfs none /mnt 2>/dev/null && echo MOUNTED || echo mount-refused-$((1+10))",
        "mount-refused-11",
    )
    .await;
    t.run(
        "sudo ip link add x0 type dummy 2>/dev/null && echo NETADMIN || echo netadmin-refused-$((2+10))",
        "netadmin-refused-12",
    )
    .await;
    t.run(
        "sudo mknod /tmp/disk b 8 0 2>/dev/null && echo MKNOD || echo mknod-refused-$((3+10))",
        "mknod-refused-13",
    )
    .await;
    t.run(
        "sudo chroot / true 2>/dev/null && echo CHROOT || echo chroot-refused-$((4+10))",
        "chroot-refused-14",
    )
    .await;
    t.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_fork_bomb_and_a_memory_hog_leave_everyone_else_responsive() {
    let app = TestApp::spawn().await;
    let mut attacker = app.client();
    let bad = attacker.create_session().await;
    let mut neighbour = app.client();
    let good = neighbour.create_session().await;
    let mut bad_term = attacker.terminal(&bad).await;
    let mut good_term = neighbour.terminal(&good).await;

    // The memory limit kills the hog (exit 137 = SIGKILL from the OOM killer).
    bad_term
        .run(
            "head -c 2000m /dev/zero | tail > /dev/null; echo hog-exit=$?",
            "hog-exit=137",
        )
        .await;
    // The pids limit stops the bomb.
    bad_term.type_text(":(){ :|:& };:\r").await;
    bad_term.expect("Resource temporarily unavailable").await;

    good_term
        .run("echo neighbour-ok-$((4*4))", "neighbour-ok-16")
        .await;
    let health = neighbour.get("/healthz").await;
    assert_eq!(health.status(), 200);
    // The attacker's own sandbox can still be removed.
    assert_eq!(
        attacker
            .delete(&format!("/api/sessions/{bad}"))
            .await
            .status(),
        204
    );
    good_term.run("echo still-ok-$((5*5))", "still-ok-25").await;
    good_term.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_sandbox_cannot_reach_another_sandbox_or_the_server() {
    let app = TestApp::spawn().await;
    let mut alice = app.client();
    let a = alice.create_session().await;
    let mut bob = app.client();
    let b = bob.create_session().await;
    let b_info = app.inspect(&app.container_of(&b).await).await;
    let network = &b_info.network_settings.unwrap().networks.unwrap()[&app.config.sandbox.network];
    let b_ip = network.ip_address.clone().unwrap();
    let gateway = network.gateway.clone().unwrap();

    let mut b_term = bob.terminal(&b).await;
    b_term.run("(nc -lk 8000 >/dev/null 2>&1 &); sleep 0.5; nc -z -w2 127.0.0.1 8000 && echo listener-up-$((9+9))", "listener-up-18").await;
    let mut a_term = alice.terminal(&a).await;
    // Control: ping works in general, so "blocked" below means isolation.
    a_term
        .run(
            "ping -c1 -W2 127.0.0.1 >/dev/null && echo ping-works-$((10+10))",
            "ping-works-20",
        )
        .await;
    a_term
        .run(
            &format!("nc -z -w3 {b_ip} 8000 && echo REACHED || echo peer-blocked-$((5+10))"),
            "peer-blocked-15",
        )
        .await;
    a_term
        .run(
            &format!(
                "ping -c1 -W2 {b_ip} >/dev/null && echo PINGED || echo ping-blocked-$((6+10))"
            ),
            "ping-blocked-16",
        )
        .await;
    let port = app.addr.port();
    a_term
        .run(
            &format!(
                "curl -s -m3 http://{gateway}:{port}/healthz || echo server-unreachable-$((7+10))"
            ),
            "server-unreachable-17",
        )
        .await;
    a_term.close().await;
    b_term.close().await;
    app.cleanup().await;
}
