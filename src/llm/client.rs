//! One client for any OpenAI-compatible chat endpoint (OpenAI, Ollama, llama.cpp's
//! `llama-server`, vLLM, LM Studio): `POST {base_url}/chat/completions`, streamed as server-sent
//! events. Retries 429 and 5xx with backoff, honouring `Retry-After`; every other failure is one
//! of the classes of [`LlmError`], each saying what to do.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Where and how to ask (from `[llm]` in scudo.toml; the key from its environment variable).
#[derive(Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub model: String,
    /// The key, read from the variable `key_env` names; never written anywhere.
    pub api_key: Option<String>,
    pub key_env: String,
    pub timeout: Duration,
    pub max_tokens: u32,
    pub temperature: f64,
    pub max_retries: u32,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of every log and error.
        f.debug_struct("Endpoint").field("base_url", &self.base_url).field("model", &self.model).finish_non_exhaustive()
    }
}

/// One chat message.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

/// What went wrong talking to the model, by what the user should do about it.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("cannot reach the model server at {url}: {why}; is it running? ([llm] base_url)")]
    Connect { url: String, why: String },
    #[error("the model server at {url} did not answer within {secs} s ([llm] timeout_seconds)")]
    Timeout { url: String, secs: u64 },
    #[error(
        "the model server refused the request ({status}): check the key in the environment variable `{env}` ([llm] api_key_env)"
    )]
    Auth { status: u16, env: String },
    #[error("the model server does not know the model `{model}`{offered} ([llm] model)")]
    UnknownModel { model: String, offered: String },
    #[error("the model server kept answering {status} after {tries} tries: {message}")]
    Busy { status: u16, tries: u32, message: String },
    #[error("the model server answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the model's answer is not a chat completion stream: {0}")]
    Malformed(String),
}

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub text: String,
    /// From sending the request to the first piece of text.
    pub first_token: Option<Duration>,
    pub total: Duration,
    /// Requests retried after a 429 or 5xx.
    pub retries: u32,
}

/// The JSON body of a chat request: exactly what is sent (`--show-prompt` prints it).
pub fn body(ep: &Endpoint, messages: &[Message], stream: bool) -> serde_json::Value {
    serde_json::json!({
        "model": ep.model,
        "messages": messages,
        "max_tokens": ep.max_tokens,
        "temperature": ep.temperature,
        "seed": 1,
        "stream": stream,
    })
}

fn url(ep: &Endpoint, path: &str) -> String {
    format!("{}/{path}", ep.base_url.trim_end_matches('/'))
}

/// Asks the model; each piece of text goes to `on_text` as it arrives.
pub async fn chat(ep: &Endpoint, messages: &[Message], on_text: &mut dyn FnMut(&str)) -> Result<Reply, LlmError> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10).min(ep.timeout))
        .timeout(ep.timeout)
        .build()
        .map_err(|e| LlmError::Malformed(e.to_string()))?;
    let started = Instant::now();
    let endpoint = url(ep, "chat/completions");
    let payload = body(ep, messages, true).to_string();
    let mut retries = 0;
    let response = loop {
        let mut req = client.post(&endpoint).header("content-type", "application/json").body(payload.clone());
        if let Some(key) = &ep.api_key {
            let mut v = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| LlmError::Auth { status: 0, env: ep.key_env.clone() })?;
            v.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, v);
        }
        let resp = req.send().await.map_err(|e| transport(ep, &e))?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            break resp;
        }
        let wait = retry_after(&resp);
        let message = error_message(resp.text().await.unwrap_or_default());
        match status {
            401 | 403 => return Err(LlmError::Auth { status, env: ep.key_env.clone() }),
            404 if message.contains("model") => {
                return Err(LlmError::UnknownModel { model: ep.model.clone(), offered: offered(&client, ep).await });
            }
            429 | 500..=599 if retries < ep.max_retries => {
                // Backoff doubles from half a second; the server's Retry-After wins, capped at a minute.
                let backoff = Duration::from_millis(500 << retries.min(6));
                tokio::time::sleep(wait.unwrap_or(backoff).min(Duration::from_secs(60))).await;
                retries += 1;
            }
            429 | 500..=599 => return Err(LlmError::Busy { status, tries: retries + 1, message }),
            _ => return Err(LlmError::Status { status, message }),
        }
    };
    let mut reply = Reply { text: String::new(), first_token: None, total: Duration::ZERO, retries };
    read_stream(ep, response, started, &mut reply, on_text).await?;
    reply.total = started.elapsed();
    Ok(reply)
}

