//! Accessibility and the no-JavaScript run, in headless Chromium driven over WebDriver against
//! real nginx (`docs/nginx/bincio.conf`), `bincio-api serve` and `bincio-gen watch` on
//! 127.0.0.1, on a public two-member instance with a ride with power, a run, a pool swim, an
//! indoor ride (no GPS), a hike, a ski day and a walk.
//!
//! - axe-core (pinned in `dev/a11y/package-lock.json`, committed under `dev/a11y/vendor/`,
//!   checked against its `SHA256SUMS` here and injected into each page through WebDriver, so
//!   no site ever ships it) runs on one page of every page type the renderer wrote (found by
//!   walking the output, so a new page type cannot be forgotten), the activity page of every
//!   sport, the site's 404 page through nginx, and, logged in through the daemon, settings,
//!   admin, invites and the activity page with its edit dialog and the upload dialog open; in
//!   the light and the dark theme; the feed and a ride also at 390 px. Any serious or
//!   critical violation fails the test, each printed with its rule, target, page and theme.
//! - The keyboard alone: log in, the skip link, every navigation entry and control reached
//!   with Tab and showing a focus indicator, the units and theme switches, the chart's x-axis
//!   radio group, and the edit and upload dialogs (open with Enter, focus inside, Escape
//!   closes and gives focus back).
//! - JavaScript disabled (a second browser with scripts blocked by content setting), at
//!   1280 and 390 px: every page type shows its heading and content, the activity pages their
//!   figures and charts, every navigation entry is on screen, no control that needs a script
//!   is shown, the palette follows the system's light or dark setting, charts and the map
//!   keep their text alternatives, and nothing overflows the viewport (bounding boxes).
//!
//! One browser session per mode is reused for every page to keep the run short. Skipped with
//! a message when a tool is missing, unless `CI=true`.

use crate::browser_e2e::{browser_with, console_errors, start_stack, tools, until};
use crate::nginx::init_instance;
use crate::util::skip_or_fail;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The activities of the instance: one per sport the pages format differently.
const FIXTURES: [&str; 6] = [
    "fit/synth-ride-smart.fit",
    "fit/synth-run.fit",
    "fit/synth-pool-swim.fit",
    "fit/synth-indoor-ride.fit",
    "gpx/synth-hike.gpx",
    "fit/synth-alpine-ski.fit",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed axe-core, after checking it is the file its `SHA256SUMS` names (the one
/// `scripts/update-vendor.sh` verified against the lockfile's sha512) and the pinned version.
fn axe_source() -> String {
    let dir = repo().join("dev/a11y/vendor/axe-core");
    let src = std::fs::read(dir.join("axe.min.js")).unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let want = sums.lines().find_map(|l| l.strip_suffix("  axe.min.js")).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&src)), want, "dev/a11y/vendor/axe-core/axe.min.js");
    // And its version is the one the lockfile pins.
    let json =
        |p: PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let vendored = json(dir.join("package.json"))["version"].clone();
    let lock = json(repo().join("dev/a11y/package-lock.json"));
    assert_eq!(vendored, lock["packages"]["node_modules/axe-core"]["version"], "axe-core version");
    String::from_utf8(src).unwrap()
}

/// Runs axe-core on the page and gives its serious and critical violations, one line each
/// node: rule, target, what is wrong.
/// axe-core on the loaded page in the light and the dark theme, each violation named
/// `{page} [{what}, {theme}]`. The theme is only `<html data-theme>` (what theme.js sets
/// before the first paint and the toggle flips), and the stylesheet has no transition, so
/// the new colours apply at once.
async fn axe_both_themes(c: &Client, src: &str, page: &str, what: &str) -> Vec<String> {
    let mut found = Vec::new();
    for theme in ["light", "dark"] {
        c.execute("document.documentElement.dataset.theme = arguments[0];", vec![json!(theme)])
            .await
            .unwrap();
        for v in axe(c, src).await {
            eprintln!("{page} [{what}, {theme}]: {v}");
            found.push(format!("{page} [{what}, {theme}]: {v}"));
        }
    }
    found
}

