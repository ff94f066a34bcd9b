//! `scudo serve`: the real server on a loopback port, driven by a plain HTTP client, a real
//! WebSocket client, other scudo processes, and (browser.rs) headless Chromium.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Scudo, demo};

/// A running `scudo serve` (stopped with SIGTERM when dropped).
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub session: String,
}

impl Server {
    pub fn start(s: &Scudo, ws: &Path) -> Server {
        Server::start_with(s, ws, &[])
    }

    /// [`Server::start`] with environment variables set (e.g. an encryption key).
    pub fn start_with(s: &Scudo, ws: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = s
            .command_in(s.path(), &["-w", ws.to_str().unwrap(), "serve", "--bind", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("scudo serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = loop {
            assert!(Instant::now() < deadline, "scudo serve printed no address");
            let line = lines.next().expect("scudo serve is running").unwrap();
            if let Some(u) = line.strip_prefix("open ") {
                break u.to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        let rest = url.strip_prefix("http://").unwrap();
        let (addr, token) = rest.split_once("/?token=").unwrap();
        Server { child, addr: addr.to_string(), session: token.to_string() }
    }

    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.session)
    }

    /// Stops the server with SIGTERM and returns its exit code.
    pub fn stop(mut self) -> i32 {
        term(&self.child);
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        std::mem::forget(self);
        code
    }
}

fn term(child: &Child) {
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
}

impl Drop for Server {
    fn drop(&mut self) {
        term(&self.child);
        let _ = self.child.wait();
    }
}

/// One HTTP response.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A blocking HTTP/1.1 request with `Connection: close`.
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    let mut s = TcpStream::connect(addr).expect("server reachable");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method != "GET" {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    // Read the head, then the body by its length (chromedriver keeps connections open).
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the connection closed before the response head");
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let mut body = raw[head_end + 4..].to_vec();
    let length =
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok());
    match length {
        Some(n) => {
            while body.len() < n {
                let k = s.read(&mut buf).unwrap();
                assert!(k > 0, "the connection closed in the body");
                body.extend_from_slice(&buf[..k]);
            }
        }
        None => {
            s.read_to_end(&mut body).unwrap();
        }
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(&body) } else { body };
    Resp { status, headers, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub fn get(addr: &str, path: &str, token: Option<&str>) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    http(addr, "GET", path, &headers, None)
}

/// A new order for Lisa Thompson (At-Risk in the demo) the day before the demo's date.
pub fn lisa_orders_again(dir: &Path) -> PathBuf {
    let demo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/shopify_orders.csv")).unwrap();
    let header = demo.lines().next().unwrap();
    let lisa = demo.lines().find(|l| l.starts_with("#1035,")).unwrap();
    let row = lisa.replace("#1035", "#1099").replace("2024-07-28", "2024-09-30").replace("2024-07-30", "2024-09-30");
    let row = row.replace("5801000000035", "5801000000099");
    let path = dir.join("orders_lisa.csv");
    std::fs::write(&path, format!("{header}\n{row}\n")).unwrap();
    path
}

#[test]
fn every_endpoint_answers_each_role_as_it_may() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let viewer = s.ok(&["-w", w, "tokens", "create", "--role", "viewer"]).stdout.trim().to_string();
    assert!(viewer.starts_with("scudo_") && !viewer.contains('\n'), "the token alone on stdout: {viewer}");
    s.ok(&["-w", w, "users", "add", "ann", "--role", "analyst"]);
    let analyst = s.ok(&["-w", w, "tokens", "create", "--role", "analyst", "--user", "ann"]).stdout.trim().to_string();
    let admin = s.ok(&["-w", w, "tokens", "create", "--role", "admin"]).stdout.trim().to_string();
    let revoked = s.ok(&["-w", w, "tokens", "create", "--role", "admin"]).stdout.trim().to_string();
    s.ok(&["-w", w, "tokens", "revoke", &revoked]);
    // Stored hashed: the database never holds the token.
    let listed = s.ok(&["-w", w, "tokens", "list", "--format", "json"]).stdout;
    assert!(!listed.contains(&viewer[20..]), "a token's secret is never shown again");
    let server = Server::start(&s, &ws);
    let a = &server.addr;

    assert_eq!(get(a, "/healthz", None).status, 200, "/healthz answers without a token");
    let reads = [
        "/",
        "/app.js",
        "/api/openapi.json",
        "/api/dashboard",
        "/api/dashboard/kpis",
        "/api/dashboard/customer-health",
        "/api/dashboard/segments",
        "/api/dashboard/alerts",
        "/api/dashboard/status",
        "/api/customers/search?q=Mik",
        "/api/customers/filter?stage=At-Risk",
        "/api/customers/cust-000006/profile",
        "/api/segments/tag:VIP_HIGH_VALUE/customers",
        "/api/segments/tag:VIP_HIGH_VALUE/performance",
    ];
    for path in reads {
        assert_eq!(get(a, path, None).status, 401, "{path} without a token");
        assert_eq!(get(a, path, Some("scudo_nope_nope")).status, 401, "{path} with a wrong token");
        assert_eq!(get(a, path, Some(&revoked)).status, 401, "{path} with a revoked token");
        for t in [&viewer, &analyst, &admin, &server.session] {
            let r = get(a, path, Some(t));
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            assert!(r.header("content-security-policy").unwrap().contains("default-src 'none'"));
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(r.header("x-frame-options"), Some("DENY"));
        }
    }
    for (path, role_ok) in [("/api/audit", [false, false, true])] {
        for (t, ok) in [&viewer, &analyst, &admin].iter().zip(role_ok) {
            assert_eq!(get(a, path, Some(t)).status, if ok { 200 } else { 403 }, "{path}");
        }
        assert_eq!(get(a, path, None).status, 401);
    }
    // Writes: notes and tags for analysts and admins.
    let note = r#"{"body": "called <b>her</b>"}"#;
    let post = |t: Option<&str>, path: &str, body: &str| {
        let auth = t.map(|t| format!("Bearer {t}"));
        let h: Vec<(&str, &str)> = auth.iter().map(|x| ("Authorization", x.as_str())).collect();
        http(a, "POST", path, &h, Some(body))
    };
    assert_eq!(post(None, "/api/customers/cust-000006/notes", note).status, 401);
    assert_eq!(post(Some(&viewer), "/api/customers/cust-000006/notes", note).status, 403);
    let r = post(Some(&analyst), "/api/customers/cust-000006/notes", note);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(post(Some(&admin), "/api/customers/cust-000006/tags", r#"{"tag": "vip-call"}"#).status, 200);
    assert_eq!(post(Some(&viewer), "/api/customers/cust-000006/tags", r#"{"tag": "x"}"#).status, 403);
    let p = get(a, "/api/customers/cust-000006/profile", Some(&viewer)).json();
    assert_eq!(p["notes"][0]["body"], "called <b>her</b>");
    assert_eq!(p["notes"][0]["author"], "ann");
    assert_eq!(p["tags"][0]["tag"], "vip-call");
    // The page's cookie: writes need the CSRF token as well.
    let cookie = format!("scudo_session={}", server.session);
    let h = [("Cookie", cookie.as_str())];
    assert_eq!(http(a, "GET", "/api/dashboard", &h, None).status, 200);
    assert_eq!(http(a, "POST", "/api/customers/cust-000006/tags", &h, Some(r#"{"tag": "y"}"#)).status, 403);
    let csrf = http(a, "GET", "/api/session", &h, None).json()["csrf"].as_str().unwrap().to_string();
    let h2 = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    assert_eq!(http(a, "POST", "/api/customers/cust-000006/tags", &h2, Some(r#"{"tag": "y"}"#)).status, 200);
    // The sign-in link sets an HttpOnly, SameSite cookie.
    let r = get(a, &format!("/?token={}", server.session), None);
    assert_eq!(r.status, 303);
    assert!(r.header("set-cookie").unwrap().contains("HttpOnly; SameSite=Strict"));
    // Too large a body is refused.
    let big = format!(r#"{{"body": "{}"}}"#, "x".repeat(100_000));
    assert_eq!(post(Some(&admin), "/api/customers/cust-000006/notes", &big).status, 413);

    // Same shapes as the CLI's --format json.
    let api = get(a, "/api/dashboard", Some(&viewer)).json();
    let cli = s.ok(&["-w", w, "dashboard", "--format", "json"]).json();
    assert_eq!(api["kpis"], cli["kpis"]);
    assert_eq!(api["health"], cli["health"]);
    assert_eq!(api["alerts"], cli["alerts"]);
    assert_eq!(api["segments"], cli["segments"]);
    assert_eq!(api["kpis"]["revenue"].to_string(), "28050.00");
    let search = get(a, "/api/customers/search?q=Mik", Some(&viewer)).json();
    let cli = s.ok(&["-w", w, "customers", "search", "Mik", "--format", "json"]).json();
    assert_eq!(search["rows"], cli["rows"]);
    assert_eq!(search["rows"][0]["name"], "Mike Johnson");
    let health = get(a, "/api/dashboard/customer-health", Some(&viewer)).json();
    assert_eq!(health["rows"], s.ok(&["-w", w, "health", "--format", "json"]).json()["rows"]);
    let f = get(a, "/api/customers/filter?stage=At-Risk&per_page=1", Some(&viewer)).json();
    assert_eq!(f["total"], 2);
    assert_eq!(f["rows"].as_array().unwrap().len(), 1);
    let openapi = get(a, "/api/openapi.json", Some(&viewer)).json();
    assert!(openapi["paths"]["/api/customers/{id}/profile"].is_object());
    assert_eq!(get(a, "/api/customers/nobody/profile", Some(&viewer)).status, 404);

    // The activity log: token creation, sign-in, customer views and every change.
    let audit = s.ok(&["-w", w, "audit", "--limit", "0", "--format", "json"]).json();
    let actions: Vec<&str> = audit["rows"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for want in ["token_create", "token_revoke", "user_add", "view_customer", "note_add", "tag_add", "sign_in"] {
        assert!(actions.contains(&want), "{want} missing from the activity log: {actions:?}");
    }
    let log = std::fs::read_to_string(ws.join("audit.jsonl")).unwrap();
    assert!(!log.contains(&server.session) && !log.contains(&viewer), "no secret in the activity log");
    assert_eq!(server.stop(), 0, "SIGTERM stops the server cleanly");
    assert!(!ws.join("scudo.duckdb.serve").exists(), "the run file is removed on exit");
}

#[test]
fn binding_beyond_loopback_needs_auth() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let r = s.fails(&["-w", w, "serve", "--bind", "0.0.0.0:0"], 2);
    assert!(r.stderr.contains("refusing to listen on 0.0.0.0:0 without authentication"), "{}", r.stderr);
}

#[test]
fn cli_notes_and_tags_show_in_the_360() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    s.ok(&["-w", w, "customer", "Lisa Thompson", "note", "prefers email"]);
    s.ok(&["-w", w, "customer", "Lisa Thompson", "tag", "add", "winback"]);
    s.ok(&["-w", w, "customer", "Lisa Thompson", "tag", "add", "gone"]);
    s.ok(&["-w", w, "customer", "Lisa Thompson", "tag", "remove", "gone"]);
    s.ok(&["-w", w, "customer", "Lisa Thompson", "note", "edit", "1", "prefers phone"]);
    let server = Server::start(&s, &ws);
    let p = get(&server.addr, "/api/customers/cust-000006/profile", Some(&server.session)).json();
    assert_eq!(p["notes"][0]["body"], "prefers phone");
    assert_eq!(p["tags"].as_array().unwrap().len(), 1);
    assert_eq!(p["tags"][0]["tag"], "winback");
    // Two customers in a row: each 360 is the CLI's (the server memoizes one profile at a time).
    for id in ["cust-000006", "cust-000007", "cust-000001", "cust-000006"] {
        let api = get(&server.addr, &format!("/api/customers/{id}/profile"), Some(&server.session)).json();
        let cli = s.ok(&["-w", w, "customer", id, "--format", "json"]).json();
        for key in ["customer", "actions", "orders"] {
            assert_eq!(api[key], cli[key], "{id} {key}");
        }
    }
}

/// Reads WebSocket messages until one satisfies `want`, or fails after `within`.
async fn wait_for(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    within: Duration,
    want: impl Fn(&Value) -> bool,
) -> (Value, Instant) {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.expect("the event came in time").unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if want(&v) {
                return (v, Instant::now());
            }
        }
    }
}

#[test]
fn an_ingest_in_another_terminal_succeeds_and_reaches_the_websocket() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap().to_string();
    let viewer = s.ok(&["-w", &w, "tokens", "create", "--role", "viewer"]).stdout.trim().to_string();
    let server = Server::start(&s, &ws);
    let orders = lisa_orders_again(s.path());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{}/api/live-updates", server.addr).into_client_request().unwrap();
        req.headers_mut().insert("Authorization", format!("Bearer {viewer}").parse().unwrap());
        let (mut sock, _) = tokio_tungstenite::connect_async(req).await.expect("WebSocket connects");
        wait_for(&mut sock, Duration::from_secs(10), |v| v["type"] == "hello").await;
        // A reading command shares the database with the server.
        let dash = s.ok(&["-w", &w, "dashboard", "--format", "json"]).json();
        assert_eq!(dash["kpis"]["at_risk"], 2);
        // The writer: another process, while the server runs.
        // Read the events while it runs, so that their arrival times are true.
        let started = Instant::now();
        let child = s
            .command_in(s.path(), &["-w", &w, "ingest", orders.to_str().unwrap(), "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (changed, _) = wait_for(&mut sock, Duration::from_secs(30), |v| v["type"] == "data_changed").await;
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0;
        let out = child.wait_with_output().unwrap();
        let finished = Instant::now();
        assert_eq!(out.status.code(), Some(0), "ingest succeeds while the server runs: {}", String::from_utf8_lossy(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["files"][0]["orders"]["inserted"], 1);
        assert_eq!(changed["source"], "ingest");
        assert_eq!(changed["what"][0]["orders"]["inserted"], 1);
        let latency = now_ms - changed["committed_at_ms"].as_f64().unwrap();
        assert!(latency < 100.0, "data_changed {latency} ms after the commit");
        let (moved, at) = wait_for(&mut sock, Duration::from_secs(20), |v| {
            v["type"] == "stage_change" && v["customer"] == "Lisa Thompson"
        })
        .await;
        assert_eq!(moved["old"], "At-Risk");
        assert_eq!(moved["new"], "Active");
        assert_eq!(moved["action"], "thank_them_and_stop_win_back");
        eprintln!(
            "ingest took {:?}; data_changed {latency:.1} ms after its commit; the stage change {:?} after the ingest exited",
            finished - started,
            at.saturating_duration_since(finished)
        );
        // The same stream as server-sent events.
        let r = http(&server.addr, "GET", "/api/live-updates", &[], None);
        assert_eq!(r.status, 401);
    });
    // The server sees the new data.
    let k = get(&server.addr, "/api/dashboard", Some(&viewer)).json();
    assert_eq!(k["kpis"]["at_risk"], 1, "Lisa is no longer At-Risk: {}", k["kpis"]);
    // And scoring from another terminal also works and is announced.
    let run = s.run(&["-w", &w, "score"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(get(&server.addr, "/api/dashboard", Some(&viewer)).status, 200);
}

#[test]
fn server_sent_events_carry_the_same_stream() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap().to_string();
    let server = Server::start(&s, &ws);
    let mut sock = TcpStream::connect(&server.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        sock,
        "GET /api/live-updates HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nAuthorization: Bearer {}\r\n\r\n",
        server.addr, server.session
    )
    .unwrap();
    let mut reader = BufReader::new(sock);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    std::thread::sleep(Duration::from_millis(200));
    s.ok(&["-w", &w, "customer", "Mike Johnson", "tag", "add", "called"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while Instant::now() < deadline && !seen.contains("tag_add") {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
    }
    assert!(seen.contains("event: data_changed") && seen.contains("tag_add"), "{seen}");
}

/// p50 and p99 of `ms`, sorted in place.
fn percentiles(ms: &mut [f64]) -> (f64, f64) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

/// One keep-alive HTTP/1.1 GET on `s`; the status and the body's length.
async fn keep_alive_get(s: &mut tokio::net::TcpStream, host: &str, path: &str, token: &str) -> (u16, usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed");
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status: u16 = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .expect("a content-length");
    let mut have = raw.len() - head_end - 4;
    while have < len {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed in the body");
        have += n;
    }
    (status, len)
}

/// 10,000 requests from 64 concurrent clients against the dashboard and search endpoints, then
/// each kind of answer computed afresh (not from the server's cache). Zero errors. The figures go
/// to docs/benchmarks.md; SCUDO_SERVE_BENCH_WS runs it against another workspace (read-only).
#[test]
fn load_test_ten_thousand_requests_at_64_concurrent() {
    let (s, demo_ws) = demo();
    let ws = std::env::var("SCUDO_SERVE_BENCH_WS").map(PathBuf::from).unwrap_or(demo_ws);
    let server = Server::start(&s, &ws);
    let (addr, token) = (server.addr.clone(), server.session.clone());
    let paths: Vec<String> = [
        "/api/dashboard",
        "/api/dashboard/kpis",
        "/api/dashboard/customer-health",
        "/api/dashboard/segments",
        "/api/dashboard/alerts",
        "/api/dashboard/status",
    ]
    .iter()
    .map(|p| p.to_string())
    .chain(["Mik", "Lis", "Rob", "Sar", "Jo", "Em", "Da", "An"].iter().map(|q| format!("/api/customers/search?q={q}")))
    .collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (total, concurrency) = (10_000usize, 64usize);
    let started = Instant::now();
    let results: Vec<(String, f64, u16)> = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..concurrency {
            let (addr, token, paths) = (addr.clone(), token.clone(), paths.clone());
            tasks.push(tokio::spawn(async move {
                let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
                let mut out = Vec::new();
                for i in (c..total).step_by(concurrency) {
                    let path = &paths[i % paths.len()];
                    let t = Instant::now();
                    let (status, len) = keep_alive_get(&mut sock, &addr, path, &token).await;
                    assert!(len > 0);
                    out.push((path.clone(), t.elapsed().as_secs_f64() * 1000.0, status));
                }
                out
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(results.len(), total);
    let errors: Vec<&(String, f64, u16)> = results.iter().filter(|r| r.2 != 200).collect();
    assert!(
        errors.is_empty(),
        "{} errors under load, e.g. {:?}",
        errors.len(),
        errors.iter().take(5).collect::<Vec<_>>()
    );
    let mut all: Vec<f64> = results.iter().map(|r| r.1).collect();
    let (p50, p99) = percentiles(&mut all);
    eprintln!(
        "load: {total} requests, {concurrency} concurrent, {wall:.2} s ({:.0} req/s), 0 errors: p50 {p50:.2} ms, p99 {p99:.2} ms",
        total as f64 / wall
    );
    for group in ["/api/dashboard", "/api/customers/search"] {
        let mut ms: Vec<f64> = results.iter().filter(|r| r.0.starts_with(group)).map(|r| r.1).collect();
        let (a, b) = percentiles(&mut ms);
        eprintln!("load: {group}…: {} requests, p50 {a:.2} ms, p99 {b:.2} ms", ms.len());
    }
    // Computed afresh: queries the cache has not seen, one at a time.
    let fresh = |label: &str, paths: Vec<String>| {
        let mut ms = Vec::new();
        for p in &paths {
            let t = Instant::now();
            let r = get(&addr, p, Some(&token));
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.status, 200, "{p}: {}", r.body);
        }
        let (a, b) = percentiles(&mut ms);
        eprintln!("fresh: {label}: {} requests, p50 {a:.2} ms, p99 {b:.2} ms", ms.len());
    };
    let letters = ["a", "e", "i", "o", "u", "r", "n", "l"];
    let queries: Vec<String> = letters
        .iter()
        .flat_map(|a| ["Ma", "Jo", "Li", "Sa", "Da"].map(|p| format!("/api/customers/search?q={p}{a}")))
        .collect();
    fresh("search", queries);
    let some = get(&addr, "/api/customers/filter?per_page=30", Some(&token)).json();
    let ids: Vec<String> = some["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("/api/customers/{}/profile", r["customer_id"].as_str().unwrap()))
        .collect();
    fresh("Customer 360", ids);
    fresh("kpis (another period)", (31..41).map(|d| format!("/api/dashboard/kpis?period_days={d}")).collect());
    fresh("alerts (another limit)", (40..50).map(|n| format!("/api/dashboard/alerts?limit={n}")).collect());
    fresh(
        "customer-health via filter",
        (1..11).map(|p| format!("/api/customers/filter?stage=Active&page={p}")).collect(),
    );
}

#[test]
fn single_sign_on_through_a_proxy_header_when_configured() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    s.ok(&["-w", w, "users", "add", "vera", "--role", "viewer"]);
    // Off by default: the header means nothing.
    let server = Server::start(&s, &ws);
    assert_eq!(http(&server.addr, "GET", "/api/dashboard", &[("X-Forwarded-User", "vera")], None).status, 401);
    drop(server);
    let toml = std::fs::read_to_string(ws.join("scudo.toml")).unwrap();
    assert!(toml.contains("trusted_user_header = \"\""), "off by default");
    let on = toml.replace("trusted_user_header = \"\"", "trusted_user_header = \"X-Forwarded-User\"");
    std::fs::write(ws.join("scudo.toml"), on).unwrap();
    let server = Server::start(&s, &ws);
    let a = &server.addr;
    let who = http(a, "GET", "/api/session", &[("X-Forwarded-User", "vera")], None);
    assert_eq!(who.status, 200);
    assert_eq!(who.json()["role"], "viewer");
    assert_eq!(http(a, "GET", "/api/dashboard", &[("X-Forwarded-User", "mallory")], None).status, 401);
    let csrf = who.json()["csrf"].as_str().unwrap().to_string();
    let h = [("X-Forwarded-User", "vera"), ("X-CSRF-Token", csrf.as_str())];
    assert_eq!(http(a, "POST", "/api/customers/cust-000006/tags", &h, Some(r#"{"tag": "x"}"#)).status, 403);
}
