//! Stage 2: where the workspace is and what its settings are.
//!
//! Settings are resolved as defaults < `scudo.toml` < `SCUDO_*` environment < flags. The workspace
//! is found the way git finds a repository: the given directory, else the current directory and
//! its parents, the first one holding `scudo.toml`.

pub mod automations;
pub mod currencies;
pub mod schedule;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::user;

/// The commented settings file written by `scudo init`; its values are the defaults.
pub const SETTINGS_TEMPLATE: &str = include_str!("scudo.toml");
/// The name of the settings file that marks a workspace.
pub const SETTINGS_FILE: &str = "scudo.toml";

/// All settings of a workspace.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub workspace: WorkspaceSettings,
    pub health: HealthSettings,
    pub models: ModelSettings,
    pub ingest: IngestSettings,
    pub freshness: FreshnessSettings,
    pub checks: CheckSettings,
    pub smtp: SmtpSettings,
    pub serve: ServeSettings,
    pub llm: LlmSettings,
    pub retention: RetentionSettings,
    pub sources: SourcesSettings,
    pub automations: AutomationSettings,
    /// The `[[automation]]` tables of scudo.toml and automations/*.toml (read apart from the
    /// settings, with their own positions in errors).
    #[serde(skip)]
    pub automation: Vec<automations::AutomationDef>,
}

/// How exports are read.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourcesSettings {
    /// The IANA time zone HubSpot and Salesforce write their timestamps in (they carry no offset):
    /// the portal's or org's zone. Empty: read as UTC.
    pub timezone: String,
}

/// How much score history is kept (`scudo score` and `scudo doctor --fix` apply it).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Every day's latest scoring run is kept for this many days (counted back from the latest run).
    pub score_daily_days: i64,
    /// Then each week's latest run up to this many days back; older: each month's latest run.
    pub score_weekly_days: i64,
}

impl RetentionSettings {
    pub fn rule(&self) -> crate::store::maintenance::Retention {
        crate::store::maintenance::Retention {
            daily_days: self.score_daily_days.max(0),
            weekly_days: self.score_weekly_days.max(0),
        }
    }
}

/// What every automation shares: the owner who gets notices, the caps, the public address of
/// the unsubscribe links.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AutomationSettings {
    /// Who gets "withheld because …" notices and owner messages (VIP escalation).
    pub owner: String,
    /// A customer gets at most one campaign email within this long, across every campaign; "0": no cap.
    pub frequency_cap: String,
    /// The address the world reaches `scudo serve` at (HTTPS, e.g. behind a proxy): the base of
    /// the unsubscribe links in campaign emails.
    pub public_url: String,
    /// How often the scheduler looks for `after` and `when` triggers, in seconds.
    pub poll_seconds: u64,
    /// Tries per webhook delivery (waiting 1 s, 2 s, 4 s, … between them).
    pub webhook_retries: u32,
}

/// `scudo serve`: live-event thresholds and single sign-on through a reverse proxy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServeSettings {
    /// Total revenue levels (reporting currency) whose crossing is a live event.
    pub revenue_thresholds: Vec<f64>,
    /// The header a reverse proxy sets to the signed-in user (e.g. `X-Forwarded-User`); empty: off.
    pub trusted_user_header: String,
}

/// The language model that phrases insights (`[llm]`); none when `base_url` is empty.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// An OpenAI-compatible API root (`http://127.0.0.1:11434/v1`); empty: no model.
    pub base_url: String,
    pub model: String,
    /// The *name* of the environment variable holding the API key; empty: no key is sent.
    pub api_key_env: String,
    pub timeout_seconds: u64,
    pub max_tokens: u32,
    pub temperature: f64,
    pub max_retries: u32,
    /// Send customer names, emails, phones and ids to the model (else placeholders).
    pub share_customer_data: bool,
}

