//! Headless Chromium through ChromeDriver (WebDriver, with fantoccini) for end-to-end console
//! tests, and screenshots into `target/screenshots/`.
//!
//! [`Browser::start`] returns `None` (the test skips with a message) only when Chromium or
//! ChromeDriver is not installed; CI installs both.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

/// A ChromeDriver process and the browser session it drives; both end when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium whose profile lives in `profile_dir`.
    pub async fn start(profile_dir: &Path) -> Option<Browser> {
        let (Some(chromium), Some(driver)) = (
            find(&["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]),
            find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
        ) else {
            eprintln!("skipped: Chromium and ChromeDriver are not installed (apt-get install chromium chromium-driver); CI installs them");
            return None;
        };
        let port = super::free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=1280,1000", format!("--user-data-dir={}", profile_dir.display())]
            }),
        );
        for _ in 0..50 {
            // Plain HTTP to the local chromedriver: no TLS stack needed.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => return Some(Browser { client, driver }),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        panic!("chromedriver did not start");
    }

    /// Saves a screenshot of the page as `target/screenshots/{name}.png`.
    pub async fn shot(&self, name: &str) {
        save_screenshot(&self.client, name).await;
    }

    /// See [`wait_for`].
    pub async fn wait_for(&self, text: &str) -> String {
        wait_for(&self.client, text).await
    }
}

/// Saves a screenshot of `client`'s page as `target/screenshots/{name}.png`.
pub async fn save_screenshot(client: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots directory");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

/// Polls the page until it contains `text` (navigation after a click is asynchronous); returns
/// the page source either way.
pub async fn wait_for(client: &Client, text: &str) -> String {
    let mut source = String::new();
    for _ in 0..100 {
        source = client.source().await.unwrap_or_default();
        if source.contains(text) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    source
}