/// Reads `data: {...}` events up to `data: [DONE]`; a server that ignored `stream` and sent one
/// JSON completion is read too.
async fn read_stream(
    ep: &Endpoint,
    mut resp: reqwest::Response,
    started: Instant,
    reply: &mut Reply,
    on_text: &mut dyn FnMut(&str),
) -> Result<(), LlmError> {
    let is_json = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut buf: Vec<u8> = Vec::new();
    let mut done = false;
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(transport(ep, &e)),
            Err(e) => {
                return Err(LlmError::Malformed(format!(
                    "the stream broke off after {} characters ({})",
                    reply.text.chars().count(),
                    root_cause(&e)
                )));
            }
        };
        buf.extend_from_slice(&chunk);
        if is_json {
            continue;
        }
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            let Some(data) = line.strip_prefix("data:") else { continue };
            let data = data.trim();
            if data == "[DONE]" {
                done = true;
                break;
            }
            let event: serde_json::Value = serde_json::from_str(data)
                .map_err(|e| LlmError::Malformed(format!("an event is not JSON ({e}): {}", clip(data))))?;
            if let Some(err) = event.get("error") {
                return Err(LlmError::Status { status: 200, message: error_message(err.to_string()) });
            }
            if let Some(text) = event.pointer("/choices/0/delta/content").and_then(|v| v.as_str())
                && !text.is_empty()
            {
                reply.first_token.get_or_insert_with(|| started.elapsed());
                reply.text.push_str(text);
                on_text(text);
            }
        }
        if done {
            break;
        }
    }
    if is_json {
        let v: serde_json::Value =
            serde_json::from_slice(&buf).map_err(|e| LlmError::Malformed(format!("the answer is not JSON ({e})")))?;
        let text = v
            .pointer("/choices/0/message/content")
            .and_then(|v| v.as_str())
            .ok_or_else(|| LlmError::Malformed("the answer has no choices[0].message.content".into()))?;
        reply.first_token = Some(started.elapsed());
        reply.text = text.to_string();
        on_text(text);
        return Ok(());
    }
    if !done {
        return Err(LlmError::Malformed(format!(
            "the stream ended after {} characters without `data: [DONE]`",
            reply.text.chars().count()
        )));
    }
    Ok(())
}

/// The models the server offers, for an unknown-model error (best effort).
async fn offered(client: &reqwest::Client, ep: &Endpoint) -> String {
    let mut req = client.get(url(ep, "models"));
    if let Some(key) = &ep.api_key {
        req = req.bearer_auth(key);
    }
    let Ok(resp) = req.send().await else { return String::new() };
    let Ok(text) = resp.text().await else { return String::new() };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { return String::new() };
    let ids: Vec<String> = v
        .get("data")
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|m| m.get("id")?.as_str().map(|s| format!("`{s}`"))).collect())
        .unwrap_or_default();
    if ids.is_empty() { String::new() } else { format!("; it offers {}", ids.join(", ")) }
}

/// `Retry-After: 2` (seconds; the HTTP-date form is treated as no hint).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// The server's own error message (`{"error": {"message": …}}`), else the body, shortened.
fn error_message(body: String) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let msg = parsed
        .as_ref()
        .and_then(|v| v.pointer("/error/message").or_else(|| v.get("message")).or_else(|| v.get("error")))
        .and_then(|m| m.as_str().map(str::to_string))
        .unwrap_or(body);
    clip(msg.trim()).to_string()
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(300) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn transport(ep: &Endpoint, e: &reqwest::Error) -> LlmError {
    if e.is_timeout() {
        return LlmError::Timeout { url: ep.base_url.clone(), secs: ep.timeout.as_secs() };
    }
    LlmError::Connect { url: ep.base_url.clone(), why: root_cause(e) }
}

/// The innermost cause ("Connection refused (os error 111)"), which says most.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
