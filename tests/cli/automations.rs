//! Automations: the schedule on the demo, the at-risk campaign sent once through a real SMTP
//! server (aiosmtpd on loopback) with working one-click unsubscribe links served by `scudo
//! serve`, the gate that withholds a campaign and tells the owner, webhooks to a real HTTP
//! receiver that checks their signature, the example plugins run by the real scheduler, and
//! `scudo NAME` → `scudo-NAME`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Run, Scudo, demo};
use crate::serve::{Server as Web, http};
use crate::smtp::{self, PASSWORD, Server};

/// Replaces everything from `[smtp]` on in the workspace's scudo.toml with `server`'s SMTP
/// settings and `[automations]` (owner, public_url).
pub fn configure(ws: &Path, server: &Server, automations: &str) {
    let toml = ws.join("scudo.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let kept = text.split("\n[smtp]").next().unwrap().to_string();
    std::fs::write(&toml, format!("{kept}{}\n[automations]\n{automations}\n", server.settings("starttls"))).unwrap();
}

/// `scudo ARGS` in `ws` with the SMTP password in the environment.
pub fn scudo(s: &Scudo, ws: &Path, args: &[&str]) -> Run {
    let mut c = s.command_in(ws, args);
    c.env("SCUDO_SMTP_PASSWORD", PASSWORD);
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(r: Run, what: &str) -> Value {
    assert_eq!(r.code, 0, "{what}:\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    r.json()
}

/// The recipients of every message the server received, with the message's headers.
fn received(server: &Server) -> Vec<(String, Value)> {
    server
        .messages()
        .iter()
        .map(|m| {
            let env = std::fs::read_to_string(m.with_extension("eml.envelope")).unwrap();
            (env.lines().nth(1).unwrap().to_string(), smtp::inspect(m, None))
        })
        .collect()
}

#[test]
fn the_demo_lists_the_monday_rome_schedule_in_both_zones() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let doc = s.ok(&["-w", w, "schedule", "list", "--from", "2024-10-01T12:00:00Z", "--format", "json"]).json();
    let autos = doc["automations"].as_array().unwrap();
    let names: Vec<&str> = autos.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["at-risk", "vip-escalation", "onboarding", "win-back"]);
    assert!(autos.iter().all(|a| a["enabled"] == false), "the built-in campaigns start disabled");
    let at_risk = &autos[0];
    assert_eq!(at_risk["timezone"], "Europe/Rome");
    assert_eq!(at_risk["trigger"], "cron 0 9 * * MON");
    let runs: Vec<(&str, &str)> = at_risk["next_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["local"].as_str().unwrap(), r["utc"].as_str().unwrap()))
        .collect();
    assert_eq!(
        runs,
        [
            ("2024-10-07T09:00:00+02:00", "2024-10-07T07:00:00Z"),
            ("2024-10-14T09:00:00+02:00", "2024-10-14T07:00:00Z"),
            ("2024-10-21T09:00:00+02:00", "2024-10-21T07:00:00Z"),
        ]
    );
    // Across the end of summer time: 09:00 in Rome is 08:00 UTC.
    let later = s
        .ok(&["-w", w, "schedule", "list", "--from", "2024-10-22T00:00:00Z", "--count", "2", "--format", "json"])
        .json();
    assert_eq!(later["automations"][0]["next_runs"][0]["utc"], "2024-10-28T08:00:00Z");
    let table = s.ok(&["-w", w, "schedule", "list", "--from", "2024-10-01T12:00:00Z"]).stdout;
    assert!(table.contains("2024-10-07 09:00:00+02:00") && table.contains("2024-10-07 07:00:00Z"), "{table}");
}

#[test]
fn at_risk_dry_run_names_lisa_and_mike_with_their_offers_and_sends_nothing() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let doc = s.ok(&["-w", w, "automation", "run", "at-risk", "--dry-run", "--format", "json"]).json();
    assert_eq!(doc["status"], "dry-run");
    assert_eq!(doc["period"], "2024-09-30T09:00:00+02:00", "the period the pinned 2024-10-01 falls in");
    let people: Vec<(String, String, String)> = doc["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["offer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let names: Vec<&str> = people.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["Lisa Thompson", "Mike Johnson"]);
    assert!(people.iter().all(|p| p.1 == "would send" && !p.2.is_empty()), "{people:?}");
    let first = &doc["recipients"][0];
    assert!(first["subject"].as_str().unwrap().starts_with("Lisa, we miss you: "), "{first}");
    assert!(first["reason"].as_str().unwrap().contains("no order for 65 days"), "{first}");
    // Nothing recorded: no run, no outbox row.
    let hist = s.ok(&["-w", w, "automation", "history", "--format", "json"]).json();
    assert_eq!(hist["runs"].as_array().unwrap().len(), 0);
    let table = s.ok(&["-w", w, "automation", "run", "at-risk", "--dry-run"]).stdout;
    assert!(
        table.contains("Lisa Thompson") && table.contains("Mike Johnson") && table.contains("would send"),
        "{table}"
    );
}

#[test]
fn at_risk_sends_once_each_with_working_unsubscribe_links_then_skips_who_unsubscribed() {
    let tmp = tempfile::tempdir().unwrap();
    let mail = Server::start(tmp.path());
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let web = Web::start(&s, &ws);
    configure(&ws, &mail, &format!("owner = \"owner@shop.example\"\npublic_url = \"http://{}\"\n", web.addr));

    let doc = ok(scudo(&s, &ws, &["-w", w, "automation", "run", "at-risk", "--format", "json"]), "the real run");
    assert_eq!(
        (doc["status"].as_str(), doc["sent"].as_u64(), doc["recorded"].as_u64()),
        (Some("ok"), Some(2), Some(2)),
        "{doc}"
    );
    let got = received(&mail);
    assert_eq!(got.len(), 2, "one email each");
    let mut to: Vec<&str> = got.iter().map(|(r, _)| r.as_str()).collect();
    to.sort();
    let lisa_email = doc["recipients"][0]["email"].as_str().unwrap().to_string();
    let mike_email = doc["recipients"][1]["email"].as_str().unwrap().to_string();
    let mut want = vec![lisa_email.as_str(), mike_email.as_str()];
    want.sort();
    assert_eq!(to, want);
    let (_, lisa_msg) = got.iter().find(|(r, _)| *r == lisa_email).unwrap();
    let headers = &lisa_msg["headers"];
    let unsubscribe = headers["List-Unsubscribe"].as_str().unwrap_or_else(|| panic!("no List-Unsubscribe: {lisa_msg}"));
    assert_eq!(headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    let url = unsubscribe.trim_start_matches('<').trim_end_matches('>').to_string();
    let prefix = format!("http://{}/unsubscribe/", web.addr);
    assert!(url.starts_with(&prefix), "{url}");
    assert!(lisa_msg["text"].as_str().unwrap().contains(&url), "the link is in the text part too");
    assert!(lisa_msg["html"].as_str().unwrap().contains("Lisa"), "personalised");

    // Again in the same period: nothing.
    let again = ok(scudo(&s, &ws, &["-w", w, "automation", "run", "at-risk", "--format", "json"]), "run again");
    assert_eq!(
        (again["sent"].as_u64(), again["recorded"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(0), Some(2))
    );
    assert!(
        again["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["skipped_because"].as_str().unwrap().starts_with("sent already"))
    );
    assert_eq!(mail.messages().len(), 2, "running it again sends nothing");

    // A forged token (Mike's address, Lisa's signature) unsubscribes nobody.
    let path = url.strip_prefix(&format!("http://{}", web.addr)).unwrap().to_string();
    let (hex, sig) = path.trim_start_matches("/unsubscribe/").split_once('.').unwrap();
    let mike_hex: String = mike_email.bytes().map(|b| format!("{b:02x}")).collect();
    assert_ne!(hex, mike_hex);
    let forged =
        http(&web.addr, "POST", &format!("/unsubscribe/{mike_hex}.{sig}"), &[], Some("List-Unsubscribe=One-Click"));
    assert_eq!(forged.status, 404);
    // GET shows a page and unsubscribes nobody (link scanners); POST is the one click.
    let page = http(&web.addr, "GET", &path, &[], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&lisa_email) && page.body.contains("<form method=post>"), "{}", page.body);
    let list = s.ok(&["-w", w, "unsubscribe", "--list", "--format", "json"]).json();
    assert_eq!(list["suppressions"].as_array().unwrap().len(), 0);
    let click = http(
        &web.addr,
        "POST",
        &path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("List-Unsubscribe=One-Click"),
    );
    assert_eq!(click.status, 200, "{}", click.body);
    let list = s.ok(&["-w", w, "unsubscribe", "--list", "--format", "json"]).json();
    assert_eq!(list["suppressions"][0]["email"], lisa_email.as_str());
    assert_eq!(list["suppressions"][0]["source"], "unsubscribe link");

    // The next period: Lisa is skipped as unsubscribed (Mike, written to a week ago, by the cooldown).
    let next = ok(
        scudo(&s, &ws, &["-w", w, "automation", "run", "at-risk", "--as-of", "2024-10-08", "--format", "json"]),
        "next period",
    );
    assert_eq!(next["period"], "2024-10-07T09:00:00+02:00");
    let lisa =
        next["recipients"].as_array().unwrap().iter().find(|r| r["email"] == lisa_email.as_str()).unwrap().clone();
    assert_eq!(lisa["status"], "skipped");
    assert!(lisa["skipped_because"].as_str().unwrap().starts_with("suppressed"), "{lisa}");
    assert_eq!(mail.messages().len(), 2, "nothing to Lisa after she unsubscribed");
    // The history has the three runs, newest first.
    let hist = s.ok(&["-w", w, "automation", "history", "at-risk", "--format", "json"]).json();
    let runs = hist["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(
        (runs[2]["sent"].as_i64(), runs[2]["status"].as_str(), runs[2]["trigger"].as_str()),
        (Some(2), Some("ok"), Some("manual"))
    );
    assert!(runs.iter().all(|r| r["duration_ms"].as_i64().is_some() && r["finished_at"].is_string()));
    drop(web);
}

#[test]
fn a_failing_check_withholds_the_campaign_and_tells_the_owner() {
    let tmp = tempfile::tempdir().unwrap();
    let mail = Server::start(tmp.path());
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    configure(&ws, &mail, "owner = \"owner@shop.example\"\n");
    std::fs::create_dir_all(ws.join("queries/checks")).unwrap();
    std::fs::write(
        ws.join("queries/checks/no_negative_orders.sql"),
        "-- name: checks.no_negative_orders\n-- description: a check that fails on the demo: every order counted as broken\n-- severity: error\nSELECT order_id FROM orders\n",
    )
    .unwrap();
    let r = scudo(&s, &ws, &["-w", w, "automation", "run", "at-risk", "--format", "json"]);
    assert_eq!(r.code, 1, "withheld is a condition: {}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["status"], "withheld");
    let why = doc["detail"]["withheld_because"].as_str().unwrap();
    assert!(why.contains("no_negative_orders"), "{why}");
    let got = received(&mail);
    assert_eq!(got.len(), 1, "the owner's notice, and no customer email");
    assert_eq!(got[0].0, "owner@shop.example");
    let subject = got[0].1["headers"]["Subject"].as_str().unwrap();
    assert!(subject.contains("withheld") && subject.contains("at-risk"), "{subject}");
    assert!(got[0].1["text"].as_str().unwrap().contains("no_negative_orders"));
    // The check run is in the check history, as `scudo check` would record it.
    let hist = s.ok(&["-w", w, "check", "history", "--format", "json"]).stdout;
    assert!(hist.contains("no_negative_orders"), "{hist}");
    // Withheld again in the same period: the owner is not told twice.
    scudo(&s, &ws, &["-w", w, "automation", "run", "at-risk"]);
    assert_eq!(mail.messages().len(), 1);
}

/// What the receiver saw: (signature valid, delivery id, body) per request.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(bool, String, String)>>>;

/// A real HTTP receiver on loopback: checks each POST's HMAC-SHA256 signature and timestamp,
/// answers 500 to the first `fail_first` requests, then 200. Returns (address, received bodies
/// with whether the signature held).
fn receiver(secret: &'static str, fail_first: usize) -> (String, Received) {
    use hmac::{Hmac, KeyInit, Mac};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let got: Received = Default::default();
    let seen = got.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = std::collections::HashMap::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let ts = headers.get("x-scudo-timestamp").cloned().unwrap_or_default();
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(format!("{ts}.").as_bytes());
            mac.update(&body);
            let want: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
            let fresh = ts.parse::<i64>().is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
            let valid = fresh && headers.get("x-scudo-signature").is_some_and(|s| *s == format!("sha256={want}"));
            let delivery = headers.get("x-scudo-delivery").cloned().unwrap_or_default();
            seen.lock().unwrap().push((valid, delivery, String::from_utf8_lossy(&body).into_owned()));
            let status = if n < fail_first { "500 Internal Server Error" } else { "200 OK" };
            let _ = stream
                .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
        }
    });
    (addr, got)
}

#[test]
fn webhooks_are_signed_retried_with_backoff_and_delivered_once() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let (addr, got) = receiver("whsec-test-1", 1);
    std::fs::write(
        ws.join("automations/hooks.toml"),
        format!(
            "[[automation]]\nname = \"at-risk-hook\"\ncron = \"0 9 * * MON\"\ntimezone = \"Europe/Rome\"\naction = \"webhook\"\nurl = \"http://{addr}/hook\"\naudience = \"campaigns.at_risk\"\nsecret_env = \"SHOP_HOOK_SECRET\"\n"
        ),
    )
    .unwrap();
    let run = |secret: &str| {
        let mut c = s.command_in(&ws, &["-w", w, "automation", "run", "at-risk-hook", "--format", "json"]);
        c.env("SHOP_HOOK_SECRET", secret);
        c.output().unwrap()
    };
    let out = run("whsec-test-1");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((doc["status"].as_str(), doc["sent"].as_u64()), (Some("ok"), Some(1)), "{doc}");
    let seen = got.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "refused once (500), then accepted on the retry");
    assert!(seen.iter().all(|(valid, _, _)| *valid), "every try is signed with the secret and a fresh timestamp");
    assert_eq!(seen[0].1, seen[1].1, "the same delivery id on every try");
    assert_eq!(seen[1].1, "webhook/at-risk-hook/2024-09-30T09:00:00+02:00");
    let body: Value = serde_json::from_str(&seen[1].2).unwrap();
    let names: Vec<&str> =
        body["audience"]["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Lisa Thompson", "Mike Johnson"]);
    // Once delivered, never again in the period.
    let again = run("whsec-test-1");
    assert!(again.status.success());
    assert_eq!(got.lock().unwrap().len(), 2);
    // A receiver with another secret would refuse it: the signature is the secret's.
    let (addr2, got2) = receiver("another-secret", 0);
    let text = std::fs::read_to_string(ws.join("automations/hooks.toml")).unwrap().replace(&addr, &addr2);
    std::fs::write(ws.join("automations/hooks.toml"), text).unwrap();
    let out = s
        .command_in(&ws, &["-w", w, "automation", "run", "at-risk-hook", "--as-of", "2024-10-08"])
        .env("SHOP_HOOK_SECRET", "whsec-test-1")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(got2.lock().unwrap().len(), 1);
    assert!(!got2.lock().unwrap()[0].0, "a signature under another secret does not verify");
}