/// How recent each kind of export must be (the `imports_fresh` check).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FreshnessSettings {
    pub warn_after_hours: f64,
    pub error_after_hours: f64,
    /// Limits for one source (`hubspot`) or kind of export (`shopify-products`).
    #[serde(default)]
    pub sources: std::collections::BTreeMap<String, FreshnessLimit>,
}

/// The limits of one source or kind.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FreshnessLimit {
    pub warn_after_hours: f64,
    pub error_after_hours: f64,
}

/// Which checks `scudo check` runs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckSettings {
    /// Checks reported as skipped instead of run.
    pub disabled: Vec<String>,
}

/// Where and how `scudo digest` sends email. The password is not a setting: it is read from
/// [`SMTP_PASSWORD_VAR`] only, so that it is never in a file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// `starttls`, `implicit` or `none`.
    pub tls: String,
    pub user: String,
    pub from: String,
    pub reply_to: String,
    /// Extra trusted certificates (PEM), relative to the workspace.
    pub ca_file: String,
    pub timeout_seconds: u64,
    pub retries: u32,
}

/// The one place the SMTP password comes from.
pub const SMTP_PASSWORD_VAR: &str = "SCUDO_SMTP_PASSWORD";

/// How the customer models are fitted and used (see `scudo models` and `scudo score`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    pub unit: String,
    pub churn_horizon_days: i64,
    pub clv_horizon_months: i64,
    pub annual_discount_rate: f64,
    pub min_repeat_buyers: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSettings {
    pub database: PathBuf,
    pub currency: String,
    /// The shop's IANA time zone (`Europe/Rome`), or "auto": chosen at the first import from the
    /// UTC offsets the exports state, UTC until then.
    pub timezone: String,
    /// A pinned "today" (YYYY-MM-DD), when set.
    pub as_of: Option<String>,
    /// DuckDB's memory limit ("3GB").
    pub memory_limit: String,
}

/// Thresholds of the lifecycle stages (see `queries/health/stages.sql`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HealthSettings {
    pub at_risk_days: i64,
    /// A repeat buyer is At-Risk once their silence exceeds this many times their usual gap.
    pub at_risk_gap_factor: f64,
    pub dormant_days: i64,
    pub lost_days: i64,
    pub new_days: i64,
    pub vip_min_revenue: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    pub rejects_dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        toml::from_str(SETTINGS_TEMPLATE).expect("the built-in settings template parses")
    }
}

