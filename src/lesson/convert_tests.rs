//! Tests of lesson loading: good lessons load, broken ones are reported where they break.
use super::*;
use crate::check::Check;

const GOOD: &str = "\
title: First steps
summary: Files and folders on a server.
track: foundations
level: beginner
minutes: 15
vars:
  port: { random_port: [8000, 8999] }
  site: { value: \"app-{{ port }}\" }
steps:
  - title: Make a folder
    body: Make `~/projects` for port {{ port }}.
    hints: [Use mkdir.]
    solution: mkdir ~/projects
    checks:
      - name: The folder exists
        fail: \"No folder yet: {{ actual }}\"
        file: { path: /home/learner/projects, type: directory }
";

fn errors(text: &str) -> Vec<String> {
    parse(
        "demo",
        Path::new("lessons/demo"),
        Path::new("lessons/demo/lesson.yaml"),
        text,
    )
    .unwrap_err()
    .iter()
    .map(ToString::to_string)
    .collect()
}

#[test]
fn a_good_lesson_loads() {
    let lesson = parse("demo", Path::new("d"), Path::new("d/lesson.yaml"), GOOD).unwrap();
    assert_eq!(lesson.steps[0].checks[0].name, "The folder exists");
    assert_eq!(lesson.vars.len(), 2);
    assert!(matches!(lesson.steps[0].checks[0].check, Check::File(_)));
}

#[test]
fn a_misspelt_key_gets_its_place_and_a_suggestion() {
    let text = GOOD.replace("minutes: 15", "minuts: 15");
    assert_eq!(
        errors(&text),
        vec!["lessons/demo/lesson.yaml:5:1: unknown key `minuts`; did you mean `minutes`?"]
    );
}

#[test]
fn a_misspelt_check_kind_is_caught_at_its_line() {
    let text = GOOD.replace("file: { path", "fiel: { path");
    let found = errors(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("lessons/demo/lesson.yaml:17:9:"),
        "{found:?}"
    );
    assert!(found[0].contains("did you mean `file`?"), "{found:?}");
}

#[test]
fn every_semantic_problem_is_reported_not_just_the_first() {
    let text = GOOD
        .replace("level: beginner", "level: expert")
        .replace(
            "{ random_port: [8000, 8999] }",
            "{ random_port: [9000, 8000] }",
        )
        .replace("hints: [Use mkdir.]", "hints: [\"Use {{ mkdir\"]")
        .replace(
            "file: { path: /home/learner/projects, type: directory }",
            "file: { path: /x }\n        port: { port: 80 }",
        );
    let found = errors(&text);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found[0].contains(":4:8: level must be one of beginner, intermediate, advanced"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|e| e.contains(":7:") && e.contains("random_port")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|e| e.contains(":12:13: hint 1 of step") && e.contains("not a valid template")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|e| e.contains("has file and port")),
        "{found:?}"
    );
}

#[test]
fn a_wrong_type_and_broken_yaml_are_located() {
    let wrong_type = errors(&GOOD.replace("minutes: 15", "minutes: fifteen"));
    assert!(
        wrong_type[0].starts_with("lessons/demo/lesson.yaml:5:10:"),
        "{wrong_type:?}"
    );
    let broken = errors(&GOOD.replace("level: beginner", "level: [beginner"));
    assert!(
        broken[0].starts_with("lessons/demo/lesson.yaml:4:"),
        "{broken:?}"
    );
}

#[test]
fn a_shell_length_in_a_check_script_is_caught_with_advice() {
    // `${#x}` opens a template comment; rendered, the script would silently lose its vars.
    let text = GOOD.replace(
        "        file: { path: /home/learner/projects, type: directory }\n",
        "        script: { run: \"x=$(cat /tmp/v); [ ${#x} = 4 ] && [ $x = {{ port }} ]\" }\n",
    );
    let found = errors(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("lessons/demo/lesson.yaml:15:9:"),
        "{found:?}"
    );
    assert!(
        found[0].contains("a text of this script check"),
        "{found:?}"
    );
    assert!(found[0].contains("{% raw %}"), "{found:?}");
}

