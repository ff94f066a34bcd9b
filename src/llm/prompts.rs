//! The prompt templates: `report-templates/llm/*.txt`, embedded at build time and overridden by a
//! workspace's own files of the same name. They are handlebars, as every template: `{{name}}` is
//! replaced by a value, never HTML-escaped; a name the caller does not give is an error naming
//! the file, so a typo in an edited prompt is caught before anything is sent.

use std::path::Path;

use anyhow::Result;

use crate::error::user;

/// The built-in prompts, by name.
const BUILT_IN: &[(&str, &str)] = &[
    ("system", include_str!("../../report-templates/llm/system.txt")),
    ("shop", include_str!("../../report-templates/llm/shop.txt")),
    ("customer", include_str!("../../report-templates/llm/customer.txt")),
    ("at_risk", include_str!("../../report-templates/llm/at_risk.txt")),
    ("segments", include_str!("../../report-templates/llm/segments.txt")),
    ("actions", include_str!("../../report-templates/llm/actions.txt")),
    ("answer", include_str!("../../report-templates/llm/answer.txt")),
    ("sql", include_str!("../../report-templates/llm/sql.txt")),
    ("retry", include_str!("../../report-templates/llm/retry.txt")),
];

/// The prompt `name` with its placeholders filled: the workspace's
/// `report-templates/llm/NAME.txt` when `dir` holds one, else the built-in.
pub fn render(name: &str, dir: Option<&Path>, vars: &[(&str, &str)]) -> Result<String> {
    let own = dir.map(|d| d.join(format!("{name}.txt"))).filter(|p| p.exists());
    let (text, origin) = match &own {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| user(format!("cannot read {}: {e}", p.display())))?,
            p.display().to_string(),
        ),
        None => {
            let t = BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
            (
                t.ok_or_else(|| user(format!("no prompt `{name}`")))?.to_string(),
                format!("report-templates/llm/{name}.txt"),
            )
        }
    };
    fill(&text, vars).map_err(|why| match why {
        Unfilled::Missing(missing) => {
            let known: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
            user(format!(
                "{origin}: `{{{{{missing}}}}}` is not a value this prompt gets; it gets: {}",
                known.join(", ")
            ))
        }
        Unfilled::Broken(e) => user(format!("{origin}: {e}")),
    })
}

/// Renders `text` with handlebars in strict mode and without HTML escaping (a prompt is plain
/// text): `Err` names the first value the text asks for that `vars` does not give, or says where
/// the template does not parse.
pub fn fill(text: &str, vars: &[(&str, &str)]) -> std::result::Result<String, Unfilled> {
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    let data: serde_json::Map<String, serde_json::Value> =
        vars.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string()))).collect();
    hb.render_template(text, &data).map_err(|e| match e.reason() {
        handlebars::RenderErrorReason::MissingVariable(Some(name)) => Unfilled::Missing(name.clone()),
        _ => Unfilled::Broken(e.to_string()),
    })
}

/// Why a prompt could not be filled.
#[derive(Debug, PartialEq)]
pub enum Unfilled {
    /// It asks for a value the caller does not give.
    Missing(String),
    /// It is not a template handlebars can read (with where).
    Broken(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_names_unknown_placeholders() {
        assert_eq!(fill("a {{x}} b {{ y }}", &[("x", "1"), ("y", "{{x}} <&>")]).unwrap(), "a 1 b {{x}} <&>");
        assert_eq!(fill("{{nope}}", &[]).unwrap_err(), Unfilled::Missing("nope".into()));
        assert!(matches!(fill("{{#if x}}open", &[("x", "1")]).unwrap_err(), Unfilled::Broken(_)));
        let err = render("shop", None, &[("facts", "{}")]).unwrap_err().to_string();
        assert!(err.contains("report-templates/llm/shop.txt") && err.contains("as_of"), "{err}");
    }

    #[test]
    fn a_workspace_file_overrides_the_built_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("shop.txt"), "mine: {{facts}}").unwrap();
        assert_eq!(render("shop", Some(dir.path()), &[("facts", "F")]).unwrap(), "mine: F");
        assert!(render("customer", Some(dir.path()), &[]).is_err());
    }
}
