//! Activity edits (sidecars), activity deletion and the athlete profile.
//!
//! Edits never touch extracted files: they write `edits/{id}.md` or `edits/athlete.yaml`
//! (atomically, under the user's writer lock) and queue a request; the watcher merges and
//! re-renders. A POST changes only the fields it sends (`null` clears one), so a client
//! that sends a subset does not wipe the rest.

use super::{clean_text, own_activity, require_detail, user_handle};
use crate::error::ApiError;
use crate::jobs;
use crate::reply::{self, Resp};
use crate::request::Req;
use crate::state::AppState;
use bincio_bas::HiddenStat;
use bincio_bas::fsx;
use bincio_bas::queue::ChangeKind;
use bincio_bas::sidecar::{SPORTS, Sidecar, SidecarError};
use serde_json::{Map, Value, json};

/// Longest title, gear name and description, in characters.
pub const MAX_TITLE: usize = 200;
pub const MAX_GEAR: usize = 200;
pub const MAX_DESCRIPTION: usize = 20_000;

fn read_json(path: &std::path::Path) -> Result<Option<Value>, ApiError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(serde_json::from_slice(&b).map_err(ApiError::internal)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The activity's sidecar, read by the parser the merge uses. One it cannot read is an
/// error, never "no edits": an edit would otherwise overwrite the user's fields with blanks.
fn read_sidecar(path: &std::path::Path) -> Result<Option<Sidecar>, ApiError> {
    Sidecar::read(path).map_err(|e| match e {
        SidecarError::Io { source, .. } => source.into(),
        SidecarError::FrontMatter { reason, .. } => ApiError::Conflict(format!(
            "this activity's edits file cannot be read ({reason}); fix or delete it first"
        )),
    })
}

/// Photo file names of an activity, sorted, no dot-files.
pub fn list_images(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `GET /api/activity/{id}`: the detail (merged when available) with the edit form's
/// fields filled from the sidecar, at the top level where the editor reads them.
pub async fn get(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let (id, handle) = own_activity(st, &req.params[0], req.headers()).await?;
    let ud = st.root.user(&handle);
    let v = tokio::task::spawn_blocking(move || {
        require_detail(&ud, &id)?;
        let merged = ud.merged_activities_dir().join(bincio_bas::layout::detail_name(&id));
        let mut d = match read_json(&merged)? {
            Some(v) => v,
            None => read_json(&ud.detail(&id))?.ok_or(ApiError::NotFound("activity"))?,
        };
        let sc = read_sidecar(&ud.sidecar(&id))?.unwrap_or_default();
        let images = list_images(&ud.images_dir(&id));
        let obj = d.as_object_mut().ok_or_else(|| ApiError::internal("detail is not an object"))?;
        let custom = obj.get("custom").cloned().unwrap_or_else(|| json!({}));
        let extracted_private =
            matches!(obj.get("privacy").and_then(Value::as_str), Some("private" | "unlisted"));
        if let Some(t) = sc.title {
            obj.insert("title".into(), json!(t));
        }
        if let Some(s) = sc.sport.filter(|s| s != "other") {
            obj.insert("sport".into(), json!(s));
        }
        if let Some(g) = sc.gear {
            obj.insert("gear".into(), json!(g));
        }
        if let Some(desc) = sc.description {
            obj.insert("description".into(), json!(desc));
        }
        let highlight = sc
            .highlight
            .unwrap_or_else(|| custom.get("highlight").and_then(Value::as_bool).unwrap_or(false));
        let hide: Vec<String> = match sc.hide_stats {
            Some(h) => h,
            None => custom
                .get("hide_stats")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
        };
        obj.insert("private".into(), json!(sc.private == Some(true) || extracted_private));
        obj.insert("highlight".into(), json!(highlight));
        obj.insert("hide_stats".into(), json!(hide));
        obj.insert("images".into(), json!(images));
        // How the published altitude is computed: "device" (as recorded), "dem" or "smoothing".
        let elevation = sc.elevation.map_or("device", |e| e.as_str());
        obj.insert("elevation".into(), json!(elevation));
        Ok::<_, ApiError>(d)
    })
    .await??;
    Ok(reply::ok(&v))
}

fn opt_string(m: &Map<String, Value>, k: &'static str) -> Result<Option<Option<String>>, ApiError> {
    match m.get(k) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(ApiError::bad(k, "must be a string or null")),
    }
}

fn opt_bool(m: &Map<String, Value>, k: &'static str) -> Result<Option<bool>, ApiError> {
    match m.get(k) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(false)),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::bad(k, "must be true or false")),
    }
}

