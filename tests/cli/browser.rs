//! The page in headless Chromium, driven over WebDriver (chromedriver; Debian `chromium` and
//! `chromium-driver`, installed by .ci): the demo's KPI cards, search as you type, the Customer
//! 360, a live event from another process, markup shown as text, and no console errors.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::demo;
use crate::serve::{Server, http};

struct Driver {
    child: Child,
    addr: String,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(&self.addr, "DELETE", &format!("/session/{}", self.session), &[], None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (apt-get install -y chromium chromium-driver)");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1024,768",
                format!("--user-data-dir={}", profile.path().display())]}}}});
        let r = http(&addr, "POST", "/session", &[], Some(&caps.to_string()));
        let v = r.json();
        let session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {}", r.body)).to_string();
        std::mem::forget(profile);
        Driver { child, addr, session }
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let b = body.to_string();
        let r = http(&self.addr, method, &format!("/session/{}{path}", self.session), &[], Some(&b));
        let v = r.json();
        assert!(r.status == 200, "WebDriver {method} {path}: {}", r.body);
        v["value"].clone()
    }

    fn run(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", json!({"script": script, "args": []}))
    }

    /// Waits until `script` returns something truthy; returns it.
    fn until(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.run(script);
            if !(v.is_null() || v == json!(false) || v == json!("")) {
                return v;
            }
            assert!(Instant::now() < deadline, "waited 20 s for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn severe_logs(&self) -> Vec<Value> {
        let logs = self.call("POST", "/se/log", json!({"type": "browser"}));
        logs.as_array().unwrap().iter().filter(|e| e["level"] == "SEVERE").cloned().collect()
    }
}

#[test]
fn the_page_shows_the_demo_in_chromium() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap().to_string();
    let checked = s.run(&["-w", &w, "check", "-q"]);
    assert!(checked.code <= 1, "{}", checked.stderr);
    // Markup in what people wrote must stay text.
    s.ok(&["-w", &w, "customer", "Mike Johnson", "note", "<img src=x onerror=window.__pwned=1>"]);
    let server = Server::start(&s, &ws);
    let d = Driver::start();
    d.call("POST", "/url", json!({"url": server.url()}));
    let cards = d.until(
        "the KPI cards",
        "const t = document.getElementById('kpis').innerText; return t.includes('$28,050') ? t : null;",
    );
    let cards = cards.as_str().unwrap();
    for want in ["Customers\n10", "Active\n7", "At-Risk\n2", "Revenue\n$28,050", "Orders\n57"] {
        assert!(cards.contains(want), "{want} missing from the KPI cards:\n{cards}");
    }
    d.until("the health bars", "return document.getElementById('health').innerText.includes('VIP (1)');");
    d.until("the alerts with reasons", "return document.getElementById('alerts').innerText.includes('Lisa Thompson');");
    d.until("the reason", "return document.getElementById('alerts').innerText.includes('overdue');");
    d.until("the segments", "return document.getElementById('segments').innerText.includes('VIP_HIGH_VALUE');");
    d.until("the check status", "return document.getElementById('checks').innerText.startsWith('checks: ');");
    d.until("data as of", "return document.getElementById('freshness').innerText.includes('data as of 2024-10-01');");
    d.until("the live connection", "return document.getElementById('live-state').innerText === 'live';");
    // Search as you type.
    d.run("const i = document.getElementById('search'); i.value = 'Mik'; i.dispatchEvent(new Event('input'));");
    d.until(
        "Mike Johnson among the suggestions",
        "return document.getElementById('suggestions').innerText.includes('Mike Johnson');",
    );
    d.run("document.querySelector('#suggestions button').click();");
    let head = d.until(
        "Mike Johnson's 360",
        "const h = document.getElementById('c-name').innerText; return h.includes('Mike Johnson') ? h : null;",
    );
    assert!(head.as_str().unwrap().contains("Mike Johnson"));
    let body = d.until("the 360's details", "return document.getElementById('c-body').innerText;");
    let body = body.as_str().unwrap();
    assert!(body.contains("mike.johnson@") && body.contains("Next best actions"), "{body}");
    assert!(body.contains("<img src=x onerror=window.__pwned=1>"), "the note is shown as text: {body}");
    assert_eq!(d.run("return document.querySelectorAll('#c-body img').length;"), json!(0));
    assert_eq!(d.run("return window.__pwned === undefined;"), json!(true));
    // The insights arrive as a stream and end with who wrote them.
    let words = d.until(
        "Mike Johnson's insights",
        "const t = document.querySelector('#c-body .insights').innerText; return t.includes('written by') ? t : null;",
    );
    let words = words.as_str().unwrap();
    assert!(words.contains("retention offer") && words.contains("written by scudo"), "{words}");
    // A live event from another process.
    let orders = crate::serve::lisa_orders_again(s.path());
    let run = s.run(&["-w", &w, "ingest", orders.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    d.until("the data_changed event", "return document.querySelector('#events li[data-type=data_changed]') !== null;");
    d.until(
        "Lisa's stage change",
        "return document.getElementById('events').innerText.includes('Lisa Thompson: At-Risk → Active');",
    );
    d.until("the cards to refresh", "return document.getElementById('kpis').innerText.includes('At-Risk\\n1');");
    let severe = d.severe_logs();
    assert!(severe.is_empty(), "console errors: {severe:?}");
    // Page weight: HTML + assets.
    let mut bytes = 0;
    for path in ["/", "/app.js", "/app.css"] {
        let cookie = format!("scudo_session={}", server.session);
        let r = http(&server.addr, "GET", path, &[("Cookie", &cookie)], None);
        assert_eq!(r.status, 200);
        bytes += r.body.len();
    }
    assert!(bytes < 300_000, "page weight {bytes} bytes");
}
