//! A real SMTP server for the digest tests: aiosmtpd (PyPI aiosmtpd==1.4.6) in a virtual
//! environment, run from tests/smtp/server.py on a free loopback port with STARTTLS required and
//! AUTH, and a self-signed end-entity certificate for localhost/127.0.0.1 made with openssl.
//!
//! The Python comes from `SCUDO_TEST_PYTHON` (set by .ci/run), else tests/tools/python-env, which
//! creates the virtual environment with tests/tools/requirements.txt when missing: nothing is
//! skipped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub const USER: &str = "owner-bot";
pub const PASSWORD: &str = "s3cret-Pa55word";

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp")
}

/// A Python with aiosmtpd 1.4.6: `SCUDO_TEST_PYTHON`, else tests/tools/python-env's virtual
/// environment (created once per machine, under a lock, when missing).
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("SCUDO_TEST_PYTHON") {
                return PathBuf::from(p);
            }
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/python-env");
            let out = Command::new(&script).output().expect("tests/tools/python-env runs");
            assert!(out.status.success(), "python-env failed: {}", String::from_utf8_lossy(&out.stderr));
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        })
        .clone()
}

/// A free port on the loopback interface (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A certificate lettre's rustls client accepts: an end entity (CA:FALSE) with subject
/// alternative names for localhost and 127.0.0.1. Returns (cert.pem, key.pem).
pub fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

/// A running server; stopped when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub maildir: PathBuf,
    pub cert: PathBuf,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        let (cert, key) = certificate(dir);
        let maildir = dir.join("mail");
        let port = free_port();
        let mut child = Command::new(python())
            .args(["-W", "ignore::DeprecationWarning"])
            .arg(scripts().join("server.py"))
            .args(["--port", &port.to_string(), "--user", USER, "--password", PASSWORD])
            .arg("--maildir")
            .arg(&maildir)
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), format!("READY {port}"), "the SMTP server did not start");
        Server { child, port, maildir, cert }
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(&self.maildir)
            .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    /// `[smtp]` settings for this server (the password comes from SCUDO_SMTP_PASSWORD).
    pub fn settings(&self, tls: &str) -> String {
        format!(
            "\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"{tls}\"\nuser = \"{USER}\"\nfrom = \"Scudo Reports <reports@shop.example>\"\nreply_to = \"owner@shop.example\"\nca_file = \"{}\"\ntimeout_seconds = 10\n",
            self.port,
            self.cert.display()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What Python's `email` package reads in a message (tests/smtp/inspect_eml.py); with `outdir`,
/// the HTML part with its images as files there.
pub fn inspect(eml: &Path, outdir: Option<&Path>) -> serde_json::Value {
    let mut c = Command::new(python());
    c.arg(scripts().join("inspect_eml.py")).arg(eml);
    if let Some(d) = outdir {
        c.arg(d);
    }
    let out = c.output().expect("python runs");
    assert!(out.status.success(), "inspect_eml.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("inspect_eml.py prints JSON")
}