/// `scudo schedule run` with `dir` first on PATH, in its own process group.
pub fn daemon(s: &Scudo, ws: &Path, path_first: Option<&Path>) -> Child {
    use std::os::unix::process::CommandExt;
    let mut c = s.command_in(ws, &["-w", ws.to_str().unwrap(), "schedule", "run"]);
    c.env("SCUDO_SMTP_PASSWORD", PASSWORD).stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0);
    if let Some(dir) = path_first {
        c.env("PATH", format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default()));
    }
    let mut child = c.spawn().unwrap();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || for _ in BufReader::new(err).lines() {});
    child
}

pub fn signal_group(child: &Child, signal: &str) {
    let _ = std::process::Command::new("kill").args([signal, "--", &format!("-{}", child.id())]).status();
}

#[test]
fn both_example_plugins_run_from_the_real_scheduler_on_a_seconds_cron() {
    let (s, ws) = demo();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plugins");
    let python = smtp::python();
    // The Python plugin runs under the tests' Python (any python3 would do).
    let py_plugin = ws.join("notify.sh");
    std::fs::write(
        &py_plugin,
        format!("#!/bin/sh\nexec {} {} \"$@\"\n", python.display(), examples.join("scudo-action-notify.py").display()),
    )
    .unwrap();
    std::fs::set_permissions(&py_plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        ws.join("automations/plugins.toml"),
        "[[automation]]\nname = \"save-at-risk\"\ncron = \"*/2 * * * * *\"\naction = \"save-audience\"\naudience = \"campaigns.at_risk\"\nenabled = true\n\n\
         [[automation]]\nname = \"notify-at-risk\"\ncron = \"*/2 * * * * *\"\naction = \"notify\"\nexec = \"notify.sh\"\naudience = \"campaigns.at_risk\"\nenabled = true\n",
    )
    .unwrap();
    let w = ws.to_str().unwrap();
    let listed = s.run_in(&ws, &["-w", w, "plugins", "list", "--format", "json"]);
    assert!(!listed.stdout.contains("save-audience"), "not on PATH yet");
    let mut d = daemon(&s, &ws, Some(&examples));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let runs = loop {
        std::thread::sleep(Duration::from_millis(500));
        let h = s.run(&["-w", w, "automation", "history", "--format", "json"]);
        if h.code == 0 {
            let runs = h.json()["runs"].as_array().cloned().unwrap_or_default();
            let done = |n: &str| runs.iter().filter(|r| r["automation"] == n && r["status"] == "ok").count();
            if done("save-at-risk") >= 2 && done("notify-at-risk") >= 2 {
                break runs;
            }
        }
        assert!(Instant::now() < deadline, "the scheduler did not run both plugins twice");
    };
    signal_group(&d, "-TERM");
    let status = d.wait().unwrap();
    assert!(status.success() || status.code().is_none(), "{status:?}");
    assert!(started.elapsed() < deadline - started, "a few seconds");
    // Each run is a period of its own (one every 2 seconds), run by the scheduler.
    let periods: std::collections::HashSet<&str> = runs.iter().map(|r| r["period"].as_str().unwrap()).collect();
    assert!(periods.len() >= 2, "{runs:?}");
    assert!(
        periods.iter().all(|p| !p.contains('.') && p.ends_with(":00") || p.len() == 25),
        "whole seconds: {periods:?}"
    );
    assert!(runs.iter().all(|r| r["trigger"] == "schedule" || r["trigger"] == "catch-up"), "{runs:?}");
    let notify = runs.iter().find(|r| r["automation"] == "notify-at-risk" && r["status"] == "ok").unwrap();
    assert_eq!(notify["detail"]["exit_code"], 0);
    assert_eq!(notify["detail"]["result"]["sent"], 2);
    assert!(notify["detail"]["stderr"].as_str().unwrap().contains("notify: 2 row(s)"));
    let log = std::fs::read_to_string(ws.join("notify.log")).unwrap();
    assert!(log.contains("Lisa Thompson") && log.contains("Mike Johnson"), "{log}");
    let kept: Vec<PathBuf> = std::fs::read_dir(ws.join("plugin-runs")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(!kept.is_empty());
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&kept[0]).unwrap()).unwrap();
    assert_eq!(doc["protocol"], 1);
    assert_eq!(doc["audience"]["count"], 2);
    let _ = d.kill();
}

