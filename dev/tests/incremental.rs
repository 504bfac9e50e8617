//! Speed never costs correctness: after each kind of change, the site as the watcher's
//! incremental job left it is byte-identical (nothing normalised) to a full render of the
//! same data into an empty folder; and a new activity rewrites only a handful of files,
//! counted on disk, because feed pages are stable (`docs/site.md`, "Feed pages").
//!
//! The instance is generated in BAS form by `bench build`'s generator (two users with more
//! activities than a feed page holds, so every feed has archive pages), the jobs are real
//! queue requests run by `bincio_gen::queue::drain`, as `bincio-gen watch` runs them.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bincio_bas::queue::QueueRequest;
use bincio_bas::queue::{JobState, JobStatus};
use bincio_dev::bench::build::{add_activity, generate_instance};
use bincio_gen::queue::{BackgroundOutcome, Lanes, WatchSettings, drain, watch};
use bincio_gen::site::{self, SiteOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const SAMPLES: usize = 20;

/// Every file under `dir`, by path relative to it.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Paths whose content differs between two trees (added, removed or changed).
fn changed(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).cloned().collect()
}

/// The archive pages of a feed (`u/user00/page/`, `page/`, `data/feed-`), oldest first:
/// each names its oldest activity, whose ID starts with its start time.
fn archive_pages(files: &BTreeMap<String, Vec<u8>>, prefix: &str) -> Vec<String> {
    let mut pages: Vec<String> = files
        .keys()
        .filter(|p| p.starts_with(prefix))
        .filter(|p| p.ends_with("/index.html") || p.ends_with(".json"))
        .filter(|p| !p[prefix.len()..].trim_end_matches("/index.html").contains('/'))
        .cloned()
        .collect();
    pages.sort();
    pages
}

/// An old change (an activity near the oldest end of the combined feed added, hidden or
/// removed) touches few of each combined feed's archive pages: the page it falls into, which
/// may be cut and named anew, and its neighbours' links, at most six paths in all (a renamed
/// page counts twice, gone and new); never the newest three, which every older change
/// rewrote when pages were counted from the oldest end (`site::paging`).
fn assert_few_archive_pages_rewritten(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) {
    let written = changed(before, after);
    for feed in ["page/", "data/feed-"] {
        let pages = archive_pages(before, feed);
        let touched: Vec<&String> = written.iter().filter(|p| p.starts_with(feed)).collect();
        assert!(pages.len() >= 6, "{feed}: {pages:?}");
        assert!(touched.len() <= 6, "{feed}: {touched:?} of {pages:?}");
        for newer in &pages[pages.len() - 3..] {
            assert!(!written.contains(newer), "{feed}: {newer} in {touched:?}");
        }
    }
}

fn opts(data: &Path, out: &Path) -> SiteOptions {
    SiteOptions {
        data_dir: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        theme_dir: None,
        handle: None,
        tile_url: None,
    }
}