impl Settings {
    /// Reads `scudo.toml`: keys it leaves out keep their defaults; unknown keys are an error.
    pub fn load(path: &Path) -> Result<Settings> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut merged: toml::Table = toml::from_str(SETTINGS_TEMPLATE).expect("template parses");
        let user_table: toml::Table = toml::from_str(&text).map_err(|e| {
            user(format!(
                "{}: {}; fix the file or compare it with `scudo init` in an empty directory",
                path.display(),
                e.to_string().trim_end()
            ))
        })?;
        if let Some(toml::Value::Table(smtp)) = user_table.get("smtp")
            && smtp.contains_key("password")
        {
            return Err(user(format!(
                "{}: [smtp] password is not allowed in the settings file (it would sit on disk in clear text); \
                 delete the line and set the environment variable {SMTP_PASSWORD_VAR} instead",
                path.display()
            )));
        }
        let mut user_table = user_table;
        user_table.remove("automation");
        merge(&mut merged, user_table);
        let root = path.parent().unwrap_or(Path::new("."));
        let defined = automations::load(root, &text)?;
        let mut settings = Settings::resolve(merged, path)?;
        settings.automation = defined;
        Ok(settings)
    }

    /// The merged settings table with the `SCUDO_*` environment applied.
    fn resolve(mut merged: toml::Table, path: &Path) -> Result<Settings> {
        let from_file: Settings = toml::Value::Table(merged.clone())
            .try_into()
            .map_err(|e: toml::de::Error| user(format!("{}: {}", path.display(), e.message())))?;
        let overrides = env_overrides(&merged, std::env::vars())?;
        if overrides.is_empty() {
            return Ok(from_file);
        }
        // Each variable on its own first, so that a bad value is blamed on its variable.
        let file_valid = from_file.validate().is_ok();
        for o in &overrides {
            let mut one = merged.clone();
            o.apply(&mut one);
            let settings: Settings =
                toml::Value::Table(one).try_into().map_err(|e: toml::de::Error| o.error(e.message()))?;
            if file_valid {
                settings.validate().map_err(|e| o.error(&e.to_string()))?;
            }
        }
        for o in &overrides {
            o.apply(&mut merged);
        }
        toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| user(format!("the SCUDO_* environment variables: {}", e.message())))
    }

    /// The pinned "today" of the workspace, if any.
    pub fn pinned_as_of(&self) -> Result<Option<chrono::NaiveDate>> {
        match &self.workspace.as_of {
            None => Ok(None),
            Some(s) => {
                s.parse().map(Some).map_err(|_| user(format!("[workspace] as_of = `{s}` is not a date (YYYY-MM-DD)")))
            }
        }
    }

    /// The shop's time zone; `None` while it is "auto" (not chosen yet: dates are UTC's).
    pub fn timezone(&self) -> Result<Option<chrono_tz::Tz>> {
        let name = self.workspace.timezone.trim();
        if name.eq_ignore_ascii_case("auto") {
            return Ok(None);
        }
        crate::store::calendar::parse_zone(name).map(Some).ok_or_else(|| {
            user(format!(
                "[workspace] timezone = `{name}` is not an IANA time zone: write one such as \"Europe/Rome\", \
                 \"America/New_York\" or \"UTC\", or \"auto\""
            ))
        })
    }

    /// `[sources] timezone`: the zone naive HubSpot and Salesforce timestamps are read in.
    pub fn portal_timezone(&self) -> Result<Option<chrono_tz::Tz>> {
        let name = self.sources.timezone.trim();
        if name.is_empty() {
            return Ok(None);
        }
        crate::store::calendar::parse_zone(name).map(Some).ok_or_else(|| {
            user(format!(
                "[sources] timezone = `{name}` is not an IANA time zone: write your HubSpot portal's or \
                 Salesforce org's zone, such as \"America/New_York\", or \"\" for UTC"
            ))
        })
    }

    /// The reporting currency and time zone derived values are computed in.
    pub fn reporting(&self) -> Result<crate::store::Reporting> {
        Ok(match self.timezone()? {
            Some(tz) => crate::store::Reporting::new(&self.workspace.currency, tz),
            None => crate::store::Reporting::new(&self.workspace.currency, chrono_tz::Tz::UTC).guessing_zone(),
        })
    }

    /// Checks relations between settings that the types cannot express.
    pub fn validate(&self) -> Result<()> {
        self.pinned_as_of()?;
        self.timezone()?;
        self.portal_timezone()?;
        let currency = self.workspace.currency.trim().to_uppercase();
        if currency != "AUTO" && !currencies::is_known(&currency) {
            let near = currencies::near(&currency);
            return Err(user(format!(
                "[workspace] currency = `{}` is not an ISO 4217 currency code{}; write one such as \"USD\" or \"EUR\", or \"auto\"",
                self.workspace.currency,
                if near.is_empty() { String::new() } else { format!(" (did you mean {}?)", near.join(", ")) }
            )));
        }
        let limit = self.workspace.memory_limit.trim();
        let digits = limit.trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim();
        let unit = limit[digits.len()..].trim().to_ascii_uppercase();
        if digits.is_empty()
            || !digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            || !["KB", "MB", "GB", "TB"].contains(&unit.as_str())
        {
            return Err(user(format!(
                "[workspace] memory_limit = `{limit}`: write a size such as \"3GB\" or \"800MB\""
            )));
        }
        let r = &self.retention;
        if r.score_daily_days < 1 || r.score_weekly_days < r.score_daily_days {
            return Err(user(format!(
                "[retention] needs score_daily_days ≥ 1 and score_weekly_days ≥ score_daily_days (they are {} and {})",
                r.score_daily_days, r.score_weekly_days
            )));
        }
        let m = &self.models;
        if !matches!(m.unit.as_str(), "week" | "day") {
            return Err(user(format!("[models] unit = `{}`: use \"week\" or \"day\"", m.unit)));
        }
        if m.churn_horizon_days < 1 || m.clv_horizon_months < 1 || !(0.0..1.0).contains(&m.annual_discount_rate) {
            return Err(user(
                "[models] needs churn_horizon_days ≥ 1, clv_horizon_months ≥ 1 and 0 ≤ annual_discount_rate < 1",
            ));
        }
        let f = &self.freshness;
        let limits = std::iter::once(("[freshness]".to_string(), f.warn_after_hours, f.error_after_hours)).chain(
            f.sources
                .iter()
                .map(|(k, l)| (format!("[freshness.sources] {k}"), l.warn_after_hours, l.error_after_hours)),
        );
        for (name, warn, error) in limits {
            if !(warn.is_finite() && error.is_finite() && 0.0 <= warn && warn <= error) {
                return Err(user(format!(
                    "{name}: needs 0 <= warn_after_hours <= error_after_hours, got {warn} and {error}"
                )));
            }
        }
        let smtp = &self.smtp;
        if !matches!(smtp.tls.as_str(), "starttls" | "implicit" | "none") {
            return Err(user(format!("[smtp] tls = `{}`: use \"starttls\", \"implicit\" or \"none\"", smtp.tls)));
        }
        if smtp.timeout_seconds == 0 || smtp.retries == 0 || smtp.retries > 10 {
            return Err(user("[smtp] needs timeout_seconds ≥ 1 and retries from 1 to 10"));
        }
        let a = &self.automations;
        if a.frequency_cap.trim() != "0" {
            automations::duration(&a.frequency_cap)
                .map_err(|e| user(format!("[automations] frequency_cap = `{}`: {e}", a.frequency_cap)))?;
        }
        if a.poll_seconds == 0 || a.webhook_retries == 0 || a.webhook_retries > 10 {
            return Err(user("[automations] needs poll_seconds ≥ 1 and webhook_retries from 1 to 10"));
        }
        let h = &self.health;
        if !(1.0..=10.0).contains(&h.at_risk_gap_factor) {
            return Err(user(format!(
                "[health] at_risk_gap_factor = {}: use a number from 1 to 10 (1.2: At-Risk once the silence is 1.2 times the usual gap)",
                h.at_risk_gap_factor
            )));
        }
        if !(0 < h.at_risk_days && h.at_risk_days < h.dormant_days && h.dormant_days < h.lost_days) {
            return Err(user(format!(
                "[health] needs 0 < at_risk_days < dormant_days < lost_days, got {} / {} / {}",
                h.at_risk_days, h.dormant_days, h.lost_days
            )));
        }
        Ok(())
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// One `SCUDO_<SECTION>_<KEY>` variable that overrides a setting.
#[derive(Debug)]
struct EnvOverride {
    var: String,
    raw: String,
    section: String,
    key: String,
    value: toml::Value,
}

impl EnvOverride {
    fn apply(&self, table: &mut toml::Table) {
        if let Some(toml::Value::Table(values)) = table.get_mut(&self.section) {
            values.insert(self.key.clone(), self.value.clone());
        }
    }

    fn error(&self, why: &str) -> anyhow::Error {
        user(format!(
            "environment variable {}={}: {}; fix or unset it (it overrides [{}] {} in scudo.toml)",
            self.var,
            self.raw,
            why.trim_end(),
            self.section,
            self.key
        ))
    }
}

/// The settings `SCUDO_<SECTION>_<KEY>` variables override (`SCUDO_HEALTH_AT_RISK_DAYS=60` is
/// `[health] at_risk_days`). Values are parsed as TOML scalars when they can be, else taken as
/// strings. A variable naming a section but none of its keys is an error that lists the keys;
/// other `SCUDO_*` variables (`SCUDO_WORKSPACE`, `SCUDO_LOG`) are not settings and are left alone.
fn env_overrides(table: &toml::Table, vars: impl Iterator<Item = (String, String)>) -> Result<Vec<EnvOverride>> {
    let mut out = Vec::new();
    for (name, raw) in vars {
        let Some(rest) = name.strip_prefix("SCUDO_") else { continue };
        // The password is read where it is used and never becomes a setting.
        if name == SMTP_PASSWORD_VAR {
            continue;
        }
        let rest = rest.to_ascii_lowercase();
        for (section, values) in table {
            let Some(key) = rest.strip_prefix(&format!("{section}_")) else { continue };
            let toml::Value::Table(values) = values else { continue };
            if !values.contains_key(key) {
                let known: Vec<String> =
                    values.keys().map(|k| format!("SCUDO_{}_{}", section, k).to_ascii_uppercase()).collect();
                return Err(user(format!(
                    "environment variable {name} is not a scudo setting: [{section}] has no `{key}`; \
                     the [{section}] variables are {}; unset it or fix its name",
                    known.join(", ")
                )));
            }
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(raw.clone()));
            out.push(EnvOverride {
                var: name.clone(),
                raw: raw.clone(),
                section: section.clone(),
                key: key.to_string(),
                value,
            });
        }
    }
    Ok(out)
}

