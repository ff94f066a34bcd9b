//! Who may use `scudo serve` and what people wrote about customers: users and their roles, API
//! tokens (stored as argon2id hashes, shown once), customer notes and tags, and the activity log
//! (`audit.jsonl` beside the database: a file, so a server holding the database read-only can
//! append to it; one JSON object a line, written with O_APPEND so lines never interleave).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::{Param, ResultSet, Store};
use crate::error::user;

/// A live token: (id, user, role, argon2 hash).
pub type TokenRow = (String, Option<String>, String, String);

/// The three roles, most powerful first.
pub const ROLES: [&str; 3] = ["admin", "analyst", "viewer"];

/// Refuses a role that is not one of [`ROLES`].
pub fn check_role(role: &str) -> Result<()> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(user(format!("no role `{role}`; roles: admin (everything), analyst (read, notes and tags), viewer (read)")))
    }
}

/// `n` random bytes from the operating system, as lowercase hex.
pub fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .context("cannot read /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// An argon2id hash of `secret` (PHC string, salted).
pub fn hash_secret(secret: &str) -> Result<String> {
    argon2::Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the token: {e}"))
}

/// True when `secret` matches the argon2 `hash`.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    argon2::Argon2::default().verify_password(secret.as_bytes(), hash).is_ok()
}

/// The id part of a token `scudo_<id>_<secret>`.
pub fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("scudo_")?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some(id)
}

impl Store {
    pub fn add_user(&self, name: &str, role: &str) -> Result<()> {
        check_role(role)?;
        if !self
            .query("SELECT 1 FROM users WHERE name = $n", &[("n", Param::Text(name.into()))], "users")?
            .rows
            .is_empty()
        {
            return Err(user(format!("user `{name}` exists; remove them first to change their role")));
        }
        self.execute(
            "INSERT INTO users VALUES ($n, $r, now()::TIMESTAMP)",
            &[("n", Param::Text(name.into())), ("r", Param::Text(role.into()))],
            "users",
        )
    }

    /// Removes a user and revokes their tokens; false when there was no such user.
    pub fn remove_user(&self, name: &str) -> Result<bool> {
        let p = [("n", Param::Text(name.into()))];
        let known = !self.query("SELECT 1 FROM users WHERE name = $n", &p, "users")?.rows.is_empty();
        self.execute("DELETE FROM users WHERE name = $n", &p, "users")?;
        self.execute(
            "UPDATE api_tokens SET revoked_at = now()::TIMESTAMP WHERE user_name = $n AND revoked_at IS NULL",
            &p,
            "users",
        )?;
        Ok(known)
    }

    pub fn users(&self) -> Result<ResultSet> {
        self.query(
            "SELECT u.name, u.role, u.created_at, count(t.token_id) FILTER (WHERE t.revoked_at IS NULL) AS tokens \
             FROM users u LEFT JOIN api_tokens t ON t.user_name = u.name GROUP BY ALL ORDER BY u.name",
            &[],
            "users",
        )
    }

    /// The role of user `name`, if they exist.
    pub fn user_role(&self, name: &str) -> Result<Option<String>> {
        let rs = self.query("SELECT role FROM users WHERE name = $n", &[("n", Param::Text(name.into()))], "users")?;
        Ok(rs.rows.first().map(|r| r[0].to_text()))
    }

    /// Creates a token; returns it (the only time it exists in clear).
    pub fn create_token(&self, role: &str, user_name: Option<&str>) -> Result<String> {
        check_role(role)?;
        if let Some(u) = user_name
            && self.user_role(u)?.is_none()
        {
            return Err(user(format!("no user `{u}`; add them with `scudo users add {u} --role {role}`")));
        }
        let (id, secret) = (random_hex(6)?, random_hex(24)?);
        let token = format!("scudo_{id}_{secret}");
        self.execute(
            "INSERT INTO api_tokens VALUES ($id, $u, $r, $h, now()::TIMESTAMP, NULL)",
            &[
                ("id", Param::Text(id)),
                ("u", user_name.map_or(Param::Null, |u| Param::Text(u.into()))),
                ("r", Param::Text(role.into())),
                ("h", Param::Text(hash_secret(&token)?)),
            ],
            "tokens",
        )?;
        Ok(token)
    }

    /// Revokes a token by its id (or the whole token); false when no live token had it.
    pub fn revoke_token(&self, id_or_token: &str) -> Result<bool> {
        let id = token_id(id_or_token).unwrap_or(id_or_token);
        let p = [("id", Param::Text(id.into()))];
        let live = !self
            .query("SELECT 1 FROM api_tokens WHERE token_id = $id AND revoked_at IS NULL", &p, "tokens")?
            .rows
            .is_empty();
        self.execute("UPDATE api_tokens SET revoked_at = now()::TIMESTAMP WHERE token_id = $id", &p, "tokens")?;
        Ok(live)
    }

    pub fn tokens(&self) -> Result<ResultSet> {
        self.query(
            "SELECT token_id, user_name, role, created_at, revoked_at FROM api_tokens ORDER BY created_at, token_id",
            &[],
            "tokens",
        )
    }

