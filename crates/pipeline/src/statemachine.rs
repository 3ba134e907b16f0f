//! The state machine definition (`statemachine/cfinv.asl.json`) and its `${...}` substitutions.
//!
//! CloudFormation fills the placeholders through `DefinitionSubstitutions`; local runs and tests
//! fill them here, the same textual way, so both see the same definition. Every placeholder sits
//! inside a JSON string (the function ARNs): CloudFormation documents `DefinitionSubstitutions`
//! as strings, and an unquoted numeric placeholder is not reliably accepted once SAM packages the
//! definition to S3 (`DefinitionS3Location`). What an operator tunes (the Map's concurrency, the
//! waits) is read at run time instead (`MaxConcurrencyPath`, `SecondsPath`), from values the
//! functions take from their environment; retry policies are fixed in the definition.

use std::collections::BTreeMap;

/// The definition, as committed.
pub const DEFINITION: &str = include_str!("../../../statemachine/cfinv.asl.json");

/// Placeholders with defaults: none since every number is fixed in the definition or read at run
/// time (kept so a future string placeholder may have one; documented in `statemachine/README.md`).
pub const DEFAULTS: &[(&str, &str)] = &[];

/// The placeholders that name the functions: no default, the deployment supplies them.
pub const FUNCTION_ARNS: &[&str] = &["CollectFunctionArn", "InvalidateFunctionArn", "ReportFunctionArn"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("no value for ${{{0}}}")]
    Missing(String),
    #[error("unknown substitution {0}")]
    Unknown(String),
    #[error("the rendered definition is not JSON: {0}")]
    NotJson(String),
}

/// Every placeholder name in a template, in order of first appearance.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].to_owned();
        if !out.contains(&name) {
            out.push(name);
        }
        rest = &after[end + 1..];
    }
    out
}

