//! The upload-to-page round trip in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromedriver`, via fantoccini) against real nginx from `docs/nginx/bincio.conf`,
//! `bincio-api serve` and `bincio-gen watch`, all on 127.0.0.1. Everything happens through
//! the generated pages and their script: register with the invite, log in, upload a GPX and
//! a FIT from the upload dialog, see both on the feed, retitle one in the edit dialog, mark
//! the other unlisted, then check the private wall for a fresh anonymous browser.
//!
//! Skipped with a message when chromium, chromedriver, nginx or the bincio-gen binary are
//! missing, unless `CI=true`: there a missing tool fails the test. Screenshots go to
//! `target/e2e-shots/`.

use crate::nginx::{
    Guard, free_port, init_instance, start_daemon_with, start_nginx, start_watcher, wait_port,
    which,
};
use crate::util::skip_or_fail;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long any single wait (a page update after the watcher, an element appearing) may take.
const WAIT: Duration = Duration::from_secs(60);

pub(crate) fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

/// The tools this test needs, or why it cannot run.
pub(crate) fn tools() -> Result<(PathBuf, PathBuf, PathBuf, PathBuf), String> {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or("chromium is not installed (apt-get install chromium)")?;
    let driver = which("chromedriver")
        .map_err(|_| "chromedriver is not installed (apt-get install chromium-driver)")?;
    let nginx =
        which("nginx").map_err(|_| "nginx is not installed (apt-get install nginx-light)")?;
    let gen_bin = Path::new(env!("CARGO_BIN_EXE_bincio-api")).with_file_name("bincio-gen");
    if !gen_bin.is_file() {
        return Err("build bincio-gen first (cargo build --workspace --bins)".to_owned());
    }
    if !samples().is_dir() {
        return Err("../shared/samples is missing".to_owned());
    }
    Ok((chromium, driver, nginx, gen_bin))
}

/// chromedriver, ending its browser sessions when dropped: a SIGTERM to chromedriver alone
/// leaves the Chromium processes it started running, so a failing test would leak them.
pub(crate) struct Driver {
    pub(crate) port: u16,
    pub(crate) sessions: std::sync::Mutex<Vec<String>>,
    pub(crate) _child: Guard,
}