/// Write a request as the daemon does (temp + rename) and run the queue as the watcher does,
/// with the same settings (so the same users kept in memory) from job to job.
fn job(settings: &WatchSettings, job_id: &str, handle: &str, change: &str, files: &[&str]) {
    let data = settings.site.data_dir.as_path();
    let q = data.join("_queue");
    std::fs::create_dir_all(&q).unwrap();
    let body = serde_json::json!({
        "job_id": job_id, "handle": handle, "change": change,
        "created_at": "2026-02-01T10:00:00Z", "files": files,
    });
    std::fs::write(q.join(format!(".{job_id}.tmp")), body.to_string()).unwrap();
    std::fs::rename(q.join(format!(".{job_id}.tmp")), q.join(format!("{job_id}.json"))).unwrap();
    assert_eq!(drain(settings).unwrap(), 1);
    let st: JobStatus = serde_json::from_slice(
        &std::fs::read(data.join("_queue/status").join(format!("{job_id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(st.state, JobState::Done, "{job_id}: {}", st.message);
}

/// The incremental output equals a full render of the same data into an empty folder.
fn assert_same_as_full_render(data: &Path, out: &Path, scratch: &Path, step: &str) {
    let full = scratch.join(format!("full-{step}"));
    site::build(&opts(data, &full)).unwrap();
    let (inc, fresh) = (tree(out), tree(&full));
    let diff = changed(&inc, &fresh);
    assert!(
        diff.is_empty(),
        "after {step}: incremental ≠ full render in {} files: {diff:?}",
        diff.len()
    );
    std::fs::remove_dir_all(&full).unwrap();
}

fn sidecar(data: &Path, handle: &str, id: &str, yaml: &str) {
    let edits = data.join(handle).join("edits");
    std::fs::create_dir_all(&edits).unwrap();
    std::fs::write(edits.join(format!("{id}.md")), format!("---\n{yaml}\n---\n")).unwrap();
}

#[test]
fn incremental_jobs_equal_a_full_render_and_a_new_activity_rewrites_few_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    // 3 × 110: a user feed has 2 or 3 archive pages (47 cards each on average), the combined
    // feed and the combined JSON feed about 7. Three users, so that the site stays a
    // multi-user one when one of them is deleted.
    generate_instance(&data, 3, 110, SAMPLES).unwrap();
    // The watcher's start-up render, with the users it loads kept for the jobs.
    let w = WatchSettings::new(opts(&data, &out), Duration::from_secs(1));
    site::render::build_cached(&opts(&data, &out), &mut w.loaded.lock().unwrap()).unwrap();
    let start = tree(&out);
    assert!(archive_pages(&start, "u/user00/page/").len() >= 2);
    assert!(archive_pages(&start, "page/").len() >= 5);
    assert!(archive_pages(&start, "data/feed-").len() >= 5);

    // A new activity (newer than all): of each feed, only the newest archive page changes,
    // and the whole job rewrites a handful of files.
    let before = tree(&out);
    let newest = add_activity(&data.join("user00"), "user00", 0, -1, SAMPLES).unwrap();
    job(&w, "upload-newest", "user00", "upload", &[]);
    let after = tree(&out);
    let written = changed(&before, &after);
    for feed in ["u/user00/page/", "page/", "data/feed-"] {
        let pages = archive_pages(&before, feed);
        let newest_page = pages.last().unwrap();
        for page in &pages[..pages.len() - 1] {
            assert!(!written.contains(page), "{page} was rewritten: {written:?}");
        }
        assert!(written.contains(newest_page), "{newest_page}: {written:?}");
    }
    assert!(written.contains(&format!("activity/{}/index.html", newest.id)), "{written:?}");
    assert!(
        written.len() <= 30,
        "{} files written for one new activity: {written:?}",
        written.len()
    );
    assert_same_as_full_render(&data, &out, tmp.path(), "upload");

    // An edit of the title of an activity on an archive page.
    let old_id = bincio_bas::Timestamp::from_unix_ms(1_767_225_600_000 - 90 * 61_200_000, 3600)
        .unwrap()
        .id_part();
    assert!(data.join(format!("user00/activities/{old_id}.json")).is_file(), "{old_id}");
    sidecar(&data, "user00", &old_id, "title: \"Renamed ride\"");
    job(&w, "edit-title", "user00", "edit", &[]);
    assert!(
        std::fs::read_to_string(out.join(format!("activity/{old_id}/index.html")))
            .unwrap()
            .contains("Renamed ride")
    );
    assert_same_as_full_render(&data, &out, tmp.path(), "edit");

    // The other user changes the sport of one of their activities: the instance's stats
    // (per-sport totals, a sport page more, the members table) and the community page
    // change, from a job that renders only user01.
    let stats = |rel: &str| std::fs::read_to_string(out.join(rel)).unwrap_or_default();
    let (stats_before, community_before) =
        (stats("stats/index.html"), stats("community/index.html"));
    assert!(!out.join("stats/swimming/index.html").exists());
    let other_id =
        bincio_bas::Timestamp::from_unix_ms(1_767_225_600_000 - 90 * 61_200_000 - 3_600_000, 3600)
            .unwrap()
            .id_part();
    assert!(data.join(format!("user01/activities/{other_id}.json")).is_file(), "{other_id}");
    sidecar(&data, "user01", &other_id, "sport: swimming");
    job(&w, "edit-sport-other-user", "user01", "edit", &[]);
    assert!(out.join("stats/swimming/index.html").is_file());
    assert_ne!(stats("stats/index.html"), stats_before);
    assert_ne!(stats("community/index.html"), community_before);
    assert_same_as_full_render(&data, &out, tmp.path(), "edit-other-user");

    // Privacy: the same activity becomes private (unlisted), then public again; the
    // instance's stats count it no more, then again.
    let stats_before = stats("stats/index.html");
    let before = tree(&out);
    sidecar(&data, "user00", &old_id, "title: \"Renamed ride\"\nprivate: true");
    job(&w, "privacy-private", "user00", "edit", &[]);
    // An old activity leaving the feeds rewrites the archive page it was on and few others,
    // not every newer page.
    assert_few_archive_pages_rewritten(&before, &tree(&out));
    assert!(!out.join(format!("activity/{old_id}/index.html")).exists());
    assert!(!stats("stats/index.html").contains("Renamed ride"));
    assert_ne!(stats("stats/index.html"), stats_before);
    assert_same_as_full_render(&data, &out, tmp.path(), "private");
    sidecar(&data, "user00", &old_id, "title: \"Renamed ride\"\nprivate: false");
    job(&w, "privacy-public", "user00", "edit", &[]);
    assert!(out.join(format!("activity/{old_id}/index.html")).is_file());
    assert!(stats("stats/index.html").contains("Renamed ride"));
    assert_same_as_full_render(&data, &out, tmp.path(), "public");

    // A back-dated activity (older than all) for the other user.
    let old = add_activity(&data.join("user01"), "user01", 1, 500, SAMPLES).unwrap();
    let before = tree(&out);
    job(&w, "upload-backdated", "user01", "upload", &[]);
    assert_few_archive_pages_rewritten(&before, &tree(&out));
    assert!(out.join(format!("activity/{}/index.html", old.id)).is_file());
    assert_same_as_full_render(&data, &out, tmp.path(), "backdated");

    // A real upload through extraction (a GPX recorded long before the generated ones).
    let gpx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/activities/gpx");
    let file = std::fs::read_dir(&gpx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gpx"))
        .min()
        .expect("a GPX fixture");
    let originals = data.join("user01/originals/job1");
    std::fs::create_dir_all(&originals).unwrap();
    std::fs::copy(&file, originals.join("ride.gpx")).unwrap();
    job(&w, "upload-gpx", "user01", "upload", &["originals/job1/ride.gpx"]);
    assert_same_as_full_render(&data, &out, tmp.path(), "extracted-upload");

    // A delete (the daemon removes the activity's files): the newest one goes again.
    for ext in ["json", "geojson", "timeseries.json"] {
        std::fs::remove_file(data.join(format!("user00/activities/{}.{ext}", newest.id))).unwrap();
    }
    job(&w, "delete-newest", "user00", "delete", &[]);
    assert!(!out.join(format!("activity/{}/index.html", newest.id)).exists());
    assert_same_as_full_render(&data, &out, tmp.path(), "delete");

    // A deleted account (the daemon removes the folder and queues a rebuild): the shared
    // pages (feeds, instance stats, community) forget the user.
    let stats_before = stats("stats/index.html");
    std::fs::remove_dir_all(data.join("user02")).unwrap();
    job(&w, "delete-account", "user02", "rebuild", &[]);
    assert!(!out.join("u/user02/index.html").exists());
    assert_ne!(stats("stats/index.html"), stats_before);
    assert_same_as_full_render(&data, &out, tmp.path(), "deleted-user");
}

/// Every page shows the site's shell (a single-user site's navigation leads to its one user,
/// a multi-user site's to everyone): when an account's job turns a two-member site into a
/// single-user one, or back, the other member's pages change too, and the job renders them.
#[test]
fn a_job_that_changes_the_site_shell_renders_every_user() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    generate_instance(&data, 3, 8, SAMPLES).unwrap();
    let w = WatchSettings::new(opts(&data, &out), Duration::from_secs(1));
    site::render::build_cached(&opts(&data, &out), &mut w.loaded.lock().unwrap()).unwrap();
    let nav = |rel: &str| std::fs::read_to_string(out.join(rel)).unwrap();
    assert!(nav("u/user00/index.html").contains(r#"data-single-user="false""#));

    // A third member leaving a multi-user site changes no shell, so the job renders none of
    // the others' pages: one of user00's, taken away meanwhile, is not written again.
    let page = out.join("u/user00/index.html");
    let bytes = std::fs::read(&page).unwrap();
    std::fs::remove_file(&page).unwrap();
    std::fs::rename(data.join("user02"), tmp.path().join("user02-gone")).unwrap();
    job(&w, "delete-third", "user02", "rebuild", &[]);
    assert!(!page.exists(), "a member leaving re-rendered the other members' pages");
    std::fs::write(&page, bytes).unwrap();
    assert_same_as_full_render(&data, &out, tmp.path(), "third-gone");

    // The daemon deletes user01's folder and queues a rebuild: user00 is alone.
    let kept = tmp.path().join("user01-kept");
    std::fs::rename(data.join("user01"), &kept).unwrap();
    job(&w, "delete-account", "user01", "rebuild", &[]);
    assert!(nav("u/user00/index.html").contains(r#"data-single-user="true""#));
    assert_same_as_full_render(&data, &out, tmp.path(), "single-user");

    // A second account again: user00's pages return to the multi-user shell.
    std::fs::rename(&kept, data.join("user01")).unwrap();
    job(&w, "new-account", "user01", "rebuild", &[]);
    assert!(nav("u/user00/index.html").contains(r#"data-single-user="false""#));
    assert_same_as_full_render(&data, &out, tmp.path(), "multi-user-again");
}

/// Background work of the lane test: it finishes only once the user's edit, queued after it,
/// is done, which it cannot be if background work runs in front of user jobs (it then gives
/// up after a minute and the job fails, saying so).
fn wait_for_the_user_job(
    settings: &WatchSettings,
    _request: &QueueRequest,
) -> Result<BackgroundOutcome, String> {
    let status = settings.site.data_dir.join("_queue/status/user-edit.json");
    for _ in 0..3000 {
        let done = std::fs::read(&status)
            .ok()
            .and_then(|b| serde_json::from_slice::<JobStatus>(&b).ok())
            .is_some_and(|s| s.state == JobState::Done);
        if done {
            return Ok(BackgroundOutcome {
                message: "3 activities synced".to_owned(),
                files: vec![],
                new_activity_ids: vec![],
                resume_at: None,
                failures: vec![],
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("the user's job never ran while this one worked".to_owned())
}

#[test]
fn a_background_job_runs_beside_user_jobs_not_in_front_of_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    generate_instance(&data, 1, 5, SAMPLES).unwrap();
    let q = data.join("_queue");
    std::fs::create_dir_all(&q).unwrap();
    // The long job is queued first, the user's edit after it.
    for (job_id, at, activity) in [
        ("long-sync", "2026-02-01T10:00:00Z", "background"),
        ("user-edit", "2026-02-01T10:00:05Z", "none"),
    ] {
        let body = serde_json::json!({
            "job_id": job_id, "handle": "user00", "change": "rebuild",
            "created_at": at, "activity_id": activity,
        });
        std::fs::write(q.join(format!("{job_id}.json")), body.to_string()).unwrap();
    }
    let mut settings = WatchSettings::new(opts(&data, &out), Duration::from_secs(1));
    settings.lanes = Lanes {
        is_background: |r| r.activity_id.as_deref() == Some("background"),
        work: wait_for_the_user_job,
    };
    watch(&settings, true).unwrap();
    let status = |job: &str| -> JobStatus {
        serde_json::from_slice(
            &std::fs::read(q.join("status").join(format!("{job}.json"))).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(status("user-edit").state, JobState::Done);
    let long = status("long-sync");
    assert_eq!(long.state, JobState::Done, "{}", long.message);
    assert!(long.message.starts_with("done: 3 activities synced; "), "{}", long.message);
    assert!(!q.join("long-sync.json").exists() && !q.join("user-edit.json").exists());
    assert!(out.join("u/user00/index.html").is_file());
}

/// A full build whose inputs did not change decides so from file metadata and writes
/// nothing (`site::inputs`); each kind of change after it is seen, and the site is then the
/// same as a full render of the new data into an empty folder.
#[test]
fn a_no_change_full_build_stops_early_and_every_change_is_still_seen() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    generate_instance(&data, 2, 12, SAMPLES).unwrap();
    let theme = tmp.path().join("theme");
    bincio_gen::theme::Theme::embedded().eject(&theme).unwrap();
    let o = SiteOptions { theme_dir: Some(theme.clone()), ..opts(&data, &out) };
    let first = site::build(&o).unwrap();
    assert!(!first.unchanged_inputs);
    // Nothing changed: nothing loaded, nothing written, the counts are the last build's.
    let again = site::build(&o).unwrap();
    assert!(again.unchanged_inputs, "a no-change build loaded the instance");
    assert_eq!((again.files_written, again.pages), (0, first.pages));
    let feed: bincio_bas::UserFeed =
        serde_json::from_slice(&std::fs::read(data.join("user00/index.json")).unwrap()).unwrap();
    let id = feed.activities[3].id.clone();
    let page = out.join(format!("activity/{id}/index.html"));

    // Each change, then: the build is a real one, its output equals a full render of the
    // data, and the next build stops early again.
    let check = |step: &str, expect: &dyn Fn() -> bool| {
        let r = site::build(&o).unwrap();
        assert!(!r.unchanged_inputs, "{step}: the change was not seen");
        assert!(expect(), "{step}: the site does not show the change");
        let full = tmp.path().join(format!("full-{step}"));
        site::build(&SiteOptions { out_dir: full.clone(), ..o.clone() }).unwrap();
        let diff = changed(&tree(&out), &tree(&full));
        assert!(diff.is_empty(), "after {step}: ≠ full render in {diff:?}");
        std::fs::remove_dir_all(&full).unwrap();
        assert!(
            site::build(&o).unwrap().unchanged_inputs,
            "{step}: the next build was not skipped"
        );
    };

    // A theme file edited in place (same folder, no rename).
    let base = theme.join("templates/base.html");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, text.replacen("<body", "<!-- theme edit --><body", 1)).unwrap();
    check("theme", &|| std::fs::read_to_string(&page).unwrap().contains("<!-- theme edit -->"));

    // The instance configuration.
    std::fs::write(data.join("bincio.toml"), "name = \"Renamed instance\"\n").unwrap();
    check("config", &|| std::fs::read_to_string(&page).unwrap().contains("Renamed instance"));

    // A sidecar written, then edited in place with a title of the same length.
    sidecar(&data, "user00", &id, "title: \"Sidecar AAAA\"");
    check("sidecar", &|| std::fs::read_to_string(&page).unwrap().contains("Sidecar AAAA"));
    let path = data.join(format!("user00/edits/{id}.md"));
    {
        use std::io::{Seek, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        f.seek(std::io::SeekFrom::Start(text.find("AAAA").unwrap() as u64)).unwrap();
        f.write_all(b"BBBB").unwrap();
    }
    check("sidecar-in-place", &|| std::fs::read_to_string(&page).unwrap().contains("Sidecar BBBB"));

    // An activity deleted from the store.
    for ext in ["json", "geojson", "timeseries.json"] {
        std::fs::remove_file(data.join(format!("user00/activities/{id}.{ext}"))).unwrap();
    }
    check("deleted-activity", &|| !page.exists());

    // A file deleted from the output.
    let other = out.join("u/user01/index.html");
    std::fs::remove_file(&other).unwrap();
    check("deleted-output", &|| other.is_file());
}

/// The `<title>` texts of a stats page's calendar cells (day tooltips), unescaped, by the
/// day they start with (`Wed 31 Dec 2025`, the text before ` — `).
fn day_tooltips(html: &str) -> BTreeMap<String, Vec<String>> {
    let svg: String = html.split("<svg class=\"heatmap\"").skip(1).collect();
    let mut out = BTreeMap::new();
    for part in svg.split("<title>").skip(1) {
        let text = part.split("</title>").next().unwrap();
        let text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        let mut lines = text.split('\n').map(str::to_owned);
        let head = lines.next().unwrap();
        let day = head.split(" — ").next().unwrap().to_owned();
        out.insert(day, lines.collect());
    }
    out
}

/// A day on the instance's `/stats/` shared by many members lists its first activities
/// (`INSTANCE_DAY_LINES`, members in handle order) and how many more there are, so the page
/// does not grow with the number of members; a member's own stats list every activity; and
/// a job that edits a title keeps the bounded page equal to a full render's.
#[test]
fn a_busy_day_on_the_instance_stats_lists_its_first_activities_and_how_many_more() {
    use bincio_gen::site::pages::user::INSTANCE_DAY_LINES;
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    // Activity i of user u starts i × 17 h + u hours before 2026: eight members' activities
    // fall on the same days.
    let users = 8;
    generate_instance(&data, users, 4, SAMPLES).unwrap();
    let w = WatchSettings::new(opts(&data, &out), Duration::from_secs(1));
    site::render::build_cached(&opts(&data, &out), &mut w.loaded.lock().unwrap()).unwrap();
    let read = |rel: &str| std::fs::read_to_string(out.join(rel)).unwrap();
    let check = |step: &str| {
        let instance = day_tooltips(&read("stats/index.html"));
        // Each member's own lines of each day, in handle order.
        let mut own: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for u in 0..users {
            for (day, lines) in day_tooltips(&read(&format!("u/user{u:02}/stats/index.html"))) {
                own.entry(day).or_default().extend(lines);
            }
        }
        assert_eq!(instance.keys().collect::<Vec<_>>(), own.keys().collect::<Vec<_>>(), "{step}");
        let mut bounded = 0;
        for (day, lines) in &instance {
            let all = &own[day];
            if all.len() <= INSTANCE_DAY_LINES {
                assert_eq!(lines, all, "{step}: {day}");
                continue;
            }
            bounded += 1;
            assert_eq!(lines.len(), INSTANCE_DAY_LINES + 1, "{step}: {day}: {lines:?}");
            assert_eq!(lines[..INSTANCE_DAY_LINES], all[..INSTANCE_DAY_LINES], "{step}: {day}");
            let more = format!("… and {} more", all.len() - INSTANCE_DAY_LINES);
            assert_eq!(lines[INSTANCE_DAY_LINES], more, "{step}: {day}");
        }
        assert!(bounded > 0, "{step}: no day has more than {INSTANCE_DAY_LINES} activities");
    };
    check("full render");
    // A member's own page lists every one of their activities of a day.
    let own = day_tooltips(&read("u/user00/stats/index.html"));
    assert_eq!(own.values().map(Vec::len).sum::<usize>(), 4);
    // The first listed activity of a busy day gets a new title in a job of its member.
    let day = day_tooltips(&read("stats/index.html"))
        .into_iter()
        .find(|(_, lines)| lines.len() > INSTANCE_DAY_LINES)
        .unwrap();
    // The first member (in handle order) with an activity that day: their line comes first.
    let first = (0..users)
        .map(|u| format!("user{u:02}"))
        .find(|h| day_tooltips(&read(&format!("u/{h}/stats/index.html"))).contains_key(&day.0))
        .unwrap();
    let ids: Vec<String> = std::fs::read_dir(data.join(&first).join("activities"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".json").filter(|s| !s.contains('.')).map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 4, "{first}: {ids:?}");
    for id in &ids {
        sidecar(&data, &first, id, "title: \"Renamed on a busy day\"");
    }
    job(&w, "edit-busy-day", &first, "edit", &[]);
    let instance = day_tooltips(&read("stats/index.html"));
    assert!(instance[&day.0][0].contains("Renamed on a busy day"), "{:?}", instance[&day.0]);
    check("edit");
    assert_same_as_full_render(&data, &out, tmp.path(), "busy-day-edit");
}
