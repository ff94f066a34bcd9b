//! One-click unsubscribe links (RFC 8058). Every campaign email carries
//! `List-Unsubscribe: <https://…/unsubscribe/TOKEN>` and `List-Unsubscribe-Post:
//! List-Unsubscribe=One-Click`; `scudo serve` answers a POST to that address by adding the
//! address to the suppression list, without a sign-in.
//!
//! The token is the address (hex) and an HMAC-SHA256 of it under the workspace's unsubscribe
//! secret, so nobody can unsubscribe someone else by guessing. The secret comes from
//! `SCUDO_UNSUBSCRIBE_SECRET`, else from a key scudo writes once beside the database
//! (`scudo.duckdb.unsubscribe-key`, mode 0600: readable by the workspace's owner only). It is
//! never printed or logged.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The environment variable that, when set, holds the secret.
pub const SECRET_VAR: &str = "SCUDO_UNSUBSCRIBE_SECRET";

/// The key file beside the database `db`.
pub fn key_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.unsubscribe-key", db.display()))
}

/// The signing secret: the environment's, else the key file's (created, mode 0600, when missing).
pub fn secret(db: &Path) -> Result<Vec<u8>> {
    if let Ok(s) = std::env::var(SECRET_VAR)
        && !s.is_empty()
    {
        return Ok(s.into_bytes());
    }
    let path = key_path(db);
    if let Ok(s) = std::fs::read_to_string(&path) {
        return Ok(s.trim().as_bytes().to_vec());
    }
    let key = crate::store::access::random_hex(32)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(&path) {
        Ok(mut f) => {
            f.write_all(key.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
            Ok(key.into_bytes())
        }
        // Another process wrote it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path)?.trim().as_bytes().to_vec())
        }
        Err(e) => Err(e).with_context(|| format!("cannot create the unsubscribe key {}", path.display())),
    }
}

fn mac(secret: &[u8], email: &str) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    m.update(b"scudo-unsubscribe\n");
    m.update(email.as_bytes());
    m.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The token for `email` (lower-cased).
pub fn token(secret: &[u8], email: &str) -> String {
    let email = email.trim().to_lowercase();
    let hex: String = email.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.{}", mac(secret, &email))
}

/// The address a token was made for, when its signature is right.
pub fn verify(secret: &[u8], token: &str) -> Option<String> {
    let (hex, sig) = token.split_once('.')?;
    if hex.len() % 2 != 0 || hex.len() > 640 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    let email = String::from_utf8(bytes?).ok()?;
    let want = mac(secret, &email);
    (want.len() == sig.len() && want.bytes().zip(sig.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0).then_some(email)
}

/// The link for `email` under the public address `base` (`[automations] public_url`).
pub fn link(base: &str, secret: &[u8], email: &str) -> String {
    format!("{}/unsubscribe/{}", base.trim_end_matches('/'), token(secret, email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_cannot_be_forged() {
        let t = token(b"secret", "Lisa@Example.com");
        assert_eq!(verify(b"secret", &t).as_deref(), Some("lisa@example.com"));
        assert_eq!(verify(b"other", &t), None);
        // Someone else's address with Lisa's signature.
        let forged =
            format!("{}.{}", token(b"x", "mike@example.com").split('.').next().unwrap(), t.split('.').nth(1).unwrap());
        assert_eq!(verify(b"secret", &forged), None);
        for junk in ["", ".", "zz.00", "abc", "6c.", "6c6973612e"] {
            assert_eq!(verify(b"secret", junk), None, "{junk}");
        }
        assert!(link("https://shop.example/", b"s", "a@b.c").starts_with("https://shop.example/unsubscribe/"));
    }
}
