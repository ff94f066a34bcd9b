//! Automations as code: `[[automation]]` tables in `scudo.toml` and in `automations/*.toml` of the
//! workspace (docs/automations.md). Each is read with its file, line and column in errors, and
//! checked here for what the types cannot say (one trigger, a known time zone, durations).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::user;

/// One automation as written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AutomationDef {
    pub name: String,
    /// 5-field cron (6 with seconds), in `timezone`.
    pub cron: Option<String>,
    /// An IANA time zone; default: the workspace's, else UTC.
    pub timezone: Option<String>,
    /// Run after every `ingest` or `score` that committed.
    pub after: Option<String>,
    /// A query (id or `queries/….sql`): the automation runs when it returns rows.
    pub when: Option<String>,
    /// email-campaign, digest, webhook, check, score, ingest, or a plugin (`scudo-action-NAME`).
    pub action: String,
    /// An executable to run as the action (a plugin anywhere on disk).
    pub exec: Option<String>,
    /// The report template (email-campaign, digest).
    pub template: Option<String>,
    /// The query whose rows are the audience.
    pub audience: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `customer` (one message each) or `owner` (one message listing the audience).
    #[serde(default = "customer")]
    pub recipient: String,
    /// Recipients of digests and owner messages; default `[automations] owner`.
    #[serde(default)]
    pub to: Vec<String>,
    /// This automation reaches a customer at most once per this long (`30d`).
    pub cooldown: Option<String>,
    /// Do nothing (status `skipped`) when the audience is empty.
    #[serde(default)]
    pub skip_if_empty: bool,
    /// `pass` (every check passes) or `no-errors` (warnings allowed): else withheld.
    pub require_checks: Option<String>,
    /// Withheld when the newest import is older than this (`26h`).
    pub max_data_age: Option<String>,
    /// Missed runs while scudo was down: `once` (one catch-up run) or `skip`.
    #[serde(default = "once")]
    pub catch_up: String,
    /// Webhook: where to POST.
    pub url: Option<String>,
    /// Webhook: the environment variable holding the signing secret.
    pub secret_env: Option<String>,
    /// Plugins: how long they may run (`60s`).
    pub timeout: Option<String>,
    /// Ingest: the folder exports land in (relative to the workspace).
    pub folder: Option<String>,
    /// Parameters for the template and the audience query.
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
    /// Where it was defined (file), for messages.
    #[serde(skip)]
    pub origin: String,
}

fn yes() -> bool {
    true
}
fn customer() -> String {
    "customer".into()
}
fn once() -> String {
    "once".into()
}

/// The built-in action names.
pub const BUILTIN_ACTIONS: &[&str] = &["email-campaign", "digest", "webhook", "check", "score", "ingest"];

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    automation: Vec<AutomationDef>,
}

/// The `[[automation]]` tables of one TOML text (`origin` names it in errors). Other keys are
/// left to the settings.
pub fn parse(text: &str, origin: &str) -> Result<Vec<AutomationDef>> {
    let f: File = toml::from_str(text).map_err(|e| user(format!("{origin}: {}", e.to_string().trim_end())))?;
    let mut out = f.automation;
    for a in &mut out {
        a.origin = origin.to_string();
        a.check().map_err(|e| user(format!("{origin}: automation `{}`: {e}", a.name)))?;
    }
    Ok(out)
}

/// Every automation of the workspace at `root`: `scudo.toml`'s, then `automations/*.toml` in name
/// order. Two with one name are an error naming both places.
pub fn load(root: &Path, settings_text: &str) -> Result<Vec<AutomationDef>> {
    let mut all = parse(settings_text, &root.join(super::SETTINGS_FILE).display().to_string())?;
    let dir = root.join("automations");
    if dir.is_dir() {
        for path in super::files_under(&dir, "toml")? {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            all.extend(parse(&text, &path.display().to_string())?);
        }
    }
    for (i, a) in all.iter().enumerate() {
        if let Some(b) = all[..i].iter().find(|b| b.name == a.name) {
            return Err(user(format!(
                "two automations are named `{}`: in {} and in {}; rename one",
                a.name, b.origin, a.origin
            )));
        }
    }
    Ok(all)
}