async fn axe(c: &Client, src: &str) -> Vec<String> {
    let loaded = c.execute("return typeof window.axe;", vec![]).await.unwrap();
    if loaded != "object" {
        // WebDriver runs the script as a function body, outside the page's CSP.
        c.execute(&format!("{src}\n;window.axe = axe; return true;"), vec![]).await.unwrap();
    }
    let r = c
        .execute_async(
            "var done = arguments[arguments.length - 1];\
             axe.run(document, {resultTypes: ['violations']}).then(function (r) {\
               var out = [];\
               r.violations.forEach(function (v) {\
                 if (v.impact !== 'serious' && v.impact !== 'critical') return;\
                 v.nodes.forEach(function (n) {\
                   out.push(v.impact + ' ' + v.id + ' at ' + n.target.join(' ') + ': ' +\
                     (n.failureSummary || v.help).replace(/\\s+/g, ' '));\
                 });\
               });\
               done(out);\
             }, function (e) { done(['axe failed: ' + e]); });",
            vec![],
        )
        .await
        .unwrap();
    r.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// Runs `js` (a function body) and gives its result as a string.
async fn text(c: &Client, js: &str) -> String {
    match c.execute(js, vec![]).await.unwrap() {
        Value::String(s) => s,
        v => v.to_string(),
    }
}

/// A page path's type: the path with every handle, activity ID, sport, year or page number
/// replaced by `*` (so `/u/dave/sport/running/` and `/u/dave/sport/hiking/` are one type, and
/// so are the translations of the about page).
fn page_type(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = String::from("/");
    for (i, s) in segs.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| segs[j]);
        let variable = *s == "dave"
            || s.chars().any(|c| c.is_ascii_digit())
            || matches!(prev, Some("sport" | "activity" | "u"))
            || (prev == Some("stats") && i > 2)
            || prev == Some("about");
        out.push_str(if variable { "*" } else { s });
        out.push('/');
    }
    out
}

/// One page of every page type in the rendered site (the first in path order), by type.
fn pages_by_type(site: &Path) -> BTreeMap<String, String> {
    let mut paths = Vec::new();
    let mut stack = vec![site.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(site).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                if !rel.starts_with("data") && !rel.starts_with("static") {
                    stack.push(p);
                }
            } else if rel.ends_with("index.html") {
                paths.push(format!("/{}", rel.trim_end_matches("index.html")));
            }
        }
    }
    paths.sort();
    let mut out = BTreeMap::new();
    for p in paths {
        out.entry(page_type(&p)).or_insert(p);
    }
    out
}

