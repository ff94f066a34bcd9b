//! Stage 9: `scudo serve`, the live dashboard. An app factory ([`app`]) apart from [`serve`]:
//! the router answers the page, the JSON API (the CLI's `--format json` shapes), live events
//! (WebSocket and server-sent events) and the internal endpoints through which other scudo
//! commands borrow the database (owner.rs). Tokio only here; the database stays synchronous on
//! its own thread.

pub mod api;
pub mod auth;
pub mod insights;
pub mod live;
pub mod owner;
mod page;
pub mod unsubscribe;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Result;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::config::Workspace;

/// Largest request body (notes are short).
const MAX_BODY: usize = 64 * 1024;
/// Longest a request may take (not the live streams).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The strict policy: everything from this origin, nothing inline, no frames.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What every handler shares.
pub struct Shared {
    pub db: std::sync::mpsc::Sender<owner::Msg>,
    pub db_path: PathBuf,
    pub events: broadcast::Sender<String>,
    /// The session token printed at start.
    pub session: String,
    pub csrf: String,
    /// The run file's secret, for the internal endpoints.
    pub secret: String,
    pub tokens: RwLock<auth::Tokens>,
    /// The reverse proxy's authenticated-user header, when single sign-on is on.
    pub proxy_header: Option<String>,
    pub proxy_users: RwLock<HashMap<String, String>>,
    /// The last answer of each GET, served (marked stale) while a writer holds the database.
    pub cache: Mutex<HashMap<String, Value>>,
    announced: std::sync::atomic::AtomicBool,
    /// Answers being computed, one lock each (api::answer).
    pub inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Bumped at each reload: an answer computed before it is not cached after it.
    pub generation: std::sync::atomic::AtomicU64,
}

pub type State = Arc<Shared>;

/// How the server is set up (from `scudo serve`'s flags and the workspace).
pub struct Options {
    pub bind: SocketAddr,
    pub session: String,
    pub proxy_header: Option<String>,
    pub revenue_thresholds: Vec<f64>,
}

struct Notifier {
    events: broadcast::Sender<String>,
    shared: std::sync::OnceLock<std::sync::Weak<Shared>>,
}

impl owner::Notify for Notifier {
    fn reloaded(&self, r: owner::Reloaded) {
        let Some(shared) = self.shared.get().and_then(|w| w.upgrade()) else { return };
        if let Ok(mut t) = shared.tokens.write() {
            t.replace(r.tokens);
        }
        if let Ok(mut c) = shared.cache.lock() {
            shared.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            c.clear();
        }
        if !r.announced {
            let _ = self.events.send(
                json!({"type": "data_changed", "source": "another scudo command", "at": live::now()}).to_string(),
            );
        }
        for e in &r.snapshot_events {
            let _ = self.events.send(e.to_string());
        }
        let _ = self.events.send(
            json!({"type": "data_reloaded", "events": r.snapshot_events.len(), "millis": r.millis, "at": live::now()})
                .to_string(),
        );
    }

    fn warmed(&self, answers: Vec<(String, Value)>) {
        let Some(shared) = self.shared.get().and_then(|w| w.upgrade()) else { return };
        if let Ok(mut c) = shared.cache.lock() {
            c.extend(answers);
        }
    }

    fn take_announced(&self) -> bool {
        self.shared
            .get()
            .and_then(|w| w.upgrade())
            .is_some_and(|s| s.announced.swap(false, std::sync::atomic::Ordering::SeqCst))
    }
}

/// Opens the workspace on its database thread and builds the shared state.
pub fn state(ws: Workspace, opts: &Options, secret: String) -> Result<State> {
    let (events, _) = broadcast::channel(1024);
    let notifier = Arc::new(Notifier { events: events.clone(), shared: Default::default() });
    let db_path = ws.database_path();
    let (db, tokens) = owner::start(ws, opts.revenue_thresholds.clone(), notifier.clone())?;
    let mut t = auth::Tokens::default();
    t.replace(tokens);
    let shared = Arc::new(Shared {
        db,
        db_path,
        events,
        session: opts.session.clone(),
        csrf: crate::store::access::random_hex(16)?,
        secret,
        tokens: RwLock::new(t),
        proxy_header: opts.proxy_header.clone(),
        proxy_users: Default::default(),
        cache: Default::default(),
        announced: Default::default(),
        generation: Default::default(),
        inflight: Default::default(),
    });
    let _ = notifier.shared.set(Arc::downgrade(&shared));
    let _ = shared.db.send(owner::Msg::Warm);
    Ok(shared)
}

