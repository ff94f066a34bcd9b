//! The API's auth matrix through the router itself, without a port: every path and method the
//! OpenAPI document lists × no token, a wrong token, and each role. serve.rs drives the same
//! server over a real socket; this one cannot miss an endpoint, because it walks the document.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use crate::harness::demo;

/// What `role` may do with `method path`: the roles of docs/serve.md.
fn allowed(role: &str, method: &Method, path: &str) -> bool {
    match (path, method) {
        ("/healthz", _) => true,
        ("/api/audit", _) => role == "admin",
        (_, &Method::GET) => role != "none",
        _ => role == "admin" || role == "analyst",
    }
}

/// The document's path with its parameters filled by values the demo has.
fn concrete(path: &str) -> String {
    let id = if path.starts_with("/api/segments/") { "tag:VIP_HIGH_VALUE" } else { "cust-000006" };
    path.replace("{id}", id).replace("{tag}", "winback").replace("{note_id}", "1")
}

#[test]
fn every_documented_endpoint_answers_each_role_as_it_may_through_the_router() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let mut tokens = vec![("none", None), ("wrong", Some("scudo_0000_not-a-token".to_string()))];
    s.ok(&["-w", w, "users", "add", "ann", "--role", "analyst"]);
    for (role, user) in [("viewer", None), ("analyst", Some("ann")), ("admin", None)] {
        let mut args = vec!["-w", w, "tokens", "create", "--role", role];
        if let Some(u) = user {
            args.extend(["--user", u]);
        }
        tokens.push((role, Some(s.ok(&args).stdout.trim().to_string())));
    }
    let doc: Value = serde_json::from_str(include_str!("../../src/server/openapi.json")).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "the document lists the API: {}", paths.len());

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let workspace = scudo::config::Workspace::open(&ws).unwrap();
        let opts = scudo::server::Options {
            bind: "127.0.0.1:0".parse().unwrap(),
            session: "session-token-for-this-test".into(),
            proxy_header: None,
            revenue_thresholds: Vec::new(),
        };
        let state = scudo::server::state(workspace, &opts, "secret".into()).unwrap();
        let app = scudo::server::app(state);
        let mut checked = 0;
        for (path, ops) in paths {
            for method in ops.as_object().unwrap().keys() {
                let method: Method = method.to_uppercase().parse().unwrap();
                for (role, token) in &tokens {
                    let mut req = Request::builder().method(method.clone()).uri(concrete(path));
                    if let Some(t) = token {
                        req = req.header("Authorization", format!("Bearer {t}"));
                    }
                    let body = match (method.clone(), path.as_str()) {
                        (Method::POST, p) if p.ends_with("/notes") => r#"{"body": "called"}"#,
                        (Method::POST, p) if p.ends_with("/tags") => r#"{"tag": "winback"}"#,
                        (Method::PUT, _) => r#"{"body": "called again"}"#,
                        _ => "",
                    };
                    if !body.is_empty() {
                        req = req.header("Content-Type", "application/json");
                    }
                    let res = app.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
                    let status = res.status();
                    let role = if *role == "wrong" { "none" } else { role };
                    if allowed(role, &method, path) {
                        assert!(
                            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                            "{method} {path} as {role}: {status}"
                        );
                        assert!(!status.is_server_error(), "{method} {path} as {role}: {status}");
                    } else if role == "none" {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without a valid token");
                    } else {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as {role}");
                    }
                    // Security headers on every answer, refusals included.
                    assert_eq!(res.headers().get("x-content-type-options").unwrap(), "nosniff", "{method} {path}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, tokens.len() * paths.values().map(|o| o.as_object().unwrap().len()).sum::<usize>());

        // The 360 carries the customer's insights in scudo's words; the alerts their churn risk.
        let viewer = tokens.iter().find(|(r, _)| *r == "viewer").and_then(|(_, t)| t.clone()).unwrap();
        let get = |path: &str| {
            Request::builder()
                .uri(path)
                .header("Authorization", format!("Bearer {viewer}"))
                .body(Body::empty())
                .unwrap()
        };
        let res = app.clone().oneshot(get("/api/customers/cust-000007/profile")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        let p: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(p["insights"]["by"], "scudo");
        let words = p["insights"]["text"].as_str().unwrap();
        assert!(words.contains("Mike Johnson") && words.contains("retention offer"), "{words}");
    });
}

/// The body of `GET path` as `viewer`, read to its end.
async fn body_of(app: &axum::Router, path: &str, token: &str) -> (StatusCode, String) {
    let req =
        Request::builder().uri(path).header("Authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[test]
fn the_360s_insights_stream_scudos_words_or_the_models_checked_ones() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    let viewer = s.ok(&["-w", w, "tokens", "create", "--role", "viewer"]).stdout.trim().to_string();
    let model = crate::insights::Misbehaving::start(vec![crate::insights::sse(&["Customer A ", "has spent $1,200."])]);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let opts = scudo::server::Options {
        bind: "127.0.0.1:0".parse().unwrap(),
        session: "session-token-for-this-test".into(),
        proxy_header: None,
        revenue_thresholds: Vec::new(),
    };
    rt.block_on(async {
        // Without [llm]: scudo's own narrative, then its verdict.
        let app = scudo::server::app(
            scudo::server::state(scudo::config::Workspace::open(&ws).unwrap(), &opts, "secret".into()).unwrap(),
        );
        let (status, body) = body_of(&app, "/api/customers/cust-000007/insights", &viewer).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with("event: text\ndata: "), "{body}");
        assert!(body.contains("Mike Johnson") && body.contains("retention offer"), "{body}");
        assert!(body.ends_with("event: verdict\ndata: {\"by\":\"scudo\"}\n\n"), "{body}");
        let (status, _) = body_of(&app, "/api/customers/nobody/insights", &viewer).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    });
    // With [llm]: the model's pieces as they come, names restored, then the checked verdict.
    let toml = ws.join("scudo.toml");
    let settings = std::fs::read_to_string(&toml).unwrap();
    let settings = settings.replacen("base_url = \"\"", &format!("base_url = \"{}\"", model.url), 1).replacen(
        "model = \"\"",
        "model = \"smollm2\"",
        1,
    );
    std::fs::write(&toml, settings).unwrap();
    rt.block_on(async {
        let app = scudo::server::app(
            scudo::server::state(scudo::config::Workspace::open(&ws).unwrap(), &opts, "secret".into()).unwrap(),
        );
        let (status, body) = body_of(&app, "/api/customers/cust-000007/insights", &viewer).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with("event: text\ndata: Mike Johnson"), "{body}");
        assert!(body.contains("event: text\ndata: has spent $1,200."), "{body}");
        assert!(body.ends_with("event: verdict\ndata: {\"by\":\"model smollm2\",\"checked\":1}\n\n"), "{body}");
    });
    let sent = model.bodies().join("\n");
    assert!(sent.contains("Customer A") && !sent.contains("Mike Johnson") && !sent.contains("@example.com"), "{sent}");
}
