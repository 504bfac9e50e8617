//! Instance-level files the daemon and `init` maintain: a new user's folders and feed stub,
//! the root manifest's shard list, and a user's data wipe.
//!
//! The root manifest is edited as a JSON value so keys written by the generator or an admin
//! survive; `instance.private` is only ever set by `init` (to true) or by an admin.

use crate::error::ApiError;
use bincio_bas::fsx;
use bincio_bas::{Handle, InstanceRoot};
use serde_json::{Value, json};

fn now_iso() -> String {
    bincio_bas::Timestamp(time::OffsetDateTime::now_utc()).to_string()
}

/// Create `{handle}/activities/`, `edits/`, the profile and an empty feed `index.json` (when
/// missing), so the user has a valid BAS feed before the first upload.
pub fn create_user_dirs(
    root: &InstanceRoot,
    handle: &Handle,
    display_name: &str,
) -> Result<(), ApiError> {
    let user = root.user(handle);
    std::fs::create_dir_all(user.activities_dir())?;
    std::fs::create_dir_all(user.edits_dir())?;
    write_profile(root, handle, display_name)?;
    if !user.index().exists() {
        let stub = json!({
            "bas_version": bincio_bas::BAS_VERSION,
            "owner": {"handle": handle.as_str(), "display_name": display_name},
            "generated_at": now_iso(),
            "shards": [],
            "activities": [],
        });
        fsx::write_json(&user.index(), &stub)?;
    }
    Ok(())
}

/// Publish the account's display name where the generator reads it (`edits/profile.json`;
/// it copies the name into the user's feed on the next build of the user). Caller holds the
/// user's writer lock and queues that build.
pub fn write_profile(
    root: &InstanceRoot,
    handle: &Handle,
    display_name: &str,
) -> Result<(), ApiError> {
    let profile = bincio_bas::Profile { display_name: Some(display_name.to_owned()) };
    fsx::write_json(&root.user(handle).profile(), &profile)?;
    Ok(())
}

/// Change the root manifest: add and/or remove a user shard; with `init_name`, create the
/// manifest if absent and force `instance.private = true` if it was not set to true.
/// Callers hold the instance writer lock; the file itself is changed under the root
/// manifest's file lock (`bincio_bas::manifest`), which the generator and `bincio-gen
/// federation` take too, so nobody's change (a followed remote, say) is lost.
pub fn update_root_manifest(
    root: &InstanceRoot,
    add: Option<&Handle>,
    remove: Option<&str>,
    init_name: Option<&str>,
) -> Result<(), ApiError> {
    let _lock = bincio_bas::manifest::lock(root).map_err(ApiError::internal)?;
    let path = root.root_manifest();
    let mut m: Value = match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|_| json!({})),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({}),
        Err(e) => return Err(e.into()),
    };
    if !m.is_object() {
        m = json!({});
    }
    let before = m.clone();
    let obj =
        m.as_object_mut().ok_or_else(|| ApiError::internal("root manifest is not an object"))?;
    obj.entry("bas_version").or_insert_with(|| json!(bincio_bas::BAS_VERSION));
    let instance = obj.entry("instance").or_insert_with(|| json!({}));
    if !instance.is_object() {
        *instance = json!({});
    }
    if let Some(name) = init_name
        && let Some(inst) = instance.as_object_mut()
    {
        if inst.get("private").and_then(Value::as_bool) != Some(true) {
            inst.insert("private".into(), json!(true));
        }
        if inst.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
            inst.insert("name".into(), json!(name));
        }
    }
    let shards = obj.entry("shards").or_insert_with(|| json!([]));
    if !shards.is_array() {
        *shards = json!([]);
    }
    if let Some(list) = shards.as_array_mut() {
        if let Some(h) = remove {
            list.retain(|s| s.get("handle").and_then(Value::as_str) != Some(h));
        }
        if let Some(h) = add
            && !list.iter().any(|s| s.get("handle").and_then(Value::as_str) == Some(h.as_str()))
        {
            list.push(json!({"handle": h.as_str(), "url": format!("{h}/index.json")}));
        }
    }
    obj.entry("activities").or_insert_with(|| json!([]));
    if m != before || !path.exists() {
        if let Some(o) = m.as_object_mut() {
            o.insert("generated_at".into(), json!(now_iso()));
        }
        fsx::write_json(&path, &m)?;
    }
    Ok(())
}

/// Remove a user's activities, edits, originals, uploads, merged output and feed files,
/// keeping the folder; returns the number of data files removed. Caller holds the user lock
/// and re-creates the folders and the profile ([`create_user_dirs`]).
pub fn wipe_user_data(root: &InstanceRoot, handle: &Handle) -> Result<u64, ApiError> {
    let user = root.user(handle);
    let profile_existed = user.profile().is_file();
    let mut removed = 0;
    for dir in [user.activities_dir(), user.edits_dir(), user.originals_dir(), user.uploads_dir()] {
        removed += crate::files::dir_usage(&dir).1;
        crate::files::remove_tree(&dir)?;
    }
    // The profile is the account's, not data: the caller writes it again, and it is not
    // counted as a deleted file.
    if removed > 0 && profile_existed {
        removed -= 1;
    }
    crate::files::remove_tree(&user.merged_dir())?;
    for f in [user.index(), user.athlete(), user.cache(), user.errors()] {
        if crate::files::remove_file(&f)? {
            removed += 1;
        }
    }
    Ok(removed)
}
