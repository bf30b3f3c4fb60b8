//! GraphiQL served from the binary: its assets over HTTP (types, caching, turned off with
//! `graphiql = false`), and a browser test. Headless Chromium opens `/graphql` from a real
//! server with every host but 127.0.0.1 unreachable, waits for the editor, runs the
//! README's first example query by clicking GraphiQL's run button and reads its data in
//! the result pane; then sends a token from GraphiQL's header editor.
//!
//! Chromium is driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`:
//! JSON messages ending in NUL on file descriptors 3 and 4), so the test needs no
//! WebDriver, Node or websocket client. It looks for `chromium` (Debian's package, which
//! `.ci/run` installs), `chromium-browser` or `google-chrome` on `PATH`, or the binary
//! `PARKGRAPH_CHROMIUM` names. Without one it is skipped, except under CI (`CI` set),
//! where a missing browser fails it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use parkgraph::Config;
use parkgraph::config::{KeyConfig, Secret};
use parkgraph_api::graphiql;
use parkgraph_domain::{Role, Scope};
use parkgraph_registry::token::{IssueRequest, issue};
use serde_json::{Value, json};
use tower::ServiceExt;

/// `GET path` as a browser sends it (`GET /graphql` serves the page only to a client that
/// accepts HTML; to others it is GraphQL over HTTP).
async fn get(router: &axum::Router, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::get(path).header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8");
    let response = router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.into_body().collect().await.expect("body").to_bytes().to_vec())
}

