//! The lesson file as authors write it (`lesson.yaml`), before validation. Unknown keys are
//! errors; positions are kept where a later check needs to point at a line.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::tolerant::Tolerant;

use crate::check::{
    CommandCheck, CronCheck, FileCheck, GroupCheck, HttpCheck, PackageCheck, PortCheck, PortNumber,
    ProcessCheck, ScriptCheck, ServiceCheck, TlsCheck, UserCheck,
};

// Unknown top-level keys are reported by `keys.rs` (all of them, and the reading goes on);
// the schema still refuses them.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawLesson {
    #[schemars(with = "String", length(min = 1, max = 120))]
    pub title: Spanned<String>,
    #[schemars(with = "String", length(min = 1, max = 600))]
    pub summary: Spanned<String>,
    #[schemars(with = "String", length(min = 1, max = 120))]
    pub track: Spanned<String>,
    /// beginner, intermediate or advanced.
    #[schemars(with = "Level")]
    pub level: Spanned<String>,
    /// How long the lesson takes, in minutes (1-600).
    #[schemars(with = "u32", range(min = 1, max = 600))]
    pub minutes: Spanned<Tolerant<u32>>,
    /// Position in its track: the catalog lists a track's lessons by it (then by folder
    /// name), and tracks by their first lesson. Lessons without one come last.
    #[serde(default)]
    pub order: Option<u32>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    /// In file order: a `value` var sees the vars written above it.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawVar>")]
    pub vars: InFileOrder<Spanned<Tolerant<RawVar>>>,
    /// Files copied into the sandbox before `setup` runs: absolute path in the sandbox ->
    /// file in the lesson's folder.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub files: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub setup: Option<Spanned<String>>,
    #[schemars(with = "Vec<RawStep>", length(min = 1, max = 40))]
    pub steps: Vec<Spanned<Tolerant<RawStep>>>,
}

/// A per-learner value: exactly one of the generators.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVar {
    /// `[low, high]`: a TCP port in that range.
    pub random_port: Option<[u16; 2]>,
    /// One of these words.
    pub pick: Option<Vec<String>>,
    /// A password of this many letters and digits (8-64).
    #[schemars(range(min = 8, max = 64))]
    pub random_password: Option<usize>,
    /// A template over the variables defined before this one.
    pub value: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// The step's identity for learners' progress (lowercase letters, digits and `-`);
    /// by default its title made into one. Set it to keep progress when retitling a step.
    #[serde(default)]
    pub id: Option<String>,
    #[schemars(with = "String", length(min = 1, max = 120))]
    pub title: Spanned<String>,
    #[schemars(with = "String", length(min = 1, max = 30000))]
    pub body: Spanned<String>,
    #[serde(default)]
    pub watch: bool,
    #[serde(default)]
    #[schemars(with = "Vec<String>", length(max = 10))]
    pub hints: Vec<Spanned<String>>,
    /// The commands that complete the step, as the learner would type them; lesson CI
    /// runs them (required: a step that cannot be proven cannot be trusted).
    #[schemars(with = "String")]
    pub solution: Spanned<String>,
    #[serde(default)]
    pub preview: Vec<PortNumber>,
    #[schemars(with = "Vec<RawCheck>", length(min = 1, max = 30))]
    pub checks: Vec<Spanned<Tolerant<RawCheck>>>,
}

/// A check: its name, failure message and time limit, and exactly one kind.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub name: Option<String>,
    pub fail: Option<String>,
    /// Seconds this check may take (1-120; default 10).
    #[schemars(range(min = 1, max = 120))]
    pub timeout: Option<u64>,
    /// An invariant that should already hold ("the database is still there"): lesson CI
    /// requires it to pass before and after the solution instead of failing before it.
    #[serde(default)]
    pub guard: bool,
    pub file: Option<FileCheck>,
    pub command: Option<CommandCheck>,
    pub http: Option<HttpCheck>,
    pub port: Option<PortCheck>,
    pub process: Option<ProcessCheck>,
    pub service: Option<ServiceCheck>,
    pub package: Option<PackageCheck>,
    pub user: Option<UserCheck>,
    pub group: Option<GroupCheck>,
    pub cron: Option<CronCheck>,
    pub tls: Option<TlsCheck>,
    pub script: Option<ScriptCheck>,
}

/// The levels, for the schema (the loader checks the value and says where it is wrong).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

/// A YAML mapping kept in the order it was written (serde's maps sort or hash their keys).
#[derive(Debug)]
pub struct InFileOrder<V>(pub Vec<(String, V)>);

impl<V> Default for InFileOrder<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for InFileOrder<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<V> {
            type Value = InFileOrder<V>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of names to values")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, V>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!(
                            "`{key}` is defined twice"
                        )));
                    }
                    entries.push((key, value));
                }
                Ok(InFileOrder(entries))
            }
        }

        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}