/// Writes `timezone = "NAME"` into the `[workspace]` section of the settings file at `path`,
/// replacing the line that sets it (or adding one), and leaves every other line as it is.
pub fn write_timezone(path: &Path, name: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let line = format!("timezone = \"{name}\"");
    let mut out: Vec<String> = Vec::new();
    let (mut section, mut done) = (String::new(), false);
    let mut workspace_at = None;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with('[') {
            section = t.to_string();
            if section == "[workspace]" {
                workspace_at = Some(out.len());
            }
        } else if section == "[workspace]" && !done && t.split('=').next().is_some_and(|k| k.trim() == "timezone") {
            out.push(line.clone());
            done = true;
            continue;
        }
        out.push(l.to_string());
    }
    if !done {
        match workspace_at {
            Some(i) => out.insert(i + 1, line),
            None => {
                out.push(String::new());
                out.push("[workspace]".to_string());
                out.push(line);
            }
        }
    }
    let mut new = out.join("\n");
    new.push('\n');
    std::fs::write(path, new).with_context(|| format!("cannot write {}", path.display()))
}

/// Every file under `dir` (recursively) whose extension is `ext`, sorted: a workspace's own
/// queries and report templates, the two places it extends scudo.
pub fn files_under(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> Result<()> {
        for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let p = e?.path();
            if p.is_dir() {
                walk(&p, ext, out)?;
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, ext, &mut out)?;
    out.sort();
    Ok(out)
}

/// A workspace on disk: its root directory and its resolved settings.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub settings: Settings,
}

