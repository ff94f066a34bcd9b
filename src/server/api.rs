//! The JSON API: the plan's endpoints in the shapes of the CLI's `--format json` (docs/json.md),
//! computed by the same SQL files and renderers; notes and tags; the activity log; live events.

use std::collections::HashMap;

use anyhow::Result;
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, Request, State as AxState};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde_json::{Value, json};

use super::auth::{self, Need, Principal};
use super::owner::{self, Lent};
use super::{State, error};
use crate::cli::Format;
use crate::output;
use crate::store::Param;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/api/session", get(session))
        .route("/api/openapi.json", get(openapi))
        .route("/api/dashboard", get(dashboard))
        .route("/api/dashboard/kpis", get(kpis))
        .route("/api/dashboard/customer-health", get(health))
        .route("/api/dashboard/segments", get(segments))
        .route("/api/dashboard/alerts", get(alerts))
        .route("/api/dashboard/status", get(status))
        .route("/api/customers/search", get(search))
        .route("/api/customers/filter", get(filter))
        .route("/api/customers/{id}/profile", get(profile))
        .route("/api/customers/{id}/insights", get(super::insights::customer))
        .route("/api/customers/{id}/notes", post(add_note))
        .route("/api/customers/{id}/tags", post(add_tag))
        .route("/api/customers/{id}/tags/{tag}", delete(remove_tag))
        .route("/api/notes/{note_id}", put(edit_note).delete(remove_note))
        .route("/api/segments/{id}/customers", get(segment_customers))
        .route("/api/segments/{id}/performance", get(segment_performance))
        .route("/api/audit", get(audit))
}

/// What each API path needs; `None`: no token needed.
fn need(method: &Method, path: &str) -> Need {
    if path == "/api/audit" {
        Need::Admin
    } else if *method != Method::GET && (path.starts_with("/api/customers/") || path.starts_with("/api/notes/")) {
        Need::Annotate
    } else {
        Need::Read
    }
}

/// Authenticates and authorises every request under `/` except `/healthz`, `/internal/*`
/// (which check the run file's secret) and `/unsubscribe/*` (a signed token): 401 without a valid token, 403 without the right.
pub async fn guard(AxState(s): AxState<State>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path == "/healthz" || path.starts_with("/internal/") || path.starts_with("/unsubscribe/") {
        return next.run(req).await;
    }
    let page = !path.starts_with("/api/");
    let Some(p) = auth::principal(&s, req.headers()).await else {
        // The page's sign-in link: `/?token=…` sets the session cookie.
        if path == "/"
            && let Some(t) = query_token(req.uri().query())
            && auth::check_token(&s, &t, true).await.is_some()
        {
            let _ = crate::store::access::audit(&s.db_path, "page", "sign_in", "", "session cookie set");
            return (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, "/".to_string()),
                    (header::SET_COOKIE, format!("{}={t}; HttpOnly; SameSite=Strict; Path=/", auth::COOKIE)),
                ],
            )
                .into_response();
        }
        return super::unauthorized(page);
    };
    if !p.may(need(req.method(), &path)) {
        return error(StatusCode::FORBIDDEN, &format!("the role `{}` may not do this", p.role));
    }
    if !auth::csrf_ok(&s, &p, req.method(), req.headers()) {
        return error(StatusCode::FORBIDDEN, "missing or wrong X-CSRF-Token (or another origin)");
    }
    req.extensions_mut().insert(p);
    next.run(req).await
}

fn query_token(q: Option<&str>) -> Option<String> {
    q?.split('&').find_map(|kv| kv.strip_prefix("token=")).map(str::to_string)
}