/// The IDs of the rendered activities, by sport, from the merged index.
fn activities(data: &Path) -> BTreeMap<String, String> {
    let idx: Value =
        serde_json::from_slice(&std::fs::read(data.join("dave/_merged/index.json")).unwrap())
            .unwrap();
    let mut out = BTreeMap::new();
    for s in idx["shards"].as_array().unwrap() {
        let shard: Value = serde_json::from_slice(
            &std::fs::read(data.join("dave/_merged").join(s["url"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        for a in shard["activities"].as_array().unwrap() {
            let key = if a["track_url"].is_null() {
                format!("{} (no GPS)", a["sport"].as_str().unwrap())
            } else {
                a["sport"].as_str().unwrap().to_owned()
            };
            out.entry(key).or_insert_with(|| a["id"].as_str().unwrap().to_owned());
        }
    }
    out
}

/// Presses and releases one key, as a keyboard does (to whatever has the focus).
async fn press(c: &Client, key: Key) {
    let k = char::from(key);
    let actions = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: k })
        .then(KeyAction::Up { value: k });
    c.perform_actions(actions).await.unwrap();
}

/// What has the focus: tag, then its accessible text (aria-label, else the text a screen reader
/// reads, else its id).
const FOCUSED: &str = "var e = document.activeElement; if (!e || e === document.body) return 'body';\
    var t = (e.getAttribute('aria-label') || e.innerText || e.id || '').trim().replace(/\\s+/g, ' ');\
    return e.tagName.toLowerCase() + ':' + t;";

/// Whether the focused element draws a focus indicator (an outline or a ring).
const FOCUS_VISIBLE: &str = "var e = document.activeElement, s = getComputedStyle(e);\
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';";

/// The page types every run must have rendered (an instance of two members with activities).
const MUST_PAGE_TYPES: [&str; 9] = [
    "/",
    "/u/*/",
    "/u/*/stats/",
    "/u/*/stats/*/",
    "/u/*/athlete/",
    "/stats/",
    "/about/",
    "/login/",
    "/register/",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_keyboard_and_no_javascript_on_every_page_type() {
    let (chromium, driver_bin, nginx, gen_bin) = match tools() {
        Ok(t) => t,
        Err(why) => return skip_or_fail(&why),
    };
    let axe_src = axe_source();
    let tmp = tempfile::tempdir().unwrap();
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&site).unwrap();
    init_instance(&data);
    // A public instance, so anonymous visitors see every page.
    let manifest = data.join("index.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["instance"]["private"] = json!(false);
    std::fs::write(&manifest, m.to_string()).unwrap();
    let mut extract = Command::new(&gen_bin);
    extract.args(["extract", "--quiet", "--handle", "dave", "--output"]).arg(&data);
    for f in FIXTURES {
        extract.arg("--input").arg(repo().join("fixtures/activities").join(f));
    }
    assert!(extract.status().unwrap().success(), "bincio-gen extract");
    // A second member makes it a community instance (feed, community page, sign-in link).
    let eve = Command::new(&gen_bin)
        .args(["extract", "--quiet", "--handle", "eve", "--output"])
        .arg(&data)
        .arg("--input")
        .arg(repo().join("fixtures/activities/fit/synth-walk.fit"))
        .status()
        .unwrap();
    assert!(eve.success(), "bincio-gen extract for eve");

    let stack = start_stack(
        (&driver_bin, &nginx, &gen_bin),
        tmp.path(),
        (&data, &site),
        &[],
        &["login/index.html", "about/index.html"],
    )
    .await;
    let (base, driver) = (stack.base.clone(), &stack.driver);
    let acts = activities(&data);
    assert_eq!(acts.len(), FIXTURES.len(), "one activity per sport: {acts:?}");
    // Every activity page, and the shared pages (written after the users' pages) of the first
    // render: the test must not race the watcher.
    until("every activity page and page type", || async {
        let types = pages_by_type(&site);
        (acts.values().all(|id| site.join(format!("activity/{id}/index.html")).is_file())
            && MUST_PAGE_TYPES.iter().all(|t| types.contains_key(*t)))
        .then_some(())
    })
    .await;

    // The anonymous pages: one of every type, every sport's activity page, the 404 page.
    let by_type = pages_by_type(&site);
    let mut pages: Vec<(String, String)> =
        by_type.iter().map(|(t, p)| (t.clone(), p.clone())).collect();
    for (sport, id) in &acts {
        let path = format!("/activity/{id}/");
        match pages.iter_mut().find(|(_, p)| *p == path) {
            Some((kind, _)) => *kind = format!("activity ({sport})"),
            None => pages.push((format!("activity ({sport})"), path)),
        }
    }
    pages.push(("404 through nginx".to_owned(), "/no/such/page/".to_owned()));
    for must in MUST_PAGE_TYPES {
        assert!(by_type.contains_key(must), "no {must} page rendered: {:?}", by_type.keys());
    }

    let t0 = std::time::Instant::now();
    let c = browser_with(driver, &chromium, &tmp.path().join("profile-js"), json!({})).await;
    let mut violations = Vec::new();
    for (kind, path) in &pages {
        c.goto(&format!("{base}{path}")).await.unwrap();
        violations.extend(axe_both_themes(&c, &axe_src, path, kind).await);
    }
    // At phone width the header and the activity page lay out differently (wrapped navigation,
    // stacked map and figures): the feed and a ride again at 390 px.
    c.set_window_size(390, 900).await.unwrap();
    for path in ["/".to_owned(), format!("/activity/{}/", acts["cycling"])] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        violations.extend(axe_both_themes(&c, &axe_src, &path, "390 px").await);
    }
    c.set_window_size(1280, 1000).await.unwrap();
    eprintln!("axe on {} pages, two themes: {} ms", pages.len() + 2, t0.elapsed().as_millis());
    // nginx answers an unknown path with the site's own 404 page, not its built-in one.
    c.goto(&format!("{base}/no/such/page/")).await.unwrap();
    let h1 = text(&c, "return document.querySelector('main h1').textContent;").await;
    assert!(!h1.trim().is_empty(), "the 404 page's heading");

    // The keyboard on an activity page with a track, as a visitor.
    let ride = &acts["cycling"];
    c.goto(&format!("{base}/activity/{ride}/")).await.unwrap();
    c.execute("document.activeElement && document.activeElement.blur();", vec![]).await.unwrap();
    press(&c, Key::Tab).await;
    assert_eq!(text(&c, FOCUSED).await, "a:Skip to content", "the first Tab stop");
    press(&c, Key::Enter).await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.fragment(), Some("main"), "the skip link jumps to the content");
    c.goto(&format!("{base}/activity/{ride}/")).await.unwrap();
    let mut stops = Vec::new();
    for _ in 0..60 {
        press(&c, Key::Tab).await;
        let f = text(&c, FOCUSED).await;
        if text(&c, FOCUS_VISIBLE).await != "true" {
            violations.push(format!("/activity/{ride}/ [keyboard]: no focus indicator on {f}"));
        }
        if f.starts_with("input:") && f.contains("axis-time") {
            stops.push(f);
            break;
        }
        stops.push(f);
    }
    for want in [
        "a:Feed",
        "a:Stats",
        "a:Athlete",
        "a:Community",
        "a:About",
        "a:Sign in",
        "button:Distance units: km",
        "button:Toggle light or dark theme",
        "input:axis-time",
    ] {
        assert!(stops.iter().any(|s| s == want), "{want} not reached with Tab: {stops:?}");
    }
    // The x-axis radio group: the arrow key switches to distance and the charts follow.
    press(&c, Key::Right).await;
    assert_eq!(text(&c, FOCUSED).await, "input:axis-dist");
    let shown = "return Array.from(document.querySelectorAll('[data-axis]'))\
        .filter(function (e) { return e.offsetParent !== null; })\
        .map(function (e) { return e.dataset.axis; }).join(',');";
    let axes = text(&c, shown).await;
    assert!(axes.contains("dist") && !axes.contains("time"), "charts shown: {axes}");
    // The units and theme switches from the keyboard.
    c.execute("document.querySelector('[data-units-toggle]').focus();", vec![]).await.unwrap();
    let units = "return document.documentElement.dataset.units;";
    let before = text(&c, units).await;
    press(&c, Key::Enter).await;
    let after = text(&c, units).await;
    assert_ne!(before, after, "Enter on the units switch");
    press(&c, Key::Space).await;
    assert_eq!(text(&c, units).await, before, "Space on the units switch");
    c.execute("document.querySelector('[data-theme-toggle]').focus();", vec![]).await.unwrap();
    let theme = "return document.documentElement.dataset.theme;";
    let before = text(&c, theme).await;
    press(&c, Key::Enter).await;
    let after = text(&c, theme).await;
    assert!(before != after && ["light", "dark"].contains(&after.as_str()), "{before} → {after}");

    // Log in with the keyboard alone: type, Tab, type, Enter.
    c.goto(&format!("{base}/login/")).await.unwrap();
    c.execute("document.querySelector('input[name=handle]').focus();", vec![]).await.unwrap();
    c.active_element().await.unwrap().send_keys("dave").await.unwrap();
    press(&c, Key::Tab).await;
    assert!(text(&c, FOCUSED).await.starts_with("input:"), "Tab to the password");
    c.active_element().await.unwrap().send_keys("password-123").await.unwrap();
    press(&c, Key::Enter).await;
    until("login", || async { (c.current_url().await.ok()?.path() != "/login/").then_some(()) })
        .await;

    // As the owner: the member's controls are in the Tab order too, up to the Edit button.
    c.goto(&format!("{base}/activity/{ride}/")).await.unwrap();
    let edit = "[data-open-dialog='edit-dialog']";
    until("the owner's edit button", || async {
        c.find(Locator::Css(edit)).await.ok()?.is_displayed().await.ok()?.then_some(())
    })
    .await;
    let mut stops = Vec::new();
    for _ in 0..40 {
        press(&c, Key::Tab).await;
        let f = text(&c, FOCUSED).await;
        let done = f.ends_with("Edit");
        stops.push(f);
        if done {
            break;
        }
    }
    for want in ["button:↑ Upload", "a:Admin", "a:Settings", "button:Log out", "button:✎ Edit"]
    {
        assert!(stops.iter().any(|s| s == want), "{want} not reached with Tab: {stops:?}");
    }
    // The edit dialog and the upload dialog from the keyboard.
    for (opener, dialog) in
        [(edit, "#edit-dialog"), ("[data-open-dialog='upload-dialog']", "#upload-dialog")]
    {
        c.execute("document.querySelector(arguments[0]).focus();", vec![json!(opener)])
            .await
            .unwrap();
        press(&c, Key::Enter).await;
        let open = format!("return document.querySelector('{dialog}').open;");
        assert_eq!(text(&c, &open).await, "true", "Enter opens {dialog}");
        let inside =
            format!("return document.querySelector('{dialog}').contains(document.activeElement);");
        assert_eq!(text(&c, &inside).await, "true", "focus moves into {dialog}");
        press(&c, Key::Tab).await;
        assert_eq!(text(&c, &inside).await, "true", "Tab stays in {dialog}");
        violations.extend(
            axe_both_themes(&c, &axe_src, &format!("/activity/{ride}/"), &format!("{dialog} open"))
                .await,
        );
        press(&c, Key::Escape).await;
        assert_eq!(text(&c, &open).await, "false", "Escape closes {dialog}");
        let back =
            format!("return document.activeElement === document.querySelector(\"{opener}\");");
        assert_eq!(
            text(&c, &back).await,
            "true",
            "focus returns to the button that opened {dialog}"
        );
    }

    // The pages of a logged-in member and of the admin, both themes.
    let mut member_pages = vec!["/settings/", "/admin/", "/invites/", "/"];
    member_pages
        .retain(|p| *p == "/" || site.join(p.trim_matches('/')).join("index.html").is_file());
    for path in &member_pages {
        c.goto(&format!("{base}{path}")).await.unwrap();
        // The page's script first asks the daemon who is logged in and fills the sections
        // it loads (`data-load`) in.
        until(&format!("{path} for the logged-in member"), || async {
            let ready = "return !!document.querySelector('[data-user-only]:not([hidden])') &&\
                Array.from(document.querySelectorAll('[data-load]')).every(function (e) {\
                  return e.children.length > 0 || e.textContent.trim() !== ''; });";
            (text(&c, ready).await == "true").then_some(())
        })
        .await;
        violations.extend(axe_both_themes(&c, &axe_src, path, "logged in").await);
    }
    let errors: Vec<String> = console_errors(driver, &c)
        .await
        .into_iter()
        .filter(|m| !(m.contains("/api/me - Failed to load resource") && m.contains("40")))
        .filter(|m| !m.contains("/no/such/page/"))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    // JavaScript off: a browser with scripts blocked, desktop and phone width.
    let t0 = std::time::Instant::now();
    let nojs = browser_with(
        driver,
        &chromium,
        &tmp.path().join("profile-nojs"),
        json!({"profile.managed_default_content_settings.javascript": 2}),
    )
    .await;
    let mut broken = Vec::new();
    for width in [1280_u32, 390] {
        nojs.set_window_size(width, 900).await.unwrap();
        for (kind, path) in &pages {
            nojs.goto(&format!("{base}{path}")).await.unwrap();
            let r = nojs.execute(NO_JS_LAYOUT, vec![]).await.unwrap();
            let ctx = format!("{path} [{kind}, no JavaScript, {width} px]");
            assert_eq!(r["scripts"], false, "{ctx}: scripts ran");
            for problem in r["problems"].as_array().unwrap() {
                broken.push(format!("{ctx}: {}", problem.as_str().unwrap()));
            }
            if path.starts_with("/activity/") {
                assert!(r["figures"].as_u64().unwrap() >= 4, "{ctx}: figures {r}");
                if !kind.contains("no GPS") {
                    assert!(r["map"] == true, "{ctx}: track map {r}");
                }
                assert!(r["charts"].as_u64().unwrap() >= 1, "{ctx}: charts {r}");
            }
        }
    }
    eprintln!("no-JavaScript run, two widths: {} ms", t0.elapsed().as_millis());
    drop((c, nojs));
    let mut report = String::new();
    if !violations.is_empty() {
        report += &format!("accessibility violations:\n{}\n", violations.join("\n"));
    }
    if !broken.is_empty() {
        report += &format!("without JavaScript:\n{}\n", broken.join("\n"));
    }
    assert!(report.is_empty(), "{report}");
}

/// The no-JavaScript check of one page (run through WebDriver, which works with the page's
/// scripts blocked): the content, the navigation on screen, no script-only control shown,
/// nothing wider than the viewport, and the activity figures, map and charts drawn.
const NO_JS_LAYOUT: &str = r#"
var vw = document.documentElement.clientWidth, problems = [];
function shown(e) { var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; }
function name(e) { return e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '') + ' "' + (e.getAttribute('aria-label') || e.textContent).trim().slice(0, 30) + '"'; }
var h1 = document.querySelector('main h1');
if (!h1 || !shown(h1) || !h1.textContent.trim()) problems.push('no visible heading in main');
var main = document.querySelector('main');
if (!main || main.innerText.trim().length < 20) problems.push('main is empty');
var nav = Array.from(document.querySelectorAll('header.nav a, header.nav button')).filter(shown);
if (nav.length < 2) problems.push('navigation has ' + nav.length + ' entries');
nav.forEach(function (e) {
  var r = e.getBoundingClientRect();
  if (r.left < -1 || r.right > vw + 1) problems.push('navigation entry off screen: ' + name(e) + ' at ' + Math.round(r.left) + '..' + Math.round(r.right));
});
// Controls that only work with a script must not be offered without one.
Array.from(document.querySelectorAll('[data-theme-toggle], [data-units-toggle], [data-open-dialog], [data-logout]')).filter(shown).forEach(function (e) { problems.push('script-only control shown: ' + name(e)); });
if (document.documentElement.scrollWidth > vw + 1) {
  var wide = Array.from(document.querySelectorAll('main *')).filter(function (e) { var r = e.getBoundingClientRect(); return r.right > vw + 1 && shown(e) && !e.closest('.table-scroll'); }).slice(0, 3).map(name);
  problems.push('page is ' + document.documentElement.scrollWidth + ' px wide in a ' + vw + ' px viewport: ' + wide.join(', '));
}
// Text alternatives: charts and calendars are named images or groups, the map a named region.
Array.from(document.querySelectorAll('svg.chart, svg.heatmap, svg.track-outline, #map:not([hidden])')).forEach(function (e) {
  if (!['img', 'group', 'region'].includes(e.getAttribute('role')) || !(e.getAttribute('aria-label') || '').trim()) problems.push('no text alternative: ' + name(e));
});
// A chart's figures, drawn as text inside the image, are read from its <title> (description).
Array.from(document.querySelectorAll('svg.chart')).forEach(function (e) {
  var t = e.querySelector(':scope > title');
  if (!t || !/\d/.test(t.textContent)) problems.push('chart without its figures as text: ' + name(e));
});
// The palette follows the system's light or dark setting (headless Chromium: light).
var light = matchMedia('(prefers-color-scheme: light)').matches;
var rgb = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
if ((rgb[0] + rgb[1] + rgb[2] > 384) !== light) problems.push('background ' + rgb + ' with a ' + (light ? 'light' : 'dark') + ' system setting');
var figures = Array.from(document.querySelectorAll('.stats-panel dd')).filter(function (e) { return shown(e) && e.textContent.trim(); }).length;
var charts = Array.from(document.querySelectorAll('svg.chart')).filter(shown).length;
var map = !!document.querySelector('#map svg.track-outline') && shown(document.querySelector('#map svg.track-outline'));
return {problems: problems, figures: figures, charts: charts, map: map, scripts: !!document.querySelector('.leaflet-container') || document.documentElement.classList.contains('js')};
"#;
