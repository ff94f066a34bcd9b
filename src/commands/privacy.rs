//! `scudo privacy export|erase CUSTOMER`: a person's records, or their erasure (docs/privacy.md).

use anyhow::{Context, Result};

use super::Analysis;
use crate::cli::{GlobalArgs, PrivacyCommand};
use crate::error::{Exit, user};
use crate::output;
use crate::store::access::{audit, audit_entries, cli_actor};

/// The one customer `who` names exactly (id, email or name). Unlike `scudo customer`, a
/// privacy request never acts on a best guess: anything else is refused, and nothing changes.
fn exact(a: &Analysis, who: &str) -> Result<String> {
    let rs = a.search(who, 10)?;
    let q = "customers.search";
    let (id, name, score) = (rs.require("customer_id", q)?, rs.require("name", q)?, rs.require("score", q)?);
    let top = rs.rows.first().and_then(|r| r[score].as_f64()).unwrap_or(0.0);
    if top < 95.0 {
        let close: Vec<String> =
            rs.rows.iter().take(5).map(|r| format!("{} ({})", r[name].to_text(), r[id].to_text())).collect();
        let hint = if close.is_empty() { String::new() } else { format!("; close matches: {}", close.join(", ")) };
        return Err(user(format!(
            "no customer is exactly `{who}` (an id, an email or a full name){hint}; nothing was changed"
        )));
    }
    let tied: Vec<&Vec<crate::store::Cell>> =
        rs.rows.iter().filter(|r| r[score].as_f64().unwrap_or(0.0) >= top - 1e-9).collect();
    if tied.len() > 1 {
        let options: Vec<String> =
            tied.iter().map(|r| format!("{} ({})", r[name].to_text(), r[id].to_text())).collect();
        return Err(user(format!(
            "`{who}` is several customers: {}; pass the id of the one you mean; nothing was changed",
            options.join(", ")
        )));
    }
    Ok(tied[0][id].to_text())
}

pub fn run(c: &PrivacyCommand, g: &GlobalArgs) -> Result<Exit> {
    match c {
        PrivacyCommand::Export { who, out, zip } => {
            let a = Analysis::open(g, None)?;
            let id = exact(&a, who)?;
            let sections = a.store.privacy_records(&id)?;
            let entries: Vec<serde_json::Value> = audit_entries(a.store.path(), 0)?
                .into_iter()
                .filter(|e| e["target"].as_str() == Some(id.as_str()))
                .collect();
            let doc = output::privacy::export_json(&id, &sections, &entries);
            if let Some(path) = zip {
                let bytes = output::privacy::export_zip(&doc, &sections, &entries)?;
                std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            }
            match out {
                Some(path) => std::fs::write(path, &doc).with_context(|| format!("cannot write {}", path.display()))?,
                None if zip.is_none() => output::emit(&doc)?,
                None => {}
            }
            audit(a.store.path(), &cli_actor(), "privacy_export", &id, "")?;
            if !g.quiet {
                let n = |s: &str| sections.iter().find(|x| x.0 == s).map_or(0, |x| x.1.rows.len() as u64);
                eprintln!(
                    "exported {id}: {}, {}, {}, {}",
                    output::count(n("orders"), "order", "orders"),
                    output::count(n("scores"), "score", "scores"),
                    output::count(n("notes") + n("tags"), "note or tag", "notes and tags"),
                    output::count(entries.len() as u64, "activity-log entry", "activity-log entries"),
                );
            }
            Ok(Exit::Ok)
        }
        PrivacyCommand::Erase { who, yes, output: o } => {
            let mut a = Analysis::open_for_writing(g, None)?;
            let id = exact(&a, who)?;
            let erasure = a.store.erase_customer(&id, !*yes)?;
            output::emit(&output::privacy::erasure(&erasure, *yes, o.format))?;
            if !*yes {
                if !g.quiet {
                    eprintln!(
                        "nothing was changed: {} of {id} would be erased; run again with --yes to erase",
                        output::count(erasure.rows(), "row", "rows")
                    );
                }
                return Ok(Exit::Ok);
            }
            // The activity log keeps that an erasure happened, never who it was about beyond the
            // (now meaningless) id.
            audit(
                a.store.path(),
                &cli_actor(),
                "privacy_erase",
                &id,
                &format!("erasure {}: {} rows", erasure.erasure_id.unwrap_or(0), erasure.rows()),
            )?;
            a.store.announce(serde_json::json!({"source": "privacy_erase"}));
            if !g.quiet {
                eprintln!(
                    "erased {id}: {} removed; {} kept as one-way hashes so imports leave them out",
                    output::count(erasure.rows(), "row", "rows"),
                    output::count(erasure.suppressed_identifiers, "identifier", "identifiers")
                );
            }
            Ok(Exit::Ok)
        }
    }
}