/// Runs `f` on the database thread; a writer holding the database yields the cached answer
/// (`x-scudo-stale: true`) or 503.
async fn answer(
    s: &State,
    key: String,
    f: impl FnOnce(&mut owner::Owner) -> Result<Value> + Send + 'static,
) -> Response {
    // Answers stay valid until the next commit (the cache is emptied at each reload).
    if let Some(r) = cached(s, &key) {
        return r;
    }
    // One computation per answer: concurrent requests for it wait for the first, then read the
    // cache (64 clients asking for the same search must not queue 64 queries).
    let flight = {
        let Ok(mut f) = s.inflight.lock() else { return error(StatusCode::INTERNAL_SERVER_ERROR, "lock poisoned") };
        if f.len() > 10_000 {
            f.retain(|_, m| std::sync::Arc::strong_count(m) > 1);
        }
        f.entry(key.clone()).or_default().clone()
    };
    let _turn = flight.lock().await;
    if let Some(r) = cached(s, &key) {
        return r;
    }
    let generation = s.generation.load(std::sync::atomic::Ordering::SeqCst);
    match owner::ask(&s.db, f).await {
        Ok(v) => {
            if let Ok(mut c) = s.cache.lock()
                && s.generation.load(std::sync::atomic::Ordering::SeqCst) == generation
            {
                if c.len() > 10_000 {
                    c.clear();
                }
                c.insert(key, v.clone());
            }
            axum::Json(v).into_response()
        }
        Err(e) => match e.downcast_ref::<Lent>() {
            Some(lent) => match s.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
                Some(v) => ([("x-scudo-stale", "true")], axum::Json(v)).into_response(),
                None => error(StatusCode::SERVICE_UNAVAILABLE, &lent.to_string()),
            },
            None => failure(e),
        },
    }
}

/// An error as an answer: the user's (an unknown customer, a lent database) as they are, anything
/// else logged and kept out of the answer.
pub(super) fn failure(e: anyhow::Error) -> Response {
    if let Some(lent) = e.downcast_ref::<Lent>() {
        return error(StatusCode::SERVICE_UNAVAILABLE, &lent.to_string());
    }
    match crate::error::user_message(&e) {
        Some(m) => error(StatusCode::NOT_FOUND, &m),
        None => {
            eprintln!("serve: error: {e:#}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error; the server log says more")
        }
    }
}

fn parse(text: String) -> Result<Value> {
    Ok(serde_json::from_str(&text)?)
}

async fn session(axum::Extension(p): axum::Extension<Principal>, AxState(s): AxState<State>) -> Response {
    axum::Json(json!({"user": p.name, "role": p.role, "csrf": s.csrf})).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json")).into_response()
}

fn dashboard_value(o: &mut owner::Owner) -> Result<Value> {
    let (store, catalog, ctx) = o.read()?;
    let mut d = crate::queries::dashboard::build(store, catalog, ctx.clone(), false)?;
    d.unconverted = crate::queries::unconverted(store, catalog, ctx.as_of)?;
    parse(output::dashboard::json(&d))
}

fn kpis_value(o: &mut owner::Owner, days: i64) -> Result<Value> {
    let (store, catalog, ctx) = o.read()?;
    let rs = catalog.run_with(store, "kpi.summary", ctx, &[("period_days", Param::Int(days))])?;
    parse(output::analytics::kpis(&rs, ctx, Format::Json))
}

fn rows_value(o: &mut owner::Owner, id: &str, extra: &[(&str, Param)]) -> Result<Value> {
    let (store, catalog, ctx) = o.read()?;
    let rs = catalog.run_with(store, id, ctx, extra)?;
    parse(output::analytics::results(&rs, ctx, Format::Json))
}

/// The answers every page asks for first, computed after each commit (and at start) so that
/// pages get them from the cache: (cache key, answer).
pub fn warm(o: &mut owner::Owner) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut put = |k: &str, v: Result<Value>| {
        if let Ok(v) = v {
            out.push((k.to_string(), v));
        }
    };
    put("dashboard", dashboard_value(o));
    put("status", status_value(o));
    put("health", rows_value(o, "health.distribution", &[]));
    put("segments", rows_value(o, "segments.performance", &[]));
    put("alerts:50", rows_value(o, "alerts.all", &[("limit", Param::Int(50))]));
    put("kpis:30", kpis_value(o, 30));
    out
}

/// The cached answer for `key`, while it is current.
fn cached(s: &State, key: &str) -> Option<Response> {
    let v = s.cache.lock().ok()?.get(key).cloned()?;
    Some(axum::Json(v).into_response())
}