/// Apply a JSON edit to a sidecar, validating every field.
pub fn apply_edit(sc: &mut Sidecar, m: &Map<String, Value>) -> Result<(), ApiError> {
    if let Some(t) = opt_string(m, "title")? {
        sc.title = t
            .map(|t| clean_text("title", &t, MAX_TITLE, false))
            .transpose()?
            .filter(|t| !t.is_empty());
    }
    if let Some(s) = opt_string(m, "sport")? {
        if let Some(s) = &s
            && !s.is_empty()
            && !SPORTS.contains(&s.as_str())
        {
            return Err(ApiError::bad("sport", format!("must be one of {}", SPORTS.join(", "))));
        }
        sc.sport = s.filter(|s| !s.is_empty() && s != "other");
    }
    if let Some(g) = opt_string(m, "gear")? {
        sc.gear = g
            .map(|g| clean_text("gear", &g, MAX_GEAR, false))
            .transpose()?
            .filter(|g| !g.is_empty());
    }
    if let Some(d) = opt_string(m, "description")? {
        sc.description = d
            .map(|d| clean_text("description", &d, MAX_DESCRIPTION, true))
            .transpose()?
            .filter(|d| !d.is_empty());
    }
    if let Some(b) = opt_bool(m, "highlight")? {
        sc.highlight = Some(b);
    }
    // An explicit choice is written as such (`private: false`): it is how the owner
    // publishes a kept activity whose duplicate was private (`docs/site.md`).
    if let Some(b) = opt_bool(m, "private")? {
        sc.private = Some(b);
    }
    match m.get("hide_stats") {
        None => {}
        Some(Value::Null) => sc.hide_stats = Some(Vec::new()),
        Some(Value::Array(a)) => {
            let mut out: Vec<String> = Vec::new();
            for v in a {
                // The names and what each one hides are defined once, in `bincio_bas::hidden`.
                let s = v.as_str().and_then(HiddenStat::from_name).ok_or_else(|| {
                    let names: Vec<&str> = HiddenStat::ALL.iter().map(|s| s.as_str()).collect();
                    ApiError::bad(
                        "hide_stats",
                        format!("each entry must be one of {}", names.join(", ")),
                    )
                })?;
                let s = s.as_str();
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_owned());
                }
            }
            sc.hide_stats = Some(out);
        }
        Some(_) => return Err(ApiError::bad("hide_stats", "must be a list")),
    }
    Ok(())
}

/// `POST /api/activity/{id}`: update the sidecar, queue an edit. 202 with the job id.
pub async fn post(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let (id, handle) = own_activity(st, &req.params[0], req.headers()).await?;
    let body: Value = req.json(st.cfg.limits.json_body_bytes).await?;
    let m = body.as_object().ok_or_else(|| ApiError::bad("body", "must be a JSON object"))?.clone();
    edit_sidecar(st, handle, id, ChangeKind::Edit, move |sc| apply_edit(sc, &m)).await
}