#[test]
fn setup_and_solutions_are_checked_as_templates() {
    let text = GOOD
        .replace(
            "solution: mkdir ~/projects",
            "solution: mkdir {{ port ~/projects",
        )
        .replace("steps:\n", "setup: \"echo {% if %}\"\nsteps:\n");
    let found = errors(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found
            .iter()
            .any(|e| e.contains(":9:8: the setup is not a valid template")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|e| e.contains(":14:15: the solution of step")),
        "{found:?}"
    );
}

#[test]
fn vars_are_made_in_file_order() {
    let text = GOOD.replace(
        "  port: { random_port: [8000, 8999] }\n  site: { value: \"app-{{ port }}\" }\n",
        "  patch: { pick: [\"7\"] }\n  good_version: { value: \"1.1.{{ patch }}\" }\n  port: { random_port: [8000, 8999] }\n",
    );
    let lesson = parse("demo", Path::new("d"), Path::new("d/lesson.yaml"), &text).unwrap();
    let names: Vec<&str> = lesson.vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["patch", "good_version", "port"]);
    let values = crate::lesson::render::generate(&lesson);
    assert_eq!(values["good_version"], "1.1.7");
}

#[test]
fn a_template_naming_an_unknown_or_later_var_is_reported() {
    let text = GOOD
        .replace("for port {{ port }}", "for port {{ prot }}")
        .replace(
            "site: { value: \"app-{{ port }}\" }",
            "site: { value: \"{{ later }}\" }\n  later: { pick: [a] }",
        );
    let found = errors(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found.iter().any(|e| e.contains(":8:")
            && e.contains("var `site` uses `{{ later }}`, but no var `later` is defined")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|e| e.contains("uses `{{ prot }}`") && e.contains("did you mean `port`?")),
        "{found:?}"
    );
}

#[test]
fn every_shape_error_is_reported_in_one_run_with_the_other_problems() {
    let text = GOOD
        .replace("minutes: 15", "minutes: fifteen")
        .replace(
            "hints: [Use mkdir.]",
            "hints: [Use mkdir.]\n    watch: maybe",
        )
        .replace("level: beginner", "level: expert")
        + "  - title: Another\n    body: More.\n    solution: \"true\"\n    checks:\n                 - file: { path: /x, mdoe: \"0644\" }\n";
    let found = errors(&text);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].contains(":4:8: level must be one of"), "{found:?}");
    assert!(
        found[1].contains(":5:10: expected a whole number"),
        "{found:?}"
    );
    assert!(
        found[2].contains(":13:12: expected true or false here"),
        "{found:?}"
    );
    assert!(
        found[3].contains("unknown key `mdoe`; did you mean `mode`?"),
        "{found:?}"
    );
}

#[test]
fn a_broken_var_is_reported_once_not_again_where_it_is_used() {
    let text = GOOD.replace(
        "{ random_port: [8000, 8999] }",
        "{ random_prot: [8000, 8999] }",
    );
    let found = errors(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains(":7:11: unknown key `random_prot`"),
        "{found:?}"
    );
}

#[test]
fn a_template_problem_points_at_its_own_line_and_names_which_hint() {
    let text = GOOD
        .replace(
            "hints: [Use mkdir.]",
            "hints:\n      - Use mkdir.\n      - \"Then {{ prot }}.\"",
        )
        .replace(
            "body: Make `~/projects` for port {{ port }}.",
            "body: |\n      Make `~/projects`\n      for port {{ port | shout }}.",
        );
    let found = errors(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].contains(
            ":13:7: the body of step \"Make a folder\" cannot be rendered: filter shout is unknown"
        ),
        "{found:?}"
    );
    assert!(
        found[1].contains(":16:9: hint 2 of step \"Make a folder\" uses `{{ prot }}`"),
        "{found:?}"
    );
}

#[test]
fn broken_yaml_is_reported_once_in_plain_words() {
    let found = errors(&GOOD.replace("    solution: mkdir", "\tsolution: mkdir"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("a tab is used for indentation here; YAML needs spaces"),
        "{found:?}"
    );
}
