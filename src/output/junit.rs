//! `scudo check --junit FILE`: JUnit XML as GitHub, GitLab and Jenkins test reports read it
//! (Jenkins' junit-10.xsd): one `<testcase>` per check; `<failure>` with the first failing rows
//! for a failed check, `<error>` for one that could not run, `<skipped>` for a disabled one. A
//! warning is a failure only with `--fail-on warn`; otherwise the case passes and says so in
//! `<system-out>`.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::checks::{Outcome, Run, Severity, Status};

/// Failing rows shown in a `<failure>`.
const FIRST_ROWS: usize = 10;

/// The JUnit document of `run`.
pub fn render(run: &Run) -> io::Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let n = run.outcomes.len().to_string();
    let failures = run.outcomes.iter().filter(|o| is_failure(o, run.fail_on)).count().to_string();
    let errors = run.outcomes.iter().filter(|o| o.status == Status::Broken).count().to_string();
    let skipped = run.outcomes.iter().filter(|o| o.status == Status::Skipped).count().to_string();
    let time = seconds(run.duration);
    let timestamp = run.started_at.format("%Y-%m-%dT%H:%M:%S").to_string();
    w.create_element("testsuites")
        .with_attributes([
            ("name", "scudo check"),
            ("tests", n.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
            ("time", time.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes([
                    ("name", "scudo check"),
                    ("tests", n.as_str()),
                    ("failures", failures.as_str()),
                    ("errors", errors.as_str()),
                    ("skipped", skipped.as_str()),
                    ("time", time.as_str()),
                    ("timestamp", timestamp.as_str()),
                ])
                .write_inner_content(|w| {
                    let as_of = run.as_of.to_string();
                    w.create_element("properties").write_inner_content(|w| {
                        w.create_element("property")
                            .with_attributes([("name", "as_of"), ("value", as_of.as_str())])
                            .write_empty()?;
                        Ok(())
                    })?;
                    for o in &run.outcomes {
                        case(w, o, run.fail_on)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    let mut text = String::from_utf8(w.into_inner()).map_err(io::Error::other)?;
    text.push('\n');
    Ok(text)
}

fn is_failure(o: &Outcome, fail_on: Severity) -> bool {
    o.status == Status::Error || (o.status == Status::Warn && fail_on == Severity::Warn)
}

fn case(w: &mut Writer<Vec<u8>>, o: &Outcome, fail_on: Severity) -> io::Result<()> {
    let time = seconds(o.duration);
    let el = w.create_element("testcase").with_attributes([
        ("name", o.spec.name.as_str()),
        ("classname", "scudo.checks"),
        ("time", time.as_str()),
    ]);
    let found = || -> String {
        let n = o.failing.unwrap_or(0);
        format!(
            "{} {} ({})",
            o.spec.name,
            crate::output::count(n, "failing row", "failing rows"),
            o.crossed.as_deref().unwrap_or("")
        )
    };
    match o.status {
        Status::Pass => {
            el.write_empty()?;
        }
        Status::Skipped => {
            el.write_inner_content(|w| {
                let why = clean(o.message.as_deref().unwrap_or("disabled"));
                w.create_element("skipped").with_attribute(("message", why.as_str())).write_empty()?;
                Ok(())
            })?;
        }
        Status::Broken => {
            el.write_inner_content(|w| {
                let why = clean(o.message.as_deref().unwrap_or("could not run"));
                w.create_element("error")
                    .with_attributes([("message", why.as_str()), ("type", "broken")])
                    .write_text_content(BytesText::new(&why))?;
                Ok(())
            })?;
        }
        Status::Warn | Status::Error if is_failure(o, fail_on) => {
            el.write_inner_content(|w| {
                let message = clean(&found());
                let body = clean(&body(o));
                w.create_element("failure")
                    .with_attributes([("message", message.as_str()), ("type", o.status.as_str())])
                    .write_text_content(BytesText::new(&body))?;
                Ok(())
            })?;
        }
        Status::Warn | Status::Error => {
            el.write_inner_content(|w| {
                let text = clean(&format!("warning: {}\n{}", found(), body(o)));
                w.create_element("system-out").write_text_content(BytesText::new(&text))?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// The description, the location and the first failing rows as a small table.
fn body(o: &Outcome) -> String {
    let mut out = format!("{}\n{}\n\n", o.spec.description, o.spec.location);
    if !o.rows.rows.is_empty() {
        let first = crate::store::ResultSet {
            columns: o.rows.columns.clone(),
            rows: o.rows.rows.iter().take(FIRST_ROWS).cloned().collect(),
        };
        out.push_str(&crate::output::table::render(&first));
        let n = o.failing.unwrap_or(0) as usize;
        if n > first.rows.len() {
            out.push_str(&format!("… {} rows in all\n", n));
        }
    }
    out
}

/// Seconds with three decimals, the form the schema accepts.
fn seconds(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Characters XML 1.0 cannot carry at all (control characters from data) become U+FFFD.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}