/// Change an activity's sidecar under the user's writer lock (temp file + rename), then queue
/// `change` for it: the one path every sidecar edit of the daemon takes. 202 with the job id.
async fn edit_sidecar(
    st: &AppState,
    handle: bincio_bas::Handle,
    id: String,
    change: ChangeKind,
    edit: impl FnOnce(&mut Sidecar) -> Result<(), ApiError> + Send + 'static,
) -> Result<Resp, ApiError> {
    let _g = st.writers.lock(handle.as_str()).await;
    let (root, h) = (st.root.clone(), handle.clone());
    let job_id = jobs::new_job_id()?;
    let jid = job_id.clone();
    tokio::task::spawn_blocking(move || {
        let ud = root.user(&h);
        require_detail(&ud, &id)?;
        let mut sc = read_sidecar(&ud.sidecar(&id))?.unwrap_or_default();
        edit(&mut sc)?;
        fsx::write_atomic(&ud.sidecar(&id), sc.render().as_bytes())?;
        jobs::enqueue_blocking(&root, &jid, h.as_str(), change, vec![], Some(id))
    })
    .await??;
    Ok(reply::json(hyper::StatusCode::ACCEPTED, &json!({"ok": true, "job_id": job_id})))
}

/// `POST /api/activity/{id}/recalculate-elevation/{method}` (`dem`, `smoothing` or its
/// reference name `hysteresis`, `restore`): record the choice in the sidecar and queue an
/// elevation job; the watcher computes it (the daemon does no computing). 202 with the job
/// id; 409 for `dem` when the instance has no terrain model (`dem_dir`/`dem_url`).
pub async fn recalculate_elevation(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    use bincio_bas::sidecar::ElevationChoice;
    let (id, handle) = own_activity(st, &req.params[0], req.headers()).await?;
    let method = req.params[1].as_str();
    let choice = match method {
        "restore" | "device" => None,
        m => Some(ElevationChoice::from_name(m).ok_or_else(|| {
            ApiError::bad("method", "must be dem, smoothing, hysteresis or restore")
        })?),
    };
    if choice == Some(ElevationChoice::Dem) && !st.config().dem_configured() {
        return Err(ApiError::Conflict(
            "no terrain model is configured on this instance (an admin sets dem_dir or dem_url)"
                .to_owned(),
        ));
    }
    edit_sidecar(st, handle, id, ChangeKind::Elevation, move |sc| {
        sc.elevation = choice;
        Ok(())
    })
    .await
}

/// `DELETE /api/activity/{id}`: remove the extracted files, sidecar, photos and the stored
/// original(s) it came from (else re-extracting `originals/` would bring it back, see
/// [`crate::originals`]); the watcher drops it from the feeds and pages.
pub async fn delete(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let (id, handle) = own_activity(st, &req.params[0], req.headers()).await?;
    let _g = st.writers.lock(handle.as_str()).await;
    let (root, h) = (st.root.clone(), handle.clone());
    let job_id = jobs::new_job_id()?;
    let jid = job_id.clone();
    tokio::task::spawn_blocking(move || {
        let ud = root.user(&h);
        require_detail(&ud, &id)?;
        // Originals first: if this fails, the activity is still whole and the user can retry.
        if let Ok(Some(detail)) = read_json(&ud.detail(&id)) {
            crate::originals::remove(&ud, &crate::originals::find(&ud, &detail))?;
        }
        for p in [
            ud.detail(&id),
            ud.track(&id),
            ud.timeseries(&id),
            ud.sidecar(&id),
            ud.device_altitude(&id),
        ] {
            super::remove_file(&p)?;
        }
        super::remove_tree(&ud.images_dir(&id))?;
        jobs::enqueue_blocking(&root, &jid, h.as_str(), ChangeKind::Delete, vec![], Some(id))
    })
    .await??;
    Ok(reply::json(hyper::StatusCode::ACCEPTED, &json!({"ok": true, "job_id": job_id})))
}

/// Keys of `edits/athlete.yaml` the user may set.
pub const ATHLETE_KEYS: &[&str] =
    &["max_hr", "ftp_w", "hr_zones", "power_zones", "seasons", "gear"];

