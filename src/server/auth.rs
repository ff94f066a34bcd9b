//! Who is asking, and may they: the session token printed at start (admin), API tokens
//! (`Authorization: Bearer`, argon2-checked once, then remembered by their SHA-256), the page's
//! session cookie, and a reverse proxy's user header when configured. Writes authenticated by a
//! cookie or a proxy header (sent by the browser on its own) also need the CSRF token.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method};
use sha2::{Digest, Sha256};

use super::State;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    /// Notes and tags: analyst or admin.
    Annotate,
    Admin,
}

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub role: String,
    /// Authenticated by something the browser sends by itself (cookie, proxy header).
    pub ambient: bool,
}

impl Principal {
    pub fn may(&self, need: Need) -> bool {
        match need {
            Need::Read => true,
            Need::Annotate => matches!(self.role.as_str(), "admin" | "analyst"),
            Need::Admin => self.role == "admin",
        }
    }
}

pub const COOKIE: &str = "scudo_session";

/// The live tokens by id, and the tokens already verified (by their SHA-256).
#[derive(Default)]
pub struct Tokens {
    pub by_id: HashMap<String, (Option<String>, String, String)>,
    pub verified: HashMap<[u8; 32], Principal>,
}

impl Tokens {
    pub fn replace(&mut self, rows: Vec<crate::server::owner::TokenRow>) {
        self.by_id = rows.into_iter().map(|(id, user, role, hash)| (id, (user, role, hash))).collect();
        self.verified.clear();
    }
}

/// Constant-time equality for secrets.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The principal a token stands for, if it is valid.
pub async fn check_token(state: &State, token: &str, ambient: bool) -> Option<Principal> {
    if same(token, &state.session) {
        return Some(Principal { name: "session".into(), role: "admin".into(), ambient });
    }
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let (id, hash, user, role) = {
        let t = state.tokens.read().ok()?;
        if let Some(p) = t.verified.get(&digest) {
            return Some(Principal { ambient, ..p.clone() });
        }
        let id = crate::store::access::token_id(token)?;
        let (user, role, hash) = t.by_id.get(id)?.clone();
        (id.to_string(), hash, user, role)
    };
    let secret = token.to_string();
    let ok = tokio::task::spawn_blocking(move || crate::store::access::verify_secret(&secret, &hash)).await.ok()?;
    if !ok {
        return None;
    }
    let p = Principal { name: user.unwrap_or_else(|| format!("token:{id}")), role, ambient: false };
    if let Ok(mut t) = state.tokens.write() {
        t.verified.insert(digest, p.clone());
    }
    Some(Principal { ambient, ..p })
}

/// Authenticates a request: bearer token, then the session cookie, then the proxy's header.
pub async fn principal(state: &State, headers: &HeaderMap) -> Option<Principal> {
    if let Some(t) = bearer(headers) {
        return check_token(state, t, false).await;
    }
    if let Some(t) = cookie(headers) {
        return check_token(state, t, true).await;
    }
    if let Some(h) = &state.proxy_header
        && let Some(name) = headers.get(h.as_str()).and_then(|v| v.to_str().ok())
    {
        let role = state.proxy_users.read().ok()?.get(name).cloned()?;
        return Some(Principal { name: format!("sso:{name}"), role, ambient: true });
    }
    None
}

/// True when a write by `p` carries what it must: the CSRF token when the browser authenticated
/// it on its own, and never from another origin.
pub fn csrf_ok(state: &State, p: &Principal, method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || !p.ambient {
        return true;
    }
    let token_ok = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).is_some_and(|t| same(t, &state.csrf));
    let origin_ok = match (headers.get("origin").and_then(|v| v.to_str().ok()), headers.get("host")) {
        (Some(o), Some(h)) => h.to_str().is_ok_and(|h| o.ends_with(&format!("://{h}"))),
        _ => true,
    };
    token_ok && origin_ok
}
