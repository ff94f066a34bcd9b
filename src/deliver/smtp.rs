//! SMTP through lettre's asynchronous client, one step at a time (connect, TLS, AUTH, MAIL, RCPT,
//! DATA) so that each failure is reported by its class with the setting to fix.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use lettre::Address;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::config::{SMTP_PASSWORD_VAR, SmtpSettings};
use crate::error::user;

/// How a message failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// No connection: wrong host or port, server down, timeout.
    Connect,
    /// TLS: handshake, certificate, or a server that requires TLS when `tls = "none"`.
    Tls,
    /// Authentication refused, or no password to authenticate with.
    Auth,
    /// The server refused the sender (`[smtp] from`).
    Sender,
    /// The server refused the recipient (`--to`).
    Recipient,
    /// The server said "try again later" (4xx) on every try.
    Transient,
    /// The server refused the message itself.
    Message,
    /// The server stopped answering for longer than `[smtp] timeout_seconds`.
    Timeout,
}

impl Class {
    /// The name stored in the outbox (`error_class`).
    pub fn name(self) -> &'static str {
        match self {
            Class::Connect => "connect",
            Class::Tls => "tls",
            Class::Auth => "auth",
            Class::Sender => "sender",
            Class::Recipient => "recipient",
            Class::Transient => "transient",
            Class::Message => "message",
            Class::Timeout => "timeout",
        }
    }
}

/// A failure, with a message that says what to fix.
#[derive(Debug, Clone)]
pub struct Failure {
    pub class: Class,
    pub message: String,
}

/// TLS as `[smtp] tls` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    StartTls,
    Implicit,
    None,
}

/// A resolved SMTP configuration (the password from the environment only).
#[derive(Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    password: Option<String>,
    pub timeout: Duration,
    pub retries: u32,
    roots: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Smtp {
    /// Never shows the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Smtp({}:{} tls={:?} user={})", self.host, self.port, self.tls, self.user)
    }
}

impl Smtp {
    /// From the settings of the workspace at `root`; the password from `SCUDO_SMTP_PASSWORD`.
    pub fn from_settings(s: &SmtpSettings, root: &Path) -> Result<Smtp> {
        if s.host.trim().is_empty() {
            return Err(user(
                "no SMTP server: set [smtp] host (and port, tls, user, from) in scudo.toml or SCUDO_SMTP_HOST, \
                 and the password in SCUDO_SMTP_PASSWORD; or pass --dry-run / --save FILE.eml to send nothing",
            ));
        }
        let tls = match s.tls.as_str() {
            "implicit" => TlsMode::Implicit,
            "none" => TlsMode::None,
            _ => TlsMode::StartTls,
        };
        let password = std::env::var(SMTP_PASSWORD_VAR).ok().filter(|p| !p.is_empty());
        if !s.user.is_empty() && password.is_none() {
            return Err(user(format!(
                "[smtp] user = `{}` needs a password: set the environment variable {SMTP_PASSWORD_VAR} (it is never \
                 read from scudo.toml)",
                s.user
            )));
        }
        let mut roots = Vec::new();
        if !s.ca_file.trim().is_empty() {
            let path = root.join(s.ca_file.trim());
            let pem = std::fs::read(&path)
                .map_err(|e| user(format!("[smtp] ca_file = `{}`: cannot read {}: {e}", s.ca_file, path.display())))?;
            roots.push(pem);
        }
        Ok(Smtp {
            host: s.host.trim().to_string(),
            port: s.port,
            tls,
            user: s.user.clone(),
            password,
            timeout: Duration::from_secs(s.timeout_seconds),
            retries: s.retries,
            roots,
        })
    }

