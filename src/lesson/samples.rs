//! Sample draws of a lesson's values, for validation: every template is rendered with each
//! draw, so a render error or a value that grows too long is found at load time, not in
//! front of a learner. Draw `k` takes the `k`-th word of every `pick` (so every word is
//! tried), alternately the lowest and the highest port, and a password of its full length.

use super::render::Values;
use super::{Var, limits, template};

/// A var whose value could not be made: its position among the vars, and why.
pub type VarProblem = (usize, String);

/// The draws for `vars`, and the vars that could not be made in some draw.
pub fn draws(vars: &[(String, Var)]) -> (Vec<Values>, Vec<VarProblem>) {
    let widest_pick = vars
        .iter()
        .filter_map(|(_, var)| match var {
            Var::Pick(words) => Some(words.len()),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let mut problems: Vec<VarProblem> = Vec::new();
    let draws = (0..widest_pick.max(2))
        .map(|k| {
            let mut values = Values::new();
            for (index, (name, var)) in vars.iter().enumerate() {
                let value = match var {
                    Var::RandomPort { low, high } => {
                        if k % 2 == 0 { low } else { high }.to_string()
                    }
                    Var::Pick(words) => words[k % words.len()].clone(),
                    Var::RandomPassword(length) => {
                        "Pw3".repeat(*length).chars().take(*length).collect()
                    }
                    Var::Value(text) => {
                        match template::render(text, &values, limits::MAX_VAR_CHARS) {
                            Ok(value) => value,
                            Err(e) => {
                                if !problems.iter().any(|(i, _)| *i == index) {
                                    problems.push((index, describe(&e)));
                                }
                                String::new()
                            }
                        }
                    }
                };
                values.insert(name.clone(), value);
            }
            values
        })
        .collect();
    (draws, problems)
}

/// A template error in an author's words (minijinja's own text, without its debug info).
pub fn describe(error: &minijinja::Error) -> String {
    let mut text = match error.detail() {
        Some(detail) => detail.to_string(),
        None => error.kind().to_string(),
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    if matches!(error.kind(), minijinja::ErrorKind::OutOfFuel) {
        return "it takes too long to render (a loop that runs too often)".into();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pick_word_is_drawn_and_ports_reach_both_ends() {
        let vars = vec![
            (
                "port".to_string(),
                Var::RandomPort {
                    low: 8000,
                    high: 8999,
                },
            ),
            (
                "who".to_string(),
                Var::Pick(vec!["asha".into(), "bikash".into(), "chandra".into()]),
            ),
        ];
        let (draws, problems) = draws(&vars);
        assert!(problems.is_empty());
        let words: Vec<&str> = draws.iter().map(|d| d["who"].as_str()).collect();
        assert_eq!(words, ["asha", "bikash", "chandra"]);
        assert_eq!(draws[0]["port"], "8000");
        assert_eq!(draws[1]["port"], "8999");
    }

    #[test]
    fn a_doubling_chain_stops_at_the_var_limit() {
        let mut vars = vec![("a0".to_string(), Var::Value("xxxxxxxx".into()))];
        for i in 1..40 {
            vars.push((
                format!("a{i}"),
                Var::Value(format!("{{{{ a{0} }}}}{{{{ a{0} }}}}", i - 1)),
            ));
        }
        let (_, problems) = draws(&vars);
        // 8 * 2^7 = 1024 still fits; a8 is the first var past the limit.
        assert_eq!(problems[0].0, 8, "{problems:?}");
        assert!(
            problems[0].1.contains("past 1024 characters"),
            "{problems:?}"
        );
    }
}