#[test]
fn a_failing_or_silent_plugin_is_recorded_with_its_exit_code_and_stderr() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    std::fs::write(ws.join("bad.sh"), "#!/bin/sh\necho 'cannot reach the CRM' >&2\nexit 3\n").unwrap();
    std::fs::write(ws.join("slow.sh"), "#!/bin/sh\nsleep 30\n").unwrap();
    for f in ["bad.sh", "slow.sh"] {
        std::fs::set_permissions(ws.join(f), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        ws.join("automations/bad.toml"),
        "[[automation]]\nname = \"bad\"\ncron = \"0 9 * * MON\"\naction = \"crm\"\nexec = \"bad.sh\"\n\n\
         [[automation]]\nname = \"slow\"\ncron = \"0 9 * * MON\"\naction = \"crm\"\nexec = \"slow.sh\"\ntimeout = \"1s\"\n\n\
         [[automation]]\nname = \"missing\"\ncron = \"0 9 * * MON\"\naction = \"no-such-plugin\"\n",
    )
    .unwrap();
    let bad = s.fails(&["-w", w, "automation", "run", "bad", "--format", "json"], 2).json();
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["detail"]["exit_code"], 3);
    assert!(bad["error"].as_str().unwrap().contains("cannot reach the CRM"));
    let started = Instant::now();
    let slow = s.fails(&["-w", w, "automation", "run", "slow", "--format", "json"], 2).json();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(slow["error"].as_str().unwrap().contains("timeout"), "{slow}");
    let missing = s.fails(&["-w", w, "automation", "run", "missing"], 2);
    assert!(
        missing.stderr.contains("scudo-action-no-such-plugin") && missing.stderr.contains("PATH"),
        "{}",
        missing.stderr
    );
    let hist = s.ok(&["-w", w, "automation", "history", "bad", "--format", "json"]).json();
    assert_eq!(hist["runs"][0]["detail"]["stderr"], "cannot reach the CRM\n");
}

