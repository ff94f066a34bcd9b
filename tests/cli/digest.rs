//! `scudo digest` against a real SMTP server on loopback (STARTTLS + AUTH, tests/smtp/server.py),
//! the message read back with Python's `email` package.

use std::path::Path;

use crate::harness::{Run, Scudo, demo, scalar_i64, scalar_text};
use crate::smtp::{self, PASSWORD, Server};

/// The demo with `[smtp]` pointing at `server` (tls as given).
fn demo_for(server: &Server, tls: &str) -> (Scudo, std::path::PathBuf) {
    let (s, ws) = demo();
    set_smtp(&ws, &server.settings(tls));
    (s, ws)
}

/// Replaces the `[smtp]` section of the workspace's scudo.toml (the last section) with `section`.
fn set_smtp(ws: &Path, section: &str) {
    let toml = ws.join("scudo.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let kept = text.split("\n[smtp]").next().unwrap().to_string();
    std::fs::write(&toml, kept + section).unwrap();
}

fn digest(s: &Scudo, ws: &Path, password: &str, args: &[&str]) -> Run {
    let mut c = s.command_in(ws, &["digest"]);
    c.args(args).env("SCUDO_SMTP_PASSWORD", password);
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The demo's numbers, in the words both parts use.
const DEMO_FACTS: &[&str] = &[
    "$28,050",
    "10 customers",
    "7 active",
    "2 at risk",
    "Lisa Thompson",
    "no order for 65 days (usually every 48 days: 17 days overdue)",
    "Mike Johnson",
    "no order for 57 days (usually every 47 days: 10 days overdue)",
];

#[test]
fn digest_sends_one_message_that_reads_well_in_both_parts_and_never_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let (s, ws) = demo_for(&server, "starttls");
    let r = digest(&s, &ws, PASSWORD, &["--to", "owner@example.com"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "", "nothing on stdout for cron");
    assert!(!r.stderr.contains(PASSWORD) && !r.stdout.contains(PASSWORD));
    let got = server.messages();
    assert_eq!(got.len(), 1, "one message");
    let envelope = std::fs::read_to_string(got[0].with_extension("eml.envelope")).unwrap();
    assert_eq!(envelope, "reports@shop.example\nowner@example.com\n");
    let m = smtp::inspect(&got[0], None);
    // text + HTML + inline PNGs: alternative(text/plain, related(text/html, image/png…)).
    let tree = &m["tree"];
    assert_eq!(tree["type"], "multipart/alternative");
    assert_eq!(tree["parts"][0]["type"], "text/plain");
    assert_eq!(tree["parts"][1]["type"], "multipart/related");
    let related: Vec<&str> =
        tree["parts"][1]["parts"].as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(related, ["text/html", "image/png", "image/png"]);
    assert_eq!(m["defects"].as_array().unwrap().len(), 0, "{}", m["defects"]);
    // Headers.
    let h = &m["headers"];
    let id = h["Message-ID"].as_str().unwrap();
    assert!(id.starts_with('<') && id.ends_with("@shop.example>"), "{id}");
    assert!(h["Date"].as_str().unwrap().ends_with("+0000"), "{}", h["Date"]);
    assert_eq!(h["To"], "owner@example.com");
    assert_eq!(h["Reply-To"], "owner@shop.example");
    assert!(h["Subject"].as_str().unwrap().starts_with("Weekly digest · 1 Oct 2024"), "{}", h["Subject"]);
    // Every cid: resolves to an attached inline PNG (2x, with alt text and size in the HTML).
    let html = m["html"].as_str().unwrap();
    assert!(m["unresolved_cids"].as_array().unwrap().is_empty());
    assert_eq!(m["cids"].as_array().unwrap().len(), 2);
    for img in m["images"].as_array().unwrap() {
        assert_eq!(img["disposition"], "inline");
        assert_eq!(img["png"], true);
        assert_eq!(img["width"], 1120, "2x of 560 px");
        let cid = img["cid"].as_str().unwrap();
        let at = html.find(&format!("cid:{cid}")).unwrap();
        let start = html[..at].rfind("<img").unwrap();
        let tag = &html[start..=at + html[at..].find('>').unwrap()];
        assert!(tag.contains("width=\"560\"") && tag.contains("alt=\"") && tag.contains("height=\""), "{tag}");
    }
    // Size and what a mail client would block.
    assert!(m["html_bytes"].as_u64().unwrap() < 100 * 1024, "{}", m["html_bytes"]);
    assert!(m["size"].as_u64().unwrap() < 200 * 1024, "{}", m["size"]);
    let lower = html.to_lowercase();
    for bad in ["<svg", "data:", "<script", "src=\"http://", "src=\"https://", "<link"] {
        assert!(!lower.contains(bad), "the HTML part holds {bad}");
    }
    assert!(!lower.contains("<style") || !lower.contains(".card"), "ordinary CSS rules are inlined");
    assert!(lower.contains("style=\""), "inline styles");
    // The demo's numbers in both parts, the at-risk customers with their reasons.
    let text = m["text"].as_str().unwrap();
    for fact in DEMO_FACTS {
        assert!(text.contains(fact), "text part lacks {fact}:\n{text}");
        assert!(html.contains(&fact.replace('&', "&amp;")), "HTML part lacks {fact}");
    }
    assert!(text.contains("No data checks run yet"), "{text}");
    // Recorded in the outbox as sent, with the Message-ID the server got.
    {
        let db = Scudo::db(&ws);
        assert_eq!(scalar_i64(&db, "SELECT count(*) FROM outbox WHERE status = 'sent'"), 1);
        assert_eq!(
            format!("<{}>", scalar_text(&db, "SELECT message_id FROM outbox")),
            id,
            "the outbox knows the Message-ID"
        );
        assert_eq!(scalar_text(&db, "SELECT key FROM outbox"), "digest/weekly-digest/2024-10-01/owner@example.com");
    }
    // The password is nowhere on disk.
    for f in ["scudo.toml", "scudo.duckdb"] {
        let bytes = std::fs::read(ws.join(f)).unwrap();
        assert!(!bytes.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()), "{f} holds the password");
    }
    // The same cron line again sends nothing; --resend sends again.
    let again = digest(&s, &ws, PASSWORD, &["--to", "owner@example.com"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("was sent already"), "{}", again.stderr);
    assert_eq!(server.messages().len(), 1, "not sent twice");
    let resend = digest(&s, &ws, PASSWORD, &["--to", "owner@example.com", "--resend", "--format", "json"]);
    assert_eq!(resend.code, 0, "{}", resend.stderr);
    assert_eq!(server.messages().len(), 2, "--resend sends again");
    let summary = resend.json();
    assert_eq!(summary["messages"][0]["status"], "sent");
    assert!(summary["html_bytes"].as_u64().unwrap() < 100 * 1024);
}

#[test]
fn digest_failures_name_their_class_and_the_message_is_retried_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let (s, ws) = demo_for(&server, "starttls");
    let status = |ws: &Path| {
        let db = Scudo::db(ws);
        scalar_text(
            &db,
            "SELECT status || ' ' || COALESCE(error_class, '-') || ' ' || attempts FROM outbox ORDER BY created_at DESC LIMIT 1",
        )
    };
    // Auth refused: exit 2, the settings to fix named, the message kept as failed.
    let r = digest(&s, &ws, "wrong-password", &["--to", "owner@example.com"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("refused the login") && r.stderr.contains("SCUDO_SMTP_PASSWORD"), "{}", r.stderr);
    assert!(!r.stderr.contains("wrong-password"));
    assert_eq!(status(&ws), "failed auth 1");
    assert!(server.messages().is_empty());
    // Fixed: the next run sends the recorded message (never lost).
    let r = digest(&s, &ws, PASSWORD, &["--to", "owner@example.com"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("was failed after 1 tries"), "{}", r.stderr);
    assert_eq!(status(&ws), "sent - 2");
    assert_eq!(server.messages().len(), 1);
    // Recipient refused (550): permanent, not retried.
    let r = digest(&s, &ws, PASSWORD, &["--to", "refused@example.com"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("refused the recipient `refused@example.com` (check --to)"), "{}", r.stderr);
    assert_eq!(status(&ws), "failed recipient 1");
    // A transient refusal (451) is retried with backoff, then kept for the next run.
    let r = digest(&s, &ws, PASSWORD, &["--to", "busy@example.com", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let busy = r.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["recipient"] == "busy@example.com")
        .cloned()
        .unwrap();
    assert_eq!(busy["error_class"], "transient");
    assert_eq!(busy["tries"], 3, "[smtp] retries = 3");
    assert_eq!(server.messages().len(), 1);
    // TLS required: a client configured without TLS is told to turn it on.
    let (s2, ws2) = demo_for(&server, "none");
    let r = digest(&s2, &ws2, PASSWORD, &["--to", "owner@example.com"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("requires TLS") && r.stderr.contains("[smtp] tls = \"starttls\""), "{}", r.stderr);
    assert_eq!(status(&ws2), "failed tls 1");
    // Server down: nothing listens on the port.
    let (s3, ws3) = demo();
    set_smtp(
        &ws3,
        &format!(
            "\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"x\"\nfrom = \"reports@shop.example\"\n",
            smtp::free_port()
        ),
    );
    let r = digest(&s3, &ws3, PASSWORD, &["--to", "owner@example.com"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot connect to 127.0.0.1:") && r.stderr.contains("[smtp] host"), "{}", r.stderr);
    assert_eq!(status(&ws3), "failed connect 1");
}

#[test]
fn digest_dry_run_and_save_send_and_record_nothing() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let eml = s.path().join("digest.eml");
    let r = s.ok(&["-w", w, "digest", "--to", "owner@example.com", "--dry-run", "--save", eml.to_str().unwrap()]);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("dry run: 1 message(s) built and checked, none sent"), "{}", r.stderr);
    let m = smtp::inspect(&eml, None);
    assert_eq!(m["tree"]["type"], "multipart/alternative");
    assert!(m["text"].as_str().unwrap().contains("$28,050"));
    assert_eq!(scalar_i64(&Scudo::db(&ws), "SELECT count(*) FROM outbox"), 0);
    // Without [smtp] host, sending says what to set.
    let r = s.fails(&["-w", w, "digest", "--to", "owner@example.com"], 2);
    assert!(r.stderr.contains("set [smtp] host") && r.stderr.contains("SCUDO_SMTP_PASSWORD"), "{}", r.stderr);
    let r = s.fails(&["-w", w, "digest", "--to", "not an address", "--dry-run"], 2);
    assert!(r.stderr.contains("--to `not an address` is not an email address"), "{}", r.stderr);
    // The password is refused in the file.
    set_smtp(&ws, "\n[smtp]\nhost = \"mail.example.com\"\npassword = \"hunter2\"\n");
    let r = s.fails(&["-w", w, "digest", "--to", "owner@example.com", "--dry-run"], 2);
    assert!(r.stderr.contains("[smtp] password is not allowed") && !r.stderr.contains("hunter2"), "{}", r.stderr);
}
