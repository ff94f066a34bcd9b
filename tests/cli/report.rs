//! `scudo report`: every built-in template on the demo, a workspace's own template and query,
//! template errors with file and line, and the HTML (report and email) in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::demo;

/// Every built-in template with the parameters it needs on the demo.
pub const TEMPLATES: &[(&str, &[&str])] = &[
    ("weekly-digest", &[]),
    ("segment-report", &["--param", "segment=VIP_HIGH_VALUE"]),
    ("customer", &["--param", "customer_id=cust-000007"]),
    ("at-risk", &[]),
    ("models", &[]),
    ("subscriptions", &[]),
];

#[test]
fn every_builtin_template_renders_on_the_demo() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    s.ok(&["-w", w, "score", "-q"]);
    for (name, params) in TEMPLATES {
        let mut args = vec!["-w", w, "report", name];
        args.extend_from_slice(params);
        let html = s.ok(&args).stdout;
        assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
        assert!(html.contains("<svg") || !html.contains("class=\"chart\""), "{name}: charts are inline SVG");
        let lower = html.to_lowercase();
        for bad in ["<script", "src=\"http", "href=\"http", "<link"] {
            assert!(!lower.contains(bad), "{name} holds {bad}");
        }
        let mut json_args = args.clone();
        json_args.extend(["--format", "json"]);
        let data = s.ok(&json_args).json();
        assert_eq!(data["schema_version"], 1);
        assert_eq!(data["template"], *name);
        assert_eq!(data["as_of"], "2024-10-01");
        // Email too: the digest of each template builds and passes the message checks.
        let mut mail = vec!["-w", w, "digest", name, "--to", "owner@example.com", "--dry-run", "-q"];
        mail.extend_from_slice(params);
        s.ok(&mail);
    }
    let d = s.ok(&["-w", w, "report", "weekly-digest", "--format", "json"]).json();
    assert_eq!(d["data"]["cards"]["revenue"].to_string(), "28050.00");
    assert_eq!(d["data"]["cards"]["customers"], 10);
    assert_eq!(d["data"]["alerts"][0]["name"], "Lisa Thompson");
    assert_eq!(d["data"]["checks"], serde_json::Value::Null, "no data checks run yet");
    assert_eq!(d["charts"]["revenue"]["values"].as_array().unwrap().len(), 12);
    // The digest opens with the shop's narrative: scudo's own words without [llm], from the same
    // facts as `scudo insights`, with each alert's churn risk from the scoring run.
    assert_eq!(d["insights"]["by"], "scudo");
    let own = s.ok(&["-w", w, "insights", "--period-days", "7"]).stdout;
    assert_eq!(d["insights"]["text"].as_str().unwrap(), own.trim());
    assert!(own.contains("Lisa Thompson (At-Risk)") && own.contains("churn risk 30% (medium)"), "{own}");
    assert_eq!(d["data"]["alerts"][0]["churn_probability"].as_f64(), Some(0.3));
    assert_eq!(d["data"]["alerts"][1]["name"], "Mike Johnson");
    assert_eq!(d["data"]["alerts"][1]["churn_probability"].as_f64(), Some(0.25));
    let html = s.ok(&["-w", w, "report", "weekly-digest"]).stdout;
    assert!(html.contains(">In words</h2>") && html.contains("Written by scudo from the figures below."), "{html}");
    assert!(html.contains("<br>- Lisa Thompson (At-Risk)"), "one line each, as in the text");
    let eml = s.path().join("d.eml");
    s.ok(&["-w", w, "digest", "--to", "owner@example.com", "--dry-run", "--save", eml.to_str().unwrap(), "-q"]);
    let text = crate::smtp::inspect(&eml, None)["text"].as_str().unwrap().to_string();
    assert!(text.contains("IN WORDS (written by scudo from the figures below)"), "the text part too: {text}");
    assert!(text.contains("churn risk 25% (medium)"), "{text}");
    let c = s.ok(&["-w", w, "report", "customer", "--param", "customer_id=cust-000007"]).stdout;
    assert!(c.contains("Mike Johnson") && c.contains("At-Risk"), "{c}");
    let seg =
        s.ok(&["-w", w, "report", "segment-report", "--param", "segment=VIP_HIGH_VALUE", "--format", "json"]).json();
    assert_eq!(seg["data"]["members"].as_array().unwrap().len(), 1);
    // Missing and unknown parameters say what the template takes.
    let r = s.fails(&["-w", w, "report", "segment-report"], 2);
    assert!(r.stderr.contains("needs --param segment=VALUE"), "{}", r.stderr);
    let r = s.fails(&["-w", w, "report", "at-risk", "--param", "colour=red"], 2);
    assert!(r.stderr.contains("has no parameter `colour`; it takes: limit"), "{}", r.stderr);
    let r = s.fails(&["-w", w, "report", "weekly"], 2);
    assert!(r.stderr.contains("no report template `weekly`; templates: at-risk, customer"), "{}", r.stderr);
}

