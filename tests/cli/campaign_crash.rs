//! Exactly once under kill -9: the real scheduler (`scudo schedule run`) sends a campaign to
//! several hundred customers through a real SMTP server on loopback, and is killed with SIGKILL
//! (with the run it started: the whole process group) at random moments 20 times in a row, then
//! started again and left to finish. Counted at the SMTP server: every customer with marketing
//! consent gets exactly one message, and nobody else any.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::automations::{configure, daemon, scudo, signal_group};
use crate::harness::Scudo;
use crate::smtp::Server;

/// A small xorshift generator (the seed is printed, so a failure can be replayed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

fn recipients(server: &Server) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for m in server.messages() {
        let env = std::fs::read_to_string(m.with_extension("eml.envelope")).unwrap();
        *out.entry(env.lines().nth(1).unwrap().to_string()).or_default() += 1;
    }
    out
}

fn setup(s: &Scudo, ws: &Path, mail: &Server, customers: &str) {
    let exports = s.path().join("exports");
    s.ok(&["generate", "--customers", customers, "--out", exports.to_str().unwrap(), "-q"]);
    s.ok(&["init", ws.to_str().unwrap(), "-q"]);
    s.ran(&["-w", ws.to_str().unwrap(), "ingest", exports.to_str().unwrap(), "-q"]);
    configure(ws, mail, "owner = \"owner@shop.example\"\nfrequency_cap = \"0\"\n");
    std::fs::create_dir_all(ws.join("queries/campaigns")).unwrap();
    std::fs::write(
        ws.join("queries/campaigns/everyone.sql"),
        "-- name: campaigns.everyone\n-- description: every customer with an email address\n\
         SELECT customer_id, name, email FROM customers WHERE email IS NOT NULL ORDER BY customer_id\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("report-templates/news.hbs"),
        "{{!--\ntitle = \"News\"\nsubject = \"News for {{customer.name}}\"\n--}}\n<html><body><p>Hello {{customer.name}}.</p><p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p></body></html>\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("report-templates/news.txt.hbs"),
        "Hello {{customer.name}}.\nUnsubscribe: {{unsubscribe_url}}\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("automations/news.toml"),
        "[[automation]]\nname = \"news\"\ncron = \"*/2 * * * * *\"\naction = \"email-campaign\"\ntemplate = \"news\"\n\
         audience = \"campaigns.everyone\"\ncooldown = \"1d\"\nenabled = true\n",
    )
    .unwrap();
}

#[test]
fn a_campaign_killed_twenty_times_reaches_every_customer_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mail = Server::start(tmp.path());
    let s = Scudo::new();
    let ws = s.path().join("shop");
    setup(&s, &ws, &mail, "700");
    let w = ws.to_str().unwrap();

    // Who should get it: the dry run's list (customers without marketing consent are skipped).
    let dry = scudo(&s, &ws, &["-w", w, "automation", "run", "news", "--dry-run", "--format", "json"]).json();
    let want: Vec<String> = dry["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "would send")
        .map(|r| r["email"].as_str().unwrap().to_string())
        .collect();
    let no_consent = dry["detail"]["skipped"]["no marketing consent"].as_u64().unwrap_or(0);
    assert!(want.len() >= 300, "several hundred recipients: {}", want.len());
    assert!(no_consent > 0, "some customers gave no consent, and must get nothing");

    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("kill -9 test: seed {seed}");
    let mut rng = Rng(seed);
    let mut mid_campaign = 0;
    for round in 0..20 {
        let d = daemon(&s, &ws, None);
        let wait = rng.between(800, 4500);
        std::thread::sleep(Duration::from_millis(wait));
        signal_group(&d, "-KILL");
        let mut d = d;
        let _ = d.wait();
        let got = mail.messages().len();
        eprintln!("kill -9 #{}: after {wait} ms, {got} of {} received", round + 1, want.len());
        if got > 0 && got < want.len() {
            mid_campaign += 1;
        }
        let dup: Vec<(String, usize)> = recipients(&mail).into_iter().filter(|(_, n)| *n > 1).collect();
        assert!(dup.is_empty(), "after kill #{}: sent twice: {dup:?}", round + 1);
    }
    assert!(mid_campaign >= 5, "the kills should land during the campaign ({mid_campaign} of 20 did)");

    // Started once more and left to finish.
    let mut d = daemon(&s, &ws, None);
    let deadline = Instant::now() + Duration::from_secs(300);
    while mail.messages().len() < want.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
    }
    // A few more scheduled periods go by: the cooldown and the outbox keep them from sending again.
    std::thread::sleep(Duration::from_secs(5));
    signal_group(&d, "-TERM");
    let _ = d.wait();

    let got = recipients(&mail);
    let total: usize = got.values().sum();
    let mut wanted = want.clone();
    wanted.sort();
    let mut have: Vec<String> = got.keys().cloned().collect();
    have.sort();
    assert_eq!(have, wanted, "every customer with consent, and nobody else");
    assert_eq!(total, want.len(), "exactly one message each: {total} messages for {} customers", want.len());
    eprintln!("kill -9 test: {} customers, {total} messages, {mid_campaign} of 20 kills mid-campaign", want.len());
    let hist = scudo(&s, &ws, &["-w", w, "automation", "history", "news", "--limit", "0", "--format", "json"]).json();
    let runs = hist["runs"].as_array().unwrap();
    assert!(runs.iter().any(|r| r["status"] == "interrupted"), "the history shows the interrupted runs");
    assert!(runs.iter().any(|r| r["trigger"] == "resume"), "and their resumption");
}
