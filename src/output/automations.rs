//! Automations for people: a run's recipients and outcome, the run history, the schedule and the
//! plugins as tables (JSON shapes in docs/json.md come from the callers' documents).

use serde_json::Value;

use super::table::render_text;

fn s(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

/// A run's report (`scudo automation run`): one line per recipient, then the counts.
pub fn run(doc: &Value) -> String {
    let mut out = String::new();
    let recipients = doc["recipients"].as_array().cloned().unwrap_or_default();
    if !recipients.is_empty() && recipients[0].get("customer_id").is_some() {
        let header: Vec<String> =
            ["customer", "email", "subject", "because", "status"].iter().map(|h| h.to_string()).collect();
        let rows: Vec<Vec<String>> = recipients
            .iter()
            .map(|r| {
                let status = match r.get("skipped_because") {
                    Some(why) if !why.is_null() => format!("skipped: {}", s(why)),
                    _ => s(&r["status"]),
                };
                vec![
                    format!("{} ({})", s(&r["name"]), s(&r["customer_id"])),
                    s(&r["email"]),
                    s(&r["subject"]),
                    s(&r["reason"]),
                    status,
                ]
            })
            .collect();
        out.push_str(&render_text(&header, &rows, &[false; 5]));
    } else if !recipients.is_empty() {
        for r in &recipients {
            let line: Vec<String> =
                r.as_object().map(|o| o.iter().map(|(k, v)| format!("{k}: {}", s(v))).collect()).unwrap_or_default();
            out.push_str(&format!("{}\n", line.join(" · ")));
        }
    }
    out.push_str(&format!(
        "{} {} ({}) · period {} · as of {}: {}",
        if doc["dry_run"].as_bool() == Some(true) { "dry run of" } else { "ran" },
        s(&doc["automation"]),
        s(&doc["action"]),
        s(&doc["period"]),
        s(&doc["as_of"]),
        s(&doc["status"]),
    ));
    if !doc["audience"].is_null() {
        out.push_str(&format!(" · audience {}", s(&doc["audience"])));
    }
    out.push_str(&format!(
        " · recorded {} · sent {} · skipped {} · failed {} · {} ms\n",
        s(&doc["recorded"]),
        s(&doc["sent"]),
        s(&doc["skipped"]),
        s(&doc["failed"]),
        s(&doc["duration_ms"])
    ));
    if let Some(w) = doc["detail"].get("withheld_because") {
        out.push_str(&format!("withheld because {}\n", s(w)));
    }
    out
}

/// `scudo automation history`.
pub fn history(rows: &[Value]) -> String {
    if rows.is_empty() {
        return "no runs yet (`scudo automation run NAME`, or the scheduler)\n".into();
    }
    let header: Vec<String> = [
        "run",
        "automation",
        "trigger",
        "period",
        "status",
        "audience",
        "sent",
        "skipped",
        "failed",
        "ms",
        "started (UTC)",
        "error",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut err = s(&r["error"]);
            if err.chars().count() > 80 {
                err = err.chars().take(79).collect::<String>() + "…";
            }
            vec![
                s(&r["run_id"]),
                s(&r["automation"]),
                s(&r["trigger"]),
                s(&r["period"]),
                s(&r["status"]),
                s(&r["audience"]),
                s(&r["sent"]),
                s(&r["skipped"]),
                s(&r["failed"]),
                s(&r["duration_ms"]),
                s(&r["started_at"]),
                err,
            ]
        })
        .collect();
    let numeric = [true, false, false, false, false, true, true, true, true, true, false, false];
    render_text(&header, &body, &numeric)
}

/// `scudo schedule list`.
pub fn schedule(doc: &Value) -> String {
    let header: Vec<String> =
        ["automation", "enabled", "trigger", "action", "time zone", "next runs (local)", "next runs (UTC)"]
            .iter()
            .map(|h| h.to_string())
            .collect();
    let rows: Vec<Vec<String>> = doc["automations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    let runs = x["next_runs"].as_array().cloned().unwrap_or_default();
                    let local: Vec<String> = runs.iter().map(|r| s(&r["local"]).replace('T', " ")).collect();
                    let utc: Vec<String> = runs.iter().map(|r| s(&r["utc"]).replace('T', " ")).collect();
                    vec![
                        s(&x["name"]),
                        if x["enabled"].as_bool() == Some(true) { "yes".into() } else { "no".into() },
                        s(&x["trigger"]),
                        s(&x["action"]),
                        s(&x["timezone"]),
                        if local.is_empty() { "(on its trigger)".into() } else { local.join("\n") },
                        utc.join("\n"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        return "no automations: add [[automation]] tables to scudo.toml or automations/*.toml (docs/automations.md)\n"
            .into();
    }
    render_text(&header, &rows, &[false; 7])
}

/// `scudo plugins list`.
pub fn plugins(doc: &Value) -> String {
    let header: Vec<String> = ["name", "kind", "where"].iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = doc["plugins"]
        .as_array()
        .map(|a| a.iter().map(|p| vec![s(&p["name"]), s(&p["kind"]), s(&p["path"])]).collect())
        .unwrap_or_default();
    render_text(&header, &rows, &[false; 3])
}
