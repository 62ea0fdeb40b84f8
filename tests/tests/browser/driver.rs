//! Real Chromium, driven through chromedriver: sessions at a given viewport, helpers to wait for
//! what a person would see, and screenshots under `target/screenshots/`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

/// A chromedriver process (and, in its process group, every browser it starts).
pub(crate) struct Driver {
    child: Child,
    url: String,
    profiles: tempfile::TempDir,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers.
    pub(crate) async fn start() -> Driver {
        assert!(
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(),
            "the browser tests need Debian's chromium and chromium-driver: run ./scripts/test, \
             which installs them"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            if let Ok(res) = reqwest::get(format!("{url}/status")).await {
                if res.status().is_success() {
                    break;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Driver {
            child,
            url,
            profiles: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// A new browser with a fresh profile and a viewport of exactly `width`×`height` CSS pixels;
    /// narrow ones are phones (touch, mobile layout).
    pub(crate) async fn browser(&self, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir_in(self.profiles.path()).expect("profile");
        let phone = width < 600;
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=en-US",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {"intl.accept_languages": "en-US,en"},
                "mobileEmulation": {
                    "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "mobile": phone, "touch": phone}
                }
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a browser session");
        Browser {
            client,
            driver: self.url.clone(),
            width,
            height,
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver's browsers live in its process group: end the group, not just the driver,
        // so that a failed test leaves no browser behind.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// One browser window.
pub(crate) struct Browser {
    /// The WebDriver session.
    pub(crate) client: Client,
    /// chromedriver's address, for its Chrome DevTools endpoint.
    driver: String,
    width: u32,
    height: u32,
    _profile: tempfile::TempDir,
}

/// axe-core's script, read once from `tests/axe/node_modules` (`npm ci` there, as scripts/test does).
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("axe/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; the browser tests need axe-core: run ./scripts/test, or npm ci --prefix tests/axe",
                path.display()
            )
        })
    })
}

/// Where the screenshots go: `target/screenshots/` of the workspace (or of `CARGO_TARGET_DIR`).
pub(crate) fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

impl Browser {
    /// Opens `url`.
    pub(crate) async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub(crate) async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `condition` (a JavaScript expression) is truthy; returns its value.
    pub(crate) async fn wait(&self, condition: &str, what: &str) -> Value {
        let script =
            format!("try {{ return ({condition}) || null; }} catch (e) {{ return null; }}");
        let start = Instant::now();
        loop {
            let v = self.js(&script, vec![]).await;
            if !v.is_null() && v != Value::Bool(false) {
                return v;
            }
            if start.elapsed() > PATIENCE {
                let name = format!(
                    "FAILED-{}",
                    what.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                );
                self.shot(&name).await;
                // What the page reported; never the live connection (it holds the token).
                let state = self
                    .js(
                        "const m = window.makerpulse; return JSON.stringify({errors: m?.errors, csp: m?.csp, missing: [...(m?.missing || [])], toasts: [...document.querySelectorAll('.toast')].map(t => t.textContent)});",
                        vec![],
                    )
                    .await;
                panic!("timed out waiting for {what} ({condition}); page state: {state}");
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Clicks the first element matching `css`, as a person would (it must be visible). A page
    /// that rebuilds the element between the find and the click (a live update redraws it in
    /// place) is clicked again: a person's click would land on the new one.
    pub(crate) async fn click(&self, css: &str) {
        for attempt in 1.. {
            self.wait(&format!("document.querySelector({css:?})"), css)
                .await;
            let clicked = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.click().await,
                Err(e) => Err(e),
            };
            match clicked {
                Ok(_) => return,
                Err(e) if attempt < 3 && e.to_string().contains("stale element") => continue,
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Types `text` into the first element matching `css`.
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        self.wait(&format!("document.querySelector({css:?})"), css)
            .await;
        self.client
            .find(Locator::Css(css))
            .await
            .expect("element")
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Saves a screenshot as `target/screenshots/{name}-{width}x{height}.png`.
    pub(crate) async fn shot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = screenshot_dir().join(format!("{name}-{}x{}.png", self.width, self.height));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Reads the QR code drawn by the first element matching `css` as a phone's camera would:
    /// from a screenshot of the element, through a QR decoder. Returns the decoded text.
    pub(crate) async fn read_qr(&self, css: &str) -> String {
        self.wait(&format!("document.querySelector({css:?})"), css)
            .await;
        self.js(
            "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })",
            vec![Value::String(css.to_owned())],
        )
        .await;
        let element = self.client.find(Locator::Css(css)).await.expect("element");
        let png = element.screenshot().await.expect("element screenshot");
        let picture = image::load_from_memory(&png)
            .expect("a PNG screenshot")
            .to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(picture);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "{css}: one QR code in the picture");
        let (_, text) = grids[0]
            .decode()
            .unwrap_or_else(|e| panic!("{css}: the QR code does not decode: {e:?}"));
        text
    }

    /// Asserts the page reported no error, no Content-Security-Policy violation and no missing
    /// message key.
    pub(crate) async fn assert_clean(&self, page: &str) {
        let state = self
            .js(
                "const m = window.makerpulse; return m ? {errors: m.errors, csp: m.csp, missing: [...m.missing]} : null;",
                vec![],
            )
            .await;
        assert!(!state.is_null(), "{page}: the page did not start");
        for key in ["errors", "csp", "missing"] {
            assert_eq!(state[key], json!([]), "{page}: {key}");
        }
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
    pub(crate) async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self
            .client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let res = reqwest::Client::new()
            .post(format!(
                "{}/session/{session}/goog/cdp/execute",
                self.driver
            ))
            .json(&json!({"cmd": cmd, "params": params}))
            .send()
            .await
            .expect("cdp");
        let status = res.status();
        let body: Value = res.json().await.expect("cdp json");
        assert!(status.is_success(), "{cmd}: {body}");
        body["value"].clone()
    }

    /// Emulates the media features `features` (`[("prefers-color-scheme", "light"), …]`) for
    /// this window, across navigations, as the system's settings would set them.
    pub(crate) async fn emulate(&self, features: &[(&str, &str)]) {
        let features: Vec<Value> = features
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": features }),
        )
        .await;
    }

    /// Runs axe-core (tests/axe, installed by scripts/test) on the page once its transitions and
    /// finite animations have ended (a colour half-way through a transition is no finding), and
    /// returns its violations, each `{id, impact, help, nodes: [{target, summary}]}`.
    pub(crate) async fn axe(&self) -> Vec<Value> {
        let loaded = self
            .js("return typeof window.axe === 'object'", vec![])
            .await;
        if loaded != Value::Bool(true) {
            // Run through WebDriver, so the page's Content-Security-Policy does not apply.
            self.js(axe_source(), vec![]).await;
        }
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 const settling = document.getAnimations().filter((a) => a.effect?.getTiming().iterations !== Infinity); \
                 Promise.all(settling.map((a) => a.finished.catch(() => null))) \
                 .then(() => axe.run(document, {resultTypes: ['violations']})) \
                 .then((r) => done(r.violations.map((v) => ({ \
                   id: v.id, impact: v.impact, help: v.help, \
                   nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary})) })))) \
                 .catch((e) => done({error: String(e)}));",
                vec![],
            )
            .await
            .expect("axe.run");
        match result {
            Value::Array(violations) => violations,
            other => panic!("axe failed: {other}"),
        }
    }

    /// Ends the session and its browser.
    pub(crate) async fn close(self) {
        let _ = self.client.close().await;
    }
}
