//! Every `scudo …` command the README shows runs as written, in a temporary directory laid out as
//! the README assumes (its file names stand for small fixtures), and ends with a documented exit
//! code: 0, or 1 where a condition holds (rows rejected, alerts listed).

use std::path::Path;

use crate::harness::{Scudo, fixture};

/// The README's `scudo` command lines, in order, without comments.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        let cmd = line.split(" #").next().unwrap_or("").trim();
        if in_sh && cmd.starts_with("scudo ") {
            out.push(cmd.to_string());
        }
    }
    out
}

/// Shell-like words: single quotes keep a glob for scudo itself to expand.
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in cmd.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn copy(name: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(fixture(name), to).unwrap();
}

#[test]
fn every_readme_command_runs_as_written() {
    let commands = readme_commands();
    assert!(commands.len() >= 15, "found only {commands:?}");
    let s = Scudo::new();
    let home = s.path().join("home");
    // The files the README's examples name.
    copy("shopify_orders_currencies.csv", &home.join("Downloads/orders_export.csv"));
    copy("stripe_pay_refunds.csv", &home.join("Downloads/unified_payments.csv"));
    let shop = s.path().join("myshop");
    copy("stripe_inv_refunds.csv", &shop.join("exports/invoices.csv"));
    copy("shopify_orders_later.csv", &shop.join("exports/orders_export_2024.csv"));
    copy("stripe_payments.csv", &shop.join("data.csv"));
    copy("generic_eu.csv", &shop.join("sales.txt"));
    copy("generic_eu.toml", &shop.join("sales.toml"));
    copy("shopify_orders_quirks.csv", &shop.join("orders.csv"));
    copy("stripe_subscriptions.csv", &shop.join("subscriptions.csv"));
    copy("contacts.xlsx", &shop.join("contacts.xlsx"));
    copy("ecb_rates.csv", &shop.join("eurofxref-hist.csv"));
    std::fs::write(shop.join("my-rates.csv"), "date,currency,rate\n2024-06-07,GBP,1.27\n").unwrap();
    // `scudo export … --segment VIP_HIGH_VALUE` (and the insights) speak of the demo's segments: those lines run
    // there, and so do the data checks, which pass there (exit 0). In `myshop` they would rightly
    // fail: two of its orders are in a currency with no rate.
    s.ok(&["demo", "demo", "-q"]);
    let demo = s.path().join("demo");
    // Privacy requests erase Mike Johnson, whom later examples (insights) still speak of: a demo
    // of their own.
    s.ok(&["demo", "privacy-demo", "-q"]);
    let privacy_demo = s.path().join("privacy-demo");
    let mut ran = 0;
    for cmd in &commands {
        if let Some(rest) = cmd.strip_prefix("scudo init myshop") {
            assert_eq!(rest.trim(), "&& cd myshop", "{cmd}");
            s.ok(&["init", "myshop", "-q"]);
            continue;
        }
        let (line, redirect) = match cmd.split_once(" > ") {
            Some((l, file)) => (l, Some(file.trim().to_string())),
            None => (cmd.as_str(), None),
        };
        let args: Vec<String> =
            words(line).into_iter().skip(1).map(|w| w.replace("~/", &format!("{}/", home.display()))).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let checks = cmd.starts_with("scudo check");
        // Insights and questions speak of the demo's customers (Mike Johnson): they run there.
        let demo_only = cmd.contains("export customers") || cmd.contains("insights") || cmd.starts_with("scudo ask");
        let dir = if cmd.starts_with("scudo privacy") {
            &privacy_demo
        } else if demo_only || checks {
            &demo
        } else {
            &shop
        };
        let r = s.run_in(dir, &args);
        assert!(r.code == 0 || (r.code == 1 && !checks), "`{cmd}` exited {}:\n{}\n{}", r.code, r.stdout, r.stderr);
        if let Some(file) = redirect {
            assert!(!r.stdout.is_empty(), "`{cmd}` printed nothing");
            std::fs::write(dir.join(file), &r.stdout).unwrap();
        }
        ran += 1;
    }
    assert_eq!(ran, commands.len() - 1);
    // What the commands left behind is what they promise.
    assert!(demo.join("contacts.csv").is_file() && demo.join("vip.csv").is_file());
    assert!(std::fs::read_to_string(demo.join("checks.xml")).unwrap().contains("<testcase name=\"orders_amounts\""));
    let vip = std::fs::read_to_string(demo.join("vip.csv")).unwrap();
    assert_eq!(vip.lines().count(), 2, "one VIP customer and a header: {vip}");
    let list = s.run_in(&shop, &["rates", "list", "--format", "json"]);
    assert_eq!(list.code, 0);
    assert!(list.json().as_array().unwrap().iter().any(|r| r["currency"] == "GBP" && r["base"] == "USD"));
}
