//! Every check kind against a real sandbox (production hardening, the lab image): each
//! passes for the right state and fails for the wrong one, saying what it expected and found.

use pathshala::check::{self, Check, CheckResult, CheckSpec};
use pathshala::config::SandboxConfig;
use pathshala::sandbox::Sandboxes;
use serde_json::json;

/// One sandbox, driven directly (no web server), removed at the end.
struct Lab {
    sandboxes: Sandboxes,
    container: String,
    removed: bool,
}

impl Drop for Lab {
    /// A failed test still removes its sandbox.
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let (sandboxes, container) = (self.sandboxes.clone(), self.container.clone());
        // A runtime of its own: Drop cannot await, and the test's runtime may be unwinding.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let _ = runtime.block_on(sandboxes.remove(&container));
        })
        .join();
    }
}

impl Lab {
    async fn new() -> Self {
        let instance = format!(
            "checks-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        );
        let sandboxes = Sandboxes::connect(None, &instance, SandboxConfig::default())
            .await
            .expect("dockerd runs and images are built");
        let container = sandboxes
            .create(&uuid::Uuid::new_v4().simple().to_string())
            .await
            .unwrap();
        let lab = Self {
            sandboxes,
            container,
            removed: false,
        };
        lab.sandboxes.wait_for_boot(&lab.container).await.unwrap();
        lab
    }

    /// Prepares state as root (the test's own setup, not the learner's).
    async fn sh(&self, script: &str) {
        let done = self
            .sandboxes
            .run(
                &self.container,
                &["bash", "-c", script],
                "root",
                b"",
                std::time::Duration::from_secs(60),
            )
            .await
            .unwrap();
        assert_eq!(
            done.exit_code,
            Some(0),
            "setup failed: {}",
            String::from_utf8_lossy(&done.stderr)
        );
    }

    async fn check_all(&self, checks: Vec<serde_json::Value>) -> Vec<CheckResult> {
        let specs: Vec<CheckSpec> = checks
            .into_iter()
            .map(|c| CheckSpec::new(serde_json::from_value::<Check>(c).unwrap()))
            .collect();
        check::run(&self.sandboxes, &self.container, &specs)
            .await
            .unwrap()
    }

    async fn check(&self, check: serde_json::Value) -> CheckResult {
        self.check_all(vec![check]).await.remove(0)
    }

    async fn passes(&self, check: serde_json::Value) {
        let result = self.check(check.clone()).await;
        assert!(result.passed, "{check} should pass: {result:?}");
    }

    /// Asserts the check fails and that its expected/actual mention the given words.
    async fn fails(&self, check: serde_json::Value, expected: &str, actual: &str) {
        let result = self.check(check.clone()).await;
        assert!(!result.passed, "{check} should fail: {result:?}");
        assert!(
            result.expected.contains(expected),
            "expected {expected:?} in {result:?}"
        );
        assert!(
            result.actual.contains(actual),
            "actual {actual:?} in {result:?}"
        );
        assert!(result.message.contains(&result.actual), "{result:?}");
    }

    async fn remove(mut self) {
        self.sandboxes.remove(&self.container).await.unwrap();
        self.removed = true;
    }
}

#[tokio::test]
async fn file_checks_see_type_mode_owner_and_content() {
    let lab = Lab::new().await;
    lab.sh("mkdir -p /srv/app && printf 'PORT=8000\\nDEBUG=false\\n' > /srv/app/app.env && chgrp www-data /srv/app/app.env && chmod 640 /srv/app/app.env").await;
    lab.passes(json!({"kind": "file", "path": "/srv/app/app.env", "type": "file", "mode": "0640",
        "owner": "root", "group": "www-data", "content": {"contains": ["PORT=8000"], "not_contains": ["DEBUG=true"], "matches": "^PORT=\\d+$"}})).await;
    lab.passes(json!({"kind": "file", "path": "/srv/app", "type": "directory"}))
        .await;
    lab.fails(
        json!({"kind": "file", "path": "/srv/app/app.env", "mode": "0600"}),
        "mode 0600",
        "mode 0640",
    )
    .await;
    lab.fails(
        json!({"kind": "file", "path": "/srv/app/app.env", "owner": "www-data"}),
        "owner www-data",
        "owner root",
    )
    .await;
    lab.fails(
        json!({"kind": "file", "path": "/srv/app/app.env", "content": {"contains": ["PORT=9000"]}}),
        "PORT=9000",
        "PORT=8000",
    )
    .await;
    lab.fails(
        json!({"kind": "file", "path": "/srv/app/.env"}),
        "exists",
        "no such file",
    )
    .await;
    lab.passes(json!({"kind": "file", "path": "/srv/app/.env", "exists": false}))
        .await;
    lab.remove().await;
}

#[tokio::test]
async fn command_checks_are_not_fooled_by_the_learners_shell_setup() {
    let lab = Lab::new().await;
    // The learner plants a fake curl and an alias in their shell start-up files.
    lab.sh("mkdir -p /home/learner/bin && printf '#!/bin/sh\\necho fake\\n' > /home/learner/bin/curl && chmod +x /home/learner/bin/curl \
            && echo 'export PATH=$HOME/bin:$PATH; alias whoami=\"echo root\"' >> /home/learner/.bashrc \
            && cp /home/learner/.bashrc /home/learner/.profile && chown -R learner: /home/learner").await;
    lab.passes(
        json!({"kind": "command", "run": "command -v curl; whoami", "user": "learner",
        "exit": 0, "stdout": {"contains": ["/usr/bin/curl", "learner"], "not_contains": ["fake"]}}),
    )
    .await;
    lab.fails(
        json!({"kind": "command", "run": "test -d /nope", "exit": 0}),
        "exit status 0",
        "exit status 1",
    )
    .await;
    lab.fails(
        json!({"kind": "command", "run": "echo hello >&2", "stderr": {"equals": "bye"}}),
        "bye",
        "hello",
    )
    .await;
    lab.remove().await;
}

#[tokio::test]
async fn http_port_process_and_service_checks_see_a_running_nginx() {
    let lab = Lab::new().await;
    lab.passes(json!({"kind": "http", "url": "http://localhost/", "status": 200, "body": {"contains": ["nginx"]}})).await;
    lab.fails(
        json!({"kind": "http", "url": "http://localhost/missing"}),
        "status 200",
        "status 404",
    )
    .await;
    lab.fails(
        json!({"kind": "http", "url": "http://localhost:9/"}),
        "an answer",
        "no answer: [Errno 111] Connection refused",
    )
    .await;
    // A request with a body and headers: the tuition app's admin API wants its key.
    lab.sh(
        "env TUITION_PORT=8321 TUITION_SECRET_KEY=exam-season-key-1 tuition-stage app env service",
    )
    .await;
    let enrol = |key: &str| {
        json!({"kind": "http", "url": "http://127.0.0.1:8321/api/students", "method": "POST",
               "status": 201, "send": r#"{"name": "Yamuna Bista", "grade": 9}"#,
               "send_headers": {"Authorization": format!("Bearer {key}"), "Content-Type": "application/json"}})
    };
    lab.passes(enrol("exam-season-key-1")).await;
    lab.fails(enrol("a-wrong-key-0000"), "status 201", "status 401")
        .await;
    lab.passes(json!({"kind": "port", "port": 80})).await;
    lab.fails(json!({"kind": "port", "port": 8080}), "port 8080", "80")
        .await;
    lab.passes(json!({"kind": "process", "name": "nginx"}))
        .await;
    lab.passes(json!({"kind": "process", "name": "nginx: worker", "user": "www-data"}))
        .await;
    lab.fails(
        json!({"kind": "process", "name": "postgres"}),
        "postgres",
        "no such process",
    )
    .await;
    lab.passes(json!({"kind": "service", "name": "nginx", "active": true, "enabled": true}))
        .await;
    lab.fails(
        json!({"kind": "service", "name": "pebble", "active": true}),
        "pebble is active",
        "pebble is inactive",
    )
    .await;
    lab.remove().await;
}

#[tokio::test]
async fn package_user_group_and_cron_checks() {
    let lab = Lab::new().await;
    lab.sh(
        "groupadd developers && useradd -m -s /bin/bash -G developers,www-data deploy \
            && echo '30 2 * * * /usr/local/bin/backup.sh' | crontab -u deploy -",
    )
    .await;
    lab.passes(json!({"kind": "package", "name": "nginx"}))
        .await;
    lab.fails(
        json!({"kind": "package", "name": "apache2"}),
        "apache2 installed",
        "not installed",
    )
    .await;
    lab.passes(json!({"kind": "user", "name": "deploy", "groups": ["developers", "www-data"], "shell": "/bin/bash"})).await;
    lab.fails(
        json!({"kind": "user", "name": "deploy", "groups": ["sudo"]}),
        "group sudo",
        "developers",
    )
    .await;
    lab.fails(
        json!({"kind": "user", "name": "ghost"}),
        "user ghost exists",
        "no such user",
    )
    .await;
    lab.passes(json!({"kind": "group", "name": "developers", "members": ["deploy"]}))
        .await;
    lab.fails(
        json!({"kind": "group", "name": "developers", "members": ["learner"]}),
        "learner",
        "deploy",
    )
    .await;
    lab.passes(json!({"kind": "cron", "user": "deploy", "matches": "backup\\.sh"}))
        .await;
    lab.fails(
        json!({"kind": "cron", "user": "learner", "matches": "backup"}),
        "backup",
        "no crontab entries",
    )
    .await;
    lab.remove().await;
}

#[tokio::test]
async fn tls_checks_read_names_expiry_and_verification() {
    let lab = Lab::new().await;
    lab.sh("cd /etc/ssl && openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj '/CN=tuition.test' \
              -addext 'subjectAltName=DNS:tuition.test' -keyout tuition.key -out tuition.pem 2>/dev/null \
            && echo '127.0.0.1 tuition.test' >> /etc/hosts \
            && printf 'server { listen 443 ssl; server_name tuition.test; ssl_certificate /etc/ssl/tuition.pem; ssl_certificate_key /etc/ssl/tuition.key; }\\n' > /etc/nginx/sites-enabled/tls \
            && systemctl reload nginx && sleep 0.5").await;
    lab.passes(json!({"kind": "tls", "file": "/etc/ssl/tuition.pem", "names": ["tuition.test"], "min_days": 30})).await;
    lab.fails(
        json!({"kind": "tls", "file": "/etc/ssl/tuition.pem", "min_days": 365}),
        "365",
        "days",
    )
    .await;
    lab.passes(json!({"kind": "tls", "host": "tuition.test", "ca_file": "/etc/ssl/tuition.pem", "names": ["tuition.test"], "issuer": "tuition.test"})).await;
    lab.fails(
        json!({"kind": "tls", "host": "tuition.test"}),
        "verifies",
        "self",
    )
    .await;
    // Unverified, the same server's certificate can still be read (names, dates).
    lab.passes(json!({"kind": "tls", "host": "tuition.test", "insecure": true, "names": ["tuition.test"], "min_days": 30}))
        .await;
    lab.fails(
        json!({"kind": "tls", "file": "/etc/ssl/tuition.pem", "names": ["www.tuition.test"]}),
        "www.tuition.test",
        "tuition.test",
    )
    .await;
    lab.remove().await;
}

#[tokio::test]
async fn script_checks_and_a_whole_step_in_one_round_trip() {
    let lab = Lab::new().await;
    lab.passes(json!({"kind": "script", "run": "test -d /etc/nginx && echo nginx is configured"}))
        .await;
    lab.fails(
        json!({"kind": "script", "run": "echo 'backups folder is missing'; exit 1"}),
        "succeeds",
        "backups folder is missing",
    )
    .await;
    let results = lab
        .check_all(vec![
            json!({"kind": "port", "port": 80}),
            json!({"kind": "package", "name": "apache2"}),
            json!({"kind": "script", "run": "kill -9 $$"}),
            json!({"kind": "service", "name": "cron", "active": true}),
        ])
        .await;
    let passed: Vec<bool> = results.iter().map(|r| r.passed).collect();
    assert_eq!(passed, vec![true, false, false, true], "{results:?}");
    lab.remove().await;
}