fn header_of(headers: &axum::http::HeaderMap, name: header::HeaderName) -> &str {
    headers.get(&name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn graphiql_assets_are_served_from_the_binary_with_long_lived_caching() {
    let test = TestDb::migrated().await;
    let router = parkgraph::app(&Config::default(), test.db.clone()).expect("app builds");

    let (status, headers, page) = get(&router, "/graphql").await;
    assert_eq!(status, StatusCode::OK);
    assert!(header_of(&headers, header::CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
    let policy = header_of(&headers, header::CONTENT_SECURITY_POLICY);
    assert!(policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"), "{policy}");
    let page = String::from_utf8(page).expect("utf-8");
    assert!(!page.contains("https://") && !page.contains("http://"), "{page}");

    for pin in graphiql::pins() {
        let path = pin.served_at();
        assert!(page.contains(&path), "the page does not load {path}");
        let (status, headers, bytes) = get(&router, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(bytes.len(), pin.bytes, "{path}");
        assert_eq!(header_of(&headers, header::CACHE_CONTROL), "public, max-age=31536000, immutable", "{path}");
        assert_eq!(header_of(&headers, header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        let expected = if pin.file.ends_with(".css") { "text/css" } else { "text/javascript" };
        assert!(header_of(&headers, header::CONTENT_TYPE).starts_with(expected), "{path}: {headers:?}");
    }
    let (status, headers, _) = get(&router, "/graphiql/init.js").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");

    // Another version of a pinned file, or a file nobody pinned, is not served.
    for path in ["/graphiql/graphiql@0.0.1/graphiql.min.js", "/graphiql/graphiql@4.1.2/../MANIFEST", "/graphiql/x/y"] {
        assert_eq!(get(&router, path).await.0, StatusCode::NOT_FOUND, "{path}");
    }

    let off = Config { graphiql: false, ..Config::default() };
    let router = parkgraph::app(&off, test.db.clone()).expect("app builds");
    // Off, `GET /graphql` is GraphQL over HTTP only: without a query, a JSON error.
    let (status, headers, _) = get(&router, "/graphql").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(header_of(&headers, header::CONTENT_TYPE).starts_with("application/json"), "{headers:?}");
    for path in graphiql::pins().map(|pin| pin.served_at()).chain(["/graphiql/init.js".to_string()]) {
        assert_eq!(get(&router, &path).await.0, StatusCode::NOT_FOUND, "{path} is served with graphiql = false");
    }
}

/// The first example under "Example queries" in the README.
fn readme_first_example() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let examples = &readme[readme.find("## Example queries").expect("the README has example queries")..];
    let start = examples.find("```graphql\n").expect("an example") + "```graphql\n".len();
    let end = examples[start..].find("```").expect("the example ends");
    examples[start..start + end].to_string()
}

/// The Chromium to drive, or `None` (skip) when there is none outside CI.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PARKGRAPH_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no Chromium on PATH (set PARKGRAPH_CHROMIUM), and CI needs one: apt-get install chromium"
        );
        eprintln!("skipped: no Chromium on PATH (apt-get install chromium, or set PARKGRAPH_CHROMIUM)");
    }
    found
}

/// A headless Chromium spoken to over the DevTools protocol on a pipe.
struct Browser {
    child: Child,
    to_browser: ChildStdin,
    from_browser: mpsc::Receiver<Value>,
    next_id: u64,
    /// Every event received, for the network log and for diagnostics.
    events: Vec<Value>,
    profile: PathBuf,
}

impl Browser {
    fn launch(binary: &Path) -> Self {
        let profile = std::env::temp_dir().join(format!("parkgraph-chromium-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&profile).expect("profile directory");
        let log = std::fs::File::create(profile.join("chromium.log")).expect("log file");
        // The DevTools pipe is file descriptors 3 (commands in) and 4 (answers out): the
        // shell moves this process's pipes there before it becomes Chromium.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(binary)
            .args([
                "--headless",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1400,1000",
                // Offline but for this machine: every other host fails to resolve.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("Chromium starts");
        let to_browser = child.stdin.take().expect("pipe to Chromium");
        let stdout = child.stdout.take().expect("pipe from Chromium");
        let (sender, from_browser) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).unwrap_or(0) > 0 {
                message.pop_if(|byte| *byte == 0);
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    break;
                }
                message.clear();
            }
        });
        Self { child, to_browser, from_browser, next_id: 0, events: Vec::new(), profile }
    }

    /// Sends a command (to the page when `session` is given) and waits for its answer.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("serializes");
        bytes.push(0);
        self.to_browser.write_all(&bytes).and_then(|()| self.to_browser.flush()).expect("Chromium reads commands");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(answer) = self.from_browser.recv_timeout(left) else {
                panic!("Chromium did not answer {method} within 60 s{}", self.diagnostics());
            };
            if answer["id"] == json!(id) {
                if let Some(error) = answer.get("error") {
                    panic!("{method} failed: {error}{}", self.diagnostics());
                }
                return answer["result"].clone();
            }
            self.events.push(answer);
        }
    }

    /// Evaluates JavaScript in the page and returns its value.
    fn eval(&mut self, session: &str, expression: &str) -> Value {
        let result = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw {exception}{}", self.diagnostics());
        }
        result["result"]["value"].clone()
    }

    /// Polls `expression` every 100 ms until it is truthy (not null, false or "").
    fn wait_for(&mut self, session: &str, what: &str, expression: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(session, expression);
            if !matches!(&value, Value::Null | Value::Bool(false)) && value != json!("") {
                return value;
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what}{}", self.diagnostics());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the middle of the element `element` (JavaScript) evaluates to, as a user
    /// with a mouse would, once it is there.
    fn click(&mut self, session: &str, what: &str, element: &str) {
        let probe = format!(
            "(() => {{ const e = {element}; if (!e) return null; \
             const r = e.getBoundingClientRect(); return {{ x: r.x + r.width / 2, y: r.y + r.height / 2 }}; }})()"
        );
        let at = self.wait_for(session, what, &probe, Duration::from_secs(30));
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                Some(session),
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": at["x"], "y": at["y"], "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// URLs the page requested.
    fn requested(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .filter_map(|e| e["params"]["request"]["url"].as_str().map(String::from))
            .collect()
    }

    /// Exceptions, console errors, browser log entries and Chromium's own log.
    fn diagnostics(&self) -> String {
        let mut lines: Vec<String> = self
            .events
            .iter()
            .filter_map(|e| match e["method"].as_str() {
                Some("Runtime.exceptionThrown") => Some(format!("exception: {}", e["params"]["exceptionDetails"])),
                Some("Runtime.consoleAPICalled") if e["params"]["type"] == "error" => {
                    Some(format!("console.error: {}", e["params"]["args"]))
                }
                Some("Log.entryAdded") => Some(format!("log: {}", e["params"]["entry"]["text"])),
                Some("Network.loadingFailed") => Some(format!("failed to load: {}", e["params"])),
                _ => None,
            })
            .collect();
        lines.push(format!("requested: {:?}", self.requested()));
        let log = std::fs::read_to_string(self.profile.join("chromium.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().filter(|l| !l.contains("dbus")).rev().take(20).collect();
        lines.extend(tail.into_iter().rev().map(|l| format!("chromium: {l}")));
        format!("\n{}", lines.join("\n"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.profile).ok();
    }
}

/// The text of the CodeMirror editor `selector` finds.
fn editor_text(selector: &str) -> String {
    format!(
        "(() => {{ const e = document.querySelector({selector:?}); return e && e.CodeMirror ? e.CodeMirror.getValue() : null; }})()"
    )
}

/// Replaces the text of the CodeMirror editor `selector` finds (as pasting would).
fn set_editor_text(selector: &str, text: &str) -> String {
    format!("document.querySelector({selector:?}).CodeMirror.setValue({})", json!(text))
}

const QUERY_EDITOR: &str = ".graphiql-query-editor .CodeMirror";
const RESULT: &str = ".graphiql-response .CodeMirror";
const RUN: &str = "document.querySelector('.graphiql-execute-button')";
const HEADERS_TAB: &str =
    "[...document.querySelectorAll('.graphiql-editor-tools button')].find(b => b.textContent.trim() === 'Headers')";
const SECRET: &str = "graphiql-test-secret-of-at-least-thirty-two-bytes";

/// Waits until the result pane holds an answer that `accept` takes, and returns it.
fn wait_for_result(browser: &mut Browser, session: &str, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = browser.eval(session, &editor_text(RESULT));
        if let Some(answer) = text.as_str().and_then(|t| serde_json::from_str::<Value>(t).ok())
            && accept(&answer)
        {
            return answer;
        }
        if Instant::now() > deadline {
            panic!("no result {what} in the result pane after 60 s (it shows {text}){}", browser.diagnostics());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_the_readme_example_in_a_browser_with_no_internet() {
    let Some(binary) = chromium() else { return };
    let test = TestDb::sample().await;
    let mut config = Config { database_url: test.url.clone(), ..Config::default() };
    config.auth.keys = vec![KeyConfig {
        kid: "graphiql-test".into(),
        algorithm: "HS256".into(),
        secret: Some(Secret(SECRET.into())),
        secret_file: None,
        private_key_file: None,
        public_key_file: None,
    }];
    config.auth.signing_kid = Some("graphiql-test".into());
    config.auth.dev_keys = false;
    let keys = parkgraph::keys::key_set(&config.auth, &config.database_url).expect("keys");
    let request = IssueRequest {
        partner: Some("GraphiQL test".into()),
        role: Role::Partner,
        scopes: Some(Scope::parse_list("read:parks").expect("scopes")),
        ttl: Duration::from_secs(600),
        subject: None,
        description: None,
        issued_by: None,
    };
    let (token, _) = issue(&test.db, &keys, request).await.expect("issues a token");

    let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
    let example = readme_first_example();
    // What the API itself answers to the example, to compare with what GraphiQL shows.
    let payload = json!({ "query": example }).to_string();
    let direct = router
        .clone()
        .oneshot(
            Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(payload))
                .expect("request"),
        )
        .await
        .expect("response");
    let direct: Value =
        serde_json::from_slice(&direct.into_body().collect().await.expect("body").to_bytes()).expect("json");
    let parks = direct["data"]["parks"]["nodes"].as_array().cloned().unwrap_or_default();
    assert!(!parks.is_empty(), "the README's first example finds no park: {direct}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_config = config.server.clone();
    let server = tokio::spawn(async move {
        parkgraph::serve_with(listener, router, &server_config, async {
            stopped.await.ok();
        })
        .await
    });

    let url = format!("http://127.0.0.1:{}/graphql", addr.port());
    let origin = format!("http://127.0.0.1:{}/", addr.port());
    let shown = tokio::task::spawn_blocking(move || {
        let mut browser = Browser::launch(&binary);
        let target = browser.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let attached =
            browser.call(None, "Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true }));
        let session = attached["sessionId"].as_str().expect("a session").to_string();
        let session = session.as_str();
        for domain in ["Network.enable", "Runtime.enable", "Log.enable", "Page.enable"] {
            browser.call(Some(session), domain, json!({}));
        }
        browser.call(Some(session), "Page.navigate", json!({ "url": url }));

        // The editor appears once React, GraphiQL and the explorer have loaded from this server.
        browser.wait_for(
            session,
            "GraphiQL's query editor",
            &format!("!!document.querySelector({QUERY_EDITOR:?})"),
            Duration::from_secs(90),
        );
        browser.wait_for(
            session,
            "the explorer plugin",
            "!!document.querySelector('[aria-label=\"Show GraphiQL Explorer\"]')",
            Duration::from_secs(30),
        );

        // The README's first example, pasted and run with the run button.
        browser.eval(session, &set_editor_text(QUERY_EDITOR, &example));
        browser.click(session, "the run button", RUN);
        let answer = wait_for_result(&mut browser, session, "with parks", |a| a["data"]["parks"].is_object());

        // A token from the header editor reaches the server.
        browser.click(session, "the Headers tab", HEADERS_TAB);
        let headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror";
        browser.wait_for(
            session,
            "the header editor",
            &format!("!!document.querySelector({headers:?})"),
            Duration::from_secs(30),
        );
        let authorization = json!({ "Authorization": format!("Bearer {token}") }).to_string();
        browser.eval(session, &set_editor_text(headers, &authorization));
        browser.eval(session, &set_editor_text(QUERY_EDITOR, "{ viewer { role subject } }"));
        browser.click(session, "the run button", RUN);
        let viewer = wait_for_result(&mut browser, session, "with the viewer", |a| a["data"]["viewer"].is_object());

        let requested = browser.requested();
        (answer, viewer, requested, browser.diagnostics())
    })
    .await;
    stop.send(()).ok();
    let (answer, viewer, requested, diagnostics) = shown.expect("the browser session completes");
    server.await.expect("server task").expect("server stops");

    assert_eq!(answer["data"], direct["data"], "GraphiQL shows other data than the API answers");
    let first = &answer["data"]["parks"]["nodes"][0];
    assert!(first["nameZh"].as_str().is_some_and(|name| name.contains("东湖")), "{answer}");
    assert!(first["enterprises"]["totalCount"].as_u64() > Some(0), "{answer}");
    assert_eq!(viewer["data"]["viewer"]["role"], "PARTNER", "the header editor's token was not sent: {viewer}");

    // Everything the page loaded came from this server: no CDN, no fonts from elsewhere.
    assert!(requested.iter().any(|u| u.contains("/graphiql/graphiql@")), "{diagnostics}");
    for url in &requested {
        assert!(url.starts_with(&origin) || url.starts_with("data:"), "the page requested {url}{diagnostics}");
    }
}
