//! The fields of a check, as the probe will read them once rendered with a learner's
//! values: each is validated here, at load time, with the rules the probe applies, so a
//! check that cannot work is a located error instead of a failure in front of a learner.

use crate::check::{Check, PortNumber, TextRule};

/// Problems with one rendered check, and the regular expressions it holds (compiled later,
/// all at once, by Python).
#[derive(Debug, Default)]
pub struct Findings {
    pub problems: Vec<String>,
    /// (which field, pattern).
    pub patterns: Vec<(String, String)>,
}

impl Findings {
    fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    fn text_rule(&mut self, field: &str, rule: &TextRule) {
        if let Some(pattern) = &rule.matches {
            self.patterns
                .push((format!("{field}.matches"), pattern.clone()));
        }
    }
}

/// File types the probe knows.
const FILE_TYPES: [&str; 3] = ["file", "directory", "symlink"];
/// Methods an http check may send.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Validates a check already rendered with one draw of the lesson's values.
pub fn validate(check: &Check) -> Findings {
    let mut found = Findings::default();
    match check {
        Check::File(c) => {
            absolute(&mut found, "file.path", &c.path);
            if let Some(kind) = &c.file_type
                && !FILE_TYPES.contains(&kind.as_str())
            {
                found.problem(format!(
                    "file.type {kind:?} is not one the check knows; use one of: {}",
                    FILE_TYPES.join(", ")
                ));
            }
            if let Some(mode) = &c.mode
                && !is_octal_mode(mode)
            {
                found.problem(format!(
                    "file.mode {mode:?} is not an octal mode; write it in octal digits, like \
                     0644 or 0750 (not rwxr-x---)"
                ));
            }
            if let Some(rule) = &c.content {
                found.text_rule("file.content", rule);
            }
        }
        Check::Command(c) => {
            not_empty(&mut found, "command.run", &c.run);
            user_name(&mut found, "command.user", &c.user);
            for (field, rule) in [("command.stdout", &c.stdout), ("command.stderr", &c.stderr)] {
                if let Some(rule) = rule {
                    found.text_rule(field, rule);
                }
            }
        }
        Check::Script(c) => {
            not_empty(&mut found, "script.run", &c.run);
            user_name(&mut found, "script.user", &c.user);
        }
        Check::Http(c) => http(&mut found, c),
        Check::Port(c) => port(&mut found, "port.port", &c.port),
        Check::Process(c) => {
            not_empty(&mut found, "process.name", &c.name);
            // A name is also searched for as a pattern in command lines.
            found.patterns.push(("process.name".into(), c.name.clone()));
        }
        Check::Service(c) => not_empty(&mut found, "service.name", &c.name),
        Check::Package(c) => not_empty(&mut found, "package.name", &c.name),
        Check::User(c) => user_name(&mut found, "user.name", &c.name),
        Check::Group(c) => user_name(&mut found, "group.name", &c.name),
        Check::Cron(c) => {
            user_name(&mut found, "cron.user", &c.user);
            found
                .patterns
                .push(("cron.matches".into(), c.matches.clone()));
        }
        Check::Tls(c) => {
            match (&c.host, &c.file) {
                (None, None) => found.problem(
                    "a tls check needs `host` (a server to connect to) or `file` (a \
                     certificate file in the sandbox)",
                ),
                (Some(_), Some(_)) => found.problem("a tls check takes `host` or `file`, not both"),
                (Some(host), None) => not_empty(&mut found, "tls.host", host),
                (None, Some(file)) => absolute(&mut found, "tls.file", file),
            }
            port(&mut found, "tls.port", &c.port);
            if c.min_days.is_some_and(|d| d < 0) {
                found.problem("tls.min_days must be 0 or more");
            }
            if let Some(ca) = &c.ca_file {
                absolute(&mut found, "tls.ca_file", ca);
            }
        }
    }
    found
}

fn http(found: &mut Findings, c: &crate::check::HttpCheck) {
    match c.url.parse::<hyper::Uri>() {
        Ok(uri)
            if matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.host().is_some_and(|h| !h.is_empty()) => {}
        _ => found.problem(format!(
            "http.url {:?} is not a full http:// or https:// address, like \
             http://localhost:8080/health",
            c.url
        )),
    }
    if !METHODS.contains(&c.method.as_str()) {
        found.problem(format!(
            "http.method {:?} is not one of {}",
            c.method,
            METHODS.join(", ")
        ));
    }
    if !(100..=599).contains(&c.status) {
        found.problem(format!(
            "http.status {} is not an HTTP status (100-599)",
            c.status
        ));
    }
    for name in c.headers.keys().chain(c.send_headers.keys()) {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            found.problem(format!(
                "{name:?} is not a header name (letters, digits and -)"
            ));
        }
    }
    if let Some(ca) = &c.ca_file {
        absolute(found, "http.ca_file", ca);
    }
    if let Some(rule) = &c.body {
        found.text_rule("http.body", rule);
    }
}

/// A port as written or rendered: a number from 1 to 65535.
pub fn port_number(port: &PortNumber) -> Result<u16, String> {
    match port {
        PortNumber::Number(0) => Err("0".into()),
        PortNumber::Number(n) => Ok(*n),
        PortNumber::Template(text) => match text.trim().parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(text.clone()),
        },
    }
}

fn port(found: &mut Findings, field: &str, port: &PortNumber) {
    if let Err(text) = port_number(port) {
        found.problem(format!("{field} {text:?} is not a port number (1-65535)"));
    }
}

fn is_octal_mode(mode: &str) -> bool {
    (3..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

fn absolute(found: &mut Findings, field: &str, path: &str) {
    if !path.starts_with('/') {
        found.problem(format!(
            "{field} {path:?} must be an absolute path in the sandbox (starting with /)"
        ));
    }
}

fn not_empty(found: &mut Findings, field: &str, text: &str) {
    if text.trim().is_empty() {
        found.problem(format!("{field} is empty"));
    }
}

fn user_name(found: &mut Findings, field: &str, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if !ok {
        found.problem(format!(
            "{field} {name:?} is not a user or group name (letters, digits, _ . -)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(json: serde_json::Value) -> Vec<String> {
        validate(&serde_json::from_value(json).unwrap()).problems
    }

    #[test]
    fn modes_types_urls_and_tls_targets_are_checked() {
        let bad_mode =
            problems(serde_json::json!({"kind": "file", "path": "/x", "mode": "rwxr-xr-x"}));
        assert!(bad_mode[0].contains("not an octal mode"), "{bad_mode:?}");
        let bad_type = problems(serde_json::json!({"kind": "file", "path": "/x", "type": "dir"}));
        assert!(bad_type[0].contains("file.type \"dir\""), "{bad_type:?}");
        let bad_url = problems(serde_json::json!({"kind": "http", "url": "localhost:80/x"}));
        assert!(bad_url[0].contains("not a full http://"), "{bad_url:?}");
        let no_host = problems(serde_json::json!({"kind": "tls", "names": ["a.test"]}));
        assert!(no_host[0].contains("needs `host`"), "{no_host:?}");
        let good = problems(
            serde_json::json!({"kind": "file", "path": "/x", "mode": "0640", "type": "file"}),
        );
        assert!(good.is_empty(), "{good:?}");
    }

    #[test]
    fn rendered_ports_must_be_numbers() {
        assert_eq!(port_number(&PortNumber::Template("8080".into())), Ok(8080));
        assert!(port_number(&PortNumber::Template("http".into())).is_err());
        assert!(port_number(&PortNumber::Number(0)).is_err());
    }
}