    fn tls_parameters(&self) -> Result<TlsParameters, Failure> {
        let mut b = TlsParameters::builder(self.host.clone());
        for pem in &self.roots {
            let cert = Certificate::from_pem(pem)
                .map_err(|e| self.fail(Class::Tls, format!("[smtp] ca_file is not a PEM certificate: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(|e| self.fail(Class::Tls, format!("cannot set up TLS: {e}")))
    }

    fn fail(&self, class: Class, message: String) -> Failure {
        Failure { class, message }
    }

    fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// One try at sending `payload` from `from` to `to`. `handed_over` runs once the whole message
    /// is written and flushed, just before its end (the final `.` of DATA): the outbox records
    /// there that a crash from then on must not send the message again.
    pub async fn send(&self, from: &str, to: &str, payload: &[u8], handed_over: &dyn Fn()) -> Result<(), Failure> {
        let hello = ClientId::default();
        let implicit = (self.tls == TlsMode::Implicit).then(|| self.tls_parameters()).transpose()?;
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &hello,
            implicit,
            None,
        )
        .await
        .map_err(|e| self.connect_error(&e))?;
        let result = self.transaction(&mut conn, &hello, from, to, payload, handed_over).await;
        if result.is_ok() {
            let _ = tokio::time::timeout(self.timeout, conn.quit()).await;
        } else {
            let _ = tokio::time::timeout(self.timeout, conn.abort()).await;
        }
        result
    }

    async fn transaction(
        &self,
        conn: &mut AsyncSmtpConnection,
        hello: &ClientId,
        from: &str,
        to: &str,
        payload: &[u8],
        handed_over: &dyn Fn(),
    ) -> Result<(), Failure> {
        let server = self.server();
        if self.tls == TlsMode::StartTls {
            if !conn.can_starttls() {
                return Err(self.fail(
                    Class::Tls,
                    format!(
                        "{server} does not offer STARTTLS: set [smtp] tls = \"implicit\" if it speaks TLS from the \
                         start (usually port 465), or \"none\" only for a relay on this machine"
                    ),
                ));
            }
            self.within("STARTTLS", conn.starttls(self.tls_parameters()?, hello)).await?.map_err(|e| {
                self.fail(
                    Class::Tls,
                    format!(
                        "TLS with {server} failed: {}; check [smtp] host (the certificate's name) and [smtp] ca_file",
                        chain(&e)
                    ),
                )
            })?;
        }
        let requires_tls = self.tls == TlsMode::None && conn.server_info().supports_feature(Extension::StartTls);
        if let Some(password) = &self.password
            && !self.user.is_empty()
        {
            let creds = Credentials::new(self.user.clone(), password.clone());
            self.within("AUTH", conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds)).await?.map_err(|e| {
                if requires_tls && !e.is_permanent() {
                    self.tls_required(&server, &e)
                } else if e.is_transient() {
                    self.fail(Class::Transient, format!("{server} refused authentication for now: {}", chain(&e)))
                } else {
                    self.fail(
                        Class::Auth,
                        format!(
                            "{server} refused the login of [smtp] user = `{}`: {}; check the user and the \
                             password in {SMTP_PASSWORD_VAR}",
                            self.user,
                            chain(&e)
                        ),
                    )
                }
            })?;
        }
        let from_addr: Address = address(from)
            .map_err(|_| self.fail(Class::Sender, format!("[smtp] from = `{from}` is not an email address")))?;
        let to_addr: Address =
            address(to).map_err(|_| self.fail(Class::Recipient, format!("`{to}` is not an email address")))?;
        let mut options = Vec::new();
        if !payload.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let server = self.server();
        let step = |class: Class, what: String| move |e: SmtpError| self.step_error(requires_tls, class, what, &e);
        self.within("MAIL FROM", conn.command(Mail::new(Some(from_addr), options)))
            .await?
            .map_err(step(Class::Sender, format!("{server} refused the sender [smtp] from = `{from}`")))?;
        self.within("RCPT TO", conn.command(Rcpt::new(to_addr, vec![])))
            .await?
            .map_err(step(Class::Recipient, format!("{server} refused the recipient `{to}` (check --to)")))?;
        self.within("DATA", conn.command(Data))
            .await?
            .map_err(step(Class::Message, format!("{server} refused the message")))?;
        // lettre writes each part of the iterator, then the final `.`: the hook runs between.
        let parts = HookAfter { body: Some(payload), hook: Some(handed_over) };
        self.within("the message", conn.message_iter(parts))
            .await?
            .map_err(step(Class::Message, format!("{server} refused the message")))?;
        Ok(())
    }

    /// Runs one step, failing when the server does not answer within `[smtp] timeout_seconds` (lettre
    /// times out connecting, not every read).
    async fn within<T>(&self, what: &str, step: impl std::future::Future<Output = T>) -> Result<T, Failure> {
        tokio::time::timeout(self.timeout, step).await.map_err(|_| {
            self.fail(
                Class::Timeout,
                format!(
                    "{} did not answer {what} within {} s ([smtp] timeout_seconds)",
                    self.server(),
                    self.timeout.as_secs()
                ),
            )
        })
    }

    /// A failed MAIL, RCPT or DATA step: transient (4xx) whatever the step, a TLS requirement
    /// when the server wants TLS first (530), else the step's own class.
    fn step_error(&self, requires_tls: bool, class: Class, what: String, e: &SmtpError) -> Failure {
        if e.is_transient() {
            return self.fail(Class::Transient, format!("{what} (for now, 4xx): {}", chain(e)));
        }
        if requires_tls && e.status().is_some_and(|c| c.to_string().starts_with("530")) {
            return self.fail(
                Class::Tls,
                format!(
                    "{} requires TLS: set [smtp] tls = \"starttls\" (or \"implicit\"): {}",
                    self.server(),
                    chain(e)
                ),
            );
        }
        self.fail(class, format!("{what}: {}", chain(e)))
    }

    fn tls_required(&self, server: &str, e: &SmtpError) -> Failure {
        self.fail(
            Class::Tls,
            format!(
                "{server} requires TLS before it accepts a login ({}): set [smtp] tls = \"starttls\" (or \"implicit\")",
                chain(e)
            ),
        )
    }

    fn connect_error(&self, e: &SmtpError) -> Failure {
        let server = self.server();
        if e.is_tls() {
            return self.fail(
                Class::Tls,
                format!(
                    "TLS with {server} failed: {}; check [smtp] tls (\"implicit\" is for port 465) and [smtp] ca_file",
                    chain(e)
                ),
            );
        }
        if e.is_transient() {
            return self.fail(Class::Transient, format!("{server} is busy (4xx): {}", chain(e)));
        }
        self.fail(
            Class::Connect,
            format!(
                "cannot connect to {server}: {}; check [smtp] host and [smtp] port, and that the server runs",
                chain(e)
            ),
        )
    }
}

/// Yields the message, then runs the hook (once the message is written) and ends.
struct HookAfter<'a> {
    body: Option<&'a [u8]>,
    hook: Option<&'a dyn Fn()>,
}

impl<'a> Iterator for HookAfter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(b) = self.body.take() {
            return Some(b);
        }
        if let Some(h) = self.hook.take() {
            h();
        }
        None
    }
}

/// The bare address of `Name <a@b>` or `a@b`.
fn address(s: &str) -> Result<Address, ()> {
    let mailbox: lettre::message::Mailbox = s.parse().map_err(|_| ())?;
    Ok(mailbox.email)
}

/// The error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
