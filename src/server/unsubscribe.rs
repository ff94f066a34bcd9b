//! The one-click unsubscribe links of campaign emails (RFC 8058), answered without a sign-in:
//! the signed token is the authority. `POST /unsubscribe/TOKEN` (what mail clients send for
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click`) puts the address on the suppression
//! list; `GET` shows a page with a button that does the same, so that a link scanner opening the
//! link unsubscribes nobody.

use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{State, owner};
use crate::deliver::unsubscribe;

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>Unsubscribe</title><body>{body}</body></html>"
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

fn address(s: &State, token: &str) -> Option<String> {
    let secret = unsubscribe::secret(&s.db_path).ok()?;
    unsubscribe::verify(&secret, token)
}

pub async fn show(AxState(s): AxState<State>, Path(token): Path<String>) -> Response {
    match address(&s, &token) {
        Some(email) => page(
            StatusCode::OK,
            &format!(
                "<p>Stop marketing email to <strong>{}</strong>?</p><form method=post><button type=submit>Unsubscribe</button></form>",
                handlebars::html_escape(&email)
            ),
        ),
        None => page(StatusCode::NOT_FOUND, "<p>This unsubscribe link is not valid.</p>"),
    }
}

pub async fn confirm(AxState(s): AxState<State>, Path(token): Path<String>) -> Response {
    let Some(email) = address(&s, &token) else {
        return page(StatusCode::NOT_FOUND, "<p>This unsubscribe link is not valid.</p>");
    };
    // The database may be lent to a command for a moment: try again for a few seconds.
    let mut done = Err(anyhow::anyhow!("not tried"));
    for _ in 0..20 {
        let who = email.clone();
        done =
            owner::ask(&s.db, move |o| o.write(|store| store.suppress(&who, "unsubscribed", "unsubscribe link"))).await;
        if done.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    match done {
        Ok(_) => {
            let _ = crate::store::access::audit(&s.db_path, "unsubscribe link", "unsubscribe", &email, "suppressed");
            page(
                StatusCode::OK,
                &format!(
                    "<p><strong>{}</strong> is unsubscribed: no more marketing email.</p>",
                    handlebars::html_escape(&email)
                ),
            )
        }
        Err(e) => {
            eprintln!("serve: cannot record an unsubscribe: {e:#}");
            page(StatusCode::SERVICE_UNAVAILABLE, "<p>Please try again in a minute.</p>")
        }
    }
}