async fn dashboard(AxState(s): AxState<State>) -> Response {
    if let Some(r) = cached(&s, "dashboard") {
        return r;
    }
    answer(&s, "dashboard".into(), dashboard_value).await
}

async fn kpis(AxState(s): AxState<State>, Query(q): Query<HashMap<String, String>>) -> Response {
    let days: i64 = q.get("period_days").and_then(|d| d.parse().ok()).unwrap_or(30).clamp(1, 3660);
    let key = format!("kpis:{days}");
    if let Some(r) = cached(&s, &key) {
        return r;
    }
    answer(&s, key, move |o| kpis_value(o, days)).await
}

/// One query's rows in the analytics envelope.
async fn rows(s: &State, key: String, id: &'static str, extra: Vec<(&'static str, Param)>) -> Response {
    if let Some(r) = cached(s, &key) {
        return r;
    }
    answer(s, key, move |o| rows_value(o, id, &extra)).await
}

async fn health(AxState(s): AxState<State>) -> Response {
    rows(&s, "health".into(), "health.distribution", vec![]).await
}

async fn segments(AxState(s): AxState<State>) -> Response {
    rows(&s, "segments".into(), "segments.performance", vec![]).await
}

async fn alerts(AxState(s): AxState<State>, Query(q): Query<HashMap<String, String>>) -> Response {
    let limit: i64 = q.get("limit").and_then(|d| d.parse().ok()).unwrap_or(50).clamp(1, 10_000);
    rows(&s, format!("alerts:{limit}"), "alerts.all", vec![("limit", Param::Int(limit))]).await
}

fn status_value(o: &mut owner::Owner) -> Result<Value> {
    let warn = o.ws.settings.freshness.warn_after_hours;
    let (store, catalog, ctx) = o.read()?;
    let rs = catalog.run(store, "dashboard.status", ctx)?;
    let checks = catalog.run(store, "dashboard.checks", ctx)?;
    let mut v = output::analytics::envelope(
        ctx,
        json!({"status": output::json::first_row(&rs), "checks": output::json::first_row(&checks),
               "stale_after_hours": warn}),
    );
    let hours = v["status"]["hours_since_import"].as_f64();
    v["stale"] = json!(hours.is_none_or(|h| h > warn));
    Ok(v)
}

async fn status(AxState(s): AxState<State>) -> Response {
    if let Some(r) = cached(&s, "status") {
        return r;
    }
    answer(&s, "status".into(), status_value).await
}

async fn search(AxState(s): AxState<State>, Query(q): Query<HashMap<String, String>>) -> Response {
    let text = q.get("q").cloned().unwrap_or_default();
    let limit: i64 = q.get("limit").and_then(|d| d.parse().ok()).unwrap_or(10).clamp(1, 100);
    if text.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "q is empty: /api/customers/search?q=TEXT");
    }
    answer(&s, format!("search:{limit}:{text}"), move |o| {
        let (store, catalog, ctx) = o.read()?;
        let rs = crate::queries::search::run(store, catalog, ctx, &text, limit)?;
        parse(output::analytics::results(&rs, ctx, Format::Json))
    })
    .await
}

async fn filter(AxState(s): AxState<State>, Query(q): Query<HashMap<String, String>>) -> Response {
    let text = |k: &str| Param::Text(q.get(k).cloned().unwrap_or_default());
    let per_page: i64 = q.get("per_page").and_then(|d| d.parse().ok()).unwrap_or(50).clamp(1, 500);
    let page: i64 = q.get("page").and_then(|d| d.parse().ok()).unwrap_or(1).max(1);
    let key = format!("filter:{:?}", {
        let mut k: Vec<_> = q.iter().collect();
        k.sort();
        k
    });
    let params = vec![
        ("stage", text("stage")),
        ("segment", text("segment")),
        ("rfm_group", text("rfm_group")),
        ("churn_band", text("churn_band")),
        ("limit", Param::Int(per_page)),
        ("offset", Param::Int((page - 1) * per_page)),
    ];
    answer(&s, key, move |o| {
        let (store, catalog, ctx) = o.read()?;
        let rs = catalog.run_with(store, "customers.filter", ctx, &params)?;
        let total = rs.col("total").and_then(|i| rs.rows.first().and_then(|r| r[i].as_i64())).unwrap_or(0);
        let mut v = parse(output::analytics::results(&rs, ctx, Format::Json))?;
        v["page"] = json!(page);
        v["per_page"] = json!(per_page);
        v["total"] = json!(total);
        Ok(v)
    })
    .await
}

