//! The typed check kinds: what an author can ask of a learner's sandbox. Each serializes to
//! the JSON the in-sandbox probe (`probe.py`) reads, with `kind` naming the check.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A text expectation: every given part must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextRule {
    /// A text, or a list of texts, that must all be there.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    #[schemars(with = "OneOrMany")]
    pub contains: Vec<String>,
    /// A text, or a list of texts, none of which may be there.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    #[schemars(with = "OneOrMany")]
    pub not_contains: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// A regular expression (Python syntax, multi-line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
}

/// One text or a list of them (for the schema; see [`one_or_many`]).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Reads `contains: "x"` as `contains: ["x"]`: a single text is the commonest case, and
/// authors write it without brackets.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Texts;
    impl<'de> serde::de::Visitor<'de> for Texts {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a text or a list of texts")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vec<String>, E> {
            Ok(vec![text.to_string()])
        }
        // `contains: 8080` means the text "8080".
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Vec<String>, E> {
            Ok(vec![n.to_string()])
        }
        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Vec<String>, E> {
            Ok(vec![n.to_string()])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Vec<String>, A::Error> {
            let mut texts = Vec::new();
            while let Some(text) = seq.next_element::<String>()? {
                texts.push(text);
            }
            Ok(texts)
        }
    }
    deserializer.deserialize_any(Texts)
}

/// A port number, or a template giving one (`"{{ app_port }}"`, per learner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PortNumber {
    Number(u16),
    Template(String),
}

impl From<u16> for PortNumber {
    fn from(port: u16) -> Self {
        Self::Number(port)
    }
}

/// One check of a sandbox's state; serialized for the probe with `kind` naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// A file or directory: existence, type, mode, owner, group, content.
    File(FileCheck),
    /// A command run with bash, without the learner's profile, aliases or PATH.
    Command(CommandCheck),
    /// An HTTP request from inside the sandbox.
    Http(HttpCheck),
    /// A TCP port with a listener (or without one).
    Port(PortCheck),
    /// A process, by exact name or a regular expression on its command line.
    Process(ProcessCheck),
    /// A service as `systemctl` sees it.
    Service(ServiceCheck),
    /// A Debian package.
    Package(PackageCheck),
    /// A user account.
    User(UserCheck),
    /// A group.
    Group(GroupCheck),
    /// A crontab entry (the user's crontab; for root also /etc/crontab and /etc/cron.d).
    Cron(CronCheck),
    /// A certificate served at host:port, or in a file: names, issuer, remaining validity,
    /// and (for host:port) verification against a CA.
    Tls(TlsCheck),
    /// The escape hatch: a bash script; exit 0 passes, its output is the message.
    Script(ScriptCheck),
}

/// A file or directory: existence, type, mode, owner, group, content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileCheck {
    pub path: String,
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub exists: bool,
    /// `file`, `directory` or `symlink`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    #[schemars(with = "Option<FileType>")]
    pub file_type: Option<String>,
    /// Octal, e.g. `"0640"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<TextRule>,
}

/// A command run with bash, without the learner's profile, aliases or PATH.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandCheck {
    pub run: String,
    #[serde(default = "root")]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<TextRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<TextRule>,
}

/// An HTTP request from inside the sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    pub url: String,
    #[serde(default = "get")]
    pub method: String,
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TextRule>,
    /// Header name -> a value it must contain.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    /// CA certificate file (in the sandbox) to verify HTTPS against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// A body to send (for POST/PUT), e.g. JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// Request headers to send: name -> value (e.g. `Authorization: Bearer {{ key }}`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub send_headers: std::collections::BTreeMap<String, String>,
}

/// A TCP port with a listener (or without one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortCheck {
    pub port: PortNumber,
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub listening: bool,
}

/// A process, by exact name or a regular expression on its command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessCheck {
    pub name: String,
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub running: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// A service as `systemctl` sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCheck {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A Debian package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageCheck {
    pub name: String,
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub installed: bool,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCheck {
    pub name: String,
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub exists: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupCheck {
    pub name: String,
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub exists: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

/// A crontab entry (the user's crontab; for root also /etc/crontab and /etc/cron.d).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CronCheck {
    #[serde(default = "root")]
    pub user: String,
    /// A regular expression an entry must match.
    pub matches: String,
}

/// A certificate served at host:port, or in a file: names, issuer, remaining validity,
/// and (for host:port) verification against a CA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default = "https_port")]
    pub port: PortNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Read what host:port serves without verifying it (an expired or self-signed
    /// certificate's names and dates).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

/// The escape hatch: a bash script; exit 0 passes, its output is the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptCheck {
    pub run: String,
    #[serde(default = "root")]
    pub user: String,
}

/// The file types a file check knows (for the schema; the loader checks the rendered text).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum FileType {
    File,
    Directory,
    Symlink,
}

impl Check {
    /// The kind's name as authors write it.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::File(_) => "file",
            Check::Command(_) => "command",
            Check::Http(_) => "http",
            Check::Port(_) => "port",
            Check::Process(_) => "process",
            Check::Service(_) => "service",
            Check::Package(_) => "package",
            Check::User(_) => "user",
            Check::Group(_) => "group",
            Check::Cron(_) => "cron",
            Check::Tls(_) => "tls",
            Check::Script(_) => "script",
        }
    }
}

fn yes() -> bool {
    true
}

fn is_yes(value: &bool) -> bool {
    *value
}

fn root() -> String {
    "root".into()
}

fn get() -> String {
    "GET".into()
}

fn ok_status() -> u16 {
    200
}

fn https_port() -> PortNumber {
    PortNumber::Number(443)
}
