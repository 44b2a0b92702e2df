//! The lab image under production hardening: services, journal, cron, root, HTTPS, and a
//! practice ACME CA, each used the way a lesson would use it.

#[path = "../sandbox/support.rs"]
#[allow(dead_code)]
mod support;

use std::time::Duration;

use support::TestApp;

#[tokio::test]
async fn nginx_runs_at_boot_and_reloads_a_changed_config() {
    let app = TestApp::spawn().await;
    let (_browser, _id, mut t) = app.open_sandbox().await;
    // Booting takes a moment, as on a real server.
    t.run(
        "for i in $(seq 40); do systemctl is-active -q nginx && break; sleep 0.25; done; echo state=$(systemctl is-active nginx)",
        "state=active",
    )
    .await;
    t.run(
        "curl -s localhost | grep -o 'Welcome to nginx' | tr a-z A-Z",
        "WELCOME TO NGINX",
    )
    .await;

    t.write_file(
        "/etc/nginx/sites-enabled/exam",
        "server { listen 8080; location / { return 200 'exam-season-ready\\n'; } }\n",
    )
    .await;
    t.run(
        "sudo nginx -t 2>&1 | grep -o 'test is successful' | tr a-z A-Z",
        "TEST IS SUCCESSFUL",
    )
    .await;
    t.run(
        "sudo systemctl reload nginx && echo reloaded-$((1+1))",
        "reloaded-2",
    )
    .await;
    t.run("curl -s localhost:8080 | tr a-z A-Z", "EXAM-SEASON-READY")
        .await;
    t.run(
        "sudo systemctl restart nginx; journalctl -u nginx -n 5 | tr a-z A-Z",
        "STARTED NGINX.SERVICE",
    )
    .await;
    t.run(
        "service nginx status | grep -o 'active (running)' | tr a-z A-Z",
        "ACTIVE (RUNNING)",
    )
    .await;
    // A broken config fails a restart; once fixed, a plain start brings it back to active.
    t.write_file("/etc/nginx/conf.d/broken.conf", "garbage\n")
        .await;
    t.run(
        "sudo systemctl restart nginx 2>/dev/null; echo restart-exit-$?",
        "restart-exit-1",
    )
    .await;
    t.run(
        "sudo rm /etc/nginx/conf.d/broken.conf; sudo systemctl start nginx; echo fixed=$(systemctl is-active nginx)",
        "fixed=active",
    )
    .await;
    t.close().await;
    app.cleanup().await;
}

const APP: &str = r#"import http.server, os
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("greeting=%s cwd=%s\n" % (os.environ["GREETING"], os.getcwd())).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)
print("tuition app listening", flush=True)
http.server.HTTPServer(("127.0.0.1", 8000), Hello).serve_forever()
"#;

const UNIT: &str = "[Unit]
Description=Tuition centre app

[Service]
Type=simple
User=tuition
WorkingDirectory=/srv/tuition
EnvironmentFile=/etc/tuition.env
ExecStart=/usr/bin/python3 /srv/tuition/app.py
Restart=on-failure

[Install]
WantedBy=multi-user.target
";