fn yaml_to_json(v: serde_yaml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn read_athlete_edits(path: &std::path::Path) -> Result<Map<String, Value>, ApiError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(match serde_yaml::from_str::<serde_yaml::Value>(&t).map(yaml_to_json) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/athlete`: `athlete.json` (or `{}`) with the user's edits on top.
pub async fn athlete_get(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let ud = st.root.user(&user_handle(&user)?);
    let v = tokio::task::spawn_blocking(move || {
        let mut a = match read_json(&ud.athlete()) {
            Ok(Some(Value::Object(m))) => m,
            _ => Map::new(),
        };
        for (k, v) in read_athlete_edits(&ud.athlete_edits())? {
            if ATHLETE_KEYS.contains(&k.as_str()) {
                a.insert(k, v);
            }
        }
        Ok::<_, ApiError>(Value::Object(a))
    })
    .await??;
    Ok(reply::ok(&v))
}

fn check_int(k: &'static str, v: &Value, lo: i64, hi: i64) -> Result<(), ApiError> {
    match v.as_i64() {
        Some(n) if (lo..=hi).contains(&n) => Ok(()),
        _ => Err(ApiError::bad(k, format!("must be a whole number from {lo} to {hi}"))),
    }
}

fn check_zones(k: &'static str, v: &Value, hi: i64) -> Result<(), ApiError> {
    let err = || {
        ApiError::bad(
            k,
            format!("must be a list of at most 10 [low, high] pairs of numbers 0..{hi}"),
        )
    };
    let a = v.as_array().filter(|a| a.len() <= 10).ok_or_else(err)?;
    for z in a {
        let pair = z.as_array().filter(|p| p.len() == 2).ok_or_else(err)?;
        for n in pair {
            n.as_i64().filter(|n| (0..=hi).contains(n)).ok_or_else(err)?;
        }
    }
    Ok(())
}

fn check_seasons(v: &Value) -> Result<(), ApiError> {
    let err =
        || ApiError::bad("seasons", "must be a list of at most 50 {name, start, end} strings");
    let a = v.as_array().filter(|a| a.len() <= 50).ok_or_else(err)?;
    for s in a {
        let o = s.as_object().ok_or_else(err)?;
        for key in ["name", "start", "end"] {
            o.get(key)
                .and_then(Value::as_str)
                .filter(|s| s.chars().count() <= 100)
                .ok_or_else(err)?;
        }
        if o.keys().any(|k| !["name", "start", "end"].contains(&k.as_str())) {
            return Err(err());
        }
    }
    Ok(())
}

/// `POST /api/athlete`: update the given keys of `edits/athlete.yaml` (`null` removes
/// one, absent keys are kept, so a saved gear map survives a form that does not send it).
pub async fn athlete_post(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let body: Value = req.json(st.cfg.limits.json_body_bytes).await?;
    let m = body.as_object().ok_or_else(|| ApiError::bad("body", "must be a JSON object"))?.clone();
    for (k, v) in &m {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "max_hr" => check_int("max_hr", v, 60, 250)?,
            "ftp_w" => check_int("ftp_w", v, 1, 2000)?,
            "hr_zones" => check_zones("hr_zones", v, 250)?,
            "power_zones" => check_zones("power_zones", v, 5000)?,
            "seasons" => check_seasons(v)?,
            "gear" if serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX) > 16 * 1024 => {
                return Err(ApiError::bad("gear", "at most 16 KiB"));
            }
            _ => {} // other keys are ignored, like the reference
        }
    }
    let _g = st.writers.lock(handle.as_str()).await;
    let (root, h) = (st.root.clone(), handle.clone());
    let job_id = jobs::new_job_id()?;
    let jid = job_id.clone();
    tokio::task::spawn_blocking(move || {
        let ud = root.user(&h);
        let mut edits = read_athlete_edits(&ud.athlete_edits())?;
        for k in ATHLETE_KEYS {
            match m.get(*k) {
                None => {}
                Some(Value::Null) => {
                    edits.remove(*k);
                }
                Some(v) => {
                    edits.insert((*k).to_owned(), v.clone());
                }
            }
        }
        let text = serde_yaml::to_string(&Value::Object(edits)).map_err(ApiError::internal)?;
        fsx::write_atomic(&ud.athlete_edits(), text.as_bytes())?;
        jobs::enqueue_blocking(&root, &jid, h.as_str(), ChangeKind::Athlete, vec![], None)
    })
    .await??;
    Ok(reply::json(hyper::StatusCode::ACCEPTED, &json!({"ok": true, "job_id": job_id})))
}
