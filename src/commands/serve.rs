//! `scudo serve`: checks the bind address against the auth configured, opens the workspace on
//! the server's database thread, writes the run file other commands find it by, and serves
//! until SIGTERM, with the scheduler of the automations beside it (`--no-schedule`: without).

use anyhow::{Context, Result};

use crate::cli::{GlobalArgs, ServeArgs};
use crate::error::{Exit, user};
use crate::server;
use crate::store::access::random_hex;
use crate::store::owner::RunFile;

pub fn run(args: &ServeArgs, g: &GlobalArgs) -> Result<Exit> {
    let (ws, store) = super::open_workspace(g)?;
    let tokens = store.live_tokens()?.len();
    let proxy_users: std::collections::HashMap<String, String> = {
        let rs = store.users()?;
        rs.rows.iter().map(|r| (r[0].to_text(), r[1].to_text())).collect()
    };
    drop(store);
    let proxy_header = Some(ws.settings.serve.trusted_user_header.trim().to_string()).filter(|h| !h.is_empty());
    if !args.bind.ip().is_loopback() && tokens == 0 && proxy_header.is_none() {
        return Err(user(format!(
            "refusing to listen on {} without authentication: beyond 127.0.0.1 anyone on the network could \
             read your customers. Create tokens first (`scudo tokens create --role viewer`), or put a reverse \
             proxy with single sign-on in front (docs/serve.md), or bind 127.0.0.1",
            args.bind
        )));
    }
    let session = random_hex(24)?;
    let secret = random_hex(24)?;
    let opts = server::Options {
        bind: args.bind,
        session: session.clone(),
        proxy_header,
        revenue_thresholds: ws.settings.serve.revenue_thresholds.clone(),
    };
    let db_path = ws.database_path();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.bind).await.with_context(|| {
            format!("cannot listen on {}; is another server using it? try --bind 127.0.0.1:0", args.bind)
        })?;
        let addr = listener.local_addr()?;
        let scheduled = (!args.no_schedule).then(|| ws.clone());
        let state = server::state(ws, &opts, secret.clone())?;
        if let Ok(mut u) = state.proxy_users.write() {
            *u = proxy_users;
        }
        RunFile { pid: std::process::id(), addr, secret }.write(&db_path)?;
        let url = format!("http://{addr}/?token={session}");
        // The address with the session token is what the user needs: on stderr (stdout stays data),
        // as Jupyter does; the token is never written to a log or file.
        eprintln!("scudo serve: listening on http://{addr}");
        eprintln!("open {url}");
        if args.open {
            let _ = std::process::Command::new("xdg-open").arg(&url).spawn();
        }
        // The scheduler runs here too (docs/automations.md); each run borrows the database from
        // this server like any other command.
        let scheduler = scheduled.map(|ws| {
            tokio::spawn(async move {
                if let Err(e) = crate::automate::daemon::run(ws, std::future::pending()).await {
                    eprintln!("serve: the scheduler stopped: {e:#}");
                }
            })
        });
        let result = server::serve(state, listener).await;
        // Close the database before the process exits (owner::stop says why).
        tokio::task::spawn_blocking(|| crate::server::owner::stop(std::time::Duration::from_secs(30))).await.ok();
        if let Some(s) = scheduler {
            s.abort();
        }
        let _ = std::fs::remove_file(crate::store::owner::run_file_path(&db_path));
        result
    })?;
    Ok(Exit::Ok)
}
