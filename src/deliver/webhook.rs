//! Webhooks: a JSON document POSTed to a URL, signed with HMAC-SHA256 over `TIMESTAMP.BODY` so the
//! receiver can tell it came from this workspace and is recent. Headers:
//!
//! - `X-Scudo-Timestamp`: seconds since 1970 (UTC) when this try was sent;
//! - `X-Scudo-Signature`: `sha256=` and the hex HMAC-SHA256 of `TIMESTAMP.BODY` with the secret;
//! - `X-Scudo-Delivery`: the outbox key, the same on every try (receivers drop repeats by it).
//!
//! The secret is read from an environment variable at send time (the outbox row names the
//! variable, never holds the secret). ureq's blocking client: it runs on the sender's thread,
//! never on a runtime.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::smtp::{Class, Failure};

/// The variable the secret is read from when an automation names none.
pub const DEFAULT_SECRET_VAR: &str = "SCUDO_WEBHOOK_SECRET";

/// `sha256=<hex>` of `timestamp.body` under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// One try at POSTing `body` to `url`, signed with the secret in `secret_var`.
pub fn post(url: &str, secret_var: &str, key: &str, body: &[u8], timeout: Duration) -> Result<(), Failure> {
    let secret = std::env::var(secret_var).ok().filter(|s| !s.is_empty()).ok_or_else(|| Failure {
        class: Class::Auth,
        message: format!(
            "no webhook secret: set the environment variable {secret_var} (the receiver checks the signature with it)"
        ),
    })?;
    let ts = chrono::Utc::now().timestamp();
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().into();
    let res = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", concat!("scudo/", env!("CARGO_PKG_VERSION")))
        .header("X-Scudo-Timestamp", ts.to_string())
        .header("X-Scudo-Signature", signature(secret.as_bytes(), ts, body))
        .header("X-Scudo-Delivery", key)
        .send(body);
    match res {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => {
            let code = r.status().as_u16();
            let class = if code >= 500 || code == 429 || code == 408 { Class::Transient } else { Class::Message };
            Err(Failure { class, message: format!("{url} answered HTTP {code}") })
        }
        Err(ureq::Error::Timeout(_)) => Err(Failure {
            class: Class::Timeout,
            message: format!("{url} did not answer within {} s", timeout.as_secs()),
        }),
        Err(e) => Err(Failure { class: Class::Transient, message: format!("cannot POST to {url}: {e}") }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_a_known_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(b"Jefe").unwrap();
        hmac::Mac::update(&mut mac, b"what do ya want for nothing?");
        let hex: String = hmac::Mac::finalize(mac).into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let s = super::signature(b"k", 1700000000, b"{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64, "{s}");
    }
}