#[tokio::test]
async fn a_learner_written_unit_runs_restarts_and_survives_a_reboot() {
    let app = TestApp::spawn().await;
    let (browser, id, mut t) = app.open_sandbox().await;
    t.run(
        "sudo useradd --system tuition && sudo mkdir -p /srv/tuition && echo made-$((2*3))",
        "made-6",
    )
    .await;
    t.write_file("/srv/tuition/app.py", APP).await;
    t.write_file("/etc/tuition.env", "GREETING=namaste\n").await;
    t.write_file("/etc/systemd/system/tuition.service", UNIT)
        .await;
    t.run(
        "sudo systemctl daemon-reload && sudo systemctl start tuition && echo started-$((3*3))",
        "started-9",
    )
    .await;
    t.run(
        "sleep 1; curl -s localhost:8000 | tr a-z A-Z",
        "GREETING=NAMASTE CWD=/SRV/TUITION",
    )
    .await;
    t.run("ps -o user= -C python3 | sort -u | tr a-z A-Z", "TUITION")
        .await;
    t.run(
        "journalctl -u tuition | grep -o 'app listening' | tr a-z A-Z",
        "APP LISTENING",
    )
    .await;

    // kill -9: Restart=on-failure brings it back.
    t.run(
        "old=$(pgrep -u tuition python3); sudo kill -9 $old; echo killed-$((4*4))",
        "killed-16",
    )
    .await;
    t.run(
        "for i in $(seq 40); do new=$(pgrep -u tuition python3) && [ \"$new\" != \"$old\" ] && curl -s localhost:8000 >/dev/null && break; sleep 0.25; done; [ \"$new\" != \"$old\" ] && echo back-$((5*5))",
        "back-25",
    )
    .await;
    // The journal tells the automatic restart from a manual one, and status shows the PID.
    t.run(
        "journalctl -u tuition | grep -o 'Scheduled restart job, restart counter is at 1' | tr a-z A-Z",
        "SCHEDULED RESTART JOB, RESTART COUNTER IS AT 1",
    )
    .await;
    t.run(
        "systemctl status tuition | grep -c \"Main PID: $new (python3)\" | sed 's/^/pid-lines=/'",
        "pid-lines=1",
    )
    .await;
    // Without sudo, a change is refused in one line that says what to do.
    t.run(
        "systemctl restart tuition 2>&1 | head -1 | grep -o 'Access denied: this needs root. Try: sudo' | tr a-z A-Z",
        "ACCESS DENIED: THIS NEEDS ROOT. TRY: SUDO",
    )
    .await;
    // `enable --now` of a unit that cannot start fails, as systemd's does.
    t.write_file(
        "/etc/systemd/system/broken.service",
        "[Service]\nExecStart=/no/such/program\n\n[Install]\nWantedBy=multi-user.target\n",
    )
    .await;
    t.run(
        "sudo systemctl daemon-reload; sudo systemctl enable --now broken 2>/dev/null; echo enable-now-exit-$?",
        "enable-now-exit-1",
    )
    .await;

    // Enabled services start again after a reboot, and the learner's host names stay.
    t.run(
        "sudo systemctl enable tuition && echo '127.0.0.1 patan.tuition.test' | sudo tee -a /etc/hosts >/dev/null && sleep 2 && echo enabled-$((6*6))",
        "enabled-36",
    )
    .await;
    let restart = browser
        .post_empty(&format!("/api/sessions/{id}/restart"))
        .await;
    assert_eq!(restart.status(), 204);
    t.expect("starting a new one").await;
    t.run(
        "for i in $(seq 40); do curl -s localhost:8000 >/dev/null && break; sleep 0.25; done; echo after-reboot=$(systemctl is-active tuition)",
        "after-reboot=active",
    )
    .await;
    t.run(
        "getent hosts patan.tuition.test | tr a-z A-Z; grep -c patan /etc/hosts | sed 's/^/lines=/'",
        "127.0.0.1       PATAN.TUITION.TEST\r\nlines=1",
    )
    .await;
    t.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_cron_entry_runs_within_its_minute() {
    let app = TestApp::spawn().await;
    let (_browser, _id, mut t) = app.open_sandbox().await;
    t.run(
        "echo '* * * * * date > /tmp/cron-ran' | crontab - && echo scheduled-$((7*7))",
        "scheduled-49",
    )
    .await;
    t.type_text("for i in $(seq 75); do test -s /tmp/cron-ran && break; sleep 1; done; test -s /tmp/cron-ran && echo cron-$((8*8))\r").await;
    t.expect_within("cron-64", Duration::from_secs(80)).await;
    t.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn root_works_through_sudo_and_https_leaves_the_sandbox() {
    let app = TestApp::spawn().await;
    let (_browser, _id, mut t) = app.open_sandbox().await;
    t.run("whoami | tr a-z A-Z; sudo whoami | tr a-z A-Z", "ROOT")
        .await;
    t.run(
        "sudo -n true && echo passwordless-$((9*9))",
        "passwordless-81",
    )
    .await;
    // A Run button types a whole block at once: lines after a sudo command still run.
    t.type_text("sudo sleep 1\recho typed-ahead-$((6*7))\r")
        .await;
    t.expect_within("typed-ahead-42", Duration::from_secs(10))
        .await;
    // Through whatever TLS interception the host has, thanks to extra_ca_certificates.
    t.run(
        "curl -sS -o /dev/null -w 'https-%{http_code}\\n' https://deb.debian.org/debian/",
        "https-200",
    )
    .await;
    t.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn certbot_gets_a_certificate_from_pebble_that_nginx_serves() {
    let app = TestApp::spawn().await;
    let (_browser, _id, mut t) = app.open_sandbox().await;
    t.run("echo '127.0.0.1 tuition.test' | sudo tee -a /etc/hosts >/dev/null; sudo systemctl start pebble; echo pebble-$((2*11))", "pebble-22").await;
    t.run(
        "for i in $(seq 40); do curl -s https://localhost:14000/dir >/dev/null && break; sleep 0.25; done; echo acme-up-$((3*11))",
        "acme-up-33",
    )
    .await;
    t.type_text(
        "sudo certbot certonly --webroot -w /var/www/html -d tuition.test --server https://localhost:14000/dir \
         --agree-tos -m learner@tuition.test --no-eff-email -n >/tmp/certbot.log 2>&1; echo certbot-exit-$?\r",
    )
    .await;
    t.expect_within("certbot-exit-0", Duration::from_secs(60))
        .await;
    t.write_file(
        "/etc/nginx/sites-enabled/tuition-tls",
        "server {\n  listen 443 ssl;\n  server_name tuition.test;\n  \
         ssl_certificate /etc/letsencrypt/live/tuition.test/fullchain.pem;\n  \
         ssl_certificate_key /etc/letsencrypt/live/tuition.test/privkey.pem;\n  \
         location / { return 200 'secure-fees\\n'; }\n}\n",
    )
    .await;
    t.run(
        "sudo nginx -t 2>/dev/null && sudo systemctl reload nginx && echo tls-reloaded-$((4*11))",
        "tls-reloaded-44",
    )
    .await;
    // Verify against Pebble's own root, not with -k.
    t.run(
        "curl -s https://localhost:15000/roots/0 > /tmp/pebble-root.pem; curl -s --cacert /tmp/pebble-root.pem https://tuition.test/ | tr a-z A-Z",
        "SECURE-FEES",
    )
    .await;
    t.close().await;
    app.cleanup().await;
}

#[tokio::test]
async fn the_tuition_app_passes_its_own_tests_and_runs_as_a_service() {
    let app = TestApp::spawn().await;
    let (_browser, _id, mut t) = app.open_sandbox().await;
    // The pristine copy passes its own tests as the learner would run them.
    t.type_text(
        "cp -r /usr/share/tuition-app ~/tuition && cd ~/tuition && python3 -m unittest 2>&1 | tail -1 | sed 's/^OK$/app-tests-passed/'; cd\r",
    )
    .await;
    t.expect_within("app-tests-passed", Duration::from_secs(30))
        .await;
    // Without its secret key it refuses to start, and says why.
    t.run(
        "python3 /usr/share/tuition-app/app.py serve 2>&1 | grep -o 'TUITION_SECRET_KEY is not set' | tr A-Z a-z",
        "tuition_secret_key is not set",
    )
    .await;
    // tuition-stage deploys it the way the lessons do: a service behind nginx on port 80.
    t.run(
        "sudo env TUITION_PORT=8321 TUITION_SECRET_KEY=kathmandu-exam-key tuition-stage app env service nginx && curl -s localhost/health | jq -r .status | tr a-z A-Z",
        "OK",
    )
    .await;
    t.run(
        "curl -s localhost:8321/api/results/1 | jq -r .name | tr a-z A-Z",
        "AARATI SHRESTHA",
    )
    .await;
    t.run("ps -o user= -C python3 | sort -u | tr a-z A-Z", "TUITION")
        .await;
}
