//! Real third-party servers the tests talk to (an SMTP server that captures mail, an OpenID
//! provider), installed from PyPI into one virtualenv under `target/` the first time a test needs
//! them, then started on a free port and stopped when the handle drops.
//!
//! A machine without Python (or without access to PyPI) skips those tests with a message, unless
//! `PORTCULLIS_REQUIRE_TOOLS=1` is set (CI sets it), in which case they fail.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The PyPI packages the tests use, pinned.
const PACKAGES: &[&str] = &["aiosmtpd==1.4.6", "oidc-provider-mock==0.3.4", "mcp==2.3.0"];

/// Serialises installation inside one test binary (several tests may ask at once).
static INSTALL: Mutex<()> = Mutex::new(());

fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-tools-venv")
}

fn required() -> bool {
    std::env::var("PORTCULLIS_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Skips (returns `None` after a message) or fails, as [`required`] says.
fn unavailable(why: &str) -> Option<PathBuf> {
    assert!(!required(), "PORTCULLIS_REQUIRE_TOOLS=1 but {why}");
    eprintln!("SKIPPED: {why}");
    None
}

/// The virtualenv's Python with [`PACKAGES`] installed, installing them if needed. The marker
/// file is written last, so an interrupted install is redone rather than half used.
pub fn python() -> Option<PathBuf> {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = venv_dir();
    let marker = venv.join(".installed");
    let wanted = PACKAGES.join(" ");
    if std::fs::read_to_string(&marker).is_ok_and(|had| had == wanted) {
        return Some(venv.join("bin/python"));
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
    if !made.is_ok_and(|s| s.success()) {
        return unavailable("python3 -m venv failed (is Python 3 installed?)");
    }
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(PACKAGES)
        .status();
    if !installed.is_ok_and(|s| s.success()) {
        return unavailable("pip could not install the test tools from PyPI");
    }
    std::fs::write(&marker, &wanted).expect("write the virtualenv marker");
    Some(venv.join("bin/python"))
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A server process, killed when dropped.
pub struct Tool {
    child: Child,
    pub port: u16,
    /// What the tool writes to (the maildir of the SMTP server, for instance).
    pub dir: tempfile::TempDir,
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tool {
    /// Starts `python -m <module> <args…>` (with `{port}` and `{dir}` replaced) and waits until
    /// it accepts connections on its port.
    fn start(module: &str, args: &[&str]) -> Option<Tool> {
        let python = python()?;
        let port = free_port();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fill = |a: &&str| {
            a.replace("{port}", &port.to_string()).replace("{dir}", &dir.path().to_string_lossy())
        };
        let log = std::fs::File::create(dir.path().join("tool.log")).expect("a log file");
        let child = Command::new(python)
            .args(["-m", module])
            .args(args.iter().map(fill))
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the tool");
        let tool = Tool { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{module} did not listen on {port}: {}",
                std::fs::read_to_string(tool.dir.path().join("tool.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(tool)
    }

    /// aiosmtpd, capturing every mail it receives into the maildir `self.dir/mail`.
    pub fn smtp_server() -> Option<Tool> {
        Tool::start(
            "aiosmtpd",
            &["-n", "-l", "127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", "{dir}/mail"],
        )
    }

    /// The mails the SMTP server captured so far, as raw RFC 5322 messages (oldest first).
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, String)> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.dir.path().join("mail").join(sub)).ok())
            .flatten()
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let modified = entry.metadata().ok()?.modified().ok()?;
                Some((modified, std::fs::read_to_string(entry.path()).ok()?))
            })
            .collect();
        files.sort_by_key(|(at, _)| *at);
        files.into_iter().map(|(_, mail)| mail).collect()
    }

    /// oidc-provider-mock, an OpenID provider (discovery, JWKS, authorization code with PKCE)
    /// whose sign-in form asks for the subject; `PUT /users/{sub}` sets that person's claims.
    pub fn openid_provider() -> Option<Tool> {
        Tool::start("oidc_provider_mock", &["--port", "{port}", "--require-nonce", "true"])
    }

    /// The tool's base URL.
    pub fn url(&self) -> String {
        format!("http://localhost:{}", self.port)
    }
}
