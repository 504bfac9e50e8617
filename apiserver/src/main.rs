//! The `bincio-api` command line: parses arguments, sets up logging, runs a subcommand.
//! anyhow lives only here; exit codes: 0 ok, 2 fatal.

use anyhow::{Context, Result, bail};
use bincio_api::cli::{Cli, Command, InviteAction, SettingsAction, UserAction};
use bincio_api::config::Config;
use bincio_api::db::{self, Db};
use bincio_api::state::AppState;
use bincio_api::{auth, handlers, instance, jobs, server};
use bincio_bas::config::{self as instance_config, InstanceConfig};
use bincio_bas::queue::ChangeKind;
use bincio_bas::{Handle, InstanceRoot};
use clap::Parser;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default = if cli.verbose > 0 { "bincio_api=debug" } else { "bincio_api=info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // No colour codes when stderr is a log file or the journal, only on a terminal.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", bincio_bas::report::error_chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}

fn open_db(data_dir: &Path) -> Result<(InstanceRoot, Db)> {
    let root = InstanceRoot::new(data_dir);
    if !root.instance_db().is_file() {
        bail!(
            "{} has no instance.db: run `bincio-api init --data-dir {}` first",
            data_dir.display(),
            data_dir.display()
        );
    }
    let db = Db::open(&root.instance_db())?;
    migrate_settings(&root, &db)?;
    Ok((root, db))
}

/// Move settings still in `instance.db` into `{root}/bincio.toml` (once per database) and
/// make the file owner-only; every command that opens the database runs this first.
fn migrate_settings(root: &InstanceRoot, db: &Db) -> Result<()> {
    let moved = db
        .with(|c| Ok(db::settings::migrate_to_config(c, root)))
        .map_err(|e| anyhow::anyhow!("{e}"))??;
    if !moved.is_empty() {
        tracing::info!(keys = %moved.join(", "), file = %root.config_file().display(), "moved settings from instance.db");
    }
    instance_config::tighten_mode(&root.config_file())?;
    Ok(())
}