async fn profile(
    AxState(s): AxState<State>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    let _ = crate::store::access::audit(&s.db_path, &p.name, "view_customer", &id, "");
    answer(&s, format!("profile:{id}"), move |o| {
        let (store, catalog, ctx) = o.read()?;
        let extra = [("customer_id", Param::Text(id.clone()))];
        let memo = crate::queries::customer::memoize_profile(store, catalog, ctx, &extra);
        let result = (|| {
            let prof = catalog.run_with(store, "customers.360", ctx, &extra)?;
            let actions = catalog.run_with(store, "customers.actions", ctx, &extra)?;
            let orders = catalog.run_with(store, "customers.orders", ctx, &extra)?;
            // The same insights as `scudo customer ID --insights` writes without a model, from
            // the rows just read.
            let mut f = crate::insights::facts::Facts::new(crate::insights::facts::Use::Customer, ctx);
            let words = (!prof.rows.is_empty()).then(|| {
                crate::insights::facts::customer_from(&id, &prof, &actions, &mut f);
                crate::insights::narrative::write(&f)
            });
            Ok::<_, anyhow::Error>((prof, actions, orders, words))
        })();
        // The macro is shared by every later request: put the real one back.
        // The profile, and the RFM the 360 may have read from a scoring run.
        for (id, replaced) in [("customers.profile", memo), ("base.customer_rfm", true)] {
            if replaced && let Some(f) = catalog.get(id) {
                store.execute(&f.sql, &[], &f.location())?;
            }
        }
        let (prof, actions, orders, words) = result?;
        if prof.rows.is_empty() {
            return Err(crate::error::user(format!("no customer `{id}`")));
        }
        let run = crate::queries::scores::latest_run(store, catalog, ctx)?;
        let mut v = parse(output::customer::render(&prof, &actions, &orders, run.as_ref(), ctx, Format::Json))?;
        let (notes, tags) = store.notes_and_tags(&id)?;
        v["notes"] = output::json::rows(&notes);
        v["tags"] = output::json::rows(&tags);
        v["insights"] = json!({"text": words.as_deref().map(str::trim), "by": "scudo"});
        Ok(v)
    })
    .await
}

async fn segment_customers(AxState(s): AxState<State>, Path(id): Path<String>) -> Response {
    rows(&s, format!("segment:{id}"), "segments.members", vec![("segment", Param::Text(id))]).await
}

async fn segment_performance(AxState(s): AxState<State>, Path(id): Path<String>) -> Response {
    answer(&s, format!("segment_perf:{id}"), move |o| {
        let (store, catalog, ctx) = o.read()?;
        let rs = catalog.run(store, "segments.performance", ctx)?;
        let (sid, name) =
            (rs.require("segment_id", "segments.performance")?, rs.require("segment", "segments.performance")?);
        let row = rs
            .rows
            .iter()
            .find(|r| r[sid].to_text() == id || r[name].to_text().eq_ignore_ascii_case(&id))
            .ok_or_else(|| crate::error::user(format!("no segment `{id}`")))?;
        let one = crate::store::ResultSet { columns: rs.columns.clone(), rows: vec![row.clone()] };
        Ok(output::analytics::envelope(ctx, json!({"segment": output::json::first_row(&one)})))
    })
    .await
}