/// The router: page, API, live streams and internal endpoints, with the security headers,
/// body and time limits.
pub fn app(state: State) -> Router {
    let timed = api::routes()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/app.css", get(page::style))
        .route("/healthz", get(healthz))
        .route("/unsubscribe/{token}", get(unsubscribe::show).post(unsubscribe::confirm))
        .route("/internal/release", post(internal_release))
        .route("/internal/done", post(internal_done))
        .route("/internal/committed", post(internal_committed))
        .layer(middleware::from_fn_with_state(state.clone(), api::guard))
        .layer(middleware::from_fn(time_limit));
    Router::new()
        .route("/api/live-updates", get(api::live_updates))
        .merge(timed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn time_limit(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the request took too long"),
    }
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
}

/// A JSON error `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

async fn healthz(axum::extract::State(s): axum::extract::State<State>) -> Response {
    let db = owner::ask(&s.db, |o| Ok(o.read().map(|_| "ready".to_string()).unwrap_or_else(|e| e.to_string()))).await;
    axum::Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "database": db.unwrap_or_default()}))
        .into_response()
}

fn internal_ok(s: &State, headers: &axum::http::HeaderMap) -> bool {
    headers.get("x-scudo-secret").and_then(|v| v.to_str().ok()).is_some_and(|v| auth::same(v, &s.secret))
}

async fn internal_release(
    axum::extract::State(s): axum::extract::State<State>,
    headers: axum::http::HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !internal_ok(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "unknown secret");
    }
    let pid = body["pid"].as_u64().unwrap_or(0) as u32;
    let command = body["command"].as_str().unwrap_or("scudo").to_string();
    let (reply, done) = tokio::sync::oneshot::channel();
    if s.db.send(owner::Msg::Release { pid, command, reply }).is_err() || done.await.is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the database thread stopped");
    }
    axum::Json(json!({"released": true})).into_response()
}

async fn internal_done(
    axum::extract::State(s): axum::extract::State<State>,
    headers: axum::http::HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !internal_ok(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "unknown secret");
    }
    let _ = s.db.send(owner::Msg::Done { pid: body["pid"].as_u64().unwrap_or(0) as u32 });
    axum::Json(json!({"ok": true})).into_response()
}

/// A writer committed: every page hears `data_changed` now; the customer events follow once
/// the database is handed back.
async fn internal_committed(
    axum::extract::State(s): axum::extract::State<State>,
    headers: axum::http::HeaderMap,
    axum::Json(mut body): axum::Json<Value>,
) -> Response {
    if !internal_ok(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "unknown secret");
    }
    s.announced.store(true, std::sync::atomic::Ordering::SeqCst);
    body["type"] = json!("data_changed");
    body["at"] = json!(live::now());
    let _ = s.events.send(body.to_string());
    axum::Json(json!({"ok": true})).into_response()
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests under way.
pub async fn serve(state: State, listener: tokio::net::TcpListener) -> Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    crate::automate::daemon::signalled().await;
    eprintln!("serve: stopping (finishing the requests under way)");
}

/// An empty 401 for the page, or JSON for the API.
pub fn unauthorized(html: bool) -> Response {
    if html {
        let body = "<!doctype html><meta charset=utf-8><title>scudo</title><p>Sign in: open the address \
                    <code>scudo serve</code> printed (it carries the session token), or send \
                    <code>Authorization: Bearer TOKEN</code>.</p>";
        (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], Body::from(body))
            .into_response()
    } else {
        error(StatusCode::UNAUTHORIZED, "a valid token is needed: Authorization: Bearer TOKEN")
    }
}