/// The instance configuration, or an error naming the file and the key.
fn load_config(root: &InstanceRoot) -> Result<InstanceConfig> {
    Ok(InstanceConfig::load(&root.config_file())?)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { data_dir, handle, display_name, name, max_users, store_originals } => init(
            &data_dir,
            &handle,
            display_name.as_deref(),
            name.as_deref(),
            max_users,
            store_originals,
        ),
        Command::Serve { data_dir, listen } => {
            if !listen.ip().is_loopback() {
                tracing::warn!(%listen, "listening on a non-loopback address; the daemon expects nginx in front");
            }
            let (root, db) = open_db(&data_dir)?;
            // Before listening: uploads half-received by a killed daemon are never committed.
            let stale = handlers::uploads::remove_stale_staging(&root).with_context(|| {
                format!("cannot clean up staged uploads in {}", data_dir.display())
            })?;
            if stale > 0 {
                tracing::info!(removed = stale, "removed half-received uploads of an earlier run");
            }
            let st =
                AppState::new(root, db, Config::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
            // A small blocking pool: SQLite is behind one mutex anyway, and every extra
            // thread costs a malloc arena (resident memory) for nothing.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .max_blocking_threads(8)
                .build()?;
            rt.block_on(async move {
                let listener = server::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                tracing::info!(%listen, data_dir = %data_dir.display(), "bincio-api listening");
                server::serve(st, listener, server::shutdown_signal()).await?;
                Ok(())
            })
        }
        Command::Invite { action: InviteAction::Create { data_dir, by } } => {
            let (root, db) = open_db(&data_dir)?;
            let cfg = load_config(&root)?;
            let code = db
                .with(|c| {
                    let user = db::users::get(c, &by)?
                        .ok_or(bincio_api::error::ApiError::NotFound("user"))?;
                    handlers::invites::create_blocking(
                        c,
                        &user.handle,
                        user.is_admin,
                        cfg.max_user_invites,
                    )
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let base = cfg.public_url;
            println!("{}/register/?code={code}", base.unwrap_or_default().trim_end_matches('/'));
            Ok(())
        }
        Command::User { action } => user_cmd(action),
        Command::Settings { action } => settings_cmd(action),
    }
}

fn read_password(prompt: &str) -> Result<String> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    if stdin.is_terminal() {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let old = tcgetattr(&stdin).context("cannot read terminal settings")?;
        let mut quiet = old.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        tcsetattr(&stdin, OptionalActions::Now, &quiet).context("cannot turn off echo")?;
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        let r = stdin.lock().read_line(&mut line);
        tcsetattr(&stdin, OptionalActions::Now, &old).context("cannot restore echo")?;
        eprintln!();
        r?;
    } else {
        stdin.lock().read_line(&mut line)?;
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

fn init(
    data_dir: &Path,
    handle: &str,
    display_name: Option<&str>,
    name: Option<&str>,
    max_users: Option<u32>,
    store_originals: Option<bool>,
) -> Result<()> {
    let handle = Handle::new_account(handle)?;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let root = InstanceRoot::new(data_dir);
    let db = Db::open(&root.instance_db())?;
    migrate_settings(&root, &db)?;
    let api = |e: bincio_api::error::ApiError| anyhow::anyhow!("{e}");
    let existing = db.with(|c| db::users::get(c, handle.as_str())).map_err(api)?;
    let display =
        display_name.map(str::trim).filter(|d| !d.is_empty()).unwrap_or(handle.as_str()).to_owned();
    if existing.is_none() {
        let pw = read_password("Password: ")?;
        let again = read_password("Password again: ")?;
        if pw != again {
            bail!("the two passwords differ");
        }
        auth::password::check_new("password", &pw).map_err(api)?;
        let hash = auth::password::hash_blocking(&pw).map_err(api)?;
        db.with(|c| db::users::insert(c, handle.as_str(), &display, &hash, true, db::now_s()))
            .map_err(api)?;
        eprintln!("created admin account {handle}");
    } else {
        eprintln!("account {handle} exists; password unchanged");
    }
    instance::create_user_dirs(&root, &handle, &display).map_err(api)?;
    instance::update_root_manifest(&root, Some(&handle), None, Some(name.unwrap_or("Bincio")))
        .map_err(api)?;
    std::fs::create_dir_all(root.queue_status_dir())?;
    std::fs::create_dir_all(root.feedback_dir())?;
    // Options given to init go into bincio.toml; the name only when the file has none (a
    // re-run never renames the instance). Unset keys keep their documented defaults.
    let present = instance_config::keys_in_file(&root.config_file())?;
    let mut edits: Vec<(&str, Option<toml::Value>)> = Vec::new();
    if !present.contains("name") {
        let n = name.unwrap_or("Bincio").to_owned();
        edits.push(("name", Some(toml::Value::String(n))));
    }
    if let Some(n) = max_users {
        edits.push(("max_users", Some(toml::Value::Integer(i64::from(n)))));
    }
    if let Some(v) = store_originals {
        edits.push(("store_originals", Some(toml::Value::Boolean(v))));
    }
    if !edits.is_empty() {
        instance_config::update(&root.config_file(), &edits)?;
    }
    let cfg = load_config(&root)?;
    if existing.is_none() {
        let job = jobs::new_job_id().map_err(api)?;
        jobs::enqueue_blocking(&root, &job, handle.as_str(), ChangeKind::Rebuild, vec![], None)
            .map_err(api)?;
    }
    let code = db
        .with(|c| match db::invites::first_unused_by(c, handle.as_str())? {
            Some(code) => Ok(code),
            None => handlers::invites::create_blocking(c, handle.as_str(), true, 0),
        })
        .map_err(api)?;
    let base = cfg.public_url;
    println!("{}/register/?code={code}", base.unwrap_or_default().trim_end_matches('/'));
    Ok(())
}

fn user_cmd(action: UserAction) -> Result<()> {
    let api = |e: bincio_api::error::ApiError| anyhow::anyhow!("{e}");
    match action {
        UserAction::List { data_dir } => {
            let (_, db) = open_db(&data_dir)?;
            for u in db.with(|c| db::users::list(c)).map_err(api)? {
                let when = time::OffsetDateTime::from_unix_timestamp(u.created_at)
                    .map(|t| t.date().to_string())
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{when}",
                    u.handle,
                    if u.is_admin { "admin" } else { "user" },
                    u.display_name
                );
            }
        }
        UserAction::ResetCode { data_dir, handle } => {
            let (_, db) = open_db(&data_dir)?;
            let code = db
                .with(|c| handlers::admin::issue_reset_code_blocking(c, &handle, "cli"))
                .map_err(api)?;
            println!("{code}");
            eprintln!("valid 24 hours, once; the user enters it on /reset/ with a new password");
        }
        UserAction::Delete { data_dir, handle } => {
            let h = Handle::new(&handle)?;
            let (root, db) = open_db(&data_dir)?;
            if !db.with(|c| db::users::delete(c, h.as_str())).map_err(api)? {
                bail!("no account {h}");
            }
            handlers::remove_tree(&root.user_dir(&h))?;
            handlers::remove_tree(&root.feedback_dir().join(h.as_str()))?;
            instance::update_root_manifest(&root, None, Some(h.as_str()), None).map_err(api)?;
            let job = jobs::new_job_id().map_err(api)?;
            jobs::enqueue_blocking(&root, &job, h.as_str(), ChangeKind::Rebuild, vec![], None)
                .map_err(api)?;
            eprintln!("deleted {h} (stop and restart nothing: sessions are gone with the account)");
        }
    }
    Ok(())
}

fn settings_cmd(action: SettingsAction) -> Result<()> {
    let data_dir = match &action {
        SettingsAction::Get { data_dir, .. }
        | SettingsAction::Set { data_dir, .. }
        | SettingsAction::List { data_dir } => data_dir.clone(),
    };
    let root = InstanceRoot::new(&data_dir);
    if !data_dir.is_dir() {
        bail!("{} does not exist", data_dir.display());
    }
    // A single-user host has no database: the file alone is the configuration.
    if root.instance_db().is_file() {
        open_db(&data_dir)?;
    }
    let path = root.config_file();
    match action {
        SettingsAction::Get { key, .. } => {
            if instance_config::key_info(&key).is_none() {
                bail!("{}: unknown key `{key}`", path.display());
            }
            println!("{}", load_config(&root)?.get(&key).unwrap_or_default());
        }
        SettingsAction::Set { key, value, .. } => {
            let v = instance_config::value_from_cli(&path, &key, &value)?;
            instance_config::update(&path, &[(key.as_str(), v)])?;
        }
        SettingsAction::List { .. } => {
            let cfg = load_config(&root)?;
            for k in instance_config::KEYS {
                let v = cfg.get(k.key).unwrap_or_default();
                let shown = if instance_config::SECRET_KEYS.contains(&k.key) && !v.is_empty() {
                    "(set)".to_owned()
                } else {
                    v
                };
                println!("{}\t{shown}", k.key);
            }
        }
    }
    Ok(())
}
