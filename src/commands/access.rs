//! `scudo users`, `scudo tokens`, `scudo audit`: who may use `scudo serve`, and what was done.

use anyhow::Result;

use crate::cli::{AuditArgs, GlobalArgs, TokensCommand, UsersCommand};
use crate::error::{Exit, user};
use crate::output;
use crate::store::access::{audit as log, audit_entries, cli_actor};

pub fn users(c: &UsersCommand, g: &GlobalArgs) -> Result<Exit> {
    let (ws, store) = super::open_workspace(g)?;
    let db = ws.database_path();
    match c {
        UsersCommand::Add { name, role } => {
            store.add_user(name, role)?;
            log(&db, &cli_actor(), "user_add", name, role)?;
            eprintln!("added {name} ({role})");
        }
        UsersCommand::Remove { name } => {
            if !store.remove_user(name)? {
                return Err(user(format!("no user `{name}`; `scudo users list` shows them")));
            }
            log(&db, &cli_actor(), "user_remove", name, "")?;
            eprintln!("removed {name} and revoked their tokens");
        }
        UsersCommand::List { output: o } => {
            output::emit(&output::checks::rows(&store.users()?, o.format, serde_json::json!({})))?;
        }
    }
    Ok(Exit::Ok)
}

pub fn tokens(c: &TokensCommand, g: &GlobalArgs) -> Result<Exit> {
    let (ws, store) = super::open_workspace(g)?;
    let db = ws.database_path();
    match c {
        TokensCommand::Create { role, user: who } => {
            let token = store.create_token(role, who.as_deref())?;
            let id = crate::store::access::token_id(&token).unwrap_or_default().to_string();
            log(&db, &cli_actor(), "token_create", &id, role)?;
            // The token alone on stdout, once: `TOKEN=$(scudo tokens create --role viewer)`.
            output::emit(&format!("{token}\n"))?;
        }
        TokensCommand::Revoke { token } => {
            if !store.revoke_token(token)? {
                return Err(user("no live token with that id; `scudo tokens list` shows them".to_string()));
            }
            let id = crate::store::access::token_id(token).unwrap_or(token);
            log(&db, &cli_actor(), "token_revoke", id, "")?;
            eprintln!("revoked {id}");
        }
        TokensCommand::List { output: o } => {
            output::emit(&output::checks::rows(&store.tokens()?, o.format, serde_json::json!({})))?;
        }
    }
    Ok(Exit::Ok)
}

pub fn audit(a: &AuditArgs, g: &GlobalArgs) -> Result<Exit> {
    let ws = crate::config::Workspace::discover(g.workspace.as_deref())?;
    let entries = audit_entries(&ws.database_path(), a.limit)?;
    let columns: Vec<String> = ["at", "actor", "action", "target", "detail"].map(String::from).to_vec();
    let rows = entries
        .iter()
        .map(|e| columns.iter().map(|c| crate::store::Cell::Text(e[c].as_str().unwrap_or("").to_string())).collect())
        .collect();
    let rs = crate::store::ResultSet { columns, rows };
    output::emit(&output::checks::rows(&rs, a.output.format, serde_json::json!({})))?;
    Ok(Exit::Ok)
}