impl Workspace {
    /// Finds the workspace: `explicit` (from `--workspace` / `SCUDO_WORKSPACE`) must hold
    /// `scudo.toml`; otherwise the current directory and its parents are searched.
    pub fn discover(explicit: Option<&Path>) -> Result<Workspace> {
        if let Some(dir) = explicit {
            if dir.join(SETTINGS_FILE).is_file() {
                return Workspace::open(dir);
            }
            return Err(user(format!(
                "{} is not a scudo workspace (no {SETTINGS_FILE}); create one with `scudo init {}`",
                dir.display(),
                dir.display()
            )));
        }
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        for dir in cwd.ancestors() {
            if dir.join(SETTINGS_FILE).is_file() {
                return Workspace::open(dir);
            }
        }
        Err(user(format!(
            "not inside a scudo workspace (no {SETTINGS_FILE} in {} or any parent); \
             run `scudo init` to create one here, pass --workspace DIR, or try `scudo demo`",
            cwd.display()
        )))
    }

    /// Opens the workspace rooted at `dir`.
    pub fn open(dir: &Path) -> Result<Workspace> {
        let settings = Settings::load(&dir.join(SETTINGS_FILE))?;
        settings.validate()?;
        Ok(Workspace { root: dir.to_path_buf(), settings })
    }