async fn audit(AxState(s): AxState<State>, Query(q): Query<HashMap<String, String>>) -> Response {
    let limit: usize = q.get("limit").and_then(|d| d.parse().ok()).unwrap_or(200);
    match crate::store::access::audit_entries(&s.db_path, limit) {
        Ok(entries) => axum::Json(json!({"schema_version": 1, "entries": entries})).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// A change to notes or tags: written on the database thread, logged, announced.
async fn change(
    s: &State,
    p: &Principal,
    action: &str,
    target: String,
    detail: String,
    f: impl FnOnce(&crate::store::Store) -> Result<Value> + Send + 'static,
) -> Response {
    let result = owner::ask(&s.db, move |o| o.write(f)).await;
    match result {
        Ok(v) => {
            let _ = crate::store::access::audit(&s.db_path, &p.name, action, &target, &detail);
            if let Ok(mut c) = s.cache.lock() {
                c.retain(|k, _| !k.starts_with("profile:"));
            }
            let _ = s.events.send(
                json!({"type": "data_changed", "source": "annotation", "what": action, "customer_id": target,
                       "at": super::live::now()})
                .to_string(),
            );
            axum::Json(v).into_response()
        }
        Err(e) => error(
            if crate::error::user_message(&e).is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            },
            &format!("{e:#}"),
        ),
    }
}

fn body_text(body: &Value, key: &str) -> Option<String> {
    body[key].as_str().map(str::trim).filter(|t| !t.is_empty() && t.len() <= 10_000).map(str::to_string)
}

async fn add_note(
    AxState(s): AxState<State>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let Some(text) = body_text(&body, "body") else { return error(StatusCode::BAD_REQUEST, "body: the note's text") };
    let author = p.name.clone();
    let cid = id.clone();
    change(&s, &p, "note_add", id, String::new(), move |st| Ok(json!({"note_id": st.add_note(&cid, &text, &author)?})))
        .await
}

async fn edit_note(
    AxState(s): AxState<State>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(note_id): Path<i64>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let Some(text) = body_text(&body, "body") else { return error(StatusCode::BAD_REQUEST, "body: the note's text") };
    change(&s, &p, "note_edit", note_id.to_string(), String::new(), move |st| {
        Ok(json!({"edited": st.edit_note(note_id, &text)?}))
    })
    .await
}

async fn remove_note(
    AxState(s): AxState<State>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(note_id): Path<i64>,
) -> Response {
    change(&s, &p, "note_remove", note_id.to_string(), String::new(), move |st| {
        Ok(json!({"removed": st.remove_note(note_id)?}))
    })
    .await
}

async fn add_tag(
    AxState(s): AxState<State>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let Some(tag) = body_text(&body, "tag").filter(|t| t.len() <= 100) else {
        return error(StatusCode::BAD_REQUEST, "tag: up to 100 characters");
    };
    let (author, cid) = (p.name.clone(), id.clone());
    change(&s, &p, "tag_add", id, tag.clone(), move |st| {
        st.add_tag(&cid, &tag, &author)?;
        Ok(json!({"tag": tag}))
    })
    .await
}

async fn remove_tag(
    AxState(s): AxState<State>,
    axum::Extension(p): axum::Extension<Principal>,
    Path((id, tag)): Path<(String, String)>,
) -> Response {
    let cid = id.clone();
    change(&s, &p, "tag_remove", id, tag.clone(), move |st| Ok(json!({"removed": st.remove_tag(&cid, &tag)?}))).await
}

/// `GET /api/live-updates`: a WebSocket when the client asks to upgrade, else server-sent events.
pub async fn live_updates(
    AxState(s): AxState<State>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Some(_p) = auth::principal(&s, &headers).await else { return super::unauthorized(false) };
    let rx = s.events.subscribe();
    match ws {
        Ok(up) => up.on_upgrade(move |socket| pump(socket, rx)),
        Err(_) => {
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(text) => {
                            let kind = serde_json::from_str::<Value>(&text)
                                .ok()
                                .and_then(|v| v["type"].as_str().map(str::to_string))
                                .unwrap_or_default();
                            return Some((
                                Ok::<_, std::convert::Infallible>(Event::default().event(kind).data(text)),
                                rx,
                            ));
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return None,
                    }
                }
            });
            Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
        }
    }
}

async fn pump(mut socket: WebSocket, mut rx: tokio::sync::broadcast::Receiver<String>) {
    let hello = json!({"type": "hello", "at": super::live::now()}).to_string();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(text) => if socket.send(Message::Text(text.into())).await.is_err() { return },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            },
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
        }
    }
}