#[test]
fn scudo_name_runs_scudo_name_from_path_and_plugins_list_shows_it() {
    let s = Scudo::new();
    let bin = s.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("scudo-hello"), "#!/bin/sh\necho \"hello $*\"\nexit 1\n").unwrap();
    std::fs::set_permissions(bin.join("scudo-hello"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = s.command_in(s.path(), &["hello", "a", "b"]).env("PATH", &path).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello a b\n");
    assert_eq!(out.status.code(), Some(1), "its exit code");
    let out = s.command_in(s.path(), &["nosuchthing"]).env("PATH", &path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scudo-nosuchthing"));
    let out = s.command_in(s.path(), &["plugins", "list", "--format", "json"]).env("PATH", &path).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["plugins"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"email-campaign") && names.contains(&"hello"), "{names:?}");
}

#[test]
fn bad_automations_are_refused_with_the_file_and_line() {
    let (s, ws) = demo();
    std::fs::write(
        ws.join("automations/typo.toml"),
        "[[automation]]\nname = \"x\"\ncron = \"0 9 * * MON\"\naction = \"check\"\nenabeld = true\n",
    )
    .unwrap();
    let r = s.fails(&["-w", ws.to_str().unwrap(), "schedule", "list"], 2);
    assert!(
        r.stderr.contains("typo.toml") && r.stderr.contains("line 5") && r.stderr.contains("enabeld"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_hard_bounce_puts_the_address_on_the_suppression_list() {
    let tmp = tempfile::tempdir().unwrap();
    let mail = Server::start(tmp.path());
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    configure(&ws, &mail, "owner = \"owner@shop.example\"\n");
    // The test server refuses `refused@…` for good (550): Lisa's row with such an address.
    std::fs::create_dir_all(ws.join("queries/campaigns")).unwrap();
    std::fs::write(
        ws.join("queries/campaigns/bouncy.sql"),
        "-- name: campaigns.bouncy\n-- description: Lisa at an address the server refuses, Mike at his own\n\
         SELECT customer_id, name, CASE WHEN name = 'Lisa Thompson' THEN 'refused@example.com' ELSE email END AS email\n\
         FROM customers WHERE name IN ('Lisa Thompson', 'Mike Johnson') ORDER BY name\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("report-templates/hello.hbs"),
        "{{!--\ntitle = \"Hello\"\nsubject = \"Hello {{customer.name}}\"\n--}}\n<p>Hello {{customer.name}}</p>\n",
    )
    .unwrap();
    std::fs::write(ws.join("report-templates/hello.txt.hbs"), "Hello {{customer.name}}\n").unwrap();
    std::fs::write(
        ws.join("automations/bouncy.toml"),
        "[[automation]]\nname = \"bouncy\"\ncron = \"0 9 * * MON\"\naction = \"email-campaign\"\ntemplate = \"hello\"\naudience = \"campaigns.bouncy\"\n",
    )
    .unwrap();
    let r = scudo(&s, &ws, &["-w", w, "automation", "run", "bouncy", "--format", "json"]);
    assert_eq!(r.code, 1, "partial: one sent, one refused: {}", r.stderr);
    let doc = r.json();
    assert_eq!((doc["sent"].as_u64(), doc["failed"].as_u64()), (Some(1), Some(1)));
    let list = s.ok(&["-w", w, "unsubscribe", "--list", "--format", "json"]).json();
    assert_eq!(list["suppressions"][0]["email"], "refused@example.com");
    assert_eq!(list["suppressions"][0]["reason"], "bounce");
    // The next period does not try the address again.
    let next =
        scudo(&s, &ws, &["-w", w, "automation", "run", "bouncy", "--as-of", "2024-10-08", "--format", "json"]).json();
    let lisa =
        next["recipients"].as_array().unwrap().iter().find(|r| r["email"] == "refused@example.com").unwrap().clone();
    assert!(lisa["skipped_because"].as_str().unwrap().starts_with("suppressed: bounce"), "{lisa}");
}
