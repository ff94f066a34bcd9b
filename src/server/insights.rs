//! A customer's insights for the page's Customer 360, streamed as server-sent events: the facts
//! are computed on the database thread, then the model (when `[llm]` is configured) writes as the
//! terminal's `scudo customer ID --insights` would, every number checked; the deterministic
//! narrative otherwise, or when the model's text fails the check.
//!
//! Events: `text` (a piece of the narrative, names restored), `retract` (the text so far had a
//! number that matches no fact: drop it; the model is asked again), `verdict` (`{"by", "checked"}` or
//! `{"by": "scudo", "fallback", "text"}` with the text that replaces the model's), `error`.

use std::convert::Infallible;

use axum::extract::{Path, State as AxState};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{State, owner};
use crate::insights::facts::{self, Facts, Use};
use crate::insights::narrative;
use crate::llm;

pub async fn customer(AxState(s): AxState<State>, Path(id): Path<String>) -> Response {
    let computed = owner::ask(&s.db, move |o| {
        let settings = o.ws.settings.llm.clone();
        let dir = o.ws.root.join("report-templates").join("llm");
        let (store, catalog, ctx) = o.read()?;
        let mut f = Facts::new(Use::Customer, ctx);
        if !facts::customer(store, catalog, ctx, &id, &mut f)? {
            return Err(crate::error::user(format!("no customer `{id}`")));
        }
        Ok((f, settings, dir))
    })
    .await;
    let (f, settings, dir) = match computed {
        Ok(c) => c,
        Err(e) => return super::api::failure(e),
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let own = narrative::write(&f);
    let endpoint = match llm::endpoint(&settings) {
        Ok(ep) => ep,
        Err(e) => {
            let _ = tx.send(Event::default().event("error").data(e.to_string()));
            None
        }
    };
    match endpoint {
        None => {
            let _ = tx.send(Event::default().event("text").data(own.trim()));
            let _ = tx.send(Event::default().event("verdict").data(json!({"by": "scudo"}).to_string()));
        }
        Some(ep) => {
            // The client is async, but its event callback is not Send: one blocking task with its
            // own single-threaded runtime, as the CLI runs it.
            tokio::task::spawn_blocking(move || {
                let (seen, places) = f.for_model(settings.share_customer_data);
                let ask = llm::Ask {
                    prompt: f.use_.prompt(),
                    facts: seen.to_json(),
                    vars: f.prompt_vars(None),
                    dir: Some(&dir),
                    places: &places,
                };
                let mut on = |e: llm::Event| match e {
                    llm::Event::Text(t) => {
                        let _ = tx.send(Event::default().event("text").data(t));
                    }
                    // A text with a number that matches no fact: the page drops what it showed.
                    llm::Event::Checked(a) if !a.unmatched.is_empty() => {
                        let _ = tx.send(
                            Event::default().event("retract").data(json!({"unmatched": a.unmatched}).to_string()),
                        );
                    }
                    _ => {}
                };
                let done = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(anyhow::Error::from)
                    .and_then(|rt| rt.block_on(llm::narrate(&ep, &ask, "", &mut on)));
                let verdict = match done {
                    Ok(n) if n.text.is_some() => json!({
                        "by": format!("model {}", ep.model),
                        "checked": n.attempts.last().map_or(0, |a| a.numbers.len()),
                    }),
                    Ok(n) => json!({"by": "scudo", "fallback": n.fallback, "text": own.trim()}),
                    Err(e) => json!({"by": "scudo", "fallback": e.to_string(), "text": own.trim()}),
                };
                let _ = tx.send(Event::default().event("verdict").data(verdict.to_string()));
            });
        }
    }
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx)) });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}
