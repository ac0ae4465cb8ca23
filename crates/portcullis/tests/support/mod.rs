//! The `portcullis` binary as a test fixture, shared by the tests that need a real process (a
//! crash, a signal, two servers on one database, a browser): `init` an organization, `serve` on a
//! free port. Each test file includes it with `mod support;`.
//!
//! The API tests (`tests/api`) run the server in-process instead, on a manual clock.
#![allow(dead_code)]

pub mod browser;
pub mod tools;

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// How long a spawned server may take to answer `/healthz`, and to exit after SIGTERM.
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How the binary is run: the database every command points at, and extra environment.
#[derive(Clone, Debug)]
pub struct Portcullis {
    database_url: String,
    env: Vec<(String, String)>,
}

impl Portcullis {
    /// Commands on `database_url` (a SQLite path or URL, or `postgres://…`), logging at `info`,
    /// with webhooks allowed to go to `127.0.0.0/8` (the tests' receivers run on this machine;
    /// the default egress policy refuses loopback — remove it with `.unset(…)` to test that).
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            env: vec![
                ("RUST_LOG".into(), "info".into()),
                ("PORTCULLIS_WEBHOOK_ALLOW_NETWORK".into(), "127.0.0.0/8".into()),
            ],
        }
    }

    /// Removes an environment variable set for the commands.
    pub fn unset(mut self, key: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// Sets an environment variable for every command run from here on (e.g. `RUST_LOG`,
    /// `PORTCULLIS_MASTER_KEY`).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// `portcullis <args> --database-url <url>` with the environment, ready to run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).args(["--database-url", &self.database_url]);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// `portcullis init --json`: panics unless it succeeds and prints exactly one JSON object.
    pub fn init(&self, org_name: &str, owner_email: &str, owner_name: &str) -> Org {
        let out = self
            .command(&[
                "init",
                "--org-name",
                org_name,
                "--owner-email",
                owner_email,
                "--owner-name",
                owner_name,
                "--json",
            ])
            .output()
            .expect("run portcullis init");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "init failed: {stderr}");
        let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
        assert_eq!(stdout.trim().lines().count(), 1, "exactly one line on stdout: {stdout}");
        let json: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
        let field = |name: &str| {
            json[name].as_str().unwrap_or_else(|| panic!("init printed no {name}: {json}")).into()
        };
        Org {
            id: field("organizationId"),
            owner_id: field("ownerUserId"),
            key: field("apiKey"),
            secret: field("apiSecret"),
            token: field("ownerToken"),
            json,
            stderr,
        }
    }

    /// `portcullis serve` on a free local port with `extra` arguments; returns once `/healthz`
    /// answers 200. The server is killed when the returned value is dropped.
    pub fn serve(&self, extra: &[&str]) -> Server {
        // Another process may take the free port between our probe and the server's bind: the
        // server then exits saying so, and we try another port.
        for _ in 0..5 {
            let port = free_port();
            let listen = format!("127.0.0.1:{port}");
            let mut child = self
                .command(&["serve", "--listen", &listen])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn portcullis serve");
            let logs = Arc::new(Mutex::new(String::new()));
            // Drained all along, so the server never blocks on a full pipe, and kept for tests
            // that read the log.
            let drain = {
                let mut stderr = child.stderr.take().expect("stderr piped");
                let logs = logs.clone();
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 8192];
                    while let Ok(n @ 1..) = stderr.read(&mut buffer) {
                        logs.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
                    }
                })
            };
            let mut server = Server {
                child,
                port,
                base: format!("http://127.0.0.1:{port}"),
                logs,
                drain: Some(drain),
            };
            match server.wait_until_healthy() {
                Ok(()) => return server,
                Err(status) if server.logs().contains("cannot listen") => {
                    eprintln!("port {port} was taken ({status}); trying another");
                }
                Err(status) => panic!("server exited early ({status}):\n{}", server.logs()),
            }
        }
        panic!("no free port found for the server");
    }
}

/// What `init --json` printed, field by field, and its log.
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub owner_id: String,
    pub key: String,
    pub secret: String,
    pub token: String,
    /// The whole object, exactly as printed.
    pub json: Value,
    /// What `init` wrote to stderr (its log).
    pub stderr: String,
}

impl Org {
    /// Adds this organization's API key and secret to a request.
    pub fn sign(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("X-API-KEY", &self.key).header("X-API-SECRET", &self.secret)
    }
}

/// A running `portcullis serve`.
pub struct Server {
    child: Child,
    pub port: u16,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    logs: Arc<Mutex<String>>,
    drain: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server has logged so far (all of it once it has exited).
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// SIGKILL, as in a crash, and waits for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.finish_logs();
    }

    /// Sends SIGTERM (a graceful stop) without waiting; see [`Server::wait`].
    pub fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit on its own (panics after a timeout, killing it).
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.finish_logs();
                return status;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("server did not exit within {STOP_TIMEOUT:?}:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Does the server's port still accept connections? It stops once the server has drained
    /// its requests and closed the listener.
    pub fn listening(&self) -> bool {
        std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
    }

    /// Polls `/healthz` until it answers 200; `Err` with the exit status if the process ends
    /// first. Polling waits on the process coming up, not on time passing.
    fn wait_until_healthy(&mut self) -> Result<(), ExitStatus> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.finish_logs();
                return Err(status);
            }
            if healthz_ok(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("server not healthy within {START_TIMEOUT:?}:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Once the process is gone the pipe reaches its end: wait for the last log lines.
    fn finish_logs(&mut self) {
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET /healthz` over a plain socket: usable from sync and async tests alike, with no client
/// runtime.
fn healthz_ok(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}