    /// The database file of this workspace.
    pub fn database_path(&self) -> PathBuf {
        self.root.join(&self.settings.workspace.database)
    }

    /// The workspace's own SQL files.
    pub fn queries_dir(&self) -> PathBuf {
        self.root.join("queries")
    }

    /// The workspace's own report templates.
    pub fn templates_dir(&self) -> PathBuf {
        self.root.join("report-templates")
    }

    /// Where rejected rows go by default.
    pub fn rejects_dir(&self) -> PathBuf {
        self.root.join(&self.settings.ingest.rejects_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_holds_every_setting() {
        let s = Settings::default();
        assert_eq!(s.health.dormant_days, 90);
        assert_eq!(s.workspace.database, PathBuf::from("scudo.duckdb"));
        s.validate().unwrap();
    }

    #[test]
    fn memory_limit_must_be_a_size() {
        let mut s = Settings::default();
        assert_eq!(s.workspace.memory_limit, "3GB");
        for ok in ["800MB", "1.5GB", "2 GB"] {
            s.workspace.memory_limit = ok.into();
            s.validate().unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["lots", "3", "3GB'; DROP TABLE orders; --", "GB"] {
            s.workspace.memory_limit = bad.into();
            assert!(s.validate().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn env_overrides_file() {
        let mut t: toml::Table = toml::from_str(SETTINGS_TEMPLATE).unwrap();
        let overrides = env_overrides(
            &t,
            vec![
                ("SCUDO_HEALTH_AT_RISK_DAYS".to_string(), "60".to_string()),
                ("SCUDO_WORKSPACE_CURRENCY".to_string(), "EUR".to_string()),
                ("SCUDO_UNKNOWN_THING".to_string(), "1".to_string()),
            ]
            .into_iter(),
        )
        .unwrap();
        for o in &overrides {
            o.apply(&mut t);
        }
        let s: Settings = toml::Value::Table(t).try_into().unwrap();
        assert_eq!(s.health.at_risk_days, 60);
        assert_eq!(s.workspace.currency, "EUR");
        assert_eq!(s.workspace.as_of, None);
    }

    #[test]
    fn smtp_password_is_refused_in_the_file_and_is_no_setting() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(SETTINGS_FILE);
        std::fs::write(&p, "[smtp]\nhost = \"mail.example.com\"\npassword = \"hunter2\"\n").unwrap();
        let err = Settings::load(&p).unwrap_err().to_string();
        assert!(err.contains("SCUDO_SMTP_PASSWORD") && !err.contains("hunter2"), "{err}");
        let t: toml::Table = toml::from_str(SETTINGS_TEMPLATE).unwrap();
        let o = env_overrides(&t, vec![(SMTP_PASSWORD_VAR.to_string(), "x".to_string())].into_iter()).unwrap();
        assert!(o.is_empty());
        let mut s = Settings::default();
        s.smtp.tls = "ssl".into();
        assert!(s.validate().unwrap_err().to_string().contains("[smtp] tls"));
    }

    #[test]
    fn partial_file_keeps_defaults_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(SETTINGS_FILE);
        std::fs::write(&p, "[health]\nnew_days = 14\n").unwrap();
        let s = Settings::load(&p).unwrap();
        assert_eq!(s.health.new_days, 14);
        assert_eq!(s.health.lost_days, 180);
        std::fs::write(&p, "[health]\nnew_dayz = 14\n").unwrap();
        let err = Settings::load(&p).unwrap_err().to_string();
        assert!(err.contains("new_dayz"), "{err}");
    }
}