    /// Every live token: (id, user, role, hash), for the server to check bearer tokens against.
    pub fn live_tokens(&self) -> Result<Vec<TokenRow>> {
        let rs = self.query(
            "SELECT token_id, user_name, role, hash FROM api_tokens WHERE revoked_at IS NULL",
            &[],
            "tokens",
        )?;
        Ok(rs
            .rows
            .iter()
            .map(|r| {
                let u = r[1].to_text();
                (r[0].to_text(), (!u.is_empty()).then_some(u), r[2].to_text(), r[3].to_text())
            })
            .collect())
    }

    /// Adds a note; returns its id.
    pub fn add_note(&self, customer_id: &str, body: &str, author: &str) -> Result<i64> {
        let rs = self.query("SELECT COALESCE(max(note_id), 0) + 1 FROM customer_notes", &[], "notes")?;
        let id = rs.rows[0][0].as_i64().unwrap_or(1);
        self.execute(
            "INSERT INTO customer_notes VALUES ($id, $c, $b, $a, now()::TIMESTAMP, NULL)",
            &[
                ("id", Param::Int(id)),
                ("c", Param::Text(customer_id.into())),
                ("b", Param::Text(body.into())),
                ("a", Param::Text(author.into())),
            ],
            "notes",
        )?;
        Ok(id)
    }

    /// Replaces a note's text; false when there is no such note.
    pub fn edit_note(&self, note_id: i64, body: &str) -> Result<bool> {
        let p = [("id", Param::Int(note_id)), ("b", Param::Text(body.into()))];
        let known = !self.query("SELECT 1 FROM customer_notes WHERE note_id = $id", &p[..1], "notes")?.rows.is_empty();
        self.execute(
            "UPDATE customer_notes SET body = $b, updated_at = now()::TIMESTAMP WHERE note_id = $id",
            &p,
            "notes",
        )?;
        Ok(known)
    }

    pub fn remove_note(&self, note_id: i64) -> Result<bool> {
        let p = [("id", Param::Int(note_id))];
        let known = !self.query("SELECT 1 FROM customer_notes WHERE note_id = $id", &p, "notes")?.rows.is_empty();
        self.execute("DELETE FROM customer_notes WHERE note_id = $id", &p, "notes")?;
        Ok(known)
    }

    pub fn add_tag(&self, customer_id: &str, tag: &str, author: &str) -> Result<()> {
        self.execute(
            "INSERT OR IGNORE INTO customer_tags VALUES ($c, $t, $a, now()::TIMESTAMP)",
            &[
                ("c", Param::Text(customer_id.into())),
                ("t", Param::Text(tag.into())),
                ("a", Param::Text(author.into())),
            ],
            "tags",
        )
    }

    pub fn remove_tag(&self, customer_id: &str, tag: &str) -> Result<bool> {
        let p = [("c", Param::Text(customer_id.into())), ("t", Param::Text(tag.into()))];
        let known =
            !self.query("SELECT 1 FROM customer_tags WHERE customer_id = $c AND tag = $t", &p, "tags")?.rows.is_empty();
        self.execute("DELETE FROM customer_tags WHERE customer_id = $c AND tag = $t", &p, "tags")?;
        Ok(known)
    }

    /// A customer's notes (newest first) and tags.
    pub fn notes_and_tags(&self, customer_id: &str) -> Result<(ResultSet, ResultSet)> {
        let p = [("c", Param::Text(customer_id.into()))];
        Ok((
            self.query(
                "SELECT note_id, body, author, created_at, updated_at FROM customer_notes WHERE customer_id = $c \
                 ORDER BY created_at DESC, note_id DESC",
                &p,
                "notes",
            )?,
            self.query(
                "SELECT tag, author, created_at FROM customer_tags WHERE customer_id = $c ORDER BY tag",
                &p,
                "tags",
            )?,
        ))
    }
}

/// The activity log of the workspace whose database is `db`.
pub fn audit_path(db: &Path) -> PathBuf {
    db.with_file_name("audit.jsonl")
}

/// Appends one entry (who, what, on what, detail) with the time, UTC. Never holds a secret.
pub fn audit(db: &Path, actor: &str, action: &str, target: &str, detail: &str) -> Result<()> {
    let line = serde_json::json!({
        "at": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        "actor": actor, "action": action, "target": target, "detail": detail,
    });
    let path = audit_path(db);
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&path).with_context(|| format!("cannot append to the activity log {}", path.display()))?;
    f.write_all(format!("{line}\n").as_bytes())?;
    Ok(())
}

/// The activity log's entries, oldest first (`limit` newest when given).
pub fn audit_entries(db: &Path, limit: usize) -> Result<Vec<serde_json::Value>> {
    let text = match std::fs::read_to_string(audit_path(db)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).context("cannot read the activity log"),
    };
    let all: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let skip = if limit == 0 { 0 } else { all.len().saturating_sub(limit) };
    Ok(all.into_iter().skip(skip).collect())
}

/// Who runs a CLI command, for the activity log: the login name.
pub fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}