#[test]
fn a_workspace_template_overrides_a_builtin_and_calls_its_own_query() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    std::fs::create_dir_all(ws.join("queries/mine")).unwrap();
    std::fs::write(
        ws.join("queries/mine/big_spenders.sql"),
        "-- description: Customers above a spend, largest first.\n-- params: as_of DATE, currency TEXT, min_revenue INTEGER\n\
         SELECT name, revenue FROM customer_facts($as_of, $currency) WHERE revenue >= $min_revenue ORDER BY revenue DESC\n",
    )
    .unwrap();
    let template = "{{!--\ntitle = \"Big spenders\"\n[params.min_revenue]\ndefault = \"2000\"\n\
                    [queries]\nrows = \"mine.big_spenders\"\n--}}\n<html><body><h1>{{title}}</h1>\n\
                    <ul>{{#each data.rows}}<li>{{name}}: {{money revenue}}</li>{{/each}}</ul>\n</body></html>\n";
    std::fs::write(ws.join("report-templates/weekly-digest.hbs"), template).unwrap();
    let html = s.ok(&["-w", w, "report", "weekly-digest"]).stdout;
    assert!(html.contains("<h1>Big spenders</h1>"), "{html}");
    assert!(html.contains("<li>Sarah Chen: $8,500</li>") || html.contains(": $8,500</li>"), "{html}");
    assert_eq!(html.matches("<li>").count(), 6, "{html}");
    let fewer = s.ok(&["-w", w, "report", "weekly-digest", "--param", "min_revenue=4000"]).stdout;
    assert_eq!(fewer.matches("<li>").count(), 2, "{fewer}");
    // Names are HTML-escaped.
    std::fs::write(
        ws.join("queries/mine/big_spenders.sql"),
        "-- params: min_revenue INTEGER\nSELECT '<script>alert(1)</script>' AS name, 1 AS revenue\n",
    )
    .unwrap();
    let escaped = s.ok(&["-w", w, "report", "weekly-digest"]).stdout;
    assert!(escaped.contains("&lt;script&gt;") && !escaped.contains("<script>"), "{escaped}");
    // A template error names the file and the line.
    let path = ws.join("report-templates/weekly-digest.hbs");
    std::fs::write(&path, template.replace("{{/each}}", "{{/if}}")).unwrap();
    let r = s.fails(&["-w", w, "report", "weekly-digest"], 2);
    assert!(r.stderr.contains(&format!("{} line 9", path.display())), "{}", r.stderr);
    std::fs::write(&path, template.replace("{{money revenue}}", "{{money revenu}}")).unwrap();
    let r = s.fails(&["-w", w, "report", "weekly-digest"], 2);
    assert!(
        r.stderr.contains(&format!("{} line 9", path.display())) && r.stderr.contains("`revenu` is not in the data"),
        "{}",
        r.stderr
    );
    std::fs::write(&path, template.replace("rows = \"mine.big_spenders\"", "rows = mine.big_spenders")).unwrap();
    let r = s.fails(&["-w", w, "report", "weekly-digest"], 2);
    assert!(r.stderr.contains(&format!("{} line 6: front matter", path.display())), "{}", r.stderr);
    std::fs::write(&path, template.replace("mine.big_spenders", "mine.nothing")).unwrap();
    let r = s.fails(&["-w", w, "report", "weekly-digest"], 2);
    assert!(r.stderr.contains("[queries] rows: no query `mine.nothing`"), "{}", r.stderr);
    // A digest of a template without a text part says what is missing.
    std::fs::write(&path, template).unwrap();
    let r = s.fails(&["-w", w, "digest", "--to", "a@example.com", "--dry-run"], 2);
    assert!(r.stderr.contains("weekly-digest.txt.hbs"), "{}", r.stderr);
}

fn chromium() -> PathBuf {
    let path =
        std::env::var_os("SCUDO_TEST_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "headless Chromium is needed at {} (apt-get install chromium; .ci/run installs it)",
        path.display()
    );
    path
}

/// Renders `html` at 600 px wide to `png`, with every network request refused, and returns
/// Chromium's log (console messages and network errors are logged to it).
fn screenshot(html: &Path, png: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=600,2400"])
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium failed:\n{log}");
    log
}

fn check_render(name: &str, log: &str, png: &Path) {
    for bad in ["CONSOLE", "Uncaught", "net::ERR_", "Failed to load resource"] {
        assert!(!log.contains(bad), "{name}: Chromium logged {bad}:\n{log}");
    }
    let bytes = std::fs::read(png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 600, "{name}: 600 px wide");
    // A blank page compresses to a few kilobytes; text, tables and charts do not.
    assert!(bytes.len() > 40_000, "{name}: the screenshot looks blank ({} bytes)", bytes.len());
}

#[test]
fn report_and_email_html_render_in_headless_chromium_without_requests() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let artefacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&artefacts).unwrap();
    let report = s.path().join("r.html");
    s.ok(&["-w", w, "report", "weekly-digest", "--out", report.to_str().unwrap(), "-q"]);
    let html = std::fs::read_to_string(&report).unwrap();
    // The only URL is the SVG namespace, which names and fetches nothing.
    let urls = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!urls.contains("http://") && !urls.contains("https://"), "no external URL in the report");
    let png = artefacts.join("report-weekly-digest.png");
    let log = screenshot(&report, &png);
    check_render("report", &log, &png);
    // The email's HTML part, with each cid: image written beside it as a mail client shows it.
    let eml = s.path().join("d.eml");
    s.ok(&["-w", w, "digest", "--to", "owner@example.com", "--dry-run", "--save", eml.to_str().unwrap(), "-q"]);
    let dir = s.path().join("email");
    crate::smtp::inspect(&eml, Some(&dir));
    let png = artefacts.join("email-weekly-digest.png");
    let log = screenshot(&dir.join("email.html"), &png);
    check_render("email", &log, &png);
    eprintln!("screenshots in {}", artefacts.display());
}