impl Driver {
    /// Starts `chromedriver` (the binary at `bin`) on a free loopback port; wait for the port
    /// (`wait_port(driver.port())`) before opening a session.
    pub(crate) fn start(bin: &Path) -> Driver {
        let port = free_port();
        let child = Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Driver { port, sessions: std::sync::Mutex::new(Vec::new()), _child: Guard(child) }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

/// What every browser test runs: `bincio-api serve` and `bincio-gen watch` on `data` (both
/// with `env`), nginx serving `site` through the shipped config, and chromedriver. Dropping it
/// stops them all.
pub(crate) struct Stack {
    /// `http://127.0.0.1:{port}` of nginx.
    pub(crate) base: String,
    pub(crate) driver: Driver,
    _api: Guard,
    _watch: Guard,
    _nginx: Guard,
}

/// Starts a [`Stack`] and waits for its ports and for the watcher's first render to have
/// written each of `first_render` (paths relative to `site`).
pub(crate) async fn start_stack(
    (driver_bin, nginx, gen_bin): (&Path, &Path, &Path),
    tmp: &Path,
    (data, site): (&Path, &Path),
    env: &[(&str, &str)],
    first_render: &[&str],
) -> Stack {
    let (api_port, web_port) = (free_port(), free_port());
    let _api = start_daemon_with(data, api_port, env);
    let _watch = start_watcher(gen_bin, data, site, env);
    let _nginx = start_nginx(nginx, tmp, site, api_port, web_port);
    let driver = Driver::start(driver_bin);
    wait_port(api_port).await;
    wait_port(web_port).await;
    wait_port(driver.port()).await;
    until("the first render", || async {
        first_render.iter().all(|p| site.join(p).is_file()).then_some(())
    })
    .await;
    Stack { base: format!("http://127.0.0.1:{web_port}"), driver, _api, _watch, _nginx }
}

/// Logs `handle` in (password `password-123`, as `init_instance` and the tests' accounts
/// have it) through the login page, and waits to have left it.
pub(crate) async fn log_in(c: &Client, base: &str, handle: &str) {
    c.goto(&format!("{base}/login/")).await.unwrap();
    fill(c, "input[name=handle]", handle).await;
    fill(c, "input[name=password]", "password-123").await;
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    until("login", || async { (c.current_url().await.ok()?.path() != "/login/").then_some(()) })
        .await;
}

impl Drop for Driver {
    fn drop(&mut self) {
        let sessions =
            std::mem::take(&mut *self.sessions.lock().unwrap_or_else(|e| e.into_inner()));
        for id in sessions {
            // Blocking on purpose (no runtime in Drop); DELETE /session/{id} quits the browser.
            let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return };
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let req = format!(
                "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            );
            if s.write_all(req.as_bytes()).is_ok() {
                // chromedriver answers once the browser has quit; it may keep the connection
                // open after that, so wait for the answer, not for the end of the stream.
                let _ = std::io::Read::read(&mut s, &mut [0_u8; 4096]);
            }
        }
    }
}

/// A new browser session with its own fresh profile (so no cookie is shared between them).
pub(crate) async fn browser(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
    browser_with(driver, chromium, profile, json!({})).await
}

/// [`browser`] with Chromium preferences (`prefs`, e.g. JavaScript blocked for the site).
pub(crate) async fn browser_with(
    driver: &Driver,
    chromium: &Path,
    profile: &Path,
    prefs: Value,
) -> Client {
    let driver_port = driver.port;
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        // Loopback only: any other host name (map tiles, a CDN) fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ];
    let mut args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let caps = json!({
        "browserName": "chrome",
        // Keep the page console so the test can fail on script errors (see `console_errors`).
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": { "binary": chromium, "args": args, "prefs": prefs },
    });
    let Value::Object(caps) = caps else { unreachable!() };
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .unwrap();
    if let Some(id) = c.session_id().await.unwrap() {
        driver.sessions.lock().unwrap().push(id);
    }
    c
}

/// The browser console's errors since the last call, through chromedriver's log endpoint
/// (not part of W3C WebDriver, so fantoccini has no call for it).
pub(crate) async fn console_errors(driver: &Driver, c: &Client) -> Vec<String> {
    let id = c.session_id().await.unwrap().unwrap();
    let body = r#"{"type":"browser"}"#;
    let req = format!(
        "POST /session/{id}/se/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", driver.port)).await.unwrap();
    let mut buf = Vec::new();
    let (status, _, body) = crate::util::roundtrip(&mut s, req.as_bytes(), &mut buf).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Polls `check` every 250 ms until it gives `Some`, panicking with `what` after [`WAIT`].
pub(crate) async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let t0 = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(t0.elapsed() < WAIT, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Clicks the first element matching `css` once the page's script has shown it.
pub(crate) async fn click_visible(c: &Client, css: &str) {
    let el = until(&format!("{css} visible"), || async {
        let el = c.find(Locator::Css(css)).await.ok()?;
        el.is_displayed().await.ok()?.then_some(el)
    })
    .await;
    el.click().await.unwrap();
}

/// Fills a text input (after clearing what the page or a prefill put there).
pub(crate) async fn fill(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// Runs `fetch(path)` in the page and gives the HTTP status (same origin, the page's cookies).
async fn fetch_status(c: &Client, path: &str) -> u64 {
    let v = c
        .execute(
            "return fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.status);",
            vec![json!(path)],
        )
        .await
        .unwrap();
    v.as_u64().unwrap()
}

/// The text of a form's status line (`.form-status`) inside `scope`, prefixed with
/// `error: ` when the page marked it as a failure.
async fn form_status(c: &Client, scope: &str) -> String {
    c.execute(
        "var s = document.querySelector(arguments[0] + ' .form-status'); \
         return s ? (s.classList.contains('error') ? 'error: ' : '') + s.textContent : '';",
        vec![json!(scope)],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Click `form`'s submit button and wait for its status line to start with `status`
/// (`error: ` for a refusal, see [`form_status`]); returns the line.
async fn submit(c: &Client, form: &str, what: &str, status: &str) -> String {
    c.find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(what, || async {
        let s = form_status(c, form).await;
        s.starts_with(status).then_some(s)
    })
    .await
}

/// Every file under `dir` (the generated site is small).
fn walkdir_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

pub(crate) async fn shot(c: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-shots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), c.screenshot().await.unwrap()).unwrap();
}

/// Opens an activity page, waits for the owner's edit button and the dialog's prefill (so
/// the prefill cannot overwrite what we type), and gives back the title it was filled with.
pub(crate) async fn open_edit_dialog(c: &Client, base: &str, id: &str) -> String {
    c.goto(&format!("{base}/activity/{id}/")).await.unwrap();
    click_visible(c, "[data-open-dialog='edit-dialog']").await;
    until("the edit form prefilled from the API", || async {
        let v = c
            .execute(
                "return document.querySelector('#edit-dialog input[name=title]').value;",
                vec![],
            )
            .await
            .ok()?;
        v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
    })
    .await
}

/// Saves the edit dialog and waits for the daemon's answer on the form.
async fn save_edit_dialog(c: &Client) {
    c.find(Locator::Css("#edit-dialog form[data-method='POST'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = until("the edit form's answer", || async {
        let s = form_status(c, "#edit-dialog form[data-method='POST']").await;
        (!s.is_empty() && s != "Working…").then_some(s)
    })
    .await;
    assert!(status.starts_with("Saved"), "edit refused: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_upload_edit_unlist_and_private_wall_in_chromium() {
    let (chromium, driver, nginx, gen_bin) = match tools() {
        Ok(t) => t,
        Err(why) => return skip_or_fail(&why),
    };
    let t_start = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&site).unwrap();
    // init → the first invite link.
    let code = init_instance(&data);
    // The watcher renders the whole site once at start-up; wait for the login page.
    let stack = start_stack(
        (&driver, &nginx, &gen_bin),
        tmp.path(),
        (&data, &site),
        &[],
        &["login/index.html"],
    )
    .await;
    let (base, driver) = (stack.base.clone(), &stack.driver);
    let c = browser(driver, &chromium, &tmp.path().join("profile-alice")).await;

    // Register with the invite: the code comes from the link's query string.
    c.goto(&format!("{base}/register/?code={code}")).await.unwrap();
    let prefilled = c.find(Locator::Css("input[name=code]")).await.unwrap().prop("value").await;
    assert_eq!(prefilled.unwrap().unwrap_or_default(), code);
    fill(&c, "input[name=handle]", "alice").await;
    fill(&c, "input[name=display_name]", "Alice").await;
    fill(&c, "input[name=password]", "password-456").await;
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    until("registration to leave /register/", || async {
        let url = c.current_url().await.ok()?;
        if url.path().starts_with("/register/") {
            let s = form_status(&c, "form").await;
            assert!(!s.starts_with("error: "), "registration refused: {s}");
            return None;
        }
        Some(())
    })
    .await;

    // Log in through the login page. A `next` that leads off the site (an open redirect a
    // phishing link would use) must leave the browser on this origin, on the feed; a
    // same-origin path is followed. Each value is as a link would carry it in the query.
    let origin = base.trim_start_matches("http://").to_owned();
    for (next, lands_on) in [
        ("//evil.invalid/x", "/"),
        ("%2F%2Fevil.invalid%2Fx", "/"),
        ("http://evil.invalid/x", "/"),
        ("/%5Cevil.invalid/x", "/"),
        ("%5C%5Cevil.invalid/x", "/"),
        ("/%09/evil.invalid/x", "/"),
        ("%20//evil.invalid/x", "/"),
        ("javascript:alert(document.domain)", "/"),
        ("/u/alice/", "/u/alice/"),
    ] {
        c.goto(&format!("{base}/login/?next={next}")).await.unwrap();
        fill(&c, "input[name=handle]", "alice").await;
        fill(&c, "input[name=password]", "password-456").await;
        c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
        let url = until(&format!("login with next={next} to leave the login page"), || async {
            let url = c.current_url().await.ok()?;
            if url.path() == "/login/" && url.host_str() == Some("127.0.0.1") {
                let s = form_status(&c, "form").await;
                assert!(!s.starts_with("error: "), "login refused: {s}");
                return None;
            }
            Some(url)
        })
        .await;
        let at = format!("{}:{}", url.host_str().unwrap_or(""), url.port().unwrap_or(80));
        assert_eq!(at, origin, "next={next} sent the browser off the site to {url}");
        assert_eq!(url.path(), lands_on, "next={next}");
    }
    assert_eq!(fetch_status(&c, "/api/me").await, 200, "the browser holds a session");

    // Upload a GPX and a FIT from the upload dialog.
    let gpx = samples().join("brut/1034867910.gpx").canonicalize().unwrap();
    let fit = samples().join("dave/1522560787.fit.gz").canonicalize().unwrap();
    click_visible(&c, "[data-open-dialog='upload-dialog']").await;
    let input = c.find(Locator::Css("#upload-dialog input[type=file]")).await.unwrap();
    input.send_keys(&format!("{}\n{}", gpx.display(), fit.display())).await.unwrap();
    let t_upload = Instant::now();
    c.find(Locator::Css("#upload-dialog button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = until("the upload form's answer", || async {
        let s = form_status(&c, "#upload-dialog").await;
        (!s.is_empty() && s != "Working…").then_some(s)
    })
    .await;
    assert!(status.starts_with("Uploaded"), "upload refused: {status}");

    // Both appear on the feed page (the ids come from the feed JSON the page is built from).
    let ids: Vec<String> = until("two activities on the feed", || async {
        let v = c
            .execute(
                "return fetch('/data/feed.json', {cache: 'no-store'}).then(r => r.ok ? r.json() : null);",
                vec![],
            )
            .await
            .ok()?;
        let ids: Vec<String> = v["activities"]
            .as_array()?
            .iter()
            .filter_map(|a| a["id"].as_str().map(str::to_owned))
            .collect();
        if ids.len() != 2 {
            return None;
        }
        c.goto(&format!("{base}/")).await.ok()?;
        let page = c.source().await.ok()?;
        ids.iter().all(|id| page.contains(&format!("/activity/{id}/"))).then_some(ids)
    })
    .await;
    eprintln!("upload click → both on the feed page: {} ms", t_upload.elapsed().as_millis());
    shot(&c, "feed-after-upload.png").await;

    // Edit a title in the edit dialog: the page changes.
    let old_title = open_edit_dialog(&c, &base, &ids[0]).await;
    fill(&c, "#edit-dialog input[name=title]", "Col du Navigateur").await;
    save_edit_dialog(&c).await;
    until("the new title on the activity page", || async {
        c.goto(&format!("{base}/activity/{}/", ids[0])).await.ok()?;
        let h1 = c.find(Locator::Css("h1")).await.ok()?.text().await.ok()?;
        (h1 == "Col du Navigateur").then_some(())
    })
    .await;
    assert_ne!(old_title, "Col du Navigateur");
    shot(&c, "activity-after-edit.png").await;
    until("the new title on the feed", || async {
        c.goto(&format!("{base}/")).await.ok()?;
        let page = c.source().await.ok()?;
        (page.contains("Col du Navigateur") && !page.contains(&old_title)).then_some(())
    })
    .await;

    // Mark the other unlisted: gone from the feed, the user page and the feed JSON.
    open_edit_dialog(&c, &base, &ids[1]).await;
    let unlisted = c.find(Locator::Css("#edit-dialog input[name=private]")).await.unwrap();
    assert_eq!(unlisted.prop("checked").await.unwrap().as_deref(), Some("false"));
    unlisted.click().await.unwrap();
    save_edit_dialog(&c).await;
    let gone = format!("/activity/{}/", ids[1]);
    let kept = format!("/activity/{}/", ids[0]);
    for listing in ["/", "/u/alice/"] {
        until(&format!("{} left out of {listing}", ids[1]), || async {
            c.goto(&format!("{base}{listing}")).await.ok()?;
            let page = c.source().await.ok()?;
            (!page.contains(&gone) && page.contains(&kept)).then_some(())
        })
        .await;
    }
    let feed = c
        .execute(
            "return fetch('/data/feed.json', {cache: 'no-store'}).then(r => r.text());",
            vec![],
        )
        .await
        .unwrap();
    let feed = feed.as_str().unwrap();
    assert!(feed.contains(&ids[0]) && !feed.contains(&ids[1]), "feed JSON: {feed}");
    // And from every other listing the watcher wrote: only the activity's own page and data
    // (reachable by its link, which is what unlisted means) may still name it.
    let mut naming = Vec::new();
    for entry in walkdir_files(&site) {
        let rel = entry.strip_prefix(&site).unwrap().to_string_lossy().into_owned();
        if rel.contains(ids[1].as_str()) {
            continue;
        }
        if std::fs::read(&entry).unwrap().windows(ids[1].len()).any(|w| w == ids[1].as_bytes()) {
            naming.push(rel);
        }
    }
    assert!(naming.is_empty(), "listings still naming the unlisted activity: {naming:?}");

    // No script error, CSP refusal or bad form attribute on any page this browser opened.
    // `/api/me` answering 401/404 before login is how the pages learn nobody is logged in.
    let errors: Vec<String> = console_errors(driver, &c)
        .await
        .into_iter()
        .filter(|m| !(m.contains("/api/me - Failed to load resource") && m.contains("40")))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    // Private instance: a fresh anonymous browser is sent to the login page for any page
    // and gets 401 for JSON; the logged-in browser gets both.
    let anon = browser(driver, &chromium, &tmp.path().join("profile-anon")).await;
    for page in ["/", "/u/alice/", &kept] {
        anon.goto(&format!("{base}{page}")).await.unwrap();
        let url = anon.current_url().await.unwrap();
        assert_eq!(url.path(), "/login/", "{page} redirected to the login page");
        assert_eq!(url.query(), Some(format!("next={page}").as_str()));
    }
    shot(&anon, "anonymous-login-wall.png").await;
    for json_path in ["/data/feed.json", "/data/alice/_merged/index.json"] {
        assert_eq!(fetch_status(&anon, json_path).await, 401, "anonymous {json_path}");
    }
    assert_eq!(fetch_status(&anon, &format!("/activity/{}/", ids[0])).await, 401);
    for path in
        ["/", "/u/alice/", kept.as_str(), "/data/feed.json", "/data/alice/_merged/index.json"]
    {
        assert_eq!(fetch_status(&c, path).await, 200, "logged in {path}");
    }
    c.goto(&format!("{base}/u/alice/")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/u/alice/");

    // The sessions end (and their browsers quit) when `driver` is dropped, on success or panic.
    drop((anon, c));
    eprintln!("browser end-to-end run: {} ms", t_start.elapsed().as_millis());
}

use crate::strava_standin;

/// Strava in the browser: connect from the upload dialog (the stand-in's authorize page
/// redirects back through the daemon's callback), sync with the dialog following the job,
/// the new activities on the feed, then disconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strava_connect_sync_and_disconnect_in_chromium() {
    let (chromium, driver, nginx, gen_bin) = match tools() {
        Ok(t) => t,
        Err(why) => return skip_or_fail(&why),
    };
    let strava = strava_standin::StandIn::start(strava_standin::generate(25));
    let tmp = tempfile::tempdir().unwrap();
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&site).unwrap();
    let _code = init_instance(&data);
    std::fs::write(
        data.join("dave/strava_credentials.json"),
        json!({"client_id": strava_standin::CLIENT_ID, "client_secret": strava_standin::CLIENT_SECRET}).to_string(),
    )
    .unwrap();
    let stack = start_stack(
        (&driver, &nginx, &gen_bin),
        tmp.path(),
        (&data, &site),
        &[("BINCIO_STRAVA_URL", &strava.url())],
        &["login/index.html"],
    )
    .await;
    let (base, driver) = (stack.base.clone(), &stack.driver);
    let c = browser(driver, &chromium, &tmp.path().join("profile-dave")).await;
    log_in(&c, &base, "dave").await;

    // Connect from the upload dialog: off to the stand-in, back with ?strava=connected.
    click_visible(&c, "[data-open-dialog='upload-dialog']").await;
    click_visible(&c, "[data-strava-connect]").await;
    until("back from Strava, connected", || async {
        let s = form_status(&c, "[data-strava]").await;
        (s == "Strava connected.").then_some(())
    })
    .await;
    assert!(data.join("dave/strava_token.json").is_file());
    let url = c.current_url().await.unwrap();
    assert!(url.query().is_none(), "the ?strava= flag is removed from the address: {url}");
    until("the Connected line", || async {
        let t = c.find(Locator::Css("[data-strava-state]")).await.ok()?.text().await.ok()?;
        t.contains("Connected as Dave Stand-In").then_some(())
    })
    .await;
    shot(&c, "strava-connected").await;

    // Sync: the dialog follows the watcher's job to its end.
    click_visible(&c, "[data-strava-sync]").await;
    let done = until("the sync to finish", || async {
        let s = form_status(&c, "[data-strava]").await;
        assert!(!s.starts_with("error: "), "sync failed: {s}");
        s.contains("from Strava").then_some(s)
    })
    .await;
    assert_eq!(done, "25 new activities from Strava.");
    shot(&c, "strava-synced").await;
    // The newest one is on the feed.
    until("the synced activities on the feed", || async {
        c.goto(&format!("{base}/")).await.ok()?;
        c.source().await.ok()?.contains("Ride number 24").then_some(())
    })
    .await;

    // Disconnect (the page asks first).
    click_visible(&c, "[data-open-dialog='upload-dialog']").await;
    click_visible(&c, "[data-strava-disconnect]").await;
    c.accept_alert().await.unwrap();
    until("the Connect button again", || async {
        let s = form_status(&c, "[data-strava]").await;
        let b = c.find(Locator::Css("[data-strava-connect]")).await.ok()?;
        (s == "Strava disconnected." && b.is_displayed().await.ok()?).then_some(())
    })
    .await;
    assert_eq!(strava.stats().deauthorized, 1);
    assert!(!data.join("dave/strava_token.json").exists());
    // `/api/me` answering 404 on the login page is how pages learn nobody is logged in.
    let errors: Vec<String> = console_errors(driver, &c)
        .await
        .into_iter()
        .filter(|m| !(m.contains("/api/me - Failed to load resource") && m.contains("40")))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

/// Text of the first element matching `css`, once it exists and is not empty.
async fn text_of(c: &Client, css: &str) -> String {
    until(&format!("{css} to show"), || async {
        let t = c.find(Locator::Css(css)).await.ok()?.text().await.ok()?;
        (!t.trim().is_empty()).then_some(t)
    })
    .await
}

/// The admin, settings and invites pages as an admin uses them: tables with human labels
/// and figures that match the data (one activity is three files, and shows as 1), the
/// instance settings form prefilled from `bincio.toml` and saving into it (an invalid value
/// refused naming the key), a confirmation before deleting a member's data (dismissed:
/// nothing deleted), an invite created into the table, the storage of the settings page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_settings_and_invites_pages_in_chromium() {
    let (chromium, driver, nginx, gen_bin) = match tools() {
        Ok(t) => t,
        Err(why) => return skip_or_fail(&why),
    };
    let tmp = tempfile::tempdir().unwrap();
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&site).unwrap();
    init_instance(&data);
    let stack = start_stack(
        (&driver, &nginx, &gen_bin),
        tmp.path(),
        (&data, &site),
        &[],
        &["admin/index.html"],
    )
    .await;
    let (base, driver) = (stack.base.clone(), &stack.driver);
    // One activity of dave's, as extraction leaves it: detail, track and timeseries.
    let acts = data.join("dave/activities");
    std::fs::create_dir_all(&acts).unwrap();
    for f in [
        "2026-05-03T053000Z.json",
        "2026-05-03T053000Z.geojson",
        "2026-05-03T053000Z.timeseries.json",
    ] {
        std::fs::write(acts.join(f), "{}").unwrap();
    }
    let c = browser(driver, &chromium, &tmp.path().join("profile-dave")).await;
    c.goto(&format!("{base}/login/?next=/admin/")).await.unwrap();
    fill(&c, "input[name=handle]", "dave").await;
    fill(&c, "input[name=password]", "password-123").await;
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    until("login to land on /admin/", || async {
        (c.current_url().await.ok()?.path() == "/admin/").then_some(())
    })
    .await;

    // The header carries the instance's name; the owner's empty feed invites an upload.
    c.goto(&format!("{base}/u/dave/")).await.unwrap();
    assert_eq!(text_of(&c, "header .logo").await, "Rides");
    click_visible(&c, ".empty [data-open-dialog=upload-dialog]").await;
    until("the upload dialog to open", || async {
        c.find(Locator::Css("#upload-dialog")).await.ok()?.attr("open").await.ok()?.map(|_| ())
    })
    .await;
    // The shipped nginx config answers a missing page with the site's own 404 page.
    c.goto(&format!("{base}/no/such/page/")).await.unwrap();
    assert_eq!(text_of(&c, "main h1").await, "Not found");
    assert_eq!(c.title().await.unwrap(), "Not found — Rides");
    assert_eq!(fetch_status(&c, "/no/such/page/").await, 404);
    c.goto(&format!("{base}/admin/")).await.unwrap();

    // Members: a table with the real activity count and human labels, no key names.
    let row = "[data-account=users] tr[data-handle=dave]";
    assert_eq!(text_of(&c, &format!("{row} [data-figure=activities]")).await, "1");
    assert_eq!(text_of(&c, &format!("{row} td")).await, "Admin");
    let disk = text_of(&c, "[data-account=disk] p").await;
    assert!(disk.contains("GB used of") && disk.contains("GB free"), "{disk}");
    assert_eq!(text_of(&c, "[data-account=jobs] p").await, "No job is waiting or running.");
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    for raw in ["activities_count", "total_mb", "in_db", "used_gb", "{\""] {
        assert!(!body.contains(raw), "raw key {raw} on the admin page:\n{body}");
    }

    // Settings: prefilled from bincio.toml (name from init, defaults elsewhere).
    until("the settings form to load", || async {
        let f = c.find(Locator::Css("form[data-settings]")).await.ok()?;
        f.attr("aria-busy").await.ok()?.is_none().then_some(())
    })
    .await;
    let value = |css: &'static str| {
        let c = c.clone();
        async move { c.find(Locator::Css(css)).await.unwrap().prop("value").await.unwrap() }
    };
    assert_eq!(value("input[name=name]").await.as_deref(), Some("Rides"));
    assert_eq!(value("select[name=units]").await.as_deref(), Some("metric"));
    assert_eq!(value("input[name=storage_limit_mb]").await.as_deref(), Some("5120"));
    assert_eq!(value("input[name=time_zone]").await.as_deref(), Some("UTC"));
    shot(&c, "admin.png").await;
    let keep = c.find(Locator::Css("input[name=store_originals]")).await.unwrap();
    assert_eq!(keep.prop("checked").await.unwrap().as_deref(), Some("true"));
    // An invalid time zone is refused with the key named, and nothing is written.
    let toml_before = std::fs::read_to_string(data.join("bincio.toml")).unwrap();
    fill(&c, "input[name=time_zone]", "Mars/Olympus_Mons").await;
    let s = submit(&c, "form[data-settings]", "the refusal", "error: ").await;
    assert!(s.contains("time_zone"), "{s}");
    assert_eq!(std::fs::read_to_string(data.join("bincio.toml")).unwrap(), toml_before);
    fill(&c, "input[name=time_zone]", "Europe/Rome").await;
    c.find(Locator::Css("select[name=units]"))
        .await
        .unwrap()
        .select_by_value("imperial")
        .await
        .unwrap();
    fill(&c, "input[name=dem_url]", "https://elevation.example.org").await;
    fill(&c, "[data-key-prefix=strava_] input[name=client_id]", "4242").await;
    let s = submit(&c, "form[data-settings]", "the settings to be saved", "Saved.").await;
    assert!(s.contains("re-rendered"), "units changed, pages re-render: {s}");
    let toml = std::fs::read_to_string(data.join("bincio.toml")).unwrap();
    for line in [
        "units = \"imperial\"",
        "time_zone = \"Europe/Rome\"",
        "dem_url = \"https://elevation.example.org\"",
    ] {
        assert!(toml.contains(line), "{line} not in\n{toml}");
    }
    assert!(toml.contains("strava_client_id = \"4242\""), "{toml}");
    assert!(toml.contains("name = \"Rides\""), "untouched keys stay:\n{toml}");

    // Deleting a member's data asks first; dismissed, nothing is deleted.
    // (Centred first: at the top of the view the sticky header would take the click.)
    let wipe = format!("{row} [data-user-action=wipe]");
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
        vec![json!(wipe)],
    )
    .await
    .unwrap();
    click_visible(&c, &wipe).await;
    let question = c.get_alert_text().await.unwrap();
    assert!(question.contains("@dave") && question.contains("cannot be undone"), "{question}");
    c.dismiss_alert().await.unwrap();
    assert!(acts.join("2026-05-03T053000Z.json").is_file(), "dismissed, yet deleted");