impl AutomationDef {
    fn check(&self) -> std::result::Result<(), String> {
        if self.name.trim().is_empty()
            || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err("the name may hold letters, digits, `-`, `_` and `.` only".into());
        }
        let triggers = [self.cron.is_some(), self.after.is_some()].iter().filter(|t| **t).count();
        if triggers > 1 {
            return Err("give one trigger: `cron` or `after` (a `when` query may go with either)".into());
        }
        if triggers == 0 && self.when.is_none() {
            return Err(
                "no trigger: give `cron = \"0 9 * * MON\"`, `after = \"ingest\"` or `when = \"queries/…\"`".into()
            );
        }
        if let Some(a) = &self.after
            && !matches!(a.as_str(), "ingest" | "score")
        {
            return Err(format!("after = `{a}`: use \"ingest\" or \"score\""));
        }
        if let Some(tz) = &self.timezone
            && crate::store::calendar::parse_zone(tz).is_none()
        {
            return Err(format!("timezone = `{tz}` is not an IANA time zone (e.g. \"Europe/Rome\")"));
        }
        if let Some(c) = &self.cron {
            super::schedule::Schedule::parse(c, chrono_tz::Tz::UTC)?;
        }
        for (key, v) in [("cooldown", &self.cooldown), ("max_data_age", &self.max_data_age), ("timeout", &self.timeout)]
        {
            if let Some(v) = v {
                duration(v).map_err(|e| format!("{key} = `{v}`: {e}"))?;
            }
        }
        if let Some(r) = &self.require_checks
            && !matches!(r.as_str(), "pass" | "no-errors")
        {
            return Err(format!("require_checks = `{r}`: use \"pass\" or \"no-errors\""));
        }
        if !matches!(self.catch_up.as_str(), "once" | "skip") {
            return Err(format!("catch_up = `{}`: use \"once\" or \"skip\"", self.catch_up));
        }
        if !matches!(self.recipient.as_str(), "customer" | "owner") {
            return Err(format!("recipient = `{}`: use \"customer\" or \"owner\"", self.recipient));
        }
        match self.action.as_str() {
            "email-campaign" if self.template.is_none() || self.audience.is_none() => {
                return Err("action = \"email-campaign\" needs `template` and `audience`".into());
            }
            "webhook" => {
                let url = self.url.as_deref().unwrap_or("");
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err("action = \"webhook\" needs `url = \"https://…\"`".into());
                }
            }
            "ingest" if self.folder.is_none() => {
                return Err("action = \"ingest\" needs `folder` (where the exports land)".into());
            }
            "" => return Err("`action` is empty".into()),
            _ => {}
        }
        Ok(())
    }

    /// The automation's time zone: its own, else the workspace's, else UTC.
    pub fn zone(&self, workspace: Option<chrono_tz::Tz>) -> chrono_tz::Tz {
        self.timezone
            .as_deref()
            .and_then(crate::store::calendar::parse_zone)
            .or(workspace)
            .unwrap_or(chrono_tz::Tz::UTC)
    }

    /// What triggers it, in words (`cron 0 9 * * MON`, `after ingest`, `when queries/x.sql`).
    pub fn trigger(&self) -> String {
        let mut t = match (&self.cron, &self.after) {
            (Some(c), _) => format!("cron {c}"),
            (None, Some(a)) => format!("after {a}"),
            _ => String::new(),
        };
        if let Some(w) = &self.when {
            if !t.is_empty() {
                t.push_str(", ");
            }
            t.push_str(&format!("when {w} has rows"));
        }
        t
    }
}

/// `90s`, `15m`, `26h`, `7d`, `2w` (a bare number is seconds).
pub fn duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let unit = s[digits.len()..].trim();
    let n: u64 = digits.parse().map_err(|_| "write a duration such as \"90s\", \"15m\", \"26h\" or \"7d\"")?;
    let secs = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("unknown unit `{unit}`: use s, m, h, d or w")),
    };
    Ok(Duration::from_secs(n * secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_is_accepted_as_written() {
        let text = r#"
[[automation]]
name = "monday-at-risk"
cron = "0 9 * * MON"
timezone = "Europe/Rome"
action = "email-campaign"
template = "campaigns/at-risk"     # a report template
audience = "campaigns.at_risk"     # a query id (queries/campaigns/at_risk.sql): who receives it
enabled = true
"#;
        let a = parse(text, "scudo.toml").unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].name, "monday-at-risk");
        assert_eq!(a[0].zone(None), chrono_tz::Europe::Rome);
    }

    #[test]
    fn mistakes_name_the_file_the_line_and_what_to_do() {
        let e =
            parse("[[automation]]\nname = \"x\"\ncron = \"0 9 * * MON\"\naction = \"check\"\ncolour = 1\n", "a.toml")
                .unwrap_err()
                .to_string();
        assert!(e.contains("a.toml") && e.contains("line 5") && e.contains("colour"), "{e}");
        let e = parse("[[automation]]\nname = \"x\"\ncron = \"0 25 * * *\"\naction = \"check\"\n", "a.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cron"), "{e}");
        let e = parse("[[automation]]\nname = \"x\"\naction = \"check\"\n", "a.toml").unwrap_err().to_string();
        assert!(e.contains("no trigger"), "{e}");
        let e = parse(
            "[[automation]]\nname = \"x\"\ncron = \"* * * * *\"\ntimezone = \"Mars/Olympus\"\naction = \"check\"\n",
            "a.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("Mars/Olympus"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(duration("26h").unwrap(), Duration::from_secs(26 * 3600));
        assert_eq!(duration("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(duration("90").unwrap(), Duration::from_secs(90));
        assert!(duration("soon").is_err() && duration("3y").is_err());
    }
}
