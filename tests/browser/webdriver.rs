//! A minimal WebDriver client for headless Chromium through chromedriver: just what the
//! browser tests use (navigate, click, type, read the terminal).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
    profile: std::path::PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn launch() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (apt-get install chromium-driver)");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let profile = std::env::temp_dir().join(format!("pathshala-chromium-{port}"));
        let mut browser = Self {
            http,
            base,
            driver,
            profile,
        };
        browser.wait_for_driver().await;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--window-size=1200,800",
                    // As a person's open tab: timers and animation frames at full rate.
                    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                    "--disable-backgrounding-occluded-windows",
                    format!("--user-data-dir={}", browser.profile.display()),
                ]
            }
        }}});
        let created = browser.post("/session", capabilities).await;
        let id = created["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_string();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    async fn wait_for_driver(&mut self) {
        for _ in 0..100 {
            if self
                .http
                .get(format!("{}/status", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let value: Value = response.json().await.unwrap();
        if value["value"]["error"].is_string() {
            panic!("WebDriver {path}: {}", value["value"]);
        }
        value.get("value").cloned().unwrap_or(value)
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("element id")
            .to_string()
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Types into xterm.js's hidden input, as a learner's keyboard would.
    pub async fn type_into_terminal(&self, text: &str) {
        let id = self.element(".xterm-helper-textarea").await;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await;
    }

    /// The visible text of the first element matching `css` ("" if there is none).
    pub async fn text(&self, css: &str) -> String {
        let script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';";
        self.post("/execute/sync", json!({"script": script, "args": [css]}))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Types `text` into the form field matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await;
    }

    /// Runs `script` with a callback (its last argument) and returns what it calls back with.
    pub async fn eval_async(&self, script: &str) -> Value {
        self.post("/execute/async", json!({"script": script, "args": []}))
            .await
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn eval(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// The text xterm.js shows on screen.
    pub async fn terminal_text(&self) -> String {
        let script = "const rows = document.querySelector('.xterm-rows'); \
                      return rows ? rows.innerText : '';";
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Sets the window's size (headless: the page's viewport).
    pub async fn set_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    /// Waits for a confirmation dialog, accepts it, and returns its question.
    pub async fn accept_dialog(&self) -> String {
        for _ in 0..50 {
            let response = self
                .http
                .get(format!("{}/alert/text", self.base))
                .send()
                .await
                .unwrap();
            let value: Value = response.json().await.unwrap();
            if let Some(question) = value["value"].as_str() {
                self.post("/alert/accept", json!({})).await;
                return question.to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no dialog appeared");
    }

    /// Saves a PNG of the page (kept under target/ to look at after a run).
    pub async fn screenshot(&self, name: &str) {
        use base64_png::decode;
        let png = self
            .http
            .get(format!("{}/screenshot", self.base))
            .send()
            .await
            .unwrap();
        let value: Value = png.json().await.unwrap();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        let _ = std::fs::write(
            dir.join(name),
            decode(value["value"].as_str().unwrap_or("")),
        );
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.base).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Just enough base64 decoding for screenshots (the standard alphabet, with padding).
mod base64_png {
    pub fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let bytes: Vec<u8> = text.bytes().filter(|c| *c != b'=').collect();
        let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
        for chunk in bytes.chunks(4) {
            let mut n = 0u32;
            for (i, c) in chunk.iter().enumerate() {
                n |= (value(*c) as u32) << (18 - 6 * i);
            }
            out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
        }
        out
    }
}