    // Invites: a new invite appears in the table, unused, with its link.
    c.goto(&format!("{base}/invites/")).await.unwrap();
    // `init` made the first one.
    let rows = "[data-account=invites] table tbody tr";
    assert_eq!(text_of(&c, &format!("{rows} td:nth-child(3)")).await, "Unused");
    assert_eq!(c.find_all(Locator::Css(rows)).await.unwrap().len(), 1);
    click_visible(&c, "form[data-invite-create] button").await;
    until("the new invite in the table", || async {
        (c.find_all(Locator::Css(rows)).await.ok()?.len() == 2).then_some(())
    })
    .await;
    for row in c.find_all(Locator::Css(rows)).await.unwrap() {
        let status = row.find(Locator::Css("td:nth-child(3)")).await.unwrap().text().await.unwrap();
        assert_eq!(status, "Unused");
        assert!(row.find(Locator::Css("button[data-copy*='/register/?code=']")).await.is_ok());
    }
    assert!(form_status(&c, "form[data-invite-create]").await.contains("/register/?code="));

    // Settings: storage in words, the display name prefilled.
    c.goto(&format!("{base}/settings/")).await.unwrap();
    assert_eq!(text_of(&c, "[data-account=storage] [data-figure=activities]").await, "1 activity");
    until("the display name prefilled", || async {
        let v = c
            .find(Locator::Css("input[name=display_name]"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()??;
        (!v.is_empty()).then_some(())
    })
    .await;
    // Zones: filled from the maximum heart rate, saved into the member's athlete.yaml, and
    // prefilled again on the next visit.
    until("the zones form to load", || async {
        let f = c.find(Locator::Css("form[data-athlete]")).await.ok()?;
        f.attr("aria-busy").await.ok()?.is_none().then_some(())
    })
    .await;
    fill(&c, "input[name=max_hr]", "190").await;
    click_visible(&c, "[data-zones-fill=hr_zones]").await;
    // The shared rule (`bincioZones` in site.js): cuts at 60/70/80/90 % of the maximum.
    let zone2 = "[data-zones=hr_zones] tbody tr:nth-child(2)";
    let low = c.find(Locator::Css(&format!("{zone2} [data-zone-low]"))).await.unwrap();
    assert_eq!(low.prop("value").await.unwrap().as_deref(), Some("114"));
    c.find(Locator::Css("form[data-athlete] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let s = until("the zones to be saved", || async {
        let s = form_status(&c, "form[data-athlete]").await;
        (s.starts_with("Saved") || s.starts_with("error: ")).then_some(s)
    })
    .await;
    assert!(s.starts_with("Saved"), "{s}");
    let yaml = std::fs::read_to_string(data.join("dave/edits/athlete.yaml")).unwrap();
    assert!(yaml.contains("max_hr: 190"), "{yaml}");
    assert!(yaml.contains("114") && yaml.contains("133") && yaml.contains("171"), "{yaml}");
    c.goto(&format!("{base}/settings/")).await.unwrap();
    until("max_hr prefilled", || async {
        let v =
            c.find(Locator::Css("input[name=max_hr]")).await.ok()?.prop("value").await.ok()??;
        (v == "190").then_some(())
    })
    .await;
    let high = c
        .find(Locator::Css("[data-zones=hr_zones] tbody tr:nth-child(5) [data-zone-high]"))
        .await
        .unwrap();
    // The top zone is open: it ends at the highest heart rate the daemon accepts.
    assert_eq!(high.prop("value").await.unwrap().as_deref(), Some("250"));
    shot(&c, "settings.png").await;

    let errors: Vec<String> = console_errors(driver, &c)
        .await
        .into_iter()
        .filter(|m| !(m.contains("/api/me - Failed to load resource") && m.contains("40")))
        // The missing page and the refused time zone above, on purpose.
        .filter(|m| !(m.contains("/no/such/page/ - Failed to load resource") && m.contains("404")))
        .filter(|m| {
            !(m.contains("/api/admin/settings - Failed to load resource") && m.contains("400"))
        })
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    drop(c);
}