/// Renders the definition: `values` override the defaults and must give the function ARNs.
pub fn render(template: &str, values: &BTreeMap<String, String>) -> Result<String, RenderError> {
    let names = placeholders(template);
    if let Some(unknown) = values.keys().find(|k| !names.contains(k)) {
        return Err(RenderError::Unknown(unknown.clone()));
    }
    let mut out = template.to_owned();
    for name in &names {
        let value = values
            .get(name)
            .map(String::as_str)
            .or_else(|| DEFAULTS.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
            .ok_or_else(|| RenderError::Missing(name.clone()))?;
        out = out.replace(&format!("${{{name}}}"), value);
    }
    serde_json::from_str::<serde_json::Value>(&out).map_err(|e| RenderError::NotJson(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorType;

    fn arns() -> BTreeMap<String, String> {
        FUNCTION_ARNS
            .iter()
            .map(|n| (n.to_string(), format!("arn:aws:lambda:us-east-1:123456789012:function:{n}")))
            .collect()
    }

    #[test]
    fn every_placeholder_has_a_value_or_a_default() {
        let names = placeholders(DEFINITION);
        for n in &names {
            assert!(
                DEFAULTS.iter().any(|(d, _)| d == n) || FUNCTION_ARNS.contains(&n.as_str()),
                "${{{n}}} has neither a default nor is a function ARN"
            );
        }
        let rendered = render(DEFINITION, &arns()).unwrap();
        assert!(!rendered.contains("${"));
        let v: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(v["States"]["InvalidateUnits"]["MaxConcurrencyPath"], "$.run.mapConcurrency");
    }

    /// What SAM packages must be JSON before any substitution: every placeholder inside a string.
    #[test]
    fn no_placeholder_is_left_outside_a_string() {
        let committed: serde_json::Value = serde_json::from_str(DEFINITION)
            .expect("statemachine/cfinv.asl.json is JSON as committed (no unquoted ${...} placeholder)");
        fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Array(a) => a.iter().for_each(|i| strings(i, out)),
                serde_json::Value::Object(m) => m.iter().for_each(|(k, i)| {
                    out.push(k.clone());
                    strings(i, out)
                }),
                _ => {}
            }
        }
        let mut all = Vec::new();
        strings(&committed, &mut all);
        for name in placeholders(DEFINITION) {
            assert!(FUNCTION_ARNS.contains(&name.as_str()), "${{{name}}} is not a function ARN");
            let exact = all.iter().any(|s| s == &format!("${{{name}}}"));
            assert!(exact, "${{{name}}} is a whole string value, as CloudFormation substitutes it");
        }
    }

    /// The loop a unit goes through: step, wait what the step says, step again, until done; and a
    /// step that keeps failing ends the iteration, not the Map.
    #[test]
    fn a_units_loop_waits_in_step_functions_and_catches_its_own_failure() {
        let v: serde_json::Value = serde_json::from_str(&render(DEFINITION, &arns()).unwrap()).unwrap();
        let map = &v["States"]["InvalidateUnits"];
        assert_eq!(map["ResultPath"], serde_json::Value::Null, "iteration results are dropped: the state stays small");
        let states = &map["ItemProcessor"]["States"];
        assert_eq!(states["Step"]["Next"], "UnitDone");
        assert_eq!(states["WaitForCloudFront"]["SecondsPath"], "$.wait");
        assert_eq!(states["WaitForCloudFront"]["Next"], "Step");
        assert_eq!(states["Step"]["Catch"][0]["ErrorEquals"][0], "States.ALL");
        assert_eq!(states[states["Step"]["Catch"][0]["Next"].as_str().unwrap()]["End"], true);
        assert_eq!(v["States"]["RedriveGate"]["Next"], "MorePages", "a redrive goes through the same loop");
    }

    #[test]
    fn every_placeholder_is_documented_with_its_default() {
        let readme = include_str!("../../../statemachine/README.md");
        for n in placeholders(DEFINITION) {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `${{{n}}}` |")))
                .unwrap_or_else(|| panic!("${{{n}}} is not in the substitutions table of statemachine/README.md"));
            if let Some((_, default)) = DEFAULTS.iter().find(|(d, _)| *d == n) {
                assert!(row.contains(&format!("| {default} |")), "README default for {n} differs: {row}");
            }
        }
    }

    /// Every `ErrorEquals` name of the definition, with whether it appears in a `Retry` (else only
    /// in a `Catch`).
    fn error_equals(v: &serde_json::Value, in_retry: bool, out: &mut Vec<(String, bool)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map {
                    match (k.as_str(), child) {
                        ("ErrorEquals", serde_json::Value::Array(names)) => {
                            out.extend(names.iter().filter_map(|n| n.as_str()).map(|n| (n.to_owned(), in_retry)))
                        }
                        ("Retry", _) => error_equals(child, true, out),
                        ("Catch", _) => error_equals(child, false, out),
                        _ => error_equals(child, in_retry, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| error_equals(i, in_retry, out)),
            _ => {}
        }
    }

    /// The error table of `statemachine/README.md`: (name, retried), one row per `errorType`.
    fn readme_error_rows() -> Vec<(String, bool)> {
        let readme = include_str!("../../../statemachine/README.md");
        let table =
            readme.split("## Error names").nth(1).expect("statemachine/README.md has an `## Error names` section");
        table
            .lines()
            .skip_while(|l| !l.starts_with("| name |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .flat_map(|row| {
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                let retried = cells.get(3).is_some_and(|c| c.starts_with("yes"));
                cells[1].split(',').map(|n| (n.trim().trim_matches('`').to_owned(), retried)).collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn every_error_name_of_the_definition_is_an_error_type() {
        let v: serde_json::Value = serde_json::from_str(&render(DEFINITION, &arns()).unwrap()).unwrap();
        let mut names = Vec::new();
        error_equals(&v, false, &mut names);
        assert!(names.len() > 10, "the definition matches errors: {names:?}");
        for (name, _) in &names {
            let service = ["Lambda.", "States.", "Sandbox.", "Runtime."].iter().any(|p| name.starts_with(p));
            assert!(service || ErrorType::from_name(name).is_some(), "{name} in cfinv.asl.json is not an ErrorType");
        }
    }

    #[test]
    fn the_readme_table_names_every_error_type_and_its_retries_are_in_the_definition() {
        let v: serde_json::Value = serde_json::from_str(&render(DEFINITION, &arns()).unwrap()).unwrap();
        let mut matched = Vec::new();
        error_equals(&v, false, &mut matched);
        let rows = readme_error_rows();
        for (name, retried) in &rows {
            let service = ["Lambda.", "States.", "Sandbox.", "Runtime."].iter().any(|p| name.starts_with(p));
            assert!(service || ErrorType::from_name(name).is_some(), "README row {name} is not an ErrorType");
            let has_retry = matched.iter().any(|(n, in_retry)| n == name && *in_retry);
            if *retried {
                assert!(has_retry, "statemachine/README.md says {name} is retried, but no Retry matches it");
            } else {
                assert!(!has_retry, "statemachine/README.md says {name} is not retried, but a Retry matches it");
            }
        }
        for e in ErrorType::all() {
            assert!(rows.iter().any(|(n, _)| n == e.as_str()), "{e} has no row in statemachine/README.md");
        }
    }

    #[test]
    fn missing_and_unknown_values_are_errors() {
        assert_eq!(render(DEFINITION, &BTreeMap::new()), Err(RenderError::Missing("CollectFunctionArn".into())));
        let mut v = arns();
        v.insert("Nope".into(), "1".into());
        assert_eq!(render(DEFINITION, &v), Err(RenderError::Unknown("Nope".into())));
        assert!(matches!(
            render("{\"a\": ${X}}", &[("X".to_owned(), "two".to_owned())].into()),
            Err(RenderError::NotJson(_))
        ));
    }
}
